//! Snapshots of the phases' intermediate forms for a few cases: the AST
//! after templates are expanded, and the plan the emitters walk. A change
//! in a phase shows here before it shows in any Dockerfile.

use std::path::Path;

use crate::base::source::SourceFile;
use crate::frontend::{decode, expand};
use crate::testkit::root;

fn case(name: &str) -> (SourceFile, std::path::PathBuf) {
    let path = root().join("tests/cases").join(name);
    let text = std::fs::read_to_string(&path).expect("the case exists");
    (SourceFile::new(name, text), path)
}

#[test]
fn expanded_ast() {
    for name in ["template_platform.kdl", "preset_go_cgo.kdl"] {
        let (source, path) = case(name);
        let (ast, d) = decode::decode(source.text());
        assert!(!d.has_errors(), "{name} decodes");
        let dir = path.parent().map(Path::to_path_buf);
        let options = expand::ExpandOptions {
            dir: dir.as_deref(),
        };
        let (expanded, _, d) = expand::expand(ast, &options);
        assert!(!d.has_errors(), "{name} expands");
        insta::assert_debug_snapshot!(format!("expanded_ast@{name}"), expanded.stages);
    }
}

#[test]
fn plans() {
    for name in [
        "go_api.kdl",
        "every_instruction.kdl",
        "template_platform.kdl",
    ] {
        let (source, _) = case(name);
        let options = crate::Options::default();
        let checked = crate::driver::check(&source, &options).expect("the case checks");
        let planned = crate::driver::plan_with(
            &source,
            &checked.output,
            &crate::middle::select::Selection::All,
            &options,
        );
        insta::assert_json_snapshot!(format!("plan@{name}"), planned.plan);
    }
}
