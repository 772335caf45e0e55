//! The plan: a typed, backend-neutral build description.
//!
//! Emitters walk a `Plan`; they never see KDL or the AST. Every instruction
//! keeps the span of the spec node it came from so a backend can point at
//! the spec when it cannot say something.

use serde::Serialize;

use crate::base::diagnostic::Span;
use crate::base::keywords::{Network, Port, Protocol, Sharing, StageKind};
pub use crate::base::word::Word;

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The spec's file name, for headers. Never an absolute path.
    pub source_name: String,
    /// Global build arguments, declared before every stage: `from` can
    /// name them, and a stage that names one declares it again itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<GlobalArg>,
    /// Stages and images in build order.
    pub stages: Vec<Stage>,
    /// The build context, relative to the spec's folder (`.` for the
    /// folder itself): the deepest folder that holds every stage's
    /// `context` (plan/contexts.rs). Context paths are relative to it.
    #[serde(skip_serializing_if = "is_spec_folder")]
    pub context: String,
    /// Named extra contexts (an output's `contexts="named"`): stages whose
    /// folder is not `context` copy and bind from their own folder through
    /// one of these (`COPY --from=NAME`), in the order of their names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub named_contexts: Vec<NamedContext>,
}

/// A named build context: `--build-context NAME=FOLDER`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamedContext {
    pub name: String,
    /// Relative to the spec's folder.
    pub folder: String,
}

fn is_spec_folder(context: &str) -> bool {
    context == "."
}

impl Plan {
    /// Whether a copy needs the Dockerfile syntax `docker/dockerfile:1.7-labs`,
    /// which the Dockerfile must then declare on its first line.
    pub fn needs_labs(&self) -> bool {
        self.stages.iter().any(|stage| {
            stage.instructions.iter().any(|i| match &i.value {
                Instruction::Copy(copy) => copy.needs_labs(),
                _ => false,
            })
        })
    }

    /// The stages an image needs: itself, what it builds on, what it
    /// copies or mounts from.
    pub fn needed<'a>(&'a self, image: &'a Stage) -> Vec<&'a Stage> {
        let by_name: std::collections::BTreeMap<&str, &Stage> =
            self.stages.iter().map(|s| (s.name.as_str(), s)).collect();
        let mut out: Vec<&Stage> = Vec::new();
        let mut stack = vec![image];
        while let Some(stage) = stack.pop() {
            if out.iter().any(|s| s.name == stage.name) {
                continue;
            }
            out.push(stage);
            let mut reads: Vec<&str> = stage.reads_by_name();
            if let Base::Stage(parent) = &stage.base {
                reads.push(parent);
            }
            stack.extend(reads.into_iter().filter_map(|r| by_name.get(r).copied()));
        }
        out
    }

