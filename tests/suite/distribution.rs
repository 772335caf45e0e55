//! Where users meet the binary outside a spec: shell completions, the
//! manual page, `check` over many specs (what the pre-commit hooks run)
//! and the hooks file itself.

use std::process::Command;

use crate::common::{root, stderr, stdout, stowplan};

/// The subcommands `--help` lists; every one must reach completions and man.
fn subcommands() -> Vec<String> {
    let out = stowplan(&root(), &["--help"]);
    let help = stdout(&out);
    let listed = help
        .split("Commands:")
        .nth(1)
        .expect("--help lists the commands")
        .split("\n\n")
        .next()
        .unwrap();
    listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completions_parse_and_name_every_command() {
    let out = stowplan(&root(), &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = stdout(&out);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stowplan.bash");
    std::fs::write(&file, &script).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(syntax.status.success(), "{}", stderr(&syntax));
    let commands = subcommands();
    assert!(commands.len() >= 8, "{commands:?}");
    for command in commands {
        assert!(
            script.contains(&command),
            "bash completions miss `{command}`"
        );
    }
    // The builder names come from the language's own keyword list.
    assert!(script.contains("buildah-1.28-docker"));
}

#[test]
fn every_shell_clap_knows_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = stowplan(&root(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        assert!(stdout(&out).contains("stowplan"), "{shell}");
    }
    let out = stowplan(&root(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_pages_cover_every_command() {
    let out = stowplan(&root(), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH stowplan 1"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    let out = stowplan(&root(), &["man", "--out-dir", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out_dir.join("stowplan.1").exists());
    for command in subcommands() {
        let page = out_dir.join(format!("stowplan-{command}.1"));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(text.contains(".TH"), "{}", page.display());
    }
}

#[test]
fn check_takes_many_specs_and_reports_each() {
    let dir = tempfile::tempdir().unwrap();
    let good = "stowplan 1\nimage \"a\" {\n    from \"busybox:1.36.1\"\n    cmd \"true\"\n}\n";
    for name in ["one", "two"] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
        std::fs::write(dir.path().join(name).join("stowplan.kdl"), good).unwrap();
    }
    let out = stowplan(
        dir.path(),
        &["check", "one/stowplan.kdl", "two/stowplan.kdl"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A broken spec in the middle: the one after it is still checked.
    std::fs::create_dir(dir.path().join("bad")).unwrap();
    std::fs::write(
        dir.path().join("bad/stowplan.kdl"),
        "stowplan 1\nimage \"a\" {\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("two/stowplan.kdl"),
        "stowplan 1\nimage \"b\" {\n    frm \"busybox:1.36.1\"\n}\n",
    )
    .unwrap();
    let out = stowplan(
        dir.path(),
        &[
            "check",
            "one/stowplan.kdl",
            "bad/stowplan.kdl",
            "two/stowplan.kdl",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad/stowplan.kdl:2:7"), "{err}");
    assert!(
        err.contains("frm"),
        "the spec after the broken one was not checked:\n{err}"
    );

    // A missing spec is an I/O error (2), after the others were checked.
    let out = stowplan(dir.path(), &["check", "missing.kdl", "bad/stowplan.kdl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.kdl"));
}

/// `.pre-commit-hooks.yaml` names commands that exist, with the options
/// pre-commit needs.
#[test]
fn pre_commit_hooks_run_real_commands() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let entries: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry: "))
        .collect();
    assert!(!entries.is_empty());
    for entry in entries {
        let words: Vec<&str> = entry.split_whitespace().collect();
        assert_eq!(words[0], "stowplan");
        let mut args = words[1..].to_vec();
        args.push("--help");
        let out = stowplan(&root(), &args);
        assert_eq!(out.status.code(), Some(0), "`{entry}`: {}", stderr(&out));
    }
    for key in [
        "id:",
        "name:",
        "language: rust",
        "files:",
        "pass_filenames: true",
    ] {
        assert!(text.contains(key), "the hooks file lacks `{key}`");
    }
}
