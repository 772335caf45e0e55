//! The Buildah backend's own tests: its bash passes shellcheck.

use std::path::Path;
use std::process::Command;

use crate::backend::buildah::script::SHELLCHECK_DISABLED;
use crate::testkit;

/// Whether shellcheck is installed. Under CI its absence is a failure.
fn shellcheck_available() -> bool {
    let found = Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "shellcheck is missing under CI: apt-get install -y shellcheck"
        );
        eprintln!(
            "\n\
             ************************************************************\n\
             SKIPPED: shellcheck is not installed, so the generated Buildah\n\
             scripts were NOT linted. Install it: apt-get install -y shellcheck\n\
             ************************************************************\n"
        );
    }
    found
}

/// shellcheck's findings on a bash file (empty when clean), with `exclude`d checks off.
fn shellcheck(file: &Path, exclude: &str) -> String {
    let output = Command::new("shellcheck")
        .args(["--shell=bash", "--format=gcc", "--severity=style"])
        .arg(format!("--exclude={exclude}"))
        .arg(file)
        .output()
        .expect("run shellcheck");
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() || !findings.is_empty(),
        "shellcheck failed on {} and said nothing",
        file.display()
    );
    findings
}

/// Each file of the prelude passes shellcheck on its own, with the checks
/// the script turns off, and two more: the files share their variables
/// with each other and with the generated part of the script, so a file
/// alone uses variables it does not set (SC2154) and sets variables it
/// does not use (SC2034).
#[test]
fn prelude_files_pass_shellcheck() {
    let dir = testkit::root().join("compiler/src/backend/buildah/prelude");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files
            .iter()
            .all(|f| f.extension().is_some_and(|e| e == "sh")),
        "only bash files in {}",
        dir.display()
    );
    assert!(files.len() >= 19, "too few prelude files: {files:?}");
    if !shellcheck_available() {
        return;
    }
    let exclude = format!("{SHELLCHECK_DISABLED},SC2154,SC2034");
    for file in &files {
        let findings = shellcheck(file, &exclude);
        assert!(
            findings.is_empty(),
            "shellcheck on {}:\n{findings}",
            file.display()
        );
    }
}
