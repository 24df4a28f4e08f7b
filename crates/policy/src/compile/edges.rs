//! Solving a guard's comparisons with the request time: each becomes an `Edge`, `sign * x op bound`,
//! where only `x` (the request instant, or its date) moves while the deadline is sought.

use crate::check::typed::{ArithOp, CheckedLet, CmpOp, TExpr, TKind};
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use crate::value::Type;

/// The most time comparisons one action may hold; their edges are kept on the stack per decision.
pub const MAX_EDGES: usize = 16;

/// `sign * X + Σ terms = other`, solved for X, where X is the request instant (in nanoseconds) or the
/// number of its date (in days, `date(now + shift)`).
#[derive(Debug, Clone)]
pub struct Edge {
    /// Where the comparison is written (`policy test --coverage` names the edges by it).
    pub span: Span,
    /// The comparison, as written: `linear op other` when `linear_left`, else `other op linear`.
    pub op: CmpOp,
    pub linear_left: bool,
    pub on_date: bool,
    pub sign: i64,
    /// Inside `date(...)`: durations added to `now` before its date is taken.
    pub shift: Vec<(i64, TExpr)>,
    pub terms: Vec<(i64, TExpr)>,
    pub other: TExpr,
}

/// A form linear in the request time.
struct Linear {
    on_date: bool,
    sign: i64,
    shift: Vec<(i64, TExpr)>,
    terms: Vec<(i64, TExpr)>,
}

impl Linear {
    fn negated(mut self) -> Linear {
        self.sign = -self.sign;
        for (s, _) in &mut self.terms {
            *s = -*s;
        }
        self
    }
}

#[cold]
fn unsolvable(span: Span, why: &str) -> Diagnostic {
    Diagnostic::error(
        "policy::compile::unsolvable_time",
        format!("the deadline cannot be computed from this comparison: {why}"),
        span,
    )
    .with_label("uses `now` here")
    .with_help(
        "keep `now` on one side, shifted only by durations or calendar days: `now < paid_at + 168 hours`, \
         `date(now) <= date(paid_at) + 5 business days`",
    )
}

/// The guard with each comparison with the request time replaced by an `Edge` node, the edges
/// pushed to `edges`. A definition that reads `now` is spelled out where it is used, so that each of
/// its comparisons becomes an edge; one that does not stays a reference.
pub(super) fn solve(
    e: &TExpr,
    edges: &mut Vec<Edge>,
    lets: &[CheckedLet],
) -> Result<TExpr, Diagnostic> {
    if !e.uses_now(lets) {
        return Ok(e.clone());
    }
    let node = |kind| TExpr::new(kind, e.ty, e.span);
    let solve = |e: &TExpr, edges: &mut Vec<Edge>| solve(e, edges, lets);
    match &e.kind {
        TKind::Let(_) => match e.substituted(lets) {
            Some(value) => solve(&value, edges),
            None => Err(unsolvable(e.span, "it is not a comparison")),
        },
        TKind::Not(a) => Ok(node(TKind::Not(Box::new(solve(a, edges)?)))),
        TKind::And(a, b) => Ok(node(TKind::And(
            Box::new(solve(a, edges)?),
            Box::new(solve(b, edges)?),
        ))),
        TKind::Or(a, b) => Ok(node(TKind::Or(
            Box::new(solve(a, edges)?),
            Box::new(solve(b, edges)?),
        ))),
        TKind::If(c, a, b) => Ok(node(TKind::If(
            Box::new(solve(c, edges)?),
            Box::new(solve(a, edges)?),
            Box::new(solve(b, edges)?),
        ))),
        TKind::Cmp(op, a, b) => {
            let (left, right) = (linear(a, lets)?, linear(b, lets)?);
            let (form, other, linear_left) = match (left, right) {
                (Some(form), None) => (form, (**b).clone(), true),
                (None, Some(form)) => (form, (**a).clone(), false),
                _ => return Err(unsolvable(e.span, "`now` is on both sides")),
            };
            let index = u16::try_from(edges.len()).unwrap_or(u16::MAX);
            edges.push(Edge {
                span: e.span,
                op: *op,
                linear_left,
                on_date: form.on_date,
                sign: form.sign,
                shift: form.shift,
                terms: form.terms,
                other,
            });
            Ok(node(TKind::Edge(index)))
        }
        _ => Err(unsolvable(e.span, "it is not a comparison")),
    }
}

/// `Some` form if `e` depends on the request time linearly, `None` if it does not depend on it.
fn linear(e: &TExpr, lets: &[CheckedLet]) -> Result<Option<Linear>, Diagnostic> {
    if !e.uses_now(lets) {
        return Ok(None);
    }
    let linear = |e: &TExpr| linear(e, lets);
    let both = |a: &TExpr, b: &TExpr| -> Result<(Option<Linear>, Option<Linear>), Diagnostic> {
        Ok((linear(a)?, linear(b)?))
    };
    match &e.kind {
        TKind::Let(_) => match e.substituted(lets) {
            Some(value) => linear(&value),
            None => Ok(None),
        },
        TKind::Now => Ok(Some(Linear {
            on_date: false,
            sign: 1,
            shift: Vec::new(),
            terms: Vec::new(),
        })),
        TKind::Neg(a) => Ok(linear(a)?.map(Linear::negated)),
        TKind::DateOf(a) => match linear(a)? {
            Some(form) if !form.on_date && form.sign == 1 => Ok(Some(Linear {
                on_date: true,
                sign: 1,
                shift: form.terms,
                terms: Vec::new(),
            })),
            _ => Err(unsolvable(
                e.span,
                "the date of this instant does not move forward with `now`",
            )),
        },
        TKind::Arith(
            op @ (ArithOp::AddNanos
            | ArithOp::SubNanos
            | ArithOp::DateAddDays
            | ArithOp::DateSubDays
            | ArithOp::DateDiff
            | ArithOp::AddInt
            | ArithOp::SubInt),
            a,
            b,
        ) => {
            let adds = matches!(
                op,
                ArithOp::AddNanos | ArithOp::DateAddDays | ArithOp::AddInt
            );
            match both(a, b)? {
                (Some(mut form), None) => {
                    form.terms.push((if adds { 1 } else { -1 }, (**b).clone()));
                    Ok(Some(form))
                }
                (None, Some(form)) => {
                    let mut form = if adds { form } else { form.negated() };
                    form.terms.push((1, (**a).clone()));
                    Ok(Some(form))
                }
                _ => Err(unsolvable(e.span, "`now` is on both sides")),
            }
        }
        // A count of days is the same number as an integer: the deadline stays exact.
        TKind::Count(a, _) if matches!(a.ty, Type::Days | Type::BusinessDays) => linear(a),
        TKind::Count(..) => Err(unsolvable(
            e.span,
            "a duration counted in whole units moves in steps with `now`; compare the duration \
             itself: `now - paid_at < 24 hours`",
        )),
        TKind::Arith(
            ArithOp::DateAddMonths
            | ArithOp::DateSubMonths
            | ArithOp::TimeAddMonths
            | ArithOp::TimeSubMonths,
            _,
            _,
        ) => Err(unsolvable(
            e.span,
            "calendar months are added to the request time; add them to the other side instead: \
             `date(now) <= date(paid_at) + 1 calendar month`",
        )),
        TKind::Arith(ArithOp::DateAddBusiness | ArithOp::DateSubBusiness, _, _) => Err(unsolvable(
            e.span,
            "business days are added to the request's date; add them to the other side instead",
        )),
        _ => Err(unsolvable(
            e.span,
            "`now` is used inside a form that cannot be solved for it",
        )),
    }
}
