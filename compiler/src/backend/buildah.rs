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
//!   to `COPY` and `ADD` as in `docker build`.
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
//! `start-interval=` health checks, volume paths ending in `-` (buildah reads
//! them as "remove this volume"), and `checksum=` anywhere but on one URL.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::backend::dockerfile::GENERATOR;
use crate::backend::quote::bash::{
    bash_word, comment_word, is_mount_word, json_word, shellwords_line,
};
use crate::backend::quote::comment_string;
use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::keywords::{Network, Sharing, StageKind};
use crate::plan::ir::{
    Add, Base, Copy, CopySource, Healthcheck, Instruction, Mount, Plan, Run, Stage,
};

/// `buildah from --pull=...` for base images and `copy image=` sources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PullPolicy {
    /// Pull even when the image is present.
    Always,
    /// Pull only images that are not in local storage.
    #[default]
    Missing,
    /// Never pull: every image must be in local storage.
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "always",
            PullPolicy::Missing => "missing",
            PullPolicy::Never => "never",
        }
    }
}

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

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The environment variable a secret or SSH id is read from.
fn id_variable(prefix: &str, id: &str) -> String {
    let mut var = prefix.to_owned();
    var.extend(id.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    var
}

/// The helper variable `set_env` spells `$` with; see `SET_ENV`.
const DOLLAR_VARIABLE: &str = "STOWPLAN_DOLLAR";

pub fn emit(plan: &Plan, options: &BuildahOptions) -> Result<String, Vec<Diagnostic>> {
    let mut d = Diagnostics::default();
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
    /// COPY or ADD read the context: `ignore` (the .dockerignore flags).
    ignore: bool,
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
                        } = mount
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
                )
            }),
        }
    }

    fn header(&self, out: &mut String) {
        let source = comment_string(&self.plan.source_name);
        let _ = writeln!(out, "#!/usr/bin/env bash");
        let _ = writeln!(
            out,
            "# Generated by {GENERATOR} from {source}. Do not edit by hand:"
        );
        let _ = writeln!(out, "# change the spec and run stowplan again.");
        out.push_str(
            "#\n# Builds the spec's images with buildah (1.28 or later), like `docker build`:\n",
        );
        for (stage, names) in &self.image_names {
            let names = if names.is_empty() {
                "(unnamed: the script prints its id)".to_owned()
            } else {
                names
                    .iter()
                    .map(|n| comment_word(n))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let _ = writeln!(out, "#   {stage}: {names}");
        }
        out.push_str("#\n# Environment:\n");
        let mut vars: Vec<(String, String)> = vec![
            (
                "STOWPLAN_CONTEXT".into(),
                format!(
                    "the build context (default: {})",
                    comment_string(&self.options.context)
                ),
            ),
            (
                "STOWPLAN_PULL".into(),
                format!(
                    "always, missing or never: pull base images (default: {})",
                    self.options.pull.as_str()
                ),
            ),
        ];
        if !self.arg_names.is_empty() {
            vars.push((
                "STOWPLAN_ARG_<NAME>".into(),
                "build arg NAME, like --build-arg NAME=...".into(),
            ));
        }
        for (var, ids) in &self.secret_vars {
            for id in ids.keys() {
                let id = comment_string(id);
                vars.push((var.clone(), format!("a file holding secret {id}")));
            }
        }
        for (var, ids) in &self.ssh_vars {
            for id in ids.keys() {
                let id = comment_string(id);
                vars.push((var.clone(), format!("an SSH agent socket for ssh id {id}")));
            }
        }
        let width = vars.iter().map(|(v, _)| v.len()).max().unwrap_or(0);
        for (var, what) in vars {
            let _ = writeln!(out, "#   {var:width$}  {what}");
        }
        if !self.arg_names.is_empty() {
            let names: Vec<&str> = self.arg_names.iter().map(String::as_str).collect();
            let _ = writeln!(out, "# Build args: {}.", names.join(", "));
        }
        // Spec values are literal single-quoted words on purpose; these checks
        // only say that a literal looks like a mistake.
        out.push_str("# shellcheck disable=SC1003,SC1110,SC1111,SC1112,SC2016,SC2088\n");
        out.push_str("set -euo pipefail\n");
    }

    fn prelude(&self, out: &mut String) {
        let u = &self.uses;
        if u.run {
            out.push_str(REEXEC);
        }
        out.push('\n');
        if u.context {
            let _ = writeln!(
                out,
                "context=${{STOWPLAN_CONTEXT:-{}}}",
                bash_word(&self.options.context)
            );
            out.push_str("context=$(cd -- \"$context\" && pwd)\n");
        }
        let _ = writeln!(
            out,
            "pull=${{STOWPLAN_PULL:-{}}}",
            self.options.pull.as_str()
        );
        out.push_str(
            "case $pull in\nalways | missing | never) ;;\n*)\n  echo \"${0##*/}: STOWPLAN_PULL must be always, missing or never\" >&2\n  exit 1\n  ;;\nesac\n",
        );
        if u.ignore {
            out.push_str(CONTEXT_CHECK);
        }
        out.push_str("containers=()\n");
        if u.intermediates {
            out.push_str("intermediates=()\n");
        }
        if u.external {
            out.push_str("external=()\n");
        }
        if !self.referenced.is_empty() {
            out.push_str("declare -A ctr=()\n");
        }
        if u.images {
            out.push_str("declare -A image=()\n");
        }
        if self.has_build_args {
            out.push_str("build_args=()\n");
        }
        if u.run {
            out.push_str("mounts=()\n");
            out.push_str("targets=()\n");
        }
        if u.download {
            out.push_str("downloaded=\n");
        }
        out.push_str("tmp=$(mktemp -d)\n");
        out.push_str(if u.intermediates {
            CLEANUP_WITH_IMAGES
        } else {
            CLEANUP
        });
        out.push_str(FAIL);
        if u.workdir {
            out.push_str(SET_WORKDIR);
        }
        if u.env || u.args {
            out.push_str(ENV_OF);
        }
        if u.env {
            out.push_str(SET_ENV);
        }
        if u.args {
            out.push_str(SET_ARG);
        }
        if self.has_build_args {
            out.push_str(DROP_BUILD_ARG);
        }
        if u.clear_cmd {
            out.push_str(CLEAR_CMD);
        }
        if u.run {
            out.push_str(RUN_IN);
        }
        if u.mounts {
            out.push_str(MOUNT_HELPERS);
        }
        if u.secrets {
            out.push_str(ADD_SECRET);
        }
        if u.ssh {
            out.push_str(ADD_SSH);
        }
        if u.binds {
            out.push_str(ADD_BIND);
        }
        if u.stage_binds {
            out.push_str(ADD_BIND_STAGE);
        }
        if u.download {
            out.push_str(DOWNLOAD);
        }
    }

    fn main(&self, out: &mut String) {
        out.push('\n');
        for stage in &self.plan.stages {
            let _ = writeln!(out, "stage_{}", stage.name);
        }
        // One line per image: its id, then its names.
        for (stage, names) in &self.image_names {
            let mut line = format!("echo \"${{image[{stage}]}}\"");
            for name in names {
                let _ = write!(line, " {}", bash_word(name));
            }
            let _ = writeln!(out, "{line}");
        }
    }

    fn check_id_variables(&self, d: &mut Diagnostics) {
        for (kind, vars) in [("secrets", &self.secret_vars), ("ssh ids", &self.ssh_vars)] {
            for (var, ids) in vars {
                if ids.len() < 2 {
                    continue;
                }
                let names: Vec<String> = ids.keys().map(|i| format!("`{i}`")).collect();
                let mut diag = Diagnostic::error(
                    Code::Unrepresentable,
                    format!(
                        "{kind} {} cannot be told apart in a Buildah script",
                        names.join(" and ")
                    ),
                );
                // Mounts have no span of their own: ids of one step share its span.
                let mut places: Vec<(Span, Vec<&str>)> = Vec::new();
                for (id, span) in ids {
                    match places.iter_mut().find(|(s, _)| s == span) {
                        Some((_, at)) => at.push(id),
                        None => places.push((*span, vec![id])),
                    }
                }
                places.sort_by_key(|(span, _)| span.offset());
                for (i, (span, at)) in places.into_iter().enumerate() {
                    let at: Vec<String> = at.iter().map(|id| format!("`{id}`")).collect();
                    let text = format!("{} read from ${var}", at.join(" and "));
                    diag = if i == 0 {
                        diag.primary(span, text)
                    } else {
                        diag.secondary(span, text)
                    };
                }
                d.push(diag.help(
                    "the script reads each id from an environment variable named after it, \
                     upper-cased with other characters as `_`: rename one of them",
                ));
            }
        }
    }

    fn stage(&mut self, stage: &'a Stage, out: &mut String, d: &mut Diagnostics) {
        if !is_stage_name(&stage.name) {
            refuse(
                d,
                stage.origin,
                "this stage name cannot name a bash function",
                "not a name",
                "stage names start with a letter and use letters, digits, `-` and `_`",
            );
            return;
        }
        if let Base::Stage(name) = &stage.base
            && !self.done.contains(name.as_str())
        {
            refuse_stage_ref(d, stage.origin, name);
            return;
        }
        let _ = writeln!(out, "stage_{}() {{", stage.name);
        out.push_str("  local c\n");
        let mut from = String::from("  c=$(buildah from");
        match &stage.base {
            Base::Stage(name) => {
                let _ = write!(from, " --pull=never --format docker \"${{image[{name}]}}\"");
            }
            Base::Scratch | Base::Image(_) => {
                from.push_str(" --pull=\"$pull\" --format docker");
                // $BUILDPLATFORM and $TARGETPLATFORM are this host's platform:
                // buildah's default, so they need no flag.
                if let Some(platform) = stage.platform.as_ref().filter(|p| !p.starts_with('$')) {
                    let _ = write!(from, " --platform {}", bash_word(platform));
                }
                match &stage.base {
                    Base::Image(image) => {
                        let _ = write!(from, " {}", bash_word(&docker_reference(image)));
                    }
                    _ => from.push_str(" scratch"),
                }
            }
        }
        from.push(')');
        let _ = writeln!(out, "{from}");
        out.push_str("  containers+=(\"$c\")\n");
        if stage.base == Base::Scratch {
            // BuildKit and `buildah build` give an image from scratch the default
            // PATH; `buildah from scratch` does not.
            out.push_str(
                "  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \"$c\"\n",
            );
        }
        if self.referenced.contains(stage.name.as_str()) {
            let _ = writeln!(out, "  ctr[{}]=$c", stage.name);
        }
        let mut state = StageState::default();
        if self.has_build_args {
            // Build args are scoped to their stage.
            out.push_str("  build_args=()\n");
        }
        for instruction in &stage.instructions {
            let mut lines = String::new();
            let ok = self.instruction(
                &instruction.value,
                instruction.origin,
                &mut state,
                &mut lines,
                d,
            );
            if ok {
                out.push_str(&lines);
            }
        }
        self.commit(stage, out, d);
        out.push_str("}\n");
        self.done.insert(&stage.name);
    }

    fn commit(&mut self, stage: &'a Stage, out: &mut String, d: &mut Diagnostics) {
        let commit = "buildah commit -q --format docker --identity-label=false \"$c\"";
        if stage.kind == StageKind::Image {
            self.uses.images = true;
            let mut names: Vec<String> = Vec::new();
            if let Some(prefix) = &self.options.image_prefix {
                let name = format!("{prefix}{}:latest", stage.name);
                match name.parse::<oci_spec::distribution::Reference>() {
                    Ok(reference) => names.push(reference.whole()),
                    Err(error) => refuse(
                        d,
                        stage.origin,
                        &format!(
                            "the image name prefix {} gives `{}`, which is not an image name",
                            serde_json::to_string(prefix).expect("strings serialize"),
                            name.escape_debug()
                        ),
                        &error.to_string(),
                        "choose an image name prefix such as `localhost/` or `ghcr.io/acme/`",
                    ),
                }
            }
            names.extend(stage.tags.iter().map(|t| docker_reference(t)));
            let mut names_iter = names.iter();
            match names_iter.next() {
                Some(first) => {
                    let _ = writeln!(
                        out,
                        "  image[{}]=$({commit} {})",
                        stage.name,
                        bash_word(first)
                    );
                }
                None => {
                    let _ = writeln!(out, "  image[{}]=$({commit})", stage.name);
                }
            }
            let rest: Vec<String> = names_iter.map(|n| bash_word(n)).collect();
            if !rest.is_empty() {
                let _ = writeln!(
                    out,
                    "  buildah tag \"${{image[{}]}}\" {}",
                    stage.name,
                    rest.join(" ")
                );
            }
            self.image_names.push((stage.name.clone(), names));
        } else if self.bases.contains(stage.name.as_str()) {
            // Built `from` by another stage: `buildah from` needs an image.
            self.uses.images = true;
            self.uses.intermediates = true;
            let _ = writeln!(out, "  image[{}]=$({commit})", stage.name);
            let _ = writeln!(out, "  intermediates+=(\"${{image[{}]}}\")", stage.name);
        }
    }

    /// Writes one instruction's lines; false when any part was refused.
    fn instruction(
        &mut self,
        instruction: &Instruction,
        origin: Span,
        state: &mut StageState,
        out: &mut String,
        d: &mut Diagnostics,
    ) -> bool {
        let config = |out: &mut String, flags: &str| {
            let _ = writeln!(out, "  buildah config {flags} \"$c\"");
        };
        match instruction {
            Instruction::Workdir(path) if !path.starts_with('/') => {
                refuse(
                    d,
                    origin,
                    "a relative working directory cannot be written in a Buildah script",
                    "not an absolute path",
                    "write the working directory as an absolute path",
                );
                return false;
            }
            Instruction::Workdir(path) => {
                self.uses.workdir = true;
                let _ = writeln!(out, "  set_workdir \"$c\" {}", bash_word(path));
            }
            Instruction::Env { name, value } => {
                if !is_identifier(name) {
                    refuse(
                        d,
                        origin,
                        "this ENV name cannot be written in a Buildah script",
                        "not a variable name",
                        "use letters, digits and `_`, not starting with a digit",
                    );
                    return false;
                }
                if name == DOLLAR_VARIABLE {
                    refuse(
                        d,
                        origin,
                        &format!("the Buildah script uses `{DOLLAR_VARIABLE}` for itself"),
                        "reserved by the Buildah script",
                        "choose another variable name",
                    );
                    return false;
                }
                self.uses.env = true;
                let _ = writeln!(
                    out,
                    "  set_env \"$c\" {} {}",
                    bash_word(name),
                    bash_word(value)
                );
            }
            Instruction::Arg { name, default } => {
                if !is_identifier(name) {
                    refuse(
                        d,
                        origin,
                        "this ARG name cannot be written in a Buildah script",
                        "not a variable name",
                        "use letters, digits and `_`, not starting with a digit",
                    );
                    return false;
                }
                self.uses.args = true;
                self.arg_names.insert(name.clone());
                let mut line = format!("  set_arg \"$c\" {}", bash_word(name));
                if let Some(default) = default {
                    let _ = write!(line, " {}", bash_word(default));
                }
                let _ = writeln!(out, "{line}");
            }
            Instruction::Label { key, value } => {
                config(
                    out,
                    &format!("--label {}", bash_word(&format!("{key}={value}"))),
                );
            }
            Instruction::Expose(port) => {
                let protocol = match port.protocol {
                    crate::base::keywords::Protocol::Tcp => "tcp",
                    crate::base::keywords::Protocol::Udp => "udp",
                };
                // Docker records `8080/tcp`; buildah would record a bare `8080`.
                config(out, &format!("--port {}/{protocol}", port.number));
            }
            Instruction::User(user) => config(out, &format!("--user {}", bash_word(user))),
            Instruction::Volume(paths) => {
                if paths.iter().any(|p| p.ends_with('-')) {
                    refuse(
                        d,
                        origin,
                        "a volume path ending in `-` cannot be written in a Buildah script",
                        "buildah reads a trailing `-` as \"remove this volume\"",
                        "write the path without the trailing `-`, or end it with `/`",
                    );
                    return false;
                }
                let flags: Vec<String> = paths
                    .iter()
                    .map(|p| format!("--volume {}", bash_word(p)))
                    .collect();
                config(out, &flags.join(" "));
            }
            Instruction::Healthcheck(None) => {
                config(
                    out,
                    "--healthcheck NONE --healthcheck-interval 0s --healthcheck-timeout 0s \
                     --healthcheck-start-period 0s --healthcheck-retries 0",
                );
            }
            Instruction::Healthcheck(Some(check)) => {
                let Some(flags) = healthcheck(check, origin, d) else {
                    return false;
                };
                config(out, &flags);
            }
            Instruction::Shell(words) => {
                config(
                    out,
                    &format!("--shell {}", bash_word(&shellwords_line(words))),
                );
            }
            Instruction::StopSignal(signal) => {
                config(out, &format!("--stop-signal {}", bash_word(signal)));
            }
            Instruction::Entrypoint(cmd) => {
                if !state.cmd_set {
                    // Docker resets an inherited CMD when ENTRYPOINT is set.
                    self.uses.clear_cmd = true;
                    out.push_str("  clear_cmd \"$c\"\n");
                }
                config(out, &format!("--entrypoint {}", json_word(&cmd.argv())));
            }
            Instruction::Cmd(cmd) => {
                state.cmd_set = true;
                config(out, &format!("--cmd {}", json_word(&cmd.argv())));
            }
            Instruction::Copy(copy) => return self.copy(copy, origin, out, d),
            Instruction::Add(add) => return self.add(add, origin, out, d),
            Instruction::Run(run) => return self.run(run, origin, out, d),
        }
        true
    }

    fn context_path(&mut self, path: &str) -> String {
        self.uses.context = true;
        self.uses.ignore = true;
        format!("\"$context\"/{}", bash_word(path))
    }

    fn copy(&mut self, copy: &Copy, origin: Span, out: &mut String, d: &mut Diagnostics) -> bool {
        if let CopySource::Stage(name) = &copy.source
            && !self.done.contains(name.as_str())
        {
            refuse_stage_ref(d, origin, name);
            return false;
        }
        let mut line = String::from("  buildah copy -q");
        let sources: Vec<String> = match &copy.source {
            CopySource::Context => {
                line.push_str(" \"${ignore[@]}\"");
                copy.paths.iter().map(|p| self.context_path(p)).collect()
            }
            CopySource::Stage(name) => {
                let _ = write!(line, " --from \"${{ctr[{name}]}}\"");
                copy.paths.iter().map(|p| bash_word(p)).collect()
            }
            CopySource::Image(image) => {
                let image = docker_reference(image);
                let next = self.external.len();
                let slot = *self.external.entry(image.clone()).or_insert(next);
                if slot == next {
                    // First use: a container of the image to copy from.
                    self.uses.external = true;
                    let _ = writeln!(
                        out,
                        "  external[{slot}]=$(buildah from --pull=\"$pull\" --format docker {})",
                        bash_word(&image)
                    );
                    let _ = writeln!(out, "  containers+=(\"${{external[{slot}]}}\")");
                }
                let _ = write!(line, " --from \"${{external[{slot}]}}\"");
                copy.paths.iter().map(|p| bash_word(p)).collect()
            }
        };
        owner_and_mode(&mut line, copy.chown.as_deref(), copy.chmod.as_deref());
        let _ = write!(
            line,
            " \"$c\" {} {}",
            sources.join(" "),
            bash_word(&copy.dest)
        );
        let _ = writeln!(out, "{line}");
        true
    }

    fn add(&mut self, add: &Add, origin: Span, out: &mut String, d: &mut Diagnostics) -> bool {
        if let Some(checksum) = &add.checksum {
            let url = match add.sources.as_slice() {
                [url] if crate::base::keywords::is_url(url) => url,
                _ => {
                    refuse(
                        d,
                        origin,
                        "a checksum on this ADD cannot be checked in a Buildah script",
                        "the script checks the checksum of one downloaded URL",
                        "give `checksum=` only to an `add` of a single http(s) URL",
                    );
                    return false;
                }
            };
            let Some(name) = url_file_name(url) else {
                refuse(
                    d,
                    origin,
                    "the downloaded file's name cannot be told from this URL",
                    "the URL's path has no file name",
                    "end the URL with the file's name, or give `to=` a file path",
                );
                return false;
            };
            let hex = checksum.strip_prefix("sha256:").unwrap_or(checksum);
            self.uses.download = true;
            let _ = writeln!(
                out,
                "  download {} {} {}",
                bash_word(url),
                bash_word(&name),
                bash_word(hex)
            );
            let mut line = String::from("  buildah copy -q");
            // Docker gives a download mode 0600 unless told otherwise.
            owner_and_mode(
                &mut line,
                add.chown.as_deref(),
                Some(add.chmod.as_deref().unwrap_or("0600")),
            );
            let _ = writeln!(line, " \"$c\" \"$downloaded\" {}", bash_word(&add.dest));
            out.push_str(&line);
            return true;
        }
        let mut line = String::from("  buildah add -q");
        let local = add
            .sources
            .iter()
            .any(|s| !crate::base::keywords::is_url(s));
        if local {
            line.push_str(" \"${ignore[@]}\"");
        }
        owner_and_mode(&mut line, add.chown.as_deref(), add.chmod.as_deref());
        let sources: Vec<String> = add
            .sources
            .iter()
            .map(|s| {
                if crate::base::keywords::is_url(s) {
                    bash_word(s)
                } else {
                    self.context_path(s)
                }
            })
            .collect();
        let _ = writeln!(
            line,
            " \"$c\" {} {}",
            sources.join(" "),
            bash_word(&add.dest)
        );
        out.push_str(&line);
        true
    }

    fn run(&mut self, run: &Run, origin: Span, out: &mut String, d: &mut Diagnostics) -> bool {
        if run.insecure {
            refuse(
                d,
                origin,
                "an insecure run cannot be written in a Buildah script",
                "`buildah run` has no privileged mode",
                "remove `insecure=#true`, or build this spec from its Dockerfile",
            );
            return false;
        }
        let mut lines = String::new();
        let mut ssh_index = 0usize;
        for mount in &run.mounts {
            if let Some(bad) = mount_words(mount).into_iter().find(|w| !is_mount_word(w)) {
                refuse(
                    d,
                    origin,
                    "this mount cannot be written in a Buildah script",
                    &format!(
                        "{} holds a character buildah's --mount reads specially",
                        serde_json::to_string(bad).expect("strings serialize")
                    ),
                    "mount paths and ids cannot hold whitespace, control characters, `,` or `=`",
                );
                return false;
            }
            self.uses.mounts = true;
            match mount {
                Mount::Cache {
                    target,
                    id,
                    sharing,
                } => {
                    let mut spec = format!("type=cache,target={target}");
                    if let Some(id) = id {
                        let _ = write!(spec, ",id={id}");
                    }
                    match sharing {
                        None => {}
                        Some(Sharing::Shared) => spec.push_str(",sharing=shared"),
                        // buildah 1.28 has no private caches; locked keeps writers apart too.
                        Some(Sharing::Private | Sharing::Locked) => {
                            spec.push_str(",sharing=locked")
                        }
                    }
                    let _ = writeln!(
                        lines,
                        "  add_mount {} {}",
                        bash_word(&clean_path(target)),
                        bash_word(&spec)
                    );
                }
                Mount::Tmpfs { target, size } => {
                    let mut spec = format!("type=tmpfs,target={target}");
                    if let Some(size) = size {
                        let _ = write!(spec, ",tmpfs-size={size}");
                    }
                    let _ = writeln!(
                        lines,
                        "  add_mount {} {}",
                        bash_word(&clean_path(target)),
                        bash_word(&spec)
                    );
                }
                Mount::Secret {
                    id,
                    target,
                    required,
                } => {
                    self.uses.secrets = true;
                    let var = id_variable("STOWPLAN_SECRET_", id);
                    self.secret_vars
                        .entry(var.clone())
                        .or_default()
                        .entry(id.clone())
                        .or_insert(origin);
                    let target = target
                        .clone()
                        .unwrap_or_else(|| format!("/run/secrets/{id}"));
                    let _ = writeln!(
                        lines,
                        "  add_secret {} {var} {} {}",
                        bash_word(id),
                        bash_word(&clean_path(&target)),
                        if *required { "required" } else { "optional" }
                    );
                }
                Mount::Ssh { id, required } => {
                    self.uses.ssh = true;
                    let id = id.clone().unwrap_or_else(|| "default".to_owned());
                    let var = id_variable("STOWPLAN_SSH_", &id);
                    self.ssh_vars
                        .entry(var.clone())
                        .or_default()
                        .entry(id.clone())
                        .or_insert(origin);
                    let _ = writeln!(
                        lines,
                        "  add_ssh {} {var} {ssh_index} {}",
                        bash_word(&id),
                        if *required { "required" } else { "optional" }
                    );
                    ssh_index += 1;
                }
                Mount::Bind {
                    source,
                    target,
                    from_stage,
                    rw,
                } => {
                    self.uses.binds = true;
                    let mode = if *rw { "rw" } else { "ro" };
                    match from_stage {
                        None => {
                            self.uses.context = true;
                            let _ = writeln!(
                                lines,
                                "  add_bind \"$context\" {} {} {mode}",
                                bash_word(source),
                                bash_word(&clean_path(target))
                            );
                        }
                        Some(stage) if !self.done.contains(stage.as_str()) => {
                            refuse_stage_ref(d, origin, stage);
                            return false;
                        }
                        Some(stage) => {
                            self.uses.stage_binds = true;
                            let _ = writeln!(
                                lines,
                                "  add_bind_stage \"${{ctr[{stage}]}}\" {} {} {mode}",
                                bash_word(source),
                                bash_word(&clean_path(target))
                            );
                        }
                    }
                }
            }
        }
        self.uses.run = true;
        let mut line = String::from("  run_in \"$c\"");
        match run.network {
            None | Some(Network::Default) => {}
            Some(Network::None) => line.push_str(" --network=none"),
            Some(Network::Host) => line.push_str(" --network=host"),
        }
        line.push_str(" --");
        for word in run.command.argv() {
            let _ = write!(line, " {}", bash_word(&word));
        }
        out.push_str(&lines);
        let _ = writeln!(out, "{line}");
        true
    }
}

