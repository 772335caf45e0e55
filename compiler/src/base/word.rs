//! A value that may refer to build arguments: literal text and `${NAME}`
//! references, kept apart from the spec down to each backend's quoting, so
//! a literal `$` never becomes a reference and a reference never becomes
//! text.

use serde::Serialize;

/// The build arguments every builder defines by itself (BuildKit's
/// automatic platform arguments): a reference needs no `arg` for them.
pub const AUTOMATIC_ARGS: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

pub fn is_automatic(name: &str) -> bool {
    AUTOMATIC_ARGS.contains(&name)
}

/// One piece of a [`Word`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Piece {
    /// Text, taken literally (a `$` in it is a dollar sign).
    Text(String),
    /// The value of the build argument of this name.
    Arg(String),
}

/// Text with build-argument references. A word without references is
/// plain text; adjacent text pieces are always merged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Word {
    pieces: Vec<Piece>,
}

impl Word {
    pub fn text(text: impl Into<String>) -> Word {
        let mut word = Word::default();
        word.push_text(&text.into());
        word
    }

    pub fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.pieces.last_mut() {
            Some(Piece::Text(last)) => last.push_str(text),
            _ => self.pieces.push(Piece::Text(text.to_owned())),
        }
    }

    pub fn push_arg(&mut self, name: impl Into<String>) {
        self.pieces.push(Piece::Arg(name.into()));
    }

    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The text, when the word refers to no argument.
    pub fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Text(text)] => Some(text),
            _ => None,
        }
    }

    /// The arguments it refers to, in order (a name may repeat).
    pub fn args(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Arg(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }

    pub fn has_args(&self) -> bool {
        self.args().next().is_some()
    }

    /// Whether it starts with a reference (so nothing is known of its start).
    pub fn starts_with_arg(&self) -> bool {
        matches!(self.pieces.first(), Some(Piece::Arg(_)))
    }

    /// The text with each reference replaced by `value(name)`.
    pub fn expand(&self, mut value: impl FnMut(&str) -> String) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Arg(name) => out.push_str(&value(name)),
            }
        }
        out
    }

    /// The word as a Dockerfile spells it, `${NAME}` for a reference, for
    /// messages and for analyses that only need something to show.
    pub fn sketch(&self) -> String {
        self.expand(|name| format!("${{{name}}}"))
    }
}

/// A plain word shows as its string, so snapshots of specs without
/// references read as before.
impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_literal() {
            Some(text) => text.fmt(f),
            None => f.debug_list().entries(&self.pieces).finish(),
        }
    }
}

/// A plain word serializes as its string; one with references as a list
/// of its pieces (`["node:", {"Arg": "V"}]`).
impl Serialize for Word {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        if let Some(text) = self.as_literal() {
            return serializer.serialize_str(text);
        }
        let mut seq = serializer.serialize_seq(Some(self.pieces.len()))?;
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => seq.serialize_element(text)?,
                Piece::Arg(_) => seq.serialize_element(piece)?,
            }
        }
        seq.end()
    }
}
