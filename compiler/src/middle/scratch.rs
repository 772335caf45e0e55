//! Stages built on `scratch` hold nothing but what a `copy` or `add` put
//! there: no shell for a `run`, no `/etc/passwd` for a named `user`. The
//! build (a `run`) or the container (a `user`, a shell-form `cmd`) would
//! fail; here it is an error at the spec.
//!
//! Images known by name to have no shell (distroless, Chainguard's
//! non-dev images: the `bases` table) are judged the same way, but only for the shell: what
//! other programs and users they hold is theirs to say
//! (`flow::no-shell`).
//!
//! A stage's files are followed down its chain of `from` stages. Whatever
//! a copy, an `add` or a step's mount could bring in is taken as there: a
//! copy to `/etc/` may bring `/etc/passwd`, one to `/` anything. A stage
//! built on any other image is never judged.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::frontend::ast::*;
use crate::middle::bases;
use crate::middle::flow::absolute;
use crate::middle::resolve::{BaseRef, ImageRef, Spec};

/// The directories of the builder's default `PATH`.
const PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// What a stage built on `scratch` may hold at one point of its body.
#[derive(Clone, Debug)]
struct Files {
    /// Where copies, adds and mounts put things, absolute, no final `/`.
    brought: Vec<String>,
    workdir: String,
    /// The program of shell-form commands (`shell`, else `/bin/sh`).
    shell: String,
    /// The base image as written, and whether it is `scratch` (nothing at
    /// all) rather than an image known only to lack a shell.
    base: String,
    scratch: bool,
}

impl Files {
    fn empty(base: &ImageRef) -> Self {
        Files {
            brought: Vec::new(),
            workdir: "/".to_owned(),
            shell: "/bin/sh".to_owned(),
            base: base.written.value.clone(),
            scratch: base.is_scratch(),
        }
    }

