//! The order problem of one segment and its solve: exact by dynamic
//! programming over subsets up to [`EXACT_LIMIT`] units, greedy beyond.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::plan::optimize::evidence::Evidence;

/// Segments up to this many units are ordered exactly.
pub(crate) const EXACT_LIMIT: usize = 12;

/// One segment's order problem, independent of specs: units `0..n` in
/// written order, what each costs, which must come first, and the
/// probability that nothing at or before a position changed, for every
/// set of units before it (`stay[mask]`, `2^n` entries).
#[derive(Clone, Debug)]
pub(crate) struct Problem {
    pub(crate) costs: Vec<f64>,
    /// `preds[u]`: bit `v` set when `v` must come before `u`.
    pub(crate) preds: Vec<u32>,
    pub(crate) stay: Vec<f64>,
}

/// Σ cost × P(rebuild) of an order.
#[cfg(test)]
pub(crate) fn expected(problem: &Problem, order: &[usize]) -> f64 {
    let mut mask = 0usize;
    let mut total = 0.0;
    for &u in order {
        mask |= 1 << u;
        total += problem.costs[u] * (1.0 - problem.stay[mask]);
    }
    total
}

/// Whether an order keeps every unit after the units it must follow.
#[cfg(test)]
pub(crate) fn respects(problem: &Problem, order: &[usize]) -> bool {
    let mut placed = 0u32;
    for &u in order {
        if problem.preds[u] & !placed != 0 {
            return false;
        }
        placed |= 1 << u;
    }
    true
}

pub(super) fn better(candidate: f64, best: f64) -> bool {
    candidate < best - 1e-9 * best.abs().max(1.0)
}

fn tied(candidate: f64, best: f64) -> bool {
    !better(candidate, best) && !better(best, candidate)
}

