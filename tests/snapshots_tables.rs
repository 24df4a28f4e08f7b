//! Each provider document's own table or list of conditions (all but the legacy Alibaba table, which
//! `snapshots_legacy_table.rs` pins), answered by its shipped policy: one representative order per
//! published row or condition, its key facts and the decision, rendered as a fixed-width text table and
//! pinned with insta. Every order carries `requested_at`, so nothing depends on the clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{aligned_table, cell, with};
use serde_json::{json, Map, Value};

/// Far away from every order's `requested_at`: never used as the request time.
const UNUSED_NOW: &str = "2000-01-01T00:00:00+08:00";

fn load(name: &str) -> policy::Policy {
    common::policy(name)
}

/// The decision's contract JSON; an order that cannot be decided fails the test.
fn decide(policy: &policy::Policy, action: &str, order: &Value) -> Value {
    assert!(
        order.get("requested_at").is_some(),
        "every order here carries requested_at: {order}"
    );
    common::decide(policy, action, order, UNUSED_NOW)
}

/// The order's fields other than those with a column of their own, as `key=value`.
fn other_facts(order: &Value, shown: &[&str]) -> String {
    let rest: Map<String, Value> = order
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "id" && !shown.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    cell(Some(&Value::Object(rest)))
}

/// Rows as a fixed-width table under a title.
fn render(title: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    format!("{title}\n\n{}", aligned_table(header, rows))
}

/// Builds the table: for each (label, order), the label, the named order fields, the other facts, then
/// the named decision fields.
fn table(
    policy: &policy::Policy,
    action: &str,
    title: &str,
    facts: &[&str],
    decision_columns: &[&str],
    cases: &[(&str, Value)],
) -> String {
    let mut header = vec!["row / condition"];
    header.extend_from_slice(facts);
    header.push("other facts");
    header.extend_from_slice(decision_columns);
    let rows: Vec<Vec<String>> = cases
        .iter()
        .map(|(label, order)| {
            let decision = decide(policy, action, order);
            assert_eq!(decision["action"], action);
            let mut row = vec![label.to_string()];
            row.extend(facts.iter().map(|f| cell(order.get(*f))));
            row.push(other_facts(order, facts));
            row.extend(decision_columns.iter().map(|c| cell(decision.get(*c))));
            row
        })
        .collect();
    render(title, &header, &rows)
}

// ------------------------------------------------------------------ Huawei SCM unsubscribe (000)

#[test]
fn huawei_unsubscribe_conditions() {
    let policy = load("huawei-scm-unsubscribe");
    // Paid at 12:00 on 1 December 2024 (Shanghai), as in the document's example; the window of
    // 7 x 24 hours closes at 2024-12-08T12:00:00+08:00.
    let base = json!({
        "paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00",
        "purchased_on": "scm_console", "status": "pending_application",
        "requested_at": "2024-12-03T10:00:00+08:00",
    });
    let at = |requested_at: &str, extra: Value| {
        with(&with(&base, json!({ "requested_at": requested_at })), extra)
    };
    let day2 = |extra: Value| with(&base, extra);
    let cases = [
        (
            "console purchase: bought on the SCM console",
            day2(json!({})),
        ),
        (
            "console purchase: bought elsewhere",
            day2(json!({ "purchased_on": "other" })),
        ),
        (
            "7x24h: doc example, 11:58 on 8 Dec",
            at("2024-12-08T11:58:00+08:00", json!({})),
        ),
        (
            "7x24h: 11:59:30 on 8 Dec (paid_at + 168h - 30s)",
            at("2024-12-08T11:59:30+08:00", json!({})),
        ),
        (
            "7x24h: doc example, 12:00 on 8 Dec",
            at("2024-12-08T12:00:00+08:00", json!({})),
        ),
        (
            "7x24h: last second, written in Z",
            at("2024-12-08T03:59:59Z", json!({})),
        ),
        (
            "7x24h: the close, written at -05:00",
            at("2024-12-07T23:00:00-05:00", json!({ "status": "issued" })),
        ),
        (
            "7x24h: 9 days after payment, issued",
            at("2024-12-10T10:00:00+08:00", json!({ "status": "issued" })),
        ),
        (
            "status: pending_application (not submitted / canceled)",
            day2(json!({})),
        ),
        (
            "status: revoked within 7x24h (last second)",
            at(
                "2024-12-08T11:59:59+08:00",
                json!({ "status": "revoked", "revoked_at": "2024-12-08T11:59:59+08:00" }),
            ),
        ),
        (
            "status: revoked at paid_at + 168h, asked then",
            at(
                "2024-12-08T12:00:00+08:00",
                json!({ "status": "revoked", "revoked_at": "2024-12-08T12:00:00+08:00" }),
            ),
        ),
        (
            "status: revoked_at paid_at + 168h, earlier request",
            at(
                "2024-12-08T11:00:00+08:00",
                json!({ "status": "revoked", "revoked_at": "2024-12-08T12:00:00+08:00" }),
            ),
        ),
        (
            "status: pending_domain_verification",
            day2(json!({ "status": "pending_domain_verification" })),
        ),
        (
            "status: pending_organization_verification",
            day2(json!({ "status": "pending_organization_verification" })),
        ),
        (
            "status: ca_verifying_domain_addition",
            day2(json!({ "status": "ca_verifying_domain_addition" })),
        ),
        (
            "status: ca_verifying_withdrawal",
            day2(json!({ "status": "ca_verifying_withdrawal" })),
        ),
        ("status: issued", day2(json!({ "status": "issued" }))),
        ("status: revoking", day2(json!({ "status": "revoking" }))),
        ("status: deleting", day2(json!({ "status": "deleting" }))),
        ("status: expired", day2(json!({ "status": "expired" }))),
        (
            "amount: cash only, voucher and coupon kept back",
            day2(
                json!({ "price": "100.00", "voucher": "15.50", "coupon": "4.50", "currency": "CNY" }),
            ),
        ),
    ];
    let rendered = table(
        &policy,
        "refund",
        "huawei-scm-unsubscribe, action refund: the conditions of 000_1824c3b9d2eb9c8f.txt",
        &["paid_at", "requested_at", "status", "purchased_on"],
        &[
            "outcome",
            "amount",
            "currency",
            "requires",
            "review",
            "review_by",
            "deadline",
            "next_status",
            "rule",
        ],
        &cases,
    );
    insta::assert_snapshot!("huawei_unsubscribe_conditions", rendered);
}

