//! The contract with host applications (`docs/contract.md`) in one place: the order fields every policy
//! understands by role, whether or not it declares them.

use crate::value::Type;

/// A field of every order with a meaning fixed by the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleField {
    pub name: &'static str,
    pub ty: Type,
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
        name: "currency",
        ty: Type::Str,
        role: "the currency echoed with an amount",
    },
];

/// The currency of an amount when the order gives none and the policy declares no default.
pub const DEFAULT_CURRENCY: &str = "USD";
