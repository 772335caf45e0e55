//! Checks on single spec values: names, paths, ports, users, durations.
//!
//! Each check reports an `invalid-value` (or `image-ref`, `outside-context`)
//! diagnostic at the value's span. Checks are deliberately strict: a value
//! that passes can be written into any backend without surprises.

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
pub use crate::base::keywords::is_url;
use crate::base::word::Word;
use crate::frontend::ast::Spanned;
use crate::frontend::reference;

mod report;
#[cfg(test)]
mod tests;
mod timing;

use crate::frontend::values::report::invalid;

#[cfg(test)]
use timing::duration_ns;
pub use timing::{check_duration, check_retries, check_signal};

/// Joins a destination onto the working directory, as the builder does
/// (`..` stops at `/`). The flow rules share it.
pub(crate) fn absolute(workdir: &str, to: &str) -> String {
    let joined = if to.starts_with('/') {
        to.to_owned()
    } else {
        format!("{}/{to}", workdir.trim_end_matches('/'))
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Stage, image, artifact and step names: lowercase, so they are valid
/// Dockerfile stage names, and dot-free, so `stage.artifact` is unambiguous.
pub fn check_name(name: &Spanned<String>, what: &str, d: &mut Diagnostics) {
    let s = name.as_str();
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok && (s == "scratch" || s == "context") {
        invalid(
            d,
            name,
            format!("`{s}` is a reserved name"),
            "reserved by the Dockerfile syntax",
            "`scratch` is the empty image and `context` the build context; pick another name",
        );
        return;
    }
    if !ok {
        let suggestion: String = s
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        invalid(
            d,
            name,
            format!("`{s}` is not a valid {what} name"),
            "invalid name",
            &format!(
                "names start with a lowercase letter and use only a-z, 0-9, `-` and `_`; for example `{}`",
                suggestion.trim_start_matches(|c: char| !c.is_ascii_lowercase())
            ),
        );
    }
}

pub fn check_variable_name(name: &Spanned<String>, d: &mut Diagnostics) {
    let s = name.as_str();
    let ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        invalid(
            d,
            name,
            format!("`{}` is not a valid variable name", s.escape_debug()),
            "invalid name",
            "variable names use letters, digits and `_`, and do not start with a digit",
        );
    }
}

pub fn check_label_key(key: &Spanned<String>, d: &mut Diagnostics) {
    let s = key.as_str();
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'));
    if !ok {
        invalid(
            d,
            key,
            format!("`{}` is not a valid label key", s.escape_debug()),
            "invalid key",
            "label keys use letters, digits, `.`, `-`, `_` and `/`, like `org.opencontainers.image.source`",
        );
    }
}

fn is_user_word(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `user`, `user:group`, `uid` or `uid:gid`.
pub fn check_user(user: &Spanned<String>, d: &mut Diagnostics) {
    let mut parts = user.value.splitn(2, ':');
    let ok = parts.next().is_some_and(is_user_word) && parts.next().is_none_or(is_user_word);
    if !ok {
        invalid(
            d,
            user,
            format!("`{}` is not a user", user.value.escape_debug()),
            "invalid user",
            "write a name or number, optionally with a group: `nonroot`, `1000:1000`, `app:app`",
        );
    }
}

pub fn check_chmod(mode: &Spanned<String>, d: &mut Diagnostics) {
    let s = mode.as_str();
    let ok = (3..=4).contains(&s.len()) && s.chars().all(|c| ('0'..='7').contains(&c));
    if !ok {
        invalid(
            d,
            mode,
            format!("`{}` is not an octal file mode", s.escape_debug()),
            "invalid mode",
            "write three or four octal digits, such as \"0755\" or \"644\"",
        );
    }
}

pub fn check_platform(platform: &Spanned<String>, d: &mut Diagnostics) {
    let s = platform.as_str();
    if s == "$BUILDPLATFORM" || s == "$TARGETPLATFORM" {
        return;
    }
    let parts: Vec<&str> = s.split('/').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    if !ok {
        invalid(
            d,
            platform,
            format!("`{}` is not a platform", s.escape_debug()),
            "invalid platform",
            "write os/arch[/variant], such as \"linux/amd64\" or \"linux/arm64/v8\", or \"$BUILDPLATFORM\"",
        );
    }
}

/// A platform an image is built for (`platforms`): `os/arch[/variant]`,
/// never a variable.
pub fn check_target_platform(platform: &Spanned<String>, d: &mut Diagnostics) {
    if platform.value.starts_with('$') {
        invalid(
            d,
            platform,
            format!(
                "`{}` is not a target platform",
                platform.value.escape_debug()
            ),
            "a variable",
            "`platforms` lists what to build, such as \"linux/amd64\" \"linux/arm64\"; `$BUILDPLATFORM` belongs in `platform`",
        );
        return;
    }
    check_platform(platform, d);
}

/// Paths inside an image: absolute, one line.
pub fn check_absolute_path(path: &Spanned<String>, d: &mut Diagnostics) {
    if !path.value.starts_with('/') || has_control(&path.value) {
        invalid(
            d,
            path,
            format!("`{}` is not an absolute path", path.value.escape_debug()),
            "needs an absolute path",
            "paths inside an image start with `/` and hold no control characters",
        );
    }
}

/// A copy destination: absolute, or relative to the working directory.
pub fn check_destination(path: &Spanned<String>, d: &mut Diagnostics) {
    if path.value.is_empty() || has_control(&path.value) {
        invalid(
            d,
            path,
            format!("`{}` is not a destination path", path.value.escape_debug()),
            "invalid destination",
            "write a path such as \"/app/\" or \"./\"; end it with `/` for a directory",
        );
    }
}

/// Paths in the build context: relative, and never outside it.
pub fn check_context_path(path: &Spanned<String>, d: &mut Diagnostics) {
    let s = path.as_str();
    if s.is_empty() || has_control(s) {
        invalid(
            d,
            path,
            format!("`{}` is not a context path", s.escape_debug()),
            "invalid path",
            "write a path relative to the build context, such as \"src/\" or \"go.mod\"",
        );
        return;
    }
    let escapes = s.starts_with('/') || s.split('/').any(|part| part == "..");
    if escapes {
        d.push(
            Diagnostic::error(
                Code::OutsideContext,
                format!("`{s}` is outside the build context"),
            )
            .primary(path.span, "reaches outside the context")
            .help("a build can only read files under its context directory; move the file in, or widen the context"),
        );
    }
}

/// A path read from another stage or an image (`bind stage=`, `copy
/// image=`, an artifact): no `..` segment. BuildKit stops `..` at the
/// stage's root, but the Buildah script would hand the path to the host's
/// kernel, where it climbs out; a path never needs one.
pub fn check_no_parent(path: &Spanned<String>, d: &mut Diagnostics) {
    let s = path.as_str();
    if s.split('/').any(|part| part == "..") {
        d.push(
            Diagnostic::error(
                Code::OutsideContext,
                format!("`{}` climbs out with `..`", s.escape_debug()),
            )
            .primary(path.span, "a `..` segment")
            .help(
                "write the path without `..`: it is read inside the stage or image, from its `/`",
            ),
        );
    }
}

/// A volume path: buildah's `--volume` splits on `,` and reads a trailing
/// `-` as "remove this volume", so neither can reach the Buildah script;
/// both backends refuse them, so that a spec builds the same image either way.
pub fn check_volume_path(path: &Spanned<String>, d: &mut Diagnostics) {
    let s = path.as_str();
    let why = if s.contains(',') {
        "buildah splits `--volume` on `,`"
    } else if s.ends_with('-') {
        "buildah reads a trailing `-` as \"remove this volume\""
    } else {
        return;
    };
    invalid(
        d,
        path,
        format!("`{}` cannot be a volume path", s.escape_debug()),
        why,
        "volume paths hold no `,` and do not end in `-` (end it with `/` instead)",
    );
}

/// Ids and paths inside `--mount=` options. The option syntax is CSV, so
/// commas, quotes and spaces cannot be carried safely; we reject them.
pub fn check_mount_word(word: &Spanned<String>, d: &mut Diagnostics) {
    let bad = word.value.chars().find(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, ',' | '"' | '\'' | '=' | '$' | '\\')
    });
    if let Some(c) = bad {
        invalid(
            d,
            word,
            format!("a mount option cannot hold {:?}", c),
            "unsafe in a mount option",
            "mount ids and paths may not contain spaces, commas, quotes, `=`, `$` or backslashes",
        );
    }
}

