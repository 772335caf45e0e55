//! A value given to a template reaches a script as exactly one shell
//! word: expansion quotes it inside the KDL tree, and `sh` prints it back.

use std::process::Command;

use proptest::prelude::*;

use crate::base::source::SourceFile;
use crate::driver::{self, Options};
use crate::plan::ir as plan;
use crate::plan::lower::Selection;
use crate::testkit::{self, hostile};

/// The `sh -c` script of the first RUN in the plan whose script starts with `prefix`.
fn script(plan: &plan::Plan, prefix: &str) -> String {
    plan.stages
        .iter()
        .flat_map(|s| &s.instructions)
        .find_map(|i| match &i.value {
            plan::Instruction::Run(plan::Run {
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
            hostile::kdl(&value),
            hostile::kdl(&value),
        );
        let source = SourceFile::new("stowplan.kdl", text);
        let checked = driver::check(&source, &Options::default())
            .unwrap_or_else(|d| panic!("{}", testkit::render_all(&d)));
        let plan = driver::plan(&source, &checked.output, &Selection::All);
        let script = script(&plan, "printf");
        let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        let items: String = value
            .split_whitespace()
            .map(|i| format!("[{i}]"))
            .collect();
        prop_assert_eq!(String::from_utf8_lossy(&out.stdout), format!("[{value}]{items}"));
    }
}

/// Checks `spec` in `dir` on another thread, so that a read that blocks
/// (a FIFO) fails the test instead of hanging it.
fn check_in(dir: &std::path::Path, spec: &str) -> Vec<crate::Diagnostic> {
    let source = SourceFile::new("stowplan.kdl", spec.to_owned());
    let options = Options {
        context: Some(dir.to_owned()),
        ..Options::default()
    };
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let found = match driver::check(&source, &options) {
            Ok(checked) => checked.warnings,
            Err(d) => d,
        };
        let _ = send.send(found);
    });
    receive
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the check ends: no include blocks or reads without bound")
}

const SECRET: &str = "root:x:0:0:secret-line";

/// An include names a file outside the spec's folder, directly, through a
/// symlink or as a device; a FIFO, a folder and a file over 1 MiB inside
/// it. Each is refused at its `include`, and nothing outside is echoed.
#[test]
fn includes_stay_in_the_folder_and_are_bounded() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("passwd"), format!("{SECRET}\n")).unwrap();
    let dir = outer.path().join("spec");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(outer.path().join("passwd"), dir.join("link.kdl")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.kdl")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(dir.join("fifo.kdl"))
        .status()
        .unwrap();
    assert!(fifo.success());
    std::fs::create_dir(dir.join("folder.kdl")).unwrap();
    let big = format!("stowplan 1\n{}\n", "// padding\n".repeat(100_000));
    std::fs::write(dir.join("big.kdl"), big).unwrap();
    std::fs::write(dir.join("latin1.kdl"), b"stowplan 1\n// \xe9\n").unwrap();
    let includes = [
        "../passwd",
        "link.kdl",
        "zero.kdl",
        "fifo.kdl",
        "folder.kdl",
        "big.kdl",
        "latin1.kdl",
    ];
    let mut spec = "stowplan 1\n".to_owned();
    for path in includes {
        spec.push_str(&format!("include \"{path}\"\n"));
    }
    spec.push_str("image \"app\" {\n    from \"debian:bookworm-slim\"\n    cmd \"/app\"\n}\n");
    let found = check_in(&dir, &spec);
    let rendered = testkit::render_all(&found);
    assert!(!rendered.contains("secret-line"), "{rendered}");
    assert_eq!(found.len(), includes.len(), "{rendered}");
    for (diag, path) in found.iter().zip(includes) {
        assert_eq!(
            diag.code,
            crate::base::diagnostic::Code::Include,
            "{rendered}"
        );
        let at = spec.find(&format!("\"{path}\"")).unwrap();
        assert_eq!(diag.offset(), at, "{rendered}");
    }
    for (path, why) in [
        ("../passwd", "outside the spec's folder"),
        ("link.kdl", "outside the spec's folder"),
        ("zero.kdl", "outside the spec's folder"),
        ("fifo.kdl", "not a regular file"),
        ("folder.kdl", "not a regular file"),
        ("big.kdl", "larger than 1024 KiB"),
        ("latin1.kdl", "not UTF-8"),
    ] {
        assert!(
            found
                .iter()
                .any(|d| d.message.contains(&format!("`{path}`")) && d.message.contains(why)),
            "{path}: {why}\n{rendered}"
        );
    }
}

