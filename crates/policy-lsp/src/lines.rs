//! Byte offsets of a text to the protocol's positions and back: lines, and columns counted in UTF-16
//! code units (the protocol's default) or in bytes (UTF-8, when the client offers it).

use lsp_types::Position;

/// How a column is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-16 code units: the protocol's default.
    Utf16,
    /// Bytes.
    Utf8,
}

/// Where each line of a text starts.
#[derive(Debug, Clone)]
pub struct Lines {
    starts: Vec<usize>,
    encoding: Encoding,
}

impl Lines {
    /// The lines of `text` (a line ends after `\n`; a `\r` before it counts as part of the line).
    pub fn new(text: &str, encoding: Encoding) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts, encoding }
    }

    /// The position of byte `offset` (clamped to the text, and back to a character's start).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let before = text.get(start..offset).unwrap_or("");
        let column = match self.encoding {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.encode_utf16().count(),
        };
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    /// The byte offset of `position` (a column past the line's end means its end, a line past the
    /// text's end the text's end; a column inside a character means that character's start).
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(position.line as usize + 1)
            .copied()
            .unwrap_or(text.len());
        let line = text.get(start..end).unwrap_or("");
        let line = line.strip_suffix('\n').unwrap_or(line);
        let wanted = position.character as usize;
        let mut counted = 0;
        for (i, c) in line.char_indices() {
            if counted >= wanted {
                return start + i;
            }
            counted += match self.encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if counted > wanted {
                return start + i;
            }
        }
        start + line.len()
    }

    /// The protocol's range of the bytes `span`.
    pub fn range(&self, text: &str, span: policy::source::Span) -> lsp_types::Range {
        lsp_types::Range {
            start: self.position(text, span.start as usize),
            end: self.position(text, span.end as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units_or_bytes() {
        let text = "ab\n\u{e9}\u{1f600}x\nlast";
        let utf16 = Lines::new(text, Encoding::Utf16);
        let x = text.find('x').unwrap();
        assert_eq!(utf16.position(text, x), Position::new(1, 3));
        assert_eq!(utf16.offset(text, Position::new(1, 3)), x);
        let utf8 = Lines::new(text, Encoding::Utf8);
        assert_eq!(utf8.position(text, x), Position::new(1, 6));
        assert_eq!(utf8.offset(text, Position::new(1, 6)), x);
        // Past the end of a line, of the text; inside a character.
        assert_eq!(utf16.offset(text, Position::new(0, 99)), 2);
        assert_eq!(utf16.offset(text, Position::new(9, 0)), text.len());
        assert_eq!(
            utf16.offset(text, Position::new(1, 2)),
            text.find('\u{1f600}').unwrap()
        );
        assert_eq!(utf16.position(text, text.len() + 5), Position::new(2, 4));
        assert_eq!(utf16.position(text, x - 1), Position::new(1, 1));
    }
}
