//! Parsing: `.policy` text to the AST (`ast`). A thin pest layer (`lower`, `expr`) turns each grammar
//! rule into its AST node at once; syntax errors become diagnostics with readable names for what was
//! expected (`errors`), every one of a file in one run.
//!
//! No input can exhaust the stack: before pest runs, `scan` bounds the nesting pest recurses on, and the
//! expression tree is built without recursion, refusing one deeper than `MAX_EXPR_DEPTH`, so that every
//! later pass over it (checker, compiler, interpreter, analysis, drop) recurses a bounded number of
//! times. The limits are chosen so that loading and deciding a policy at the limits runs on a 256 KiB
//! thread stack in a debug build (`tests/syntax_limits.rs`).

pub(crate) mod ast;
mod errors;
mod expr;
mod grammar;
mod lower;
mod scan;

use pest::Parser as _;

use crate::diagnostics::Diagnostic;
use crate::source::Span;
use ast::PolicyAst;
use grammar::{PolicyParser, Rule};

/// The longest policy text, in bytes (4 MiB): spans are `u32`, and a policy is a page or two.
pub const MAX_SOURCE_LEN: usize = 4 * 1024 * 1024;

/// The most brackets (`(`, `[`, `{`) and `if`s open at once, anywhere in the file (the JSON of examples
/// included; the braces of an action and an example count).
pub const MAX_NESTING: usize = policy_syntax::MAX_NESTING;

/// The deepest expression: the most operations on a path from the whole expression to one of its
/// operands. A chain `a + b + c` is two deep (`(a + b) + c`), `max(a, -b)` two, `(a)` none.
pub const MAX_EXPR_DEPTH: usize = 32;

/// The rounding modes `rounded` takes (`price / 3 rounded half_even`), as written.
pub const ROUNDING_MODES: [&str; 7] = ast::Rounding::NAMES;

/// Syntax errors reported for one file before the parser gives up (with a note saying so).
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// Parses a policy's text without checking it: `Ok` when it parses, else every syntax error found, as
/// [`Policy::from_source`](crate::Policy::from_source) would report them. For tools that only ask
/// whether a text parses, and to time the parser alone.
pub fn check_syntax(text: &str) -> Result<(), Vec<Diagnostic>> {
    parse(text).map(|_| ())
}

/// The lossless syntax tree (comments and layout kept) and its error-tolerant parser, for tools that
/// work on the text as written: the formatter, an editor. The engine still lowers its AST from the
/// pest grammar (`docs/syntax.md` says why); the two parsers accept the same texts as far as the
/// grammar goes. The limits the engine checks after parsing, while lowering (an expression deeper than
/// [`MAX_EXPR_DEPTH`], such as a long chain of `not`s the tree reads flat, and the lowering errors such
/// as a bad escape), are not the tree's: it accepts such a text.
pub use policy_syntax as tree;

/// Formats a policy's text in the canonical layout (`docs/fmt.md`): white space only changes, comments
/// stay where they were, and formatting a formatted text changes nothing. A text the grammar refuses
/// (a syntax error, nesting past [`MAX_NESTING`], a text past [`MAX_SOURCE_LEN`]) is not formatted: its
/// syntax errors come back, as [`check_syntax`] reports them. The errors the engine finds after
/// parsing, while lowering (an expression deeper than [`MAX_EXPR_DEPTH`], a bad escape), do not stop
/// the formatter, as type errors do not: such a text is formatted, and `policy check` still refuses it.
pub fn format(text: &str) -> Result<String, Vec<Diagnostic>> {
    match policy_syntax::format(text) {
        Ok(formatted) => Ok(formatted),
        Err(errors) => match check_syntax(text) {
            // The engine's own words for the errors, as `policy check` prints them.
            Err(diagnostics) if errors.iter().all(|e| e.code != "policy::fmt::internal") => {
                Err(diagnostics)
            }
            _ => Err(errors
                .into_iter()
                .map(|e| {
                    Diagnostic::error(e.code, e.message, Span::new(e.start, e.end))
                        .with_label(e.label)
                })
                .collect()),
        },
    }
}

/// Parses a policy file: its AST, or every syntax error found (each declaration with a syntax error is
/// reported; a declaration's other errors, such as a bad escape, only once the file parses).
pub(crate) fn parse(text: &str) -> Result<PolicyAst, Vec<Diagnostic>> {
    if text.len() > MAX_SOURCE_LEN {
        let mut at = MAX_SOURCE_LEN;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        return Err(vec![Diagnostic::error(
            "policy::parse::too_large",
            format!(
                "the policy text is {} bytes; the most is {MAX_SOURCE_LEN} (4 MiB)",
                text.len()
            ),
            Span::new(at, at),
        )
        .with_label("the limit is passed here")
        .with_help("split the policy into several files")]);
    }
    let scan = scan::scan(text).map_err(|d| vec![d])?;
    match PolicyParser::parse(Rule::file, text) {
        Ok(mut pairs) => match pairs.next() {
            Some(file) => lower::lower_file(file),
            None => Err(vec![lower::internal(Span::default())]),
        },
        Err(error) => Err(errors::syntax_errors(text, error, &scan)),
    }
}
