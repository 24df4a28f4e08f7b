//! Quantities as numbers (issue 10): `days`, `hours`, `minutes`, `seconds` turn calendar days and
//! durations into integers, so a pro rata refund or a fee can be written; a guard on a count of
//! calendar days with `now` keeps an exact deadline.

// Tests unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use policy::calendar::Calendars;
use policy::eval::run_examples;
use policy::Policy;

use common::{decide_refund, inline};

/// A 30-day term refunded for its unused calendar days (dates in Shanghai), less a fee of 0.10 per
/// whole hour held, within the first 20 calendar days of the term.
const PRO_RATA: &str = r#"
policy pro-rata
  document "x.txt"
  zone "Asia/Shanghai"

field paid_at: timestamp
field expires_at: timestamp
field cash: money

let unused = days(date(expires_at) - date(now))
let term = days(date(expires_at) - date(paid_at))

action refund {
  rule in_window
    when days(date(now) - date(paid_at)) < 20
    then allowed
    amount = (cash * unused / term - hours(now - paid_at) * 0.10) rounded half_away_from_zero to 0.01
    value unused_days = unused
    value hours_held = hours(now - paid_at)
    value minutes_held = minutes(now - paid_at)
    value seconds_held = seconds(now - paid_at)
    value whole_days_held = days(now - paid_at)
    because "the unused days are refunded, less 0.10 an hour" cite "Row 1"

  rule too_late
    then denied
    because "the refund window has closed" cite "Row 2"

  example "the last second of the window" {
    at "2026-01-20T23:59:59+08:00"
    order { "paid_at": "2026-01-01T12:00:00+08:00", "expires_at": "2026-01-31T12:00:00+08:00", "cash": "300" }
    expect { "outcome": "allowed", "amount": "63.30", "deadline": "2026-01-21T00:00:00+08:00" }
  }
}
"#;

const ORDER: &str = r#"{"paid_at": "2026-01-01T12:00:00+08:00", "expires_at": "2026-01-31T12:00:00+08:00", "cash": "300"}"#;

#[test]
fn a_pro_rata_refund_changes_at_the_day_boundary_of_the_zone() {
    let policy = inline(PRO_RATA);
    // The second before local midnight: 2026-01-10 is day 9 of the term, 21 days unused:
    // 300 * 21 / 30 = 210, less 0.10 for each of the 227 whole hours held (9 days 11:59:59).
    let before = decide_refund(&policy, ORDER, "2026-01-10T23:59:59+08:00");
    assert_eq!(before["outcome"], "allowed", "{before}");
    assert_eq!(before["amount"], "187.30", "{before}");
    assert_eq!(before["values"]["unused_days"], 21, "{before}");
    assert_eq!(before["values"]["hours_held"], 227, "{before}");
    assert_eq!(before["values"]["minutes_held"], 227 * 60 + 59, "{before}");
    assert_eq!(
        before["values"]["seconds_held"],
        (227 * 60 + 59) * 60 + 59,
        "{before}"
    );
    assert_eq!(before["values"]["whole_days_held"], 9, "{before}");
    // The next second is a new date: one day fewer unused (200), and one more whole hour (228).
    let after = decide_refund(&policy, ORDER, "2026-01-11T00:00:00+08:00");
    assert_eq!(after["amount"], "177.20", "{after}");
    assert_eq!(after["values"]["unused_days"], 20, "{after}");
    assert_eq!(after["values"]["hours_held"], 228, "{after}");
    // Midnight in Shanghai is 16:00 UTC: the same instants, written in UTC, decide the same.
    let before_utc = decide_refund(&policy, ORDER, "2026-01-10T15:59:59Z");
    assert_eq!(before_utc["amount"], "187.30", "{before_utc}");
    let after_utc = decide_refund(&policy, ORDER, "2026-01-10T16:00:00Z");
    assert_eq!(after_utc["amount"], "177.20", "{after_utc}");
}

#[test]
fn a_guard_on_a_count_of_calendar_days_has_an_exact_deadline() {
    let policy = inline(PRO_RATA);
    // Paid on 2026-01-01: `days(date(now) - date(paid_at)) < 20` holds through 2026-01-20.
    let last = decide_refund(&policy, ORDER, "2026-01-20T23:59:59+08:00");
    assert_eq!(last["outcome"], "allowed", "{last}");
    assert_eq!(last["deadline"], "2026-01-21T00:00:00+08:00", "{last}");
    let closed = decide_refund(&policy, ORDER, "2026-01-21T00:00:00+08:00");
    assert_eq!(closed["outcome"], "denied", "{closed}");
    for result in run_examples(&policy) {
        assert!(result.passed(), "{result:?}");
    }
}

