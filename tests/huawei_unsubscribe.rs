//! `policies/huawei-scm-unsubscribe.policy`, action `refund`: every rule, the 7 x 24 hour window to the
//! second in several offsets, the contract's fields, input errors and money.

mod common;

use common::*;
use policy::Policy;
use serde_json::{json, Value};

const PAID: &str = "2024-12-01T12:00:00+08:00";
/// `paid_at + 168h`: the instant the window closes, and every allowed or conditional decision's deadline.
const CLOSES: &str = "2024-12-08T12:00:00+08:00";

fn huawei() -> Policy {
    policy("huawei-scm-unsubscribe")
}

fn base() -> Value {
    json!({
        "id": "hw-1",
        "paid_at": PAID,
        "price": "80.00",
        "status": "pending_application",
        "purchased_on": "scm_console",
    })
}

fn status(s: &str) -> Value {
    with(&base(), json!({ "status": s }))
}

// ------------------------------------------------------------------ rules, one by one

#[test]
fn rule_1_not_purchased_on_console_is_denied_even_when_everything_else_fits() {
    let d = decide(
        &huawei(),
        "refund",
        &with(&base(), json!({ "purchased_on": "other" })),
        "2024-12-02T12:00:00+08:00",
    );
    assert_refused(&d, "denied", "not_purchased_on_console");
    assert_fields(
        &d,
        json!({ "order": "hw-1", "policy": "huawei-scm-unsubscribe", "action": "refund" }),
    );
}

#[test]
fn rule_2_window_closed_is_denied_whatever_the_status() {
    for s in [
        "pending_application",
        "issued",
        "revoking",
        "ca_verifying_withdrawal",
    ] {
        let d = decide(&huawei(), "refund", &status(s), "2024-12-09T00:00:00+08:00");
        assert_refused(&d, "denied", "window_closed");
    }
}

#[test]
fn rule_3_pending_application_is_allowed_with_every_default() {
    let d = decide(&huawei(), "refund", &base(), "2024-12-02T09:30:00+08:00");
    assert_fields(
        &d,
        json!({
            "order": "hw-1", "policy": "huawei-scm-unsubscribe", "action": "refund",
            "outcome": "allowed", "amount": "80.00", "currency": "USD",
            "refund_to": "original_payment", "requires": [], "review": "manual", "review_by": null,
            "deadline": CLOSES, "next_status": "deleted", "values": {}, "rule": "pending_application",
        }),
    );
    let because = d["because"].as_array().unwrap();
    assert!(because
        .iter()
        .any(|b| b.as_str().unwrap().contains("000_1824c3b9d2eb9c8f.txt")));
}

#[test]
fn rule_4_revoked_in_window_is_allowed() {
    let order = with(
        &status("revoked"),
        json!({ "revoked_at": "2024-12-05T10:00:00+08:00" }),
    );
    assert_decides(
        &huawei(),
        &order,
        "2024-12-06T10:00:00+08:00",
        json!({
            "outcome": "allowed", "rule": "revoked_in_window", "amount": "80.00", "currency": "USD",
            "requires": [], "review": "manual", "review_by": null, "refund_to": "original_payment",
            "next_status": "deleted", "deadline": CLOSES,
        }),
    );
}

#[test]
fn rule_4_revoked_at_edge_second_before_and_at_paid_at_plus_168h() {
    let at = "2024-12-08T11:59:59+08:00";
    for (revoked_at, rule) in [
        ("2024-12-08T11:59:59+08:00", "revoked_in_window"),
        ("2024-12-08T03:59:59Z", "revoked_in_window"),
        ("2024-12-07T22:59:59-05:00", "revoked_in_window"),
        ("2024-12-08T12:00:00+08:00", "revoked_too_late"),
        ("2024-12-08T04:00:00Z", "revoked_too_late"),
        ("2024-12-07T23:00:00-05:00", "revoked_too_late"),
    ] {
        let order = with(&status("revoked"), json!({ "revoked_at": revoked_at }));
        let d = decide(&huawei(), "refund", &order, at);
        assert_eq!(d["rule"], rule, "revoked_at {revoked_at}: {d:#}");
        if rule == "revoked_too_late" {
            assert_refused(&d, "denied", rule);
        } else {
            assert_fields(&d, json!({ "outcome": "allowed", "deadline": CLOSES }));
        }
    }
}