/// Checks an output path and writes it the one way: `.` segments go
/// (`./Dockerfile` is `Dockerfile`), so that two names of one file are
/// found duplicate at the spec. The span stays the written path's.
pub fn check_output_path(path: &mut Spanned<String>, d: &mut Diagnostics) {
    let s = path.as_str();
    let ok = !s.is_empty()
        && !s.starts_with('/')
        && !has_control(s)
        && !s.split('/').any(|p| p == ".." || p.is_empty());
    let folder = matches!(s, "." | "./");
    if folder || (ok && s.split('/').all(|p| p == ".")) {
        invalid(
            d,
            path,
            format!("`{}` is the spec's folder, not a file", s.escape_debug()),
            "a directory",
            "an output is one file, written whole: name it, such as \"Dockerfile\"",
        );
        return;
    }
    if !ok {
        invalid(
            d,
            path,
            format!("`{}` is not an output path", s.escape_debug()),
            "invalid output path",
            "outputs are written next to the spec: use a relative path such as \"Dockerfile\"",
        );
        return;
    }
    if s.split('/').any(|p| p == ".") {
        path.value = s
            .split('/')
            .filter(|p| *p != ".")
            .collect::<Vec<_>>()
            .join("/");
    }
}

pub fn check_checksum(checksum: &Spanned<String>, d: &mut Diagnostics) {
    let ok = checksum.value.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    });
    if !ok {
        invalid(
            d,
            checksum,
            "the checksum is not `sha256:` and 64 lowercase hex digits".into(),
            "invalid checksum",
            "write checksum=\"sha256:<64 hex digits>\"",
        );
    }
}