/// The optimal order by dynamic programming over subsets. Among equally
/// good orders it keeps the written one as far as it can: a unit only
/// moves when that strictly lowers the expected cost.
pub(crate) fn solve_exact(problem: &Problem) -> Vec<usize> {
    let n = problem.costs.len();
    assert!(
        n <= EXACT_LIMIT.max(16),
        "exact ordering is for small segments"
    );
    let full = (1usize << n) - 1;
    let mut best = vec![f64::INFINITY; full + 1];
    let mut last = vec![usize::MAX; full + 1];
    best[0] = 0.0;
    for set in 0..=full {
        if best[set].is_infinite() {
            continue;
        }
        for u in 0..n {
            if set & (1 << u) != 0 || (problem.preds[u] as usize) & !set != 0 {
                continue;
            }
            let next = set | (1 << u);
            let value = best[set] + problem.costs[u] * (1.0 - problem.stay[next]);
            // Ties go to the unit written last, so that reading the choices
            // back from the full set rebuilds the written order.
            let take = last[next] == usize::MAX
                || better(value, best[next])
                || (tied(value, best[next]) && u > last[next]);
            if take {
                best[next] = value;
                last[next] = u;
            }
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut set = full;
    while set != 0 {
        let u = last[set];
        order.push(u);
        set &= !(1 << u);
    }
    order.reverse();
    order
}

/// P(unit `u` changes | nothing before the segment did).
fn changes_alone(stay: &[f64], u: usize) -> f64 {
    if stay[0] <= 0.0 {
        return 1.0;
    }
    1.0 - stay[1 << u] / stay[0]
}

/// Probabilities for the sets of units of one segment.
pub(super) struct SegmentModel {
    n: usize,
    /// Stay probability of the prefix's independent atoms.
    prefix_independent: f64,
    /// Per unit, its independent atoms not already in the prefix (local ids) and their q.
    unit_independent: Vec<Vec<usize>>,
    local_q: Vec<f64>,
    /// History: commits the prefix leaves clean, by the mask of units they touch.
    masks: HashMap<usize, usize>,
    /// History: the commits each unit touches that the prefix left clean.
    unit_commits: Vec<Vec<u32>>,
    commits: usize,
}

impl SegmentModel {
    pub(super) fn new(evidence: &Evidence, prefix: &[usize], units: &[Vec<usize>]) -> Self {
        let commits = evidence.commits();
        let mut prefix_dirty = vec![false; commits];
        let mut prefix_independent = 1.0;
        let prefix_set: BTreeSet<usize> = prefix.iter().copied().collect();
        for &atom in &prefix_set {
            match evidence.commits_touching(atom) {
                Some(touched) => touched
                    .iter()
                    .for_each(|c| prefix_dirty[*c as usize] = true),
                None => prefix_independent *= 1.0 - evidence.class_probability(atom),
            }
        }
        let mut local: BTreeMap<usize, usize> = BTreeMap::new();
        let mut local_q = Vec::new();
        let mut unit_independent = Vec::with_capacity(units.len());
        let mut unit_commits = Vec::with_capacity(units.len());
        let mut masks: HashMap<usize, usize> = HashMap::new();
        let mut commit_masks: HashMap<u32, usize> = HashMap::new();
        for (u, atoms) in units.iter().enumerate() {
            let mut independent = Vec::new();
            let mut touched: BTreeSet<u32> = BTreeSet::new();
            for &atom in atoms {
                if prefix_set.contains(&atom) {
                    continue;
                }
                match evidence.commits_touching(atom) {
                    Some(commits) => touched.extend(
                        commits
                            .iter()
                            .copied()
                            .filter(|c| !prefix_dirty[*c as usize]),
                    ),
                    None => {
                        let next = local.len();
                        let id = *local.entry(atom).or_insert_with(|| {
                            local_q.push(1.0 - evidence.class_probability(atom));
                            next
                        });
                        independent.push(id);
                    }
                }
            }
            if u < usize::BITS as usize {
                for c in &touched {
                    *commit_masks.entry(*c).or_default() |= 1 << u;
                }
            }
            unit_independent.push(independent);
            unit_commits.push(touched.into_iter().collect());
        }
        if commits > 0 {
            let clean = prefix_dirty.iter().filter(|d| !**d).count();
            let touched = commit_masks.len();
            masks.insert(0, clean - touched);
            for mask in commit_masks.into_values() {
                *masks.entry(mask).or_default() += 1;
            }
        }
        SegmentModel {
            n: units.len(),
            prefix_independent,
            unit_independent,
            local_q,
            masks,
            unit_commits,
            commits,
        }
    }

    /// P(nothing in the prefix nor in the units of a set changed), for
    /// every set (bit `u` of the index: unit `u`). Independent atoms
    /// multiply along a subset recurrence; commits are counted with a sum
    /// over subsets, so the whole table costs `2^n · n`.
    fn stay_all(&self) -> Vec<f64> {
        let n = self.n;
        let size = 1usize << n;
        let words = self.local_q.len().div_ceil(64).max(1);
        let mut unions = vec![0u64; size * words];
        let mut stay = vec![self.prefix_independent; size];
        for set in 1..size {
            let low = set.trailing_zeros() as usize;
            let rest = set & (set - 1);
            unions.copy_within(rest * words..(rest + 1) * words, set * words);
            let mut value = stay[rest];
            for &a in &self.unit_independent[low] {
                let (word, bit) = (set * words + a / 64, 1u64 << (a % 64));
                if unions[word] & bit == 0 {
                    unions[word] |= bit;
                    value *= self.local_q[a];
                }
            }
            stay[set] = value;
        }
        if self.commits > 0 {
            let mut within = vec![0usize; size];
            for (mask, count) in &self.masks {
                within[*mask & (size - 1)] += count;
            }
            for bit in 0..n {
                for set in 0..size {
                    if set & (1 << bit) != 0 {
                        within[set] += within[set ^ (1 << bit)];
                    }
                }
            }
            for set in 0..size {
                stay[set] *= within[(size - 1) & !set] as f64 / self.commits as f64;
            }
        }
        stay
    }

    /// Large segments: repeatedly place the available unit with the
    /// smallest marginal change probability per unit of cost.
    /// The best order of the units, and for each the probability that it
    /// changes alone (NaN where the segment is too long to solve exactly).
    pub(super) fn solve(&self, costs: &[f64], preds: &[Vec<usize>]) -> (Vec<usize>, Vec<f64>) {
        let n = costs.len();
        if n > EXACT_LIMIT {
            return (self.greedy(costs, preds), vec![f64::NAN; n]);
        }
        let problem = Problem {
            costs: costs.to_vec(),
            preds: preds
                .iter()
                .map(|p| p.iter().fold(0u32, |m, v| m | (1 << v)))
                .collect(),
            stay: self.stay_all(),
        };
        let alone = (0..n).map(|u| changes_alone(&problem.stay, u)).collect();
        (solve_exact(&problem), alone)
    }

    fn greedy(&self, costs: &[f64], preds: &[Vec<usize>]) -> Vec<usize> {
        let n = self.n;
        let mut placed = vec![false; n];
        let mut seen = vec![false; self.local_q.len()];
        let mut dirty: BTreeSet<u32> = BTreeSet::new();
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let mut best: Option<(f64, usize)> = None;
            for u in 0..n {
                if placed[u] || preds[u].iter().any(|p| !placed[*p]) {
                    continue;
                }
                let q_independent: f64 = self.unit_independent[u]
                    .iter()
                    .filter(|a| !seen[**a])
                    .map(|a| self.local_q[*a])
                    .product();
                let clean_before = self.commits.saturating_sub(dirty.len()).max(1) as f64;
                let newly = self.unit_commits[u]
                    .iter()
                    .filter(|c| !dirty.contains(c))
                    .count() as f64;
                let q = q_independent * (1.0 - newly / clean_before);
                let p = 1.0 - q;
                let key = if costs[u] <= 0.0 {
                    f64::INFINITY
                } else if q <= 0.0 {
                    f64::MAX
                } else {
                    p / (costs[u] * q)
                };
                if best.is_none_or(|(k, _)| better(key, k)) {
                    best = Some((key, u));
                }
            }
            let (_, u) =
                best.expect("a segment's constraints follow written order, so some unit is free");
            placed[u] = true;
            for &a in &self.unit_independent[u] {
                seen[a] = true;
            }
            dirty.extend(self.unit_commits[u].iter().copied());
            order.push(u);
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_keeps_written_order_on_ties() {
        let problem = Problem {
            costs: vec![1.0, 1.0, 1.0],
            preds: vec![0, 0, 0],
            stay: vec![0.5; 8],
        };
        assert_eq!(solve_exact(&problem), vec![0, 1, 2]);
    }
}
