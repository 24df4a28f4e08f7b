//! Orders from values already typed: a host that holds orders as columns (Arrow, Parquet, a
//! database row) gives each field's value as it has it, with no JSON text in between.
//!
//! Every value is checked as the JSON intake checks it, and a wrong one gives the same problem: a
//! negative amount or count, a date outside years 0001 to 9999, a status the policy does not list.
//! Text is read as the JSON intake reads a JSON string (a timestamp needs its offset, money is
//! `-?digits(.digits)?`), and [`FieldValue::Number`] as it reads a JSON number, so a host may give
//! any field as text.
//!
//! ```
//! use policy::eval::FieldValue;
//! use policy::{Instant, Order, Policy};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))?;
//! let policy = Policy::load("policies/alibaba-ssl-refund-legacy.policy".as_ref())?;
//! let paid = Instant::parse("2026-02-10T10:00:00+08:00")?;
//! let mut order = Order::default();
//! policy.read_order_values(&mut order, |_, name| match name {
//!     "id" => FieldValue::Str("o-1"),
//!     "paid_at" => FieldValue::Timestamp(paid),
//!     "price" => FieldValue::Number("199.00"),
//!     "status" => FieldValue::Str("verifying"),
//!     _ => FieldValue::Null,
//! });
//! let decision = policy.decide("refund", &order, Instant::parse("2026-02-16T09:00:00+08:00")?)?;
//! assert_eq!(decision.review_by.map(|d| d.to_string()), Some("2026-03-13".into()));
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::{Decision, Filled, Order, OrderError, Policy};
use crate::time::Instant;
use crate::value::{parse_field, FieldInput, Type, Value};
use crate::versions::Versions;

/// One field's value as a host holds it, for [`Policy::read_order_values`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// Absent or null: the field's default applies, if it has one.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number: for `int` fields, and for `money` (an amount with no fraction).
    Int(i64),
    /// An exact amount, for `money` fields.
    Money(Decimal),
    /// A number as written (`"80.00"`, `"1.5e2"`), read as the JSON intake reads a JSON number.
    Number(&'a str),
    /// Text, read as the JSON intake reads a JSON string: for `string` and enum fields, and
    /// timestamps (RFC 3339 with an offset), dates (`YYYY-MM-DD`) and money (`"80.00"`) as text.
    Str(&'a str),
    /// An instant, for `timestamp` fields.
    Timestamp(Instant),
    /// A date, for `date` fields (years 0001 to 9999).
    Date(NaiveDate),
}

impl Policy {
    /// Reads an order from typed values into `order` (reusing its storage): `value(slot, name)` gives
    /// the value of each field the policy declares, by its position in [`Policy::fields`] and its
    /// name. Like [`Policy::read_order_into`], a malformed value is kept as a problem and reported,
    /// with everything else wrong, when the order is decided.
    pub fn read_order_values<'a>(
        &self,
        order: &mut Order,
        mut value: impl FnMut(usize, &str) -> FieldValue<'a>,
    ) {
        let fields = &self.program.policy.fields;
        self.fill_values(order, |slot, cell| {
            let field = &fields[slot];
            typed_value(field.ty, value(slot, &field.name), self, cell)
        });
    }
}

impl Versions {
    /// Decides an order given as typed values with the version in force for it, reading into
    /// `order`'s storage. `value(version, slot, name)` gives the value of each field of a version
    /// (`version` is its index in [`Versions::all`]; versions may declare different fields): it is
    /// called for the latest version, then, if an earlier one is in force for the order, for that one.
    pub fn decide_values_into<'a>(
        &self,
        action: &str,
        order: &mut Order,
        default_now: Instant,
        mut value: impl FnMut(usize, usize, &str) -> FieldValue<'a>,
    ) -> Result<Decision<'_>, OrderError> {
        self.decide_read_into(action, order, default_now, |policy, version, order| {
            policy.read_order_values(order, |slot, name| value(version, slot, name));
            Ok(())
        })
    }
}

