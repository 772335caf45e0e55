//! What the commands share: loading a spec, the options every pipeline
//! run takes, reporting diagnostics, and writing files.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use stowplan::{Diagnostic, Notification, Policy, SourceFile};
use stowplan::{Style, render};

/// A failure that is not about the spec: usage or I/O (exit 2).
pub struct Fatal(pub String);

pub struct Reporter {
    pub style: Style,
    /// `--message-format sarif`: everything the run reports, written as
    /// one SARIF log when it ends ([`Reporter::finish`]).
    pub sarif: Option<RefCell<SarifLog>>,
    pub deny_warnings: bool,
    pub verbose: bool,
    pub image_map: stowplan::ImageMap,
    pub policy: PolicyChoice,
}

#[derive(Default)]
pub struct SarifLog {
    diagnostics: Vec<Diagnostic>,
    notifications: Vec<Notification>,
}

/// Which policy a spec is checked against (spec/policy.md).
pub enum PolicyChoice {
    /// `--policy FILE`: this one, for every spec.
    Given(Arc<Policy>),
    /// `stowplan.policy.kdl` next to each spec or up the tree, read once per file.
    Found(RefCell<BTreeMap<PathBuf, Arc<Policy>>>),
}

impl Reporter {
    /// Says something about the run itself (not about a spec): on stderr,
    /// or as a notification of the SARIF log.
    pub fn note(&self, error: bool, text: &str) {
        match &self.sarif {
            Some(log) => log.borrow_mut().notifications.push(Notification {
                error,
                text: text.to_owned(),
            }),
            None if error => eprintln!("stowplan: error: {text}"),
            None => eprintln!("stowplan: {text}"),
        }
    }

