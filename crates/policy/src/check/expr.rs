//! Typing expressions: names to slots, units, optionals narrowed by the conditions around them.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::limits::{self, MAX_INLINED_NODES};
use super::typed::{ArithOp, CheckedLet, CmpOp, LetId, Slot, TExpr, TKind, TextTest};
use super::{with_article, Checked, Checker};
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{
    BinaryOp, Expr, ExprKind, Rounding, SetItem, Unit, WindowDirection, WindowRelation,
};
use crate::time::Instant;
use crate::value::{parse_date, parse_timestamp, Type, Value, NANOS_PER_SECOND};
use crate::zone::date_to_day_number;

/// What is known to hold where an expression is evaluated: fields proved present, and enum fields
/// proved to lie in a set of values (by `status == x`, `status in {...}` around it).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub present: u64,
    pub(crate) enums: Vec<(Slot, u64)>,
}

impl Facts {
    /// The values an enum field may still take here, as a mask.
    pub fn enum_mask(&self, slot: Slot) -> u64 {
        self.enums
            .iter()
            .filter(|(s, _)| *s == slot)
            .fold(u64::MAX, |mask, (_, m)| mask & m)
    }

    /// These facts, plus what follows from `condition` being `truth` (seen through the definitions
    /// it refers to).
    pub fn with(mut self, condition: &TExpr, truth: bool, lets: &[CheckedLet]) -> Facts {
        let condition = condition.resolved(lets);
        match (&condition.kind, truth) {
            (TKind::Present(slot), true) => self.present |= 1 << slot,
            (TKind::Not(inner), t) => return self.with(inner, !t, lets),
            (TKind::And(a, b), true) | (TKind::Or(a, b), false) => {
                return self.with(a, truth, lets).with(b, truth, lets)
            }
            _ => {
                if let Some(fact) = enum_fact(condition, truth, lets) {
                    self.enums.push(fact);
                }
            }
        }
        self
    }
}

/// `field == value`, `field != value`, `field in {...}` as (field, allowed values) when `truth`.
pub(crate) fn enum_fact(
    condition: &TExpr,
    truth: bool,
    lets: &[CheckedLet],
) -> Option<(Slot, u64)> {
    let (slot, mask, positive) = match &condition.resolved(lets).kind {
        TKind::Cmp(op @ (CmpOp::Eq | CmpOp::Ne), a, b) => {
            let (slot, variant) = match (&a.resolved(lets).kind, &b.resolved(lets).kind) {
                (TKind::Field(s), TKind::Const(Value::Enum(v)))
                | (TKind::Const(Value::Enum(v)), TKind::Field(s)) => (*s, *v),
                _ => return None,
            };
            (slot, 1u64 << variant, *op == CmpOp::Eq)
        }
        TKind::InSet(subject, mask) => match subject.resolved(lets).kind {
            TKind::Field(s) => (s, *mask, true),
            _ => return None,
        },
        TKind::Not(inner) => return enum_fact(inner, !truth, lets),
        _ => return None,
    };
    Some((slot, if positive == truth { mask } else { !mask }))
}

const FUNCTIONS: [&str; 12] = [
    "date",
    "start_of_day",
    "days",
    "hours",
    "minutes",
    "seconds",
    "min",
    "max",
    "present",
    "starts_with",
    "ends_with",
    "contains",
];

