//! What a loaded policy declares, for hosts that build orders, forms or columns from it: its fields
//! with their types, and each action's rules in order, with their outcomes and places in the source.

use crate::check::{CheckedAction, CheckedPolicy, CheckedRule, FieldInfo};
use crate::contract::Outcome;
use crate::source::Span;
use crate::value::Type;

/// A field an order may carry, as the policy declares it (or as the contract adds it: `id`,
/// `requested_at`, `currency`).
#[derive(Debug, Clone, Copy)]
pub struct Field<'p> {
    info: &'p FieldInfo,
    policy: &'p CheckedPolicy,
}

impl<'p> Field<'p> {
    pub(crate) fn all(policy: &'p CheckedPolicy) -> impl ExactSizeIterator<Item = Field<'p>> {
        policy.fields.iter().map(move |info| Field { info, policy })
    }

    /// The field's name in the order's JSON.
    pub fn name(&self) -> &'p str {
        &self.info.name
    }

    /// What values it takes.
    pub fn ty(&self) -> FieldType<'p> {
        match self.info.ty {
            Type::Bool => FieldType::Bool,
            Type::Int => FieldType::Int,
            Type::Money => FieldType::Money,
            Type::Str => FieldType::String,
            Type::Enum(id) => match self.policy.enums.get(usize::from(id)) {
                Some(e) => FieldType::Enum {
                    name: &e.name,
                    values: &e.variants,
                },
                // INVARIANT: the checker gives a field only enums of the policy's table.
                None => FieldType::String,
            },
            Type::Timestamp => FieldType::Timestamp,
            Type::Date => FieldType::Date,
            Type::Duration => FieldType::Duration,
            Type::Days => FieldType::CalendarDays,
            Type::BusinessDays => FieldType::BusinessDays,
            Type::Months => FieldType::CalendarMonths,
        }
    }

    /// Whether an order may leave it out (declared `optional`, or given a default).
    pub fn optional(&self) -> bool {
        self.info.optional || self.info.default.is_some()
    }

    /// Where the policy declares it (the contract's fields it does not declare have an empty span).
    pub fn span(&self) -> Span {
        self.info.span
    }
}

/// The type of an order field, as an order gives it in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldType<'p> {
    /// `true` or `false`.
    Bool,
    /// A whole number.
    Int,
    /// An exact decimal amount, as a JSON string or number.
    Money,
    /// Any text.
    String,
    /// One of the values of the policy's enum `name`, as a string.
    Enum {
        /// The enum's name.
        name: &'p str,
        /// Its values, in the order declared.
        values: &'p [String],
    },
    /// An RFC 3339 timestamp with an offset.
    Timestamp,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// An exact duration.
    Duration,
    /// A count of calendar days.
    CalendarDays,
    /// A count of business days.
    BusinessDays,
    /// A count of calendar months.
    CalendarMonths,
}

/// A rule of an action, in the order rules are tried.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'p> {
    rule: &'p CheckedRule,
}

impl<'p> Rule<'p> {
    pub(crate) fn of(action: &'p CheckedAction) -> impl ExactSizeIterator<Item = Rule<'p>> {
        action.rules.iter().map(|rule| Rule { rule })
    }

    /// The rule's id, as decisions name it.
    pub fn id(&self) -> &'p str {
        &self.rule.id
    }

    /// The outcome it gives.
    pub fn outcome(&self) -> Outcome {
        self.rule.outcome
    }

    /// Its reasons, each citing its source.
    pub fn because(&self) -> &'p [String] {
        &self.rule.because
    }

    /// The whole rule in the policy's text.
    pub fn span(&self) -> Span {
        self.rule.span
    }
}
