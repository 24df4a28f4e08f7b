//! Date and timestamp literals (issue 10): typed like fields of those types, in guards, definitions,
//! defaults and attributes, deciding orders exactly at the instant and day they name, and solving
//! deadlines against them.

// Tests unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use policy::eval::run_examples;

use common::{at, decide_refund, inline};

/// Orders paid from 2026-01-01 00:00 in Shanghai fall under new terms; requests are taken until the
/// end of 2026-06-30 (a date) or 2026-07-01T00:00:00+08:00 (an instant), whichever is written.
const EFFECTIVE: &str = r#"
policy effective
  document "x.txt"
  zone "Asia/Shanghai"

field paid_at: timestamp
field price: money
field opened_on: date = 2026-01-01

let new_terms = paid_at >= 2026-01-01T00:00:00+08:00
let last_day = 2026-06-30

action refund {
  default amount = price

  rule closed
    when now >= 2026-07-01T00:00:00+08:00 or date(now) > last_day
    then denied
    because "requests close with June 2026" cite "Row 0"

  rule new_terms
    when new_terms and date(paid_at) >= opened_on
    then allowed
    value effective_from = 2026-01-01
    because "paid under the new terms" cite "Row 1"

  rule old_terms
    then denied
    because "paid under the old terms" cite "Row 2"

  example "the first instant of the new terms" {
    at "2026-03-01T00:00:00+08:00"
    order { "paid_at": "2026-01-01T00:00:00+08:00", "price": "10.00" }
    expect { "outcome": "allowed", "rule": "new_terms", "deadline": "2026-07-01T00:00:00+08:00" }
  }

  example "the last instant of the old terms" {
    at "2026-03-01T00:00:00+08:00"
    order { "paid_at": "2025-12-31T23:59:59+08:00", "price": "10.00" }
    expect { "outcome": "denied", "rule": "old_terms" }
  }
}
"#;

