//! Which units of a long segment must keep their written order, found
//! through an index of paths instead of by comparing every pair.
//!
//! The greedy solve only asks whether every unit that must come before a
//! unit is placed. So [`Constraints`] keeps fewer edges than the pairs
//! that conflict, with the same transitive closure, which answers that
//! question the same way at every step:
//!
//! - a unit that writes a path stands for every earlier entry under it:
//!   whatever later conflicts with one of those also conflicts with it;
//! - the users of an arg on either side of its declaration meet at one
//!   join node instead of every pair of them.

use std::collections::HashMap;

use crate::plan::optimize::paths::{ImagePath, any_overlap};
use crate::plan::optimize::units::{ItemInfo, Role, is_word};

/// Order constraints between units `0..n` and join nodes `n..`: a node
/// may be placed (a join completes) when all its predecessors have been.
#[derive(Clone, Debug, Default)]
pub(crate) struct Constraints {
    units: usize,
    pub(crate) succs: Vec<Vec<usize>>,
    /// Per node, how many predecessors it has.
    pub(crate) preds: Vec<usize>,
}

impl Constraints {
    pub(crate) fn new(units: usize) -> Self {
        Constraints {
            units,
            succs: vec![Vec::new(); units],
            preds: vec![0; units],
        }
    }

    pub(crate) fn units(&self) -> usize {
        self.units
    }

    pub(crate) fn edge(&mut self, from: usize, to: usize) {
        self.succs[from].push(to);
        self.preds[to] += 1;
    }

    /// Every unit of `before` must come before every unit of `after`.
    pub(crate) fn join(&mut self, before: &[usize], after: &[usize]) {
        if before.is_empty() || after.is_empty() {
            return;
        }
        let join = self.succs.len();
        self.succs.push(Vec::new());
        self.preds.push(0);
        for &b in before {
            self.edge(b, join);
        }
        for &a in after {
            self.edge(join, a);
        }
    }

    /// Constraints from full predecessor lists (`preds[u]`: units before `u`).
    pub(crate) fn from_pairs(preds: &[Vec<usize>]) -> Self {
        let mut constraints = Constraints::new(preds.len());
        for (u, before) in preds.iter().enumerate() {
            for &p in before {
                constraints.edge(p, u);
            }
        }
        constraints
    }

    /// Two units keep their order when one writes what the other reads or
    /// writes (`paths::any_overlap`). Linear in the paths, plus the edges
    /// a reader of a directory needs to every writer below it.
    pub(crate) fn from_paths(writes: &[&[ImagePath]], reads: &[&[ImagePath]]) -> Self {
        let n = writes.len();
        let mut constraints = Constraints::new(n);
        let mut index = PathIndex::default();
        let mut stamp = vec![usize::MAX; n];
        let mut found = Vec::new();
        for j in 0..n {
            found.clear();
            for path in writes[j] {
                index.conflicts(path, true, &mut found);
            }
            for path in reads[j] {
                index.conflicts(path, false, &mut found);
            }
            for &i in &found {
                if std::mem::replace(&mut stamp[i], j) != j {
                    constraints.edge(i, j);
                }
            }
            for path in writes[j] {
                index.write(path, j);
            }
            for path in reads[j] {
                index.read(path, j);
            }
        }
        constraints
    }
}

/// A trie of path components, one for absolute and one for relative
/// paths, holding which units read or write at each node.
#[derive(Default)]
struct PathIndex {
    nodes: Vec<Node>,
    roots: [Option<usize>; 2],
}

#[derive(Default)]
struct Node {
    children: HashMap<String, usize>,
    writers: Vec<usize>,
    readers: Vec<usize>,
}

fn split(path: &ImagePath) -> (usize, &[String]) {
    match path {
        ImagePath::Absolute(parts) => (0, parts),
        ImagePath::Relative(parts) => (1, parts),
    }
}

impl PathIndex {
    /// The units with an entry that overlaps `path` (one contains the
    /// other) and conflicts with it: any writer, and readers too when
    /// `path` is written. The other trie overlaps any path: all of it.
    fn conflicts(&self, path: &ImagePath, write: bool, out: &mut Vec<usize>) {
        let (trie, parts) = split(path);
        if let Some(other) = self.roots[1 - trie] {
            self.subtree(other, write, out);
        }
        let Some(mut node) = self.roots[trie] else {
            return;
        };
        for part in parts {
            self.entries(node, write, out);
            match self.nodes[node].children.get(part) {
                Some(&child) => node = child,
                None => return,
            }
        }
        self.subtree(node, write, out);
    }

    fn entries(&self, node: usize, write: bool, out: &mut Vec<usize>) {
        out.extend(&self.nodes[node].writers);
        if write {
            out.extend(&self.nodes[node].readers);
        }
    }

    fn subtree(&self, node: usize, write: bool, out: &mut Vec<usize>) {
        let mut stack = vec![node];
        while let Some(node) = stack.pop() {
            self.entries(node, write, out);
            stack.extend(self.nodes[node].children.values());
        }
    }

    fn node(&mut self, path: &ImagePath) -> usize {
        let (trie, parts) = split(path);
        let mut node = match self.roots[trie] {
            Some(root) => root,
            None => {
                self.nodes.push(Node::default());
                *self.roots[trie].insert(self.nodes.len() - 1)
            }
        };
        for part in parts {
            node = match self.nodes[node].children.get(part) {
                Some(&child) => child,
                None => {
                    self.nodes.push(Node::default());
                    let child = self.nodes.len() - 1;
                    self.nodes[node].children.insert(part.clone(), child);
                    child
                }
            };
        }
        node
    }

