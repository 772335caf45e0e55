//! Every KDL spec in the repository, for the parser and decoder suites:
//! the `.kdl` files of the test cases, examples, presets and benchmarks,
//! and the ```kdl blocks of the documentation.

use std::path::{Path, PathBuf};

use crate::testkit::root;

/// The `.kdl` files under `dir`, at any depth, but none of `tests/fuzz/`:
/// it holds no spec of its own, only its build and copies of the others
/// (the seeds and corpora `tests/fuzz/run.sh` makes, with kdl's compliance
/// inputs, which the fast parser declines on purpose).
pub(crate) fn kdl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.ends_with("tests/fuzz") {
            continue;
        }
        if path.is_dir() {
            kdl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "kdl") {
            out.push(path);
        }
    }
}

/// Every ```kdl block of a markdown file.
fn kdl_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_start().starts_with("```kdl") => current = Some(String::new()),
            Some(block) if line.trim_start().starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// The repository's specs, each with a name to report it by: its path, or
/// the document and the number of the block.
pub(crate) fn repository_specs() -> Vec<(String, String)> {
    let root = root();
    let mut files = Vec::new();
    for dir in ["tests", "examples", "runtime-presets", "benchmarks"] {
        kdl_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut specs = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        specs.push((name, text));
    }
    for doc in ["README.md", "ARCHITECTURE.md"]
        .iter()
        .map(|d| root.join(d))
        .chain(
            std::fs::read_dir(root.join("spec"))
                .unwrap()
                .map(|e| e.unwrap().path()),
        )
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        let markdown = std::fs::read_to_string(&doc).unwrap_or_default();
        for (i, block) in kdl_blocks(&markdown).into_iter().enumerate() {
            let name = format!("{} block {i}", doc.strip_prefix(&root).unwrap().display());
            specs.push((name, block));
        }
    }
    specs
}
