//! Reading KDL: the fast parser for valid documents, the nesting guard,
//! and the kdl crate's syntax errors turned into diagnostics.

pub mod fastkdl;

use kdl::KdlDocument;
use miette::SourceSpan;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};

/// A whole document through the kdl crate, its errors as diagnostics: the
/// path for anything the fast parser declines, and the source of every
/// syntax diagnostic.
pub fn parse_with_kdl(text: &str) -> Result<KdlDocument, Vec<Diagnostic>> {
    parse_tail_with_kdl(text, 0)
}

/// [`parse_with_kdl`] of the text from `from`, where the fast parser
/// stopped, after the top-level nodes it took: the rest of a document
/// after a node's terminator is a document itself, parsed and reported as
/// within the whole, so the crate (and its 52× the text in memory) sees
/// only the part the fast parser declined. Spans are in the whole text.
pub fn parse_tail_with_kdl(text: &str, from: usize) -> Result<KdlDocument, Vec<Diagnostic>> {
    check_nesting(text)?;
    let mut d = Diagnostics::default();
    // The crate gives an error it could not recover from a span from the
    // start of what it read: that is the whole text's start. A line break
    // put before the rest (a blank line, which changes nothing after a
    // terminator) tells such a span from one that starts at the rest's
    // first character.
    let (rest, by) = if from == 0 {
        (std::borrow::Cow::Borrowed(text), 0)
    } else {
        (
            std::borrow::Cow::Owned(format!("\n{}", &text[from..])),
            from - 1,
        )
    };
    let place = |span: SourceSpan| match span.offset() {
        0 if by > 0 => SourceSpan::new(0.into(), span.len() + by),
        _ => shift(span, by),
    };
    match KdlDocument::parse_v2(&rest) {
        Ok(mut document) => {
            if by > 0 {
                shift_document(&mut document, by);
            }
            Ok(document)
        }
        Err(error) => {
            for kdl in error.diagnostics {
                let message = kdl
                    .message
                    .clone()
                    .unwrap_or_else(|| "invalid KDL".to_owned());
                let span = place(kdl.span);
                let mut diag = Diagnostic::error(Code::KdlSyntax, format!("KDL syntax: {message}"))
                    .primary(span, kdl.label.clone().unwrap_or_else(|| "here".into()));
                let at = text.get(span.offset()..).unwrap_or_default();
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

/// The nesting guard: refuses a document the kdl crate must not be given.
/// It reads the whole text even when the crate gets only its end, so the
/// documents it refuses are the same as when the crate read them whole.
pub(crate) fn check_nesting(text: &str) -> Result<(), Vec<Diagnostic>> {
    let mut d = Diagnostics::default();
    // The kdl crate parses recursively: refuse a depth that could overflow
    // the stack rather than crash.
    let nesting = nesting(text);
    if let Some(at) = nesting.too_deep {
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
    // With a slashdash, the crate's time doubles with every nested block
    // (kdl-rs issue 177: 132 bytes take 78 s). stowplan's own grammar
    // nests far less, so such a document is refused before it is parsed.
    if nesting.slashdash
        && let Some(at) = nesting.too_deep_for_slashdash
    {
        d.push(
            Diagnostic::error(
                Code::KdlSyntax,
                format!(
                    "KDL syntax: more than {MAX_NESTING_WITH_SLASHDASH} nested `{{` in a document that uses `/-`"
                ),
            )
            .primary(Span::from(at..at + 1), "nested too deep")
            .help("stowplan specs nest a few levels; look for a `{` that is never closed, or a `/-` before one"),
        );
        return Err(d.into_sorted());
    }
    Ok(())
}

fn shift(span: SourceSpan, by: usize) -> SourceSpan {
    SourceSpan::new((span.offset() + by).into(), span.len())
}

/// Moves every span a document's reader sees (nodes, names, types,
/// entries, property keys, children) `by` bytes later.
fn shift_document(document: &mut KdlDocument, by: usize) {
    document.set_span(shift(document.span(), by));
    for node in document.nodes_mut() {
        node.set_span(shift(node.span(), by));
        let name = node.name_mut();
        name.set_span(shift(name.span(), by));
        if let Some(ty) = node.ty_mut() {
            ty.set_span(shift(ty.span(), by));
        }
        for entry in node.entries_mut() {
            entry.set_span(shift(entry.span(), by));
            if let Some(name) = entry.name_mut() {
                name.set_span(shift(name.span(), by));
            }
            if let Some(ty) = entry.ty_mut() {
                ty.set_span(shift(ty.span(), by));
            }
        }
        if let Some(children) = node.children_mut() {
            shift_document(children, by);
        }
    }
}

/// How many `{` and `/*` may be open at once before the kdl crate is asked
/// to parse a document; the binary's stack holds that many levels.
const MAX_NESTING: usize = 1000;

/// How deep blocks nest before the kdl crate may see a document with a
/// slashdash: the deepest spec in this repository (a preset) nests 8.
const MAX_NESTING_WITH_SLASHDASH: usize = 10;

/// What the guard found, read the way KDL reads a document: a `{` or `}`
/// inside a string or a comment does not count (a line of `a{//}` opens a
/// block and comments out its close), and block comments nest. Only
/// consulted when the fast parser declined.
struct Nesting {
    /// Where the nesting of `{` and `/*` first passes [`MAX_NESTING`].
    too_deep: Option<usize>,
    /// Where the `{` blocks first pass [`MAX_NESTING_WITH_SLASHDASH`].
    too_deep_for_slashdash: Option<usize>,
    /// Whether a `/-` appears outside strings and comments.
    slashdash: bool,
}

fn nesting(text: &str) -> Nesting {
    let mut found = Nesting {
        too_deep: None,
        too_deep_for_slashdash: None,
        slashdash: false,
    };
    let bytes = text.as_bytes();
    let at = |i: usize, s: &[u8]| bytes.get(i..i + s.len()) == Some(s);
    let mut braces = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if at(i, b"//") {
            // To the end of the line.
            i = bytes[i..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |n| i + n);
        } else if at(i, b"/*") {
            let mut comments = 0usize;
            while i < bytes.len() {
                if at(i, b"/*") {
                    comments += 1;
                    if braces + comments > MAX_NESTING {
                        found.too_deep = Some(i);
                        return found;
                    }
                    i += 2;
                } else if at(i, b"*/") {
                    comments -= 1;
                    i += 2;
                    if comments == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if bytes[i] == b'"' || bytes[i] == b'#' {
            i = skip_string(bytes, i);
        } else {
            if bytes[i] == b'{' {
                braces += 1;
                if braces > MAX_NESTING_WITH_SLASHDASH {
                    found.too_deep_for_slashdash.get_or_insert(i);
                }
                if braces > MAX_NESTING {
                    found.too_deep = Some(i);
                    return found;
                }
            } else if at(i, b"/-") {
                found.slashdash = true;
            } else if bytes[i] == b'}' {
                braces = braces.saturating_sub(1);
            }
            i += 1;
        }
    }
    found
}

/// The index just past the string that starts at `i` (`"..."`, `"""..."""`,
/// or raw `#"..."#` with any number of `#`), or `i + 1` when no string
/// starts there (`#true`). An unclosed string runs to the end.
fn skip_string(bytes: &[u8], i: usize) -> usize {
    let hashes = bytes[i..].iter().take_while(|b| **b == b'#').count();
    let open = i + hashes;
    if bytes.get(open) != Some(&b'"') {
        return i + 1;
    }
    let raw = hashes > 0;
    let triple = bytes.get(open..open + 3) == Some(b"\"\"\"");
    let quotes = if triple { 3 } else { 1 };
    let mut j = open + quotes;
    while j < bytes.len() {
        if !raw && bytes[j] == b'\\' {
            j += 2;
        } else if bytes[j..].starts_with(&b"\"\"\""[..quotes])
            && bytes[j + quotes..]
                .iter()
                .take_while(|b| **b == b'#')
                .count()
                >= hashes
        {
            return j + quotes + hashes;
        } else {
            j += 1;
        }
    }
    bytes.len()
}
