//! The optimizer's options and its report of what moved, and the costs a
//! spec sets on steps for the cache model.

use std::fmt::Write as _;

use crate::cache;
use crate::cache::history::HistorySource;
use crate::frontend::ast::*;
use crate::middle::resolve::Spec;
use crate::plan::optimize::solve::better;

/// How to order layers.
#[derive(Clone, Debug)]
pub struct OrderOptions {
    /// Reorder at all; `--keep-order` keeps the written order.
    pub enabled: bool,
    /// Change probabilities from this history instead of volatility
    /// classes. A history that cannot be read leaves the classes in charge;
    /// the caller reports its error.
    pub history: Option<HistorySource>,
    /// The builder commits a layer for every instruction (`buildah build`):
    /// metadata then goes before the copies that follow the stage's last
    /// command, instead of after them (see [`metadata_position`]).
    pub layer_per_instruction: bool,
}

impl Default for OrderOptions {
    fn default() -> Self {
        OrderOptions {
            enabled: true,
            history: None,
            layer_per_instruction: false,
        }
    }
}

impl OrderOptions {
    /// The written order, unchanged.
    pub fn written() -> Self {
        OrderOptions {
            enabled: false,
            history: None,
            layer_per_instruction: false,
        }
    }
}

/// What the optimizer did, stage by stage, for `--explain-order`.
#[derive(Clone, Debug, Default)]
pub struct OrderReport {
    pub stages: Vec<StageReport>,
}

#[derive(Clone, Debug)]
pub struct StageReport {
    pub stage: String,
    /// What moved and why.
    pub moves: Vec<String>,
    /// What could not move, and why.
    pub notes: Vec<String>,
    /// Expected rebuild cost per commit of the written order and of the chosen one.
    pub before: f64,
    pub after: f64,
}

impl OrderReport {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for stage in &self.stages {
            if stage.moves.is_empty() && stage.notes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{}:", stage.stage);
            for line in stage.moves.iter().chain(&stage.notes) {
                let _ = writeln!(out, "  {line}");
            }
            if better(stage.after, stage.before) {
                let _ = writeln!(
                    out,
                    "  expected rebuild cost per commit: {:.1} -> {:.1}",
                    stage.before, stage.after
                );
            }
        }
        if out.is_empty() {
            out.push_str("nothing moved: every stage is already in its best order\n");
        }
        out
    }
}

/// Costs the spec sets on steps, by the span offset of the step (the
/// `origin` of the instructions it lowers to), for the cache model.
pub fn cost_overrides(spec: &Spec) -> cache::CostOverrides {
    let mut costs = cache::CostOverrides::new();
    for stage in &spec.stages {
        for item in &stage.items {
            if let ItemKind::Step(step) = &item.kind
                && let Some(cost) = &step.order.cost
            {
                costs.insert(item.span.offset(), f64::from(cost.value));
            }
        }
    }
    costs
}

/// A moved unit's report names at most this many of the units it passed,
/// then how many more: past that a line says nothing more to a reader,
/// and listing every one made a long segment's report quadratic.
pub(super) const PASSED_LISTED: usize = 10;

/// For each position of an order, the units after it that were written
/// before the one there (the ones it passed): how many, and the first few,
/// each in `log n`.
pub(super) struct Passed<'a> {
    order: &'a [usize],
    /// Per position, how many smaller units come after it.
    counts: Vec<usize>,
    /// A segment tree of the smallest unit over ranges of positions.
    least: Vec<usize>,
    size: usize,
}

impl<'a> Passed<'a> {
    pub(super) fn new(order: &'a [usize]) -> Self {
        let n = order.len();
        // A Fenwick tree of the units seen, walking from the end.
        let mut seen = vec![0usize; n + 1];
        let mut counts = vec![0; n];
        for pos in (0..n).rev() {
            let mut i = order[pos];
            while i > 0 {
                counts[pos] += seen[i];
                i &= i - 1;
            }
            let mut i = order[pos] + 1;
            while i <= n {
                seen[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
        let size = n.next_power_of_two();
        let mut least = vec![usize::MAX; 2 * size];
        least[size..size + n].copy_from_slice(order);
        for node in (1..size).rev() {
            least[node] = least[2 * node].min(least[2 * node + 1]);
        }
        Passed {
            order,
            counts,
            least,
            size,
        }
    }

    /// How many units the one at `pos` passed, and the first
    /// [`PASSED_LISTED`] of them in their new order.
    pub(super) fn at(&self, pos: usize) -> (usize, Vec<usize>) {
        let mut first = Vec::new();
        let mut from = pos + 1;
        while first.len() < PASSED_LISTED.min(self.counts[pos]) {
            let Some(at) = self.first_below(1, 0, self.size, from, self.order[pos]) else {
                break;
            };
            first.push(self.order[at]);
            from = at + 1;
        }
        (self.counts[pos], first)
    }

    /// The first position at or after `from`, within the node's range
    /// `lo..hi`, that holds a unit below `bound`.
    fn first_below(
        &self,
        node: usize,
        lo: usize,
        hi: usize,
        from: usize,
        bound: usize,
    ) -> Option<usize> {
        if hi <= from || self.least[node] >= bound {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = (lo + hi) / 2;
        self.first_below(2 * node, lo, mid, from, bound)
            .or_else(|| self.first_below(2 * node + 1, mid, hi, from, bound))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn passed_units_are_the_smaller_ones_after(
            order in (0usize..40).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        ) {
            let passed = Passed::new(&order);
            for pos in 0..order.len() {
                let all: Vec<usize> =
                    order[pos + 1..].iter().copied().filter(|v| *v < order[pos]).collect();
                let first: Vec<usize> = all.iter().copied().take(PASSED_LISTED).collect();
                prop_assert_eq!(passed.at(pos), (all.len(), first));
            }
        }
    }
}
