//! Why a decision is what it is: every rule tried with the value of each atom of its condition, the
//! attributes of the rule that decided computed step by step, and the input problems with what needed
//! each field. The interpreter runs here with a `Recorder` as its tracer (`interp::Tracer`); deciding
//! runs with `NoTrace`, which compiles to the plain path.

use std::cell::RefCell;
use std::fmt::{self, Write as _};

use rust_decimal::Decimal;
use serde::Serialize;

use super::interp::{eval_traced, Env, Lets, Num, Tracer, Val};
use super::{Decision, Order, OrderError, Policy};
use crate::check::typed::{ArithOp, CmpOp, TExpr, TKind, TextTest};
use crate::check::{CheckedAction, CheckedPolicy};
use crate::compile::{CompiledRule, Program};
use crate::contract::DEFAULT_CURRENCY;
use crate::source::SourceFile;
use crate::syntax::ast::Rounding;
use crate::time::Instant;
use crate::value::{Type, Value};
use crate::zone::{day_number_to_date, IsoDate};

/// Why `policy` decides an order as it does (see [`Policy::explain`]). Serialises to the JSON form
/// that `docs/explain.md` documents; `Display` writes it as a person would explain it.
#[derive(Debug, Serialize)]
pub struct Explanation<'p> {
    /// The policy's declared name.
    pub policy: &'p str,
    /// The version (`effective from ...` as written), for a policy with versions.
    pub version: Option<&'p str>,
    /// The action decided.
    pub action: &'p str,
    /// The order's `id`, if it has one.
    pub order: Option<String>,
    /// The request time, in the policy's zone: the order's `requested_at`, else the time asked for.
    pub at: String,
    /// What is wrong with the order's input, each problem with what needed the field; empty when
    /// the input is valid.
    pub input: Vec<InputProblem>,
    /// The rules tried, in order: each up to the one that decided, or all when none did.
    pub rules: Vec<RuleTrace>,
    /// The rules after the one that decided, never tried.
    pub not_tried: Vec<String>,
    /// How each attribute of the rule that decided was computed (allowed and conditional rules).
    pub attributes: Vec<AttributeTrace>,
    /// The decision, as `decide` makes it; `None` when the order cannot be decided.
    pub decision: Option<Decision<'p>>,
    /// Why the order cannot be decided, as the error says it; `None` when it is decided.
    pub error: Option<String>,
    /// The decisions as only time passes ([`Policy::timeline`]): the decision at the request, then
    /// each later one where it changes, until one holds for good (at most [`TIMELINE_LIMIT`]);
    /// empty when the order cannot be decided.
    pub timeline: Vec<Period>,
    /// Whether the last decision of `timeline` holds for good (else the timeline was cut).
    pub timeline_complete: bool,
}

/// The most decisions an explanation's timeline shows.
pub const TIMELINE_LIMIT: usize = 16;

/// One decision of the timeline, from an instant on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// From when it holds, in the policy's zone (the first: the request time).
    pub from: String,
    /// Until when it holds (the next period's `from`); `None` for the last one.
    pub until: Option<String>,
    /// Its outcome; `None` when the order cannot be decided from then on (`error` says why).
    pub outcome: Option<&'static str>,
    /// The rule that decides.
    pub rule: Option<String>,
    /// The amount, with its currency, when there is one.
    pub amount: Option<String>,
    /// The steps required first.
    pub requires: Vec<String>,
    /// Why the order cannot be decided from then on.
    pub error: Option<String>,
    /// The decision's fields that differ from the previous period's, with their new values (JSON
    /// text); empty for the first period.
    pub changed: Vec<Step>,
}

/// A problem of the order's input, and what in the policy needs the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    /// The field (several, comma-separated, for a constraint; `(order)` for the order as a whole).
    pub field: String,
    /// What is wrong, as the input error says it.
    pub problem: String,
    /// What needs the field: the requirement or constraint as written, the rules that read it.
    pub needed_by: Vec<String>,
}

/// One rule tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTrace {
    /// The rule's name.
    pub rule: String,
    /// The line of the policy where it is written.
    pub line: usize,
    /// The outcome it gives when its condition holds.
    pub outcome: &'static str,
    /// Its condition as written (`when ...`); `None` for a rule without one, which always applies.
    pub condition: Option<String>,
    /// Whether the condition holds; `None` when it could not be evaluated (the order's error says why).
    pub holds: Option<bool>,
    /// The atoms of the condition (what `and`, `or` and `not` combine), in the order written.
    pub atoms: Vec<AtomTrace>,
    /// The atom that settled the condition: the last one evaluated (conditions stop at the first
    /// atom that settles them, so the later ones are not evaluated).
    pub settled_by: Option<usize>,
}

/// One atom of a condition: a comparison, a set membership, a true-or-false field or definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AtomTrace {
    /// As written in the policy.
    pub condition: String,
    /// The definition (`let NAME = ...`) the atom is part of, when the condition names one.
    pub definition: Option<String>,
    /// Its truth; `None` when it was not evaluated.
    pub value: Option<bool>,
    /// The values it was computed from, innermost first.
    pub values: Vec<Step>,
    /// When the atom compares the request time with a window: the instant the window opens or
    /// closes.
    pub window: Option<String>,
}

/// An expression and its value at this request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The expression, with the policy's names.
    pub expression: String,
    /// Its value.
    pub value: String,
}

/// How an attribute of the deciding rule was computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeTrace {
    /// `amount`, `refund_to`, `review`, `review_by`, `next_status`, or a name of the rule's `values`.
    pub name: String,
    /// As written in the policy.
    pub written: String,
    /// The formula with the value of each name in it; `None` when it names no value.
    pub formula: Option<String>,
    /// Each operation in the order computed, with its value.
    pub steps: Vec<Step>,
    /// The value computed, before the decision's rounding.
    pub value: String,
    /// For `amount`: how the decision rounds it to the currency's minor unit, and the result.
    pub rounding: Option<String>,
}

impl<'p> Explanation<'p> {
    /// The decision as `decide` writes it (or, for an order that cannot be decided, the error
    /// record `{"order", "error"}`), with the rest of the explanation as its `trace` field: what
    /// `policy eval --explain` writes.
    pub fn traced(&self) -> Traced<'_, 'p> {
        self.traced_at_line(None)
    }

