//! AST → [`Spec`]: every name resolved, every reference checked, stages in
//! build order.
//!
//! A `Spec` only exists when every reference in the AST points at something
//! real and the stage graph has no cycle, so later passes can look names up
//! without failing.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::frontend::ast::*;
use crate::frontend::values;
use crate::middle::args::{check_from_args, check_stage_args, default_of};
use crate::middle::names::check_unique;
use crate::middle::outputs::{bake_dockerfile, check_bake_outputs, check_groups};

pub use crate::middle::names::StageId;

/// A resolved spec.
#[derive(Debug)]
pub struct Spec {
    pub stages: Vec<StageDecl>,
    pub outputs: Vec<OutputDecl>,
    /// Policy rules the spec waives; an `image=` names an image.
    pub waivers: Vec<WaiverDecl>,
    /// Global build arguments (`arg` at the top level), in written order.
    pub args: Vec<ArgDecl>,
    /// Bake groups: unique names, every member an image.
    pub groups: Vec<GroupDecl>,
    /// Stages and images in build order: every stage after what it needs,
    /// ties broken by declaration order so output is stable.
    pub order: Vec<StageId>,
    /// `needs[s]`: the stages `s` reads from (base, artifact copies, bind mounts).
    pub needs: Vec<Vec<StageId>>,
    /// `refs[s]`: what stage `s` refers to, resolved once here.
    refs: Vec<StageRefs>,
    ids: BTreeMap<String, StageId>,
}

impl Spec {
    pub fn stage(&self, id: StageId) -> &StageDecl {
        &self.stages[id.0]
    }

    /// Looks up a name the resolver already checked.
    pub fn presume_stage(&self, name: &str) -> StageId {
        self.ids[name]
    }

    /// The declaration a resolved artifact reference points at.
    pub(crate) fn artifact(&self, artifact: ArtifactRef) -> &ArtifactDecl {
        &self.stages[artifact.stage.0].artifacts[artifact.index]
    }

    /// What a stage builds on; `None` only for a stage without `from`,
    /// which the decoder rejects.
    pub(crate) fn base(&self, id: StageId) -> Option<&BaseRef> {
        self.refs[id.0].base.as_ref()
    }

    /// The stage a stage is built on with `from stage=`.
    pub(crate) fn parent(&self, id: StageId) -> Option<StageId> {
        match self.base(id) {
            Some(BaseRef::Stage(parent)) => Some(*parent),
            _ => None,
        }
    }

    /// What item number `item` of a stage refers to.
    pub(crate) fn item_refs(&self, id: StageId, item: usize) -> &ItemRefs {
        &self.refs[id.0].items[item]
    }

    /// The artifact that item number `item` of a stage copies, which the
    /// resolver checked: the item is `copy artifact=...`.
    pub(crate) fn presume_copied_artifact(&self, id: StageId, item: usize) -> ArtifactRef {
        self.item_refs(id, item)
            .artifact()
            .expect("resolver resolved every artifact copy")
    }

    pub fn images(&self) -> impl Iterator<Item = StageId> + '_ {
        self.order
            .iter()
            .copied()
            .filter(|id| self.stage(*id).kind == StageKind::Image)
    }

    pub fn find(&self, name: &str) -> Option<StageId> {
        self.ids.get(name).copied()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.ids.keys().map(String::as_str)
    }

    /// The Dockerfile output a bake output builds from, which the
    /// resolver found: the one its `dockerfile=` names, or the only one.
    pub fn presume_bake_dockerfile(&self, bake: &OutputDecl) -> &OutputDecl {
        bake_dockerfile(&self.outputs, bake).expect("resolver found every bake file's Dockerfile")
    }
}

/// The references of one stage, resolved: what it builds on, and what each
/// of its body items reads from another stage or from an image.
#[derive(Clone, Debug)]
struct StageRefs {
    /// `None` only for a stage without `from`, which the decoder rejects.
    base: Option<BaseRef>,
    /// Same index as [`StageDecl::items`].
    items: Vec<ItemRefs>,
}

/// What a stage builds on.
#[derive(Clone, Debug)]
pub(crate) enum BaseRef {
    /// `from "image"`, including `scratch`.
    Image(ImageRef),
    /// `from stage="name"`.
    Stage(StageId),
}

