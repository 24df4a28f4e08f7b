//! Compiling: a `CheckedPolicy` to a `Program` the evaluator runs, by action and rule, with every time
//! edge solved.
//!
//! A decision's `deadline` is the first instant at which the outcome would turn `denied` if only time
//! passed. Every comparison in a guard that involves `now` is linear in the request time: either in the
//! instant itself (`now < paid_at + 168 hours`, `now - issued_at >= 7 days`) or in its date
//! (`date(now) - date(paid_at) <= 5 calendar days`). Solving each for `now` gives the instants where it
//! can flip; between two such instants no guard changes, so evaluating the rules at each instant in turn
//! finds the deadline exactly (`edges`). A comparison that cannot be solved is a diagnostic here, not a
//! guess later.

mod edges;

pub use edges::{Edge, MAX_EDGES};

use crate::check::typed::{CheckedLet, Slot, TExpr, TKind};
use crate::check::{CheckedAction, CheckedPolicy, CheckedRule, Requirement};
use crate::contract::Reasons;
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::Outcome;
use crate::value::Type;

/// A checked policy ready to evaluate: its actions, each owning its rules, in the order written.
#[derive(Debug)]
pub struct Program {
    /// What was compiled: fields, enums, constraints, examples, for the evaluator and for tools.
    pub policy: CheckedPolicy,
    pub actions: Vec<CompiledAction>,
    /// Which of the first 64 definitions (`policy.lets`) read the request time, as a mask: the
    /// evaluator keeps the others' values across the instants it tries.
    pub lets_reading_now: u64,
    /// Slots the evaluator reads by role.
    pub requested_at: Option<Slot>,
    pub id: Option<Slot>,
    pub currency: Option<Slot>,
    /// The digits of an amount whose order names no currency (`contract::DEFAULT_CURRENCY`'s, or the
    /// policy's own `minor_units` for it).
    pub default_minor_units: u32,
    /// The policy's name, as every decision carries it.
    pub name: Box<str>,
    /// Per enum, its values' names (for `next_status` and `values` of enum type).
    pub enum_values: Vec<Vec<Box<str>>>,
    /// The libraries the policy imports, as read (set by the loader: a reload compares them).
    pub imported: Vec<crate::source::SourceFile>,
}

/// Where a compiled piece comes from: its index among its kind in the checked policy (an action in
/// `CheckedPolicy::actions`, a rule in its action's `rules`) and where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub index: usize,
    pub span: Span,
}

/// An action as the evaluator runs it.
#[derive(Debug)]
pub struct CompiledAction {
    /// The checked action, its name's span.
    pub origin: Origin,
    pub name: Box<str>,
    /// The reason of a decision no rule makes.
    pub no_rule: Reasons,
    /// Non-optional fields without default that the action reads: missing ones are input errors.
    pub needs: u64,
    /// The policy's requirements followed by the action's own.
    pub requirements: Vec<Requirement>,
    pub rules: Vec<CompiledRule>,
    /// The comparisons of its guards whose truth moves with the request time (`TKind::Edge` indexes
    /// them).
    pub edges: Vec<Edge>,
}

/// A rule as the evaluator runs it, with everything its decision carries.
#[derive(Debug)]
pub struct CompiledRule {
    /// The checked rule, its whole span.
    pub origin: Origin,
    pub outcome: Outcome,
    /// The decision's texts, built once: each decision borrows them.
    pub id: Box<str>,
    pub because: Reasons,
    /// The steps' names, in the vocabulary's order.
    pub requires: Box<[Box<str>]>,
    /// What the rule computes when it goes through (all `None` for denied and undetermined rules).
    pub amount: Option<TExpr>,
    pub refund_to: Option<TExpr>,
    pub review: Option<TExpr>,
    pub review_by: Option<TExpr>,
    pub next_status: Option<TExpr>,
    /// The rule's `values`, each with its name, in order.
    pub values: Vec<(Box<str>, TExpr)>,
    /// Which attributes read the request time (bit k: the k-th of amount, refund_to, review,
    /// review_by, next_status, then the values): the decision may change with time while the rule
    /// still decides (`holds_until`).
    pub attributes_reading_now: u64,
    /// Whether every attribute that reads the request time reads it only through `date(now)`
    /// (`horizon::changes_at_midnight`): the decision's attributes can change only at local
    /// midnights, and `holds_until`'s walk steps from one to the next.
    pub attributes_change_at_midnight: bool,
    /// How many of the action's edges the guards of this rule and those before it use (all their
    /// indices are below it): while this rule decides, only these can change which rule does. The
    /// rule's own edges are those from the previous rule's `edges_through` up to this.
    pub edges_through: u16,
    /// The guard as the evaluator runs it, each comparison with the request time replaced by its
    /// solved `Edge`, in two parts: `timeless and timed`, the same conjuncts in the same order.
    /// `timeless` is the leading conjuncts that do not read the request time (`status == issued` in
    /// `status == issued and now within 28 calendar days after issued_at`; the whole guard when none
    /// does): its truth is computed once per order, however many instants are tried, and when it is
    /// false the rule never matches the order, so its edges are no instant of change. `timed` is the
    /// rest, evaluated at each instant. `None`: nothing to test.
    pub timeless: Option<TExpr>,
    pub timed: Option<TExpr>,
}

