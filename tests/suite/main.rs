//! The integration tests: one binary, a module per suite, so the library
//! links once (see tests/README.md for what each suite covers).

mod common;

mod bake;
mod buildah;
mod cache;
mod cli;
mod distribution;
mod examples;
mod init;
mod init_projects;
mod layering;
mod lock;
mod outputs;
mod presets;
mod sarif;
mod snapshots;
