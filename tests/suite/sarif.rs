//! `--message-format sarif` and policies through the real binary: one SARIF
//! 2.1.0 log per run, its rules, results, places and suppressions; every
//! log validated by Microsoft's SARIF Multitool and the SARIF JSON schema
//! (tests/oracle/sarif_validate.py, tools from tests/oracle/sarif-setup.sh).
//! Policy discovery: next to the spec, up the tree, stopped at `.git`.

use crate::common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn sarif_of(dir: &Path, args: &[&str]) -> (std::process::Output, Value) {
    let mut all = vec!["--message-format", "sarif"];
    all.extend_from_slice(args);
    let out = common::stowplan(dir, &all);
    let log: Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
        panic!(
            "stderr is not one SARIF log ({e}):\n{}",
            common::stderr(&out)
        )
    });
    (out, log)
}

/// Validates logs with the Multitool and the schema; `false` when the
/// tools are not installed (a failure under CI).
fn validate(logs: &[(&str, &Value)]) -> bool {
    let tools = common::root().join("target/sarif-tools");
    let multitool = tools.join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if !(multitool.exists() && common::oracle_available()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "the SARIF validators are missing under CI; tests/run.sh installs them"
        );
        eprintln!("SKIPPED: SARIF validators not installed; run tests/oracle/sarif-setup.sh");
        return false;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = Vec::new();
    for (name, log) in logs {
        let path = dir.path().join(format!("{name}.sarif"));
        std::fs::write(&path, serde_json::to_string_pretty(log).unwrap()).unwrap();
        files.push(path);
    }
    let python = match std::env::var_os("STOWPLAN_VENV") {
        Some(v) => PathBuf::from(v).join("bin/python"),
        None => common::root().join("target/oracle-venv/bin/python"),
    };
    let out = std::process::Command::new(python)
        .arg(common::root().join("tests/oracle/sarif_validate.py"))
        .arg(&tools)
        .args(&files)
        .output()
        .expect("run sarif_validate.py");
    assert!(
        out.status.success(),
        "SARIF validation failed:\n{}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    true
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

/// Every result names its rule by id and by index into `tool.driver.rules`.
fn assert_rules_consistent(log: &Value) {
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), stowplan::Code::ALL.len());
    for r in results(log) {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "{r}");
    }
}

#[test]
fn the_reference_policy_passes_and_its_waivers_are_suppressions() {
    let root = common::root();
    let (out, log) = sarif_of(&root, &["check", "examples/policy/presets.kdl"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(log["version"], "2.1.0");
    assert_rules_consistent(&log);
    let results = results(&log);
    assert!(!results.is_empty());
    for r in results {
        // Every result is a waived policy violation, suppressed in source.
        let rule = r["ruleId"].as_str().unwrap();
        assert!(rule.starts_with("policy.base."), "{r}");
        let suppression = &r["suppressions"][0];
        assert_eq!(suppression["kind"], "inSource");
        assert!(!suppression["justification"].as_str().unwrap().is_empty());
        let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert_eq!(uri, "examples/policy/presets.kdl");
    }
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    // Every preset is used, and the policy allows only presets.
    let spec = std::fs::read_to_string(root.join("examples/policy/presets.kdl")).unwrap();
    for entry in std::fs::read_dir(root.join("runtime-presets")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            spec.contains(&format!("template=\"{name}\"")),
            "examples/policy/presets.kdl does not use the preset `{name}`"
        );
    }
    validate(&[("presets", &log)]);
}

#[test]
fn violations_have_rules_levels_and_regions() {
    let root = common::root();
    let (out, log) = sarif_of(
        &root.join("tests/cases"),
        &[
            "--policy",
            "err_policy_image.policy",
            "check",
            "err_policy_image.kdl",
            "err_policy_waiver.kdl",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_rules_consistent(&log);
    let results = results(&log);
    // `user "root:root"` on line 8, columns 10 to 21 (the string with its quotes).
    let root_user = results
        .iter()
        .find(|r| {
            r["ruleId"] == "policy.user.non-root"
                && r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .contains("runs as root")
        })
        .expect("the root user is reported");
    assert_eq!(root_user["level"], "error");
    let location = &root_user["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "err_policy_image.kdl");
    let region = &location["region"];
    assert_eq!(
        (
            &region["startLine"],
            &region["startColumn"],
            &region["endLine"],
            &region["endColumn"]
        ),
        (&8.into(), &10.into(), &8.into(), &21.into())
    );
    // The policy's warnings stay warnings; the second spec's errors follow.
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "policy.healthcheck.exposed" && r["level"] == "warning")
    );
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "stowplan::policy::waiver"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == "err_policy_waiver.kdl")
    );
    assert!(results.iter().all(|r| r.get("suppressions").is_none()));
    validate(&[("violations", &log)]);
}

