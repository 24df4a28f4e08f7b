//! Shared by the benchmarks: the shipped policies, a few representative orders for each policy and
//! action, and the seeded order generator of `examples/generate_orders.rs`, in memory.

#![allow(
    dead_code,
    reason = "each benchmark binary uses its own subset of these helpers"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use policy::Policy;

/// The shipped policies, by file stem.
pub const POLICIES: [&str; 5] = [
    "alibaba-cms-refund-2026",
    "alibaba-ssl-refund-legacy",
    "alibaba-ssl-revoke",
    "huawei-scm-unsubscribe",
    "huawei-scm-withdraw",
];

pub const LEGACY: &str = "alibaba-ssl-refund-legacy";

/// Modest measurement settings, so that `cargo bench` finishes in a few minutes on two cores.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

pub fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

pub fn policy_path(name: &str) -> PathBuf {
    policies_dir().join(format!("{name}.policy"))
}

/// Loads `policies/{name}.policy` with its calendars.
pub fn load(name: &str) -> Policy {
    let path = policy_path(name);
    Policy::load(&path).unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()))
}

/// An RFC 3339 timestamp as the evaluator's request time.
pub fn at(timestamp: &str) -> policy::Instant {
    policy::eval::parse_time(timestamp).unwrap()
}

/// The request time given to orders without `requested_at` (every order below has one).
pub fn default_now() -> policy::Instant {
    at("2026-01-01T00:00:00Z")
}

/// One representative order: which policy and action decide it, what it shows, and its JSON.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub policy: &'static str,
    pub action: &'static str,
    /// `outcome` or `outcome_what`: the outcome the policy must give (checked before timing).
    pub label: &'static str,
    pub json: &'static str,
}

impl Case {
    /// The outcome the label promises.
    pub fn outcome(&self) -> &'static str {
        ["allowed", "conditional", "denied", "undetermined"]
            .into_iter()
            .find(|o| self.label.starts_with(o))
            .unwrap()
    }

    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.policy, self.action, self.label)
    }
}

const fn case(
    policy: &'static str,
    action: &'static str,
    label: &'static str,
    json: &'static str,
) -> Case {
    Case {
        policy,
        action,
        label,
        json,
    }
}