impl Checker<'_> {
    /// A condition: an expression of type bool.
    pub(crate) fn condition(&mut self, e: &Expr, facts: &Facts) -> Checked<TExpr> {
        let checked = self.expr(e, Some(Type::Bool), facts)?;
        if checked.ty != Type::Bool {
            let found = self.describe(checked.ty);
            let found_a = with_article(&found);
            return Err(self.report(
                Diagnostic::error(
                    "policy::check::not_a_condition",
                    format!("expected a condition, found {found_a}"),
                    e.span,
                )
                .with_label(format!("this is {found_a}"))
                .with_help(
                    "compare it with something: `==`, `<`, `in {...}`, `within N ... after ...`",
                ),
            ));
        }
        Ok(checked)
    }

    /// Types an expression. `hint` resolves bare enum values and lets integer literals stand for money;
    /// the caller still checks the type it needs.
    pub(crate) fn expr(&mut self, e: &Expr, hint: Option<Type>, facts: &Facts) -> Checked<TExpr> {
        let span = e.span;
        let constant = |value: Value, ty: Type| Ok(TExpr::new(TKind::Const(value), ty, span));
        match &e.kind {
            ExprKind::Bool(b) => constant(Value::Bool(*b), Type::Bool),
            ExprKind::Int(i) if hint == Some(Type::Money) => {
                constant(Value::Money(Decimal::from(*i)), Type::Money)
            }
            ExprKind::Int(i) => constant(Value::Int(*i), Type::Int),
            ExprKind::Decimal(d) => constant(Value::Money(*d), Type::Money),
            // `plan == "EV-1Y"`: where an enum is expected, a string names one of its values.
            ExprKind::Str(s) => match hint {
                Some(Type::Enum(id)) => {
                    let variant = self.variant(id, s, span, true)?;
                    constant(Value::Enum(variant), Type::Enum(id))
                }
                _ => constant(Value::Str(s.as_str().into()), Type::Str),
            },
            ExprKind::Date(text) => {
                constant(Value::Date(self.date_literal(text, span)?), Type::Date)
            }
            ExprKind::Timestamp(text) => constant(
                Value::Timestamp(self.timestamp_literal(text, span)?),
                Type::Timestamp,
            ),
            ExprKind::Quantity(count, unit) => match unit {
                Unit::Exact(seconds) => constant(
                    Value::Duration(self.duration(*count, *seconds, span)?),
                    Type::Duration,
                ),
                Unit::CalendarDays => constant(Value::Days(*count), Type::Days),
                Unit::CalendarMonths(per) => constant(
                    Value::Months(self.months(*count, *per, span)?),
                    Type::Months,
                ),
                Unit::BusinessDays => {
                    self.need_calendar(span);
                    constant(Value::BusinessDays(*count), Type::BusinessDays)
                }
            },
            ExprKind::Name(name) => self.name(name, span, hint, facts),
            ExprKind::Call(name, args) => self.call(&name.node, name.span, args, span, facts),
            ExprKind::Not(inner) => {
                let inner = self.condition(inner, facts)?;
                Ok(TExpr::new(TKind::Not(Box::new(inner)), Type::Bool, span))
            }
            ExprKind::Neg(inner) => {
                let inner = self.expr(inner, hint, facts)?;
                if !matches!(
                    inner.ty,
                    Type::Int | Type::Money | Type::Duration | Type::Days | Type::Months
                ) {
                    let found = self.describe(inner.ty);
                    let found_a = with_article(&found);
                    return Err(self.report(Diagnostic::error(
                        "policy::check::type_mismatch",
                        format!("{found_a} cannot be negated"),
                        span,
                    )));
                }
                let ty = inner.ty;
                Ok(TExpr::new(TKind::Neg(Box::new(inner)), ty, span))
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span, facts),
            ExprKind::InSet {
                subject,
                set,
                negated,
            } => {
                let subject = self.expr(subject, None, facts)?;
                let test = self.set_test(subject, set, span)?;
                let test = TExpr::new(test, Type::Bool, span);
                Ok(if *negated {
                    TExpr::new(TKind::Not(Box::new(test)), Type::Bool, span)
                } else {
                    test
                })
            }
            ExprKind::If(cond, then, otherwise) => {
                let cond = self.condition(cond, facts)?;
                let then_facts = self.narrowed(facts.clone().with(&cond, true, &self.definitions));
                let else_facts = self.narrowed(facts.clone().with(&cond, false, &self.definitions));
                let then = self.expr(then, hint, &then_facts);
                let otherwise = self.expr(
                    otherwise,
                    then.as_ref().ok().map(|t| t.ty).or(hint),
                    &else_facts,
                );
                let (then, otherwise) = (then?, otherwise?);
                let ty = self.same_type(&then, &otherwise, "the two branches of `if`")?;
                Ok(TExpr::new(
                    TKind::If(Box::new(cond), Box::new(then), Box::new(otherwise)),
                    ty,
                    span,
                ))
            }
            ExprKind::Rounded {
                value,
                mode,
                quantum,
            } => {
                let value = self.expr(value, Some(Type::Money), facts)?;
                if value.ty != Type::Money {
                    let found = self.describe(value.ty);
                    let found_a = with_article(&found);
                    return Err(self.report(Diagnostic::error(
                        "policy::check::type_mismatch",
                        format!("only money is rounded, this is {found_a}"),
                        value.span,
                    )));
                }
                let Some(rounding) = Rounding::from_name(&mode.node) else {
                    return Err(self.report(
                        Diagnostic::error(
                            "policy::check::unknown_rounding",
                            format!("unknown rounding mode `{}`", mode.node),
                            mode.span,
                        )
                        .with_did_you_mean(
                            &mode.node,
                            Some(mode.span),
                            Rounding::NAMES,
                            || format!("rounding modes: {}", Rounding::NAMES.join(", ")),
                        ),
                    ));
                };
                if quantum.node <= Decimal::ZERO {
                    return Err(self.report(Diagnostic::error(
                        "policy::check::bad_quantum",
                        "amounts are rounded to a positive step such as 0.01",
                        quantum.span,
                    )));
                }
                Ok(TExpr::new(
                    TKind::Round(Box::new(value), rounding, quantum.node),
                    Type::Money,
                    span,
                ))
            }
            ExprKind::Window {
                subject,
                relation,
                count,
                unit,
                direction,
                anchor,
            } => self.window(
                subject, *relation, *count, *unit, *direction, anchor, span, facts,
            ),
        }
    }

    /// `count` units of `seconds` seconds, in nanoseconds. Durations are at most about 292 years (an
    /// `i64` of nanoseconds); a longer one is an error here, never a rule that silently disappears.
    fn duration(&mut self, count: i64, seconds: i64, span: Span) -> Checked<i64> {
        count
            .checked_mul(seconds)
            .and_then(|s| s.checked_mul(NANOS_PER_SECOND))
            .ok_or_else(|| {
                self.report(
                    Diagnostic::error(
                        "policy::check::out_of_range",
                        "this duration is too long: exact durations are limited to 292 years",
                        span,
                    )
                    .with_help("for long periods, count `calendar days`"),
                )
            })
    }

    /// `count` calendar months or years (`per` months each) as a number of months. No date of years
    /// 0001 to 9999 moved by more than 119 987 months (0001-01 to 9999-12) is one of them, so a longer
    /// count could only ever fail: it is refused here, where it is written.
    fn months(&mut self, count: i64, per: i64, span: Span) -> Checked<i64> {
        const MAX_MONTHS: i64 = 9998 * 12 + 11;
        match count.checked_mul(per) {
            Some(months) if months <= MAX_MONTHS => Ok(months),
            _ => Err(self.report(
                Diagnostic::error(
                    "policy::check::out_of_range",
                    "this is too many months: dates run from year 0001 to 9999, 119 987 months apart",
                    span,
                )
                .with_help("write at most `9998 calendar years` or `119987 calendar months`"),
            )),
        }
    }

    /// A date literal's day number; a date that does not exist is an error here.
    pub(super) fn date_literal(&mut self, text: &str, span: Span) -> Checked<i32> {
        match parse_date(text).map(date_to_day_number) {
            // INVARIANT: day numbers of years 0001 to 9999 fit an i32.
            Some(day) => Ok(day as i32),
            None => Err(self.report(
                Diagnostic::error(
                    "policy::check::invalid_date",
                    format!("`{text}` is not a date"),
                    span,
                )
                .with_label("no such day")
                .with_help(
                    "write a date that exists as YYYY-MM-DD, in years 0001 to 9999, e.g. `2026-02-28`",
                ),
            )),
        }
    }

    /// A timestamp literal's instant. It must say its offset: a policy's zone is for reading dates,
    /// and an instant written without one would be read differently by every reader.
    pub(super) fn timestamp_literal(&mut self, text: &str, span: Span) -> Checked<Instant> {
        let (date, time) = text.split_once('T').unwrap_or((text, ""));
        // A day that does not exist is said as for a date.
        self.date_literal(date, span)?;
        if !(time.ends_with('Z') || time.contains(['+', '-'])) {
            return Err(self.report(
                Diagnostic::error(
                    "policy::check::timestamp_without_offset",
                    format!("timestamp `{text}` has no offset"),
                    span,
                )
                .with_label("which instant is this?")
                .with_help(format!(
                    "say its offset from UTC: `{text}+08:00`, or `{text}Z` for UTC"
                )),
            ));
        }
        parse_timestamp(text).map_err(|_| {
            self.report(
                Diagnostic::error(
                    "policy::check::invalid_timestamp",
                    format!("`{text}` is not a timestamp"),
                    span,
                )
                .with_label("no such instant")
                .with_help(
                    "write an instant that exists, as `2026-03-18T00:00:00+08:00`: hours 00 to 23, minutes and \
                     seconds 00 to 59, at most 9 digits after the seconds, from 0001-01-01T00:00:00Z to \
                     9999-12-31T23:59:59Z",
                ),
            )
        })
    }

    fn need_calendar(&mut self, span: Span) {
        if !self.has_calendar {
            self.report(
                Diagnostic::error(
                    "policy::check::no_calendar",
                    "business days need a calendar, and the policy names none",
                    span,
                )
                .with_help("name one in the header, e.g. `calendar cn`"),
            );
            // One report is enough.
            self.has_calendar = true;
        }
    }

    /// `subject in {...}`: an enum value among values of its enum, or a string among quoted strings.
    fn set_test(&mut self, subject: TExpr, set: &[SetItem], span: Span) -> Checked<TKind> {
        match subject.ty {
            Type::Enum(id) => {
                let mut mask = 0u64;
                for item in set {
                    mask |=
                        1 << self.variant(id, &item.value.node, item.value.span, item.quoted)?;
                }
                Ok(TKind::InSet(Box::new(subject), mask))
            }
            Type::Str => {
                let mut members: Vec<Arc<str>> = Vec::with_capacity(set.len());
                for item in set {
                    let text = &item.value.node;
                    if !item.quoted {
                        return Err(self.report(
                            Diagnostic::error(
                                "policy::check::type_mismatch",
                                format!(
                                    "`{text}` is a name, and a string is tested against strings"
                                ),
                                item.value.span,
                            )
                            .with_label("not a string")
                            .with_related(subject.span, "a string")
                            .with_help(format!("quote it: `\"{text}\"`")),
                        ));
                    }
                    if !members.iter().any(|m| **m == **text) {
                        members.push(text.as_str().into());
                    }
                }
                Ok(TKind::TextIn(Box::new(subject), members.into()))
            }
            other => {
                let found = self.describe(other);
                let found_a = with_article(&found);
                Err(self.report(
                    Diagnostic::error(
                        "policy::check::type_mismatch",
                        format!("`in {{...}}` tests an enum value or a string, not {found_a}"),
                        span,
                    )
                    .with_label(format!("this is {found_a}"))
                    .with_help("compare other values with `==`, `<`, `<=`, ..."),
                ))
            }
        }
    }

    /// The index of `name` among the values of enum `id`, written at `span` as a quoted string or not.
    fn variant(&mut self, id: u16, name: &str, span: Span, quoted: bool) -> Checked<u16> {
        let info = &self.enums[id as usize];
        if let Some(i) = info.variants.iter().position(|v| v == name) {
            return Ok(i as u16);
        }
        let enum_name = info.name.clone();
        let listed = info.variants.join(", ");
        let diagnostic = Diagnostic::error(
            "policy::check::unknown_enum_value",
            format!("`{name}` is not a value of `{enum_name}`"),
            span,
        )
        .with_label(format!("not in `{enum_name}`"))
        .with_did_you_mean_written(
            name,
            Some(span),
            info.variants.iter().map(String::as_str),
            // A quoted value is replaced by a quoted one; a bare name by a bare one where the value is
            // a name (`verifying`), else by the value quoted (`"EV-1Y"`).
            |close| {
                if !quoted && is_plain_name(close) {
                    close.to_string()
                } else {
                    quote(close)
                }
            },
            || format!("`{enum_name}` lists: {listed}"),
        );
        Err(self.report(diagnostic))
    }

    pub(crate) fn resolves(&self, name: &str) -> bool {
        name == "now" || self.field_slot(name).is_some() || self.lets.contains_key(name)
    }

    fn name(
        &mut self,
        name: &str,
        span: Span,
        hint: Option<Type>,
        facts: &Facts,
    ) -> Checked<TExpr> {
        if let Some(Type::Enum(id)) = hint {
            if let Some(i) = self.enums[id as usize]
                .variants
                .iter()
                .position(|v| v == name)
            {
                return Ok(TExpr::new(
                    TKind::Const(Value::Enum(i as u16)),
                    Type::Enum(id),
                    span,
                ));
            }
        }
        if name == "now" {
            return Ok(TExpr::new(TKind::Now, Type::Timestamp, span));
        }
        if let Some(slot) = self.field_slot(name) {
            self.field_used[slot as usize] = true;
            let field = &self.fields[slot as usize];
            let ty = field.ty;
            if field.optional && facts.present & (1 << slot) == 0 {
                match &mut self.collecting_needs {
                    Some(needs) => *needs |= 1 << slot,
                    None => {
                        // Reported, and typing goes on: the field's type is known.
                        self.report(
                            Diagnostic::error(
                                "policy::check::unchecked_optional",
                                format!("optional field `{name}` may be absent here"),
                                span,
                            )
                            .with_label("may be absent")
                            .with_help(format!(
                                "test it first: `present({name}) and ...`, or `require {name} when ...`"
                            )),
                        );
                    }
                }
            }
            return Ok(TExpr::new(TKind::Field(slot), ty, span));
        }
        // INVARIANT: `LetInfo::id` indexes `definitions`.
        if let Some(size) = self
            .lets
            .get(name)
            .map(|info| self.definitions[info.id as usize].expanded.size)
        {
            self.inlined = self.inlined.saturating_add(size);
            if self.inlined > MAX_INLINED_NODES {
                // Reported once, at the use that passes the budget.
                let reported = match self.inlining_exhausted {
                    Some(reported) => reported,
                    None => self.report(limits::too_large(span, name)),
                };
                self.inlining_exhausted = Some(reported);
                return Err(reported);
            }
        }
        if let Some(info) = self.lets.get_mut(name) {
            info.used = true;
            let (id, missing) = (info.id, info.needs & !facts.present);
            let value = self.reference(id, span);
            if missing != 0 {
                match &mut self.collecting_needs {
                    Some(needs) => *needs |= missing,
                    None => {
                        let field = self.fields[missing.trailing_zeros() as usize].name.clone();
                        self.report(
                            Diagnostic::error(
                                "policy::check::unchecked_optional",
                                format!("`{name}` reads optional field `{field}`, which may be absent here"),
                                span,
                            )
                            .with_label(format!("needs `{field}`"))
                            .with_help(format!("test it first: `present({field}) and ...`")),
                        );
                    }
                }
            }
            return Ok(value);
        }
        if let Some(Type::Enum(id)) = hint {
            return self
                .variant(id, name, span, false)
                .map(|i| TExpr::new(TKind::Const(Value::Enum(i)), Type::Enum(id), span));
        }
        let owner = self
            .enums
            .iter()
            .skip(2)
            .find(|e| e.variants.iter().any(|v| v == name))
            .map(|e| e.name.clone());
        if let Some(owner) = owner {
            return Err(self.report(
                Diagnostic::error(
                    "policy::check::bare_enum_value",
                    format!("`{name}` is a value of enum `{owner}`, not a name"),
                    span,
                )
                .with_help(format!(
                    "compare a `{owner}` field with it, e.g. `status == {name}`"
                )),
            ));
        }
        Err(self.unknown_name(name, span, "name"))
    }

    /// A use of definition `id` at `span`: a reference, or for a definition that is a single leaf or
    /// reference, a copy of it (a reference would cost more than the node, and a constant stays a
    /// constant: `review = none`, money from an integer literal).
    fn reference(&self, id: LetId, span: Span) -> TExpr {
        let value = &self.definitions[id as usize].value;
        match value.kind {
            TKind::Const(_) | TKind::Field(_) | TKind::Let(_) | TKind::Now | TKind::Present(_) => {
                TExpr::new(value.kind.clone(), value.ty, span)
            }
            _ => TExpr::new(TKind::Let(id), value.ty, span),
        }
    }

    fn call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        span: Span,
        facts: &Facts,
    ) -> Checked<TExpr> {
        let arity = match name {
            "date" | "start_of_day" | "present" | "days" | "hours" | "minutes" | "seconds" => 1,
            "min" | "max" | "starts_with" | "ends_with" | "contains" => 2,
            _ => {
                return Err(self.report(
                    Diagnostic::error(
                        "policy::check::unknown_function",
                        format!("unknown function `{name}`"),
                        name_span,
                    )
                    .with_did_you_mean(
                        name,
                        Some(name_span),
                        FUNCTIONS,
                        || format!("functions: {}", FUNCTIONS.join(", ")),
                    ),
                ));
            }
        };
        if args.len() != arity {
            let usage = match name {
                "date" => "date(TIMESTAMP)",
                "start_of_day" => "start_of_day(DATE)",
                "present" => "present(FIELD)",
                "days" => "days(DAYS or DURATION)",
                "hours" => "hours(DURATION)",
                "minutes" => "minutes(DURATION)",
                "seconds" => "seconds(DURATION)",
                "min" => "min(A, B)",
                "max" => "max(A, B)",
                "starts_with" => "starts_with(STRING, \"PREFIX\")",
                "ends_with" => "ends_with(STRING, \"SUFFIX\")",
                _ => "contains(STRING, \"PART\")",
            };
            return Err(self.report(
                Diagnostic::error(
                    "policy::check::arity",
                    format!(
                        "`{name}` takes {arity} argument{}, found {}",
                        if arity == 1 { "" } else { "s" },
                        args.len()
                    ),
                    span,
                )
                .with_help(format!("write `{usage}`")),
            ));
        }
        match name {
            "present" => {
                let ExprKind::Name(field) = &args[0].kind else {
                    return Err(self.report(Diagnostic::error(
                        "policy::check::present_needs_field",
                        "`present` tests an order field",
                        args[0].span,
                    )));
                };
                let Some(slot) = self.field_slot(field) else {
                    return Err(self.unknown_name(field, args[0].span, "field"));
                };
                self.field_used[slot as usize] = true;
                if !self.fields[slot as usize].optional {
                    self.report(
                        Diagnostic::warning(
                            "policy::check::always_present",
                            format!("field `{field}` is not optional, so it is always present"),
                            span,
                        )
                        .with_help("drop the test, or declare the field optional with `?`"),
                    );
                }
                Ok(TExpr::new(TKind::Present(slot), Type::Bool, span))
            }
            "date" => {
                let arg = self.expr(&args[0], None, facts)?;
                match arg.ty {
                    Type::Timestamp => {
                        Ok(TExpr::new(TKind::DateOf(Box::new(arg)), Type::Date, span))
                    }
                    other => {
                        let help = (other == Type::Date)
                            .then(|| "it is a date already: drop `date(...)`".to_string());
                        Err(self.wrong_argument("date", "a timestamp", other, args[0].span, help))
                    }
                }
            }
            "start_of_day" => {
                let arg = self.expr(&args[0], None, facts)?;
                match arg.ty {
                    Type::Date => Ok(TExpr::new(
                        TKind::StartOfDay(Box::new(arg)),
                        Type::Timestamp,
                        span,
                    )),
                    other => {
                        let help = (other == Type::Timestamp)
                            .then(|| "take its date first: `start_of_day(date(...))`".to_string());
                        Err(self.wrong_argument(
                            "start_of_day",
                            "a date",
                            other,
                            args[0].span,
                            help,
                        ))
                    }
                }
            }
            "days" | "hours" | "minutes" | "seconds" => self.count(name, &args[0], span, facts),
            "min" | "max" => {
                let (a, b) = self.pair(&args[0], &args[1], facts)?;
                let ty = self.same_type(&a, &b, &format!("the arguments of `{name}`"))?;
                if !ty.is_ordered() {
                    let found = self.describe(ty);
                    return Err(self.report(Diagnostic::error(
                        "policy::check::type_mismatch",
                        format!("`{name}` needs ordered values, found {found}"),
                        span,
                    )));
                }
                let kind = if name == "min" {
                    TKind::Min(Box::new(a), Box::new(b))
                } else {
                    TKind::Max(Box::new(a), Box::new(b))
                };
                Ok(TExpr::new(kind, ty, span))
            }
            _ => {
                let test = match name {
                    "starts_with" => TextTest::StartsWith,
                    "ends_with" => TextTest::EndsWith,
                    _ => TextTest::Contains,
                };
                let whole = self.expr(&args[0], None, facts);
                let part = self.expr(&args[1], None, facts);
                let (whole, part) = (whole?, part?);
                for arg in [&whole, &part] {
                    if arg.ty != Type::Str {
                        let help = if matches!(arg.ty, Type::Enum(_)) {
                            "an enum value is tested by name: `==`, `in {...}`".to_string()
                        } else {
                            format!("`{name}` takes two strings, e.g. `{name}(plan, \"EV\")`")
                        };
                        return Err(self.wrong_argument(
                            name,
                            "strings",
                            arg.ty,
                            arg.span,
                            Some(help),
                        ));
                    }
                }
                Ok(TExpr::new(
                    TKind::Text(test, Box::new(whole), Box::new(part)),
                    Type::Bool,
                    span,
                ))
            }
        }
    }

    /// `days(X)`, `hours(D)`, `minutes(D)`, `seconds(D)`: a quantity as an integer, so that it can
    /// scale money (pro rata, tiers, fees). A duration counts whole units, truncated toward zero.
    fn count(&mut self, name: &str, arg: &Expr, span: Span, facts: &Facts) -> Checked<TExpr> {
        const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
        let checked = self.expr(arg, None, facts)?;
        let per = match (name, checked.ty) {
            ("days", Type::Days | Type::BusinessDays) => Some(1),
            ("days", Type::Duration) => Some(24 * 60 * NANOS_PER_MINUTE),
            ("hours", Type::Duration) => Some(60 * NANOS_PER_MINUTE),
            ("minutes", Type::Duration) => Some(NANOS_PER_MINUTE),
            ("seconds", Type::Duration) => Some(NANOS_PER_SECOND),
            _ => None,
        };
        if let Some(per) = per {
            return Ok(TExpr::new(
                TKind::Count(Box::new(checked), per),
                Type::Int,
                span,
            ));
        }
        let takes = if name == "days" {
            "a count of days or a duration"
        } else {
            "a duration"
        };
        let help = match checked.ty {
            Type::Days | Type::BusinessDays => {
                format!("a count of days is counted with `days(...)`, not `{name}(...)`")
            }
            Type::Months => "a month has no fixed length: count between the dates it gives, \
                 `days((date(paid_at) + 1 calendar month) - date(paid_at))`"
                .to_string(),
            Type::Timestamp => {
                format!("take the time between two instants: `{name}(now - paid_at)`")
            }
            Type::Date => {
                "count the days between two dates: `days(date(now) - date(paid_at))`".to_string()
            }
            _ => format!("write `{name}(now - paid_at)` or `days(date(expires_at) - date(now))`"),
        };
        Err(self.wrong_argument(name, takes, checked.ty, arg.span, Some(help)))
    }

    /// `` `NAME` takes TAKES, found A TYPE ``, at the argument, with how to fix it when known.
    fn wrong_argument(
        &mut self,
        name: &str,
        takes: &str,
        found: Type,
        at: Span,
        help: Option<String>,
    ) -> super::Reported {
        let found = self.describe(found);
        let found_a = with_article(&found);
        let mut d = Diagnostic::error(
            "policy::check::type_mismatch",
            format!("`{name}` takes {takes}, found {found_a}"),
            at,
        )
        .with_label(format!("this is {found_a}"));
        if let Some(help) = help {
            d = d.with_help(help);
        }
        self.report(d)
    }

    /// Types two operands that must agree: a bare enum value or a string on the left takes its enum
    /// from the right (`"EV-1Y" == plan`), and an integer literal beside money is money.
    fn pair(&mut self, a: &Expr, b: &Expr, facts: &Facts) -> Checked<(TExpr, TExpr)> {
        let a_is_bare = match &a.kind {
            ExprKind::Name(n) => !self.resolves(n),
            ExprKind::Str(_) => true,
            _ => false,
        };
        if a_is_bare {
            let tb = self.expr(b, None, facts)?;
            let ta = self.expr(a, Some(tb.ty), facts)?;
            return Ok((ta, tb));
        }
        let ta = self.expr(a, None, facts);
        let tb = self.expr(b, ta.as_ref().ok().map(|t| t.ty), facts);
        let (mut ta, tb) = (ta?, tb?);
        if tb.ty == Type::Money {
            if let TKind::Const(Value::Int(i)) = ta.kind {
                ta = TExpr::new(
                    TKind::Const(Value::Money(Decimal::from(i))),
                    Type::Money,
                    ta.span,
                );
            }
        }
        Ok((ta, tb))
    }

    fn same_type(&mut self, a: &TExpr, b: &TExpr, what: &str) -> Checked<Type> {
        if a.ty == b.ty {
            return Ok(a.ty);
        }
        let (ta, tb) = (self.describe(a.ty), self.describe(b.ty));
        let mut d = Diagnostic::error(
            "policy::check::type_mismatch",
            format!("{what} do not agree: {ta} and {tb}"),
            b.span,
        )
        .with_label(tb.clone())
        .with_related(a.span, ta.clone());
        if let Some(help) = unit_hint(a.ty, b.ty) {
            d = d.with_help(help);
        }
        Err(self.report(d))
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        a: &Expr,
        b: &Expr,
        span: Span,
        facts: &Facts,
    ) -> Checked<TExpr> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let ca = self.condition(a, facts);
                let inner = match &ca {
                    Ok(ca) => self.narrowed(facts.clone().with(
                        ca,
                        op == BinaryOp::And,
                        &self.definitions,
                    )),
                    Err(_) => facts.clone(),
                };
                let cb = self.condition(b, &inner);
                let (ca, cb) = (Box::new(ca?), Box::new(cb?));
                let kind = if op == BinaryOp::And {
                    TKind::And(ca, cb)
                } else {
                    TKind::Or(ca, cb)
                };
                Ok(TExpr::new(kind, Type::Bool, span))
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                let (ta, tb) = self.pair(a, b, facts)?;
                let ty =
                    self.same_type(&ta, &tb, &format!("the two sides of `{}`", op.symbol()))?;
                let cmp = match op {
                    BinaryOp::Eq => CmpOp::Eq,
                    BinaryOp::Ne => CmpOp::Ne,
                    BinaryOp::Lt => CmpOp::Lt,
                    BinaryOp::Le => CmpOp::Le,
                    BinaryOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                if ty == Type::BusinessDays {
                    return Err(self.report(
                        Diagnostic::error(
                            "policy::check::business_days_compared",
                            "business days are not compared as numbers",
                            span,
                        )
                        .with_help("add them to a date and compare dates: `date(now) <= date(paid_at) + 5 business days`"),
                    ));
                }
                if !matches!(cmp, CmpOp::Eq | CmpOp::Ne) && !ty.is_ordered() {
                    let found = self.describe(ty);
                    return Err(self.report(
                        Diagnostic::error(
                            "policy::check::unordered",
                            format!("`{}` does not apply to {found} values", op.symbol()),
                            span,
                        )
                        .with_help("only numbers, money, dates, timestamps, durations and calendar days are ordered; compare other values with `==`, `!=` or `in {...}`"),
                    ));
                }
                Ok(TExpr::new(
                    TKind::Cmp(cmp, Box::new(ta), Box::new(tb)),
                    Type::Bool,
                    span,
                ))
            }
            _ => self.arithmetic(op, a, b, span, facts),
        }
    }

    fn arithmetic(
        &mut self,
        op: BinaryOp,
        a: &Expr,
        b: &Expr,
        span: Span,
        facts: &Facts,
    ) -> Checked<TExpr> {
        // `price / 2`, `cash * 3`: a count stays a count; only `+` and `-` make a literal money.
        let (ta, tb) = if matches!(op, BinaryOp::Mul | BinaryOp::Div) {
            let ta = self.expr(a, None, facts);
            let tb = self.expr(b, None, facts);
            (ta?, tb?)
        } else {
            self.pair(a, b, facts)?
        };
        use Type as T;
        let (arith, ty, swap) = match (op, ta.ty, tb.ty) {
            (BinaryOp::Add, T::Timestamp, T::Duration) => (ArithOp::AddNanos, T::Timestamp, false),
            (BinaryOp::Add, T::Duration, T::Timestamp) => (ArithOp::AddNanos, T::Timestamp, true),
            (BinaryOp::Add, T::Duration, T::Duration) => (ArithOp::AddNanos, T::Duration, false),
            (BinaryOp::Sub, T::Timestamp, T::Duration) => (ArithOp::SubNanos, T::Timestamp, false),
            (BinaryOp::Sub, T::Timestamp, T::Timestamp) => (ArithOp::SubNanos, T::Duration, false),
            (BinaryOp::Sub, T::Duration, T::Duration) => (ArithOp::SubNanos, T::Duration, false),
            (BinaryOp::Add, T::Date, T::Days) => (ArithOp::DateAddDays, T::Date, false),
            (BinaryOp::Add, T::Days, T::Date) => (ArithOp::DateAddDays, T::Date, true),
            (BinaryOp::Sub, T::Date, T::Days) => (ArithOp::DateSubDays, T::Date, false),
            (BinaryOp::Sub, T::Date, T::Date) => (ArithOp::DateDiff, T::Days, false),
            (BinaryOp::Add, T::Days, T::Days) => (ArithOp::AddInt, T::Days, false),
            (BinaryOp::Sub, T::Days, T::Days) => (ArithOp::SubInt, T::Days, false),
            (BinaryOp::Add, T::Date, T::Months) => (ArithOp::DateAddMonths, T::Date, false),
            (BinaryOp::Add, T::Months, T::Date) => (ArithOp::DateAddMonths, T::Date, true),
            (BinaryOp::Sub, T::Date, T::Months) => (ArithOp::DateSubMonths, T::Date, false),
            (BinaryOp::Add, T::Timestamp, T::Months) => {
                (ArithOp::TimeAddMonths, T::Timestamp, false)
            }
            (BinaryOp::Add, T::Months, T::Timestamp) => {
                (ArithOp::TimeAddMonths, T::Timestamp, true)
            }
            (BinaryOp::Sub, T::Timestamp, T::Months) => {
                (ArithOp::TimeSubMonths, T::Timestamp, false)
            }
            (BinaryOp::Add, T::Months, T::Months) => (ArithOp::AddInt, T::Months, false),
            (BinaryOp::Sub, T::Months, T::Months) => (ArithOp::SubInt, T::Months, false),
            (BinaryOp::Add, T::Date, T::BusinessDays) => (ArithOp::DateAddBusiness, T::Date, false),
            (BinaryOp::Sub, T::Date, T::BusinessDays) => (ArithOp::DateSubBusiness, T::Date, false),
            (BinaryOp::Add, T::Int, T::Int) => (ArithOp::AddInt, T::Int, false),
            (BinaryOp::Sub, T::Int, T::Int) => (ArithOp::SubInt, T::Int, false),
            (BinaryOp::Mul, T::Int, T::Int) => (ArithOp::MulInt, T::Int, false),
            (BinaryOp::Add, T::Money, T::Money) => (ArithOp::AddMoney, T::Money, false),
            (BinaryOp::Sub, T::Money, T::Money) => (ArithOp::SubMoney, T::Money, false),
            (BinaryOp::Mul, T::Money, T::Int) => (ArithOp::MulMoneyInt, T::Money, false),
            (BinaryOp::Mul, T::Int, T::Money) => (ArithOp::MulMoneyInt, T::Money, true),
            (BinaryOp::Div, T::Money, T::Int) => (ArithOp::DivMoneyInt, T::Money, false),
            (_, left, right) => {
                let (l, r) = (self.describe(left), self.describe(right));
                let mut d = Diagnostic::error(
                    "policy::check::unit_mismatch",
                    format!("cannot apply `{}` to {l} and {r}", op.symbol()),
                    tb.span,
                )
                .with_label(r)
                .with_related(ta.span, l);
                if let Some(help) = arithmetic_hint(op, left, right) {
                    d = d.with_help(help);
                }
                return Err(self.report(d));
            }
        };
        let (first, second) = if swap { (tb, ta) } else { (ta, tb) };
        Ok(TExpr::new(
            TKind::Arith(arith, Box::new(first), Box::new(second)),
            ty,
            span,
        ))
    }

    fn as_date(&mut self, e: TExpr, unit: &str) -> Checked<TExpr> {
        match e.ty {
            Type::Date => Ok(e),
            Type::Timestamp => {
                let span = e.span;
                Ok(TExpr::new(TKind::DateOf(Box::new(e)), Type::Date, span))
            }
            other => {
                let found = self.describe(other);
                let found_a = with_article(&found);
                Err(self.report(Diagnostic::error(
                    "policy::check::type_mismatch",
                    format!(
                        "a window in {unit} measures between dates or timestamps, not {found_a}"
                    ),
                    e.span,
                )))
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of one `within ... after ...` window, as the parser gives them"
    )]
    fn window(
        &mut self,
        subject: &Expr,
        relation: WindowRelation,
        count: i64,
        unit: Unit,
        direction: WindowDirection,
        anchor: &Expr,
        span: Span,
        facts: &Facts,
    ) -> Checked<TExpr> {
        let subject = self.expr(subject, None, facts);
        let anchor = self.expr(anchor, None, facts);
        let (subject, anchor) = (subject?, anchor?);
        let node = |kind, ty| TExpr::new(kind, ty, span);
        let cmp =
            |op, a: TExpr, b: TExpr| node(TKind::Cmp(op, Box::new(a), Box::new(b)), Type::Bool);
        let (later, earlier) = match direction {
            WindowDirection::After => (subject.clone(), anchor.clone()),
            WindowDirection::Before => (anchor.clone(), subject.clone()),
        };
        match unit {
            Unit::Exact(seconds) => {
                for side in [&subject, &anchor] {
                    if side.ty != Type::Timestamp {
                        let found = self.describe(side.ty);
                        let found_a = with_article(&found);
                        return Err(self.report(
                            Diagnostic::error(
                                "policy::check::unit_mismatch",
                                format!(
                                    "an exact window measures between timestamps, not {found_a}"
                                ),
                                side.span,
                            )
                            .with_help("for dates, count `calendar days` or `business days`"),
                        ));
                    }
                }
                let length = node(
                    TKind::Const(Value::Duration(self.duration(count, seconds, span)?)),
                    Type::Duration,
                );
                let elapsed = node(
                    TKind::Arith(ArithOp::SubNanos, Box::new(later), Box::new(earlier)),
                    Type::Duration,
                );
                Ok(match relation {
                    WindowRelation::Within => cmp(CmpOp::Lt, elapsed, length),
                    WindowRelation::MoreThan | WindowRelation::AtLeast => {
                        cmp(CmpOp::Ge, elapsed, length)
                    }
                })
            }
            Unit::CalendarDays => {
                let later = self.as_date(later, "calendar days")?;
                let earlier = self.as_date(earlier, "calendar days")?;
                let length = node(TKind::Const(Value::Days(count)), Type::Days);
                let elapsed = node(
                    TKind::Arith(ArithOp::DateDiff, Box::new(later), Box::new(earlier)),
                    Type::Days,
                );
                Ok(match relation {
                    WindowRelation::Within => cmp(CmpOp::Le, elapsed, length),
                    WindowRelation::MoreThan => cmp(CmpOp::Gt, elapsed, length),
                    WindowRelation::AtLeast => cmp(CmpOp::Ge, elapsed, length),
                })
            }
            // The anchor's date moved by the count, and the subject's date compared with it.
            Unit::BusinessDays | Unit::CalendarMonths(_) => {
                let (length, unit_name, forward, back) = match unit {
                    Unit::CalendarMonths(per) => (
                        node(
                            TKind::Const(Value::Months(self.months(count, per, span)?)),
                            Type::Months,
                        ),
                        "calendar months",
                        ArithOp::DateAddMonths,
                        ArithOp::DateSubMonths,
                    ),
                    _ => {
                        self.need_calendar(span);
                        (
                            node(TKind::Const(Value::BusinessDays(count)), Type::BusinessDays),
                            "business days",
                            ArithOp::DateAddBusiness,
                            ArithOp::DateSubBusiness,
                        )
                    }
                };
                let subject = self.as_date(subject, unit_name)?;
                let anchor = self.as_date(anchor, unit_name)?;
                let (shift, inside, outside, reached) = match direction {
                    WindowDirection::After => (forward, CmpOp::Le, CmpOp::Gt, CmpOp::Ge),
                    WindowDirection::Before => (back, CmpOp::Ge, CmpOp::Lt, CmpOp::Le),
                };
                let edge = node(
                    TKind::Arith(shift, Box::new(anchor), Box::new(length)),
                    Type::Date,
                );
                Ok(match relation {
                    WindowRelation::Within => cmp(inside, subject, edge),
                    WindowRelation::MoreThan => cmp(outside, subject, edge),
                    WindowRelation::AtLeast => cmp(reached, subject, edge),
                })
            }
        }
    }
}

