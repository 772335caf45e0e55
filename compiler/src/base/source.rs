//! A spec's text with the name it is reported under, and the result type
//! every phase returns: warnings ride along with a success, errors come
//! back all at once.

use std::sync::Arc;

use crate::base::diagnostic::{self, Diagnostic, Span};
pub(crate) use crate::base::text::IndexedSource;

/// A spec's text and the name it is reported under.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub(crate) named: IndexedSource,
    text: Arc<str>,
}

impl SourceFile {
    pub fn new(name: impl AsRef<str>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        SourceFile {
            named: IndexedSource::new(name.as_ref(), text.clone()),
            text,
        }
    }

    pub fn name(&self) -> &str {
        self.named.name()
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl Diagnostic {
    /// Places the diagnostic in a spec file, unless it is placed already.
    pub fn in_file(self, source: &SourceFile) -> Self {
        self.with_source(&source.named)
    }
}

/// A successful result and the warnings found on the way.
#[derive(Debug)]
pub struct Warned<T> {
    pub output: T,
    pub warnings: Vec<Diagnostic>,
}

/// Either a result with its warnings, or every problem found (errors and warnings).
pub type SourceResult<T> = Result<Warned<T>, Vec<Diagnostic>>;

pub(crate) fn finish<T>(
    source: &SourceFile,
    output: Option<T>,
    d: diagnostic::Diagnostics,
) -> SourceResult<T> {
    let failed = d.has_errors() || output.is_none();
    let diags: Vec<Diagnostic> = d
        .into_sorted()
        .into_iter()
        .map(|diag| diag.with_source(&source.named))
        .collect();
    match output {
        Some(output) if !failed => Ok(Warned {
            output,
            warnings: diags,
        }),
        _ => Err(diags),
    }
}

/// A value and where it was written.
#[derive(Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// `value @start..end`: the AST snapshots stay readable.
impl<T: std::fmt::Debug> std::fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)?;
        let start = self.span.offset();
        write!(f, " @{start}..{}", start + self.span.len())
    }
}
