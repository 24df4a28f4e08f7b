//! Source files and spans. Every AST node carries a small `Copy` span; the text is attached only when a
//! diagnostic is rendered: `SourceFile` is the `miette::SourceCode` diagnostics are rendered from, shared
//! (`Arc<str>`), never copied per diagnostic.

use std::sync::{Arc, OnceLock};

use miette::{MietteError, SourceCode, SourceSpan, SpanContents};

/// A byte range in a source file. Spans never take part in equality of the nodes that carry them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// The first byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The bytes `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        // INVARIANT: policy texts are at most `syntax::MAX_SOURCE_LEN` bytes (4 MiB); `parse` refuses
        // longer ones before any span is made.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// From the start of the earlier span to the end of the later one.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The span of a quoted string without its two quotes (the text a replacement of its contents
    /// replaces).
    pub fn inside_quotes(self) -> Span {
        if self.len() < 2 {
            return self;
        }
        Span {
            start: self.start + 1,
            end: self.end - 1,
        }
    }

    /// Its length in bytes.
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// Whether it covers no byte (a place, not a stretch).
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start as usize, span.len()).into()
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(span: pest::Span<'_>) -> Self {
        Span::new(span.start(), span.end())
    }
}

/// A value with the span of the text it came from.
#[derive(Debug, Clone)]
pub(crate) struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub(crate) fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

/// Lines longer than this many bytes are never shown whole in a diagnostic: only a window around the
/// span is (a renderer pads to the column of a span, and columns past 65,535 cannot be padded).
pub const MAX_SHOWN_LINE: usize = 400;
/// On a long line: the bytes shown before a span, the most of a span underlined, the bytes shown after.
const WINDOW_BEFORE: usize = 60;
const WINDOW_SPAN: usize = 160;
const WINDOW_AFTER: usize = 60;

/// A policy's text and the name it is reported under (usually its path).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name diagnostics give it.
    pub name: Arc<str>,
    /// The policy's text.
    pub text: Arc<str>,
    /// Where each line starts, computed when first needed (rendering a diagnostic) and shared by clones.
    line_starts: Arc<OnceLock<Vec<usize>>>,
}

impl SourceFile {
    /// The text `text`, reported as `name`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
            line_starts: Arc::default(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = floor_boundary(&self.text, offset as usize);
        let line = self.line_of(offset);
        (line + 1, self.column(line, offset) + 1)
    }

    /// The part of `span` a diagnostic underlines: the span itself, unless it touches a line longer
    /// than `MAX_SHOWN_LINE`; then its start, on its first line, at most a window long.
    pub fn shown(&self, span: Span) -> Span {
        let (start, end) = self.bounds(span.start as usize, span.end as usize);
        let first = self.line_of(start);
        let last = self.line_of(end.saturating_sub(1).max(start));
        if !(first..=last).any(|line| self.is_long(line)) {
            return Span::new(start, end);
        }
        // A span starting on the `\n` of a CRLF line ends before its start on that line: keep it empty.
        let end = end
            .min(self.line_end(first))
            .min(start + WINDOW_SPAN)
            .max(start);
        Span::new(start, ceil_boundary(&self.text, end))
    }

    fn starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(at, _)| at + 1))
                .collect()
        })
    }

    /// The 0-based line holding a byte offset (the end of the text belongs to the last line).
    fn line_of(&self, offset: usize) -> usize {
        self.starts()
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    fn line_start(&self, line: usize) -> usize {
        self.starts().get(line).copied().unwrap_or(self.text.len())
    }

    /// Where the next line starts (after the `\n`), or the end of the text.
    fn next_line_start(&self, line: usize) -> usize {
        self.starts()
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The end of a line's text, before its `\n` or `\r\n`.
    fn line_end(&self, line: usize) -> usize {
        let (start, next) = (self.line_start(line), self.next_line_start(line));
        let text = &self.text[start..next];
        start + text.trim_end_matches('\n').trim_end_matches('\r').len()
    }

    fn is_long(&self, line: usize) -> bool {
        self.next_line_start(line) - self.line_start(line) > MAX_SHOWN_LINE
    }

    /// 0-based column, in characters, of an offset on a line (a byte-order mark opening the file is
    /// not a column).
    fn column(&self, line: usize, offset: usize) -> usize {
        let mut start = self.line_start(line).min(offset);
        if start == 0 && self.text.starts_with('\u{feff}') {
            start = '\u{feff}'.len_utf8().min(offset);
        }
        self.text[start..offset].chars().count()
    }

    /// A byte range clamped to the text, on character boundaries.
    fn bounds(&self, start: usize, end: usize) -> (usize, usize) {
        let start = floor_boundary(&self.text, start);
        (start, ceil_boundary(&self.text, end.max(start)))
    }
}

/// The largest character boundary at or before `at` (the text's end at most).
fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The smallest character boundary at or after `at` (the text's end at most).
fn ceil_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// What `SourceFile` hands miette: a slice of the shared text, with its place in the file.
struct Excerpt<'a> {
    name: &'a str,
    data: &'a [u8],
    span: SourceSpan,
    line: usize,
    column: usize,
    line_count: usize,
}

impl<'a> SpanContents<'a> for Excerpt<'a> {
    fn data(&self) -> &'a [u8] {
        self.data
    }

    fn span(&self) -> &SourceSpan {
        &self.span
    }

    fn name(&self) -> Option<&str> {
        Some(self.name)
    }

    fn line(&self) -> usize {
        self.line
    }

    fn column(&self) -> usize {
        self.column
    }

    fn line_count(&self) -> usize {
        self.line_count
    }
}

