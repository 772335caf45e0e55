//! What the suites that run the binary or the public front share: the
//! repository root, rendering, the BuildKit-parser and hadolint oracles.
//! (Unit tests use `compiler/src/testkit/`; the oracles are one file.)
#![allow(dead_code)]

use stowplan::{Style, render};

#[path = "../../compiler/src/testkit/oracles.rs"]
mod oracles;
pub use oracles::{hadolint, oracle_available, root, shellcheck, shellcheck_available};

/// Diagnostics as a reviewer sees them: graphical, no colour, fixed width.
pub fn render_all(diagnostics: &[stowplan::Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            render(
                d,
                Style::Human {
                    color: false,
                    width: 100,
                },
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the real binary in `dir`. `NO_COLOR` is removed so that colour
/// follows `--color` alone (stderr is a pipe here, so `auto` means none).
pub fn stowplan(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_stowplan"))
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run stowplan")
}

pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