/// What one body item refers to, resolved.
#[derive(Clone, Debug, Default)]
pub(crate) enum ItemRefs {
    /// Nothing outside its own stage and the build context.
    #[default]
    Nothing,
    /// `copy artifact="stage.artifact"`.
    Artifact(ArtifactRef),
    /// `copy image="..."`.
    Image(ImageRef),
    /// A step: per mount (same index as [`StepDecl::mounts`]), what a bind
    /// mount reads from another stage; `None` for every other mount.
    Mounts(Vec<Option<BindRef>>),
}

/// What a `bind` reads from another stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BindRef {
    /// `stage=NAME`: a path in that stage.
    Stage(StageId),
    /// `artifact="stage.artifact"`.
    Artifact(ArtifactRef),
}

impl BindRef {
    pub(crate) fn stage(self) -> StageId {
        match self {
            BindRef::Stage(stage) => stage,
            BindRef::Artifact(artifact) => artifact.stage,
        }
    }
}

impl ItemRefs {
    /// The artifact a copy takes.
    pub(crate) fn artifact(&self) -> Option<ArtifactRef> {
        match self {
            ItemRefs::Artifact(artifact) => Some(*artifact),
            _ => None,
        }
    }

    /// Every artifact the item uses: the one a copy takes, those a step binds.
    pub(crate) fn artifacts(&self) -> Vec<ArtifactRef> {
        match self {
            ItemRefs::Artifact(artifact) => vec![*artifact],
            ItemRefs::Mounts(binds) => binds
                .iter()
                .filter_map(|b| match b {
                    Some(BindRef::Artifact(artifact)) => Some(*artifact),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The stage the step's mount number `mount` binds, if it binds one.
    pub(crate) fn mount_stage(&self, mount: usize) -> Option<StageId> {
        self.mount_ref(mount).map(BindRef::stage)
    }

    /// The artifact the step's mount number `mount` binds, if it binds one.
    pub(crate) fn mount_artifact(&self, mount: usize) -> Option<ArtifactRef> {
        match self.mount_ref(mount) {
            Some(BindRef::Artifact(artifact)) => Some(artifact),
            _ => None,
        }
    }

    pub(crate) fn mount_ref(&self, mount: usize) -> Option<BindRef> {
        match self {
            ItemRefs::Mounts(binds) => binds.get(mount).copied().flatten(),
            _ => None,
        }
    }
}

/// A resolved `stage.artifact`: the producing stage and the artifact's
/// index among that stage's declarations ([`StageDecl::artifacts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ArtifactRef {
    pub(crate) stage: StageId,
    pub(crate) index: usize,
}

/// An external image reference (`golang:1.22.5-bookworm`, `scratch`),
/// split once into the parts the rules read. Parsing never fails: the
/// decoder has checked the reference's syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// As written, which is what the output names; for a reference that
    /// names build arguments, as their defaults spell it (what the rules
    /// and the cache model read).
    pub(crate) written: Spanned<String>,
    /// The reference with its build arguments, when it names any.
    pub(crate) word: Option<Word>,
    /// Without the tag and the digest: `gcr.io/distroless/static-debian12`.
    pub(crate) name: String,
    /// The tag, when the reference has one.
    pub(crate) tag: Option<String>,
}

impl ImageRef {
    pub(crate) fn parse(written: &Spanned<String>) -> ImageRef {
        let text = written.value.as_str();
        let without_digest = text.split('@').next().unwrap_or(text);
        let (name, tag) = match without_digest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_owned())),
            _ => (without_digest, None),
        };
        ImageRef {
            written: written.clone(),
            word: None,
            name: name.to_owned(),
            tag,
        }
    }

    /// A reference naming build arguments, read with their defaults.
    fn parse_word(word: &Spanned<Word>, args: &[ArgDecl]) -> ImageRef {
        let text = word.value.expand(|name| default_of(args, name));
        let mut image = ImageRef::parse(&Spanned::new(text, word.span));
        image.word = Some(word.value.clone());
        image
    }

    /// `scratch`: the empty image, no base at all.
    pub(crate) fn is_scratch(&self) -> bool {
        self.written.value == "scratch"
    }

    /// The last component of the name: `golang` in `docker.io/library/golang`.
    pub(crate) fn repo(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// The tag, `latest` when none is written.
    pub(crate) fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }
}

