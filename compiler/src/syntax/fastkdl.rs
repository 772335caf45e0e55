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
//! with `KdlDocument::parse_v2`, which also reports every error. So the rule
//! here is: what it accepts, it accepts exactly as kdl 6.7 does; everything
//! else is `None`. `tests/fastkdl.rs` checks that against the crate on every
//! spec in the repository, kdl's own compliance suite and random documents.
//!
//! Deliberately left to the fallback: `\` + whitespace escapes in multi-line
//! strings, a raw multi-line line starting with such a sequence, identifiers
//! spelled like keywords (`-inf`), U+007F, a slashdash directly after a
//! slashdash, nesting deeper than [`MAX_DEPTH`].

use kdl::{KdlDocument, KdlEntry, KdlIdentifier, KdlNode, KdlValue};

/// Deeper nesting (children blocks, block comments) goes to the fallback.
const MAX_DEPTH: usize = 200;

/// Parses a valid KDL v2 document, or returns `None` (see the module docs).
pub fn parse(text: &str) -> Option<KdlDocument> {
    parser(text).nodes(false, None)
}

/// Like [`parse`], but hands each top-level node to `sink` as soon as it is
/// complete and keeps none, so a large document is never whole in memory.
/// `None` means the text is not one this parser takes (see the module
/// docs): `sink` may have seen some nodes by then, which the caller drops.
pub fn parse_each(text: &str, sink: &mut dyn FnMut(KdlNode)) -> Option<()> {
    parser(text).nodes(false, Some(sink)).map(drop)
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
        template,
        nodes: Vec::new(),
        entries: Vec::new(),
    };
    if text.starts_with('\u{FEFF}') {
        p.pos = 3;
    }
    p
}

/// A multi-line string's body lines (byte ranges, before the closing line),
/// the closing line's start and the offset of its closing quotes.
type MultilineBody = (Vec<(usize, usize)>, usize, usize);

/// The text and a position in it: the lexical level.
struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

/// The structural level, over a cursor.
struct Parser<'a> {
    c: Cursor<'a>,
    depth: usize,
    /// A node without formatting: `KdlNode::new` allocates some.
    template: KdlNode,
    /// Nodes and entries being collected, as stacks shared by all levels,
    /// so every finished list is allocated once at its exact size.
    nodes: Vec<KdlNode>,
    entries: Vec<KdlEntry>,
}