    /// Like [`Explanation::traced`], for line `line` of a batch: an order that cannot be decided says
    /// its line, as a batch's error record does.
    pub fn traced_at_line(&self, line: Option<usize>) -> Traced<'_, 'p> {
        Traced {
            decision: match &self.decision {
                Some(decision) => Decided::Decision(decision),
                None => Decided::Error {
                    order: self.order.as_deref(),
                    line,
                    error: self.error.as_deref(),
                },
            },
            trace: Trace {
                at: &self.at,
                input: &self.input,
                rules: &self.rules,
                not_tried: &self.not_tried,
                attributes: &self.attributes,
                timeline: &self.timeline,
                timeline_complete: self.timeline_complete,
            },
        }
    }
}

/// A decision with its explanation as `trace` ([`Explanation::traced`]).
#[derive(Debug, Serialize)]
pub struct Traced<'e, 'p> {
    #[serde(flatten)]
    decision: Decided<'e, 'p>,
    trace: Trace<'e>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Decided<'e, 'p> {
    Decision(&'e Decision<'p>),
    Error {
        order: Option<&'e str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<usize>,
        error: Option<&'e str>,
    },
}

/// The explanation without what the decision says already.
#[derive(Debug, Serialize)]
struct Trace<'e> {
    at: &'e str,
    input: &'e [InputProblem],
    rules: &'e [RuleTrace],
    not_tried: &'e [String],
    attributes: &'e [AttributeTrace],
    timeline: &'e [Period],
    timeline_complete: bool,
}

/// The value of every node evaluated while explaining, by node.
pub(crate) struct Recorder<'a> {
    values: RefCell<Vec<(&'a TExpr, Val<'a, i128>)>>,
}

impl<'a> Tracer<'a, i128> for &Recorder<'a> {
    const ON: bool = true;
    fn record(self, e: &'a TExpr, value: Val<'a, i128>) {
        self.values.borrow_mut().push((e, value));
    }
}

impl<'a> Recorder<'a> {
    fn new() -> Self {
        Recorder {
            values: RefCell::new(Vec::new()),
        }
    }

    /// The value node `e` last evaluated to, if it was evaluated.
    fn get(&self, e: &TExpr) -> Option<Val<'a, i128>> {
        self.get_since(0, e)
    }

    /// The value node `e` evaluated to among the records from `start` on.
    fn get_since(&self, start: usize, e: &TExpr) -> Option<Val<'a, i128>> {
        self.values
            .borrow()
            .get(start..)?
            .iter()
            .rev()
            .find(|(node, _)| std::ptr::eq(*node, e))
            .map(|(_, value)| *value)
    }

    /// How many values are recorded.
    fn len(&self) -> usize {
        self.values.borrow().len()
    }
}

/// What explaining reads: the program, its source, and the values recorded.
struct Context<'a> {
    program: &'a Program,
    source: &'a SourceFile,
    recorder: Recorder<'a>,
}

impl Policy {
    /// Decides `order` for `action` as [`Policy::decide`] does, and explains the decision: every
    /// rule tried with the value of each atom of its condition, the attributes of the rule that
    /// decided computed step by step, or the input problems with what needed each field. An order
    /// that cannot be decided is explained too (its `error` says why); only an action the policy
    /// lacks is an error.
    pub fn explain(
        &self,
        action: &str,
        order: &Order,
        default_now: Instant,
    ) -> Result<Explanation<'_>, OrderError> {
        let decided = self.decide(action, order, default_now);
        if let Err(error @ OrderError::UnknownAction { .. }) = decided {
            return Err(error);
        }
        let index = self.action_index(action).ok_or(OrderError::Eval {
            order: order.id.as_deref().map(str::to_string),
            message: "internal error: the action vanished".into(),
        })?;
        Ok(explain(self, index, order, default_now, decided))
    }

    /// Reads and explains one order given as JSON text; an order that cannot be read is explained
    /// as one with input problems.
    pub fn explain_json(
        &self,
        action: &str,
        text: &str,
        default_now: Instant,
    ) -> Result<Explanation<'_>, OrderError> {
        match self.read_order_str(text) {
            Ok(order) => self.explain(action, &order, default_now),
            Err(error) => {
                let index = self.action_index(action).ok_or_else(|| {
                    // The same error `decide` gives for an unknown action.
                    match self.decide(action, &Order::default(), default_now) {
                        Err(unknown) => unknown,
                        Ok(_) => error.clone(),
                    }
                })?;
                Ok(explain(
                    self,
                    index,
                    &Order::default(),
                    default_now,
                    Err(error),
                ))
            }
        }
    }
}

impl Policy {
    /// The value of the definition `let NAME = ...` for `order` at the request time (the order's
    /// `requested_at`, else `default_now`), as `policy explain` shows values: `None` for a name the
    /// policy does not define; `Some(Err(why))` when it has no value for this order (a field it reads
    /// is absent, a date past the calendar, ...). For editors, which show a definition's value in an
    /// example.
    pub fn definition_value(
        &self,
        name: &str,
        order: &Order,
        default_now: Instant,
    ) -> Option<Result<String, String>> {
        let program = &*self.program;
        let def = program.policy.lets.iter().find(|l| l.name == name)?;
        let now = program
            .requested_at
            .and_then(|slot| match order.frame.get(usize::from(slot)) {
                Some(Some(Value::Timestamp(t))) => Some(*t),
                _ => None,
            })
            .unwrap_or(default_now)
            .nanos();
        let lets = Lets::new(program);
        let env = environment(program, order, now, &lets);
        Some(
            match super::interp::eval::<_, Val<'_, i128>>(&def.value, &env) {
                Ok(value) => Ok(shown(program, def.value.ty, value)),
                Err(fault) => Err(match fault {
                    super::interp::Fault::Absent(slot) => format!(
                        "the order has no `{}`",
                        program
                            .policy
                            .fields
                            .get(usize::from(slot))
                            .map_or("field", |f| f.name.as_str())
                    ),
                    super::interp::Fault::Calendar(_) => {
                        "the date is outside the calendar's years".to_string()
                    }
                    super::interp::Fault::DivisionByZero => "division by zero".to_string(),
                    super::interp::Fault::Overflow(what) => format!("{what} overflows"),
                    _ => "no value for this order".to_string(),
                }),
            },
        )
    }
}

