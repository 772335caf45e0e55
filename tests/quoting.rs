//! Property test: arbitrary strings (quotes, newlines, `$`, backslashes,
//! `EOF`, unicode) go through env, label, run, cmd, workdir and paths. Each
//! compiled spec must read back through BuildKit's parser exactly as
//! planned; a value that cannot be written must be refused with a
//! diagnostic, never mangled.

mod common;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use stowplan::{Code, SourceFile};

fn nasty() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        30 => "[a-zA-Z0-9_./-]{1,6}",
        3 => Just("EOF".to_owned()),
        3 => Just("<<EOF".to_owned()),
        3 => Just("<<-'X'".to_owned()),
        3 => Just("$HOME".to_owned()),
        3 => Just("${PATH:-x}".to_owned()),
        3 => Just("\\".to_owned()),
        1 => Just("\\\n".to_owned()),
        3 => Just("\"".to_owned()),
        3 => Just("'".to_owned()),
        1 => Just("\n".to_owned()),
        1 => Just("\r\n".to_owned()),
        3 => Just("\t".to_owned()),
        3 => Just(" ".to_owned()),
        3 => Just("#".to_owned()),
        3 => Just("[".to_owned()),
        3 => Just("]".to_owned()),
        3 => Just("--".to_owned()),
        3 => Just("&& rm -rf /".to_owned()),
        3 => Just("`id`".to_owned()),
        3 => Just("é✓日本\u{200b}".to_owned()),
        1 => Just("\u{0}".to_owned()),
        3 => Just(",=".to_owned()),
    ];
    prop::collection::vec(atom, 1..6).prop_map(|parts| parts.concat())
}

/// A KDL v2 quoted string. Control characters go in as `\u{..}` escapes,
/// since KDL forbids most of them literally.
fn kdl(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{200b}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn spec(values: &[String; 7]) -> String {
    let [env, label, run, cmd_word, shell_cmd, path, dir] = values;
    format!(
        "stowplan 1\nimage \"probe\" {{\n    from \"busybox:1.36.1\"\n    workdir {workdir}\n    env \"VALUE\" {env}\n    label \"probe.value\" {label}\n    copy {path} to={dest}\n    run {run}\n    volume {volume}\n    entrypoint \"/bin/echo\" {cmd_word}\n    cmd {shell_cmd} shell=#true\n}}\n",
        workdir = kdl(&format!("/{dir}")),
        env = kdl(env),
        label = kdl(label),
        path = kdl(path),
        dest = kdl(&format!("/{dir}/")),
        run = kdl(run),
        volume = kdl(&format!("/{dir}")),
        cmd_word = kdl(cmd_word),
        shell_cmd = kdl(shell_cmd),
    )
}

#[test]
fn arbitrary_values_read_back_or_are_refused() {
    let oracle = common::oracle_available();
    let config = Config {
        cases: 300,
        ..Config::default()
    };
    // A fixed seed: the same cases on every run and machine.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = prop::array::uniform7(nasty());
    let dir = tempfile::tempdir().unwrap();
    let mut compiled = Vec::new();
    let mut refused = 0;
    for case in 0..300 {
        let values = strategy.new_tree(&mut runner).unwrap().current();
        let text = spec(&values);
        let source = SourceFile::new("probe.kdl", text.clone());
        match stowplan::compile_dockerfile(&source, &stowplan::Options::default()) {
            Ok(done) => {
                let checked = stowplan::check(&source, &stowplan::Options::default()).unwrap();
                let plan = stowplan::plan(&source, &checked.output, &stowplan::Selection::All);
                let file = dir.path().join(format!("case{case:03}.Dockerfile"));
                std::fs::write(&file, done.output).unwrap();
                compiled.push((file, plan, text));
            }
            Err(diagnostics) => {
                refused += 1;
                for d in &diagnostics {
                    assert!(
                        matches!(
                            d.code,
                            Code::Unrepresentable | Code::InvalidValue | Code::OutsideContext
                        ),
                        "unexpected {} for spec:\n{text}\n{}",
                        d.code,
                        common::render_all(&diagnostics)
                    );
                }
                let any_line_break = values.iter().any(|v| v.contains(['\n', '\r']));
                let any_control = values.iter().any(|v| v.chars().any(char::is_control));
                let outside = values[5].starts_with('/') || values[5].split('/').any(|p| p == "..");
                assert!(
                    any_line_break || any_control || outside,
                    "refused a harmless spec:\n{text}"
                );
            }
        }
    }
    assert!(
        compiled.len() > 100,
        "too few cases compiled ({}) to mean anything",
        compiled.len()
    );
    assert!(
        refused > 10,
        "too few cases refused ({refused}): the generator is too tame"
    );
    if !oracle {
        return;
    }
    let files: Vec<_> = compiled.iter().map(|(f, _, _)| f.clone()).collect();
    let parsed = common::parse_with_buildkit(&files);
    assert_eq!(parsed.len(), compiled.len());
    for ((file, plan, text), doc) in compiled.iter().zip(&parsed) {
        common::assert_reads_back(plan, doc, &format!("{}\nspec:\n{text}", file.display()));
    }
}
