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