    /// The named contexts the stages an image needs read, in name order:
    /// its build's `--build-context`s.
    pub fn named_contexts_of(&self, image: &Stage) -> Vec<&NamedContext> {
        // Every Dockerfile header asks: most plans have none.
        if self.named_contexts.is_empty() {
            return Vec::new();
        }
        let read: Vec<&str> = self
            .needed(image)
            .into_iter()
            .flat_map(Stage::reads_by_name)
            .collect();
        self.named_contexts
            .iter()
            .filter(|c| read.contains(&c.name.as_str()))
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GlobalArg {
    pub name: String,
    pub default: Option<String>,
    #[serde(skip)]
    pub origin: Span,
}

impl Stage {
    /// What the stage's copies and bind mounts name with `--from`/`from=`:
    /// stages, images and named contexts.
    pub fn reads_by_name(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for located in &self.instructions {
            match &located.value {
                Instruction::Copy(copy) => match &copy.source {
                    CopySource::Context => {}
                    CopySource::Stage(name) | CopySource::Image(name) | CopySource::Named(name) => {
                        out.push(name.as_str())
                    }
                },
                Instruction::Run(run) => {
                    for mount in &run.mounts {
                        if let Mount::Bind {
                            from_stage: Some(from),
                            ..
                        } = &mount.value
                        {
                            out.push(from.as_str());
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    pub name: String,
    pub kind: StageKind,
    pub base: Base,
    pub platform: Option<String>,
    /// The platforms the image is built for: build options (a builder's
    /// `--platform`), not part of the Dockerfile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    pub tags: Vec<String>,
    pub instructions: Vec<Located<Instruction>>,
    #[serde(skip)]
    pub origin: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Base {
    Scratch,
    Image(String),
    /// An image reference that names build arguments.
    ImageArgs(Word),
    Stage(String),
}

/// A value and the spec node it came from.
#[derive(Clone, Debug, Serialize)]
pub struct Located<T> {
    pub value: T,
    #[serde(skip)]
    pub origin: Span,
}

#[derive(Clone, Debug, Serialize)]
pub enum Instruction {
    Workdir(Word),
    Env {
        name: String,
        value: Word,
    },
    Arg {
        name: String,
        default: Option<String>,
    },
    Label {
        key: String,
        value: Word,
    },
    Expose(Port),
    /// A port named by build arguments: `8080`, `53/udp` once expanded.
    ExposeArg(Word),
    User(Word),
    Volume(Vec<String>),
    Healthcheck(Option<Healthcheck>),
    Shell(Vec<String>),
    StopSignal(String),
    Entrypoint(Command),
    Cmd(Command),
    Copy(Copy),
    Add(Add),
    Run(Run),
}

impl Instruction {
    /// The values that may name build arguments.
    pub fn words(&self) -> Vec<&Word> {
        match self {
            Instruction::Workdir(w) | Instruction::User(w) => vec![w],
            Instruction::Env { value, .. } | Instruction::Label { value, .. } => vec![value],
            Instruction::Copy(copy) => vec![&copy.dest],
            Instruction::ExposeArg(port) => vec![port],
            _ => Vec::new(),
        }
    }
}

/// A command as the image runs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Command {
    /// An argv, run without a shell.
    Exec(Vec<String>),
    /// A script for `shell` (the stage's effective SHELL at that point).
    Shell { script: String, shell: Vec<String> },
}

impl Command {
    /// The argv the container runtime finally executes.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Command::Exec(argv) => argv.clone(),
            Command::Shell { script, shell } => {
                let mut argv = shell.clone();
                argv.push(script.clone());
                argv
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Healthcheck {
    pub command: Command,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub retries: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum CopySource {
    Context,
    Stage(String),
    Image(String),
    /// A named extra context (`Plan::named_contexts`).
    Named(String),
}

#[derive(Clone, Debug, Serialize)]
pub struct Copy {
    pub source: CopySource,
    pub paths: Vec<String>,
    pub dest: Word,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    /// `COPY --parents`: each match of a glob in a directory keeps its
    /// path from the context's root (BuildKit's 1.7-labs syntax).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub parents: bool,
    /// `COPY --exclude=PATTERN` per pattern (BuildKit's 1.7-labs syntax).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl Copy {
    /// Whether it needs the Dockerfile syntax `docker/dockerfile:1.7-labs`.
    pub fn needs_labs(&self) -> bool {
        self.parents || !self.exclude.is_empty()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Add {
    pub sources: Vec<String>,
    pub dest: String,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub checksum: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub command: Command,
    /// Each at the spec node that declares it.
    pub mounts: Vec<Located<Mount>>,
    pub network: Option<Network>,
    pub insecure: bool,
}

#[derive(Clone, Debug, Serialize)]
pub enum Mount {
    Cache {
        target: String,
        id: Option<String>,
        sharing: Option<Sharing>,
        uid: Option<u32>,
        gid: Option<u32>,
        /// Octal digits, checked.
        mode: Option<String>,
    },
    Secret {
        id: String,
        target: Option<String>,
        required: bool,
        /// The environment variable that holds the secret's value.
        env: Option<String>,
    },
    Bind {
        source: String,
        target: String,
        from_stage: Option<String>,
        rw: bool,
    },
    Tmpfs {
        target: String,
        size: Option<u64>,
    },
    Ssh {
        id: Option<String>,
        required: bool,
    },
}

impl Port {
    /// `8080` for TCP, `53/udp` otherwise.
    pub fn to_dockerfile(self) -> String {
        match self.protocol {
            Protocol::Tcp => self.number.to_string(),
            Protocol::Udp => format!("{}/udp", self.number),
        }
    }
}

/// The shell a Linux image runs shell-form commands with, unless SHELL changes it.
pub fn default_shell() -> Vec<String> {
    vec!["/bin/sh".to_owned(), "-c".to_owned()]
}
