//! The optimizer: orders each stage's items, with the facts about stages
//! (their atoms, their final working directory) computed once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::cache;
use crate::cache::history::{History, HistorySource, Volatility};
use crate::frontend::ast::*;
use crate::middle::resolve::{BaseRef, ItemRefs, Spec, StageId};
use crate::plan::optimize::depends::{Constraints, pairwise_preds, segment_constraints};
use crate::plan::optimize::evidence::{Atom, ChainState, Evidence, chain_cost};
use crate::plan::optimize::paths::{ImagePath, any_overlap, copy_writes};
use crate::plan::optimize::report::{OrderOptions, Passed, StageReport};
use crate::plan::optimize::solve::{Before, EXACT_LIMIT, SegmentModel, better};
use crate::plan::optimize::units::{
    ArgBarrier, ItemInfo, Role, context_paths, describe, is_word, metadata_position, quoted_plain,
};

/// Orders the stages of one spec. Facts about stages (their atoms, their
/// final working directory) are computed once and shared by every stage
/// built on or copying from them.
pub(crate) struct Optimizer<'a> {
    spec: &'a Spec,
    options: &'a OrderOptions,
    evidence: Evidence,
    stage_atoms: Vec<Option<Arc<BTreeSet<usize>>>>,
    workdirs: Vec<Option<Option<String>>>,
    producers: Vec<Option<cache::Producer>>,
}

/// The order chosen for one stage: indices into its items.
pub(crate) struct Ordering {
    pub(crate) items: Vec<usize>,
    /// Per item: for a step, the order of the copies of its inputs
    /// ([`crate::plan::inputs::input_copies`]) when it differs from the written one.
    pub(crate) inputs: Vec<Option<Vec<usize>>>,
    pub(crate) report: StageReport,
}

impl<'a> Optimizer<'a> {
    pub(crate) fn new(spec: &'a Spec, options: &'a OrderOptions) -> Self {
        let mut optimizer = Optimizer {
            spec,
            options,
            evidence: Evidence::default(),
            stage_atoms: vec![None; spec.stages.len()],
            workdirs: vec![None; spec.stages.len()],
            producers: vec![None; spec.stages.len()],
        };
        if let Some(Ok(history)) = options.history.as_ref().map(HistorySource::get)
            && !history.commits.is_empty()
            && options.enabled
        {
            optimizer.index_history(history);
        }
        optimizer
    }

    /// Every context pattern of the spec, matched against every commit once.
    fn index_history(&mut self, history: &History) {
        let mut patterns: BTreeSet<String> = BTreeSet::new();
        for stage in &self.spec.stages {
            for item in &stage.items {
                for path in context_paths(item) {
                    patterns.insert(cache::normalize_context_path(&path));
                }
            }
        }
        self.evidence
            .index_history(history, patterns.into_iter().collect());
    }

    fn atom(&mut self, atom: Atom) -> usize {
        self.evidence.atom(atom)
    }

