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
//! subsets exact: a segment of up to [`EXACT_LIMIT`] units gets the optimum
//! (the property suite checks it against brute force); longer segments are
//! ordered greedily by marginal probability per cost.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use crate::cache;
use crate::cache::history::{History, HistoryIndex, HistorySource, Volatility, classify};
use crate::frontend::ast::*;
use crate::middle::resolve::{Spec, StageId};

/// Where metadata goes in `order` (which holds no metadata yet) for a
/// builder that commits a layer per instruction: just before the first copy
/// after the stage's last command. No instruction reads metadata, so any
/// place builds the same image; there, a source edit rebuilds only the
/// copies after it, and a metadata edit only those copies, never a command.
fn metadata_position(order: &[usize], infos: &[ItemInfo]) -> usize {
    let after_last_command = order
        .iter()
        .rposition(|i| infos[*i].runs)
        .map_or(0, |p| p + 1);
    order[after_last_command..]
        .iter()
        .position(|i| infos[*i].role == Role::Unit)
        .map_or(order.len(), |p| after_last_command + p)
}

/// Segments up to this many units are ordered exactly.
pub const EXACT_LIMIT: usize = 12;

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

// ---------------------------------------------------------------- the order problem

/// One segment's order problem, independent of specs: units `0..n` in
/// written order, what each costs, which must come first, and the
/// probability that nothing at or before a position changed, for every
/// set of units before it (`stay[mask]`, `2^n` entries).
#[derive(Clone, Debug)]
pub struct Problem {
    pub costs: Vec<f64>,
    /// `preds[u]`: bit `v` set when `v` must come before `u`.
    pub preds: Vec<u32>,
    pub stay: Vec<f64>,
}

/// Σ cost × P(rebuild) of an order.
pub fn expected(problem: &Problem, order: &[usize]) -> f64 {
    let mut mask = 0usize;
    let mut total = 0.0;
    for &u in order {
        mask |= 1 << u;
        total += problem.costs[u] * (1.0 - problem.stay[mask]);
    }
    total
}

/// Whether an order keeps every unit after the units it must follow.
pub fn respects(problem: &Problem, order: &[usize]) -> bool {
    let mut placed = 0u32;
    for &u in order {
        if problem.preds[u] & !placed != 0 {
            return false;
        }
        placed |= 1 << u;
    }
    true
}

fn better(candidate: f64, best: f64) -> bool {
    candidate < best - 1e-9 * best.abs().max(1.0)
}

fn tied(candidate: f64, best: f64) -> bool {
    !better(candidate, best) && !better(best, candidate)
}

/// The optimal order by dynamic programming over subsets. Among equally
/// good orders it keeps the written one as far as it can: a unit only
/// moves when that strictly lowers the expected cost.
pub fn solve_exact(problem: &Problem) -> Vec<usize> {
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

// ---------------------------------------------------------------- paths in the image

/// An image path, resolved against the working directory when it is known.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ImagePath {
    Absolute(Vec<String>),
    /// Relative to a working directory inherited from an external base.
    Relative(Vec<String>),
}

fn components(path: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            other => out.push(other.to_owned()),
        }
    }
    Some(out)
}

fn resolve_path(path: &str, workdir: Option<&str>) -> ImagePath {
    let joined;
    let (absolute, text) = if path.starts_with('/') {
        (true, path)
    } else if let Some(workdir) = workdir {
        joined = format!("{workdir}/{path}");
        (true, joined.as_str())
    } else {
        (false, path)
    };
    match (absolute, components(text)) {
        (true, Some(mut parts)) => {
            // usrmerge: /bin, /lib, ... are links into /usr; /var/run into /run.
            if parts.first().is_some_and(|p| {
                matches!(
                    p.as_str(),
                    "bin" | "sbin" | "lib" | "lib32" | "lib64" | "libx32"
                )
            }) {
                parts.insert(0, "usr".to_owned());
            } else if parts.len() >= 2
                && parts[0] == "var"
                && matches!(parts[1].as_str(), "run" | "lock")
            {
                parts.remove(0);
                if parts[0] == "lock" {
                    parts.insert(0, "run".to_owned());
                }
            }
            ImagePath::Absolute(parts)
        }
        (false, Some(parts)) => ImagePath::Relative(parts),
        // Above the root or an unknown directory: anything at all.
        (_, None) => ImagePath::Absolute(Vec::new()),
    }
}

