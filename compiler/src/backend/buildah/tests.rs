//! The Buildah backend on plans built here, bypassing the decoder's checks
//! on purpose:
//!
//! - Hostile strings in every value a plan carries reach buildah as exactly
//!   one argument each, and as exactly the value buildah will store: the
//!   script runs against a fake `buildah` that records its arguments.
//! - Secrets never become an argument or an environment variable.
//! - The prelude's files, and the script of a hostile plan, pass
//!   shellcheck. Without shellcheck the tests say SKIPPED; under CI they fail.
//!
//! tests/suite/buildah.rs checks the scripts of specs (snapshots, shellcheck, a
//! real build).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::backend::buildah::instructions::destination;
use crate::backend::buildah::script::SHELLCHECK_DISABLED;
use crate::backend::buildah::{BuildahOptions, emit};
use crate::base::diagnostic::Span;
use crate::base::keywords::{Network, Port, Protocol, StageKind};
use crate::plan::ir::Word;
use crate::plan::ir::{
    Add, Base, Command as PlanCommand, Copy, CopySource, Healthcheck, Instruction, Located, Mount,
    Plan, Run, Stage,
};
use crate::testkit;
use crate::testkit::hostile::{HOSTILE, nasty};

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

/// shellcheck's findings on a bash file (empty when clean), with the
/// checks in `exclude` (comma-separated) off.
fn shellcheck(file: &Path, exclude: &str) -> String {
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

// ---------------------------------------------------------------------------
// Hostile values

fn span() -> Span {
    Span::from(0..0)
}

fn at(value: Instruction) -> Located<Instruction> {
    Located {
        value,
        origin: span(),
    }
}

/// A plan that puts `values` in every place a value can go. Values are
/// used as they are (this bypasses the decoder's checks on purpose); a
/// few places get a prefix or suffix to stay within what buildah accepts
/// (absolute paths, no trailing `-` on a volume).
fn hostile_plan(values: &[String]) -> Plan {
    let v = |i: usize| values[i % values.len()].clone();
    let shell = vec!["/bin/sh".to_owned(), "-c".to_owned()];
    let mut instructions = vec![
        at(Instruction::Workdir(Word::text(format!("/w{}", v(0))))),
        at(Instruction::Arg {
            name: "BUILD_ARG".into(),
            default: Some(v(1)),
        }),
        at(Instruction::Env {
            name: "VALUE".into(),
            value: Word::text(v(2)),
        }),
        at(Instruction::Label {
            key: "probe.value".into(),
            value: Word::text(v(3)),
        }),
        at(Instruction::Copy(Copy {
            source: CopySource::Context,
            paths: vec![format!("{}x", v(4)), v(5)],
            dest: Word::text(v(6)),
            chown: Some(v(7)),
            chmod: Some(v(8)),
            link: false,
        })),
        at(Instruction::Copy(Copy {
            source: CopySource::Stage("first".into()),
            paths: vec![format!("/{}", v(9))],
            dest: Word::text(format!("/{}/", v(10))),
            chown: None,
            chmod: None,
            link: true,
        })),
        at(Instruction::Run(Run {
            command: PlanCommand::Shell {
                script: v(11),
                shell: shell.clone(),
            },
            mounts: Vec::new(),
            network: None,
            insecure: false,
        })),
        at(Instruction::Run(Run {
            command: PlanCommand::Exec(vec![v(0), v(1), v(2)]),
            mounts: Vec::new(),
            network: Some(Network::None),
            insecure: false,
        })),
        at(Instruction::Shell(vec![v(3), v(4), "-c".into()])),
        at(Instruction::Healthcheck(Some(Healthcheck {
            command: PlanCommand::Exec(vec![v(5), v(6)]),
            interval: Some("1s".into()),
            timeout: None,
            start_period: None,
            start_interval: None,
            retries: Some(2),
        }))),
        at(Instruction::User(Word::text(v(7)))),
        // The decoder keeps `,` out of volume paths (buildah splits on it).
        at(Instruction::Volume(vec![format!(
            "/{}x",
            v(8).replace(',', "")
        )])),
        at(Instruction::StopSignal(v(9))),
        at(Instruction::Expose(Port {
            number: 8080,
            protocol: Protocol::Tcp,
        })),
        at(Instruction::Entrypoint(PlanCommand::Shell {
            script: v(10),
            shell: shell.clone(),
        })),
        at(Instruction::Cmd(PlanCommand::Exec(vec![v(11), v(0)]))),
    ];
    // The health check again, in shell form.
    instructions.push(at(Instruction::Healthcheck(Some(Healthcheck {
        command: PlanCommand::Shell {
            script: format!("x{}", v(1)),
            shell,
        },
        interval: None,
        timeout: None,
        start_period: None,
        start_interval: None,
        retries: None,
    }))));
    let stage = |name: &str, base: Base, instructions, tags| Stage {
        name: name.into(),
        kind: StageKind::Image,
        base,
        platforms: Vec::new(),
        platform: None,
        tags,
        instructions,
        origin: span(),
    };
    Plan {
        source_name: "hostile \"plan\"\n$(id).kdl".into(),
        args: Vec::new(),
        stages: vec![
            stage("first", Base::Scratch, Vec::new(), Vec::new()),
            stage(
                "probe",
                Base::Image("busybox:1.36.1".into()),
                instructions,
                vec!["example.com/probe:1".into()],
            ),
        ],
    }
}

/// A fake `buildah` on PATH that records each call's arguments in a file of
/// its own, and answers `from`, `commit`, `inspect` and `mount` plausibly.
const FAKE_BUILDAH: &str = r#"#!/usr/bin/env bash
set -eu
n=$(find "$FAKE_LOG" -type f | wc -l)
printf '%s\0' "$@" >"$FAKE_LOG/$(printf %05d "$n")"
case $1 in
from) echo "container$n" ;;
commit) echo "image$n" ;;
mount) echo "$FAKE_ROOT" ;;
inspect) [[ $* != *'len .Docker.Config.Cmd'* ]] || echo 0 ;;
copy | add)
  # Like buildah 1.28: options, the container, then no argument may start with `-`.
  shift
  while [[ $1 == -* ]]; do
    case $1 in
    --from | --chown | --chmod | --contextdir | --ignorefile) shift 2 ;;
    *) shift ;;
    esac
  done
  for arg in "${@:2}"; do
    [[ $arg != -* ]] || { echo "Error: no options ($arg) can be specified after the image or container name" >&2; exit 125; }
  done
  ;;
