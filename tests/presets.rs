//! The built-in presets and templates: every preset compiles cleanly for
//! every combination of its choices (flow rules, hadolint, BuildKit's
//! parser), its expansions are snapshotted, a parameter value reaches a
//! script as exactly one shell word, and the `presets` and `init` commands
//! work. The template diagnostics are `tests/cases/err_template_*.kdl`.

mod common;

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use stowplan::SourceFile;
use stowplan::frontend::template::{ParamType, Value};
use stowplan::plan::ir::{self as plan, Instruction};

/// Every combination of a preset's boolean and one-of parameters, as the
/// properties of a use; required parameters get a placeholder.
fn combinations(preset: &stowplan::frontend::presets::Preset) -> Vec<String> {
    let (template, _) = stowplan::frontend::presets::load(preset).expect("preset decodes");
    let mut uses = vec![String::new()];
    for param in &template.params {
        let choices: Vec<String> = match param.ty {
            ParamType::Boolean => vec!["#false".into(), "#true".into()],
            ParamType::OneOf => param.choices.iter().map(|c| format!("{c:?}")).collect(),
            _ if param.default.is_none() => vec![match param.name.value.as_str() {
                "main-class" => "\"com.example.Main\"".to_owned(),
                _ => "\"app\"".to_owned(),
            }],
            _ => continue,
        };
        uses = uses
            .iter()
            .flat_map(|u| {
                choices
                    .iter()
                    .map(move |c| format!("{u} {}={c}", param.name.value))
            })
            .collect();
    }
    uses.into_iter()
        // A cgo binary on an image without glibc is refused by design
        // (tests/cases/err_preset_cgo_static.kdl).
        .filter(|props| {
            !props.contains("cgo=#true") || props.contains("runtime=\"distroless-base\"")
        })
        .map(|props| format!("image \"app\" template=\"{}\"{props}", preset.name))
        .collect()
}

fn compile(spec_line: &str) -> (String, plan::Plan) {
    let text = format!("stowplan 1\n{spec_line}\n");
    let source = SourceFile::new("stowplan.kdl", text);
    let options = stowplan::Options::default();
    let done = stowplan::compile_dockerfile(&source, &options)
        .unwrap_or_else(|d| panic!("{spec_line}\n{}", common::render_all(&d)));
    assert!(
        done.warnings.is_empty(),
        "{spec_line} warns:\n{}",
        common::render_all(&done.warnings)
    );
    let checked = stowplan::check(&source, &options).expect("checked above");
    let plan = stowplan::plan(&source, &checked.output, &stowplan::Selection::All);
    (done.output, plan)
}

/// The Dockerfile without its header, which names the spec file.
fn body(dockerfile: &str) -> &str {
    dockerfile.split_once("\n\n").map_or(dockerfile, |(_, b)| b)
}

#[test]
fn every_combination_compiles_cleanly_and_is_snapshotted() {
    for preset in stowplan::frontend::presets::PRESETS {
        let mut snapshot = String::new();
        for use_ in combinations(preset) {
            let (dockerfile, _) = compile(&use_);
            snapshot.push_str(&format!("==== {use_}\n{}\n", body(&dockerfile)));
        }
        insta::assert_snapshot!(format!("preset_{}", preset.name), snapshot);
    }
}

#[test]
fn every_combination_passes_hadolint_and_reads_back() {
    if !common::oracle_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut plans = Vec::new();
    for preset in stowplan::frontend::presets::PRESETS {
        for (i, use_) in combinations(preset).into_iter().enumerate() {
            let (dockerfile, plan) = compile(&use_);
            let file = dir
                .path()
                .join(format!("{}-{i:02}.Dockerfile", preset.name));
            std::fs::write(&file, dockerfile).unwrap();
            files.push(file);
            plans.push((use_, plan));
        }
    }
    for file in &files {
        let findings = common::hadolint(file);
        assert!(findings.trim().is_empty(), "hadolint:\n{findings}");
    }
    let parsed = common::parse_with_buildkit(&files);
    assert_eq!(parsed.len(), plans.len());
    for ((use_, plan), doc) in plans.iter().zip(&parsed) {
        common::assert_reads_back(plan, doc, use_);
    }
}

