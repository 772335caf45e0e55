//! A named text that diagnostics point into, indexed by line.

use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// A named text with the start of every line, which diagnostics point
/// into. miette reads a span's context by scanning the text from its first
/// byte, so 10,000 diagnostics on a large spec cost 10,000 scans; this
/// starts miette's own scan at the first line it will show, so each
/// rendering costs its few lines, and the result is the same.
#[derive(Clone, Debug)]
pub(crate) struct IndexedSource {
    name: Arc<str>,
    text: Arc<str>,
    /// Byte offsets where lines start, as miette counts lines (`\n`,
    /// `\r\n` and a lone `\r` each end one).
    line_starts: Arc<[usize]>,
}

impl IndexedSource {
    pub(crate) fn new(name: &str, text: Arc<str>) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    i += 1;
                    line_starts.push(i + 1);
                }
                b'\r' | b'\n' => line_starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        IndexedSource {
            name: name.into(),
            text,
            line_starts: line_starts.into(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The 1-based line and column (in characters) of a byte offset, as
    /// SARIF counts them (`unicodeCodePoints`).
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }
}

impl SourceCode for IndexedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // The line the span starts on, and the first context line before it.
        let line = self
            .line_starts
            .partition_point(|start| *start <= span.offset())
            - 1;
        let first = line.saturating_sub(context_lines_before);
        let window = self.line_starts[first];
        let shifted = SourceSpan::new((span.offset() - window).into(), span.len());
        let bytes = &self.text.as_bytes()[window..];
        let inner = bytes.read_span(&shifted, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + window).into(), inner.span().len()),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}
