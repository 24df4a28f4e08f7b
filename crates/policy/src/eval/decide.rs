//! Deciding one order: validate what the action needs, pick the first matching rule, build the decision,
//! and find the deadline by evaluating the rules at each solved time edge.

use crate::zone::{day_number_to_date, IsoDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::horizon;
use super::interp::{date_number, eval, truth, EdgeBounds, Env, Fault, Lets, Num, Val};
use super::{Decision, NotInForce, Order, OrderError, Outcome, Text, VersionCheck};
use crate::check::typed::{TExpr, TKind};
use crate::check::Effective;
use crate::compile::{CompiledAction, CompiledRule, Edge, Program, MAX_EDGES};
use crate::contract::{Reasons, ZonedInstant, DEFAULT_CURRENCY, NO_RULE};
use crate::time::Instant;
use crate::value::{FieldProblem, Type, Value, REFUND_TO_ENUM, REVIEW_ENUM};

/// The last instant time reaches, in nanoseconds.
const LAST: i128 = 253_402_300_799_999_999_999;

pub(crate) fn decide<'p>(
    program: &'p Program,
    action_index: usize,
    order: &Order,
    default_now: Instant,
    version: VersionCheck,
) -> Result<Decision<'p>, OrderError> {
    let now = program
        .requested_at
        .and_then(|slot| match order.frame.get(slot as usize) {
            Some(Some(Value::Timestamp(t))) => Some(*t),
            _ => None,
        })
        .unwrap_or(default_now);
    decide_now(program, action_index, order, now, version)
}

/// Decides `order` at `now`, whatever its `requested_at` says (a timeline decides it at later instants).
pub(crate) fn decide_now<'p>(
    program: &'p Program,
    action_index: usize,
    order: &Order,
    now: Instant,
    version: VersionCheck,
) -> Result<Decision<'p>, OrderError> {
    let now = now.nanos();
    // In i64 first; in i128 when a value does not fit (see `interp::Num`).
    if let Ok(narrow) = i64::try_from(now) {
        match decide_in::<i64>(program, action_index, order, narrow, version) {
            Err(Stop::Widen) => {}
            Err(Stop::Order(error)) => return Err(error),
            Ok(decision) => return Ok(decision),
        }
    }
    decide_in::<i128>(program, action_index, order, now, version).map_err(|stop| match stop {
        Stop::Order(error) => error,
        // INVARIANT: the i128 number path never asks to widen.
        Stop::Widen => fault_error(program, order, Fault::Internal),
    })
}

/// Whether the policy's version is in force for `order` requested at `now`: its selecting instant is
/// at or after `effective from`. Called once the input is valid, so a selecting field is there.
fn in_force(
    program: &Program,
    effective: &Effective,
    order: &Order,
    now: i128,
) -> Result<(), OrderError> {
    let policy = &program.policy;
    let Some(at) = program.version_instant(order, now) else {
        // INVARIANT: validation reports a selecting field missing or malformed (it is in every
        // action's `needs`).
        return Ok(());
    };
    if at >= effective.from.nanos() {
        return Ok(());
    }
    let selector = match program.version_selector() {
        "now" => "the request".to_string(),
        field => format!("`{field}`"),
    };
    Err(OrderError::NotInForce {
        order: order.id.as_deref().map(str::to_string),
        detail: Box::new(NotInForce {
            policy: policy.name.clone(),
            version: effective.label.clone(),
            selector,
            at: policy.zone.format(at).to_string(),
            from: policy.zone.format(effective.from.nanos()).to_string(),
        }),
    })
}

/// Why a decision stopped: an order error, or a value too wide for the number path in use.
enum Stop {
    Order(OrderError),
    Widen,
}

impl From<OrderError> for Stop {
    fn from(error: OrderError) -> Stop {
        Stop::Order(error)
    }
}