#[test]
fn a_duration_counts_whole_units_truncated_toward_zero() {
    let policy = inline(PRO_RATA);
    // Requested 90 minutes before payment: -1 whole hour, -90 minutes, 0 whole days.
    let early = decide_refund(&policy, ORDER, "2026-01-01T10:30:00+08:00");
    assert_eq!(early["values"]["hours_held"], -1, "{early}");
    assert_eq!(early["values"]["minutes_held"], -90, "{early}");
    assert_eq!(early["values"]["whole_days_held"], 0, "{early}");
}

/// Divisions rounded where they are made, inside an `if` branch, a `min` or `max` argument, or a
/// definition rounded where it is used: none is `unrounded_division`, and each rounds as written.
const ROUNDED_INSIDE: &str = r#"
policy rounded-inside
  document "x.txt"
  zone "Asia/Shanghai"

field paid_at: timestamp
field price: money
field promotion: bool

let third = price / 3
let share = price * 2 / 3 rounded floor to 0.01

action refund {
  rule promoted
    when promotion and now within 5 calendar days after paid_at
    then allowed
    amount = if price / 2 > 10 then price / 4 rounded floor to 0.01 else price / 2 rounded ceiling to 0.01
    because "a quarter of a larger promoted price, else half" cite "Row 1"

  rule capped
    when now within 10 calendar days after paid_at
    then allowed
    amount = min(third rounded floor to 0.01, 5) + max(share, 1)
    because "a third, at most 5, and two thirds" cite "Row 2"

  rule too_late
    then denied
    because "the refund window has closed" cite "Row 3"
}
"#;

#[test]
fn divisions_rounded_inside_the_amount_are_accepted() {
    let policy = inline(ROUNDED_INSIDE);
    assert!(policy.warnings().is_empty(), "{:?}", policy.warnings());
    let now = "2026-01-02T00:00:00+08:00";
    let order = |price: &str, promotion: bool| {
        format!(
            r#"{{"paid_at": "2026-01-01T00:00:00+08:00", "price": "{price}", "promotion": {promotion}}}"#
        )
    };
    // 30 / 2 > 10: 30 / 4 = 7.5, floored to cents.
    assert_eq!(
        decide_refund(&policy, &order("30", true), now)["amount"],
        "7.50"
    );
    // 10.01 / 2 = 5.005, not above 10: rounded up to 5.01.
    assert_eq!(
        decide_refund(&policy, &order("10.01", true), now)["amount"],
        "5.01"
    );
    // min(10 / 3 = 3.33, 5) + max(6.66, 1) = 9.99.
    assert_eq!(
        decide_refund(&policy, &order("10", false), now)["amount"],
        "9.99"
    );
}

/// A guard on a count of days held in a definition: solved through it, to the first second of the
/// day it stops holding.
const HELD: &str = r#"
policy held
  document "x.txt"
  zone "Asia/Shanghai"

field paid_at: timestamp
field price: money

let held = days(date(now) - date(paid_at))

action refund {
  default amount = price

  rule in_window
    when held <= 6
    then allowed
    because "within a week of the payment date" cite "Row 1"

  rule too_late
    then denied
    because "the refund window has closed" cite "Row 2"
}
"#;

#[test]
fn a_count_of_days_in_a_definition_keeps_an_exact_deadline() {
    let policy = inline(HELD);
    let order = r#"{"paid_at": "2026-01-01T23:30:00+08:00", "price": "10"}"#;
    let last = decide_refund(&policy, order, "2026-01-07T23:59:59+08:00");
    assert_eq!(last["outcome"], "allowed", "{last}");
    assert_eq!(last["deadline"], "2026-01-08T00:00:00+08:00", "{last}");
    let closed = decide_refund(&policy, order, "2026-01-08T00:00:00+08:00");
    assert_eq!(closed["outcome"], "denied", "{closed}");
}

#[test]
fn a_count_scaling_money_in_a_guard_is_reported_unsolvable() {
    let text = HELD.replace("when held <= 6", "when price * held <= 60");
    let error = Policy::from_source("inline.policy", &text, &Calendars::new())
        .err()
        .unwrap();
    let codes: Vec<&str> = error.diagnostics().iter().map(|d| d.code).collect();
    assert_eq!(codes, ["policy::compile::unsolvable_time"], "{error}");
}
