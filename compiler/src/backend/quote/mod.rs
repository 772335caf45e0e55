//! Quoting, one file for each target: every spec value reaches the output
//! through here. Each function writes text that its reader (BuildKit's
//! parser, bash, buildah's own parsers) reads back as exactly the value, or
//! refuses.

pub(crate) mod bash;
pub(crate) mod dockerfile;

/// A value for a comment in either target, always JSON-quoted so that no
/// character in it can end the comment.
pub(crate) fn comment_string(value: &str) -> String {
    serde_json::to_string(value).expect("strings serialize")
}

#[cfg(test)]
mod tests;
