//! What expansion made, so that later passes can name the template and
//! the use in their diagnostics about expanded stages.

use kdl::KdlDocument;

use crate::base::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::cache::normalize_context_path;
use crate::frontend::ast::StageDecl;
use crate::frontend::expand::home::{Defined, Home};
use crate::frontend::template::UseDecl;

/// What expansion made, so that later passes' diagnostics about expanded
/// stages can name the template and the use.
#[derive(Debug, Default)]
pub struct Expansions {
    uses: Vec<UseRecord>,
}

#[derive(Debug)]
struct UseRecord {
    image: String,
    template: String,
    /// The whole use node, its `template=` and its block.
    node: Span,
    template_span: Span,
    block: Option<Span>,
    definition: Definition,
    /// The included files the template depends on (`Defined::files`).
    files: Vec<String>,
    /// The stages and the image the use made.
    made: Vec<String>,
}

#[derive(Debug)]
enum Definition {
    /// In the spec: the template's name and whole node.
    Spec { body: Span },
    /// `file:line:column` of the template elsewhere.
    Elsewhere(String),
}

/// A relative path without `.` parts and with `x/..` pairs folded, as an
/// include's path names a file (the loader proved it stays inside).
fn lexical(path: &str) -> String {
    let normal = normalize_context_path(path);
    let mut parts: Vec<&str> = Vec::new();
    for part in normal.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "" => {}
            part => parts.push(part),
        }
    }
    parts.join("/")
}

fn contains(outer: Span, inner: Span) -> bool {
    inner.offset() >= outer.offset() && inner.offset() + inner.len() <= outer.offset() + outer.len()
}

impl Expansions {
    /// Notes a use of `template`, before it is expanded.
    pub(super) fn record(&mut self, use_: &UseDecl, template: &Defined) {
        self.uses.push(UseRecord {
            image: use_.name.value.clone(),
            template: template.decl.name.value.clone(),
            node: use_.span,
            template_span: use_.template.span,
            block: use_.block.as_ref().map(KdlDocument::span),
            definition: match &template.home {
                Home::Spec => Definition::Spec {
                    body: template.decl.span,
                },
                Home::File(_) => Definition::Elsewhere(template.locate(template.decl.span)),
            },
            files: template.files.iter().map(|f| lexical(f)).collect(),
            made: Vec::new(),
        });
    }

    /// Notes the stages the last recorded use made.
    pub(super) fn made(&mut self, stages: &[StageDecl]) {
        if let Some(record) = self.uses.last_mut() {
            record.made = stages.iter().map(|s| s.name.value.clone()).collect();
        }
    }

    /// The stages (and images) made from templates that a change to
    /// `changed` (a file or a folder, relative to the spec's folder) may
    /// change: those written in a file it is or holds, or in a file such a
    /// file includes.
    pub fn made_from(&self, changed: &str) -> impl Iterator<Item = &str> {
        let changed = lexical(changed);
        self.uses
            .iter()
            .filter(move |u| {
                u.files.iter().any(|f| {
                    changed.is_empty()
                        || *f == changed
                        || f.strip_prefix(changed.as_str())
                            .is_some_and(|rest| rest.starts_with('/'))
                })
            })
            .flat_map(|u| u.made.iter().map(String::as_str))
    }

    /// The template image `image` was made from, and whether that template
    /// is written in the spec itself (rather than a preset or an included file).
    pub fn template_of(&self, image: &str) -> Option<(&str, bool)> {
        self.uses.iter().find(|u| u.image == image).map(|u| {
            (
                u.template.as_str(),
                matches!(u.definition, Definition::Spec { .. }),
            )
        })
    }

    /// Adds the template's side to diagnostics found in expanded stages:
    /// a label on each use of a template written in the spec, or where a
    /// template from another file is defined. Identical diagnostics (one
    /// per use of a template) are reported once.
    pub fn annotate(&self, d: Diagnostics) -> Diagnostics {
        let mut out = Diagnostics::default();
        // Code, message and label positions: what makes two reports the same.
        type Identity = (Code, String, Vec<(usize, usize)>);
        let mut seen: Vec<Identity> = Vec::new();
        for mut diag in d {
            let about_templates = diag.code.as_str().starts_with("stowplan::template::");
            if !self.uses.is_empty() && !about_templates && diag.source_name().is_none() {
                diag = self.annotate_one(diag);
            }
            let key = (
                diag.code,
                diag.message.clone(),
                diag.labels
                    .iter()
                    .map(|l| (l.span.offset(), l.span.len()))
                    .collect(),
            );
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            out.push(diag);
        }
        out
    }

    fn annotate_one(&self, mut diag: Diagnostic) -> Diagnostic {
        let spans: Vec<Span> = diag.labels.iter().map(|l| l.span).collect();
        let Some(primary) = diag.labels.iter().find(|l| l.primary).map(|l| l.span) else {
            return diag;
        };
        for record in &self.uses {
            match &record.definition {
                Definition::Spec { body } if spans.iter().any(|s| contains(*body, *s)) => {
                    diag = diag.secondary(
                        record.template_span,
                        format!("`{}` uses template `{}`", record.image, record.template),
                    );
                }
                Definition::Elsewhere(place)
                    if contains(record.node, primary)
                        && !record.block.is_some_and(|b| contains(b, primary)) =>
                {
                    let note = format!("in template `{}`, defined at {place}", record.template);
                    diag.help = Some(match diag.help.take() {
                        Some(help) => format!("{help} ({note})"),
                        None => note,
                    });
                    return diag;
                }
                _ => {}
            }
        }
        diag
    }
}
