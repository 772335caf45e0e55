//! The order problem of one segment and its solve: exact by dynamic
//! programming over subsets up to [`EXACT_LIMIT`] units, greedy beyond.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::plan::optimize::depends::Constraints;
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
#[derive(Debug)]
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
    pub(super) fn new(
        evidence: &Evidence,
        prefix_set: &BTreeSet<usize>,
        units: &[Vec<usize>],
    ) -> Self {
        let commits = evidence.commits();
        let mut prefix_dirty = vec![false; commits];
        let mut prefix_independent = 1.0;
        for &atom in prefix_set {
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

    /// The best order of the units, and for each the probability that it
    /// changes alone (NaN where the segment is too long to solve exactly).
    pub(super) fn solve(&self, costs: &[f64], before: &Before) -> (Vec<usize>, Vec<f64>) {
        let n = costs.len();
        let preds = match before {
            Before::Pairs(preds) if n <= EXACT_LIMIT => preds,
            Before::Pairs(preds) => {
                let constraints = Constraints::from_pairs(preds);
                return (self.greedy(costs, &constraints), vec![f64::NAN; n]);
            }
            Before::Constraints(constraints) => {
                return (self.greedy(costs, constraints), vec![f64::NAN; n]);
            }
            #[cfg(test)]
            Before::Reference(preds) => return self.solve_reference(costs, preds),
        };
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

    /// The greedy's measure of unit `u` given what is placed: how likely it
    /// changes when nothing placed did, per unit of its cost (lower first).
    fn greedy_key(&self, u: usize, costs: &[f64], seen: &[bool], dirty: &Dirty) -> f64 {
        let q_independent: f64 = self.unit_independent[u]
            .iter()
            .filter(|a| !seen[**a])
            .map(|a| self.local_q[*a])
            .product();
        let clean_before = self.commits.saturating_sub(dirty.count).max(1) as f64;
        let newly = self.unit_commits[u]
            .iter()
            .filter(|c| !dirty.commits[**c as usize])
            .count() as f64;
        let q = q_independent * (1.0 - newly / clean_before);
        let p = 1.0 - q;
        if costs[u] <= 0.0 {
            f64::INFINITY
        } else if q <= 0.0 {
            f64::MAX
        } else {
            p / (costs[u] * q)
        }
    }

    /// Large segments: repeatedly place the available unit with the
    /// smallest marginal change probability per unit of cost.
    ///
    /// The rule is a scan in written order that takes a unit only when its
    /// key beats the best so far by more than a tolerance. Keys sit in an
    /// ordered set and change only where a placed unit shares an input, so
    /// a round costs `log n`: when the smallest key is clear of the next,
    /// the scan takes the first unit with that key. Keys closer than the
    /// tolerance fall back to the scan itself, and a commit of the history
    /// turning dirty recomputes every key.
    fn greedy(&self, costs: &[f64], constraints: &Constraints) -> Vec<usize> {
        let n = self.n;
        debug_assert_eq!(constraints.units(), n, "constraints of this segment");
        let mut waiting = constraints.preds.clone();
        let mut seen = vec![false; self.local_q.len()];
        let mut dirty = Dirty {
            commits: vec![false; self.commits],
            count: 0,
        };
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); self.local_q.len()];
        for (u, atoms) in self.unit_independent.iter().enumerate() {
            for &a in atoms {
                users[a].push(u);
            }
        }
        let mut keys = vec![f64::NAN; n];
        let mut ranked: BTreeSet<(Key, usize)> = BTreeSet::new();
        let mut free: BTreeSet<usize> = BTreeSet::new();
        for u in 0..n {
            if waiting[u] == 0 {
                keys[u] = self.greedy_key(u, costs, &seen, &dirty);
                ranked.insert((Key(keys[u]), u));
                free.insert(u);
            }
        }
        let mut stale = false;
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            if stale {
                ranked.clear();
                for &u in &free {
                    keys[u] = self.greedy_key(u, costs, &seen, &dirty);
                    ranked.insert((Key(keys[u]), u));
                }
                stale = false;
            }
            let u = pick(&ranked, &free, &keys)
                .expect("a segment's constraints follow written order, so some unit is free");
            ranked.remove(&(Key(keys[u]), u));
            free.remove(&u);
            order.push(u);
            for &a in &self.unit_independent[u] {
                if std::mem::replace(&mut seen[a], true) {
                    continue;
                }
                for &v in &users[a] {
                    if free.contains(&v) {
                        ranked.remove(&(Key(keys[v]), v));
                        keys[v] = self.greedy_key(v, costs, &seen, &dirty);
                        ranked.insert((Key(keys[v]), v));
                    }
                }
            }
            for &c in &self.unit_commits[u] {
                if !std::mem::replace(&mut dirty.commits[c as usize], true) {
                    dirty.count += 1;
                    // Every key divides by the commits left clean.
                    stale = true;
                }
            }
            let mut done = vec![u];
            while let Some(node) = done.pop() {
                for &next in &constraints.succs[node] {
                    waiting[next] -= 1;
                    if waiting[next] > 0 {
                        continue;
                    }
                    if next < n {
                        keys[next] = self.greedy_key(next, costs, &seen, &dirty);
                        ranked.insert((Key(keys[next]), next));
                        free.insert(next);
                    } else {
                        done.push(next);
                    }
                }
            }
        }
        order
    }

    /// [`SegmentModel::solve`] as first written, every pair compared and
    /// every unit scanned per round: the oracle of the fast one.
    #[cfg(test)]
    pub(crate) fn solve_reference(
        &self,
        costs: &[f64],
        preds: &[Vec<usize>],
    ) -> (Vec<usize>, Vec<f64>) {
        if costs.len() > EXACT_LIMIT {
            return (
                self.greedy_reference(costs, preds),
                vec![f64::NAN; costs.len()],
            );
        }
        self.solve(costs, &Before::Pairs(preds.to_vec()))
    }

    /// The greedy as first written, a scan of every unit per round: the
    /// oracle of [`SegmentModel::greedy`].
    #[cfg(test)]
    pub(crate) fn greedy_reference(&self, costs: &[f64], preds: &[Vec<usize>]) -> Vec<usize> {
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

/// Which units must come before which: every pair, for segments short
/// enough to solve exactly, or the constraints of `depends` beyond.
pub(super) enum Before {
    Pairs(Vec<Vec<usize>>),
    Constraints(Constraints),
    /// Every pair, for the solve as first written (`order::reference`).
    #[cfg(test)]
    Reference(Vec<Vec<usize>>),
}

/// The commits of the history that changed something already placed.
struct Dirty {
    commits: Vec<bool>,
    count: usize,
}

/// A key in total order, so that keys can sit in an ordered set.
#[derive(Clone, Copy, Debug)]
struct Key(f64);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The unit the greedy's scan takes among the free ones: the first in
/// written order, replaced by any later unit whose key is `better` than
/// the best so far.
fn scan(free: &BTreeSet<usize>, keys: &[f64]) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    for &u in free {
        if best.is_none_or(|(k, _)| better(keys[u], k)) {
            best = Some((keys[u], u));
        }
    }
    best.map(|(_, u)| u)
}

