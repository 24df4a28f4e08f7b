//! The decision a host application gets back: typed fields, shared texts behind `Arc`s so building one
//! costs no allocation, and the contract's JSON through `Serialize`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::compile::Reasons;
use crate::zone::{format_datetime, IsoDate};

pub use crate::syntax::ast::Outcome;

/// The contract's decision, field for field (see `contract.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The order's `id`.
    pub order: Option<Arc<str>>,
    pub policy: Arc<str>,
    pub action: Arc<str>,
    pub outcome: Outcome,
    /// What would be refunded, rounded half away from zero to 0.01 (scale 2).
    pub amount: Option<Decimal>,
    pub currency: Option<Arc<str>>,
    pub refund_to: Option<&'static str>,
    pub requires: Arc<[&'static str]>,
    pub review: Option<&'static str>,
    pub review_by: Option<NaiveDate>,
    /// In the policy's zone.
    pub deadline: Option<DateTime<Tz>>,
    pub next_status: Option<Arc<str>>,
    pub values: Vec<(Arc<str>, serde_json::Value)>,
    pub rule: Arc<str>,
    pub because: Reasons,
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

struct Values<'a>(&'a [(Arc<str>, serde_json::Value)]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(&**name, value)?;
        }
        map.end()
    }
}

struct Display<T>(Option<T>);

impl<T: fmt::Display> Serialize for Display<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(value) => serializer.collect_str(value),
            None => serializer.serialize_none(),
        }
    }
}

impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Decision", 15)?;
        s.serialize_field("order", &self.order.as_deref())?;
        s.serialize_field("policy", &*self.policy)?;
        s.serialize_field("action", &*self.action)?;
        s.serialize_field("outcome", &self.outcome)?;
        s.serialize_field("amount", &Display(self.amount))?;
        s.serialize_field("currency", &self.currency.as_deref())?;
        s.serialize_field("refund_to", &self.refund_to)?;
        s.serialize_field("requires", &*self.requires)?;
        s.serialize_field("review", &self.review)?;
        s.serialize_field("review_by", &Display(self.review_by.map(IsoDate)))?;
        s.serialize_field(
            "deadline",
            &Display(self.deadline.as_ref().map(format_datetime)),
        )?;
        s.serialize_field("next_status", &self.next_status.as_deref())?;
        s.serialize_field("values", &Values(&self.values))?;
        s.serialize_field("rule", &*self.rule)?;
        s.serialize_field("because", &*self.because)?;
        s.end()
    }
}

impl Decision {
    /// The decision as one line of JSON.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the decision's JSON to `out`: the same bytes as `serde_json::to_writer`, written without
    /// re-escaping the texts the policy compiled once (batch evaluation writes millions of these).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        out.extend_from_slice(b"{\"order\":");
        optional_string(out, self.order.as_deref());
        out.extend_from_slice(b",\"policy\":");
        string(out, &self.policy);
        out.extend_from_slice(b",\"action\":");
        string(out, &self.action);
        out.extend_from_slice(b",\"outcome\":\"");
        out.extend_from_slice(self.outcome.as_str().as_bytes());
        out.extend_from_slice(b"\",\"amount\":");
        match self.amount {
            Some(amount) => {
                let _ = write!(out, "\"{amount}\"");
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"currency\":");
        optional_string(out, self.currency.as_deref());
        out.extend_from_slice(b",\"refund_to\":");
        optional_string(out, self.refund_to);
        out.extend_from_slice(b",\"requires\":[");
        for (i, step) in self.requires.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, step);
        }
        out.extend_from_slice(b"],\"review\":");
        optional_string(out, self.review);
        out.extend_from_slice(b",\"review_by\":");
        match self.review_by {
            Some(date) => {
                let _ = write!(out, "\"{}\"", IsoDate(date));
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"deadline\":");
        match &self.deadline {
            Some(deadline) => {
                let _ = write!(out, "\"{}\"", format_datetime(deadline));
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"next_status\":");
        optional_string(out, self.next_status.as_deref());
        out.extend_from_slice(b",\"values\":");
        if serde_json::to_writer(&mut *out, &Values(&self.values)).is_err() {
            out.extend_from_slice(b"{}");
        }
        out.extend_from_slice(b",\"rule\":");
        string(out, &self.rule);
        out.extend_from_slice(b",\"because\":");
        out.extend_from_slice(self.because.json().as_bytes());
        out.push(b'}');
    }
}

/// A JSON string: copied as is when nothing in it needs escaping, which is the rule for names.
fn string(out: &mut Vec<u8>, text: &str) {
    let plain = text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else if serde_json::to_writer(&mut *out, text).is_err() {
        out.extend_from_slice(b"null");
    }
}

fn optional_string(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => string(out, text),
        None => out.extend_from_slice(b"null"),
    }
}
