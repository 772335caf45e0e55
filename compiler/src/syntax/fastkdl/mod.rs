//! A fast, allocation-light parser for *valid* KDL v2 documents.
//!
//! [`parse`] builds the same [`KdlDocument`] that `kdl::KdlDocument::parse_v2`
//! builds, minus the formatting and trivia (no `format`, no identifier
//! `repr`), with every span (documents, nodes, names, entries, property keys,
//! type annotations) at the same offsets. It exists because the kdl crate's
//! parser allocates an error context per character and keeps every byte of
//! whitespace, which is 10x too slow and too big for large specs.
//!
//! The kdl crate stays the reference: whenever this parser meets anything it
//! is not completely sure of (any syntax error, and a few valid but rare
//! constructs it does not implement), it returns `None` and the caller parses
//! with `KdlDocument::parse_v2`, which also reports every error ([`parse_each`]
//! says where it stopped, so the crate may read only the rest). So the rule
//! here is: what it accepts, it accepts exactly as kdl 6.7 does; everything
//! else is `None`. Its tests (`fastkdl/tests.rs`) check that against the crate
//! on every spec in the repository, kdl's own compliance suite and random
//! documents.
//!
//! Deliberately left to the fallback: `\` + whitespace escapes in multi-line
//! strings, a raw multi-line line starting with such a sequence, identifiers
//! spelled like keywords (`-inf`), U+007F, a slashdash directly after a
//! slashdash, nesting deeper than `MAX_DEPTH`.
//!
//! Two levels: the lexical one (`lexer.rs`: a cursor over the text, spaces,
//! comments, numbers; `strings.rs`: every kind of string) and the structure
//! built on it here (documents, nodes, entries).

mod lexer;
mod strings;
#[cfg(test)]
mod tests;

use kdl::{KdlDocument, KdlEntry, KdlIdentifier, KdlNode, KdlValue};
use lexer::{Cursor, MAX_DEPTH};

/// Parses a valid KDL v2 document, or returns `None` (see the module docs).
pub fn parse(text: &str) -> Option<KdlDocument> {
    parser(text).nodes(false, None)
}

/// Like [`parse`], but hands each top-level node to `sink` as soon as it
/// and its terminator are read, and keeps none, so a large document is
/// never whole in memory. On a text it does not take (see the module
/// docs) it returns where the nodes it handed over end, just past the last
/// one's terminator: the rest is a document of its own, for the kdl crate.
pub(crate) fn parse_each(text: &str, sink: &mut dyn FnMut(KdlNode)) -> Result<(), usize> {
    let mut p = parser(text);
    match p.nodes(false, Some(sink)) {
        Some(_) => Ok(()),
        // A byte order mark opens a document, and is an error anywhere
        // else: the kdl crate must read that one in its place.
        None if text[p.accepted..].starts_with('\u{FEFF}') => Err(0),
        None => Err(p.accepted),
    }
}

fn parser(text: &str) -> Parser<'_> {
    let mut template = KdlNode::new("");
    template.clear_format();
    let mut p = Parser {
        c: Cursor {
            s: text,
            b: text.as_bytes(),
            pos: 0,
        },
        depth: 0,
        accepted: 0,
        template,
        nodes: Vec::new(),
        entries: Vec::new(),
    };
    if text.starts_with('\u{FEFF}') {
        p.pos = 3;
    }
    p
}

/// The structural level, over a cursor.
struct Parser<'a> {
    c: Cursor<'a>,
    depth: usize,
    /// With a sink: the end of the top-level nodes handed over so far.
    accepted: usize,
    /// A node without formatting: `KdlNode::new` allocates some.
    template: KdlNode,
    /// Nodes and entries being collected, as stacks shared by all levels,
    /// so every finished list is allocated once at its exact size.
    nodes: Vec<KdlNode>,
    entries: Vec<KdlEntry>,
}

fn span(start: usize, end: usize) -> miette::SourceSpan {
    (start..end).into()
}

fn ident(value: String, start: usize, end: usize) -> KdlIdentifier {
    let mut id = KdlIdentifier::from(value);
    id.set_span(span(start, end));
    id
}

impl<'a> std::ops::Deref for Parser<'a> {
    type Target = Cursor<'a>;
    fn deref(&self) -> &Cursor<'a> {
        &self.c
    }
}

