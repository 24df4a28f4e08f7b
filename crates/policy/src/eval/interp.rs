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

/// The integers of the number path (counts, days, dates, instants and durations in nanoseconds).
/// A decision is first made in `i64`, where every instant of 1678 to 2261 fits and arithmetic is one
/// instruction; a value that does not fit stops it with `Fault::Wide`, and the decision is made again
/// in `i128`, where no sum of in-range values overflows. Only there is an overflow an error.
pub(crate) trait Num: Copy + Ord + std::fmt::Debug {
    const ZERO: Self;
    /// The wide type: nothing is decided again after it.
    const WIDE: bool;
    fn from_i64(n: i64) -> Self;
    /// `None`: it does not fit.
    fn from_i128(n: i128) -> Option<Self>;
    fn to_i128(self) -> i128;
    fn checked_add(self, other: Self) -> Option<Self>;
    fn checked_sub(self, other: Self) -> Option<Self>;
    fn checked_mul(self, other: Self) -> Option<Self>;
    fn checked_neg(self) -> Option<Self>;
    /// What a result that does not fit means here: decide again wide, or a real overflow.
    fn overflow(what: &'static str) -> Fault;
}

impl Num for i64 {
    const ZERO: i64 = 0;
    const WIDE: bool = false;
    fn from_i64(n: i64) -> i64 {
        n
    }
    fn from_i128(n: i128) -> Option<i64> {
        i64::try_from(n).ok()
    }
    fn to_i128(self) -> i128 {
        i128::from(self)
    }
    fn checked_add(self, other: i64) -> Option<i64> {
        i64::checked_add(self, other)
    }
    fn checked_sub(self, other: i64) -> Option<i64> {
        i64::checked_sub(self, other)
    }
    fn checked_mul(self, other: i64) -> Option<i64> {
        i64::checked_mul(self, other)
    }
    fn checked_neg(self) -> Option<i64> {
        i64::checked_neg(self)
    }
    #[cold]
    fn overflow(_: &'static str) -> Fault {
        Fault::Wide
    }
}

impl Num for i128 {
    const ZERO: i128 = 0;
    const WIDE: bool = true;
    fn from_i64(n: i64) -> i128 {
        i128::from(n)
    }
    fn from_i128(n: i128) -> Option<i128> {
        Some(n)
    }
    fn to_i128(self) -> i128 {
        self
    }
    fn checked_add(self, other: i128) -> Option<i128> {
        i128::checked_add(self, other)
    }
    fn checked_sub(self, other: i128) -> Option<i128> {
        i128::checked_sub(self, other)
    }
    fn checked_mul(self, other: i128) -> Option<i128> {
        // Counts fit an i64, where multiplication is one instruction; i128's is a call.
        match (i64::try_from(self), i64::try_from(other)) {
            (Ok(x), Ok(y)) => x.checked_mul(y).map(i128::from),
            _ => i128::checked_mul(self, other),
        }
    }
    fn checked_neg(self) -> Option<i128> {
        i128::checked_neg(self)
    }
    #[cold]
    fn overflow(what: &'static str) -> Fault {
        Fault::Overflow(what)
    }
}

/// Where an expression is evaluated: the order's fields, the request time, the policy's zone and
/// calendar.
#[derive(Clone, Copy)]
pub(crate) struct Env<'a, N: Num> {
    pub frame: &'a [Option<Value>],
    /// The request time, in nanoseconds (`Instant::nanos`).
    pub now: N,
    pub zone: Zone,
    pub calendar: Option<&'a Calendar>,
    /// The solved comparisons with the request time, for compiled guards (`TKind::Edge`).
    pub edges: Option<&'a EdgeBounds<'a, N>>,
}

/// Per order, each edge's bound, computed when first needed: the comparison `sign * x + Σ terms op
/// other` is `sign * x op (other - Σ terms)`, and only `x` (the request instant, or the date of the
/// request shifted by `shift`) changes while the deadline is sought.
pub(crate) struct EdgeBounds<'a, N: Num> {
    edges: &'a [Edge],
    bounds: [Cell<Bound<N>>; MAX_EDGES],
}

#[derive(Debug, Clone, Copy)]
enum Bound<N> {
    Unknown,
    /// The bound reads a field this order lacks.
    Absent(Slot),
    Known {
        base: N,
        shift: N,
    },
}

impl<'a, N: Num> EdgeBounds<'a, N> {
    pub(crate) fn new(edges: &'a [Edge]) -> Self {
        EdgeBounds {
            edges,
            bounds: std::array::from_fn(|_| Cell::new(Bound::Unknown)),
        }
    }