/// A symlink that stays inside the folder, and a path through `..` that
/// comes back into it, are fine.
#[test]
fn includes_may_use_symlinks_inside_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    std::fs::write(
        dir.path().join("lib/t.kdl"),
        "stowplan 1\ntemplate \"t\" {\n    image {\n        from \"debian:bookworm-slim\"\n        user \"65532\"\n        cmd \"/app\"\n    }\n}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("lib/t.kdl", dir.path().join("t.kdl")).unwrap();
    let spec = "stowplan 1\ninclude \"t.kdl\"\ninclude \"lib/../lib/t.kdl\"\nimage \"app\" template=\"t\"\n";
    let found = check_in(dir.path(), spec);
    assert!(found.is_empty(), "{}", testkit::render_all(&found));
}

/// Many small nodes cross the budget too, at the use that crosses it; the
/// uses after it are not expanded (one diagnostic, not one per use).
#[test]
fn expansion_stops_at_the_node_budget() {
    let runs = "        run \"true\"\n".repeat(200);
    let mut spec = format!(
        "stowplan 1\ntemplate \"t\" {{\n    image {{\n        from \"debian:bookworm-slim\"\n{runs}        cmd \"/app\"\n    }}\n}}\n"
    );
    // 203 nodes a use: the 99th crosses 20,000.
    for i in 0..150 {
        spec.push_str(&format!("image \"app{i}\" template=\"t\"\n"));
    }
    let source = SourceFile::new("stowplan.kdl", spec.clone());
    let found = driver::check(&source, &Options::default()).expect_err("over the budget");
    let rendered = testkit::render_all(&found);
    assert_eq!(found.len(), 1, "{rendered}");
    assert_eq!(
        found[0].code,
        crate::base::diagnostic::Code::ExpansionBudget
    );
    let at = spec.find("image \"app98\" template=").unwrap() + "image \"app98\" ".len();
    assert_eq!(found[0].offset(), at, "{rendered}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A template parameter put into an `(arg)` string stays text: a `$`
    /// in its value, `${NAME}` included, never becomes a reference.
    #[test]
    fn a_parameter_in_an_arg_string_is_text(value in "[ -~]{0,24}") {
        let text = format!(
            "stowplan 1\n\
             arg \"V\" \"1\"\n\
             template \"t\" {{\n\
                 param \"v\" doc=\"a value\"\n\
                 image {{\n\
                     from \"debian:bookworm-slim\"\n\
                     env \"X\" (arg)\"<{{{{v}}}}>${{V}}\"\n\
                     cmd \"/app\"\n\
                 }}\n\
             }}\n\
             image \"app\" template=\"t\" v={}\n",
            hostile::kdl(&value),
        );
        let source = SourceFile::new("stowplan.kdl", text);
        let checked = driver::check(&source, &Options::default())
            .unwrap_or_else(|d| panic!("{}", testkit::render_all(&d)));
        let plan = driver::plan(&source, &checked.output, &Selection::All);
        let env = plan.stages[0]
            .instructions
            .iter()
            .find_map(|i| match &i.value {
                plan::Instruction::Env { value, .. } => Some(value.clone()),
                _ => None,
            })
            .expect("the ENV is planned");
        let mut expected = plan::Word::text(format!("<{value}>"));
        expected.push_arg("V");
        prop_assert_eq!(env, expected);
    }
}
