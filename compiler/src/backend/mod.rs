//! From a `Plan` to text: quoting for each place a value lands, what each
//! builder can build, what neither backend writes, the Dockerfile, the
//! Buildah script and the bake file.

pub mod bake;
pub mod buildah;
pub(crate) mod builders;
pub mod dockerfile;
pub(crate) mod portable;
pub(crate) mod quote;
