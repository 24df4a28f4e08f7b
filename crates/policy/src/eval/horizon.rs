//! How long a decision holds if only time passes (`holds_until`): the first instant after the request
//! at which any of its fields would change.
//!
//! Two things change with time. The rule that decides changes only at the instants where a guard's
//! comparison with the request time changes truth: the solved edges the deadline search already walks
//! (`decide::scan`). The attributes of the rule that decides change where an expression reading `now`
//! changes value: `now` itself at every instant, `date(now)` at each local midnight, `hours(now - t)`
//! at each whole hour after `t`, a comparison `now < t` at `t`. `next_change` bounds, for an
//! expression, the instant until which its value cannot change; the attributes are then evaluated
//! again at that instant and compared, field by field, with the decision's, until one differs or the
//! rule changes. Nothing here allocates: an expression's parts are walked by recursion, and values
//! are compared as the interpreter returns them.

use rust_decimal::{Decimal, RoundingStrategy};

use super::interp::{date_number, eval, truth, Env, Fault, Num, Val};
use super::Decision;
use crate::check::typed::{ArithOp, CheckedLet, TExpr, TKind};
use crate::compile::{CompiledRule, Program};
use crate::zone::day_number_to_date;

/// The last instant time reaches, in nanoseconds (9999-12-31T23:59:59.999999999Z).
const LAST: i128 = 253_402_300_799_999_999_999;

/// The most instants the attributes are evaluated at, after the request, looking for a change
/// before the rule changes. Each is a change of some part of an expression (a midnight, an hour);
/// a decision whose attributes stay alike across more of them (a review date that holds 4,096 days)
/// is said to hold until the last one tried.
pub(crate) const MAX_ATTRIBUTE_STEPS: usize = 4096;

/// Whether `e` reads the request time (definitions followed), without allocating.
pub(crate) fn reads_now(e: &TExpr, lets: &[CheckedLet]) -> bool {
    match &e.kind {
        TKind::Now | TKind::Edge(_) => true,
        TKind::Let(id) => lets.get(*id as usize).is_some_and(|l| l.expanded.uses_now),
        _ => {
            let mut any = false;
            e.for_each_operand(|operand| any = any || reads_now(operand, lets));
            any
        }
    }
}

/// How `e` moves as time passes, when it moves exactly with it: `1` for the request time shifted by
/// an amount that does not depend on it (`now`, `now + 48 hours`, `now - paid_at`), `-1` for such an
/// amount taken from a fixed one (`expires_at - now`); `None` otherwise. Definitions are followed.
fn slope(e: &TExpr, lets: &[CheckedLet]) -> Option<i128> {
    match &e.kind {
        TKind::Now => Some(1),
        TKind::Let(id) => slope(&lets.get(*id as usize)?.value, lets),
        TKind::Arith(ArithOp::AddNanos, a, b) => match (reads_now(a, lets), reads_now(b, lets)) {
            (true, false) => slope(a, lets),
            (false, true) => slope(b, lets),
            _ => None,
        },
        TKind::Arith(ArithOp::SubNanos, a, b) => match (reads_now(a, lets), reads_now(b, lets)) {
            (true, false) => slope(a, lets),
            (false, true) => slope(b, lets).map(|s| -s),
            _ => None,
        },
        TKind::Neg(a) => slope(a, lets).map(|s| -s),
        _ => None,
    }
}

/// An expression with its definitions followed: `let held = now - paid_at` seen as `now - paid_at`.
fn resolved<'a>(e: &'a TExpr, lets: &'a [CheckedLet]) -> &'a TExpr {
    match &e.kind {
        TKind::Let(id) => match lets.get(*id as usize) {
            Some(definition) => resolved(&definition.value, lets),
            None => e,
        },
        _ => e,
    }
}

