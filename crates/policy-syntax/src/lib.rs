//! The syntax of `.policy` files as a lossless tree: a lexer that keeps every byte (white space and
//! comments as trivia tokens), an error-tolerant parser that reports every syntax error of a file and
//! still gives a tree for a half-typed one, a line index, and the formatter (`format`).
//!
//! The tree gives its text back byte for byte (`SyntaxNode::text`), whatever the input, and parsing
//! never panics and never recurses deeper than a fixed bound. The engine (`crates/policy`) still lowers
//! its AST from its pest grammar; this parser follows that grammar and accepts the same texts as the
//! grammar (see `docs/syntax.md`). The limits the engine checks after parsing, while lowering (an
//! expression deeper than its `MAX_EXPR_DEPTH`: this parser reads operand chains such as `not not ...`
//! flat), are not this parser's: it accepts, and `format` formats, such a text.

pub mod format;
pub mod kind;
pub mod lexer;
pub mod nesting;
mod parser;
pub mod tree;

pub use format::format;
pub use kind::SyntaxKind;
pub use lexer::{lex, Token};
pub use nesting::MAX_NESTING;
pub use parser::{is_keyword, MAX_PARSE_DEPTH};
pub use tree::{SyntaxElement, SyntaxNode};

/// The longest policy text, in bytes (4 MiB), as in the engine.
pub const MAX_SOURCE_LEN: usize = 4 * 1024 * 1024;

/// A syntax error: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The diagnostic code, as the engine's: `policy::parse::syntax`, `policy::parse::too_deep` or
    /// `policy::parse::too_large`.
    pub code: &'static str,
    /// One line saying what is wrong.
    pub message: String,
    /// The label under the text.
    pub label: String,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// A parsed text: its tree (always, errors or not) and its syntax errors, in the order of the text.
#[derive(Debug, Clone)]
pub struct Parse {
    /// The tree of the whole text.
    pub root: SyntaxNode,
    /// Every syntax error found; empty when the text parses.
    pub errors: Vec<SyntaxError>,
}

/// Parses a policy's text into its lossless tree, with every syntax error found.
pub fn parse(text: &str) -> Parse {
    let (root, mut errors) = parser::Parser::new(text, lexer::lex(text)).parse_file();
    if let Some(deep) = nesting::check(text) {
        if !errors.iter().any(|e| e.code == deep.code) {
            errors.push(deep);
        }
    }
    if text.len() > MAX_SOURCE_LEN {
        errors.push(SyntaxError {
            code: "policy::parse::too_large",
            message: format!(
                "the policy text is {} bytes; the most is {MAX_SOURCE_LEN} (4 MiB)",
                text.len()
            ),
            label: "the limit is passed here".to_string(),
            start: MAX_SOURCE_LEN,
            end: MAX_SOURCE_LEN,
        });
    }
    errors.sort_by_key(|e| (e.start, e.end));
    Parse { root, errors }
}

/// A text and its line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    text: String,
    lines: LineIndex,
}

impl SourceFile {
    /// The file for `text`.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let lines = LineIndex::new(&text);
        SourceFile { text, lines }
    }

    /// Its text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Its line index.
    pub fn lines(&self) -> &LineIndex {
        &self.lines
    }

    /// Its tree and syntax errors.
    pub fn parse(&self) -> Parse {
        parse(&self.text)
    }
}

/// Where each line starts: byte offsets to lines and columns and back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// The index of `text`'s lines.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The line (from 0) and the byte column in it (from 0) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        (line, offset - self.starts[line])
    }

    /// The byte offset of a line (from 0) and byte column; `None` past the last line.
    pub fn offset(&self, line: usize, col: usize) -> Option<usize> {
        self.starts.get(line).map(|s| s + col)
    }

    /// The line (from 0) and the column in UTF-16 code units (from 0) of a byte offset of `text`, as
    /// the Language Server Protocol counts positions. An offset inside a character counts from its start.
    pub fn line_col_utf16(&self, text: &str, offset: usize) -> (usize, usize) {
        let (line, _) = self.line_col(offset);
        let start = self.starts[line];
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let col = text.get(start..end).map_or(0, |s| s.encode_utf16().count());
        (line, col)
    }

    /// The byte offset of a line (from 0) and a column in UTF-16 code units, clamped to the line's end
    /// (its line feed excluded); `None` past the last line.
    pub fn offset_utf16(&self, text: &str, line: usize, col: usize) -> Option<usize> {
        let start = *self.starts.get(line)?;
        let end = self
            .starts
            .get(line + 1)
            .map_or(text.len(), |next| next - 1);
        let mut units = 0;
        for (i, c) in text.get(start..end)?.char_indices() {
            if units >= col {
                return Some(start + i);
            }
            units += c.len_utf16();
        }
        Some(end)
    }

    /// How many lines the text has (a text ending in a line feed has an empty last line).
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Never: a text has at least one line.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index() {
        let lines = LineIndex::new("ab\ncd\n");
        assert_eq!(lines.line_col(0), (0, 0));
        assert_eq!(lines.line_col(3), (1, 0));
        assert_eq!(lines.line_col(4), (1, 1));
        assert_eq!(lines.line_col(6), (2, 0));
        assert_eq!(lines.offset(1, 1), Some(4));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn utf16_columns_for_editors() {
        let text = "a\u{e9}\u{1F600}b\ncd";
        let lines = LineIndex::new(text);
        let b = text.find('b').unwrap_or(0);
        // `a` 1 unit, `é` 1, the emoji 2.
        assert_eq!(lines.line_col_utf16(text, b), (0, 4));
        assert_eq!(lines.offset_utf16(text, 0, 4), Some(b));
        assert_eq!(lines.offset_utf16(text, 0, 99), Some(b + 1));
        assert_eq!(lines.offset_utf16(text, 1, 1), Some(b + 3));
        assert_eq!(lines.offset_utf16(text, 2, 0), None);
    }
}