/// How to write a constant of type `ty` (named `name`), for a default that is not one.
pub(crate) fn literal_example(ty: Type, name: &str) -> String {
    match ty {
        Type::Bool => "write `true` or `false`".into(),
        Type::Int => "write a whole number, e.g. `0`".into(),
        Type::Money => "write an amount, e.g. `0` or `80.00`".into(),
        Type::Str => "write a quoted string, e.g. `\"USD\"`".into(),
        Type::Timestamp => {
            "write a timestamp with its offset, e.g. `2026-01-01T00:00:00+08:00`".into()
        }
        Type::Date => "write a date, e.g. `2026-01-01`".into(),
        Type::Enum(_) => format!("write one of the values of `{name}`"),
        Type::Duration | Type::Days | Type::BusinessDays | Type::Months => {
            format!("write a {name} literal, e.g. `5 calendar days` or `168 hours`")
        }
    }
}

fn unit_hint(a: Type, b: Type) -> Option<&'static str> {
    use Type as T;
    Some(match (a, b) {
        (T::Timestamp, T::Date) | (T::Date, T::Timestamp) => {
            "a timestamp is not a date: compare `date(TIMESTAMP)` with the date, or a timestamp with `start_of_day(DATE)`"
        }
        (T::Days, T::Int) | (T::Int, T::Days) => "write the count with its unit: `5 calendar days`",
        (T::Duration, T::Int) | (T::Int, T::Duration) => "write the duration with its unit: `168 hours` or `7 days`",
        (T::Days, T::Duration) | (T::Duration, T::Days) => {
            "calendar days count dates and an exact duration counts hours: measure both sides the same way"
        }
        (T::Money, T::Int) | (T::Int, T::Money) => "money is not an integer: compare money with money",
        (T::BusinessDays, _) | (_, T::BusinessDays) => {
            "business days only shift dates: `date(x) + 5 business days`"
        }
        (T::Months, T::Int) | (T::Int, T::Months) => "write the count with its unit: `3 calendar months`",
        (T::Months, _) | (_, T::Months) => {
            "a month has no fixed length: move the date or the instant instead, e.g. `date(now) <= date(paid_at) + 1 calendar month` or `now < paid_at + 1 calendar month`"
        }
        _ => return None,
    })
}