/// Whether two paths can name the same file: one contains the other.
fn overlap(a: &ImagePath, b: &ImagePath) -> bool {
    let prefix = |x: &[String], y: &[String]| x.iter().zip(y).all(|(p, q)| p == q);
    match (a, b) {
        (ImagePath::Absolute(x), ImagePath::Absolute(y))
        | (ImagePath::Relative(x), ImagePath::Relative(y)) => prefix(x, y),
        // A relative path under an unknown working directory could be anywhere.
        _ => true,
    }
}

fn any_overlap(a: &[ImagePath], b: &[ImagePath]) -> bool {
    a.iter().any(|x| b.iter().any(|y| overlap(x, y)))
}

/// Where a copy writes: `dest/name` for a file into a directory, `dest`
/// (and all under it) otherwise. Sources not ending in `/` are files, as
/// the language defines; artifacts and image paths may be directories.
fn copy_writes(sources: &[(&str, bool)], dest: &str, workdir: Option<&str>) -> Vec<ImagePath> {
    let into_directory = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
    sources
        .iter()
        .map(|(source, declared_file)| {
            let file = *declared_file
                && !source.ends_with('/')
                && !cache::is_glob(source)
                && !cache::normalize_context_path(source).is_empty();
            if into_directory && file {
                let name = source
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or(source);
                resolve_path(&format!("{dest}/{name}"), workdir)
            } else {
                resolve_path(dest, workdir)
            }
        })
        .collect()
}

/// `--chown=name` looks the name up in the image's passwd and group files.
fn chown_reads(chown: Option<&Spanned<String>>) -> Vec<ImagePath> {
    let named = chown.is_some_and(|c| {
        c.value
            .split(':')
            .any(|part| !part.chars().all(|ch| ch.is_ascii_digit()))
    });
    if named {
        vec![
            resolve_path("/etc/passwd", None),
            resolve_path("/etc/group", None),
        ]
    } else {
        Vec::new()
    }
}

// ---------------------------------------------------------------- items

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Atom {
    Context(String),
    Image(String),
    Remote(String),
    Arg(String),
}

/// Which args an item stops from moving past it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ArgBarrier {
    None,
    /// Commands that may read any build arg without naming it.
    All,
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    Metadata,
    Arg(String),
    Unit,
    Barrier(ArgBarrier),
}

#[derive(Clone, Debug)]
struct ItemInfo {
    role: Role,
    /// Atom ids whose change rebuilds the item by itself.
    atoms: Vec<usize>,
    cost: f64,
    /// It runs commands, which see every build arg in scope.
    runs: bool,
    /// The text of its commands, for finding the args it names.
    commands: String,
    reads: Vec<ImagePath>,
    writes: Vec<ImagePath>,
    label: String,
}

impl ItemInfo {
    fn names(&self, arg: &str) -> bool {
        names_word(&self.commands, arg)
    }
}

