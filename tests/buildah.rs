//! The Buildah script backend (`stowplan::backend::buildah`).
//!
//! - Every non-`err_` case's script is snapshotted (or, when the backend
//!   cannot say the case, its rendered diagnostics), and so are a spec with
//!   everything buildah can say and one with what it cannot.
//! - shellcheck reports nothing on any generated script (cases, examples and
//!   the specs here). Without shellcheck the test says SKIPPED; under CI it fails.
//! - Hostile strings in every value a plan carries reach buildah as exactly
//!   one argument each, and as exactly the value buildah will store: the
//!   script runs against a fake `buildah` that records its arguments.
//! - `real_build` (ignored by default) builds a script with the real buildah.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use miette::SourceSpan;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use stowplan::backend::buildah::{self, BuildahOptions};
use stowplan::frontend::ast::{Port, Protocol, StageKind};
use stowplan::plan::ir::{
    self as plan, Base, Command as PlanCommand, Copy, CopySource, Healthcheck, Instruction,
    Located, Plan, Run, Stage,
};
use stowplan::{Code, SourceFile};

fn source(path: &Path) -> SourceFile {
    let text = std::fs::read_to_string(path).expect("read case");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    SourceFile::new(name, text)
}

fn is_err_case(path: &Path) -> bool {
    path.file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("err_")
}

/// A spec's script, or its rendered diagnostics when it cannot be said.
fn script(source: &SourceFile, options: &stowplan::Options) -> Result<String, String> {
    let checked = stowplan::check(source, options).map_err(|d| common::render_all(&d))?;
    let plan = stowplan::plan(source, &checked.output, &stowplan::Selection::All);
    buildah::emit(&plan, &BuildahOptions::default()).map_err(|diagnostics| {
        let diagnostics: Vec<_> = diagnostics.into_iter().map(|d| d.in_file(source)).collect();
        common::render_all(&diagnostics)
    })
}

fn case_options(path: &Path) -> stowplan::Options {
    let context = path.with_extension("context");
    stowplan::Options {
        context: context.is_dir().then_some(context),
        ..stowplan::Options::default()
    }
}

#[test]
fn cases() {
    insta::glob!("cases/*.kdl", |path| {
        if is_err_case(path) {
            return;
        }
        let snapshot = match script(&source(path), &case_options(path)) {
            Ok(script) => script,
            Err(rendered) => {
                assert!(
                    rendered.contains(Code::Unrepresentable.as_str()),
                    "{} fails for another reason than the backend:\n{rendered}",
                    path.display()
                );
                rendered
            }
        };
        insta::assert_snapshot!(snapshot);
    });
}

/// Everything buildah can say, in one spec: every_instruction.kdl without
/// the health check's start interval, plus ARG/ENV interplay, stage binds,
/// rw binds, an optional secret and a stage built on a builder stage.
const FULL_SPEC: &str = r#"stowplan 1

stage "base" {
    from "debian:bookworm-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    platform "linux/amd64"
    shell "/bin/bash" "-o" "pipefail" "-c"
    arg "DEBIAN_FRONTEND" "noninteractive"
    arg "NO_DEFAULT"
    env "NO_DEFAULT" "env wins over arg"
    run "apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u7 && rm -rf /var/lib/apt/lists/*"
    run "uname" "-a" exec=#true network="none"
    artifact "curl" "/usr/bin/curl"
}

stage "assets" {
    from "scratch"
    platform "$BUILDPLATFORM"
    add "https://example.com/archive.tar.gz" to="/opt/archive.tar.gz" checksum="sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" chmod="0644"
    add "https://example.com/dl/tool%20kit.tgz?x=1" to="/opt/" checksum="sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    add "vendor.tar.gz" "https://example.com/plain.txt" to="/opt/vendor/" chown="1000:1000"
    artifact "archive" "/opt/archive.tar.gz"
}

image "full" {
    from stage="base"
    tag "ghcr.io/acme/full:1.0" "acme/full"
    workdir "/srv/app"
    env "APP_ENV" "production"
    label "org.opencontainers.image.title" "full"
    step "install" {
        input "package.json" "package-lock.json"
        input "config/app.toml"
        input "src/" to="/srv/app/source/"
        run "make install"
        cache "/root/.cache" id="build-cache" sharing="locked"
        cache "/var/cache/private" sharing="private"
        secret "npmrc" target="/root/.npmrc" required=#true
        secret "optional.token"
        bind "scripts" target="/scripts"
        bind "scratchpad/" target="/scratchpad" rw=#true
        bind "/usr/bin" target="/mnt/bin" stage="base"
        tmpfs "/tmp/scratch" size=67108864
        ssh id="default"
        ssh id="deploy-key" required=#true
    }
    copy artifact="assets.archive" to="/opt/" chown="app:app" chmod="0640" link=#true
    copy image="busybox:1.36.1" "/bin/busybox" to="/usr/local/bin/busybox"
    copy image="busybox:1.36.1" "/bin/sh" to="/usr/local/bin/sh"
    copy "static/" to="/srv/app/static/"
    expose 8080 "53/udp"
    volume "/var/lib/app" "/var/log/app"
    user "1000:1000"
    healthcheck "curl" "-fsS" "http://localhost:8080/healthz" interval="30s" timeout="3s" start-period="10s" retries=3
    stopsignal "SIGQUIT"
    cmd "--port" "8080"
    entrypoint "/usr/local/bin/app"
}

