//! The expression interpreter: one dispatch `match` over the checked tree, values by slot, no name
//! lookups and no allocation.

use std::cmp::Ordering;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::calendar::{Calendar, OutOfCalendar};
use crate::check::typed::{ArithOp, CmpOp, Slot, TExpr, TKind};
use crate::syntax::ast::Rounding;
use crate::value::Value;
use crate::zone::{date_to_day_number, day_number_to_date, Zone};

/// Where an expression is evaluated: the order's fields, the request time, the policy's zone and
/// calendar.
#[derive(Clone, Copy)]
pub(crate) struct Env<'a> {
    pub frame: &'a [Option<Value>],
    pub now: i64,
    pub zone: Zone,
    pub calendar: Option<&'a Calendar>,
}

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A field the checker could not prove present is absent (a short-circuit kept it from mattering,
    /// or it is read where absence is handled by the caller).
    Absent(Slot),
    Calendar(OutOfCalendar),
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

pub(crate) fn truth(e: &TExpr, env: &Env<'_>) -> Result<bool> {
    match &e.kind {
        TKind::And(a, b) => Ok(truth(a, env)? && truth(b, env)?),
        TKind::Or(a, b) => Ok(truth(a, env)? || truth(b, env)?),
        TKind::Not(a) => Ok(!truth(a, env)?),
        TKind::Present(slot) => Ok(matches!(env.frame.get(*slot as usize), Some(Some(_)))),
        TKind::InSet(subject, mask) => match eval(subject, env)? {
            Value::Enum(v) => Ok(mask & (1 << v) != 0),
            _ => Err(Fault::Internal),
        },
        TKind::Cmp(op, a, b) => {
            let (a, b) = (eval(a, env)?, eval(b, env)?);
            let ordering = compare(&a, &b).ok_or(Fault::Internal)?;
            Ok(match op {
                CmpOp::Eq => ordering == Ordering::Equal,
                CmpOp::Ne => ordering != Ordering::Equal,
                CmpOp::Lt => ordering == Ordering::Less,
                CmpOp::Le => ordering != Ordering::Greater,
                CmpOp::Gt => ordering == Ordering::Greater,
                CmpOp::Ge => ordering != Ordering::Less,
            })
        }
        _ => match eval(e, env)? {
            Value::Bool(b) => Ok(b),
            _ => Err(Fault::Internal),
        },
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    Some(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y))
        | (Value::Timestamp(x), Value::Timestamp(y))
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
    match &e.kind {
        TKind::Const(v) => Ok(v.clone()),
        TKind::Field(slot) => match env.frame.get(*slot as usize) {
            Some(Some(v)) => Ok(v.clone()),
            _ => Err(Fault::Absent(*slot)),
        },
        TKind::Now => Ok(Value::Timestamp(env.now)),
        TKind::Present(_)
        | TKind::Not(_)
        | TKind::And(..)
        | TKind::Or(..)
        | TKind::Cmp(..)
        | TKind::InSet(..) => truth(e, env).map(Value::Bool),
        TKind::Arith(op, a, b) => arith(*op, eval(a, env)?, eval(b, env)?, env),
        TKind::Neg(a) => match eval(a, env)? {
            Value::Int(i) => i
                .checked_neg()
                .map(Value::Int)
                .ok_or_else(|| overflow("number")),
            Value::Days(i) => i
                .checked_neg()
                .map(Value::Days)
                .ok_or_else(|| overflow("days")),
            Value::Duration(i) => i
                .checked_neg()
                .map(Value::Duration)
                .ok_or_else(|| overflow("duration")),
            Value::Money(m) => Ok(Value::Money(-m)),
            _ => Err(Fault::Internal),
        },
        TKind::DateOf(a) => match eval(a, env)? {
            Value::Timestamp(t) => Ok(Value::Date(env.zone.day_of(t))),
            _ => Err(Fault::Internal),
        },
        TKind::StartOfDay(a) => match eval(a, env)? {
            Value::Date(d) => env
                .zone
                .start_of_day_number(d)
                .map(Value::Timestamp)
                .ok_or_else(|| overflow("timestamp")),
            _ => Err(Fault::Internal),
        },
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

pub(crate) fn round(value: Decimal, mode: Rounding, quantum: Decimal) -> Result<Decimal> {
    let strategy = match mode {
        Rounding::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
        Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        Rounding::HalfTowardZero => RoundingStrategy::MidpointTowardZero,
        Rounding::TowardZero => RoundingStrategy::ToZero,
        Rounding::AwayFromZero => RoundingStrategy::AwayFromZero,
        Rounding::Floor => RoundingStrategy::ToNegativeInfinity,
        Rounding::Ceiling => RoundingStrategy::ToPositiveInfinity,
    };
    let steps = value.checked_div(quantum).ok_or(Fault::DivisionByZero)?;
    steps
        .round_dp_with_strategy(0, strategy)
        .checked_mul(quantum)
        .ok_or_else(|| overflow("money"))
}

fn arith(op: ArithOp, a: Value, b: Value, env: &Env<'_>) -> Result<Value> {
    use Value as V;
    match (op, a, b) {
        (ArithOp::AddNanos, V::Timestamp(x), V::Duration(y)) => x
            .checked_add(y)
            .map(V::Timestamp)
            .ok_or_else(|| overflow("timestamp")),
        (ArithOp::AddNanos, V::Duration(x), V::Duration(y)) => x
            .checked_add(y)
            .map(V::Duration)
            .ok_or_else(|| overflow("duration")),
        (ArithOp::SubNanos, V::Timestamp(x), V::Duration(y)) => x
            .checked_sub(y)
            .map(V::Timestamp)
            .ok_or_else(|| overflow("timestamp")),
        (ArithOp::SubNanos, V::Timestamp(x), V::Timestamp(y))
        | (ArithOp::SubNanos, V::Duration(x), V::Duration(y)) => x
            .checked_sub(y)
            .map(V::Duration)
            .ok_or_else(|| overflow("duration")),
        (ArithOp::DateAddDays, V::Date(d), V::Days(n)) => shift_days(d, n),
        (ArithOp::DateSubDays, V::Date(d), V::Days(n)) => {
            shift_days(d, n.checked_neg().ok_or_else(|| overflow("days"))?)
        }
        (ArithOp::DateDiff, V::Date(x), V::Date(y)) => Ok(V::Days(i64::from(x) - i64::from(y))),
        (ArithOp::AddInt, V::Days(x), V::Days(y)) => x
            .checked_add(y)
            .map(V::Days)
            .ok_or_else(|| overflow("days")),
        (ArithOp::SubInt, V::Days(x), V::Days(y)) => x
            .checked_sub(y)
            .map(V::Days)
            .ok_or_else(|| overflow("days")),
        (ArithOp::AddInt, V::Int(x), V::Int(y)) => x
            .checked_add(y)
            .map(V::Int)
            .ok_or_else(|| overflow("number")),
        (ArithOp::SubInt, V::Int(x), V::Int(y)) => x
            .checked_sub(y)
            .map(V::Int)
            .ok_or_else(|| overflow("number")),
        (ArithOp::MulInt, V::Int(x), V::Int(y)) => x
            .checked_mul(y)
            .map(V::Int)
            .ok_or_else(|| overflow("number")),
        (ArithOp::DateAddBusiness, V::Date(d), V::BusinessDays(n)) => business(d, n, env),
        (ArithOp::DateSubBusiness, V::Date(d), V::BusinessDays(n)) => business(
            d,
            n.checked_neg().ok_or_else(|| overflow("business days"))?,
            env,
        ),
        (ArithOp::AddMoney, V::Money(x), V::Money(y)) => x
            .checked_add(y)
            .map(V::Money)
            .ok_or_else(|| overflow("money")),
        (ArithOp::SubMoney, V::Money(x), V::Money(y)) => x
            .checked_sub(y)
            .map(V::Money)
            .ok_or_else(|| overflow("money")),
        (ArithOp::MulMoneyInt, V::Money(x), V::Int(y)) => x
            .checked_mul(Decimal::from(y))
            .map(V::Money)
            .ok_or_else(|| overflow("money")),
        (ArithOp::DivMoneyInt, V::Money(x), V::Int(y)) => {
            if y == 0 {
                return Err(Fault::DivisionByZero);
            }
            x.checked_div(Decimal::from(y))
                .map(V::Money)
                .ok_or_else(|| overflow("money"))
        }
        _ => Err(Fault::Internal),
    }
}

fn shift_days(day: i32, n: i64) -> Result<Value> {
    i64::from(day)
        .checked_add(n)
        .and_then(|d| i32::try_from(d).ok())
        .map(Value::Date)
        .ok_or_else(|| overflow("date"))
}

fn business(day: i32, n: i64, env: &Env<'_>) -> Result<Value> {
    let calendar = env.calendar.ok_or(Fault::Internal)?;
    let date = day_number_to_date(i64::from(day)).ok_or_else(|| overflow("date"))?;
    let shifted = calendar
        .add_business_days(date, n)
        .map_err(Fault::Calendar)?;
    i32::try_from(date_to_day_number(shifted))
        .map(Value::Date)
        .map_err(|_| overflow("date"))
}

/// A time or date value as a number on its axis: nanoseconds for instants and durations, days for
/// dates and day counts. Deadline edges are solved on these axes.
pub(crate) fn axis_number(value: &Value) -> Option<i64> {
    match value {
        Value::Timestamp(n) | Value::Duration(n) | Value::Days(n) => Some(*n),
        Value::Date(d) => Some(i64::from(*d)),
        _ => None,
    }
}
