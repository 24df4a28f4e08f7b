//! The expression interpreter: one dispatch `match` per node of the checked tree, values by slot, no
//! name lookups and no allocation.

use std::cell::{Cell, OnceCell};
use std::cmp::Ordering;
use std::sync::Arc;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::calendar::{Calendar, OutOfCalendar};
use crate::check::typed::{ArithOp, CheckedLet, CmpOp, LetId, Slot, TExpr, TKind};
use crate::compile::{Edge, Program, MAX_EDGES};
use crate::syntax::ast::Rounding;
use crate::syntax::MAX_EXPR_DEPTH;
use crate::time::Instant;
use crate::value::{Type, Value};
use crate::zone::{add_months, date_to_day_number, day_number_to_date, Zone};

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
    /// The definitions, and the values of those evaluated so far (`TKind::Let`).
    pub lets: &'a Lets<'a, N>,
}

/// What the interpreter tells of each node it evaluates: nothing when deciding (`NoTrace`, whose
/// `ON` is false, so the plain path compiles to no tracing at all), every value when explaining
/// (`explain::Recorder`). Passed by value: `NoTrace` is zero-sized, a recorder a reference.
pub(crate) trait Tracer<'a, N: Num>: Copy {
    /// Whether `record` is called at all.
    const ON: bool;
    /// Node `e` evaluated to `value` (a node that fails or is never reached is not recorded).
    fn record(self, e: &'a TExpr, value: Val<'a, N>);
}

/// No tracing: the decision path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoTrace;

impl<'a, N: Num> Tracer<'a, N> for NoTrace {
    const ON: bool = false;
    #[inline(always)]
    fn record(self, _: &'a TExpr, _: Val<'a, N>) {}
}

/// The most definitions a decision keeps the values of: the first ones, by id. A later one is
/// evaluated at each use, as when definitions were inlined (the checker bounds that work:
/// `check::limits::MAX_INLINED_NODES`).
const MEMO_SLOTS: usize = 32;

/// Per decision, the values of the definitions (`let`) evaluated so far, each computed when first
/// used: once per instant for those that read the request time, once for all instants for the others.
/// On the stack, with no allocation.
pub(crate) struct Lets<'a, N: Num> {
    definitions: &'a [CheckedLet],
    /// Which definitions read `now` (`Program::lets_reading_now`): forgotten when the instant changes.
    reading_now: u64,
    /// Which definitions have their value in `values`.
    known: Cell<u64>,
    /// The instant the known values that read `now` were computed at.
    at: Cell<N>,
    /// Set up when a first definition is used: a decision that uses none does not pay for them.
    values: OnceCell<[Cell<Val<'a, N>>; MEMO_SLOTS]>,
    /// How many values were computed, for tests.
    #[cfg(test)]
    computed: Cell<usize>,
}

impl<'a, N: Num> Lets<'a, N> {
    pub(crate) fn new(program: &'a Program) -> Self {
        Lets {
            definitions: &program.policy.lets,
            reading_now: program.lets_reading_now,
            known: Cell::new(0),
            at: Cell::new(N::ZERO),
            values: OnceCell::new(),
            #[cfg(test)]
            computed: Cell::new(0),
        }
    }

    /// The value of definition `id` where it is used, `depth` operations below the expression
    /// evaluated: the checker counts a definition's depth where it is used, as if written out there.
    #[inline]
    fn value<T: Take<'a, N>, R: Tracer<'a, N>>(
        &self,
        id: LetId,
        env: &Env<'a, N>,
        depth: usize,
        tracer: R,
    ) -> Result<T> {
        let index = id as usize;
        let values = self
            .values
            .get_or_init(|| std::array::from_fn(|_| Cell::new(Val::Bool(false))));
        let Some(slot) = values.get(index) else {
            return self.compute(index, env, depth, tracer);
        };
        // INVARIANT: index < MEMO_SLOTS <= 64.
        let bit = 1u64 << index;
        if self.reading_now & bit != 0 && self.at.get() != env.now {
            self.known.set(self.known.get() & !self.reading_now);
            self.at.set(env.now);
        }
        if self.known.get() & bit != 0 {
            return T::val(slot.get());
        }
        let value: T = self.compute(index, env, depth, tracer)?;
        slot.set(value.kept());
        self.known.set(self.known.get() | bit);
        Ok(value)
    }

