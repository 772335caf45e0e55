//! Paths in the image: what units read and write, resolved against the
//! working directory, and when two of them can name the same file.

use crate::cache;
use crate::frontend::ast::Spanned;

/// An image path, resolved against the working directory when it is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ImagePath {
    Absolute(Vec<String>),
    /// Relative to a working directory inherited from an external base.
    Relative(Vec<String>),
}

fn components(path: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            other => out.push(other.to_owned()),
        }
    }
    Some(out)
}

pub(super) fn resolve_path(path: &str, workdir: Option<&str>) -> ImagePath {
    let joined;
    let (absolute, text) = if path.starts_with('/') {
        (true, path)
    } else if let Some(workdir) = workdir {
        joined = format!("{workdir}/{path}");
        (true, joined.as_str())
    } else {
        (false, path)
    };
    match (absolute, components(text)) {
        (true, Some(mut parts)) => {
            // usrmerge: /bin, /lib, ... are links into /usr; /var/run into /run.
            if parts.first().is_some_and(|p| {
                matches!(
                    p.as_str(),
                    "bin" | "sbin" | "lib" | "lib32" | "lib64" | "libx32"
                )
            }) {
                parts.insert(0, "usr".to_owned());
            } else if parts.len() >= 2
                && parts[0] == "var"
                && matches!(parts[1].as_str(), "run" | "lock")
            {
                parts.remove(0);
                if parts[0] == "lock" {
                    parts.insert(0, "run".to_owned());
                }
            }
            ImagePath::Absolute(parts)
        }
        (false, Some(parts)) => ImagePath::Relative(parts),
        // Above the root or an unknown directory: anything at all.
        (_, None) => ImagePath::Absolute(Vec::new()),
    }
}

/// Whether two paths can name the same file: one contains the other.
fn overlap(a: &ImagePath, b: &ImagePath) -> bool {
    let prefix = |x: &[String], y: &[String]| x.iter().zip(y).all(|(p, q)| p == q);
    match (a, b) {
        (ImagePath::Absolute(x), ImagePath::Absolute(y))
        | (ImagePath::Relative(x), ImagePath::Relative(y)) => prefix(x, y),
        // A relative path under an unknown working directory could be anywhere.
        _ => true,
    }
}

pub(super) fn any_overlap(a: &[ImagePath], b: &[ImagePath]) -> bool {
    a.iter().any(|x| b.iter().any(|y| overlap(x, y)))
}

/// Where a copy writes: `dest/name` for a file into a directory, `dest`
/// (and all under it) otherwise. Sources not ending in `/` are files, as
/// the language defines; artifacts and image paths may be directories.
pub(super) fn copy_writes(
    sources: &[(&str, bool)],
    dest: &str,
    workdir: Option<&str>,
) -> Vec<ImagePath> {
    let into_directory = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
    sources
        .iter()
        .map(|(source, declared_file)| {
            let file = *declared_file
                && !source.ends_with('/')
                && !cache::is_glob(source)
                && !cache::normalize_context_path(source).is_empty();
            if into_directory && file {
                let name = source
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or(source);
                resolve_path(&format!("{dest}/{name}"), workdir)
            } else {
                resolve_path(dest, workdir)
            }
        })
        .collect()
}

/// `--chown=name` looks the name up in the image's passwd and group files.
pub(super) fn chown_reads(chown: Option<&Spanned<String>>) -> Vec<ImagePath> {
    let named = chown.is_some_and(|c| {
        c.value
            .split(':')
            .any(|part| !part.chars().all(|ch| ch.is_ascii_digit()))
    });
    if named {
        vec![
            resolve_path("/etc/passwd", None),
            resolve_path("/etc/group", None),
        ]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_overlap_by_containment() {
        let a = resolve_path("/app/node_modules", None);
        let b = resolve_path("node_modules/.bin", Some("/app"));
        assert!(overlap(&a, &b));
        assert!(!overlap(&a, &resolve_path("/app/dist", None)));
        assert!(overlap(
            &resolve_path("/lib/x", None),
            &resolve_path("/usr/lib/x", None)
        ));
        assert!(overlap(
            &resolve_path("dist", None),
            &resolve_path("/app", None)
        ));
        assert!(overlap(
            &resolve_path("../../..", Some("/a")),
            &resolve_path("/b", None)
        ));
    }

    #[test]
    fn files_into_directories_write_only_themselves() {
        let writes = copy_writes(&[("go.mod", true), ("src/", true)], "./", Some("/src"));
        assert_eq!(
            writes,
            vec![
                ImagePath::Absolute(vec!["src".into(), "go.mod".into()]),
                ImagePath::Absolute(vec!["src".into()]),
            ]
        );
    }
}
