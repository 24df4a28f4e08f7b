//! Compiling: a `CheckedPolicy` to a `Program` the evaluator runs, with every time edge solved.
//!
//! A decision's `deadline` is the first instant at which the outcome would turn `denied` if only time
//! passed. Every comparison in a guard that involves `now` is linear in the request time: either in the
//! instant itself (`now < paid_at + 168 hours`, `now - issued_at >= 7 days`) or in its date
//! (`date(now) - date(paid_at) <= 5 calendar days`). Solving each for `now` gives the instants where it
//! can flip; between two such instants no guard changes, so evaluating the rules at each instant in turn
//! finds the deadline exactly. A comparison that cannot be solved is a diagnostic here, not a guess later.

use crate::check::typed::{ArithOp, CmpOp, TExpr, TKind};
use crate::check::CheckedPolicy;
use crate::contract::Reasons;
use crate::diagnostics::Diagnostic;
use crate::value::Type;

/// The most time comparisons one action may hold; their edges are kept on the stack per decision.
pub const MAX_EDGES: usize = 16;

/// A checked policy ready to evaluate.
#[derive(Debug)]
pub struct Program {
    pub policy: CheckedPolicy,
    /// Per action (parallel to `policy.actions`), the comparisons whose truth moves with the request time.
    pub edges: Vec<Vec<Edge>>,
    /// Per action and rule, the guard as the evaluator runs it: each comparison with the request time
    /// replaced by its solved `Edge`.
    pub guards: Vec<Vec<Option<TExpr>>>,
    /// Per action, the rules (of the first 64) whose guard does not read the request time: while the
    /// deadline is sought, their truth is computed once.
    pub timeless: Vec<u64>,
    /// Slots the evaluator reads by role.
    pub requested_at: Option<u16>,
    pub id: Option<u16>,
    pub currency: Option<u16>,
    /// Names and texts every decision borrows.
    pub outputs: Outputs,
}

#[derive(Debug)]
pub struct Outputs {
    pub policy: Box<str>,
    pub actions: Vec<ActionOutputs>,
    /// Per enum, its values' names (for `next_status` and `values` of enum type).
    pub enum_values: Vec<Vec<Box<str>>>,
}

#[derive(Debug)]
pub struct ActionOutputs {
    pub name: Box<str>,
    /// The reason of a decision no rule makes.
    pub no_rule: Reasons,
    pub rules: Vec<RuleOutputs>,
}