    /// A definition's value, evaluated where it is first used (out of line: the uses after that only
    /// read its slot).
    #[inline(never)]
    fn compute<T: Take<'a, N>, R: Tracer<'a, N>>(
        &self,
        index: usize,
        env: &Env<'a, N>,
        depth: usize,
        tracer: R,
    ) -> Result<T> {
        #[cfg(test)]
        self.computed.set(self.computed.get() + 1);
        let definition = self.definitions.get(index).ok_or(Fault::Internal)?;
        eval_at(&definition.value, env, depth, tracer)
    }
}

const _: () = assert!(MEMO_SLOTS <= 64, "`Lets::known` is a u64 mask");

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
    pub(crate) fn bound(&self, index: usize, env: &Env<'a, N>) -> Result<Option<(N, N)>> {
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

    pub(crate) fn edge(&self, index: usize) -> Option<&'a Edge> {
        self.edges.get(index)
    }

    fn absent_slot(&self, index: usize) -> Slot {
        match self.bounds.get(index).map(Cell::get) {
            Some(Bound::Absent(slot)) => slot,
            _ => 0,
        }
    }
}

fn edge_bound<'a, N: Num>(edge: &'a Edge, env: &Env<'a, N>) -> Result<(N, N)> {
    let sum = |terms: &'a [(i64, TExpr)]| -> Result<N> {
        terms.iter().try_fold(N::ZERO, |total, (sign, term)| {
            signed(*sign, eval::<N, N>(term, env)?)
                .and_then(|signed| total.checked_add(signed))
                .ok_or_else(|| N::overflow("time edge"))
        })
    };
    let base = eval::<N, N>(&edge.other, env)?
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
    /// An expression nested deeper than the checker allows (`MAX_EXPR_DEPTH`).
    TooDeep,
    /// A shape the checker rules out; reported, never panicked on.
    Internal,
}

type Result<T> = std::result::Result<T, Fault>;

#[cold]
fn overflow(what: &'static str) -> Fault {
    Fault::Overflow(what)
}

/// A value of any type while an expression is evaluated: what a definition's slot keeps. Numbers stay in
/// the number type `N` whatever they count (their node's type says which: see `from_number`); texts
/// are borrowed from the program or the order, never copied or counted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'a, N> {
    Bool(bool),
    /// Counts, calendar and business days, dates (day numbers), instants and durations (nanoseconds).
    Num(N),
    Enum(u16),
    Money(Decimal),
    Str(&'a Arc<str>),
}

impl<'a, N: Num> Val<'a, N> {
    #[inline(always)]
    fn of(value: &'a Value) -> Result<Self> {
        Ok(match value {
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(n)
            | Value::Days(n)
            | Value::Duration(n)
            | Value::BusinessDays(n)
            | Value::Months(n) => Val::Num(N::from_i64(*n)),
            Value::Timestamp(t) => Val::Num(N::from_i128(t.nanos()).ok_or(Fault::Wide)?),
            Value::Date(d) => Val::Num(N::from_i64(i64::from(*d))),
            Value::Money(m) => Val::Money(*m),
            Value::Str(s) => Val::Str(s),
            Value::Enum(v) => Val::Enum(*v),
        })
    }

    /// The value as a `Value` of type `ty`; a number is checked against its type's range here.
    pub(crate) fn into_value(self, ty: Type) -> Result<Value> {
        Ok(match self {
            Val::Bool(b) => Value::Bool(b),
            Val::Num(n) => return from_number(ty, n),
            Val::Enum(v) => Value::Enum(v),
            Val::Money(m) => Value::Money(m),
            Val::Str(s) => Value::Str(s.clone()),
        })
    }
}

/// The form a caller takes a node's value in: `bool` for a condition, `N` for a number, `u16` for an
/// enum value, `Decimal` for money, `Val` for anything. The one dispatch (`eval_at`) is generic over
/// it, so that a condition returns a `bool` and a number an `N` on the hot path, not a `Val` (whose
/// size makes every return a copy through memory). A value of another type is `Fault::Internal`.
pub(crate) trait Take<'a, N: Num>: Sized + Copy {
    #[inline(always)]
    fn truth(_: bool) -> Result<Self> {
        Err(Fault::Internal)
    }
    #[inline(always)]
    fn number(_: N) -> Result<Self> {
        Err(Fault::Internal)
    }
    #[inline(always)]
    fn variant(_: u16) -> Result<Self> {
        Err(Fault::Internal)
    }
    #[inline(always)]
    fn money(_: Decimal) -> Result<Self> {
        Err(Fault::Internal)
    }
    #[inline(always)]
    fn text(_: &'a Arc<str>) -> Result<Self> {
        Err(Fault::Internal)
    }
    /// How this value compares with another of the same type.
    fn order(&self, other: &Self) -> Result<Ordering>;

    /// This value as a definition's slot keeps it.
    fn kept(self) -> Val<'a, N>;

    #[inline(always)]
    fn val(value: Val<'a, N>) -> Result<Self> {
        match value {
            Val::Bool(b) => Self::truth(b),
            Val::Num(n) => Self::number(n),
            Val::Enum(v) => Self::variant(v),
            Val::Money(m) => Self::money(m),
            Val::Str(s) => Self::text(s),
        }
    }

    /// A constant's or a field's value.
    #[inline(always)]
    fn value(value: &'a Value) -> Result<Self> {
        Self::val(Val::of(value)?)
    }
}

