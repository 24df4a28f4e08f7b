//! The decision a host application gets back, and its JSON: one list of its fields
//! (`Decision::write_fields`) writes it, to any serde serializer or to the JSON writer behind
//! `to_json` and `write_json`.
//!
//! A decision borrows its names and texts from the policy that made it (`Decision<'p>`): building one
//! copies no text and touches no reference count the policy shares, so threads deciding with one
//! `Policy` never wait on each other. Only texts that come from the order itself (its `id`, its
//! `currency`, a status read from it) are the order's own reference-counted strings.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::{ZonedInstant, DECISION_FIELDS};
use crate::zone::IsoDate;

pub use crate::syntax::ast::Outcome;

/// The contract's decision, field for field (see `docs/contract.md`), borrowing from the policy `'p`.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'p> {
    /// The order's `id`.
    pub order: Option<Arc<str>>,
    /// The policy's declared name.
    pub policy: &'p str,
    /// The version that decided (`effective from ...` as written); `None`, and not written, for a
    /// policy without versions.
    pub version: Option<&'p str>,
    /// The action decided (`refund`, `revoke`, ...).
    pub action: &'p str,
    /// Allowed, conditional, denied or undetermined.
    pub outcome: Outcome,
    /// What would be refunded, rounded half away from zero to the minor unit of `currency` (ISO 4217:
    /// scale 2 for USD, 0 for JPY, 3 for BHD).
    pub amount: Option<Decimal>,
    /// The currency of `amount`: the order's, else the policy's default (present with an amount).
    pub currency: Option<Text<'p>>,
    /// Where the refund goes.
    pub refund_to: Option<&'p str>,
    /// The steps that must come first, in the order the policy's `steps` declares them.
    pub requires: &'p [Box<str>],
    /// Whether a person reviews the request.
    pub review: Option<&'p str>,
    /// The date by which the provider answers.
    pub review_by: Option<NaiveDate>,
    /// The first instant after the request at which the outcome turns denied if only time passes, in
    /// the policy's zone.
    pub deadline: Option<ZonedInstant<'p>>,
    /// The first instant after the request at which any field of the decision would change if only
    /// time passed (its outcome, rule, amount, review date, ...), in the policy's zone; `None` if none
    /// ever would.
    pub holds_until: Option<ZonedInstant<'p>>,
    /// The order's status once the action is done.
    pub next_status: Option<Text<'p>>,
    /// The rule's named values, in the order written.
    pub values: Vec<(&'p str, serde_json::Value)>,
    /// The rule that decided, or `(no rule)`.
    pub rule: &'p str,
    /// Why: the rule's reasons, each citing its source.
    pub because: &'p Reasons,
}

/// A text of a decision: the policy's own (borrowed), or the order's (shared with the order).
#[derive(Debug, Clone)]
pub enum Text<'p> {
    /// Written in the policy: an enum value's name, a string literal, the default currency.
    Policy(&'p str),
    /// Read from the order.
    Order(Arc<str>),
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Policy(text) => text,
            Text::Order(text) => text,
        }
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Text<'_> {}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

/// A rule's reasons, each citing its source; their JSON array is escaped once, when the policy compiles.
#[derive(Debug)]
pub struct Reasons {
    texts: Box<[String]>,
    json: Box<RawValue>,
}

impl Reasons {
    /// The reasons `texts`, in order.
    pub(crate) fn new(texts: Vec<String>) -> Reasons {
        // INVARIANT: an array of strings always serialises, and is valid JSON.
        let json =
            serde_json::value::to_raw_value(&texts).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Reasons {
            texts: texts.into_boxed_slice(),
            json,
        }
    }
}

impl Deref for Reasons {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.texts
    }
}

