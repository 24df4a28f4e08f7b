//! `policies/alibaba-ssl-refund-legacy.policy`, action `refund`: every rule of the six-row table, the
//! calendar-day edges to the second (counted in Asia/Shanghai whatever the input's offset), deadlines,
//! business-day `review_by` across the 2026 holidays, input errors and money.

mod common;

use common::*;
use policy::Policy;
use serde_json::{json, Value};

fn legacy() -> Policy {
    policy("alibaba-ssl-refund-legacy")
}

const PAID: &str = "2024-12-01T12:00:00+08:00";
/// Issued on 2 December (Shanghai): the 28th calendar day after is 30 December.
const ISSUED: &str = "2024-12-02T10:00:00+08:00";
const EXPIRES: &str = "2025-12-02T10:00:00+08:00";
/// The start of the 29th calendar day after issuance.
const DAY_29: &str = "2024-12-31T00:00:00+08:00";

fn base() -> Value {
    json!({ "id": "ali-1", "paid_at": PAID, "price": "80.00", "status": "pending_application" })
}

fn unissued(status: &str) -> Value {
    with(&base(), json!({ "status": status }))
}

/// An issued (or revoking, revoked) certificate with a one-year life.
fn issued(status: &str) -> Value {
    with(
        &base(),
        json!({ "status": status, "issued_at": ISSUED, "expires_at": EXPIRES }),
    )
}

fn revoked(revoked_at: &str) -> Value {
    with(&issued("revoked"), json!({ "revoked_at": revoked_at }))
}

fn rule_of(order: &Value, at: &str) -> String {
    let d = decide(&legacy(), "refund", order, at);
    d["rule"].as_str().unwrap_or_default().to_string()
}

// ------------------------------------------------------------------ rule 1: free DV certificates

#[test]
fn rule_1_free_certificates_are_denied_even_when_row_1_would_allow() {
    let order = with(&base(), json!({ "free": true }));
    let d = decide(&legacy(), "refund", &order, "2024-12-02T12:00:00+08:00");
    assert_refused(&d, "denied", "free_certificate");
    assert_fields(
        &d,
        json!({ "order": "ali-1", "policy": "alibaba-ssl-refund-legacy", "action": "refund" }),
    );
    let d = decide(
        &legacy(),
        "refund",
        &with(&issued("issued"), json!({ "free": true })),
        "2024-12-03T00:00:00+08:00",
    );
    assert_refused(&d, "denied", "free_certificate");
}

// ------------------------------------------------------------------ rule 2: row 6, expired

#[test]
fn rule_2_status_expired_is_denied() {
    let d = decide(
        &legacy(),
        "refund",
        &unissued("expired"),
        "2024-12-02T12:00:00+08:00",
    );
    assert_refused(&d, "denied", "expired");
}

#[test]
fn rule_2_expiry_edge_request_at_expires_at_is_denied_one_second_before_is_not() {
    // Issued 11 days before expiry: still inside the 28 days, so expiry is what ends it.
    let order = with(
        &base(),
        json!({
            "paid_at": "2025-11-19T10:00:00+08:00", "status": "issued",
            "issued_at": "2025-11-20T10:00:00+08:00", "expires_at": "2025-12-01T12:00:00+08:00",
        }),
    );
    for before in [
        "2025-12-01T11:59:59+08:00",
        "2025-12-01T03:59:59Z",
        "2025-11-30T22:59:59-05:00",
    ] {
        assert_decides(
            &legacy(),
            &order,
            before,
            json!({
                "outcome": "conditional", "rule": "issued_within_28_days",
                "deadline": "2025-12-01T12:00:00+08:00", "review_by": "2025-12-22",
            }),
        );
    }
    for at in [
        "2025-12-01T12:00:00+08:00",
        "2025-12-01T04:00:00Z",
        "2025-11-30T23:00:00-05:00",
    ] {
        let d = decide(&legacy(), "refund", &order, at);
        assert_refused(&d, "denied", "expired");
    }
    // The same instant of expiry written in another offset.
    let z = with(&order, json!({ "expires_at": "2025-12-01T04:00:00Z" }));
    assert_eq!(
        rule_of(&z, "2025-12-01T11:59:59+08:00"),
        "issued_within_28_days"
    );
    assert_eq!(rule_of(&z, "2025-12-01T12:00:00+08:00"), "expired");
}