impl<'a, N: Num> Take<'a, N> for bool {
    #[inline(always)]
    fn truth(b: bool) -> Result<bool> {
        Ok(b)
    }
    #[inline(always)]
    fn order(&self, other: &bool) -> Result<Ordering> {
        Ok(self.cmp(other))
    }
    #[inline(always)]
    fn kept(self) -> Val<'a, N> {
        Val::Bool(self)
    }
}

impl<'a, N: Num> Take<'a, N> for N {
    #[inline(always)]
    fn number(n: N) -> Result<N> {
        Ok(n)
    }
    #[inline(always)]
    fn order(&self, other: &N) -> Result<Ordering> {
        Ok(self.cmp(other))
    }
    #[inline(always)]
    fn kept(self) -> Val<'a, N> {
        Val::Num(self)
    }
}

impl<'a, N: Num> Take<'a, N> for u16 {
    #[inline(always)]
    fn variant(v: u16) -> Result<u16> {
        Ok(v)
    }
    #[inline(always)]
    fn order(&self, other: &u16) -> Result<Ordering> {
        Ok(self.cmp(other))
    }
    #[inline(always)]
    fn kept(self) -> Val<'a, N> {
        Val::Enum(self)
    }
}

impl<'a, N: Num> Take<'a, N> for Decimal {
    #[inline(always)]
    fn money(m: Decimal) -> Result<Decimal> {
        Ok(m)
    }
    #[inline(always)]
    fn order(&self, other: &Decimal) -> Result<Ordering> {
        Ok(self.cmp(other))
    }
    #[inline(always)]
    fn kept(self) -> Val<'a, N> {
        Val::Money(self)
    }
}

impl<'a, N: Num> Take<'a, N> for Val<'a, N> {
    #[inline(always)]
    fn truth(b: bool) -> Result<Self> {
        Ok(Val::Bool(b))
    }
    #[inline(always)]
    fn number(n: N) -> Result<Self> {
        Ok(Val::Num(n))
    }
    #[inline(always)]
    fn variant(v: u16) -> Result<Self> {
        Ok(Val::Enum(v))
    }
    #[inline(always)]
    fn money(m: Decimal) -> Result<Self> {
        Ok(Val::Money(m))
    }
    #[inline(always)]
    fn text(s: &'a Arc<str>) -> Result<Self> {
        Ok(Val::Str(s))
    }
    #[inline(always)]
    fn order(&self, other: &Self) -> Result<Ordering> {
        Ok(match (self, other) {
            (Val::Num(x), Val::Num(y)) => x.cmp(y),
            (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
            (Val::Enum(x), Val::Enum(y)) => x.cmp(y),
            (Val::Money(x), Val::Money(y)) => x.cmp(y),
            (Val::Str(x), Val::Str(y)) => x.cmp(y),
            _ => return Err(Fault::Internal),
        })
    }
    #[inline(always)]
    fn kept(self) -> Self {
        self
    }
    #[inline(always)]
    fn val(value: Self) -> Result<Self> {
        Ok(value)
    }
    #[inline(always)]
    fn value(value: &'a Value) -> Result<Self> {
        Val::of(value)
    }
}

/// A number as a `Value` of type `ty`, if it is in that type's range.
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
        Type::Months => Value::Months(narrow("number of months")?),
        Type::Date => Value::Date(date_number(n)?),
        _ => return Err(Fault::Internal),
    })
}

