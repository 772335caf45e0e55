//! Where a stage installs packages that may hold native code (Node's
//! `node_modules`, a Python virtual environment or `--target` tree), so
//! that `flow::libc-mismatch` also sees a *folder* artifact that contains
//! them: `/app/` after `npm ci` in `/app`, a Next.js `.next/standalone`
//! (which carries the `node_modules` it traced), a venv made below it.
//! Compiling never reads the project's files: this reads the commands.

use crate::base::diagnostic::Span;
use crate::frontend::ast::*;
use crate::frontend::values::absolute;
use crate::middle::resolve::{Spec, StageId};

/// Commands that install packages into the working directory.
const INSTALLS: &[&str] = &[
    "npm ci",
    "npm install",
    "npm i ",
    "yarn install",
    "yarn --frozen",
    "pnpm install",
    "pnpm i ",
    "bun install",
    "pip install",
    "pip3 install",
    "poetry install",
    "uv sync",
    "uv pip install",
    "pipenv install",
];

/// The words after which a command names the folder packages go to.
const TARGETS: &[&str] = &["-m venv", "virtualenv", "uv venv", "--target", "--prefix"];

/// The folders a command installs packages into: its working directory for
/// an install, and the folder a venv or `--target` names.
fn installs_into(command: &str, workdir: &str, out: &mut Vec<String>) {
    let padded = format!("{command} ");
    if INSTALLS.iter().any(|i| padded.contains(i)) {
        out.push(workdir.to_owned());
    }
    for target in TARGETS {
        for (at, _) in command.match_indices(target) {
            // The first word after the options (`-m venv --without-pip DIR`).
            let rest = command[at + target.len()..].trim_start_matches('=');
            let folder = rest
                .split_whitespace()
                .find(|w| !w.starts_with('-'))
                .map(|w| w.trim_end_matches(['&', ';', '|']));
            if let Some(folder) = folder.filter(|f| !f.is_empty()) {
                out.push(absolute(workdir, folder));
            }
        }
    }
}

/// The command that installed packages into the folder artifact at `path`,
/// made in `producer` or a stage it builds on, if one did.
pub(crate) fn holds_packages(spec: &Spec, producer: StageId, path: &str) -> Option<Span> {
    let mut chain = vec![producer];
    while let Some(parent) = spec.parent(*chain.last().unwrap()) {
        chain.push(parent);
    }
    // Each folder packages went into, with the command that put them there.
    let mut folders: Vec<(String, Span)> = Vec::new();
    for id in chain.iter().rev() {
        let mut workdir = "/".to_owned();
        for item in &spec.stage(*id).items {
            let runs: Vec<&RunDecl> = match &item.kind {
                ItemKind::Workdir(w) => {
                    workdir = absolute(&workdir, &w.value.sketch());
                    continue;
                }
                ItemKind::Run(run) => vec![run],
                ItemKind::Step(step) => step.runs.iter().collect(),
                _ => continue,
            };
            for run in runs {
                let mut found = Vec::new();
                installs_into(&run.command.text(), &workdir, &mut found);
                folders.extend(found.into_iter().map(|f| (f, run.command.span)));
            }
        }
    }
    let artifact = absolute("/", path);
    let inside = format!("{}/", artifact.trim_end_matches('/'));
    folders
        .iter()
        .find(|(f, _)| f == &artifact || f.starts_with(&inside))
        // Next.js copies the node_modules its server needs into standalone/.
        .or_else(|| {
            folders
                .first()
                .filter(|_| artifact.contains("/.next/standalone"))
        })
        .map(|(_, span)| *span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folders(command: &str, workdir: &str) -> Vec<String> {
        let mut out = Vec::new();
        installs_into(command, workdir, &mut out);
        out
    }

    #[test]
    fn install_folders_from_commands() {
        assert_eq!(folders("npm ci --omit=dev", "/app"), ["/app"]);
        assert_eq!(folders("npm run build", "/app"), Vec::<String>::new());
        assert_eq!(
            folders(
                "python -m venv /opt/venv && /opt/venv/bin/pip install -r r.txt",
                "/src"
            ),
            ["/src", "/opt/venv"]
        );
        assert_eq!(
            folders("python -m venv --without-pip .venv", "/srv/app"),
            ["/srv/app/.venv"]
        );
        assert_eq!(
            folders("pip install --target=deps -r r.txt", "/app"),
            ["/app", "/app/deps"]
        );
    }
}