    /// `(base, shift)` of edge `index`, or `None` when it reads an absent field.
    #[inline]
    pub(crate) fn bound(&self, index: usize, env: &Env<'_, N>) -> Result<Option<(N, N)>> {
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

fn edge_bound<N: Num>(edge: &Edge, env: &Env<'_, N>) -> Result<(N, N)> {
    let sum = |terms: &[(i64, TExpr)]| -> Result<N> {
        terms.iter().try_fold(N::ZERO, |total, (sign, term)| {
            signed(*sign, number(term, env)?)
                .and_then(|signed| total.checked_add(signed))
                .ok_or_else(|| N::overflow("time edge"))
        })
    };
    let base = number(&edge.other, env)?
        .checked_sub(sum(&edge.terms)?)
        .ok_or_else(|| N::overflow("time edge"))?;
    Ok((base, sum(&edge.shift)?))
}

/// `x` for an edge at `env.now`: the instant itself, or the day number of the shifted instant.
#[inline]
pub(crate) fn edge_axis<N: Num>(edge: &Edge, shift: N, env: &Env<'_, N>) -> Result<N> {
    if !edge.on_date {
        return Ok(env.now);
    }
    let shifted = env
        .now
        .checked_add(shift)
        .ok_or_else(|| N::overflow("timestamp"))?;
    Ok(N::from_i64(i64::from(env.zone.day_of(instant(shifted)?))))
}

/// An instant of the number path as the zone functions take it, if it is in the range.
#[inline]
fn instant<N: Num>(n: N) -> Result<i128> {
    let wide = n.to_i128();
    if Instant::contains(wide) {
        Ok(wide)
    } else {
        Err(overflow("timestamp"))
    }
}

/// `sign * x`. The signs of edges and their terms are 1 or -1 (`compile`): negate, no multiplication.
#[inline]
pub(crate) fn signed<N: Num>(sign: i64, x: N) -> Option<N> {
    match sign {
        1 => Some(x),
        -1 => x.checked_neg(),
        other => N::from_i64(other).checked_mul(x),
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
    /// A value does not fit the `i64` number path: decide again in `i128` (see `Num`).
    Wide,
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

fn as_number<N: Num>(value: &Value) -> Result<N> {
    match value {
        Value::Int(n) | Value::Days(n) | Value::Duration(n) | Value::BusinessDays(n) => {
            Ok(N::from_i64(*n))
        }
        Value::Timestamp(t) => N::from_i128(t.nanos()).ok_or(Fault::Wide),
        Value::Date(d) => Ok(N::from_i64(i64::from(*d))),
        _ => Err(Fault::Internal),
    }
}

fn from_number<N: Num>(ty: Type, n: N) -> Result<Value> {
    let n = n.to_i128();
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
fn date_number<N: Num>(n: N) -> Result<i32> {
    /// 0001-01-01 and 9999-12-31 as days since 1970-01-01.
    const FIRST: i128 = -719_162;
    const LAST: i128 = 2_932_896;
    let n = n.to_i128();
    if (FIRST..=LAST).contains(&n) {
        // INVARIANT: the range fits an i32.
        Ok(n as i32)
    } else {
        Err(overflow("date"))
    }
}

/// Evaluates an expression of a number type (see `is_number`) to its integer.
pub(crate) fn number<N: Num>(e: &TExpr, env: &Env<'_, N>) -> Result<N> {
    match &e.kind {
        TKind::Const(v) => as_number(v),
        TKind::Field(slot) => match env.frame.get(*slot as usize) {
            Some(Some(v)) => as_number(v),
            _ => Err(Fault::Absent(*slot)),
        },
        TKind::Now => Ok(env.now),
        TKind::DateOf(a) => Ok(N::from_i64(i64::from(
            env.zone.day_of(instant(number(a, env)?)?),
        ))),
        TKind::StartOfDay(a) => {
            let day = date_number(number(a, env)?)?;
            let start = env
                .zone
                .start_of_day_number(day)
                .filter(|&t| Instant::contains(t))
                .ok_or_else(|| overflow("timestamp"))?;
            N::from_i128(start).ok_or(Fault::Wide)
        }
        TKind::Arith(op, a, b) => {
            let (x, y) = (number(a, env)?, number(b, env)?);
            let result = match op {
                ArithOp::AddNanos | ArithOp::DateAddDays | ArithOp::AddInt => x.checked_add(y),
                ArithOp::SubNanos | ArithOp::DateSubDays | ArithOp::DateDiff | ArithOp::SubInt => {
                    x.checked_sub(y)
                }
                ArithOp::MulInt => x.checked_mul(y),
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
            result.ok_or_else(|| N::overflow("number"))
        }
        TKind::Neg(a) => number(a, env)?
            .checked_neg()
            .ok_or_else(|| N::overflow("number")),
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

fn business_days<N: Num>(day: N, n: N, env: &Env<'_, N>) -> Result<N> {
    let calendar = env.calendar.ok_or(Fault::Internal)?;
    let date = day_number_to_date(i64::from(date_number(day)?)).ok_or_else(|| overflow("date"))?;
    let n = i64::try_from(n.to_i128()).map_err(|_| overflow("number of business days"))?;
    let shifted = calendar
        .add_business_days(date, n)
        .map_err(|e| Fault::Calendar(Box::new(e)))?;
    Ok(N::from_i64(date_to_day_number(shifted)))
}

pub(crate) fn truth<N: Num>(e: &TExpr, env: &Env<'_, N>) -> Result<bool> {
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
                .ok_or_else(|| N::overflow("time edge"))?;
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
fn variant<N: Num>(e: &TExpr, env: &Env<'_, N>) -> Result<u16> {
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

pub(crate) fn eval<N: Num>(e: &TExpr, env: &Env<'_, N>) -> Result<Value> {
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