#[test]
fn rule_2_expiry_comes_before_every_unissued_row() {
    let order = with(
        &unissued("verifying"),
        json!({ "expires_at": "2024-12-04T12:00:00+08:00" }),
    );
    // Within 5 days of purchase, row 1 decides until the very instant of expiry.
    assert_decides(
        &legacy(),
        &order,
        "2024-12-04T11:59:59+08:00",
        json!({ "rule": "unissued_within_5_days", "deadline": "2024-12-04T12:00:00+08:00" }),
    );
    let d = decide(&legacy(), "refund", &order, "2024-12-04T12:00:00+08:00");
    assert_refused(&d, "denied", "expired");
    let validated = with(&order, json!({ "status": "validated" }));
    let d = decide(&legacy(), "refund", &validated, "2024-12-05T00:00:00+08:00");
    assert_refused(&d, "denied", "expired");
}

// ------------------------------------------------------------------ rule 3: row 1

#[test]
fn rule_3_row_1_unissued_within_5_days_is_allowed_without_review() {
    for s in ["pending_application", "verifying", "validation_failed"] {
        let d = assert_decides(
            &legacy(),
            &unissued(s),
            "2024-12-03T10:00:00+08:00",
            json!({
                "order": "ali-1", "policy": "alibaba-ssl-refund-legacy", "action": "refund",
                "outcome": "allowed", "rule": "unissued_within_5_days", "amount": "80.00",
                "currency": "USD", "refund_to": "original_payment", "requires": [],
                "review": "none", "review_by": null, "next_status": "validating_application",
                // No expires_at: an unissued certificate never expires, and row 2 follows row 1.
                "deadline": null, "values": {},
            }),
        );
        let cites_row_1 = d["because"].as_array().is_some_and(|reasons| {
            reasons.iter().any(|r| {
                r.as_str().is_some_and(|r| {
                    r.contains("001_86fb7d0da227c742.txt") && r.contains("Table row 1")
                })
            })
        });
        assert!(cites_row_1, "{d:#}");
    }
}

#[test]
fn rule_3_deadline_with_an_expiry_is_where_row_3_starts() {
    // Expiry far away: after day 5 row 2 allows; denied from 15 calendar days before expiry.
    let far = with(
        &unissued("verifying"),
        json!({ "expires_at": "2025-12-01T12:00:00+08:00" }),
    );
    assert_decides(
        &legacy(),
        &far,
        "2024-12-03T10:00:00+08:00",
        json!({ "rule": "unissued_within_5_days", "deadline": "2025-11-16T00:00:00+08:00" }),
    );
    // Expiry close: when row 1 ends (day 6), row 3 denies at once.
    let near = with(
        &unissued("verifying"),
        json!({ "expires_at": "2024-12-20T12:00:00+08:00" }),
    );
    assert_decides(
        &legacy(),
        &near,
        "2024-12-03T10:00:00+08:00",
        json!({ "rule": "unissued_within_5_days", "deadline": "2024-12-07T00:00:00+08:00" }),
    );
}

#[test]
fn five_day_edge_23_59_59_of_day_5_against_00_00_00_of_day_6_in_shanghai() {
    // Paid 1 December (Shanghai): day 5 is 6 December.
    for (request, rule) in [
        ("2024-12-06T23:59:59+08:00", "unissued_within_5_days"),
        ("2024-12-06T15:59:59Z", "unissued_within_5_days"),
        ("2024-12-06T10:59:59-05:00", "unissued_within_5_days"),
        ("2024-12-07T00:00:00+08:00", "unissued_after_5_days"),
        ("2024-12-06T16:00:00Z", "unissued_after_5_days"),
        // Still 6 December in New York, already 7 December in Shanghai.
        ("2024-12-06T11:00:00-05:00", "unissued_after_5_days"),
    ] {
        assert_eq!(
            rule_of(&unissued("verifying"), request),
            rule,
            "request at {request}"
        );
    }
}