    /// Atoms as the optimizer chooses with them. Without a history, a
    /// context path is only its class (sources and configuration alike):
    /// moves then follow a clear difference of class, never the number of
    /// files a unit lists. With one, every path is its own evidence.
    fn events(&mut self, atoms: &[usize]) -> Vec<usize> {
        let mut out: Vec<usize> = atoms
            .iter()
            .map(|&id| match self.evidence.get(id) {
                Atom::Context(pattern) if self.evidence.commits() == 0 => {
                    let class = match cache::history::classify(pattern) {
                        Volatility::Config => Volatility::Sources,
                        class => class,
                    };
                    self.evidence.atom(Atom::Class(class))
                }
                _ => id,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// How a stage was made, for what a copy of its artifacts carries
    /// ([`cache::copy_cost`]): its commands and working directory, after
    /// those of the stage it is built on.
    fn producer(&mut self, id: StageId) -> cache::Producer {
        if let Some(done) = &self.producers[id.0] {
            return done.clone();
        }
        let mut producer = match self.spec.parent(id) {
            Some(parent) => self.producer(parent),
            None => cache::Producer::default(),
        };
        for item in &self.spec.stage(id).items {
            match &item.kind {
                ItemKind::Workdir(path) => producer.entered(&path.value.sketch()),
                ItemKind::Run(run) => producer.ran(&run.command.text()),
                ItemKind::Step(step) => {
                    for run in &step.runs {
                        producer.ran(&run.command.text());
                    }
                }
                _ => {}
            }
        }
        self.producers[id.0] = Some(producer.clone());
        producer
    }

    /// What copying an artifact costs: by its path (absolute, the
    /// language says) and how its stage was made.
    fn artifact_cost(&mut self, artifact: crate::middle::resolve::ArtifactRef) -> f64 {
        let producer = self.producer(artifact.stage);
        let path = self.spec.artifact(artifact).path.value.as_str();
        cache::copy_cost(&[path], Some(&producer))
    }

    /// Everything whose change rebuilds some part of a stage.
    fn stage_atoms(&mut self, id: StageId) -> Arc<BTreeSet<usize>> {
        if let Some(done) = &self.stage_atoms[id.0] {
            return done.clone();
        }
        let spec = self.spec;
        let decl = spec.stage(id);
        let mut set: BTreeSet<usize> = self.base_atoms(id).iter().copied().collect();
        for (index, item) in decl.items.iter().enumerate() {
            set.extend(self.item_atoms(id, index));
            if let ItemKind::Arg { name, .. } = &item.kind {
                set.insert(self.atom(Atom::Arg(name.value.clone())));
            }
        }
        let set = Arc::new(set);
        self.stage_atoms[id.0] = Some(set.clone());
        set
    }

    fn base_atoms(&mut self, id: StageId) -> Vec<usize> {
        match self.spec.base(id) {
            Some(BaseRef::Image(image)) if image.is_scratch() => Vec::new(),
            Some(BaseRef::Image(image)) => {
                vec![self.atom(Atom::Image(image.written.value.clone()))]
            }
            Some(BaseRef::Stage(parent)) => self.stage_atoms(*parent).iter().copied().collect(),
            None => Vec::new(),
        }
    }

    /// The working directory a stage ends with, when it is known.
    fn final_workdir(&mut self, id: StageId) -> Option<String> {
        if let Some(done) = &self.workdirs[id.0] {
            return done.clone();
        }
        let spec = self.spec;
        let decl = spec.stage(id);
        let mut workdir = self.parent_workdir(id);
        for item in &decl.items {
            if let ItemKind::Workdir(path) = &item.kind {
                workdir = Some(path.value.sketch());
            }
        }
        self.workdirs[id.0] = Some(workdir.clone());
        workdir
    }

    /// The working directory a stage starts with, when it is known: the
    /// one the stage it is built on ends with.
    fn parent_workdir(&mut self, id: StageId) -> Option<String> {
        self.spec
            .parent(id)
            .and_then(|parent| self.final_workdir(parent))
    }

    /// What item number `index` of a stage reads from outside the stage:
    /// context paths, images, stages.
    fn item_atoms(&mut self, id: StageId, index: usize) -> Vec<usize> {
        let spec = self.spec;
        let item = &spec.stage(id).items[index];
        let mut out = Vec::new();
        for path in context_paths(item) {
            out.push(self.atom(Atom::Context(cache::normalize_context_path(&path))));
        }
        match spec.item_refs(id, index) {
            ItemRefs::Artifact(artifact) => {
                out.extend(self.stage_atoms(artifact.stage).iter().copied());
            }
            ItemRefs::Image(image) => {
                out.push(self.atom(Atom::Image(image.written.value.clone())));
            }
            ItemRefs::Mounts(binds) => {
                for bind in binds.iter().flatten() {
                    out.extend(self.stage_atoms(bind.stage()).iter().copied());
                }
            }
            ItemRefs::Nothing => {}
        }
        if let ItemKind::Add(add) = &item.kind {
            for source in &add.sources {
                if crate::frontend::values::is_url(&source.value) {
                    out.push(self.atom(Atom::Remote(source.value.clone())));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Chooses the order of one stage's items.
    pub(crate) fn order_stage(&mut self, id: StageId) -> Ordering {
        let spec = self.spec;
        let decl = spec.stage(id);
        let written: Vec<usize> = (0..decl.items.len()).collect();
        let mut report = StageReport {
            stage: format!("{} `{}`", decl.kind.keyword(), decl.name.value),
            moves: Vec::new(),
            notes: Vec::new(),
            before: 0.0,
            after: 0.0,
        };
        if !self.options.enabled {
            return Ordering {
                inputs: vec![None; written.len()],
                items: written,
                report,
            };
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for item in &decl.items {
            if let ItemKind::Arg { name, .. } = &item.kind {
                *seen.entry(name.value.as_str()).or_default() += 1;
            }
        }
        let stage_args: Vec<String> = seen.keys().map(|k| (*k).to_owned()).collect();
        let duplicate_args: Vec<String> = seen
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(name, _)| name.to_owned())
            .collect();
        let mut workdir = self.parent_workdir(id);
        let mut infos: Vec<ItemInfo> = Vec::with_capacity(decl.items.len());
        for (index, item) in decl.items.iter().enumerate() {
            if let ItemKind::Workdir(path) = &item.kind {
                workdir = Some(path.value.sketch());
            }
            let atoms = self.item_atoms(id, index);
            let mut info = describe(
                item,
                atoms,
                workdir.as_deref(),
                &duplicate_args,
                &stage_args,
            );
            if let ItemRefs::Artifact(artifact) = spec.item_refs(id, index) {
                info.cost = self.artifact_cost(*artifact);
            }
            infos.push(info);
        }
        let base = self.base_atoms(id);
        // Units see an arg when they name it and come after its declaration.
        let mut named_by: HashMap<&str, Vec<usize>> = HashMap::new();
        for (u, info) in infos.iter().enumerate() {
            if info.role == Role::Unit {
                for word in info.words() {
                    let list = named_by.entry(word).or_default();
                    if list.last() != Some(&u) {
                        list.push(u);
                    }
                }
            }
        }
        let mut arg_atoms: Vec<Vec<usize>> = vec![Vec::new(); infos.len()];
        for (a, info) in infos.iter().enumerate() {
            if let Role::Arg(name) = &info.role {
                let atom = self.atom(Atom::Arg(name.clone()));
                let users: Vec<usize> = if is_word(name) {
                    let list = named_by.get(name.as_str()).map_or(&[][..], Vec::as_slice);
                    list[list.partition_point(|u| *u <= a)..].to_vec()
                } else {
                    (a + 1..infos.len())
                        .filter(|u| infos[*u].role == Role::Unit && infos[*u].names(name))
                        .collect()
                };
                for u in users {
                    arg_atoms[u].push(atom);
                }
            }
        }

        // Segments of units between barriers; metadata and args set aside.
        let mut body: Vec<usize> = Vec::new();
        let mut segment: Vec<usize> = Vec::new();
        // What comes before a segment, each atom once: only the set counts.
        let mut prefix = Prefix::new(&base);
        let mut args_in_scope = 0;
        let mut moved_units: Vec<String> = Vec::new();
        for (i, info) in infos.iter().enumerate() {
            match &info.role {
                Role::Metadata | Role::Arg(_) => {}
                Role::Unit => segment.push(i),
                Role::Barrier(_) => {
                    let ordered = self.order_segment(
                        &segment,
                        &infos,
                        &arg_atoms,
                        &prefix.set,
                        &mut moved_units,
                    );
                    for u in &segment {
                        prefix.extend(infos[*u].atoms.iter().chain(&arg_atoms[*u]));
                    }
                    body.extend(ordered);
                    segment.clear();
                    body.push(i);
                    prefix.extend(&info.atoms);
                    // No arg crosses a command that may read it, so those
                    // written before it are in its scope (the ones before
                    // the last such command already are).
                    if info.runs {
                        for other in &infos[args_in_scope..i] {
                            if let Role::Arg(name) = &other.role {
                                prefix.extend(&[self.atom(Atom::Arg(name.clone()))]);
                            }
                        }
                        args_in_scope = i;
                    }
                }
            }
        }
        let ordered =
            self.order_segment(&segment, &infos, &arg_atoms, &prefix.set, &mut moved_units);
        body.extend(ordered);

        // Each arg just before its first use, within the span no barrier closes.
        // Barriers keep their written order in the body, so the ones that
        // stop an arg are found by item index; where each item is, the
        // largest item before a position and the smallest after it answer
        // the rest in constant time.
        let mut at_in_body = vec![usize::MAX; infos.len()];
        for (p, &i) in body.iter().enumerate() {
            at_in_body[i] = p;
        }
        let mut largest_before = vec![None; body.len() + 1];
        for p in 0..body.len() {
            largest_before[p + 1] = largest_before[p].max(Some(body[p]));
        }
        let mut smallest_from = vec![usize::MAX; body.len() + 1];
        for p in (0..body.len()).rev() {
            smallest_from[p] = smallest_from[p + 1].min(body[p]);
        }
        let mut stop_all: Vec<usize> = Vec::new();
        let mut stop_named: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, info) in infos.iter().enumerate() {
            match &info.role {
                Role::Barrier(ArgBarrier::All) => stop_all.push(i),
                Role::Barrier(ArgBarrier::Name(n)) => stop_named.entry(n).or_default().push(i),
                _ => {}
            }
        }
        let mut placed: Vec<(usize, usize)> = Vec::new();
        let mut arg_moves: Vec<String> = Vec::new();
        for (a, info) in infos.iter().enumerate() {
            let Role::Arg(name) = &info.role else {
                continue;
            };
            let named = stop_named.get(name.as_str()).map_or(&[][..], Vec::as_slice);
            let before = |stops: &[usize]| {
                let k = stops.partition_point(|i| *i < a);
                k.checked_sub(1).map(|k| stops[k])
            };
            let after = |stops: &[usize]| stops.get(stops.partition_point(|i| *i <= a)).copied();
            let start = before(&stop_all)
                .max(before(named))
                .map_or(0, |i| at_in_body[i] + 1);
            let end = match (after(&stop_all), after(named)) {
                (Some(x), Some(y)) => at_in_body[x.min(y)],
                (Some(x), None) | (None, Some(x)) => at_in_body[x],
                (None, None) => body.len(),
            };
            let first_use = if is_word(name) {
                let users = named_by.get(name.as_str()).map_or(&[][..], Vec::as_slice);
                users[users.partition_point(|u| *u <= a)..]
                    .iter()
                    .map(|u| at_in_body[*u])
                    .filter(|p| (start..end).contains(p))
                    .min()
            } else {
                (start..end).find(|p| {
                    let i = body[*p];
                    i > a && infos[i].role == Role::Unit && infos[i].names(name)
                })
            };
            let at = first_use.unwrap_or(end);
            placed.push((at, a));
            let down = largest_before[at].is_some_and(|i| i > a);
            let up = smallest_from[at] < a;
            if down || up {
                let whom = match first_use {
                    Some(p) => format!("just before {}, its first use", infos[body[p]].label),
                    None if end < body.len() => format!(
                        "just before {}, which could read it unnamed",
                        infos[body[end]].label
                    ),
                    None => "to the end: nothing in the stage names it".to_owned(),
                };
                let direction = if down { "down" } else { "up" };
                arg_moves.push(format!("moved {} {direction} {whom}", info.label));
            }
        }
        placed.sort();
        let mut order: Vec<usize> = Vec::with_capacity(infos.len());
        let mut next_arg = placed.iter().peekable();
        for (p, i) in body.iter().enumerate() {
            while let Some((_, a)) = next_arg.next_if(|(at, _)| *at == p) {
                order.push(*a);
            }
            order.push(*i);
        }
        order.extend(next_arg.map(|(_, a)| *a));
        let metadata: Vec<usize> = (0..infos.len())
            .filter(|i| infos[*i].role == Role::Metadata)
            .collect();
        let at = if self.options.layer_per_instruction {
            metadata_position(&order, &infos)
        } else {
            order.len()
        };
        // An item moved when the number of other items before it changed.
        // "3 labels, expose": by keyword, in written order.
        let mut moved_metadata: Vec<(&str, usize)> = Vec::new();
        let mut others_before = 0;
        let mut metadata_moved = Vec::new();
        for info in &infos {
            if info.role == Role::Metadata {
                metadata_moved.push(others_before != at);
            } else {
                others_before += 1;
            }
        }
        for (&i, moved) in metadata.iter().zip(metadata_moved) {
            if !moved {
                continue;
            }
            let keyword = infos[i].label.split(' ').next().unwrap_or_default();
            match moved_metadata.iter_mut().find(|(k, _)| *k == keyword) {
                Some((_, n)) => *n += 1,
                None => moved_metadata.push((keyword, 1)),
            }
        }
        let moved_metadata: Vec<String> = moved_metadata
            .into_iter()
            .map(|(k, n)| {
                if n == 1 {
                    k.to_owned()
                } else {
                    format!("{n} {k}s")
                }
            })
            .collect();
        order.splice(at..at, metadata.iter().copied());

        report.before = self.expected_cost(&base, &infos, &arg_atoms, &written);
        report.after = self.expected_cost(&base, &infos, &arg_atoms, &order);
        if better(report.before, report.after) {
            // Never worse than written; cannot happen, but it must not.
            report.after = report.before;
            return Ordering {
                inputs: vec![None; written.len()],
                items: written,
                report,
            };
        }
        report.moves.extend(moved_units);
        report.moves.extend(arg_moves);
        if !moved_metadata.is_empty() {
            let whither = if at < order.len() - metadata.len() {
                "before the copies after the last command: metadata that no instruction reads, \
                 and each instruction is a layer for this builder"
            } else {
                "to the end: metadata that no later instruction reads"
            };
            report
                .moves
                .push(format!("moved {} {whither}", moved_metadata.join(", ")));
        }
        let undeclared: Vec<&str> = decl
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ItemKind::Step(step) if step.order.writes.is_empty() => {
                    Some(step.name.value.as_str())
                }
                _ => None,
            })
            .collect();
        if !undeclared.is_empty() && infos.iter().any(|i| i.role == Role::Unit) {
            report.notes.push(format!(
                "kept in place (no `writes`, so nothing moves across them): step {}",
                undeclared
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mut inputs = vec![None; infos.len()];
        let mut workdir = self.parent_workdir(id);
        for (i, item) in decl.items.iter().enumerate() {
            match &item.kind {
                ItemKind::Workdir(path) => workdir = Some(path.value.sketch()),
                ItemKind::Step(step) => {
                    inputs[i] =
                        self.order_inputs(step, workdir.as_deref(), &base, &mut report.moves);
                }
                _ => {}
            }
        }
        Ordering {
            items: order,
            inputs,
            report,
        }
    }

    /// A step's input copies, stable first: they all come before its
    /// commands, so their order only matters to the cache, as long as no
    /// two of them write the same place.
    fn order_inputs(
        &mut self,
        step: &StepDecl,
        workdir: Option<&str>,
        base: &[usize],
        moves: &mut Vec<String>,
    ) -> Option<Vec<usize>> {
        let copies = crate::plan::inputs::input_copies(&step.inputs);
        let n = copies.len();
        if n < 2 {
            return None;
        }
        let atoms: Vec<Vec<usize>> = copies
            .iter()
            .map(|c| {
                c.paths
                    .iter()
                    .map(|p| self.atom(Atom::Context(cache::normalize_context_path(p))))
                    .collect()
            })
            .collect();
        let writes: Vec<Vec<ImagePath>> = copies
            .iter()
            .map(|c| {
                let sources: Vec<(&str, bool)> =
                    c.paths.iter().map(|p| (p.as_str(), true)).collect();
                copy_writes(&sources, &c.dest.sketch(), workdir)
            })
            .collect();
        let pairs = || {
            (0..n)
                .map(|j| {
                    (0..j)
                        .filter(|i| any_overlap(&writes[*i], &writes[j]))
                        .collect()
                })
                .collect()
        };
        let before = match () {
            #[cfg(test)]
            () if reference::on() => Before::Reference(pairs()),
            () if n <= EXACT_LIMIT => Before::Pairs(pairs()),
            () => {
                let writes: Vec<&[ImagePath]> = writes.iter().map(Vec::as_slice).collect();
                Before::Constraints(Constraints::from_paths(&writes, &vec![&[][..]; n]))
            }
        };
        let events: Vec<Vec<usize>> = atoms.iter().map(|a| self.events(a)).collect();
        let base_events: BTreeSet<usize> = self.events(base).into_iter().collect();
        let model = SegmentModel::new(&self.evidence, &base_events, &events);
        let costs: Vec<f64> = copies
            .iter()
            .map(|c| {
                let paths: Vec<&str> = c.paths.iter().map(String::as_str).collect();
                cache::copy_cost(&paths, None)
            })
            .collect();
        let (order, alone) = model.solve(&costs, &before);
        let written: Vec<usize> = (0..n).collect();
        if order == written || !self.pays_per_file(base, &atoms, &costs, &order) {
            return None;
        }
        let atoms = events;
        let listed: Vec<String> = order
            .iter()
            .map(|k| {
                format!(
                    "{} ({})",
                    quoted_plain(&copies[*k].paths),
                    self.evidence.volatility(&atoms[*k], alone[*k])
                )
            })
            .collect();
        moves.push(format!(
            "copied the inputs of step `{}` stable first: {}",
            step.name.value,
            listed.join(", ")
        ));
        Some(order)
    }

    /// Orders one segment's units; reports the ones that moved up.
    fn order_segment(
        &mut self,
        units: &[usize],
        infos: &[ItemInfo],
        arg_atoms: &[Vec<usize>],
        prefix: &BTreeSet<usize>,
        moves: &mut Vec<String>,
    ) -> Vec<usize> {
        let n = units.len();
        if n < 2 {
            return units.to_vec();
        }
        let unit_atoms: Vec<Vec<usize>> = units
            .iter()
            .map(|u| {
                let mut atoms = infos[*u].atoms.clone();
                atoms.extend(&arg_atoms[*u]);
                atoms
            })
            .collect();
        let events: Vec<Vec<usize>> = unit_atoms.iter().map(|a| self.events(a)).collect();
        let prefix_atoms: Vec<usize> = prefix.iter().copied().collect();
        let prefix_events: BTreeSet<usize> = self.events(&prefix_atoms).into_iter().collect();
        let model = SegmentModel::new(&self.evidence, &prefix_events, &events);
        let costs: Vec<f64> = units.iter().map(|u| infos[*u].cost).collect();
        let before = match () {
            #[cfg(test)]
            () if reference::on() => Before::Reference(pairwise_preds(units, infos)),
            () if n <= EXACT_LIMIT => Before::Pairs(pairwise_preds(units, infos)),
            () => Before::Constraints(segment_constraints(units, infos)),
        };
        let (order, alone) = model.solve(&costs, &before);
        if !self.pays_per_file(&prefix_atoms, &unit_atoms, &costs, &order) {
            return units.to_vec();
        }
        let unit_atoms = events;
        let passed = Passed::new(&order);
        for (pos, &u) in order.iter().enumerate() {
            let (count, listed) = passed.at(pos);
            if count == 0 {
                continue;
            }
            let unit = &infos[units[u]];
            let mut others: Vec<String> = listed
                .iter()
                .map(|v| {
                    format!(
                        "{} ({})",
                        infos[units[*v]].label,
                        self.evidence.volatility(&unit_atoms[*v], alone[*v])
                    )
                })
                .collect();
            if count > listed.len() {
                others.push(format!("and {} more", count - listed.len()));
            }
            moves.push(format!(
                "moved {} ({}, cost {}) before {}",
                unit.label,
                self.evidence.volatility(&unit_atoms[u], alone[u]),
                crate::cache::format_cost(unit.cost),
                others.join(", ")
            ));
        }
        order.into_iter().map(|k| units[k]).collect()
    }

    /// Whether a segment's chosen order is no worse than its written one
    /// when each context path is read as its own event, with its class's
    /// probability. The classes, read as one event each, choose the order;
    /// this reading vetoes a move that pays only because two paths of one
    /// class were taken to change together (a folder bound into an install
    /// and the app's sources), where in a real history they seldom do.
    /// With a history every path is its own evidence already.
    fn pays_per_file(
        &self,
        prefix: &[usize],
        atoms: &[Vec<usize>],
        costs: &[f64],
        order: &[usize],
    ) -> bool {
        if self.evidence.commits() > 0 {
            return true;
        }
        let written = chain_cost(&self.evidence, prefix, atoms, costs, 0..atoms.len());
        let chosen = chain_cost(&self.evidence, prefix, atoms, costs, order.iter().copied());
        !better(written, chosen)
    }

    /// Σ cost × P(rebuild) of the stage's items in `order`, as the
    /// optimizer reads the evidence ([`Optimizer::events`]).
    fn expected_cost(
        &mut self,
        base: &[usize],
        infos: &[ItemInfo],
        arg_atoms: &[Vec<usize>],
        order: &[usize],
    ) -> f64 {
        let base = self.events(base);
        let mut state = ChainState::new(&self.evidence, &base);
        let mut total = 0.0;
        let mut scope: Vec<usize> = Vec::new();
        // The args in scope at the last command are in the chain already.
        let mut added = 0;
        for &i in order {
            let info = &infos[i];
            let atoms = self.events(&info.atoms);
            state.add(&self.evidence, &atoms);
            state.add(&self.evidence, &arg_atoms[i]);
            if let Role::Arg(name) = &info.role
                && let Some(id) = self.evidence.id(&Atom::Arg(name.clone()))
            {
                scope.push(id);
            }
            if info.runs {
                state.add(&self.evidence, &scope[added..]);
                added = scope.len();
            }
            total += info.cost * (1.0 - state.stay());
        }
        total
    }
}

/// The atoms before a segment, kept as a set: only the set counts, and a
/// stage of many commands and args would repeat them many times.
struct Prefix {
    set: BTreeSet<usize>,
}

impl Prefix {
    fn new(base: &[usize]) -> Self {
        Prefix {
            set: base.iter().copied().collect(),
        }
    }

    fn extend<'a>(&mut self, atoms: impl IntoIterator<Item = &'a usize>) {
        self.set.extend(atoms);
    }
}

/// The optimizer as first written, every pair compared and every unit
/// scanned per round, switched on per thread by the differential tests.
#[cfg(test)]
pub(crate) mod reference {
    thread_local! {
        static ON: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Runs `f` with the reference optimizer.
    pub(crate) fn with<T>(f: impl FnOnce() -> T) -> T {
        ON.with(|on| on.set(true));
        let out = f();
        ON.with(|on| on.set(false));
        out
    }

    pub(crate) fn on() -> bool {
        ON.with(std::cell::Cell::get)
    }
}
