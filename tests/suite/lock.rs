//! `stowplan lock` and the lock's effect on `compile` and `check`
//! (spec/lock.md), through the binary.
//!
//! The tests without a registry run everywhere (a registry that is down is
//! a closed loopback port). Those that need one are `#[ignore]`d and run
//! through `tests/lock/registry.sh`, which starts Debian's docker-registry
//! twice on the loopback (open, and behind htpasswd), pushes tiny images
//! with buildah and runs `cargo test --test suite -- --ignored lock::`
//! with their addresses in the environment (root on Linux; tests/run.sh).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::stderr;

/// Runs the binary in `dir` with credentials only from `auth_file`: the
/// machine's own (`~/.docker/config.json`, podman's) are out of reach.
fn run(dir: &Path, args: &[&str], auth_file: Option<&Path>) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stowplan"));
    command
        .current_dir(dir)
        .args(["--color", "never"])
        .args(args)
        .env("HOME", dir)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("NO_COLOR");
    for proxy in [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        command.env_remove(proxy);
    }
    if let Some(file) = auth_file {
        command.env("REGISTRY_AUTH_FILE", file);
    }
    command.output().expect("run stowplan")
}

fn folder(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stowplan.kdl"), spec).unwrap();
    // A repository root, so that no policy above is found.
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

fn lock_text(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join("stowplan.lock")).ok()
}

