//! The resolved spec: names, references and build order (`resolve`, with
//! its checks of build arguments in `args` and of outputs in `outputs`), the
//! artifact flow rules checked on it (`flow`), and what a stage built on
//! `scratch` cannot do (`scratch`).

pub mod args;
pub mod flow;
pub(crate) mod names;
pub mod outputs;
pub mod resolve;
pub mod scratch;
pub(crate) mod secrets;
pub mod select;
