//! `stowplan presets`: the built-in runtime presets, or one's template.

use std::process::ExitCode;

use clap::Subcommand;

use crate::common::{Fatal, print};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Print a preset's template, as written in runtime-presets/.
    Show { name: String },
}

pub fn run(args: Args) -> Result<ExitCode, Fatal> {
    let text = match args.action {
        None => stowplan::presets_listing(),
        Some(Action::Show { name }) => stowplan::preset_text(&name).map_err(Fatal)?.to_owned(),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
