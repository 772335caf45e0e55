//! From KDL nodes to a typed tree of plain stages: the AST, its decoding,
//! single values, templates, their expansion and the built-in presets.

pub mod ast;
pub mod decode;
pub mod entries;
pub mod expand;
pub mod presets;
pub mod reference;
pub mod starter;
pub mod template;
pub mod values;
