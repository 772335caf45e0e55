//! The cache model: which instructions a change rebuilds, and why.
//!
//! A builder keys every instruction on its parent, its own text, the
//! content of what it copies and the build args it can see. That is the
//! chain rule of the classic builder and of buildah's layer cache
//! ([`CacheBuilder::Classic`], [`CacheBuilder::Buildah`]). BuildKit keys an
//! operation on the filesystem it starts from and the config it runs with,
//! not on a chain of images ([`CacheBuilder::BuildKit`], the default): a
//! changed ENV rebuilds the RUNs after it but not a COPY, a changed LABEL
//! rebuilds nothing, and `COPY --link` does not depend on what came before
//! it. Every builder copies from a stage by content: a stage whose files
//! did not change (only its config did) keeps the copies from it cached.
//!
//! Both stowplan's plans ([`from_plan`]) and hand-written Dockerfiles
//! ([`crate::cache::dockerfile::read`]) become one [`CacheGraph`], so both are
//! measured with the same ruler: [`evaluate`] takes a [`Change`] (context
//! paths, build args, base images) and marks every instruction cached or
//! rebuilt with the input that caused it.

use std::collections::BTreeMap;

use crate::base::keywords::CacheBuilder;
use crate::cache::cost::{COPY_COST, run_cost};
use crate::cache::paths::{Ignore, normalize_context_path, source_touches};

/// A build as the cache sees it: stages of instructions, in file order.
#[derive(Clone, Debug, Default)]
pub struct CacheGraph {
    pub stages: Vec<CacheStage>,
    /// `.dockerignore` of the build context: changes it excludes reach no COPY.
    pub ignore: Ignore,
    /// Whose cache rules [`evaluate`] follows.
    pub builder: CacheBuilder,
}

#[derive(Clone, Debug)]
pub struct CacheStage {
    /// The `AS` name, or the stage's index when it has none.
    pub name: String,
    /// An image somebody builds (`--target`), as opposed to a builder stage.
    pub target: bool,
    pub base: CacheBase,
    /// The `FROM` line, as displayed.
    pub from_text: String,
    pub from_line: Option<usize>,
    /// Build args the `FROM` line expands (declared before the first `FROM`).
    pub from_expands: Vec<String>,
    pub instructions: Vec<CacheInstruction>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheBase {
    Scratch,
    Image(String),
    /// An earlier stage, by index.
    Stage(usize),
}

/// What kind of instruction, for costs and for which args it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Run,
    Copy,
    Add,
    Arg,
    Env,
    Workdir,
    User,
    Shell,
    Volume,
    /// Image configuration that no later instruction reads: LABEL, EXPOSE,
    /// CMD, ENTRYPOINT, HEALTHCHECK, STOPSIGNAL, ONBUILD, MAINTAINER.
    Metadata,
}

#[derive(Clone, Debug)]
pub struct CacheInstruction {
    /// The instruction on one line, as displayed.
    pub text: String,
    /// 1-based line in the Dockerfile, when there is one.
    pub line: Option<usize>,
    pub kind: Kind,
    /// Context paths it reads (COPY and ADD sources, bind mounts).
    pub context: Vec<String>,
    /// Earlier stages it reads (`COPY --from`, `RUN --mount=...,from=`), by index.
    pub stages: Vec<usize>,
    /// External images it reads (`COPY --from=image`), and ADD's URLs.
    pub images: Vec<String>,
    /// Build args its text expands (`$NAME`, `${NAME}`).
    pub expands: Vec<String>,
    /// Build args it declares (`ARG NAME[=default]...`).
    pub declares: Vec<String>,
    /// `COPY --link` / `ADD --link`: BuildKit keys it on its sources alone.
    pub link: bool,
    /// `COPY --exclude` patterns: BuildKit copies and checksums a source
    /// without what they match, so a change there rebuilds nothing.
    pub exclude: Vec<String>,
    /// What rebuilding it costs, in seconds of a typical build.
    pub cost: f64,
}

