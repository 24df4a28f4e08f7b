//! Types and runtime values of the language, and how an order's JSON field becomes a value.
//!
//! Timestamps are nanoseconds since the Unix epoch (UTC) and durations are nanoseconds, so window
//! arithmetic is integer arithmetic; dates are `NaiveDate`s in the policy's zone; money is an exact
//! `Decimal`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// Index of an enum in the policy's enum table.
pub type EnumId = u16;

/// The enum table always starts with the contract's own enums.
pub const REFUND_TO_ENUM: EnumId = 0;
pub const REVIEW_ENUM: EnumId = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Bool,
    /// A whole number (`grcq_total`).
    Int,
    /// An exact decimal amount.
    Money,
    Str,
    Enum(EnumId),
    /// An instant, with an offset on input.
    Timestamp,
    /// A date in the policy's zone.
    Date,
    /// An exact duration (`168 hours`, `7 days`).
    Duration,
    /// A count of calendar days (`5 calendar days`, `date(a) - date(b)`).
    Days,
    /// A count of business days (`15 business days`); only ever added to or taken from a date.
    BusinessDays,
}

impl Type {
    /// The name a policy author writes or reads in a diagnostic.
    pub fn describe(self, enum_names: &[String]) -> String {
        match self {
            Type::Bool => "bool".into(),
            Type::Int => "int".into(),
            Type::Money => "money".into(),
            Type::Str => "string".into(),
            Type::Enum(id) => enum_names
                .get(id as usize)
                .cloned()
                .unwrap_or_else(|| "enum".into()),
            Type::Timestamp => "timestamp".into(),
            Type::Date => "date".into(),
            Type::Duration => "duration".into(),
            Type::Days => "calendar days".into(),
            Type::BusinessDays => "business days".into(),
        }
    }

    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            Type::Int | Type::Money | Type::Timestamp | Type::Date | Type::Duration | Type::Days
        )
    }

    /// The types a field may be declared with, by name.
    pub fn from_field_type_name(name: &str) -> Option<Type> {
        Some(match name {
            "bool" => Type::Bool,
            "int" => Type::Int,
            "money" => Type::Money,
            "string" => Type::Str,
            "timestamp" => Type::Timestamp,
            "date" => Type::Date,
            _ => return None,
        })
    }

    pub const FIELD_TYPE_NAMES: [&'static str; 6] =
        ["bool", "int", "money", "string", "timestamp", "date"];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Money(Decimal),
    Str(Arc<str>),
    Enum(u16),
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    Timestamp(i64),
    Date(NaiveDate),
    /// Nanoseconds.
    Duration(i64),
    Days(i64),
    BusinessDays(i64),
}

// Values are copied around the interpreter's hot loop: keep them small.
const _: () = assert!(std::mem::size_of::<Value>() <= 24);

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// A field value that is not what the policy declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.contains(", ") {
            let fields: Vec<String> = self.field.split(", ").map(|f| format!("`{f}`")).collect();
            write!(f, "fields {}: {}", fields.join(", "), self.message)
        } else {
            write!(f, "field `{}`: {}", self.field, self.message)
        }
    }
}

/// Reads an RFC 3339 timestamp that carries an offset. A timestamp without one is an error, never read
/// as UTC or local time.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.timestamp_nanos_opt().ok_or_else(|| {
            format!("timestamp `{text}` is out of the supported range (1678 to 2261)")
        }),
        Err(_) => {
            let looks_local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .is_ok()
                || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").is_ok();
            if looks_local {
                Err(format!(
                    "timestamp `{text}` has no offset; write it in RFC 3339 with one, e.g. `{text}+08:00` or `{text}Z`"
                ))
            } else {
                Err(format!(
                    "`{text}` is not an RFC 3339 timestamp with an offset (e.g. `2024-12-01T12:00:00+08:00`)"
                ))
            }
        }
    }
}

/// Writes a timestamp with the offset of `zone` at that instant.
pub fn format_timestamp(nanos: i64, zone: Tz) -> String {
    Utc.timestamp_nanos(nanos)
        .with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The date of an instant in `zone`.
pub fn date_in_zone(nanos: i64, zone: Tz) -> NaiveDate {
    Utc.timestamp_nanos(nanos).with_timezone(&zone).date_naive()
}

/// The first instant of `date` in `zone` (midnight, or the first instant after a gap at midnight).
pub fn start_of_day(date: NaiveDate, zone: Tz) -> Option<i64> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    if let Some(t) = zone.from_local_datetime(&midnight).earliest() {
        return t.timestamp_nanos_opt();
    }
    // Midnight falls in a gap (a zone that skips it): the day starts when the gap ends.
    (1..=24 * 4).find_map(|quarter| {
        let local = midnight + chrono::TimeDelta::minutes(15 * quarter);
        zone.from_local_datetime(&local)
            .earliest()
            .and_then(|t| t.timestamp_nanos_opt())
    })
}

