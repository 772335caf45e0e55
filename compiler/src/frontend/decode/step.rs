//! A `step` node: its inputs, commands, mounts and what it writes.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::base::keywords::StepNode;
use crate::frontend::ast::*;
use crate::frontend::entries::*;
use crate::frontend::values;
use kdl::KdlNode;

pub(super) fn decode_step(node: &KdlNode, d: &mut Diagnostics) -> Option<StepDecl> {
    let mut args = NodeArgs::new(node, d);
    let name = args.string(d, "the step's name");
    args.finish(d);
    let children = expect_children(node, d);
    let name = name?;
    values::check_name(&name, "step", d);
    let mut step = StepDecl {
        name,
        inputs: Vec::new(),
        runs: Vec::new(),
        mounts: Vec::new(),
        order: StepOrder::default(),
        span: node.span(),
    };
    for child in children {
        expect_no_children(child, d);
        let mut args = NodeArgs::new(child, d);
        match StepNode::parse(child.name().value()) {
            Some(StepNode::Input) => {
                let paths = args.rest_strings(d, "a context path", 1);
                let to = args.prop_string(d, "to");
                let exclude = values::exclude_patterns(args.prop_string(d, "exclude"), d);
                if let Some(to) = &to {
                    values::check_destination(to, d);
                    values::check_directory_destination(paths.len(), to, d);
                    values::check_directory_globs(&paths, paths.len(), d);
                }
                for path in paths {
                    values::check_context_path(&path, d);
                    if to.is_some() {
                        values::check_input_glob(&path, d);
                    }
                    step.inputs.push(InputDecl {
                        path,
                        to: to.clone(),
                        exclude: exclude.clone(),
                    });
                }
            }
            Some(StepNode::Run) => step.runs.extend(decode_run(child, &mut args, d)),
            // Declarations for the layer-order optimizer (spec/cache.md).
            Some(kind @ (StepNode::Writes | StepNode::Reads)) => {
                let paths = args.rest_strings(d, "an image path", 1);
                for path in &paths {
                    values::check_destination(path, d);
                }
                match kind {
                    StepNode::Writes => step.order.writes.extend(paths),
                    _ => step.order.reads.extend(paths),
                }
            }
            Some(StepNode::Cost) => step.order.cost = args.int::<u32>(d, "the cost in seconds"),
            Some(StepNode::Cache) => {
                let targets = args.rest_strings(d, "an absolute directory to cache", 1);
                let id = args.prop_string(d, "id");
                let sharing = args.prop_string(d, "sharing").and_then(|s| {
                    let Some(value) = Sharing::parse(&s.value) else {
                        d.push(
                            Diagnostic::error(
                                Code::InvalidValue,
                                format!("unknown cache sharing `{}`", s.value),
                            )
                            .primary(s.span, "not a sharing mode")
                            .help(format!("the sharing modes are: {}", Sharing::listed())),
                        );
                        return None;
                    };
                    Some(Spanned::new(value, s.span))
                });
                if let Some(id) = &id {
                    values::check_mount_word(id, d);
                    if targets.len() > 1 {
                        d.push(
                            Diagnostic::error(
                                Code::Conflict,
                                "one cache `id` for several directories",
                            )
                            .primary(id.span, "shared by every target")
                            .help("write one `cache` node per directory when you name the cache"),
                        );
                    }
                }
                let uid = args.prop_int::<u32>(d, "uid");
                let gid = args.prop_int::<u32>(d, "gid");
                let mode = cache_mode(&mut args, d);
                for target in targets {
                    values::check_absolute_path(&target, d);
                    values::check_mount_word(&target, d);
                    step.mounts.push(MountDecl {
                        kind: MountKind::Cache {
                            target,
                            id: id.clone(),
                            sharing: sharing.clone(),
                            uid: uid.clone(),
                            gid: gid.clone(),
                            mode: mode.clone(),
                        },
                        span: child.span(),
                    });
                }
            }
            Some(StepNode::Secret) => {
                let id = args.string(d, "the secret's id");
                let target = args.prop_string(d, "target");
                let required = args.prop_bool(d, "required");
                let env = args.prop_string(d, "env");
                if let Some(target) = &target {
                    values::check_absolute_path(target, d);
                    values::check_mount_word(target, d);
                }
                if let Some(env) = &env {
                    values::check_variable_name(env, d);
                }
                if let Some(id) = id {
                    values::check_mount_word(&id, d);
                    step.mounts.push(MountDecl {
                        kind: MountKind::Secret {
                            id,
                            target,
                            required,
                            env,
                        },
                        span: child.span(),
                    });
                }
            }
            Some(StepNode::Bind) => step.mounts.extend(decode_bind(child, &mut args, d)),
            Some(StepNode::Tmpfs) => {
                let target = args.string(d, "an absolute directory");
                let size = args.prop_int::<u64>(d, "size");
                if let Some(target) = target {
                    values::check_absolute_path(&target, d);
                    values::check_mount_word(&target, d);
                    step.mounts.push(MountDecl {
                        kind: MountKind::Tmpfs { target, size },
                        span: child.span(),
                    });
                }
            }
            Some(StepNode::Ssh) => {
                let id = args.prop_string(d, "id");
                let required = args.prop_bool(d, "required");
                if let Some(id) = &id {
                    values::check_mount_word(id, d);
                }
                step.mounts.push(MountDecl {
                    kind: MountKind::Ssh { id, required },
                    span: child.span(),
                });
            }
            None => {
                unknown_node(d, child, "in a step", StepNode::names());
                continue;
            }
        }
        args.finish(d);
    }
    check_secret_envs(&step.mounts, d);
    if step.runs.is_empty() {
        d.push(
            Diagnostic::error(
                Code::MissingNode,
                format!("step `{}` runs nothing", step.name.value),
            )
            .primary(step.name.span, "needs at least one `run`")
            .help("add `run \"command\"` inside the step, or remove the step"),
        );
    }
    Some(step)
}

