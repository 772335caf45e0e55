//! Emitters: plan → text for one backend each.

pub mod dockerfile;
pub mod quote;