/// A day number that is a date of years 0001 to 9999.
pub(crate) fn date_number<N: Num>(n: N) -> Result<i32> {
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

/// Evaluates an expression, taking its value as `T`.
#[inline]
pub(crate) fn eval<'a, N: Num, T: Take<'a, N>>(e: &'a TExpr, env: &Env<'a, N>) -> Result<T> {
    eval_at(e, env, 0, NoTrace)
}

/// Evaluates a condition.
#[inline]
pub(crate) fn truth<'a, N: Num>(e: &'a TExpr, env: &Env<'a, N>) -> Result<bool> {
    eval_at(e, env, 0, NoTrace)
}

/// Evaluates an expression as `eval` does, telling `tracer` the value of every node evaluated.
pub(crate) fn eval_traced<'a, N: Num, T: Take<'a, N>, R: Tracer<'a, N>>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    tracer: R,
) -> Result<T> {
    eval_at(e, env, 0, tracer)
}

/// The value of `e`, `depth` operations below the expression evaluated. The checker bounds every
/// expression to `MAX_EXPR_DEPTH`; deeper is a fault, never a deeper stack. A leaf is read in place,
/// without a call: most operands are fields and constants.
#[inline(always)]
fn eval_at<'a, N: Num, T: Take<'a, N>, R: Tracer<'a, N>>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<T> {
    if depth > MAX_EXPR_DEPTH {
        return Err(Fault::TooDeep);
    }
    // The plain path (`NoTrace`) returns each value as it comes, exactly as before tracing existed.
    if !R::ON {
        return node_value(e, env, depth, tracer);
    }
    let value: Result<T> = node_value(e, env, depth, tracer);
    if let Ok(value) = &value {
        tracer.record(e, value.kept());
    }
    value
}

#[inline(always)]
fn node_value<'a, N: Num, T: Take<'a, N>, R: Tracer<'a, N>>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<T> {
    match &e.kind {
        TKind::Const(v) => T::value(v),
        TKind::Field(slot) => field(*slot, env),
        // Whatever the caller's stack, the next levels have room (a debug build's frames are large);
        // the check costs nothing to the shallow expressions most policies write.
        _ if depth > 0 && depth.is_multiple_of(STACK_CHECK_EVERY) => {
            stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
                dispatch(e, env, depth, tracer)
            })
        }
        _ => dispatch(e, env, depth, tracer),
    }
}

/// Every this many levels of an expression, the interpreter makes sure the stack has
/// `STACK_RED_ZONE` bytes left, and continues on a new `STACK_SEGMENT` if not. A debug build checks
/// at every level: there every arm of `dispatch`, with the helpers inlined into it, keeps its own
/// slots, up to 64 KiB a level; a release build's frames are far smaller.
const STACK_CHECK_EVERY: usize = if cfg!(debug_assertions) { 1 } else { 4 };
const STACK_RED_ZONE: usize = if cfg!(debug_assertions) {
    128 * 1024
} else {
    32 * 1024
};
const STACK_SEGMENT: usize = 1024 * 1024;

#[inline(always)]
fn condition<'a, N: Num, R: Tracer<'a, N>>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<bool> {
    // The conditions guards are made of, answered here without a call to `dispatch` (whose frame
    // costs more than they do). An explanation records every node, so it takes the one path.
    if !R::ON && depth <= MAX_EXPR_DEPTH {
        match &e.kind {
            TKind::Edge(index) => return edge_holds(usize::from(*index), env),
            TKind::Present(slot) => {
                return Ok(matches!(env.frame.get(usize::from(*slot)), Some(Some(_))))
            }
            // `status == issued`: two values read in place.
            TKind::Cmp(op, a, b)
                if matches!(a.ty, Type::Enum(_))
                    && matches!(a.kind, TKind::Field(_) | TKind::Const(_))
                    && matches!(b.kind, TKind::Field(_) | TKind::Const(_)) =>
            {
                let x: u16 = eval_at(a, env, depth + 1, tracer)?;
                let y: u16 = eval_at(b, env, depth + 1, tracer)?;
                return Ok(holds(*op, x.cmp(&y)));
            }
            TKind::InSet(subject, mask) if matches!(subject.kind, TKind::Field(_)) => {
                let variant: u16 = eval_at(subject, env, depth + 1, tracer)?;
                let bit = 1u64
                    .checked_shl(u32::from(variant))
                    .ok_or(Fault::Internal)?;
                return Ok(mask & bit != 0);
            }
            _ => {}
        }
    }
    eval_at(e, env, depth, tracer)
}

#[inline(always)]
fn number<'a, N: Num, R: Tracer<'a, N>>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<N> {
    eval_at(e, env, depth, tracer)
}

#[inline(always)]
fn money<'a, N: Num, R: Tracer<'a, N>>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<Decimal> {
    eval_at(e, env, depth, tracer)
}