fn is_unicode_space(c: char) -> bool {
    matches!(
        c,
        '\u{0009}' | '\u{0020}' | '\u{00A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

fn is_newline_char(c: char) -> bool {
    matches!(
        c,
        '\r' | '\n' | '\u{0085}' | '\u{000B}' | '\u{000C}' | '\u{2028}' | '\u{2029}'
    )
}

/// kdl's disallowed literal code points, plus U+007F, which kdl 6.7 accepts
/// although the KDL spec does not: left to the fallback.
fn is_disallowed(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{0008}'
        | '\u{000E}'..='\u{001F}'
        | '\u{007F}'
        | '\u{200E}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
    )
}

fn is_identifier_char(c: char) -> bool {
    !(matches!(
        c,
        '\\' | '/' | '(' | ')' | '{' | '}' | '[' | ']' | ';' | '"' | '#' | '='
    ) || is_unicode_space(c)
        || is_newline_char(c)
        || is_disallowed(c))
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

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    fn starts(&self, at: usize, pat: &[u8]) -> bool {
        self.b.get(at..at + pat.len()) == Some(pat)
    }

    fn char_at(&self, at: usize) -> Option<char> {
        match self.b.get(at) {
            None => None,
            Some(&c) if c < 0x80 => Some(c as char),
            Some(_) => self.s[at..].chars().next(),
        }
    }

    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    /// Length of the newline at `at`, if one starts there.
    fn newline_len(&self, at: usize) -> usize {
        match self.b.get(at) {
            Some(b'\r') => {
                if self.peek_at(at + 1) == Some(b'\n') {
                    2
                } else {
                    1
                }
            }
            Some(b'\n' | 0x0B | 0x0C) => 1,
            Some(0xC2) if self.peek_at(at + 1) == Some(0x85) => 2,
            Some(0xE2) if self.starts(at, "\u{2028}".as_bytes()) => 3,
            Some(0xE2) if self.starts(at, "\u{2029}".as_bytes()) => 3,
            _ => 0,
        }
    }

    /// Length of the unicode space at `at`, if one starts there.
    fn space_len(&self, at: usize) -> usize {
        match self.b.get(at) {
            Some(b' ' | b'\t') => 1,
            Some(&c) if c >= 0x80 => match self.char_at(at) {
                Some(ch) if is_unicode_space(ch) => ch.len_utf8(),
                _ => 0,
            },
            _ => 0,
        }
    }

    // ---- whitespace and comments -------------------------------------

    /// After `/*`: skips a (nested) block comment.
    fn block_comment(&mut self) -> Option<()> {
        self.pos += 2;
        let mut depth = 1usize;
        while depth > 0 {
            match self.b.get(self.pos)? {
                b'*' if self.peek_at(self.pos + 1) == Some(b'/') => {
                    depth -= 1;
                    self.pos += 2;
                }
                b'/' if self.peek_at(self.pos + 1) == Some(b'*') => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return None;
                    }
                    self.pos += 2;
                }
                _ => self.pos += 1,
            }
        }
        Some(())
    }

    /// After `//`: skips to and through the next newline (or to the end).
    fn line_comment(&mut self) {
        self.pos += 2;
        while self.pos < self.b.len() {
            let n = self.newline_len(self.pos);
            if n > 0 {
                self.pos += n;
                return;
            }
            self.pos += 1;
        }
    }

    /// `ws*`: unicode spaces and block comments.
    fn wss(&mut self) -> Option<bool> {
        let start = self.pos;
        loop {
            let n = self.space_len(self.pos);
            if n > 0 {
                self.pos += n;
            } else if self.starts(self.pos, b"/*") {
                self.block_comment()?;
            } else {
                return Some(self.pos > start);
            }
        }
    }

    /// `escline := '\' ws* (single-line-comment | newline | eof)`, then `ws*`.
    /// Leaves the position alone when there is none.
    fn escline(&mut self) -> Option<bool> {
        if self.peek() != Some(b'\\') {
            return Some(false);
        }
        let save = self.pos;
        self.pos += 1;
        self.wss()?;
        if self.starts(self.pos, b"//") {
            self.line_comment();
        } else if self.newline_len(self.pos) > 0 {
            self.pos += self.newline_len(self.pos);
        } else if !self.eof() {
            self.pos = save;
            return Some(false);
        }
        self.wss()?;
        Some(true)
    }

    /// `node-space*`; says whether it consumed anything.
    fn node_space0(&mut self) -> Option<bool> {
        let start = self.pos;
        loop {
            let before = self.pos;
            self.wss()?;
            self.escline()?;
            if self.pos == before {
                return Some(self.pos > start);
            }
        }
    }

    /// `line-space*` (the same as `(node-space | line-space)*`).
    fn line_space0(&mut self) -> Option<()> {
        loop {
            self.node_space0()?;
            let n = self.newline_len(self.pos);
            if n > 0 {
                self.pos += n;
            } else if self.starts(self.pos, b"//") {
                self.line_comment();
            } else {
                return Some(());
            }
        }
    }

    /// Whether a value may end here (kdl's `value_terminator`).
    fn at_value_terminator(&self) -> bool {
        let at = self.pos;
        match self.b.get(at) {
            None => true,
            Some(b'=' | b')' | b'{' | b'}' | b';') => true,
            Some(b'/') => matches!(self.peek_at(at + 1), Some(b'/' | b'*')),
            Some(b'\\') => {
                let mut probe = Cursor {
                    b: self.b,
                    s: self.s,
                    pos: at,
                };
                // An unterminated comment in it is an error either way.
                probe.escline().unwrap_or(true)
            }
            _ => self.space_len(at) > 0 || self.newline_len(at) > 0,
        }
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
            match sink.as_mut() {
                Some(sink) => sink(node),
                None => self.nodes.push(node),
            }
            match self.peek() {
                None | Some(b'}') => continue,
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

impl Cursor<'_> {
    // ---- numbers -----------------------------------------------------

    /// `digit (digit | '_')*` in `radix`, as kdl reads it: the digits must
    /// fit an i128 (also for a float's fraction and exponent).
    fn digits(&mut self, radix: u32) -> Option<i128> {
        let start = self.pos;
        let first = self.peek()?;
        if !(first as char).is_digit(radix) {
            return None;
        }
        let mut clean = String::new();
        while let Some(c) = self.peek() {
            if c == b'_' {
            } else if (c as char).is_digit(radix) {
                clean.push(c as char);
            } else {
                break;
            }
            self.pos += 1;
        }
        debug_assert!(self.pos > start);
        i128::from_str_radix(&clean, radix).ok()
    }

    fn number(&mut self) -> Option<KdlValue> {
        let start = self.pos;
        let negative = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                true
            }
            Some(b'+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        let radix = match (self.peek(), self.peek_at(self.pos + 1)) {
            (Some(b'0'), Some(b'x' | b'X')) => 16,
            (Some(b'0'), Some(b'o' | b'O')) => 8,
            (Some(b'0'), Some(b'b' | b'B')) => 2,
            _ => 10,
        };
        let value = if radix == 10 {
            self.digits(10)?;
            let mut float = false;
            if self.peek() == Some(b'.') {
                self.pos += 1;
                self.digits(10)?;
                float = true;
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.pos += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
                self.digits(10)?;
                float = true;
            }
            let text = &self.s[start..self.pos];
            if float {
                KdlValue::Float(text.replace('_', "").parse().ok()?)
            } else {
                let magnitude = text.replace(['_', '+', '-'], "").parse::<i128>().ok()?;
                KdlValue::Integer(if negative { -magnitude } else { magnitude })
            }
        } else {
            self.pos += 2;
            let magnitude = self.digits(radix)?;
            KdlValue::Integer(if negative { -magnitude } else { magnitude })
        };
        self.at_value_terminator().then_some(value)
    }

    // ---- strings -----------------------------------------------------

    /// `identifier-string | quoted-string | raw-string`, followed by a value
    /// terminator. `Some(None)`: no string starts here (nothing consumed).
    fn string(&mut self) -> Option<Option<String>> {
        let value = match self.peek() {
            None => return Some(None),
            Some(b'"') => self.quoted()?,
            Some(b'#') => {
                let mut at = self.pos;
                while self.peek_at(at) == Some(b'#') {
                    at += 1;
                }
                if self.peek_at(at) != Some(b'"') {
                    return Some(None);
                }
                self.raw(at - self.pos)?
            }
            Some(_) => match self.identifier_string()? {
                Some(s) => s,
                None => return Some(None),
            },
        };
        self.at_value_terminator().then_some(Some(value))
    }

    fn identifier_string(&mut self) -> Option<Option<String>> {
        let start = self.pos;
        let first = self.char_at(start)?;
        if !is_identifier_char(first) || first.is_ascii_digit() {
            return Some(None);
        }
        let mut at = start;
        if first == '+' || first == '-' {
            at += 1;
        }
        if self.peek_at(at) == Some(b'.') {
            at += 1;
        }
        if at > start && matches!(self.peek_at(at), Some(b'0'..=b'9')) {
            return Some(None);
        }
        while let Some(c) = self.char_at(at) {
            if !is_identifier_char(c) {
                break;
            }
            at += c.len_utf8();
        }
        let s = &self.s[start..at];
        if matches!(s, "true" | "false" | "null" | "inf" | "-inf" | "nan") {
            return None;
        }
        self.pos = at;
        Some(Some(s.to_owned()))
    }

    /// `\` escapes other than whitespace escapes; the position is at `\`.
    fn escape(&mut self, out: &mut String) -> Option<()> {
        let c = match self.peek_at(self.pos + 1)? {
            b'\\' => '\\',
            b'"' => '"',
            b'b' => '\u{0008}',
            b'f' => '\u{000C}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b's' => ' ',
            b'u' => {
                if self.peek_at(self.pos + 2) != Some(b'{') {
                    return None;
                }
                let hex_start = self.pos + 3;
                let mut at = hex_start;
                while at < hex_start + 6 && self.peek_at(at).is_some_and(|c| c.is_ascii_hexdigit())
                {
                    at += 1;
                }
                if at == hex_start || self.peek_at(at) != Some(b'}') {
                    return None;
                }
                let code = u32::from_str_radix(&self.s[hex_start..at], 16).ok()?;
                out.push(char::from_u32(code)?);
                self.pos = at + 1;
                return Some(());
            }
            _ => return None,
        };
        out.push(c);
        self.pos += 2;
        Some(())
    }

    /// Whether a whitespace escape (`\` then unicode space or newline) starts here.
    fn at_ws_escape(&self) -> bool {
        self.peek() == Some(b'\\')
            && (self.space_len(self.pos + 1) > 0 || self.newline_len(self.pos + 1) > 0)
    }

    fn quoted(&mut self) -> Option<String> {
        if self.starts(self.pos, b"\"\"\"") {
            return self.multiline_quoted();
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy a run of plain ASCII at once.
            let run = self.pos;
            while let Some(&c) = self.b.get(self.pos) {
                if (0x20..0x80).contains(&c) && c != b'"' && c != b'\\' && c != 0x7F {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            out.push_str(&self.s[run..self.pos]);
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' if self.at_ws_escape() => {
                    self.pos += 1;
                    loop {
                        let n = self.space_len(self.pos).max(self.newline_len(self.pos));
                        if n == 0 {
                            break;
                        }
                        self.pos += n;
                    }
                }
                b'\\' => self.escape(&mut out)?,
                _ => {
                    let c = self.char_at(self.pos)?;
                    if is_newline_char(c) || is_disallowed(c) {
                        return None;
                    }
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// The lines of a multi-line string body, from just after the opening
    /// newline: the byte ranges of each line before the closing one, and
    /// the closing line's indentation. `closing` is `"""` plus the hashes.
    fn multiline_lines(&self, closing: &[u8], raw: bool) -> Option<MultilineBody> {
        let mut lines = Vec::new();
        let mut at = self.pos;
        loop {
            // Is this the closing line?
            let mut ws = at;
            while self.space_len(ws) > 0 {
                ws += self.space_len(ws);
            }
            if self.starts(ws, closing) {
                return Some((lines, at, ws));
            }
            // A body line: up to its newline.
            let start = at;
            loop {
                let c = self.char_at(at)?;
                if is_newline_char(c) {
                    break;
                }
                if is_disallowed(c) {
                    return None;
                }
                if self.starts(at, closing) {
                    return None;
                }
                if !raw && c == '\\' {
                    // Escapes are checked when the line is read; skip the
                    // escaped character so `\"""` is not taken as closing.
                    at += 1;
                    let next = self.char_at(at)?;
                    if is_newline_char(next) {
                        return None;
                    }
                    at += next.len_utf8();
                    continue;
                }
                at += c.len_utf8();
            }
            lines.push((start, at));
            at += self.newline_len(at);
        }
    }

    /// `"""` newline, lines, then the closing line's whitespace and `"""`.
    fn multiline_quoted(&mut self) -> Option<String> {
        self.pos += 3;
        let n = self.newline_len(self.pos);
        if n == 0 {
            return None;
        }
        self.pos += n;
        let (lines, close_start, close_quotes) = self.multiline_lines(b"\"\"\"", false)?;
        let prefix = &self.s[close_start..close_quotes];
        let mut out = String::new();
        for (i, &(start, end)) in lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let line = &self.s[start..end];
            if line.chars().all(is_unicode_space) {
                continue;
            }
            let body = line.strip_prefix(prefix)?;
            let body_start = end - body.len();
            let mut p = Cursor {
                b: self.b,
                s: self.s,
                pos: body_start,
            };
            while p.pos < end {
                match p.peek()? {
                    // Whitespace escapes (which may join lines, or make a
                    // line read as empty) are left to the fallback.
                    b'\\' if p.at_ws_escape() => return None,
                    b'\\' => p.escape(&mut out)?,
                    b'"' if p.starts(p.pos, b"\"\"\"") => return None,
                    _ => {
                        let c = p.char_at(p.pos)?;
                        out.push(c);
                        p.pos += c.len_utf8();
                    }
                }
            }
            if p.pos != end {
                return None;
            }
        }
        self.pos = close_quotes + 3;
        Some(out)
    }

    /// At the first `"` after `hashes` `#`s.
    fn raw(&mut self, hashes: usize) -> Option<String> {
        self.pos += hashes;
        let mut closing = Vec::with_capacity(3 + hashes);
        if self.starts(self.pos, b"\"\"\"") && self.newline_len(self.pos + 3) > 0 {
            self.pos += 3;
            self.pos += self.newline_len(self.pos);
            closing.extend_from_slice(b"\"\"\"");
            closing.extend(std::iter::repeat_n(b'#', hashes));
            let (lines, close_start, close_quotes) = self.multiline_lines(&closing, true)?;
            let prefix = &self.s[close_start..close_quotes];
            let mut out = String::new();
            for (i, &(start, end)) in lines.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                let line = &self.s[start..end];
                let rest = line.trim_start_matches(is_unicode_space);
                if rest.starts_with('\\') {
                    // `\` + whitespace at the start may read as an empty
                    // line in kdl; not worth the risk.
                    return None;
                }
                if rest.is_empty() {
                    continue;
                }
                out.push_str(line.strip_prefix(prefix)?);
            }
            self.pos = close_quotes + closing.len();
            return Some(out);
        }
        // Single-line: up to the first `"` followed by the hashes.
        self.pos += 1;
        closing.push(b'"');
        closing.extend(std::iter::repeat_n(b'#', hashes));
        let start = self.pos;
        loop {
            if self.starts(self.pos, &closing) {
                break;
            }
            let c = self.char_at(self.pos)?;
            if is_newline_char(c) || is_disallowed(c) {
                return None;
            }
            self.pos += c.len_utf8();
        }
        let body = &self.s[start..self.pos];
        self.pos += closing.len();
        if body == "\"" {
            return None;
        }
        Some(body.to_owned())
    }
}
