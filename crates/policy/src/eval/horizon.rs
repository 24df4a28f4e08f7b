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

use super::interp::{eval, Env, Fault, Num, Val};
use crate::check::typed::{ArithOp, CheckedLet, TExpr, TKind};
use crate::compile::CompiledRule;

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
        _ => children(e)
            .into_iter()
            .flatten()
            .any(|c| reads_now(c, lets)),
    }
}

/// The operands of a node (at most three).
fn children(e: &TExpr) -> [Option<&TExpr>; 3] {
    match &e.kind {
        TKind::Not(a)
        | TKind::InSet(a, _)
        | TKind::TextIn(a, _)
        | TKind::Neg(a)
        | TKind::DateOf(a)
        | TKind::StartOfDay(a)
        | TKind::Round(a, ..)
        | TKind::Count(a, _) => [Some(a), None, None],
        TKind::And(a, b)
        | TKind::Or(a, b)
        | TKind::Cmp(_, a, b)
        | TKind::Text(_, a, b)
        | TKind::Arith(_, a, b)
        | TKind::Min(a, b)
        | TKind::Max(a, b) => [Some(a), Some(b), None],
        TKind::If(c, a, b) => [Some(c), Some(a), Some(b)],
        TKind::Const(_)
        | TKind::Field(_)
        | TKind::Let(_)
        | TKind::Now
        | TKind::Present(_)
        | TKind::Edge(_) => [None, None, None],
    }
}

/// Whether `e` is the request time moved by an amount that does not depend on it (`now`,
/// `now + 48 hours`, `now - grace`): its value grows exactly as time passes.
fn moves_with_now(e: &TExpr, lets: &[CheckedLet]) -> bool {
    match &e.kind {
        TKind::Now => true,
        TKind::Let(id) => lets
            .get(*id as usize)
            .is_some_and(|l| moves_with_now(&l.value, lets)),
        TKind::Arith(ArithOp::AddNanos, a, b) => {
            (moves_with_now(a, lets) && !reads_now(b, lets))
                || (moves_with_now(b, lets) && !reads_now(a, lets))
        }
        TKind::Arith(ArithOp::SubNanos, a, b) => {
            moves_with_now(a, lets) && !reads_now(b, lets) && a.ty == e.ty
        }
        _ => false,
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
    match &e.kind {
        TKind::Now => Ok(now.checked_add(1)),
        TKind::Let(id) => match lets.get(*id as usize) {
            Some(definition) => next_change(&definition.value, env, lets),
            None => Err(Fault::Internal),
        },
        // The date of an instant moving with time changes at the next local midnight.
        TKind::DateOf(x) | TKind::StartOfDay(x) if moves_with_now(x, lets) => {
            let value = at(x)?;
            let midnight = env
                .zone
                .day_of(value)
                .checked_add(1)
                .and_then(|day| env.zone.start_of_day_number(day));
            Ok(midnight.and_then(|m| now.checked_add(m - value)))
        }
        // Whole units of a duration moving with time (`hours(now - paid_at)`), truncated toward zero.
        TKind::Count(span, per) if *per > 1 => match &span.kind {
            TKind::Arith(ArithOp::SubNanos, a, b)
                if moves_with_now(a, lets) && !reads_now(b, lets) =>
            {
                Ok(next_multiple_change(at(span)?, i128::from(*per), 1)
                    .and_then(|d| now.checked_add(d)))
            }
            TKind::Arith(ArithOp::SubNanos, a, b)
                if moves_with_now(b, lets) && !reads_now(a, lets) =>
            {
                Ok(next_multiple_change(at(span)?, i128::from(*per), -1)
                    .and_then(|d| now.checked_add(d)))
            }
            _ => children_change(e, env, lets),
        },
        // An instant moving with time against one that does not: the comparison turns where they meet.
        TKind::Cmp(_, a, b) if moves_with_now(a, lets) && !reads_now(b, lets) => {
            let (x, y) = (at(a)?, at(b)?);
            Ok(meeting(x, y).and_then(|d| now.checked_add(d)))
        }
        TKind::Cmp(_, a, b) if moves_with_now(b, lets) && !reads_now(a, lets) => {
            let (x, y) = (at(b)?, at(a)?);
            Ok(meeting(x, y).and_then(|d| now.checked_add(d)))
        }
        _ => children_change(e, env, lets),
    }
}

/// The earliest change of any operand.
fn children_change<'a, N: Num>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    lets: &'a [CheckedLet],
) -> Result<Option<i128>, Fault> {
    let mut first: Option<i128> = None;
    for child in children(e).into_iter().flatten() {
        if let Some(t) = next_change(child, env, lets)? {
            first = Some(first.map_or(t, |f| f.min(t)));
        }
    }
    Ok(first)
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
/// be other than at the request: `None` if none is, up to `limit` (the instant the rule changes) or
/// `MAX_ATTRIBUTE_STEPS` instants on.
pub(crate) fn attribute_change<'a, N: Num>(
    rule: &'a CompiledRule,
    env: &Env<'a, N>,
    lets: &'a [CheckedLet],
    amount_scale: u32,
    limit: Option<N>,
) -> Result<Option<N>, Fault> {
    let mut later = *env;
    for _ in 0..MAX_ATTRIBUTE_STEPS {
        let mut next: Option<i128> = None;
        for e in attributes(rule) {
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
        let Some(next) = next.and_then(N::from_i128) else {
            return Ok(None);
        };
        if limit.is_some_and(|limit| next >= limit) {
            return Ok(None);
        }
        later.now = next;
        match differs(rule, env, &later, amount_scale) {
            Ok(false) => {}
            Ok(true) => return Ok(Some(next)),
            Err(Fault::Wide) => return Err(Fault::Wide),
            // Deciding there fails (a review date past the calendar): the decision changes there.
            Err(_) => return Ok(Some(next)),
        }
    }
    Ok(None)
}

/// The rule's attributes that are evaluated for a decision that goes through.
fn attributes(rule: &CompiledRule) -> impl Iterator<Item = &TExpr> {
    [
        &rule.amount,
        &rule.refund_to,
        &rule.review,
        &rule.review_by,
        &rule.next_status,
    ]
    .into_iter()
    .flatten()
    .chain(rule.values.iter().map(|(_, e)| e))
}

/// Whether some attribute of `rule` has another value at `later` than at `now`: the amount as the
/// decision shows it (rounded to its minor unit), the others as computed.
fn differs<'a, N: Num>(
    rule: &'a CompiledRule,
    now: &Env<'a, N>,
    later: &Env<'a, N>,
    amount_scale: u32,
) -> Result<bool, Fault> {
    if let Some(amount) = &rule.amount {
        let shown = |env: &Env<'a, N>| -> Result<Decimal, Fault> {
            let m: Decimal = eval(amount, env)?;
            Ok(m.round_dp_with_strategy(amount_scale, RoundingStrategy::MidpointAwayFromZero))
        };
        if shown(now)? != shown(later)? {
            return Ok(true);
        }
    }
    for e in [
        &rule.refund_to,
        &rule.review,
        &rule.review_by,
        &rule.next_status,
    ]
    .into_iter()
    .flatten()
    .chain(rule.values.iter().map(|(_, e)| e))
    {
        if !same(eval::<N, Val<N>>(e, now)?, eval::<N, Val<N>>(e, later)?) {
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

    #[test]
    fn a_moving_instant_meets_a_fixed_one_once() {
        assert_eq!(meeting(10, 25), Some(15));
        assert_eq!(meeting(25, 25), Some(1));
        assert_eq!(meeting(26, 25), None);
    }
}