    /// Whether `path` may be there.
    fn may_hold(&self, path: &str) -> bool {
        self.brought.iter().any(|b| {
            b == "/"
                || path == b
                || path
                    .strip_prefix(b.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// Whether `program` may be found: as written when it has a `/`, else
    /// in a directory of `PATH`.
    fn may_run(&self, program: &str) -> bool {
        if program.contains('/') {
            self.may_hold(&absolute(&self.workdir, program))
        } else {
            PATH.iter()
                .any(|dir| self.may_hold(&format!("{dir}/{program}")))
        }
    }
}

/// The program a command starts: the shell, or its first word.
fn program<'a>(command: &'a CommandDecl, files: &'a Files) -> Option<&'a str> {
    if command.shell {
        Some(&files.shell)
    } else {
        command.words.first().map(|w| w.value.as_str())
    }
}

/// Checks every stage whose chain of bases starts at `scratch`.
pub fn validate(spec: &Spec) -> Diagnostics {
    let mut d = Diagnostics::default();
    // Each stage's files at the end of its body, in build order.
    let mut at_end: Vec<Option<Files>> = vec![None; spec.stages.len()];
    for id in &spec.order {
        let stage = spec.stage(*id);
        let start = match spec.base(*id) {
            // `scratch`, and the images `bases` knows to have no shell.
            Some(BaseRef::Image(image)) if bases::known(image).shell == Some(false) => {
                Some(Files::empty(image))
            }
            Some(BaseRef::Stage(parent)) => at_end[parent.0].clone(),
            _ => None,
        };
        if let Some(start) = start {
            at_end[id.0] = Some(check_stage(stage, start, &mut d));
        }
    }
    d
}

/// Follows one stage's body; returns its files at the end.
fn check_stage(stage: &StageDecl, mut files: Files, d: &mut Diagnostics) -> Files {
    // Checked at the end: the container sees every file of the image.
    let mut at_run_time: Vec<(&CommandDecl, String)> = Vec::new();
    let mut users: Vec<Spanned<String>> = Vec::new();
    for item in &stage.items {
        match &item.kind {
            ItemKind::Workdir(dir) => {
                files.workdir = absolute(&files.workdir, &dir.value.sketch());
            }
            ItemKind::Shell(words) => {
                if let Some(first) = words.first() {
                    files.shell = first.value.clone();
                }
            }
            ItemKind::Copy(copy) => {
                // Without `to=`, everything lands below the working directory.
                let to = copy
                    .to
                    .as_ref()
                    .map_or(".".to_owned(), |to| to.value.sketch());
                files.brought.push(absolute(&files.workdir, &to));
            }
            ItemKind::Add(add) => files.brought.push(absolute(&files.workdir, &add.to.value)),
            ItemKind::Run(run) => no_program(&run.command, &files, d),
            ItemKind::Step(step) => {
                let mut mounted = files.clone();
                for mount in &step.mounts {
                    let target = match &mount.kind {
                        MountKind::Cache { target, .. }
                        | MountKind::Bind { target, .. }
                        | MountKind::Tmpfs { target, .. } => Some(target),
                        MountKind::Secret { target, .. } => target.as_ref(),
                        MountKind::Ssh { .. } => None,
                    };
                    if let Some(target) = target {
                        mounted
                            .brought
                            .push(absolute(&files.workdir, &target.value));
                    }
                }
                for run in &step.runs {
                    no_program(&run.command, &mounted, d);
                }
            }
            // A user named by a build argument is known only at build time.
            ItemKind::User(user) => {
                if let Some(name) = user.value.as_literal() {
                    users.push(Spanned::new(name.to_owned(), user.span));
                }
            }
            ItemKind::Cmd(command) | ItemKind::Entrypoint(command) if command.shell => {
                at_run_time.push((command, files.shell.clone()));
            }
            ItemKind::Healthcheck(HealthcheckDecl::Check(check)) if check.command.shell => {
                at_run_time.push((&check.command, files.shell.clone()));
            }
            _ => {}
        }
    }
    for (command, shell) in at_run_time {
        let files = Files {
            shell,
            ..files.clone()
        };
        no_program(command, &files, d);
    }
    // Shell-less images such as distroless name their users in /etc/passwd.
    for user in users.iter().filter(|_| files.scratch) {
        named_user(user, &files, d);
    }
    files
}

fn no_program(command: &CommandDecl, files: &Files, d: &mut Diagnostics) {
    let Some(program) = program(command, files) else {
        return;
    };
    // Beyond `scratch`, only the shell is known to be missing.
    if files.may_run(program) || (!files.scratch && !command.shell) {
        return;
    }
    if !files.scratch {
        d.push(
            Diagnostic::error(
                Code::NoShell,
                format!("`{program}` does not exist in `{}`, an image without a shell", files.base),
            )
            .primary(command.span, format!("a shell-form command needs `{program}`"))
            .help("write it in exec form (exec=#true) with a program the image has, or run it in a builder stage with a shell and copy the result in"),
        );
        return;
    }
    let (label, help) = if command.shell {
        (
            format!("a shell-form command needs `{program}`"),
            "run it in a builder stage on an image with a shell and copy the result in, or write it in exec form (exec=#true) with a program that is copied in",
        )
    } else {
        (
            format!("`{program}` is not in the image"),
            "copy the program in before it runs, or run it in a builder stage and copy the result in",
        )
    };
    d.push(
        Diagnostic::error(
            Code::EmptyBase,
            format!("`{program}` does not exist in a stage built on `scratch`"),
        )
        .primary(command.span, label)
        .help(help),
    );
}

/// A user or group given by name is looked up in `/etc/passwd` or
/// `/etc/group` when the container starts (and by each `run`).
fn named_user(user: &Spanned<String>, files: &Files, d: &mut Diagnostics) {
    let (name, group) = match user.value.split_once(':') {
        Some((name, group)) => (name, Some(group)),
        None => (user.value.as_str(), None),
    };
    let named = |s: &str| !s.chars().all(|c| c.is_ascii_digit());
    let missing = if named(name) && !files.may_hold("/etc/passwd") {
        Some("/etc/passwd")
    } else if group.is_some_and(named) && !files.may_hold("/etc/group") {
        Some("/etc/group")
    } else {
        None
    };
    if let Some(file) = missing {
        let span: Span = user.span;
        d.push(
            Diagnostic::error(
                Code::EmptyBase,
                format!(
                    "user `{}` is looked up in `{file}`, which a stage built on `scratch` does not have",
                    user.value.escape_debug()
                ),
            )
            .primary(span, "a name, not a number")
            .help("give the numeric id, such as \"65532:65532\", or copy an `/etc/passwd` (and `/etc/group`) that names it"),
        );
    }
}