/// An instant after `env.now` until which `e` keeps its value at `env.now` (exclusive), or `None`
/// if time passing never changes it. Conservative: `e` may keep its value at the instant given too.
pub(crate) fn next_change<'a, N: Num>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    lets: &'a [CheckedLet],
) -> Result<Option<i128>, Fault> {
    if !reads_now(e, lets) {
        return Ok(None);
    }
    let now = env.now.to_i128();
    let at = |x: &'a TExpr| -> Result<i128, Fault> { Ok(eval::<N, N>(x, env)?.to_i128()) };
    let after = |d: Option<i128>| d.and_then(|d| now.checked_add(d));
    let e = resolved(e, lets);
    match &e.kind {
        TKind::Now => Ok(now.checked_add(1)),
        // The date of an instant moving with time changes at the next local midnight.
        TKind::DateOf(x) if slope(x, lets) == Some(1) => {
            let value = at(x)?;
            let midnight = env
                .zone
                .day_of(value)
                .checked_add(1)
                .and_then(|day| env.zone.start_of_day_number(day));
            Ok(after(midnight.map(|m| m - value)))
        }
        // Whole units of a duration moving with time (`hours(now - paid_at)`), truncated toward zero.
        TKind::Count(span, per) if *per > 1 => match slope(span, lets) {
            Some(direction) => Ok(after(next_multiple_change(
                at(span)?,
                i128::from(*per),
                direction,
            ))),
            None => children_change(e, env, lets),
        },
        // A side moving with time against a fixed one (`now < t`, `now - paid_at < 168 hours`,
        // `date(now) <= date(t) + 5 calendar days`): the comparison can turn only where they meet.
        TKind::Cmp(_, a, b) => match meeting_of(a, b, env, lets)? {
            Some(meets) => Ok(after(meets)),
            None => children_change(e, env, lets),
        },
        // The smaller (larger) of two changes where they cross, or where the one chosen changes.
        TKind::Min(a, b) | TKind::Max(a, b) => match meeting_of(a, b, env, lets)? {
            Some(meets) => {
                let (x, y) = (at(a)?, at(b)?);
                let first = matches!(e.kind, TKind::Min(..)) == (x <= y);
                let chosen = if first { a } else { b };
                Ok(earliest(after(meets), next_change(chosen, env, lets)?))
            }
            None => children_change(e, env, lets),
        },
        // The condition's change, or the change of the branch taken (the other is not evaluated).
        TKind::If(c, a, b) => {
            let branch = if truth(c, env)? { a } else { b };
            Ok(earliest(
                next_change(c, env, lets)?,
                next_change(branch, env, lets)?,
            ))
        }
        _ => children_change(e, env, lets),
    }
}

/// Whether [`next_change`] of `e` is, at every instant, the next local midnight (or never): `e` reads
/// the request time only through `date(now)`, under operators whose change is their operands'
/// earliest (`date(now) + 15 business days`). For such attributes the walk of [`attribute_change`]
/// steps from midnight to midnight without walking the expressions: the same instants, found without
/// [`next_change`]'s recursion. Kept beside `next_change`, whose cases it follows.
pub(crate) fn changes_at_midnight(e: &TExpr, lets: &[CheckedLet]) -> bool {
    if !reads_now(e, lets) {
        return true;
    }
    let e = resolved(e, lets);
    match &e.kind {
        TKind::DateOf(x) => matches!(resolved(x, lets).kind, TKind::Now),
        // The cases `next_change` solves otherwise, and `now` itself.
        TKind::Now
        | TKind::Edge(_)
        | TKind::Count(..)
        | TKind::Cmp(..)
        | TKind::Min(..)
        | TKind::Max(..)
        | TKind::If(..) => false,
        _ => {
            let mut all = true;
            e.for_each_operand(|operand| all = all && changes_at_midnight(operand, lets));
            all
        }
    }
}

/// The earliest change of any operand.
fn children_change<'a, N: Num>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    lets: &'a [CheckedLet],
) -> Result<Option<i128>, Fault> {
    let mut first: Result<Option<i128>, Fault> = Ok(None);
    e.for_each_operand(|operand| {
        if let Ok(so_far) = first {
            first = next_change(operand, env, lets).map(|t| earliest(so_far, t));
        }
    });
    first
}

