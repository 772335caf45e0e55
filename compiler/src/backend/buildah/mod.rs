//! Plan → Buildah script: a bash script that builds the same images as the
//! Dockerfile, with `buildah` (1.28 or later) and no daemon.
//!
//! One bash function per stage (`stage_<name>`), called in plan order; one
//! buildah command (or helper call) per plan instruction. Every value from
//! the spec is a single-quoted bash word (`quote::bash::bash_word`); where buildah parses
//! a value again (`--shell` and `--healthcheck` go through shellwords, `config
//! --env` expands `$VAR`), it is quoted for that parser first. A value the
//! script cannot carry is an `unrepresentable` diagnostic at its spec node.
//!
//! The choices, each made so that the image equals the Dockerfile build's
//! (same filesystem, config and behaviour, as Docker/BuildKit builds it):
//!
//! - **Names.** An image is committed as `{image_prefix}{name}:latest`
//!   (`localhost/<name>:latest` by default) and then tagged with each `tag`.
//!   Image references are written fully qualified as Docker reads them
//!   (`busybox` → `docker.io/library/busybox:latest`), so buildah's short-name
//!   resolution never picks another registry.
//! - **Stages.** Every stage keeps its working container until the script
//!   exits: `copy artifact=` copies from it and `bind stage=` mounts it. A
//!   builder stage that another stage is built `from` is also committed, to an
//!   unnamed image that the script removes on exit.
//! - **Pull.** `buildah from --pull=missing` by default ([`PullPolicy`]);
//!   `STOWPLAN_PULL` overrides it when the script runs. Stage bases are local
//!   images and never pulled.
//! - **Context.** The current directory, unless [`BuildahOptions::context`] or
//!   `STOWPLAN_CONTEXT` says otherwise; the context's `.dockerignore` applies
//!   to `COPY` and `ADD` as in `docker build`. `COPY` and `ADD` always pass
//!   `--contextdir`: without it buildah follows a context symlink on the host.
//! - **Bind sources** are resolved inside the context or the stage's root
//!   (`prelude/in_root.sh`), as BuildKit does: `buildah run --mount` hands
//!   the path to the host's kernel, which would follow `/hostroot -> /` out.
//! - **Build args.** `ARG NAME` reads `STOWPLAN_ARG_NAME` (the prefix keeps
//!   `PATH`, `HOME`, ... of the caller out of the build), falls back to its
//!   default, and reaches the stage's following runs as `buildah run --env`,
//!   never the image config. As in Docker, an `ENV` of the same name wins.
//! - **Secrets and SSH.** Secret `ID` is read from the file named by
//!   `STOWPLAN_SECRET_<ID>` (ID upper-cased, other characters `_`), copied to a
//!   private 0400 file and bind-mounted read-only for that run only; a missing
//!   required secret stops the build with a message. SSH id `ID` forwards the
//!   agent socket named by `STOWPLAN_SSH_<ID>` at BuildKit's
//!   `/run/buildkit/ssh_agent.N`, with `SSH_AUTH_SOCK` set for the run.
//! - **Mount points.** A run with mounts makes the runtime create their
//!   targets in the layer; like BuildKit, the script removes the ones it
//!   created (when still empty) after the run, through `buildah mount`. A
//!   rootless script re-runs itself under `buildah unshare` for that.
//! - **Docker format.** Every container and image uses `--format docker`, so
//!   HEALTHCHECK, SHELL and STOPSIGNAL are kept, as in a Docker build. Images
//!   are committed with `--identity-label=false`: Docker adds no label either.
//! - **WORKDIR** sets the config and, like BuildKit, creates the directory
//!   (mode 0755, owned by the current USER) unless it exists, by copying an
//!   empty directory there: this works on `scratch` and distroless bases.
//! - **ENV** is written in place when the variable exists (buildah would move
//!   it to the end of the list) and with every `$` escaped for buildah's
//!   expansion. **ENTRYPOINT** clears an inherited CMD unless CMD was set
//!   earlier in the stage, as Docker does.
//! - **ADD with a checksum**: buildah 1.28 cannot check a download, so the
//!   script fetches it on the host with `curl`, checks its SHA-256 and copies
//!   it in with Docker's mode for downloads (0600 unless `chmod=`).
//! - **Cache mounts** with `sharing=private` become `sharing=locked`
//!   (buildah 1.28 has no private caches; a locked cache also keeps
//!   concurrent builds apart). `COPY --link` only changes layer reuse, so it is
//!   not written.
//!
//! What buildah 1.28 cannot say is refused: `insecure=#true` runs,
//! `start-interval=` health checks and `checksum=` anywhere but on one URL.
//! Volume paths with `,` or a trailing `-` are refused by the decoder, for
//! both backends; the emitter refuses them again for plans made by hand.
//!
//! Here: the options, the emitter's state and what the stages use. The
//! script's skeleton is in `script`, the instructions in `instructions`,
//! mounts in `mounts`, the bash helpers in `prelude`; quoting is in
//! `backend::quote::bash`.