impl CacheInstruction {
    pub fn new(kind: Kind, text: String) -> Self {
        let cost = default_cost(kind, &text);
        CacheInstruction {
            text,
            line: None,
            kind,
            context: Vec::new(),
            stages: Vec::new(),
            images: Vec::new(),
            expands: Vec::new(),
            declares: Vec::new(),
            link: false,
            exclude: Vec::new(),
            cost,
        }
    }
}

/// The default cost of an instruction: a COPY or ADD is priced again by
/// [`crate::cache::copy_cost`] once its sources are known.
pub fn default_cost(kind: Kind, text: &str) -> f64 {
    match kind {
        Kind::Run => run_cost(text),
        Kind::Copy | Kind::Add => COPY_COST,
        // Config changes are instant; WORKDIR makes a directory.
        _ => 0.0,
    }
}

// ---------------------------------------------------------------- changes and outcomes

/// What changed since the last build.
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// Context paths (files or directories), relative to the context.
    pub paths: Vec<String>,
    /// Build args whose value changed.
    pub args: Vec<String>,
    /// Base images that changed (`golang` matches every `golang:*` reference).
    pub images: Vec<String>,
}

/// Why an instruction rebuilds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// A changed context path reaches a source it copies.
    Context { path: String, source: String },
    /// A changed build arg that it sees (a RUN sees every arg in scope) or expands.
    Arg { name: String, expanded: bool },
    /// The stage's base image changed.
    BaseImage(String),
    /// An image it copies from changed.
    Image(String),
    /// A stage it builds on or copies from rebuilt.
    Stage(String),
    /// An earlier instruction of the stage rebuilt (a position in
    /// [`StageOutcome::statuses`]: 0 is the `FROM`).
    After(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Cached,
    Rebuilt(Why),
}

impl Status {
    pub fn rebuilt(&self) -> bool {
        matches!(self, Status::Rebuilt(_))
    }
}

#[derive(Clone, Debug)]
pub struct StageOutcome {
    /// `statuses[0]` is the `FROM`, `statuses[i + 1]` the stage's instruction `i`.
    pub statuses: Vec<Status>,
    /// The first rebuilt position that changed the stage's files (the
    /// `FROM`, a RUN, COPY, ADD or WORKDIR), if any.
    pub files: Option<usize>,
    /// The first rebuilt position that changed the config later RUNs see
    /// (ENV, USER, SHELL, ARG), if any.
    pub config: Option<usize>,
}

impl StageOutcome {
    /// Whether the stage's final state differs from the cached one.
    pub fn rebuilt(&self) -> bool {
        self.statuses.iter().any(Status::rebuilt)
    }

    /// Whether what a copy from the stage reads may differ: builders copy
    /// by content, so only a change of the stage's files counts.
    pub fn files_changed(&self) -> bool {
        self.files.is_some()
    }
}

impl Kind {
    /// Whether the instruction changes the filesystem (an operation in
    /// BuildKit, a layer with content elsewhere).
    fn changes_files(self) -> bool {
        matches!(self, Kind::Run | Kind::Copy | Kind::Add | Kind::Workdir)
    }