fn decide_in<'p, N: Num>(
    program: &'p Program,
    action_index: usize,
    order: &Order,
    now: N,
    version: VersionCheck,
) -> Result<Decision<'p>, Stop> {
    let policy = &program.policy;
    let action = &program.actions[action_index];
    let bounds = EdgeBounds::new(&action.edges);
    let lets = Lets::new(program);
    let env = Env {
        frame: &order.frame,
        now,
        zone: policy.zone,
        calendar: policy.calendar.as_deref(),
        edges: Some(&bounds),
        lets: &lets,
    };
    validate(program, action, order, &env)?;
    if let (Some(effective), VersionCheck::InForce) = (&policy.effective, version) {
        in_force(program, effective, order, now.to_i128())?;
    }
    let fault = |fault: Fault| match fault {
        Fault::Wide => Stop::Widen,
        other => Stop::Order(fault_error(program, order, other)),
    };

    let mut remembered = Remembered::default();
    let selected = select_remembering(&action.rules, &env, &mut remembered).map_err(fault)?;
    let Some(index) = selected else {
        let mut decision = empty_decision(
            program,
            action,
            order,
            Outcome::Undetermined,
            NO_RULE,
            &action.no_rule,
        );
        let scan =
            scan(&action.rules, &bounds, &env, &mut remembered, None, false).map_err(fault)?;
        decision.holds_until = scan.rule_changes.and_then(|t| zoned(program, t));
        return Ok(decision);
    };
    let rule = &action.rules[index];
    let mut decision = empty_decision(
        program,
        action,
        order,
        rule.outcome,
        &rule.id,
        &rule.because,
    );
    let goes_through = rule.outcome.goes_through();
    if goes_through {
        decision.requires = &rule.requires;
        attributes(program, rule, &env, order.amount_scale, &mut decision).map_err(fault)?;
    }
    let scan = scan(
        &action.rules,
        &bounds,
        &env,
        &mut remembered,
        Some(index),
        goes_through,
    )
    .map_err(fault)?;
    decision.deadline = scan.denied.and_then(|t| zoned(program, t));
    // Before the rule changes, its attributes may (a review date moving each day).
    let attributes_change = if goes_through && rule.attributes_reading_now != 0 {
        horizon::attribute_change(
            program,
            rule,
            &env,
            &decision,
            order.amount_scale,
            scan.rule_changes,
        )
        .map_err(fault)?
    } else {
        None
    };
    let until = attributes_change.or(scan.rule_changes);
    decision.holds_until = until.and_then(|t| zoned(program, t));
    Ok(decision)
}

/// An instant the edge walk found, as the decision shows it. The walk keeps only instants after the
/// request and at most [`LAST`], all within the range of instants.
fn zoned<N: Num>(program: &Program, nanos: N) -> Option<ZonedInstant<'_>> {
    let instant = Instant::from_nanos(nanos.to_i128());
    debug_assert!(instant.is_some(), "an edge instant out of range");
    instant.map(|t| ZonedInstant::new(t, &program.policy.zone))
}

/// Out of line on purpose: inlined into `decide`, the decision was built in its frame and copied out
/// field by field, a few nanoseconds more per decision (`benches/decide.rs`).
#[inline(never)]
fn empty_decision<'p>(
    program: &'p Program,
    action: &'p CompiledAction,
    order: &Order,
    outcome: Outcome,
    rule: &'p str,
    because: &'p Reasons,
) -> Decision<'p> {
    Decision {
        order: order.id.clone(),
        policy: &program.name,
        version: program.policy.effective.as_ref().map(|e| e.label.as_str()),
        action: &action.name,
        outcome,
        amount: None,
        currency: None,
        refund_to: None,
        requires: &[],
        review: None,
        review_by: None,
        deadline: None,
        holds_until: None,
        next_status: None,
        values: Vec::new(),
        rule,
        because,
    }
}

/// The truth of the rules' timeless parts (`CompiledRule::timeless`) for one order, each computed
/// once (for the first 64 rules): the same at every instant tried.
#[derive(Default)]
struct Remembered {
    known: u64,
    holds: u64,
}

impl Remembered {
    /// Whether rule `index`'s timeless part holds for the order.
    fn timeless_holds<'a, N: Num>(
        &mut self,
        index: usize,
        rule: &'a CompiledRule,
        env: &Env<'a, N>,
    ) -> Result<bool, Fault> {
        let bit = if index < 64 { 1u64 << index } else { 0 };
        if self.known & bit != 0 {
            return Ok(self.holds & bit != 0);
        }
        let holds = match &rule.timeless {
            Some(part) => truth(part, env)?,
            None => true,
        };
        self.known |= bit;
        if holds {
            self.holds |= bit;
        }
        Ok(holds)
    }
}