esac
"#;

/// A run of a script against the fake buildah.
struct FakeRun {
    output: std::process::Output,
    /// Each buildah call's arguments, in order.
    calls: Vec<Vec<String>>,
    context: PathBuf,
    _dir: tempfile::TempDir,
}

/// Where a fake run keeps things, for a test to fill in before the run.
struct FakeDirs {
    /// On PATH, before the fake buildah.
    bin: PathBuf,
    /// Where each call's arguments are written.
    log: PathBuf,
    /// What `buildah mount` answers.
    root: PathBuf,
    context: PathBuf,
}

/// Runs `script` against the fake buildah, with `STOWPLAN_*` variables
/// only from `env`.
fn fake_run(script: &str, env: &[(&str, &str)]) -> FakeRun {
    fake_run_with(script, env, |_| {})
}

/// As `fake_run`, after `setup` filled in the fake's folders.
fn fake_run_with(script: &str, env: &[(&str, &str)], setup: impl FnOnce(&FakeDirs)) -> FakeRun {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let bin = dir.join("bin");
    let log = dir.join("log");
    let root = dir.join("root");
    let context = dir.join("context");
    for d in [&bin, &log, &root, &context] {
        std::fs::create_dir_all(d).unwrap();
    }
    setup(&FakeDirs {
        bin: bin.clone(),
        log: log.clone(),
        root: root.clone(),
        context: context.clone(),
    });
    let fake = bin.join("buildah");
    std::fs::write(&fake, FAKE_BUILDAH).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let file = dir.join("build.sh");
    std::fs::write(&file, script).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("STOWPLAN_") {
            command.env_remove(key);
        }
    }
    let output = command
        .arg(&file)
        .env("PATH", path)
        .env("FAKE_LOG", &log)
        .env("FAKE_ROOT", &root)
        .env("STOWPLAN_CONTEXT", &context)
        .env("TMPDIR", dir)
        .env("_CONTAINERS_USERNS_CONFIGURED", "done")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let calls = names
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).unwrap();
            let mut args: Vec<String> = bytes
                .split(|&b| b == 0)
                .map(|a| String::from_utf8(a.to_vec()).unwrap())
                .collect();
            args.pop(); // after the last NUL
            args
        })
        .collect();
    FakeRun {
        output,
        calls,
        context,
        _dir: temp,
    }
}