    /// Whether it sets config that later RUNs run with.
    fn sets_run_config(self) -> bool {
        matches!(self, Kind::Env | Kind::User | Kind::Shell | Kind::Arg)
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub stages: Vec<StageOutcome>,
}

/// Applies the builder's rules to every stage in order.
pub fn evaluate(graph: &CacheGraph, change: &Change) -> Outcome {
    evaluate_by(graph, change, Rules::Builder(graph.builder))
}

/// The oracle minimum: what a change must rebuild whatever the order of
/// the instructions and whichever builder. A COPY or ADD rebuilds only
/// when what it copies changed (its context paths, or the files of the
/// stage it copies from), as if every copy were `--link`; a RUN when its
/// own inputs changed or anything before it in its stage (or the stage it
/// is built on) changed its files or config, because a command may read
/// any of it; config and metadata only for their own inputs. A rebuilt
/// RUN is taken to change its output (the model does not know its
/// `writes`), so what copies from its stage follows it.
pub fn oracle(graph: &CacheGraph, change: &Change) -> Outcome {
    evaluate_by(graph, change, Rules::Oracle)
}

#[derive(Clone, Copy)]
enum Rules {
    Builder(CacheBuilder),
    Oracle,
}

fn evaluate_by(graph: &CacheGraph, change: &Change, rules: Rules) -> Outcome {
    let paths: Vec<String> = change
        .paths
        .iter()
        .map(|p| normalize_context_path(p))
        .filter(|p| !graph.ignore.excludes(p))
        .collect();
    let mut stages: Vec<StageOutcome> = Vec::with_capacity(graph.stages.len());
    for stage in &graph.stages {
        let from = match &stage.base {
            CacheBase::Image(reference) => change
                .images
                .iter()
                .any(|c| image_matches(reference, c))
                .then(|| Why::BaseImage(reference.clone())),
            CacheBase::Stage(parent) => stages
                .get(*parent)
                .is_some_and(|p| match rules {
                    // A stage built on another inherits its files and config.
                    Rules::Builder(CacheBuilder::BuildKit) | Rules::Oracle => {
                        p.files.is_some() || p.config.is_some()
                    }
                    // Its last image, whatever changed it.
                    Rules::Builder(CacheBuilder::Classic | CacheBuilder::Buildah) => p.rebuilt(),
                })
                .then(|| Why::Stage(graph.stages[*parent].name.clone())),
            CacheBase::Scratch => None,
        }
        .or_else(|| {
            stage
                .from_expands
                .iter()
                .find(|a| change.args.contains(a))
                .map(|a| Why::Arg {
                    name: a.clone(),
                    expanded: true,
                })
        });
        let mut statuses = Vec::with_capacity(stage.instructions.len() + 1);
        // The first rebuilt position, and (for BuildKit) the first that
        // changed the files and the first that changed the RUN config.
        let mut first = from.is_some().then_some(0);
        let mut files = first;
        let mut config = match (&stage.base, rules) {
            (CacheBase::Stage(parent), Rules::Builder(CacheBuilder::BuildKit) | Rules::Oracle) => {
                stages.get(*parent).and_then(|p| p.config).map(|_| 0)
            }
            _ => None,
        };
        statuses.push(from.map_or(Status::Cached, Status::Rebuilt));
        let mut scope: Vec<&str> = Vec::new();
        for (i, instruction) in stage.instructions.iter().enumerate() {
            let own = own_reason(graph, &stages, instruction, &scope, &paths, change);
            scope.extend(instruction.declares.iter().map(String::as_str));
            let kind = instruction.kind;
            let follows = match rules {
                Rules::Builder(CacheBuilder::Classic | CacheBuilder::Buildah) => first,
                Rules::Oracle => match kind {
                    Kind::Run => earliest(files, config),
                    _ => None,
                },
                Rules::Builder(CacheBuilder::BuildKit) if instruction.link => None,
                Rules::Builder(CacheBuilder::BuildKit) => match kind {
                    Kind::Run => earliest(files, config),
                    _ if kind.changes_files() => files,
                    // Config and metadata hold values, not results: only
                    // their own reasons change them.
                    _ => None,
                },
            };
            let status = match (own, follows) {
                (Some(why), _) => Status::Rebuilt(why),
                (None, Some(k)) => Status::Rebuilt(Why::After(k)),
                (None, None) => Status::Cached,
            };
            if status.rebuilt() {
                let at = Some(i + 1);
                first = first.or(at);
                if kind.changes_files() {
                    files = files.or(at);
                } else if kind.sets_run_config() {
                    config = config.or(at);
                }
            }
            statuses.push(status);
        }
        stages.push(StageOutcome {
            statuses,
            files,
            config,
        });
    }
    Outcome { stages }
}

fn earliest(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A reason of the instruction's own, regardless of what came before it.
fn own_reason(
    graph: &CacheGraph,
    done: &[StageOutcome],
    instruction: &CacheInstruction,
    scope: &[&str],
    paths: &[String],
    change: &Change,
) -> Option<Why> {
    // buildah 1.28 keys a RUN on its parent and its text alone: what its
    // bind mounts hold (context files, a stage, an image) never rebuilds
    // it (benchmarks/replay.sh measured it; spec/cache.md).
    if graph.builder == CacheBuilder::Buildah && instruction.kind == Kind::Run {
        return args_reason(instruction, scope, change);
    }
    for source in &instruction.context {
        if let Some(path) = paths
            .iter()
            .find(|p| source_touches(source, p) && !excluded(&instruction.exclude, source, p))
        {
            return Some(Why::Context {
                path: path.clone(),
                source: source.clone(),
            });
        }
    }
    for producer in &instruction.stages {
        if done.get(*producer).is_some_and(StageOutcome::files_changed) {
            return Some(Why::Stage(graph.stages[*producer].name.clone()));
        }
    }
    for image in &instruction.images {
        if change.images.iter().any(|c| image_matches(image, c)) {
            return Some(Why::Image(image.clone()));
        }
    }
    args_reason(instruction, scope, change)
}

/// A changed build arg it expands, or, for a RUN, any in scope.
fn args_reason(instruction: &CacheInstruction, scope: &[&str], change: &Change) -> Option<Why> {
    for name in &change.args {
        if !scope.contains(&name.as_str()) {
            continue;
        }
        if instruction.expands.contains(name) {
            return Some(Why::Arg {
                name: name.clone(),
                expanded: true,
            });
        }
        if instruction.kind == Kind::Run {
            return Some(Why::Arg {
                name: name.clone(),
                expanded: false,
            });
        }
    }
    None
}

/// Whether `--exclude` patterns leave `changed` out of a copy of `source`.
/// BuildKit matches them against paths relative to the copied directory,
/// `.dockerignore`-style (`**` spans directories, a matched directory
/// takes its content). Only a path below a directory source is ever left
/// out: a changed directory above it, or a file source itself, is read.
pub(crate) fn excluded(patterns: &[String], source: &str, changed: &str) -> bool {
    if patterns.is_empty() {
        return false;
    }
    let source = normalize_context_path(source);
    let changed = normalize_context_path(changed);
    let depth = if source.is_empty() {
        0
    } else {
        source.split('/').count()
    };
    let parts: Vec<&str> = changed.split('/').skip(depth).collect();
    if parts.is_empty() || changed.is_empty() {
        return false;
    }
    Ignore::parse(&patterns.join("\n")).excludes(&parts.join("/"))
}

impl CacheGraph {
    /// The stages a target needs (itself, its bases, what it copies or
    /// mounts from), in file order.
    pub fn needed(&self, targets: &[usize]) -> Vec<usize> {
        let mut needed = vec![false; self.stages.len()];
        let mut stack: Vec<usize> = targets.to_vec();
        while let Some(s) = stack.pop() {
            if std::mem::replace(&mut needed[s], true) {
                continue;
            }
            let stage = &self.stages[s];
            if let CacheBase::Stage(parent) = stage.base {
                stack.push(parent);
            }
            for instruction in &stage.instructions {
                stack.extend(instruction.stages.iter().copied());
            }
        }
        (0..self.stages.len()).filter(|s| needed[*s]).collect()
    }

    /// Every target, in file order.
    pub fn targets(&self) -> Vec<usize> {
        (0..self.stages.len())
            .filter(|s| self.stages[*s].target)
            .collect()
    }

    /// The cost of building `stages` from scratch.
    pub fn full_cost(&self, stages: &[usize]) -> f64 {
        stages
            .iter()
            .flat_map(|s| &self.stages[*s].instructions)
            .map(|i| i.cost)
            .sum()
    }

    /// The cost of what `outcome` rebuilds among `stages`.
    pub fn rebuilt_cost(&self, outcome: &Outcome, stages: &[usize]) -> f64 {
        stages
            .iter()
            .flat_map(|s| {
                self.stages[*s]
                    .instructions
                    .iter()
                    .zip(&outcome.stages[*s].statuses[1..])
            })
            .filter(|(_, status)| status.rebuilt())
            .map(|(i, _)| i.cost)
            .sum()
    }
}

// ---------------------------------------------------------------- from a plan

/// Costs a spec sets for the instructions its steps lower to, by the span
/// offset of the step (an instruction's `origin`).
pub type CostOverrides = BTreeMap<usize, f64>;

/// Costs print as whole numbers unless a spec set a fraction.
pub fn format_cost(value: f64) -> String {
    // `+ 0.0` turns a negative zero into zero.
    let value = value + 0.0;
    if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// `golang:1.22` matches `golang:1.22` and, given without a tag, `golang`.
pub fn image_matches(reference: &str, changed: &str) -> bool {
    reference == changed || (repository(changed) == changed && repository(reference) == changed)
}

/// An image reference without its tag and digest.
pub fn repository(reference: &str) -> &str {
    let name = reference.split('@').next().unwrap_or(reference);
    match name.rfind(':') {
        Some(colon) if colon > name.rfind('/').unwrap_or(0) => &name[..colon],
        _ => name,
    }
}

/// The build args a Dockerfile text expands: `$NAME` and `${NAME...}`,
/// unless escaped with `\` or inside single quotes.
pub fn expansions(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    let mut single = false;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '\'' => {
                single = !single;
                i += 1;
            }
            '$' if !single => {
                let braced = chars.get(i + 1) == Some(&'{');
                let start = if braced { i + 2 } else { i + 1 };
                let mut end = start;
                while end < chars.len()
                    && (chars[end] == '_' || chars[end].is_ascii_alphanumeric())
                    && !(end == start && chars[end].is_ascii_digit())
                {
                    end += 1;
                }
                if end > start {
                    let name: String = chars[start..end].iter().collect();
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::paths::*;

    #[test]
    fn sources_match_like_buildkit() {
        assert!(source_touches(".", "anything/at/all"));
        assert!(source_touches("src/", "src/a/b.ts"));
        assert!(source_touches("./src", "src/a/b.ts"));
        assert!(!source_touches("src/", "srcx/a.ts"));
        assert!(source_touches("go.mod", "go.mod"));
        assert!(!source_touches("go.mod", "go.sum"));
        assert!(source_touches("package*.json", "package-lock.json"));
        assert!(!source_touches("*.json", "src/a.json"));
        assert!(source_touches("*.go", "app.go"));
        // A changed directory may hold what the source names.
        assert!(source_touches("src/app.ts", "src"));
        assert!(source_touches("[a-c]*.txt", "b1.txt"));
        assert!(!source_touches("[!a-c]*.txt", "b1.txt"));
    }

    /// The recursive matchers wildcard_match replaced: every split for
    /// every star. Exponential, but the reference on small inputs.
    fn slow_component(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| slow_component(&p[1..], &n[k..])),
            Some(_) => {
                !n.is_empty()
                    && one_char(p, n[0]).is_some_and(|taken| slow_component(&p[taken..], &n[1..]))
            }
        }
    }

    fn slow_path(pattern: &[String], path: &[&str]) -> bool {
        match pattern.first() {
            None => path.is_empty(),
            Some(p) if p == "**" => (0..=path.len()).any(|k| slow_path(&pattern[1..], &path[k..])),
            Some(p) => {
                !path.is_empty()
                    && match_component(p, path[0])
                    && slow_path(&pattern[1..], &path[1..])
            }
        }
    }

    /// Every string of up to `max` items over `alphabet`.
    fn all_strings<T: Clone>(alphabet: &[T], max: usize) -> Vec<Vec<T>> {
        let mut all = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s| {
                    alphabet.iter().map(move |a| {
                        let mut s: Vec<T> = s.clone();
                        s.push(a.clone());
                        s
                    })
                })
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn wildcards_match_as_every_split_would() {
        let names = all_strings(&['a', 'b', '[', ']'], 4);
        for pattern in all_strings(&['a', '*', '?', '[', ']', '\\', '!'], 4) {
            for name in &names {
                let text: String = pattern.iter().collect();
                let name_text: String = name.iter().collect();
                assert_eq!(
                    match_component(&text, &name_text),
                    slow_component(&pattern, name),
                    "{text:?} on {name_text:?}"
                );
            }
        }
        let paths = all_strings(&["a", "b"], 4);
        let components = [
            "**".to_owned(),
            "a".to_owned(),
            "*".to_owned(),
            "b".to_owned(),
        ];
        for pattern in all_strings(&components, 4) {
            for path in &paths {
                assert_eq!(
                    match_path(&pattern, path),
                    slow_path(&pattern, path),
                    "{pattern:?} on {path:?}"
                );
            }
        }
    }

    /// Found by fuzzing: stars that cannot match took exponential time
    /// (`explain --dockerfile` with such a `.dockerignore` line, or a
    /// spec input `p****…*x`, which the optimizer classifies).
    #[test]
    fn many_stars_match_in_polynomial_time() {
        let stars = format!("a{}b", "*".repeat(200));
        let name = "a".repeat(200);
        assert!(!match_component(&stars, &name));
        assert!(match_component(&stars, &format!("{name}b")));
        let ignore = Ignore::parse(&format!("{stars}\n{}x\n", "**/".repeat(100)));
        assert!(!ignore.excludes(&format!("{name}/{}", "a/".repeat(100))));
        assert!(ignore.excludes(&format!("{}x", "a/".repeat(100))));
        assert!(!source_touches(&stars, &name));
    }

    #[test]
    fn dockerignore_last_match_wins() {
        let ignore = Ignore::parse("# comment\n*.md\n**/*.log\nnode_modules\n!README.md\n");
        assert!(ignore.excludes("CHANGELOG.md"));
        assert!(!ignore.excludes("README.md"));
        assert!(!ignore.excludes("docs/x.md"));
        assert!(ignore.excludes("a/b/c.log"));
        assert!(ignore.excludes("node_modules/x/index.js"));
        assert!(!ignore.excludes("src/app.ts"));
    }

    /// A build from `web/` reads `web/.dockerignore`, whose lines speak
    /// of paths inside `web/` only.
    #[test]
    fn a_dockerignore_in_a_folder_judges_paths_inside_it() {
        let ignore = Ignore::parse("src/\n*.md\n").within("./web/");
        assert!(ignore.excludes("web/src/main.js"));
        assert!(ignore.excludes("web/README.md"));
        assert!(!ignore.excludes("web/package.json"));
        assert!(!ignore.excludes("src/main.js"));
        assert!(!ignore.excludes("web"));
        assert!(!ignore.excludes("webby/src/x"));
    }

    #[test]
    fn expansions_skip_escapes_and_single_quotes() {
        assert_eq!(expansions("a $A ${B:-x} \\$C '$D' $1"), vec!["A", "B"]);
    }

    #[test]
    fn images_match_by_repository() {
        assert!(image_matches("golang:1.22", "golang"));
        assert!(image_matches("golang:1.22", "golang:1.22"));
        assert!(!image_matches("golang:1.22", "golang:1.23"));
        assert!(image_matches("localhost:5000/app:1", "localhost:5000/app"));
        assert_eq!(repository("a/b@sha256:00"), "a/b");
    }
}
