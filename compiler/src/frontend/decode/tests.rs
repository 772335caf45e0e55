//! Decoding node by node from the fast parser against decoding the kdl
//! crate's whole document ([`decode_with_kdl`], the reference): the same
//! AST and the same diagnostics on every spec in the repository, and no
//! panic on any text.

use proptest::prelude::*;

use super::*;
use crate::testkit::specs::repository_specs;

/// A Debug rendering with every `format: Some(..)` and `repr: Some(..)`
/// (kdl's formatting, which the fast parser does not keep) made `None`.
fn without_formatting(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    loop {
        let next = ["format: Some(", "repr: Some("]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, *p)))
            .min();
        let Some((at, pattern)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        out.push_str(&pattern[..pattern.len() - "Some(".len()]);
        out.push_str("None");
        // Skip to the matching parenthesis, outside string literals.
        let (mut depth, mut in_string, mut escaped) = (1, false, false);
        let body = &rest[at + pattern.len()..];
        let mut end = body.len();
        for (i, c) in body.char_indices() {
            match (in_string, escaped, c) {
                (true, true, _) => escaped = false,
                (true, false, '\\') => escaped = true,
                (true, false, '"') => in_string = false,
                (false, _, '"') => in_string = true,
                (false, _, '(') => depth += 1,
                (false, _, ')') => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &body[end..];
    }
}

#[test]
fn the_fast_path_decodes_as_the_kdl_document_does() {
    for (name, text) in &repository_specs() {
        let (fast_ast, fast_d) = decode(text);
        let (kdl_ast, kdl_d) = decode_with_kdl(text);
        // A template use keeps its block as KDL nodes; the fast parser
        // keeps no formatting, which is all that may differ there.
        assert_eq!(
            without_formatting(&format!("{fast_ast:?}")),
            without_formatting(&format!("{kdl_ast:?}")),
            "{name}: AST"
        );
        assert_eq!(
            format!("{:?}", fast_d.into_sorted()),
            format!("{:?}", kdl_d.into_sorted()),
            "{name}: diagnostics"
        );
    }
}

/// Past [`KDL_READS_WHOLE_BELOW`], where the fast parser stops the kdl
/// crate reads the rest alone: a construct the fast parser leaves to it
/// mid-spec, then decoding goes on; a syntax error at the end.
#[test]
fn decoding_goes_on_where_the_kdl_crate_reads_the_rest() {
    let large = crate::testkit::generate::generate(110);
    assert!(large.len() > KDL_READS_WHOLE_BELOW);
    // A `\` and a line break in a multi-line string: valid, left to kdl.
    let declined = "label_only \"\"\"\n    a \\\n    b\n    \"\"\"\n";
    let endings = [
        format!("{declined}stage \"late\" {{\n    from \"alpine:3\"\n}}\n"),
        "stage \"broken\" {\n    from \"alpine:3\"\n".to_owned(),
        "image \"x\" { from #true; copy \"a\" to=; }\n/- {\n".to_owned(),
        format!("{declined}stage \"s0\" {{ from true }}\n"),
    ];
    for ending in endings {
        let text = format!("{large}{ending}");
        let mut taken = 0;
        let from = crate::syntax::fastkdl::parse_each(&text, &mut |_| taken += 1).unwrap_err();
        assert_eq!(from, large.len(), "{ending}");
        let (fast_ast, fast_d) = decode(&text);
        let (kdl_ast, kdl_d) = decode_with_kdl(&text);
        assert_eq!(
            without_formatting(&format!("{fast_ast:?}")),
            without_formatting(&format!("{kdl_ast:?}")),
            "{ending}: AST"
        );
        assert_eq!(
            format!("{:?}", fast_d.into_sorted()),
            format!("{:?}", kdl_d.into_sorted()),
            "{ending}: diagnostics"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// Any text at all, multi-byte characters anywhere.
    #[test]
    fn any_text_decodes_without_panicking(text in "(\\PC|[\"#/\\\\{}();=\n ]){0,60}") {
        let _ = decode(&text);
    }
}
