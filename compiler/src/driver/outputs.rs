//! Where declared outputs land, checked before anything is read or
//! written: inside the spec's folder, never through a symlink that leaves
//! it, never onto a directory or a special file, never two onto one file.
//! The driver's only file-system access; it reads metadata, never content.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::SourceFile;
use crate::driver::RenderedOutput;

/// A rendered output and the file it goes to, resolved inside the folder.
#[derive(Debug)]
pub struct PlacedOutput {
    /// As the spec wrote it, for messages.
    pub shown: String,
    /// The file to read or write: symlinks inside the folder are followed.
    pub file: PathBuf,
    pub text: String,
}

/// Resolves every output against the spec's folder `dir`. All problems are
/// reported at once, so `write` either writes every output or none.
pub fn place_outputs(
    source: &SourceFile,
    dir: &Path,
    rendered: Vec<RenderedOutput>,
) -> Result<Vec<PlacedOutput>, Vec<Diagnostic>> {
    let root = match dir.canonicalize() {
        Ok(root) => root,
        Err(e) => {
            let diag = Diagnostic::error(
                Code::OutputPath,
                format!("cannot resolve the spec's folder {}: {e}", dir.display()),
            )
            .primary(miette::SourceSpan::from(0..0), "outputs are written here");
            return Err(vec![diag.with_source(&source.named)]);
        }
    };
    let mut placed: Vec<PlacedOutput> = Vec::new();
    let mut errors = Vec::new();
    for output in rendered {
        let refuse = |label: &str, message: String, help: &str| {
            Diagnostic::error(Code::OutputPath, message)
                .primary(output.span, label)
                .help(help)
                .with_source(&source.named)
        };
        match resolve(&root, &output.path) {
            Ok(file) => {
                if let Some(first) = placed.iter().find(|p| p.file == file) {
                    errors.push(refuse(
                        "the same file again",
                        format!("`{}` and `{}` are the same file", first.shown, output.path),
                        "declare each file once",
                    ));
                    continue;
                }
                placed.push(PlacedOutput {
                    shown: output.path,
                    file,
                    text: output.text,
                });
            }
            Err(problem) => {
                let (label, help) = match &problem {
                    Problem::Leaves { .. } => (
                        "leaves the spec's folder",
                        "outputs are written inside the spec's folder; remove the symlink or name another path",
                    ),
                    Problem::Directory => (
                        "a directory",
                        "name a file: an output is one file, written whole",
                    ),
                    Problem::NotRegular => (
                        "not a regular file",
                        "outputs replace regular files only; name another path",
                    ),
                    Problem::FileInPath(_) => (
                        "a file where a folder is needed",
                        "name a path whose folders are folders",
                    ),
                    Problem::Io(_) => ("cannot be inspected", "check the folder's permissions"),
                };
                errors.push(refuse(
                    label,
                    format!("output `{}` {problem}", output.path),
                    help,
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(placed)
    } else {
        Err(errors)
    }
}

enum Problem {
    /// Through this symlink, which leads outside the folder.
    Leaves {
        link: String,
    },
    Directory,
    NotRegular,
    FileInPath(String),
    Io(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Leaves { link } => write!(
                f,
                "goes through the symlink `{link}`, which leads outside the spec's folder"
            ),
            Problem::Directory => f.write_str("is a directory"),
            Problem::NotRegular => f.write_str("is not a regular file"),
            Problem::FileInPath(part) => {
                write!(f, "needs `{part}` to be a folder, but it is a file")
            }
            Problem::Io(e) => write!(f, "cannot be inspected: {e}"),
        }
    }
}

/// Walks the output's path from the folder one part at a time, following
/// symlinks only while they stay inside `root` (itself canonical).
fn resolve(root: &Path, relative: &str) -> Result<PathBuf, Problem> {
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => parts.extend(part.to_str()),
            Component::CurDir => {}
            // The decoder refuses these; never trust that here.
            _ => {
                return Err(Problem::Leaves {
                    link: relative.to_owned(),
                });
            }
        }
    }
    if parts.is_empty() {
        return Err(Problem::Directory);
    }
    let mut current = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        current.push(part);
        let shown = parts[..=i].join("/");
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            // The rest does not exist yet: `write` creates it, inside.
            Err(e) if e.kind() == ErrorKind::NotFound => {
                current.extend(&parts[i + 1..]);
                return Ok(current);
            }
            Err(e) => return Err(Problem::Io(e.to_string())),
        };
        let meta = if meta.file_type().is_symlink() {
            // A dangling link cannot be shown to stay inside.
            match current.canonicalize() {
                Ok(target) if target.starts_with(root) => {
                    current = target;
                    std::fs::metadata(&current).map_err(|e| Problem::Io(e.to_string()))?
                }
                _ => return Err(Problem::Leaves { link: shown }),
            }
        } else {
            meta
        };
        if last {
            if meta.is_dir() {
                return Err(Problem::Directory);
            }
            if !meta.is_file() {
                return Err(Problem::NotRegular);
            }
        } else if !meta.is_dir() {
            return Err(Problem::FileInPath(shown));
        }
    }
    Ok(current)
}
