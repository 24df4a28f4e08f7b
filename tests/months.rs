//! Calendar months and years (issue 10): a date keeps its day of the month, clamped to the last day
//! of a shorter month; a timestamp keeps its local time in the policy's zone; windows in months give
//! exact deadlines, across the end of a month and a change of daylight saving time.

// Tests unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use policy::eval::run_examples;
use serde_json::Value;

use common::{decide_text, inline};

/// New York: daylight saving time starts on 8 March 2026 (02:00 -> 03:00) and ends on 1 November
/// 2026 (02:00 -> 01:00).
const MONTHS: &str = r#"
policy months
  document "x.txt"
  zone "America/New_York"

field paid_at: timestamp
field expires_at: timestamp
field cash: money

action refund {
  rule in_month
    when now within 1 calendar month after paid_at
    then allowed
    amount = cash
    value month_later = date(paid_at) + 1 calendar month
    value two_months_later = date(paid_at) + 2 calendar months
    value month_earlier = date(paid_at) - 1 calendar month
    value year_later = paid_at + 1 calendar year
    value instant_month_earlier = paid_at - 1 calendar month
    value same_instant = paid_at + 0 calendar months
    value days_in_month = days((date(paid_at) + 1 calendar month) - date(paid_at))
    because "within a month" cite "Row 1"

  rule too_late
    then denied
    because "too late" cite "Row 2"

  example "the last second of a month after 31 January" {
    at "2026-02-28T23:59:59-05:00"
    order { "paid_at": "2026-01-31T10:00:00-05:00", "expires_at": "2026-12-31T10:00:00-05:00", "cash": "10" }
    expect { "outcome": "allowed", "deadline": "2026-03-01T00:00:00-05:00" }
  }

  example "the first second after it" {
    at "2026-03-01T00:00:00-05:00"
    order { "paid_at": "2026-01-31T10:00:00-05:00", "expires_at": "2026-12-31T10:00:00-05:00", "cash": "10" }
    expect { "outcome": "denied", "rule": "too_late" }
  }

  example "a month ending on the day clocks go forward" {
    at "2026-03-08T23:59:59-04:00"
    order { "paid_at": "2026-02-08T12:00:00-05:00", "expires_at": "2026-12-31T10:00:00-05:00", "cash": "10" }
    expect { "outcome": "allowed", "deadline": "2026-03-09T00:00:00-04:00" }
  }
}

action exact {
  rule in_time
    when now < paid_at + 1 calendar month
    then allowed
    amount = cash
    because "within a month to the instant" cite "Row 3"

  rule too_late
    then denied
    because "too late" cite "Row 4"
}

action renew {
  rule early
    when now at least 1 calendar month before expires_at
    then allowed
    amount = cash
    because "a month ahead" cite "Row 5"

  rule too_late
    then denied
    because "too late" cite "Row 6"
}

action archive {
  rule kept
    when now within 2 calendar years after paid_at
    then denied
    because "kept for two years" cite "Row 7"

  rule old
    when now more than 2 calendar years after paid_at
    then allowed
    amount = cash
    because "older than two years" cite "Row 8"
}
"#;

