//! Emitters: plan → text for one backend each.

pub mod buildah;
pub mod dockerfile;
pub mod quote;
