//! The layout is the pipeline: each folder of `compiler/src/` is a phase,
//! and a phase imports only from the phases before it (ARCHITECTURE.md).
//! This reads every `crate::` path in the library and fails on an import
//! against that order, and on any cycle between files. A phase's tests (a
//! `tests.rs` beside its code) run the pipeline around what they test: like
//! the test kit, which only they use, they may import any phase.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The phases in import order; a folder may use its own files and those
/// of a lower rank. `syntax` and `cache` share a rank and never meet, as
/// do `backend` and `policy` (rules on the resolved spec and the plan's
/// image references), and `report` and `registry` (`stowplan lock`'s
/// client, which only the driver uses).
const LAYERS: &[(&str, u8)] = &[
    ("base", 0),
    ("syntax", 1),
    ("cache", 1),
    ("frontend", 2),
    ("middle", 3),
    ("plan", 4),
    ("backend", 5),
    ("policy", 5),
    ("report", 6),
    ("registry", 6),
    ("driver", 7),
];

/// Files at the crate root that are not a phase. Like the CLI they use
/// the library from above, so they may reach any phase; no phase may use
/// them (a path into one is not in a phase, which the test reports).
const ROOT_MODULES: &[(&str, &str)] = &[
    (
        "fuzzing.rs",
        "the fuzz targets' oracles (tests/fuzz/), hidden from the docs",
    ),
    (
        "benching.rs",
        "the phases the benchmarks time one by one, hidden from the docs",
    ),
];

fn rank(folder: &str) -> Option<u8> {
    LAYERS.iter().find(|(f, _)| *f == folder).map(|(_, r)| *r)
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Unit tests (`tests.rs`, or a `tests/` folder beside the code) may
/// reach any phase and the test kit.
fn is_test_file(root: &Path, file: &Path) -> bool {
    file.strip_prefix(root)
        .unwrap()
        .components()
        .any(|c| matches!(c.as_os_str().to_str(), Some("tests" | "tests.rs")))
}

/// `backend/quote.rs` → `backend::quote`; `cache/mod.rs` → `cache`.
fn module_of(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    parts.join("::")
}

/// Every `crate::a::b::...` path outside comments, as its segments.
fn crate_paths(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut paths = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let path: Vec<String> = rest
                .split("::")
                .map_while(|segment| {
                    let name: String = segment
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    (!name.is_empty() && name.len() == segment.len()).then_some(name)
                })
                .collect();
            // The last segment ends the path (`quote` in `crate::backend::quote;`).
            let last: String = rest
                .split("::")
                .nth(path.len())
                .unwrap_or_default()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let mut path = path;
            if !last.is_empty() {
                path.push(last);
            }
            paths.push((n + 1, path));
        }
    }
    paths
}

