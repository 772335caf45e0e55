//! What the suites that run the binary or the public front share: the
//! repository root, rendering, the BuildKit-parser and hadolint oracles.
//! (Unit tests use `compiler/src/testkit/`; the oracles are one file.)
#![allow(dead_code)]

use stowplan::{Style, render};

#[path = "../../compiler/src/testkit/oracles.rs"]
mod oracles;
pub use oracles::{hadolint, oracle_available, root};

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