const DIGEST_A: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const DIGEST_B: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// An image spec that pulls these references (the first as the base, the
/// others through `copy image=`).
fn spec_pulling(references: &[&str]) -> String {
    let mut spec = format!(
        "stowplan 1\nimage \"app\" {{\n    from \"{}\"\n",
        references[0]
    );
    for (i, r) in references[1..].iter().enumerate() {
        spec.push_str(&format!(
            "    copy image=\"{r}\" \"/hello\" to=\"/hello{i}\"\n"
        ));
    }
    spec.push_str("    cmd \"/hello\"\n}\n");
    spec
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_registry_that_is_down_names_the_image() {
    let reference = format!("127.0.0.1:{}/stowplan/tiny:1", closed_port());
    let dir = folder(&spec_pulling(&[&reference]));
    let old = format!(
        "image \"{reference}\" digest=\"{DIGEST_B}\"\nimage \"other:1\" digest=\"{DIGEST_B}\"\n"
    );
    // Without a lock: nothing is written.
    let out = run(dir.path(), &["lock"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("stowplan::lock::registry"), "{err}");
    assert!(err.contains("cannot reach registry `127.0.0.1:"), "{err}");
    assert!(err.contains(&reference), "{err}");
    assert!(err.contains("stowplan.kdl:3:"), "points at the use: {err}");
    assert_eq!(lock_text(dir.path()), None);
    // With one: it stays byte for byte (all or nothing), though an entry is unused.
    std::fs::write(dir.path().join("stowplan.lock"), &old).unwrap();
    let out = run(dir.path(), &["lock", "--update"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(lock_text(dir.path()).as_deref(), Some(old.as_str()));
    // JSON diagnostics carry the code too, and nothing panics.
    let out = run(
        dir.path(),
        &["--message-format", "json", "lock", "--update"],
        None,
    );
    assert!(stderr(&out).contains("\"stowplan::lock::registry\""));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn check_locked_fails_without_a_lock_naming_a_preset_image() {
    let dir = folder("stowplan 1\nimage \"app\" template=\"go\"\n");
    let out = run(dir.path(), &["check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(dir.path(), &["check", "--locked"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("stowplan::lock::stale"), "{err}");
    assert!(err.contains("there is no stowplan.lock"), "{err}");
    // Each image, the preset's builder too (after expansion).
    assert!(err.contains("`golang:"), "{err}");
    assert!(err.contains("`gcr.io/distroless/"), "{err}");
}

#[test]
fn a_stale_lock_warns_and_check_locked_fails() {
    let dir = folder(&spec_pulling(&["debian:12.6.0-slim", "busybox:1.36.1"]));
    std::fs::write(
        dir.path().join("stowplan.lock"),
        format!(
            "image \"debian:12.6.0-slim\" digest=\"{DIGEST_A}\"\nimage \"alpine:3.20.0\" digest=\"{DIGEST_B}\"\n"
        ),
    )
    .unwrap();
    let out = run(dir.path(), &["compile"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!("FROM debian:12.6.0-slim@{DIGEST_A} AS app")),
        "{text}"
    );
    assert!(
        text.contains("COPY --from=busybox:1.36.1 /hello"),
        "unlocked stays: {text}"
    );
    let err = stderr(&out);
    assert!(err.contains("`busybox:1.36.1` is not in"), "{err}");
    assert!(
        err.contains("locks `alpine:3.20.0`, which the spec no longer uses"),
        "{err}"
    );
    assert!(err.contains("stowplan.lock:2"), "at the entry: {err}");
    let out = run(dir.path(), &["--deny", "warnings", "compile"], None);
    assert_eq!(out.status.code(), Some(1));
    let out = run(dir.path(), &["check", "--locked"], None);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_lock_pins_under_the_mapped_name() {
    let dir = folder(&spec_pulling(&[
        "golang:1.22.5-bookworm",
        "gcr.io/distroless/static-debian12:nonroot",
    ]));
    std::fs::write(
        dir.path().join("stowplan.lock"),
        format!(
            "image \"golang:1.22.5-bookworm\" digest=\"{DIGEST_A}\"\nimage \"gcr.io/distroless/static-debian12:nonroot\" digest=\"{DIGEST_B}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("map.kdl"),
        format!(
            "map \"golang:1.22.5-bookworm\" \"mirror.local/library/golang:1.22.5-bookworm\"\nmap \"gcr.io/distroless/static-debian12:nonroot\" \"mirror.local/static@{DIGEST_A}\"\n"
        ),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["--image-map", "map.kdl", "check", "--locked"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(dir.path(), &["--image-map", "map.kdl", "compile"], None);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!(
            "FROM mirror.local/library/golang:1.22.5-bookworm@{DIGEST_A} AS app"
        )),
        "{text}"
    );
    // A digest the map names wins over the lock's.
    assert!(
        text.contains(&format!(
            "COPY --from=mirror.local/static@{DIGEST_A} /hello"
        )),
        "{text}"
    );
    // The Buildah script pins the same way.
    let out = run(
        dir.path(),
        &["--image-map", "map.kdl", "compile", "--emit", "buildah"],
        None,
    );
    let script = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        script.contains(&format!(
            "mirror.local/library/golang:1.22.5-bookworm@{DIGEST_A}"
        )),
        "{script}"
    );
}

#[test]
fn a_locked_base_passes_policy_base_pinned() {
    let dir = folder(&spec_pulling(&["debian:12.6.0-slim"]));
    std::fs::write(
        dir.path().join("stowplan.policy.kdl"),
        "rule \"policy.base.pinned\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("stowplan::policy::base-pinned"));
    std::fs::write(
        dir.path().join("stowplan.lock"),
        format!("image \"debian:12.6.0-slim\" digest=\"{DIGEST_A}\"\n"),
    )
    .unwrap();
    let out = run(dir.path(), &["check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_broken_lock_stops_and_update_writes_it_anew() {
    // Nothing to resolve: `scratch` and a reference with its digest.
    let dir = folder(&format!(
        "stowplan 1\nimage \"a\" {{\n    from \"scratch\"\n    cmd \"/a\"\n}}\nimage \"b\" {{\n    from \"busybox:1.36.1@{DIGEST_A}\"\n    cmd \"/b\"\n}}\n"
    ));
    std::fs::write(
        dir.path().join("stowplan.lock"),
        "image \"debian\" digest=\"md5:abc\"\nmap \"x\" \"y\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["compile"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("is not a manifest digest"), "{err}");
    assert!(err.contains("unknown node `map` in a lock"), "{err}");
    assert!(err.contains("--update` writes it anew"), "{err}");
    let out = run(dir.path(), &["lock", "--update"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = lock_text(dir.path()).unwrap();
    assert!(!text.lines().any(|l| l.starts_with("image ")), "{text}");
    assert!(text.starts_with("// Generated by `stowplan lock` for stowplan.kdl"));
    let out = run(dir.path(), &["check", "--locked"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn update_names_a_reference_the_spec_uses() {
    let dir = folder(&spec_pulling(&["debian:12.6.0-slim"]));
    let out = run(dir.path(), &["lock", "--update", "debian:12.6.0"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("the spec uses no image reference `debian:12.6.0`"),
        "{err}"
    );
    assert!(err.contains("did you mean `debian:12.6.0-slim`?"), "{err}");
    assert_eq!(lock_text(dir.path()), None);
}

// ---- against real registries (tests/lock/registry.sh) ----

struct Registries {
    open: String,
    auth: String,
    auth_file: PathBuf,
    /// `REFERENCE DIGEST` as buildah reported each push.
    pushed: Vec<(String, String)>,
}

fn registries() -> Registries {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run these through tests/lock/registry.sh (as root)")
        })
    };
    let pushed = std::fs::read_to_string(var("STOWPLAN_TEST_DIGESTS"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(r, d)| (r.to_owned(), d.trim().to_owned()))
        .collect();
    Registries {
        open: var("STOWPLAN_TEST_REGISTRY"),
        auth: var("STOWPLAN_TEST_AUTH_REGISTRY"),
        auth_file: PathBuf::from(var("STOWPLAN_TEST_AUTH_FILE")),
        pushed,
    }
}

impl Registries {
    fn pushed(&self, reference: &str) -> &str {
        &self
            .pushed
            .iter()
            .find(|(r, _)| r == reference)
            .unwrap_or_else(|| panic!("{reference} was not pushed"))
            .1
    }
}

/// The lock's entries, as (reference, digest).
fn entries(dir: &Path) -> Vec<(String, String)> {
    lock_text(dir)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("image \""))
        .map(|l| {
            let (r, rest) = l.split_once('"').unwrap();
            let d = rest.split('"').nth(1).unwrap();
            (r.to_owned(), d.to_owned())
        })
        .collect()
}

#[test]
#[ignore = "needs the registries of tests/lock/registry.sh"]
fn digests_are_those_buildah_pushed_an_index_stays_an_index() {
    let r = registries();
    let oci = format!("{}/stowplan/tiny:1", r.open);
    let docker = format!("{}/stowplan/tiny:docker", r.open);
    let index = format!("{}/stowplan/multi:1", r.open);
    let dir = folder(&spec_pulling(&[&index, &oci, &docker]));
    let out = run(dir.path(), &["lock"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut expected: Vec<(String, String)> = [&oci, &docker, &index]
        .iter()
        .map(|reference| (reference.to_string(), r.pushed(reference).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(entries(dir.path()), expected);
    // A second run asks nothing and leaves the file as it is.
    let before = lock_text(dir.path());
    let out = run(dir.path(), &["lock"], None);
    assert!(
        stderr(&out).contains("is up to date: 3 image(s), 0 resolved"),
        "{}",
        stderr(&out)
    );
    assert_eq!(lock_text(dir.path()), before);
    let out = run(dir.path(), &["check", "--locked"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(dir.path(), &["compile"], None);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!("FROM {index}@{} AS app", r.pushed(&index))),
        "{text}"
    );
}

#[test]
#[ignore = "needs the registries of tests/lock/registry.sh"]
fn the_login_comes_from_registry_auth_file() {
    let r = registries();
    let private = format!("{}/stowplan/private:1", r.auth);
    let dir = folder(&spec_pulling(&[&private]));
    // No login: refused, and the message says where logins are read.
    let out = run(dir.path(), &["lock"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("stowplan::lock::registry"), "{err}");
    assert!(
        err.contains(&format!("refused access to `{private}` (401")),
        "{err}"
    );
    assert!(err.contains("REGISTRY_AUTH_FILE"), "{err}");
    assert_eq!(lock_text(dir.path()), None);
    // A wrong password.
    let wrong = dir.path().join("wrong.json");
    std::fs::write(
        &wrong,
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"c3Rvd3BsYW46d3Jvbmc=\"}}}}}}",
            r.auth
        ),
    )
    .unwrap();
    let out = run(dir.path(), &["lock"], Some(&wrong));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("refused the login stowplan found"),
        "{}",
        stderr(&out)
    );
    // The right one.
    let out = run(dir.path(), &["lock"], Some(&r.auth_file));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        entries(dir.path()),
        vec![(private.clone(), r.pushed(&private).to_owned())]
    );
    // A credentials file that is not JSON is named.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{").unwrap();
    let out = run(dir.path(), &["lock", "--update"], Some(&broken));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("broken.json"), "{}", stderr(&out));
}

#[test]
#[ignore = "needs the registries of tests/lock/registry.sh"]
fn a_missing_tag_is_not_found_and_nothing_is_written() {
    let r = registries();
    let good = format!("{}/stowplan/tiny:1", r.open);
    let missing = format!("{}/stowplan/tiny:nope", r.open);
    let no_repo = format!("{}/stowplan/nothing:1", r.open);
    let dir = folder(&spec_pulling(&[&good, &missing, &no_repo]));
    let out = run(dir.path(), &["lock"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.matches("stowplan::lock::not-found").count(), 2, "{err}");
    assert!(err.contains("has no `nope` in `stowplan/tiny`"), "{err}");
    assert!(err.contains(&missing), "{err}");
    assert!(err.contains(&no_repo), "{err}");
    assert_eq!(lock_text(dir.path()), None, "all or nothing");
}

#[test]
#[ignore = "needs the registries of tests/lock/registry.sh"]
fn update_resolves_again_what_it_is_asked_and_drops_the_unused() {
    let r = registries();
    let tiny = format!("{}/stowplan/tiny:1", r.open);
    let index = format!("{}/stowplan/multi:1", r.open);
    let dir = folder(&spec_pulling(&[&tiny, &index]));
    std::fs::write(
        dir.path().join("stowplan.lock"),
        format!(
            "image \"{tiny}\" digest=\"{DIGEST_A}\"\nimage \"{index}\" digest=\"{DIGEST_B}\"\nimage \"gone:1\" digest=\"{DIGEST_B}\"\n"
        ),
    )
    .unwrap();
    // Kept digests stay; the unused entry goes.
    let out = run(dir.path(), &["lock", "-v"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("dropped gone:1"), "{}", stderr(&out));
    let mut expected = vec![
        (tiny.clone(), DIGEST_A.to_owned()),
        (index.clone(), DIGEST_B.to_owned()),
    ];
    expected.sort();
    assert_eq!(entries(dir.path()), expected);
    // One.
    let out = run(dir.path(), &["lock", "--update", &tiny], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut expected = vec![
        (tiny.clone(), r.pushed(&tiny).to_owned()),
        (index.clone(), DIGEST_B.to_owned()),
    ];
    expected.sort();
    assert_eq!(entries(dir.path()), expected);
    // All.
    let out = run(dir.path(), &["lock", "stowplan.kdl", "--update"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut expected = vec![
        (tiny.clone(), r.pushed(&tiny).to_owned()),
        (index.clone(), r.pushed(&index).to_owned()),
    ];
    expected.sort();
    assert_eq!(entries(dir.path()), expected);
}

#[test]
#[ignore = "needs the registries of tests/lock/registry.sh and buildah"]
fn a_dockerfile_with_a_locked_index_builds() {
    let r = registries();
    let index = format!("{}/stowplan/multi:1", r.open);
    let dir = folder(&format!(
        "stowplan 1\noutput \"Dockerfile\"\nimage \"app\" {{\n    from \"{index}\"\n    cmd \"/hello\"\n}}\n"
    ));
    assert_eq!(run(dir.path(), &["lock"], None).status.code(), Some(0));
    let out = run(dir.path(), &["write"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let store = tempfile::tempdir().unwrap();
    let buildah = |args: &[&str]| {
        std::process::Command::new("buildah")
            .arg("--root")
            .arg(store.path().join("root"))
            .arg("--runroot")
            .arg(store.path().join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run buildah")
    };
    let out = buildah(&[
        "build",
        "--tls-verify=false",
        "--pull=always",
        "-t",
        "localhost/locked",
        ".",
    ]);
    let _ = buildah(&["rmi", "-a", "-f"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(r.pushed(&index)),
        "pulled by the locked digest: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
