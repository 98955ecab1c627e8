//! Positions in a policy file and the diagnostics that point at them.

use std::fmt;
use std::ops::Range;

/// A byte range in the source text.
pub type Span = Range<usize>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One step of a path into the policy document: a key or an index into an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

/// One problem found in a policy, with where it is: a path into the document (set by
/// validation, which sees only the model) and, once resolved against the source, a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub at: Vec<Seg>,
    pub span: Option<Span>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(at: Vec<Seg>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, at, span: None, message: message.into() }
    }

    pub fn warning(at: Vec<Seg>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, at, span: None, message: message.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders as `FILE:LINE:COL: error: message`, the shape editors and CI logs understand.
    pub fn render(&self, file: &str, source: &str) -> String {
        let (line, col) = self.span.as_ref().map_or((1, 1), |s| line_col(source, s.start));
        format!("{file}:{line}:{col}: {}: {}", self.severity, self.message)
    }
}

/// One-based line and column (in characters) of a byte offset. Offsets past the end or inside
/// a character are clamped to the nearest character start before them.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = "a = 1\nnäme = 2\n";
        let at = src.find('=').unwrap();
        assert_eq!(line_col(src, at), (1, 3));
        let second = src.rfind('=').unwrap();
        assert_eq!(line_col(src, second), (2, 6));
        assert_eq!(line_col(src, 10_000), (3, 1));
    }
}
