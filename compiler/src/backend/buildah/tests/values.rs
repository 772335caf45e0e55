//! Hostile values reach buildah whole; secrets never become arguments.

use std::process::Command;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::backend::buildah::instructions::destination;
use crate::backend::buildah::tests::fake::*;
use crate::backend::buildah::tests::*;
use crate::backend::buildah::{BuildahOptions, emit};
use crate::base::keywords::StageKind;
use crate::plan::ir::{Base, Command as PlanCommand, Instruction, Mount, Plan, Run, Stage};
use crate::testkit::hostile::{HOSTILE, nasty};

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
        context: ".".into(),
        named_contexts: Vec::new(),
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
                    at(Mount::Secret {
                        id: "npm.rc".into(),
                        target: None,
                        required: true,
                        env: None,
                    }),
                    at(Mount::Secret {
                        id: "absent".into(),
                        target: Some("/opt/absent".into()),
                        required: false,
                        env: None,
                    }),
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
            context: ".".into(),
            named_contexts: Vec::new(),
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