#[test]
fn presets_pin_their_bases_and_run_as_non_root() {
    for preset in stowplan::frontend::presets::PRESETS {
        for use_ in combinations(preset) {
            let (_, plan) = compile(&use_);
            for stage in &plan.stages {
                if let plan::Base::Image(image) = &stage.base {
                    let (name, tag) = image.rsplit_once(':').unwrap_or((image, ""));
                    // Distroless publishes no version tags: its name pins
                    // the Debian release (spec/presets.md).
                    let pinned = tag.chars().any(|c| c.is_ascii_digit())
                        || (name.starts_with("gcr.io/distroless/") && name.ends_with("-debian12"));
                    assert!(pinned, "{use_}: `{image}` is not pinned to a version");
                }
            }
            let image = plan.stages.last().expect("an image");
            let user = image
                .instructions
                .iter()
                .rev()
                .find_map(|i| match &i.value {
                    Instruction::User(user) => Some(user.as_str()),
                    _ => None,
                });
            assert!(
                user.is_some_and(|u| !u.starts_with("0") && !u.starts_with("root")),
                "{use_}: the image does not run as a non-root user ({user:?})"
            );
        }
    }
}

#[test]
fn every_preset_declares_docs_and_defaults_of_its_type() {
    for preset in stowplan::frontend::presets::PRESETS {
        let (template, _) = stowplan::frontend::presets::load(preset).expect("preset decodes");
        assert!(template.doc.is_some(), "{} has no doc", preset.name);
        for param in &template.params {
            assert!(
                param.doc.is_some(),
                "{}: parameter `{}` has no doc",
                preset.name,
                param.name.value
            );
            if let Some(default) = &param.default {
                let fits = matches!(
                    (&default.value, param.ty),
                    (Value::String(_), ParamType::String | ParamType::OneOf)
                        | (Value::Integer(_), ParamType::Integer)
                        | (Value::Boolean(_), ParamType::Boolean)
                        | (Value::List(_), ParamType::List)
                );
                assert!(fits, "{}: default of `{}`", preset.name, param.name.value);
            }
        }
    }
}

/// The `sh -c` script of the first RUN in the plan whose script starts with `prefix`.
fn script(plan: &plan::Plan, prefix: &str) -> String {
    plan.stages
        .iter()
        .flat_map(|s| &s.instructions)
        .find_map(|i| match &i.value {
            Instruction::Run(plan::Run {
                command: plan::Command::Shell { script, .. },
                ..
            }) if script.starts_with(prefix) => Some(script.clone()),
            _ => None,
        })
        .expect("the RUN is planned")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A value given to a template reaches a script as exactly one shell
    /// word: `sh` prints it back unchanged, whatever quotes, `$`, `;`,
    /// backticks or line breaks it holds.
    #[test]
    fn a_parameter_is_one_shell_word(value in "[ -~\n\t]{0,24}") {
        let text = format!(
            "stowplan 1\n\
             template \"t\" {{\n\
                 param \"v\" doc=\"a value\"\n\
                 param \"l\" type=\"list\" default=\"a b\" doc=\"a list\"\n\
                 image {{\n\
                     from \"debian:bookworm-slim\"\n\
                     run \"printf '[%s]' {{{{v}}}} {{{{l}}}}\"\n\
                     cmd \"/app\"\n\
                 }}\n\
             }}\n\
             image \"app\" template=\"t\" v={} l={}\n",
            stowplan::frontend::starter::kdl_string(&value),
            stowplan::frontend::starter::kdl_string(&value),
        );
        let source = SourceFile::new("stowplan.kdl", text);
        let checked = stowplan::check(&source, &stowplan::Options::default())
            .unwrap_or_else(|d| panic!("{}", common::render_all(&d)));
        let plan = stowplan::plan(&source, &checked.output, &stowplan::Selection::All);
        let script = script(&plan, "printf");
        let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        let items: String = value
            .split_whitespace()
            .map(|i| format!("[{i}]"))
            .collect();
        prop_assert_eq!(String::from_utf8_lossy(&out.stdout), format!("[{value}]{items}"));
    }
}

fn stowplan(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stowplan"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run stowplan")
}

#[test]
fn presets_lists_every_preset_with_its_parameters() {
    let out = stowplan(&common::root(), &["presets"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("presets_listing", text);
    for preset in stowplan::frontend::presets::PRESETS {
        let shown = stowplan(&common::root(), &["presets", "show", preset.name]);
        assert!(shown.status.success());
        let on_disk = std::fs::read_to_string(common::root().join(preset.file)).unwrap();
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
    let done = stowplan::compile_dockerfile(&source, &options)
        .unwrap_or_else(|d| panic!("{}", common::render_all(&d)));
    assert!(
        done.warnings.is_empty(),
        "{}",
        common::render_all(&done.warnings)
    );
    insta::assert_snapshot!("template_include", body(&done.output));
    // Without a folder to read from, an include is an error, not a guess.
    let refused = stowplan::check(&source, &stowplan::Options::default()).unwrap_err();
    assert_eq!(refused[0].code, stowplan::Code::Include);
}
