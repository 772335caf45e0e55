//! Quoting for each place a value can land in a Dockerfile.
//!
//! BuildKit reads three kinds of text: JSON arrays (exec form, SHELL), words
//! run through its shell-like lexer (ENV, LABEL, ARG, COPY, WORKDIR, ...),
//! and raw shell-form commands (RUN, CMD) that only the image's shell reads.
//! Each function here produces text that BuildKit reads back as exactly the
//! given value, or refuses.

use crate::base::word::{Piece, Word};

/// Why a value cannot be written at its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal(pub(crate) &'static str);

/// A JSON array of strings, for exec form and SHELL. Always possible:
/// JSON escapes newlines, quotes and backslashes, and BuildKit does not
/// expand variables in exec form.
pub(crate) fn json_array(words: &[String]) -> String {
    serde_json::to_string(words).expect("a list of strings always serializes")
}

/// A word for BuildKit's lexer: bare when it holds nothing the lexer
/// treats specially, else double-quoted with `\`, `"` and `$` escaped so
/// no variable is ever expanded. A line break cannot be carried: the
/// Dockerfile parser would end the instruction there.
pub(crate) fn word(value: &str) -> Result<String, Refusal> {
    if value.contains(['\n', '\r']) {
        return Err(Refusal(
            "a line break cannot be written in a Dockerfile word",
        ));
    }
    // `<<` could open a heredoc in COPY and ADD; inside quotes it cannot.
    // BuildKit's lexer reads a word through Go's text/scanner, which drops a
    // U+FEFF (byte order mark) at the start of its input: a quote keeps it.
    let bare = !value.is_empty()
        && !value.starts_with(['-', '[', '#', '\u{feff}'])
        && !value.contains("<<")
        && value.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !matches!(c, '"' | '\'' | '\\' | '$' | '`')
        });
    if bare {
        return Ok(value.to_owned());
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A list of paths for COPY, ADD and VOLUME. BuildKit splits their shell
/// form on whitespace before it lexes, so quotes cannot protect a space
/// there: when any path needs quoting, the whole list goes in JSON form,
/// each element lexer-quoted (BuildKit lexes JSON-form paths too).
pub(crate) fn path_list(paths: &[String]) -> Result<String, Refusal> {
    let words = paths
        .iter()
        .map(|p| word(p))
        .collect::<Result<Vec<_>, _>>()?;
    if words.iter().zip(paths).all(|(w, p)| w == p) {
        return Ok(words.join(" "));
    }
    Ok(json_array(&words))
}

/// Paths then a destination that may name build arguments: as
/// [`path_list`] when it names none, else in JSON form (BuildKit expands
/// `${NAME}` in JSON-form paths too).
pub(crate) fn copy_list(paths: &[String], dest: &Word) -> Result<String, Refusal> {
    if let Some(dest) = dest.as_literal() {
        let mut all = paths.to_vec();
        all.push(dest.to_owned());
        return path_list(&all);
    }
    let mut words = paths
        .iter()
        .map(|p| word(p))
        .collect::<Result<Vec<_>, _>>()?;
    let dest = arg_word(dest)?;
    let bare = !dest.starts_with('"') && words.iter().zip(paths).all(|(w, p)| w == p);
    words.push(dest);
    if bare {
        return Ok(words.join(" "));
    }
    Ok(json_array(&words))
}

/// Whether a script can be written as shell form on one line and read back
/// unchanged: BuildKit trims it, joins lines ending in `\`, reads `<<` as a
/// heredoc, a leading `[` as JSON and a leading `--` as a flag.
pub(crate) fn shell_form_ok(script: &str) -> bool {
    !script.is_empty()
        && script.trim() == script
        && !script.contains(['\n', '\r'])
        && !script.chars().any(|c| c.is_control() && c != '\t')
        && !script.ends_with('\\')
        && !script.contains("<<")
        && !script.starts_with('[')
        && !script.starts_with("--")
        && !script.starts_with('#')
}

/// A word that may name build arguments: as [`word`] when it names none,
/// else double-quoted with its text escaped as [`word`] escapes it and
/// each reference written `${NAME}`, the one thing BuildKit expands.
pub(crate) fn arg_word(value: &Word) -> Result<String, Refusal> {
    if let Some(text) = value.as_literal() {
        return word(text);
    }
    let safe = |c: char| {
        !c.is_whitespace() && !c.is_control() && !matches!(c, '"' | '\'' | '\\' | '$' | '`')
    };
    let bare = value
        .pieces()
        .iter()
        .enumerate()
        .all(|(i, piece)| match piece {
            Piece::Text(text) => {
                text.chars().all(safe)
                    && !text.contains("<<")
                    && !(i == 0 && text.starts_with(['-', '[', '#', '\u{feff}']))
            }
            Piece::Arg(_) => true,
        });
    if bare {
        return Ok(value.sketch());
    }
    let mut out = String::from("\"");
    for piece in value.pieces() {
        match piece {
            Piece::Text(text) => {
                if text.contains(['\n', '\r']) {
                    return Err(Refusal(
                        "a line break cannot be written in a Dockerfile word",
                    ));
                }
                for c in text.chars() {
                    if matches!(c, '\\' | '"' | '$') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Piece::Arg(name) => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
        }
    }
    out.push('"');
    Ok(out)
}
