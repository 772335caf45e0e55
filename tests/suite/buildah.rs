//! The Buildah script backend on specs, through `stowplan::compile` with
//! `Target::Buildah`.
//!
//! - Every non-`err_` case's script is snapshotted (or, when the backend
//!   cannot say the case, its rendered diagnostics), and so are a spec with
//!   everything buildah can say and one with what it cannot.
//! - shellcheck reports nothing on any generated script (cases, examples and
//!   the specs here). Without shellcheck the test says SKIPPED; under CI it fails.
//! - `real_build` and `real_build_stays_inside_context_and_stages` (ignored
//!   by default; tests/run.sh runs them as root) build scripts with the real
//!   buildah: hostile values, and hostile symlinks that must not reach the host.
//!
//! The tests on plans built by hand (hostile values against a fake
//! `buildah`, secrets, the prelude's files) are unit tests beside the
//! backend, in compiler/src/backend/buildah/tests/.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use stowplan::{BuildahOptions, PullPolicy};
use stowplan::{Code, Severity, SourceFile, Target};

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
    script_with(source, options, BuildahOptions::default()).map_err(|d| common::render_all(&d))
}

/// A spec's script with these options, or the errors that stop it (a spec
/// the backend cannot say also brings its warnings: they are left out).
fn script_with(
    source: &SourceFile,
    options: &stowplan::Options,
    buildah: BuildahOptions,
) -> Result<String, Vec<stowplan::Diagnostic>> {
    stowplan::compile(source, options, &Target::Buildah(buildah))
        .map(|done| done.output)
        .map_err(|d| {
            d.into_iter()
                .filter(|d| d.severity == Severity::Error)
                .collect()
        })
}

/// A case's context folder and its lock (`NAME.lock`), as in the snapshot suite.
fn case_options(path: &Path) -> stowplan::Options {
    let context = path.with_extension("context");
    let lock = path.with_extension("lock");
    let lock = lock.is_file().then(|| {
        let text = std::fs::read_to_string(&lock).unwrap();
        let parsed = stowplan::Lock::parse(&SourceFile::new(lock.display().to_string(), text));
        std::sync::Arc::new(parsed.expect("the case's lock reads").output)
    });
    stowplan::Options {
        context: context.is_dir().then_some(context),
        locked: lock.is_some(),
        lock,
        ..stowplan::Options::default()
    }
}

#[test]
fn cases() {
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "cases/*.kdl",
        |path| {
            if is_err_case(path) {
                return;
            }
            let snapshot = match script(&source(path), &case_options(path)) {
                Ok(script) => script,
                Err(rendered) => {
                    assert!(
                        rendered.contains(Code::Unrepresentable.as_str())
                            || rendered.contains(Code::Unsupported.as_str()),
                        "{} fails for another reason than the backend:\n{rendered}",
                        path.display()
                    );
                    rendered
                }
            };
            insta::assert_snapshot!(snapshot);
        }
    );
}

/// Both backends refuse every `err_` case, with the same diagnostics: a
/// spec the Dockerfile cannot carry must not build with the script alone.
#[test]
fn err_cases_are_refused_by_both_backends() {
    let dockerfile = stowplan::Target::default();
    let buildah = Target::Buildah(BuildahOptions::default());
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "cases/*.kdl",
        |path| {
            if !is_err_case(path) {
                return;
            }
            let source = source(path);
            let options = case_options(path);
            // Cases with outputs are refused when placing them; both backends
            // see the same compile otherwise.
            let refused = |target: &Target| {
                stowplan::compile(&source, &options, target)
                    .map(|_| ())
                    .map_err(|d| common::render_all(&d))
            };
            let (by_dockerfile, by_script) = (refused(&dockerfile), refused(&buildah));
            if by_dockerfile.is_ok() {
                return;
            }
            assert_eq!(
                by_script,
                by_dockerfile,
                "{}: the Buildah script must refuse it as the Dockerfile does",
                path.display()
            );
        }
    );
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
    let spec_options = stowplan::Options::default();
    let emit = |options: BuildahOptions| script_with(&source, &spec_options, options);
    let default = emit(BuildahOptions::default()).unwrap();
    assert_eq!(default, emit(BuildahOptions::default()).unwrap());
    let options = BuildahOptions {
        pull: PullPolicy::Never,
        image_prefix: None,
        context: "../my context".to_owned(),
    };
    let custom = emit(options).unwrap();
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
    let errors = emit(bad).expect_err("an invalid prefix is refused");
    assert!(errors.iter().all(|d| d.code == Code::Unrepresentable));
}