/// `value` read as a field of type `ty` into its slot's `cell`. Inlined into the loop over an
/// order's fields: a value of the field's own type is taken here, each kind stored where it is read;
/// anything else (text to parse, a wrong value, a wrong type) by [`typed_value_slow`].
#[inline(always)]
fn typed_value(
    ty: Type,
    value: FieldValue<'_>,
    policy: &Policy,
    cell: &mut Option<Value>,
) -> Filled {
    // One jump on the value's kind (just set by the host's reader, inlined here), then a test of
    // the field's type.
    let slow = match value {
        FieldValue::Null => return Filled::Absent,
        FieldValue::Timestamp(instant) if matches!(ty, Type::Timestamp) => {
            *cell = Some(Value::Timestamp(instant));
            return Filled::Read;
        }
        FieldValue::Money(amount) if matches!(ty, Type::Money) && !amount.is_sign_negative() => {
            *cell = Some(Value::Money(amount));
            return Filled::Read;
        }
        FieldValue::Str(text) => match ty {
            Type::Str => {
                *cell = Some(Value::Str(Arc::from(text)));
                return Filled::Read;
            }
            Type::Enum(_) => match policy.variants(ty).iter().position(|v| v == text) {
                Some(i) => {
                    *cell = Some(Value::Enum(i as u16));
                    return Filled::Read;
                }
                None => typed_value_slow(ty, value, policy.variants(ty)),
            },
            _ => typed_value_slow(ty, value, policy.variants(ty)),
        },
        FieldValue::Bool(b) if matches!(ty, Type::Bool) => {
            *cell = Some(Value::Bool(b));
            return Filled::Read;
        }
        FieldValue::Int(n) if matches!(ty, Type::Int) && n >= 0 => {
            *cell = Some(Value::Int(n));
            return Filled::Read;
        }
        _ => typed_value_slow(ty, value, policy.variants(ty)),
    };
    match slow {
        Ok(read) => {
            *cell = Some(read);
            Filled::Read
        }
        Err(message) => Filled::Malformed(message),
    }
}

/// [`typed_value`] of a value not null, whatever its type.
#[cold]
#[inline(never)]
fn typed_value_slow(ty: Type, value: FieldValue<'_>, variants: &[String]) -> Result<Value, String> {
    match (ty, value) {
        (_, FieldValue::Null) => Err("internal error: a null read as a value".into()),
        (Type::Bool, FieldValue::Bool(b)) => Ok(Value::Bool(b)),
        (Type::Int, FieldValue::Int(n)) if n >= 0 => Ok(Value::Int(n)),
        (Type::Money, FieldValue::Int(n)) if n >= 0 => Ok(Value::Money(Decimal::from(n))),
        (Type::Money, FieldValue::Money(amount)) => {
            if amount.is_sign_negative() && !amount.is_zero() {
                Err(format!("money `{amount}` is negative"))
            } else {
                Ok(Value::Money(amount))
            }
        }
        (Type::Str, FieldValue::Str(text)) => Ok(Value::Str(Arc::from(text))),
        (Type::Timestamp, FieldValue::Timestamp(instant)) => Ok(Value::Timestamp(instant)),
        (Type::Date, FieldValue::Date(date)) => {
            if (1..=9999).contains(&date.year()) {
                Ok(Value::Date(crate::zone::date_to_day_number(date) as i32))
            } else {
                Err(format!("date {date} is outside years 0001 to 9999"))
            }
        }
        // Everything else as the JSON intake reads it, with its messages.
        (ty, FieldValue::Bool(b)) => parse_field(ty, &FieldInput::Bool(b), variants),
        (ty, FieldValue::Int(n)) => {
            parse_field(ty, &FieldInput::Number(Cow::Owned(n.to_string())), variants)
        }
        (ty, FieldValue::Money(amount)) => parse_field(
            ty,
            &FieldInput::Number(Cow::Owned(amount.to_string())),
            variants,
        ),
        (ty, FieldValue::Number(text)) => {
            parse_field(ty, &FieldInput::Number(Cow::Borrowed(text)), variants)
        }
        (ty, FieldValue::Str(text)) => {
            parse_field(ty, &FieldInput::String(Cow::Borrowed(text)), variants)
        }
        (ty, FieldValue::Timestamp(_)) => Err(mismatch(ty, "a timestamp")),
        (ty, FieldValue::Date(_)) => Err(mismatch(ty, "a date")),
    }
}