    /// Writes the SARIF log, when the run reports in SARIF.
    pub fn finish(&self) {
        if let Some(log) = &self.sarif {
            let log = log.borrow();
            let cwd = std::env::current_dir().unwrap_or_default();
            let text = stowplan::to_sarif(&log.diagnostics, &log.notifications, &cwd);
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }

    pub fn report(&self, diagnostics: &[Diagnostic]) {
        if let Some(log) = &self.sarif {
            log.borrow_mut().diagnostics.extend_from_slice(diagnostics);
            return;
        }
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
        // A waived policy violation is reported, never denied.
        let denied = warnings.iter().filter(|w| w.is_warning()).count();
        if self.deny_warnings && denied > 0 {
            self.note(
                false,
                &format!("{denied} warning(s) denied by --deny warnings"),
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
    pub fn options(&self, spec: &Path) -> stowplan::OrderOptions {
        if self.keep_order {
            return stowplan::OrderOptions::written();
        }
        // git reads the history while the spec is parsed.
        let history = self
            .history
            .then(|| stowplan::HistorySource::from_git_in_background(spec_dir(spec)));
        stowplan::OrderOptions {
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

/// The build context is the spec's directory; the policy is `--policy`'s
/// or the one found for the spec; the lock is `stowplan.lock` beside it.
pub fn options(
    spec: &Path,
    images: Vec<String>,
    reporter: &Reporter,
) -> Result<stowplan::Options, Fatal> {
    let mut options = options_without_lock(spec, images, reporter)?;
    options.lock = read_lock(spec, reporter)?;
    Ok(options)
}

/// Where a spec's lock is: `stowplan.lock` in its folder.
pub fn lock_path(spec: &Path) -> PathBuf {
    match spec.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(stowplan::LOCK_FILE_NAME),
        _ => PathBuf::from(stowplan::LOCK_FILE_NAME),
    }
}

/// The spec's lock, when it has one; its errors are reported (exit 2).
pub fn read_lock(spec: &Path, reporter: &Reporter) -> Result<Option<Arc<stowplan::Lock>>, Fatal> {
    let path = lock_path(spec);
    if !path.exists() {
        return Ok(None);
    }
    let source = load(&path)?;
    match stowplan::Lock::parse(&source) {
        Ok(done) => Ok(Some(Arc::new(done.output))),
        Err(diagnostics) => {
            reporter.report(&diagnostics);
            Err(Fatal(format!(
                "the lock {} has errors; `stowplan lock {} --update` writes it anew",
                path.display(),
                spec.display()
            )))
        }
    }
}

/// [`options`] without reading the lock (`stowplan lock --update`, which
/// replaces it whatever it holds).
pub fn options_without_lock(
    spec: &Path,
    images: Vec<String>,
    reporter: &Reporter,
) -> Result<stowplan::Options, Fatal> {
    let policy = match &reporter.policy {
        PolicyChoice::Given(policy) => Some(policy.clone()),
        PolicyChoice::Found(cache) => match find_policy(&spec_dir(spec)) {
            None => None,
            Some(path) => {
                let cached = cache.borrow().get(&path).cloned();
                match cached {
                    Some(policy) => Some(policy),
                    None => {
                        let policy = read_policy(&path, reporter)?;
                        cache.borrow_mut().insert(path, policy.clone());
                        Some(policy)
                    }
                }
            }
        },
    };
    Ok(stowplan::Options {
        images,
        context: Some(spec_dir(spec)),
        image_map: reporter.image_map.clone(),
        order: Default::default(),
        policy,
        lock: None,
        locked: false,
        named_contexts: false,
    })
}

/// How many folders up from a spec a policy is looked for, at most.
const POLICY_SEARCH_DEPTH: usize = 64;

/// `stowplan.policy.kdl` in the spec's folder or the nearest folder above
/// it, up to the repository's root (a folder with `.git`) or the file
/// system's. The path is shown as found: relative when the spec's is.
pub fn find_policy(dir: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(dir).ok()?;
    let mut shown = dir.to_path_buf();
    for folder in absolute.ancestors().take(POLICY_SEARCH_DEPTH) {
        let candidate = folder.join(stowplan::POLICY_FILE_NAME);
        if candidate.is_file() {
            let relative = shown.join(stowplan::POLICY_FILE_NAME);
            return Some(if dir.is_absolute() {
                candidate
            } else {
                clean(&relative)
            });
        }
        if folder.join(".git").exists() {
            return None;
        }
        shown = shown.join("..");
    }
    None
}

/// `./a/../b` → `b`, for names people read (no symlink is resolved: only
/// leading `.` parts and `x/..` pairs the search itself added).
fn clean(path: &Path) -> PathBuf {
    let mut out: Vec<std::path::Component> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if matches!(out.last(), Some(std::path::Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Reads and checks a policy file; its errors are reported (exit 2).
pub fn read_policy(path: &Path, reporter: &Reporter) -> Result<Arc<Policy>, Fatal> {
    let source = load(path)?;
    match Policy::parse(&source) {
        Ok(done) => {
            reporter.report(&done.warnings);
            if reporter.verbose {
                reporter.note(false, &format!("policy {}", path.display()));
            }
            Ok(Arc::new(done.output))
        }
        Err(diagnostics) => {
            reporter.report(&diagnostics);
            Err(Fatal(format!("the policy {} has errors", path.display())))
        }
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

/// Temporary files start so, and end in `.tmp`: a run that was killed
/// while writing leaves one behind, and the next run removes it.
const TEMP_PREFIX: &str = ".stowplan-";

/// Writes every output or none: each goes to a temporary file in its own
/// directory first, and only when all are written are they renamed into
/// place, so a reader never sees half a file and a failure leaves every
/// file as it was.
pub fn write_all(outputs: &[stowplan::PlacedOutput]) -> Result<(), Fatal> {
    let mut staged = Vec::new();
    for output in outputs {
        staged.push((stage(&output.file, &output.text)?, &output.file));
    }
    for (file, path) in staged {
        file.persist(path)
            .map_err(|e| Fatal(format!("cannot write {}: {}", path.display(), e.error)))?;
    }
    Ok(())
}

/// Writes one file atomically (`compile -o`).
pub fn write_atomically(path: &Path, text: &str) -> Result<(), Fatal> {
    let file = stage(path, text)?;
    file.persist(path)
        .map_err(|e| Fatal(format!("cannot write {}: {}", path.display(), e.error)))?;
    Ok(())
}

/// `text` in a temporary file beside `path`, with the mode `path` will keep.
fn stage(path: &Path, text: &str) -> Result<tempfile::NamedTempFile, Fatal> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |e: std::io::Error| Fatal(format!("cannot write {}: {e}", path.display()));
    std::fs::create_dir_all(&dir).map_err(fail)?;
    remove_stale_temporaries(&dir);
    let mut file = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    // Temporary files are private (0600); a generated file keeps the mode
    // of the file it replaces, or gets the usual 0644.
    let permissions = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta.permissions(),
        Ok(_) => {
            return Err(Fatal(format!(
                "cannot write {}: not a regular file",
                path.display()
            )));
        }
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    file.as_file().set_permissions(permissions).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    Ok(file)
}

/// Temporary files a killed run left in `dir`. Only older ones go, so a
/// run writing in the same folder at the same moment keeps its own.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(".tmp")) {
            continue;
        }
        let stale = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() >= 60);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
