//! The bound on nesting, shared with the engine (`crates/policy/src/syntax/scan.rs` runs the same walk
//! before pest), so that this parser refuses exactly the texts the engine refuses as too deep: at most
//! `MAX_NESTING` brackets (`(`, `[`, `{`, an example's JSON included) and `if`s open at once.
//!
//! A lexical pass in one loop and constant stack: strings (`"..."`, with `\` escapes) and comments (`#` to
//! the end of the line) are skipped; `(`, `[` and `{` open a level and `)`, `]` and `}` close one; an
//! `if` opens a level that lasts until the bracket around it closes or a new declaration or clause
//! starts (a word of [`CLAUSES`]: its branches nest in the grammar, `else if` chains included).

use crate::SyntaxError;

/// The most brackets and `if`s open at once (the engine's `MAX_NESTING`).
pub const MAX_NESTING: usize = 32;

/// Words that start a declaration or a clause: no `if` is open across them.
pub const CLAUSES: [&str; 19] = [
    "policy",
    "provider",
    "document",
    "zone",
    "enum",
    "field",
    "require",
    "constraint",
    "let",
    "action",
    "unique",
    "default",
    "rule",
    "when",
    "because",
    "cite",
    "example",
    "requires",
    "value",
];

/// The first place a text nests deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// The level it opens (`MAX_NESTING + 1`).
    pub depth: usize,
    /// The byte offset of the bracket, or of the `i` of the `if`.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// The bracket (`(`, `[`, `{`), or `i` for an `if`.
    pub opener: u8,
}

impl TooDeep {
    /// What opens the level, for a message: `` `if` `` or the bracket in backquotes.
    pub fn what(&self) -> String {
        if self.opener == b'i' {
            "`if`".to_string()
        } else {
            format!("`{}`", self.opener as char)
        }
    }

    /// The message: `` `(` is nested too deeply ``.
    pub fn message(&self) -> String {
        format!("{} is nested too deeply", self.what())
    }

    /// The label under the opener.
    pub fn label(&self) -> String {
        format!(
            "this opens level {}; at most {MAX_NESTING} brackets and `if`s may be open at once",
            self.depth
        )
    }
}

/// Walks `text`, calling `clause(word, start, inside)` at each word of [`CLAUSES`] outside strings and
/// comments (`inside`: whether a bracket is open there); stops at the first place nested deeper than
/// [`MAX_NESTING`]. A closer with nothing open is ignored (the parser's to report).
pub fn scan(text: &str, mut clause: impl FnMut(&'static str, usize, bool)) -> Result<(), TooDeep> {
    let bytes = text.as_bytes();
    // The `if`s open in each open bracket; the file itself is the bottom level.
    let mut levels: Vec<usize> = vec![0];
    let mut depth = 0usize;
    let mut at = 0;
    let too_deep = |depth: usize, start: usize, opener: u8| {
        let len = if opener == b'i' { 2 } else { 1 };
        (depth > MAX_NESTING).then_some(TooDeep {
            depth,
            start,
            end: start + len,
            opener,
        })
    };
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                at += 1;
                continue;
            }
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                levels.push(0);
                depth += 1;
                if let Some(deep) = too_deep(depth, at, byte) {
                    return Err(deep);
                }
            }
            b')' | b']' | b'}' if levels.len() > 1 => {
                let closed = levels.pop().unwrap_or(0);
                depth = depth.saturating_sub(1 + closed);
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'0'..=b'9' => {
                let start = at;
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                    at += 1;
                }
                let word = &text[start..at];
                let inside = levels.len() > 1;
                // INVARIANT: `levels` always holds the file's level.
                let Some(ifs) = levels.last_mut() else {
                    break;
                };
                if word == "if" {
                    *ifs += 1;
                    depth += 1;
                    if let Some(deep) = too_deep(depth, start, b'i') {
                        return Err(deep);
                    }
                } else if let Some(word) = CLAUSES.iter().find(|c| **c == word) {
                    depth = depth.saturating_sub(*ifs);
                    *ifs = 0;
                    clause(word, start, inside);
                }
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    Ok(())
}

/// The error for the first place nested deeper than `MAX_NESTING`, if any.
pub(crate) fn check(text: &str) -> Option<SyntaxError> {
    let deep = scan(text, |_, _, _| {}).err()?;
    Some(SyntaxError {
        code: "policy::parse::too_deep",
        message: deep.message(),
        label: deep.label(),
        start: deep.start,
        end: deep.end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_outside_strings_and_comments_with_whether_a_bracket_is_open() {
        let text = "field a: int # let\naction x {\n  rule r when \"rule\" then denied\n}\n";
        let mut seen = Vec::new();
        assert_eq!(
            scan(text, |w, at, inside| seen.push((w, at, inside))),
            Ok(())
        );
        let at = |w: &str| text.find(w).unwrap_or(0);
        assert_eq!(
            seen,
            [
                ("field", 0, false),
                ("action", at("action"), false),
                ("rule", at("rule"), true),
                ("when", at("when"), true),
            ]
        );
    }

    #[test]
    fn an_if_lasts_until_the_next_clause_and_the_first_level_too_deep_is_reported() {
        let ifs = "let a = if b then 1 else 2\n".repeat(MAX_NESTING + 1);
        assert_eq!(scan(&ifs, |_, _, _| {}), Ok(()));
        let text = "let a = ".to_string() + &"(".repeat(MAX_NESTING + 1);
        let deep = scan(&text, |_, _, _| {}).err();
        let start = 8 + MAX_NESTING;
        assert_eq!(
            deep,
            Some(TooDeep {
                depth: MAX_NESTING + 1,
                start,
                end: start + 1,
                opener: b'('
            })
        );
        assert_eq!(
            deep.map(|d| d.message()).as_deref(),
            Some("`(` is nested too deeply")
        );
    }
}