#[test]
fn calendar_days_of_paid_at_are_taken_in_shanghai_whatever_its_offset() {
    // 20:00 on 1 December in New York is 09:00 on 2 December in Shanghai: day 5 is 7 December.
    let ny = with(
        &unissued("verifying"),
        json!({ "paid_at": "2024-12-01T20:00:00-05:00" }),
    );
    assert_eq!(
        rule_of(&ny, "2024-12-07T23:59:59+08:00"),
        "unissued_within_5_days"
    );
    assert_eq!(
        rule_of(&ny, "2024-12-08T00:00:00+08:00"),
        "unissued_after_5_days"
    );
    // 16:00 on 30 November UTC is midnight on 1 December in Shanghai: day 5 is 6 December.
    let utc = with(
        &unissued("verifying"),
        json!({ "paid_at": "2024-11-30T16:00:00Z" }),
    );
    assert_eq!(
        rule_of(&utc, "2024-12-06T23:59:59+08:00"),
        "unissued_within_5_days"
    );
    assert_eq!(
        rule_of(&utc, "2024-12-07T00:00:00+08:00"),
        "unissued_after_5_days"
    );
    // One second earlier it is still 30 November in Shanghai: day 5 is 5 December.
    let early = with(
        &unissued("verifying"),
        json!({ "paid_at": "2024-11-30T15:59:59Z" }),
    );
    assert_eq!(
        rule_of(&early, "2024-12-05T23:59:59+08:00"),
        "unissued_within_5_days"
    );
    assert_eq!(
        rule_of(&early, "2024-12-06T00:00:00+08:00"),
        "unissued_after_5_days"
    );
}

// ------------------------------------------------------------------ rule 4: row 2

#[test]
fn rule_4_row_2_unissued_after_5_days_is_allowed_after_manual_validation() {
    for s in ["pending_application", "verifying", "validation_failed"] {
        assert_decides(
            &legacy(),
            &unissued(s),
            "2024-12-07T00:00:00+08:00",
            json!({
                "outcome": "allowed", "rule": "unissued_after_5_days", "amount": "80.00",
                "currency": "USD", "refund_to": "original_payment", "requires": [],
                "review": "manual", "review_by": "2024-12-27",
                "next_status": "validating_application", "deadline": null,
            }),
        );
    }
}

#[test]
fn fifteen_days_before_expiry_edge_row_2_against_row_3() {
    // Expires 30 June 2025 (Shanghai): 16 days before is 14 June, 15 days before is 15 June.
    let order = with(
        &unissued("verifying"),
        json!({ "paid_at": "2025-01-02T10:00:00+08:00", "expires_at": "2025-06-30T12:00:00+08:00" }),
    );
    for before in [
        "2025-06-14T23:59:59+08:00",
        "2025-06-14T15:59:59Z",
        "2025-06-14T10:59:59-05:00",
    ] {
        assert_decides(
            &legacy(),
            &order,
            before,
            json!({
                "outcome": "allowed", "rule": "unissued_after_5_days", "review": "manual",
                "review_by": "2025-07-04", "deadline": "2025-06-15T00:00:00+08:00",
            }),
        );
    }
    for after in [
        "2025-06-15T00:00:00+08:00",
        "2025-06-14T16:00:00Z",
        "2025-06-14T11:00:00-05:00",
    ] {
        let d = decide(&legacy(), "refund", &order, after);
        assert_refused(&d, "denied", "unissued_near_expiry");
    }
    // expires_at given in New York time on 29 June is 30 June in Shanghai: the same edge.
    let ny = with(&order, json!({ "expires_at": "2025-06-29T21:00:00-05:00" }));
    assert_eq!(
        rule_of(&ny, "2025-06-14T23:59:59+08:00"),
        "unissued_after_5_days"
    );
    assert_eq!(
        rule_of(&ny, "2025-06-15T00:00:00+08:00"),
        "unissued_near_expiry"
    );
}

// ------------------------------------------------------------------ rule 5: row 3

