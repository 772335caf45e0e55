//! The cache model, `stowplan explain` and `compile --explain-order`.
//!
//! Every `tests/cases_cache/*.kdl` and `*.Dockerfile` is a case: its first
//! comment lines say what changed (`changed: PATH...`, `arg: NAME...`,
//! `base: IMAGE...`) and whose cache rules apply (`builder: classic`; the
//! default is BuildKit's), and its snapshot holds what `explain` prints
//! (for a spec, also the optimizer's report and the Dockerfile the lines
//! refer to). A case may bring `NAME.dockerignore`.

use crate::common::{self, stowplan};

use std::path::Path;
use std::process::Command;

use stowplan::Change;
use stowplan::SourceFile;

/// The change a case's header comments describe, and how to explain it.
fn change(text: &str) -> (Change, stowplan::ExplainOptions) {
    let mut change = Change::default();
    let mut options = stowplan::ExplainOptions::default();
    for line in text.lines() {
        let line = line.trim_start_matches(['/', '#', ' ']);
        let Some((key, values)) = line.split_once(':') else {
            continue;
        };
        let mut values = values.split_whitespace().map(str::to_owned);
        match key {
            "changed" => change.paths.extend(values),
            "arg" => change.args.extend(values),
            "base" => change.images.extend(values),
            "builder" => {
                let name = values.next_back().unwrap_or_default();
                options.builder = clap::ValueEnum::from_str(&name, false)
                    .unwrap_or_else(|e| panic!("builder: {e}"));
            }
            _ => {}
        }
    }
    (change, options)
}

fn explain_case(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (change, mut explain) = change(&text);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    explain.dockerignore =
        std::fs::read_to_string(path.with_file_name(format!("{name}.dockerignore"))).ok();
    if name.ends_with(".Dockerfile") {
        return stowplan::explain_dockerfile(&text, &explain, &change)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let source = SourceFile::new(name.clone(), text);
    let options = stowplan::Options::default();
    let fail = |d: &[stowplan::Diagnostic]| format!("{name}:\n{}", common::render_all(d));
    let compiled = stowplan::compile_with_report(&source, &options, &Default::default())
        .unwrap_or_else(|d| panic!("{}", fail(&d)))
        .output;
    let explained = stowplan::explain_spec(&source, &options, &change, &explain)
        .unwrap_or_else(|d| panic!("{}", fail(&d)));
    let numbered: String = compiled
        .text
        .lines()
        .enumerate()
        .map(|(n, line)| format!("{:>3} {line}\n", n + 1))
        .collect();
    format!(
        "---- order ----\n{}\n---- Dockerfile ----\n{numbered}\n---- explain ----\n{}",
        compiled.order, explained.output
    )
}

#[test]
fn cases() {
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "cases_cache/*.kdl",
        |path| {
            insta::assert_snapshot!(explain_case(path));
        }
    );
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "cases_cache/*.Dockerfile",
        |path| {
            insta::assert_snapshot!(explain_case(path));
        }
    );
}

