//! The checked program: every name resolved to a slot or a constant, every node typed, definitions
//! inlined. This is what `compile` solves for deadlines and `eval` runs.

use rust_decimal::Decimal;

use crate::source::Span;
use crate::syntax::ast::Rounding;
use crate::value::{Type, Value};

/// Index of an order field in the frame filled from JSON.
pub type Slot = u16;

/// The most fields a policy may declare: field sets are `u64` masks.
pub const MAX_FIELDS: usize = 64;

#[derive(Debug, Clone)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Arithmetic with its units settled by the checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// timestamp + duration, duration + duration: nanoseconds added.
    AddNanos,
    /// timestamp - duration, timestamp - timestamp, duration - duration.
    SubNanos,
    /// date + calendar days
    DateAddDays,
    /// date - calendar days
    DateSubDays,
    /// date - date, in calendar days
    DateDiff,
    /// days + days, days - days, int + int, int - int, int * int
    AddInt,
    SubInt,
    MulInt,
    /// date + business days (the N-th working day strictly after)
    DateAddBusiness,
    /// date - business days (the N-th working day strictly before)
    DateSubBusiness,
    AddMoney,
    SubMoney,
    /// money * int, int * money
    MulMoneyInt,
    /// money / int
    DivMoneyInt,
}

#[derive(Debug, Clone)]
pub enum TKind {
    Const(Value),
    /// An order field; the checker proved it present here.
    Field(Slot),
    /// The request time.
    Now,
    Present(Slot),
    Not(Box<TExpr>),
    And(Box<TExpr>, Box<TExpr>),
    Or(Box<TExpr>, Box<TExpr>),
    Cmp(CmpOp, Box<TExpr>, Box<TExpr>),
    /// An enum value in a set, as a bit mask of variants.
    InSet(Box<TExpr>, u64),
    Arith(ArithOp, Box<TExpr>, Box<TExpr>),
    Neg(Box<TExpr>),
    DateOf(Box<TExpr>),
    StartOfDay(Box<TExpr>),
    Min(Box<TExpr>, Box<TExpr>),
    Max(Box<TExpr>, Box<TExpr>),
    If(Box<TExpr>, Box<TExpr>, Box<TExpr>),
    Round(Box<TExpr>, Rounding, Decimal),
    /// A comparison with the request time, solved by `compile` (its index among the action's edges).
    /// Only compiled guards hold these; the checked policy keeps the comparison itself.
    Edge(u16),
}

impl TExpr {
    pub fn new(kind: TKind, ty: Type, span: Span) -> TExpr {
        TExpr { kind, ty, span }
    }

    /// Calls `visit` on this node and every node below it.
    pub fn walk(&self, visit: &mut impl FnMut(&TExpr)) {
        visit(self);
        match &self.kind {
            TKind::Const(_) | TKind::Field(_) | TKind::Now | TKind::Present(_) | TKind::Edge(_) => {
            }
            TKind::Not(a)
            | TKind::InSet(a, _)
            | TKind::Neg(a)
            | TKind::DateOf(a)
            | TKind::StartOfDay(a)
            | TKind::Round(a, _, _) => a.walk(visit),
            TKind::And(a, b)
            | TKind::Or(a, b)
            | TKind::Cmp(_, a, b)
            | TKind::Arith(_, a, b)
            | TKind::Min(a, b)
            | TKind::Max(a, b) => {
                a.walk(visit);
                b.walk(visit);
            }
            TKind::If(c, a, b) => {
                c.walk(visit);
                a.walk(visit);
                b.walk(visit);
            }
        }
    }

    /// The fields this expression reads (as values, not presence tests), as a mask.
    pub fn fields_read(&self) -> u64 {
        let mut mask = 0;
        self.walk(&mut |e| {
            if let TKind::Field(slot) = e.kind {
                mask |= 1u64 << slot;
            }
        });
        mask
    }

    /// Every field this expression mentions, presence tests included.
    pub fn fields_mentioned(&self) -> u64 {
        let mut mask = 0;
        self.walk(&mut |e| {
            if let TKind::Field(slot) | TKind::Present(slot) = e.kind {
                mask |= 1u64 << slot;
            }
        });
        mask
    }

    pub fn uses_now(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e.kind, TKind::Now | TKind::Edge(_)));
        found
    }

    pub fn divides(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e.kind, TKind::Arith(ArithOp::DivMoneyInt, _, _)));
        found
    }
}
