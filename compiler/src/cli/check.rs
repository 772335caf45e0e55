//! `stowplan check`: validate a spec as `write` would, or compare its
//! declared outputs with the files on disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::common::{Fatal, Reporter, load, options, spec_dir};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The specs to check, each against its own folder (a monorepo's, or
    /// the files a pre-commit hook passes).
    #[arg(default_value = "stowplan.kdl", value_name = "SPEC")]
    specs: Vec<PathBuf>,
    /// Compare every `output` the spec declares with the file on disk and print a diff.
    #[arg(long)]
    outputs: bool,
    /// Fail when stowplan.lock is missing, lacks an image the spec uses or
    /// keeps one it no longer uses (spec/lock.md).
    #[arg(long)]
    locked: bool,
}

/// Checks every spec, even after one fails, so one run shows every
/// problem: exit 2 if a spec could not be read, else 1 if any had a
/// diagnostic or drifted.
pub fn run(args: Args, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let mut worst = 0;
    for spec in &args.specs {
        let code = match check_one(spec, args.outputs, args.locked, reporter) {
            Ok(clean) => u8::from(!clean),
            Err(Fatal(message)) => {
                reporter.note(true, &message);
                2
            }
        };
        worst = worst.max(code);
    }
    Ok(ExitCode::from(worst))
}

/// Whether one spec is clean (and, with `--outputs`, up to date).
fn check_one(spec: &Path, outputs: bool, locked: bool, reporter: &Reporter) -> Result<bool, Fatal> {
    let source = load(spec)?;
    let mut options = options(spec, Vec::new(), reporter)?;
    options.locked = locked;
    // Both forms check every declared output as `write` renders it; only
    // `--outputs` compares them with the disk.
    let rendered = if outputs {
        stowplan::render_outputs(&source, &options)
    } else {
        stowplan::validate(&source, &options)
    };
    let Some(rendered) = reporter.accept(rendered) else {
        return Ok(false);
    };
    let dir = spec_dir(spec);
    // Placed as `write` places them; read only what stays inside the
    // folder: a committed symlink to /proc/self/environ must not print the
    // environment as a diff.
    let placed = stowplan::place_outputs(&source, &dir, rendered);
    let Ok(placed) = placed.map_err(|diagnostics| reporter.report(&diagnostics)) else {
        return Ok(false);
    };
    // What `write` (without --force) would refuse.
    if let Err(diagnostics) = stowplan::refuse_hand_written(&source, &placed) {
        reporter.report(&diagnostics);
        return Ok(false);
    }
    if !outputs {
        return Ok(true);
    }
    let mut drifted = false;
    let mut stdout = std::io::stdout().lock();
    for output in placed {
        let path = &output.file;
        let shown = dir.join(&output.shown).display().to_string();
        let current = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Fatal(format!("cannot read {shown}: {e}"))),
        };
        if current != output.text {
            drifted = true;
            if current.replace("\r\n", "\n") == output.text {
                // A checkout that turned LF into CRLF: say so, not the whole file.
                reporter.note(false, &format!(
                    "{shown} differs only in line endings (CRLF on disk, LF from the spec); \
                     check it out with LF (`{} text eol=lf` in .gitattributes) or run `stowplan write {}`",
                    output.shown,
                    spec.display()
                ));
                continue;
            }
            let diff = similar::TextDiff::from_lines(&current, &output.text);
            let text = diff
                .unified_diff()
                .header(
                    &format!("{shown} (on disk)"),
                    &format!("{shown} (from the spec)"),
                )
                .to_string();
            let _ = write!(stdout, "{text}");
            reporter.note(
                false,
                &format!(
                    "{shown} is out of date; run `stowplan write {}`",
                    spec.display()
                ),
            );
        }
    }
    Ok(!drifted)
}