/// 2-4 orders for every shipped policy and action: allowed, conditional, denied (and, for the legacy
/// table, a conditional one whose deadline is its `expires_at`).
pub const CASES: &[Case] = &[
    case(
        "huawei-scm-unsubscribe",
        "refund",
        "allowed",
        r#"{"id":"hw-a","paid_at":"2024-12-01T12:00:00+08:00","requested_at":"2024-12-03T12:00:00+08:00","price":"80.00","voucher":"10.00","status":"pending_application","purchased_on":"scm_console"}"#,
    ),
    case(
        "huawei-scm-unsubscribe",
        "refund",
        "conditional",
        r#"{"id":"hw-c","paid_at":"2024-12-01T12:00:00+08:00","requested_at":"2024-12-08T03:58:00Z","price":"80.00","status":"issued","purchased_on":"scm_console"}"#,
    ),
    case(
        "huawei-scm-unsubscribe",
        "refund",
        "denied",
        r#"{"id":"hw-d","paid_at":"2024-12-01T12:00:00+08:00","requested_at":"2024-12-08T12:00:00+08:00","price":"80.00","status":"pending_application","purchased_on":"scm_console"}"#,
    ),
    case(
        "huawei-scm-withdraw",
        "withdraw",
        "allowed",
        r#"{"id":"wd-a","requested_at":"2025-01-06T12:33:00Z","status":"pending_domain_verification"}"#,
    ),
    case(
        "huawei-scm-withdraw",
        "withdraw",
        "denied_revoking",
        r#"{"id":"wd-d","requested_at":"2025-01-13T06:23:00Z","status":"revoking"}"#,
    ),
    case(
        "huawei-scm-withdraw",
        "withdraw",
        "denied_other",
        r#"{"id":"wd-o","requested_at":"2025-01-20T07:29:00-05:00","status":"issued"}"#,
    ),
    case(
        LEGACY,
        "refund",
        "allowed_row2",
        r#"{"id":"r2-b","requested_at":"2025-06-14T23:59:59+08:00","paid_at":"2025-01-02T10:00:00+08:00","price":"80.00","voucher":"5.00","status":"verifying","expires_at":"2025-06-30T12:00:00+08:00"}"#,
    ),
    case(
        LEGACY,
        "refund",
        "conditional_row4",
        r#"{"id":"r4-b","requested_at":"2024-12-30T23:59:59+08:00","paid_at":"2024-12-01T12:00:00+08:00","price":"80.00","status":"issued","issued_at":"2024-12-02T10:00:00+08:00","expires_at":"2025-12-02T10:00:00+08:00"}"#,
    ),
    case(
        LEGACY,
        "refund",
        "denied_row5",
        r#"{"id":"r5-a","requested_at":"2024-12-30T16:00:00Z","paid_at":"2024-12-01T12:00:00+08:00","price":"80.00","status":"issued","issued_at":"2024-12-02T10:00:00+08:00","expires_at":"2025-12-02T10:00:00+08:00"}"#,
    ),
    case(
        LEGACY,
        "refund",
        "conditional_deadline_expires_at",
        r#"{"id":"r6-a","requested_at":"2025-12-01T11:59:59+08:00","paid_at":"2025-11-19T10:00:00+08:00","price":"80.00","status":"issued","issued_at":"2025-11-20T10:00:00+08:00","expires_at":"2025-12-01T04:00:00Z"}"#,
    ),
    case(
        "alibaba-cms-refund-2026",
        "refund",
        "allowed",
        r#"{"id":"cms-a","paid_at":"2026-03-02T12:00:00+08:00","requested_at":"2026-03-03T10:00:00+08:00","price":"199.00","voucher":"19.90","status":"pending_application"}"#,
    ),
    case(
        "alibaba-cms-refund-2026",
        "refund",
        "conditional_grcq",
        r#"{"id":"cms-c","paid_at":"2026-04-01T10:00:00+08:00","requested_at":"2026-04-02T10:00:00+08:00","price":"1.6","service":"https_gateway","domain_added_at":"2026-04-01T12:00:00+08:00","grcq_total":300,"grcq_consumed":60}"#,
    ),
    case(
        "alibaba-cms-refund-2026",
        "refund",
        "denied",
        r#"{"id":"cms-d","paid_at":"2026-03-02T12:00:00+08:00","requested_at":"2026-03-20T10:00:00+08:00","price":"199.00","status":"pending_application"}"#,
    ),
    case(
        "alibaba-ssl-revoke",
        "revoke",
        "allowed_ov",
        r#"{"id":"doc-rv","requested_at":"2026-06-10T09:00:00+08:00","status":"issued","cert_type":"OV","issued_at":"2026-06-03T10:00:00+08:00","expires_at":"2027-06-03T23:59:59+08:00"}"#,
    ),
    case(
        "alibaba-ssl-revoke",
        "revoke",
        "allowed_dv",
        r#"{"id":"rv-dv","requested_at":"2026-06-17T09:00:00+08:00","status":"issued","cert_type":"DV","issued_at":"2026-06-03T10:00:00+08:00"}"#,
    ),
    case(
        "alibaba-ssl-revoke",
        "revoke",
        "denied",
        r#"{"id":"rv-d","requested_at":"2026-06-17T09:00:00+08:00","status":"revoking","issued_at":"2026-06-03T10:00:00+08:00"}"#,
    ),
    case(
        "alibaba-ssl-revoke",
        "delete",
        "allowed",
        r#"{"id":"del-a","requested_at":"2025-03-04T01:19:00-05:00","status":"revoked","issued_at":"2024-11-14T06:19:00Z","expires_at":"2025-11-14T06:19:00Z","cert_type":"EV"}"#,
    ),
    case(
        "alibaba-ssl-revoke",
        "delete",
        "denied",
        r#"{"id":"del-d","requested_at":"2025-02-10T20:23:00+08:00","status":"issued","issued_at":"2024-10-19T12:23:00Z","expires_at":"2025-10-18T12:23:00Z"}"#,
    ),
];

#[path = "../../examples/support/order_generator.rs"]
mod order_generator;

/// `count` JSON Lines of legacy-policy orders from `seed`: the same bytes as
/// `cargo run --example generate_orders COUNT SEED`.
pub fn generate_orders(count: u64, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(count as usize * 240);
    order_generator::write_orders(&mut out, count, seed).expect("writing to memory");
    out
}