fn explain<'p>(
    policy: &'p Policy,
    index: usize,
    order: &Order,
    default_now: Instant,
    decided: Result<Decision<'p>, OrderError>,
) -> Explanation<'p> {
    let program = &*policy.program;
    let checked = &program.policy;
    let compiled = &program.actions[index];
    let now = program
        .requested_at
        .and_then(|slot| match order.frame.get(usize::from(slot)) {
            Some(Some(Value::Timestamp(t))) => Some(*t),
            _ => None,
        })
        .unwrap_or(default_now)
        .nanos();
    let mut explanation = Explanation {
        policy: &program.name,
        version: checked.effective.as_ref().map(|e| e.label.as_str()),
        action: &compiled.name,
        order: order.id.as_deref().map(str::to_string),
        at: checked.zone.format(now).to_string(),
        input: Vec::new(),
        rules: Vec::new(),
        not_tried: Vec::new(),
        attributes: Vec::new(),
        decision: None,
        error: None,
        timeline: Vec::new(),
        timeline_complete: true,
    };
    let action = &checked.actions[compiled.origin.index];
    let decision = match decided {
        Ok(decision) => decision,
        Err(error) => {
            if let OrderError::Input {
                order: id,
                problems,
            } = &error
            {
                explanation.order.clone_from(id);
                explanation.input = problems
                    .iter()
                    .map(|p| InputProblem {
                        field: p.field.clone(),
                        problem: p.to_string(),
                        needed_by: needed_by(checked, action, &p.field, &policy.source.text),
                    })
                    .collect();
            }
            explanation.error = Some(error.to_string());
            // The rules are tried only for an order whose input is valid.
            if !matches!(error, OrderError::Eval { .. }) {
                return explanation;
            }
            let context = Context {
                program,
                source: &policy.source,
                recorder: Recorder::new(),
            };
            let lets = Lets::new(program);
            let env = environment(program, order, now, &lets);
            explanation.rules = try_rules(&context, action, &compiled.rules, &env, None);
            return explanation;
        }
    };
    let context = Context {
        program,
        source: &policy.source,
        recorder: Recorder::new(),
    };
    let lets = Lets::new(program);
    let env = environment(program, order, now, &lets);
    explanation.rules = try_rules(&context, action, &compiled.rules, &env, Some(decision.rule));
    let tried = explanation.rules.len();
    explanation.not_tried = compiled
        .rules
        .iter()
        .skip(tried)
        .map(|r| r.id.to_string())
        .collect();
    if decision.outcome.goes_through() {
        if let Some(rule) = compiled.rules.iter().find(|r| *r.id == *decision.rule) {
            explanation.attributes = attributes(&context, rule, &env, &decision);
        }
    }
    if let Ok(timeline) = policy.timeline(&compiled.name, order, default_now, TIMELINE_LIMIT) {
        explanation.timeline = periods(program, now, &timeline);
        explanation.timeline_complete = timeline.complete;
    }
    explanation.decision = Some(decision);
    explanation
}

/// The timeline's decisions, each with the instants it holds from and until.
fn periods(program: &Program, now: i128, timeline: &super::Timeline<'_>) -> Vec<Period> {
    let zone = &program.policy.zone;
    let decided = |from: String, decision: &Decision<'_>| Period {
        changed: Vec::new(),
        from,
        until: None,
        outcome: Some(decision.outcome.as_str()),
        rule: Some(decision.rule.to_string()),
        amount: decision.amount.map(|amount| match &decision.currency {
            Some(currency) => format!("{amount} {currency}"),
            None => amount.to_string(),
        }),
        requires: decision.requires.iter().map(|s| s.to_string()).collect(),
        error: None,
    };
    let mut periods = vec![decided(zone.format(now).to_string(), &timeline.first)];
    for (at, change) in &timeline.changes {
        let from = zone.format(at.nanos()).to_string();
        if let Some(last) = periods.last_mut() {
            last.until = Some(from.clone());
        }
        periods.push(match change {
            Ok(decision) => decided(from, decision),
            Err(error) => Period {
                from,
                until: None,
                outcome: None,
                rule: None,
                amount: None,
                requires: Vec::new(),
                error: Some(error.to_string()),
                changed: Vec::new(),
            },
        });
    }
    let fields = |decision: Option<&Decision<'_>>| match decision.map(serde_json::to_value) {
        Some(Ok(serde_json::Value::Object(fields))) => fields,
        _ => serde_json::Map::new(),
    };
    let mut previous = fields(Some(&timeline.first));
    for (period, (_, change)) in periods.iter_mut().skip(1).zip(&timeline.changes) {
        let current = fields(change.as_ref().ok());
        period.changed = current
            .iter()
            .filter(|(key, value)| {
                key.as_str() != "holds_until" && previous.get(*key) != Some(value)
            })
            .map(|(key, value)| Step {
                expression: key.clone(),
                value: value.to_string(),
            })
            .collect();
        previous = current;
    }
    periods
}

fn environment<'a>(
    program: &'a Program,
    order: &'a Order,
    now: i128,
    lets: &'a Lets<'a, i128>,
) -> Env<'a, i128> {
    Env {
        frame: &order.frame,
        now,
        zone: program.policy.zone,
        calendar: program.policy.calendar.as_deref(),
        // The conditions explained are the checked ones, as written, with no solved edges.
        edges: None,
        lets,
    }
}