image "minimal" {
    from "busybox:1.36.1"
    healthcheck "wget -qO- http://localhost/ || exit 1" shell=#true
    entrypoint "/bin/sh" "-c" "exec \"$@\"" "sh"
    cmd "echo hello from $HOSTNAME" shell=#true
}

image "derived" {
    from stage="minimal"
    healthcheck none=#true
    run "echo derived > /derived.txt"
}
"#;

/// What buildah 1.28 cannot say, each refused at its node.
const UNREPRESENTABLE_SPEC: &str = r#"stowplan 1

image "refused" {
    from "busybox:1.36.1"
    run "modprobe overlay" insecure=#true
    volume "/data-"
    healthcheck "true" start-interval="2s"
    step "secrets" {
        run "true"
        secret "api-key"
        secret "api.key"
    }
}
"#;

#[test]
fn everything_buildah_can_say() {
    let source = SourceFile::new("full.kdl", FULL_SPEC);
    let script = script(&source, &stowplan::Options::default()).unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(script);
}

#[test]
fn what_buildah_cannot_say_is_refused() {
    let source = SourceFile::new("refused.kdl", UNREPRESENTABLE_SPEC);
    let rendered = script(&source, &stowplan::Options::default()).expect_err("must be refused");
    insta::assert_snapshot!(rendered);
}

#[test]
fn output_is_deterministic_and_options_apply() {
    let source = SourceFile::new("full.kdl", FULL_SPEC);
    let checked = stowplan::check(&source, &stowplan::Options::default()).unwrap();
    let plan = stowplan::plan(&source, &checked.output, &stowplan::Selection::All);
    let default = buildah::emit(&plan, &BuildahOptions::default()).unwrap();
    assert_eq!(
        default,
        buildah::emit(&plan, &BuildahOptions::default()).unwrap()
    );
    let options = BuildahOptions {
        pull: buildah::PullPolicy::Never,
        image_prefix: None,
        context: "../my context".to_owned(),
    };
    let custom = buildah::emit(&plan, &options).unwrap();
    assert!(custom.contains("pull=${STOWPLAN_PULL:-never}\n"));
    assert!(custom.contains("context=${STOWPLAN_CONTEXT:-'../my context'}\n"));
    assert!(!custom.contains("localhost/full:latest"));
    assert!(custom.contains(
        "image[full]=$(buildah commit -q --format docker --identity-label=false \"$c\" 'ghcr.io/acme/full:1.0')"
    ));
    // `minimal` has no tag: committed unnamed, its id printed.
    assert!(custom.contains(
        "image[minimal]=$(buildah commit -q --format docker --identity-label=false \"$c\")\n"
    ));
    let bad = BuildahOptions {
        image_prefix: Some("Not A Prefix/".to_owned()),
        ..BuildahOptions::default()
    };
    let errors = buildah::emit(&plan, &bad).expect_err("an invalid prefix is refused");
    assert!(errors.iter().all(|d| d.code == Code::Unrepresentable));
}

// ---------------------------------------------------------------------------
// shellcheck

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

