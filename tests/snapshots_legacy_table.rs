//! The Alibaba legacy six-row refund table, as the policy decides it: for each published row (and the
//! free-DV note and the table's gap), a few representative orders and their decisions, rendered as a
//! fixed-width text table and pinned with insta.

mod common;

use common::*;
use serde_json::{json, Value};

/// Paid at noon on Sunday 1 December 2024 (Shanghai), issued on 2 December, valid for a year.
fn base() -> Value {
    json!({ "id": "t", "paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00", "voucher": "5.00" })
}

fn unissued(status: &str, requested_at: &str) -> Value {
    with(
        &base(),
        json!({ "status": status, "requested_at": requested_at }),
    )
}

fn issued(status: &str, requested_at: &str) -> Value {
    with(
        &base(),
        json!({
            "status": status, "requested_at": requested_at,
            "issued_at": "2024-12-02T10:00:00+08:00", "expires_at": "2025-12-02T10:00:00+08:00",
        }),
    )
}

/// (row, case, order): the requests carry their own `requested_at`.
fn cases() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "1",
            "pending_application, day 0",
            unissued("pending_application", "2024-12-01T18:00:00+08:00"),
        ),
        (
            "1",
            "verifying, day 5 23:59:59",
            unissued("verifying", "2024-12-06T23:59:59+08:00"),
        ),
        (
            "1",
            "validation_failed, day 5 (in Z), expiry far",
            with(
                &unissued("validation_failed", "2024-12-06T15:59:59Z"),
                json!({ "expires_at": "2025-12-01T12:00:00+08:00" }),
            ),
        ),
        (
            "2",
            "verifying, day 6 00:00:00, no expiry",
            unissued("verifying", "2024-12-07T00:00:00+08:00"),
        ),
        (
            "2",
            "pending_application, 16 days to expiry",
            with(
                &unissued("pending_application", "2025-06-14T23:59:59+08:00"),
                json!({ "expires_at": "2025-06-30T12:00:00+08:00" }),
            ),
        ),
        (
            "2",
            "validation_failed, Fri 2026-02-13 (Spring Festival)",
            with(
                &unissued("validation_failed", "2026-02-13T10:00:00+08:00"),
                json!({ "paid_at": "2026-01-20T10:00:00+08:00" }),
            ),
        ),
        (
            "3",
            "verifying, 15 days to expiry",
            with(
                &unissued("verifying", "2025-06-15T00:00:00+08:00"),
                json!({ "expires_at": "2025-06-30T12:00:00+08:00" }),
            ),
        ),
        (
            "3",
            "validated, 3 days to expiry",
            with(
                &unissued("validated", "2025-06-27T10:00:00+08:00"),
                json!({ "expires_at": "2025-06-30T12:00:00+08:00" }),
            ),
        ),
        (
            "4",
            "revoked on day 28 23:59:59",
            with(
                &issued("revoked", "2025-01-06T10:00:00+08:00"),
                json!({ "revoked_at": "2024-12-30T23:59:59+08:00" }),
            ),
        ),
        (
            "4",
            "issued, day 28 23:59:59",
            issued("issued", "2024-12-30T23:59:59+08:00"),
        ),
        (
            "4",
            "revoking, day 10",
            issued("revoking", "2024-12-12T10:00:00+08:00"),
        ),
        (
            "5",
            "revoked on day 29 00:00:00",
            with(
                &issued("revoked", "2025-01-06T10:00:00+08:00"),
                json!({ "revoked_at": "2024-12-31T00:00:00+08:00" }),
            ),
        ),
        (
            "5",
            "issued, day 29 00:00:00",
            issued("issued", "2024-12-31T00:00:00+08:00"),
        ),
        (
            "5",
            "revoking, day 40",
            issued("revoking", "2025-01-11T10:00:00+08:00"),
        ),
        (
            "6",
            "issued, at expires_at",
            issued("issued", "2025-12-02T10:00:00+08:00"),
        ),
        (
            "6",
            "verifying, 1 s after expires_at",
            with(
                &unissued("verifying", "2024-12-04T12:00:01+08:00"),
                json!({ "expires_at": "2024-12-04T12:00:00+08:00" }),
            ),
        ),
        (
            "6",
            "status expired",
            unissued("expired", "2024-12-02T10:00:00+08:00"),
        ),
        (
            "free",
            "free DV, pending_application, day 0",
            with(
                &unissued("pending_application", "2024-12-01T18:00:00+08:00"),
                json!({ "free": true }),
            ),
        ),
        (
            "gap",
            "validated, day 2, no expiry",
            unissued("validated", "2024-12-03T10:00:00+08:00"),
        ),
        (
            "gap",
            "validated, day 19, 346 days to expiry",
            with(
                &unissued("validated", "2024-12-20T10:00:00+08:00"),
                json!({ "expires_at": "2025-12-01T12:00:00+08:00" }),
            ),
        ),
    ]
}

#[test]
fn legacy_six_row_table() {
    let legacy = policy("alibaba-ssl-refund-legacy");
    let columns = [
        "outcome",
        "amount",
        "requires",
        "review",
        "review_by",
        "deadline",
        "rule",
    ];
    let header: Vec<&str> = ["row", "case"]
        .iter()
        .chain(columns.iter())
        .copied()
        .collect();
    let mut rows = Vec::new();
    for (row, case, order) in cases() {
        // Every order carries `requested_at`; the default time is never used.
        let decision = decide(&legacy, "refund", &order, "2000-01-01T00:00:00+08:00");
        let mut cells = vec![row.to_string(), case.to_string()];
        cells.extend(columns.iter().map(|c| cell(decision.get(*c))));
        rows.push(cells);
    }
    insta::assert_snapshot!("legacy_six_row_table", aligned_table(&header, &rows));
}
