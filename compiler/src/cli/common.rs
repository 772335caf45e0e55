//! What the commands share: loading a spec, the options every pipeline
//! run takes, reporting diagnostics, and writing files.

use std::io::Write;
use std::path::{Path, PathBuf};

use stowplan::report::render::{Style, render};
use stowplan::{Diagnostic, SourceFile};

/// A failure that is not about the spec: usage or I/O (exit 2).
pub struct Fatal(pub String);

pub struct Reporter {
    pub style: Style,
    pub deny_warnings: bool,
    pub verbose: bool,
    pub image_map: stowplan::plan::image_map::ImageMap,
}

impl Reporter {
    pub fn report(&self, diagnostics: &[Diagnostic]) {
        let mut stderr = std::io::stderr().lock();
        for d in diagnostics {
            let _ = stderr.write_all(render(d, self.style).as_bytes());
            if matches!(self.style, Style::Human { .. }) {
                let _ = stderr.write_all(b"\n");
            }
        }
    }

    /// A pipeline result's output, once its diagnostics are reported; `None`
    /// when it failed or `--deny warnings` refused its warnings (exit 1).
    pub fn accept<T>(&self, result: stowplan::SourceResult<T>) -> Option<T> {
        match result {
            Ok(done) => self.warnings_pass(&done.warnings).then_some(done.output),
            Err(diagnostics) => {
                self.report(&diagnostics);
                None
            }
        }
    }

    /// Reports warnings; false when `--deny warnings` makes them fatal.
    fn warnings_pass(&self, warnings: &[Diagnostic]) -> bool {
        self.report(warnings);
        if self.deny_warnings && !warnings.is_empty() {
            eprintln!(
                "stowplan: {} warning(s) denied by --deny warnings",
                warnings.len()
            );
            return false;
        }
        true
    }
}

/// How the layer-order optimizer runs (spec/cache.md).
#[derive(clap::Args, Debug)]
pub struct OrderArgs {
    /// Keep the written order of every stage: no layer reordering.
    #[arg(long)]
    keep_order: bool,
    /// Weigh inputs by how often the spec's git history changed them,
    /// instead of by volatility class.
    #[arg(long)]
    history: bool,
}

impl OrderArgs {
    pub fn options(&self, spec: &Path) -> stowplan::plan::optimize::OrderOptions {
        if self.keep_order {
            return stowplan::plan::optimize::OrderOptions::written();
        }
        // git reads the history while the spec is parsed.
        let history = self.history.then(|| {
            stowplan::cache::history::HistorySource::from_git_in_background(spec_dir(spec))
        });
        stowplan::plan::optimize::OrderOptions {
            enabled: true,
            history,
            layer_per_instruction: false,
        }
    }
}

/// A history asked for and not read is an error of its own (exit 2).
pub fn history_read(options: &stowplan::Options) -> Result<(), Fatal> {
    match options.order.history.as_ref().map(|h| h.get()) {
        Some(Err(e)) => Err(Fatal(format!("--history: {e}"))),
        _ => Ok(()),
    }
}

pub fn load(path: &Path) -> Result<SourceFile, Fatal> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fatal(format!("cannot read {}: {e}", path.display())))?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

/// The build context is the spec's directory.
pub fn options(spec: &Path, images: Vec<String>, reporter: &Reporter) -> stowplan::Options {
    stowplan::Options {
        images,
        context: Some(spec_dir(spec)),
        image_map: reporter.image_map.clone(),
        order: Default::default(),
    }
}

pub fn spec_dir(spec: &Path) -> PathBuf {
    match spec.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub fn print(text: &str) -> Result<(), Fatal> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Fatal(format!("cannot write to stdout: {e}")))
}

pub fn make_executable(path: &Path) -> Result<(), Fatal> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |e: std::io::Error| Fatal(format!("cannot make {} executable: {e}", path.display()));
    let mut permissions = std::fs::metadata(path).map_err(fail)?.permissions();
    permissions.set_mode(permissions.mode() | 0o111);
    std::fs::set_permissions(path, permissions).map_err(fail)
}

/// Writes through a temporary file in the same directory and renames it
/// into place, so a reader never sees half a file.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), Fatal> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |e: std::io::Error| Fatal(format!("cannot write {}: {e}", path.display()));
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    // Temporary files are private (0600); a generated file keeps the mode
    // of the file it replaces, or gets the usual 0644.
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    file.as_file().set_permissions(permissions).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
