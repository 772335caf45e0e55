//! `stowplan write`: every declared output, rendered first, then written.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::common::{Fatal, Reporter, load, options, spec_dir, write_atomically};

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
    let dir = spec_dir(&args.spec);
    for output in &rendered {
        write_atomically(&dir.join(&output.path), &output.text)?;
    }
    Ok(ExitCode::SUCCESS)
}
