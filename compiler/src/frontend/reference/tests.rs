//! The hand-written checker says what oci-spec's regular expression says,
//! on generated references that are valid or nearly so.

use proptest::prelude::*;

use crate::frontend::reference::is_reference;

fn oracle(s: &str) -> bool {
    s.parse::<oci_spec::distribution::Reference>().is_ok()
}

/// Agrees with oci-spec on ASCII; elsewhere accepts only what it accepts
/// (oci-spec's `\w` takes any Unicode letter in a tag; Docker's does not).
fn agrees(s: &str) -> Result<(), TestCaseError> {
    if s.is_ascii() {
        prop_assert_eq!(is_reference(s), oracle(s), "{:?}", s);
    } else {
        prop_assert!(!is_reference(s) || oracle(s), "{:?}", s);
    }
    Ok(())
}

fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[a-zA-Z0-9-]{0,5}", 1..4),
        prop::option::of("[0-9a]{0,5}"),
        prop::sample::select(vec!["", "localhost", "docker.io", "index.docker.io"]),
    )
        .prop_map(|(parts, port, fixed)| {
            let host = if fixed.is_empty() {
                parts.join(".")
            } else {
                fixed.to_owned()
            };
            match port {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[a-z0-9]{1,4}([._-]{0,3}[a-z0-9]{1,4}){0,3}",
            2 => "[a-z0-9._A-]{0,8}",
            1 => "[a-z]{1,3}(__|-{1,4}|\\.|_)[a-z]{1,3}",
            1 => "[a-z0-9]{240,262}",
        ],
        1..4,
    )
    .prop_map(|parts| parts.join("/"))
}

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}",
        2 => "[A-Za-z0-9_.:/@é-]{0,6}",
        1 => "[a-z0-9_.-]{126,130}",
    ]
}

fn digest() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            ("sha256", 64),
            ("sha384", 96),
            ("sha512", 128),
            ("md5", 32),
            ("SHA256", 64),
            ("sha256+b64", 64),
            ("", 64),
        ]),
        -1i32..=1,
        "[0-9a-fA-F]",
        prop::sample::select(vec!["", "g", ":", "@"]),
    )
        .prop_map(|((algorithm, length), off, digit, extra)| {
            let length = (length + off).max(0) as usize;
            format!("{algorithm}:{}{extra}", digit.repeat(length))
        })
}

fn reference() -> impl Strategy<Value = String> {
    (
        prop::option::of(domain()),
        path(),
        prop::option::of(tag()),
        prop::option::of(digest()),
    )
        .prop_map(|(domain, path, tag, digest)| {
            let mut s = String::new();
            if let Some(domain) = domain {
                s.push_str(&domain);
                s.push('/');
            }
            s.push_str(&path);
            if let Some(tag) = tag {
                s.push(':');
                s.push_str(&tag);
            }
            if let Some(digest) = digest {
                s.push('@');
                s.push_str(&digest);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn agrees_with_oci_spec_on_generated_references(s in reference()) {
        agrees(&s)?;
    }

    #[test]
    fn agrees_with_oci_spec_on_short_strings(s in "[a-zA-Z0-9:/@._é-]{0,16}") {
        agrees(&s)?;
    }
}

#[test]
fn known_references() {
    let hex = "a".repeat(64);
    for valid in [
        "busybox".to_owned(),
        "golang:1.22.5-bookworm".to_owned(),
        "gcr.io/distroless/static-debian12:nonroot".to_owned(),
        "localhost:5000/a/b__c.d-e---f:Tag_1".to_owned(),
        "test.com:5000".to_owned(),
        "Registry.Example:443/x".to_owned(),
        format!("alpine:3.20@sha256:{hex}"),
        format!("alpine@sha256:{}", "A".repeat(64)),
        "a".repeat(247),
        format!("example.com/{}", "a".repeat(255)),
    ] {
        assert!(is_reference(&valid), "{valid}");
        assert!(oracle(&valid), "{valid}");
    }
    for invalid in [
        "".to_owned(),
        "Busybox".to_owned(),
        "alpine:".to_owned(),
        "alpine::1".to_owned(),
        "a..b".to_owned(),
        "a___b".to_owned(),
        "a-.b".to_owned(),
        "-a".to_owned(),
        "a/".to_owned(),
        "/a".to_owned(),
        "a//b".to_owned(),
        "exa$mple.com/a".to_owned(),
        "-example.com/a".to_owned(),
        "example.com:/a".to_owned(),
        format!("alpine:{}", "t".repeat(129)),
        format!("alpine@sha256:{}", "a".repeat(63)),
        format!("alpine@md5:{}", "a".repeat(32)),
        "a".repeat(248),
        format!("example.com/{}", "a".repeat(256)),
    ] {
        assert!(!is_reference(&invalid), "{invalid}");
        assert!(!oracle(&invalid), "{invalid}");
    }
    // oci-spec's `\w` is Unicode; Docker's is not.
    assert!(oracle("alpine:été") && !is_reference("alpine:été"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The diagnostic of a refused reference says what it said when
    /// oci-spec alone checked it.
    #[test]
    fn refused_references_keep_oci_specs_message(s in reference()) {
        prop_assume!(s.is_ascii());
        let value = crate::frontend::ast::Spanned::new(s.clone(), (0..0).into());
        let mut d = crate::base::diagnostic::Diagnostics::default();
        crate::frontend::values::check_image_ref(&value, &mut d);
        let messages: Vec<String> = d.into_iter().map(|d| d.message).collect();
        let expected: Vec<String> = match s.parse::<oci_spec::distribution::Reference>() {
            Ok(_) => Vec::new(),
            Err(error) => vec![format!("`{}` is not an image reference: {error}", s.escape_debug())],
        };
        prop_assert_eq!(messages, expected);
    }
}