/// The first rule whose guard holds, its timeless part recalled or recorded in `remembered`.
fn select_remembering<'a, N: Num>(
    rules: &'a [CompiledRule],
    env: &Env<'a, N>,
    remembered: &mut Remembered,
) -> Result<Option<usize>, Fault> {
    for (i, rule) in rules.iter().enumerate() {
        if remembered.timeless_holds(i, rule, env)?
            && match &rule.timed {
                Some(part) => truth(part, env)?,
                None => true,
            }
        {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// What walking the edges after the request finds.
struct Scan<N> {
    /// The first instant at which another rule (or none) decides.
    rule_changes: Option<N>,
    /// The first instant at which the outcome is `denied` (looked for only when asked).
    denied: Option<N>,
}

/// Walks the instants after the request where a guard's comparison with the request time can change
/// truth (the edges), in order, deciding which rule decides at each: between two of them, no guard
/// changes. Stops at the first instant another rule decides, or, when `deadline` is asked, at the
/// first where the outcome is `denied` (never before the first change of rule).
fn scan<'a, N: Num>(
    rules: &'a [CompiledRule],
    bounds: &EdgeBounds<'a, N>,
    env: &Env<'a, N>,
    remembered: &mut Remembered,
    current: Option<usize>,
    deadline: bool,
) -> Result<Scan<N>, Fault> {
    let mut found = Scan {
        rule_changes: None,
        denied: None,
    };
    // While the current rule decides, only the edges of its guard and those before it can change
    // which rule does; the deadline, past that change, needs them all.
    let edges = match current {
        Some(i) if !deadline => usize::from(rules[i].edges_through),
        _ => usize::MAX,
    };
    if edges == 0 || bounds.edge(0).is_none() {
        return Ok(found);
    }
    // INVARIANT: compile refuses actions with more than MAX_EDGES edges, each giving two instants.
    let mut buffer = [N::ZERO; 2 * MAX_EDGES];
    let mut count = 0;
    let mut first_edge = 0;
    for (i, rule) in rules.iter().enumerate() {
        let own = first_edge..usize::from(rule.edges_through).min(edges);
        first_edge = own.end;
        if own.is_empty() {
            continue;
        }
        // A rule whose conditions without `now` are false for this order never matches it. (One that
        // fails to evaluate is kept: deciding at its instants says the failure.)
        if matches!(remembered.timeless_holds(i, rule, env), Ok(false)) {
            continue;
        }
        for index in own {
            let Some(edge) = bounds.edge(index) else {
                break;
            };
            for instant in edge_instants(edge, bounds.bound(index, env)?, env)?
                .into_iter()
                .flatten()
            {
                // Instants after 9999-12-31T23:59:59.999999999Z are never reached.
                if instant > env.now && instant.to_i128() <= LAST && count < buffer.len() {
                    buffer[count] = instant;
                    count += 1;
                }
            }
        }
        if first_edge >= edges {
            break;
        }
    }
    let instants = &mut buffer[..count];
    instants.sort_unstable();
    let mut previous = None;
    for &instant in instants.iter() {
        if previous == Some(instant) {
            continue;
        }
        previous = Some(instant);
        let later = Env {
            now: instant,
            ..*env
        };
        let selected = match select_remembering(rules, &later, remembered) {
            Ok(selected) => selected,
            // Deciding there fails (a date past the calendar): the decision changes there, to an
            // error. The deadline search has always said such an order's failure.
            Err(fault) if deadline || matches!(fault, Fault::Wide) => return Err(fault),
            Err(_) => {
                found.rule_changes.get_or_insert(instant);
                break;
            }
        };
        if found.rule_changes.is_none() && selected != current {
            found.rule_changes = Some(instant);
        }
        if deadline && selected.map(|i| rules[i].outcome) == Some(Outcome::Denied) {
            found.denied = Some(instant);
        }
        if found.rule_changes.is_some() && (!deadline || found.denied.is_some()) {
            break;
        }
    }
    Ok(found)
}

/// The instants at which the comparison behind `edge` can change truth: where its two sides meet,
/// and just after. `bound` is `None` when the comparison reads a field this order lacks: the rules
/// never reach it.
fn edge_instants<N: Num>(
    edge: &Edge,
    bound: Option<(N, N)>,
    env: &Env<'_, N>,
) -> Result<[Option<N>; 2], Fault> {
    let Some((base, shift)) = bound else {
        return Ok([None, None]);
    };
    // An instant the number type cannot hold: in i64, decide again wide; in i128, it is far beyond
    // year 9999, where time never goes.
    let beyond = || if N::WIDE { Ok(None) } else { Err(Fault::Wide) };
    let fits = |t: Option<i128>| match t.map(N::from_i128) {
        Some(Some(t)) => Ok(Some(t)),
        Some(None) => beyond(),
        None => Ok(None),
    };
    // sign * x == base, with sign ±1.
    let x = super::interp::signed(edge.sign, base.to_i128());
    if !edge.on_date {
        return Ok([fits(x)?, fits(x.and_then(|x| x.checked_add(1)))?]);
    }
    let day_start = |day: i128| {
        i32::try_from(day)
            .ok()
            .and_then(|d| env.zone.start_of_day_number(d))
            .and_then(|t| t.checked_sub(shift.to_i128()))
    };
    Ok([
        fits(x.and_then(day_start))?,
        fits(x.and_then(|x| x.checked_add(1)).and_then(day_start))?,
    ])
}

fn attributes<'p: 'a, 'a, N: Num>(
    program: &'p Program,
    rule: &'p CompiledRule,
    env: &Env<'a, N>,
    amount_scale: u32,
    decision: &mut Decision<'p>,
) -> Result<(), Fault> {
    if let Some(amount) = &rule.amount {
        let m: Decimal = eval(amount, env)?;
        if m.is_sign_negative() && !m.is_zero() {
            return Err(Fault::Overflow("refund amount (negative)"));
        }
        let mut rounded =
            m.round_dp_with_strategy(amount_scale, RoundingStrategy::MidpointAwayFromZero);
        rounded.rescale(amount_scale);
        decision.amount = Some(rounded);
        decision.currency = Some(
            match program
                .currency
                .and_then(|s| env.frame[s as usize].as_ref())
            {
                Some(Value::Str(s)) => Text::Order(s.clone()),
                _ => Text::Policy(DEFAULT_CURRENCY),
            },
        );
    }
    let variant = |e: &'a Option<TExpr>, id: u16| -> Result<Option<&'p str>, Fault> {
        match e {
            None => Ok(None),
            Some(e) => enum_name(program, Type::Enum(id), eval(e, env)?)
                .ok_or(Fault::Internal)
                .map(Some),
        }
    };
    decision.refund_to = variant(&rule.refund_to, REFUND_TO_ENUM)?;
    decision.review = variant(&rule.review, REVIEW_ENUM)?;
    if let Some(e) = &rule.review_by {
        let d = date_number::<N>(eval(e, env)?)?;
        decision.review_by = Some(day_number_to_date(i64::from(d)).ok_or(Fault::Internal)?);
    }
    if let Some(e) = &rule.next_status {
        // A status the policy writes is borrowed from it; only one read from the order is the order's.
        decision.next_status = Some(match &e.kind {
            TKind::Const(Value::Str(s)) => Text::Policy(s),
            _ => match eval::<N, Val<N>>(e, env)? {
                Val::Str(s) => Text::Order(s.clone()),
                Val::Enum(v) => Text::Policy(enum_name(program, e.ty, v).ok_or(Fault::Internal)?),
                _ => return Err(Fault::Internal),
            },
        });
    }
    if !rule.values.is_empty() {
        decision.values = Vec::with_capacity(rule.values.len());
    }
    for (name, e) in &rule.values {
        let value = eval::<N, Val<N>>(e, env)?.into_value(e.ty)?;
        decision
            .values
            .push((name, value_to_json(program, e.ty, &value)));
    }
    Ok(())
}

pub(super) fn enum_name(program: &Program, ty: Type, v: u16) -> Option<&str> {
    match ty {
        Type::Enum(id) => program
            .enum_values
            .get(id as usize)
            .and_then(|e| e.get(v as usize))
            .map(|name| &**name),
        _ => None,
    }
}

/// Display text in one allocation (timestamps and dates fit in 40 bytes).
fn sized(value: impl std::fmt::Display) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(40);
    let _ = write!(text, "{value}");
    text
}

