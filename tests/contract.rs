//! The decision JSON of every shipped policy and action follows `contract.md`, field by field: the 15 keys
//! in the contract's order, their types and formats, and what a denied or undetermined decision, or an
//! action that moves no money, leaves empty. Each case also pins its outcome and rule, so that every
//! outcome a policy can give (allowed, conditional, denied, undetermined) is checked where it exists.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{json, Value};

/// The contract's fields, in its order.
const KEYS: [&str; 17] = [
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

/// The contract's steps, in its order.
const STEPS: [&str; 9] = [
    "cancel_application",
    "withdraw_application",
    "revoke",
    "reset_instance",
    "reset_ca",
    "contact_account_manager",
    "email_confirmation",
    "await_revocation",
    "await_withdrawal",
];

/// The source documents a reason may cite.
const DOCUMENTS: [&str; 5] = [
    "000_1824c3b9d2eb9c8f.txt",
    "001_86fb7d0da227c742.txt",
    "002_038215a8fc803b5f.txt",
    "003_becad728fe79afef.txt",
    "004_d050e763a0726c6e.txt",
];

/// Never the request time: every order below carries `requested_at`.
const UNUSED_NOW: &str = "2000-01-01T00:00:00+08:00";

fn load(name: &str) -> policy::Policy {
    common::policy(name)
}

fn decide(policy: &policy::Policy, action: &str, order: &Value) -> Value {
    let decision = policy
        .read_order(order)
        .and_then(|o| policy.decide(action, &o, common::at(UNUSED_NOW)))
        .unwrap_or_else(|e| panic!("order {order}: unexpected error: {e}"));
    let text = decision.to_json();
    assert_keys_in_contract_order(&text);
    serde_json::from_str(&text).unwrap()
}

/// The decision's fields, in the order its text gives them (a parsed `Value` sorts them).
fn assert_keys_in_contract_order(text: &str) {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visitor)
        }
    }
    let Keys(keys) = serde_json::from_str(text).unwrap();
    assert_eq!(
        keys,
        shipped_keys(),
        "{text}: keys, in the contract's order"
    );
}

/// The contract's keys a decision of a shipped policy has: all but `version`, which only a policy with
/// versions writes (tests/versions.rs).
fn shipped_keys() -> Vec<&'static str> {
    KEYS.into_iter().filter(|k| *k != "version").collect()
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `123.45`: digits, a point, exactly two digits.
fn is_money(s: &str) -> bool {
    matches!(s.split_once('.'), Some((whole, cents)) if is_digits(whole) && cents.len() == 2 && is_digits(cents))
}

/// `YYYY-MM-DD`, a real date.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts.iter().all(|p| is_digits(p))
        && parse_time(&format!("{s}T00:00:00+08:00")).is_some()
}

fn parse_time(s: &str) -> Option<policy::Instant> {
    policy::eval::parse_time(s).ok()
}

/// RFC 3339 in the policies' zone: `YYYY-MM-DDTHH:MM:SS+08:00`.
fn is_shanghai_timestamp(s: &str) -> bool {
    s.len() == 25
        && s.ends_with("+08:00")
        && is_date(&s[..10])
        && &s[10..11] == "T"
        && parse_time(s).is_some()
}

fn str_or_null<'a>(decision: &'a Value, key: &str, context: &str) -> Option<&'a str> {
    match &decision[key] {
        Value::Null => None,
        Value::String(s) => Some(s.as_str()),
        other => panic!("{context}: `{key}` must be a string or null, found {other}"),
    }
}