fn example_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(common::root().join("examples"))
        .map(|dir| {
            dir.map(|e| e.unwrap().path().join("stowplan.kdl"))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    specs.sort();
    specs
}

/// Every script this suite can produce: cases, examples, the specs above
/// and one hostile plan.
fn all_scripts() -> Vec<(String, String)> {
    let mut scripts = Vec::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl") && !is_err_case(p))
        .collect();
    cases.sort();
    for path in cases {
        if let Ok(text) = script(&source(&path), &case_options(&path)) {
            scripts.push((path.display().to_string(), text));
        }
    }
    for path in example_specs() {
        let source = SourceFile::new("stowplan.kdl", std::fs::read_to_string(&path).unwrap());
        let options = stowplan::Options {
            context: Some(path.parent().unwrap().to_path_buf()),
            ..stowplan::Options::default()
        };
        let text = script(&source, &options).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        scripts.push((path.display().to_string(), text));
    }
    let full = SourceFile::new("full.kdl", FULL_SPEC);
    scripts.push((
        "FULL_SPEC".into(),
        script(&full, &stowplan::Options::default()).unwrap(),
    ));
    let values = HOSTILE.map(str::to_owned);
    scripts.push((
        "hostile plan".into(),
        buildah::emit(&hostile_plan(&values), &BuildahOptions::default()).unwrap(),
    ));
    scripts
}

#[test]
fn scripts_pass_shellcheck() {
    let scripts = all_scripts();
    assert!(scripts.len() >= 4, "too few scripts to lint");
    if !shellcheck_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (name, text)) in scripts.iter().enumerate() {
        let file = dir.path().join(format!("script{i:02}.sh"));
        std::fs::write(&file, text).unwrap();
        files.push((file, name));
    }
    for (file, name) in &files {
        let output = Command::new("shellcheck")
            .args(["--shell=bash", "--format=gcc", "--severity=style"])
            .arg(file)
            .output()
            .expect("run shellcheck");
        assert!(
            output.status.success() && output.stdout.is_empty(),
            "shellcheck on the script for {name}:\n{}{}\n---- script ----\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(file).unwrap()
        );
    }
}

// ---------------------------------------------------------------------------
// Hostile values

/// Values that break naive quoting, each a single argument to buildah.
const HOSTILE: [&str; 12] = [
    "it's",
    "say \"hi\" and 'bye'",
    "$HOME ${PATH} $(id) `id` $$ ${ $",
    "C:\\temp\\new\\",
    "two\nlines\r\n",
    "tab\there; rm -rf / && echo pwned | cat > /x",
    "",
    "-flag",
    "#not a comment",
    "'\\''",
    "café ✓ 日本 \u{2028} “quotes” ‘single’",
    "~/x *.txt [a] {a,b} !event ?",
];