fn mismatch(ty: Type, found: &str) -> String {
    let expected = match ty {
        Type::Bool => "a boolean (true or false)",
        Type::Int => "a whole number",
        Type::Money => "money",
        Type::Str | Type::Enum(_) => "a string",
        Type::Timestamp => "a timestamp",
        Type::Date => "a date",
        _ => "a value of another type",
    };
    format!("expected {expected}, found {found}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Calendars;

    const SOURCE: &str = r#"
policy typed
  document "terms.txt"
  zone "Europe/Berlin"
enum Status { open, closed }
field id: string?
field paid_at: timestamp
field price: money
field count: int = 0
field status: Status
field on: date?
field free: bool = false
action refund {
  rule free when free then allowed amount = price because "free" cite "1"
  rule open when status == open and now within 14 calendar days after paid_at then allowed
    amount = price because "open" cite "2"
  rule late then denied because "late" cite "3"
}
"#;

    fn policy() -> Policy {
        match Policy::from_source("typed", SOURCE, &Calendars::new()) {
            Ok(policy) => policy,
            Err(error) => panic!("{error}"),
        }
    }

    fn at(text: &str) -> Instant {
        match Instant::parse(text) {
            Ok(instant) => instant,
            Err(error) => panic!("{error}"),
        }
    }

    /// The typed order and the JSON order give the same decision, field for field.
    #[test]
    fn typed_values_decide_as_json_does() {
        let policy = policy();
        let now = at("2026-01-05T12:00:00+01:00");
        let paid = at("2026-01-02T12:00:00+01:00");
        let mut order = Order::default();
        policy.read_order_values(&mut order, |_, name| match name {
            "id" => FieldValue::Str("o-1"),
            "paid_at" => FieldValue::Timestamp(paid),
            "price" => FieldValue::Money(Decimal::new(1999, 2)),
            "status" => FieldValue::Str("open"),
            "on" => FieldValue::Date(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap_or_default()),
            "count" => FieldValue::Int(3),
            _ => FieldValue::Null,
        });
        let typed = policy.decide("refund", &order, now).map(|d| d.to_json());
        let json = policy
            .decide_json(
                "refund",
                r#"{"id":"o-1","paid_at":"2026-01-02T12:00:00+01:00","price":"19.99","status":"open","on":"2026-01-02","count":3}"#,
                now,
            )
            .map(|d| d.to_json());
        assert_eq!(typed, json);
        assert!(matches!(&typed, Ok(text) if text.contains(r#""amount":"19.99""#)));
    }

    /// Wrong values are the JSON intake's problems, every one reported, each naming its field.
    #[test]
    fn wrong_values_are_input_problems() {
        let policy = policy();
        let mut order = Order::default();
        policy.read_order_values(&mut order, |_, name| match name {
            "id" => FieldValue::Str("o-2"),
            "paid_at" => FieldValue::Str("2026-01-02T12:00:00"),
            "price" => FieldValue::Money(Decimal::new(-5, 0)),
            "count" => FieldValue::Int(-1),
            "status" => FieldValue::Str("shut"),
            "on" => FieldValue::Timestamp(Instant::from_unix(0, 0).unwrap_or_else(|| panic!())),
            "free" => FieldValue::Int(1),
            _ => FieldValue::Null,
        });
        let Err(OrderError::Input { order, problems }) =
            policy.decide("refund", &order, at("2026-01-05T12:00:00+01:00"))
        else {
            panic!("expected input problems");
        };
        assert_eq!(order.as_deref(), Some("o-2"));
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["paid_at", "price", "count", "status", "on", "free"]
        );
        assert!(
            problems[1].message.contains("negative"),
            "{}",
            problems[1].message
        );
        assert!(
            problems[2].message.contains("negative"),
            "{}",
            problems[2].message
        );
        assert!(
            problems[3].message.contains("open, closed"),
            "{}",
            problems[3].message
        );
        assert_eq!(problems[4].message, "expected a date, found a timestamp");
        // The same messages as JSON for a timestamp without offset.
        let json = policy.read_order_str(r#"{"paid_at":"2026-01-02T12:00:00"}"#);
        let Ok(json) = json else { panic!() };
        assert_eq!(json.problems[0].message, problems[0].message);
    }

    /// Absent values take their defaults; a missing required field is the decision's error.
    #[test]
    fn nulls_take_defaults() {
        let policy = policy();
        let mut order = Order::default();
        policy.read_order_values(&mut order, |_, _| FieldValue::Null);
        let error = policy.decide("refund", &order, at("2026-01-05T12:00:00+01:00"));
        let Err(error) = error else { panic!() };
        assert!(error.to_string().contains("paid_at"), "{error}");
    }

    /// Versions read each order with the version in force for it.
    #[test]
    fn versions_read_with_the_version_in_force() {
        let version = |from: &str, days: u32| {
            let text = format!(
                r#"
policy refund
  document "terms.txt"
  zone "Europe/Berlin"
  effective from {from} by paid_at
field paid_at: timestamp
action refund {{
  rule in_time when now within {days} calendar days after paid_at then allowed
    because "in time" cite "{days} days"
  rule late then denied because "late" cite "{days} days"
}}"#
            );
            Policy::from_source("refund", &text, &Calendars::new())
        };
        let (Ok(old), Ok(new)) = (version("2025-01-01", 14), version("2026-01-01", 30)) else {
            panic!()
        };
        let Ok(versions) = Versions::new(vec![old, new]) else {
            panic!()
        };
        let now = at("2026-01-20T12:00:00+01:00");
        let mut seen = Vec::new();
        let mut order = Order::default();
        let decided = versions.decide_values_into("refund", &mut order, now, |version, _, name| {
            if !seen.contains(&version) {
                seen.push(version);
            }
            match name {
                "paid_at" => FieldValue::Timestamp(at("2025-12-30T12:00:00+01:00")),
                _ => FieldValue::Null,
            }
        });
        let decided = decided.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (decided.version, decided.rule),
            (Some("2025-01-01"), "late")
        );
        assert_eq!(seen, [1, 0]);
    }
}
