//! stowplan: a declarative build-spec compiler.
//!
//! The pipeline, one folder per phase, each with its own types:
//!
//! ```text
//! text ─syntax→ KDL ─frontend→ Ast ─middle→ Spec ─plan→ Plan ─backend→ Dockerfile, Buildah script
//! ```
//!
//! Every phase collects all the problems it finds; warnings ride along with
//! a successful result in [`Warned`]. See ARCHITECTURE.md for the map.
//!
//! The phases are private. The public front is what the binary needs: run
//! the pipeline ([`compile`], [`validate`], [`render_outputs`],
//! [`explain_spec`], [`affected`], [`graph`]), place outputs, and the diagnostic types.

mod backend;
mod base;
mod cache;
mod driver;
mod frontend;
mod middle;
mod plan;
mod policy;
mod registry;
mod report;
mod syntax;

#[doc(hidden)]
pub mod benching;
#[doc(hidden)]
pub mod fuzzing;

pub use backend::buildah::BuildahOptions;
pub use base::diagnostic::{Code, Diagnostic, RULES, Rule, Severity, Waived};
pub use base::keywords::{Builder, CacheBuilder, Format, PullPolicy};
pub use base::source::{SourceFile, SourceResult, Warned};
pub use cache::Change;
pub use cache::history::{HistorySource, changed_since};
pub use driver::{
    AffectedImage, Compiled, ExplainOptions, GraphFormat, LockUpdate, Locked, Options,
    PlacedOutput, RenderedOutput, Starter, Target, affected, compile, compile_with_report,
    explain_dockerfile, explain_spec, graph, lock, place_outputs, preset_text, presets_listing,
    refuse_hand_written, render_outputs, starter, validate,
};
pub use plan::image_map::ImageMap;
pub use plan::lock::{FILE_NAME as LOCK_FILE_NAME, Lock};
pub use plan::optimize::OrderOptions;
pub use policy::{FILE_NAME as POLICY_FILE_NAME, Policy};
pub use report::render::{Style, render};
pub use report::sarif::{Notification, to_sarif};

#[cfg(test)]
mod testkit;
