//! Reading KDL: the fast parser for valid documents, the nesting guard,
//! and the kdl crate's syntax errors turned into diagnostics.

pub mod fastkdl;
