//! The checked program: every name resolved to a slot, a constant or a definition, every node typed.
//! This is what `compile` solves for deadlines and `eval` runs.
//!
//! A definition (`let`) is checked once and referred to by its index (`TKind::Let`): the evaluator
//! computes it at most once per decision and instant. Passes that reason about the shape of an
//! expression (narrowing here, deadline solving, the analysis) see through a reference
//! (`TExpr::resolved`) or spell it out (`TExpr::expand`); `Expanded` says what an expression is with
//! its definitions spelled out, and the checker bounds that (`limits`).

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::source::Span;
use crate::syntax::ast::Rounding;
use crate::value::{Type, Value};

/// Index of an order field in the frame filled from JSON.
pub type Slot = u16;

/// The most fields a policy may declare: field sets are `u64` masks.
pub const MAX_FIELDS: usize = 64;

/// Index of a definition in `CheckedPolicy::lets`.
pub type LetId = u32;

/// A definition (`let NAME = EXPR`), checked once.
#[derive(Debug, Clone)]
pub struct CheckedLet {
    pub name: String,
    /// Refers only to earlier definitions: a reference never leads back to itself.
    pub value: TExpr,
    /// Where the name is defined.
    pub span: Span,
    /// The value with every definition it refers to spelled out.
    pub expanded: Expanded,
}

/// What an expression is with the definitions it refers to spelled out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The fields it reads as values, as a mask.
    pub reads: u64,
    /// The fields it reads or tests for presence, as a mask.
    pub mentions: u64,
    pub uses_now: bool,
    /// The most operations on a path from its root to a leaf.
    pub depth: usize,
    /// Its number of nodes.
    pub size: usize,
}

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

impl CmpOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
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
    /// date + calendar months: the same day of the month, or the month's last day if it has none
    DateAddMonths,
    /// date - calendar months, clamped the same way
    DateSubMonths,
    /// timestamp + calendar months: its local date moved as `DateAddMonths`, at the same local time
    TimeAddMonths,
    /// timestamp - calendar months
    TimeSubMonths,
    AddMoney,
    SubMoney,
    /// money * int, int * money
    MulMoneyInt,
    /// money / int
    DivMoneyInt,
}

/// A test of a string against another: `starts_with(s, "EV-")`, `ends_with`, `contains`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextTest {
    StartsWith,
    EndsWith,
    Contains,
}

impl TextTest {
    pub fn holds(self, text: &str, part: &str) -> bool {
        match self {
            TextTest::StartsWith => text.starts_with(part),
            TextTest::EndsWith => text.ends_with(part),
            TextTest::Contains => text.contains(part),
        }
    }
}

#[derive(Debug, Clone)]
pub enum TKind {
    Const(Value),
    /// An order field; the checker proved it present here.
    Field(Slot),
    /// A definition (`CheckedPolicy::lets`), referred to where it is used. Never one whose value is a
    /// single leaf or another reference: those are copied where they are used.
    Let(LetId),
    /// The request time.
    Now,
    Present(Slot),
    Not(Box<TExpr>),
    And(Box<TExpr>, Box<TExpr>),
    Or(Box<TExpr>, Box<TExpr>),
    Cmp(CmpOp, Box<TExpr>, Box<TExpr>),
    /// An enum value in a set, as a bit mask of variants.
    InSet(Box<TExpr>, u64),
    /// A string in a set of strings (`plan in {"EV-1Y", "EV-2Y"}`), each listed once.
    TextIn(Box<TExpr>, Arc<[Arc<str>]>),
    /// `starts_with(a, b)`, `ends_with(a, b)`, `contains(a, b)`: whether `a` has `b` there.
    Text(TextTest, Box<TExpr>, Box<TExpr>),
    Arith(ArithOp, Box<TExpr>, Box<TExpr>),
    Neg(Box<TExpr>),
    DateOf(Box<TExpr>),
    StartOfDay(Box<TExpr>),
    Min(Box<TExpr>, Box<TExpr>),
    Max(Box<TExpr>, Box<TExpr>),
    If(Box<TExpr>, Box<TExpr>, Box<TExpr>),
    Round(Box<TExpr>, Rounding, Decimal),
    /// A quantity as an integer (`days(...)`, `hours(...)`): a count of calendar or business days as
    /// it is (`per` is 1), or a duration in whole units of `per` nanoseconds, truncated toward zero.
    Count(Box<TExpr>, i64),
    /// A comparison with the request time, solved by `compile` (its index among the action's edges).
    /// Only compiled guards hold these; the checked policy keeps the comparison itself.
    Edge(u16),
}