fn order(paid_at: &str, expires_at: &str) -> String {
    format!(r#"{{"paid_at": "{paid_at}", "expires_at": "{expires_at}", "cash": "10"}}"#)
}

fn decide(action: &str, paid_at: &str, expires_at: &str, now: &str) -> Value {
    let policy = inline(MONTHS);
    decide_text(&policy, action, &order(paid_at, expires_at), now)
        .unwrap_or_else(|e| panic!("{action} at {now}: {e}"))
}

const EXPIRES: &str = "2026-12-31T10:00:00-05:00";

#[test]
fn the_day_of_the_month_is_kept_or_clamped_to_the_last_day() {
    let cases = [
        // paid, a month later, two months later, a month earlier, a year later (timestamp)
        (
            "2026-01-31T10:00:00-05:00",
            "2026-02-28",
            "2026-03-31",
            "2025-12-31",
            "2027-01-31T10:00:00-05:00",
        ),
        (
            "2024-01-31T10:00:00-05:00",
            "2024-02-29",
            "2024-03-31",
            "2023-12-31",
            "2025-01-31T10:00:00-05:00",
        ),
        (
            "2024-02-29T10:00:00-05:00",
            "2024-03-29",
            "2024-04-29",
            "2024-01-29",
            "2025-02-28T10:00:00-05:00",
        ),
        (
            "2026-03-31T10:00:00-04:00",
            "2026-04-30",
            "2026-05-31",
            "2026-02-28",
            "2027-03-31T10:00:00-04:00",
        ),
        (
            "2026-12-15T10:00:00-05:00",
            "2027-01-15",
            "2027-02-15",
            "2026-11-15",
            "2027-12-15T10:00:00-05:00",
        ),
    ];
    for (paid, month, two_months, earlier, year) in cases {
        let decision = decide("refund", paid, EXPIRES, paid);
        let values = &decision["values"];
        assert_eq!(values["month_later"], month, "{paid}: {decision}");
        assert_eq!(values["two_months_later"], two_months, "{paid}: {decision}");
        assert_eq!(values["month_earlier"], earlier, "{paid}: {decision}");
        assert_eq!(values["year_later"], year, "{paid}: {decision}");
    }
    // Two months at once are not one month twice: 31 January + 2 months is 31 March, and the days
    // of the month counted between the dates follow the clamp.
    let january = decide(
        "refund",
        "2026-01-31T10:00:00-05:00",
        EXPIRES,
        "2026-01-31T10:00:00-05:00",
    );
    assert_eq!(january["values"]["days_in_month"], 28, "{january}");
}

#[test]
fn a_month_after_31_january_ends_with_28_february() {
    let paid = "2026-01-31T10:00:00-05:00";
    let last = decide("refund", paid, EXPIRES, "2026-02-28T23:59:59-05:00");
    assert_eq!(last["outcome"], "allowed", "{last}");
    assert_eq!(last["deadline"], "2026-03-01T00:00:00-05:00", "{last}");
    let next = decide("refund", paid, EXPIRES, "2026-03-01T00:00:00-05:00");
    assert_eq!(next["outcome"], "denied", "{next}");
    // In a leap year the month runs to 29 February.
    let leap = decide(
        "refund",
        "2024-01-31T10:00:00-05:00",
        EXPIRES,
        "2024-02-29T23:59:59-05:00",
    );
    assert_eq!(leap["deadline"], "2024-03-01T00:00:00-05:00", "{leap}");
    let after = decide(
        "refund",
        "2024-01-31T10:00:00-05:00",
        EXPIRES,
        "2024-03-01T00:00:00-05:00",
    );
    assert_eq!(after["outcome"], "denied", "{after}");
}

#[test]
fn a_month_window_ending_on_the_day_clocks_go_forward_closes_at_local_midnight() {
    // Paid 8 February in winter time; the window's last day is 8 March, the day clocks go forward:
    // it closes at midnight at the start of 9 March, in summer time.
    let paid = "2026-02-08T12:00:00-05:00";
    let last = decide("refund", paid, EXPIRES, "2026-03-08T23:59:59-04:00");
    assert_eq!(last["outcome"], "allowed", "{last}");
    assert_eq!(last["deadline"], "2026-03-09T00:00:00-04:00", "{last}");
    let next = decide("refund", paid, EXPIRES, "2026-03-09T00:00:00-04:00");
    assert_eq!(next["outcome"], "denied", "{next}");
    // The same instants written in UTC decide the same.
    let last_utc = decide("refund", paid, EXPIRES, "2026-03-09T03:59:59Z");
    assert_eq!(last_utc["outcome"], "allowed", "{last_utc}");
    let next_utc = decide("refund", paid, EXPIRES, "2026-03-09T04:00:00Z");
    assert_eq!(next_utc["outcome"], "denied", "{next_utc}");
}

#[test]
fn a_timestamp_keeps_its_local_time_across_a_change_of_daylight_saving_time() {
    // 10:00 in winter time, a month later 10:00 in summer time: 23 hours of difference in UTC.
    let paid = "2026-02-20T10:00:00-05:00";
    let last = decide("exact", paid, EXPIRES, "2026-03-20T09:59:59-04:00");
    assert_eq!(last["outcome"], "allowed", "{last}");
    assert_eq!(last["deadline"], "2026-03-20T10:00:00-04:00", "{last}");
    let next = decide("exact", paid, EXPIRES, "2026-03-20T10:00:00-04:00");
    assert_eq!(next["outcome"], "denied", "{next}");
}

#[test]
fn a_local_time_that_clocks_skip_moves_to_the_end_of_the_gap() {
    // 02:30 on 8 March 2026 does not exist in New York: as for the start of a day, the instant is
    // the end of the gap, 03:00 summer time.
    let paid = "2026-02-08T02:30:00-05:00";
    let last = decide("exact", paid, EXPIRES, "2026-03-08T01:59:59-05:00");
    assert_eq!(last["outcome"], "allowed", "{last}");
    assert_eq!(last["deadline"], "2026-03-08T03:00:00-04:00", "{last}");
    let next = decide("exact", paid, EXPIRES, "2026-03-08T03:00:00-04:00");
    assert_eq!(next["outcome"], "denied", "{next}");
}

#[test]
fn a_local_time_that_clocks_show_twice_is_the_earlier_instant() {
    // 01:30 on 1 November 2026 happens twice in New York (summer, then winter time): the earlier.
    let paid = "2026-10-01T01:30:00-04:00";
    let last = decide("exact", paid, EXPIRES, "2026-11-01T01:29:59-04:00");
    assert_eq!(last["deadline"], "2026-11-01T01:30:00-04:00", "{last}");
    let next = decide("exact", paid, EXPIRES, "2026-11-01T01:30:00-04:00");
    assert_eq!(next["outcome"], "denied", "{next}");
    let later = decide("exact", paid, EXPIRES, "2026-11-01T01:00:00-05:00");
    assert_eq!(later["outcome"], "denied", "{later}");
    // Paid in the second 01:30 (winter time): a month earlier is 01:30 on 1 October (summer time), a
    // year later 01:30 on 1 November 2027 (still summer time then), and no months the instant itself.
    let second = "2026-11-01T01:30:00-05:00";
    let decision = decide("refund", second, EXPIRES, second);
    let values = &decision["values"];
    assert_eq!(values["same_instant"], second, "{decision}");
    assert_eq!(
        values["instant_month_earlier"], "2026-10-01T01:30:00-04:00",
        "{decision}"
    );
    assert_eq!(
        values["year_later"], "2027-11-01T01:30:00-04:00",
        "{decision}"
    );
}

#[test]
fn a_month_before_an_instant_is_measured_back_from_its_date() {
    // Expiring 31 March: a month before is 28 February, the last day the renewal is early enough.
    let expires = "2026-03-31T10:00:00-04:00";
    let paid = "2026-01-01T10:00:00-05:00";
    let last = decide("renew", paid, expires, "2026-02-28T23:59:59-05:00");
    assert_eq!(last["outcome"], "allowed", "{last}");
    assert_eq!(last["deadline"], "2026-03-01T00:00:00-05:00", "{last}");
    let next = decide("renew", paid, expires, "2026-03-01T00:00:00-05:00");
    assert_eq!(next["outcome"], "denied", "{next}");
}

/// The policy checks clean (its analysis included: `within` and `more than` one window in months
/// cover every order), and its examples at the window's edges pass.
#[test]
fn a_policy_in_months_checks_clean_and_its_examples_pass() {
    let policy = inline(MONTHS);
    assert!(policy.warnings().is_empty(), "{:?}", policy.warnings());
    let findings = policy::analysis::analyze(&policy);
    assert!(findings.is_empty(), "{findings:?}");
    let results = run_examples(&policy);
    assert_eq!(results.len(), 3);
    for result in results {
        assert!(result.passed(), "{result:?}");
    }
}

#[test]
fn two_calendar_years_after_29_february_end_on_28_february() {
    let paid = "2024-02-29T10:00:00-05:00";
    let kept = decide("archive", paid, EXPIRES, "2026-02-28T23:59:59-05:00");
    assert_eq!(kept["outcome"], "denied", "{kept}");
    assert_eq!(kept["rule"], "kept", "{kept}");
    let old = decide("archive", paid, EXPIRES, "2026-03-01T00:00:00-05:00");
    assert_eq!(old["outcome"], "allowed", "{old}");
    assert_eq!(old["rule"], "old", "{old}");
}