/// Reads like miette's own `str` source (the span's lines with the context lines asked for; the span's
/// line and column), with a line index instead of a scan from the start, and never a whole long line:
/// a span on a line longer than `MAX_SHOWN_LINE` is shown through a window of that line, and context
/// lines that long are left out.
impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &'a str = &self.text;
        let (start, end) = (span.offset(), span.offset() + span.len());
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let (start, end) = self.bounds(start, end);
        let first = self.line_of(start);
        let last = self.line_of(end.saturating_sub(1).max(start));
        let (data_start, data_end, line) = if (first..=last).any(|l| self.is_long(l)) {
            if first != last || end - start > WINDOW_SPAN {
                // Only miette asks for such a span, to show two labels in one snippet: refusing
                // makes it show them apart.
                return Err(MietteError::OutOfBounds);
            }
            let line_start = self.line_start(first);
            let window_start =
                floor_boundary(text, start.saturating_sub(WINDOW_BEFORE).max(line_start));
            let window_end = ceil_boundary(text, (end + WINDOW_AFTER).min(self.line_end(first)));
            (window_start, window_end.max(end), first)
        } else {
            let mut top = first.saturating_sub(context_lines_before);
            while top < first && self.is_long(top) {
                top += 1;
            }
            let last_line = self.line_of(text.len());
            let mut bottom = (last + context_lines_after).min(last_line);
            while bottom > last && self.is_long(bottom) {
                bottom -= 1;
            }
            let data_start = if context_lines_before == 0 {
                start
            } else {
                self.line_start(top)
            };
            (data_start, self.next_line_start(bottom), top)
        };
        Ok(Box::new(Excerpt {
            name: &self.name,
            data: &text.as_bytes()[data_start..data_end],
            span: (data_start, data_end - data_start).into(),
            line: if context_lines_before == 0 {
                first
            } else {
                line
            },
            column: if context_lines_before == 0 {
                self.column(first, start)
            } else {
                0
            },
            line_count: self.line_of(data_end),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let file = SourceFile::new("t", "ab\n\u{e9}cd\n\nx");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(6), (2, 3));
        assert_eq!(file.line_col(9), (4, 1));
        assert_eq!(file.line_col(10), (4, 2));
        assert_eq!(file.line_col(99), (4, 2));
        let file = SourceFile::new("t", "\u{feff}policy x");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (1, 1));
        assert_eq!(file.line_col(4), (1, 2));
    }

    #[test]
    fn reads_like_miettes_own_source_on_short_lines() {
        let text = "first line\nsecond line\nthird line\nfourth\n";
        let file = SourceFile::new("t", text);
        for (offset, len) in [(0, 3), (12, 4), (11, 11), (5, 20), (23, 0), (34, 6)] {
            for context in [0, 1] {
                let span: SourceSpan = (offset, len).into();
                let ours = file.read_span(&span, context, context).unwrap();
                let theirs = text.read_span(&span, context, context).unwrap();
                assert_eq!(ours.line(), theirs.line(), "{offset}+{len} ({context})");
                assert_eq!(ours.column(), theirs.column(), "{offset}+{len} ({context})");
                if context > 0 {
                    assert_eq!(ours.line_count(), theirs.line_count(), "{offset}+{len}");
                    assert_eq!(ours.data(), theirs.data(), "{offset}+{len}");
                    assert_eq!(ours.span(), theirs.span(), "{offset}+{len}");
                }
            }
        }
    }

    #[test]
    fn a_long_line_is_read_through_a_window() {
        let text = format!("short\n{}x{}\nend\n", "a".repeat(100_000), "b".repeat(1000));
        let file = SourceFile::new("t", text.as_str());
        let at = 6 + 100_000;
        let contents = file.read_span(&(at, 1).into(), 1, 1).unwrap();
        assert!(contents.data().len() <= WINDOW_BEFORE + WINDOW_SPAN + WINDOW_AFTER);
        assert_eq!(contents.line(), 1);
        let header = file.read_span(&(at, 1).into(), 0, 0).unwrap();
        assert_eq!((header.line(), header.column()), (1, 100_000));
        assert_eq!(
            file.shown(Span::new(6, text.len())),
            Span::new(6, 6 + WINDOW_SPAN)
        );
        assert_eq!(file.shown(Span::new(0, 3)), Span::new(0, 3));
    }
}