/// A rule's attribute expressions in their one order: `amount`, `refund_to`, `review`, `review_by`,
/// `next_status` (each `None` when not set), then the values. Checked and compiled rules both list
/// theirs through it, and masks over attributes number them so.
pub fn attribute_slots<'a>(
    fixed: [&'a Option<TExpr>; 5],
    values: impl Iterator<Item = &'a TExpr> + 'a,
) -> impl Iterator<Item = Option<&'a TExpr>> + 'a {
    fixed
        .into_iter()
        .map(Option::as_ref)
        .chain(values.map(Some))
}

impl TExpr {
    pub fn new(kind: TKind, ty: Type, span: Span) -> TExpr {
        TExpr { kind, ty, span }
    }

    /// The fields this expression reads (as values, not presence tests), as a mask.
    pub fn fields_read(&self, lets: &[CheckedLet]) -> u64 {
        self.expanded(lets).reads
    }

    pub fn uses_now(&self, lets: &[CheckedLet]) -> bool {
        self.expanded(lets).uses_now
    }

    /// Where this expression divides money without rounding the quotient: the first division of
    /// money whose quotient reaches the value (through money operands only: a comparison in an
    /// `if`'s condition does not) and is not beneath a `rounded`, definitions followed. A division
    /// inside a definition is located at the reference to it here (a definition may come from another
    /// file), rounded or not where it is used: `let share = price / 3` is rounded in
    /// `min(share rounded ..., cap)`.
    pub fn unrounded_division(&self, lets: &[CheckedLet]) -> Option<Span> {
        // Each node with the span of the reference in `self` that led to it, if any.
        let mut stack = vec![(self, None)];
        while let Some((e, via)) = stack.pop() {
            match &e.kind {
                TKind::Round(..) => {}
                TKind::Arith(ArithOp::DivMoneyInt, _, _) => return Some(via.unwrap_or(e.span)),
                TKind::Let(id) => {
                    if let Some(definition) = lets.get(*id as usize) {
                        stack.push((&definition.value, Some(via.unwrap_or(e.span))));
                    }
                }
                _ => e.for_each_operand(|operand| {
                    if operand.ty == Type::Money {
                        stack.push((operand, via));
                    }
                }),
            }
        }
        None
    }

    /// What this expression is with its definitions spelled out, from what each definition's
    /// `expanded` says. Walks the tree with a stack of its own: the tree may be deeper than the limit.
    pub fn expanded(&self, lets: &[CheckedLet]) -> Expanded {
        let mut found = Expanded::default();
        let mut stack = vec![(self, 0usize)];
        while let Some((e, depth)) = stack.pop() {
            let below = depth + 1;
            let (deepest, size) = match &e.kind {
                TKind::Let(id) => {
                    let Some(definition) = lets.get(*id as usize) else {
                        continue;
                    };
                    let inner = definition.expanded;
                    found.reads |= inner.reads;
                    found.mentions |= inner.mentions;
                    found.uses_now |= inner.uses_now;
                    (depth + inner.depth, inner.size)
                }
                kind => {
                    match kind {
                        TKind::Field(slot) => {
                            found.reads |= 1u64 << slot;
                            found.mentions |= 1u64 << slot;
                        }
                        TKind::Present(slot) => found.mentions |= 1u64 << slot,
                        TKind::Now | TKind::Edge(_) => found.uses_now = true,
                        _ => {}
                    }
                    e.for_each_operand(|operand| stack.push((operand, below)));
                    (depth, 1)
                }
            };
            found.depth = found.depth.max(deepest);
            found.size = found.size.saturating_add(size);
        }
        found
    }