/// A computed value as the decision's `values` shows it.
pub(crate) fn value_to_json(program: &Program, ty: Type, value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) | Value::Days(i) | Value::BusinessDays(i) | Value::Months(i) => J::from(*i),
        Value::Money(m) => J::String(m.normalize().to_string()),
        Value::Str(s) => J::String(s.to_string()),
        Value::Enum(v) => J::String(
            enum_name(program, ty, *v)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        ),
        Value::Timestamp(t) => J::String(sized(program.policy.zone.format(t.nanos()))),
        Value::Date(d) => match day_number_to_date(i64::from(*d)) {
            Some(date) => J::String(sized(IsoDate(date))),
            None => J::Null,
        },
        Value::Duration(n) => J::String(format!("PT{}S", Decimal::new(*n, 9).normalize())),
    }
}

/// Input errors: what the action needs, the policy's requirements and constraints.
fn validate<'a, N: Num>(
    program: &'a Program,
    action: &'a CompiledAction,
    order: &Order,
    env: &Env<'a, N>,
) -> Result<(), Stop> {
    let policy = &program.policy;
    // Fields present and well formed; a malformed field was reported when the order was read.
    let usable = order.present & !order.malformed;
    let mut problems = Vec::new();
    let mut missing = action.needs & !order.present & !order.malformed;
    while missing != 0 {
        let slot = missing.trailing_zeros() as usize;
        missing &= missing - 1;
        problems.push(FieldProblem {
            field: policy.fields[slot].name.clone(),
            message: format!("is missing; action `{}` needs it", action.name),
        });
    }
    for requirement in &action.requirements {
        let bit = 1u64 << requirement.field;
        if (order.present | order.malformed) & bit != 0 {
            continue;
        }
        let holds = match &requirement.when {
            None => true,
            // A condition that reads a missing or invalid field cannot hold or fail: skip it. Any
            // other fault is the order's error, never a requirement silently skipped.
            Some(cond) => match truth(cond, env) {
                Ok(holds) => holds,
                Err(Fault::Absent(_)) => false,
                Err(fault) => {
                    return Err(check_fault(program, order, fault, || {
                        format!(
                            "the requirement on `{}`",
                            policy.fields[requirement.field as usize].name
                        )
                    }))
                }
            },
        };
        if holds {
            let when = if requirement.when_text.is_empty() {
                String::new()
            } else {
                format!(" when `{}`", requirement.when_text)
            };
            problems.push(FieldProblem {
                field: policy.fields[requirement.field as usize].name.clone(),
                message: format!("is missing; it is required{when}"),
            });
        }
    }
    for constraint in &policy.constraints {
        let readable = constraint.reads & !usable == 0;
        let holds = if readable {
            truth(&constraint.condition, env)
        } else {
            Ok(true)
        };
        let holds = match holds {
            Ok(holds) => holds,
            // Not readable after all (a field read only on some paths): like a missing field.
            Err(Fault::Absent(_)) => true,
            Err(fault) => {
                return Err(check_fault(program, order, fault, || {
                    format!("the constraint \"{}\"", constraint.message)
                }))
            }
        };
        if !holds {
            let fields: Vec<&str> = (0..policy.fields.len())
                .filter(|i| constraint.reads & (1 << i) != 0)
                .map(|i| policy.fields[i].name.as_str())
                .collect();
            problems.push(FieldProblem {
                field: fields.join(", "),
                message: constraint.message.clone(),
            });
        }
    }
    if problems.is_empty() && order.problems.is_empty() {
        return Ok(());
    }
    let mut all = order.problems.clone();
    all.append(&mut problems);
    Err(Stop::Order(OrderError::Input {
        order: order.id.as_deref().map(str::to_string),
        problems: all,
    }))
}

