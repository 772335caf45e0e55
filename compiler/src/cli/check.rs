//! `stowplan check`: validate a spec as `write` would, or compare its
//! declared outputs with the files on disk.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::common::{Fatal, Reporter, load, options, spec_dir};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(default_value = "stowplan.kdl")]
    spec: PathBuf,
    /// Compare every `output` the spec declares with the file on disk and print a diff.
    #[arg(long)]
    outputs: bool,
}

pub fn run(args: Args, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let source = load(&args.spec)?;
    let options = options(&args.spec, Vec::new(), reporter);
    // Both forms check every declared output as `write` renders it; only
    // `--outputs` compares them with the disk.
    let rendered = if args.outputs {
        stowplan::render_outputs(&source, &options)
    } else {
        stowplan::validate(&source, &options)
    };
    let Some(rendered) = reporter.accept(rendered) else {
        return Ok(ExitCode::from(1));
    };
    let dir = spec_dir(&args.spec);
    // Placed as `write` places them; read only what stays inside the
    // folder: a committed symlink to /proc/self/environ must not print the
    // environment as a diff.
    let placed = stowplan::place_outputs(&source, &dir, rendered);
    let Ok(placed) = placed.map_err(|diagnostics| reporter.report(&diagnostics)) else {
        return Ok(ExitCode::from(1));
    };
    // What `write` (without --force) would refuse.
    if let Err(diagnostics) = stowplan::refuse_hand_written(&source, &placed) {
        reporter.report(&diagnostics);
        return Ok(ExitCode::from(1));
    }
    if !args.outputs {
        return Ok(ExitCode::SUCCESS);
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
                eprintln!(
                    "stowplan: {shown} differs only in line endings (CRLF on disk, LF from the spec); \
                     check it out with LF (`{} text eol=lf` in .gitattributes) or run `stowplan write {}`",
                    output.shown,
                    args.spec.display()
                );
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
            eprintln!(
                "stowplan: {shown} is out of date; run `stowplan write {}`",
                args.spec.display()
            );
        }
    }
    Ok(if drifted {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
