//! Resolved [`Spec`] → [`Plan`].
//!
//! Lowering turns declarations into instructions: a step's declared inputs
//! become the copies just before its commands, an artifact copy becomes a
//! copy from the producing stage. It keeps the written order of items.

use crate::frontend::ast::*;
use crate::middle::resolve::{BaseRef, ItemRefs, Spec, StageId};
pub use crate::middle::select::{Selection, needed_stages};
use crate::plan::inputs::{in_place, input_copies};
use crate::plan::ir::{self as plan, Base, Command, Instruction, Located, Mount, Plan};
use crate::plan::optimize::{Optimizer, OrderOptions, OrderReport};
use crate::plan::sources::keep_directory_names;

#[cfg(test)]
pub(crate) fn lower(spec: &Spec, selection: &Selection, source_name: &str) -> Plan {
    lower_ordered(spec, selection, source_name, &OrderOptions::default()).0
}

/// Lowers with the layer-order optimizer (spec/cache.md) choosing the order
/// of each stage's items; also says what moved. The plan has one context.
#[cfg(test)]
pub(crate) fn lower_ordered(
    spec: &Spec,
    selection: &Selection,
    source_name: &str,
    order: &OrderOptions,
) -> (Plan, OrderReport) {
    lower_with(spec, selection, source_name, order, false)
}

/// The same, with each stage folder but the build's in a named context
/// when `named_contexts` (an output's `contexts="named"`).
pub(crate) fn lower_with(
    spec: &Spec,
    selection: &Selection,
    source_name: &str,
    order: &OrderOptions,
    named_contexts: bool,
) -> (Plan, OrderReport) {
    let stages = needed_stages(spec, selection);
    let mut optimizer = Optimizer::new(spec, order);
    let mut report = OrderReport::default();
    // The effective SHELL at the end of each stage, for stages built on it.
    let mut final_shells: Vec<Option<Vec<String>>> = vec![None; spec.stages.len()];
    let mut planned = Vec::with_capacity(stages.len());
    for &id in &stages {
        let decl = spec.stage(id);
        let (base, mut shell) = match spec.base(id) {
            Some(BaseRef::Image(image)) if image.is_scratch() => {
                (Base::Scratch, plan::default_shell())
            }
            Some(BaseRef::Image(image)) => (
                match &image.word {
                    Some(word) => Base::ImageArgs(word.clone()),
                    None => Base::Image(image.written.value.clone()),
                },
                plan::default_shell(),
            ),
            Some(BaseRef::Stage(parent)) => {
                let shell = final_shells[parent.0]
                    .clone()
                    .unwrap_or_else(plan::default_shell);
                (Base::Stage(spec.stage(*parent).name.value.clone()), shell)
            }
            None => unreachable!("decoder rejects stages without `from`"),
        };
        // Each item is lowered with the shell in effect where it was
        // written: `shell` never moves past a command, but metadata such as
        // a shell-form `cmd` may move past a `shell`.
        let mut shells = Vec::with_capacity(decl.items.len());
        for item in &decl.items {
            shells.push(shell.clone());
            if let ItemKind::Shell(words) = &item.kind {
                shell = strings(words);
            }
        }
        let ordering = optimizer.order_stage(id);
        report.stages.push(ordering.report);
        let mut instructions = Vec::new();
        for i in ordering.items {
            let start = instructions.len();
            lower_item(spec, id, i, &mut shells[i], &mut instructions);
            // A step lowers to its input copies first; the optimizer may order them.
            if let Some(inputs) = &ordering.inputs[i] {
                let copies: Vec<Located<Instruction>> =
                    instructions.drain(start..start + inputs.len()).collect();
                let reordered: Vec<Located<Instruction>> =
                    inputs.iter().map(|k| copies[*k].clone()).collect();
                instructions.splice(start..start, reordered);
            }
        }
        redeclare_args(spec, &mut instructions);
        final_shells[id.0] = Some(shell);
        planned.push(plan::Stage {
            name: decl.name.value.clone(),
            kind: decl.kind,
            base,
            platform: decl.platform.as_ref().map(|p| p.value.clone()),
            platforms: strings(&decl.platforms),
            tags: decl.tags.iter().map(|t| t.value.clone()).collect(),
            instructions,
            origin: decl.span,
        });
    }
    let plan = Plan {
        source_name: source_name.to_owned(),
        args: spec
            .args
            .iter()
            .map(|a| plan::GlobalArg {
                name: a.name.value.clone(),
                default: a.default.as_ref().map(|d| d.value.clone()),
                origin: a.span,
            })
            .collect(),
        stages: planned,
        context: ".".to_owned(),
        named_contexts: Vec::new(),
    };
    let mut plan = plan;
    crate::plan::contexts::apply(&mut plan, spec, &stages, named_contexts);
    (plan, report)
}

