//! Binds resolve inside their root; downloads fetch the URL as written.

use std::path::PathBuf;

use crate::backend::buildah::tests::fake::*;
use crate::backend::buildah::tests::*;
use crate::backend::buildah::{BuildahOptions, emit};
use crate::base::keywords::StageKind;
use crate::plan::ir::{Add, Base, Command as PlanCommand, Instruction, Mount, Plan, Run, Stage};

/// A plan of a stage `first` and an image that runs `true` once with
/// `mounts`, or adds what `add` says.
fn mount_plan(mounts: Vec<Mount>, add: Option<Add>) -> Plan {
    let mut instructions = vec![at(Instruction::Run(Run {
        command: PlanCommand::Exec(vec!["true".into()]),
        mounts: mounts.into_iter().map(at).collect(),
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
        context: ".".into(),
        named_contexts: Vec::new(),
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

/// A cache's owner and mode reach `buildah run --mount`, which creates the
/// cache directory with them; `sharing="private"` still becomes `locked`.
#[test]
fn cache_owner_and_mode_reach_buildah() {
    let plan = mount_plan(
        vec![Mount::Cache {
            target: "/home/app/.cache/".into(),
            id: Some("app-cache".into()),
            sharing: Some(crate::base::keywords::Sharing::Private),
            uid: Some(1000),
            gid: Some(1001),
            mode: Some("0750".into()),
        }],
        None,
    );
    let script = emit(&plan, &BuildahOptions::default()).unwrap();
    let run = fake_run_with(&script, &[], |_| {});
    assert!(
        run.output.status.success(),
        "{}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    assert_eq!(
        mount_flags(&run.calls),
        [
            "type=cache,target=/home/app/.cache/,id=app-cache,sharing=locked,uid=1000,gid=1001,mode=0750"
        ]
    );
}

/// `buildah run` takes an environment variable's value in its arguments,
/// which any user can read: a secret with `env=` is refused, saying what to
/// write instead, and nothing is emitted for it.
#[test]
fn secret_env_is_refused() {
    let plan = mount_plan(
        vec![Mount::Secret {
            id: "token".into(),
            target: None,
            required: true,
            env: Some("TOKEN".into()),
        }],
        None,
    );
    let errors = emit(&plan, &BuildahOptions::default()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].code,
        crate::base::diagnostic::Code::Unrepresentable
    );
    assert!(
        errors[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("TOKEN=\"$(cat /run/secrets/token)\"")),
        "{:?}",
        errors[0].help
    );
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
