//! A lexical pass over the text before pest runs, in one loop and constant stack: it refuses text nested
//! deeper than `MAX_NESTING` (pest's parser recurses once per level, and would overflow the stack long
//! before it reported anything), and notes where declarations start, for resuming after a syntax error.
//!
//! It knows only what it needs of the grammar: strings (`"..."`, with `\` escapes) and comments (`#` to
//! the end of the line) are skipped; `(`, `[` and `{` open a level and `)`, `]` and `}` close one; an
//! `if` opens a level that lasts until the bracket around it closes or a new declaration or clause
//! starts (its branches nest in the grammar, `else if` chains included).

use super::MAX_NESTING;
use crate::diagnostics::Diagnostic;
use crate::source::Span;

/// What follows a place where parsing can resume after a syntax error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resume {
    /// Declarations of the file: `enum`, `field`, `require`, `constraint`, `let`, `action`.
    Items,
    /// Entries of an action (`default`, `require`, `rule`, `example`), then its `}`, then declarations.
    ActionItems,
}

/// The outcome of the scan: where parsing may resume, in order.
#[derive(Debug, Default)]
pub(super) struct Scan {
    pub resume: Vec<(usize, Resume)>,
}

/// Words that start a declaration or a clause: no `if` is open across them.
const CLAUSES: [&str; 19] = [
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

/// One open bracket, and the `if`s opened inside it and not yet closed.
struct Level {
    ifs: usize,
}

pub(super) fn scan(text: &str) -> Result<Scan, Diagnostic> {
    let bytes = text.as_bytes();
    let mut scan = Scan::default();
    // The file itself is the bottom level; it counts no bracket.
    let mut levels = vec![Level { ifs: 0 }];
    let mut depth = 0usize;
    let mut at = 0;
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
                levels.push(Level { ifs: 0 });
                depth += 1;
                check(depth, at, byte)?;
            }
            // A closer with nothing open is pest's to report.
            b')' | b']' | b'}' if levels.len() > 1 => {
                let closed = levels.pop().map_or(0, |l| l.ifs);
                depth -= 1 + closed;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'0'..=b'9' => {
                let start = at;
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                    at += 1;
                }
                let word = &text[start..at];
                // INVARIANT: `levels` always holds the file's level.
                let Some(level) = levels.last_mut() else {
                    break;
                };
                if word == "if" {
                    level.ifs += 1;
                    depth += 1;
                    check(depth, start, b'i')?;
                } else if CLAUSES.contains(&word) {
                    depth -= level.ifs;
                    level.ifs = 0;
                    let inside = levels.len() > 1;
                    let resume = match word {
                        "enum" | "field" | "constraint" | "let" | "action" => Some(Resume::Items),
                        "require" if !inside => Some(Resume::Items),
                        "require" | "rule" | "default" | "example" if inside => {
                            Some(Resume::ActionItems)
                        }
                        _ => None,
                    };
                    if let Some(resume) = resume {
                        scan.resume.push((start, resume));
                    }
                }
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    Ok(scan)
}

/// The located error when `depth` passes the limit at `at` (a bracket, or the `i` of an `if`).
fn check(depth: usize, at: usize, byte: u8) -> Result<(), Diagnostic> {
    if depth <= MAX_NESTING {
        return Ok(());
    }
    let len = if byte == b'i' { 2 } else { 1 };
    let what = if byte == b'i' {
        "`if`".to_string()
    } else {
        format!("`{}`", byte as char)
    };
    Err(Diagnostic::error(
        "policy::parse::too_deep",
        format!("{what} is nested too deeply"),
        Span::new(at, at + len),
    )
    .with_label(format!(
        "this opens level {depth}; at most {MAX_NESTING} brackets and `if`s may be open at once"
    ))
    .with_help(
        "drop parentheses that group nothing, and name inner parts with `let` definitions; \
         an example's JSON may not nest deeper either",
    ))
}