/// A global or automatic build argument is not in a stage's scope until
/// the stage declares it again (Dockerfile semantics): `ARG NAME`, without
/// a default, just before the first instruction that names it.
fn redeclare_args(spec: &Spec, instructions: &mut Vec<Located<Instruction>>) {
    let mut declared: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(instructions.len());
    for instruction in instructions.drain(..) {
        if let Instruction::Arg { name, .. } = &instruction.value {
            declared.push(name.clone());
        }
        let mut named: Vec<String> = Vec::new();
        for word in instruction.value.words() {
            for name in word.args() {
                if !declared.iter().any(|d| d == name) && !named.iter().any(|n| n == name) {
                    named.push(name.to_owned());
                }
            }
        }
        for name in named {
            debug_assert!(
                spec.args.iter().any(|a| a.name.value == name)
                    || crate::base::word::is_automatic(&name),
                "the resolver checked every reference"
            );
            out.push(Located {
                value: Instruction::Arg {
                    name: name.clone(),
                    default: None,
                },
                origin: instruction.origin,
            });
            declared.push(name);
        }
        out.push(instruction);
    }
    *instructions = out;
}

/// `to`, with a directory's name after it when several sources split
/// (as [`keep_directory_names`] does for text).
fn word_destinations(paths: &[String], to: &Word) -> Vec<(Vec<String>, Word)> {
    let sketch = to.sketch();
    keep_directory_names(paths, &sketch, |_| true)
        .into_iter()
        .map(|(paths, dest)| {
            let mut word = to.clone();
            word.push_text(dest.strip_prefix(sketch.as_str()).unwrap_or(""));
            (paths, word)
        })
        .collect()
}

fn strings(values: &[Spanned<String>]) -> Vec<String> {
    values.iter().map(|v| v.value.clone()).collect()
}

fn command(decl: &CommandDecl, shell: &[String]) -> Command {
    if decl.shell {
        Command::Shell {
            script: decl.words[0].value.clone(),
            shell: shell.to_vec(),
        }
    } else {
        Command::Exec(strings(&decl.words))
    }
}

/// Lowers item number `index` of a stage.
fn lower_item(
    spec: &Spec,
    stage: StageId,
    index: usize,
    shell: &mut Vec<String>,
    out: &mut Vec<Located<Instruction>>,
) {
    let item = &spec.stage(stage).items[index];
    let refs = spec.item_refs(stage, index);
    let mut push = |value: Instruction| {
        out.push(Located {
            value,
            origin: item.span,
        })
    };
    match &item.kind {
        ItemKind::Workdir(path) => push(Instruction::Workdir(path.value.clone())),
        ItemKind::Env { name, value } => push(Instruction::Env {
            name: name.value.clone(),
            value: value.value.clone(),
        }),
        ItemKind::Arg { name, default } => push(Instruction::Arg {
            name: name.value.clone(),
            default: default.as_ref().map(|d| d.value.clone()),
        }),
        ItemKind::Label { key, value } => push(Instruction::Label {
            key: key.value.clone(),
            value: value.value.clone(),
        }),
        ItemKind::Expose(ports) => {
            for port in ports {
                push(Instruction::Expose(port.value));
            }
        }
        ItemKind::ExposeArgs(ports) => {
            for port in ports {
                push(Instruction::ExposeArg(port.value.clone()));
            }
        }
        ItemKind::User(user) => push(Instruction::User(user.value.clone())),
        ItemKind::Volume(paths) => push(Instruction::Volume(strings(paths))),
        ItemKind::Healthcheck(HealthcheckDecl::None) => push(Instruction::Healthcheck(None)),
        ItemKind::Healthcheck(HealthcheckDecl::Check(check)) => {
            push(Instruction::Healthcheck(Some(plan::Healthcheck {
                command: command(&check.command, shell),
                interval: check.interval.as_ref().map(|v| v.value.clone()),
                timeout: check.timeout.as_ref().map(|v| v.value.clone()),
                start_period: check.start_period.as_ref().map(|v| v.value.clone()),
                start_interval: check.start_interval.as_ref().map(|v| v.value.clone()),
                retries: check.retries.as_ref().map(|v| v.value),
            })))
        }
        ItemKind::Shell(words) => {
            *shell = strings(words);
            push(Instruction::Shell(shell.clone()));
        }
        ItemKind::StopSignal(signal) => push(Instruction::StopSignal(signal.value.clone())),
        ItemKind::Entrypoint(cmd) => push(Instruction::Entrypoint(command(cmd, shell))),
        ItemKind::Cmd(cmd) => push(Instruction::Cmd(command(cmd, shell))),
        ItemKind::Run(run) => push(Instruction::Run(lower_run(run, &[], shell))),
        ItemKind::Copy(copy) => {
            let (source, paths) = match &copy.source {
                CopySourceDecl::Context(paths) => (plan::CopySource::Context, strings(paths)),
                CopySourceDecl::Image { image, paths } => {
                    (plan::CopySource::Image(image.value.clone()), strings(paths))
                }
                CopySourceDecl::Artifact(_) => {
                    let artifact = spec.presume_copied_artifact(stage, index);
                    (
                        plan::CopySource::Stage(spec.stage(artifact.stage).name.value.clone()),
                        vec![spec.artifact(artifact).path.value.clone()],
                    )
                }
            };
            let copies = match (&copy.to, &copy.source) {
                // Among several sources, a directory keeps its name.
                (Some(to), _) => word_destinations(&paths, &to.value)
                    .into_iter()
                    .map(|(paths, dest)| (paths, dest, false))
                    .collect(),
                (None, CopySourceDecl::Context(written)) => in_place(written, &copy.exclude)
                    .into_iter()
                    .map(|c| (c.paths, c.dest, c.parents))
                    .collect::<Vec<_>>(),
                (None, _) => unreachable!("the decoder requires `to=` but for context paths"),
            };
            for (paths, dest, parents) in copies {
                push(Instruction::Copy(plan::Copy {
                    source: source.clone(),
                    paths,
                    dest,
                    chown: copy.chown.as_ref().map(|v| v.value.clone()),
                    chmod: copy.chmod.as_ref().map(|v| v.value.clone()),
                    link: copy.link.as_ref().is_some_and(|v| v.value),
                    parents,
                    exclude: copy.exclude.clone(),
                }));
            }
        }
        ItemKind::Add(add) => {
            let sources = strings(&add.sources);
            let local = |s: &str| !crate::base::keywords::is_url(s);
            for (sources, dest) in keep_directory_names(&sources, &add.to.value, local) {
                push(Instruction::Add(plan::Add {
                    sources,
                    dest,
                    chown: add.chown.as_ref().map(|v| v.value.clone()),
                    chmod: add.chmod.as_ref().map(|v| v.value.clone()),
                    checksum: add.checksum.as_ref().map(|v| v.value.clone()),
                }));
            }
        }
        ItemKind::Step(step) => {
            for copy in input_copies(&step.inputs) {
                push(Instruction::Copy(copy));
            }
            let mounts: Vec<Located<Mount>> = step
                .mounts
                .iter()
                .enumerate()
                .map(|(m, mount)| Located {
                    value: lower_mount(spec, mount, refs, m),
                    origin: mount.span,
                })
                .collect();
            for run in &step.runs {
                push(Instruction::Run(lower_run(run, &mounts, shell)));
            }
        }
    }
}

