//! What each item of a stage is to the optimizer: metadata, an arg, a
//! movable unit or a barrier, with what it reads, writes and costs.

use crate::cache;
use crate::frontend::ast::*;
use crate::plan::optimize::paths::{ImagePath, chown_reads, copy_writes, resolve_path};

/// Which args an item stops from moving past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ArgBarrier {
    None,
    /// Commands that may read any build arg without naming it.
    All,
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Metadata,
    Arg(String),
    Unit,
    Barrier(ArgBarrier),
}

#[derive(Clone, Debug)]
pub(super) struct ItemInfo {
    pub(super) role: Role,
    /// Atom ids whose change rebuilds the item by itself.
    pub(super) atoms: Vec<usize>,
    pub(super) cost: f64,
    /// It runs commands, which see every build arg in scope.
    pub(super) runs: bool,
    /// The text of its commands, for finding the args it names.
    commands: String,
    pub(super) reads: Vec<ImagePath>,
    pub(super) writes: Vec<ImagePath>,
    pub(super) label: String,
}

impl ItemInfo {
    pub(super) fn names(&self, arg: &str) -> bool {
        names_word(&self.commands, arg)
    }

    /// The words of its commands: an arg whose name [`is_word`] is named
    /// exactly where one of them is its name.
    pub(super) fn words(&self) -> impl Iterator<Item = &str> {
        self.commands
            .split(|c: char| !is_ident(c))
            .filter(|w| !w.is_empty())
    }
}

