//! The resolved spec: names, references and build order (`resolve`, with
//! its checks of build arguments in `args` and of outputs in `outputs`), the
//! artifact flow rules checked on it (`flow`), and what a stage built on
//! `scratch` or a shell-less image cannot do (`scratch`), context paths the
//! `.dockerignore` drops (`ignored`), where each build's context is
//! (`contexts`), and who the images run as (`users`).
//! What a base image is known to be by its name is one table (`bases`).

pub mod args;
pub(crate) mod bases;
pub(crate) mod contexts;
pub mod flow;
pub(crate) mod ignored;
pub(crate) mod names;
pub mod outputs;
pub(crate) mod packages;
pub mod resolve;
pub mod scratch;
pub(crate) mod secrets;
pub mod select;
pub mod users;