/// Checks one decision against the contract. `context` names the case in failures.
fn check_contract(
    decision: &Value,
    policy_name: &str,
    action: &str,
    order: &Value,
    moves_money: bool,
    context: &str,
) {
    let object = decision
        .as_object()
        .unwrap_or_else(|| panic!("{context}: not an object"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut expected = shipped_keys();
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected, "{context}: keys");

    // order, policy, action
    assert_eq!(
        decision["order"],
        order.get("id").cloned().unwrap_or(Value::Null),
        "{context}: order echoes the id"
    );
    assert_eq!(decision["policy"], policy_name, "{context}: policy");
    assert_eq!(decision["action"], action, "{context}: action");

    // outcome
    let outcome = str_or_null(decision, "outcome", context).expect("outcome is never null");
    assert!(
        ["allowed", "conditional", "denied", "undetermined"].contains(&outcome),
        "{context}: outcome `{outcome}`"
    );

    // amount and currency
    let amount = str_or_null(decision, "amount", context);
    if let Some(amount) = amount {
        assert!(
            is_money(amount),
            "{context}: amount `{amount}` must have exactly two decimals"
        );
    }
    let currency = str_or_null(decision, "currency", context);
    assert_eq!(
        amount.is_some(),
        currency.is_some(),
        "{context}: currency comes with the amount"
    );
    if let Some(currency) = currency {
        let expected = order
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or("USD");
        assert_eq!(currency, expected, "{context}: currency is echoed");
    }

    // refund_to
    let refund_to = str_or_null(decision, "refund_to", context);
    if let Some(refund_to) = refund_to {
        assert!(
            ["original_payment", "account_balance"].contains(&refund_to),
            "{context}: refund_to `{refund_to}`"
        );
    }

    // requires: an array of the contract's steps, in its order
    let requires = decision["requires"]
        .as_array()
        .unwrap_or_else(|| panic!("{context}: requires must be an array"));
    let positions: Vec<usize> = requires
        .iter()
        .map(|step| {
            let step = step
                .as_str()
                .unwrap_or_else(|| panic!("{context}: a step must be a string: {step}"));
            STEPS
                .iter()
                .position(|s| *s == step)
                .unwrap_or_else(|| panic!("{context}: unknown step `{step}`"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{context}: requires in the contract's order, without repeats: {requires:?}"
    );

    // review, review_by
    let review = str_or_null(decision, "review", context);
    if let Some(review) = review {
        assert!(
            ["none", "manual"].contains(&review),
            "{context}: review `{review}`"
        );
    }
    let review_by = str_or_null(decision, "review_by", context);
    if let Some(review_by) = review_by {
        assert!(
            is_date(review_by),
            "{context}: review_by `{review_by}` must be YYYY-MM-DD"
        );
        assert_eq!(
            review,
            Some("manual"),
            "{context}: review_by comes with a manual review"
        );
    }

    // deadline: RFC 3339 at +08:00, at or after the request
    let deadline = str_or_null(decision, "deadline", context);
    if let Some(deadline) = deadline {
        assert!(
            is_shanghai_timestamp(deadline),
            "{context}: deadline `{deadline}` must be RFC 3339 at +08:00"
        );
        let requested = order["requested_at"].as_str().expect("requested_at");
        assert!(
            parse_time(deadline) >= parse_time(requested),
            "{context}: deadline {deadline} before the request {requested}"
        );
    }

    // next_status
    let next_status = str_or_null(decision, "next_status", context);

    // values: an object; its timestamps at +08:00
    let values = decision["values"]
        .as_object()
        .unwrap_or_else(|| panic!("{context}: values must be an object"));
    for (name, value) in values {
        if let Some(text) = value.as_str() {
            if text.contains('T') && text.len() > 10 && text.as_bytes()[4] == b'-' {
                assert!(
                    is_shanghai_timestamp(text),
                    "{context}: values.{name} `{text}` must be RFC 3339 at +08:00"
                );
            }
        }
    }

    // rule
    let rule = str_or_null(decision, "rule", context).expect("rule is never null");
    assert!(!rule.is_empty(), "{context}: rule is empty");

    // because: non-empty, each reason a string citing a document
    let because = decision["because"]
        .as_array()
        .unwrap_or_else(|| panic!("{context}: because must be an array"));
    assert!(!because.is_empty(), "{context}: because is empty");
    for reason in because {
        let reason = reason
            .as_str()
            .unwrap_or_else(|| panic!("{context}: a reason must be a string: {reason}"));
        assert!(
            DOCUMENTS.iter().any(|d| reason.contains(d)),
            "{context}: reason does not cite a document file: {reason}"
        );
    }

    // what each outcome leaves empty
    match outcome {
        "denied" | "undetermined" => {
            assert_eq!(amount, None, "{context}: {outcome} has no amount");
            assert_eq!(currency, None, "{context}: {outcome} has no currency");
            assert_eq!(refund_to, None, "{context}: {outcome} has no refund_to");
            assert_eq!(review, None, "{context}: {outcome} has no review");
            assert_eq!(review_by, None, "{context}: {outcome} has no review_by");
            assert_eq!(next_status, None, "{context}: {outcome} has no next_status");
            assert!(requires.is_empty(), "{context}: {outcome} requires nothing");
            assert_eq!(deadline, None, "{context}: {outcome} has no deadline");
            assert!(values.is_empty(), "{context}: {outcome} has no values");
        }
        "conditional" => {
            assert!(
                !requires.is_empty(),
                "{context}: conditional names its steps"
            );
            assert!(
                next_status.is_some(),
                "{context}: conditional says where it goes"
            );
        }
        _ => assert!(
            next_status.is_some(),
            "{context}: allowed says where it goes"
        ),
    }
    if matches!(outcome, "allowed" | "conditional") && moves_money {
        assert!(amount.is_some(), "{context}: a refund names its amount");
        assert!(
            refund_to.is_some(),
            "{context}: a refund names where it goes"
        );
        assert!(review.is_some(), "{context}: a refund says who reviews it");
    }
    if !moves_money {
        assert_eq!(amount, None, "{context}: `{action}` moves no money");
        assert_eq!(currency, None, "{context}: `{action}` moves no money");
        assert_eq!(refund_to, None, "{context}: `{action}` moves no money");
    }
}

/// (case, order, expected outcome, expected rule).
type Case = (&'static str, Value, &'static str, &'static str);

fn run(policy_name: &str, action: &str, moves_money: bool, cases: Vec<Case>) {
    let policy = load(policy_name);
    let mut outcomes = Vec::new();
    for (case, order, outcome, rule) in cases {
        assert!(order.get("requested_at").is_some(), "{case}: requested_at");
        let context = format!("{policy_name}/{action}: {case}");
        let decision = decide(&policy, action, &order);
        check_contract(
            &decision,
            policy_name,
            action,
            &order,
            moves_money,
            &context,
        );
        assert_eq!(decision["outcome"], outcome, "{context}: {decision}");
        assert_eq!(decision["rule"], rule, "{context}: {decision}");
        // The JSON text keeps the same order and content as the value.
        let text = serde_json::to_string(&decision).expect("serializes");
        let reparsed: Value = serde_json::from_str(&text).expect("reparses");
        assert_eq!(reparsed, decision, "{context}");
        outcomes.push(outcome);
    }
    for outcome in ["allowed", "denied"] {
        assert!(
            outcomes.contains(&outcome),
            "{policy_name}/{action}: no `{outcome}` case"
        );
    }
}

#[test]
fn huawei_scm_unsubscribe_refund() {
    let base = json!({
        "paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00", "purchased_on": "scm_console",
        "requested_at": "2024-12-03T10:00:00+08:00",
    });
    let with = |extra: Value| merge(&base, extra);
    run(
        "huawei-scm-unsubscribe",
        "refund",
        true,
        vec![
            (
                "pending application, voucher and coupon",
                with(
                    json!({ "id": "hw-1", "status": "pending_application", "voucher": "10.00", "coupon": "0.50", "currency": "CNY" }),
                ),
                "allowed",
                "pending_application",
            ),
            (
                "revoked in time, no id",
                with(
                    json!({ "status": "revoked", "revoked_at": "2024-12-05T10:00:00Z", "requested_at": "2024-12-05T11:00:00Z" }),
                ),
                "allowed",
                "revoked_in_window",
            ),
            (
                "domain verification pending",
                with(json!({ "id": "hw-2", "status": "pending_domain_verification" })),
                "conditional",
                "application_in_progress",
            ),
            (
                "withdrawal under way",
                with(json!({ "id": "hw-3", "status": "ca_verifying_withdrawal" })),
                "conditional",
                "withdrawal_in_progress",
            ),
            (
                "issued, asked at -05:00",
                with(
                    json!({ "id": "hw-4", "status": "issued", "requested_at": "2024-12-07T22:59:59-05:00" }),
                ),
                "conditional",
                "issued",
            ),
            (
                "revoking",
                with(json!({ "id": "hw-5", "status": "revoking" })),
                "conditional",
                "revoking",
            ),
            (
                "bought elsewhere",
                with(
                    json!({ "id": "hw-6", "status": "pending_application", "purchased_on": "other" }),
                ),
                "denied",
                "not_purchased_on_console",
            ),
            (
                "window closed",
                with(
                    json!({ "id": "hw-7", "status": "pending_application", "requested_at": "2024-12-08T04:00:00Z" }),
                ),
                "denied",
                "window_closed",
            ),
            (
                "deleting",
                with(json!({ "id": "hw-8", "status": "deleting" })),
                "denied",
                "other_status",
            ),
        ],
    );
}

#[test]
fn huawei_scm_withdraw_withdraw() {
    let at = |id: &str, status: &str| json!({ "id": id, "status": status, "requested_at": "2026-03-02T12:00:00+08:00" });
    run(
        "huawei-scm-withdraw",
        "withdraw",
        false,
        vec![
            (
                "pending domain verification",
                at("wd-1", "pending_domain_verification"),
                "allowed",
                "application_in_progress",
            ),
            (
                "CA verifying domain addition, in Z",
                json!({ "id": "wd-2", "status": "ca_verifying_domain_addition", "requested_at": "2026-03-02T04:00:00Z" }),
                "allowed",
                "application_in_progress",
            ),
            (
                "revocation submitted",
                at("wd-3", "revoking"),
                "denied",
                "deletion_or_revocation",
            ),
            (
                "pending application",
                at("wd-4", "pending_application"),
                "denied",
                "other_status",
            ),
        ],
    );
}

#[test]
fn alibaba_ssl_refund_legacy_refund() {
    let base = json!({ "paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00" });
    let issued = json!({
        "paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00",
        "issued_at": "2024-12-02T10:00:00+08:00", "expires_at": "2025-12-02T10:00:00+08:00",
    });
    run(
        "alibaba-ssl-refund-legacy",
        "refund",
        true,
        vec![
            (
                "row 1, with a voucher",
                merge(
                    &base,
                    json!({ "id": "al-1", "status": "verifying", "voucher": "20.00", "requested_at": "2024-12-03T10:00:00+08:00" }),
                ),
                "allowed",
                "unissued_within_5_days",
            ),
            (
                "row 2: manual validation, review_by",
                merge(
                    &base,
                    json!({ "id": "al-2", "status": "pending_application", "requested_at": "2024-12-10T10:00:00+08:00" }),
                ),
                "allowed",
                "unissued_after_5_days",
            ),
            (
                "row 4: revoked in time",
                merge(
                    &issued,
                    json!({ "id": "al-3", "status": "revoked", "revoked_at": "2024-12-20T10:00:00+08:00", "requested_at": "2024-12-21T10:00:00+08:00" }),
                ),
                "allowed",
                "revoked_within_28_days",
            ),
            (
                "row 4: issued, revoke first",
                merge(
                    &issued,
                    json!({ "id": "al-4", "status": "issued", "requested_at": "2024-12-12T10:00:00Z" }),
                ),
                "conditional",
                "issued_within_28_days",
            ),
            (
                "row 4: revocation under way",
                merge(
                    &issued,
                    json!({ "id": "al-5", "status": "revoking", "requested_at": "2024-12-12T10:00:00-05:00" }),
                ),
                "conditional",
                "revoking_within_28_days",
            ),
            (
                "row 3: near expiry",
                merge(
                    &base,
                    json!({ "id": "al-6", "status": "verifying", "expires_at": "2025-06-30T12:00:00+08:00", "requested_at": "2025-06-20T10:00:00+08:00" }),
                ),
                "denied",
                "unissued_near_expiry",
            ),
            (
                "row 5",
                merge(
                    &issued,
                    json!({ "id": "al-7", "status": "issued", "requested_at": "2025-02-01T10:00:00+08:00" }),
                ),
                "denied",
                "issued_after_28_days",
            ),
            (
                "free DV",
                merge(
                    &base,
                    json!({ "id": "al-8", "status": "pending_application", "free": true, "requested_at": "2024-12-02T10:00:00+08:00" }),
                ),
                "denied",
                "free_certificate",
            ),
            (
                "gap: validated",
                merge(
                    &base,
                    json!({ "id": "al-9", "status": "validated", "requested_at": "2024-12-20T10:00:00+08:00" }),
                ),
                "undetermined",
                "validated_not_issued",
            ),
        ],
    );
}

#[test]
fn alibaba_cms_refund_2026_refund() {
    let base = json!({
        "paid_at": "2026-03-01T10:00:00+08:00", "price": "80.00",
        "requested_at": "2026-03-04T12:00:00+08:00",
    });
    let with = |extra: Value| merge(&base, extra);
    run(
        "alibaba-cms-refund-2026",
        "refund",
        true,
        vec![
            (
                "SSL pending application, to the balance",
                with(
                    json!({ "id": "cms-1", "status": "pending_application", "original_payment_available": false }),
                ),
                "allowed",
                "ssl_pending_application",
            ),
            (
                "SSL verifying, coupon",
                with(
                    json!({ "id": "cms-2", "status": "verifying", "coupon": "8.00", "currency": "EUR" }),
                ),
                "conditional",
                "ssl_request_initiated",
            ),
            (
                "SSL issued",
                with(json!({ "id": "cms-3", "status": "issued" })),
                "conditional",
                "ssl_issued",
            ),
            (
                "gateway, GRCQ consumed (document example)",
                with(
                    json!({ "id": "cms-4", "service": "https_gateway", "price": "1.6", "domain_added_at": "2026-03-02T09:00:00+08:00", "grcq_total": 300, "grcq_consumed": 60 }),
                ),
                "conditional",
                "gateway_grcq_consumed",
            ),
            (
                "gateway, a third consumed: rounded",
                with(
                    json!({ "id": "cms-5", "service": "https_gateway", "price": "1.00", "domain_added_at": "2026-03-02T09:00:00+08:00", "grcq_total": 3, "grcq_consumed": 1 }),
                ),
                "conditional",
                "gateway_grcq_consumed",
            ),
            (
                "PCA, reset in time",
                with(
                    json!({ "id": "cms-6", "service": "private_ca", "ca_enabled": true, "ca_reset_at": "2026-03-03T10:00:00Z" }),
                ),
                "allowed",
                "pca_reset_in_window",
            ),
            (
                "PCA, needs a reset",
                with(json!({ "id": "cms-7", "service": "private_ca", "ca_enabled": true })),
                "conditional",
                "pca_enabled_not_reset",
            ),
            (
                "deployment quota used",
                with(json!({ "id": "cms-8", "service": "deployment_quota", "used": true })),
                "denied",
                "other_service_used",
            ),
            (
                "late request",
                with(
                    json!({ "id": "cms-9", "status": "pending_application", "requested_at": "2026-03-08T16:00:00Z" }),
                ),
                "denied",
                "window_closed",
            ),
            (
                "combined certificate",
                with(json!({ "id": "cms-10", "status": "issued", "combined": true })),
                "denied",
                "ssl_combined",
            ),
            (
                "promotion",
                with(json!({ "id": "cms-11", "status": "pending_application", "promotion": true })),
                "undetermined",
                "promotional_order",
            ),
        ],
    );
}

#[test]
fn alibaba_ssl_revoke_revoke() {
    let base = json!({
        "status": "issued", "issued_at": "2026-06-03T10:00:00+08:00",
        "expires_at": "2027-06-03T10:00:00+08:00", "requested_at": "2026-06-10T09:00:00+08:00",
    });
    let with = |extra: Value| merge(&base, extra);
    run(
        "alibaba-ssl-revoke",
        "revoke",
        false,
        vec![
            (
                "OV: e-mail confirmation, refund_safe_until",
                with(json!({ "id": "rv-1", "cert_type": "OV" })),
                "allowed",
                "issued_ov_ev",
            ),
            (
                "DV, no expiry, asked in Z",
                json!({ "id": "rv-2", "status": "issued", "issued_at": "2026-06-03T10:00:00+08:00", "requested_at": "2026-06-10T01:00:00Z" }),
                "allowed",
                "issued_dv",
            ),
            (
                "uploaded",
                with(json!({ "id": "rv-3", "uploaded": true })),
                "denied",
                "uploaded",
            ),
            (
                "not issued",
                json!({ "id": "rv-4", "status": "verifying", "requested_at": "2026-06-10T09:00:00+08:00" }),
                "denied",
                "not_issued_or_expired",
            ),
            (
                "at expires_at",
                with(
                    json!({ "id": "rv-5", "expires_at": "2026-09-03T12:00:00+08:00", "requested_at": "2026-09-02T23:00:00-05:00" }),
                ),
                "denied",
                "not_issued_or_expired",
            ),
        ],
    );
}

#[test]
fn alibaba_ssl_revoke_delete() {
    let at = |id: &str, status: &str| json!({ "id": id, "status": status, "requested_at": "2026-06-10T09:00:00+08:00" });
    run(
        "alibaba-ssl-revoke",
        "delete",
        false,
        vec![
            ("revoked", at("del-1", "revoked"), "allowed", "revoked"),
            (
                "revoked, with its dates and type",
                json!({ "id": "del-2", "status": "revoked", "cert_type": "EV", "issued_at": "2026-01-03T10:00:00Z", "expires_at": "2027-01-03T10:00:00Z", "requested_at": "2026-06-10T09:00:00-05:00" }),
                "allowed",
                "revoked",
            ),
            ("issued", at("del-3", "issued"), "denied", "not_revoked"),
            ("revoking", at("del-4", "revoking"), "denied", "not_revoked"),
        ],
    );
}

/// The values the contract pins beyond the shape: amounts, dates and refund_safe_until of a few cases.
#[test]
fn contract_values_of_a_few_cases() {
    let cms = load("alibaba-cms-refund-2026");
    let d = decide(
        &cms,
        "refund",
        &json!({ "id": "x", "paid_at": "2026-03-01T10:00:00+08:00", "requested_at": "2026-03-04T12:00:00+08:00",
                 "price": "1.6", "service": "https_gateway", "domain_added_at": "2026-03-02T09:00:00+08:00",
                 "grcq_total": 300, "grcq_consumed": 60 }),
    );
    assert_eq!(d["amount"], "1.28");
    assert_eq!(d["deadline"], "2026-03-09T00:00:00+08:00");
    assert_eq!(d["values"], json!({}));

    let revoke = load("alibaba-ssl-revoke");
    let d = decide(
        &revoke,
        "revoke",
        &json!({ "status": "issued", "cert_type": "EV", "issued_at": "2026-06-03T10:00:00+08:00",
                 "requested_at": "2026-06-10T09:00:00+08:00" }),
    );
    assert_eq!(d["order"], Value::Null);
    assert_eq!(
        d["values"],
        json!({ "refund_safe_until": "2026-06-29T00:00:00+08:00" })
    );
    assert_eq!(d["review_by"], "2026-06-17");
    assert_eq!(d["requires"], json!(["email_confirmation"]));

    let legacy = load("alibaba-ssl-refund-legacy");
    let d = decide(
        &legacy,
        "refund",
        &json!({ "paid_at": "2024-12-01T12:00:00+08:00", "price": 80, "voucher": "0.005",
                 "status": "verifying", "requested_at": "2024-12-02T10:00:00+08:00" }),
    );
    // 80 - 0.005 = 79.995, rounded half away from zero.
    assert_eq!(d["amount"], "80.00");
}

fn merge(base: &Value, extra: Value) -> Value {
    let mut out = base.as_object().cloned().unwrap_or_default();
    if let Value::Object(extra) = extra {
        out.extend(extra);
    }
    Value::Object(out)
}

/// The checker itself rejects what the contract forbids.
fn tampered(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let policy = load("huawei-scm-withdraw");
    let order =
        json!({ "id": "t", "status": "deleting", "requested_at": "2026-03-02T12:00:00+08:00" });
    let mut decision = decide(&policy, "withdraw", &order);
    edit(decision.as_object_mut().expect("object"));
    check_contract(
        &decision,
        "huawei-scm-withdraw",
        "withdraw",
        &order,
        false,
        "tampered",
    );
}

#[test]
#[should_panic(expected = "keys, in the contract's order")]
fn checker_rejects_keys_out_of_order() {
    let policy = load("huawei-scm-withdraw");
    let order =
        json!({ "id": "t", "status": "deleting", "requested_at": "2026-03-02T12:00:00+08:00" });
    let text = decide(&policy, "withdraw", &order).to_string(); // a parsed map: keys sorted
    assert_keys_in_contract_order(&text);
}

#[test]
#[should_panic(expected = "denied has no next_status")]
fn checker_rejects_a_denied_decision_that_speaks() {
    tampered(|d| {
        d.insert("next_status".into(), json!("pending_application"));
    });
}

#[test]
#[should_panic(expected = "reason does not cite a document file")]
fn checker_rejects_an_uncited_reason() {
    tampered(|d| {
        d.insert("because".into(), json!(["because I said so"]));
    });
}

/// The library's own table is the contract's field names; the shipped vocabulary declares the
/// contract's steps, in its order.
#[test]
fn the_library_tables_are_the_contracts() {
    assert_eq!(policy::contract::DECISION_FIELDS, KEYS);
    let vocabulary =
        std::fs::read_to_string(common::root().join("policies/common/contract.policy")).unwrap();
    let steps = vocabulary
        .split("steps {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .unwrap();
    let declared: Vec<&str> = steps
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(declared, STEPS);
}

/// Any serializer gets the same decision as `to_json`, which copies what needs no escaping and the
/// reasons escaped when the policy compiled: every example of every shipped policy, and an id to escape.
#[test]
fn serde_and_to_json_write_the_same_decision() {
    let root = common::root();
    let mut orders = Vec::new();
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            let text = std::fs::read_to_string(&path).unwrap();
            orders.extend(text.lines().map(str::to_string));
        }
    }
    let mut compared = 0;
    for entry in std::fs::read_dir(root.join("policies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "policy") {
            continue;
        }
        let policy = policy::Policy::load(&path).unwrap();
        for action in policy.actions() {
            for order in &orders {
                let at = policy::Instant::parse("2026-01-01T00:00:00+08:00").unwrap();
                if let Ok(decision) = policy.decide_json(action, order, at) {
                    assert_eq!(
                        serde_json::to_string(&decision).unwrap(),
                        decision.to_json()
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 50, "only {compared} decisions compared");
    let policy = load("alibaba-ssl-refund-legacy");
    let order = r#"{"id":"o-\"1\"\n","paid_at":"2026-02-10T10:00:00+08:00","price":"199.00","status":"verifying"}"#;
    let at = policy::Instant::parse("2026-02-16T09:00:00+08:00").unwrap();
    let decision = policy.decide_json("refund", order, at).unwrap();
    assert!(decision.to_json().contains(r#""order":"o-\"1\"\n""#));
    assert_eq!(
        serde_json::to_string(&decision).unwrap(),
        decision.to_json()
    );
}

/// An amount has its currency's minor units (ISO 4217), rounded half away from zero: JPY none, BHD
/// three, the default USD two; a currency ISO 4217 does not know is an input error naming the field.
#[test]
fn amounts_have_the_currencys_minor_units() {
    let policy = load("alibaba-ssl-refund-legacy");
    let at = policy::Instant::parse("2026-02-16T09:00:00+08:00").unwrap();
    let decide = |price: &str, currency: Option<&str>| {
        let currency = currency.map_or(String::new(), |c| format!(r#","currency":"{c}""#));
        let order = format!(
            r#"{{"id":"o","paid_at":"2026-02-10T10:00:00+08:00","price":"{price}","status":"verifying"{currency}}}"#
        );
        policy
            .decide_json("refund", &order, at)
            .map(|d| {
                (
                    d.amount.map(|a| a.to_string()),
                    d.currency.map(|c| c.to_string()),
                )
            })
            .map_err(|e| e.to_string())
    };
    let some = |amount: &str, currency: &str| Ok((Some(amount.into()), Some(currency.into())));
    assert_eq!(decide("1999", Some("JPY")), some("1999", "JPY"));
    assert_eq!(decide("1999.5", Some("JPY")), some("2000", "JPY"));
    assert_eq!(decide("19.9995", Some("BHD")), some("20.000", "BHD"));
    assert_eq!(decide("19.9994", Some("BHD")), some("19.999", "BHD"));
    assert_eq!(decide("19.995", None), some("20.00", "USD"));
    assert_eq!(decide("19.99", Some("CNY")), some("19.99", "CNY"));
    for code in ["XYZ", "usd", "XAU", ""] {
        let error = decide("19.99", Some(code)).unwrap_err();
        assert!(
            error.contains("field `currency`") && error.contains("ISO 4217"),
            "{code}: {error}"
        );
    }
}

/// Orders read one after another into one storage (as a batch's worker reads them) each get their
/// own currency's minor units, whatever the order before had: the storage recalls the last ISO 4217
/// look-up, never a stale one.
#[test]
fn orders_read_into_one_storage_keep_their_own_minor_units() {
    let policy = load("alibaba-ssl-refund-legacy");
    let at = policy::Instant::parse("2026-02-16T09:00:00+08:00").unwrap();
    let mut storage = policy::Order::default();
    let mut decide = |currency: &str| {
        let order = format!(
            r#"{{"id":"o","paid_at":"2026-02-10T10:00:00+08:00","price":"19.9995","status":"verifying","currency":"{currency}"}}"#
        );
        let versions = policy::Versions::single(std::sync::Arc::new(policy.clone()));
        versions
            .decide_text_into("refund", &order, &mut storage, at)
            .map(|d| d.amount.map(|a| a.to_string()))
            .map_err(|e| e.to_string())
    };
    assert_eq!(decide("JPY"), Ok(Some("20".into())));
    assert_eq!(decide("JPY"), Ok(Some("20".into())));
    assert_eq!(decide("BHD"), Ok(Some("20.000".into())));
    assert_eq!(decide("USD"), Ok(Some("20.00".into())));
    assert!(decide("XYZ").unwrap_err().contains("ISO 4217"));
    assert!(decide("XYZ").unwrap_err().contains("ISO 4217"));
    assert_eq!(decide("JPY"), Ok(Some("20".into())));
}
