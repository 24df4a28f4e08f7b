//! The decision a host application gets back, and its JSON: one `Serialize` impl writes it, for
//! `to_json`, `write_json` and any serde serializer alike.
//!
//! A decision borrows its names and texts from the policy that made it (`Decision<'p>`): building one
//! copies no text and touches no reference count the policy shares, so threads deciding with one
//! `Policy` never wait on each other. Only texts that come from the order itself (its `id`, its
//! `currency`, a status read from it) are the order's own reference-counted strings.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::DECISION_FIELDS;
use crate::zone::{format_datetime, IsoDate};

pub use crate::syntax::ast::Outcome;

/// The contract's decision, field for field (see `docs/contract.md`), borrowing from the policy `'p`.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'p> {
    /// The order's `id`.
    pub order: Option<Arc<str>>,
    /// The policy's declared name.
    pub policy: &'p str,
    /// The action decided (`refund`, `revoke`, ...).
    pub action: &'p str,
    /// Allowed, conditional, denied or undetermined.
    pub outcome: Outcome,
    /// What would be refunded, rounded half away from zero to 0.01 (scale 2).
    pub amount: Option<Decimal>,
    /// The currency of `amount`: the order's, else the policy's default (present with an amount).
    pub currency: Option<Text<'p>>,
    /// Where the refund goes.
    pub refund_to: Option<&'static str>,
    /// The steps that must come first, in the rule's order.
    pub requires: &'p [&'static str],
    /// Whether a person reviews the request.
    pub review: Option<&'static str>,
    /// The date by which the provider answers.
    pub review_by: Option<NaiveDate>,
    /// The first instant after the request at which the outcome turns denied if only time passes, in
    /// the policy's zone.
    pub deadline: Option<DateTime<Tz>>,
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
    pub fn new(texts: Vec<String>) -> Reasons {
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

/// An optional value written through its `Display` (dates, instants, amounts), or null.
struct Display<T>(Option<T>);

impl<T: fmt::Display> Serialize for Display<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(value) => serializer.collect_str(value),
            None => serializer.serialize_none(),
        }
    }
}

/// Any serializer gets the decision's fields, `because` as an array of its texts.
impl Serialize for Decision<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_fields(serializer, &*self.because.texts)
    }
}

/// The decision for serde_json only: `because` as the JSON escaped when the policy compiled.
struct AsJson<'a, 'p>(&'a Decision<'p>);

impl Serialize for AsJson<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_fields(serializer, &*self.0.because.json)
    }
}

impl Decision<'_> {
    /// The one writer of a decision's fields: names from [`DECISION_FIELDS`], in its order.
    fn serialize_fields<S: Serializer>(
        &self,
        serializer: S,
        reasons: &(impl Serialize + ?Sized),
    ) -> Result<S::Ok, S::Error> {
        let [order, policy, action, outcome, amount, currency, refund_to, requires, review, review_by, deadline, next_status, values, rule, because] =
            DECISION_FIELDS;
        let mut s = serializer.serialize_struct("Decision", DECISION_FIELDS.len())?;
        s.serialize_field(order, &self.order.as_deref())?;
        s.serialize_field(policy, self.policy)?;
        s.serialize_field(action, self.action)?;
        s.serialize_field(outcome, &self.outcome)?;
        s.serialize_field(amount, &Display(self.amount))?;
        s.serialize_field(currency, &self.currency)?;
        s.serialize_field(refund_to, &self.refund_to)?;
        s.serialize_field(requires, self.requires)?;
        s.serialize_field(review, &self.review)?;
        s.serialize_field(review_by, &Display(self.review_by.map(IsoDate)))?;
        s.serialize_field(
            deadline,
            &Display(self.deadline.as_ref().map(format_datetime)),
        )?;
        s.serialize_field(next_status, &self.next_status)?;
        s.serialize_field(values, &Values(&self.values))?;
        s.serialize_field(rule, self.rule)?;
        s.serialize_field(because, reasons)?;
        s.end()
    }
}

impl Decision<'_> {
    /// The decision as one line of JSON.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the decision's JSON to `out` (batch evaluation writes millions of these into one buffer).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        // INVARIANT: every field serialises (strings, numbers, raw JSON); writing to a Vec cannot fail.
        let _ = serde_json::to_writer(out, &AsJson(self));
    }
}
