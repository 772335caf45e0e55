//! Where a stage installs packages that may hold native code (Node's
//! `node_modules`, a Python virtual environment or `--target` tree), so
//! that `flow::libc-mismatch` also sees a *folder* artifact that contains
//! them: `/app/` after `npm ci` in `/app`, a Next.js `.next/standalone`
//! (which carries the `node_modules` it traced), a venv made below it.
//! Compiling never reads the project's files: this reads the commands.

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

fn text(command: &CommandDecl) -> String {
    command
        .words
        .iter()
        .map(|w| w.value.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

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

/// Whether the folder artifact at `path`, made in `producer`, holds
/// packages installed in that stage or a stage it builds on.
pub(crate) fn holds_packages(spec: &Spec, producer: StageId, path: &str) -> bool {
    let mut chain = vec![producer];
    while let Some(parent) = spec.parent(*chain.last().unwrap()) {
        chain.push(parent);
    }
    let mut folders: Vec<String> = Vec::new();
    for id in chain.iter().rev() {
        let mut workdir = "/".to_owned();
        for item in &spec.stage(*id).items {
            match &item.kind {
                ItemKind::Workdir(w) => workdir = absolute(&workdir, &w.value.sketch()),
                ItemKind::Run(run) => installs_into(&text(&run.command), &workdir, &mut folders),
                ItemKind::Step(step) => step
                    .runs
                    .iter()
                    .for_each(|r| installs_into(&text(&r.command), &workdir, &mut folders)),
                _ => {}
            }
        }
    }
    if folders.is_empty() {
        return false;
    }
    let artifact = absolute("/", path);
    // Next.js copies the node_modules its server needs into standalone/.
    artifact.contains("/.next/standalone")
        || folders.iter().any(|f| {
            f == &artifact || f.starts_with(&format!("{}/", artifact.trim_end_matches('/')))
        })
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