// ------------------------------------------------------------------ Huawei SCM withdraw (004)

#[test]
fn huawei_withdraw_statuses() {
    let policy = load("huawei-scm-withdraw");
    let statuses = [
        (
            "prerequisite: Pending domain name verification",
            "pending_domain_verification",
        ),
        (
            "prerequisite: Pending organization verification",
            "pending_organization_verification",
        ),
        (
            "prerequisite: CA verifying (domain name addition)",
            "ca_verifying_domain_addition",
        ),
        ("constraint: deletion application submitted", "deleting"),
        ("constraint: revocation application submitted", "revoking"),
        ("other: Pending application", "pending_application"),
        (
            "other: CA verifying (application withdrawal)",
            "ca_verifying_withdrawal",
        ),
        ("other: issued", "issued"),
        ("other: revoked", "revoked"),
        ("other: expired", "expired"),
    ];
    let cases: Vec<(&str, Value)> = statuses
        .iter()
        .map(|(label, status)| {
            (
                *label,
                json!({ "status": status, "requested_at": "2026-03-02T12:00:00+08:00" }),
            )
        })
        .collect();
    let rendered = table(
        &policy,
        "withdraw",
        "huawei-scm-withdraw, action withdraw: each status, by 004_d050e763a0726c6e.txt",
        &["status", "requested_at"],
        &[
            "outcome",
            "amount",
            "requires",
            "review",
            "review_by",
            "deadline",
            "next_status",
            "rule",
        ],
        &cases,
    );
    insta::assert_snapshot!("huawei_withdraw_statuses", rendered);
}

// ------------------------------------------------------------------ Alibaba CMS 2026 (002)