/// For a builder that commits a layer per instruction, an image's metadata
/// goes before the copies after its last command; for BuildKit, last.
#[test]
fn layered_builders_get_metadata_before_the_last_copies() {
    let example = common::root().join("examples/python-flask");
    let final_stage = |args: &[&str]| -> Vec<String> {
        let out = stowplan(&example, args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let dockerfile = text(&out.stdout);
        let start = dockerfile.find("AS python-flask").expect("the image stage");
        dockerfile[start..]
            .lines()
            .skip(1)
            .map(|l| l.split(' ').next().unwrap_or_default().to_owned())
            .filter(|k| !k.is_empty())
            .collect()
    };
    let position = |keywords: &[String], k: &str| keywords.iter().position(|x| x == k).unwrap();
    let last = |keywords: &[String], k: &str| keywords.iter().rposition(|x| x == k).unwrap();

    let buildkit = final_stage(&["compile"]);
    assert_eq!(buildkit.last().map(String::as_str), Some("CMD"));
    assert!(
        last(&buildkit, "COPY") < position(&buildkit, "LABEL"),
        "{buildkit:?}"
    );

    let buildah = final_stage(&["compile", "--builder", "buildah-1.28-docker"]);
    for k in ["LABEL", "EXPOSE", "STOPSIGNAL", "HEALTHCHECK", "CMD"] {
        assert!(
            last(&buildah, k) < position(&buildah, "COPY"),
            "{k}: {buildah:?}"
        );
    }
    let (mut a, mut b) = (buildkit.clone(), buildah.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same instructions");

    let keep = final_stage(&[
        "compile",
        "--builder",
        "buildah-1.28-docker",
        "--keep-order",
    ]);
    assert_eq!(
        keep.last().map(String::as_str),
        Some("CMD"),
        "--keep-order keeps it"
    );
}

// ---------------------------------------------------------------- the binary

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SPEC: &str = r#"stowplan 1
stage "build" {
    from "golang:1.22.5-bookworm"
    workdir "/src"
    step "compile" {
        input "main.go"
        run "go build -o /out/app ."
        writes "/out/"
    }
    step "deps" {
        input "go.mod"
        run "go mod download"
        writes "/go/pkg/mod/"
    }
    artifact "app" "/out/app" static=#true
}
image "app" {
    from "gcr.io/distroless/static-debian12:nonroot"
    label "version" "1"
    copy artifact="build.app" to="/app"
    entrypoint "/app"
}
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stowplan.kdl"), SPEC).unwrap();
    std::fs::write(dir.path().join("go.mod"), "module example.com/app\n").unwrap();
    std::fs::write(dir.path().join("main.go"), "package main\nfunc main() {}\n").unwrap();
    dir
}

#[test]
fn explain_on_the_command_line() {
    let dir = project();
    let out = stowplan(dir.path(), &["explain", "--changed", "main.go"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("changed main.go\n"), "{stdout}");
    assert!(stdout.contains("rebuilt  COPY main.go ./"), "{stdout}");
    assert!(
        stdout.contains("main.go changed (reads main.go)"),
        "{stdout}"
    );
    // The module download was moved first, so it stays cached.
    assert!(stdout.contains("cached   RUN go mod download"), "{stdout}");

    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM golang:1.22 AS build\nWORKDIR /app\nCOPY . .\nRUN go mod download\n",
    )
    .unwrap();
    let out = stowplan(
        dir.path(),
        &[
            "explain",
            "--dockerfile",
            "Dockerfile",
            "--changed",
            "main.go",
            "--base",
            "golang",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("base image golang:1.22 changed"),
        "{stdout}"
    );

    std::fs::write(dir.path().join("Broken"), "RUN echo before any FROM\n").unwrap();
    let out = stowplan(
        dir.path(),
        &["explain", "--dockerfile", "Broken", "--changed", "x"],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = stowplan(
        dir.path(),
        &["explain", "--dockerfile", "missing", "--changed", "x"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn compile_explains_the_order_and_can_keep_it() {
    let dir = project();
    let out = stowplan(dir.path(), &["compile", "--explain-order"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("moved step `deps`"), "{stderr}");
    assert!(stderr.contains("moved label to the end"), "{stderr}");
    assert!(
        stdout.find("go mod download") < stdout.find("go build"),
        "{stdout}"
    );

    let kept = text(&stowplan(dir.path(), &["compile", "--keep-order"]).stdout);
    assert!(
        kept.find("go mod download") > kept.find("go build"),
        "{kept}"
    );
}

#[test]
fn history_weighs_what_the_repository_changes() {
    let dir = project();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .current_dir(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .expect("git");
        assert!(status.success());
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "one"]);
    // In this repository go.mod changes in every commit and main.go in one:
    // by class the download goes first, by history the build stays first.
    for n in 0..5 {
        std::fs::write(
            dir.path().join("go.mod"),
            format!("module example.com/app{n}\n"),
        )
        .unwrap();
        git(&["commit", "-q", "-a", "-m", "bump"]);
    }
    let out = stowplan(dir.path(), &["compile", "--history", "--explain-order"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.find("go mod download") > stdout.find("go build"),
        "{stdout}"
    );
    assert!(
        !text(&out.stderr).contains("moved step"),
        "{}",
        text(&out.stderr)
    );
    // Outside a repository, --history is an error of its own (exit 2).
    let bare = tempfile::tempdir().unwrap();
    std::fs::write(bare.path().join("stowplan.kdl"), SPEC).unwrap();
    let out = stowplan(bare.path(), &["compile", "--history"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// `explain --builder buildah` explains the Dockerfile `compile --builder
/// buildah-1.28` builds, metadata where that builder gets it: every line it
/// names holds the instruction it shows (benchmarks/replay.sh compares the
/// two line by line against a real buildah).
#[test]
fn explain_for_buildah_names_the_lines_buildah_builds() {
    let dir = project();
    for (compile_builder, explain_builder) in [
        ("buildah-1.28-docker", "buildah"),
        ("buildah-1.28", "buildah"),
        ("buildkit", "buildkit"),
    ] {
        let compiled = stowplan(dir.path(), &["compile", "--builder", compile_builder]);
        assert_eq!(
            compiled.status.code(),
            Some(0),
            "{}",
            text(&compiled.stderr)
        );
        let dockerfile = text(&compiled.stdout);
        let lines: Vec<&str> = dockerfile.lines().collect();
        let out = stowplan(
            dir.path(),
            &[
                "explain",
                "--builder",
                explain_builder,
                "--changed",
                "main.go",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let explained = text(&out.stdout);
        let mut named = 0;
        for line in explained.lines() {
            let Some(rest) = line.trim_start().strip_prefix('L') else {
                continue;
            };
            let (number, rest) = rest.split_once(' ').unwrap();
            let shown = rest.trim_start()[7..].trim_start();
            let shown = shown.split("  ").next().unwrap().trim_end_matches('…');
            let at = lines[number.parse::<usize>().unwrap() - 1];
            assert!(
                at.starts_with(shown),
                "{compile_builder}: L{number} shows `{shown}`, the Dockerfile has `{at}`\n{explained}\n{dockerfile}"
            );
            named += 1;
        }
        assert!(named >= 8, "{explained}");
    }
}

/// `explain --builder` follows that builder's rules: a changed LABEL keys
/// the COPY after it for the classic builder, not for BuildKit.
#[test]
fn explain_follows_the_builders_rules() {
    let dockerfile = common::root().join("tests/cases_cache/classic.Dockerfile");
    let file = dockerfile.to_str().unwrap();
    let verdict = |builder: &str| {
        let out = stowplan(
            &common::root(),
            &[
                "explain",
                "--dockerfile",
                file,
                "--arg",
                "VERSION",
                "--builder",
                builder,
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|l| l.contains("COPY . ."))
            .unwrap_or_else(|| panic!("{text}"))
            .contains("rebuilt")
    };
    assert!(!verdict("buildkit"));
    assert!(verdict("classic"));
    assert!(verdict("buildah"));
}

/// `explain SPEC` and `explain --dockerfile` on the Dockerfile the spec
/// writes give the same verdict for the same change under the same
/// `.dockerignore`: a hand-written one, then the one the spec generates.
#[test]
fn explain_applies_the_dockerignore_for_a_spec_as_for_its_dockerfile() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (path, body) in [
        ("src/main.go", "package main\n"),
        ("docs/guide.md", "# guide\n"),
        ("notes.txt", "notes\n"),
        ("go.mod", "module x\n"),
    ] {
        std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        std::fs::write(root.join(path), body).unwrap();
    }
    let same = |spec: &str, changes: &[&str]| {
        std::fs::write(root.join("stowplan.kdl"), spec).unwrap();
        let out = stowplan(root, &["write", "--force", "stowplan.kdl"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        for changed in changes {
            let of_spec = stowplan(root, &["explain", "--changed", changed]);
            let of_file = stowplan(
                root,
                &[
                    "explain",
                    "--dockerfile",
                    "Dockerfile",
                    "--changed",
                    changed,
                ],
            );
            assert_eq!(of_spec.status.code(), Some(0), "{}", text(&of_spec.stderr));
            assert_eq!(text(&of_spec.stdout), text(&of_file.stdout), "{changed}");
        }
    };
    let image = "image \"app\" {\n    from \"golang:1.24.4-bookworm\"\n    workdir \"/src\"\n    copy \"go.mod\" to=\"./\"\n    COPY\n    user \"65532\"\n    cmd \"/src/app\"\n}\n";
    // Hand-written: the whole context is copied, docs/ left out.
    std::fs::write(root.join(".dockerignore"), "docs/\n").unwrap();
    let spec = format!(
        "stowplan 1\noutput \"Dockerfile\"\n{}",
        image.replace("COPY", "copy \".\" to=\"./\"")
    );
    same(&spec, &["docs/guide.md", "notes.txt", "src/main.go"]);
    let out = stowplan(root, &["explain", "--changed", "docs/guide.md"]);
    assert!(text(&out.stdout).contains("0 of"), "{}", text(&out.stdout));
    // Generated: only go.mod and src/ are sent, so notes.txt rebuilds nothing.
    std::fs::remove_file(root.join(".dockerignore")).unwrap();
    let spec = format!(
        "stowplan 1\noutput \"Dockerfile\"\noutput \".dockerignore\"\n{}",
        image.replace("COPY", "copy \"src/\" to=\"./\"")
    );
    same(&spec, &["notes.txt", "src/main.go", "go.mod"]);
    let out = stowplan(root, &["explain", "--changed", "notes.txt"]);
    assert!(text(&out.stdout).contains("0 of"), "{}", text(&out.stdout));
    let out = stowplan(root, &["explain", "--changed", "src/main.go"]);
    assert!(
        !text(&out.stdout).contains(" 0 of"),
        "{}",
        text(&out.stdout)
    );
    // `Dockerfile.dockerignore` beside the Dockerfile wins over the
    // context's `.dockerignore` (which leaves only docs/ out), for BuildKit
    // reading `-f Dockerfile` and so for the spec: a change to docs/ is
    // outside both, one to notes.txt only outside the generated file.
    std::fs::write(root.join(".dockerignore"), "docs/\n").unwrap();
    let spec = format!(
        "stowplan 1\noutput \"Dockerfile\"\noutput \"Dockerfile.dockerignore\"\n{}",
        image.replace(
            "COPY",
            "copy \"src/\" to=\"./\"\n    copy \".\" to=\"/all/\""
        )
    );
    same(&spec, &["notes.txt", "docs/guide.md", "src/main.go"]);
    let spec = spec.replace("copy \".\" to=\"/all/\"", "copy \"notes.txt\" to=\"/all/\"");
    same(&spec, &["notes.txt", "docs/guide.md", "src/main.go"]);
    let out = stowplan(root, &["explain", "--changed", "docs/guide.md"]);
    assert!(text(&out.stdout).contains("0 of"), "{}", text(&out.stdout));
}

/// Each build reads the `.dockerignore` of the folder it builds from:
/// `explain --image web` applies `web/.dockerignore` (to paths inside
/// `web/`), and the images of both folders the spec folder's, under which
/// web's paths are `web/...`. `affected` counts a change to either file.
#[test]
fn explain_reads_the_dockerignore_of_the_folder_an_image_builds_from() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (path, body) in [
        ("web/index.html", "<p>hi</p>\n"),
        ("web/NOTES.md", "notes\n"),
        ("web/.dockerignore", "*.md\n"),
        ("api/main.go", "package main\n"),
        (".dockerignore", "web/index.html\n"),
    ] {
        std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        std::fs::write(root.join(path), body).unwrap();
    }
    let spec = "stowplan 1\nimage \"web\" {\n    context \"web/\"\n    from \"nginxinc/nginx-unprivileged:1.27.0-alpine\"\n    copy \".\" to=\"/usr/share/nginx/html/\"\n    cmd \"nginx\"\n}\nimage \"api\" {\n    context \"api/\"\n    from \"golang:1.24.4-bookworm\"\n    copy \"main.go\" to=\"/src/\"\n    user \"65532\"\n    cmd \"go\" \"run\" \"/src/main.go\"\n}\n";
    std::fs::write(root.join("stowplan.kdl"), spec).unwrap();
    let rebuilt = |args: &[&str]| {
        let out = stowplan(root, args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        !text(&out.stdout).contains("image web: 0 of")
    };
    let web = |changed: &str| rebuilt(&["explain", "--image", "web", "--changed", changed]);
    let both = |changed: &str| rebuilt(&["explain", "--changed", changed]);
    // web alone builds from web/: its .dockerignore drops *.md, not index.html.
    assert!(!web("web/NOTES.md"));
    assert!(web("web/index.html"));
    // Both images build from the spec's folder: the other way round.
    assert!(both("web/NOTES.md"));
    assert!(!both("web/index.html"));
    let out = stowplan(root, &["affected", "--changed", "web/.dockerignore"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("web") && text(&out.stdout).contains("api"),
        "{}",
        text(&out.stdout)
    );
}

/// A `.dockerignore` that a symlink takes out of the spec's folder is
/// never read: not by `check` (`flow::ignored`), not by `explain`.
#[test]
fn a_dockerignore_outside_the_spec_folder_is_not_read() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("ignore"), "src/\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("web/src")).unwrap();
    std::fs::write(root.join("web/src/main.js"), "x\n").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("ignore"),
        root.join("web/.dockerignore"),
    )
    .unwrap();
    let spec = "stowplan 1\nimage \"web\" {\n    context \"web/\"\n    from \"nginxinc/nginx-unprivileged:1.27.0-alpine\"\n    copy \"src/\" to=\"/usr/share/nginx/html/\"\n    cmd \"nginx\"\n}\n";
    std::fs::write(root.join("stowplan.kdl"), spec).unwrap();
    let out = stowplan(root, &["check", "stowplan.kdl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("ignored"),
        "{}",
        text(&out.stderr)
    );
    let out = stowplan(root, &["explain", "--changed", "web/src/main.js"]);
    assert!(
        !text(&out.stdout).contains("image web: 0 of"),
        "{}",
        text(&out.stdout)
    );
    // The same file inside the folder is read.
    std::fs::remove_file(root.join("web/.dockerignore")).unwrap();
    std::fs::write(root.join("web/.dockerignore"), "src/\n").unwrap();
    let out = stowplan(root, &["check", "stowplan.kdl"]);
    assert!(
        text(&out.stderr).contains("flow::ignored"),
        "{}",
        text(&out.stderr)
    );
}
