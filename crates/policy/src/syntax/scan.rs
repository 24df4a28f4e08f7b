//! A lexical pass over the text before pest runs, in one loop and constant stack: it refuses text nested
//! deeper than `MAX_NESTING` (pest's parser recurses once per level, and would overflow the stack long
//! before it reported anything), and notes where declarations start, for resuming after a syntax error.
//!
//! The walk and the nesting rule are the lossless parser's (`policy_syntax::nesting`), shared so that
//! both refuse the same texts: strings and comments are skipped; `(`, `[` and `{` open a level and `)`,
//! `]` and `}` close one; an `if` opens a level that lasts until the bracket around it closes or a new
//! declaration or clause starts (its branches nest in the grammar, `else if` chains included).

use crate::diagnostics::Diagnostic;
use crate::source::Span;
use policy_syntax::nesting::TooDeep;

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

pub(super) fn scan(text: &str) -> Result<Scan, Diagnostic> {
    let mut scan = Scan::default();
    policy_syntax::nesting::scan(text, |word, start, inside| {
        let resume = match word {
            "enum" | "field" | "constraint" | "let" | "action" => Some(Resume::Items),
            "require" if !inside => Some(Resume::Items),
            "require" | "rule" | "default" | "example" if inside => Some(Resume::ActionItems),
            _ => None,
        };
        if let Some(resume) = resume {
            scan.resume.push((start, resume));
        }
    })
    .map_err(too_deep)?;
    Ok(scan)
}

/// The located error for the first place nested too deeply (a bracket, or an `if`).
fn too_deep(deep: TooDeep) -> Diagnostic {
    Diagnostic::error(
        "policy::parse::too_deep",
        deep.message(),
        Span::new(deep.start, deep.end),
    )
    .with_label(deep.label())
    .with_help(
        "drop parentheses that group nothing, and name inner parts with `let` definitions; \
         an example's JSON may not nest deeper either",
    )
}