/// Image references, checked with the distribution grammar by hand
/// ([`reference`]): oci-spec's regular expression, slow to compile, is
/// only asked for the message of a refused one.
pub fn check_image_ref(image: &Spanned<String>, d: &mut Diagnostics) {
    let s = image.as_str();
    if s == "scratch" || reference::is_reference(s) {
        return;
    }
    let error = match s.parse::<oci_spec::distribution::Reference>() {
        Err(error) => error.to_string(),
        // A tag with a non-ASCII letter: oci-spec's `\w` is Unicode.
        Ok(_) => "invalid reference format".to_owned(),
    };
    let help = if s.chars().any(|c| c.is_ascii_uppercase()) {
        "repository names are lowercase: `ghcr.io/acme/api:1.0`".to_owned()
    } else {
        "write [registry/]repository[:tag][@sha256:digest], such as \"golang:1.22.5-bookworm\""
            .to_owned()
    };
    d.push(
        Diagnostic::error(
            Code::ImageRef,
            format!("`{}` is not an image reference: {error}", s.escape_debug()),
        )
        .primary(image.span, "malformed image reference")
        .help(help),
    );
}

/// An image reference naming build arguments: it must be a reference
/// with every argument as a tag-like word, or as a digest's hex.
pub fn check_image_ref_word(image: &Spanned<Word>, d: &mut Diagnostics) {
    let fits = |placeholder: &str| {
        let text = image.value.expand(|_| placeholder.to_owned());
        reference::is_reference(&text)
    };
    if fits("x") || fits(&"0".repeat(64)) {
        return;
    }
    let text = Spanned::new(image.value.expand(|_| "x".to_owned()), image.span);
    check_image_ref(&text, d);
}