#[test]
fn rule_5_row_3_unissued_within_15_days_of_expiry_is_denied_validated_or_not() {
    let order = with(
        &base(),
        json!({ "expires_at": "2024-12-20T12:00:00+08:00" }),
    );
    for s in [
        "pending_application",
        "verifying",
        "validation_failed",
        "validated",
    ] {
        let d = decide(
            &legacy(),
            "refund",
            &with(&order, json!({ "status": s })),
            "2024-12-10T00:00:00+08:00",
        );
        assert_refused(&d, "denied", "unissued_near_expiry");
    }
    // One second before expiry it is still row 3; at expiry it is row 6.
    let d = decide(&legacy(), "refund", &order, "2024-12-20T11:59:59+08:00");
    assert_refused(&d, "denied", "unissued_near_expiry");
    let d = decide(&legacy(), "refund", &order, "2024-12-20T12:00:00+08:00");
    assert_refused(&d, "denied", "expired");
}

// ------------------------------------------------------------------ rule 6: row 4, revoked

#[test]
fn rule_6_row_4_revoked_within_28_days_is_allowed_after_manual_validation() {
    assert_decides(
        &legacy(),
        &revoked("2024-12-20T10:00:00+08:00"),
        "2025-01-10T10:00:00+08:00",
        json!({
            "outcome": "allowed", "rule": "revoked_within_28_days", "amount": "80.00",
            "currency": "USD", "refund_to": "original_payment", "requires": [],
            "review": "manual", "review_by": "2025-02-07",
            "next_status": "validating_application",
            // Only expiry can end it now.
            "deadline": EXPIRES,
        }),
    );
    let no_expiry = without(&revoked("2024-12-20T10:00:00+08:00"), &["expires_at"]);
    assert_decides(
        &legacy(),
        &no_expiry,
        "2025-01-10T10:00:00+08:00",
        json!({ "outcome": "allowed", "rule": "revoked_within_28_days", "deadline": null }),
    );
}

#[test]
fn revoked_at_edge_28_calendar_days_after_issuance() {
    let at = "2025-01-10T10:00:00+08:00";
    for (revoked_at, rule) in [
        ("2024-12-30T23:59:59+08:00", "revoked_within_28_days"),
        ("2024-12-30T15:59:59Z", "revoked_within_28_days"),
        ("2024-12-30T10:59:59-05:00", "revoked_within_28_days"),
        ("2024-12-31T00:00:00+08:00", "issued_after_28_days"),
        ("2024-12-30T16:00:00Z", "issued_after_28_days"),
        ("2024-12-30T11:00:00-05:00", "issued_after_28_days"),
    ] {
        let d = decide(&legacy(), "refund", &revoked(revoked_at), at);
        assert_eq!(d["rule"], rule, "revoked_at {revoked_at}: {d:#}");
        if rule == "issued_after_28_days" {
            assert_refused(&d, "denied", rule);
        }
    }
    // issued_at in New York on 1 December is 2 December in Shanghai: the same edge.
    let ny = with(
        &revoked("2024-12-30T23:59:59+08:00"),
        json!({ "issued_at": "2024-12-01T20:00:00-05:00" }),
    );
    assert_eq!(rule_of(&ny, at), "revoked_within_28_days");
    let ny = with(&ny, json!({ "revoked_at": "2024-12-31T00:00:00+08:00" }));
    assert_eq!(rule_of(&ny, at), "issued_after_28_days");
}

// ------------------------------------------------------------------ rule 7: row 4, issued

#[test]
fn rule_7_row_4_issued_within_28_days_needs_revocation() {
    assert_decides(
        &legacy(),
        &issued("issued"),
        "2024-12-05T10:00:00+08:00",
        json!({
            "outcome": "conditional", "rule": "issued_within_28_days", "requires": ["revoke"],
            "amount": "80.00", "currency": "USD", "refund_to": "original_payment",
            "review": "manual", "review_by": "2024-12-26",
            "next_status": "validating_application", "deadline": DAY_29,
        }),
    );
}