/// A string's value, borrowed from the program or the order.
#[inline(always)]
fn text<'a, N: Num, R: Tracer<'a, N>>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<&'a Arc<str>> {
    match eval_at::<N, Val<'a, N>, R>(e, env, depth, tracer)? {
        Val::Str(s) => Ok(s),
        _ => Err(Fault::Internal),
    }
}

#[inline(always)]
fn field<'a, N: Num, T: Take<'a, N>>(slot: Slot, env: &Env<'a, N>) -> Result<T> {
    match env.frame.get(usize::from(slot)) {
        Some(Some(v)) => T::value(v),
        _ => Err(Fault::Absent(slot)),
    }
}

/// The one dispatch over the checked IR (through `eval_at`, which reads leaves in place): `e` is
/// `depth` operations below the expression evaluated.
fn dispatch<'a, N: Num, T: Take<'a, N>, R: Tracer<'a, N>>(
    e: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<T> {
    let below = depth + 1;
    match &e.kind {
        TKind::Const(v) => T::value(v),
        TKind::Field(slot) => field(*slot, env),
        TKind::Let(id) => env.lets.value(*id, env, depth, tracer),
        TKind::Now => T::number(env.now),
        TKind::Present(slot) => {
            T::truth(matches!(env.frame.get(usize::from(*slot)), Some(Some(_))))
        }
        TKind::Not(a) => T::truth(!condition(a, env, below, tracer)?),
        TKind::And(a, b) => {
            T::truth(condition(a, env, below, tracer)? && condition(b, env, below, tracer)?)
        }
        TKind::Or(a, b) => {
            T::truth(condition(a, env, below, tracer)? || condition(b, env, below, tracer)?)
        }
        TKind::Cmp(op, a, b) => T::truth(holds(*op, compare(a, b, env, below, tracer)?)),
        TKind::InSet(subject, mask) => {
            let variant = eval_at::<N, u16, R>(subject, env, below, tracer)?;
            let bit = 1u64
                .checked_shl(u32::from(variant))
                .ok_or(Fault::Internal)?;
            T::truth(mask & bit != 0)
        }
        TKind::TextIn(subject, set) => {
            let text = text(subject, env, below, tracer)?;
            T::truth(set.iter().any(|member| **member == **text))
        }
        TKind::Text(test, a, b) => {
            let (whole, part) = (text(a, env, below, tracer)?, text(b, env, below, tracer)?);
            T::truth(test.holds(whole, part))
        }
        TKind::Edge(index) => T::truth(edge_holds(usize::from(*index), env)?),
        TKind::Arith(op, a, b) => arith(*op, a, b, env, below, tracer),
        TKind::Neg(a) if e.ty == Type::Money => T::money(-money(a, env, below, tracer)?),
        TKind::Neg(a) => T::number(
            number(a, env, below, tracer)?
                .checked_neg()
                .ok_or_else(|| N::overflow("number"))?,
        ),
        TKind::DateOf(a) => T::number(N::from_i64(i64::from(
            env.zone.day_of(instant(number(a, env, below, tracer)?)?),
        ))),
        TKind::StartOfDay(a) => {
            let day = date_number(number(a, env, below, tracer)?)?;
            let start = env
                .zone
                .start_of_day_number(day)
                .filter(|&t| Instant::contains(t))
                .ok_or_else(|| overflow("timestamp"))?;
            T::number(N::from_i128(start).ok_or(Fault::Wide)?)
        }
        TKind::Min(a, b) | TKind::Max(a, b) => {
            let x: T = eval_at(a, env, below, tracer)?;
            let y: T = eval_at(b, env, below, tracer)?;
            // On a tie, `min` keeps the first and `max` the second (as `Ord::min` and `Ord::max`).
            let take_first =
                matches!(e.kind, TKind::Min(..)) == (x.order(&y)? != Ordering::Greater);
            Ok(if take_first { x } else { y })
        }
        TKind::If(c, a, b) => {
            if condition(c, env, below, tracer)? {
                eval_at(a, env, below, tracer)
            } else {
                eval_at(b, env, below, tracer)
            }
        }
        TKind::Round(a, mode, quantum) => {
            T::money(round(money(a, env, below, tracer)?, *mode, *quantum)?)
        }
        // `i128` division truncates toward zero; a quotient by a positive `per` is never wider.
        TKind::Count(a, per) => T::number(
            N::from_i128(number(a, env, below, tracer)?.to_i128() / i128::from(*per))
                .ok_or_else(|| N::overflow("number"))?,
        ),
    }
}