fn arithmetic_hint(op: BinaryOp, a: Type, b: Type) -> Option<&'static str> {
    use Type as T;
    Some(match (op, a, b) {
        (BinaryOp::Add | BinaryOp::Sub, T::Timestamp, T::Int) => {
            "add a duration with its unit: `paid_at + 168 hours` or `paid_at + 7 days`"
        }
        (BinaryOp::Add | BinaryOp::Sub, T::Date, T::Int) => {
            "add days with their unit: `5 calendar days` or `5 business days`"
        }
        (BinaryOp::Add | BinaryOp::Sub, T::Date, T::Duration) => {
            "an exact duration does not apply to a date: use `N calendar days`, or add it to a timestamp"
        }
        (BinaryOp::Add | BinaryOp::Sub, T::Timestamp, T::Days | T::BusinessDays) => {
            "calendar and business days shift dates: use `date(x) + N calendar days`, or an exact `N days`"
        }
        (BinaryOp::Add | BinaryOp::Sub, T::Money, T::Int) | (BinaryOp::Add | BinaryOp::Sub, T::Int, T::Money) => {
            "money is not an integer: add money to money"
        }
        (BinaryOp::Mul, T::Months, T::Int) | (BinaryOp::Mul, T::Int, T::Months) => {
            "months are not multiplied: write the count with its unit, `12 calendar months`"
        }
        (BinaryOp::Add | BinaryOp::Sub, T::Months, _) | (BinaryOp::Add | BinaryOp::Sub, _, T::Months) => {
            "a month has no fixed length: calendar months are added to a date or a timestamp, e.g. `date(paid_at) + 1 calendar month`"
        }
        (BinaryOp::Div, T::Int, T::Int) => "whole numbers are not divided; divide money by a whole number instead",
        (BinaryOp::Div, T::Money, T::Money) | (BinaryOp::Mul, T::Money, T::Money) => {
            "money is multiplied or divided by a whole number, e.g. `cash * used / total`"
        }
        _ => return None,
    })
}

/// Whether `text` can be written as a name: a letter or `_`, then letters, digits and `_`, and no
/// keyword.
fn is_plain_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !policy_syntax::is_keyword(text)
}

/// `text` as a string literal of the language, its quotes and backslashes escaped.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
