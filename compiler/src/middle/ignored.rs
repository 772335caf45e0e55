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
use crate::middle::contexts;
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

/// Every context path that a build of `stages` from folder `build` reads
/// and its `.dockerignore` (`file`, named `name` in messages) leaves out.
/// Each stage's paths are judged from the build's folder, as the builder
/// sees them.
pub(crate) fn check_build(
    spec: &Spec,
    build: &str,
    stages: &[StageId],
    file: &IgnoreFile,
    name: &str,
    d: &mut Diagnostics,
) {
    for &id in stages {
        let prefix = contexts::prefix(build, contexts::folder(spec, id));
        for (path, read) in contexts::reads(spec, id) {
            if path.value.starts_with('/') {
                continue;
            }
            let seen = contexts::prefixed(&prefix, &path.value, false);
            let Some((number, line)) = file.excluding_line(&seen) else {
                continue;
            };
            d.push(
                Diagnostic::error(
                    Code::Ignored,
                    format!(
                        "`{}` is left out of the build context by {name} line {number} (`{line}`)",
                        path.value
                    ),
                )
                .primary(
                    path.span,
                    format!("{}, but the builder never receives it", read.describe()),
                )
                .help(format!(
                    "remove `{line}` from {name} or add `!{}` after it; or let stowplan write the .dockerignore from the spec (`output \"{}\"`)",
                    normalize_context_path(&seen),
                    dockerignore_path(build),
                )),
            );
        }
    }
}

/// Where the `.dockerignore` of a build from `build` is, from the spec's folder.
pub(crate) fn dockerignore_path(build: &str) -> String {
    match build {
        "." => ".dockerignore".to_owned(),
        folder => format!("{folder}/.dockerignore"),
    }
}
