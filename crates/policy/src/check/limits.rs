//! Limits on checked expressions. The parser bounds an expression as written (`syntax::MAX_EXPR_DEPTH`);
//! the checker inlines each definition (`let`) where it is used and expands windows into arithmetic, so
//! a checked expression can be deeper and larger than its text. Every later pass (compiling, deciding,
//! the analysis) recurses over checked expressions, so the same depth limit holds for them, and the
//! nodes copied by inlining are counted against a budget: definitions that use definitions would
//! otherwise double the size of an expression with each line of text.

use super::typed::{TExpr, TKind};
use super::{CheckedAction, Constraint, Requirement};
use crate::diagnostics::Diagnostic;
use crate::syntax::MAX_EXPR_DEPTH;

/// The most expression nodes the checker copies while inlining definitions, over a whole policy.
pub const MAX_INLINED_NODES: usize = 100_000;

impl TExpr {
    /// The most operations on a path from this expression to a leaf, and its number of nodes. Walks the
    /// tree with a stack of its own: the tree may be deeper than the limit.
    pub fn depth_and_size(&self) -> (usize, usize) {
        let (mut deepest, mut size) = (0, 0);
        let mut stack = vec![(self, 0usize)];
        while let Some((e, depth)) = stack.pop() {
            size += 1;
            deepest = deepest.max(depth);
            let below = depth + 1;
            match &e.kind {
                TKind::Const(_)
                | TKind::Field(_)
                | TKind::Now
                | TKind::Present(_)
                | TKind::Edge(_) => {}
                TKind::Not(a)
                | TKind::InSet(a, _)
                | TKind::Neg(a)
                | TKind::DateOf(a)
                | TKind::StartOfDay(a)
                | TKind::Round(a, _, _) => stack.push((a, below)),
                TKind::And(a, b)
                | TKind::Or(a, b)
                | TKind::Cmp(_, a, b)
                | TKind::Arith(_, a, b)
                | TKind::Min(a, b)
                | TKind::Max(a, b) => stack.extend([(&**a, below), (&**b, below)]),
                TKind::If(c, a, b) => stack.extend([(&**c, below), (&**a, below), (&**b, below)]),
            }
        }
        (deepest, size)
    }
}

/// The error for a checked expression deeper than the limit (`what` says where it comes from).
#[cold]
pub(super) fn too_deep(e: &TExpr, what: &str) -> Option<Diagnostic> {
    let (depth, _) = e.depth_and_size();
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

/// The error for inlining past `MAX_INLINED_NODES`, at the use of a definition that passes it.
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
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut test = |e: &TExpr, what: &str| found.extend(too_deep(e, what));
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
            let attrs = &rule.attrs;
            for e in [
                &attrs.amount,
                &attrs.refund_to,
                &attrs.review,
                &attrs.review_by,
                &attrs.next_status,
            ]
            .into_iter()
            .flatten()
            .chain(attrs.values.iter().map(|(_, e)| e))
            {
                test(e, "this attribute");
            }
        }
    }
    found.sort_by_key(|d| (d.span.start, d.span.end));
    found.dedup();
    found
}
