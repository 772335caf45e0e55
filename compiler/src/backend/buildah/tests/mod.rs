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
//! real build). Here: `fake.rs` (the fake buildah and what it recorded),
//! `values.rs` (values and secrets), `mounts.rs` (binds and downloads).

mod fake;
mod mounts;
mod values;

use crate::backend::buildah::script::SHELLCHECK_DISABLED;
use crate::backend::buildah::{BuildahOptions, emit};
use crate::base::diagnostic::Span;
use crate::base::keywords::{Network, Port, Protocol, StageKind};
use crate::plan::ir::Word;
use crate::plan::ir::{
    Base, Command as PlanCommand, Copy, CopySource, Healthcheck, Instruction, Located, Plan, Run,
    Stage,
};
use crate::testkit::hostile::HOSTILE;
use crate::testkit::{self, shellcheck, shellcheck_available};

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

fn at<T>(value: T) -> Located<T> {
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
            parents: false,
            exclude: Vec::new(),
        })),
        at(Instruction::Copy(Copy {
            source: CopySource::Stage("first".into()),
            paths: vec![format!("/{}", v(9))],
            dest: Word::text(format!("/{}/", v(10))),
            chown: None,
            chmod: None,
            link: true,
            parents: false,
            exclude: Vec::new(),
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
        context: ".".into(),
        named_contexts: Vec::new(),
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
