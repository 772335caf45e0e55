//! Data-driven `init` cases: every folder `tests/init/NAME/` is a project
//! (the shape of a real one: json-server's published package, a Next.js
//! app, a site at the top of its folder). Each is copied to a folder
//! `my-app`, `stowplan init --preset PRESET` runs there (PRESET is the
//! name's first word: `node_bin_cli` is a node project), the starter must
//! compile with `--deny warnings`, and it is snapshotted with what init
//! said on stderr. A project holds no `stowplan.kdl`.

use crate::common::{stderr, stowplan};

use std::path::Path;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn every_project_gets_a_starter_that_compiles() {
    let root = crate::common::root().join("tests/init");
    let mut projects: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    projects.sort();
    assert!(!projects.is_empty());
    for project in projects {
        let name = project.file_name().unwrap().to_string_lossy().into_owned();
        let preset = name.split('_').next().unwrap();
        assert!(!project.join("stowplan.kdl").exists(), "{name}");
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("my-app");
        copy_tree(&project, &app);
        let out = stowplan(&app, &["init", "--preset", preset]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let text = std::fs::read_to_string(app.join("stowplan.kdl")).unwrap();
        let checked = stowplan(&app, &["--deny", "warnings", "check"]);
        assert!(
            checked.status.success(),
            "{name}:\n{text}\n{}",
            stderr(&checked)
        );
        insta::assert_snapshot!(
            format!("init_{name}"),
            format!("{text}\n---- stderr\n{}", stderr(&out))
        );
    }
}