use std::collections::{BTreeMap, BTreeSet};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::plan::ir::{Base, Copy, CopySource, Instruction, Mount, Plan};

mod instructions;
mod mounts;
mod prelude;
mod script;

pub use crate::base::keywords::PullPolicy;

/// How the script names, pulls and finds things. Everything here is only a
/// default: the environment variables listed in the script's header
/// override the pull policy and the context when the script runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildahOptions {
    /// The pull policy when `STOWPLAN_PULL` is unset.
    pub pull: PullPolicy,
    /// Each image is committed as `{image_prefix}{name}:latest`, then tagged
    /// with its `tag`s. `None`: only the `tag`s name it (an image without
    /// tags is then committed unnamed, and its id printed).
    pub image_prefix: Option<String>,
    /// The build context when `STOWPLAN_CONTEXT` is unset, relative to the
    /// directory the script runs in.
    pub context: String,
}

impl Default for BuildahOptions {
    fn default() -> Self {
        BuildahOptions {
            pull: PullPolicy::Missing,
            image_prefix: Some("localhost/".to_owned()),
            context: ".".to_owned(),
        }
    }
}

/// An image reference as Docker reads it: `busybox` is
/// `docker.io/library/busybox:latest`.
fn docker_reference(image: &str) -> String {
    image
        .parse::<oci_spec::distribution::Reference>()
        .map_or_else(|_| image.to_owned(), |r| r.whole())
}

pub(crate) fn emit(plan: &Plan, options: &BuildahOptions) -> Result<String, Vec<Diagnostic>> {
    let mut d = Diagnostics::default();
    // The plan's context paths are relative to its folder under the spec's.
    let options = &BuildahOptions {
        context: match (options.context.as_str(), plan.context.as_str()) {
            (base, ".") => base.to_owned(),
            (".", folder) => folder.to_owned(),
            (base, folder) => format!("{}/{folder}", base.trim_end_matches('/')),
        },
        ..options.clone()
    };
    let mut e = Emitter::new(plan, options);
    let mut bodies = String::new();
    for stage in &plan.stages {
        bodies.push('\n');
        e.stage(stage, &mut bodies, &mut d);
    }
    e.check_id_variables(&mut d);
    if d.has_errors() {
        return Err(d.into_sorted());
    }
    let mut out = String::new();
    e.header(&mut out);
    e.prelude(&mut out);
    out.push_str(&bodies);
    e.main(&mut out);
    Ok(out)
}

