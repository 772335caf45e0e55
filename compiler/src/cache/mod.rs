//! The cache model: which instructions a change rebuilds, the history it
//! learns volatility from, and hand-written Dockerfiles read into it. No I/O
//! beyond what `history` asks git for.

mod cost;
pub mod dockerfile;
pub mod history;
mod model;
mod paths;

pub use cost::*;
pub use model::*;
pub use paths::*;

#[cfg(test)]
mod tests;