/// The rules tried in order, each with its atoms, up to the one named `decided` (or all, or the
/// first whose condition cannot be evaluated).
fn try_rules<'a>(
    context: &Context<'a>,
    action: &'a CheckedAction,
    compiled: &'a [CompiledRule],
    env: &Env<'a, i128>,
    decided: Option<&str>,
) -> Vec<RuleTrace> {
    let mut traces = Vec::new();
    for rule in compiled {
        let Some(checked) = action.rules.get(rule.origin.index) else {
            break;
        };
        let start = context.recorder.len();
        let holds = match &checked.guard {
            None => Some(true),
            Some(guard) => eval_traced::<_, bool, _>(guard, env, &context.recorder).ok(),
        };
        let mut atoms = Vec::new();
        if let Some(guard) = &checked.guard {
            let scope = Scope::Since(start);
            collect_atoms(context, guard, None, scope, env, &mut atoms);
        }
        let settled_by = atoms.iter().rposition(|a: &AtomTrace| a.value.is_some());
        traces.push(RuleTrace {
            rule: checked.id.clone(),
            // From the file's line index, built once: counting the newlines before each rule
            // took a third of an explanation.
            line: context.source.line_col(checked.id_span.start).0,
            outcome: checked.outcome.as_str(),
            condition: checked.guard.as_ref().map(|g| written(context, g)),
            holds,
            atoms,
            settled_by,
        });
        if holds != Some(false) || decided == Some(&*rule.id) {
            break;
        }
    }
    traces
}

/// Which records tell whether a node of a condition was evaluated for the rule explained.
#[derive(Clone, Copy)]
enum Scope {
    /// Those from this index on: the rule's own guard.
    Since(usize),
    /// Any: a definition the guard reached, whose value is computed once per instant (perhaps for
    /// an earlier rule) and kept.
    Any,
    /// None: a definition the guard did not reach.
    Unreached,
}

impl Scope {
    fn value<'a>(self, recorder: &Recorder<'a>, e: &TExpr) -> Option<Val<'a, i128>> {
        match self {
            Scope::Since(start) => recorder.get_since(start, e),
            Scope::Any => recorder.get(e),
            Scope::Unreached => None,
        }
    }
}

/// The atoms of a condition: what `and`, `or` and `not` combine, through the definitions it names.
fn collect_atoms<'a>(
    context: &Context<'a>,
    e: &'a TExpr,
    definition: Option<&str>,
    scope: Scope,
    env: &Env<'a, i128>,
    atoms: &mut Vec<AtomTrace>,
) {
    match &e.kind {
        TKind::And(a, b) | TKind::Or(a, b) => {
            collect_atoms(context, a, definition, scope, env, atoms);
            collect_atoms(context, b, definition, scope, env, atoms);
        }
        TKind::Not(a) => collect_atoms(context, a, definition, scope, env, atoms),
        TKind::Let(id) => {
            if let Some(def) = context.program.policy.lets.get(*id as usize) {
                let inner = match scope.value(&context.recorder, e) {
                    Some(_) => Scope::Any,
                    None => Scope::Unreached,
                };
                collect_atoms(context, &def.value, Some(&def.name), inner, env, atoms);
            }
        }
        _ => {
            let value = match scope.value(&context.recorder, e) {
                Some(Val::Bool(b)) => Some(b),
                _ => None,
            };
            let mut values = Vec::new();
            if value.is_some() {
                e.for_each_operand(|operand| steps(context, operand, &mut values));
            }
            atoms.push(AtomTrace {
                condition: written(context, e),
                definition: definition.map(str::to_string),
                value,
                values,
                window: value.and_then(|_| window(context, e, env)),
            });
        }
    }
}

/// The values `e` is computed from and its own, innermost first, each expression once.
fn steps<'a>(context: &Context<'a>, e: &'a TExpr, out: &mut Vec<Step>) {
    if matches!(e.kind, TKind::Const(_)) {
        return;
    }
    match &e.kind {
        TKind::Let(id) => {
            if let Some(def) = context.program.policy.lets.get(*id as usize) {
                steps(context, &def.value, out);
            }
        }
        _ => e.for_each_operand(|operand| steps(context, operand, out)),
    }
    let Some(value) = context.recorder.get(e) else {
        return;
    };
    let expression = render(context, e, Mode::Names);
    if out.iter().any(|step| step.expression == expression) {
        return;
    }
    out.push(Step {
        expression,
        value: shown(context.program, e.ty, value),
    });
}

/// For an atom that compares the request time with the end of a window, as the checker writes
/// `now within N ... after T`: the instant the window closes.
fn window<'a>(context: &Context<'a>, e: &'a TExpr, env: &Env<'a, i128>) -> Option<String> {
    let zone = &context.program.policy.zone;
    let number = |e: &TExpr| match context.recorder.get(e) {
        Some(Val::Num(n)) => Some(n),
        _ => None,
    };
    let day_start = |day: i128| {
        i32::try_from(day)
            .ok()
            .and_then(|d| zone.start_of_day_number(d))
    };
    let TKind::Cmp(op, a, b) = &e.kind else {
        return None;
    };
    let closes = match (&a.kind, op) {
        // now - T < length: closes at T + length.
        (TKind::Arith(ArithOp::SubNanos, later, earlier), CmpOp::Lt)
            if matches!(later.kind, TKind::Now) =>
        {
            number(earlier)?.checked_add(number(b)?)?
        }
        // date(now) - date(T) <= days: closes at the start of the day after the last one.
        (TKind::Arith(ArithOp::DateDiff, later, earlier), CmpOp::Le) if matches!(&later.kind, TKind::DateOf(x) if matches!(x.kind, TKind::Now)) => {
            day_start(number(earlier)?.checked_add(number(b)?)?.checked_add(1)?)?
        }
        // date(now) <= the last day: closes at the start of the day after it.
        (TKind::DateOf(x), CmpOp::Le) if matches!(x.kind, TKind::Now) => {
            day_start(number(b)?.checked_add(1)?)?
        }
        _ => return None,
    };
    let verb = if closes > env.now { "closes" } else { "closed" };
    Some(format!("the window {verb} at {}", zone.format(closes)))
}