// ---------------------------------------------------------------------------
// shellcheck

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

/// Every script this suite can produce: cases, examples and the specs above.
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
    scripts
}

#[test]
fn scripts_pass_shellcheck() {
    let scripts = all_scripts();
    assert!(scripts.len() >= 4, "too few scripts to lint");
    if !common::shellcheck_available() {
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
        let findings = common::shellcheck(file, "");
        assert!(
            findings.is_empty(),
            "shellcheck on the script for {name}:\n{findings}\n---- script ----\n{}",
            std::fs::read_to_string(file).unwrap()
        );
    }
}

// ---------------------------------------------------------------------------
// Real builds

/// Builds a spec with hostile values with the real buildah and reads the
/// image back. Needs root, buildah and tests/e2e/setup.sh's busybox image:
/// `cargo test --test suite -- --ignored buildah::real_build`.
#[test]
#[ignore = "needs buildah and the e2e base images (tests/e2e/setup.sh)"]
fn real_build() {
    const BASE: &str = "localhost/stowplan-base/busybox:local";
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
    let options = BuildahOptions {
        pull: PullPolicy::Never,
        image_prefix: Some("localhost/stowplan-buildah-test/".into()),
        context: ".".into(),
    };
    let script = script_with(&source, &stowplan::Options::default(), options).unwrap();
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

/// A hostile spec built for real: the context holds `hostlink -> /`, a
/// stage makes `/hostroot -> /`, and the image binds and copies through
/// both. Each path exists on the host (a marker outside the context) and,
/// under the same name, inside the context and the stage: the image must
/// hold only the inside copies. Needs what `real_build` needs.
#[test]
#[ignore = "needs buildah and the e2e base images (tests/e2e/setup.sh)"]
fn real_build_stays_inside_context_and_stages() {
    const BASE: &str = "localhost/stowplan-base/busybox:local";
    let available = Command::new("buildah")
        .args(["inspect", "--type", "image", BASE])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("SKIPPED: buildah or {BASE} is missing; run tests/e2e/setup.sh");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The host's marker, outside the context: no build may read it.
    let host = dir.path().join("host");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("marker"), "HOST").unwrap();
    let host = host.to_str().unwrap().to_owned();
    let context = dir.path().join("context");
    std::fs::create_dir_all(context.join(host.trim_start_matches('/'))).unwrap();
    std::fs::write(context.join(&host[1..]).join("marker"), "context").unwrap();
    std::os::unix::fs::symlink("/", context.join("hostlink")).unwrap();
    let spec = format!(
        r#"stowplan 1
stage "evil" {{
    from "{BASE}"
    run "mkdir -p '{host}' && echo stage > '{host}/marker' && ln -s / /hostroot"
    artifact "marker" "/hostroot{host}/marker"
}}
image "hostile" {{
    from "{BASE}"
    copy artifact="evil.marker" to="/from-artifact"
    copy "hostlink{host}/marker" to="/from-context"
    step "read" {{
        bind "/hostroot{host}" stage="evil" target="/stage"
        bind "hostlink{host}" target="/ctx"
        run "cat /stage/marker > /from-stage-bind; cat /ctx/marker > /from-context-bind"
    }}
    cmd "true"
}}
"#
    );
    let source = SourceFile::new("hostile.kdl", spec);
    let options = BuildahOptions {
        pull: PullPolicy::Never,
        image_prefix: Some("localhost/stowplan-buildah-test/".into()),
        context: ".".into(),
    };
    let script = script_with(&source, &stowplan::Options::default(), options)
        .unwrap_or_else(|d| panic!("{}", common::render_all(&d)));
    std::fs::write(dir.path().join("build.sh"), &script).unwrap();
    let output = Command::new("bash")
        .arg(dir.path().join("build.sh"))
        .current_dir(&context)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let image = "localhost/stowplan-buildah-test/hostile:latest";
    let container = Command::new("buildah")
        .args(["from", "--pull=never", image])
        .output()
        .unwrap();
    let container = String::from_utf8(container.stdout)
        .unwrap()
        .trim()
        .to_owned();
    let read = Command::new("buildah")
        .args(["run", &container, "--", "sh", "-c"])
        .arg("for f in /from-*; do printf '%s=' $f; cat $f; done")
        .output()
        .unwrap();
    let _ = Command::new("buildah").args(["rm", &container]).output();
    let _ = Command::new("buildah").args(["rmi", image]).output();
    assert_eq!(
        String::from_utf8_lossy(&read.stdout),
        "/from-artifact=stage\n/from-context=context/from-context-bind=context/from-stage-bind=stage\n"
    );
}
