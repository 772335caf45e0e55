//! How often inputs change: volatility classes by file name, or a
//! repository's own commit history.
//!
//! The optimizer weighs each step by the probability that its inputs
//! change in a commit. Without a history that probability comes from the
//! input's [`Volatility`] class; with `--history` it is the share of the
//! repository's commits that touched the input.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use crate::cache;

/// How often a kind of input changes, from least to most often.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Volatility {
    /// Base images, pinned downloads, tool versions (`.nvmrc`, `rust-toolchain`).
    Toolchain,
    /// Manifests and lockfiles (`go.mod`, `package-lock.json`, `requirements.txt`).
    Lockfiles,
    /// Source files and directories: anything not named otherwise.
    Sources,
    /// Configuration (`*.conf`, `*.yaml`, `.env.*`, `config/`) and build args.
    Config,
}

impl Volatility {
    /// The default probability that an input of this class changes in a commit.
    pub fn probability(self) -> f64 {
        match self {
            Volatility::Toolchain => 0.01,
            Volatility::Lockfiles => 0.1,
            Volatility::Sources => 0.5,
            Volatility::Config => 0.6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Volatility::Toolchain => "toolchain",
            Volatility::Lockfiles => "lockfiles",
            Volatility::Sources => "sources",
            Volatility::Config => "config",
        }
    }
}

const TOOLCHAIN_FILES: &[&str] = &[
    ".tool-versions",
    ".nvmrc",
    ".node-version",
    ".python-version",
    ".ruby-version",
    ".go-version",
    ".java-version",
    ".sdkmanrc",
    ".terraform-version",
    "rust-toolchain",
    "rust-toolchain.toml",
];

const LOCKFILES: &[&str] = &[
    "go.mod",
    "go.sum",
    "go.work",
    "go.work.sum",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    ".yarnrc.yml",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "bun.lock",
    "bun.lockb",
    "requirements.txt",
    "constraints.txt",
    "pipfile",
    "pipfile.lock",
    "poetry.lock",
    "pyproject.toml",
    "uv.lock",
    "setup.cfg",
    "cargo.toml",
    "cargo.lock",
    "gemfile",
    "gemfile.lock",
    "composer.json",
    "composer.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "gradle.lockfile",
    "mix.exs",
    "mix.lock",
    "packages.lock.json",
    "pubspec.yaml",
    "pubspec.lock",
    "vcpkg.json",
    "conanfile.txt",
];

const CONFIG_EXTENSIONS: &[&str] = &[
    "conf",
    "cfg",
    "ini",
    "env",
    "yaml",
    "yml",
    "toml",
    "json",
    "properties",
    "xml",
];
const CONFIG_DIRECTORIES: &[&str] = &["config", "configs", "conf", "etc", "settings"];

/// The class of a context path (a file, a directory ending in `/`, or a glob).
pub fn classify(path: &str) -> Volatility {
    let normalized = cache::normalize_context_path(path);
    let name = normalized
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if name.is_empty() {
        return Volatility::Sources;
    }
    // A glob belongs to a class when it names a file of it (`package*.json`);
    // one that starts with a wildcard could name anything and is a source.
    let literal_start = !name.starts_with(['*', '?', '[']);
    let any = |names: &[&str]| {
        names.iter().any(|n| {
            if cache::is_glob(&name) {
                literal_start && cache::match_component(&name, n)
            } else {
                name == *n
            }
        })
    };
    if any(TOOLCHAIN_FILES) {
        return Volatility::Toolchain;
    }
    let requirements = name.starts_with("requirements") && name.ends_with(".txt");
    if any(LOCKFILES) || requirements || name.ends_with(".csproj") {
        return Volatility::Lockfiles;
    }
    let directory = path.ends_with('/') || !name.contains('.');
    if directory && CONFIG_DIRECTORIES.contains(&name.as_str()) {
        return Volatility::Config;
    }
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    let config_file = name.starts_with(".env")
        || CONFIG_EXTENSIONS.contains(&extension)
        || name.contains(".config.")
        || name.ends_with("rc")
        || matches!(
            name.as_str(),
            "caddyfile" | "nginx.conf" | "supervisord.conf"
        );
    if !directory && config_file {
        return Volatility::Config;
    }
    Volatility::Sources
}

/// A repository's commits, oldest first, as the context paths each changed.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub commits: Vec<Vec<String>>,
}

