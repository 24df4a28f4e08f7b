//! The decision a host application gets back: typed fields, shared texts behind `Arc`s so building one
//! costs no allocation, and the contract's JSON through `Serialize`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

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
    pub because: Arc<[String]>,
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
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
