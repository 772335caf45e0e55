//! What stowplan knows of a base image from its name alone: the C library
//! it ships (`flow::libc-mismatch`), whether it runs as root when no `user`
//! says otherwise (`flow::root-user`), and whether it has a shell
//! (`flow::no-shell`). One table, so that the rules agree on a name.
//!
//! | family | C library | root | shell |
//! | --- | --- | --- | --- |
//! | `scratch` | none | yes | no |
//! | `distroless` (any registry) | none for `static*`, else glibc | yes | only `debug` tags |
//! | `cgr.dev/chainguard/*` | the official image's of that name | only `dev` tags | `dev` tags, `wolfi-base`, `busybox` |
//! | the official images of `OFFICIAL` | their row's | their row's, on Docker Hub | yes |
//!
//! Tags speak for any image: `alpine` or `musl` is musl; `slim`, a Debian
//! or Ubuntu release or `glibc` is glibc when the name says nothing;
//! `nonroot` (and an `-unprivileged` repository) does not run as root.

use crate::middle::resolve::ImageRef;

/// The C library a base image ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Libc {
    Glibc,
    Musl,
    /// `scratch` and distroless `static`: nothing to link against.
    Nothing,
}

impl Libc {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
            Libc::Nothing => "no C library",
        }
    }
}

/// What is known of one base image. `None`: stowplan cannot tell, and the
/// rule that asks does not judge it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Known {
    pub(crate) libc: Option<Libc>,
    /// Whether it runs as root when no `user` says otherwise.
    pub(crate) root: Option<bool>,
    pub(crate) shell: Option<bool>,
}

/// An official image by its repository name: the C library of its default
/// variant, and whether it runs as root (all of them have a shell). A
/// `None` is a fact the rules have never claimed: filling one in adds
/// findings, so it is a change of its own.
struct Official {
    repo: &'static str,
    libc: Option<Libc>,
    root: Option<bool>,
}

const fn official(repo: &'static str, libc: Option<Libc>, root: Option<bool>) -> Official {
    Official { repo, libc, root }
}

const OFFICIAL: &[Official] = &[
    official("alpine", Some(Libc::Musl), Some(true)),
    official("debian", Some(Libc::Glibc), Some(true)),
    official("ubuntu", Some(Libc::Glibc), Some(true)),
    official("fedora", Some(Libc::Glibc), Some(true)),
    official("centos", Some(Libc::Glibc), None),
    official("rockylinux", Some(Libc::Glibc), None),
    official("almalinux", Some(Libc::Glibc), None),
    official("amazonlinux", Some(Libc::Glibc), None),
    // Its default tag may be glibc, musl or uClibc.
    official("busybox", None, Some(true)),
    // The default variants of the language images are Debian.
    official("golang", Some(Libc::Glibc), Some(true)),
    official("python", Some(Libc::Glibc), Some(true)),
    official("node", Some(Libc::Glibc), Some(true)),
    official("rust", Some(Libc::Glibc), Some(true)),
    official("openjdk", Some(Libc::Glibc), Some(true)),
    official("eclipse-temurin", Some(Libc::Glibc), Some(true)),
    official("maven", None, Some(true)),
    official("ruby", Some(Libc::Glibc), Some(true)),
    official("php", Some(Libc::Glibc), Some(true)),
    official("nginx", Some(Libc::Glibc), Some(true)),
    official("httpd", None, Some(true)),
];

/// Tag words that name the C library when the image's name does not.
const MUSL_TAGS: &[&str] = &["alpine", "musl"];
const GLIBC_TAGS: &[&str] = &[
    "bookworm", "bullseye", "buster", "trixie", "slim", "jammy", "noble", "focal", "glibc",
];

/// The families of the table above, most specific name first.
enum Family {
    Scratch,
    Chainguard,
    Distroless,
    Official,
    Unknown,
}

