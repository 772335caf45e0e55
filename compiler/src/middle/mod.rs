//! The resolved spec: names, references and build order (`resolve`), and
//! the artifact flow rules checked on it (`flow`).

pub mod flow;
pub mod resolve;
pub mod select;
