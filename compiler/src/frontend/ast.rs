//! The typed syntax tree, decoded from KDL by `decode`.
//!
//! Nothing here is resolved: names are plain strings with spans. The AST
//! keeps the order of body items because order is meaning in a build.

use crate::base::diagnostic::Span;
pub use crate::base::keywords::{Network, Port, Protocol, Sharing, StageKind};
pub use crate::base::source::Spanned;
pub use crate::base::word::Word;

/// A whole spec file.
#[derive(Clone, Debug, Default)]
pub struct Ast {
    pub version: Option<Spanned<u32>>,
    pub outputs: Vec<OutputDecl>,
    /// Global build arguments: `arg` at the top level, usable in `from`
    /// (and, redeclared by the compiler, in every stage).
    pub args: Vec<ArgDecl>,
    pub stages: Vec<StageDecl>,
    /// Templates, includes and template uses: `expand` turns the uses into
    /// stages and leaves these empty.
    pub templates: Vec<crate::frontend::template::TemplateDecl>,
    pub includes: Vec<crate::frontend::template::IncludeDecl>,
    pub uses: Vec<crate::frontend::template::UseDecl>,
    /// `allow RULE reason=...`: policy rules the spec waives.
    pub waivers: Vec<WaiverDecl>,
    /// `group NAME IMAGE...`: named sets of images for bake files.
    pub groups: Vec<GroupDecl>,
}

/// `group "backend" "api" "worker"`: a bake group (and only that).
#[derive(Clone, Debug)]
pub struct GroupDecl {
    pub name: Spanned<String>,
    pub images: Vec<Spanned<String>>,
    pub span: Span,
}

/// `allow "policy.base.pinned" reason="..." [image="NAME"]`: a policy rule
/// the spec waives, for every image or for one.
#[derive(Clone, Debug)]
pub struct WaiverDecl {
    /// A rule id the decoder checked against the catalogue.
    pub rule: Spanned<String>,
    pub reason: Spanned<String>,
    pub image: Option<Spanned<String>>,
    pub span: Span,
}

/// A file that `stowplan write` produces and `check --outputs` compares.
#[derive(Clone, Debug)]
pub struct OutputDecl {
    pub path: Spanned<String>,
    pub format: Spanned<OutputFormat>,
    /// Only these images (and what they need); all images when empty.
    pub images: Vec<Spanned<String>>,
    /// A bake file's `dockerfile=`: the path of the Dockerfile output it
    /// builds from (the spec's only Dockerfile output when absent).
    pub dockerfile: Option<Spanned<String>>,
    /// `contexts="named"` on a Dockerfile output: each stage folder but
    /// the build's is a named extra context. The property's span.
    pub named_contexts: Option<Span>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// A Dockerfile for this builder.
    Dockerfile(crate::base::keywords::Builder),
    /// A bash script of buildah commands (default options).
    Buildah,
    /// A `docker buildx bake` JSON file: a target per image of a Dockerfile output.
    Bake,
    /// A `.dockerignore`: the build context holds only what the spec reads.
    Dockerignore,
}

/// A top-level `arg NAME [DEFAULT]`.
#[derive(Clone, Debug)]
pub struct ArgDecl {
    pub name: Spanned<String>,
    pub default: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct StageDecl {
    pub kind: StageKind,
    pub name: Spanned<String>,
    pub span: Span,
    pub from: Option<FromDecl>,
    pub platform: Option<Spanned<String>>,
    /// The platforms an image is built for (`platforms`): build options,
    /// not part of the Dockerfile.
    pub platforms: Vec<Spanned<String>>,
    /// `context DIR`: the folder, relative to the spec's, that its context
    /// paths (inputs, copies, adds, binds) are relative to; written
    /// without `./` or a final `/` (`.` is the spec's folder).
    pub context: Option<Spanned<String>>,
    pub tags: Vec<Spanned<String>>,
    pub artifacts: Vec<ArtifactDecl>,
    pub items: Vec<Item>,
}

impl StageDecl {
    /// The folder its context paths are relative to, under the spec's.
    pub fn context_dir(&self) -> &str {
        self.context.as_ref().map_or(".", |c| c.value.as_str())
    }
}

#[derive(Clone, Debug)]
pub enum FromDecl {
    /// An image reference such as `golang:1.22.5-bookworm`, or `scratch`.
    Image(Spanned<String>),
    /// An image reference that names build arguments: `(arg)"node:${V}"`.
    ImageArgs(Spanned<Word>),
    /// Another stage or image of this spec.
    Stage(Spanned<String>),
}

#[derive(Clone, Debug)]
pub struct ArtifactDecl {
    pub name: Spanned<String>,
    pub path: Spanned<String>,
    pub is_static: Option<Spanned<bool>>,
    pub span: Span,
}

/// One body item of a stage or image, in written order.
#[derive(Clone, Debug)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ItemKind {
    Workdir(Spanned<Word>),
    Env {
        name: Spanned<String>,
        value: Spanned<Word>,
    },
    Arg {
        name: Spanned<String>,
        default: Option<Spanned<String>>,
    },
    Label {
        key: Spanned<String>,
        value: Spanned<Word>,
    },
    Expose(Vec<Spanned<Port>>),
    /// `expose (arg)"${PORT}"`: ports named by build arguments.
    ExposeArgs(Vec<Spanned<Word>>),
    User(Spanned<Word>),
    Volume(Vec<Spanned<String>>),
    Healthcheck(HealthcheckDecl),
    Shell(Vec<Spanned<String>>),
    StopSignal(Spanned<String>),
    Entrypoint(CommandDecl),
    Cmd(CommandDecl),
    Run(RunDecl),
    Step(StepDecl),
    Copy(CopyDecl),
    Add(AddDecl),
}