/// What the table says of `image`.
pub(crate) fn known(image: &ImageRef) -> Known {
    let (name, tag, repo) = (image.name.as_str(), image.tag_or_latest(), image.repo());
    let tagged = |words: &[&str]| words.iter().any(|w| tag.contains(w));
    // Found by the repository on any registry (a mirror, Chainguard's);
    // only its C library and shell are taken from there, though.
    let official = OFFICIAL.iter().find(|o| o.repo == repo);
    let family = if image.is_scratch() {
        Family::Scratch
    } else if name.starts_with("cgr.dev/chainguard/") {
        Family::Chainguard
    } else if name.contains("distroless") {
        Family::Distroless
    } else if official.is_some() {
        Family::Official
    } else {
        Family::Unknown
    };
    let official_libc = official.and_then(|o| o.libc);
    let libc = match family {
        Family::Scratch => Some(Libc::Nothing),
        _ if tagged(MUSL_TAGS) => Some(Libc::Musl),
        // Chainguard's images are named after the official ones they stand for.
        _ if official_libc.is_some() => official_libc,
        Family::Distroless if repo.starts_with("static") => Some(Libc::Nothing),
        Family::Distroless => Some(Libc::Glibc),
        _ if tagged(GLIBC_TAGS) => Some(Libc::Glibc),
        _ => None,
    };
    // Who runs it only from Docker Hub's names: `example.com/node` may be
    // someone else's image.
    let hub = !name.contains('/') || name.starts_with("docker.io/library/");
    let root = match family {
        Family::Scratch => Some(true),
        _ if tag.contains("nonroot") || repo.contains("unprivileged") => Some(false),
        Family::Chainguard => Some(tag.contains("dev")),
        Family::Distroless => Some(true),
        Family::Official if hub => official.and_then(|o| o.root),
        _ => None,
    };
    let shell = match family {
        Family::Scratch => Some(false),
        // Distroless `debug` tags carry busybox.
        Family::Distroless => Some(tag.contains("debug")),
        Family::Chainguard => {
            Some(tag.contains("dev") || ["wolfi-base", "busybox"].contains(&repo))
        }
        Family::Official => Some(true),
        Family::Unknown => None,
    };
    Known { libc, root, shell }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::source::Spanned;

    /// An image name and what the table says of it: its C library (`glibc`,
    /// `musl`, `none`), `root` or `user`, `shell` or `no-shell`; `?` where
    /// it cannot tell.
    const CASES: &[(&str, &str)] = &[
        ("scratch", "none root no-shell"),
        // Official images on Docker Hub.
        ("alpine:3.20", "musl root shell"),
        ("golang", "glibc root shell"),
        ("docker.io/library/node:22", "glibc root shell"),
        // A tag names the variant's C library.
        ("golang:1.22-alpine", "musl root shell"),
        ("busybox:musl", "musl root shell"),
        ("busybox:glibc", "glibc root shell"),
        // Rows that claim less than they could.
        ("busybox", "? root shell"),
        ("httpd:2.4", "? root shell"),
        ("centos:7", "glibc ? shell"),
        // Elsewhere an official name keeps its C library, not its user.
        ("localhost:5000/python:3.12-slim", "glibc ? shell"),
        ("example.com/node", "glibc ? shell"),
        // Names that say who runs it.
        ("node:22-nonroot", "glibc user shell"),
        ("nginxinc/nginx-unprivileged", "? user ?"),
        // Distroless: `static` has no C library, `debug` tags a shell.
        (
            "gcr.io/distroless/static-debian12:nonroot",
            "none user no-shell",
        ),
        ("gcr.io/distroless/cc-debian12", "glibc root no-shell"),
        ("gcr.io/distroless/base-debian12:debug", "glibc root shell"),
        // Chainguard: root and a shell only in `dev` tags.
        ("cgr.dev/chainguard/python:latest", "glibc user no-shell"),
        ("cgr.dev/chainguard/python:latest-dev", "glibc root shell"),
        ("cgr.dev/chainguard/static", "? user no-shell"),
        ("cgr.dev/chainguard/wolfi-base", "? user shell"),
        ("cgr.dev/chainguard/busybox", "? user shell"),
        // Unknown names: only a tag speaks.
        ("example.com/tool:1", "? ? ?"),
        ("example.com/tool:1-slim", "glibc ? ?"),
    ];

    fn say(known: Known) -> String {
        let libc = match known.libc {
            Some(Libc::Glibc) => "glibc",
            Some(Libc::Musl) => "musl",
            Some(Libc::Nothing) => "none",
            None => "?",
        };
        let root = match known.root {
            Some(true) => "root",
            Some(false) => "user",
            None => "?",
        };
        let shell = match known.shell {
            Some(true) => "shell",
            Some(false) => "no-shell",
            None => "?",
        };
        format!("{libc} {root} {shell}")
    }

    #[test]
    fn what_the_table_says_of_each_name() {
        for (name, want) in CASES {
            let written = Spanned::new(name.to_string(), miette::SourceSpan::from(0..0));
            assert_eq!(say(known(&ImageRef::parse(&written))), *want, "{name}");
        }
    }
}