/// How the values of two expressions of the same type compare, each taken in its type's form.
#[inline(always)]
fn compare<'a, N: Num, R: Tracer<'a, N>>(
    a: &'a TExpr,
    b: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<Ordering> {
    #[inline(always)]
    fn both<'a, N: Num, T: Take<'a, N>, R: Tracer<'a, N>>(
        a: &'a TExpr,
        b: &'a TExpr,
        env: &Env<'a, N>,
        depth: usize,
        tracer: R,
    ) -> Result<Ordering> {
        let x: T = eval_at(a, env, depth, tracer)?;
        x.order(&eval_at(b, env, depth, tracer)?)
    }
    match a.ty {
        Type::Bool => both::<N, bool, R>(a, b, env, depth, tracer),
        Type::Enum(_) => both::<N, u16, R>(a, b, env, depth, tracer),
        Type::Money => both::<N, Decimal, R>(a, b, env, depth, tracer),
        Type::Str => both::<N, Val<'a, N>, R>(a, b, env, depth, tracer),
        Type::Int
        | Type::Days
        | Type::Date
        | Type::Timestamp
        | Type::Duration
        | Type::BusinessDays
        | Type::Months => both::<N, N, R>(a, b, env, depth, tracer),
    }
}

/// A solved comparison with the request time, at `env.now`.
#[inline]
pub(crate) fn edge_holds<'a, N: Num>(index: usize, env: &Env<'a, N>) -> Result<bool> {
    let bounds = env.edges.ok_or(Fault::Internal)?;
    let edge = bounds.edge(index).ok_or(Fault::Internal)?;
    let Some((base, shift)) = bounds.bound(index, env)? else {
        return Err(Fault::Absent(bounds.absent_slot(index)));
    };
    let linear =
        signed(edge.sign, edge_axis(edge, shift, env)?).ok_or_else(|| N::overflow("time edge"))?;
    let ordering = if edge.linear_left {
        linear.cmp(&base)
    } else {
        base.cmp(&linear)
    };
    Ok(holds(edge.op, ordering))
}

/// Arithmetic with its units settled by the checker: numbers in `N`, money in decimals.
#[inline]
fn arith<'a, N: Num, T: Take<'a, N>, R: Tracer<'a, N>>(
    op: ArithOp,
    a: &'a TExpr,
    b: &'a TExpr,
    env: &Env<'a, N>,
    depth: usize,
    tracer: R,
) -> Result<T> {
    let numbers = |n: Option<N>| T::number(n.ok_or_else(|| N::overflow("number"))?);
    let amount = |m: Option<Decimal>| T::money(m.ok_or_else(|| overflow("money"))?);
    // Counts that multiply or divide money: as `Value::Int` holds them.
    let count = |n: N| i64::try_from(n.to_i128()).map_err(|_| overflow("number"));
    match op {
        ArithOp::AddNanos | ArithOp::DateAddDays | ArithOp::AddInt => {
            numbers(number(a, env, depth, tracer)?.checked_add(number(b, env, depth, tracer)?))
        }
        ArithOp::SubNanos | ArithOp::DateSubDays | ArithOp::DateDiff | ArithOp::SubInt => {
            numbers(number(a, env, depth, tracer)?.checked_sub(number(b, env, depth, tracer)?))
        }
        ArithOp::MulInt => {
            numbers(number(a, env, depth, tracer)?.checked_mul(number(b, env, depth, tracer)?))
        }
        ArithOp::DateAddBusiness => T::number(business_days(
            number(a, env, depth, tracer)?,
            number(b, env, depth, tracer)?,
            env,
        )?),
        ArithOp::DateSubBusiness => {
            let (day, n) = (
                number(a, env, depth, tracer)?,
                number(b, env, depth, tracer)?,
            );
            let back = n.checked_neg().ok_or_else(|| overflow("business days"))?;
            T::number(business_days(day, back, env)?)
        }
        ArithOp::DateAddMonths | ArithOp::DateSubMonths => {
            let (day, n) = (
                number(a, env, depth, tracer)?,
                number(b, env, depth, tracer)?,
            );
            let n = months(n, op == ArithOp::DateSubMonths)?;
            let date =
                day_number_to_date(i64::from(date_number(day)?)).ok_or_else(|| overflow("date"))?;
            let moved = add_months(date, n).ok_or_else(|| overflow("date"))?;
            T::number(N::from_i64(i64::from(date_number(date_to_day_number(
                moved,
            ))?)))
        }
        ArithOp::TimeAddMonths | ArithOp::TimeSubMonths => {
            let (t, n) = (
                number(a, env, depth, tracer)?,
                number(b, env, depth, tracer)?,
            );
            let n = months(n, op == ArithOp::TimeSubMonths)?;
            // No months is the instant itself, even in the second pass of a repeated hour (which
            // its local time alone would resolve to the first).
            if n == 0 {
                return T::number(t);
            }
            let local = env.zone.datetime(instant(t)?).naive_local();
            let moved = add_months(local.date(), n).ok_or_else(|| overflow("timestamp"))?;
            let shifted = env
                .zone
                .instant_at_local(moved.and_time(local.time()))
                .filter(|&t| Instant::contains(t))
                .ok_or_else(|| overflow("timestamp"))?;
            T::number(N::from_i128(shifted).ok_or(Fault::Wide)?)
        }
        ArithOp::AddMoney => {
            amount(money(a, env, depth, tracer)?.checked_add(money(b, env, depth, tracer)?))
        }
        ArithOp::SubMoney => {
            amount(money(a, env, depth, tracer)?.checked_sub(money(b, env, depth, tracer)?))
        }
        ArithOp::MulMoneyInt => {
            let (x, y) = (
                money(a, env, depth, tracer)?,
                count(number(b, env, depth, tracer)?)?,
            );
            amount(x.checked_mul(Decimal::from(y)))
        }
        ArithOp::DivMoneyInt => match (
            money(a, env, depth, tracer)?,
            count(number(b, env, depth, tracer)?)?,
        ) {
            (_, 0) => Err(Fault::DivisionByZero),
            (x, y) => amount(x.checked_div(Decimal::from(y))),
        },
    }
}

