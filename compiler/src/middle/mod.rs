//! The resolved spec: names, references and build order (`resolve`), the
//! artifact flow rules checked on it (`flow`), and what a stage built on
//! `scratch` cannot do (`scratch`).

pub mod flow;
pub mod resolve;
pub mod scratch;
pub(crate) mod secrets;
pub mod select;