/// A name to tag a built image with: a reference without a digest.
pub fn check_tag(tag: &Spanned<String>, d: &mut Diagnostics) {
    check_image_ref(tag, d);
    if tag.value.contains('@') {
        d.push(
            Diagnostic::error(Code::ImageRef, format!("`{}` has a digest", tag.value))
                .primary(
                    tag.span,
                    "a digest names content that exists; a build cannot choose it",
                )
                .help("tag with a name and tag only, such as \"ghcr.io/acme/api:1.0\""),
        );
    }
}

/// Several sources can only go into a directory, written with a final `/`.
pub fn check_directory_destination(sources: usize, to: &Spanned<String>, d: &mut Diagnostics) {
    if sources > 1 && !to.value.ends_with('/') {
        invalid(
            d,
            to,
            format!(
                "{sources} sources cannot all be copied to `{}`",
                to.value.escape_debug()
            ),
            "not a directory",
            &format!(
                "end the destination with `/` to copy into a directory: to=\"{}/\"",
                to.value.escape_debug()
            ),
        );
    }
}

/// Among several sources each directory keeps its name (`DEST/NAME/`), so
/// a directory glob (`pkg-*/`) there has no one name to keep: refused,
/// rather than merged into `DEST` by the builder.
pub fn check_directory_globs<'a>(
    paths: impl IntoIterator<Item = &'a Spanned<String>>,
    sources: usize,
    d: &mut Diagnostics,
) {
    if sources < 2 {
        return;
    }
    for path in paths {
        let Some(dir) = path.value.strip_suffix('/') else {
            continue;
        };
        let name = dir.rsplit('/').next().unwrap_or(dir);
        if name.contains(['*', '?', '[']) {
            invalid(
                d,
                path,
                format!(
                    "`{}` is a directory glob among {sources} sources",
                    path.value.escape_debug()
                ),
                "matches directories that have no one name to keep",
                "among several sources each directory keeps its name: list the directories by name, or copy the glob on its own (each match's contents go to the destination)",
            );
        }
    }
}

/// Whether a glob comes before the last `/` (`packages/*/package.json`):
/// only `COPY --parents` keeps each match's place.
pub fn has_directory_glob(path: &str) -> bool {
    path.trim_end_matches('/')
        .rsplit_once('/')
        .is_some_and(|(dir, _)| dir.contains(['*', '?', '[']))
}

/// An input with `to=` goes to one destination, where the matches of a
/// glob in a directory would lose their places (and could collide), so
/// such a glob keeps its place only without `to=`.
pub fn check_input_glob(path: &Spanned<String>, d: &mut Diagnostics) {
    if has_directory_glob(&path.value) {
        invalid(
            d,
            path,
            format!(
                "`{}` has a glob in its directory part and a destination",
                path.value.escape_debug()
            ),
            "glob before the last `/`",
            "drop `to=` so that each match keeps its place (COPY --parents), or list the files",
        );
    }
}