/// A fault while checking an input rule: decide again wide, or the order's evaluation error, naming
/// the rule (`what`).
#[cold]
fn check_fault(
    program: &Program,
    order: &Order,
    fault: Fault,
    what: impl FnOnce() -> String,
) -> Stop {
    if matches!(fault, Fault::Wide) {
        return Stop::Widen;
    }
    match fault_error(program, order, fault) {
        OrderError::Eval { order, message } => Stop::Order(OrderError::Eval {
            order,
            message: format!("{} cannot be checked: {message}", what()),
        }),
        other => Stop::Order(other),
    }
}

#[cold]
fn fault_error(program: &Program, order: &Order, fault: Fault) -> OrderError {
    let message = match fault {
        Fault::Calendar(e) => e.to_string(),
        Fault::Overflow(what) => format!("the {what} is out of range"),
        // Reported only if the i128 number path asked to widen, which it never does.
        Fault::Wide => "internal error: a number does not fit".to_string(),
        Fault::DivisionByZero => "a formula divides by zero".to_string(),
        Fault::Absent(slot) => format!(
            "field `{}` is absent where the policy reads it",
            program
                .policy
                .fields
                .get(slot as usize)
                .map_or("?", |f| f.name.as_str())
        ),
        Fault::TooDeep => format!(
            "internal error: an expression nests deeper than the checker allows ({})",
            crate::syntax::MAX_EXPR_DEPTH
        ),
        Fault::Internal => {
            "internal error: the policy evaluated to an unexpected value".to_string()
        }
    };
    OrderError::Eval {
        order: order.id.as_deref().map(str::to_string),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check, CheckedPolicy};
    use crate::compile::compile;
    use crate::eval::Policy;
    use crate::files::{calendar_dir, load_calendars};
    use crate::source::SourceFile;
    use crate::syntax::parse;

    /// The policy with every definition spelled out where it is used, as the checker once inlined
    /// them, and its table of definitions emptied: a reference left behind could not be evaluated.
    fn inlined(mut policy: CheckedPolicy) -> CheckedPolicy {
        let lets = std::mem::take(&mut policy.lets);
        let expand = |e: &mut TExpr| *e = e.expand(&lets);
        for constraint in &mut policy.constraints {
            expand(&mut constraint.condition);
        }
        for action in &mut policy.actions {
            for requirement in &mut action.requirements {
                requirement.when.as_mut().map(expand);
            }
            for rule in &mut action.rules {
                rule.guard.as_mut().map(expand);
                let attrs = &mut rule.attrs;
                for e in [
                    &mut attrs.amount,
                    &mut attrs.refund_to,
                    &mut attrs.review,
                    &mut attrs.review_by,
                    &mut attrs.next_status,
                ]
                .into_iter()
                .flatten()
                {
                    expand(e);
                }
                for (_, e) in &mut attrs.values {
                    expand(e);
                }
            }
        }
        policy
    }

    /// Definitions evaluated once per decision and instant decide as definitions spelled out do,
    /// deadlines included: every example of every shipped policy, at instants around its own.
    #[test]
    fn definitions_by_reference_decide_as_definitions_inlined() {
        const HOUR: i128 = 3_600_000_000_000;
        const DAY: i128 = 24 * HOUR;
        let offsets = [
            -DAY,
            0,
            HOUR,
            DAY,
            6 * DAY,
            8 * DAY,
            16 * DAY,
            29 * DAY,
            200 * DAY,
            400 * DAY,
        ];
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies"));
        let (mut decisions, mut deadlines, mut definitions) = (0, 0, 0);
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "policy") {
                continue;
            }
            let policy = Policy::load(&path).unwrap();
            let program = &*policy.program;
            definitions += program.policy.lets.len();
            let file = SourceFile::new(path.display().to_string(), policy.source().text.clone());
            let folder = load_calendars(&calendar_dir(&path));
            let mut ast = parse(&file.text).unwrap();
            crate::imports::resolve(
                &mut ast,
                Some(&path),
                folder.calendars(),
                &mut crate::imports::Trail::default(),
            )
            .unwrap();
            let checked = check(&ast, &file, folder.calendars()).unwrap();
            let spelled = compile(inlined(checked)).unwrap();
            for (index, action) in program.policy.actions.iter().enumerate() {
                for example in &action.examples {
                    let Ok(mut order) = policy.read_order_str(&example.order_text) else {
                        continue;
                    };
                    // The order's own request time, if any, is the one moved.
                    let mut at = example.at.unwrap_or(Instant::UNIX_EPOCH);
                    if let Some(slot) = program.requested_at.map(usize::from) {
                        if let Some(Value::Timestamp(t)) = order.frame[slot].take() {
                            at = t;
                        }
                        order.present &= !(1 << slot);
                    }
                    for offset in offsets {
                        let now = Instant::from_nanos(at.nanos() + offset).unwrap();
                        let decide = |program: &Program| {
                            decide(program, index, &order, now, VersionCheck::InForce)
                                .map(|d| d.to_json())
                                .map_err(|e| e.to_string())
                        };
                        let by_reference = decide(program);
                        assert_eq!(
                            by_reference,
                            decide(&spelled),
                            "{} {} at {now:?}",
                            path.display(),
                            example.name
                        );
                        decisions += 1;
                        deadlines += by_reference
                            .as_ref()
                            .is_ok_and(|json| !json.contains("\"deadline\":null"))
                            as usize;
                    }
                }
            }
        }
        assert!(definitions >= 9, "{definitions}");
        assert!(decisions > 500, "{decisions}");
        assert!(deadlines > 50, "{deadlines}");
    }
}