#[test]
fn alibaba_2026_services() {
    let policy = load("alibaba-cms-refund-2026");
    // Paid at 10:00 on Sunday 1 March 2026 (Shanghai): the window holds through 8 March and closes at
    // 2026-03-09T00:00:00+08:00.
    let base = json!({
        "paid_at": "2026-03-01T10:00:00+08:00", "requested_at": "2026-03-04T12:00:00+08:00",
    });
    let ssl = |extra: Value| {
        with(
            &with(
                &base,
                json!({ "service": "ssl_certificate", "price": "80.00" }),
            ),
            extra,
        )
    };
    let service = |name: &str, price: &str, extra: Value| {
        with(
            &with(&base, json!({ "service": name, "price": price })),
            extra,
        )
    };
    let gateway = |extra: Value| service("https_gateway", "1.6", extra);
    let pca = |extra: Value| service("private_ca", "300.00", extra);
    let cases = vec![
        (
            "SSL: unused (Pending Application)",
            ssl(json!({ "status": "pending_application" })),
        ),
        (
            "SSL: request initiated (Verifying)",
            ssl(json!({ "status": "verifying" })),
        ),
        (
            "SSL: request initiated (Validation Failed)",
            ssl(json!({ "status": "validation_failed" })),
        ),
        ("SSL: issued", ssl(json!({ "status": "issued" }))),
        ("SSL: revoking", ssl(json!({ "status": "revoking" }))),
        (
            "SSL: revoked in the window (8 Mar 23:59:59)",
            ssl(
                json!({ "status": "revoked", "revoked_at": "2026-03-08T23:59:59+08:00", "requested_at": "2026-03-08T23:59:59+08:00" }),
            ),
        ),
        (
            "SSL: revoked 9 Mar (Shanghai), asked then",
            ssl(
                json!({ "status": "revoked", "revoked_at": "2026-03-08T16:00:00Z", "requested_at": "2026-03-08T16:30:00Z" }),
            ),
        ),
        (
            "SSL: revoked_at 9 Mar, after an earlier request",
            ssl(json!({ "status": "revoked", "revoked_at": "2026-03-08T16:00:00Z" })),
        ),
        ("SSL: expired", ssl(json!({ "status": "expired" }))),
        (
            "SSL: combined Multiple Domains",
            ssl(json!({ "status": "pending_application", "combined": true })),
        ),
        (
            "SSL: issued, coupon and voucher kept back",
            ssl(
                json!({ "status": "issued", "price": "100.00", "voucher": "20.00", "coupon": "10.50", "currency": "CNY" }),
            ),
        ),
        (
            "gateway: unused (no domain added)",
            gateway(json!({ "grcq_total": 300 })),
        ),
        (
            "gateway: used, no GRCQ consumed: reset",
            gateway(
                json!({ "domain_added_at": "2026-03-02T09:00:00+08:00", "grcq_total": 300, "grcq_consumed": 0 }),
            ),
        ),
        (
            "gateway: doc example 1.6, 60 of 300 GRCQ",
            gateway(
                json!({ "domain_added_at": "2026-03-02T09:00:00+08:00", "grcq_total": 300, "grcq_consumed": 60 }),
            ),
        ),
        (
            "gateway: 1.00, 3 of 8 GRCQ (half cent)",
            service(
                "https_gateway",
                "1.00",
                json!({ "domain_added_at": "2026-03-02T09:00:00+08:00", "grcq_total": 8, "grcq_consumed": 3 }),
            ),
        ),
        (
            "gateway: all GRCQ consumed",
            gateway(
                json!({ "domain_added_at": "2026-03-02T09:00:00+08:00", "grcq_total": 300, "grcq_consumed": 300 }),
            ),
        ),
        ("PCA: unused (no CA enabled)", pca(json!({}))),
        (
            "PCA: reset in time (8 Mar, Shanghai)",
            pca(
                json!({ "ca_enabled": true, "ca_reset_at": "2026-03-08T15:59:59Z", "requested_at": "2026-03-08T16:30:00+08:00" }),
            ),
        ),
        (
            "PCA: reset 9 Mar (Shanghai), asked then",
            pca(
                json!({ "ca_enabled": true, "ca_reset_at": "2026-03-09T00:00:00+08:00", "requested_at": "2026-03-09T08:00:00+08:00" }),
            ),
        ),
        (
            "PCA: ca_reset_at 9 Mar, after an earlier request",
            pca(json!({ "ca_enabled": true, "ca_reset_at": "2026-03-09T00:00:00+08:00" })),
        ),
        (
            "PCA: enabled, needs reset",
            pca(json!({ "ca_enabled": true })),
        ),
        (
            "message notifications: unused",
            service("message_notification", "5.00", json!({})),
        ),
        (
            "message notifications: used",
            service("message_notification", "5.00", json!({ "used": true })),
        ),
        (
            "domain monitoring: unused",
            service("domain_monitoring", "5.00", json!({})),
        ),
        (
            "domain monitoring: used",
            service("domain_monitoring", "5.00", json!({ "used": true })),
        ),
        (
            "cert repository: unused",
            service("cert_repository", "5.00", json!({ "used": false })),
        ),
        (
            "cert repository: used",
            service("cert_repository", "5.00", json!({ "used": true })),
        ),
        (
            "deployment quota: unused",
            service("deployment_quota", "5.00", json!({})),
        ),
        (
            "deployment quota: used",
            service("deployment_quota", "5.00", json!({ "used": true })),
        ),
        (
            "general: promotional order",
            ssl(json!({ "status": "pending_application", "promotion": true })),
        ),
        (
            "general: last second of day 7 (8 Mar, -05:00)",
            ssl(
                json!({ "status": "pending_application", "requested_at": "2026-03-08T10:59:59-05:00" }),
            ),
        ),
        (
            "general: late request (9 Mar 00:00, Z)",
            ssl(json!({ "status": "pending_application", "requested_at": "2026-03-08T16:00:00Z" })),
        ),
        (
            "general: original payment gone -> balance",
            ssl(json!({ "status": "pending_application", "original_payment_available": false })),
        ),
    ];
    let rendered = table(
        &policy,
        "refund",
        "alibaba-cms-refund-2026, action refund: each service and case of 002_038215a8fc803b5f.txt",
        &["service", "status", "paid_at", "requested_at", "price"],
        &[
            "outcome",
            "amount",
            "refund_to",
            "requires",
            "review",
            "deadline",
            "next_status",
            "rule",
        ],
        &cases,
    );
    insta::assert_snapshot!("alibaba_2026_services", rendered);
}

