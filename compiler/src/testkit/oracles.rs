//! The repository root and the outside tools every suite asks: BuildKit's
//! Dockerfile parser (PyPI `dockerfile`), hadolint and shellcheck. One file for both
//! kinds of test: the unit tests compile it as `testkit::oracles`, and the
//! integration suite includes it by path (`tests/suite/common.rs`), since
//! it cannot reach the crate's test-only modules. So: no `crate::` paths.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv_python() -> PathBuf {
    match std::env::var_os("STOWPLAN_VENV") {
        Some(v) => PathBuf::from(v).join("bin/python"),
        None => root().join("target/oracle-venv/bin/python"),
    }
}

/// Whether the oracle tools are installed. Under CI their absence is a failure.
pub fn oracle_available() -> bool {
    let found = venv_python().exists();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "the oracle venv is missing under CI; tests/run.sh installs it"
        );
        eprintln!("SKIPPED: BuildKit parser oracle not installed; run tests/oracle/setup.sh");
    }
    found
}

/// Parses Dockerfiles with BuildKit's own parser; one JSON document per file.
pub fn parse_with_buildkit(files: &[PathBuf]) -> Vec<Value> {
    let output = Command::new(venv_python())
        .arg(root().join("tests/oracle/dockerfile_json.py"))
        .args(files)
        .output()
        .expect("run the oracle");
    String::from_utf8(output.stdout)
        .expect("utf-8 from the oracle")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON document per line"))
        .collect()
}

/// Runs hadolint; returns its findings (empty when clean).
pub fn hadolint(file: &Path) -> String {
    let output = Command::new("bash")
        .arg(root().join("tests/oracle/hadolint.sh"))
        .arg(file)
        .output()
        .expect("run hadolint");
    assert!(
        output.status.code() != Some(2),
        "hadolint failed to run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether shellcheck is installed. Under CI its absence is a failure.
pub fn shellcheck_available() -> bool {
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

/// shellcheck's findings on a bash file (empty when clean), with the
/// checks in `exclude` (comma-separated) off.
pub fn shellcheck(file: &Path, exclude: &str) -> String {
    let mut command = Command::new("shellcheck");
    command.args(["--shell=bash", "--format=gcc", "--severity=style"]);
    if !exclude.is_empty() {
        command.arg(format!("--exclude={exclude}"));
    }
    let output = command.arg(file).output().expect("run shellcheck");
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