fn earliest(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How long until two sides, one moving exactly with time and the other fixed, meet (and one
/// nanosecond after, where a comparison may turn); `Some(None)` once they never will. Dates of a moving
/// instant meet a fixed date at the start of that date. `None` when neither side has that shape.
fn meeting_of<'a, N: Num>(
    a: &'a TExpr,
    b: &'a TExpr,
    env: &Env<'a, N>,
    lets: &'a [CheckedLet],
) -> Result<Option<Option<i128>>, Fault> {
    let value = |x: &'a TExpr| -> Result<i128, Fault> { Ok(eval::<N, N>(x, env)?.to_i128()) };
    let (moving, fixed) = match (reads_now(a, lets), reads_now(b, lets)) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return Ok(None),
    };
    if let Some(direction) = slope(moving, lets) {
        let (x, y) = (value(moving)?, value(fixed)?);
        // x moves by `direction` a nanosecond toward or away from y.
        return Ok(Some(meeting(direction * x, direction * y)));
    }
    // `date(now + c)` against a fixed date: they meet at the start of that date (of the shifted instant).
    if let TKind::DateOf(x) = &resolved(moving, lets).kind {
        if slope(x, lets) == Some(1) {
            let shifted = value(x)?;
            let today = i128::from(env.zone.day_of(shifted));
            let day = value(fixed)?;
            let meets = match today.cmp(&day) {
                std::cmp::Ordering::Less => i32::try_from(day)
                    .ok()
                    .and_then(|d| env.zone.start_of_day_number(d))
                    .map(|start| start - shifted),
                // Equal: the next midnight, where the date passes the fixed one.
                std::cmp::Ordering::Equal => i32::try_from(day + 1)
                    .ok()
                    .and_then(|d| env.zone.start_of_day_number(d))
                    .map(|start| start - shifted),
                std::cmp::Ordering::Greater => None,
            };
            return Ok(Some(meets));
        }
    }
    Ok(None)
}

/// How long until an instant `x`, growing with time, reaches `y` and passes it (a comparison of the
/// two can change there or one nanosecond later); `None` once it has passed.
fn meeting(x: i128, y: i128) -> Option<i128> {
    match x.cmp(&y) {
        std::cmp::Ordering::Less => Some(y - x),
        std::cmp::Ordering::Equal => Some(1),
        std::cmp::Ordering::Greater => None,
    }
}

/// How long until `trunc(s / per)` changes, `s` moving by `direction` (±1) per nanosecond: where `s`
/// next reaches a multiple of `per` away from zero, or leaves one toward zero.
fn next_multiple_change(s: i128, per: i128, direction: i128) -> Option<i128> {
    // In the direction of travel, the value is trunc(u / per) with u = direction * s growing.
    let u = direction.checked_mul(s)?;
    let next = if u >= 0 {
        // Away from zero: the next multiple above u.
        (u.div_euclid(per) + 1).checked_mul(per)?
    } else {
        // Toward zero: trunc keeps its value until u passes the multiple at or above it (then one
        // nanosecond later); from -per to 0 the value is already 0, and stays so until per.
        let multiple = -((-u).div_euclid(per)) * per;
        if multiple == 0 {
            per
        } else {
            multiple.checked_add(1)?
        }
    };
    next.checked_sub(u)
}

