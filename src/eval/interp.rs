//! The expression interpreter: one dispatch `match` over the checked tree, values by slot, no name
//! lookups and no allocation.

use std::cell::Cell;
use std::cmp::Ordering;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::calendar::{Calendar, OutOfCalendar};
use crate::check::typed::{ArithOp, CmpOp, Slot, TExpr, TKind};
use crate::compile::{Edge, MAX_EDGES};
use crate::syntax::ast::Rounding;
use crate::time::Instant;
use crate::value::{Type, Value};
use crate::zone::{date_to_day_number, day_number_to_date, Zone};

/// Where an expression is evaluated: the order's fields, the request time, the policy's zone and
/// calendar.
#[derive(Clone, Copy)]
pub(crate) struct Env<'a> {
    pub frame: &'a [Option<Value>],
    /// The request time, in nanoseconds (`Instant::nanos`).
    pub now: i128,
    pub zone: Zone,
    pub calendar: Option<&'a Calendar>,
    /// The solved comparisons with the request time, for compiled guards (`TKind::Edge`).
    pub edges: Option<&'a EdgeBounds<'a>>,
}

/// Per order, each edge's bound, computed when first needed: the comparison `sign * x + Σ terms op
/// other` is `sign * x op (other - Σ terms)`, and only `x` (the request instant, or the date of the
/// request shifted by `shift`) changes while the deadline is sought.
pub(crate) struct EdgeBounds<'a> {
    edges: &'a [Edge],
    bounds: [Cell<Bound>; MAX_EDGES],
}

#[derive(Debug, Clone, Copy)]
enum Bound {
    Unknown,
    /// The bound reads a field this order lacks.
    Absent(Slot),
    Known {
        base: i128,
        shift: i128,
    },
}

impl<'a> EdgeBounds<'a> {
    pub(crate) fn new(edges: &'a [Edge]) -> Self {
        EdgeBounds {
            edges,
            bounds: std::array::from_fn(|_| Cell::new(Bound::Unknown)),
        }
    }

    /// `(base, shift)` of edge `index`, or `None` when it reads an absent field.
    #[inline]
    pub(crate) fn bound(&self, index: usize, env: &Env<'_>) -> Result<Option<(i128, i128)>> {
        let cell = self.bounds.get(index).ok_or(Fault::Internal)?;
        let bound = match cell.get() {
            Bound::Unknown => {
                let edge = self.edges.get(index).ok_or(Fault::Internal)?;
                let computed = match edge_bound(edge, env) {
                    Ok((base, shift)) => Bound::Known { base, shift },
                    Err(Fault::Absent(slot)) => Bound::Absent(slot),
                    Err(other) => return Err(other),
                };
                cell.set(computed);
                computed
            }
            known => known,
        };
        Ok(match bound {
            Bound::Known { base, shift } => Some((base, shift)),
            _ => None,
        })
    }

    pub(crate) fn edge(&self, index: usize) -> Option<&Edge> {
        self.edges.get(index)
    }

    fn absent_slot(&self, index: usize) -> Slot {
        match self.bounds.get(index).map(Cell::get) {
            Some(Bound::Absent(slot)) => slot,
            _ => 0,
        }
    }
}

fn edge_bound(edge: &Edge, env: &Env<'_>) -> Result<(i128, i128)> {
    let sum = |terms: &[(i64, TExpr)]| -> Result<i128> {
        terms.iter().try_fold(0i128, |total, (sign, term)| {
            signed(*sign, number(term, env)?)
                .and_then(|signed| total.checked_add(signed))
                .ok_or_else(|| overflow("time edge"))
        })
    };
    let base = number(&edge.other, env)?
        .checked_sub(sum(&edge.terms)?)
        .ok_or_else(|| overflow("time edge"))?;
    Ok((base, sum(&edge.shift)?))
}

/// `x` for an edge at `env.now`: the instant itself, or the day number of the shifted instant.
#[inline]
pub(crate) fn edge_axis(edge: &Edge, shift: i128, env: &Env<'_>) -> Result<i128> {
    if !edge.on_date {
        return Ok(env.now);
    }
    let shifted = env
        .now
        .checked_add(shift)
        .filter(|&t| Instant::contains(t))
        .ok_or_else(|| overflow("timestamp"))?;
    Ok(i128::from(env.zone.day_of(shifted)))
}

/// `sign * x`. The signs of edges and their terms are 1 or -1 (`compile`), and `i128`
/// multiplication is a call: negate instead.
#[inline]
pub(crate) fn signed(sign: i64, x: i128) -> Option<i128> {
    match sign {
        1 => Some(x),
        -1 => x.checked_neg(),
        other => i128::from(other).checked_mul(x),
    }
}

