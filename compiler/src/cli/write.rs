//! `stowplan write`: every declared output rendered and placed first, then
//! all written, or none.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::common::{Fatal, Reporter, load, options, spec_dir, write_all};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(default_value = "stowplan.kdl")]
    spec: PathBuf,
}

pub fn run(args: Args, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let source = load(&args.spec)?;
    let rendered = stowplan::render_outputs(&source, &options(&args.spec, Vec::new(), reporter));
    let Some(rendered) = reporter.accept(rendered) else {
        return Ok(ExitCode::from(1));
    };
    let placed = stowplan::place_outputs(&source, &spec_dir(&args.spec), rendered);
    let Ok(placed) = placed.map_err(|diagnostics| reporter.report(&diagnostics)) else {
        return Ok(ExitCode::from(1));
    };
    write_all(&placed)?;
    Ok(ExitCode::SUCCESS)
}