#[test]
fn rule_5_application_in_progress_needs_withdrawal() {
    for s in [
        "pending_domain_verification",
        "pending_organization_verification",
        "ca_verifying_domain_addition",
    ] {
        assert_decides(
            &huawei(),
            &status(s),
            "2024-12-03T12:00:00+08:00",
            json!({
                "outcome": "conditional", "rule": "application_in_progress",
                "requires": ["withdraw_application"], "amount": "80.00", "currency": "USD",
                "refund_to": "original_payment", "review": "manual", "review_by": null,
                "next_status": "deleted", "deadline": CLOSES,
            }),
        );
    }
}

#[test]
fn rule_6_withdrawal_in_progress_must_complete() {
    assert_decides(
        &huawei(),
        &status("ca_verifying_withdrawal"),
        "2024-12-03T12:00:00+08:00",
        json!({
            "outcome": "conditional", "rule": "withdrawal_in_progress",
            "requires": ["await_withdrawal"], "amount": "80.00", "review": "manual",
            "review_by": null, "next_status": "deleted", "deadline": CLOSES,
        }),
    );
}

#[test]
fn rule_7_issued_must_be_revoked() {
    assert_decides(
        &huawei(),
        &status("issued"),
        "2024-12-03T12:00:00+08:00",
        json!({
            "outcome": "conditional", "rule": "issued", "requires": ["revoke"], "amount": "80.00",
            "refund_to": "original_payment", "review": "manual", "review_by": null,
            "next_status": "deleted", "deadline": CLOSES,
        }),
    );
}

#[test]
fn rule_8_revoking_must_complete() {
    assert_decides(
        &huawei(),
        &status("revoking"),
        "2024-12-03T12:00:00+08:00",
        json!({
            "outcome": "conditional", "rule": "revoking", "requires": ["await_revocation"],
            "amount": "80.00", "review": "manual", "next_status": "deleted", "deadline": CLOSES,
        }),
    );
}

#[test]
fn rule_9_deleting_and_expired_are_denied() {
    for s in ["deleting", "expired"] {
        let d = decide(&huawei(), "refund", &status(s), "2024-12-03T12:00:00+08:00");
        assert_refused(&d, "denied", "other_status");
    }
}

// ------------------------------------------------------------------ the 7 x 24 hour window

#[test]
fn window_document_example_11_58_is_in_time() {
    assert_decides(
        &huawei(),
        &base(),
        "2024-12-08T11:58:00+08:00",
        json!({ "outcome": "allowed", "rule": "pending_application", "deadline": CLOSES }),
    );
}

#[test]
fn window_edge_second_before_and_at_close_in_several_offsets() {
    // The same two instants written in +08:00, Z and -05:00 (where the request is still 7 December).
    for (request, rule) in [
        ("2024-12-08T11:59:59+08:00", "pending_application"),
        ("2024-12-08T03:59:59Z", "pending_application"),
        ("2024-12-07T22:59:59-05:00", "pending_application"),
        ("2024-12-08T12:00:00+08:00", "window_closed"),
        ("2024-12-08T04:00:00Z", "window_closed"),
        ("2024-12-07T23:00:00-05:00", "window_closed"),
    ] {
        let d = decide(&huawei(), "refund", &base(), request);
        assert_eq!(d["rule"], rule, "request at {request}: {d:#}");
        if rule == "window_closed" {
            assert_refused(&d, "denied", rule);
        } else {
            // The deadline is written in the policy's zone, whatever offset the input used.
            assert_fields(&d, json!({ "outcome": "allowed", "deadline": CLOSES }));
        }
    }
}