impl History {
    /// Reads the first-parent history of the repository around `dir`
    /// (each merge as its diff to its first parent), with paths relative
    /// to `dir`; commits that change nothing under it count as commits
    /// that change no input. Diffing trees is most of the work, so the
    /// commits are split among one `git diff-tree` per core.
    pub fn from_git(dir: &Path) -> Result<History, String> {
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run git: {e}"))
        };
        let finish = |child: std::process::Child| -> Result<String, String> {
            let output = child
                .wait_with_output()
                .map_err(|e| format!("cannot run git: {e}"))?;
            if !output.status.success() {
                return Err(format!(
                    "git failed in {}: {}",
                    dir.display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        };
        // Oldest first: "commit first-parent" per line (the root has none).
        let list = finish(git(&[
            "rev-list",
            "--first-parent",
            "--parents",
            "--reverse",
            "HEAD",
        ])?)?;
        let pairs: Vec<String> = list
            .lines()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect();
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let chunk = pairs.len().div_ceil(workers).max(1);
        let mut children = Vec::new();
        for part in pairs.chunks(chunk) {
            let mut child = git(&[
                "diff-tree",
                "--stdin",
                "-r",
                "--root",
                "--name-only",
                "--no-renames",
                "--relative",
                "--always",
                "--format=format:%x00",
            ])?;
            let mut stdin = child.stdin.take().expect("piped");
            let input = part.join("\n") + "\n";
            // Writing from a thread keeps a full pipe from blocking us both.
            let writer = std::thread::spawn(move || {
                use std::io::Write as _;
                stdin.write_all(input.as_bytes())
            });
            children.push((child, writer));
        }
        let mut commits = Vec::with_capacity(pairs.len());
        for (child, writer) in children {
            let text = finish(child)?;
            writer
                .join()
                .map_err(|_| "cannot write to git".to_owned())?
                .map_err(|e| format!("cannot write to git: {e}"))?;
            commits.extend(History::parse_git_log(&text).commits);
        }
        Ok(History { commits })
    }

    /// `git log --name-only --format=format:%x00` output: one NUL per commit, then its paths.
    pub fn parse_git_log(text: &str) -> History {
        let commits = text
            .split('\0')
            .skip(1)
            .map(|commit| {
                commit
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .collect();
        History { commits }
    }

    /// The benchmark format: a header line, then `{"commit": ..., "changed": [...]}` per line.
    pub fn from_jsonl(text: &str) -> Result<History, String> {
        let mut commits = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value =
                serde_json::from_str(line).map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
            if let Some(changed) = value.get("changed").and_then(|c| c.as_array()) {
                commits.push(
                    changed
                        .iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect(),
                );
            }
        }
        Ok(History { commits })
    }
}

/// The files that differ between `base` (a commit, branch or tag, or a
/// range such as `origin/main...HEAD`) and the working tree, relative to
/// `dir`: `git diff --name-only REF` in `dir`, only what is under `dir`
/// (`--relative`), a rename as both its paths. `stowplan affected
/// --base-ref`.
pub fn changed_since(dir: &Path, base: &str) -> Result<Vec<String>, String> {
    if base.is_empty() || base.starts_with('-') {
        return Err(format!("`{base}` is not a git revision"));
    }
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--relative",
            base,
            "--",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git diff failed in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(parse_name_list(&String::from_utf8_lossy(&output.stdout)))
}

/// `git diff --name-only -z` output: NUL-terminated paths.
fn parse_name_list(text: &str) -> Vec<String> {
    text.split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A history that may still be on its way: `git` reads it on a thread
/// of its own while the spec is parsed, and the optimizer waits for it
/// only when it needs it.
#[derive(Clone)]
pub struct HistorySource {
    inner: Arc<Pending>,
}

struct Pending {
    thread: Mutex<Option<JoinHandle<Result<History, String>>>>,
    done: OnceLock<Result<History, String>>,
}

impl HistorySource {
    pub fn ready(history: History) -> Self {
        let done = OnceLock::new();
        let _ = done.set(Ok(history));
        HistorySource {
            inner: Arc::new(Pending {
                thread: Mutex::new(None),
                done,
            }),
        }
    }

    /// Starts [`History::from_git`] on a thread.
    pub fn from_git_in_background(dir: PathBuf) -> Self {
        let thread = std::thread::spawn(move || History::from_git(&dir));
        HistorySource {
            inner: Arc::new(Pending {
                thread: Mutex::new(Some(thread)),
                done: OnceLock::new(),
            }),
        }
    }

    /// The history, once it is read; or why it could not be.
    pub fn get(&self) -> Result<&History, &str> {
        let done = self.inner.done.get_or_init(|| {
            let thread = self
                .inner
                .thread
                .lock()
                .map_err(|_| "the history reader failed".to_owned())?
                .take();
            match thread {
                Some(thread) => thread
                    .join()
                    .unwrap_or_else(|_| Err("the history reader failed".to_owned())),
                None => Err("the history reader failed".to_owned()),
            }
        });
        done.as_ref().map_err(String::as_str)
    }
}

impl std::fmt::Debug for HistorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HistorySource")
    }
}

/// Which commits touched each of a set of context patterns, found in one
/// pass over the history: plain paths through a table of every path
/// prefix, wildcards one by one.
#[derive(Clone, Debug, Default)]
pub struct HistoryIndex {
    pub commits: usize,
    /// Per pattern (in the order given), the sorted commits that touched it.
    pub touched: Vec<Vec<u32>>,
}

impl HistoryIndex {
    pub fn build(history: &History, patterns: &[String]) -> HistoryIndex {
        let mut plain: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut globs: Vec<usize> = Vec::new();
        let mut everything: Vec<usize> = Vec::new();
        for (i, pattern) in patterns.iter().enumerate() {
            if pattern.is_empty() {
                everything.push(i);
            } else if cache::is_glob(pattern) {
                globs.push(i);
            } else {
                plain.entry(pattern.as_str()).or_default().push(i);
            }
        }
        let mut touched: Vec<Vec<u32>> = vec![Vec::new(); patterns.len()];
        for (c, changed) in history.commits.iter().enumerate() {
            let c = c as u32;
            let mut mark = |i: usize| {
                if touched[i].last() != Some(&c) {
                    touched[i].push(c);
                }
            };
            if !changed.is_empty() {
                everything.iter().for_each(|i| mark(*i));
            }
            for path in changed {
                let path = cache::normalize_context_path(path);
                // Every prefix of the path, at component boundaries, and the path itself.
                let ends = path
                    .char_indices()
                    .filter(|(_, ch)| *ch == '/')
                    .map(|(k, _)| k)
                    .chain([path.len()]);
                for end in ends {
                    if let Some(ids) = plain.get(&path[..end]) {
                        ids.iter().for_each(|i| mark(*i));
                    }
                }
                for i in &globs {
                    if cache::source_touches(&patterns[*i], &path) {
                        mark(*i);
                    }
                }
            }
        }
        HistoryIndex {
            commits: history.commits.len(),
            touched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_file_name() {
        assert_eq!(classify("go.mod"), Volatility::Lockfiles);
        assert_eq!(classify("package*.json"), Volatility::Lockfiles);
        assert_eq!(classify("requirements-prod.txt"), Volatility::Lockfiles);
        assert_eq!(classify(".nvmrc"), Volatility::Toolchain);
        assert_eq!(classify("src/"), Volatility::Sources);
        assert_eq!(classify("main.go"), Volatility::Sources);
        assert_eq!(classify("."), Volatility::Sources);
        assert_eq!(classify("nginx.conf"), Volatility::Config);
        assert_eq!(classify("config/"), Volatility::Config);
        assert_eq!(classify(".env.production"), Volatility::Config);
        assert_eq!(classify("vite.config.ts"), Volatility::Config);
    }

    #[test]
    fn name_lists_split_on_nul() {
        assert_eq!(
            parse_name_list("a b.go\0dir/new\nline\0"),
            vec!["a b.go".to_owned(), "dir/new\nline".to_owned()]
        );
        assert!(changed_since(Path::new("."), "--output=x").is_err());
    }

    #[test]
    fn git_log_output_parses() {
        let history = History::parse_git_log("\0\na.go\nb/c.go\n\n\0\n\0\ngo.mod\n");
        assert_eq!(
            history.commits,
            vec![
                vec!["a.go".to_owned(), "b/c.go".to_owned()],
                vec![],
                vec!["go.mod".to_owned()]
            ]
        );
    }

    #[test]
    fn index_finds_prefixes_and_globs() {
        let history = History {
            commits: vec![
                vec!["src/a/b.ts".into()],
                vec!["package.json".into()],
                vec!["srcx/y".into(), "README.md".into()],
            ],
        };
        let patterns: Vec<String> = ["src", "package*.json", "", "src/a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let index = HistoryIndex::build(&history, &patterns);
        assert_eq!(
            index.touched,
            vec![vec![0], vec![1], vec![0, 1, 2], vec![0]]
        );
    }
}
