//! Regression tests for inputs at the edges (issue 8): instants anywhere in years 0001 to 9999,
//! arithmetic that leaves the range, the contract's role fields whether declared or not, money too
//! precise to hold exactly, and rules that say there is no review.

// Tests unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use policy::calendar::Calendars;
use policy::{Instant, Policy};
use serde_json::{json, Value};

use common::{at, decide_text, policy};

/// The policy of `text`, with the review kinds its rules name declared after its last line.
fn inline(text: &str) -> Policy {
    common::inline(&format!("{text}\nreview_kinds {{ none, manual }}\n"))
}

const WINDOW: &str = r#"
policy window
  document "x.txt"
  zone "Asia/Shanghai"

field paid_at: timestamp
field never: timestamp?

action refund {
  rule in_window
    when now within 7 x 24 hours after paid_at
    then allowed
    amount = 0
    because "within seven days" cite "Row 1"

  rule too_late
    then denied
    because "after seven days" cite "Row 2"
}
"#;

#[test]
fn the_whole_rfc3339_range_is_accepted_in_orders() {
    let policy = inline(WINDOW);
    // A "never" in a field no rule reads, and the first instant of year 1 as a payment time.
    let order = r#"{"paid_at": "0001-01-01T00:00:00Z", "never": "9999-12-31T23:59:59Z"}"#;
    let decision = decide_text(&policy, "refund", order, "0001-01-03T00:00:00Z").unwrap();
    assert_eq!(decision["outcome"], "allowed");
    // Shanghai kept local mean time (+08:05:43) then: RFC 3339 writes the offset to the minute, and
    // the local time with it, so the text still names the exact instant.
    assert_eq!(decision["deadline"], "0001-01-08T08:05:00+08:05");
    let deadline = at(decision["deadline"].as_str().unwrap());
    assert_eq!(deadline, at("0001-01-08T00:00:00Z"));
    // The last instant of the range as the request time.
    let decision = decide_text(
        &policy,
        "refund",
        r#"{"paid_at": "9999-12-30T00:00:00Z", "requested_at": "9999-12-31T23:59:59.999999999Z"}"#,
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    assert_eq!(decision["outcome"], "allowed");
    // The window closes after year 9999: time never gets there, so nothing changes.
    assert_eq!(decision["deadline"], Value::Null);
}

#[test]
fn instants_outside_the_range_are_input_errors() {
    let policy = inline(WINDOW);
    for text in ["9999-12-31T23:59:59-01:00", "0000-12-31T23:59:59Z"] {
        let order = format!(r#"{{"paid_at": "{text}"}}"#);
        let error = decide_text(&policy, "refund", &order, "2026-01-01T00:00:00Z").unwrap_err();
        assert!(error.contains("field `paid_at`"), "{error}");
        assert!(error.contains("out of the supported range"), "{error}");
    }
    let error = decide_text(
        &policy,
        "refund",
        r#"{"paid_at": "2026-01-01T00:00:00.1234567891Z"}"#,
        "2026-01-01T00:00:00Z",
    )
    .unwrap_err();
    assert!(error.contains("finer than a nanosecond"), "{error}");
}

/// The old representation (i64 nanoseconds) overflowed near 2262 in the deadline arithmetic.
#[test]
fn deadlines_near_the_old_limit_of_2262_are_exact() {
    let policy = inline(WINDOW);
    let order = r#"{"paid_at": "2262-04-10T00:00:00Z"}"#;
    let decision = decide_text(&policy, "refund", order, "2262-04-11T00:00:00Z").unwrap();
    assert_eq!(decision["outcome"], "allowed");
    assert_eq!(decision["deadline"], "2262-04-17T08:00:00+08:00");
    let later = decide_text(&policy, "refund", order, "2262-04-17T00:00:00Z").unwrap();
    assert_eq!(later["outcome"], "denied");
}

#[test]
fn arithmetic_that_leaves_the_range_is_an_evaluation_error() {
    let policy = inline(
        r#"
policy far
  document "x.txt"
  zone "UTC"

field paid_at: timestamp

let reminder = paid_at + 3 weeks

action refund {
  rule any
    then allowed
    amount = 0
    value reminder = reminder
    because "always" cite "Row 1"
}
"#,
    );
    let error = decide_text(
        &policy,
        "refund",
        r#"{"paid_at": "9999-12-30T00:00:00Z"}"#,
        "2026-01-01T00:00:00Z",
    )
    .unwrap_err();
    assert!(error.contains("timestamp is out of range"), "{error}");
}

#[test]
fn requested_at_and_currency_have_their_roles_whether_declared_or_not() {
    // WINDOW declares neither `requested_at` nor `currency` (nor `id`).
    let policy = inline(WINDOW);
    assert!(!WINDOW.contains("requested_at") && !WINDOW.contains("currency"));
    let now = "2026-03-20T00:00:00+08:00";
    let early = r#"{"id": "o-1", "paid_at": "2026-03-01T00:00:00+08:00",
        "requested_at": "2026-03-02T00:00:00+08:00", "currency": "JPY"}"#;
    let decision = decide_text(&policy, "refund", early, now).unwrap();
    assert_eq!(decision["order"], "o-1");
    assert_eq!(
        decision["outcome"], "allowed",
        "decided at requested_at, not at {now}"
    );
    assert_eq!(decision["currency"], "JPY");
    // Without them: the caller's time, and the contract's default currency.
    let plain = r#"{"paid_at": "2026-03-19T00:00:00+08:00"}"#;
    let decision = decide_text(&policy, "refund", plain, now).unwrap();
    assert_eq!(decision["currency"], "USD");
    // Of the wrong type, they are input errors like any field.
    for (field, value) in [
        ("requested_at", r#""yesterday""#),
        ("currency", "156"),
        ("id", "7"),
    ] {
        let order = format!(r#"{{"paid_at": "2026-03-01T00:00:00+08:00", "{field}": {value}}}"#);
        let error = decide_text(&policy, "refund", &order, now).unwrap_err();
        assert!(error.contains(&format!("field `{field}`")), "{error}");
    }
}

#[test]
fn money_too_precise_to_hold_is_an_input_error_naming_the_field() {
    let policy = policy("alibaba-ssl-refund-legacy");
    let order = r#"{"paid_at": "2026-02-10T10:00:00+08:00", "price": "100",
        "voucher": "100.000000000000000000000000001", "status": "pending_application"}"#;
    let error = decide_text(&policy, "refund", order, "2026-02-12T09:00:00+08:00").unwrap_err();
    assert!(error.contains("field `voucher`"), "{error}");
    assert!(error.contains("28 significant digits"), "{error}");
    // As a JSON number too, in exponent form.
    let order = r#"{"paid_at": "2026-02-10T10:00:00+08:00", "price": "100",
        "voucher": 1.00000000000000000000000000001e2, "status": "pending_application"}"#;
    let error = decide_text(&policy, "refund", order, "2026-02-12T09:00:00+08:00").unwrap_err();
    assert!(error.contains("field `voucher`"), "{error}");
}

#[test]
fn a_rule_without_review_takes_no_default_review_date() {
    let policy = inline(
        r#"
policy reviews
  document "x.txt"
  zone "UTC"

field paid_at: timestamp
field kind: string

action refund {
  default review = manual
  default review_by = date(now) + 3 calendar days

  rule quick
    when kind == "quick"
    then allowed
    amount = 0
    review = none
    because "no review" cite "Row 1"

  rule unset
    when kind == "unset"
    then allowed
    amount = 0
    review_by = none
    because "reviewed, no date" cite "Row 2"

  rule reviewed
    then allowed
    amount = 0
    because "reviewed" cite "Row 3"
}
"#,
    );
    let now = "2026-03-02T00:00:00Z";
    let decide = |kind: &str| {
        let order = format!(r#"{{"paid_at": "2026-03-01T00:00:00Z", "kind": "{kind}"}}"#);
        decide_text(&policy, "refund", &order, now).unwrap()
    };
    let quick = decide("quick");
    assert_eq!(
        (&quick["review"], &quick["review_by"]),
        (&json!("none"), &Value::Null)
    );
    let unset = decide("unset");
    assert_eq!(
        (&unset["review"], &unset["review_by"]),
        (&json!("manual"), &Value::Null)
    );
    let reviewed = decide("other");
    assert_eq!(
        (&reviewed["review"], &reviewed["review_by"]),
        (&json!("manual"), &json!("2026-03-05"))
    );
}

#[test]
fn instants_convert_to_and_from_chrono() {
    let t = at("2026-02-16T09:00:00+08:00");
    let utc: chrono::DateTime<chrono::Utc> = t.into();
    assert_eq!(Instant::try_from(utc), Ok(t));
    assert_eq!(t.to_string(), "2026-02-16T01:00:00Z");
}

const DATES: &str = r#"
policy dates
  document "x.txt"
  zone "UTC"

field paid_at: timestamp
field voucher: money = 0
field price: money = 100
field renewal: date?

constraint voucher * 9000000000000000000 <= price else "the voucher is too large"

action refund {
  rule any
    then allowed
    amount = 0
    because "always" cite "Row 1"
}
"#;

#[test]
fn dates_are_exactly_yyyy_mm_dd_in_years_0001_to_9999() {
    let policy = inline(DATES);
    let now = "2026-03-02T00:00:00Z";
    let with =
        |date: &str| format!(r#"{{"paid_at": "2026-03-01T00:00:00Z", "renewal": "{date}"}}"#);
    for good in ["2026-01-01", "0001-01-01", "9999-12-31"] {
        assert!(
            decide_text(&policy, "refund", &with(good), now).is_ok(),
            "{good}"
        );
    }
    for bad in [
        "+12345-01-01",
        "0000-01-01",
        "-0044-03-15",
        "2026-1-1",
        " 2026-01-01",
        "2026-02-30",
    ] {
        let error = decide_text(&policy, "refund", &with(bad), now).unwrap_err();
        assert!(error.contains("field `renewal`"), "{bad}: {error}");
    }
}

#[test]
fn a_field_given_twice_is_refused() {
    let policy = inline(DATES);
    let now = "2026-03-02T00:00:00Z";
    for order in [
        r#"{"paid_at": "2026-03-01T00:00:00Z", "voucher": "1", "voucher": "10"}"#,
        r#"{"paid_at": "2026-03-01T00:00:00Z", "voucher": "10", "voucher": "1"}"#,
    ] {
        let error = decide_text(&policy, "refund", order, now).unwrap_err();
        assert!(
            error.contains("field `voucher`: is given more than once"),
            "{error}"
        );
    }
    // Keys the policy does not read may repeat: they are ignored.
    let order = r#"{"paid_at": "2026-03-01T00:00:00Z", "note": 1, "note": 2}"#;
    assert!(decide_text(&policy, "refund", order, now).is_ok());
}

#[test]
fn a_constraint_that_cannot_be_evaluated_is_an_error_never_skipped() {
    let policy = inline(DATES);
    let now = "2026-03-02T00:00:00Z";
    let order = |voucher: &str| {
        format!(r#"{{"paid_at": "2026-03-01T00:00:00Z", "voucher": "{voucher}", "price": "100"}}"#)
    };
    let error = decide_text(&policy, "refund", &order("1"), now).unwrap_err();
    assert!(error.contains("the voucher is too large"), "{error}");
    // 1e11 * 9e18 overflows money: the constraint cannot be checked, and the order is not decided.
    let error = decide_text(&policy, "refund", &order("100000000000"), now).unwrap_err();
    assert!(
        error.contains("the constraint \"the voucher is too large\" cannot be checked"),
        "{error}"
    );
}

#[test]
fn too_many_enums_is_a_located_error() {
    let mut text = String::from(
        "policy enums\n  document \"x.txt\"\n  zone \"UTC\"\n\nfield paid_at: timestamp\n",
    );
    for i in 0..1030 {
        text.push_str(&format!("enum E{i} {{ a{i} }}\n"));
    }
    text.push_str(
        "action refund {\n  rule any\n    then denied\n    because \"no\" cite \"Row 1\"\n}\n",
    );
    let error = Policy::from_source("enums.policy", &text, &Calendars::new()).unwrap_err();
    let shown = error.to_string();
    assert!(shown.contains("policy::check::too_many_enums"), "{shown}");
}

/// `if` in the condition of `if`, nested to the depth limit: the analysis stays small (an opaque
/// condition), where copying the condition into both branches doubled it at every level.
#[test]
fn nested_if_conditions_keep_the_analysis_small() {
    let mut condition = String::from("flag");
    for _ in 0..26 {
        condition = format!("if {condition} then flag else not flag");
    }
    let text = format!(
        "policy nested\n  document \"x.txt\"\n  zone \"UTC\"\n\nfield paid_at: timestamp\nfield flag: bool = false\n\n\
         action refund {{\n  rule yes\n    when {condition}\n    then denied\n    because \"a\" cite \"Row 1\"\n\
           rule no\n    then denied\n    because \"b\" cite \"Row 2\"\n}}\n"
    );
    let policy = Policy::from_source("nested.policy", &text, &Calendars::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let findings = policy::analysis::analyze(&policy);
    assert!(findings.len() < 10, "{} findings", findings.len());
}
