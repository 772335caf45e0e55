//! `stowplan init`: a starter spec for the current folder from a preset.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::common::Fatal;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The preset to start from (`stowplan presets` lists them).
    #[arg(long)]
    preset: String,
}

/// The starter spec, written only if no stowplan.kdl is there.
pub fn run(args: Args) -> Result<ExitCode, Fatal> {
    let preset = args.preset.as_str();
    let starter = stowplan::starter(preset, Path::new(".")).map_err(Fatal)?;
    let path = Path::new("stowplan.kdl");
    if path.exists() {
        return Err(Fatal(
            "stowplan.kdl already exists here; init never overwrites it".to_owned(),
        ));
    }
    let fail = |e: std::io::Error| Fatal(format!("cannot write stowplan.kdl: {e}"));
    let mut file = tempfile::NamedTempFile::new_in(".").map_err(fail)?;
    file.write_all(starter.text.as_bytes()).map_err(fail)?;
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(fail)?;
    }
    file.as_file().sync_all().map_err(fail)?;
    // Linking, not renaming: a stowplan.kdl that appeared meanwhile is kept.
    file.persist_noclobber(path).map_err(|e| fail(e.error))?;
    eprintln!("stowplan: wrote stowplan.kdl from preset `{preset}`");
    if starter.output != "Dockerfile" {
        eprintln!(
            "stowplan: the Dockerfile here was not written by stowplan; the spec declares output \"{}\" beside it, not over it",
            starter.output
        );
    }
    for note in &starter.notes {
        eprintln!("stowplan: note: {note}");
    }
    if starter.output == "Dockerfile" {
        eprintln!("stowplan: next: `stowplan write` writes the Dockerfile");
    } else {
        eprintln!(
            "stowplan: next: `stowplan write` writes {0}; build with `docker build -f {0} .`",
            starter.output
        );
    }
    Ok(ExitCode::SUCCESS)
}
