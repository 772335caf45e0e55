//! The layer-order optimizer: the order of a stage's items that minimizes
//! the expected rebuild cost, without changing what is built.
//!
//! It runs inside lowering, on the resolved spec, one stage at a time:
//!
//! - **Metadata last.** `label`, `expose`, `cmd`, `entrypoint`,
//!   `healthcheck` and `stopsignal` set image configuration that no later
//!   instruction reads; they move to the end of the stage in written order.
//!   For builders that commit a layer per instruction (`buildah build`)
//!   they go before the copies after the last command instead.
//! - **Args at their first use.** An `arg` moves to just before the first
//!   step that names it, never past a command that could read it unnamed
//!   (a bare `run`, a step without `writes`) nor past an `env` of its name.
//! - **Units in stable → volatile order.** Between barriers (`run`, steps
//!   that declare no `writes`, `env`, `workdir`, `user`, `shell`, `volume`)
//!   the movable units — copies, adds and steps that declare `writes` —
//!   are ordered to minimize Σ P(rebuild) × cost. Two units keep their
//!   written order when one writes what the other reads or writes.
//!
//! Under the cache model's chain rule an item rebuilds when anything at or
//! before it changes, so a segment's order changes the cost of nothing
//! outside it, and the probability that an item rebuilds depends only on
//! the *set* of units before it. That makes dynamic programming over
//! subsets exact: a segment of up to `solve::EXACT_LIMIT` units gets the
//! optimum (the property tests in `tests.rs` check it against brute force);
//! longer segments are ordered greedily by marginal probability per cost.
//!
//! `report` holds the options and what the optimizer says it did; `units`
//! what each item is to it (on `paths` in the image); `evidence` how likely
//! each input changes; `solve` one segment's order; `depends` which units
//! of a long segment keep their written order, through an index of paths
//! rather than every pair; `order` the optimizer that puts them together,
//! stage by stage.

mod depends;
mod evidence;
mod order;
mod paths;
mod report;
mod solve;
mod units;

pub(crate) use crate::plan::optimize::order::Optimizer;
pub use crate::plan::optimize::report::{OrderOptions, OrderReport, cost_overrides};

#[cfg(test)]
mod tests;