impl CompiledRule {
    /// Every attribute's expression slot, in the order of `RuleAttrs::expressions` (which
    /// `attributes_reading_now` numbers).
    pub fn expressions(&self) -> impl Iterator<Item = Option<&TExpr>> {
        crate::check::typed::attribute_slots(
            [
                &self.amount,
                &self.refund_to,
                &self.review,
                &self.review_by,
                &self.next_status,
            ],
            self.values.iter().map(|(_, e)| e),
        )
    }
}

impl Program {
    /// The instant that selects the version for `order` requested at `now` (nanoseconds): the request,
    /// or the selecting field when present and well formed; `None` for a policy without versions.
    pub fn version_instant(&self, order: &crate::eval::Order, now: i128) -> Option<i128> {
        match self.policy.effective.as_ref()?.by {
            crate::check::VersionSelector::Request => Some(now),
            crate::check::VersionSelector::Field(slot) => {
                if order.present & (1 << slot) == 0 {
                    return None;
                }
                match order.frame.get(usize::from(slot)) {
                    Some(Some(crate::value::Value::Timestamp(t))) => Some(t.nanos()),
                    _ => None,
                }
            }
        }
    }

    /// How the version is selected, as a policy author writes it: the field's name, or `now`.
    pub fn version_selector(&self) -> &str {
        match self.policy.effective.as_ref().map(|e| e.by) {
            Some(crate::check::VersionSelector::Field(slot)) => self
                .policy
                .fields
                .get(usize::from(slot))
                .map_or("now", |f| f.name.as_str()),
            _ => "now",
        }
    }
}

pub fn compile(policy: CheckedPolicy) -> Result<Program, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let actions: Vec<CompiledAction> = policy
        .actions
        .iter()
        .enumerate()
        .map(|(index, action)| {
            compile_action(index, action, &policy.lets, &policy.steps, &mut diagnostics)
        })
        .collect();
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    // The field that selects the version is read for every order: missing, it is an input error.
    let mut actions = actions;
    if let Some(crate::check::VersionSelector::Field(slot)) =
        policy.effective.as_ref().map(|e| e.by)
    {
        for action in &mut actions {
            action.needs |= 1 << slot;
        }
    }
    let slot = |name: &str, ty: Option<Type>| {
        policy
            .fields
            .iter()
            .position(|f| f.name == name && ty.is_none_or(|t| f.ty == t))
            .map(|i| i as Slot)
    };
    Ok(Program {
        actions,
        lets_reading_now: policy
            .lets
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, definition)| definition.expanded.uses_now)
            .fold(0, |mask, (i, _)| mask | 1 << i),
        requested_at: slot("requested_at", Some(Type::Timestamp)),
        id: slot("id", Some(Type::Str)),
        currency: slot(crate::contract::CURRENCY_FIELD, Some(Type::Str)),
        default_minor_units: crate::contract::minor_units_in(
            &policy.minor_units,
            crate::contract::DEFAULT_CURRENCY,
        )
        .unwrap_or(2),
        name: policy.name.as_str().into(),
        enum_values: policy
            .enums
            .iter()
            .map(|e| e.variants.iter().map(|v| v.as_str().into()).collect())
            .collect(),
        imported: Vec::new(),
        policy,
    })
}

