//! Where outputs land and how they are written: never through a symlink
//! out of the spec's folder, all or nothing, no stale temporaries, one
//! file per path however it is spelled, line-ending drift named, and never
//! over a hand-written file.

use std::process::Command;

use crate::cli::project;
use crate::common::{stderr, stdout, stowplan};

const ONE_IMAGE: &str = r#"stowplan 1
output "Dockerfile"
image "app" {
    from "busybox:1.36.1"
    cmd "/bin/true"
}
"#;

/// A committed symlink to the process environment must not be printed as
/// the "on disk" side of a drift diff (CI secrets).
#[test]
fn check_outputs_never_reads_through_a_symlink_out_of_the_folder() {
    let dir = project(ONE_IMAGE);
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("Dockerfile")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stowplan"))
        .current_dir(dir.path())
        .args(["check", "--outputs", "--color", "never"])
        .env("STOWPLAN_TEST_SECRET", "hunter2-do-not-print")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("hunter2"),
        "the environment leaked: {}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("hunter2"));
    assert!(
        stderr(&out).contains("stowplan::write::output-path"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("leaves the spec's folder"),
        "{}",
        stderr(&out)
    );
}

/// `write` never writes through a symlink that leaves the folder, and a
/// bad output stops every output, not just itself.
#[test]
fn write_never_writes_outside_the_folder() {
    let outside = tempfile::tempdir().unwrap();
    let spec = r#"stowplan 1
output "Dockerfile"
output "gen/Dockerfile"
image "app" {
    from "busybox:1.36.1"
    cmd "/bin/true"
}
"#;
    let dir = project(spec);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("gen")).unwrap();
    let out = stowplan(dir.path(), &["write", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("goes through the symlink `gen`"),
        "{}",
        stderr(&out)
    );
    assert!(
        !outside.path().join("Dockerfile").exists(),
        "wrote outside the folder"
    );
    assert!(
        !dir.path().join("Dockerfile").exists(),
        "wrote the other output"
    );
    // A symlink that stays inside is followed.
    std::fs::remove_file(dir.path().join("gen")).unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink("real", dir.path().join("gen")).unwrap();
    let out = stowplan(dir.path(), &["write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.path().join("real/Dockerfile").is_file());
}

/// Every output is checked before any is written: a directory where the
/// third output goes leaves the first two unwritten.
#[test]
fn write_is_all_or_nothing() {
    let spec = r#"stowplan 1
output "a.Dockerfile"
output "b.Dockerfile"
output "c.Dockerfile"
image "app" {
    from "busybox:1.36.1"
    cmd "/bin/true"
}
"#;
    let dir = project(spec);
    std::fs::create_dir(dir.path().join("c.Dockerfile")).unwrap();
    let out = stowplan(dir.path(), &["write", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("output `c.Dockerfile` is a directory"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("a.Dockerfile").exists());
    assert!(!dir.path().join("b.Dockerfile").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Two spellings of one file are one output, refused as a duplicate.
#[test]
fn two_spellings_of_one_output_are_one_file() {
    let spec = ONE_IMAGE.replace(
        "output \"Dockerfile\"\n",
        "output \"Dockerfile\"\noutput \"./Dockerfile\"\n",
    );
    let dir = project(&spec);
    let out = stowplan(dir.path(), &["write", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!dir.path().join("Dockerfile").exists());
}

/// A run killed while writing leaves a temporary file; the next removes it.
#[test]
fn write_cleans_up_what_a_killed_run_left() {
    let dir = project(ONE_IMAGE);
    let stale = dir.path().join(".stowplan-AbC123.tmp");
    std::fs::write(&stale, "half a Dockerfile").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = stowplan(dir.path(), &["write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stale.exists(), "the stale temporary file is still there");
}

/// A CRLF checkout is drift, said in one line rather than a diff of
/// every line.
#[test]
fn check_outputs_names_line_ending_drift() {
    let dir = project(ONE_IMAGE);
    assert!(stowplan(dir.path(), &["write"]).status.success());
    let path = dir.path().join("Dockerfile");
    let crlf = std::fs::read_to_string(&path)
        .unwrap()
        .replace('\n', "\r\n");
    std::fs::write(&path, crlf).unwrap();
    let out = stowplan(dir.path(), &["check", "--outputs"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "no diff: {}", stdout(&out));
    assert!(
        stderr(&out).contains("differs only in line endings"),
        "{}",
        stderr(&out)
    );
}

/// `write` never replaces a file stowplan did not generate, unless forced;
/// `check` says what `write` would refuse. A generated file, a script
/// behind its `#!` line, an empty or a missing file are replaced.
#[test]
fn write_never_replaces_a_hand_written_file_unless_forced() {
    let spec = ONE_IMAGE.replace(
        "output \"Dockerfile\"\n",
        "output \"Dockerfile\"\noutput \"build.sh\" format=\"buildah\"\noutput \"new.Dockerfile\"\n",
    );
    let dir = project(&spec);
    let hand = "FROM busybox\n# Generated by hand\nCMD [\"sh\"]\n";
    std::fs::write(dir.path().join("Dockerfile"), hand).unwrap();
    for args in [&["write"][..], &["check"], &["check", "--outputs"]] {
        let mut args = args.to_vec();
        args.extend(["--color", "never"]);
        let out = stowplan(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("stowplan::write::hand-written")
                && stderr(&out).contains("`Dockerfile` exists and was not generated by stowplan")
                && stderr(&out).contains("stowplan write --force"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        hand
    );
    assert!(
        !dir.path().join("new.Dockerfile").exists(),
        "wrote another output"
    );
    assert!(
        !dir.path().join("build.sh").exists(),
        "wrote another output"
    );
    // Forced, it is replaced; then it is stowplan's, and so are the others.
    let out = stowplan(dir.path(), &["write", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap();
    assert!(written.starts_with("# Generated by stowplan "), "{written}");
    assert!(dir.path().join("build.sh").is_file());
    std::fs::write(dir.path().join("new.Dockerfile"), "").unwrap();
    let out = stowplan(dir.path(), &["write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = stowplan(dir.path(), &["check", "--outputs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