fn business_days<N: Num>(day: N, n: N, env: &Env<'_, N>) -> Result<N> {
    let calendar = env.calendar.ok_or(Fault::Internal)?;
    let day = i64::from(date_number(day)?);
    let n = i64::try_from(n.to_i128()).map_err(|_| overflow("number of business days"))?;
    let shifted = calendar
        .add_business_days_to_day(day, n)
        .map_err(|e| Fault::Calendar(Box::new(e)))?;
    Ok(N::from_i64(shifted))
}

/// A count of months, negated when it is taken away.
fn months<N: Num>(n: N, back: bool) -> Result<i64> {
    let n = i64::try_from(n.to_i128()).map_err(|_| overflow("number of months"))?;
    if back {
        n.checked_neg().ok_or_else(|| overflow("number of months"))
    } else {
        Ok(n)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    /// `not not ... true`, `levels` operations deep.
    fn nested(levels: usize) -> TExpr {
        let leaf = TExpr::new(TKind::Const(Value::Bool(true)), Type::Bool, Span::default());
        (0..levels).fold(leaf, |inner, _| {
            TExpr::new(TKind::Not(Box::new(inner)), Type::Bool, Span::default())
        })
    }

    const LETS: &str = r#"
policy lets
  document "x.txt"
  zone "Asia/Shanghai"

review_kinds { none, manual }

field paid_at: timestamp
field price: money
field fee: money = 0

let cash = price - fee
let worth_it = cash > 10 and cash < 1000
let today = date(now)

action refund {
  rule in_time
    when worth_it and (cash > 20 or worth_it) and today <= date(paid_at) + 30 calendar days
    then allowed
    amount = cash
    review = manual
    review_by = today + 1 calendar days
    because "in time" cite "row 1"

  rule otherwise
    then denied
    because "too late" cite "row 2"
}
"#;

    const ORDER: &str = r#"{"paid_at":"2026-01-01T10:00:00+08:00","price":"100.00","fee":"5"}"#;

    fn policy() -> crate::eval::Policy {
        crate::eval::Policy::from_source("lets.policy", LETS, &crate::check::Calendars::new())
            .unwrap()
    }

    fn at(text: &str) -> i64 {
        i64::try_from(Instant::parse(text).unwrap().nanos()).unwrap()
    }

    /// A compiled rule's guard whole: its timeless and timed parts joined again.
    fn compiled_guard(rule: &crate::compile::CompiledRule) -> TExpr {
        match (&rule.timeless, &rule.timed) {
            (Some(a), Some(b)) => TExpr::new(
                TKind::And(Box::new(a.clone()), Box::new(b.clone())),
                Type::Bool,
                a.span,
            ),
            (Some(part), None) | (None, Some(part)) => part.clone(),
            (None, None) => panic!("the rule has no guard"),
        }
    }

    /// A definition used several times in a guard, and again in an attribute, is computed once.
    #[test]
    fn a_definition_is_evaluated_once_per_decision() {
        let policy = policy();
        let program = &*policy.program;
        let order = policy.read_order_str(ORDER).unwrap();
        let action = &program.actions[0];
        let rule = &action.rules[0];
        let guard = &compiled_guard(rule);
        // `worth_it` twice and `cash` once, by reference; `today` solved into an edge.
        assert_eq!(format!("{guard:?}").matches("Let(").count(), 3);
        let lets = Lets::new(program);
        let bounds = EdgeBounds::new(&action.edges);
        let env = Env {
            frame: &order.frame,
            now: at("2026-01-05T12:00:00+08:00"),
            zone: program.policy.zone,
            calendar: None,
            edges: Some(&bounds),
            lets: &lets,
        };
        assert_eq!(truth(guard, &env), Ok(true));
        // `worth_it`, and `cash` (twice in `worth_it`, once in the guard): each once.
        assert_eq!(lets.computed.get(), 2);
        assert_eq!(truth(guard, &env), Ok(true));
        let amount = eval::<_, Decimal>(rule.amount.as_ref().unwrap(), &env);
        assert_eq!(amount, Ok(Decimal::new(9500, 2)));
        assert_eq!(lets.computed.get(), 2);
    }

    /// A definition that reads `now` is computed again at each instant; the others are kept.
    #[test]
    fn a_definition_that_reads_now_is_evaluated_at_each_instant() {
        let policy = policy();
        let program = &*policy.program;
        let order = policy.read_order_str(ORDER).unwrap();
        let action = &program.actions[0];
        let rule = &action.rules[0];
        let guard = compiled_guard(rule);
        let lets = Lets::new(program);
        let bounds = EdgeBounds::new(&action.edges);
        let env = Env {
            frame: &order.frame,
            now: at("2026-01-05T12:00:00+08:00"),
            zone: program.policy.zone,
            calendar: None,
            edges: Some(&bounds),
            lets: &lets,
        };
        let review_by = |now: &str| {
            let env = Env {
                now: at(now),
                ..env
            };
            eval::<_, i64>(rule.review_by.as_ref().unwrap(), &env)
                .map(|day| day_number_to_date(day).unwrap().to_string())
        };
        assert_eq!(truth(&guard, &env), Ok(true));
        assert_eq!(lets.computed.get(), 2);
        assert_eq!(
            review_by("2026-01-05T12:00:00+08:00").unwrap(),
            "2026-01-06"
        );
        assert_eq!(lets.computed.get(), 3);
        assert_eq!(
            review_by("2026-01-05T13:00:00+08:00").unwrap(),
            "2026-01-06"
        );
        assert_eq!(lets.computed.get(), 4);
        assert_eq!(
            review_by("2026-01-07T13:00:00+08:00").unwrap(),
            "2026-01-08"
        );
        assert_eq!(lets.computed.get(), 5);
        // Back at the first instant: `today` again, and the guard's timeless definitions kept.
        assert_eq!(
            review_by("2026-01-05T12:00:00+08:00").unwrap(),
            "2026-01-06"
        );
        assert_eq!(truth(&guard, &env), Ok(true));
        assert_eq!(lets.computed.get(), 6);
        // Past the window the guard's edge turns, with nothing computed again.
        let later = Env {
            now: at("2026-02-01T00:00:00+08:00"),
            ..env
        };
        assert_eq!(truth(&guard, &later), Ok(false));
        assert_eq!(lets.computed.get(), 6);
    }

    /// An expression deeper than the checker allows is a fault, found before going deeper.
    #[test]
    fn depth_past_the_limit_is_a_fault() {
        let (deepest, deeper, far) = (
            nested(MAX_EXPR_DEPTH),
            nested(MAX_EXPR_DEPTH + 1),
            nested(4 * MAX_EXPR_DEPTH),
        );
        let policy = policy();
        let lets = Lets::new(&policy.program);
        let env = Env::<i64> {
            frame: &[],
            now: 0,
            zone: Zone::new(chrono_tz::UTC),
            calendar: None,
            edges: None,
            lets: &lets,
        };
        assert_eq!(truth(&deepest, &env), Ok(true));
        assert_eq!(truth(&deeper, &env), Err(Fault::TooDeep));
        assert_eq!(truth(&far, &env), Err(Fault::TooDeep));
    }

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