fn is_ident(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Whether a name is one word of letters, digits and `_`, as arg names are.
pub(super) fn is_word(name: &str) -> bool {
    !name.is_empty() && name.chars().all(is_ident)
}

/// Whether `word` appears in `text` as a whole identifier (`$V`, `${V}`, `V=1`, `printenv V`).
fn names_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

pub(super) fn quoted_plain(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quoted(values: &[Spanned<String>]) -> String {
    values
        .iter()
        .map(|v| format!("\"{}\"", v.value))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where metadata goes in `order` (which holds no metadata yet) for a
/// builder that commits a layer per instruction: just before the first copy
/// after the stage's last command. No instruction reads metadata, so any
/// place builds the same image; there, a source edit rebuilds only the
/// copies after it, and a metadata edit only those copies, never a command.
pub(super) fn metadata_position(order: &[usize], infos: &[ItemInfo]) -> usize {
    let after_last_command = order
        .iter()
        .rposition(|i| infos[*i].runs)
        .map_or(0, |p| p + 1);
    order[after_last_command..]
        .iter()
        .position(|i| infos[*i].role == Role::Unit)
        .map_or(order.len(), |p| after_last_command + p)
}

/// The context paths an item reads.
pub(super) fn context_paths(item: &Item) -> Vec<String> {
    match &item.kind {
        ItemKind::Step(step) => {
            let mut paths: Vec<String> = step.inputs.iter().map(|i| i.path.value.clone()).collect();
            for mount in &step.mounts {
                if let MountKind::Bind {
                    source: BindSource::Context(path),
                    ..
                } = &mount.kind
                {
                    paths.push(path.value.clone());
                }
            }
            paths
        }
        ItemKind::Copy(CopyDecl {
            source: CopySourceDecl::Context(paths),
            ..
        }) => paths.iter().map(|p| p.value.clone()).collect(),
        ItemKind::Add(add) => add
            .sources
            .iter()
            .filter(|s| !crate::frontend::values::is_url(&s.value))
            .map(|s| s.value.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// What an item is to the optimizer, given the atoms it reads from outside
/// the stage and the working directory it is written under.
pub(super) fn describe(
    item: &Item,
    atoms: Vec<usize>,
    workdir: Option<&str>,
    duplicate_args: &[String],
    stage_args: &[String],
) -> ItemInfo {
    let mut info = ItemInfo {
        role: Role::Barrier(ArgBarrier::None),
        atoms,
        cost: 0.0,
        runs: false,
        commands: String::new(),
        reads: Vec::new(),
        writes: Vec::new(),
        label: String::new(),
    };
    match &item.kind {
        ItemKind::Label { key, .. } => {
            info.role = Role::Metadata;
            info.label = format!("label \"{}\"", key.value);
        }
        ItemKind::Expose(_)
        | ItemKind::ExposeArgs(_)
        | ItemKind::Cmd(_)
        | ItemKind::Entrypoint(_)
        | ItemKind::Healthcheck(_)
        | ItemKind::StopSignal(_) => {
            info.role = Role::Metadata;
            info.label = match &item.kind {
                ItemKind::Expose(_) | ItemKind::ExposeArgs(_) => "expose",
                ItemKind::Cmd(_) => "cmd",
                ItemKind::Entrypoint(_) => "entrypoint",
                ItemKind::Healthcheck(_) => "healthcheck",
                _ => "stopsignal",
            }
            .into();
        }
        ItemKind::Arg { name, .. } => {
            info.label = format!("arg `{}`", name.value);
            info.role = if duplicate_args.contains(&name.value) {
                // Declared twice: each keeps its place.
                Role::Barrier(ArgBarrier::Name(name.value.clone()))
            } else {
                Role::Arg(name.value.clone())
            };
        }
        ItemKind::Env { name, .. } => {
            info.label = format!("env `{}`", name.value);
            info.role = Role::Barrier(ArgBarrier::Name(name.value.clone()));
        }
        ItemKind::Workdir(_) => info.label = "workdir".into(),
        ItemKind::User(_) => info.label = "user".into(),
        ItemKind::Shell(_) => info.label = "shell".into(),
        ItemKind::Volume(_) => info.label = "volume".into(),
        ItemKind::Run(run) => {
            info.label = "run".into();
            info.role = Role::Barrier(ArgBarrier::All);
            info.runs = true;
            info.commands = run.command.text();
            info.cost = cache::run_cost(&info.commands);
        }
        ItemKind::Step(step) => {
            info.label = format!("step `{}`", step.name.value);
            info.runs = true;
            info.commands = step
                .runs
                .iter()
                .map(|r| r.command.text())
                .collect::<Vec<_>>()
                .join("\n");
            let copies = crate::plan::inputs::input_copies(&step.inputs);
            let run_cost: f64 = match &step.order.cost {
                Some(cost) => f64::from(cost.value),
                None => step
                    .runs
                    .iter()
                    .map(|r| cache::run_cost(&r.command.text()))
                    .sum(),
            };
            info.cost = run_cost
                + copies
                    .iter()
                    .map(|c| {
                        let paths: Vec<&str> = c.paths.iter().map(String::as_str).collect();
                        cache::copy_cost(&paths, None)
                    })
                    .sum::<f64>();
            if step.order.writes.is_empty() {
                info.role = Role::Barrier(ArgBarrier::All);
            } else {
                info.role = Role::Unit;
                for copy in &copies {
                    let sources: Vec<(&str, bool)> =
                        copy.paths.iter().map(|p| (p.as_str(), true)).collect();
                    info.writes
                        .extend(copy_writes(&sources, &copy.dest.sketch(), workdir));
                }
                info.writes.extend(
                    step.order
                        .writes
                        .iter()
                        .map(|w| resolve_path(&w.value, workdir)),
                );
                info.reads = info.writes.clone();
                info.reads.extend(
                    step.order
                        .reads
                        .iter()
                        .map(|r| resolve_path(&r.value, workdir)),
                );
            }
        }
        ItemKind::Copy(copy) => {
            info.role = Role::Unit;
            // A copy from a stage is priced by the optimizer, which knows
            // how that stage was made.
            info.cost = match &copy.source {
                CopySourceDecl::Context(paths) | CopySourceDecl::Image { paths, .. } => {
                    let paths: Vec<&str> = paths.iter().map(|p| p.value.as_str()).collect();
                    cache::copy_cost(&paths, None)
                }
                CopySourceDecl::Artifact(_) => cache::COPY_COST,
            };
            info.reads = chown_reads(copy.chown.as_ref());
            let (label, sources): (String, Vec<(&str, bool)>) = match &copy.source {
                CopySourceDecl::Context(paths) => (
                    format!("copy {}", quoted(paths)),
                    paths.iter().map(|p| (p.value.as_str(), true)).collect(),
                ),
                CopySourceDecl::Artifact(reference) => (
                    format!("copy artifact=\"{}\"", reference.value),
                    vec![(reference.value.as_str(), false)],
                ),
                CopySourceDecl::Image { image, paths } => (
                    format!("copy image=\"{}\"", image.value),
                    paths.iter().map(|p| (p.value.as_str(), false)).collect(),
                ),
            };
            info.label = label;
            info.writes = match (&copy.to, &copy.source) {
                (Some(to), _) => copy_writes(&sources, &to.value.sketch(), workdir),
                (None, CopySourceDecl::Context(paths)) => {
                    crate::plan::inputs::in_place_copies(paths)
                        .iter()
                        .flat_map(|(paths, dest)| {
                            let sources: Vec<(&str, bool)> =
                                paths.iter().map(|p| (p.as_str(), true)).collect();
                            copy_writes(&sources, dest, workdir)
                        })
                        .collect()
                }
                (None, _) => Vec::new(),
            };
        }
        ItemKind::Add(add) => {
            info.role = Role::Unit;
            let paths: Vec<&str> = add.sources.iter().map(|p| p.value.as_str()).collect();
            info.cost = cache::copy_cost(&paths, None);
            info.label = format!("add {}", quoted(&add.sources));
            info.reads = chown_reads(add.chown.as_ref());
            // Archives unpack and URLs name their own files: all of `to`.
            info.writes = vec![resolve_path(&add.to.value, workdir)];
        }
    }
    // A value naming one of the stage's own build arguments keeps its
    // place: no arg moves past it, and nothing is proven about where it
    // writes. One naming only global or automatic arguments is declared
    // by lowering just before it, wherever it lands, so metadata still
    // goes last (a label with the commit's hash rebuilds nothing else);
    // a path that names one is still unknown.
    let words = crate::middle::args::item_words(item);
    let names_stage_arg = words
        .iter()
        .flat_map(|w| w.value.args())
        .any(|a| stage_args.iter().any(|s| s == a));
    let names_path = matches!(item.kind, ItemKind::Copy(_) | ItemKind::Workdir(_))
        && words.iter().any(|w| w.value.has_args());
    if names_stage_arg || names_path {
        info.role = Role::Barrier(ArgBarrier::All);
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_whole_words() {
        assert!(names_word("echo $VERSION", "VERSION"));
        assert!(names_word("make VERSION=1", "VERSION"));
        assert!(!names_word("echo $VERSIONS", "VERSION"));
        assert!(!names_word("echo $APP_VERSION", "VERSION"));
    }
}
