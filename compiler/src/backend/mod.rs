//! From a `Plan` to text: quoting for each place a value lands, what each
//! builder can build, what neither backend writes, the Dockerfile, the
//! Buildah script, the bake file and the `.dockerignore`.

pub mod bake;
pub mod buildah;
pub(crate) mod builders;
pub mod dockerfile;
pub mod dockerignore;
pub(crate) mod portable;
pub(crate) mod quote;
