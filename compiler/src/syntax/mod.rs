//! Reading KDL: the fast parser for valid documents, the nesting guard,
//! and the kdl crate's syntax errors turned into diagnostics.

pub mod fastkdl;

use kdl::KdlDocument;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};

/// A whole document through the kdl crate, its errors as diagnostics: the
/// path for anything the fast parser declines, and the source of every
/// syntax diagnostic.
pub fn parse_with_kdl(text: &str) -> Result<KdlDocument, Vec<Diagnostic>> {
    let mut d = Diagnostics::default();
    // The kdl crate parses recursively: refuse a depth that could overflow
    // the stack rather than crash.
    if let Some(at) = too_deep(text) {
        d.push(
            Diagnostic::error(
                Code::KdlSyntax,
                format!("KDL syntax: more than {MAX_NESTING} unclosed `{{` or `/*`"),
            )
            .primary(Span::from(at..at + 1), "nested too deep")
            .help("stowplan specs nest a few levels; look for a `{` or `/*` that is never closed"),
        );
        return Err(d.into_sorted());
    }
    match KdlDocument::parse_v2(text) {
        Ok(document) => Ok(document),
        Err(error) => {
            for kdl in error.diagnostics {
                let message = kdl
                    .message
                    .clone()
                    .unwrap_or_else(|| "invalid KDL".to_owned());
                let mut diag = Diagnostic::error(Code::KdlSyntax, format!("KDL syntax: {message}"))
                    .primary(kdl.span, kdl.label.clone().unwrap_or_else(|| "here".into()));
                let at = text.get(kdl.span.offset()..).unwrap_or_default();
                let v1_keyword = ["true", "false", "null"].into_iter().find(|k| {
                    at.starts_with(k) && !at[k.len()..].starts_with(|c: char| c.is_alphanumeric())
                });
                diag = diag.help(match (v1_keyword, kdl.help.clone()) {
                    // KDL v1 habits are the commonest syntax error.
                    (Some(k), _) => format!("KDL v2 writes `{k}` as `#{k}`"),
                    (None, Some(help)) => help,
                    (None, None) => {
                        "stowplan specs are KDL v2 documents; see spec/language.md".into()
                    }
                });
                d.push(diag);
            }
            Err(d.into_sorted())
        }
    }
}

/// How many `{` and `/*` may be open at once before the kdl crate is asked
/// to parse a document; the binary's stack holds that many levels.
const MAX_NESTING: usize = 1000;

/// Where the count of open `{` and `/*` first passes [`MAX_NESTING`]. It
/// counts the characters wherever they are, strings included: a cheap,
/// conservative bound, only consulted when the fast parser declined.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) | (b'{', _) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
                i += usize::from(bytes[i] == b'/');
            }
            (b'*', Some(b'/')) | (b'}', _) => {
                depth = depth.saturating_sub(1);
                i += usize::from(bytes[i] == b'*');
            }
            _ => {}
        }
        i += 1;
    }
    None
}