impl std::ops::DerefMut for Parser<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.c
    }
}

impl Parser<'_> {
    // ---- documents and nodes -----------------------------------------

    /// `nodes`: leading trivia and slashdashed nodes, then nodes separated
    /// by terminators. At the top level it must end at the end of the text,
    /// in a block at `}` (not consumed). With a `sink`, each node goes
    /// there instead of into the returned (then empty) document.
    fn nodes(
        &mut self,
        in_block: bool,
        mut sink: Option<&mut dyn FnMut(KdlNode)>,
    ) -> Option<KdlDocument> {
        self.skip_leading()?;
        let start = self.pos;
        let mut end = start;
        let base = self.nodes.len();
        loop {
            match self.peek() {
                None if in_block => return None,
                None => break,
                Some(b'}') if in_block => break,
                Some(b'}') => return None,
                Some(_) => {}
            }
            let node = self.base_node()?;
            end = self.pos;
            let last = matches!(self.peek(), None | Some(b'}'));
            match self.peek() {
                None | Some(b'}') => {}
                Some(b';') => self.pos += 1,
                Some(b'/') if self.peek_at(self.pos + 1) == Some(b'/') => self.line_comment(),
                Some(_) => {
                    let n = self.newline_len(self.pos);
                    if n == 0 {
                        return None;
                    }
                    self.pos += n;
                }
            }
            match sink.as_mut() {
                // A `}` at the top level is an error: the node before it
                // goes to the kdl crate with it.
                Some(_) if self.peek() == Some(b'}') => return None,
                Some(sink) => {
                    sink(node);
                    self.accepted = self.pos;
                }
                None => self.nodes.push(node),
            }
            if last {
                continue;
            }
            self.skip_leading()?;
        }
        let mut doc = KdlDocument::new();
        *doc.nodes_mut() = self.nodes.drain(base..).collect();
        doc.set_span(span(start, end));
        Some(doc)
    }

    /// `(line-space | slashdash base-node)*`
    fn skip_leading(&mut self) -> Option<()> {
        loop {
            self.line_space0()?;
            if !self.starts(self.pos, b"/-") {
                return Some(());
            }
            self.pos += 2;
            self.line_space0()?;
            if self.starts(self.pos, b"/-") {
                return None;
            }
            self.base_node()?;
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn base_node(&mut self) -> Option<KdlNode> {
        if matches!(self.peek(), None | Some(b'{' | b'}')) {
            return None;
        }
        let start = self.pos;
        let ty = if self.peek() == Some(b'(') {
            Some(self.ty()?)
        } else {
            None
        };
        self.node_space0()?;
        let name_start = self.pos;
        let name = self.string()??;
        let mut node = self.template.clone();
        node.set_name(ident(name, name_start, self.pos));
        if let Some(ty) = ty {
            node.set_ty(ty);
        }

        // Arguments and properties, slashdashed ones skipped.
        let base = self.entries.len();
        loop {
            let save = self.pos;
            if !self.node_space0()? {
                break;
            }
            match self.peek() {
                None | Some(b'{' | b'}' | b';') => {
                    self.pos = save;
                    break;
                }
                Some(b'/') if self.peek_at(self.pos + 1) == Some(b'/') => {
                    self.pos = save;
                    break;
                }
                Some(b'/') if self.peek_at(self.pos + 1) == Some(b'-') => {
                    self.pos += 2;
                    self.line_space0()?;
                    match self.peek() {
                        Some(b'{') => {
                            self.pos = save;
                            break;
                        }
                        Some(b'/') if self.peek_at(self.pos + 1) == Some(b'-') => return None,
                        _ => {
                            self.entry()?;
                        }
                    }
                }
                Some(_) if self.newline_len(self.pos) > 0 => {
                    self.pos = save;
                    break;
                }
                Some(_) => {
                    let entry = self.entry()?;
                    self.entries.push(entry);
                }
            }
        }
        if self.entries.len() > base {
            *node.entries_mut() = self.entries.drain(base..).collect();
        }

        // Slashdashed children blocks, at most one real one, more slashdashed.
        let save = self.pos;
        if self.node_space0()? && self.starts(self.pos, b"/-") {
            if !self.slashdashed_children()? {
                self.pos = save;
            }
        } else {
            self.pos = save;
        }
        self.node_space0()?;
        if self.peek() == Some(b'{') {
            let children = self.children()?;
            node.set_children(children);
            let save = self.pos;
            self.node_space0()?;
            if !(self.starts(self.pos, b"/-") && self.slashdashed_children()?) {
                self.pos = save;
            }
        }
        self.node_space0()?;
        node.set_span(span(start, self.pos));
        Some(node)
    }

    /// At `/-`: `slashdash node-children (node-space+ slashdash node-children)*`.
    /// Returns false (position unspecified) when the first is not one.
    fn slashdashed_children(&mut self) -> Option<bool> {
        let mut any = false;
        loop {
            let save = self.pos;
            if any && !(self.node_space0()? && self.starts(self.pos, b"/-")) {
                self.pos = save;
                return Some(true);
            }
            self.pos += 2;
            self.line_space0()?;
            if self.peek() != Some(b'{') {
                self.pos = save;
                return Some(any);
            }
            self.children()?;
            any = true;
        }
    }

    fn children(&mut self) -> Option<KdlDocument> {
        self.enter()?;
        self.pos += 1;
        let doc = self.nodes(true, None)?;
        if self.peek() != Some(b'}') {
            return None;
        }
        self.pos += 1;
        self.depth -= 1;
        Some(doc)
    }

    /// `prop | value`, at its first character.
    fn entry(&mut self) -> Option<KdlEntry> {
        let start = self.pos;
        let entry = if let Some(s) = self.string()? {
            let key_end = self.pos;
            self.node_space0()?;
            if self.peek() == Some(b'=') {
                self.pos += 1;
                self.node_space0()?;
                let mut entry = self.value()?;
                entry.set_name(Some(ident(s, start, key_end)));
                entry
            } else {
                self.pos = key_end;
                KdlEntry::new(KdlValue::String(s))
            }
        } else {
            self.value()?
        };
        let mut entry = entry;
        entry.set_span(span(start, self.pos));
        Some(entry)
    }

    /// `type? node-space* (keyword | number | string)`
    fn value(&mut self) -> Option<KdlEntry> {
        let ty = if self.peek() == Some(b'(') {
            let ty = self.ty()?;
            self.node_space0()?;
            Some(ty)
        } else {
            None
        };
        let value = match self.peek()? {
            b'#' if !matches!(self.peek_at(self.pos + 1), Some(b'#' | b'"')) => self.keyword()?,
            b'0'..=b'9' => self.number()?,
            b'+' | b'-' if matches!(self.peek_at(self.pos + 1), Some(b'0'..=b'9')) => {
                self.number()?
            }
            _ => KdlValue::String(self.string()??),
        };
        let mut entry = KdlEntry::new(value);
        if let Some(ty) = ty {
            entry.set_ty(ty);
        }
        Some(entry)
    }

    /// `'(' node-space* string node-space* ')'`
    fn ty(&mut self) -> Option<KdlIdentifier> {
        self.pos += 1;
        self.node_space0()?;
        let start = self.pos;
        let name = self.string()??;
        let end = self.pos;
        if self.peek() != Some(b')') && !self.node_space0()? {
            return None;
        }
        self.node_space0()?;
        if self.peek() != Some(b')') {
            return None;
        }
        self.pos += 1;
        Some(ident(name, start, end))
    }

    fn keyword(&mut self) -> Option<KdlValue> {
        let rest = &self.b[self.pos + 1..];
        let (len, value) = if rest.starts_with(b"true") {
            (4, KdlValue::Bool(true))
        } else if rest.starts_with(b"false") {
            (5, KdlValue::Bool(false))
        } else if rest.starts_with(b"null") {
            (4, KdlValue::Null)
        } else if rest.starts_with(b"nan") {
            (3, KdlValue::Float(f64::NAN))
        } else if rest.starts_with(b"inf") {
            (3, KdlValue::Float(f64::INFINITY))
        } else if rest.starts_with(b"-inf") {
            (4, KdlValue::Float(f64::NEG_INFINITY))
        } else {
            return None;
        };
        self.pos += 1 + len;
        // kdl checks nothing after a keyword; a value terminator keeps this
        // on ground where both agree.
        self.at_value_terminator().then_some(value)
    }
}
