//! A fake `buildah` that records every call, and readers of its record.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

/// A fake `buildah` on PATH that records each call's arguments in a file of
/// its own, and answers `from`, `commit`, `inspect` and `mount` plausibly.
pub(super) const FAKE_BUILDAH: &str = r#"#!/usr/bin/env bash
set -eu
n=$(find "$FAKE_LOG" -type f | wc -l)
printf '%s\0' "$@" >"$FAKE_LOG/$(printf %05d "$n")"
case $1 in
from) echo "container$n" ;;
commit) echo "image$n" ;;
mount) echo "$FAKE_ROOT" ;;
inspect) [[ $* != *'len .Docker.Config.Cmd'* ]] || echo 0 ;;
copy | add)
  # Like buildah 1.28: options, the container, then no argument may start with `-`.
  shift
  while [[ $1 == -* ]]; do
    case $1 in
    --from | --chown | --chmod | --contextdir | --ignorefile) shift 2 ;;
    *) shift ;;
    esac
  done
  for arg in "${@:2}"; do
    [[ $arg != -* ]] || { echo "Error: no options ($arg) can be specified after the image or container name" >&2; exit 125; }
  done
  ;;
esac
"#;

/// A run of a script against the fake buildah.
pub(super) struct FakeRun {
    pub(super) output: std::process::Output,
    /// Each buildah call's arguments, in order.
    pub(super) calls: Vec<Vec<String>>,
    pub(super) context: PathBuf,
    pub(super) _dir: tempfile::TempDir,
}

/// Where a fake run keeps things, for a test to fill in before the run.
pub(super) struct FakeDirs {
    /// On PATH, before the fake buildah.
    pub(super) bin: PathBuf,
    /// Where each call's arguments are written.
    pub(super) log: PathBuf,
    /// What `buildah mount` answers.
    pub(super) root: PathBuf,
    pub(super) context: PathBuf,
}

/// Runs `script` against the fake buildah, with `STOWPLAN_*` variables
/// only from `env`.
pub(super) fn fake_run(script: &str, env: &[(&str, &str)]) -> FakeRun {
    fake_run_with(script, env, |_| {})
}

/// As `fake_run`, after `setup` filled in the fake's folders.
pub(super) fn fake_run_with(
    script: &str,
    env: &[(&str, &str)],
    setup: impl FnOnce(&FakeDirs),
) -> FakeRun {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let bin = dir.join("bin");
    let log = dir.join("log");
    let root = dir.join("root");
    let context = dir.join("context");
    for d in [&bin, &log, &root, &context] {
        std::fs::create_dir_all(d).unwrap();
    }
    setup(&FakeDirs {
        bin: bin.clone(),
        log: log.clone(),
        root: root.clone(),
        context: context.clone(),
    });
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
pub(super) fn run_with_fake_buildah(script: &str, env: &[(&str, &str)]) -> FakeRun {
    let run = fake_run(script, env);
    assert!(
        run.output.status.success(),
        "the script failed against the fake buildah:\n{}\n---- script ----\n{script}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    run
}

/// The calls whose arguments start with `prefix`.
pub(super) fn calls_with<'a>(calls: &'a [Vec<String>], prefix: &[&str]) -> Vec<&'a [String]> {
    calls
        .iter()
        .filter(|c| c.len() >= prefix.len() && c.iter().zip(prefix).all(|(a, p)| a == p))
        .map(Vec::as_slice)
        .collect()
}

/// The value after `flag` in the one `buildah config` call that has it.
pub(super) fn config_value<'a>(calls: &'a [Vec<String>], flag: &str) -> Vec<&'a str> {
    calls_with(calls, &["config"])
        .into_iter()
        .filter_map(|c| c.iter().position(|a| a == flag).map(|i| c[i + 1].as_str()))
        .collect()
}

/// Go's os.Expand, as `buildah config --env` applies it to a value.
pub(super) fn go_expand(s: &str, env: &BTreeMap<String, String>) -> String {
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
pub(super) fn apply_env_flags(call: &[String]) -> BTreeMap<String, String> {
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
pub(super) fn shellwords(line: &str) -> Vec<String> {
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
