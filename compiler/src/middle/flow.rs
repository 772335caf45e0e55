//! The artifact flow graph and the rules checked on it.
//!
//! Nodes are context inputs, stages, artifacts and images; edges run from
//! producer to consumer. The rules here need the whole resolved spec: an
//! artifact nobody uses, a stage no image needs, two copies onto one path,
//! an artifact carried across incompatible bases, a secret on its way into
//! a layer, an image that runs nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::frontend::ast::*;
use crate::middle::bases::{self, Libc};
use crate::middle::resolve::{ArtifactRef, BaseRef, BindRef, ImageRef, Spec, StageId};
use crate::middle::secrets;
use crate::middle::select::{Selection, needed_stages};

/// What a node of the flow graph stands for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Node {
    Input(String),
    Stage(String),
    Image(String),
    Artifact(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Edge {
    /// A stage reads a context input.
    Reads,
    /// A stage is built on another.
    BuiltOn,
    /// A stage produces an artifact.
    Produces,
    /// An artifact is copied into a stage.
    CopiedInto,
    /// A stage's filesystem is bind-mounted into another's step.
    MountedInto,
}

/// The flow graph of a resolved spec.
pub struct FlowGraph {
    pub graph: DiGraph<Node, Edge>,
}

impl FlowGraph {
    pub fn build(spec: &Spec) -> FlowGraph {
        let mut graph = DiGraph::new();
        let stage_nodes: Vec<NodeIndex> = spec
            .stages
            .iter()
            .map(|s| {
                graph.add_node(match s.kind {
                    StageKind::Stage => Node::Stage(s.name.value.clone()),
                    StageKind::Image => Node::Image(s.name.value.clone()),
                })
            })
            .collect();
        let mut inputs: BTreeMap<String, NodeIndex> = BTreeMap::new();
        let mut artifacts: BTreeMap<ArtifactRef, NodeIndex> = BTreeMap::new();
        for (i, stage) in spec.stages.iter().enumerate() {
            for (index, artifact) in stage.artifacts.iter().enumerate() {
                let name = format!("{}.{}", stage.name.value, artifact.name.value);
                let node = graph.add_node(Node::Artifact(name));
                graph.add_edge(stage_nodes[i], node, Edge::Produces);
                let stage = StageId(i);
                artifacts.insert(ArtifactRef { stage, index }, node);
            }
        }
        for (i, stage) in spec.stages.iter().enumerate() {
            let id = StageId(i);
            let me = stage_nodes[i];
            if let Some(base) = spec.parent(id) {
                graph.add_edge(stage_nodes[base.0], me, Edge::BuiltOn);
            }
            let mut read = |graph: &mut DiGraph<Node, Edge>, path: &str| {
                let node = *inputs
                    .entry(path.to_owned())
                    .or_insert_with(|| graph.add_node(Node::Input(path.to_owned())));
                if graph.find_edge(node, me).is_none() {
                    graph.add_edge(node, me, Edge::Reads);
                }
            };
            for (n, item) in stage.items.iter().enumerate() {
                match &item.kind {
                    ItemKind::Copy(copy) => match &copy.source {
                        CopySourceDecl::Context(paths) => {
                            paths.iter().for_each(|p| read(&mut graph, &p.value))
                        }
                        CopySourceDecl::Artifact(_) => {
                            let artifact = spec.presume_copied_artifact(id, n);
                            graph.add_edge(artifacts[&artifact], me, Edge::CopiedInto);
                        }
                        CopySourceDecl::Image { .. } => {}
                    },
                    ItemKind::Add(add) => add
                        .sources
                        .iter()
                        .filter(|s| !crate::frontend::values::is_url(&s.value))
                        .for_each(|s| read(&mut graph, &s.value)),
                    ItemKind::Step(step) => {
                        step.inputs
                            .iter()
                            .for_each(|i| read(&mut graph, &i.path.value));
                        let refs = spec.item_refs(id, n);
                        for (m, mount) in step.mounts.iter().enumerate() {
                            match (&mount.kind, refs.mount_ref(m)) {
                                (_, Some(BindRef::Stage(from))) => {
                                    graph.add_edge(stage_nodes[from.0], me, Edge::MountedInto);
                                }
                                (_, Some(BindRef::Artifact(artifact))) => {
                                    graph.add_edge(artifacts[&artifact], me, Edge::MountedInto);
                                }
                                (
                                    MountKind::Bind {
                                        source: BindSource::Context(path),
                                        ..
                                    },
                                    None,
                                ) => read(&mut graph, &path.value),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        FlowGraph { graph }
    }
}

/// Where `check` may look for the files a spec reads.
#[derive(Clone, Debug, Default)]
pub struct FlowOptions<'a> {
    pub context: Option<&'a Path>,
}

/// Checks every flow rule; returns errors and warnings together.
pub fn validate(spec: &Spec, options: &FlowOptions<'_>) -> Diagnostics {
    let mut d = Diagnostics::default();
    let chains = Chains::new(spec);
    unused(spec, &mut d);
    for id in spec.images() {
        same_destination(spec, id, &mut d);
        no_command(spec, &chains, id, &mut d);
    }
    secrets::global_secrets(&spec.args, &mut d);
    for (i, stage) in spec.stages.iter().enumerate() {
        carried_across_bases(spec, &chains, StageId(i), stage, &mut d);
        secrets::secrets(stage, &mut d);
        mounted_artifacts(stage, &mut d);
    }
    if let Some(context) = options.context {
        contexts_inside(spec, context, &mut d);
        no_match(spec, context, &mut d);
        ignored(spec, context, &mut d);
        secrets::context_leaks(spec, context, &mut d);
    }
    d
}

fn unused(spec: &Spec, d: &mut Diagnostics) {
    let needed: BTreeSet<StageId> = needed_stages(spec, &Selection::All).into_iter().collect();
    let mut consumed: BTreeSet<ArtifactRef> = BTreeSet::new();
    for (i, stage) in spec.stages.iter().enumerate() {
        for n in 0..stage.items.len() {
            consumed.extend(spec.item_refs(StageId(i), n).artifacts());
        }
    }
    for (i, stage) in spec.stages.iter().enumerate() {
        if !needed.contains(&StageId(i)) {
            d.push(
                Diagnostic::warning(
                    Code::UnusedStage,
                    format!("no image needs stage `{}`", stage.name.value),
                )
                .primary(stage.name.span, "never built: left out of the output")
                .help(
                    "copy one of its artifacts into an image, build an image on it, or remove it",
                ),
            );
            continue;
        }
        for (index, artifact) in stage.artifacts.iter().enumerate() {
            let id = StageId(i);
            if !consumed.contains(&ArtifactRef { stage: id, index }) {
                let name = format!("{}.{}", stage.name.value, artifact.name.value);
                d.push(
                    Diagnostic::warning(
                        Code::UnusedArtifact,
                        format!("nothing uses artifact `{name}`"),
                    )
                    .primary(artifact.name.span, "produced, never copied")
                    .help(format!(
                        "copy it with `copy artifact=\"{name}\" to=\"...\"`, or remove it"
                    )),
                );
            }
        }
    }
}

pub(crate) use crate::frontend::values::absolute;

fn same_destination(spec: &Spec, id: StageId, d: &mut Diagnostics) {
    let stage = spec.stage(id);
    let mut workdir = "/".to_owned();
    let mut seen: BTreeMap<String, &Spanned<Word>> = BTreeMap::new();
    for item in &stage.items {
        match &item.kind {
            // Where a build argument points is known only at build time.
            ItemKind::Workdir(w) => workdir = absolute(&workdir, &w.value.sketch()),
            ItemKind::Copy(CopyDecl { to: Some(to), .. })
                if !to.value.has_args() && !to.value.sketch().ends_with('/') =>
            {
                let target = absolute(&workdir, &to.value.sketch());
                if let Some(first) = seen.get(&target) {
                    d.push(
                        Diagnostic::error(
                            Code::SameDestination,
                            format!("two copies write `{target}` in image `{}`", stage.name.value),
                        )
                        .primary(to.span, "written again here")
                        .secondary(first.span, "first written here")
                        .help("the second copy silently replaces the first; copy to different paths, or into a directory (end `to` with `/`)"),
                    );
                } else {
                    seen.insert(target, to);
                }
            }
            _ => {}
        }
    }
}

/// What each stage inherits through its `from stage=` chain, computed once
/// in build order so that every rule stays linear in the spec's size.
struct Chains<'a> {
    /// The image reference each stage finally builds on.
    root: Vec<Option<&'a ImageRef>>,
    /// Whether the stage or one it builds on sets `entrypoint` or `cmd`.
    has_command: Vec<bool>,
}

impl<'a> Chains<'a> {
    fn new(spec: &'a Spec) -> Self {
        let n = spec.stages.len();
        let mut root = vec![None; n];
        let mut has_command = vec![false; n];
        for id in &spec.order {
            let stage = spec.stage(*id);
            let own = stage
                .items
                .iter()
                .any(|i| matches!(i.kind, ItemKind::Cmd(_) | ItemKind::Entrypoint(_)));
            match spec.base(*id) {
                Some(BaseRef::Image(image)) => {
                    root[id.0] = Some(image);
                    has_command[id.0] = own;
                }
                Some(BaseRef::Stage(parent)) => {
                    let parent = *parent;
                    root[id.0] = root[parent.0];
                    has_command[id.0] = own || has_command[parent.0];
                }
                None => has_command[id.0] = own,
            }
        }
        Chains { root, has_command }
    }
}

fn no_command(spec: &Spec, chains: &Chains<'_>, id: StageId, d: &mut Diagnostics) {
    if !chains.has_command[id.0] {
        let stage = spec.stage(id);
        d.push(
            Diagnostic::warning(
                Code::NoCommand,
                format!("image `{}` sets neither `entrypoint` nor `cmd`", stage.name.value),
            )
            .primary(stage.name.span, "runs whatever its base image runs")
            .help("say what the image runs with `entrypoint` or `cmd`, even when the base image already does"),
        );
    }
}

/// What we know of a base image from its name: its C library (the
/// `bases` table) and, for `python`, its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Family {
    pub(crate) libc: Option<Libc>,
    pub(crate) python: Option<(u32, u32)>,
}

pub(crate) fn family(image: &ImageRef) -> Family {
    let libc = bases::known(image).libc;
    let (tag, repo) = (image.tag_or_latest(), image.repo());
    let python = if repo == "python" {
        let mut parts = tag.split(['.', '-']);
        match (
            parts.next().and_then(|p| p.parse().ok()),
            parts.next().and_then(|p| p.parse().ok()),
        ) {
            (Some(major), Some(minor)) => Some((major, minor)),
            _ => None,
        }
    } else {
        None
    };
    Family { libc, python }
}

/// Paths that hold code linked against the C library (native extensions,
/// interpreters' package trees, binaries).
fn looks_native(path: &str) -> bool {
    [
        "site-packages",
        "dist-packages",
        "/venv",
        "/.venv",
        "/.local",
        "node_modules",
        "/lib/",
        "/lib64/",
        "/bin/",
        "/sbin/",
    ]
    .iter()
    .any(|p| path.contains(p))
        || path.ends_with("/bin")
        || path.ends_with("/lib")
}

fn carried_across_bases(
    spec: &Spec,
    chains: &Chains<'_>,
    consumer: StageId,
    stage: &StageDecl,
    d: &mut Diagnostics,
) {
    let Some(consumer_image) = chains.root[consumer.0] else {
        return;
    };
    let to = family(consumer_image);
    for (n, item) in stage.items.iter().enumerate() {
        let ItemKind::Copy(CopyDecl {
            source: CopySourceDecl::Artifact(reference),
            ..
        }) = &item.kind
        else {
            continue;
        };
        let copied = spec.presume_copied_artifact(consumer, n);
        let (producer, artifact) = (copied.stage, spec.artifact(copied));
        let is_static = artifact.is_static.as_ref().is_some_and(|s| s.value);
        let Some(producer_image) = chains.root[producer.0] else {
            continue;
        };
        let from = family(producer_image);
        let path = &artifact.path.value;
        let installed = crate::middle::packages::holds_packages(spec, producer, path);
        match (from.libc, to.libc) {
            // Static artifacts link nothing; the Python check below still applies.
            _ if is_static => {}
            (Some(Libc::Glibc), Some(Libc::Musl)) | (Some(Libc::Musl), Some(Libc::Glibc))
                if looks_native(path) || installed.is_some() =>
            {
                let mut diagnostic = Diagnostic::error(
                        Code::LibcMismatch,
                        format!(
                            "`{}` is built against {} but copied into a {} image",
                            reference.value,
                            from.libc.unwrap().name(),
                            to.libc.unwrap().name()
                        ),
                    )
                    .primary(reference.span, "copied across C libraries")
                    .secondary(producer_image.written.span, format!("built on {}", from.libc.unwrap().name()))
                    .secondary(consumer_image.written.span, format!("runs on {}", to.libc.unwrap().name()))
                    .help("build and run on the same family (both -slim/Debian, or both -alpine), or declare the artifact static=#true if it links nothing");
                // A folder that names no package tree: say what put one in it.
                if let (false, Some(span)) = (looks_native(path), installed) {
                    diagnostic = diagnostic.secondary(span, "installs packages into the folder");
                }
                d.push(diagnostic);
            }
            (Some(Libc::Glibc | Libc::Musl), Some(Libc::Nothing)) => {
                d.push(
                    Diagnostic::error(
                        Code::DynamicIntoStatic,
                        format!("`{}` may need a C library that `{}` does not have", reference.value, consumer_image.written.value),
                    )
                    .primary(reference.span, "not declared static")
                    .secondary(consumer_image.written.span, "no C library here")
                    .help(format!(
                        "link it statically (for Go: CGO_ENABLED=0) and declare `artifact \"{}\" \"{}\" static=#true`; plain data files are static too",
                        artifact.name.value, artifact.path.value
                    )),
                );
            }
            _ => {}
        }
        if let (Some(a), Some(b)) = (from.python, to.python)
            && a != b
            && (path.contains("python")
                || path.contains("venv")
                || path.contains("site-packages")
                || path.contains(".local"))
        {
            d.push(
                Diagnostic::error(
                    Code::RuntimeMismatch,
                    format!(
                        "`{}` holds Python {}.{} packages but the image runs Python {}.{}",
                        reference.value, a.0, a.1, b.0, b.1
                    ),
                )
                .primary(reference.span, "copied across Python versions")
                .secondary(
                    producer_image.written.span,
                    format!("Python {}.{}", a.0, a.1),
                )
                .secondary(
                    consumer_image.written.span,
                    format!("Python {}.{}", b.0, b.1),
                )
                .help("use the same Python version in the builder and the runtime"),
            );
        }
    }
}

/// Whether `path` is `dir` or below it, component by component.
fn is_below(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty() || path == dir || path.starts_with(&format!("{dir}/"))
}

/// The first cache, tmpfs or bind mount of a step whose target holds `path`.
fn hiding_mount<'a>(step: &'a StepDecl, path: &str) -> Option<(&'a Spanned<String>, &'static str)> {
    step.mounts.iter().find_map(|m| {
        let (target, kind) = match &m.kind {
            MountKind::Cache { target, .. } => (target, "cache"),
            MountKind::Tmpfs { target, .. } => (target, "tmpfs"),
            MountKind::Bind { target, .. } => (target, "bind"),
            _ => return None,
        };
        is_below(path, &absolute("/", &target.value)).then_some((target, kind))
    })
}

/// An artifact below a cache, tmpfs or bind mount target of the step that
/// makes it is empty in the image: what the step writes there goes to the
/// mount. The steps that make it are those whose `writes` cover its path;
/// when no step declares that, every step that runs something and declares
/// no `writes`, and then it is an error only when all of them hide the path.
fn mounted_artifacts(stage: &StageDecl, d: &mut Diagnostics) {
    let mut workdir = "/".to_owned();
    // Each step with the paths it declares writing, made absolute.
    let mut steps: Vec<(&StepDecl, Vec<String>)> = Vec::new();
    for item in &stage.items {
        match &item.kind {
            ItemKind::Workdir(w) => workdir = absolute(&workdir, &w.value.sketch()),
            ItemKind::Step(step) if !step.runs.is_empty() => {
                let writes = step
                    .order
                    .writes
                    .iter()
                    .map(|w| absolute(&workdir, &w.value))
                    .collect();
                steps.push((step, writes));
            }
            _ => {}
        }
    }
    for artifact in &stage.artifacts {
        let path = absolute("/", &artifact.path.value);
        let declared: Vec<&StepDecl> = steps
            .iter()
            .filter(|(_, writes)| {
                writes
                    .iter()
                    .any(|w| is_below(&path, w) || is_below(w, &path))
            })
            .map(|(step, _)| *step)
            .collect();
        let hidden = if declared.is_empty() {
            // A step that declares `writes` changes nothing else.
            let all: Vec<_> = steps
                .iter()
                .filter(|(_, writes)| writes.is_empty())
                .map(|(s, _)| (*s, hiding_mount(s, &path)))
                .collect();
            if all.iter().all(|(_, m)| m.is_some()) {
                all.first().copied()
            } else {
                None
            }
        } else {
            declared
                .iter()
                .map(|s| (*s, hiding_mount(s, &path)))
                .find(|(_, m)| m.is_some())
        };
        let Some((step, Some((target, kind)))) = hidden else {
            continue;
        };
        d.push(
            Diagnostic::error(
                Code::MountedArtifact,
                format!(
                    "artifact `{}.{}` is below a {kind} mount of step `{}`: what the step writes there is not in the image",
                    stage.name.value, artifact.name.value, step.name.value
                ),
            )
            .primary(artifact.path.span, "nothing the step writes here reaches the image")
            .secondary(target.span, format!("{kind} mount target"))
            .help(format!(
                "write the artifact outside `{}` (or copy it out in the same step, e.g. `cp -r {} /out/`) and declare that path",
                target.value, artifact.path.value
            )),
        );
    }
}

fn has_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// A stage's `context` is a folder inside the spec's: a symlink that leads
/// out of it is refused, as `..` is by the decoder, since the builder would
/// send what it points to.
/// `flow::ignored` for every build the spec declares, each against the
/// `.dockerignore` of the folder it builds from (one that a symlink takes
/// out of the spec's folder is not read: `outside-context` says so).
fn ignored(spec: &Spec, context: &Path, d: &mut Diagnostics) {
    let Ok(root) = context.canonicalize() else {
        return;
    };
    // Builds from one folder read one file: each stage once.
    let mut by_folder: BTreeMap<String, Vec<StageId>> = BTreeMap::new();
    for (folder, stages) in crate::middle::contexts::builds(spec) {
        let all = by_folder.entry(folder).or_default();
        for id in stages {
            if !all.contains(&id) {
                all.push(id);
            }
        }
    }
    for (folder, stages) in by_folder {
        let name = crate::middle::ignored::dockerignore_path(&folder);
        let Some(text) = read_inside(&root, &name) else {
            continue;
        };
        let file = crate::middle::ignored::IgnoreFile::parse(&text);
        crate::middle::ignored::check_build(spec, &folder, &stages, &file, &name, d);
    }
}

/// The text of `relative` under the folder `root` (canonical), unless it
/// is missing or resolves, through a symlink, outside `root`.
pub(crate) fn read_inside(root: &Path, relative: &str) -> Option<String> {
    let real = root.join(relative).canonicalize().ok()?;
    real.starts_with(root)
        .then(|| std::fs::read_to_string(real).ok())
        .flatten()
}

fn contexts_inside(spec: &Spec, context: &Path, d: &mut Diagnostics) {
    let Ok(root) = context.canonicalize() else {
        return;
    };
    for stage in &spec.stages {
        let Some(dir) = stage.context.as_ref().filter(|c| c.value != ".") else {
            continue;
        };
        match context.join(&dir.value).canonicalize() {
            Ok(real) if !real.starts_with(&root) => d.push(
                Diagnostic::error(
                    Code::OutsideContext,
                    format!("the context `{}` leads out of the spec's folder", dir.value),
                )
                .primary(dir.span, "a symlink to a folder outside")
                .help("a context is a folder inside the spec's folder; move the files in, or put the spec higher up"),
            ),
            Ok(real) if real.is_dir() => {}
            _ => d.push(
                Diagnostic::warning(
                    Code::NoMatch,
                    format!("the context `{}` is not a folder", dir.value),
                )
                .primary(dir.span, "no such folder")
                .help("check the spelling: a context is a folder relative to the spec's"),
            ),
        }
    }
}

fn no_match(spec: &Spec, context: &Path, d: &mut Diagnostics) {
    let check = |d: &mut Diagnostics, folder: &str, path: &Spanned<String>| {
        if has_glob(&path.value)
            || path.value.starts_with('/')
            || path.value.split('/').any(|p| p == "..")
        {
            return;
        }
        let full = context.join(folder).join(path.value.trim_end_matches('/'));
        let place = match folder {
            "." => "the spec's folder".to_owned(),
            folder => format!("`{folder}/`, the stage's context"),
        };
        match std::fs::metadata(&full) {
            Err(_) => d.push(
                Diagnostic::warning(Code::NoMatch, format!("`{}` matches nothing in the build context", path.value))
                    .primary(path.span, "no such file or directory")
                    .help(format!("check the spelling, or create it in the build context ({place})")),
            ),
            Ok(meta) if meta.is_dir() && !(path.value.ends_with('/') || path.value == "." || path.value.ends_with("/.")) => d.push(
                Diagnostic::warning(Code::NoMatch, format!("`{}` is a directory", path.value))
                    .primary(path.span, "a directory, written like a file")
                    .help(format!("write `{}/` so it is copied as a directory, not flattened with other files", path.value)),
            ),
            Ok(_) => {}
        }
    };
    for stage in &spec.stages {
        let folder = stage.context_dir();
        for item in &stage.items {
            match &item.kind {
                ItemKind::Copy(CopyDecl {
                    source: CopySourceDecl::Context(paths),
                    ..
                }) => paths.iter().for_each(|p| check(d, folder, p)),
                ItemKind::Step(step) => step.inputs.iter().for_each(|i| check(d, folder, &i.path)),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family_of(image: &str) -> Family {
        let written = Spanned::new(image.to_owned(), miette::SourceSpan::from(0..0));
        family(&ImageRef::parse(&written))
    }

    #[test]
    fn families_by_image_name() {
        // The C library is the table's (`bases`, tested there).
        assert_eq!(family_of("golang:1.22-alpine").libc, Some(Libc::Musl));
        assert_eq!(
            family_of("localhost:5000/python:3.12-slim@sha256:00").python,
            Some((3, 12))
        );
        assert_eq!(family_of("localhost:5000/python").python, None);
        assert_eq!(family_of("example.com/tool:1").libc, None);
    }
}