#[test]
fn issued_edge_23_59_59_of_day_28_against_00_00_00_of_day_29() {
    for status in ["issued", "revoking"] {
        let within = if status == "issued" {
            "issued_within_28_days"
        } else {
            "revoking_within_28_days"
        };
        for (request, rule) in [
            ("2024-12-30T23:59:59+08:00", within),
            ("2024-12-30T15:59:59Z", within),
            ("2024-12-30T10:59:59-05:00", within),
            ("2024-12-31T00:00:00+08:00", "issued_after_28_days"),
            ("2024-12-30T16:00:00Z", "issued_after_28_days"),
            ("2024-12-30T11:00:00-05:00", "issued_after_28_days"),
        ] {
            let d = decide(&legacy(), "refund", &issued(status), request);
            assert_eq!(d["rule"], rule, "{status} at {request}: {d:#}");
            if rule == within {
                assert_fields(
                    &d,
                    json!({ "outcome": "conditional", "deadline": DAY_29, "review_by": "2025-01-21" }),
                );
            } else {
                assert_refused(&d, "denied", rule);
            }
        }
    }
    // issued_at at 20:00 in New York on 1 December is 2 December in Shanghai.
    let ny = with(
        &issued("issued"),
        json!({ "issued_at": "2024-12-01T20:00:00-05:00" }),
    );
    assert_decides(
        &legacy(),
        &ny,
        "2024-12-30T23:59:59+08:00",
        json!({ "rule": "issued_within_28_days", "deadline": DAY_29 }),
    );
    assert_eq!(
        rule_of(&ny, "2024-12-31T00:00:00+08:00"),
        "issued_after_28_days"
    );
}

// ------------------------------------------------------------------ rules 8 and 9: rows 5 and 4

#[test]
fn rule_9_revoking_within_28_days_awaits_the_revocation() {
    assert_decides(
        &legacy(),
        &issued("revoking"),
        "2024-12-05T10:00:00+08:00",
        json!({
            "outcome": "conditional", "rule": "revoking_within_28_days",
            "requires": ["await_revocation"], "amount": "80.00", "refund_to": "original_payment",
            "review": "manual", "review_by": "2024-12-26",
            "next_status": "validating_application", "deadline": DAY_29,
        }),
    );
}

#[test]
fn rule_8_row_5_more_than_28_days_after_issuance_is_denied() {
    for status in ["issued", "revoking"] {
        let d = decide(
            &legacy(),
            "refund",
            &issued(status),
            "2025-03-01T10:00:00+08:00",
        );
        assert_refused(&d, "denied", "issued_after_28_days");
    }
    let d = decide(
        &legacy(),
        "refund",
        &revoked("2025-02-01T10:00:00+08:00"),
        "2025-03-01T10:00:00+08:00",
    );
    assert_refused(&d, "denied", "issued_after_28_days");
}

#[test]
fn issued_without_expiry_has_the_28_day_deadline() {
    let order = without(&issued("issued"), &["expires_at"]);
    assert_decides(
        &legacy(),
        &order,
        "2024-12-05T10:00:00+08:00",
        json!({ "outcome": "conditional", "deadline": DAY_29 }),
    );
}

// ------------------------------------------------------------------ rule 10: the table's gap

#[test]
fn rule_10_validated_far_from_expiry_is_undetermined() {
    for (order, at) in [
        (unissued("validated"), "2024-12-02T10:00:00+08:00"),
        (unissued("validated"), "2024-12-20T10:00:00+08:00"),
        (
            with(
                &unissued("validated"),
                json!({ "expires_at": "2025-12-01T12:00:00+08:00" }),
            ),
            "2024-12-20T10:00:00+08:00",
        ),
    ] {
        let d = decide(&legacy(), "refund", &order, at);
        assert_refused(&d, "undetermined", "validated_not_issued");
    }
}

// ------------------------------------------------------------------ business days

/// `review_by` of a row-2 refund requested at `request`.
fn review_by(paid_at: &str, request: &str) -> String {
    let order = with(&unissued("verifying"), json!({ "paid_at": paid_at }));
    let d = decide(&legacy(), "refund", &order, request);
    assert_eq!(d["rule"], "unissued_after_5_days", "{d:#}");
    d["review_by"].as_str().unwrap_or_default().to_string()
}

