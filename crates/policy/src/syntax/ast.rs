//! The abstract syntax of a policy file, as written: names are still strings, nothing is typed yet.

use rust_decimal::Decimal;

use crate::source::{Span, Spanned};

pub type Ident = Spanned<String>;

#[derive(Debug, Clone)]
pub struct PolicyAst {
    pub header: Header,
    /// `import "FILE"`, the path as written.
    pub imports: Vec<Spanned<String>>,
    pub vocabularies: Vec<VocabularyDef>,
    /// The `import` lines whose declarations were taken in (`imports::resolve`): the declarations
    /// located there are the libraries'.
    pub imported: Vec<Span>,
    pub enums: Vec<EnumDef>,
    pub fields: Vec<FieldDef>,
    pub requires: Vec<RequireDef>,
    pub constraints: Vec<ConstraintDef>,
    pub lets: Vec<LetDef>,
    pub actions: Vec<ActionDef>,
}

#[derive(Debug, Clone)]
pub struct Header {
    /// `library NAME` rather than `policy NAME`: a file of declarations for policies to import.
    pub library: bool,
    pub name: Ident,
    pub provider: Option<Spanned<String>>,
    /// The source document's file name, and optionally its title.
    pub document: Option<(Spanned<String>, Option<Spanned<String>>)>,
    pub zone: Option<Spanned<String>>,
    pub calendar: Option<Ident>,
    /// `effective from DATE [by FIELD]`: this version's start.
    pub effective: Option<Effective>,
    /// `minor_units "CODE" DIGITS`, as written (the checker reads the digits).
    pub minor_units: Vec<(Spanned<String>, Spanned<String>)>,
}

/// `effective from 2026-01-01 by paid_at`.
#[derive(Debug, Clone)]
pub struct Effective {
    /// The date or timestamp literal, as written.
    pub from: Spanned<String>,
    /// The order's timestamp field that selects the version, or `now`; `None` means `now`.
    pub by: Option<Ident>,
}

/// The contract's vocabularies: the values `requires`, `refund_to` and `review` may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    Steps,
    RefundDestinations,
    ReviewKinds,
}

impl Vocabulary {
    /// The keyword that declares it.
    pub fn keyword(self) -> &'static str {
        match self {
            Vocabulary::Steps => "steps",
            Vocabulary::RefundDestinations => "refund_destinations",
            Vocabulary::ReviewKinds => "review_kinds",
        }
    }
}

/// `steps { cancel_application, revoke }`
#[derive(Debug, Clone)]
pub struct VocabularyDef {
    pub kind: Spanned<Vocabulary>,
    pub values: Vec<Ident>,
}

/// `enum Status { pending_application, issued, ... }`, `enum Sku { "EV-1Y", "EV-2Y" }`: a value is a
/// name or a quoted string, kept as its text.
#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: Ident,
    pub variants: Vec<Ident>,
}

/// `field voucher: money = 0`, `field revoked_at: timestamp?`
#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: Ident,
    pub ty: Ident,
    pub optional: bool,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `require revoked_at when status == revoked`
#[derive(Debug, Clone)]
pub struct RequireDef {
    pub field: Ident,
    pub when: Option<Expr>,
    pub span: Span,
}

/// `constraint voucher + coupon <= price else "vouchers and coupons exceed the price"`
#[derive(Debug, Clone)]
pub struct ConstraintDef {
    pub condition: Expr,
    pub message: Spanned<String>,
    #[expect(
        dead_code,
        reason = "read by no pass yet; explain and the language server will point here"
    )]
    pub span: Span,
}

/// `let cash = price - voucher - coupon`
#[derive(Debug, Clone)]
pub struct LetDef {
    pub name: Ident,
    pub value: Expr,
}

/// `action refund { ... }`
#[derive(Debug, Clone)]
pub struct ActionDef {
    pub name: Ident,
    /// `action refund unique { ... }`: no two rules may match the same order.
    pub unique: bool,
    pub defaults: Vec<Attr>,
    pub requires: Vec<RequireDef>,
    pub rules: Vec<RuleDef>,
    pub examples: Vec<ExampleDef>,
    #[expect(
        dead_code,
        reason = "read by no pass yet; explain and the language server will point here"
    )]
    pub span: Span,
}

/// What a decision says of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It may go ahead.
    Allowed,
    /// It may go ahead once the `requires` steps are done.
    Conditional,
    /// It may not.
    Denied,
    /// No rule decides it: the source leaves the case open.
    Undetermined,
}

impl Outcome {
    /// Its name in the decision's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Conditional => "conditional",
            Outcome::Denied => "denied",
            Outcome::Undetermined => "undetermined",
        }
    }

    /// Allowed and conditional decisions carry attributes; denied and undetermined ones only reasons.
    pub fn goes_through(self) -> bool {
        matches!(self, Outcome::Allowed | Outcome::Conditional)
    }
}

