//! Quoting for each place a value can land in a Buildah script.
//!
//! bash reads every value as a single-quoted word ([`bash_word`]). Where
//! buildah parses a value again, it is quoted for that parser first:
//! go-shellwords for `--shell` and `--healthcheck`, JSON for `--cmd` and
//! `--entrypoint`. `--mount` has no quoting at all, so a value it cannot
//! carry is refused by the emitter ([`is_mount_word`]).

use crate::backend::quote::{comment_string, dockerfile::json_array};

/// A single-quoted bash word that bash reads back as exactly `value`: every
/// character is literal inside single quotes, and a `'` is written `'\''`.
pub(crate) fn bash_word(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A word for go-shellwords, which buildah uses to split `--shell` and
/// `--healthcheck`: bare when it holds only characters shellwords never
/// treats specially, else single-quoted as for bash (shellwords reads `'`,
/// `\'` and everything between single quotes the same way).
fn shellwords_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c));
    if plain {
        value.to_owned()
    } else {
        bash_word(value)
    }
}

/// Words as one line that go-shellwords splits back into exactly them.
pub(crate) fn shellwords_line(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shellwords_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JSON array as one bash word: buildah reads `--cmd` and `--entrypoint`
/// as JSON first, and never expands anything in them.
pub(crate) fn json_word(words: &[String]) -> String {
    bash_word(&json_array(words))
}

/// A word of a command shown in a comment, for a reader to paste into a
/// shell: as is when it holds only `A-Z a-z 0-9 _ @ % + = : , . / -`,
/// JSON-quoted when it holds a control character (which could end the
/// comment), else single-quoted.
pub(crate) fn command_word(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_owned()
    } else if value.chars().any(char::is_control) {
        comment_string(value)
    } else {
        bash_word(value)
    }
}

/// A value for a comment: as is when it cannot end the comment, else JSON-quoted.
pub(crate) fn comment_word(value: &str) -> String {
    if value.chars().any(char::is_control) {
        comment_string(value)
    } else {
        value.to_owned()
    }
}

/// Whether a value can be one field of buildah's `--mount`, which has no way
/// to quote whitespace, control characters, `,`, `=` or quotes.
pub(crate) fn is_mount_word(word: &str) -> bool {
    !word.is_empty()
        && !word
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '=' | '"' | '\''))
}
