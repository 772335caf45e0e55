//! Strings for the fast KDL parser: identifier, quoted, multi-line and
//! raw strings and their escapes, read exactly as kdl 6.7 reads them.

use crate::syntax::fastkdl::lexer::{Cursor, is_disallowed, is_newline_char, is_unicode_space};

/// A multi-line string's body lines (byte ranges, before the closing line),
/// the closing line's start and the offset of its closing quotes.
type MultilineBody = (Vec<(usize, usize)>, usize, usize);

fn is_identifier_char(c: char) -> bool {
    !(matches!(
        c,
        '\\' | '/' | '(' | ')' | '{' | '}' | '[' | ']' | ';' | '"' | '#' | '='
    ) || is_unicode_space(c)
        || is_newline_char(c)
        || is_disallowed(c))
}

impl Cursor<'_> {
    /// `identifier-string | quoted-string | raw-string`, followed by a value
    /// terminator. `Some(None)`: no string starts here (nothing consumed).
    pub(super) fn string(&mut self) -> Option<Option<String>> {
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
                if i == 0 && rest.starts_with('"') {
                    // kdl 6.7 refuses a first line of just `"` (found by
                    // the random documents); not worth telling apart.
                    return None;
                }
                if rest.is_empty() {
                    continue;
                }
                out.push_str(line.strip_prefix(prefix)?);
            }
            // kdl refuses a raw string whose value is one `"`, however
            // it is written (see the single-line case below).
            if out == "\"" {
                return None;
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
