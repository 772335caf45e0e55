//! Which images a command is about (`--image`, an output's `images=`), and
//! the stages they need.

use std::collections::BTreeSet;

use crate::middle::resolve::{Spec, StageId};

/// Which images to plan.
#[derive(Clone, Debug, Default)]
pub enum Selection {
    /// Every image in the spec.
    #[default]
    All,
    /// These images and what they need.
    Images(Vec<StageId>),
}

/// The stages the selected images need, in build order.
pub fn needed_stages(spec: &Spec, selection: &Selection) -> Vec<StageId> {
    let roots: Vec<StageId> = match selection {
        Selection::All => spec.images().collect(),
        Selection::Images(ids) => ids.clone(),
    };
    let mut needed: BTreeSet<StageId> = BTreeSet::new();
    let mut stack = roots;
    while let Some(id) = stack.pop() {
        if needed.insert(id) {
            stack.extend(spec.needs[id.0].iter().copied());
        }
    }
    spec.order
        .iter()
        .copied()
        .filter(|id| needed.contains(id))
        .collect()
}