/// How the deciding rule's attributes were computed, as the decision has them.
fn attributes<'a>(
    context: &Context<'a>,
    rule: &'a CompiledRule,
    env: &Env<'a, i128>,
    decision: &Decision<'_>,
) -> Vec<AttributeTrace> {
    let named = [
        ("amount", &rule.amount),
        ("refund_to", &rule.refund_to),
        ("review", &rule.review),
        ("review_by", &rule.review_by),
        ("next_status", &rule.next_status),
    ];
    let all = named
        .into_iter()
        .filter_map(|(name, e)| e.as_ref().map(|e| (name.to_string(), e)))
        .chain(rule.values.iter().map(|(name, e)| (name.to_string(), e)));
    let mut traces = Vec::new();
    for (name, e) in all {
        let Ok(value) = eval_traced::<_, Val<'a, i128>, _>(e, env, &context.recorder) else {
            continue;
        };
        let mut steps_taken = Vec::new();
        steps(context, e, &mut steps_taken);
        // The attribute itself is its value, not a step; but a rounding is, to show it.
        if !matches!(e.kind, TKind::Round(..)) {
            steps_taken.pop();
        }
        let formula = render(context, e, Mode::Values);
        let names = render(context, e, Mode::Names);
        let rounding = (name == "amount")
            .then(|| decision.amount.map(|amount| rounding(decision, amount)))
            .flatten();
        traces.push(AttributeTrace {
            name,
            written: written(context, e),
            formula: (formula != names && !is_leaf(e)).then_some(formula),
            steps: steps_taken,
            value: shown(context.program, e.ty, value),
            rounding,
        });
    }
    traces
}

fn is_leaf(e: &TExpr) -> bool {
    matches!(
        e.kind,
        TKind::Const(_) | TKind::Field(_) | TKind::Let(_) | TKind::Now
    )
}

/// How the decision rounds its amount to the currency's minor unit.
fn rounding(decision: &Decision<'_>, amount: Decimal) -> String {
    let currency = decision
        .currency
        .as_ref()
        .map_or(DEFAULT_CURRENCY.to_string(), |c| c.to_string());
    let digits = amount.scale();
    let unit = if digits == 0 {
        "whole units".to_string()
    } else {
        format!("{digits} decimal{}", if digits == 1 { "" } else { "s" })
    };
    format!("rounded half away from zero to {unit} of {currency}: {amount} {currency}")
}

/// `e` as written in the policy, on one line. A definition imported from a library is located at
/// the `import` line (`imports`): it is written out from the tree instead.
fn written(context: &Context<'_>, e: &TExpr) -> String {
    let text = source_text(&context.source.text, e);
    if text.starts_with("import ") {
        return render(context, e, Mode::Names);
    }
    text
}

/// The text at `e`'s span, on one line, with the parentheses its span leaves out (the span of
/// `(a - b) rounded ...` starts inside them, that of `a or (b and c)` ends inside them).
fn source_text(source: &str, e: &TExpr) -> String {
    let (mut start, mut end) = (e.span.start as usize, e.span.end as usize);
    let text = |start: usize, end: usize| source.get(start..end).unwrap_or("");
    let balance = |t: &str| t.matches('(').count() as isize - t.matches(')').count() as isize;
    while balance(text(start, end)) < 0 {
        let before = source.get(..start).unwrap_or("").trim_end();
        if !before.ends_with('(') {
            break;
        }
        start = before.len() - 1;
    }
    while balance(text(start, end)) > 0 {
        let after = source.get(end..).unwrap_or("");
        let skipped = after.len() - after.trim_start().len();
        if !after.trim_start().starts_with(')') {
            break;
        }
        end += skipped + 1;
    }
    text(start, end)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Names or values in place of the leaves of an expression.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Names,
    Values,
}

/// How tightly an operator binds, for parentheses.
fn precedence(e: &TExpr) -> u8 {
    match &e.kind {
        TKind::If(..) => 0,
        TKind::Or(..) => 1,
        TKind::And(..) => 2,
        TKind::Not(..) => 3,
        TKind::Cmp(..) | TKind::InSet(..) | TKind::TextIn(..) | TKind::Round(..) => 4,
        TKind::Arith(op, ..) => match op {
            ArithOp::MulInt | ArithOp::MulMoneyInt | ArithOp::DivMoneyInt => 6,
            _ => 5,
        },
        TKind::Neg(..) => 7,
        _ => 8,
    }
}

