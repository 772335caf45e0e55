//! Quoting read back by its reader: bash for the Buildah script's words,
//! BuildKit's own parser for the Dockerfile.
//!
//! The property test: arbitrary strings (quotes, newlines, `$`,
//! backslashes, `EOF`, unicode) go through env, label, run, cmd, workdir
//! and paths. Each compiled spec must read back through BuildKit's parser
//! exactly as planned; a value that cannot be written must be refused with
//! a diagnostic, never mangled.

use std::process::Command;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::backend::quote::bash::bash_word;
use crate::base::diagnostic::Code;
use crate::base::source::SourceFile;
use crate::driver::{self, Options};
use crate::plan::lower::Selection;
use crate::testkit;
use crate::testkit::hostile::{HOSTILE, kdl};

/// bash reads each quoted word back as exactly the value.
#[test]
fn bash_words_read_back() {
    let mut script = String::from("printf '%s\\0'");
    for value in HOSTILE {
        script.push(' ');
        script.push_str(&bash_word(value));
    }
    let output = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(output.status.success());
    let words: Vec<&[u8]> = output.stdout.split(|&b| b == 0).collect();
    assert_eq!(words.len(), HOSTILE.len() + 1, "one word per value");
    for (word, value) in words.iter().zip(HOSTILE) {
        assert_eq!(*word, value.as_bytes());
    }
    // And the brief's spelling, one value at a time.
    for value in ["it's", "$(id)", "`id`", "a\nb", "\\", "'"] {
        let output = Command::new("bash")
            .args(["-c", &format!("printf %s {}", bash_word(value))])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(output.stdout).unwrap(), value);
    }
}

/// The values of the Dockerfile property test: a tamer mix than
/// `testkit::hostile::nasty()` (no empty values, fewer shell atoms), whose
/// values are refused so often that too few specs compile (97 of 300) for
/// the read-back to mean anything. The Buildah suite uses `nasty()`.
fn dockerfile_values() -> impl Strategy<Value = String> {
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
        // BuildKit's lexer drops a byte order mark that starts a word.
        3 => Just("\u{feff}".to_owned()),
    ];
    prop::collection::vec(atom, 1..6).prop_map(|parts| parts.concat())
}

/// `(arg)"TEXT${V}AFTER"`: the value as text (each `$` doubled), then a
/// reference to the build argument `V`.
fn kdl_arg(text: &str, after: &str) -> String {
    format!(
        "(arg){}",
        kdl(&format!("{}${{V}}{after}", text.replace('$', "$$")))
    )
}

fn spec(values: &[String; 7]) -> String {
    let [env, label, run, cmd_word, shell_cmd, path, dir] = values;
    format!(
        "stowplan 1\narg \"V\" \"1\"\nimage \"probe\" {{\n    from (arg)\"busybox:1.36.${{V}}\"\n    workdir {workdir}\n    env \"VALUE\" {env}\n    env \"ARGVALUE\" {env_arg}\n    label \"probe.value\" {label}\n    label \"probe.arg\" {label_arg}\n    copy {path} to={dest}\n    copy {path} to={dest_arg}\n    workdir {workdir_arg}\n    user {user_arg}\n    run {run}\n    volume {volume}\n    entrypoint \"/bin/echo\" {cmd_word}\n    cmd {shell_cmd} shell=#true\n}}\n",
        workdir = kdl(&format!("/{dir}")),
        env = kdl(env),
        env_arg = kdl_arg(env, ""),
        label_arg = kdl_arg(label, ""),
        dest_arg = kdl_arg(&format!("/{dir}/"), "/"),
        workdir_arg = kdl_arg(&format!("/{dir}/"), ""),
        user_arg = kdl_arg(cmd_word, ""),
        label = kdl(label),
        path = kdl(path),
        dest = kdl(&format!("/{dir}/")),
        run = kdl(run),
        volume = kdl(&format!("/{dir}")),
        cmd_word = kdl(cmd_word),
        shell_cmd = kdl(shell_cmd),
    )
}

/// BuildKit lexes a word through Go's text/scanner, which skips a U+FEFF
/// at the start of its input: such a word is quoted, so the mark stays.
/// (The oracle's lexer models the skip, so the property test below checks
/// the same through BuildKit's parser.)
#[test]
fn a_leading_byte_order_mark_is_quoted() {
    use crate::backend::quote::dockerfile::{path_list, word};
    assert_eq!(word("\u{feff}x").unwrap(), "\"\u{feff}x\"");
    assert_eq!(word("x\u{feff}").unwrap(), "x\u{feff}");
    assert_eq!(
        path_list(&["\u{feff}a".into(), "/b".into()]).unwrap(),
        "[\"\\\"\u{feff}a\\\"\",\"/b\"]"
    );
}

#[test]
fn arbitrary_values_read_back_or_are_refused() {
    let oracle = testkit::oracle_available();
    let config = Config {
        cases: 300,
        ..Config::default()
    };
    // A fixed seed: the same cases on every run and machine.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = prop::array::uniform7(dockerfile_values());
    let dir = tempfile::tempdir().unwrap();
    let mut compiled = Vec::new();
    let mut refused = 0;
    for case in 0..300 {
        let values = strategy.new_tree(&mut runner).unwrap().current();
        let text = spec(&values);
        let source = SourceFile::new("probe.kdl", text.clone());
        match driver::compile(&source, &Options::default(), &driver::Target::default()) {
            Ok(done) => {
                let checked = driver::check(&source, &Options::default()).unwrap();
                let plan = driver::plan(&source, &checked.output, &Selection::All);
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
                        testkit::render_all(&diagnostics)
                    );
                }
                let any_line_break = values.iter().any(|v| v.contains(['\n', '\r']));
                let any_control = values.iter().any(|v| v.chars().any(char::is_control));
                let outside = values[5].starts_with('/') || values[5].split('/').any(|p| p == "..");
                // buildah splits `--volume` on `,` and reads a trailing `-`.
                let volume = values[6].contains(',') || values[6].ends_with('-');
                assert!(
                    any_line_break || any_control || outside || volume,
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
    let parsed = testkit::parse_with_buildkit(&files);
    assert_eq!(parsed.len(), compiled.len());
    for ((file, plan, text), doc) in compiled.iter().zip(&parsed) {
        testkit::assert_reads_back(plan, doc, &format!("{}\nspec:\n{text}", file.display()));
    }
}