/// One use of another stage, for the graph and for cycle reports.
struct Reference {
    from: StageId,
    to: StageId,
    span: Span,
    what: &'static str,
}

pub fn resolve(ast: Ast) -> (Option<Spec>, Diagnostics) {
    let mut d = Diagnostics::default();
    let mut ids: BTreeMap<String, StageId> = BTreeMap::new();
    for (index, stage) in ast.stages.iter().enumerate() {
        if let Some(first) = ids.get(&stage.name.value) {
            let first = &ast.stages[first.0];
            d.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!("the name `{}` is used twice", stage.name.value),
                )
                .primary(stage.name.span, "declared again here")
                .secondary(first.name.span, "first declared here")
                .help("stages and images share one namespace; rename one of them"),
            );
            continue;
        }
        ids.insert(stage.name.value.clone(), StageId(index));
    }
    let names: Vec<&str> = ids.keys().map(String::as_str).collect();
    check_shadowed_images(&ast, &ids, &mut d);
    let mut references = Vec::new();
    let mut refs = Vec::with_capacity(ast.stages.len());

    for (index, stage) in ast.stages.iter().enumerate() {
        let me = StageId(index);
        check_unique(
            &mut d,
            stage.artifacts.iter().map(|a| &a.name),
            "artifact",
            &stage.name.value,
        );
        let steps = stage.items.iter().filter_map(|item| match &item.kind {
            ItemKind::Step(step) => Some(&step.name),
            _ => None,
        });
        check_unique(&mut d, steps, "step", &stage.name.value);

        let mut use_stage =
            |d: &mut Diagnostics, name: &Spanned<String>, what: &'static str| match lookup_stage(
                d, &ids, &names, name,
            ) {
                Some(to) if to == me => {
                    d.push(
                        Diagnostic::error(Code::Cycle, format!("`{}` uses itself", name.value))
                            .primary(name.span, "a stage cannot read from itself")
                            .help("name another stage, or split this one in two"),
                    );
                    None
                }
                Some(to) => {
                    references.push(Reference {
                        from: to,
                        to: me,
                        span: name.span,
                        what,
                    });
                    Some(to)
                }
                None => None,
            };
        let base = match &stage.from {
            Some(FromDecl::Stage(base)) => use_stage(&mut d, base, "built on").map(BaseRef::Stage),
            Some(FromDecl::Image(image)) => Some(BaseRef::Image(ImageRef::parse(image))),
            Some(FromDecl::ImageArgs(image)) => {
                check_from_args(&mut d, &ast, stage, image);
                Some(BaseRef::Image(ImageRef::parse_word(image, &ast.args)))
            }
            None => None,
        };
        check_stage_args(&mut d, &ast.args, stage);
        let mut items = Vec::with_capacity(stage.items.len());
        for item in &stage.items {
            items.push(match &item.kind {
                ItemKind::Copy(CopyDecl {
                    source: CopySourceDecl::Artifact(reference),
                    ..
                }) => check_artifact(&mut d, &ast, &ids, &names, reference)
                    .and_then(|(stage_name, index)| {
                        let stage = use_stage(&mut d, &stage_name, "copied from")?;
                        Some(ItemRefs::Artifact(ArtifactRef { stage, index }))
                    })
                    .unwrap_or_default(),
                ItemKind::Copy(CopyDecl {
                    source: CopySourceDecl::Image { image, .. },
                    ..
                }) => ItemRefs::Image(ImageRef::parse(image)),
                ItemKind::Step(step) => ItemRefs::Mounts(
                    step.mounts
                        .iter()
                        .map(|mount| match &mount.kind {
                            MountKind::Bind {
                                source: BindSource::Stage { stage, .. },
                                ..
                            } => use_stage(&mut d, stage, "mounted from").map(BindRef::Stage),
                            MountKind::Bind {
                                source: BindSource::Artifact(reference),
                                ..
                            } => check_artifact(&mut d, &ast, &ids, &names, reference).and_then(
                                |(stage_name, index)| {
                                    let stage = use_stage(&mut d, &stage_name, "mounted from")?;
                                    // Its path lands in a --mount value, which
                                    // a copy's path never did.
                                    let path = &ast.stages[stage.0].artifacts[index].path;
                                    values::check_mount_word(path, &mut d);
                                    Some(BindRef::Artifact(ArtifactRef { stage, index }))
                                },
                            ),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => ItemRefs::Nothing,
            });
        }
        refs.push(StageRefs { base, items });
    }

    // Outputs, waivers and groups name images.
    let named_images = ast
        .outputs
        .iter()
        .flat_map(|o| &o.images)
        .chain(ast.waivers.iter().filter_map(|w| w.image.as_ref()))
        .chain(ast.groups.iter().flat_map(|g| &g.images));
    {
        for image in named_images {
            match ids.get(&image.value) {
                Some(id) if ast.stages[id.0].kind == StageKind::Image => {}
                Some(id) => d.push(
                    Diagnostic::error(
                        Code::UnknownImage,
                        format!("`{}` is a builder stage, not an image", image.value),
                    )
                    .primary(image.span, "not an image")
                    .secondary(ast.stages[id.0].name.span, "declared with `stage`")
                    .help("outputs, waivers and groups name images; declare it with `image` if it is a runtime target"),
                ),
                None => {
                    let images = ast
                        .stages
                        .iter()
                        .filter(|s| s.kind == StageKind::Image)
                        .map(|s| s.name.value.as_str());
                    let diag = Diagnostic::error(
                        Code::UnknownImage,
                        format!("no image is named `{}`", image.value),
                    )
                    .primary(image.span, "unknown image")
                    .suggest(
                        &image.value,
                        images,
                        "declare it with `image \"name\" { ... }`",
                    );
                    d.push(diag);
                }
            }
        }
    }
    check_unique(
        &mut d,
        ast.outputs.iter().map(|o| &o.path),
        "output",
        "the spec",
    );
    check_bake_outputs(&ast.outputs, &mut d);
    check_groups(&ast.groups, &ids, &mut d);

    check_unique(
        &mut d,
        ast.args.iter().map(|a| &a.name),
        "global build argument",
        "the spec",
    );
    let order = build_order(&ast, &references, &mut d);
    if d.has_errors() {
        return (None, d);
    }
    let mut needs = vec![Vec::new(); ast.stages.len()];
    for r in &references {
        if !needs[r.to.0].contains(&r.from) {
            needs[r.to.0].push(r.from);
        }
    }
    let spec = Spec {
        stages: ast.stages,
        outputs: ast.outputs,
        waivers: ast.waivers,
        args: ast.args,
        groups: ast.groups,
        order: order.unwrap_or_default(),
        needs,
        refs,
        ids,
    };
    (Some(spec), d)
}

/// BuildKit resolves `FROM name` and `COPY --from=name` to a stage before an
/// image, so a stage named like an image reference would silently replace it.
fn check_shadowed_images(ast: &Ast, ids: &BTreeMap<String, StageId>, d: &mut Diagnostics) {
    for stage in &ast.stages {
        let mut images: Vec<&Spanned<String>> = Vec::new();
        if let Some(FromDecl::Image(image)) = &stage.from {
            images.push(image);
        }
        for item in &stage.items {
            if let ItemKind::Copy(CopyDecl {
                source: CopySourceDecl::Image { image, .. },
                ..
            }) = &item.kind
            {
                images.push(image);
            }
        }
        for image in images {
            if let Some(id) = ids.get(&image.value) {
                d.push(
                    Diagnostic::error(
                        Code::Conflict,
                        format!("the image `{}` has the name of a stage", image.value),
                    )
                    .primary(image.span, "an image reference")
                    .secondary(ast.stages[id.0].name.span, "a stage of the same name")
                    .help(format!(
                        "a Dockerfile would build on the stage instead; rename the stage, or write `from stage=\"{}\"` if you meant it",
                        image.value
                    )),
                );
            }
        }
    }
}

fn lookup_stage(
    d: &mut Diagnostics,
    ids: &BTreeMap<String, StageId>,
    names: &[&str],
    name: &Spanned<String>,
) -> Option<StageId> {
    if let Some(id) = ids.get(&name.value) {
        return Some(*id);
    }
    let otherwise = if names.is_empty() {
        "declare it with `stage \"name\" { ... }`".to_owned()
    } else {
        format!("the stages and images are: {}", names.join(", "))
    };
    let diag = Diagnostic::error(
        Code::UnknownStage,
        format!("no stage or image is named `{}`", name.value),
    )
    .primary(name.span, "unknown stage")
    .suggest(&name.value, names.iter().copied(), otherwise);
    d.push(diag);
    None
}

/// Checks `stage.artifact`; returns the stage part, spanned, and the
/// artifact's index in that stage when both exist.
fn check_artifact(
    d: &mut Diagnostics,
    ast: &Ast,
    ids: &BTreeMap<String, StageId>,
    names: &[&str],
    reference: &Spanned<String>,
) -> Option<(Spanned<String>, usize)> {
    let Some((stage_name, artifact)) = reference.value.split_once('.') else {
        d.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` does not name an artifact", reference.value),
            )
            .primary(reference.span, "expected `stage.artifact`")
            .help(
                "artifacts are named by their stage and their name, such as artifact=\"build.api\"",
            ),
        );
        return None;
    };
    let stage_ref = Spanned::new(stage_name.to_owned(), reference.span);
    let id = lookup_stage(d, ids, names, &stage_ref)?;
    let stage = &ast.stages[id.0];
    let Some(index) = stage
        .artifacts
        .iter()
        .position(|a| a.name.value == artifact)
    else {
        let candidates = stage.artifacts.iter().map(|a| a.name.value.as_str());
        let diag = Diagnostic::error(
            Code::UnknownArtifact,
            format!("`{stage_name}` produces no artifact `{artifact}`"),
        )
        .primary(reference.span, "unknown artifact")
        .secondary(stage.name.span, format!("`{stage_name}` is declared here"))
        .suggest_as(
            artifact,
            candidates,
            |near| format!("{stage_name}.{near}"),
            format!("declare it in `{stage_name}`: artifact \"{artifact}\" \"/path/in/stage\""),
        );
        d.push(diag);
        return None;
    };
    Some((stage_ref, index))
}

/// Kahn's algorithm with declaration order as the tie-break, so the build
/// order is a pure function of the spec. Reports cycles with every edge.
fn build_order(ast: &Ast, references: &[Reference], d: &mut Diagnostics) -> Option<Vec<StageId>> {
    let mut graph: DiGraph<StageId, usize> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..ast.stages.len())
        .map(|i| graph.add_node(StageId(i)))
        .collect();
    for (i, r) in references.iter().enumerate() {
        graph.add_edge(nodes[r.from.0], nodes[r.to.0], i);
    }
    let mut indegree: Vec<usize> = nodes
        .iter()
        .map(|n| graph.neighbors_directed(*n, petgraph::Incoming).count())
        .collect();
    let mut ready: BinaryHeap<Reverse<usize>> = indegree
        .iter()
        .enumerate()
        .filter(|(_, deg)| **deg == 0)
        .map(|(i, _)| Reverse(i))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(StageId(i));
        for next in graph.neighbors_directed(nodes[i], petgraph::Outgoing) {
            let j = next.index();
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    if order.len() == nodes.len() {
        return Some(order);
    }
    for component in petgraph::algo::tarjan_scc(&graph) {
        if component.len() < 2 {
            continue;
        }
        let mut members: Vec<usize> = component.iter().map(|n| n.index()).collect();
        members.sort_unstable();
        let names: Vec<&str> = members
            .iter()
            .map(|i| ast.stages[*i].name.value.as_str())
            .collect();
        let mut edges: Vec<&Reference> = references
            .iter()
            .filter(|r| members.contains(&r.from.0) && members.contains(&r.to.0))
            .collect();
        edges.sort_by_key(|r| r.span.offset());
        let mut diag = Diagnostic::error(
            Code::Cycle,
            format!(
                "stages depend on each other in a cycle: {}",
                names.join(", ")
            ),
        );
        for (n, edge) in edges.iter().enumerate() {
            let text = format!(
                "`{}` {} `{}`",
                ast.stages[edge.to.0].name.value, edge.what, ast.stages[edge.from.0].name.value
            );
            diag = if n == 0 {
                diag.primary(edge.span, text)
            } else {
                diag.secondary(edge.span, text)
            };
        }
        d.push(diag.help("a stage must be built before what uses it; break one of these edges"));
    }
    None
}
