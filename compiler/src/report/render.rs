//! Rendering diagnostics for people (miette's graphical report) and for
//! tools (one JSON object per line).

use miette::{GraphicalReportHandler, GraphicalTheme, JSONReportHandler};

use crate::base::diagnostic::Diagnostic;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unicode art, with or without colour.
    Human { color: bool, width: usize },
    /// One JSON object per diagnostic, one per line.
    Json,
}

pub fn render(diagnostic: &Diagnostic, style: Style) -> String {
    let mut out = String::new();
    match style {
        Style::Human { color, width } => {
            let theme = if color {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            GraphicalReportHandler::new_themed(theme)
                .with_width(width)
                .with_links(false)
                .render_report(&mut out, diagnostic)
                .expect("writing to a String cannot fail");
        }
        Style::Json => {
            JSONReportHandler::new()
                .render_report(&mut out, diagnostic)
                .expect("writing to a String cannot fail");
            out.push('\n');
        }
    }
    out
}