/// `rule id when GUARD then OUTCOME ATTR* REASON*`
#[derive(Debug, Clone)]
pub struct RuleDef {
    pub id: Ident,
    pub guard: Option<Expr>,
    pub outcome: Spanned<Outcome>,
    pub attrs: Vec<Attr>,
    pub reasons: Vec<Reason>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub kind: AttrKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum AttrKind {
    /// `amount = EXPR`
    Amount(Expr),
    /// `refund_to = original_payment`
    RefundTo(Expr),
    /// `review = manual`
    Review(Expr),
    /// `review_by = date(now) + 15 business days`
    ReviewBy(Expr),
    /// `next_status = deleted`
    NextStatus(Expr),
    /// `requires [revoke, email_confirmation]`
    Requires(Vec<Ident>),
    /// `value refund_safe_until = EXPR`
    Value(Ident, Expr),
}

impl AttrKind {
    pub fn name(&self) -> &str {
        match self {
            AttrKind::Amount(_) => "amount",
            AttrKind::RefundTo(_) => "refund_to",
            AttrKind::Review(_) => "review",
            AttrKind::ReviewBy(_) => "review_by",
            AttrKind::NextStatus(_) => "next_status",
            AttrKind::Requires(_) => "requires",
            AttrKind::Value(name, _) => &name.node,
        }
    }
}

/// `because "TEXT" cite "SENTENCE" [in "DOCUMENT"]`
#[derive(Debug, Clone)]
pub struct Reason {
    pub text: Spanned<String>,
    pub cite: Option<Citation>,
    #[expect(
        dead_code,
        reason = "read by no pass yet; explain and the language server will point here"
    )]
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Citation {
    pub text: Spanned<String>,
    /// Another document than the header's.
    pub document: Option<Spanned<String>>,
}

/// `example "NAME" { at "..." order {...} expect {...} }`
#[derive(Debug, Clone)]
pub struct ExampleDef {
    pub name: Spanned<String>,
    pub at: Option<Spanned<String>>,
    pub order: Option<Spanned<String>>,
    pub expect: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// An exact duration, in seconds per unit (`hours` = 3600).
    Exact(i64),
    CalendarDays,
    /// Calendar months, in months per unit (`years` = 12): a date's month moves, its day is kept
    /// (or clamped to the month's last day).
    CalendarMonths(i64),
    BusinessDays,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRelation {
    /// Inside the window: `now within 7 days after paid_at`.
    Within,
    /// Past the window's far edge (the negation of `within`).
    MoreThan,
    /// At or past the distance: `now at least 15 calendar days before expires_at`.
    AtLeast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowDirection {
    After,
    Before,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    HalfAwayFromZero,
    HalfEven,
    HalfTowardZero,
    TowardZero,
    AwayFromZero,
    Floor,
    Ceiling,
}

impl Rounding {
    pub const NAMES: [&'static str; 7] = [
        "half_away_from_zero",
        "half_even",
        "half_toward_zero",
        "toward_zero",
        "away_from_zero",
        "floor",
        "ceiling",
    ];

    pub fn from_name(name: &str) -> Option<Rounding> {
        Some(match name {
            "half_away_from_zero" | "half_up" => Rounding::HalfAwayFromZero,
            "half_even" => Rounding::HalfEven,
            "half_toward_zero" | "half_down" => Rounding::HalfTowardZero,
            "toward_zero" | "down" => Rounding::TowardZero,
            "away_from_zero" | "up" => Rounding::AwayFromZero,
            "floor" => Rounding::Floor,
            "ceiling" => Rounding::Ceiling,
            _ => return None,
        })
    }
}

/// A member of `in {...}`: a name (`issued`) or a quoted string (`"EV-1Y"`).
#[derive(Debug, Clone)]
pub struct SetItem {
    pub value: Ident,
    pub quoted: bool,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// `true`, `false`
    Bool(bool),
    /// `300`
    Int(i64),
    /// `0.01`
    Decimal(Decimal),
    /// `"USD"`
    Str(String),
    /// `2026-03-18`, as written: the checker reads it and says what is wrong with it.
    Date(String),
    /// `2026-03-18T00:00:00+08:00`, as written: the checker reads it, and refuses one without an offset.
    Timestamp(String),
    /// `168 hours`, `7 x 24 hours`, `5 calendar days`, `15 business days`
    Quantity(i64, Unit),
    /// A field, a definition, `now`, or an enum value where an enum is expected.
    Name(String),
    /// `date(paid_at)`, `start_of_day(d)`, `min(a, b)`, `max(a, b)`, `present(expires_at)`
    Call(Ident, Vec<Expr>),
    /// `not e`
    Not(Box<Expr>),
    /// `-e`
    Neg(Box<Expr>),
    /// `a + b`, `a and b`, `a <= b`, ...
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `status in {a, b}`; `negated` for `status not in {...}`
    InSet {
        subject: Box<Expr>,
        set: Vec<SetItem>,
        negated: bool,
    },
    /// `if c then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `e rounded half_away_from_zero to 0.01`
    Rounded {
        value: Box<Expr>,
        mode: Ident,
        quantum: Spanned<Decimal>,
    },
    /// `subject within 7 days after anchor`
    Window {
        subject: Box<Expr>,
        relation: WindowRelation,
        count: i64,
        unit: Unit,
        direction: WindowDirection,
        anchor: Box<Expr>,
    },
}
