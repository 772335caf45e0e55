//! Secrets on their way into a layer: names and values of `env`, `arg` and
//! `label` that look like credentials, files that are (`.npmrc`, `id_rsa`,
//! `.env.production`, ...) in `copy` and `add`, and copies that would
//! carry such a file from the build context. Each help says how to pass
//! that secret as a build secret instead.

use std::path::Path;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::cache::{Ignore, source_touches};
use crate::frontend::ast::*;
use crate::middle::resolve::Spec;

const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];
/// Whole `_`-separated words of a name that say it holds a secret:
/// `DB_PASS`, `GITHUB_PAT`, `DB_PWD`.
const SECRET_TOKENS: &[&str] = &["PASS", "PAT", "PWD"];
/// Words before a final `KEY` that make it a secret key (`JWT_KEY`).
const SECRET_KEY_KINDS: &[&str] = &[
    "JWT",
    "SIGNING",
    "SIGN",
    "ENCRYPTION",
    "CRYPT",
    "MASTER",
    "SESSION",
    "HMAC",
    "AUTH",
    "CLIENT",
    "APP",
    "LICENSE",
    "STRIPE",
    "AWS",
];
const SECRET_FILES: &[&str] = &[
    ".env",
    ".npmrc",
    ".netrc",
    ".pypirc",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    "id_dsa",
    ".git-credentials",
];
/// Files that hold credentials at a known place below a tool's folder.
const SECRET_PATHS: &[&str] = &[
    ".aws/credentials",
    ".docker/config.json",
    ".kube/config",
    ".ssh/id_rsa",
];
/// `.env.NAME` files that are templates, committed on purpose.
const ENV_TEMPLATES: &[&str] = &["example", "sample", "template", "dist", "defaults"];

fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace(['-', '.'], "_");
    // `*_FILE` and `*_PATH` name where a secret is mounted, the recommended way.
    let points_to_file =
        upper.ends_with("_FILE") || upper.ends_with("_PATH") || upper.ends_with("_DIR");
    let words: Vec<&str> = upper.split('_').filter(|w| !w.is_empty()).collect();
    let key = words.len() >= 2
        && words[words.len() - 1] == "KEY"
        && SECRET_KEY_KINDS.contains(&words[words.len() - 2]);
    !points_to_file
        && (SECRET_WORDS.iter().any(|w| upper.contains(w))
            || words.iter().any(|w| SECRET_TOKENS.contains(w))
            || key)
}

/// A value that holds a PEM private key block.
fn secret_value(value: &str) -> bool {
    value.split("-----BEGIN ").skip(1).any(|rest| {
        rest.split_once("-----")
            .is_some_and(|(label, _)| label.len() <= 40 && label.ends_with("PRIVATE KEY"))
    })
}

fn secret_file(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let file = path.rsplit('/').next().unwrap_or(path);
    let env_file = file
        .strip_prefix(".env.")
        .is_some_and(|rest| !ENV_TEMPLATES.contains(&rest.to_ascii_lowercase().as_str()));
    SECRET_FILES.contains(&file)
        || env_file
        || file.ends_with(".pem")
        || file.ends_with(".key")
        || SECRET_PATHS
            .iter()
            .any(|p| path == *p || path.ends_with(&format!("/{p}")))
}

/// A secret id made from a file or variable name: `.npmrc` → `npmrc`.
fn secret_id(name: &str) -> String {
    let file = name
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(name);
    let id: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let id = id.trim_matches('-');
    if id.is_empty() {
        "secret".to_owned()
    } else {
        id.to_owned()
    }
}

/// How to pass a variable as a secret instead.
fn name_help(name: &str, what: &str) -> String {
    let id = secret_id(name);
    // A label key is no shell variable name: `api-key` reads as `API_KEY`.
    let name = if name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        name.to_owned()
    } else {
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "{what} stays in the image's config and history; drop it and add `secret \"{id}\"` to the step that needs it, read it there with `{name}=$(cat /run/secrets/{id})`, and build with `--secret id={id},env={name}`"
    )
}

/// How to pass a file as a secret instead.
fn file_help(path: &str) -> String {
    let id = secret_id(path);
    format!(
        "copied files stay in the image's layers; leave `{path}` out (list it in .dockerignore), add `secret \"{id}\" target=\"/path/it/is/read/from\"` to the step that needs it, and build with `--secret id={id},src={path}`"
    )
}