/// The first instant, after the request and before `limit`, at which an attribute of `rule` would
/// be other than `decision` shows: `None` if none is, up to `limit` (the instant the rule changes) or
/// `MAX_ATTRIBUTE_STEPS` instants on (then the last instant tried: the decision holds at least until
/// then).
pub(crate) fn attribute_change<'a, N: Num>(
    program: &'a Program,
    rule: &'a CompiledRule,
    env: &Env<'a, N>,
    decision: &Decision<'_>,
    amount_scale: u32,
    limit: Option<N>,
) -> Result<Option<N>, Fault> {
    let lets = &program.policy.lets;
    let mut later = *env;
    for _ in 0..MAX_ATTRIBUTE_STEPS {
        let next = if rule.attributes_change_at_midnight {
            // What `next_change` finds for `date(now)`: the start of the next local day.
            later
                .zone
                .day_of(later.now.to_i128())
                .checked_add(1)
                .and_then(|day| later.zone.start_of_day_number(day))
        } else {
            let mut next: Option<i128> = None;
            for e in moving(rule) {
                match next_change(e, &later, lets) {
                    Ok(Some(t)) => next = Some(next.map_or(t, |n| n.min(t))),
                    Ok(None) => {}
                    Err(Fault::Wide) => return Err(Fault::Wide),
                    // An operand that cannot be evaluated here cannot be either a moment later: the
                    // attributes are compared at the next instant instead.
                    Err(_) => {
                        let t = later.now.to_i128().saturating_add(1);
                        next = Some(next.map_or(t, |n| n.min(t)));
                    }
                }
            }
            next
        };
        // Instants after 9999-12-31T23:59:59.999999999Z are never reached.
        let Some(next) = next.filter(|t| *t <= LAST) else {
            return Ok(None);
        };
        let Some(next) = N::from_i128(next) else {
            // Beyond what the narrow number path holds: decide again wide.
            return Err(Fault::Wide);
        };
        if limit.is_some_and(|limit| next >= limit) {
            return Ok(None);
        }
        later.now = next;
        match differs(program, rule, env, &later, decision, amount_scale) {
            Ok(false) => {}
            Ok(true) => return Ok(Some(next)),
            Err(Fault::Wide) => return Err(Fault::Wide),
            // Deciding there fails (a review date past the calendar): the decision changes there.
            Err(_) => return Ok(Some(next)),
        }
    }
    // So many instants alike: the decision is said to hold until the last one tried (a bound, not
    // a change).
    Ok(Some(later.now))
}

/// The attributes of `rule` that read the request time (`CompiledRule::attributes_reading_now`).
fn moving(rule: &CompiledRule) -> impl Iterator<Item = &TExpr> {
    let mask = rule.attributes_reading_now;
    rule.expressions()
        .enumerate()
        .filter(move |(k, _)| mask & (1 << (*k).min(63)) != 0)
        .filter_map(|(_, e)| e)
}

