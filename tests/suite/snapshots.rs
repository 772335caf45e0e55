//! Data-driven suite: every `tests/cases/*.kdl` is compiled and its result
//! snapshotted. `err_*` cases must fail and snapshot the rendered
//! diagnostics; the others must compile and snapshot the Dockerfile (plus
//! any warnings). See tests/README.md to add a case.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use stowplan::{Code, SourceFile};

fn source(path: &Path) -> SourceFile {
    let text = std::fs::read_to_string(path).expect("read case");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    SourceFile::new(name, text)
}

/// A case may bring its build context as a sibling folder `NAME.context/`,
/// a policy as a sibling file `NAME.policy` (KDL; not `.kdl`, which
/// would make it a case), and a base-image lock as `NAME.lock`, which the
/// case is checked against as `check --locked` does.
fn options(path: &Path) -> Result<stowplan::Options, Vec<stowplan::Diagnostic>> {
    let context = path.with_extension("context");
    let policy = path.with_extension("policy");
    let policy = if policy.is_file() {
        let text = std::fs::read_to_string(&policy).expect("read policy");
        let name = policy.file_name().unwrap().to_string_lossy().into_owned();
        let parsed = stowplan::Policy::parse(&SourceFile::new(name, text))?;
        Some(std::sync::Arc::new(parsed.output))
    } else {
        None
    };
    let lock = path.with_extension("lock");
    let lock = if lock.is_file() {
        let text = std::fs::read_to_string(&lock).expect("read lock");
        let name = lock.file_name().unwrap().to_string_lossy().into_owned();
        let parsed = stowplan::Lock::parse(&SourceFile::new(name, text))?;
        Some(std::sync::Arc::new(parsed.output))
    } else {
        None
    };
    Ok(stowplan::Options {
        images: Vec::new(),
        context: context.is_dir().then_some(context),
        policy,
        locked: lock.is_some(),
        lock,
        ..Default::default()
    })
}

fn is_err_case(path: &Path) -> bool {
    path.file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("err_")
}

/// A case that declares outputs is compiled as `stowplan write` would (each
/// output with its own format and builder, placed in the case's folder:
/// `NAME.context/` when it has one); any other as `compile`.
fn compile_case(
    source: &SourceFile,
    options: &Result<stowplan::Options, Vec<stowplan::Diagnostic>>,
) -> stowplan::SourceResult<String> {
    let options = options.as_ref().map_err(Clone::clone)?;
    let validated = stowplan::validate(source, options)?;
    if validated.output.is_empty() {
        return stowplan::compile(source, options, &Default::default());
    }
    let dir = options
        .context
        .clone()
        .unwrap_or_else(|| common::root().join("tests/cases"));
    let placed = stowplan::place_outputs(source, &dir, validated.output)?;
    stowplan::refuse_hand_written(source, &placed)?;
    Ok(stowplan::Warned {
        output: placed
            .iter()
            .map(|o| format!("==== {} ====\n{}", o.shown, o.text))
            .collect::<Vec<_>>()
            .join("\n"),
        warnings: validated.warnings,
    })
}

#[test]
fn cases() {
    insta::glob!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests"),
        "cases/*.kdl",
        |path| {
            let source = source(path);
            let snapshot = match compile_case(&source, &options(path)) {
                // An `err_` case that only warns snapshots its warnings.
                Ok(done) if is_err_case(path) => {
                    assert!(
                        !done.warnings.is_empty(),
                        "{} should fail or warn",
                        path.display()
                    );
                    common::render_all(&done.warnings)
                }
                Ok(done) => {
                    let mut text = done.output;
                    if !done.warnings.is_empty() {
                        text.push_str("\n---- warnings ----\n");
                        text.push_str(&common::render_all(&done.warnings));
                    }
                    text
                }
                Err(diagnostics) => {
                    assert!(
                        is_err_case(path),
                        "{} failed:\n{}",
                        path.display(),
                        common::render_all(&diagnostics)
                    );
                    common::render_all(&diagnostics)
                }
            };
            insta::assert_snapshot!(snapshot);
        }
    );
}

/// Codes only a registry can produce: a case compiles offline, so these
/// are exercised against real registries in `tests/suite/lock.rs`
/// (through `tests/lock/registry.sh`), each by the test named here.
pub const NETWORK_ONLY: &[(Code, &str)] = &[
    (
        Code::LockNotFound,
        "a registry answers 404: lock::a_missing_tag_is_not_found_and_nothing_is_written",
    ),
    (
        Code::LockRegistry,
        "a registry is down or refuses the login: lock::a_registry_that_is_down_names_the_image, lock::the_login_comes_from_registry_auth_file",
    ),
];

/// Every diagnostic code has at least one `err_` case that produces it,
/// but those a case cannot produce offline, each with its reason.
#[test]
fn every_code_has_an_error_case() {
    let mut seen = BTreeSet::new();
    let cases = common::root().join("tests/cases");
    for entry in std::fs::read_dir(&cases).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "kdl") && is_err_case(&path) {
            match compile_case(&source(&path), &options(&path)) {
                Err(diagnostics) => seen.extend(diagnostics.iter().map(|d| d.code)),
                Ok(done) => seen.extend(done.warnings.iter().map(|d| d.code)),
            }
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(c) && !NETWORK_ONLY.iter().any(|(n, _)| n == *c))
        .map(|c| c.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without an err_ case: {missing:?}"
    );
    // An exemption that a case does cover is no longer needed.
    let needless: Vec<&str> = NETWORK_ONLY
        .iter()
        .filter(|(c, _)| seen.contains(c))
        .map(|(c, _)| c.as_str())
        .collect();
    assert!(
        needless.is_empty(),
        "codes with an err_ case that NETWORK_ONLY still exempts: {needless:?}"
    );
}

/// Every code is documented in spec/diagnostics.md.
#[test]
fn every_code_is_documented() {
    let doc =
        std::fs::read_to_string(common::root().join("spec/diagnostics.md")).unwrap_or_default();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !doc.contains(&format!("`{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes missing from spec/diagnostics.md: {missing:?}"
    );
}
