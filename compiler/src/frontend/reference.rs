//! Image references, checked by hand against the distribution grammar
//! (`docker/distribution`'s `reference` package):
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [ domain "/" ] path-component [ "/" path-component ]*
//! domain           := domain-component [ "." domain-component ]* [ ":" port ]
//! domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! port             := [0-9]+
//! path-component   := [a-z0-9]+ [ separator [a-z0-9]+ ]*
//! separator        := "." | "_" | "__" | "-"+
//! tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest           := algorithm ":" hex      (sha256: 64, sha384: 96, sha512: 128 hex digits)
//! algorithm        := [A-Za-z][A-Za-z0-9]* [ [-_+.] [A-Za-z][A-Za-z0-9]* ]*
//! ```
//!
//! and the repository (the name without its domain, `library/` added for
//! a Docker Hub name of one component) at most 255 characters.
//!
//! `oci_spec::distribution::Reference` says the same with one regular
//! expression, whose compilation was most of a small spec's compile time.
//! It is this checker's oracle in a property test, and still gives the
//! message of a refused reference, so diagnostics read as they did. One
//! difference: oci-spec's `\w` in a tag is Unicode, Docker's (Go's) is
//! ASCII; this checker refuses a tag such as `été`, as Docker does.

#[cfg(test)]
mod tests;

/// Whether `s` is an image reference that Docker accepts.
pub fn is_reference(s: &str) -> bool {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    // A `:` after the last `/` starts the tag: a name holds `:` only in
    // its domain's port, which a `/` follows.
    let (name, tag) = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    is_name(name) && tag.is_none_or(is_tag) && digest.is_none_or(is_digest)
}

fn is_name(name: &str) -> bool {
    let fits = |path: &str| path.split('/').all(is_path_component);
    let valid = fits(name)
        || name
            .split_once('/')
            .is_some_and(|(domain, path)| is_domain(domain) && fits(path));
    valid && repository_len(name) <= 255
}

/// The length of the repository the way Docker splits a name: the first
/// component is a domain when it has a `.` or a `:` or is `localhost`.
fn repository_len(name: &str) -> usize {
    let (domain, repository) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
        _ => ("docker.io", name),
    };
    let hub = domain == "docker.io" || domain == "index.docker.io";
    if hub && !repository.contains('/') {
        "library/".len() + repository.len()
    } else {
        repository.len()
    }
}

fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return false;
    }
    // Every run of separator characters is `.`, `_`, `__` or dashes.
    bytes
        .split(alnum)
        .all(|run| matches!(run, b"" | b"." | b"_" | b"__") || run.iter().all(|b| *b == b'-'))
}

fn is_domain(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let is_component = |c: &str| {
        let bytes = c.as_bytes();
        bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    };
    host.split('.').all(is_component)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_tag(tag: &str) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let bytes = tag.as_bytes();
    (1..=128).contains(&bytes.len())
        && word(&bytes[0])
        && bytes.iter().all(|b| word(b) || matches!(b, b'.' | b'-'))
}

fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let length = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == length && hex.bytes().all(|b| b.is_ascii_hexdigit())
}