#[test]
fn a_timestamp_literal_splits_orders_at_its_instant() {
    let policy = inline(EFFECTIVE);
    let paid = |at: &str| format!(r#"{{"paid_at": "{at}", "price": "10.00"}}"#);
    let now = "2026-03-01T00:00:00+08:00";
    for (paid_at, rule) in [
        ("2025-12-31T23:59:59+08:00", "old_terms"),
        ("2025-12-31T15:59:59Z", "old_terms"),
        ("2025-12-31T23:59:59.999999999+08:00", "old_terms"),
        ("2026-01-01T00:00:00+08:00", "new_terms"),
        ("2025-12-31T16:00:00Z", "new_terms"),
        ("2026-01-01T00:00:01+08:00", "new_terms"),
    ] {
        let decision = decide_refund(&policy, &paid(paid_at), now);
        assert_eq!(decision["rule"], rule, "paid at {paid_at}");
    }
}

#[test]
fn deadlines_are_solved_against_literals() {
    let policy = inline(EFFECTIVE);
    let order = r#"{"paid_at": "2026-02-01T00:00:00+08:00", "price": "10.00"}"#;
    let decision = decide_refund(&policy, order, "2026-06-30T23:59:59+08:00");
    assert_eq!(decision["rule"], "new_terms");
    assert_eq!(decision["deadline"], "2026-07-01T00:00:00+08:00");
    assert_eq!(decision["values"]["effective_from"], "2026-01-01");
    let decision = decide_refund(&policy, order, "2026-07-01T00:00:00+08:00");
    assert_eq!(decision["rule"], "closed");
}

#[test]
fn a_date_default_and_a_date_literal_compare_as_days() {
    let policy = inline(EFFECTIVE);
    let order =
        r#"{"paid_at": "2026-02-01T00:00:00+08:00", "price": "10.00", "opened_on": "2026-02-01"}"#;
    assert_eq!(
        decide_refund(&policy, order, "2026-03-01T00:00:00+08:00")["rule"],
        "new_terms"
    );
    let order =
        r#"{"paid_at": "2026-02-01T00:00:00+08:00", "price": "10.00", "opened_on": "2026-02-02"}"#;
    assert_eq!(
        decide_refund(&policy, order, "2026-03-01T00:00:00+08:00")["rule"],
        "old_terms"
    );
}

#[test]
fn the_policy_examples_pass() {
    let policy = inline(EFFECTIVE);
    for result in run_examples(&policy) {
        assert!(result.passed(), "{result:?}");
    }
}

/// Plans by SKU: a string set, the three string tests, and their negations.
const PLANS: &str = r#"
policy plans
  document "x.txt"
  zone "Asia/Shanghai"

field plan: string
field price: money

action refund {
  default amount = price

  rule multi_year
    when plan in {"EV-2Y", "DV-2Y", "EV-2Y"}
    then allowed
    because "multi-year plans" cite "Row 1"

  rule extended
    when starts_with(plan, "EV-") and not ends_with(plan, "-TRIAL")
    then allowed
    because "extended validation" cite "Row 2"

  rule wildcard
    when contains(plan, "*") and plan not in {"*-FREE"}
    then denied
    because "wildcards are final" cite "Row 3"

  rule otherwise
    then undetermined
    because "the document says nothing" cite "Row 4"
}
"#;

#[test]
fn strings_are_tested_by_set_prefix_suffix_and_part() {
    let policy = inline(PLANS);
    let now = "2026-03-01T00:00:00+08:00";
    for (plan, rule) in [
        ("EV-2Y", "multi_year"),
        ("DV-2Y", "multi_year"),
        ("dv-2Y", "otherwise"),
        ("EV-1Y", "extended"),
        ("EV-", "extended"),
        ("EV-1Y-TRIAL", "otherwise"),
        ("EV", "otherwise"),
        ("DV-*", "wildcard"),
        ("*-FREE", "otherwise"),
        ("", "otherwise"),
    ] {
        let order = format!(r#"{{"plan": "{plan}", "price": "10.00"}}"#);
        assert_eq!(
            decide_refund(&policy, &order, now)["rule"],
            rule,
            "plan {plan:?}"
        );
    }
}

/// An enum whose values are SKUs, not identifiers: declared quoted, compared quoted, read from JSON.
const SKUS: &str = r#"
policy skus
  document "x.txt"
  zone "Asia/Shanghai"

enum sku { "EV-1Y", "EV-2Y", "DV-1Y", basic }

field plan: sku = "DV-1Y"
field price: money

action refund {
  default amount = price

  rule multi_year
    when plan == "EV-2Y"
    then allowed
    because "multi-year plans" cite "Row 1"

  rule extended
    when "EV-1Y" == plan or plan in {basic, "DV-1Y"}
    then denied
    because "one-year plans" cite "Row 2"

  rule otherwise
    when plan not in {"EV-2Y", "EV-1Y", "DV-1Y", basic}
    then undetermined
    because "no such plan" cite "Row 3"
}
"#;

#[test]
fn enum_values_may_be_quoted_strings() {
    let policy = inline(SKUS);
    let now = "2026-03-01T00:00:00+08:00";
    for (order, rule) in [
        (r#"{"plan": "EV-2Y", "price": "10.00"}"#, "multi_year"),
        (r#"{"plan": "EV-1Y", "price": "10.00"}"#, "extended"),
        (r#"{"plan": "basic", "price": "10.00"}"#, "extended"),
        (r#"{"price": "10.00"}"#, "extended"),
    ] {
        assert_eq!(decide_refund(&policy, order, now)["rule"], rule, "{order}");
    }
    let error = policy
        .decide_json("refund", r#"{"plan": "EV-3Y", "price": "1"}"#, at(now))
        .unwrap_err()
        .to_string();
    assert!(error.contains("EV-1Y, EV-2Y, DV-1Y, basic"), "{error}");
}
