//! Context paths the spec reads but the context's `.dockerignore` leaves
//! out (`flow::ignored`). The builder never sends them: a `copy` or a
//! step's input fails with "not found", a bind mount sees nothing. Found
//! at the spec, with the `.dockerignore` line that drops the path.
//!
//! A path is judged as the builders' matcher (`cache::Ignore`) judges it; a
//! path some later `!` line could bring back in part (`web/` then
//! `!web/dist`) is not reported, nor are wildcards, which may match what
//! stays.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::cache::{Ignore, normalize_context_path};
use crate::frontend::ast::*;
use crate::middle::resolve::{Spec, StageId};

/// One `.dockerignore` line: its number, its text and it alone as a matcher.
struct Line {
    number: usize,
    text: String,
    negated: bool,
    matcher: Ignore,
    /// The pattern's components, to see whether a `!` line reaches below a path.
    parts: Vec<String>,
}

/// The context's `.dockerignore`, line by line.
pub(crate) struct IgnoreFile {
    lines: Vec<Line>,
}

impl IgnoreFile {
    pub(crate) fn parse(text: &str) -> IgnoreFile {
        let lines = text
            .lines()
            .enumerate()
            .filter_map(|(i, raw)| {
                let line = raw.trim();
                if line.is_empty() || line.starts_with('#') {
                    return None;
                }
                let (negated, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let parts: Vec<String> = normalize_context_path(pattern)
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect();
                (!parts.is_empty()).then(|| Line {
                    number: i + 1,
                    text: line.to_owned(),
                    negated,
                    matcher: Ignore::parse(pattern),
                    parts,
                })
            })
            .collect();
        IgnoreFile { lines }
    }

    /// The line that leaves `path` out of the context, if one does and no
    /// later `!` line could bring anything below it back.
    pub(crate) fn excluding_line(&self, path: &str) -> Option<(usize, &str)> {
        let path = normalize_context_path(path);
        if path.is_empty() || crate::cache::is_glob(&path) {
            return None;
        }
        let components: Vec<&str> = path.split('/').collect();
        let last = self.lines.iter().rposition(|l| l.matcher.excludes(&path))?;
        let line = &self.lines[last];
        if line.negated {
            return None;
        }
        let reopens = self.lines[last + 1..].iter().any(|l| {
            l.negated
                && l.parts.len() > components.len()
                && components
                    .iter()
                    .zip(&l.parts)
                    .all(|(c, p)| p == "**" || crate::cache::match_component(p, c))
        });
        (!reopens).then_some((line.number, line.text.as_str()))
    }
}

/// Every context path of the spec that the `.dockerignore` leaves out
/// (`flow` reads the file from the context).
pub(crate) fn check_spec(spec: &Spec, file: &IgnoreFile, d: &mut Diagnostics) {
    let check = |d: &mut Diagnostics, path: &Spanned<String>, what: &str| {
        if path.value.starts_with('/') {
            return;
        }
        let Some((number, line)) = file.excluding_line(&path.value) else {
            return;
        };
        d.push(
            Diagnostic::error(
                Code::Ignored,
                format!(
                    "`{}` is left out of the build context by .dockerignore line {number} (`{line}`)",
                    path.value
                ),
            )
            .primary(path.span, format!("{what}, but the builder never receives it"))
            .help(format!(
                "remove `{line}` from .dockerignore or add `!{}` after it; or let stowplan write the .dockerignore from the spec (`output \".dockerignore\"`)",
                normalize_context_path(&path.value)
            )),
        );
    };
    for (i, stage) in spec.stages.iter().enumerate() {
        for (n, item) in stage.items.iter().enumerate() {
            match &item.kind {
                ItemKind::Copy(CopyDecl {
                    source: CopySourceDecl::Context(paths),
                    ..
                }) => paths.iter().for_each(|p| check(d, p, "copied")),
                ItemKind::Add(add) => add
                    .sources
                    .iter()
                    .filter(|s| !crate::frontend::values::is_url(&s.value))
                    .for_each(|p| check(d, p, "added")),
                ItemKind::Step(step) => {
                    step.inputs
                        .iter()
                        .for_each(|input| check(d, &input.path, "a step's input"));
                    let refs = spec.item_refs(StageId(i), n);
                    for (m, mount) in step.mounts.iter().enumerate() {
                        if let (
                            MountKind::Bind {
                                source: BindSource::Context(source),
                                ..
                            },
                            None,
                        ) = (&mount.kind, refs.mount_stage(m))
                        {
                            check(d, source, "bound from the context");
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