#[test]
fn window_is_an_exact_duration_from_paid_at_in_any_offset() {
    // Paid at 20:00 on 1 December in New York = 09:00 on 2 December in Shanghai.
    let order = with(&base(), json!({ "paid_at": "2024-12-01T20:00:00-05:00" }));
    let before = decide(&huawei(), "refund", &order, "2024-12-09T08:59:59+08:00");
    assert_fields(
        &before,
        json!({ "outcome": "allowed", "deadline": "2024-12-09T09:00:00+08:00" }),
    );
    let after = decide(&huawei(), "refund", &order, "2024-12-09T01:00:00Z");
    assert_refused(&after, "denied", "window_closed");
}

#[test]
fn requested_at_in_the_order_wins_over_the_default_time() {
    let order = with(
        &base(),
        json!({ "requested_at": "2024-12-08T11:59:59+08:00" }),
    );
    // The default time is long after the window; the order's own request time is inside it.
    let d = decide(&huawei(), "refund", &order, "2025-01-01T00:00:00+08:00");
    assert_fields(
        &d,
        json!({ "outcome": "allowed", "rule": "pending_application" }),
    );
    let late = with(&base(), json!({ "requested_at": "2024-12-08T04:00:00Z" }));
    let d = decide(&huawei(), "refund", &late, "2024-12-02T00:00:00+08:00");
    assert_refused(&d, "denied", "window_closed");
}

// ------------------------------------------------------------------ money

#[test]
fn only_the_cash_part_is_refunded_in_the_given_currency() {
    let order = with(
        &base(),
        json!({ "price": "100.00", "voucher": "15.50", "coupon": "4.5", "currency": "CNY" }),
    );
    assert_decides(
        &huawei(),
        &order,
        "2024-12-02T12:00:00+08:00",
        json!({ "amount": "80.00", "currency": "CNY" }),
    );
}

#[test]
fn vouchers_and_coupons_equal_to_the_price_refund_zero() {
    let order = with(
        &base(),
        json!({ "price": "80", "voucher": "30", "coupon": "50" }),
    );
    assert_decides(
        &huawei(),
        &order,
        "2024-12-02T12:00:00+08:00",
        json!({ "outcome": "allowed", "amount": "0.00" }),
    );
}

#[test]
fn money_given_as_json_numbers_is_read_from_its_text() {
    let at = "2024-12-02T12:00:00+08:00";
    for (price, voucher, amount) in [
        ("80.1", "0", "80.10"),
        ("80", "0.1", "79.90"),
        // As an f64, 10.005 is 10.00499999...; read from its text it rounds up.
        ("10.005", "0", "10.01"),
        ("1e2", "0", "100.00"),
        ("8.01E1", "0.10", "80.00"),
        ("0.3", "0.1", "0.20"),
    ] {
        let text = format!(
            r#"{{"id": "num", "paid_at": "{PAID}", "price": {price}, "voucher": {voucher},
                "status": "pending_application", "purchased_on": "scm_console"}}"#
        );
        let order: Value = serde_json::from_str(&text).unwrap();
        let d = decide(&huawei(), "refund", &order, at);
        assert_eq!(
            d["amount"], amount,
            "price {price}, voucher {voucher}: {d:#}"
        );
    }
}

#[test]
fn only_the_refunded_amount_is_rounded_half_away_from_zero() {
    let at = "2024-12-02T12:00:00+08:00";
    for (price, voucher, coupon, amount) in [
        ("10.005", "0", "0", "10.01"),
        ("10.004", "0", "0", "10.00"),
        ("10.0049999", "0", "0", "10.00"),
        // Each part keeps its three decimals; only the difference is rounded: 10.015 - 0.005 - 0.005.
        ("10.015", "0.005", "0.005", "10.01"),
        ("10.014", "0.002", "0.002", "10.01"),
        ("0.005", "0", "0", "0.01"),
    ] {
        let order = with(
            &base(),
            json!({ "price": price, "voucher": voucher, "coupon": coupon }),
        );
        let d = decide(&huawei(), "refund", &order, at);
        assert_eq!(
            d["amount"], amount,
            "price {price} - {voucher} - {coupon}: {d:#}"
        );
    }
}

