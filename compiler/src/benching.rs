//! What the benchmarks (`compiler/benches/`) time below the public front:
//! the phases one by one, the fast parser alone, the cache model on its
//! own. Not part of the API.

pub use crate::backend::dockerfile::emit as emit_dockerfile;
pub use crate::cache::history::History;
pub use crate::cache::{
    CacheGraph, Ignore, Outcome, dockerfile::read as read_dockerfile, evaluate, oracle,
};
pub use crate::driver::{check, plan_with, select};
pub use crate::plan::optimize::cost_overrides;
pub use crate::report::explain::from_plan;
pub use crate::syntax::fastkdl::parse as fast_parse;