/// `e` in the policy's notation, with names or values at its leaves.
fn render(context: &Context<'_>, e: &TExpr, mode: Mode) -> String {
    let program = context.program;
    let policy = &program.policy;
    let child = |c: &TExpr, right: bool| -> String {
        let text = render(context, c, mode);
        let (parent, inner) = (precedence(e), precedence(c));
        let same_op = match (&e.kind, &c.kind) {
            (TKind::Arith(x, ..), TKind::Arith(y, ..)) => symbol(*x) == symbol(*y),
            _ => std::mem::discriminant(&e.kind) == std::mem::discriminant(&c.kind),
        };
        let needs = (matches!(e.kind, TKind::Round(..)) && inner < 8)
            || inner < parent
            || (inner == parent && inner != 8 && (right || (inner == 6 && !same_op)))
            || (inner == parent && inner == 4);
        if needs {
            format!("({text})")
        } else {
            text
        }
    };
    // In a formula, a text is quoted, as the policy writes it.
    let quoted = |text: String| match e.ty {
        Type::Str => format!("{text:?}"),
        _ => text,
    };
    let leaf_value = || {
        context
            .recorder
            .get(e)
            .map(|value| quoted(shown(program, e.ty, value)))
    };
    match &e.kind {
        TKind::Const(v) => quoted(shown_value(program, e.ty, v)),
        TKind::Field(slot) => match mode {
            Mode::Values => leaf_value(),
            Mode::Names => None,
        }
        .unwrap_or_else(|| policy.fields[usize::from(*slot)].name.clone()),
        TKind::Let(id) => match mode {
            Mode::Values => leaf_value(),
            Mode::Names => None,
        }
        .unwrap_or_else(|| {
            policy
                .lets
                .get(*id as usize)
                .map_or("?".to_string(), |d| d.name.clone())
        }),
        TKind::Now => match mode {
            Mode::Values => leaf_value(),
            Mode::Names => None,
        }
        .unwrap_or_else(|| "now".to_string()),
        TKind::Present(slot) => format!("present({})", policy.fields[usize::from(*slot)].name),
        TKind::Not(a) => format!("not {}", child(a, true)),
        TKind::And(a, b) => format!("{} and {}", child(a, false), child(b, true)),
        TKind::Or(a, b) => format!("{} or {}", child(a, false), child(b, true)),
        TKind::Cmp(op, a, b) => {
            let op = op.symbol();
            format!("{} {op} {}", child(a, false), child(b, true))
        }
        TKind::InSet(subject, mask) => {
            let names: Vec<&str> = match subject.ty {
                Type::Enum(id) => program
                    .enum_values
                    .get(id as usize)
                    .map(|names| {
                        names
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| mask & (1u64 << i) != 0)
                            .map(|(_, n)| &**n)
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            format!("{} in {{{}}}", child(subject, false), names.join(", "))
        }
        TKind::TextIn(subject, set) => {
            let members: Vec<String> = set.iter().map(|s| format!("{:?}", &**s)).collect();
            format!("{} in {{{}}}", child(subject, false), members.join(", "))
        }
        TKind::Text(test, a, b) => {
            let name = match test {
                TextTest::StartsWith => "starts_with",
                TextTest::EndsWith => "ends_with",
                TextTest::Contains => "contains",
            };
            format!(
                "{name}({}, {})",
                render(context, a, mode),
                render(context, b, mode)
            )
        }
        TKind::Arith(op, a, b) => {
            format!("{} {} {}", child(a, false), symbol(*op), child(b, true))
        }
        TKind::Neg(a) => format!("-{}", child(a, true)),
        TKind::DateOf(a) => format!("date({})", render(context, a, mode)),
        TKind::StartOfDay(a) => format!("start_of_day({})", render(context, a, mode)),
        TKind::Min(a, b) => format!(
            "min({}, {})",
            render(context, a, mode),
            render(context, b, mode)
        ),
        TKind::Max(a, b) => format!(
            "max({}, {})",
            render(context, a, mode),
            render(context, b, mode)
        ),
        TKind::If(c, a, b) => format!(
            "if {} then {} else {}",
            render(context, c, mode),
            render(context, a, mode),
            render(context, b, mode)
        ),
        TKind::Round(a, how, quantum) => format!(
            "{} rounded {} to {}",
            child(a, false),
            rounding_name(*how),
            quantum.normalize()
        ),
        TKind::Count(a, per) => {
            let unit = match *per {
                1 | 86_400_000_000_000 => "days",
                3_600_000_000_000 => "hours",
                60_000_000_000 => "minutes",
                _ => "seconds",
            };
            format!("{unit}({})", render(context, a, mode))
        }
        TKind::Edge(_) => "(a solved comparison with now)".to_string(),
    }
}

fn symbol(op: ArithOp) -> &'static str {
    match op {
        ArithOp::AddNanos
        | ArithOp::DateAddDays
        | ArithOp::AddInt
        | ArithOp::DateAddBusiness
        | ArithOp::DateAddMonths
        | ArithOp::TimeAddMonths
        | ArithOp::AddMoney => "+",
        ArithOp::SubNanos
        | ArithOp::DateSubDays
        | ArithOp::DateDiff
        | ArithOp::SubInt
        | ArithOp::DateSubBusiness
        | ArithOp::DateSubMonths
        | ArithOp::TimeSubMonths
        | ArithOp::SubMoney => "-",
        ArithOp::MulInt | ArithOp::MulMoneyInt => "*",
        ArithOp::DivMoneyInt => "/",
    }
}

fn rounding_name(how: Rounding) -> &'static str {
    let index = match how {
        Rounding::HalfAwayFromZero => 0,
        Rounding::HalfEven => 1,
        Rounding::HalfTowardZero => 2,
        Rounding::TowardZero => 3,
        Rounding::AwayFromZero => 4,
        Rounding::Floor => 5,
        Rounding::Ceiling => 6,
    };
    Rounding::NAMES[index]
}

/// A value recorded while explaining, as a person reads it.
fn shown(program: &Program, ty: Type, value: Val<'_, i128>) -> String {
    match value.into_value(ty) {
        Ok(value) => shown_value(program, ty, &value),
        Err(_) => "(out of range)".to_string(),
    }
}

fn shown_value(program: &Program, ty: Type, value: &Value) -> String {
    const HOUR: i64 = 3_600_000_000_000;
    let count = |n: i64, unit: &str| {
        let s = if n == 1 || n == -1 { "" } else { "s" };
        format!("{n} {unit}{s}")
    };
    match value {
        Value::Days(n) => count(*n, "calendar day"),
        Value::BusinessDays(n) => count(*n, "business day"),
        Value::Months(n) => count(*n, "calendar month"),
        // In days, hours, minutes and seconds: `6 days 23 hours 58 minutes`.
        Value::Duration(n) => {
            const SECOND: i64 = 1_000_000_000;
            let sign = if *n < 0 { "-" } else { "" };
            let mut rest = n.unsigned_abs();
            let mut parts = Vec::new();
            for (unit, size) in [("day", 24 * HOUR), ("hour", HOUR), ("minute", 60 * SECOND)] {
                let size = size.unsigned_abs();
                if rest >= size {
                    parts.push(count((rest / size) as i64, unit));
                    rest %= size;
                }
            }
            if rest > 0 || parts.is_empty() {
                let seconds = Decimal::from_i128_with_scale(i128::from(rest), 9).normalize();
                let s = if seconds == Decimal::ONE { "" } else { "s" };
                parts.push(format!("{seconds} second{s}"));
            }
            format!("{sign}{}", parts.join(" "))
        }
        Value::Str(s) => s.to_string(),
        Value::Date(d) => day_number_to_date(i64::from(*d))
            .map_or_else(|| d.to_string(), |date| IsoDate(date).to_string()),
        other => match super::decide::value_to_json(program, ty, other) {
            serde_json::Value::String(s) => s,
            json => json.to_string(),
        },
    }
}