// ------------------------------------------------------------------ input errors

const AT: &str = "2024-12-02T12:00:00+08:00";

fn error_of(order: &Value) -> String {
    decide_err(&huawei(), "refund", order, AT)
}

#[test]
fn missing_required_fields_are_named() {
    for field in ["paid_at", "price", "status", "purchased_on"] {
        let message = error_of(&without(&base(), &[field]));
        assert_mentions(
            &message,
            &["order `hw-1`", &format!("`{field}`"), "missing"],
        );
        // null is the same as absent.
        let message = error_of(&with(&base(), json!({ field: null })));
        assert_mentions(
            &message,
            &["order `hw-1`", &format!("`{field}`"), "missing"],
        );
    }
}

#[test]
fn every_missing_field_is_reported_at_once() {
    let message = error_of(&without(&base(), &["paid_at", "price"]));
    assert_mentions(&message, &["order `hw-1`", "`paid_at`", "`price`"]);
}

#[test]
fn revoked_at_is_required_when_revoked_even_if_an_earlier_rule_decides() {
    let revoked = status("revoked");
    // Rule 4 would read it.
    let message = error_of(&revoked);
    assert_mentions(
        &message,
        &["order `hw-1`", "`revoked_at`", "missing", "revoked"],
    );
    // Rule 1 would deny without reading it.
    let other = with(&revoked, json!({ "purchased_on": "other" }));
    assert_mentions(
        &error_of(&other),
        &["order `hw-1`", "`revoked_at`", "missing"],
    );
    // Rule 2 would deny without reading it.
    let late = decide_err(&huawei(), "refund", &revoked, "2025-06-01T00:00:00+08:00");
    assert_mentions(&late, &["order `hw-1`", "`revoked_at`", "missing"]);
    // Not required for another status.
    decide(&huawei(), "refund", &status("issued"), AT);
}

#[test]
fn a_timestamp_without_offset_is_an_error_never_a_guess() {
    for field in ["paid_at", "requested_at", "revoked_at"] {
        let order = with(
            &status("revoked"),
            json!({ "revoked_at": "2024-12-03T10:00:00+08:00" }),
        );
        let order = with(&order, json!({ field: "2024-12-02T10:00:00" }));
        let message = error_of(&order);
        assert_mentions(
            &message,
            &[
                "order `hw-1`",
                &format!("`{field}`"),
                "2024-12-02T10:00:00",
                "no offset",
            ],
        );
    }
    let garbage = with(&base(), json!({ "paid_at": "1 December 2024" }));
    assert_mentions(&error_of(&garbage), &["`paid_at`", "RFC 3339"]);
}

#[test]
fn a_declared_field_is_validated_whenever_present() {
    // `revoked_at` is not needed for pending_application, but a malformed one is still an error.
    let order = with(&base(), json!({ "revoked_at": "yesterday" }));
    assert_mentions(
        &error_of(&order),
        &["order `hw-1`", "`revoked_at`", "yesterday"],
    );
    // Unknown fields are ignored, however they look.
    let order = with(&base(), json!({ "grcq_total": "lots", "free": "maybe" }));
    decide(&huawei(), "refund", &order, AT);
}

#[test]
fn an_unknown_status_lists_the_statuses_of_the_policy() {
    let message = error_of(&status("refunded"));
    assert_mentions(
        &message,
        &[
            "order `hw-1`",
            "`status`",
            "`refunded`",
            "pending_application",
            "pending_domain_verification",
            "pending_organization_verification",
            "ca_verifying_domain_addition",
            "ca_verifying_withdrawal",
            "issued",
            "revoking",
            "revoked",
            "deleting",
            "expired",
        ],
    );
    let channel = with(&base(), json!({ "purchased_on": "console" }));
    assert_mentions(
        &error_of(&channel),
        &["`purchased_on`", "`console`", "scm_console, other"],
    );
}

