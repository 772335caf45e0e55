//! `stowplan man`: the manual page, generated from the argument
//! definitions, so it never drifts from `--help`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::common::Fatal;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write `stowplan.1` and one page per command (`stowplan-compile.1`, ...)
    /// into this folder instead of printing `stowplan.1`.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn run(args: Args, command: clap::Command) -> Result<ExitCode, Fatal> {
    match args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .and_then(|()| clap_mangen::generate_to(command, &dir))
                .map_err(|e| {
                    Fatal(format!(
                        "cannot write the man pages to {}: {e}",
                        dir.display()
                    ))
                })?;
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .map_err(|e| Fatal(format!("cannot render the man page: {e}")))?;
            crate::common::print(&String::from_utf8_lossy(&out))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