fn holds(op: CmpOp, ordering: Ordering) -> bool {
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A field the checker could not prove present is absent (a short-circuit kept it from mattering,
    /// or it is read where absence is handled by the caller).
    Absent(Slot),
    /// Boxed: a rare error should not widen every `Result` of the hot path.
    Calendar(Box<OutOfCalendar>),
    Overflow(&'static str),
    DivisionByZero,
    /// A shape the checker rules out; reported, never panicked on.
    Internal,
}

type Result<T> = std::result::Result<T, Fault>;

#[cold]
fn overflow(what: &'static str) -> Fault {
    Fault::Overflow(what)
}

/// Types whose values are one integer: counts, calendar days, dates (day numbers), instants and
/// durations (nanoseconds). They are evaluated by `number`, in `i128` (wide enough that no sum or
/// difference of in-range values overflows), without building `Value`s; each result is checked
/// against its type's range when it becomes a `Value` again (`from_number`).
fn is_number(ty: Type) -> bool {
    matches!(
        ty,
        Type::Int | Type::Days | Type::Date | Type::Timestamp | Type::Duration | Type::BusinessDays
    )
}

fn as_number(value: &Value) -> Result<i128> {
    match value {
        Value::Int(n) | Value::Days(n) | Value::Duration(n) | Value::BusinessDays(n) => {
            Ok(i128::from(*n))
        }
        Value::Timestamp(t) => Ok(t.nanos()),
        Value::Date(d) => Ok(i128::from(*d)),
        _ => Err(Fault::Internal),
    }
}

fn from_number(ty: Type, n: i128) -> Result<Value> {
    let narrow = |what| i64::try_from(n).map_err(|_| overflow(what));
    Ok(match ty {
        Type::Int => Value::Int(narrow("number")?),
        Type::Days => Value::Days(narrow("number of days")?),
        Type::Timestamp => {
            Value::Timestamp(Instant::from_nanos(n).ok_or_else(|| overflow("timestamp"))?)
        }
        Type::Duration => Value::Duration(narrow("duration")?),
        Type::BusinessDays => Value::BusinessDays(narrow("number of business days")?),
        Type::Date => Value::Date(date_number(n)?),
        _ => return Err(Fault::Internal),
    })
}

/// A day number that is a date of years 0001 to 9999.
fn date_number(n: i128) -> Result<i32> {
    /// 0001-01-01 and 9999-12-31 as days since 1970-01-01.
    const FIRST: i128 = -719_162;
    const LAST: i128 = 2_932_896;
    if (FIRST..=LAST).contains(&n) {
        // INVARIANT: the range fits an i32.
        Ok(n as i32)
    } else {
        Err(overflow("date"))
    }
}

/// Evaluates an expression of a number type (see `is_number`) to its `i128`.
pub(crate) fn number(e: &TExpr, env: &Env<'_>) -> Result<i128> {
    match &e.kind {
        TKind::Const(v) => as_number(v),
        TKind::Field(slot) => match env.frame.get(*slot as usize) {
            Some(Some(v)) => as_number(v),
            _ => Err(Fault::Absent(*slot)),
        },
        TKind::Now => Ok(env.now),
        TKind::DateOf(a) => {
            let instant = number(a, env)?;
            if !Instant::contains(instant) {
                return Err(overflow("timestamp"));
            }
            Ok(i128::from(env.zone.day_of(instant)))
        }
        TKind::StartOfDay(a) => {
            let day = date_number(number(a, env)?)?;
            env.zone
                .start_of_day_number(day)
                .filter(|&t| Instant::contains(t))
                .ok_or_else(|| overflow("timestamp"))
        }
        TKind::Arith(op, a, b) => {
            let (x, y) = (number(a, env)?, number(b, env)?);
            let result = match op {
                ArithOp::AddNanos | ArithOp::DateAddDays | ArithOp::AddInt => x.checked_add(y),
                ArithOp::SubNanos | ArithOp::DateSubDays | ArithOp::DateDiff | ArithOp::SubInt => {
                    x.checked_sub(y)
                }
                // Counts fit an i64, where multiplication is one instruction.
                ArithOp::MulInt => match (i64::try_from(x), i64::try_from(y)) {
                    (Ok(x), Ok(y)) => x.checked_mul(y).map(i128::from),
                    _ => x.checked_mul(y),
                },
                ArithOp::DateAddBusiness => return business_days(x, y, env),
                ArithOp::DateSubBusiness => {
                    return business_days(
                        x,
                        y.checked_neg().ok_or_else(|| overflow("business days"))?,
                        env,
                    )
                }
                _ => return Err(Fault::Internal),
            };
            result.ok_or_else(|| overflow("number"))
        }
        TKind::Neg(a) => number(a, env)?
            .checked_neg()
            .ok_or_else(|| overflow("number")),
        TKind::Min(a, b) => Ok(number(a, env)?.min(number(b, env)?)),
        TKind::Max(a, b) => Ok(number(a, env)?.max(number(b, env)?)),
        TKind::If(c, a, b) => {
            if truth(c, env)? {
                number(a, env)
            } else {
                number(b, env)
            }
        }
        _ => Err(Fault::Internal),
    }
}

fn business_days(day: i128, n: i128, env: &Env<'_>) -> Result<i128> {
    let calendar = env.calendar.ok_or(Fault::Internal)?;
    let date = day_number_to_date(i64::from(date_number(day)?)).ok_or_else(|| overflow("date"))?;
    let n = i64::try_from(n).map_err(|_| overflow("number of business days"))?;
    let shifted = calendar
        .add_business_days(date, n)
        .map_err(|e| Fault::Calendar(Box::new(e)))?;
    Ok(i128::from(date_to_day_number(shifted)))
}

pub(crate) fn truth(e: &TExpr, env: &Env<'_>) -> Result<bool> {
    match &e.kind {
        TKind::And(a, b) => Ok(truth(a, env)? && truth(b, env)?),
        TKind::Or(a, b) => Ok(truth(a, env)? || truth(b, env)?),
        TKind::Not(a) => Ok(!truth(a, env)?),
        TKind::Present(slot) => Ok(matches!(env.frame.get(*slot as usize), Some(Some(_)))),
        TKind::InSet(subject, mask) => Ok(mask & (1 << variant(subject, env)?) != 0),
        TKind::Cmp(op, a, b) => {
            let ordering = if is_number(a.ty) {
                number(a, env)?.cmp(&number(b, env)?)
            } else if matches!(a.ty, Type::Enum(_)) {
                variant(a, env)?.cmp(&variant(b, env)?)
            } else {
                compare(&eval(a, env)?, &eval(b, env)?).ok_or(Fault::Internal)?
            };
            Ok(holds(*op, ordering))
        }
        TKind::Edge(index) => {
            let index = usize::from(*index);
            let bounds = env.edges.ok_or(Fault::Internal)?;
            let edge = bounds.edge(index).ok_or(Fault::Internal)?;
            let Some((base, shift)) = bounds.bound(index, env)? else {
                return Err(Fault::Absent(bounds.absent_slot(index)));
            };
            let linear = signed(edge.sign, edge_axis(edge, shift, env)?)
                .ok_or_else(|| overflow("time edge"))?;
            let ordering = if edge.linear_left {
                linear.cmp(&base)
            } else {
                base.cmp(&linear)
            };
            Ok(holds(edge.op, ordering))
        }
        TKind::Field(slot) => match env.frame.get(*slot as usize) {
            Some(Some(Value::Bool(b))) => Ok(*b),
            Some(Some(_)) => Err(Fault::Internal),
            _ => Err(Fault::Absent(*slot)),
        },
        TKind::Const(Value::Bool(b)) => Ok(*b),
        _ => match eval(e, env)? {
            Value::Bool(b) => Ok(b),
            _ => Err(Fault::Internal),
        },
    }
}

/// The variant of an enum-typed expression; fields and constants are read without building a `Value`.
fn variant(e: &TExpr, env: &Env<'_>) -> Result<u16> {
    match &e.kind {
        TKind::Const(Value::Enum(v)) => Ok(*v),
        TKind::Field(slot) => match env.frame.get(*slot as usize) {
            Some(Some(Value::Enum(v))) => Ok(*v),
            Some(Some(_)) => Err(Fault::Internal),
            _ => Err(Fault::Absent(*slot)),
        },
        _ => match eval(e, env)? {
            Value::Enum(v) => Ok(v),
            _ => Err(Fault::Internal),
        },
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    Some(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y))
        | (Value::Duration(x), Value::Duration(y))
        | (Value::Days(x), Value::Days(y)) => x.cmp(y),
        (Value::Money(x), Value::Money(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Enum(x), Value::Enum(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        _ => return None,
    })
}

pub(crate) fn eval(e: &TExpr, env: &Env<'_>) -> Result<Value> {
    if is_number(e.ty) && !matches!(e.kind, TKind::Const(_) | TKind::Field(_)) {
        return from_number(e.ty, number(e, env)?);
    }
    match &e.kind {
        TKind::Const(v) => Ok(v.clone()),
        TKind::Field(slot) => match env.frame.get(*slot as usize) {
            Some(Some(v)) => Ok(v.clone()),
            _ => Err(Fault::Absent(*slot)),
        },
        TKind::Present(_)
        | TKind::Not(_)
        | TKind::And(..)
        | TKind::Or(..)
        | TKind::Cmp(..)
        | TKind::Edge(_)
        | TKind::InSet(..) => truth(e, env).map(Value::Bool),
        TKind::Arith(op, a, b) => arith(*op, eval(a, env)?, eval(b, env)?),
        // Numbers (dates, instants, counts) took the `number` path above; what is left is money.
        TKind::Neg(a) => match eval(a, env)? {
            Value::Money(m) => Ok(Value::Money(-m)),
            _ => Err(Fault::Internal),
        },
        TKind::Now | TKind::DateOf(_) | TKind::StartOfDay(_) => Err(Fault::Internal),
        TKind::Min(a, b) | TKind::Max(a, b) => {
            let (x, y) = (eval(a, env)?, eval(b, env)?);
            let ordering = compare(&x, &y).ok_or(Fault::Internal)?;
            let take_first = matches!(e.kind, TKind::Min(..)) == (ordering != Ordering::Greater);
            Ok(if take_first { x } else { y })
        }
        TKind::If(c, a, b) => {
            if truth(c, env)? {
                eval(a, env)
            } else {
                eval(b, env)
            }
        }
        TKind::Round(a, mode, quantum) => match eval(a, env)? {
            Value::Money(m) => round(m, *mode, *quantum).map(Value::Money),
            _ => Err(Fault::Internal),
        },
    }
}

fn strategy(mode: Rounding) -> RoundingStrategy {
    match mode {
        Rounding::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
        Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        Rounding::HalfTowardZero => RoundingStrategy::MidpointTowardZero,
        Rounding::TowardZero => RoundingStrategy::ToZero,
        Rounding::AwayFromZero => RoundingStrategy::AwayFromZero,
        Rounding::Floor => RoundingStrategy::ToNegativeInfinity,
        Rounding::Ceiling => RoundingStrategy::ToPositiveInfinity,
    }
}

pub(crate) fn round(value: Decimal, mode: Rounding, quantum: Decimal) -> Result<Decimal> {
    let strategy = strategy(mode);
    // 0.01, 0.1, 1: rounding to a number of decimal places needs no division.
    if quantum.mantissa() == 1 {
        return Ok(value.round_dp_with_strategy(quantum.scale(), strategy));
    }
    let steps = value.checked_div(quantum).ok_or(Fault::DivisionByZero)?;
    steps
        .round_dp_with_strategy(0, strategy)
        .checked_mul(quantum)
        .ok_or_else(|| overflow("money"))
}

/// Money arithmetic; every other operation is on numbers (see `number`).
fn arith(op: ArithOp, a: Value, b: Value) -> Result<Value> {
    use Value as V;
    let result = match (op, a, b) {
        (ArithOp::AddMoney, V::Money(x), V::Money(y)) => x.checked_add(y),
        (ArithOp::SubMoney, V::Money(x), V::Money(y)) => x.checked_sub(y),
        (ArithOp::MulMoneyInt, V::Money(x), V::Int(y)) => x.checked_mul(Decimal::from(y)),
        (ArithOp::DivMoneyInt, V::Money(x), V::Int(y)) => {
            if y == 0 {
                return Err(Fault::DivisionByZero);
            }
            x.checked_div(Decimal::from(y))
        }
        _ => return Err(Fault::Internal),
    };
    result.map(V::Money).ok_or_else(|| overflow("money"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounding to 0.01 without dividing gives what dividing by the quantum gives, in every mode.
    #[test]
    fn rounding_to_decimal_places_agrees_with_steps_of_the_quantum() {
        let modes = [
            Rounding::HalfAwayFromZero,
            Rounding::HalfEven,
            Rounding::HalfTowardZero,
            Rounding::TowardZero,
            Rounding::AwayFromZero,
            Rounding::Floor,
            Rounding::Ceiling,
        ];
        let quantum = Decimal::new(1, 2);
        for cents in -2000i64..2000 {
            // x.xx5 and its neighbours: the midpoints and the values around them.
            for thousandths in [0, 1, 4, 5, 6, 9] {
                let value = Decimal::new(cents * 10 + thousandths, 3);
                for mode in modes {
                    let by_steps =
                        (value / quantum).round_dp_with_strategy(0, strategy(mode)) * quantum;
                    assert_eq!(
                        round(value, mode, quantum).unwrap(),
                        by_steps,
                        "{value} {mode:?}"
                    );
                }
            }
        }
        // A quantum that is not a power of ten still rounds by steps.
        let nickel = Decimal::new(5, 2);
        assert_eq!(
            round(Decimal::new(1_274, 3), Rounding::HalfAwayFromZero, nickel).unwrap(),
            Decimal::new(125, 2)
        );
    }
}