/// Two secrets of one step in the same variable: one would hide the other.
fn check_secret_envs(mounts: &[MountDecl], d: &mut Diagnostics) {
    let mut seen: Vec<&Spanned<String>> = Vec::new();
    for mount in mounts {
        let MountKind::Secret { env: Some(env), .. } = &mount.kind else {
            continue;
        };
        match seen.iter().find(|e| e.value == env.value) {
            Some(first) => d.push(
                Diagnostic::error(
                    Code::Conflict,
                    format!("two secrets in the variable `{}`", env.value),
                )
                .primary(env.span, "a second secret here")
                .secondary(first.span, "the first")
                .help("give each secret a variable of its own"),
            ),
            None => seen.push(env),
        }
    }
}

/// `bind SOURCE target=PATH [stage=NAME] [rw=BOOL]` or `bind
/// artifact="stage.artifact" target=PATH [rw=BOOL]`.
fn decode_bind(node: &KdlNode, args: &mut NodeArgs<'_>, d: &mut Diagnostics) -> Option<MountDecl> {
    let artifact = args.prop_string(d, "artifact");
    let source = match &artifact {
        Some(_) if args.arg_count() == 0 => None,
        _ => args.string(d, "the path to bind"),
    };
    let target = args.prop_string(d, "target");
    let from_stage = args.prop_string(d, "stage");
    let rw = args.prop_bool(d, "rw");
    if let (Some(artifact), Some(source)) = (&artifact, &source) {
        let help = format!(
            "drop the path: artifact=\"{}\" is bound from the path it declares",
            artifact.value
        );
        let message = "a source path and `artifact=` on one bind";
        beside_artifact(d, message, ("path", source.span), artifact.span, help);
        return None;
    }
    if target.is_none() && !args.has("target") {
        missing_property(
            d,
            node,
            "target",
            "where to mount it, such as target=\"/src\"",
        );
    }
    if let (Some(artifact), Some(stage)) = (&artifact, &from_stage) {
        let help = format!(
            "drop `stage=`: artifact=\"{}\" already says where it is",
            artifact.value
        );
        let message = "`artifact=` and `stage=` on one bind";
        beside_artifact(d, message, ("stage", stage.span), artifact.span, help);
        return None;
    }
    let target = target?;
    let source = match (artifact, source, from_stage) {
        (Some(artifact), _, _) => BindSource::Artifact(artifact),
        (None, Some(path), None) => {
            values::check_context_path(&path, d);
            values::check_mount_word(&path, d);
            BindSource::Context(path)
        }
        (None, Some(path), Some(stage)) => {
            values::check_no_parent(&path, d);
            values::check_mount_word(&path, d);
            BindSource::Stage { stage, path }
        }
        (None, None, _) => return None,
    };
    values::check_absolute_path(&target, d);
    values::check_mount_word(&target, d);
    Some(MountDecl {
        kind: MountKind::Bind { source, target, rw },
        span: node.span(),
    })
}