// ------------------------------------------------------------------ Alibaba revoke and delete (003)

#[test]
fn alibaba_revoke_conditions() {
    let policy = load("alibaba-ssl-revoke");
    // Issued on Wednesday 3 June 2026 (the worked example), valid for a year; asked on 10 June.
    let base = json!({
        "status": "issued", "issued_at": "2026-06-03T10:00:00+08:00",
        "expires_at": "2027-06-03T10:00:00+08:00", "requested_at": "2026-06-10T09:00:00+08:00",
    });
    let case = |extra: Value| with(&base, extra);
    let cases = vec![
        (
            "uploaded third-party certificate",
            case(json!({ "uploaded": true, "cert_type": "OV" })),
        ),
        (
            "status not issued: pending_application",
            json!({ "status": "pending_application", "requested_at": "2026-06-10T09:00:00+08:00" }),
        ),
        (
            "status not issued: verifying",
            json!({ "status": "verifying", "requested_at": "2026-06-10T09:00:00+08:00" }),
        ),
        (
            "status not issued: revoking",
            case(json!({ "status": "revoking" })),
        ),
        (
            "status not issued: revoked",
            case(json!({ "status": "revoked" })),
        ),
        (
            "status not issued: expired",
            case(json!({ "status": "expired" })),
        ),
        (
            "issued, at expires_at",
            case(
                json!({ "requested_at": "2026-09-03T12:00:00+08:00", "expires_at": "2026-09-03T12:00:00+08:00" }),
            ),
        ),
        (
            "issued, 1 s before expires_at (Z)",
            case(
                json!({ "requested_at": "2026-09-03T03:59:59Z", "expires_at": "2026-09-03T12:00:00+08:00" }),
            ),
        ),
        (
            "DV (doc example, issued 2026-06-03)",
            case(json!({ "cert_type": "DV" })),
        ),
        (
            "OV (doc example, issued 2026-06-03)",
            case(json!({ "cert_type": "OV" })),
        ),
        (
            "EV (doc example, issued 2026-06-03)",
            case(json!({ "cert_type": "EV" })),
        ),
        (
            "DV, no expires_at, issued 2 Jun 15:59:59Z",
            json!({ "status": "issued", "issued_at": "2026-06-02T15:59:59Z", "requested_at": "2026-06-10T09:00:00+08:00" }),
        ),
        (
            "OV, T = 7 Oct (National Day)",
            json!({ "status": "issued", "cert_type": "OV", "issued_at": "2026-09-07T10:00:00+08:00", "requested_at": "2026-09-08T09:00:00+08:00" }),
        ),
        (
            "DV, review_by over the Dragon Boat Festival",
            case(json!({ "requested_at": "2026-06-17T09:00:00+08:00" })),
        ),
    ];
    let rendered = table(
        &policy,
        "revoke",
        "alibaba-ssl-revoke, action revoke: the conditions of 003_becad728fe79afef.txt",
        &["status", "cert_type", "issued_at", "requested_at"],
        &[
            "outcome",
            "amount",
            "requires",
            "review",
            "review_by",
            "deadline",
            "next_status",
            "values",
            "rule",
        ],
        &cases,
    );
    insta::assert_snapshot!("alibaba_revoke_conditions", rendered);
}

#[test]
fn alibaba_delete_conditions() {
    let policy = load("alibaba-ssl-revoke");
    let statuses = [
        ("revoked: can be deleted", "revoked"),
        ("issued, not revoked: cannot", "issued"),
        ("revoking: not revoked yet", "revoking"),
        ("pending_application", "pending_application"),
        ("verifying", "verifying"),
        ("validation_failed", "validation_failed"),
        ("expired", "expired"),
    ];
    let cases: Vec<(&str, Value)> = statuses
        .iter()
        .map(|(label, status)| {
            (
                *label,
                json!({ "status": status, "requested_at": "2026-06-10T09:00:00+08:00" }),
            )
        })
        .collect();
    let rendered = table(
        &policy,
        "delete",
        "alibaba-ssl-revoke, action delete: by 003_becad728fe79afef.txt",
        &["status", "requested_at"],
        &[
            "outcome",
            "amount",
            "requires",
            "review",
            "review_by",
            "deadline",
            "next_status",
            "values",
            "rule",
        ],
        &cases,
    );
    insta::assert_snapshot!("alibaba_delete_conditions", rendered);
}