/// Whether `word` appears in `text` as a whole identifier (`$V`, `${V}`, `V=1`, `printenv V`).
fn names_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c == '_' || c.is_ascii_alphanumeric();
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn command_text(command: &CommandDecl) -> String {
    command
        .words
        .iter()
        .map(|w| w.value.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn quoted_plain(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quoted(values: &[Spanned<String>]) -> String {
    values
        .iter()
        .map(|v| format!("\"{}\"", v.value))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------- the optimizer

/// Orders the stages of one spec. Facts about stages (their atoms, their
/// final working directory) are computed once and shared by every stage
/// built on or copying from them.
pub struct Optimizer<'a> {
    spec: &'a Spec,
    options: &'a OrderOptions,
    atoms: Vec<Atom>,
    ids: HashMap<Atom, usize>,
    stage_atoms: Vec<Option<Arc<BTreeSet<usize>>>>,
    workdirs: Vec<Option<Option<String>>>,
    history: Option<HistoryIndex>,
    /// Atom id → row of `history.touched`.
    history_rows: HashMap<usize, usize>,
}

/// The order chosen for one stage: indices into its items.
pub struct Ordering {
    pub items: Vec<usize>,
    /// Per item: for a step, the order of the copies of its inputs
    /// ([`crate::plan::inputs::input_copies`]) when it differs from the written one.
    pub inputs: Vec<Option<Vec<usize>>>,
    pub report: StageReport,
}

impl<'a> Optimizer<'a> {
    pub fn new(spec: &'a Spec, options: &'a OrderOptions) -> Self {
        let mut optimizer = Optimizer {
            spec,
            options,
            atoms: Vec::new(),
            ids: HashMap::new(),
            stage_atoms: vec![None; spec.stages.len()],
            workdirs: vec![None; spec.stages.len()],
            history: None,
            history_rows: HashMap::new(),
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
        let patterns: Vec<String> = patterns.into_iter().collect();
        let index = HistoryIndex::build(history, &patterns);
        for (row, pattern) in patterns.into_iter().enumerate() {
            let id = self.atom(Atom::Context(pattern));
            self.history_rows.insert(id, row);
        }
        self.history = Some(index);
    }

    fn atom(&mut self, atom: Atom) -> usize {
        if let Some(id) = self.ids.get(&atom) {
            return *id;
        }
        let id = self.atoms.len();
        self.atoms.push(atom.clone());
        self.ids.insert(atom, id);
        id
    }

    /// The probability of an atom that is not read off the history.
    fn class_probability(&self, atom: usize) -> f64 {
        self.class(atom).probability()
    }

    fn class(&self, atom: usize) -> Volatility {
        match &self.atoms[atom] {
            Atom::Context(pattern) => classify(pattern),
            Atom::Image(_) | Atom::Remote(_) => Volatility::Toolchain,
            Atom::Arg(_) => Volatility::Config,
        }
    }

    fn commits_touching(&self, atom: usize) -> Option<&[u32]> {
        let row = self.history_rows.get(&atom)?;
        Some(&self.history.as_ref()?.touched[*row])
    }

    /// Everything whose change rebuilds some part of a stage.
    fn stage_atoms(&mut self, id: StageId) -> Arc<BTreeSet<usize>> {
        if let Some(done) = &self.stage_atoms[id.0] {
            return done.clone();
        }
        let spec = self.spec;
        let decl = spec.stage(id);
        let mut set: BTreeSet<usize> = self.base_atoms(id).iter().copied().collect();
        for item in &decl.items {
            set.extend(self.item_atoms(item));
            if let ItemKind::Arg { name, .. } = &item.kind {
                set.insert(self.atom(Atom::Arg(name.value.clone())));
            }
        }
        let set = Arc::new(set);
        self.stage_atoms[id.0] = Some(set.clone());
        set
    }

    fn base_atoms(&mut self, id: StageId) -> Vec<usize> {
        match &self.spec.stage(id).from {
            Some(FromDecl::Image(image)) if image.value == "scratch" => Vec::new(),
            Some(FromDecl::Image(image)) => vec![self.atom(Atom::Image(image.value.clone()))],
            Some(FromDecl::Stage(parent)) => {
                let parent = self.spec.presume_stage(&parent.value);
                self.stage_atoms(parent).iter().copied().collect()
            }
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
        let mut workdir = match &decl.from {
            Some(FromDecl::Stage(parent)) => self.final_workdir(spec.presume_stage(&parent.value)),
            _ => None,
        };
        for item in &decl.items {
            if let ItemKind::Workdir(path) = &item.kind {
                workdir = Some(path.value.clone());
            }
        }
        self.workdirs[id.0] = Some(workdir.clone());
        workdir
    }

    /// What an item reads from outside the stage: context paths, images, stages.
    fn item_atoms(&mut self, item: &Item) -> Vec<usize> {
        let mut out = Vec::new();
        for path in context_paths(item) {
            out.push(self.atom(Atom::Context(cache::normalize_context_path(&path))));
        }
        match &item.kind {
            ItemKind::Copy(copy) => match &copy.source {
                CopySourceDecl::Artifact(reference) => {
                    let (producer, _) = self.spec.presume_artifact(&reference.value);
                    out.extend(self.stage_atoms(producer).iter().copied());
                }
                CopySourceDecl::Image { image, .. } => {
                    out.push(self.atom(Atom::Image(image.value.clone())));
                }
                CopySourceDecl::Context(_) => {}
            },
            ItemKind::Add(add) => {
                for source in &add.sources {
                    if crate::frontend::values::is_url(&source.value) {
                        out.push(self.atom(Atom::Remote(source.value.clone())));
                    }
                }
            }
            ItemKind::Step(step) => {
                for mount in &step.mounts {
                    if let MountKind::Bind {
                        from_stage: Some(stage),
                        ..
                    } = &mount.kind
                    {
                        let stage = self.spec.presume_stage(&stage.value);
                        out.extend(self.stage_atoms(stage).iter().copied());
                    }
                }
            }
            _ => {}
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn describe(
        &mut self,
        item: &Item,
        workdir: Option<&str>,
        duplicate_args: &[String],
    ) -> ItemInfo {
        let atoms = self.item_atoms(item);
        let mut info = ItemInfo {
            role: Role::Barrier(ArgBarrier::None),
            atoms,
            cost: 0.0,
            runs: false,
            commands: String::new(),
            reads: Vec::new(),
            writes: Vec::new(),
            label: String::new(),
        };
        match &item.kind {
            ItemKind::Label { key, .. } => {
                info.role = Role::Metadata;
                info.label = format!("label \"{}\"", key.value);
            }
            ItemKind::Expose(_)
            | ItemKind::Cmd(_)
            | ItemKind::Entrypoint(_)
            | ItemKind::Healthcheck(_)
            | ItemKind::StopSignal(_) => {
                info.role = Role::Metadata;
                info.label = match &item.kind {
                    ItemKind::Expose(_) => "expose",
                    ItemKind::Cmd(_) => "cmd",
                    ItemKind::Entrypoint(_) => "entrypoint",
                    ItemKind::Healthcheck(_) => "healthcheck",
                    _ => "stopsignal",
                }
                .into();
            }
            ItemKind::Arg { name, .. } => {
                info.label = format!("arg `{}`", name.value);
                info.role = if duplicate_args.contains(&name.value) {
                    // Declared twice: each keeps its place.
                    Role::Barrier(ArgBarrier::Name(name.value.clone()))
                } else {
                    Role::Arg(name.value.clone())
                };
            }
            ItemKind::Env { name, .. } => {
                info.label = format!("env `{}`", name.value);
                info.role = Role::Barrier(ArgBarrier::Name(name.value.clone()));
            }
            ItemKind::Workdir(_) => info.label = "workdir".into(),
            ItemKind::User(_) => info.label = "user".into(),
            ItemKind::Shell(_) => info.label = "shell".into(),
            ItemKind::Volume(_) => info.label = "volume".into(),
            ItemKind::Run(run) => {
                info.label = "run".into();
                info.role = Role::Barrier(ArgBarrier::All);
                info.runs = true;
                info.commands = command_text(&run.command);
                info.cost = cache::run_cost(&info.commands);
            }
            ItemKind::Step(step) => {
                info.label = format!("step `{}`", step.name.value);
                info.runs = true;
                info.commands = step
                    .runs
                    .iter()
                    .map(|r| command_text(&r.command))
                    .collect::<Vec<_>>()
                    .join("\n");
                let copies = crate::plan::inputs::input_copies(&step.inputs);
                let run_cost: f64 = match &step.order.cost {
                    Some(cost) => f64::from(cost.value),
                    None => step
                        .runs
                        .iter()
                        .map(|r| cache::run_cost(&command_text(&r.command)))
                        .sum(),
                };
                info.cost = run_cost + copies.len() as f64 * cache::COPY_COST;
                if step.order.writes.is_empty() {
                    info.role = Role::Barrier(ArgBarrier::All);
                } else {
                    info.role = Role::Unit;
                    for copy in &copies {
                        let sources: Vec<(&str, bool)> =
                            copy.paths.iter().map(|p| (p.as_str(), true)).collect();
                        info.writes
                            .extend(copy_writes(&sources, &copy.dest, workdir));
                    }
                    info.writes.extend(
                        step.order
                            .writes
                            .iter()
                            .map(|w| resolve_path(&w.value, workdir)),
                    );
                    info.reads = info.writes.clone();
                    info.reads.extend(
                        step.order
                            .reads
                            .iter()
                            .map(|r| resolve_path(&r.value, workdir)),
                    );
                }
            }
            ItemKind::Copy(copy) => {
                info.role = Role::Unit;
                info.cost = cache::COPY_COST;
                info.reads = chown_reads(copy.chown.as_ref());
                let (label, sources): (String, Vec<(&str, bool)>) = match &copy.source {
                    CopySourceDecl::Context(paths) => (
                        format!("copy {}", quoted(paths)),
                        paths.iter().map(|p| (p.value.as_str(), true)).collect(),
                    ),
                    CopySourceDecl::Artifact(reference) => (
                        format!("copy artifact=\"{}\"", reference.value),
                        vec![(reference.value.as_str(), false)],
                    ),
                    CopySourceDecl::Image { image, paths } => (
                        format!("copy image=\"{}\"", image.value),
                        paths.iter().map(|p| (p.value.as_str(), false)).collect(),
                    ),
                };
                info.label = label;
                info.writes = copy_writes(&sources, &copy.to.value, workdir);
            }
            ItemKind::Add(add) => {
                info.role = Role::Unit;
                info.cost = cache::COPY_COST;
                info.label = format!("add {}", quoted(&add.sources));
                info.reads = chown_reads(add.chown.as_ref());
                // Archives unpack and URLs name their own files: all of `to`.
                info.writes = vec![resolve_path(&add.to.value, workdir)];
            }
        }
        info
    }

    /// Chooses the order of one stage's items.
    pub fn order_stage(&mut self, id: StageId) -> Ordering {
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
        let duplicate_args: Vec<String> = seen
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(name, _)| name.to_owned())
            .collect();
        let mut workdir = match &decl.from {
            Some(FromDecl::Stage(parent)) => self.final_workdir(spec.presume_stage(&parent.value)),
            _ => None,
        };
        let mut infos: Vec<ItemInfo> = Vec::with_capacity(decl.items.len());
        for item in &decl.items {
            if let ItemKind::Workdir(path) = &item.kind {
                workdir = Some(path.value.clone());
            }
            infos.push(self.describe(item, workdir.as_deref(), &duplicate_args));
        }
        let base = self.base_atoms(id);
        // Units see an arg when they name it and come after its declaration.
        let mut arg_atoms: Vec<Vec<usize>> = vec![Vec::new(); infos.len()];
        for (a, info) in infos.iter().enumerate() {
            if let Role::Arg(name) = &info.role {
                let atom = self.atom(Atom::Arg(name.clone()));
                for (u, other) in infos.iter().enumerate().skip(a + 1) {
                    if other.role == Role::Unit && other.names(name) {
                        arg_atoms[u].push(atom);
                    }
                }
            }
        }

        // Segments of units between barriers; metadata and args set aside.
        let mut body: Vec<usize> = Vec::new();
        let mut segment: Vec<usize> = Vec::new();
        let mut prefix: Vec<usize> = base.clone();
        let mut moved_units: Vec<String> = Vec::new();
        for (i, info) in infos.iter().enumerate() {
            match &info.role {
                Role::Metadata | Role::Arg(_) => {}
                Role::Unit => segment.push(i),
                Role::Barrier(_) => {
                    let ordered =
                        self.order_segment(&segment, &infos, &arg_atoms, &prefix, &mut moved_units);
                    for u in &segment {
                        prefix.extend(infos[*u].atoms.iter().chain(&arg_atoms[*u]));
                    }
                    body.extend(ordered);
                    segment.clear();
                    body.push(i);
                    prefix.extend(&info.atoms);
                    // No arg crosses a command that may read it, so those
                    // written before it are in its scope.
                    if info.runs {
                        for other in &infos[..i] {
                            if let Role::Arg(name) = &other.role {
                                prefix.push(self.ids[&Atom::Arg(name.clone())]);
                            }
                        }
                    }
                }
            }
        }
        let ordered = self.order_segment(&segment, &infos, &arg_atoms, &prefix, &mut moved_units);
        body.extend(ordered);

        // Each arg just before its first use, within the span no barrier closes.
        let mut placed: Vec<(usize, usize)> = Vec::new();
        let mut arg_moves: Vec<String> = Vec::new();
        for (a, info) in infos.iter().enumerate() {
            let Role::Arg(name) = &info.role else {
                continue;
            };
            let stops = |i: usize| match &infos[i].role {
                Role::Barrier(ArgBarrier::All) => true,
                Role::Barrier(ArgBarrier::Name(n)) => n == name,
                _ => false,
            };
            let start = body
                .iter()
                .rposition(|i| *i < a && stops(*i))
                .map_or(0, |p| p + 1);
            let end = body
                .iter()
                .position(|i| *i > a && stops(*i))
                .unwrap_or(body.len());
            let first_use = (start..end).find(|p| {
                let i = body[*p];
                i > a && infos[i].role == Role::Unit && infos[i].names(name)
            });
            let at = first_use.unwrap_or(end);
            placed.push((at, a));
            let down = body[..at].iter().any(|i| *i > a);
            let up = body[at..].iter().any(|i| *i < a);
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
        let mut workdir = match &decl.from {
            Some(FromDecl::Stage(parent)) => self.final_workdir(spec.presume_stage(&parent.value)),
            _ => None,
        };
        for (i, item) in decl.items.iter().enumerate() {
            match &item.kind {
                ItemKind::Workdir(path) => workdir = Some(path.value.clone()),
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
                copy_writes(&sources, &c.dest, workdir)
            })
            .collect();
        let preds: Vec<Vec<usize>> = (0..n)
            .map(|j| {
                (0..j)
                    .filter(|i| any_overlap(&writes[*i], &writes[j]))
                    .collect()
            })
            .collect();
        let model = SegmentModel::new(self, base, &atoms);
        let costs = vec![cache::COPY_COST; n];
        let (order, alone) = model.solve(&costs, &preds);
        if order.iter().enumerate().all(|(k, u)| k == *u) {
            return None;
        }
        let listed: Vec<String> = order
            .iter()
            .map(|k| {
                format!(
                    "{} ({})",
                    quoted_plain(&copies[*k].paths),
                    self.volatility(&atoms[*k], alone[*k])
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
        &self,
        units: &[usize],
        infos: &[ItemInfo],
        arg_atoms: &[Vec<usize>],
        prefix: &[usize],
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
        let model = SegmentModel::new(self, prefix, &unit_atoms);
        let costs: Vec<f64> = units.iter().map(|u| infos[*u].cost).collect();
        let (order, alone) = model.solve(&costs, &preds);
        for (pos, &u) in order.iter().enumerate() {
            let passed: Vec<usize> = order[pos + 1..]
                .iter()
                .copied()
                .filter(|v| *v < u)
                .collect();
            if passed.is_empty() {
                continue;
            }
            let unit = &infos[units[u]];
            let others: Vec<String> = passed
                .iter()
                .map(|v| {
                    format!(
                        "{} ({})",
                        infos[units[*v]].label,
                        self.volatility(&unit_atoms[*v], alone[*v])
                    )
                })
                .collect();
            moves.push(format!(
                "moved {} ({}, cost {}) before {}",
                unit.label,
                self.volatility(&unit_atoms[u], alone[u]),
                crate::cache::format_cost(unit.cost),
                others.join(", ")
            ));
        }
        order.into_iter().map(|k| units[k]).collect()
    }

    /// How often a unit's own inputs change (`p`: when nothing before it
    /// did), in words.
    fn volatility(&self, atoms: &[usize], p: f64) -> String {
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

    /// Σ cost × P(rebuild) of the stage's items in `order`.
    fn expected_cost(
        &self,
        base: &[usize],
        infos: &[ItemInfo],
        arg_atoms: &[Vec<usize>],
        order: &[usize],
    ) -> f64 {
        let mut state = ChainState::new(self, base);
        let mut total = 0.0;
        let mut scope: Vec<usize> = Vec::new();
        for &i in order {
            let info = &infos[i];
            state.add(self, &info.atoms);
            state.add(self, &arg_atoms[i]);
            if let Role::Arg(name) = &info.role
                && let Some(id) = self.ids.get(&Atom::Arg(name.clone()))
            {
                scope.push(*id);
            }
            if info.runs {
                state.add(self, &scope);
            }
            total += info.cost * (1.0 - state.stay());
        }
        total
    }
}

/// P(unit `u` changes | nothing before the segment did).
fn changes_alone(stay: &[f64], u: usize) -> f64 {
    if stay[0] <= 0.0 {
        return 1.0;
    }
    1.0 - stay[1 << u] / stay[0]
}

/// The context paths an item reads.
fn context_paths(item: &Item) -> Vec<String> {
    match &item.kind {
        ItemKind::Step(step) => {
            let mut paths: Vec<String> = step.inputs.iter().map(|i| i.path.value.clone()).collect();
            for mount in &step.mounts {
                if let MountKind::Bind {
                    source,
                    from_stage: None,
                    ..
                } = &mount.kind
                {
                    paths.push(source.value.clone());
                }
            }
            paths
        }
        ItemKind::Copy(CopyDecl {
            source: CopySourceDecl::Context(paths),
            ..
        }) => paths.iter().map(|p| p.value.clone()).collect(),
        ItemKind::Add(add) => add
            .sources
            .iter()
            .filter(|s| !crate::frontend::values::is_url(&s.value))
            .map(|s| s.value.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// P(nothing at or before a position changed), walking one order.
struct ChainState {
    atoms: BTreeSet<usize>,
    independent: f64,
    dirty: Vec<bool>,
    dirty_count: usize,
    commits: usize,
}

impl ChainState {
    fn new(optimizer: &Optimizer<'_>, base: &[usize]) -> Self {
        let commits = optimizer.history.as_ref().map_or(0, |h| h.commits);
        let mut state = ChainState {
            atoms: BTreeSet::new(),
            independent: 1.0,
            dirty: vec![false; commits],
            dirty_count: 0,
            commits,
        };
        state.add(optimizer, base);
        state
    }

    fn add(&mut self, optimizer: &Optimizer<'_>, atoms: &[usize]) {
        for &atom in atoms {
            if !self.atoms.insert(atom) {
                continue;
            }
            match optimizer.commits_touching(atom) {
                Some(commits) => {
                    for &c in commits {
                        let seen = std::mem::replace(&mut self.dirty[c as usize], true);
                        if !seen {
                            self.dirty_count += 1;
                        }
                    }
                }
                None => self.independent *= 1.0 - optimizer.class_probability(atom),
            }
        }
    }

    fn stay(&self) -> f64 {
        let clean = if self.commits == 0 {
            1.0
        } else {
            (self.commits - self.dirty_count) as f64 / self.commits as f64
        };
        clean * self.independent
    }
}

/// Probabilities for the sets of units of one segment.
struct SegmentModel {
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
    fn new(optimizer: &Optimizer<'_>, prefix: &[usize], units: &[Vec<usize>]) -> Self {
        let commits = optimizer.history.as_ref().map_or(0, |h| h.commits);
        let mut prefix_dirty = vec![false; commits];
        let mut prefix_independent = 1.0;
        let prefix_set: BTreeSet<usize> = prefix.iter().copied().collect();
        for &atom in &prefix_set {
            match optimizer.commits_touching(atom) {
                Some(touched) => touched
                    .iter()
                    .for_each(|c| prefix_dirty[*c as usize] = true),
                None => prefix_independent *= 1.0 - optimizer.class_probability(atom),
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
                match optimizer.commits_touching(atom) {
                    Some(commits) => touched.extend(
                        commits
                            .iter()
                            .copied()
                            .filter(|c| !prefix_dirty[*c as usize]),
                    ),
                    None => {
                        let next = local.len();
                        let id = *local.entry(atom).or_insert_with(|| {
                            local_q.push(1.0 - optimizer.class_probability(atom));
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
    fn solve(&self, costs: &[f64], preds: &[Vec<usize>]) -> (Vec<usize>, Vec<f64>) {
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
    fn paths_overlap_by_containment() {
        let a = resolve_path("/app/node_modules", None);
        let b = resolve_path("node_modules/.bin", Some("/app"));
        assert!(overlap(&a, &b));
        assert!(!overlap(&a, &resolve_path("/app/dist", None)));
        assert!(overlap(
            &resolve_path("/lib/x", None),
            &resolve_path("/usr/lib/x", None)
        ));
        assert!(overlap(
            &resolve_path("dist", None),
            &resolve_path("/app", None)
        ));
        assert!(overlap(
            &resolve_path("../../..", Some("/a")),
            &resolve_path("/b", None)
        ));
    }

    #[test]
    fn files_into_directories_write_only_themselves() {
        let writes = copy_writes(&[("go.mod", true), ("src/", true)], "./", Some("/src"));
        assert_eq!(
            writes,
            vec![
                ImagePath::Absolute(vec!["src".into(), "go.mod".into()]),
                ImagePath::Absolute(vec!["src".into()]),
            ]
        );
    }

    #[test]
    fn exact_keeps_written_order_on_ties() {
        let problem = Problem {
            costs: vec![1.0, 1.0, 1.0],
            preds: vec![0, 0, 0],
            stay: vec![0.5; 8],
        };
        assert_eq!(solve_exact(&problem), vec![0, 1, 2]);
    }

    #[test]
    fn names_are_whole_words() {
        assert!(names_word("echo $VERSION", "VERSION"));
        assert!(names_word("make VERSION=1", "VERSION"));
        assert!(!names_word("echo $VERSIONS", "VERSION"));
        assert!(!names_word("echo $APP_VERSION", "VERSION"));
    }
}