/// Reads money from a JSON string (`"80.00"`) or number (`80.0`, read from its text). Negative amounts
/// are refused.
pub fn parse_money(value: &serde_json::Value) -> Result<Decimal, String> {
    let amount = match value {
        serde_json::Value::String(text) => {
            if !is_plain_decimal(text) {
                return Err(format!(
                    "money `{text}` is not a decimal number like `80.00`"
                ));
            }
            Decimal::from_str(text).map_err(|_| format!("money `{text}` is out of range"))?
        }
        serde_json::Value::Number(number) => {
            let text = number.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(|_| format!("money {text} is out of range"))?
        }
        other => {
            return Err(format!(
                "expected money as a string like \"80.00\", found {}",
                json_kind(other)
            ))
        }
    };
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!("money `{amount}` is negative"));
    }
    Ok(amount)
}

fn is_plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

pub fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Reads one order field as the policy declares it. `variants` are the enum's values for enum fields.
pub fn parse_field(
    ty: Type,
    value: &serde_json::Value,
    variants: &[String],
) -> Result<Value, String> {
    use serde_json::Value as J;
    match (ty, value) {
        (Type::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Int, J::Number(n)) => match n.as_i64() {
            Some(i) if i >= 0 && !n.to_string().contains(['.', 'e', 'E']) => Ok(Value::Int(i)),
            Some(i) if i < 0 => Err(format!(
                "{n} is negative; expected a whole number of zero or more"
            )),
            _ => Err(format!(
                "{n} is not a whole number; expected a JSON integer like 300"
            )),
        },
        (Type::Money, v) => parse_money(v).map(Value::Money),
        (Type::Str, J::String(s)) => Ok(Value::Str(Arc::from(s.as_str()))),
        (Type::Timestamp, J::String(s)) => parse_timestamp(s).map(Value::Timestamp),
        (Type::Date, J::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Value::Date)
            .map_err(|_| format!("`{s}` is not a date like `2026-10-09`")),
        (Type::Enum(_), J::String(s)) => variants
            .iter()
            .position(|v| v == s)
            .map(|i| Value::Enum(i as u16))
            .ok_or_else(|| {
                format!(
                    "`{s}` is not one of the values this policy lists: {}",
                    variants.join(", ")
                )
            }),
        (ty, v) => Err(format!(
            "expected {}, found {}",
            match ty {
                Type::Bool => "a boolean (true or false)",
                Type::Int => "a whole number",
                Type::Str | Type::Enum(_) => "a string",
                Type::Timestamp => "a timestamp string",
                Type::Date => "a date string",
                _ => "a value of another type",
            },
            json_kind(v)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_need_an_offset() {
        assert!(parse_timestamp("2024-12-01T12:00:00+08:00").is_ok());
        assert!(parse_timestamp("2024-12-01T04:00:00Z").is_ok());
        let err = parse_timestamp("2024-12-01T12:00:00").unwrap_err();
        assert!(err.contains("no offset"), "{err}");
        assert_eq!(
            parse_timestamp("2024-12-01T12:00:00+08:00"),
            parse_timestamp("2024-12-01T04:00:00Z")
        );
    }

    #[test]
    fn money_is_exact_and_never_negative() {
        assert_eq!(parse_money(&json!("80.00")).unwrap(), Decimal::new(8000, 2));
        assert_eq!(parse_money(&json!(80.1)).unwrap(), Decimal::new(801, 1));
        assert_eq!(parse_money(&json!(0.1)).unwrap().to_string(), "0.1");
        assert_eq!(parse_money(&json!(1e2)).unwrap(), Decimal::new(100, 0));
        assert_eq!(parse_money(&json!("1.005")).unwrap(), Decimal::new(1005, 3));
        assert!(parse_money(&json!("-1")).unwrap_err().contains("negative"));
        assert!(parse_money(&json!("1e2")).is_err());
        assert!(parse_money(&json!("abc")).is_err());
        assert!(parse_money(&json!(".5")).is_err());
        assert!(parse_money(&json!(true)).is_err());
    }

    #[test]
    fn integers_are_json_integers() {
        assert_eq!(
            parse_field(Type::Int, &json!(300), &[]),
            Ok(Value::Int(300))
        );
        assert!(parse_field(Type::Int, &json!(300.0), &[]).is_err());
        assert!(parse_field(Type::Int, &json!("300"), &[]).is_err());
        assert!(parse_field(Type::Int, &json!(-1), &[]).is_err());
    }

    #[test]
    fn enums_list_their_values_on_error() {
        let variants = vec!["issued".to_string(), "revoked".to_string()];
        assert_eq!(
            parse_field(Type::Enum(2), &json!("revoked"), &variants),
            Ok(Value::Enum(1))
        );
        let err = parse_field(Type::Enum(2), &json!("revokd"), &variants).unwrap_err();
        assert!(err.contains("issued, revoked"), "{err}");
    }

    #[test]
    fn dates_and_days_in_the_policy_zone() {
        let zone: Tz = "Asia/Shanghai".parse().unwrap();
        let t = parse_timestamp("2024-12-01T20:00:00-05:00").unwrap();
        assert_eq!(
            date_in_zone(t, zone),
            NaiveDate::from_ymd_opt(2024, 12, 2).unwrap()
        );
        let sod = start_of_day(NaiveDate::from_ymd_opt(2024, 12, 2).unwrap(), zone).unwrap();
        assert_eq!(format_timestamp(sod, zone), "2024-12-02T00:00:00+08:00");
    }
}