impl PartialEq for Reasons {
    fn eq(&self, other: &Self) -> bool {
        self.texts == other.texts
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

struct Values<'a>(&'a [(&'a str, serde_json::Value)]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Where a decision's fields go, one by one, in order: a serde serializer, or the JSON writer batches
/// use. Each kind of value has its method; which field is which is said once, by
/// [`Decision::write_fields`].
trait FieldSink {
    type Error;
    fn text(&mut self, key: &'static str, value: Option<&str>) -> Result<(), Self::Error>;
    /// A field left out of this decision (the version of a policy without versions).
    fn skip(&mut self, key: &'static str) -> Result<(), Self::Error>;
    /// Amounts, dates and instants: their `Display` is the JSON string's content.
    fn shown(
        &mut self,
        key: &'static str,
        value: Option<&dyn fmt::Display>,
    ) -> Result<(), Self::Error>;
    fn texts(&mut self, key: &'static str, values: &[Box<str>]) -> Result<(), Self::Error>;
    fn values(&mut self, key: &'static str, values: &Values<'_>) -> Result<(), Self::Error>;
    fn reasons(&mut self, key: &'static str, reasons: &Reasons) -> Result<(), Self::Error>;
}

impl Decision<'_> {
    /// The one list of a decision's fields: names from [`DECISION_FIELDS`], in its order.
    fn write_fields<F: FieldSink>(&self, sink: &mut F) -> Result<(), F::Error> {
        let [order, policy, version, action, outcome, amount, currency, refund_to, requires, review, review_by, deadline, holds_until, next_status, values, rule, because] =
            DECISION_FIELDS;
        sink.text(order, self.order.as_deref())?;
        sink.text(policy, Some(self.policy))?;
        match self.version {
            Some(label) => sink.text(version, Some(label))?,
            None => sink.skip(version)?,
        }
        sink.text(action, Some(self.action))?;
        sink.text(outcome, Some(self.outcome.as_str()))?;
        sink.shown(amount, self.amount.as_ref().map(|a| a as &dyn fmt::Display))?;
        sink.text(currency, self.currency.as_deref())?;
        sink.text(refund_to, self.refund_to)?;
        sink.texts(requires, self.requires)?;
        sink.text(review, self.review)?;
        let date = self.review_by.map(IsoDate);
        sink.shown(review_by, date.as_ref().map(|d| d as &dyn fmt::Display))?;
        sink.shown(
            deadline,
            self.deadline.as_ref().map(|t| t as &dyn fmt::Display),
        )?;
        sink.shown(
            holds_until,
            self.holds_until.as_ref().map(|t| t as &dyn fmt::Display),
        )?;
        sink.text(next_status, self.next_status.as_deref())?;
        sink.values(values, &Values(&self.values))?;
        sink.text(rule, Some(self.rule))?;
        sink.reasons(because, self.because)
    }
}

/// Any serializer gets the decision's fields, `because` as an array of its texts.
impl Serialize for Decision<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut sink = SerdeSink(serializer.serialize_struct("Decision", DECISION_FIELDS.len())?);
        self.write_fields(&mut sink)?;
        sink.0.end()
    }
}

struct SerdeSink<S>(S);

/// An optional value written through its `Display`, or null.
struct Shown<'a>(Option<&'a dyn fmt::Display>);

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(value) => serializer.collect_str(value),
            None => serializer.serialize_none(),
        }
    }
}

impl<S: SerializeStruct> FieldSink for SerdeSink<S> {
    type Error = S::Error;
    fn text(&mut self, key: &'static str, value: Option<&str>) -> Result<(), S::Error> {
        self.0.serialize_field(key, &value)
    }
    fn skip(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(key)
    }
    fn shown(
        &mut self,
        key: &'static str,
        value: Option<&dyn fmt::Display>,
    ) -> Result<(), S::Error> {
        self.0.serialize_field(key, &Shown(value))
    }
    fn texts(&mut self, key: &'static str, values: &[Box<str>]) -> Result<(), S::Error> {
        self.0.serialize_field(key, values)
    }
    fn values(&mut self, key: &'static str, values: &Values<'_>) -> Result<(), S::Error> {
        self.0.serialize_field(key, values)
    }
    fn reasons(&mut self, key: &'static str, reasons: &Reasons) -> Result<(), S::Error> {
        self.0.serialize_field(key, &*reasons.texts)
    }
}

/// The JSON writer: keys and the texts that need no escaping (names, as a rule) copied as they are,
/// the reasons' array as escaped when the policy compiled. Writing to a `Vec` cannot fail.
struct JsonSink<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl JsonSink<'_> {
    fn key(&mut self, key: &'static str) {
        self.out.push(if self.first { b'{' } else { b',' });
        self.first = false;
        // Keys are the contract's plain names (`DECISION_FIELDS`): nothing in them needs escaping.
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn string(&mut self, text: &str) {
        if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.out.push(b'"');
            self.out.extend_from_slice(text.as_bytes());
            self.out.push(b'"');
        } else if serde_json::to_writer(&mut *self.out, text).is_err() {
            self.out.extend_from_slice(b"null");
        }
    }
}

impl FieldSink for JsonSink<'_> {
    type Error = std::convert::Infallible;
    fn text(&mut self, key: &'static str, value: Option<&str>) -> Result<(), Self::Error> {
        self.key(key);
        match value {
            Some(text) => self.string(text),
            None => self.out.extend_from_slice(b"null"),
        }
        Ok(())
    }
    fn skip(&mut self, _key: &'static str) -> Result<(), Self::Error> {
        Ok(())
    }
    fn shown(
        &mut self,
        key: &'static str,
        value: Option<&dyn fmt::Display>,
    ) -> Result<(), Self::Error> {
        use std::io::Write as _;
        self.key(key);
        match value {
            // Amounts, ISO dates and RFC 3339 instants: digits and `-+:.TZ`, nothing to escape.
            Some(value) => {
                let _ = write!(self.out, "\"{value}\"");
            }
            None => self.out.extend_from_slice(b"null"),
        }
        Ok(())
    }
    fn texts(&mut self, key: &'static str, values: &[Box<str>]) -> Result<(), Self::Error> {
        self.key(key);
        self.out.push(b'[');
        for (i, text) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.string(text);
        }
        self.out.push(b']');
        Ok(())
    }
    fn values(&mut self, key: &'static str, values: &Values<'_>) -> Result<(), Self::Error> {
        self.key(key);
        if serde_json::to_writer(&mut *self.out, values).is_err() {
            self.out.extend_from_slice(b"{}");
        }
        Ok(())
    }
    fn reasons(&mut self, key: &'static str, reasons: &Reasons) -> Result<(), Self::Error> {
        self.key(key);
        self.out.extend_from_slice(reasons.json.get().as_bytes());
        Ok(())
    }
}

impl Decision<'_> {
    /// The decision as one line of JSON.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the decision's JSON to `out` (batch evaluation writes millions of these into one buffer):
    /// the same text as any serde JSON serializer gives, without escaping again what needs no escaping.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut sink = JsonSink { out, first: true };
        let Ok(()) = self.write_fields(&mut sink);
        sink.out.push(b'}');
    }
}