/// A command in exec form (argv) or shell form (one script).
#[derive(Clone, Debug)]
pub struct CommandDecl {
    pub words: Vec<Spanned<String>>,
    pub shell: bool,
    pub span: Span,
}

impl CommandDecl {
    /// The words joined by spaces: what the command says, to search for
    /// programs and paths in. Not for running: exec-form words lose their
    /// bounds.
    pub fn text(&self) -> String {
        self.words
            .iter()
            .map(|w| w.value.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Clone, Debug)]
pub enum HealthcheckDecl {
    None,
    Check(Box<CheckDecl>),
}

#[derive(Clone, Debug)]
pub struct CheckDecl {
    pub command: CommandDecl,
    pub interval: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub start_period: Option<Spanned<String>>,
    pub start_interval: Option<Spanned<String>>,
    pub retries: Option<Spanned<u32>>,
}

#[derive(Clone, Debug)]
pub struct RunDecl {
    pub command: CommandDecl,
    pub network: Option<Spanned<Network>>,
    pub insecure: Option<Spanned<bool>>,
}

/// A unit of work: declared context inputs, the commands, their mounts.
#[derive(Clone, Debug)]
pub struct StepDecl {
    pub name: Spanned<String>,
    pub inputs: Vec<InputDecl>,
    pub runs: Vec<RunDecl>,
    pub mounts: Vec<MountDecl>,
    pub order: StepOrder,
    pub span: Span,
}

/// What a step declares for the layer-order optimizer (spec/cache.md).
#[derive(Clone, Debug, Default)]
pub struct StepOrder {
    /// Image paths its commands write. A step that declares none is a
    /// barrier: nothing moves across it.
    pub writes: Vec<Spanned<String>>,
    /// Image paths that other steps of the stage write and its commands read.
    pub reads: Vec<Spanned<String>>,
    /// What rebuilding its commands costs, in seconds; a default by kind otherwise.
    pub cost: Option<Spanned<u32>>,
}

#[derive(Clone, Debug)]
pub struct InputDecl {
    pub path: Spanned<String>,
    pub to: Option<Spanned<String>>,
    /// `exclude=`: patterns BuildKit leaves out of the copy (`COPY --exclude`).
    pub exclude: Vec<String>,
}

/// Where a `bind` mount reads from.
#[derive(Clone, Debug)]
pub enum BindSource {
    /// A context path.
    Context(Spanned<String>),
    /// `stage=NAME`: a path in that stage.
    Stage {
        stage: Spanned<String>,
        path: Spanned<String>,
    },
    /// `artifact="stage.artifact"`: a declared artifact, at its path in its stage.
    Artifact(Spanned<String>),
}

#[derive(Clone, Debug)]
pub struct MountDecl {
    pub kind: MountKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum MountKind {
    Cache {
        target: Spanned<String>,
        id: Option<Spanned<String>>,
        sharing: Option<Spanned<Sharing>>,
        /// The owner and mode the builder gives the cache directory when it
        /// creates it; `mode` is checked to be 3 or 4 octal digits.
        uid: Option<Spanned<u32>>,
        gid: Option<Spanned<u32>>,
        mode: Option<Spanned<String>>,
    },
    Secret {
        id: Spanned<String>,
        target: Option<Spanned<String>>,
        required: Option<Spanned<bool>>,
        /// `env=NAME`: the secret's value in that environment variable.
        env: Option<Spanned<String>>,
    },
    Bind {
        source: BindSource,
        target: Spanned<String>,
        rw: Option<Spanned<bool>>,
    },
    Tmpfs {
        target: Spanned<String>,
        size: Option<Spanned<u64>>,
    },
    Ssh {
        id: Option<Spanned<String>>,
        required: Option<Spanned<bool>>,
    },
}

#[derive(Clone, Debug)]
pub struct CopyDecl {
    pub source: CopySourceDecl,
    /// `None`: context paths that keep their place relative to the working
    /// directory, as a step's inputs do.
    pub to: Option<Spanned<Word>>,
    pub chown: Option<Spanned<String>>,
    pub chmod: Option<Spanned<String>>,
    pub link: Option<Spanned<bool>>,
    /// `exclude=`: patterns BuildKit leaves out of the copy (`COPY --exclude`).
    pub exclude: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum CopySourceDecl {
    /// Paths in the build context.
    Context(Vec<Spanned<String>>),
    /// `stage.artifact`, as written.
    Artifact(Spanned<String>),
    /// Paths inside an external image.
    Image {
        image: Spanned<String>,
        paths: Vec<Spanned<String>>,
    },
}

#[derive(Clone, Debug)]
pub struct AddDecl {
    pub sources: Vec<Spanned<String>>,
    pub to: Spanned<String>,
    pub chown: Option<Spanned<String>>,
    pub chmod: Option<Spanned<String>>,
    pub checksum: Option<Spanned<String>>,
    pub span: Span,
}