pub(crate) fn secrets(stage: &StageDecl, d: &mut Diagnostics) {
    secrets_in(&stage.items, d);
}

/// Global build arguments, as a stage's `arg`s: recorded in the history
/// of every image whose stages name them.
pub(crate) fn global_secrets(args: &[ArgDecl], d: &mut Diagnostics) {
    let items: Vec<Item> = args
        .iter()
        .map(|a| Item {
            kind: ItemKind::Arg {
                name: a.name.clone(),
                default: a.default.clone(),
            },
            span: a.span,
        })
        .collect();
    secrets_in(&items, d);
}

fn secrets_in(items: &[Item], d: &mut Diagnostics) {
    let leak = |d: &mut Diagnostics, span, what: &str, label: &str, help: String| {
        d.push(
            Diagnostic::error(
                Code::SecretLeak,
                format!("a secret would be stored in the image: {what}"),
            )
            .primary(span, label)
            .help(help),
        );
    };
    let pem = |d: &mut Diagnostics, value: &Spanned<String>, name: &str| {
        if secret_value(&value.value) {
            let id = secret_id(name);
            leak(
                d,
                value.span,
                &format!("a private key in {name}"),
                "a PEM private key",
                format!(
                    "put the key in a file outside the context, add `secret \"{id}\"` to the step that needs it (mounted at /run/secrets/{id}), and build with `--secret id={id},src=PATH`"
                ),
            );
        }
    };
    let file = |d: &mut Diagnostics, path: &Spanned<String>| {
        if secret_file(&path.value) {
            leak(
                d,
                path.span,
                &format!("file {}", path.value),
                "copied into a layer",
                file_help(&path.value),
            );
        }
    };
    for item in items {
        match &item.kind {
            ItemKind::Env { name, value } => {
                if secret_name(&name.value) {
                    leak(
                        d,
                        name.span,
                        &format!("ENV {}", name.value),
                        "looks like a secret",
                        name_help(&name.value, "ENV"),
                    )
                } else {
                    pem(d, &sketch(value), &name.value)
                }
            }
            ItemKind::Arg { name, default } => {
                if secret_name(&name.value) {
                    leak(
                        d,
                        name.span,
                        &format!("ARG {}", name.value),
                        "build args are recorded in the image history",
                        name_help(&name.value, "an ARG"),
                    )
                } else if let Some(value) = default {
                    pem(d, value, &name.value)
                }
            }
            ItemKind::Label { key, value } => {
                if secret_name(&key.value) {
                    leak(
                        d,
                        key.span,
                        &format!("label {}", key.value),
                        "labels are public",
                        name_help(&key.value, "a label"),
                    )
                } else {
                    pem(d, &sketch(value), &key.value)
                }
            }
            ItemKind::Copy(CopyDecl {
                source: CopySourceDecl::Context(paths),
                ..
            }) => paths.iter().for_each(|p| file(d, p)),
            ItemKind::Add(add) => add.sources.iter().for_each(|s| {
                // A URL's last segment names the file it downloads.
                let path = s.value.split(['?', '#']).next().unwrap_or(&s.value);
                if secret_file(path) {
                    file(d, &Spanned::new(path.to_owned(), s.span));
                }
            }),
            ItemKind::Step(step) => step.inputs.iter().for_each(|i| file(d, &i.path)),
            _ => {}
        }
    }
}

/// How far the walk of the build context for secret files goes.
const WALK_DEPTH: usize = 12;
const WALK_ENTRIES: usize = 20_000;