fn span() -> SourceSpan {
    SourceSpan::from(0..0)
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
        at(Instruction::Workdir(format!("/w{}", v(0)))),
        at(Instruction::Arg {
            name: "BUILD_ARG".into(),
            default: Some(v(1)),
        }),
        at(Instruction::Env {
            name: "VALUE".into(),
            value: v(2),
        }),
        at(Instruction::Label {
            key: "probe.value".into(),
            value: v(3),
        }),
        at(Instruction::Copy(Copy {
            source: CopySource::Context,
            paths: vec![format!("{}x", v(4)), v(5)],
            dest: v(6),
            chown: Some(v(7)),
            chmod: Some(v(8)),
            link: false,
        })),
        at(Instruction::Copy(Copy {
            source: CopySource::Stage("first".into()),
            paths: vec![format!("/{}", v(9))],
            dest: format!("/{}/", v(10)),
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
            network: Some(stowplan::base::keywords::Network::None),
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
        at(Instruction::User(v(7))),
        at(Instruction::Volume(vec![format!("/{}x", v(8))])),
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
        platform: None,
        tags,
        instructions,
        origin: span(),
    };
    Plan {
        source_name: "hostile \"plan\"\n$(id).kdl".into(),
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

/// Runs `script` against the fake buildah, with `STOWPLAN_*` variables
/// only from `env`.
fn fake_run(script: &str, env: &[(&str, &str)]) -> FakeRun {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let bin = dir.join("bin");
    let log = dir.join("log");
    let root = dir.join("root");
    let context = dir.join("context");
    for d in [&bin, &log, &root, &context] {
        std::fs::create_dir_all(d).unwrap();
    }
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
    let script = buildah::emit(&plan, &BuildahOptions::default()).expect("the plan emits");
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
            v(6)
        ]
    );
    let flag = |c: &[String], f: &str| c.iter().position(|a| a == f).map(|i| c[i + 1].clone());
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
    assert_eq!(config_value(&calls, "--volume"), [format!("/{}x", v(8))]);
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

fn nasty() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        10 => "[a-zA-Z0-9_./-]{1,6}",
        3 => Just("'".to_owned()),
        3 => Just("\"".to_owned()),
        3 => Just("\\".to_owned()),
        3 => Just("$".to_owned()),
        2 => Just("${X}".to_owned()),
        2 => Just("$(id)".to_owned()),
        2 => Just("`id`".to_owned()),
        2 => Just("\n".to_owned()),
        1 => Just("\r".to_owned()),
        2 => Just("\t".to_owned()),
        3 => Just(" ".to_owned()),
        2 => Just("#".to_owned()),
        2 => Just(";|&<>".to_owned()),
        2 => Just("*?[]{}~!".to_owned()),
        2 => Just("-".to_owned()),
        2 => Just(",=:%".to_owned()),
        2 => Just("é✓日本\u{2028}".to_owned()),
        1 => Just("\u{1}\u{7f}".to_owned()),
    ];
    prop::collection::vec(atom, 0..6).prop_map(|parts| parts.concat())
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
    let strategy = prop::collection::vec(nasty(), 12);
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
        stages: vec![Stage {
            name: "app".into(),
            kind: StageKind::Image,
            base: Base::Image("busybox".into()),
            platform: None,
            tags: Vec::new(),
            instructions: vec![at(Instruction::Run(Run {
                command: PlanCommand::Exec(vec!["true".into()]),
                mounts: vec![
                    plan::Mount::Secret {
                        id: "npm.rc".into(),
                        target: None,
                        required: true,
                    },
                    plan::Mount::Secret {
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
    let script = buildah::emit(&plan, &BuildahOptions::default()).unwrap();
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

// ---------------------------------------------------------------------------
// Real builds

/// Builds a spec with hostile values with the real buildah and reads the
/// image back. Needs root, buildah and tests/e2e/setup.sh's busybox image:
/// `cargo test --test buildah -- --ignored`.
#[test]
#[ignore = "needs buildah and the e2e base images (tests/e2e/setup.sh)"]
fn real_build() {
    const BASE: &str = "localhost/stowplan-e2e/busybox:local";
    let available = Command::new("buildah")
        .args(["inspect", "--type", "image", BASE])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("SKIPPED: buildah or {BASE} is missing; run tests/e2e/setup.sh");
        return;
    }
    let spec = format!(
        r#"stowplan 1
stage "build" {{
    from "{BASE}"
    arg "GREETING" "hello 'you' $USER"
    step "write" {{
        input "in.txt"
        run "mkdir -p /out && printf '%s|' \"$GREETING\" \"$(cat in.txt)\" > /out/result && cat /run/secrets/token >> /out/result"
        secret "token" required=#true
        cache "/var/cache/probe"
    }}
    artifact "result" "/out/result"
}}
image "probe" {{
    from "{BASE}"
    workdir "/srv/my app"
    env "DOLLAR" "$HOME ${{PATH}} \\$x $$ ${{"
    env "PATH" "/first:/usr/sbin:/usr/bin:/sbin:/bin"
    label "note" "it's \"quoted\" `id` $(id)"
    copy artifact="build.result" to="./result"
    entrypoint "/bin/sh" "-c" "cat result; echo \"$@\"" "sh"
    cmd "a b" "c'd"
}}
"#
    );
    let source = SourceFile::new("real.kdl", spec);
    let checked = stowplan::check(&source, &stowplan::Options::default()).unwrap();
    let plan = stowplan::plan(&source, &checked.output, &stowplan::Selection::All);
    let options = BuildahOptions {
        pull: buildah::PullPolicy::Never,
        image_prefix: Some("localhost/stowplan-buildah-test/".into()),
        context: ".".into(),
    };
    let script = buildah::emit(&plan, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "from the context").unwrap();
    std::fs::write(dir.path().join("token"), "tok3n").unwrap();
    std::fs::write(dir.path().join("build.sh"), &script).unwrap();
    let output = Command::new("bash")
        .arg("build.sh")
        .current_dir(dir.path())
        .env("STOWPLAN_SECRET_TOKEN", dir.path().join("token"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let image = "localhost/stowplan-buildah-test/probe:latest";
    let inspect = Command::new("buildah")
        .args(["inspect", "--type", "image", image])
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let config = &info["Docker"]["config"];
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        env,
        [
            "PATH=/first:/usr/sbin:/usr/bin:/sbin:/bin",
            "DOLLAR=$HOME ${PATH} \\$x $$ ${"
        ]
    );
    assert_eq!(config["Labels"]["note"], "it's \"quoted\" `id` $(id)");
    assert_eq!(config["Cmd"], serde_json::json!(["a b", "c'd"]));
    assert_eq!(config["WorkingDir"], "/srv/my app");
    let run = Command::new("buildah")
        .args(["from", "--pull=never", image])
        .output()
        .unwrap();
    let container = String::from_utf8(run.stdout).unwrap().trim().to_owned();
    let cat = Command::new("buildah")
        .args(["run", &container, "--", "cat", "/srv/my app/result"])
        .output()
        .unwrap();
    let _ = Command::new("buildah").args(["rm", &container]).output();
    let _ = Command::new("buildah").args(["rmi", image]).output();
    assert_eq!(
        String::from_utf8_lossy(&cat.stdout),
        "hello 'you' $USER|from the context|tok3n"
    );
}
