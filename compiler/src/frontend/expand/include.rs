//! `include`: files of templates, read relative to the file that names
//! them, each once, refusing cycles.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::base::source::SourceFile;
use crate::frontend::decode;
use crate::frontend::expand::home::{Defined, Home};
use crate::frontend::template;

/// Reads `include`d files of templates, each once, refusing cycles.
pub(super) struct Loader<'a> {
    dir: Option<&'a Path>,
    /// Canonical paths of the files being read, outermost first.
    stack: Vec<PathBuf>,
    /// Their paths relative to the spec's folder, as written.
    names: Vec<String>,
    seen: BTreeSet<PathBuf>,
    /// Whether an include could not be read.
    pub(super) failed: bool,
    /// The spec's folder with its symlinks resolved, once asked for.
    root: Option<PathBuf>,
}

impl<'a> Loader<'a> {
    pub(super) fn new(dir: Option<&'a Path>) -> Self {
        Loader {
            dir,
            stack: Vec::new(),
            names: Vec::new(),
            seen: BTreeSet::new(),
            failed: false,
            root: None,
        }
    }

    /// The folder includes must stay in, symlinks resolved.
    fn root(&mut self, dir: &Path) -> Result<PathBuf, Failure> {
        if let Some(root) = &self.root {
            return Ok(root.clone());
        }
        let root = dir.canonicalize().map_err(|e| Failure {
            message: format!("cannot read the spec's folder `{}`: {e}", dir.display()),
            label: "not read",
            help: "includes are read relative to the spec's folder",
        })?;
        self.root = Some(root.clone());
        Ok(root)
    }

    pub(super) fn load(
        &mut self,
        includes: &[template::IncludeDecl],
        from: Option<&SourceFile>,
        from_path: &Path,
        defined: &mut Vec<Defined>,
        d: &mut Diagnostics,
    ) {
        for include in includes {
            if let Err(failure) = self.load_one(include, from_path, defined, d) {
                self.failed = true;
                let diag = Diagnostic::error(Code::Include, failure.message)
                    .primary(include.path.span, failure.label)
                    .help(failure.help);
                d.push(match from {
                    Some(source) => diag.with_source(&source.named),
                    None => diag,
                });
            }
        }
    }

    fn load_one(
        &mut self,
        include: &template::IncludeDecl,
        from_path: &Path,
        defined: &mut Vec<Defined>,
        d: &mut Diagnostics,
    ) -> Result<(), Failure> {
        let written = Path::new(&include.path.value);
        let Some(dir) = self.dir else {
            return Err(Failure {
                message: format!(
                    "cannot include `{}`: no directory to read it from",
                    include.path.value
                ),
                label: "not read",
                help: "includes are read relative to the spec's folder; pass the build context (Options::context) when calling the library",
            });
        };
        if written.is_absolute() || include.path.value.is_empty() {
            return Err(Failure {
                message: format!("`{}` is not a relative path", include.path.value),
                label: "not relative",
                help: "write the path relative to the spec's folder, so the spec builds the same on every machine",
            });
        }
        let relative = from_path.parent().unwrap_or(Path::new("")).join(written);
        let root = self.root(dir)?;
        let canonical = dir.join(&relative).canonicalize().map_err(|e| Failure {
            message: format!("cannot read `{}`: {e}", relative.display()),
            label: "not read",
            help: "the path is relative to the folder of the file that includes it",
        })?;
        // Checked before the file is opened: a refused file is never read,
        // so its content cannot reach a diagnostic.
        if !canonical.starts_with(&root) {
            return Err(Failure {
                message: format!("`{}` is outside the spec's folder", relative.display()),
                label: "outside the spec's folder",
                help: "an included file lives in the spec's folder or below it, and a symlink it goes through stays there too; copy the templates in",
            });
        }
        let text = read_bounded(&canonical).map_err(|why| Failure {
            message: format!("cannot include `{}`: {why}", relative.display()),
            label: "not included",
            help: "an included file is a KDL file of templates, at most 1 MiB",
        })?;
        if self.stack.contains(&canonical) {
            return Err(Failure {
                message: format!("`{}` includes itself", relative.display()),
                label: "an include cycle",
                help: "remove one of the includes; a file of templates is read once",
            });
        }
        if !self.seen.insert(canonical.clone()) {
            return Ok(());
        }
        let source = SourceFile::new(relative.display().to_string(), text);
        let (included, found) = decode::decode(source.text());
        for diag in found {
            d.push(diag.with_source(&source.named));
        }
        let not_templates = included
            .stages
            .iter()
            .map(|s| s.span)
            .chain(included.outputs.iter().map(|o| o.span))
            .chain(included.uses.iter().map(|u| u.span))
            .chain(included.waivers.iter().map(|w| w.span))
            .chain(included.groups.iter().map(|g| g.span))
            .min_by_key(|s| s.offset());
        if let Some(span) = not_templates {
            d.push(
                Diagnostic::error(
                    Code::Include,
                    format!("`{}` holds more than templates", relative.display()),
                )
                .primary(span, "not a template")
                .help("an included file holds only `template`s and `include`s; declare stages, images, outputs, waivers and groups in the spec")
                .with_source(&source.named),
            );
        }
        self.stack.push(canonical);
        self.names.push(source.name().to_owned());
        self.load(&included.includes, Some(&source), &relative, defined, d);
        let files = self.names.clone();
        self.names.pop();
        self.stack.pop();
        defined.extend(included.templates.into_iter().map(|decl| Defined {
            decl,
            home: Home::File(source.clone()),
            files: files.clone(),
        }));
        Ok(())
    }
}

/// Why an `include` could not be read.
struct Failure {
    message: String,
    label: &'static str,
    help: &'static str,
}

/// The most an included file may hold.
pub(crate) const MAX_INCLUDE_BYTES: u64 = 1024 * 1024;

/// Reads a regular file of at most [`MAX_INCLUDE_BYTES`] as UTF-8 text.
/// Anything else (a folder, a FIFO, a device such as `/dev/zero`) is
/// refused from its metadata, before it is opened; the file is opened
/// without blocking, in case it became a FIFO in between, and read through
/// a bounded reader, in case it grew.
fn read_bounded(path: &Path) -> Result<String, String> {
    let regular = |m: std::fs::Metadata| {
        if m.is_file() {
            Ok(m.len())
        } else {
            Err("it is not a regular file".to_owned())
        }
    };
    let too_big = || format!("it is larger than {} KiB", MAX_INCLUDE_BYTES / 1024);
    if regular(std::fs::metadata(path).map_err(|e| e.to_string())?)? > MAX_INCLUDE_BYTES {
        return Err(too_big());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| e.to_string())?;
    regular(file.metadata().map_err(|e| e.to_string())?)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_INCLUDE_BYTES + 1),
        &mut bytes,
    )
    .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_INCLUDE_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())
}
