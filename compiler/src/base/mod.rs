//! The leaf every phase stands on: source files and results, spans and
//! diagnostics, and the vocabulary of keywords the phases share.

pub mod diagnostic;
pub mod generated;
pub mod keywords;
pub mod source;
pub(crate) mod text;
pub mod word;
