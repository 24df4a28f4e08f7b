//! Limits on checked expressions. The parser bounds an expression as written (`syntax::MAX_EXPR_DEPTH`);
//! the checker expands windows into arithmetic, and refers to definitions (`let`) that later passes
//! spell out where they are used (deadline solving and the analysis, `TExpr::expand`), so a checked
//! expression with its definitions spelled out can be deeper and larger than its text. Every later pass
//! (compiling, deciding, the analysis) recurses over checked expressions with their definitions
//! spelled out, so the same depth limit holds for them (the evaluator refuses deeper, `Fault::TooDeep`),
//! and the nodes each use of a definition stands for are counted against a budget: definitions that
//! use definitions would otherwise double the size of the spelled-out expression with each line of text.

use super::typed::{CheckedLet, TExpr};
use super::{CheckedAction, Constraint, Requirement};
use crate::diagnostics::Diagnostic;
use crate::syntax::MAX_EXPR_DEPTH;

/// The most expression nodes the uses of definitions stand for, spelled out, over a whole policy.
pub const MAX_INLINED_NODES: usize = 100_000;

/// The error for a checked expression deeper than the limit (`what` says where it comes from).
#[cold]
pub(super) fn too_deep(e: &TExpr, what: &str, lets: &[CheckedLet]) -> Option<Diagnostic> {
    let depth = e.expanded(lets).depth;
    (depth > MAX_EXPR_DEPTH).then(|| {
        Diagnostic::error(
            "policy::check::too_deep",
            format!("{what} is nested too deeply once its definitions are inlined"),
            e.span,
        )
        .with_label(format!(
            "{depth} levels deep with its definitions and windows spelled out; at most {MAX_EXPR_DEPTH}"
        ))
        .with_help(
            "definitions (`let`) are copied where they are used: a definition built on definitions \
             nests as deep as all of them; simplify the chain",
        )
    })
}

/// The error for uses of definitions that stand for more than `MAX_INLINED_NODES` nodes spelled out,
/// at the use that passes the budget.
#[cold]
pub(super) fn too_large(span: crate::source::Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "policy::check::too_large",
        format!("the policy's expressions grow too large when `{name}` is inlined here"),
        span,
    )
    .with_label(format!(
        "inlining definitions has copied more than {MAX_INLINED_NODES} expression nodes by here"
    ))
    .with_help(
        "each use of a definition copies it, and a definition that uses another twice doubles it: \
         use fewer definitions of definitions",
    )
}

/// Every checked expression deeper than the limit, reported.
pub(super) fn deep_expressions(
    constraints: &[Constraint],
    requirements: &[Requirement],
    actions: &[CheckedAction],
    lets: &[CheckedLet],
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut test = |e: &TExpr, what: &str| found.extend(too_deep(e, what, lets));
    for c in constraints {
        test(&c.condition, "this constraint");
    }
    let action_requirements = actions.iter().flat_map(|a| &a.requirements);
    for r in requirements.iter().chain(action_requirements) {
        if let Some(when) = &r.when {
            test(when, "this requirement's condition");
        }
    }
    for action in actions {
        for rule in &action.rules {
            if let Some(guard) = &rule.guard {
                test(guard, "this guard");
            }
            for e in rule.attrs.expressions().flatten() {
                test(e, "this attribute");
            }
        }
    }
    found.sort_by_key(|d| (d.span.start, d.span.end));
    found.dedup();
    found
}