#[test]
fn negative_money_is_an_error() {
    for field in ["price", "voucher", "coupon"] {
        let message = error_of(&with(&base(), json!({ field: "-1.00" })));
        assert_mentions(
            &message,
            &["order `hw-1`", &format!("`{field}`"), "negative"],
        );
    }
    let number: Value = serde_json::from_str(&format!(
        r#"{{"id": "hw-1", "paid_at": "{PAID}", "price": -0.5, "status": "issued", "purchased_on": "other"}}"#
    ))
    .unwrap();
    assert_mentions(&error_of(&number), &["`price`", "negative"]);
}

#[test]
fn vouchers_plus_coupons_above_the_price_is_an_error() {
    let order = with(
        &base(),
        json!({ "price": "80.00", "voucher": "50.00", "coupon": "30.01" }),
    );
    assert_mentions(
        &error_of(&order),
        &[
            "order `hw-1`",
            "`voucher`",
            "`coupon`",
            "`price`",
            "vouchers plus coupons exceed the price",
        ],
    );
}

#[test]
fn money_of_the_wrong_type_is_an_error() {
    for (value, problem) in [
        (json!(true), "a boolean"),
        (json!("eighty"), "`eighty`"),
        (json!("1e2"), "`1e2`"),
        (json!(".5"), "`.5`"),
        (json!(["80.00"]), "an array"),
    ] {
        let message = error_of(&with(&base(), json!({ "price": value })));
        assert_mentions(&message, &["order `hw-1`", "`price`", problem]);
    }
}

#[test]
fn strings_of_the_wrong_type_are_errors() {
    let message = error_of(&with(&base(), json!({ "status": 3 })));
    assert_mentions(
        &message,
        &["order `hw-1`", "`status`", "a string", "a number"],
    );
    let message = error_of(&with(&base(), json!({ "currency": 978 })));
    assert_mentions(&message, &["`currency`", "a number"]);
}

#[test]
fn an_id_that_is_not_a_string_is_an_error_and_the_order_has_no_name() {
    let message = error_of(&with(&base(), json!({ "id": 42 })));
    assert_mentions(&message, &["order (no id)", "`id`", "a string", "a number"]);
    // No id at all is fine: the decision's `order` is null.
    let d = decide(&huawei(), "refund", &without(&base(), &["id"]), AT);
    assert_fields(&d, json!({ "order": null, "outcome": "allowed" }));
}

#[test]
fn an_order_that_is_not_an_object_is_an_error() {
    let message = error_of(&json!(["hw-1"]));
    assert_mentions(&message, &["object", "an array"]);
}

#[test]
fn an_unknown_action_is_an_error_naming_the_actions() {
    let message = decide_err(&huawei(), "withdraw", &base(), AT);
    assert_mentions(&message, &["order `hw-1`", "`withdraw`", "refund"]);
}

// Integers: neither shipped policy here declares one, so a one-field policy shows how they are read.
#[test]
fn integers_are_json_integers() {
    let source = r#"
policy ints
  document "ints.txt" "integers"
  zone "Asia/Shanghai"
field id: string?
field n: int
action count {
  rule some when n > 0 then allowed because "some" cite "n"
  rule none then denied because "none" cite "n"
}
"#;
    let ints = Policy::from_source("ints.policy", source, &Default::default()).unwrap();
    let d = decide(&ints, "count", &json!({ "id": "i", "n": 300 }), AT);
    assert_eq!(d["outcome"], "allowed");
    for (value, problem) in [
        (json!(300.0), "300.0"),
        (json!("300"), "a string"),
        (json!(-1), "negative"),
        (json!(true), "a boolean"),
    ] {
        let message = decide_err(&ints, "count", &json!({ "id": "i", "n": value }), AT);
        assert_mentions(&message, &["order `i`", "`n`", problem]);
    }
}