#[derive(Debug)]
pub struct RuleOutputs {
    pub id: Box<str>,
    pub because: Reasons,
    pub requires: Box<[&'static str]>,
    /// The names of the rule's `values`, in order.
    pub value_names: Vec<Box<str>>,
}

impl Outputs {
    fn new(policy: &CheckedPolicy) -> Outputs {
        Outputs {
            policy: policy.name.as_str().into(),
            actions: policy
                .actions
                .iter()
                .map(|action| ActionOutputs {
                    name: action.name.as_str().into(),
                    no_rule: Reasons::new(vec![format!(
                        "no rule of action `{}` decides this order: the published rules leave this case open",
                        action.name
                    )]),
                    rules: action
                        .rules
                        .iter()
                        .map(|rule| RuleOutputs {
                            id: rule.id.as_str().into(),
                            because: Reasons::new(rule.because.clone()),
                            requires: rule.attrs.requires.iter().map(|s| s.as_str()).collect(),
                            value_names: rule
                                .attrs
                                .values
                                .iter()
                                .map(|(name, _)| name.as_str().into())
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            enum_values: policy
                .enums
                .iter()
                .map(|e| e.variants.iter().map(|v| v.as_str().into()).collect())
                .collect(),
        }
    }
}

/// `sign * X + Σ terms = other`, solved for X, where X is the request instant (in nanoseconds) or the
/// number of its date (in days, `date(now + shift)`).
#[derive(Debug, Clone)]
pub struct Edge {
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

pub fn compile(policy: CheckedPolicy) -> Result<Program, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut edges = Vec::with_capacity(policy.actions.len());
    let mut guards = Vec::with_capacity(policy.actions.len());
    for action in &policy.actions {
        let mut action_edges = Vec::new();
        let mut action_guards = Vec::with_capacity(action.rules.len());
        for rule in &action.rules {
            action_guards.push(match &rule.guard {
                Some(guard) => match solve_edges(guard, &mut action_edges) {
                    Ok(solved) => Some(solved),
                    Err(d) => {
                        diagnostics.push(d);
                        None
                    }
                },
                None => None,
            });
        }
        guards.push(action_guards);
        if action_edges.len() > MAX_EDGES {
            diagnostics.push(
                Diagnostic::error(
                    "policy::compile::too_many_windows",
                    format!(
                        "action `{}` compares the request time {} times; at most {MAX_EDGES} are supported",
                        action.name,
                        action_edges.len()
                    ),
                    action.span,
                )
                .with_help("name repeated windows once with `let` and reuse them"),
            );
        }
        edges.push(action_edges);
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let slot = |name: &str, ty: Option<Type>| {
        policy
            .fields
            .iter()
            .position(|f| f.name == name && ty.is_none_or(|t| f.ty == t))
            .map(|i| i as u16)
    };
    let timeless = policy
        .actions
        .iter()
        .map(|action| {
            action
                .rules
                .iter()
                .take(64)
                .enumerate()
                .fold(0u64, |mask, (i, rule)| {
                    if rule.guard.as_ref().is_some_and(TExpr::uses_now) {
                        mask
                    } else {
                        mask | 1 << i
                    }
                })
        })
        .collect();
    Ok(Program {
        guards,
        outputs: Outputs::new(&policy),
        timeless,
        requested_at: slot("requested_at", Some(Type::Timestamp)),
        id: slot("id", Some(Type::Str)),
        currency: slot("currency", Some(Type::Str)),
        edges,
        policy,
    })
}

#[cold]
fn unsolvable(span: crate::source::Span, why: &str) -> Diagnostic {
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
/// pushed to `edges`.
fn solve_edges(e: &TExpr, edges: &mut Vec<Edge>) -> Result<TExpr, Diagnostic> {
    if !e.uses_now() {
        return Ok(e.clone());
    }
    let node = |kind| TExpr::new(kind, e.ty, e.span);
    match &e.kind {
        TKind::Not(a) => Ok(node(TKind::Not(Box::new(solve_edges(a, edges)?)))),
        TKind::And(a, b) => Ok(node(TKind::And(
            Box::new(solve_edges(a, edges)?),
            Box::new(solve_edges(b, edges)?),
        ))),
        TKind::Or(a, b) => Ok(node(TKind::Or(
            Box::new(solve_edges(a, edges)?),
            Box::new(solve_edges(b, edges)?),
        ))),
        TKind::If(c, a, b) => Ok(node(TKind::If(
            Box::new(solve_edges(c, edges)?),
            Box::new(solve_edges(a, edges)?),
            Box::new(solve_edges(b, edges)?),
        ))),
        TKind::Cmp(op, a, b) => {
            let (left, right) = (linear(a)?, linear(b)?);
            let (form, other, linear_left) = match (left, right) {
                (Some(form), None) => (form, (**b).clone(), true),
                (None, Some(form)) => (form, (**a).clone(), false),
                _ => return Err(unsolvable(e.span, "`now` is on both sides")),
            };
            let index = u16::try_from(edges.len()).unwrap_or(u16::MAX);
            edges.push(Edge {
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
fn linear(e: &TExpr) -> Result<Option<Linear>, Diagnostic> {
    if !e.uses_now() {
        return Ok(None);
    }
    let both = |a: &TExpr, b: &TExpr| -> Result<(Option<Linear>, Option<Linear>), Diagnostic> {
        Ok((linear(a)?, linear(b)?))
    };
    match &e.kind {
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
