//! Every example under examples/ compiles, matches its checked-in outputs
//! byte for byte and passes hadolint (the read-back through BuildKit's
//! parser is beside the backend, `backend/dockerfile/tests.rs`).

use crate::common;

use std::path::PathBuf;

use stowplan::SourceFile;

fn example_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(common::root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.unwrap().path().join("stowplan.kdl"))
        .filter(|p| p.exists())
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no examples found");
    specs
}

fn load(spec: &PathBuf) -> SourceFile {
    SourceFile::new("stowplan.kdl", std::fs::read_to_string(spec).unwrap())
}

#[test]
fn checked_in_outputs_are_up_to_date() {
    for spec in example_specs() {
        let options = stowplan::Options {
            images: Vec::new(),
            context: Some(spec.parent().unwrap().to_path_buf()),
            ..Default::default()
        };
        let rendered = stowplan::render_outputs(&load(&spec), &options)
            .unwrap_or_else(|d| panic!("{} fails:\n{}", spec.display(), common::render_all(&d)));
        assert!(
            rendered.warnings.is_empty(),
            "{} has warnings:\n{}",
            spec.display(),
            common::render_all(&rendered.warnings)
        );
        for output in rendered.output {
            let path = spec.parent().unwrap().join(&output.path);
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                on_disk == output.text,
                "{} drifted from its spec; run `stowplan write {}`",
                path.display(),
                spec.display()
            );
        }
    }
}

#[test]
fn examples_pass_hadolint() {
    if !common::oracle_available() {
        return;
    }
    for spec in example_specs() {
        let file = spec.parent().unwrap().join("Dockerfile");
        let findings = common::hadolint(&file);
        assert!(
            findings.trim().is_empty(),
            "hadolint on {}:\n{findings}",
            file.display()
        );
    }
}
