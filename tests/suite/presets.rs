//! The `presets` and `init` commands, the seed tutorials' apps written
//! with presets, and templates from included files. The presets themselves
//! (every combination compiles cleanly, snapshotted) are tested beside
//! them (`compiler/src/frontend/presets/tests.rs`); the template
//! diagnostics are `tests/cases/err_template_*.kdl`.

use crate::common::{self, stowplan};

use std::path::PathBuf;

use stowplan::SourceFile;

/// The Dockerfile without its header, which names the spec file.
fn body(dockerfile: &str) -> &str {
    dockerfile.split_once("\n\n").map_or(dockerfile, |(_, b)| b)
}

#[test]
fn presets_lists_every_preset_with_its_parameters() {
    let out = stowplan(&common::root(), &["presets"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("presets_listing", text);
    // Every preset's file is shown as it is (each preset has a file: the
    // binary embeds them).
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::root().join("runtime-presets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    files.sort();
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap();
        let shown = stowplan(&common::root(), &["presets", "show", name]);
        assert!(shown.status.success());
        let on_disk = std::fs::read_to_string(&file).unwrap();
        assert_eq!(String::from_utf8(shown.stdout).unwrap(), on_disk);
    }
    let missing = stowplan(&common::root(), &["presets", "show", "cobol"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("the presets are: go, java"));
}

/// `init` in a folder holding `files`; returns the starter and stderr.
fn init(preset: &str, files: &[(&str, &str)]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("my-app");
    for (path, text) in files {
        let path = app.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::create_dir_all(&app).unwrap();
    let out = stowplan(&app, &["init", "--preset", preset]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    let spec = app.join("stowplan.kdl");
    let text = std::fs::read_to_string(&spec).unwrap();
    // The starter compiles as written, with nothing to warn about.
    let checked = stowplan(&app, &["--deny", "warnings", "check"]);
    assert!(
        checked.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // And never overwrites.
    let again = stowplan(&app, &["init", "--preset", preset]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), text);
    (text, stderr)
}

fn last_line(text: &str) -> &str {
    text.trim_end().lines().last().unwrap()
}

#[test]
fn init_reads_the_lockfile_it_finds() {
    let package = r#"{"name": "x", "main": "index.js", "scripts": {"start": "node index.js"}}"#;
    // The preset, the folder's files (path, text), the starter's image line.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (
            "node",
            &[
                ("package.json", package),
                ("package-lock.json", "{}"),
                ("index.js", ""),
            ],
            r#"image "my-app" template="node" sources="index.js package-lock.json package.json" command="node index.js""#,
        ),
        (
            "node",
            &[
                ("package.json", package),
                ("pnpm-lock.yaml", ""),
                ("index.js", ""),
                // Installed dependencies and secrets stay out of the image.
                ("node_modules/x/index.js", ""),
                (".env", "TOKEN=1"),
            ],
            r#"image "my-app" template="node" manager="pnpm" sources="index.js package.json pnpm-lock.yaml" command="node index.js""#,
        ),
        (
            "node",
            &[
                ("package.json", r#"{"scripts": {"build": "vite build"}}"#),
                ("yarn.lock", ""),
            ],
            r#"image "my-app" template="node" manager="yarn" mode="static" sources="package.json yarn.lock""#,
        ),
        (
            "python",
            &[("pyproject.toml", ""), ("uv.lock", ""), ("main.py", "")],
            r#"image "my-app" template="python" manager="uv" sources="main.py pyproject.toml uv.lock" command="python main.py""#,
        ),
        (
            "python",
            &[("pyproject.toml", ""), ("poetry.lock", ""), ("app.py", "")],
            r#"image "my-app" template="python" manager="poetry" sources="app.py poetry.lock pyproject.toml""#,
        ),
        (
            "python",
            &[
                ("requirements.txt", ""),
                ("app.py", ""),
                ("lib/util.py", ""),
                (".venv/bin/python", ""),
            ],
            r#"image "my-app" template="python" sources="app.py lib/ requirements.txt""#,
        ),
        (
            "go",
            &[("go.mod", "module x\n"), ("cmd/api/main.go", "")],
            r#"image "my-app" template="go" deps="go.mod" package="./cmd/api""#,
        ),
        (
            "go",
            &[("go.mod", ""), ("go.sum", ""), ("main.go", "")],
            r#"image "my-app" template="go""#,
        ),
        (
            "rust",
            &[
                ("Cargo.toml", "[package]\nname = \"hello-web\"\n"),
                ("Cargo.lock", ""),
                ("src/main.rs", ""),
            ],
            r#"image "my-app" template="rust" binary="hello-web""#,
        ),
        (
            "java",
            &[("build.gradle.kts", ""), ("src/main/java/A.java", "")],
            r#"image "my-app" template="java" build-tool="gradle" main-class="com.example.Main""#,
        ),
        (
            "static",
            &[("site/index.html", "")],
            r#"image "my-app" template="static" dir="site/""#,
        ),
    ];
    for (preset, files, expected) in cases {
        let (text, _) = init(preset, files);
        assert_eq!(last_line(&text), *expected, "{preset} with {files:?}");
    }
}

#[test]
fn init_says_what_it_could_not_find() {
    let (text, stderr) = init(
        "java",
        &[("pom.xml", "<project/>"), ("src/main/java/A.java", "")],
    );
    assert!(text.contains(r#"main-class="com.example.Main""#));
    assert!(stderr.contains("set main-class="), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let out = stowplan(dir.path(), &["init", "--preset", "cobol"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("stowplan.kdl").exists());
}

/// Beside a hand-written Dockerfile, `init` declares a free output, says
/// so in the spec and on stderr, and keeps the Dockerfile out of
/// `sources=`; `write` then leaves the Dockerfile alone, and the header
/// names the file to build.
#[test]
fn init_writes_beside_a_hand_written_dockerfile() {
    let hand = "FROM node:14\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";
    let (text, stderr) = init(
        "node",
        &[
            ("Dockerfile", hand),
            ("package.json", r#"{"main": "server.js"}"#),
            ("package-lock.json", "{}"),
            ("server.js", ""),
            ("views/index.html", ""),
        ],
    );
    assert!(
        text.contains("\noutput \"Dockerfile.stowplan\"\n"),
        "{text}"
    );
    assert!(
        text.contains("// The `Dockerfile` here was not written by stowplan"),
        "{text}"
    );
    assert_eq!(
        last_line(&text),
        r#"image "my-app" template="node" sources="package-lock.json package.json server.js views/""#
    );
    assert!(
        stderr.contains("declares output \"Dockerfile.stowplan\" beside it")
            && stderr.contains("docker build -f Dockerfile.stowplan ."),
        "{stderr}"
    );
    // Again, in a folder of its own, to write.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), hand).unwrap();
    std::fs::write(dir.path().join("package.json"), "{}").unwrap();
    std::fs::write(dir.path().join("package-lock.json"), "{}").unwrap();
    std::fs::write(dir.path().join("server.js"), "").unwrap();
    assert!(
        stowplan(dir.path(), &["init", "--preset", "node"])
            .status
            .success()
    );
    let out = stowplan(dir.path(), &["write"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        hand
    );
    let written = std::fs::read_to_string(dir.path().join("Dockerfile.stowplan")).unwrap();
    assert!(
        written.contains("#   docker build -f Dockerfile.stowplan --target "),
        "{written}"
    );
    // A Dockerfile stowplan wrote is its own: a second init declares it.
    std::fs::remove_file(dir.path().join("stowplan.kdl")).unwrap();
    std::fs::rename(
        dir.path().join("Dockerfile.stowplan"),
        dir.path().join("Dockerfile"),
    )
    .unwrap();
    let out = stowplan(dir.path(), &["init", "--preset", "node"]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.path().join("stowplan.kdl")).unwrap();
    assert!(text.contains("\noutput \"Dockerfile\"\n"), "{text}");
}

/// Each seed tutorial's app, written with a preset, fits in ten lines.
#[test]
fn seeds_fit_in_ten_lines() {
    let cases = common::root().join("tests/cases");
    let mut seeds = 0;
    for entry in std::fs::read_dir(cases).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("seed_") {
            continue;
        }
        seeds += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().count() <= 10, "{name} is longer than 10 lines");
        assert!(text.contains("template="), "{name} uses no preset");
    }
    assert_eq!(seeds, 7, "one case per app of the seed tutorials");
}

/// Templates from included files: the spec's `include` is relative to the
/// spec's folder (the build context), a nested one to its own file.
#[test]
fn templates_are_included_relative_to_the_including_file() {
    let dir = common::root().join("tests/includes");
    let text = std::fs::read_to_string(dir.join("stowplan.kdl")).unwrap();
    let source = SourceFile::new("stowplan.kdl", text);
    let options = stowplan::Options {
        context: Some(dir.clone()),
        ..Default::default()
    };
    let done = stowplan::compile(&source, &options, &Default::default())
        .unwrap_or_else(|d| panic!("{}", common::render_all(&d)));
    assert!(
        done.warnings.is_empty(),
        "{}",
        common::render_all(&done.warnings)
    );
    insta::assert_snapshot!("template_include", body(&done.output));
    // Without a folder to read from, an include is an error, not a guess.
    let refused = stowplan::validate(&source, &stowplan::Options::default()).unwrap_err();
    assert_eq!(refused[0].code, stowplan::Code::Include);
}
