//! Types and runtime values of the language, and how an order's JSON field becomes a value.
//!
//! Timestamps are `Instant`s (UTC, nanoseconds, years 0001 to 9999) and durations are nanoseconds, so
//! window arithmetic is integer arithmetic; dates are day numbers (days since 1970-01-01) in the policy's zone; money is an exact
//! `Decimal`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;

use crate::time::Instant;

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
    /// A count of calendar months (`1 calendar month`, `2 calendar years` = 24); only ever added to
    /// or taken from a date or a timestamp, since a month has no fixed length.
    Months,
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
            Type::Months => "calendar months".into(),
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
    /// An instant in years 0001 to 9999.
    Timestamp(Instant),
    /// Days since 1970-01-01.
    Date(i32),
    /// Nanoseconds.
    Duration(i64),
    Days(i64),
    BusinessDays(i64),
    Months(i64),
}

// Values are copied around the interpreter's hot loop: keep them small.
const _: () = assert!(std::mem::size_of::<Value>() <= 24);

pub use crate::time::NANOS_PER_SECOND;

/// The `field` of a problem with the order as a whole (not JSON, not an object).
pub const WHOLE_ORDER: &str = "(order)";

/// A field value that is not what the policy declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field's name, or `(order)` for the order as a whole.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field == WHOLE_ORDER {
            f.write_str(&self.message)
        } else if self.field.contains(", ") {
            let fields: Vec<String> = self.field.split(", ").map(|f| format!("`{f}`")).collect();
            write!(f, "fields {}: {}", fields.join(", "), self.message)
        } else {
            write!(f, "field `{}`: {}", self.field, self.message)
        }
    }
}

/// A timestamp that could not be read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimestampError(pub String);

