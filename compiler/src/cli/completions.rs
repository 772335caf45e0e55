//! `stowplan completions SHELL`: the shell's completion script, generated
//! from the same argument definitions the binary parses with.

use std::process::ExitCode;

use crate::common::Fatal;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn run(args: Args, mut command: clap::Command) -> Result<ExitCode, Fatal> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "stowplan", &mut out);
    crate::common::print(&String::from_utf8_lossy(&out))?;
    Ok(ExitCode::SUCCESS)
}