#[derive(Default)]
struct StageState {
    /// A CMD was set earlier in this stage: ENTRYPOINT then keeps it.
    cmd_set: bool,
}

fn owner_and_mode(line: &mut String, chown: Option<&str>, chmod: Option<&str>) {
    if let Some(chown) = chown {
        let _ = write!(line, " --chown {}", bash_word(chown));
    }
    if let Some(chmod) = chmod {
        let _ = write!(line, " --chmod {}", bash_word(chmod));
    }
}

/// `--healthcheck` and its settings, written the way the Dockerfile writes
/// HEALTHCHECK (always `CMD argv...`, a shell-form check through its shell)
/// so that the image records the same test. Settings left out are 0, as in
/// Docker's config (buildah would fill in its own defaults).
fn healthcheck(check: &Healthcheck, origin: Span, d: &mut Diagnostics) -> Option<String> {
    if check.start_interval.is_some() {
        refuse(
            d,
            origin,
            "a health check's start interval cannot be written in a Buildah script",
            "buildah 1.28 has no --healthcheck-start-interval",
            "remove `start-interval=`, or build this spec from its Dockerfile",
        );
        return None;
    }
    let test = format!("CMD {}", shellwords_line(&check.command.argv()));
    let mut flags = format!("--healthcheck {}", bash_word(&test));
    for (flag, value) in [
        ("interval", &check.interval),
        ("timeout", &check.timeout),
        ("start-period", &check.start_period),
    ] {
        let value = value.as_deref().unwrap_or("0s");
        let _ = write!(flags, " --healthcheck-{flag} {}", bash_word(value));
    }
    let _ = write!(
        flags,
        " --healthcheck-retries {}",
        check.retries.unwrap_or(0)
    );
    Some(flags)
}