#[test]
fn phases_import_only_from_earlier_phases_and_files_never_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/src");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    files.sort();
    // The binary's files use the library from outside (`stowplan::`); the
    // test kit is compiled for tests only and may use any phase.
    files.retain(|f| {
        !f.starts_with(root.join("cli"))
            && !f.starts_with(root.join("testkit"))
            && !is_test_file(&root, f)
            && *f != root.join("lib.rs")
            && !ROOT_MODULES.iter().any(|(m, _)| *f == root.join(m))
    });
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&root, f)).collect();

    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&root, file);
        let folder = from.split("::").next().unwrap().to_owned();
        let Some(from_rank) = rank(&folder) else {
            problems.push(format!("{from}: its folder is not a phase in LAYERS"));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with("use super::"))
        {
            if line.trim() != "use super::*;" {
                problems.push(format!(
                    "{from}: `{}`: name the module with `crate::`",
                    line.trim()
                ));
            }
        }
        for (line, path) in crate_paths(&text) {
            // Test files were left out above: only they may use the kit.
            if path.first().is_some_and(|p| p == "testkit") {
                problems.push(format!(
                    "{from}:{line}: uses the test kit, which is for tests (a `tests.rs` beside the code)"
                ));
                continue;
            }
            // The longest prefix of the path that is a module is the target;
            // items at the root (`crate::SourceFile`) belong to lib.rs.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|m| modules.contains(m));
            let Some(target) = target else {
                problems.push(format!(
                    "{from}:{line}: `crate::{}` is not in a phase: import it from its module",
                    path.join("::")
                ));
                continue;
            };
            let to_folder = target.split("::").next().unwrap();
            let to_rank = rank(to_folder).unwrap();
            if to_folder != folder && to_rank >= from_rank {
                problems.push(format!(
                    "{from}:{line}: imports `{target}`, but {folder} comes before {to_folder}"
                ));
            }
            if target != from {
                edges.entry(from.clone()).or_default().insert(target);
            }
        }
    }

    // A cycle between files shows as a file that reaches itself.
    for start in &modules {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = edges.get(start).into_iter().flatten().collect();
        while let Some(m) = stack.pop() {
            if m == start {
                problems.push(format!("{start}: is part of an import cycle"));
                break;
            }
            if seen.insert(m) {
                stack.extend(edges.get(m).into_iter().flatten());
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the layering is broken:\n{}",
        problems.join("\n")
    );
}

/// Architecture Invariant: emitters never see KDL or the AST. The backend
/// reads a `Plan` and the shared vocabulary, nothing of the front end.
#[test]
fn the_backend_sees_only_the_plan() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/src");
    let mut files = Vec::new();
    source_files(&root.join("backend"), &mut files);
    files.retain(|f| !is_test_file(&root, f));
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (line, path) in crate_paths(&text) {
            let allowed = matches!(path.first().map(String::as_str), Some("base" | "backend"))
                || path.starts_with(&["plan".to_owned(), "ir".to_owned()]);
            if !allowed {
                problems.push(format!(
                    "{}:{line}: crate::{}",
                    file.display(),
                    path.join("::")
                ));
            }
        }
        if text.contains("kdl::") {
            problems.push(format!("{}: reads KDL", file.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "the backend reaches past the plan:\n{}",
        problems.join("\n")
    );
}

/// Architecture Invariant: compiling never reads a project's files to
/// choose anything, and nothing but the CLI writes. The library touches
/// the file system and runs programs only in these places.
#[test]
fn only_known_places_touch_the_file_system() {
    const ALLOWED: &[(&str, &str)] = &[
        ("frontend/expand", "reads the templates a spec includes"),
        (
            "frontend/starter.rs",
            "`init` reads the lockfile or manifest",
        ),
        (
            "middle/flow.rs",
            "reports inputs that match nothing in the context",
        ),
        (
            "middle/secrets.rs",
            "finds secret files a copy would carry from the context",
        ),
        ("cache/history.rs", "`--history` asks git"),
        (
            "registry/auth.rs",
            "`stowplan lock` reads registry credentials (auth.json, docker's config.json)",
        ),
        (
            "driver/outputs.rs",
            "where outputs land (metadata), and whether stowplan generated a file it would replace (its first lines)",
        ),
        ("testkit", "the suites' oracles"),
        (
            "cli",
            "the binary reads specs, image maps and policies (found up to the repository's root), and writes outputs",
        ),
    ];
    let mut problems = Vec::new();
    for (relative, code) in production_code(|f| ALLOWED.iter().any(|(p, _)| f.starts_with(p))) {
        let code = code.as_str();
        for needle in ["fs::", "process::", "Command::new"] {
            // A whole path segment: `fs::` but not `SourceFile::`.
            let whole = code.match_indices(needle).any(|(at, _)| {
                !code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if whole {
                problems.push(format!("{relative}: uses `{needle}`"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "file system or process access outside the known places:\n{}",
        problems.join("\n")
    );
}

/// Every source file that is not a test and that `allowed` (given its path
/// under compiler/src) does not exempt, with its code before any
/// `#[cfg(test)]`: unit tests may read the repository's test data.
fn production_code(allowed: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/src");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    files
        .iter()
        .filter(|file| !is_test_file(&root, file))
        .filter_map(|file| {
            let relative = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if allowed(&relative) {
                return None;
            }
            let text = std::fs::read_to_string(file).unwrap();
            let code = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .to_owned();
            Some((relative, code))
        })
        .collect()
}

/// Only `stowplan lock`'s registry client talks to the network: nothing
/// else may name the HTTP client or a socket, so compiling, checking and
/// writing never leave the machine.
#[test]
fn only_the_registry_client_touches_the_network() {
    const ALLOWED: &[(&str, &str)] = &[(
        "registry/mod.rs",
        "`stowplan lock` asks registries for manifest digests (the driver's `lock` is its one caller)",
    )];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/src");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    let mut problems = Vec::new();
    for (relative, code) in production_code(|f| ALLOWED.iter().any(|(p, _)| f == *p)) {
        for needle in ["ureq", "TcpStream", "UdpSocket", "ToSocketAddrs"] {
            if code.contains(needle) {
                problems.push(format!("{relative}: uses `{needle}`"));
            }
        }
    }
    // The registry module is reached from the driver alone.
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap();
        if relative.starts_with("registry") || relative.starts_with("driver.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        if crate_paths(&text)
            .iter()
            .any(|(_, path)| path.first().is_some_and(|p| p == "registry"))
        {
            problems.push(format!(
                "{}: uses the registry client, which only the driver's `lock` may",
                relative.display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "network access outside the registry client:\n{}",
        problems.join("\n")
    );
}

/// The phases are private: the library's public front is what lib.rs
/// re-exports, plus the hidden modules the fuzz targets and benchmarks use.
#[test]
fn the_phases_are_private() {
    let lib = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compiler/src/lib.rs"),
    )
    .unwrap();
    let mut public = Vec::new();
    let mut hidden = false;
    for line in lib.lines().map(str::trim) {
        if line == "#[doc(hidden)]" {
            hidden = true;
            continue;
        }
        if let Some(name) = line.strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';');
            let allowed = ROOT_MODULES.iter().any(|(m, _)| *m == format!("{name}.rs"));
            if !(hidden && allowed) {
                public.push(name.to_owned());
            }
        }
        hidden = false;
    }
    assert!(
        public.is_empty(),
        "lib.rs makes these modules public; re-export what the binary needs instead: {public:?}"
    );
}

/// ARCHITECTURE.md's code map names every source file: by its name, or,
/// for a file in a folder below a phase (`decode/step.rs`), by the folder
/// (`decode/`). A new file without a line there fails here.
#[test]
fn the_code_map_names_every_file() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(repo.join("ARCHITECTURE.md")).unwrap();
    let root = repo.join("compiler/src");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    let mut missing = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap();
        if is_test_file(&root, &file) || relative.starts_with("testkit") {
            continue;
        }
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let name = parts.last().unwrap();
        let named = name != "mod.rs" && map.contains(&format!("{name}`"));
        // A file deeper than `phase/file.rs` may be covered by its folder.
        let folder_named =
            parts.len() > 2 && map.contains(&format!("`{}/`", parts[parts.len() - 2]));
        if !(named || folder_named || (name == "mod.rs" && parts.len() == 2) || name == "lib.rs") {
            missing.push(relative.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name: {missing:?}"
    );
}
