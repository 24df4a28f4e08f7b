//! The engine's bound on nesting (`crates/policy/src/syntax/scan.rs`), applied to the same text in the
//! same way, so that this parser refuses exactly the texts the engine refuses as too deep: at most
//! `MAX_NESTING` brackets (`(`, `[`, `{`, an example's JSON included) and `if`s open at once.

use crate::SyntaxError;

/// The most brackets and `if`s open at once (the engine's `MAX_NESTING`).
pub const MAX_NESTING: usize = 32;

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

/// The error for the first place nested deeper than `MAX_NESTING`, if any.
pub(crate) fn check(text: &str) -> Option<SyntaxError> {
    let bytes = text.as_bytes();
    // The `if`s open in each open bracket; the file itself is the bottom level.
    let mut levels: Vec<usize> = vec![0];
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
                levels.push(0);
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(too_deep(depth, at, byte));
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
                let Some(ifs) = levels.last_mut() else {
                    break;
                };
                if word == "if" {
                    *ifs += 1;
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Some(too_deep(depth, start, b'i'));
                    }
                } else if CLAUSES.contains(&word) {
                    depth = depth.saturating_sub(*ifs);
                    *ifs = 0;
                }
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    None
}

fn too_deep(depth: usize, at: usize, byte: u8) -> SyntaxError {
    let (what, len) = if byte == b'i' {
        ("`if`".to_string(), 2)
    } else {
        (format!("`{}`", byte as char), 1)
    };
    SyntaxError {
        code: "policy::parse::too_deep",
        message: format!("{what} is nested too deeply"),
        label: format!(
            "this opens level {depth}; at most {MAX_NESTING} brackets and `if`s may be open at once"
        ),
        start: at,
        end: at + len,
    }
}
