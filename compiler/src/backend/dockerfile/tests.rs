//! The Dockerfile backend read back by BuildKit's own parser.

use std::path::Path;

use crate::backend::dockerfile::emit;
use crate::base::source::SourceFile;
use crate::driver::{self, Options};
use crate::plan::lower::Selection;
use crate::testkit;

fn is_err_case(path: &Path) -> bool {
    path.file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("err_")
}

/// BuildKit's own parser reads every emitted Dockerfile back as planned.
#[test]
fn cases_read_back_through_buildkit() {
    if !testkit::oracle_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut plans = Vec::new();
    for entry in std::fs::read_dir(testkit::root().join("tests/cases")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "kdl") || is_err_case(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read case");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = SourceFile::new(name, text);
        let checked = driver::check(&source, &Options::default()).expect("case compiles");
        let plan = driver::plan(&source, &checked.output, &Selection::All);
        let text = emit(&plan).expect("case emits");
        let out = dir.path().join(source.name()).with_extension("Dockerfile");
        std::fs::write(&out, text).unwrap();
        files.push(out);
        plans.push((source.name().to_owned(), plan));
    }
    files.sort();
    plans.sort_by(|a, b| a.0.cmp(&b.0));
    let parsed = testkit::parse_with_buildkit(&files);
    assert_eq!(parsed.len(), plans.len());
    for ((name, plan), doc) in plans.iter().zip(&parsed) {
        testkit::assert_reads_back(plan, doc, name);
    }
}

/// Every example's checked-in Dockerfile reads back as its spec plans.
#[test]
fn examples_read_back_through_buildkit() {
    if !testkit::oracle_available() {
        return;
    }
    let mut specs: Vec<_> = std::fs::read_dir(testkit::root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path().join("stowplan.kdl"))
        .filter(|p| p.is_file())
        .collect();
    specs.sort();
    for spec in specs {
        let source = SourceFile::new("stowplan.kdl", std::fs::read_to_string(&spec).unwrap());
        // The example's folder is its context: a spec may include templates from it.
        let options = Options {
            context: spec.parent().map(std::path::Path::to_path_buf),
            ..Options::default()
        };
        let checked = driver::check(&source, &options).expect("example checks");
        let plan = driver::plan(&source, &checked.output, &Selection::All);
        let file = spec.parent().unwrap().join("Dockerfile");
        let parsed = testkit::parse_with_buildkit(std::slice::from_ref(&file));
        testkit::assert_reads_back(&plan, &parsed[0], &file.display().to_string());
    }
}