/// One action, its guards' time comparisons solved; its problems pushed to `diagnostics`.
fn compile_action(
    index: usize,
    action: &CheckedAction,
    lets: &[CheckedLet],
    steps: &[String],
    diagnostics: &mut Vec<Diagnostic>,
) -> CompiledAction {
    let mut edges = Vec::new();
    let rules: Vec<CompiledRule> = action
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let guard = rule.guard.as_ref().and_then(|guard| {
                edges::solve(guard, &mut edges, lets)
                    .map_err(|d| diagnostics.push(d))
                    .ok()
            });
            // Every edge the guards up to this one use has an index below this.
            let edges_through = u16::try_from(edges.len()).unwrap_or(u16::MAX);
            compile_rule(index, rule, guard, steps, lets, edges_through)
        })
        .collect();
    if edges.len() > MAX_EDGES {
        diagnostics.push(
            Diagnostic::error(
                "policy::compile::too_many_windows",
                format!(
                    "action `{}` compares the request time {} times; at most {MAX_EDGES} are supported",
                    action.name,
                    edges.len()
                ),
                action.span,
            )
            .with_help("name repeated windows once with `let` and reuse them"),
        );
    }
    CompiledAction {
        origin: Origin {
            index,
            span: action.span,
        },
        name: action.name.as_str().into(),
        no_rule: Reasons::new(vec![format!(
            "no rule of action `{}` decides this order: the published rules leave this case open",
            action.name
        )]),
        needs: action.needs,
        requirements: action.requirements.clone(),
        rules,
        edges,
    }
}

fn compile_rule(
    index: usize,
    rule: &CheckedRule,
    guard: Option<TExpr>,
    steps: &[String],
    lets: &[CheckedLet],
    edges_through: u16,
) -> CompiledRule {
    let attrs = &rule.attrs;
    // Bit k for the k-th of amount, refund_to, review, review_by, next_status, then the values (a
    // value past the 64th is counted as reading `now`).
    let attributes_reading_now = attrs.expressions().enumerate().fold(0u64, |mask, (k, e)| {
        let reads = e.is_some_and(|e| e.uses_now(lets));
        if k >= 64 {
            mask | if reads { 1 << 63 } else { 0 }
        } else if reads {
            mask | 1 << k
        } else {
            mask
        }
    });
    let attributes_change_at_midnight = attributes_reading_now != 0
        && attrs
            .expressions()
            .flatten()
            .all(|e| crate::eval::horizon::changes_at_midnight(e, lets));
    let (timeless, timed) = guard
        .as_ref()
        .map_or((None, None), |g| split_timeless(g, lets));
    CompiledRule {
        origin: Origin {
            index,
            span: rule.span,
        },
        outcome: rule.outcome,
        id: rule.id.as_str().into(),
        because: Reasons::new(rule.because.clone()),
        // INVARIANT: the checker gives only indexes of the declared steps.
        requires: attrs
            .requires
            .iter()
            .map(|&s| steps[usize::from(s)].as_str().into())
            .collect(),
        amount: attrs.amount.clone(),
        refund_to: attrs.refund_to.clone(),
        review: attrs.review.clone(),
        review_by: attrs.review_by.clone(),
        next_status: attrs.next_status.clone(),
        values: attrs
            .values
            .iter()
            .map(|(name, e)| (name.as_str().into(), e.clone()))
            .collect(),
        attributes_reading_now,
        attributes_change_at_midnight,
        edges_through,
        timeless,
        timed,
    }
}

/// A guard as `(timeless, timed)`: its leading top-level conjuncts that do not read the request
/// time, and the rest, each joined by `and` in the order written. Evaluating one, then the other if
/// it holds, is evaluating the guard: `and` stops at the first conjunct false or failing, whichever
/// way its operands are grouped.
fn split_timeless(guard: &TExpr, lets: &[CheckedLet]) -> (Option<TExpr>, Option<TExpr>) {
    fn conjuncts<'a>(e: &'a TExpr, out: &mut Vec<&'a TExpr>) {
        match &e.kind {
            TKind::And(a, b) => {
                conjuncts(a, out);
                conjuncts(b, out);
            }
            _ => out.push(e),
        }
    }
    fn joined<'a>(parts: impl Iterator<Item = &'a TExpr>) -> Option<TExpr> {
        parts.cloned().reduce(|a, b| {
            let span = a.span.to(b.span);
            TExpr::new(TKind::And(Box::new(a), Box::new(b)), Type::Bool, span)
        })
    }
    if !guard.uses_now(lets) {
        return (Some(guard.clone()), None);
    }
    let mut all = Vec::new();
    conjuncts(guard, &mut all);
    // Only those evaluated before the first that reads `now`: a later one is reached only after the
    // time part, whose evaluation may fail at some instant (a date past the calendar), and that
    // failure is the decision's there.
    let leading = all.iter().take_while(|c| !c.uses_now(lets)).count();
    (
        joined(all[..leading].iter().copied()),
        joined(all[leading..].iter().copied()),
    )
}