fn lower_run(run: &RunDecl, mounts: &[Located<Mount>], shell: &[String]) -> plan::Run {
    plan::Run {
        command: command(&run.command, shell),
        mounts: mounts.to_vec(),
        network: run.network.as_ref().map(|n| n.value),
        insecure: run.insecure.as_ref().is_some_and(|i| i.value),
    }
}

/// Lowers mount number `index` of a step whose references are `refs`.
fn lower_mount(spec: &Spec, mount: &MountDecl, refs: &ItemRefs, index: usize) -> Mount {
    match &mount.kind {
        MountKind::Cache {
            target,
            id,
            sharing,
            uid,
            gid,
            mode,
        } => Mount::Cache {
            target: target.value.clone(),
            id: id.as_ref().map(|v| v.value.clone()),
            sharing: sharing.as_ref().map(|v| v.value),
            uid: uid.as_ref().map(|v| v.value),
            gid: gid.as_ref().map(|v| v.value),
            mode: mode.as_ref().map(|v| v.value.clone()),
        },
        MountKind::Secret {
            id,
            target,
            required,
            env,
        } => Mount::Secret {
            id: id.value.clone(),
            target: target.as_ref().map(|v| v.value.clone()),
            required: required.as_ref().is_some_and(|v| v.value),
            env: env.as_ref().map(|v| v.value.clone()),
        },
        MountKind::Bind { source, target, rw } => Mount::Bind {
            source: match source {
                BindSource::Context(path) | BindSource::Stage { path, .. } => path.value.clone(),
                // An artifact is read at its path in its stage.
                BindSource::Artifact(_) => {
                    let artifact = refs
                        .mount_artifact(index)
                        .expect("resolver resolved every bound artifact");
                    spec.artifact(artifact).path.value.clone()
                }
            },
            target: target.value.clone(),
            from_stage: refs
                .mount_stage(index)
                .map(|s| spec.stage(s).name.value.clone()),
            rw: rw.as_ref().is_some_and(|v| v.value),
        },
        MountKind::Tmpfs { target, size } => Mount::Tmpfs {
            target: target.value.clone(),
            size: size.as_ref().map(|v| v.value),
        },
        MountKind::Ssh { id, required } => Mount::Ssh {
            id: id.as_ref().map(|v| v.value.clone()),
            required: required.as_ref().is_some_and(|v| v.value),
        },
    }
}