/// Runs `script` against the fake buildah, which must succeed.
fn run_with_fake_buildah(script: &str, env: &[(&str, &str)]) -> FakeRun {
    let run = fake_run(script, env);
    assert!(
        run.output.status.success(),
        "the script failed against the fake buildah:\n{}\n---- script ----\n{script}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    run
}

/// The calls whose arguments start with `prefix`.
fn calls_with<'a>(calls: &'a [Vec<String>], prefix: &[&str]) -> Vec<&'a [String]> {
    calls
        .iter()
        .filter(|c| c.len() >= prefix.len() && c.iter().zip(prefix).all(|(a, p)| a == p))
        .map(Vec::as_slice)
        .collect()
}

/// The value after `flag` in the one `buildah config` call that has it.
fn config_value<'a>(calls: &'a [Vec<String>], flag: &str) -> Vec<&'a str> {
    calls_with(calls, &["config"])
        .into_iter()
        .filter_map(|c| c.iter().position(|a| a == flag).map(|i| c[i + 1].as_str()))
        .collect()
}

/// Go's os.Expand, as `buildah config --env` applies it to a value.
fn go_expand(s: &str, env: &BTreeMap<String, String>) -> String {
    let special = |c: char| "*#$@!?-".contains(c) || c.is_ascii_digit();
    let b: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut j = 0;
    while j < b.len() {
        if b[j] != '$' || j + 1 >= b.len() {
            out.push(b[j]);
            j += 1;
            continue;
        }
        let rest = &b[j + 1..];
        let (name, width): (String, usize) = if rest[0] == '{' {
            if rest.len() > 2 && special(rest[1]) && rest[2] == '}' {
                (rest[1].to_string(), 3)
            } else {
                match rest.iter().position(|&c| c == '}') {
                    Some(1) => (String::new(), 2),
                    Some(i) => (rest[1..i].iter().collect(), i + 1),
                    None => (String::new(), 1),
                }
            }
        } else if special(rest[0]) {
            (rest[0].to_string(), 1)
        } else {
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .count();
            (rest[..n].iter().collect(), n)
        };
        if name.is_empty() && width == 0 {
            out.push('$');
        } else if !name.is_empty() {
            // buildah logs an error and keeps the name when it is unset.
            out.push_str(env.get(&name).map_or(name.as_str(), String::as_str));
        }
        j += width + 1;
    }
    out
}

/// The environment after one `buildah config` call's `--env` flags.
fn apply_env_flags(call: &[String]) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (i, arg) in call.iter().enumerate() {
        if arg != "--env" {
            continue;
        }
        let spec = &call[i + 1];
        match spec.split_once('=') {
            _ if spec == "-" => env.clear(),
            Some((name, value)) => {
                let value = go_expand(value, &env);
                env.insert(name.to_owned(), value);
            }
            None => {
                env.remove(spec.trim_end_matches('-'));
            }
        }
    }
    env
}

