//! The contract with host applications (`docs/contract.md`) in one place: the decision and its fields,
//! the order fields every policy understands by role, and what the engine knows of the vocabularies
//! policies declare.
//! Each name is written here once; the checker, the evaluator and the JSON writer read it from here.

mod decision;
mod zoned;

pub use decision::{Decision, Outcome, Reasons, Text};
pub use zoned::ZonedInstant;

use crate::value::Type;

/// A decision's fields as its JSON names them, in the order they are written.
pub const DECISION_FIELDS: [&str; 17] = [
    "order",
    "policy",
    "version",
    "action",
    "outcome",
    "amount",
    "currency",
    "refund_to",
    "requires",
    "review",
    "review_by",
    "deadline",
    "holds_until",
    "next_status",
    "values",
    "rule",
    "because",
];

/// The record that stands in place of a decision for an order that cannot be decided:
/// `{"order": ID or null, "line": N, "error": MESSAGE}`, `line` only in batches. Fields in this order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorRecord<'a> {
    /// The order's id, if it has one.
    pub order: Option<&'a str>,
    /// The line of the batch (from 1); in batches only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// What went wrong.
    pub error: &'a str,
}

/// The field of an error record that says what went wrong (see [`ErrorRecord`]).
pub const ERROR_FIELD: &str = "error";

/// The rule a decision names when no rule of the action decides the order.
pub const NO_RULE: &str = "(no rule)";

/// The vocabulary the shipped policies import: their steps (`requires`), refund destinations
/// (`refund_to`) and review kinds (`review`). The engine knows none of these values; a policy declares
/// them (`steps { .. }`, `refund_destinations { .. }`, `review_kinds { .. }`), here or in a file it
/// imports.
pub const SHARED_VOCABULARY: &str = "policies/common/contract.policy";

/// The review kind that means "no review": a rule with it has no review date (`review_by`), and takes
/// none from its action's defaults. A policy's `review_kinds` may declare it or not.
pub const NO_REVIEW: &str = "none";

/// A field of every order with a meaning fixed by the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleField {
    /// The field's name in an order.
    pub name: &'static str,
    pub(crate) ty: Type,
    /// What the field is for, as a diagnostic says it.
    pub role: &'static str,
}

/// `id` (echoed as the decision's `order`), `requested_at` (the request time, else the caller's
/// default) and `currency` (echoed with an amount). A policy that does not declare one gets it as an
/// optional field of this type; one that declares it must give it this type.
pub const ROLE_FIELDS: [RoleField; 3] = [
    RoleField {
        name: "id",
        ty: Type::Str,
        role: "the order's id, echoed in each decision",
    },
    RoleField {
        name: "requested_at",
        ty: Type::Timestamp,
        role: "the request time",
    },
    RoleField {
        name: CURRENCY_FIELD,
        ty: Type::Str,
        role: "the currency echoed with an amount",
    },
];

/// The order field whose value is the currency of the decision's amount (a role field).
pub const CURRENCY_FIELD: &str = "currency";

/// Currencies an analysis witness may give when the policy's conditions rule out the one it would
/// pick: ISO 4217 codes with minor units, commonest first.
pub const WITNESS_CURRENCIES: [&str; 8] = ["USD", "EUR", "JPY", "GBP", "CNY", "CHF", "BHD", "AUD"];

/// The currency of an amount when the order gives none and the policy declares no default.
pub const DEFAULT_CURRENCY: &str = "USD";

/// The digits after the decimal point of an amount in the currency `code` (ISO 4217's minor units:
/// JPY 0, USD 2, BHD 3), from the standard's table; `None` for a code that is not ISO 4217's or whose
/// currency has no minor unit (gold, the SDR).
pub fn minor_units(code: &str) -> Option<u32> {
    iso_currency::Currency::from_code(code)?
        .exponent()
        .map(u32::from)
}

/// The minor units of `code` under a policy's own table (`minor_units "CODE" DIGITS`), else ISO 4217's.
pub(crate) fn minor_units_in(table: &[(String, u32)], code: &str) -> Option<u32> {
    own_minor_units(table, code).or_else(|| minor_units(code))
}

/// The minor units of `code` in a policy's own table only.
pub(crate) fn own_minor_units(table: &[(String, u32)], code: &str) -> Option<u32> {
    table
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, digits)| *digits)
}

/// The last ISO 4217 look-up made for an order storage. A look-up matches the code against every
/// code ISO lists (about 900 instructions, a tenth of a decision), and the orders a batch reads into
/// one storage mostly share their currency.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastCurrency(Option<(std::sync::Arc<str>, Option<u32>)>);

impl LastCurrency {
    /// [`minor_units`] of `code`, recalled when it is the last code looked up.
    pub(crate) fn minor_units(&mut self, code: &std::sync::Arc<str>) -> Option<u32> {
        if let Some((last, digits)) = &self.0 {
            // The same text (a field's default, shared by every order) needs no comparison.
            if std::sync::Arc::ptr_eq(last, code) || **last == **code {
                return *digits;
            }
        }
        let digits = minor_units(code);
        self.0 = Some((code.clone(), digits));
        digits
    }
}