#[test]
fn a_run_that_fails_says_so_in_the_log_and_nothing_else_reaches_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    // Columns count code points: `é` is one.
    std::fs::write(
        dir.path().join("stowplan.kdl"),
        "stowplan 1\nimage \"é\" {\n    from \"debian:12.6.0-slim\"\n    chmode 1\n}\n",
    )
    .unwrap();
    let (out, log) = sarif_of(dir.path(), &["check", "stowplan.kdl", "missing.kdl"]);
    assert_eq!(out.status.code(), Some(2));
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = invocation["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(note.contains("missing.kdl"), "{note}");
    assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
    assert!(!results(&log).is_empty());
    // A policy that does not read fails the run the same way.
    std::fs::write(dir.path().join("bad.policy.kdl"), "rule \"policy.nope\"\n").unwrap();
    let (out, bad) = sarif_of(
        dir.path(),
        &["--policy", "bad.policy.kdl", "check", "stowplan.kdl"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        bad["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    assert_eq!(results(&bad)[0]["ruleId"], "stowplan::policy::unknown-rule");
    assert_eq!(
        results(&bad)[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "bad.policy.kdl"
    );
    validate(&[("failed", &log), ("bad-policy", &bad)]);
}

#[test]
fn the_policy_is_found_up_the_tree_and_not_past_the_repository() {
    let outer = tempfile::tempdir().unwrap();
    // A policy above the repository is never read.
    std::fs::write(
        outer.path().join("stowplan.policy.kdl"),
        "rule \"policy.base.registry\" { allow \"ghcr.io/nowhere\" }\n",
    )
    .unwrap();
    let repo = outer.path().join("repo");
    let app = repo.join("services/app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::write(
        app.join("stowplan.kdl"),
        "stowplan 1\nimage \"app\" {\n    from \"debian:12.6.0-slim\"\n    user \"root\"\n    cmd \"/app\"\n}\n",
    )
    .unwrap();
    let clean = common::stowplan(&repo, &["check", "services/app/stowplan.kdl"]);
    assert_eq!(clean.status.code(), Some(0), "{}", common::stderr(&clean));

    std::fs::write(
        repo.join("stowplan.policy.kdl"),
        "rule \"policy.user.non-root\"\n",
    )
    .unwrap();
    let found = common::stowplan(&repo, &["-v", "check", "services/app/stowplan.kdl"]);
    assert_eq!(found.status.code(), Some(1));
    let stderr = common::stderr(&found);
    assert!(stderr.contains("policy stowplan.policy.kdl"), "{stderr}");
    assert!(stderr.contains("[policy.user.non-root]"), "{stderr}");

    // --policy wins over the one found; a waiver quiets it, with its reason.
    std::fs::write(repo.join("none.kdl"), "rule \"policy.add.checksum\"\n").unwrap();
    let given = common::stowplan(
        &repo,
        &["--policy", "none.kdl", "check", "services/app/stowplan.kdl"],
    );
    assert_eq!(given.status.code(), Some(0), "{}", common::stderr(&given));
    let spec = std::fs::read_to_string(app.join("stowplan.kdl")).unwrap();
    std::fs::write(
        app.join("stowplan.kdl"),
        spec.replace(
            "stowplan 1\n",
            "stowplan 1\nallow \"policy.user.non-root\" reason=\"binds port 80\"\n",
        ),
    )
    .unwrap();
    let waived = common::stowplan(
        &app,
        &["--deny", "warnings", "--message-format", "json", "check"],
    );
    assert_eq!(waived.status.code(), Some(0), "{}", common::stderr(&waived));
    let line: Value =
        serde_json::from_str(common::stderr(&waived).lines().next().unwrap()).unwrap();
    assert_eq!(line["severity"], "advice");
    assert_eq!(line["help"], "waived: binds port 80");
}

#[test]
fn the_image_map_pins_what_the_policy_checks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(
        dir.path().join("stowplan.policy.kdl"),
        "rule \"policy.base.pinned\"\nrule \"policy.base.registry\" { allow \"mirror.acme.test\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("stowplan.kdl"),
        "stowplan 1\nimage \"app\" {\n    from \"debian:12.6.0-slim\"\n    user \"10001\"\n    cmd \"/app\"\n}\n",
    )
    .unwrap();
    let unmapped = common::stowplan(dir.path(), &["--color", "never", "check"]);
    assert_eq!(unmapped.status.code(), Some(1));
    let stderr = common::stderr(&unmapped);
    assert!(
        stderr.contains("[policy.base.pinned]") && stderr.contains("[policy.base.registry]"),
        "{stderr}"
    );
    std::fs::write(
        dir.path().join("images.kdl"),
        format!(
            "map \"debian:12.6.0-slim\" \"mirror.acme.test/debian:12.6.0-slim@sha256:{}\"\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let mapped = common::stowplan(dir.path(), &["--image-map", "images.kdl", "check"]);
    assert_eq!(mapped.status.code(), Some(0), "{}", common::stderr(&mapped));
}
