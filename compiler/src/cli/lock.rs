//! `stowplan lock`: resolve every external image reference of a spec to
//! its manifest digest and write `stowplan.lock` beside the spec, all or
//! nothing (spec/lock.md).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::common::{
    Fatal, Reporter, load, lock_path, options, options_without_lock, write_atomically,
};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(default_value = "stowplan.kdl", value_name = "SPEC")]
    spec: PathBuf,
    /// Resolve again: every reference, or only IMAGE (as the spec writes
    /// it). Without it, only references the lock does not have are asked.
    #[arg(long, value_name = "IMAGE", num_args = 0..=1, default_missing_value = "")]
    update: Option<String>,
}

pub fn run(args: Args, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let source = load(&args.spec)?;
    let update = match args.update.as_deref() {
        None => stowplan::LockUpdate::Missing,
        Some("") => stowplan::LockUpdate::All,
        Some(image) => stowplan::LockUpdate::One(image.to_owned()),
    };
    // `--update` replaces the lock whatever it holds, even a broken one.
    let options = if update == stowplan::LockUpdate::All {
        options_without_lock(&args.spec, Vec::new(), reporter)?
    } else {
        options(&args.spec, Vec::new(), reporter)?
    };
    let previous = options.lock.clone();
    let locked = stowplan::lock(&source, &options, previous.as_deref(), &update);
    let Some(locked) = reporter.accept(locked) else {
        return Ok(ExitCode::from(1));
    };
    let path = lock_path(&args.spec);
    let name = args.spec.file_name().map_or_else(
        || "the spec".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = locked.lock.render(&name);
    let unchanged = std::fs::read_to_string(&path).is_ok_and(|old| old == text);
    if !unchanged {
        write_atomically(&path, &text)?;
    }
    if reporter.verbose {
        for (reference, digest) in &locked.resolved {
            reporter.note(false, &format!("locked {reference} to {digest}"));
        }
        for reference in &locked.dropped {
            reporter.note(
                false,
                &format!("dropped {reference}, which the spec no longer uses"),
            );
        }
    }
    let count = locked.lock.entries().count();
    reporter.note(
        false,
        &format!(
            "{} {}: {count} image(s), {} resolved, {} dropped",
            path.display(),
            if unchanged {
                "is up to date"
            } else {
                "written"
            },
            locked.resolved.len(),
            locked.dropped.len()
        ),
    );
    Ok(ExitCode::SUCCESS)
}