#[test]
fn review_by_counts_15_working_days_across_the_2026_spring_festival() {
    // Holidays 15-23 February 2026; Saturdays 14 and 28 February are working days.
    let paid = "2026-01-20T10:00:00+08:00";
    for (request, expected) in [
        // Fri 6 Feb: 9-13 (5), Sat 14 (6), 24-27 (10), Sat 28 (11), 2-5 March (15).
        ("2026-02-06T10:00:00+08:00", "2026-03-05"),
        // Fri 13 Feb: Sat 14 (1), 24-27 (5), Sat 28 (6), 2-6 March (11), 9-12 March (15).
        ("2026-02-13T10:00:00+08:00", "2026-03-12"),
        // Sat 14 Feb, itself a working day, is not counted: 24-27 (4), Sat 28 (5), 2-6 (10), 9-13 (15).
        ("2026-02-14T10:00:00+08:00", "2026-03-13"),
        // Wed 18 Feb, in the holiday: as from 14 February.
        ("2026-02-18T10:00:00+08:00", "2026-03-13"),
        // 23:59:59 on 13 February in Shanghai against midnight of the 14th, written in UTC.
        ("2026-02-13T15:59:59Z", "2026-03-12"),
        ("2026-02-13T16:00:00Z", "2026-03-13"),
        // Noon on 13 February in New York is 01:00 on the 14th in Shanghai.
        ("2026-02-13T12:00:00-05:00", "2026-03-13"),
    ] {
        assert_eq!(review_by(paid, request), expected, "request at {request}");
    }
}

#[test]
fn review_by_counts_15_working_days_across_the_2026_national_day() {
    // Holidays 25-27 September and 1-7 October 2026; Sun 20 September and Sat 10 October are working days.
    let paid = "2026-09-01T10:00:00+08:00";
    for (request, expected) in [
        // Fri 11 Sep: 14-18 (5), Sun 20 (6), 21-24 (10), 28-30 (13), 8-9 October (15).
        ("2026-09-11T10:00:00+08:00", "2026-10-09"),
        // Fri 18 Sep: Sun 20 (1), 21-24 (5), 28-30 (8), 8-9 Oct (10), Sat 10 (11), 12-15 (15).
        ("2026-09-18T10:00:00+08:00", "2026-10-15"),
        // Sat 19 Sep, a rest day: the same.
        ("2026-09-19T10:00:00+08:00", "2026-10-15"),
        // Mon 21 Sep: 22-24 (3), 28-30 (6), 8-9 (8), Sat 10 (9), 12-16 (14), Mon 19 (15).
        ("2026-09-21T10:00:00+08:00", "2026-10-19"),
        // Wed 30 Sep: 8-9 (2), Sat 10 (3), 12-16 (8), 19-23 (13), 26-27 (15).
        ("2026-09-30T10:00:00+08:00", "2026-10-27"),
        // Fri 9 Oct: Sat 10 (1), 12-16 (6), 19-23 (11), 26-29 (15).
        ("2026-10-09T10:00:00+08:00", "2026-10-29"),
        // 18:00 on Friday 18 September in New York is Saturday 19 September in Shanghai.
        ("2026-09-18T18:00:00-05:00", "2026-10-15"),
    ] {
        assert_eq!(review_by(paid, request), expected, "request at {request}");
    }
}

#[test]
fn review_by_of_issued_and_revoked_rows_uses_the_same_count() {
    let order = with(
        &base(),
        json!({
            "paid_at": "2026-09-14T10:00:00+08:00", "status": "issued",
            "issued_at": "2026-09-15T10:00:00+08:00", "expires_at": "2027-09-15T10:00:00+08:00",
        }),
    );
    // 15 September + 28 calendar days = 13 October; denied from 14 October.
    assert_decides(
        &legacy(),
        &order,
        "2026-09-18T10:00:00+08:00",
        json!({
            "rule": "issued_within_28_days", "review_by": "2026-10-15",
            "deadline": "2026-10-14T00:00:00+08:00",
        }),
    );
    let revoked = with(
        &order,
        json!({ "status": "revoked", "revoked_at": "2026-10-13T23:59:59+08:00" }),
    );
    assert_decides(
        &legacy(),
        &revoked,
        "2026-10-09T10:00:00+08:00",
        json!({ "rule": "revoked_within_28_days", "review_by": "2026-10-29", "deadline": "2027-09-15T10:00:00+08:00" }),
    );
}

