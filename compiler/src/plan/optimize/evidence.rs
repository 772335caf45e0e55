//! The evidence for how likely each input changes: atoms (context paths,
//! images, remote files, args), their volatility classes or the commits of
//! a history that touch them, and the probability that nothing in a chain
//! changed.

use std::collections::{BTreeSet, HashMap};

use crate::cache::history::{History, HistoryIndex, Volatility, classify};

/// Something outside a stage whose change rebuilds what reads it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Atom {
    Context(String),
    Image(String),
    Remote(String),
    Arg(String),
    /// Without a history, every context path of one volatility class:
    /// a class says how often a kind of file changes, not which files
    /// change together, so the files of a class count as one.
    Class(Volatility),
}

/// The atoms of one spec, numbered, and what is known of how often each
/// changes: its volatility class, or the commits of a history that touch it.
#[derive(Default)]
pub(super) struct Evidence {
    atoms: Vec<Atom>,
    ids: HashMap<Atom, usize>,
    /// Per atom, the probability of its class, found once: a segment's
    /// model reads it for every atom before the segment.
    probabilities: Vec<f64>,
    history: Option<HistoryIndex>,
    /// Atom id → row of `history.touched`.
    history_rows: HashMap<usize, usize>,
}

impl Evidence {
    /// Matches every context pattern against every commit once.
    pub(super) fn index_history(&mut self, history: &History, patterns: Vec<String>) {
        let index = HistoryIndex::build(history, &patterns);
        for (row, pattern) in patterns.into_iter().enumerate() {
            let id = self.atom(Atom::Context(pattern));
            self.history_rows.insert(id, row);
        }
        self.history = Some(index);
    }

    pub(super) fn atom(&mut self, atom: Atom) -> usize {
        if let Some(id) = self.ids.get(&atom) {
            return *id;
        }
        let id = self.atoms.len();
        self.atoms.push(atom.clone());
        self.probabilities.push(self.class(id).probability());
        self.ids.insert(atom, id);
        id
    }

    /// The atom of an id.
    pub(super) fn get(&self, id: usize) -> &Atom {
        &self.atoms[id]
    }

    /// The id of an atom already numbered.
    pub(super) fn id(&self, atom: &Atom) -> Option<usize> {
        self.ids.get(atom).copied()
    }

    /// The probability of an atom that is not read off the history.
    pub(super) fn class_probability(&self, atom: usize) -> f64 {
        self.probabilities[atom]
    }

    fn class(&self, atom: usize) -> Volatility {
        match &self.atoms[atom] {
            Atom::Context(pattern) => classify(pattern),
            Atom::Class(class) => *class,
            Atom::Image(_) | Atom::Remote(_) => Volatility::Toolchain,
            Atom::Arg(_) => Volatility::Config,
        }
    }

    pub(super) fn commits_touching(&self, atom: usize) -> Option<&[u32]> {
        // Without a history, no hashing: segments ask this of every atom
        // before them.
        if self.history_rows.is_empty() {
            return None;
        }
        let row = self.history_rows.get(&atom)?;
        Some(&self.history.as_ref()?.touched[*row])
    }

    /// How many commits the history has; 0 without one.
    pub(super) fn commits(&self) -> usize {
        self.history.as_ref().map_or(0, |h| h.commits)
    }

    /// How often a unit's own inputs change (`p`: when nothing before it
    /// did), in words.
    pub(super) fn volatility(&self, atoms: &[usize], p: f64) -> String {
        let class = atoms.iter().map(|a| self.class(*a)).max();
        let from_history =
            self.history.is_some() && atoms.iter().any(|a| self.history_rows.contains_key(a));
        let p = if p.is_nan() {
            String::new()
        } else {
            format!(", p={p:.2}")
        };
        match (class, from_history) {
            (None, _) => "changes with what came before".to_owned(),
            (Some(_), true) => format!("history{p}"),
            (Some(class), false) => format!("{}{p}", class.name()),
        }
    }
}

/// P(nothing at or before a position changed), walking one order.
pub(super) struct ChainState {
    atoms: BTreeSet<usize>,
    independent: f64,
    dirty: Vec<bool>,
    dirty_count: usize,
    commits: usize,
}

impl ChainState {
    pub(super) fn new(evidence: &Evidence, base: &[usize]) -> Self {
        let commits = evidence.commits();
        let mut state = ChainState {
            atoms: BTreeSet::new(),
            independent: 1.0,
            dirty: vec![false; commits],
            dirty_count: 0,
            commits,
        };
        state.add(evidence, base);
        state
    }

    pub(super) fn add(&mut self, evidence: &Evidence, atoms: &[usize]) {
        for &atom in atoms {
            if !self.atoms.insert(atom) {
                continue;
            }
            match evidence.commits_touching(atom) {
                Some(commits) => {
                    for &c in commits {
                        let seen = std::mem::replace(&mut self.dirty[c as usize], true);
                        if !seen {
                            self.dirty_count += 1;
                        }
                    }
                }
                None => self.independent *= 1.0 - evidence.class_probability(atom),
            }
        }
    }

    pub(super) fn stay(&self) -> f64 {
        let clean = if self.commits == 0 {
            1.0
        } else {
            (self.commits - self.dirty_count) as f64 / self.commits as f64
        };
        clean * self.independent
    }
}

/// Σ cost × P(rebuild) of units in `order` after `prefix`, under the chain
/// rule: a unit rebuilds when any atom at or before it changed.
pub(super) fn chain_cost(
    evidence: &Evidence,
    prefix: &[usize],
    atoms: &[Vec<usize>],
    costs: &[f64],
    order: impl Iterator<Item = usize>,
) -> f64 {
    let mut state = ChainState::new(evidence, prefix);
    let mut total = 0.0;
    for u in order {
        state.add(evidence, &atoms[u]);
        total += costs[u] * (1.0 - state.stay());
    }
    total
}