/// The context's files that look like secrets and that `.dockerignore`
/// leaves in, relative to the context. The walk never follows a symlink
/// and stops after `WALK_DEPTH` levels or `WALK_ENTRIES` entries.
fn context_secrets(context: &Path) -> Vec<String> {
    let ignore = std::fs::read_to_string(context.join(".dockerignore"))
        .map(|t| Ignore::parse(&t))
        .unwrap_or_else(|_| Ignore::parse(""));
    let mut found = Vec::new();
    let mut entries = 0;
    let mut pending: Vec<(std::path::PathBuf, String, usize)> =
        vec![(context.to_path_buf(), String::new(), 0)];
    while let Some((dir, rel, depth)) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            entries += 1;
            if entries > WALK_ENTRIES {
                return found;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            // `file_type` does not follow symlinks; symlinks are skipped.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if depth + 1 < WALK_DEPTH {
                    pending.push((entry.path(), path, depth + 1));
                }
            } else if kind.is_file() && secret_file(&path) && !ignore.excludes(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Copies (and step inputs) whose sources would carry a secret file of the
/// context: `copy "."` with an `.env` beside the spec.
pub(crate) fn context_leaks(spec: &Spec, context: &Path, d: &mut Diagnostics) {
    let mut found: Option<Vec<String>> = None;
    // The walk is of the spec's folder: a stage's paths are under its `context`.
    let mut check = |d: &mut Diagnostics, folder: &str, source: &Spanned<String>| {
        if secret_file(&source.value)
            || source.value.starts_with('/')
            || source.value.split('/').any(|p| p == "..")
            // Go's match is exponential in stars; such a source is not checked.
            || source.value.split('/').any(|p| p.matches('*').count() > 4)
        {
            return;
        }
        let files = found.get_or_insert_with(|| context_secrets(context));
        let under = match folder {
            "." => source.value.clone(),
            folder => format!("{folder}/{}", source.value),
        };
        if let Some(file) = files.iter().find(|f| source_touches(&under, f)) {
            d.push(
                Diagnostic::error(
                    Code::SecretLeak,
                    format!("a secret would be stored in the image: `{}` carries {file}", source.value),
                )
                .primary(source.span, format!("copies {file} into a layer"))
                .help(format!(
                    "list `{file}` in the context's .dockerignore (or copy only what the image needs), add `secret \"{id}\" target=\"/path/it/is/read/from\"` to the step that needs it, and build with `--secret id={id},src={file}`",
                    id = secret_id(file)
                )),
            );
        }
    };
    for stage in &spec.stages {
        let folder = stage.context_dir();
        for item in &stage.items {
            match &item.kind {
                ItemKind::Copy(CopyDecl {
                    source: CopySourceDecl::Context(paths),
                    ..
                }) => paths.iter().for_each(|p| check(d, folder, p)),
                ItemKind::Add(add) => add
                    .sources
                    .iter()
                    .filter(|s| !crate::frontend::values::is_url(&s.value))
                    .for_each(|s| check(d, folder, s)),
                ItemKind::Step(step) => step.inputs.iter().for_each(|i| check(d, folder, &i.path)),
                _ => {}
            }
        }
    }
}

/// A value with its build-argument references written `${NAME}`: only its
/// text can hold a key.
fn sketch(value: &Spanned<Word>) -> Spanned<String> {
    Spanned::new(value.value.sketch(), value.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_walk_follows_no_symlink_and_honours_dockerignore() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join(".env"), "A=1").unwrap();
        std::fs::write(outside.path().join("id_rsa"), "k").unwrap();
        let context = tempfile::tempdir().unwrap();
        let c = context.path();
        std::os::unix::fs::symlink(outside.path(), c.join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.path().join(".env"), c.join(".env")).unwrap();
        assert!(context_secrets(c).is_empty());
        std::fs::create_dir_all(c.join("a/.aws")).unwrap();
        std::fs::write(c.join("a/.aws/credentials"), "k").unwrap();
        std::fs::write(c.join("a/.env.production"), "k").unwrap();
        std::fs::write(c.join("a/.env.example"), "k").unwrap();
        assert_eq!(
            context_secrets(c),
            ["a/.aws/credentials", "a/.env.production"]
        );
        std::fs::write(c.join(".dockerignore"), "**/.aws\n").unwrap();
        assert_eq!(context_secrets(c), ["a/.env.production"]);
    }

    #[test]
    fn secret_names_values_and_files() {
        for name in ["DB_PASS", "GITHUB_PAT", "JWT_KEY", "db_pwd", "NPM_TOKEN"] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "PATH",
            "GPG_KEY",
            "PASSPORT_DIR",
            "DB_PASS_FILE",
            "COMPASS",
            "PATTERN",
        ] {
            assert!(!secret_name(name), "{name}");
        }
        assert!(secret_value("x -----BEGIN OPENSSH PRIVATE KEY----- y"));
        assert!(!secret_value("-----BEGIN PUBLIC KEY----- y"));
        assert!(secret_file("deploy/.docker/config.json"));
        assert!(!secret_file("config.json"));
    }
}
