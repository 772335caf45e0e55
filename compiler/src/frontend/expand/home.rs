//! Where a template is written, and how its diagnostics point there.

use crate::base::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::base::source::SourceFile;
use crate::frontend::template::TemplateDecl;

/// Where a template is written.
#[derive(Clone, Debug)]
pub(super) enum Home {
    /// In the spec: its spans are the spec's.
    Spec,
    /// In an included file or a built-in preset.
    File(SourceFile),
}

/// A template, and where it is written.
#[derive(Clone, Debug)]
pub(super) struct Defined {
    pub(super) decl: TemplateDecl,
    pub(super) home: Home,
    /// The included files a change to which may change the template: the
    /// one it is written in and those that include that one, outermost
    /// first, relative to the spec's folder. Empty in the spec and presets.
    pub(super) files: Vec<String>,
}

impl Defined {
    /// `file:line:column` of a span of the template, for messages.
    pub(super) fn locate(&self, span: Span) -> String {
        match &self.home {
            Home::Spec => String::new(),
            Home::File(source) => locate(source, span),
        }
    }

    /// Points a diagnostic about a use at a place in the template too: a
    /// label when the template is in the spec, the location in the help
    /// otherwise (`what` names the place: "`port` is declared").
    pub(super) fn point_at(&self, mut diag: Diagnostic, span: Span, what: &str) -> Diagnostic {
        match &self.home {
            Home::Spec => diag.secondary(span, format!("{what} here")),
            Home::File(_) => {
                let place = format!("{what} at {}", self.locate(span));
                diag.help = Some(match diag.help.take() {
                    Some(help) => format!("{help} ({place})"),
                    None => place,
                });
                diag
            }
        }
    }
}

fn locate(source: &SourceFile, span: Span) -> String {
    let before = &source.text()[..span.offset().min(source.text().len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{}:{line}:{column}", source.name())
}

/// Adds a diagnostic found in a template to the file the template is in.
pub(super) fn push_in(d: &mut Diagnostics, home: &Home, diag: Diagnostic) {
    d.push(match home {
        Home::Spec => diag,
        Home::File(source) => diag.with_source(&source.named),
    });
}