/// [`scan`]'s choice, read off the ordered keys where that is sure.
fn pick(ranked: &BTreeSet<(Key, usize)>, free: &BTreeSet<usize>, keys: &[f64]) -> Option<usize> {
    let first = *free.first()?;
    // Nothing is `better` than an infinite key (cost 0) or NaN: the scan
    // keeps its first unit when that has one, and never takes one later.
    if keys[first] == f64::INFINITY || keys[first].is_nan() {
        return Some(first);
    }
    let &(Key(least), unit) = ranked.first()?;
    if least.is_nan() {
        return scan(free, keys);
    }
    let next = ranked
        .range((
            std::ops::Bound::Excluded((Key(least), usize::MAX)),
            std::ops::Bound::Unbounded,
        ))
        .next()
        .map(|(k, _)| k.0);
    match next {
        // The least key beats every other (a larger key's tolerance is
        // larger), so the scan takes the first unit that has it.
        None => Some(unit),
        Some(next) if next == f64::INFINITY || better(least, next) => Some(unit),
        _ => scan(free, keys),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_keeps_written_order_on_ties() {
        let problem = Problem {
            costs: vec![1.0, 1.0, 1.0],
            preds: vec![0, 0, 0],
            stay: vec![0.5; 8],
        };
        assert_eq!(solve_exact(&problem), vec![0, 1, 2]);
    }

    /// A model of `n` units over a few atoms and commits, its costs (some
    /// zero) and dependencies that point forward, as written stages have.
    fn greedy_problem() -> impl Strategy<Value = (SegmentModel, Vec<f64>, Vec<Vec<usize>>)> {
        (13usize..40).prop_flat_map(|n| {
            // Few distinct q's, multiplied in different orders, make keys
            // that tie exactly and keys a rounding apart.
            let q = prop_oneof![
                Just(0.9),
                Just(0.3),
                Just(0.97),
                Just(0.7),
                Just(0.1),
                Just(0.0),
                Just(1.0)
            ];
            (
                prop::collection::vec(q, 1..6),
                prop::collection::vec(prop::collection::vec(0usize..6, 0..4), n),
                prop::collection::vec(prop::collection::vec(0u32..8, 0..3), n),
                0usize..12,
                prop::collection::vec(
                    prop_oneof![Just(0.0), Just(1.0), Just(60.0), 0.0f64..10.0],
                    n,
                ),
                prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..3), n),
            )
                .prop_map(move |(local_q, atoms, touched, commits, costs, preds)| {
                    let atoms = atoms
                        .into_iter()
                        .map(|a| a.into_iter().filter(|a| *a < local_q.len()).collect())
                        .collect();
                    let commits = if commits < 8 { 0 } else { commits };
                    let unit_commits = touched
                        .into_iter()
                        .map(|c| if commits == 0 { Vec::new() } else { c })
                        .collect();
                    let preds = preds
                        .into_iter()
                        .enumerate()
                        .map(|(u, p)| {
                            let mut p: Vec<usize> =
                                p.iter().filter(|_| u > 0).map(|i| i.index(u)).collect();
                            p.sort_unstable();
                            p.dedup();
                            p
                        })
                        .collect();
                    let model = SegmentModel {
                        n,
                        prefix_independent: 1.0,
                        unit_independent: atoms,
                        local_q,
                        masks: HashMap::new(),
                        unit_commits,
                        commits,
                    };
                    (model, costs, preds)
                })
        })
    }

    /// 0.9 × 0.97 × 0.3 and 0.9 × 0.3 × 0.97 differ in the last bit: the
    /// scan keeps the first unit, though the second's key is smaller.
    #[test]
    fn greedy_keeps_the_first_of_keys_a_rounding_apart() {
        let model = SegmentModel {
            n: 2,
            prefix_independent: 1.0,
            unit_independent: vec![vec![0, 2, 1], vec![3, 4, 5]],
            local_q: vec![0.9, 0.3, 0.97, 0.9, 0.3, 0.97],
            masks: HashMap::new(),
            unit_commits: vec![Vec::new(), Vec::new()],
            commits: 0,
        };
        let costs = [1.0, 1.0];
        let preds = vec![Vec::new(), Vec::new()];
        let (seen, dirty) = (
            vec![false; 6],
            Dirty {
                commits: Vec::new(),
                count: 0,
            },
        );
        assert!(
            model.greedy_key(1, &costs, &seen, &dirty) < model.greedy_key(0, &costs, &seen, &dirty)
        );
        assert_eq!(model.greedy_reference(&costs, &preds), vec![0, 1]);
        assert_eq!(
            model.greedy(&costs, &Constraints::from_pairs(&preds)),
            vec![0, 1]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The greedy on its ordered set takes the units the first one,
        /// scanning every unit each round, took.
        #[test]
        fn greedy_matches_the_scan((model, costs, preds) in greedy_problem()) {
            let fast = model.greedy(&costs, &Constraints::from_pairs(&preds));
            prop_assert_eq!(fast, model.greedy_reference(&costs, &preds));
        }
    }
}
