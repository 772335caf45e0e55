//! stowplan: a declarative build-spec compiler.
//!
//! The pipeline, one module per stage, each with its own types:
//!
//! ```text
//! text ─decode→ Ast ─resolve→ Spec ─lower→ Plan ─emit→ Dockerfile
//! ```
//!
//! Every stage collects all the problems it finds; warnings ride along with
//! a successful result in [`Warned`]. See ARCHITECTURE.md for the map.

pub mod backend;
pub mod base;
pub mod cache;
pub mod driver;
pub mod frontend;
#[doc(hidden)]
pub mod fuzzing;
pub mod middle;
pub mod plan;
pub mod report;
pub mod syntax;

pub use base::diagnostic::{Code, Diagnostic, Severity};
pub use base::source::{SourceFile, SourceResult, Warned};
pub use driver::*;
pub use plan::lower::Selection;

#[cfg(test)]
mod testkit;
