//! What rebuilding an instruction costs, in seconds of a typical build.
//! Only the ratios matter: they weigh a rebuild of `npm ci` against a COPY.
//!
//! A command line is priced as the sum of its parts (`pnpm install &&
//! pnpm run build` is an install and a build), each part by the tool it
//! runs. A copy is priced by what it carries: a dependency tree, or the
//! output of an install, is heavy; a few files are not.

pub const COPY_COST: f64 = 1.0;
/// A copy of a dependency tree (`node_modules`, a venv, `target/`, ...)
/// or of an install's output: tens of thousands of files.
pub const HEAVY_COPY_COST: f64 = 10.0;
pub const INSTALL_COST: f64 = 60.0;
pub const BUILD_COST: f64 = 30.0;
pub const OTHER_RUN_COST: f64 = 5.0;

/// What kind of work a command does, guessed from well-known tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// Downloads and installs packages: `npm ci`, `pip install`, `go mod download`, ...
    Install,
    /// Compiles or bundles: `go build`, `npm run build`, `cargo build`, `make`, ...
    Build,
    Other,
}

/// The parts of a command line: what `&&`, `||`, `;`, `|`, `&`, a
/// newline or a subshell's parentheses separate. `sh -c "a && b"` splits
/// the same way, its quotes being no separators of words.
fn parts(command: &str) -> Vec<Vec<String>> {
    let lower = command.to_ascii_lowercase().replace("\\\n", " ");
    lower
        .split(['&', '|', ';', '\n', '(', ')', '`'])
        .map(|part| {
            part.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\''))
                .filter(|w| !w.is_empty())
                // `./manage.py` and `manage.py` are one program, and so
                // are `/opt/venv/bin/pip` and `pip`.
                .map(|w| match w.rsplit_once('/') {
                    Some((_, name)) if !name.is_empty() => name.to_owned(),
                    _ => w.to_owned(),
                })
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty())
        .collect()
}

/// The kind of one part, by the tool it runs.
fn part_kind(words: &[String]) -> RunKind {
    let pair = |a: &str, b: &[&str]| {
        words
            .windows(2)
            .any(|w| w[0] == a && b.contains(&w[1].as_str()))
    };
    let any = |names: &[&str]| words.iter().any(|w| names.contains(&w.as_str()));
    let install = pair("npm", &["ci", "install", "i", "add"])
        || pair("pnpm", &["install", "i", "add", "fetch"])
        || pair("yarn", &["install", "add"])
        || yarn_bare_install(words)
        || pair("bun", &["install", "i", "add"])
        || pair("pip", &["install", "wheel", "download"])
        || pair("pip3", &["install", "wheel", "download"])
        || pair("pipx", &["install"])
        || pair("poetry", &["install"])
        || pair("pipenv", &["install", "sync"])
        || pair("pdm", &["install", "sync"])
        || pair("uv", &["sync", "pip"])
        || pair("conda", &["install", "create"])
        || pair("mamba", &["install", "create"])
        || pair("micromamba", &["install", "create"])
        || pair("mod", &["download"])
        || pair("go", &["get"])
        || pair("apt-get", &["install"])
        || pair("apt", &["install"])
        || pair("apk", &["add"])
        || pair("dnf", &["install"])
        || pair("microdnf", &["install"])
        || pair("yum", &["install"])
        || pair("zypper", &["install", "in"])
        || pair("bundle", &["install"])
        || pair("gem", &["install"])
        || pair("cargo", &["fetch"])
        || pair("composer", &["install", "require"])
        || pair("dotnet", &["restore"])
        || pair("mix", &["deps.get"])
        || pair("deno", &["cache", "install"])
        || pair("gradle", &["dependencies"])
        || pair("gradlew", &["dependencies"])
        || (any(&["mvn", "mvnw"])
            && words.iter().any(|w| {
                w.starts_with("dependency:go-offline") || w.starts_with("dependency:resolve")
            }));
    if install {
        return RunKind::Install;
    }
    let build = pair("go", &["build", "install"])
        || pair("npm", &["run"])
        || pair("yarn", &["build", "run"])
        || pair("pnpm", &["build", "run"])
        || pair("bun", &["build", "run"])
        || pair("cargo", &["build", "install"])
        || pair("dotnet", &["build", "publish"])
        || pair("vite", &["build"])
        || pair("next", &["build"])
        || pair("manage.py", &["collectstatic", "compress"])
        || words.iter().any(|w| {
            matches!(
                w.as_str(),
                "make"
                    | "mvn"
                    | "mvnw"
                    | "gradle"
                    | "gradlew"
                    | "tsc"
                    | "webpack"
                    | "cmake"
                    | "ninja"
            ) || w.starts_with("build:")
        });
    if build {
        RunKind::Build
    } else {
        RunKind::Other
    }
}

/// `yarn` with no command (flags at most) installs.
fn yarn_bare_install(words: &[String]) -> bool {
    words
        .iter()
        .enumerate()
        .any(|(i, w)| w == "yarn" && words.get(i + 1).is_none_or(|n| n.starts_with("--")))
}