    /// Calls `visit` on each operand of this node, in order.
    pub(crate) fn for_each_operand<'e>(&'e self, mut visit: impl FnMut(&'e TExpr)) {
        match &self.kind {
            TKind::Const(_)
            | TKind::Field(_)
            | TKind::Let(_)
            | TKind::Now
            | TKind::Present(_)
            | TKind::Edge(_) => {}
            TKind::Not(a)
            | TKind::InSet(a, _)
            | TKind::TextIn(a, _)
            | TKind::Neg(a)
            | TKind::DateOf(a)
            | TKind::StartOfDay(a)
            | TKind::Round(a, _, _)
            | TKind::Count(a, _) => visit(a),
            TKind::And(a, b)
            | TKind::Or(a, b)
            | TKind::Cmp(_, a, b)
            | TKind::Text(_, a, b)
            | TKind::Arith(_, a, b)
            | TKind::Min(a, b)
            | TKind::Max(a, b) => {
                visit(a);
                visit(b);
            }
            TKind::If(c, a, b) => {
                visit(c);
                visit(a);
                visit(b);
            }
        }
    }

    /// The expression a reference to a definition stands for (its value, itself perhaps a reference
    /// no further); any other node is itself. For passes that look at the shape of a condition.
    pub fn resolved<'e>(&'e self, lets: &'e [CheckedLet]) -> &'e TExpr {
        let mut e = self;
        while let TKind::Let(id) = e.kind {
            match lets.get(id as usize) {
                Some(definition) => e = &definition.value,
                None => break,
            }
        }
        e
    }

    /// For a reference to a definition, its value as it reads where it is used (the root at the
    /// reference's span), its own references kept; `None` for any other node.
    pub fn substituted(&self, lets: &[CheckedLet]) -> Option<TExpr> {
        let TKind::Let(id) = self.kind else {
            return None;
        };
        let mut value = lets.get(id as usize)?.value.clone();
        value.span = self.span;
        Some(value)
    }

    /// This expression with every definition spelled out where it is used, as the checker once
    /// inlined them. Its size is `expanded(lets).size`, which the checker bounds
    /// (`limits::MAX_INLINED_NODES`), and so is its depth (`MAX_EXPR_DEPTH`).
    pub fn expand(&self, lets: &[CheckedLet]) -> TExpr {
        let expand = |e: &TExpr| Box::new(e.expand(lets));
        let kind = match &self.kind {
            TKind::Let(_) => {
                return match self.substituted(lets) {
                    Some(value) => value.expand(lets),
                    None => self.clone(),
                }
            }
            TKind::Const(_) | TKind::Field(_) | TKind::Now | TKind::Present(_) | TKind::Edge(_) => {
                return self.clone()
            }
            TKind::Not(a) => TKind::Not(expand(a)),
            TKind::InSet(a, mask) => TKind::InSet(expand(a), *mask),
            TKind::TextIn(a, set) => TKind::TextIn(expand(a), set.clone()),
            TKind::Text(test, a, b) => TKind::Text(*test, expand(a), expand(b)),
            TKind::Neg(a) => TKind::Neg(expand(a)),
            TKind::DateOf(a) => TKind::DateOf(expand(a)),
            TKind::StartOfDay(a) => TKind::StartOfDay(expand(a)),
            TKind::Round(a, mode, quantum) => TKind::Round(expand(a), *mode, *quantum),
            TKind::Count(a, per) => TKind::Count(expand(a), *per),
            TKind::And(a, b) => TKind::And(expand(a), expand(b)),
            TKind::Or(a, b) => TKind::Or(expand(a), expand(b)),
            TKind::Cmp(op, a, b) => TKind::Cmp(*op, expand(a), expand(b)),
            TKind::Arith(op, a, b) => TKind::Arith(*op, expand(a), expand(b)),
            TKind::Min(a, b) => TKind::Min(expand(a), expand(b)),
            TKind::Max(a, b) => TKind::Max(expand(a), expand(b)),
            TKind::If(c, a, b) => TKind::If(expand(c), expand(a), expand(b)),
        };
        TExpr::new(kind, self.ty, self.span)
    }
}
