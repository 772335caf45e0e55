//! The lexical level of the fast KDL parser: a cursor over the text,
//! character classes, whitespace, comments, value terminators and numbers.

use kdl::KdlValue;

/// Deeper nesting (children blocks, block comments) goes to the fallback.
pub(super) const MAX_DEPTH: usize = 200;

/// The text and a position in it: the lexical level.
pub(super) struct Cursor<'a> {
    pub(super) s: &'a str,
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
}

pub(super) fn is_unicode_space(c: char) -> bool {
    matches!(
        c,
        '\u{0009}' | '\u{0020}' | '\u{00A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

pub(super) fn is_newline_char(c: char) -> bool {
    matches!(
        c,
        '\r' | '\n' | '\u{0085}' | '\u{000B}' | '\u{000C}' | '\u{2028}' | '\u{2029}'
    )
}

/// kdl's disallowed literal code points, plus U+007F, which kdl 6.7 accepts
/// although the KDL spec does not: left to the fallback.
pub(super) fn is_disallowed(c: char) -> bool {
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

impl Cursor<'_> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    pub(super) fn peek_at(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    pub(super) fn starts(&self, at: usize, pat: &[u8]) -> bool {
        self.b.get(at..at + pat.len()) == Some(pat)
    }

    pub(super) fn char_at(&self, at: usize) -> Option<char> {
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
    pub(super) fn newline_len(&self, at: usize) -> usize {
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
    pub(super) fn space_len(&self, at: usize) -> usize {
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
    pub(super) fn line_comment(&mut self) {
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
    pub(super) fn node_space0(&mut self) -> Option<bool> {
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
    pub(super) fn line_space0(&mut self) -> Option<()> {
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
    pub(super) fn at_value_terminator(&self) -> bool {
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

    pub(super) fn number(&mut self) -> Option<KdlValue> {
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
}