    /// A writer replaces every entry at or under its path: each of them
    /// comes before it, and whatever overlaps one of them overlaps it.
    fn write(&mut self, path: &ImagePath, unit: usize) {
        let node = self.node(path);
        let entry = &mut self.nodes[node];
        entry.children.clear();
        entry.readers.clear();
        entry.writers.clear();
        entry.writers.push(unit);
    }

    fn read(&mut self, path: &ImagePath, unit: usize) {
        let node = self.node(path);
        self.nodes[node].readers.push(unit);
    }
}

/// Which units of a short segment must come before which, pair by pair.
pub(super) fn pairwise_preds(units: &[usize], infos: &[ItemInfo]) -> Vec<Vec<usize>> {
    let n = units.len();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for j in 0..n {
        for i in 0..j {
            let (a, b) = (&infos[units[i]], &infos[units[j]]);
            let dependent = any_overlap(&a.writes, &b.reads)
                || any_overlap(&a.writes, &b.writes)
                || any_overlap(&b.writes, &a.reads);
            // Two users of one arg on either side of its declaration keep their sides.
            let split_by_arg = infos[units[i] + 1..units[j]].iter().any(|m| match &m.role {
                Role::Arg(name) => a.names(name) && b.names(name),
                _ => false,
            });
            if dependent || split_by_arg {
                preds[j].push(i);
            }
        }
    }
    preds
}

/// [`pairwise_preds`] for long segments, without comparing every pair:
/// path conflicts through the index of `depends`, and the users of each
/// arg declared inside the segment split at a join.
pub(super) fn segment_constraints(units: &[usize], infos: &[ItemInfo]) -> Constraints {
    let writes: Vec<&[ImagePath]> = units.iter().map(|u| infos[*u].writes.as_slice()).collect();
    let reads: Vec<&[ImagePath]> = units.iter().map(|u| infos[*u].reads.as_slice()).collect();
    let mut constraints = Constraints::from_paths(&writes, &reads);
    let (first, last) = (units[0], units[units.len() - 1]);
    let declared = || {
        (first + 1..last).filter_map(|m| match &infos[m].role {
            Role::Arg(name) => Some((m, name)),
            _ => None,
        })
    };
    if declared().next().is_none() {
        return constraints;
    }
    // Who names each word, by position in the segment; arg names are words.
    let mut users: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, u) in units.iter().enumerate() {
        for word in infos[*u].words() {
            let list = users.entry(word).or_default();
            if list.last() != Some(&k) {
                list.push(k);
            }
        }
    }
    for (m, name) in declared() {
        let named: Vec<usize> = if is_word(name) {
            users.get(name.as_str()).cloned().unwrap_or_default()
        } else {
            (0..units.len())
                .filter(|k| infos[units[*k]].names(name))
                .collect()
        };
        let split = named.partition_point(|k| units[*k] < m);
        constraints.join(&named[..split], &named[split..]);
    }
    constraints
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::optimize::paths::{any_overlap, resolve_path};
    use proptest::prelude::*;

    /// Units `0..n`: which must come before which, following every edge.
    fn closure(constraints: &Constraints) -> Vec<Vec<bool>> {
        let nodes = constraints.succs.len();
        let mut reach = vec![vec![false; nodes]; nodes];
        for (start, row) in reach.iter_mut().enumerate() {
            let mut stack = constraints.succs[start].clone();
            while let Some(next) = stack.pop() {
                if !std::mem::replace(&mut row[next], true) {
                    stack.extend(&constraints.succs[next]);
                }
            }
        }
        let n = constraints.units();
        reach
            .into_iter()
            .take(n)
            .map(|row| row.into_iter().take(n).collect())
            .collect()
    }

    const PATHS: &[&str] = &[
        "/a", "/a/b", "/a/b/c", "/a/c", "/d", "/", "x", "x/y", "y", "..",
    ];

    proptest! {
        /// The index keeps the pairs that conflict, up to transitivity:
        /// its closure is the closure of comparing every pair.
        #[test]
        fn path_index_keeps_every_conflict(
            units in prop::collection::vec(
                (prop::collection::vec(0..PATHS.len(), 0..3),
                 prop::collection::vec(0..PATHS.len(), 0..3)),
                0..14,
            )
        ) {
            let resolve = |picks: &[usize]| -> Vec<ImagePath> {
                picks.iter().map(|p| resolve_path(PATHS[*p], None)).collect()
            };
            let writes: Vec<Vec<ImagePath>> = units.iter().map(|(w, _)| resolve(w)).collect();
            let reads: Vec<Vec<ImagePath>> = units.iter().map(|(_, r)| resolve(r)).collect();
            let n = units.len();
            let pairs: Vec<Vec<usize>> = (0..n)
                .map(|j| {
                    (0..j)
                        .filter(|&i| {
                            any_overlap(&writes[i], &reads[j])
                                || any_overlap(&writes[i], &writes[j])
                                || any_overlap(&writes[j], &reads[i])
                        })
                        .collect()
                })
                .collect();
            let w: Vec<&[ImagePath]> = writes.iter().map(Vec::as_slice).collect();
            let r: Vec<&[ImagePath]> = reads.iter().map(Vec::as_slice).collect();
            let indexed = Constraints::from_paths(&w, &r);
            prop_assert_eq!(closure(&indexed), closure(&Constraints::from_pairs(&pairs)));
        }
    }
}