#[test]
fn review_by_outside_the_calendar_is_an_evaluation_error() {
    let paid = "2026-12-01T10:00:00+08:00";
    // Thu 10 December 2026 + 15 working days = Thu 31 December, the calendar's last day.
    assert_eq!(review_by(paid, "2026-12-10T10:00:00+08:00"), "2026-12-31");
    // From the 11th the count leaves the calendar (2027): the whole order is an error.
    let order = with(&unissued("verifying"), json!({ "paid_at": paid }));
    let message = decide_err(&legacy(), "refund", &order, "2026-12-11T10:00:00+08:00");
    assert_mentions(
        &message,
        &[
            "order `ali-1`",
            "calendar `cn`",
            "2027-01-01",
            "2018-01-01 to 2026-12-31",
        ],
    );
    // Row 1 consults no working day: fine on the calendar's last day.
    let row_1 = with(
        &unissued("verifying"),
        json!({ "paid_at": "2026-12-28T10:00:00+08:00" }),
    );
    assert_eq!(
        rule_of(&row_1, "2026-12-31T10:00:00+08:00"),
        "unissued_within_5_days"
    );
}

#[test]
fn review_by_consults_only_the_days_it_counts() {
    let paid = "2017-12-01T12:00:00+08:00";
    // Sun 31 December 2017 lies before the calendar, but only the days after it are consulted:
    // 1 January is a holiday, 2-5 (4), 8-12 (9), 15-19 (14), Mon 22 January (15).
    assert_eq!(review_by(paid, "2017-12-31T10:00:00+08:00"), "2018-01-22");
    // Midnight of 31 December in Shanghai, still 30 December in UTC.
    assert_eq!(review_by(paid, "2017-12-30T16:00:00Z"), "2018-01-22");
    // From Fri 29 December the count consults 30 December 2017: outside the calendar.
    let order = with(&unissued("verifying"), json!({ "paid_at": paid }));
    let message = decide_err(&legacy(), "refund", &order, "2017-12-29T10:00:00+08:00");
    assert_mentions(&message, &["order `ali-1`", "calendar `cn`", "2017-12-30"]);
}

// ------------------------------------------------------------------ money

#[test]
fn only_cash_is_refunded_rounded_half_away_from_zero() {
    let at = "2024-12-02T10:00:00+08:00";
    for (price, voucher, coupon, amount) in [
        ("100.00", "15.50", "4.50", "80.00"),
        ("10.005", "0", "0", "10.01"),
        ("10.004", "0", "0", "10.00"),
        ("99.999", "0.004", "0", "100.00"),
        ("99.994", "0.000", "0", "99.99"),
    ] {
        let order = with(
            &base(),
            json!({ "price": price, "voucher": voucher, "coupon": coupon }),
        );
        let d = decide(&legacy(), "refund", &order, at);
        assert_eq!(d["amount"], amount, "{price} - {voucher} - {coupon}: {d:#}");
    }
    let text = format!(
        r#"{{"id": "n", "paid_at": "{PAID}", "price": 80.1, "voucher": 0.105, "status": "verifying", "currency": "CNY"}}"#
    );
    let order: Value = serde_json::from_str(&text).unwrap();
    assert_decides(
        &legacy(),
        &order,
        at,
        json!({ "amount": "80.00", "currency": "CNY" }),
    );
}

// ------------------------------------------------------------------ input errors

const AT: &str = "2024-12-03T10:00:00+08:00";

fn error_of(order: &Value) -> String {
    decide_err(&legacy(), "refund", order, AT)
}

#[test]
fn missing_required_fields_are_named() {
    for field in ["paid_at", "price", "status"] {
        let message = error_of(&without(&base(), &[field]));
        assert_mentions(
            &message,
            &["order `ali-1`", &format!("field `{field}`"), "missing"],
        );
    }
}

