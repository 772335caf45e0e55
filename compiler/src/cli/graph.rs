//! `stowplan graph`: the artifact flow graph as DOT, Mermaid or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use stowplan::GraphFormat;

use crate::common::{Fatal, Reporter, load, options, print};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(default_value = "stowplan.kdl")]
    spec: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Dot,
    Mermaid,
    Json,
}

pub fn run(args: Args, reporter: &Reporter) -> Result<ExitCode, Fatal> {
    let source = load(&args.spec)?;
    let format = match args.format {
        Format::Dot => GraphFormat::Dot,
        Format::Mermaid => GraphFormat::Mermaid,
        Format::Json => GraphFormat::Json,
    };
    let drawn = stowplan::graph(&source, &options(&args.spec, Vec::new(), reporter)?, format);
    let Some(text) = reporter.accept(drawn) else {
        return Ok(ExitCode::from(1));
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