fn mount_words(mount: &Mount) -> Vec<&str> {
    match mount {
        Mount::Cache { target, id, .. } => [Some(target.as_str()), id.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        Mount::Secret { id, target, .. } => [Some(id.as_str()), target.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        Mount::Bind { source, target, .. } => vec![source, target],
        Mount::Tmpfs { target, .. } => vec![target],
        Mount::Ssh { id, .. } => id.iter().map(String::as_str).collect(),
    }
}

/// A path with `.`, `..`, empty segments and trailing slashes resolved, as
/// the runtime resolves a mount target.
fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The name Docker gives a file downloaded from `url`: the last segment of
/// its path, percent-decoded.
fn url_file_name(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let path = rest.split_once('/').map_or("", |(_, path)| path);
    let last = path.rsplit('/').next().unwrap_or_default();
    let bytes = last.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            decoded.push(byte);
            i += 3;
            continue;
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    let name = String::from_utf8(decoded).ok()?;
    let usable = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.chars().any(char::is_control);
    usable.then_some(name)
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

// ---------------------------------------------------------------------------
// The script's helpers. Each is written only when a stage uses it.

/// `buildah mount` (to tidy up mount points after each run) needs buildah's
/// user namespace when the script runs rootless.
const REEXEC: &str = r#"if [[ $(id -u) != 0 && -z ${_CONTAINERS_USERNS_CONFIGURED:-} ]]; then
  # Rootless: `buildah mount`, used to tidy up after each run, needs buildah's user namespace.
  exec buildah unshare bash "$0" "$@"
fi
"#;

const CONTEXT_CHECK: &str = r#"if [[ $context == *[][?*\\]* ]]; then
  echo "${0##*/}: buildah would read the context path $context as a pattern" >&2
  exit 1
fi
# COPY and ADD honour the context's .dockerignore, as docker build does.
ignore=()
if [[ -f $context/.dockerignore ]]; then
  ignore=(--contextdir "$context" --ignorefile "$context/.dockerignore")
fi
"#;

const CLEANUP: &str = r#"
# Working containers and temporary files go on any exit.
cleanup() {
  local c
  for c in "${containers[@]}"; do
    buildah rm "$c" >/dev/null 2>&1 || true
  done
  rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"#;

const CLEANUP_WITH_IMAGES: &str = r#"
# Working containers, intermediate images and temporary files go on any exit.
cleanup() {
  local c
  for c in "${containers[@]}"; do
    buildah rm "$c" >/dev/null 2>&1 || true
  done
  for c in "${intermediates[@]}"; do
    buildah rmi "$c" >/dev/null 2>&1 || true
  done
  rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"#;

const FAIL: &str = r#"
fail() {
  echo "${0##*/}: $1" >&2
  exit 1
}
"#;

const SET_WORKDIR: &str = r#"
# set_workdir CTR DIR: WORKDIR DIR. Like BuildKit, creates DIR (mode 0755, owned by
# the current USER) unless it exists: copying an empty directory there does just that.
set_workdir() {
  local user chown=()
  buildah config --workingdir "$2" "$1"
  [[ $2 != / ]] || return 0
  user=$(buildah inspect --type container --format '{{.Docker.Config.User}}' "$1")
  [[ -z $user ]] || chown=(--chown "$user")
  mkdir -p -- "$tmp/empty"
  buildah copy -q "${chown[@]}" "$1" "$tmp/empty" "$2"
}
"#;

const ENV_OF: &str = r#"
# env_of CTR: the container's environment, NUL-separated, into $tmp/env.
env_of() {
  buildah inspect --type container \
    --format '{{range .Docker.Config.Env}}{{.}}{{printf "%c" 0}}{{end}}' "$1" >"$tmp/env"
}
"#;

const SET_ENV: &str = r#"
# set_env CTR NAME VALUE: ENV NAME=VALUE. Docker replaces a variable where it stands,
# buildah would move it to the end, so the list is written again in order.
# `buildah config --env` expands $VAR: each `$` is written ${STOWPLAN_DOLLAR}, a
# variable that holds `$` for the length of that one call.
set_env() {
  local entry found='' dollar='${STOWPLAN_DOLLAR}' args=(--env - --env 'STOWPLAN_DOLLAR=$')
  env_of "$1"
  while IFS= read -r -d '' entry; do
    [[ ${entry%%=*} != STOWPLAN_DOLLAR ]] || fail "the base image sets STOWPLAN_DOLLAR, which this script needs"
    if [[ ${entry%%=*} == "$2" ]]; then
      entry=$2=$3
      found=1
    fi
    args+=(--env "${entry//\$/"$dollar"}")
  done <"$tmp/env"
  [[ -n $found ]] || args+=(--env "$2=${3//\$/"$dollar"}")
  buildah config "${args[@]}" --env STOWPLAN_DOLLAR- "$1"
  drop_build_arg "$2"
}
"#;

const SET_ARG: &str = r#"
# set_arg CTR NAME [DEFAULT]: ARG NAME[=DEFAULT] for the stage's following runs,
# valued from STOWPLAN_ARG_NAME when that is set (docker build --build-arg NAME=...).
# Never in the image config; an ENV of the same name wins, as in Docker.
set_arg() {
  local var=STOWPLAN_ARG_$2
  env_of "$1"
  if grep -qz "^$2=" "$tmp/env"; then
    return 0
  fi
  if [[ -v $var ]]; then
    drop_build_arg "$2"
    build_args+=("$2=${!var}")
  elif (($# > 2)); then
    drop_build_arg "$2"
    build_args+=("$2=$3")
  fi
}
"#;

const DROP_BUILD_ARG: &str = r#"
drop_build_arg() {
  local i
  for i in "${!build_args[@]}"; do
    [[ ${build_args[i]%%=*} != "$1" ]] || unset 'build_args[i]'
  done
}
"#;

const CLEAR_CMD: &str = r#"
# clear_cmd CTR: ENTRYPOINT drops an inherited CMD, as Docker does (buildah keeps it).
clear_cmd() {
  local n
  n=$(buildah inspect --type container --format '{{len .Docker.Config.Cmd}}' "$1")
  [[ $n == 0 ]] || buildah config --cmd '[]' "$1"
}
"#;

const RUN_IN: &str = r#"
# run_in CTR [FLAG...] -- ARGV...: RUN ARGV with the stage's build args and the mounts
# added since the last run. Like BuildKit, it then removes the mount points the run
# created and left empty: its mounts' targets and the runtime's /etc/hosts and such.
run_in() {
  local c=$1 flags=() root stubs path
  shift
  while [[ $1 != -- ]]; do
    flags+=("$1")
    shift
  done
  shift
  root=$(buildah mount "$c")
  mapfile -t stubs < <(new_paths "$root" /etc/hosts /etc/resolv.conf /etc/hostname \
    /run/.containerenv "${targets[@]}" | LC_ALL=C sort -ru)
  # What a RUN prints goes to stderr: stdout carries only the script's result line.
  buildah run "${build_args[@]/#/--env=}" "${mounts[@]}" "${flags[@]}" "$c" -- "$@" </dev/null >&2
  for path in "${stubs[@]}"; do
    if [[ -d $root$path && ! -L $root$path ]]; then
      rmdir -- "$root$path" 2>/dev/null || true
    elif [[ -f $root$path && ! -L $root$path && ! -s $root$path ]]; then
      rm -f -- "$root$path"
    fi
  done
  mounts=()
  targets=()
}

# new_paths ROOT PATH...: the paths that creating each PATH would create under ROOT.
# Paths reached through a symlink are skipped: on the host it could lead anywhere.
new_paths() {
  local root=$1 target path created
  shift
  for target in "$@"; do
    path=$target
    created=()
    while [[ $path != / && ! -e $root$path && ! -L $root$path ]]; do
      created+=("$path")
      path=${path%/*}
      path=${path:-/}
    done
    while [[ $path != / && ! -L $root$path ]]; do
      path=${path%/*}
      path=${path:-/}
    done
    if [[ $path == / ]] && ((${#created[@]})); then
      printf '%s\n' "${created[@]}"
    fi
  done
}
"#;

const MOUNT_HELPERS: &str = r#"
# add_mount TARGET SPEC: a cache or tmpfs mount for the next run.
add_mount() {
  mounts+=(--mount "$2")
  targets+=("$1")
}
"#;

const ADD_SECRET: &str = r#"
# add_secret ID VAR TARGET required|optional: secret ID for the next run, read from the
# file named by $VAR and mounted read-only at TARGET as a private copy (mode 0400, like
# BuildKit). It never reaches a layer, the image config or a build arg.
add_secret() {
  local file=${!2:-} copy
  if [[ -z $file ]]; then
    [[ $4 != required ]] || fail "secret \"$1\" is required: set $2 to the file that holds it"
    return 0
  fi
  [[ -f $file && -r $file ]] || fail "$2=$file: not a readable file (secret \"$1\")"
  copy=$(mktemp -p "$tmp" secret.XXXXXX)
  [[ $copy != *,* ]] || fail "$copy: buildah cannot mount a path with a comma; set TMPDIR"
  cat -- "$file" >"$copy"
  chmod 0400 "$copy"
  mounts+=(--mount "type=bind,source=$copy,target=$3,ro")
  targets+=("$3")
}
"#;

const ADD_SSH: &str = r#"
# add_ssh ID VAR N required|optional: forwards the SSH agent socket named by $VAR to the
# next run at /run/buildkit/ssh_agent.N, with SSH_AUTH_SOCK set (BuildKit's layout).
add_ssh() {
  local sock=${!2:-} target=/run/buildkit/ssh_agent.$3
  if [[ -z $sock ]]; then
    [[ $4 != required ]] || fail "ssh \"$1\" is required: set $2 to an SSH agent socket"
    return 0
  fi
  [[ -S $sock ]] || fail "$2=$sock: not a socket (ssh \"$1\")"
  [[ $sock != *,* ]] || fail "$sock: buildah cannot mount a path with a comma"
  [[ " ${mounts[*]} " == *" --env=SSH_AUTH_SOCK="* ]] || mounts+=("--env=SSH_AUTH_SOCK=$target")
  mounts+=(--mount "type=bind,source=$sock,target=$target")
  targets+=("$target")
}
"#;

const ADD_BIND: &str = r#"
# add_bind ROOT SOURCE TARGET ro|rw: ROOT/SOURCE mounted at TARGET for the next run.
# A read-write bind gets a throwaway copy, so its writes are discarded as with BuildKit.
add_bind() {
  local path=$1/$2 copy
  [[ -e $path ]] || fail "$2: no such file or directory to bind at $3"
  if [[ $4 == rw ]]; then
    copy=$(mktemp -d -p "$tmp" bind.XXXXXX)
    cp -a -- "$path" "$copy/source"
    path=$copy/source
  fi
  [[ $path != *,* ]] || fail "$path: buildah cannot mount a path with a comma"
  mounts+=(--mount "type=bind,source=$path,target=$3,$4")
  targets+=("$3")
}
"#;

const ADD_BIND_STAGE: &str = r#"
# add_bind_stage CTR SOURCE TARGET ro|rw: SOURCE from stage container CTR, as add_bind.
add_bind_stage() {
  local root
  root=$(buildah mount "$1")
  add_bind "$root" "$2" "$3" "$4"
}
"#;

const DOWNLOAD: &str = r#"
# download URL NAME SHA256: for ADD with a checksum, which buildah 1.28 cannot check.
# Fetches URL on the host as NAME, checks it and leaves its path in $downloaded.
download() {
  local dir sum
  command -v curl >/dev/null || fail "ADD with a checksum needs curl on this host"
  dir=$(mktemp -d -p "$tmp" download.XXXXXX)
  curl -fsSLR -o "$dir/$2" "$1"
  sum=$(sha256sum <"$dir/$2")
  [[ ${sum%% *} == "$3" ]] || fail "$1: expected sha256:$3, got sha256:${sum%% *}"
  downloaded=$dir/$2
}
"#;