/// go-shellwords as buildah uses it for `--shell` and `--healthcheck`, for
/// the two spellings the emitter writes: bare words and single quotes.
fn shellwords(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' if in_word => {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            ' ' => {}
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Checks, against the fake buildah's record, that each value reached
/// buildah whole and as buildah will store it.
fn assert_values_arrive(values: &[String]) {
    let v = |i: usize| values[i % values.len()].clone();
    let plan = hostile_plan(values);
    let script = emit(&plan, &BuildahOptions::default()).expect("the plan emits");
    let syntax = Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    let run = run_with_fake_buildah(&script, &[("STOWPLAN_ARG_UNRELATED", "x")]);
    let calls = run.calls;
    let context = run.context.display().to_string();
    let shell = ["/bin/sh".to_owned(), "-c".to_owned()];

    assert_eq!(
        config_value(&calls, "--workingdir"),
        [format!("/w{}", v(0))]
    );
    // ENV: the value buildah stores after its own $-expansion.
    let env_call = calls_with(&calls, &["config", "--env", "-"]);
    assert_eq!(env_call.len(), 1, "one ENV");
    let env = apply_env_flags(env_call[0]);
    assert_eq!(env.get("VALUE"), Some(&v(2)), "ENV value");
    assert_eq!(env.len(), 1, "the helper variable is gone: {env:?}");
    assert_eq!(
        config_value(&calls, "--label"),
        [format!("probe.value={}", v(3))]
    );
    let copies = calls_with(&calls, &["copy"]);
    let context_copy = copies
        .iter()
        .find(|c| c.iter().any(|a| a == "--chmod"))
        .expect("the context copy");
    let n = context_copy.len();
    assert_eq!(
        context_copy[n - 3..],
        [
            format!("{context}/{}x", v(4)),
            format!("{context}/{}", v(5)),
            destination(&v(6))
        ]
    );
    let flag = |c: &[String], f: &str| c.iter().position(|a| a == f).map(|i| c[i + 1].clone());
    // Without --contextdir, buildah follows a context symlink on the host.
    assert_eq!(flag(context_copy, "--contextdir"), Some(context.clone()));
    assert_eq!(flag(context_copy, "--chown"), Some(v(7)));
    assert_eq!(flag(context_copy, "--chmod"), Some(v(8)));
    let stage_copy = copies
        .iter()
        .find(|c| c.iter().any(|a| a == "--from"))
        .expect("the stage copy");
    let n = stage_copy.len();
    assert_eq!(
        stage_copy[n - 2..],
        [format!("/{}", v(9)), format!("/{}/", v(10))]
    );
    let runs: Vec<Vec<String>> = calls_with(&calls, &["run"])
        .iter()
        .map(|c| c[c.iter().position(|a| a == "--").unwrap() + 1..].to_vec())
        .collect();
    let mut shell_run = shell.to_vec();
    shell_run.push(v(11));
    assert_eq!(runs, [shell_run, vec![v(0), v(1), v(2)]]);
    let run_calls = calls_with(&calls, &["run"]);
    assert!(
        run_calls[0].contains(&format!("--env=BUILD_ARG={}", v(1))),
        "the build arg reaches the run: {:?}",
        run_calls[0]
    );
    assert!(run_calls[1].contains(&"--network=none".to_owned()));
    assert_eq!(
        config_value(&calls, "--shell")
            .into_iter()
            .map(shellwords)
            .collect::<Vec<_>>(),
        [vec![v(3), v(4), "-c".into()]]
    );
    let checks: Vec<Vec<String>> = config_value(&calls, "--healthcheck")
        .into_iter()
        .map(shellwords)
        .collect();
    let shell_check = vec![
        "CMD".into(),
        "/bin/sh".into(),
        "-c".into(),
        format!("x{}", v(1)),
    ];
    assert_eq!(checks, [vec!["CMD".to_owned(), v(5), v(6)], shell_check]);
    assert_eq!(config_value(&calls, "--user"), [v(7)]);
    assert_eq!(
        config_value(&calls, "--volume"),
        [format!("/{}x", v(8).replace(',', ""))]
    );
    assert_eq!(config_value(&calls, "--stop-signal"), [v(9)]);
    assert_eq!(config_value(&calls, "--port"), ["8080/tcp"]);
    let json = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap();
    let entrypoints: Vec<Vec<String>> = config_value(&calls, "--entrypoint")
        .into_iter()
        .map(json)
        .collect();
    let mut entrypoint = shell.to_vec();
    entrypoint.push(v(10));
    assert_eq!(entrypoints, [entrypoint]);
    let cmds: Vec<Vec<String>> = config_value(&calls, "--cmd")
        .into_iter()
        .map(json)
        .collect();
    assert_eq!(cmds, [vec![v(11), v(0)]]);
    // Images: named, tagged, and nothing else was called.
    let commits = calls_with(&calls, &["commit"]);
    assert_eq!(commits.len(), 2);
    assert_eq!(commits[1].last().unwrap(), "localhost/probe:latest");
    assert_eq!(
        calls_with(&calls, &["tag"])[0][2..],
        ["example.com/probe:1".to_owned()]
    );
    for call in &calls {
        assert!(
            matches!(
                call[0].as_str(),
                "from" | "config" | "copy" | "run" | "commit" | "tag" | "inspect" | "mount" | "rm"
            ),
            "unexpected buildah call {call:?}"
        );
    }
}

#[test]
fn hostile_values_reach_buildah_whole() {
    let values: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
    assert_values_arrive(&values);
    // Rotated, so each value visits each place.
    for shift in 1..values.len() {
        let mut rotated = values.clone();
        rotated.rotate_left(shift);
        assert_values_arrive(&rotated);
    }
}

#[test]
fn arbitrary_values_reach_buildah_whole() {
    let config = Config {
        cases: 40,
        ..Config::default()
    };
    // A fixed seed: the same cases on every run and machine.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    // Without NUL: no bash script can carry one (nor can an argument), and
    // the emitter does not refuse it; the decoder keeps it out of plans.
    let strategy = prop::collection::vec(nasty().prop_map(|s| s.replace('\0', "")), 12);
    for _ in 0..40 {
        let values = strategy.new_tree(&mut runner).unwrap().current();
        assert_values_arrive(&values);
    }
}

/// Secrets reach the run as a private copy, never as an argument or an
/// environment variable; a missing required secret stops the build.
#[test]
fn secrets_stay_out_of_arguments() {
    let plan = Plan {
        source_name: "secret.kdl".into(),
        args: Vec::new(),
        stages: vec![Stage {
            name: "app".into(),
            kind: StageKind::Image,
            base: Base::Image("busybox".into()),
            platforms: Vec::new(),
            platform: None,
            tags: Vec::new(),
            instructions: vec![at(Instruction::Run(Run {
                command: PlanCommand::Exec(vec!["true".into()]),
                mounts: vec![
                    Mount::Secret {
                        id: "npm.rc".into(),
                        target: None,
                        required: true,
                    },
                    Mount::Secret {
                        id: "absent".into(),
                        target: Some("/opt/absent".into()),
                        required: false,
                    },
                ],
                network: None,
                insecure: false,
            }))],
            origin: span(),
        }],
    };
    let script = emit(&plan, &BuildahOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("npmrc");
    std::fs::write(&secret, "s3cr3t-value").unwrap();
    let calls = run_with_fake_buildah(
        &script,
        &[("STOWPLAN_SECRET_NPM_RC", secret.to_str().unwrap())],
    )
    .calls;
    let run = calls_with(&calls, &["run"])[0];
    let mounts: Vec<&String> = run
        .iter()
        .zip(run.iter().skip(1))
        .filter(|(a, _)| *a == "--mount")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(mounts.len(), 1, "only the secret that is set: {run:?}");
    assert!(mounts[0].starts_with("type=bind,source="));
    assert!(mounts[0].ends_with(",target=/run/secrets/npm.rc,ro"));
    assert!(
        !mounts[0].contains(secret.to_str().unwrap()),
        "a private copy"
    );
    assert!(
        calls.iter().flatten().all(|a| !a.contains("s3cr3t")),
        "the secret's value is never an argument"
    );

    // Unset and required: the build stops, saying why, before the run.
    let missing = fake_run(&script, &[]);
    assert!(!missing.output.status.success());
    assert!(
        String::from_utf8_lossy(&missing.output.stderr).contains(
            "secret \"npm.rc\" is required: set STOWPLAN_SECRET_NPM_RC to the file that holds it"
        ),
        "{}",
        String::from_utf8_lossy(&missing.output.stderr)
    );
    assert!(calls_with(&missing.calls, &["run"]).is_empty());
    // The working container was removed on the way out.
    assert_eq!(calls_with(&missing.calls, &["rm"]).len(), 1);
}

/// The script of a hostile plan passes shellcheck as it is (the scripts of
/// specs are checked in tests/suite/buildah.rs).
#[test]
fn hostile_script_passes_shellcheck() {
    let values = HOSTILE.map(str::to_owned);
    let script = emit(&hostile_plan(&values), &BuildahOptions::default()).unwrap();
    if !shellcheck_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.sh");
    std::fs::write(&file, &script).unwrap();
    let findings = shellcheck(&file, "");
    assert!(
        findings.is_empty(),
        "shellcheck on the script of the hostile plan:\n{findings}\n---- script ----\n{script}"
    );
}

/// A plan of a stage `first` and an image that runs `true` once with
/// `mounts`, or adds what `add` says.
fn mount_plan(mounts: Vec<Mount>, add: Option<Add>) -> Plan {
    let mut instructions = vec![at(Instruction::Run(Run {
        command: PlanCommand::Exec(vec!["true".into()]),
        mounts,
        network: None,
        insecure: false,
    }))];
    if let Some(add) = add {
        instructions = vec![at(Instruction::Add(add))];
    }
    let stage = |name: &str, kind, instructions| Stage {
        name: name.into(),
        kind,
        base: Base::Image("busybox".into()),
        platforms: Vec::new(),
        platform: None,
        tags: Vec::new(),
        instructions,
        origin: span(),
    };
    Plan {
        source_name: "mounts.kdl".into(),
        args: Vec::new(),
        stages: vec![
            stage("first", StageKind::Stage, Vec::new()),
            stage("probe", StageKind::Image, instructions),
        ],
    }
}

fn bind(source: &str, target: &str, from_stage: Option<&str>) -> Mount {
    Mount::Bind {
        source: source.into(),
        target: target.into(),
        from_stage: from_stage.map(str::to_owned),
        rw: false,
    }
}

/// The `--mount` values of the run in `calls`.
fn mount_flags(calls: &[Vec<String>]) -> Vec<String> {
    let run = calls_with(calls, &["run"])[0];
    run.iter()
        .zip(run.iter().skip(1))
        .filter(|(a, _)| *a == "--mount")
        .map(|(_, m)| m.clone())
        .collect()
}

/// A bind's source is resolved inside the stage's root (or the context)
/// as BuildKit resolves it: a symlink to `/`, a relative one that climbs
/// past the root and a `..` all stay inside, where the host's kernel would
/// follow them out.
#[test]
fn binds_stay_inside_their_root() {
    let plan = mount_plan(
        vec![
            bind("/hostroot/etc", "/a", Some("first")),
            bind("/deep/../../../x/y", "/b", Some("first")),
            bind("hostlink/etc", "/c", None),
            bind("/rel/link", "/d", Some("first")),
        ],
        None,
    );
    let script = emit(&plan, &BuildahOptions::default()).unwrap();
    let mut dirs = None;
    let run = fake_run_with(&script, &[], |d| {
        let link = std::os::unix::fs::symlink;
        for path in ["etc", "x/y", "rel", "deep"] {
            std::fs::create_dir_all(d.root.join(path)).unwrap();
        }
        link("/", d.root.join("hostroot")).unwrap();
        link("../../../../etc", d.root.join("rel/link")).unwrap();
        std::fs::create_dir_all(d.context.join("etc")).unwrap();
        link("/", d.context.join("hostlink")).unwrap();
        dirs = Some((
            d.root.display().to_string(),
            d.context.display().to_string(),
        ));
    });
    assert!(
        run.output.status.success(),
        "{}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    let (root, context) = dirs.unwrap();
    assert_eq!(
        mount_flags(&run.calls),
        [
            format!("type=bind,source={root}/etc,target=/a,ro"),
            format!("type=bind,source={root}/x/y,target=/b,ro"),
            format!("type=bind,source={context}/etc,target=/c,ro"),
            format!("type=bind,source={root}/etc,target=/d,ro"),
        ]
    );

    // A symlink loop stops the build, saying why, before the run.
    let plan = mount_plan(vec![bind("/loop/x", "/a", Some("first"))], None);
    let script = emit(&plan, &BuildahOptions::default()).unwrap();
    let looped = fake_run_with(&script, &[], |d| {
        std::os::unix::fs::symlink("/loop", d.root.join("loop")).unwrap();
    });
    assert!(!looped.output.status.success());
    assert!(
        String::from_utf8_lossy(&looped.output.stderr)
            .contains("/loop/x: too many levels of symbolic links"),
        "{}",
        String::from_utf8_lossy(&looped.output.stderr)
    );
    assert!(calls_with(&looped.calls, &["run"]).is_empty());
}

/// curl reads `[...]` and `{...}` in a URL as patterns unless told not to:
/// the download must fetch the URL as written.
#[test]
fn downloads_fetch_the_url_as_written() {
    const FAKE_CURL: &str = r#"#!/usr/bin/env bash
printf '%s\0' "$@" >"$FAKE_LOG.curl"
while (($#)); do
  [[ $1 != -o ]] || out=$2
  shift
done
: >"$out"
"#;
    let url = "https://example.com/a[1-2]/{x,y}/tool.tgz";
    let empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let plan = mount_plan(
        Vec::new(),
        Some(Add {
            sources: vec![url.into()],
            dest: "/opt/".into(),
            chown: None,
            chmod: None,
            checksum: Some(format!("sha256:{empty_sha256}")),
        }),
    );
    let script = emit(&plan, &BuildahOptions::default()).unwrap();
    let mut log = PathBuf::new();
    let run = fake_run_with(&script, &[], |d| {
        let curl = d.bin.join("curl");
        std::fs::write(&curl, FAKE_CURL).unwrap();
        std::fs::set_permissions(&curl, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        log = d.log.with_extension("curl");
    });
    assert!(
        run.output.status.success(),
        "{}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    let args = std::fs::read_to_string(&log).unwrap();
    let args: Vec<&str> = args.split_terminator('\0').collect();
    assert!(
        args.contains(&"--globoff"),
        "curl must not glob the URL: {args:?}"
    );
    assert_eq!(args.last(), Some(&url));
}

/// Values that name build arguments reach buildah whole: each argument's
/// value (a default, or `STOWPLAN_ARG_<NAME>`) is joined with the text as
/// bash strings, so neither the spec's text nor an argument's value is
/// ever read as bash, and a base image named by an argument is qualified.
#[test]
fn arg_words_reach_buildah_whole() {
    use crate::plan::ir::GlobalArg;
    for (i, hostile) in HOSTILE.iter().enumerate() {
        let from_env = HOSTILE[(i + 1) % HOSTILE.len()];
        let word = |text: &str, name: &str| {
            let mut w = Word::text(text);
            w.push_arg(name);
            w.push_text(hostile);
            w
        };
        let mut base = Word::text("busybox:");
        base.push_arg("TAG");
        let plan = Plan {
            source_name: "spec.kdl".into(),
            args: vec![
                GlobalArg {
                    name: "TAG".into(),
                    default: Some("1.36".into()),
                    origin: span(),
                },
                GlobalArg {
                    name: "G".into(),
                    default: Some((*hostile).to_owned()),
                    origin: span(),
                },
            ],
            stages: vec![Stage {
                name: "app".into(),
                kind: StageKind::Image,
                base: Base::ImageArgs(base),
                platform: None,
                platforms: Vec::new(),
                tags: Vec::new(),
                instructions: vec![
                    at(Instruction::Arg {
                        name: "G".into(),
                        default: None,
                    }),
                    at(Instruction::Arg {
                        name: "S".into(),
                        default: Some("stage".into()),
                    }),
                    at(Instruction::Label {
                        key: "k".into(),
                        value: word("[", "G"),
                    }),
                    at(Instruction::User(word("", "S"))),
                    at(Instruction::Workdir(word("/w", "S"))),
                ],
                origin: span(),
            }],
        };
        let script = emit(&plan, &BuildahOptions::default()).expect("the plan emits");
        for (env, g, s) in [
            (vec![], (*hostile).to_owned(), "stage".to_owned()),
            (
                vec![("STOWPLAN_ARG_G", from_env), ("STOWPLAN_ARG_S", from_env)],
                from_env.to_owned(),
                from_env.to_owned(),
            ),
        ] {
            let calls = run_with_fake_buildah(&script, &env).calls;
            let from = calls_with(&calls, &["from"]);
            assert_eq!(
                from[0].last().map(String::as_str),
                Some("docker.io/library/busybox:1.36")
            );
            assert_eq!(
                config_value(&calls, "--label"),
                [format!("k=[{g}{hostile}")]
            );
            assert_eq!(config_value(&calls, "--user"), [format!("{s}{hostile}")]);
            assert_eq!(
                config_value(&calls, "--workingdir"),
                [format!("/w{s}{hostile}")]
            );
        }
    }
}