/// Reads an RFC 3339 timestamp that carries an offset. A timestamp without one is an error, never read
/// as UTC or local time; so is one with digits finer than a nanosecond (never rounded away) and one
/// outside years 0001 to 9999.
pub fn parse_timestamp(text: &str) -> Result<Instant, String> {
    if let Some(instant) = canonical_rfc3339(text) {
        return Ok(instant);
    }
    match DateTime::parse_from_rfc3339(text) {
        Ok(_) if fraction_digits(text) > 9 => Err(format!(
            "timestamp `{text}` is finer than a nanosecond; write at most 9 digits after the seconds"
        )),
        Ok(t) => Instant::try_from(t).map_err(|_| {
            format!(
                "timestamp `{text}` is out of the supported range (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z)"
            )
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

/// The number of digits after the seconds' decimal point (0 when there is none).
fn fraction_digits(text: &str) -> usize {
    text.get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .map_or(0, |rest| {
            rest.bytes().take_while(u8::is_ascii_digit).count()
        })
}

/// The common shape `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` for years 1900 to 2199, read without
/// chrono's general parser. Anything else (or anything out of range) is left to chrono, so the
/// answers and the error messages stay chrono's.
fn canonical_rfc3339(text: &str) -> Option<Instant> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        b.get(range)?.iter().try_fold(0i64, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1900..2200).contains(&year)
        || !(1..=12).contains(&month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day < 1 || day > month_days[(month - 1) as usize] {
        return None;
    }
    let mut at = 19;
    let mut fraction = 0i64;
    if b[at] == b'.' {
        let start = at + 1;
        at = start;
        while at < b.len() && b[at].is_ascii_digit() {
            at += 1;
        }
        let count = at - start;
        if count == 0 || count > 9 {
            return None;
        }
        fraction = digits(start..at)? * 10i64.pow((9 - count) as u32);
    }
    let offset = match &b[at..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = digits(at + 1..at + 3)?;
            let minutes = digits(at + 4..at + 6)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm), then seconds since the epoch.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Instant::from_unix(seconds, u32::try_from(fraction).ok()?)
}

/// An order field's JSON value as the intake sees it: the text of numbers kept, strings borrowed from
/// the input where they hold no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldInput<'a> {
    Null,
    Bool(bool),
    /// A JSON number, as written.
    Number(Cow<'a, str>),
    String(Cow<'a, str>),
    /// A JSON string that escapes a lone surrogate (`"\ud800"`): no Unicode text.
    NotUnicode,
    Array,
    Object,
}

impl<'a> FieldInput<'a> {
    /// Classifies the raw text of one JSON value (as `serde_json::value::RawValue` gives it).
    pub fn from_raw(raw: &'a str) -> FieldInput<'a> {
        let raw = raw.trim();
        match raw.as_bytes().first() {
            Some(b'"') if !raw.contains('\\') => {
                FieldInput::String(Cow::Borrowed(&raw[1..raw.len() - 1]))
            }
            Some(b'"') => match serde_json::from_str::<String>(raw) {
                Ok(s) => FieldInput::String(Cow::Owned(s)),
                Err(_) => FieldInput::NotUnicode,
            },
            Some(b'[') => FieldInput::Array,
            Some(b'{') => FieldInput::Object,
            Some(b't') => FieldInput::Bool(true),
            Some(b'f') => FieldInput::Bool(false),
            Some(b'n') => FieldInput::Null,
            _ => FieldInput::Number(Cow::Borrowed(raw)),
        }
    }

    pub fn from_json(value: &'a serde_json::Value) -> FieldInput<'a> {
        use serde_json::Value as J;
        match value {
            J::Null => FieldInput::Null,
            J::Bool(b) => FieldInput::Bool(*b),
            J::Number(n) => FieldInput::Number(Cow::Owned(n.to_string())),
            J::String(s) => FieldInput::String(Cow::Borrowed(s)),
            J::Array(_) => FieldInput::Array,
            J::Object(_) => FieldInput::Object,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            FieldInput::Null => "null",
            FieldInput::Bool(_) => "a boolean",
            FieldInput::Number(_) => "a number",
            FieldInput::String(_) => "a string",
            FieldInput::NotUnicode => {
                "a string that is not valid Unicode (it escapes a lone surrogate, like `\\ud800`)"
            }
            FieldInput::Array => "an array",
            FieldInput::Object => "an object",
        }
    }
}

/// A date written exactly `YYYY-MM-DD`, years 0001 to 9999 (chrono's own reader also takes signs,
/// more digits, single-digit months and spaces).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(0..4).filter(|y| *y >= 1)?;
    // INVARIANT: four digits fit an i32; day numbers of years 1 to 9999 fit one too.
    NaiveDate::from_ymd_opt(year as i32, digits(5..7)?, digits(8..10)?)
}

/// Reads money from a JSON string (`"80.00"`) or number (`80.0`, read from its text). Negative amounts
/// are refused.
pub fn parse_money(input: &FieldInput<'_>) -> Result<Decimal, String> {
    let amount = match input {
        FieldInput::String(text) => {
            if !is_plain_decimal(text) {
                return Err(format!(
                    "money `{text}` is not a decimal number like `80.00`"
                ));
            }
            exact_decimal(text).map_err(|why| format!("money `{text}` {why}"))?
        }
        FieldInput::Number(text) => plain_number(text)
            .ok_or_else(|| format!("money {text} is out of range"))
            .and_then(|plain| exact_decimal(&plain).map_err(|why| format!("money {text} {why}")))?,
        other => {
            return Err(format!(
                "expected money as a string like \"80.00\", found {}",
                other.kind()
            ))
        }
    };
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!("money `{amount}` is negative"));
    }
    Ok(amount)
}

/// A plain decimal (`-12.50`) read exactly: 28 significant digits at most, never rounded to fit.
/// Zeros that end the fraction carry no value and may run past that.
fn exact_decimal(text: &str) -> Result<Decimal, &'static str> {
    const TOO_PRECISE: &str =
        "has more than 28 significant digits and cannot be represented exactly";
    match Decimal::from_str_exact(text) {
        Ok(amount) => Ok(amount),
        Err(rust_decimal::Error::Underflow) if text.contains('.') => {
            let trimmed = text.trim_end_matches('0').trim_end_matches('.');
            Decimal::from_str_exact(trimmed).map_err(|_| TOO_PRECISE)
        }
        Err(rust_decimal::Error::Underflow) => Err(TOO_PRECISE),
        Err(_) => Err("is out of range"),
    }
}

/// A JSON number's text (`1.5e2`, `-0.25`, `80`) as a plain decimal (`150`, `-0.25`, `80`), so that it
/// is read exactly; `None` for an exponent too large to be money.
fn plain_number(text: &str) -> Option<Cow<'_, str>> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => return Some(Cow::Borrowed(text)),
    };
    // Beyond these, no value has 28 significant digits or fits in a `Decimal`.
    if !(-60..=60).contains(&exponent) {
        return None;
    }
    let (sign, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all: String = [whole, fraction].concat();
    // The decimal point sits after `point` digits of `all`.
    let point = i64::try_from(whole.len()).ok()? + i64::from(exponent);
    let len = i64::try_from(all.len()).ok()?;
    let plain = if point <= 0 {
        format!("0.{}{all}", "0".repeat(usize::try_from(-point).ok()?))
    } else if point >= len {
        format!("{all}{}", "0".repeat(usize::try_from(point - len).ok()?))
    } else {
        let point = usize::try_from(point).ok()?;
        format!("{}.{}", &all[..point], &all[point..])
    };
    Some(Cow::Owned(format!("{sign}{plain}")))
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
    FieldInput::from_json(value).kind()
}

/// Reads one order field as the policy declares it. `variants` are the enum's values for enum fields.
/// `Null` is for the caller to handle (an absent field).
pub fn parse_field(ty: Type, input: &FieldInput<'_>, variants: &[String]) -> Result<Value, String> {
    match (ty, input) {
        (Type::Bool, FieldInput::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Int, FieldInput::Number(n)) => {
            if n.bytes().all(|b| b.is_ascii_digit()) {
                n.parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| format!("{n} is too large for a whole number"))
            } else if n.starts_with('-') {
                Err(format!(
                    "{n} is negative; expected a whole number of zero or more"
                ))
            } else {
                Err(format!(
                    "{n} is not a whole number; expected a JSON integer like 300"
                ))
            }
        }
        (Type::Money, input) => parse_money(input).map(Value::Money),
        (Type::Str, FieldInput::String(s)) => Ok(Value::Str(Arc::from(&**s))),
        (Type::Timestamp, FieldInput::String(s)) => parse_timestamp(s).map(Value::Timestamp),
        (Type::Date, FieldInput::String(s)) => parse_date(s)
            .map(|d| Value::Date(crate::zone::date_to_day_number(d) as i32))
            .ok_or_else(|| {
                format!("`{s}` is not a date like `2026-10-09` (YYYY-MM-DD, years 0001 to 9999)")
            }),
        (Type::Enum(_), FieldInput::String(s)) => variants
            .iter()
            .position(|v| v == s)
            .map(|i| Value::Enum(i as u16))
            .ok_or_else(|| {
                format!(
                    "`{s}` is not one of the values this policy lists: {}",
                    variants.join(", ")
                )
            }),
        (ty, input) => Err(format!(
            "expected {}, found {}",
            match ty {
                Type::Bool => "a boolean (true or false)",
                Type::Int => "a whole number",
                Type::Str | Type::Enum(_) => "a string",
                Type::Timestamp => "a timestamp string",
                Type::Date => "a date string",
                _ => "a value of another type",
            },
            input.kind()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn money(value: serde_json::Value) -> Result<Decimal, String> {
        parse_money(&FieldInput::from_json(&value))
    }

    fn field(ty: Type, value: serde_json::Value, variants: &[String]) -> Result<Value, String> {
        parse_field(ty, &FieldInput::from_json(&value), variants)
    }

    #[test]
    fn raw_json_is_classified_without_copying() {
        assert_eq!(
            FieldInput::from_raw("\"80.00\""),
            FieldInput::String(Cow::Borrowed("80.00"))
        );
        assert_eq!(
            FieldInput::from_raw("80.10"),
            FieldInput::Number(Cow::Borrowed("80.10"))
        );
        assert_eq!(
            FieldInput::from_raw("\"a\\\"b\""),
            FieldInput::String(Cow::Owned("a\"b".into()))
        );
        assert_eq!(FieldInput::from_raw("null"), FieldInput::Null);
        assert_eq!(FieldInput::from_raw("[1]"), FieldInput::Array);
        assert_eq!(
            field(Type::Int, serde_json::from_str("300").unwrap(), &[]),
            Ok(Value::Int(300))
        );
    }

    #[test]
    fn the_fast_timestamp_reader_agrees_with_chrono() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let offsets = [
            "Z", "+08:00", "-05:00", "+05:45", "-00:00", "+23:59", "+24:00", "+08", "z", "",
        ];
        let fractions = [
            "",
            ".5",
            ".250",
            ".123456",
            ".123456789",
            ".1234567891",
            ".",
        ];
        for _ in 0..20_000 {
            let text = format!(
                "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{}{}",
                1890 + next(330),
                next(14),
                next(33),
                ["T", "T", "T", "t", " "][next(5) as usize],
                next(25),
                next(61),
                next(62),
                fractions[next(fractions.len() as u64) as usize],
                offsets[next(offsets.len() as u64) as usize],
            );
            let chrono = DateTime::parse_from_rfc3339(&text)
                .ok()
                .and_then(|t| Instant::try_from(t).ok());
            if let Some(fast) = canonical_rfc3339(&text) {
                assert_eq!(Some(fast), chrono, "{text}");
            }
            // chrono drops digits past the nanosecond; they are refused here, never rounded away.
            let expected = chrono.filter(|_| fraction_digits(&text) <= 9);
            assert_eq!(parse_timestamp(&text).ok(), expected, "{text}");
        }
    }

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
        assert_eq!(money(json!("80.00")).unwrap(), Decimal::new(8000, 2));
        assert_eq!(money(json!(80.1)).unwrap(), Decimal::new(801, 1));
        assert_eq!(money(json!(0.1)).unwrap().to_string(), "0.1");
        assert_eq!(money(json!(1e2)).unwrap(), Decimal::new(100, 0));
        assert_eq!(money(json!("1.005")).unwrap(), Decimal::new(1005, 3));
        assert!(money(json!("-1")).unwrap_err().contains("negative"));
        assert!(money(json!("1e2")).is_err());
        assert!(money(json!("abc")).is_err());
        assert!(money(json!(".5")).is_err());
        // More than 28 significant digits: an error, never a silent rounding.
        let err = money(json!("100.000000000000000000000000001")).unwrap_err();
        assert!(err.contains("28 significant digits"), "{err}");
        let raw = |text| parse_money(&FieldInput::from_raw(text));
        assert!(raw("100.000000000000000000000000001").is_err());
        assert!(raw("1.00000000000000000000000000001e2").is_err());
        assert_eq!(
            raw("100.00000000000000000000000001").unwrap().to_string(),
            "100.00000000000000000000000001"
        );
        // Zeros that end a fraction carry no value.
        assert_eq!(
            money(json!("1.000000000000000000000000000000")).unwrap(),
            Decimal::ONE
        );
        assert_eq!(raw("1.5e2").unwrap(), Decimal::new(150, 0));
        assert_eq!(raw("25E-2").unwrap(), Decimal::new(25, 2));
        assert_eq!(raw("1e-28").unwrap(), Decimal::new(1, 28));
        assert!(raw("1e-29").is_err());
        assert!(raw("1e400").unwrap_err().contains("out of range"));
        assert!(money(json!(true)).is_err());
    }

    #[test]
    fn integers_are_json_integers() {
        assert_eq!(field(Type::Int, json!(300), &[]), Ok(Value::Int(300)));
        assert!(field(Type::Int, json!(300.0), &[]).is_err());
        assert!(field(Type::Int, json!("300"), &[]).is_err());
        assert!(field(Type::Int, json!(-1), &[]).is_err());
    }

    #[test]
    fn enums_list_their_values_on_error() {
        let variants = vec!["issued".to_string(), "revoked".to_string()];
        assert_eq!(
            field(Type::Enum(2), json!("revoked"), &variants),
            Ok(Value::Enum(1))
        );
        let err = field(Type::Enum(2), json!("revokd"), &variants).unwrap_err();
        assert!(err.contains("issued, revoked"), "{err}");
    }
}