/// What the stages use, so that the prelude defines exactly the helpers
/// and variables the script needs (shellcheck flags unused ones).
#[derive(Default)]
struct Uses {
    /// `$context` is read (context copies, adds and binds).
    context: bool,
    /// COPY or ADD read the context: `from_context` (`--contextdir` and
    /// the .dockerignore flags).
    from_context: bool,
    workdir: bool,
    env: bool,
    args: bool,
    run: bool,
    mounts: bool,
    secrets: bool,
    ssh: bool,
    binds: bool,
    stage_binds: bool,
    download: bool,
    clear_cmd: bool,
    intermediates: bool,
    images: bool,
    external: bool,
    /// Values naming build arguments: the `word` helper.
    words: bool,
    /// Stages declare arguments declared before them (`set_global_arg`).
    global_args: bool,
}

struct Emitter<'a> {
    plan: &'a Plan,
    options: &'a BuildahOptions,
    uses: Uses,
    /// Stages another stage is built `from`.
    bases: BTreeSet<&'a str>,
    /// Stages whose container a later stage copies from or mounts.
    referenced: BTreeSet<&'a str>,
    /// Build arg names, for the header.
    arg_names: BTreeSet<String>,
    /// Secret and SSH variables → the ids read from them, with a place each.
    secret_vars: BTreeMap<String, BTreeMap<String, Span>>,
    ssh_vars: BTreeMap<String, BTreeMap<String, Span>>,
    /// `copy image=` sources → their slot in `external`.
    external: BTreeMap<String, usize>,
    /// Each image's names: the commit name (if any), then its tags.
    image_names: Vec<(String, Vec<String>)>,
    /// Stages already written: the only ones a stage may refer to.
    done: BTreeSet<&'a str>,
    /// The script keeps `build_args` (the plan has a RUN, ARG or ENV).
    has_build_args: bool,
}

impl<'a> Emitter<'a> {
    fn new(plan: &'a Plan, options: &'a BuildahOptions) -> Self {
        let bases = plan
            .stages
            .iter()
            .filter_map(|s| match &s.base {
                Base::Stage(name) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        let mut referenced = BTreeSet::new();
        for instruction in plan.stages.iter().flat_map(|s| &s.instructions) {
            match &instruction.value {
                Instruction::Copy(Copy {
                    source: CopySource::Stage(name),
                    ..
                }) => {
                    referenced.insert(name.as_str());
                }
                Instruction::Run(run) => {
                    for mount in &run.mounts {
                        if let Mount::Bind {
                            from_stage: Some(name),
                            ..
                        } = &mount.value
                        {
                            referenced.insert(name.as_str());
                        }
                    }
                }
                _ => {}
            }
        }
        Emitter {
            plan,
            options,
            uses: Uses::default(),
            bases,
            referenced,
            arg_names: BTreeSet::new(),
            secret_vars: BTreeMap::new(),
            ssh_vars: BTreeMap::new(),
            external: BTreeMap::new(),
            image_names: Vec::new(),
            done: BTreeSet::new(),
            has_build_args: plan.stages.iter().flat_map(|s| &s.instructions).any(|i| {
                matches!(
                    i.value,
                    Instruction::Run(_) | Instruction::Arg { .. } | Instruction::Env { .. }
                ) || i.value.words().iter().any(|w| w.has_args())
            }),
        }
    }
}

#[derive(Default)]
struct StageState {
    /// A CMD was set earlier in this stage: ENTRYPOINT then keeps it.
    cmd_set: bool,
}

fn refuse_stage_ref(d: &mut Diagnostics, origin: Span, name: &str) {
    refuse(
        d,
        origin,
        &format!(
            "stage {} is not built before this point of the plan",
            serde_json::to_string(name).expect("strings serialize")
        ),
        "refers to a stage the script has not built",
        "a stage can only use stages that come before it in the plan",
    );
}

fn refuse(d: &mut Diagnostics, origin: Span, message: &str, label: &str, help: &str) {
    d.push(
        Diagnostic::error(Code::Unrepresentable, message)
            .primary(origin, label)
            .help(help),
    );
}

#[cfg(test)]
mod tests;