/// `exclude="PATTERN..."`: patterns separated by spaces, each relative to
/// the copied directory and written as a bare Dockerfile flag value, so
/// no quote, `$`, `\`, `,` or `=`, and never outside the context.
pub fn exclude_patterns(value: Option<Spanned<String>>, d: &mut Diagnostics) -> Vec<String> {
    let Some(value) = value else {
        return Vec::new();
    };
    let patterns: Vec<String> = value.value.split_whitespace().map(str::to_owned).collect();
    if patterns.is_empty() {
        invalid(
            d,
            &value,
            "`exclude` names no pattern".to_owned(),
            "empty",
            "write one or more patterns separated by spaces, such as exclude=\"*.test.js docs/\"",
        );
    }
    for pattern in &patterns {
        let bad = pattern
            .chars()
            .find(|c| c.is_control() || matches!(c, ',' | '"' | '\'' | '=' | '$' | '\\'));
        if let Some(c) = bad {
            invalid(
                d,
                &value,
                format!(
                    "the exclude pattern `{}` holds {c:?}",
                    pattern.escape_debug()
                ),
                "unsafe in a Dockerfile flag",
                "exclude patterns may not contain quotes, commas, `=`, `$` or backslashes",
            );
        } else if pattern.starts_with('/') || pattern.split('/').any(|p| p == "..") {
            invalid(
                d,
                &value,
                format!(
                    "the exclude pattern `{}` is not relative",
                    pattern.escape_debug()
                ),
                "an absolute path or `..`",
                "exclude patterns are relative to the copied directory, such as \"**/*.test.js\"",
            );
        }
    }
    patterns
}

/// An `(arg)` string: `${NAME}` refers to the build argument `NAME`, `$$`
/// is a dollar sign, and any other `$` is an error, so that no text is
/// ever read as a reference by accident.
pub fn parse_arg_word(text: &Spanned<String>, d: &mut Diagnostics) -> Option<Spanned<Word>> {
    let s = text.as_str();
    let mut word = Word::default();
    let mut rest = s;
    let mut ok = true;
    while let Some(at) = rest.find('$') {
        word.push_text(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            word.push_text("$");
            rest = tail;
            continue;
        }
        let name = after
            .strip_prefix('{')
            .and_then(|inner| inner.split_once('}'))
            .filter(|(name, _)| is_variable_name(name));
        match name {
            Some((name, tail)) => {
                word.push_arg(name);
                rest = tail;
            }
            None => {
                let written: String = after.chars().take(24).collect();
                let bare: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let help = if is_variable_name(&bare) {
                    format!(
                        "write `${{{bare}}}` to refer to the build argument `{bare}`, or `$$` for a dollar sign"
                    )
                } else {
                    "in an `(arg)` string, write `${NAME}` to refer to a build argument and `$$` for a dollar sign".to_owned()
                };
                invalid(
                    d,
                    text,
                    format!(
                        "`${}` is not a reference to a build argument",
                        written.escape_debug()
                    ),
                    "a `$` that is neither `${NAME}` nor `$$`",
                    &help,
                );
                ok = false;
                break;
            }
        }
    }
    if !ok {
        return None;
    }
    word.push_text(rest);
    Some(Spanned::new(word, text.span))
}

fn is_variable_name(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A check on a string, applied to an `(arg)` string: to its text with
/// each reference as `placeholder`, unless it starts with a reference and
/// the check is about its start (`skip_if_leading`).
pub fn check_word(
    word: &Spanned<Word>,
    skip_if_leading: bool,
    d: &mut Diagnostics,
    check: impl FnOnce(&Spanned<String>, &mut Diagnostics),
) {
    if skip_if_leading && word.value.starts_with_arg() {
        return;
    }
    let text = word.value.expand(|_| "x".to_owned());
    check(&Spanned::new(text, word.span), d);
}

/// A port naming build arguments: with each as `80`, `NUMBER[/tcp|/udp]`.
pub fn check_port_word(port: &Spanned<Word>, d: &mut Diagnostics) {
    let text = port.value.expand(|_| "80".to_owned());
    let (number, protocol) = text.split_once('/').unwrap_or((&text, "tcp"));
    let ok = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
        && matches!(protocol, "tcp" | "udp");
    if !ok {
        invalid(
            d,
            &Spanned::new(port.value.sketch(), port.span),
            format!("`{}` is not a port", port.value.sketch().escape_debug()),
            "not a port",
            "write a port number, or a build argument, optionally with /tcp or /udp: (arg)\"${PORT}\", (arg)\"${PORT}/udp\"",
        );
    }
}