#[test]
fn issued_at_is_required_for_issued_revoking_revoked_even_when_an_earlier_rule_decides() {
    for status in ["issued", "revoking", "revoked"] {
        let order = without(&issued(status), &["issued_at"]);
        let order = with(&order, json!({ "revoked_at": "2024-12-02T12:00:00+08:00" }));
        assert_mentions(
            &error_of(&order),
            &["order `ali-1`", "field `issued_at`", "missing"],
        );
        // Rule 1 (free) would deny without it.
        let free = with(&order, json!({ "free": true }));
        assert_mentions(
            &error_of(&free),
            &["order `ali-1`", "field `issued_at`", "missing"],
        );
        // Rule 2 (expired) would deny without it.
        let past = with(&order, json!({ "expires_at": "2024-12-02T12:00:00+08:00" }));
        assert_mentions(
            &error_of(&past),
            &["order `ali-1`", "field `issued_at`", "missing"],
        );
    }
    // `expired` is not in the list: no issued_at needed.
    let d = decide(&legacy(), "refund", &unissued("expired"), AT);
    assert_eq!(d["rule"], "expired");
}

#[test]
fn revoked_at_is_required_when_revoked_even_when_an_earlier_rule_decides() {
    let order = issued("revoked");
    assert_mentions(
        &error_of(&order),
        &["order `ali-1`", "field `revoked_at`", "missing"],
    );
    let free = with(&order, json!({ "free": true }));
    assert_mentions(
        &error_of(&free),
        &["order `ali-1`", "field `revoked_at`", "missing"],
    );
    let status_expired = with(&order, json!({ "expires_at": "2024-12-03T00:00:00+08:00" }));
    assert_mentions(
        &error_of(&status_expired),
        &["field `revoked_at`", "missing"],
    );
}

#[test]
fn a_timestamp_without_offset_is_an_error() {
    for field in [
        "paid_at",
        "requested_at",
        "issued_at",
        "expires_at",
        "revoked_at",
    ] {
        let order = with(&base(), json!({ field: "2024-12-02T10:00:00" }));
        assert_mentions(
            &error_of(&order),
            &["order `ali-1`", &format!("field `{field}`"), "no offset"],
        );
    }
}

#[test]
fn an_unknown_status_lists_the_policys_statuses() {
    let message = error_of(&unissued("pending_domain_verification"));
    assert_mentions(
        &message,
        &[
            "order `ali-1`", "field `status`", "`pending_domain_verification`",
            "pending_application, verifying, validation_failed, validated, issued, revoking, revoked, expired",
        ],
    );
}

#[test]
fn negative_money_and_vouchers_above_the_price_are_errors() {
    let message = error_of(&with(&base(), json!({ "voucher": "-0.01" })));
    assert_mentions(&message, &["order `ali-1`", "field `voucher`", "negative"]);
    let message = error_of(&with(
        &base(),
        json!({ "price": "10", "voucher": "6", "coupon": "4.001" }),
    ));
    assert_mentions(
        &message,
        &[
            "order `ali-1`",
            "`voucher`",
            "`coupon`",
            "`price`",
            "exceed",
        ],
    );
}

#[test]
fn type_errors_name_the_field() {
    for (field, value, problem) in [
        ("price", json!(false), "a boolean"),
        ("coupon", json!("ten"), "`ten`"),
        ("free", json!("yes"), "a boolean"),
        ("free", json!(1), "a number"),
        ("paid_at", json!(1733025600), "a number"),
        ("currency", json!(["USD"]), "an array"),
    ] {
        let message = error_of(&with(&base(), json!({ field: value })));
        assert_mentions(
            &message,
            &["order `ali-1`", &format!("field `{field}`"), problem],
        );
    }
}

#[test]
fn an_id_that_is_not_a_string_is_an_error() {
    let message = error_of(&with(&base(), json!({ "id": 7 })));
    assert_mentions(
        &message,
        &["order (no id)", "field `id`", "a string", "a number"],
    );
}