/// A bind's `artifact=` beside a `what` (its path, its stage) that the
/// artifact already names: a conflict pointing at both.
fn beside_artifact(
    d: &mut Diagnostics,
    message: &str,
    (what, at): (&str, Span),
    artifact: Span,
    help: String,
) {
    d.push(
        Diagnostic::error(Code::Conflict, message)
            .primary(at, format!("a {what}"))
            .secondary(artifact, format!("an artifact, which names its {what}"))
            .help(help),
    );
}

/// A cache's `mode=`: a string of octal digits. An integer is refused with
/// its own help, because KDL reads `0755` as decimal 755.
fn cache_mode(args: &mut NodeArgs<'_>, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let entry = args.prop("mode")?;
    if let kdl::KdlValue::Integer(_) = entry.value() {
        d.push(
            Diagnostic::error(Code::InvalidValue, "a cache mode is a string of octal digits")
                .primary(entry.span(), "an integer")
                .help("write the octal digits as a string, such as mode=\"0755\": KDL reads an integer in decimal"),
        );
        return None;
    }
    let mode = expect_string(entry, d)?;
    values::check_chmod(&mode, d);
    Some(mode)
}

/// A command in exec form by default; `shell=#true` asks for shell form.
pub(super) fn decode_command(
    node: &KdlNode,
    args: &mut NodeArgs<'_>,
    d: &mut Diagnostics,
    shell_by_default: bool,
) -> Option<CommandDecl> {
    let words = args.rest_strings(d, "the command", 1);
    let shell = args
        .prop_bool(d, "shell")
        .map_or(shell_by_default, |b| b.value);
    if words.is_empty() {
        return None;
    }
    if shell && words.len() > 1 {
        d.push(
            Diagnostic::error(Code::ExtraArgument, "a shell-form command is one string")
                .primary(words[1].span, "a second string")
                .help("join the command into one string, or drop `shell=#true` for exec form"),
        );
        return None;
    }
    if !shell {
        warn_spaced_program(&words[0], d);
    }
    Some(CommandDecl {
        words,
        shell,
        span: node.span(),
    })
}

/// In exec form the first word is a program name: `"node server.js"` looks
/// for a program with a space in its name, which is almost never meant.
pub(super) fn warn_spaced_program(program: &Spanned<String>, d: &mut Diagnostics) {
    if program.value.trim().contains(char::is_whitespace) {
        d.push(
            Diagnostic::warning(
                Code::SpacedProgram,
                format!("exec form runs a program named `{}`", program.value.escape_debug()),
            )
            .primary(program.span, "one word with spaces in it")
            .help("write each word as its own string (\"node\" \"server.js\"), or add shell=#true to run it through the shell"),
        );
    }
}

pub(super) fn decode_run(
    node: &KdlNode,
    args: &mut NodeArgs<'_>,
    d: &mut Diagnostics,
) -> Option<RunDecl> {
    let words = args.rest_strings(d, "the command to run", 1);
    let exec = args.prop_bool(d, "exec").is_some_and(|b| b.value);
    let network = args.prop_string(d, "network").and_then(|n| {
        let Some(value) = Network::parse(&n.value) else {
            d.push(
                Diagnostic::error(Code::InvalidValue, format!("unknown network `{}`", n.value))
                    .primary(n.span, "not a network mode")
                    .help(format!("the network modes are: {}", Network::listed())),
            );
            return None;
        };
        Some(Spanned::new(value, n.span))
    });
    let insecure = args.prop_bool(d, "insecure");
    if words.is_empty() {
        return None;
    }
    if !exec && words.len() > 1 {
        d.push(
            Diagnostic::error(Code::ExtraArgument, "`run` takes one shell script")
                .primary(words[1].span, "a second string")
                .help("join the words into one script, or add `exec=#true` to run an argv without a shell"),
        );
        return None;
    }
    if exec {
        warn_spaced_program(&words[0], d);
    }
    Some(RunDecl {
        command: CommandDecl {
            words,
            shell: !exec,
            span: node.span(),
        },
        network,
        insecure,
    })
}