/// The kind of a whole command: an install when a part installs, else a
/// build when a part builds.
pub fn run_kind(command: &str) -> RunKind {
    let kinds: Vec<RunKind> = parts(command).iter().map(|p| part_kind(p)).collect();
    if kinds.contains(&RunKind::Install) {
        RunKind::Install
    } else if kinds.contains(&RunKind::Build) {
        RunKind::Build
    } else {
        RunKind::Other
    }
}

/// What a command leaves behind: the kind of its last part that installs
/// or builds (cleanup such as `rm -rf` after it does not count). `npm ci
/// && npm run build` leaves a build; `pip install ... && rm -rf ~/.cache`
/// an install.
pub fn output_kind(command: &str) -> RunKind {
    parts(command)
        .iter()
        .map(|p| part_kind(p))
        .rfind(|k| *k != RunKind::Other)
        .unwrap_or(RunKind::Other)
}

/// The sum of the command's installs and builds; a command with neither
/// costs [`OTHER_RUN_COST`]. Parts that do neither (`cd`, `rm`, `mkdir`)
/// cost nothing beside an install or a build.
pub fn run_cost(command: &str) -> f64 {
    let total: f64 = parts(command)
        .iter()
        .map(|p| match part_kind(p) {
            RunKind::Install => INSTALL_COST,
            RunKind::Build => BUILD_COST,
            RunKind::Other => 0.0,
        })
        .sum();
    if total > 0.0 { total } else { OTHER_RUN_COST }
}

/// Folder names that hold a dependency tree.
const DEPENDENCY_TREES: &[&str] = &[
    "node_modules",
    "bower_components",
    ".pnpm-store",
    ".venv",
    "venv",
    "site-packages",
    "dist-packages",
    ".local",
    "target",
    ".m2",
    ".gradle",
    ".cargo",
    "vendor",
    ".bundle",
];

/// Whether a path (in the context or in a stage) names a dependency tree
/// or something inside one: a component is one of [`DEPENDENCY_TREES`],
/// or the path runs through Go's module cache (`pkg/mod`).
pub fn is_dependency_tree(path: &str) -> bool {
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    components.iter().any(|c| DEPENDENCY_TREES.contains(c))
        || components.windows(2).any(|w| w == ["pkg", "mod"])
}

/// What a copy from a stage is known to carry: how the stage (with the
/// stages it is built on) was made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Producer {
    /// What its last command left behind ([`output_kind`]).
    pub last: Option<RunKind>,
    /// Whether some command of it installed packages.
    pub installed: bool,
    /// Its final working directory, when known.
    pub workdir: Option<String>,
}

impl Producer {
    /// The stage after one more command.
    pub fn ran(&mut self, command: &str) {
        self.last = Some(output_kind(command));
        self.installed |= run_kind(command) == RunKind::Install;
    }

    /// The stage after a WORKDIR (relative to the one before).
    pub fn entered(&mut self, dir: &str) {
        self.workdir = Some(match (&self.workdir, dir.starts_with('/')) {
            (Some(before), false) => format!("{}/{dir}", before.trim_end_matches('/')),
            _ => dir.to_owned(),
        });
    }

    /// Whether `source` holds the whole working directory, where the
    /// install put its tree: `/`, the working directory or a folder above it.
    fn holds_workdir(&self, source: &str) -> bool {
        // A stage's paths are relative to its root, not its working directory.
        let source = source.trim_start_matches("./");
        let source = if source == "." { "" } else { source };
        let source = format!("/{}", source.trim_start_matches('/'));
        let source = source.trim_end_matches('/');
        match &self.workdir {
            _ if source.is_empty() => true,
            Some(workdir) => {
                let workdir = workdir.trim_end_matches('/');
                workdir == source || workdir.starts_with(&format!("{source}/"))
            }
            None => false,
        }
    }
}

/// What a COPY or ADD costs, by what it carries. Heavy
/// ([`HEAVY_COPY_COST`]): a source that names a dependency tree; from a
/// stage, the output of an install (its last command installed) or the
/// whole tree an install wrote into (`/`, or the working directory or a
/// folder above it, of a stage that installed). Anything else
/// ([`COPY_COST`]): a few files, or a build's output.
pub fn copy_cost(sources: &[&str], producer: Option<&Producer>) -> f64 {
    let heavy = sources.iter().any(|s| is_dependency_tree(s))
        || producer.is_some_and(|p| {
            p.last == Some(RunKind::Install)
                || (p.installed && sources.iter().any(|s| p.holds_workdir(s)))
        });
    if heavy { HEAVY_COPY_COST } else { COPY_COST }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_costed_by_what_they_do() {
        assert_eq!(run_kind("npm ci --omit=dev"), RunKind::Install);
        assert_eq!(run_kind("yarn --network-timeout 600000"), RunKind::Install);
        assert_eq!(run_kind("go mod download"), RunKind::Install);
        assert_eq!(
            run_kind("CGO_ENABLED=0 go build -o /out/x ."),
            RunKind::Build
        );
        assert_eq!(run_kind("yarn build:app:docker"), RunKind::Build);
        assert_eq!(run_kind("useradd app"), RunKind::Other);
    }
}