/// What in the policy needs `field` (a name, or several comma-separated for a constraint).
fn needed_by(
    policy: &CheckedPolicy,
    action: &CheckedAction,
    field: &str,
    source: &str,
) -> Vec<String> {
    let slots: Vec<usize> = field
        .split(", ")
        .filter_map(|name| policy.fields.iter().position(|f| f.name == name))
        .collect();
    let Some(&slot) = slots.first() else {
        return Vec::new();
    };
    let bit = 1u64 << slot;
    let mut needs = Vec::new();
    if slots.len() > 1 {
        let mask = slots.iter().fold(0u64, |m, s| m | 1 << s);
        for constraint in &policy.constraints {
            if constraint.reads == mask {
                needs.push(format!(
                    "the constraint `{}`",
                    source_text(source, &constraint.condition)
                ));
            }
        }
        return needs;
    }
    for requirement in &action.requirements {
        let reads = requirement
            .when
            .as_ref()
            .map_or(0, |when| when.fields_read(&policy.lets));
        if usize::from(requirement.field) == slot || reads & bit != 0 {
            let required = &policy.fields[usize::from(requirement.field)].name;
            needs.push(if requirement.when_text.is_empty() {
                format!("`require {required}`")
            } else {
                format!("`require {required} when {}`", requirement.when_text)
            });
        }
    }
    for constraint in &policy.constraints {
        if constraint.reads & bit != 0 {
            needs.push(format!(
                "the constraint `{}`",
                source_text(source, &constraint.condition)
            ));
        }
    }
    for rule in &action.rules {
        let reads = std::iter::once(rule.guard.as_ref())
            .chain(rule.attrs.expressions())
            .flatten()
            .fold(0u64, |m, e| m | e.fields_read(&policy.lets));
        if reads & bit != 0 {
            needs.push(format!("rule `{}`", rule.id));
        }
    }
    needs
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = self
            .order
            .as_deref()
            .map_or("The order".to_string(), |id| format!("Order `{id}`"));
        let version = self
            .version
            .map_or(String::new(), |v| format!(" (version {v})"));
        writeln!(
            f,
            "{order}, action `{}` of policy {}{version}, requested at {}.",
            self.action, self.policy, self.at
        )?;
        if !self.input.is_empty() {
            writeln!(f, "\nThe order cannot be decided: its input is wrong.")?;
            for problem in &self.input {
                writeln!(f, "  - {}", problem.problem)?;
                if !problem.needed_by.is_empty() {
                    writeln!(f, "    needed by {}", problem.needed_by.join(", "))?;
                }
            }
            return Ok(());
        }
        if !self.rules.is_empty() {
            writeln!(f, "\nThe rules, tried in order:")?;
        }
        for (i, rule) in self.rules.iter().enumerate() {
            write_rule(f, i + 1, rule)?;
        }
        if let Some(error) = &self.error {
            writeln!(f, "\nThe order cannot be decided: {error}")?;
            return Ok(());
        }
        let Some(decision) = &self.decision else {
            return Ok(());
        };
        if !self.not_tried.is_empty() {
            writeln!(
                f,
                "  (not tried: {})",
                self.not_tried
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        let by = if decision.rule == crate::contract::NO_RULE {
            "no rule applies".to_string()
        } else {
            format!("rule `{}` decides", decision.rule)
        };
        writeln!(f, "\nDecision: {}; {by}.", decision.outcome.as_str())?;
        for reason in decision.because.iter() {
            writeln!(f, "  because {reason}")?;
        }
        if !decision.requires.is_empty() {
            writeln!(f, "  first: {}", decision.requires.join(", "))?;
        }
        for attribute in &self.attributes {
            write_attribute(f, attribute)?;
        }
        write_timeline(f, &self.timeline, self.timeline_complete)
    }
}

/// "If only time passes: allowed (...) until T, then denied (...) for good."
fn write_timeline(f: &mut fmt::Formatter<'_>, timeline: &[Period], complete: bool) -> fmt::Result {
    match timeline.len() {
        0 => return Ok(()),
        1 if complete => {
            return writeln!(f, "\nIf only time passes, this decision holds for good.")
        }
        _ => {}
    }
    writeln!(f, "\nIf only time passes, the decision is:")?;
    let said = |period: &Period| -> String {
        let Some(outcome) = period.outcome else {
            let error = period.error.as_deref().unwrap_or("");
            return format!("the order cannot be decided ({error})");
        };
        let mut what = vec![format!("rule `{}`", period.rule.as_deref().unwrap_or(""))];
        if !period.requires.is_empty() {
            what.push(format!("first {}", period.requires.join(", ")));
        }
        what.extend(period.amount.clone());
        let same = ["outcome", "rule"];
        if period
            .changed
            .iter()
            .all(|c| !same.contains(&c.expression.as_str()))
        {
            let changed: Vec<String> = period
                .changed
                .iter()
                .map(|c| format!("{} {}", c.expression, c.value.trim_matches('"')))
                .collect();
            if !changed.is_empty() {
                what.push(format!("with {}", changed.join(", ")));
            }
        }
        format!("{outcome} ({})", what.join(", "))
    };
    for (i, period) in timeline.iter().enumerate() {
        let then = if i == 0 { "" } else { "then " };
        let end = match (&period.until, complete) {
            (Some(until), _) => format!(" until {until},"),
            (None, true) => " for good.".to_string(),
            (None, false) => "; the timeline stops here.".to_string(),
        };
        writeln!(f, "  {then}{}{end}", said(period))?;
    }
    Ok(())
}

fn write_rule(f: &mut fmt::Formatter<'_>, number: usize, rule: &RuleTrace) -> fmt::Result {
    let verdict = match rule.holds {
        Some(true) => format!("applies: {}", rule.outcome),
        Some(false) => "does not apply".to_string(),
        None => "cannot be evaluated".to_string(),
    };
    let Some(condition) = &rule.condition else {
        return writeln!(
            f,
            "  {number}. `{}` (line {}) has no condition: {verdict}",
            rule.rule, rule.line
        );
    };
    writeln!(
        f,
        "  {number}. `{}` (line {}) when {condition}: {verdict}",
        rule.rule, rule.line
    )?;
    for (i, atom) in rule.atoms.iter().enumerate() {
        let truth = match atom.value {
            Some(true) => "true",
            Some(false) => "false",
            None => "not evaluated",
        };
        let within = atom
            .definition
            .as_ref()
            .map_or(String::new(), |d| format!(" (in `{d}`)"));
        let mut line = format!("       - {}{within}", atom.condition);
        if !atom.values.is_empty() {
            let values: Vec<String> = atom
                .values
                .iter()
                .map(|s| format!("{} = {}", s.expression, s.value))
                .collect();
            let _ = write!(line, ": {}", values.join(", "));
        }
        let _ = write!(line, " -> {truth}");
        if let Some(window) = &atom.window {
            let _ = write!(line, "; {window}");
        }
        if rule.settled_by == Some(i) && rule.atoms.len() > 1 {
            line.push_str(" (settles it)");
        }
        writeln!(f, "{line}")?;
    }
    Ok(())
}

fn write_attribute(f: &mut fmt::Formatter<'_>, attribute: &AttributeTrace) -> fmt::Result {
    if attribute.steps.is_empty() && attribute.formula.is_none() {
        writeln!(
            f,
            "  {} = {} -> {}",
            attribute.name, attribute.written, attribute.value
        )?;
    } else {
        writeln!(f, "  {} = {}", attribute.name, attribute.written)?;
        let pad = " ".repeat(attribute.name.len() + 3);
        if let Some(formula) = &attribute.formula {
            writeln!(f, "  {pad}= {formula}")?;
        }
        for step in &attribute.steps {
            writeln!(f, "  {pad}  {} = {}", step.expression, step.value)?;
        }
        writeln!(f, "  {pad}-> {}", attribute.value)?;
    }
    if let Some(rounding) = &attribute.rounding {
        writeln!(f, "     {rounding}")?;
    }
    Ok(())
}

/// Only the wide number path explains: it never asks to decide again.
const _: () = assert!(<i128 as Num>::WIDE);

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../policies/alibaba-cms-refund-2026.policy"
        )))
        .unwrap()
    }

    #[test]
    fn the_grcq_amount_shows_its_formula_and_rounding() {
        let policy = policy();
        let order = r#"{"id":"g","paid_at":"2026-03-01T10:00:00+08:00","price":"1.60",
            "service":"https_gateway","domain_added_at":"2026-03-02T09:00:00+08:00",
            "grcq_total":300,"grcq_consumed":60}"#;
        let at = Instant::parse("2026-03-03T10:00:00+08:00").unwrap();
        let explanation = policy.explain_json("refund", order, at).unwrap();
        let amount = explanation
            .attributes
            .iter()
            .find(|a| a.name == "amount")
            .unwrap();
        assert_eq!(
            amount.formula.as_deref(),
            Some("(1.6 - (1.6 * 60) / 300) rounded half_away_from_zero to 0.01")
        );
        assert!(amount
            .steps
            .iter()
            .any(|s| s.expression == "cash * grcq_consumed" && s.value == "96"));
        assert_eq!(amount.value, "1.28");
    }

    #[test]
    fn atoms_after_the_one_that_settles_are_not_evaluated() {
        let policy = policy();
        let order = r#"{"paid_at":"2026-03-01T10:00:00+08:00","price":"10","status":"issued"}"#;
        let at = Instant::parse("2026-03-03T10:00:00+08:00").unwrap();
        let explanation = policy.explain_json("refund", order, at).unwrap();
        let combined = explanation
            .rules
            .iter()
            .find(|r| r.rule == "ssl_combined")
            .unwrap();
        assert_eq!(combined.holds, Some(false));
        assert_eq!(combined.atoms.len(), 2);
        assert_eq!(combined.atoms[0].value, Some(true));
        assert_eq!(combined.atoms[1].value, Some(false));
        let issued = explanation.rules.last().unwrap();
        assert_eq!(issued.rule, "ssl_issued");
        assert_eq!(issued.holds, Some(true));
        let pending = explanation
            .rules
            .iter()
            .find(|r| r.rule == "ssl_pending_application")
            .unwrap();
        assert_eq!(pending.settled_by, Some(1));
    }

    #[test]
    fn a_missing_field_names_what_needs_it() {
        let policy = policy();
        let order = r#"{"paid_at":"2026-03-01T10:00:00+08:00","price":"10"}"#;
        let at = Instant::parse("2026-03-03T10:00:00+08:00").unwrap();
        let explanation = policy.explain_json("refund", order, at).unwrap();
        assert!(explanation.decision.is_none());
        let status = &explanation.input[0];
        assert_eq!(status.field, "status");
        assert!(status.needed_by[0].contains("require status when"));
    }

    /// A definition evaluated for an earlier rule, and not reached by a later one: its atoms are
    /// not evaluated there, though their values are known.
    #[test]
    fn a_definition_a_guard_does_not_reach_is_not_evaluated_there() {
        const TEXT: &str = r#"
policy reach
  document "x.txt"
  zone "UTC"

field a: bool
field b: bool

let both = a and b

action act {
  rule first
    when both and a
    then denied
    because "first" cite "1"

  rule second
    when b and both
    then denied
    because "second" cite "2"

  rule otherwise
    then undetermined
    because "otherwise" cite "3"
}
"#;
        let policy = Policy::from_source("reach.policy", TEXT, &Default::default()).unwrap();
        let at = Instant::parse("2026-03-03T10:00:00Z").unwrap();
        let explanation = policy
            .explain_json("act", r#"{"a": true, "b": false}"#, at)
            .unwrap();
        let values = |rule: usize| -> Vec<Option<bool>> {
            explanation.rules[rule]
                .atoms
                .iter()
                .map(|a| a.value)
                .collect()
        };
        assert_eq!(values(0), [Some(true), Some(false), None]);
        assert_eq!(values(1), [Some(false), None, None]);
        assert_eq!(explanation.rules[2].atoms, []);
        assert_eq!(explanation.decision.unwrap().rule, "otherwise");
    }

    #[test]
    fn an_unknown_action_is_an_error() {
        let policy = policy();
        let at = Instant::parse("2026-03-03T10:00:00+08:00").unwrap();
        assert!(matches!(
            policy.explain_json("nope", "{}", at),
            Err(OrderError::UnknownAction { .. })
        ));
    }
}