/// Whether an attribute of `rule` that reads the request time has another value at `later` than
/// `decision` shows (computed at `now`): the amount rounded to its minor unit, names and dates as
/// the decision holds them, the others compared as computed at both instants.
fn differs<'a, N: Num>(
    program: &'a Program,
    rule: &'a CompiledRule,
    now: &Env<'a, N>,
    later: &Env<'a, N>,
    decision: &Decision<'_>,
    amount_scale: u32,
) -> Result<bool, Fault> {
    let mask = rule.attributes_reading_now;
    let reads = |k: usize| mask & (1 << k.min(63)) != 0;
    if let (Some(amount), true) = (&rule.amount, reads(0)) {
        let m: Decimal = eval(amount, later)?;
        let shown = m.round_dp_with_strategy(amount_scale, RoundingStrategy::MidpointAwayFromZero);
        if Some(shown) != decision.amount {
            return Ok(true);
        }
    }
    for (k, e, shown) in [
        (1, &rule.refund_to, decision.refund_to),
        (2, &rule.review, decision.review),
    ] {
        if let (Some(e), true) = (e, reads(k)) {
            let value: u16 = eval(e, later)?;
            if super::decide::enum_name(program, e.ty, value) != shown {
                return Ok(true);
            }
        }
    }
    if let (Some(e), true) = (&rule.review_by, reads(3)) {
        let day = date_number::<N>(eval(e, later)?)?;
        if day_number_to_date(i64::from(day)) != decision.review_by {
            return Ok(true);
        }
    }
    let values = rule.values.iter().enumerate().map(|(j, (_, e))| (5 + j, e));
    for (k, e) in rule.next_status.iter().map(|e| (4, e)).chain(values) {
        if reads(k) && !same(eval::<N, Val<N>>(e, now)?, eval::<N, Val<N>>(e, later)?) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn same<N: Num>(a: Val<'_, N>, b: Val<'_, N>) -> bool {
    match (a, b) {
        (Val::Bool(a), Val::Bool(b)) => a == b,
        (Val::Num(a), Val::Num(b)) => a == b,
        (Val::Enum(a), Val::Enum(b)) => a == b,
        (Val::Money(a), Val::Money(b)) => a == b,
        (Val::Str(a), Val::Str(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i128 = 3_600_000_000_000;

    #[test]
    fn whole_units_change_where_the_truncated_count_does() {
        // 2.5 hours, growing: 3 hours at +0.5 h.
        assert_eq!(next_multiple_change(5 * HOUR / 2, HOUR, 1), Some(HOUR / 2));
        // Exactly 2 hours: 3 at +1 h.
        assert_eq!(next_multiple_change(2 * HOUR, HOUR, 1), Some(HOUR));
        // -2.5 hours growing toward zero: trunc is -2 until -2 h is passed, then -1.
        assert_eq!(
            next_multiple_change(-5 * HOUR / 2, HOUR, 1),
            Some(HOUR / 2 + 1)
        );
        // -0.5 hours: 0 already, and 0 until +1 h.
        assert_eq!(next_multiple_change(-HOUR / 2, HOUR, 1), Some(3 * HOUR / 2));
        // 2.5 hours shrinking (now on the right of the subtraction): 2 until 2 h is passed.
        assert_eq!(
            next_multiple_change(5 * HOUR / 2, HOUR, -1),
            Some(HOUR / 2 + 1)
        );
    }

    /// Which attributes step from midnight to midnight, and that the step is what `next_change`
    /// finds, across a change of daylight saving time.
    #[test]
    fn midnight_attributes_change_where_next_change_says() {
        const SOURCE: &str = r#"
policy midnight
  document "terms.txt"
  zone "Europe/Berlin"
field paid_at: timestamp
field price: money
let due = date(now) + 3 calendar days
action refund {
  rule daily when price > 100 then allowed review_by = due because "a" cite "1"
  rule shifted when price > 50 then allowed review_by = date(now + 48 hours) because "b" cite "2"
  rule fixed when price > 10 then allowed review_by = date(paid_at) because "c" cite "3"
  rule compared then allowed review_by = if date(now) < date(paid_at) then date(paid_at) else due
    because "d" cite "4"
}
"#;
        let policy =
            match crate::Policy::from_source("midnight", SOURCE, &crate::check::Calendars::new()) {
                Ok(policy) => policy,
                Err(error) => panic!("{error}"),
            };
        let program = policy.program();
        let rules = &program.actions[0].rules;
        let flags: Vec<bool> = rules
            .iter()
            .map(|r| r.attributes_change_at_midnight)
            .collect();
        assert_eq!(flags, [true, false, false, false]);
        let lets = &program.policy.lets;
        let (Some(review_by), frame) = (&rules[0].review_by, []) else {
            panic!("no review_by")
        };
        let memo = super::super::interp::Lets::<i64>::new(program);
        // 2026-03-28T22:30:00Z to 2026-03-29T23:30:00Z, half-hourly: clocks go forward on the 29th.
        let start: i64 = 1_774_737_000_000_000_000;
        for step in 0..50 {
            let now = start + step * 1_800_000_000_000;
            let env = Env {
                frame: &frame,
                now,
                zone: program.policy.zone,
                calendar: None,
                edges: None,
                lets: &memo,
            };
            let day = env.zone.day_of(i128::from(now));
            let midnight = env.zone.start_of_day_number(day + 1);
            assert_eq!(next_change(review_by, &env, lets), Ok(midnight), "at {now}");
        }
    }

    #[test]
    fn a_moving_instant_meets_a_fixed_one_once() {
        assert_eq!(meeting(10, 25), Some(15));
        assert_eq!(meeting(25, 25), Some(1));
        assert_eq!(meeting(26, 25), None);
    }
}
