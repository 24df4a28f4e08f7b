//! `holds_until` and the timeline (issue 11): a decision says until when it holds if only time passes,
//! and `Policy::timeline` gives the decisions that follow, each from the instant it starts.

// Tests unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::at;

fn summary(policy: &policy::Policy, order: &str, request: &str, limit: usize) -> Vec<String> {
    let order = policy.read_order_str(order).unwrap();
    let timeline = policy
        .timeline("refund", &order, at(request), limit)
        .unwrap();
    let line = |d: &policy::Decision| {
        format!(
            "{} {} amount={} review_by={} until={}",
            d.outcome.as_str(),
            d.rule,
            d.amount.map_or("-".into(), |a| a.to_string()),
            d.review_by.map_or("-".into(), |r| r.to_string()),
            d.holds_until.map_or("-".into(), |t| t.to_string())
        )
    };
    let mut lines = vec![format!("{request}: {}", line(&timeline.first))];
    for (instant, decision) in &timeline.changes {
        let t = chrono::DateTime::<chrono::Utc>::from(*instant);
        lines.push(match decision {
            Ok(d) => format!("{}: {}", t.to_rfc3339(), line(d)),
            Err(e) => format!("{}: error {e}", t.to_rfc3339()),
        });
    }
    if !timeline.complete {
        lines.push("(cut)".into());
    }
    lines
}

/// The legacy table's unissued order: a full refund at once for 5 calendar days, then a refund after a
/// manual review whose date moves with each working day, across a weekend.
#[test]
fn an_unissued_order_changes_rule_after_5_days_then_its_review_date_each_working_day() {
    let legacy = common::policy("alibaba-ssl-refund-legacy");
    let order = r#"{"id":"t-2","paid_at":"2025-06-20T10:00:00+08:00","price":"100.00","status":"verifying"}"#;
    assert_eq!(
        summary(&legacy, order, "2025-06-22T12:00:00+08:00", 4),
        [
            "2025-06-22T12:00:00+08:00: allowed unissued_within_5_days amount=100.00 review_by=- until=2025-06-26T00:00:00+08:00",
            "2025-06-25T16:00:00+00:00: allowed unissued_after_5_days amount=100.00 review_by=2025-07-17 until=2025-06-27T00:00:00+08:00",
            "2025-06-26T16:00:00+00:00: allowed unissued_after_5_days amount=100.00 review_by=2025-07-18 until=2025-06-30T00:00:00+08:00",
            // Friday 27 June + 15 business days is the same date as from Saturday or Sunday.
            "2025-06-29T16:00:00+00:00: allowed unissued_after_5_days amount=100.00 review_by=2025-07-21 until=2025-07-01T00:00:00+08:00",
            "(cut)",
        ]
    );
}

/// Huawei's 7 x 24 hours: allowed to the last nanosecond of the window, then denied for good.
#[test]
fn a_window_closes_once_and_the_timeline_ends() {
    let huawei = common::policy("huawei-scm-unsubscribe");
    let order = r#"{"id":"t-3","paid_at":"2024-12-01T12:00:00+08:00","price":"80.00","status":"pending_application","purchased_on":"scm_console"}"#;
    assert_eq!(
        summary(&huawei, order, "2024-12-02T09:00:00+08:00", 10),
        [
            "2024-12-02T09:00:00+08:00: allowed pending_application amount=80.00 review_by=- until=2024-12-08T12:00:00+08:00",
            "2024-12-08T04:00:00+00:00: denied window_closed amount=- review_by=- until=-",
        ]
    );
}

/// An amount less a fee per whole hour held changes on each hour after payment, not before.
#[test]
fn an_amount_counting_whole_hours_holds_until_the_next_hour() {
    let policy = common::inline(
        r#"
policy hourly
  document "x.txt"
  zone "Europe/Berlin"

field paid_at: timestamp
field price: money

action refund {
  rule in_window
    when now within 3 hours after paid_at
    then allowed
    amount = price - hours(now - paid_at) * 1.00
    because "a fee per hour held" cite "Row 1"
  rule late then denied because "too late" cite "Row 2"
}
"#,
    );
    let order = r#"{"paid_at":"2026-03-29T00:30:00+01:00","price":"10.00"}"#;
    // Clocks go forward at 02:00 that night: whole hours are hours of time, not of the clock.
    assert_eq!(
        summary(&policy, order, "2026-03-29T00:40:00+01:00", 10),
        [
            "2026-03-29T00:40:00+01:00: allowed in_window amount=10.00 review_by=- until=2026-03-29T01:30:00+01:00",
            "2026-03-29T00:30:00+00:00: allowed in_window amount=9.00 review_by=- until=2026-03-29T03:30:00+02:00",
            "2026-03-29T01:30:00+00:00: allowed in_window amount=8.00 review_by=- until=2026-03-29T04:30:00+02:00",
            // `within 3 hours`: up to, not at, three hours after payment.
            "2026-03-29T02:30:00+00:00: denied late amount=- review_by=- until=-",
        ]
    );
    // At the second before and at holds_until.
    let decide = |t: &str| common::decide_refund(&policy, order, t);
    assert_eq!(decide("2026-03-29T01:29:59+01:00")["amount"], "10.00");
    assert_eq!(decide("2026-03-29T01:30:00+01:00")["amount"], "9.00");
}

/// A review date past the calendar's last day ends the timeline with that error.
#[test]
fn a_review_date_past_the_calendar_ends_the_timeline_with_the_error() {
    let legacy = common::policy("alibaba-ssl-refund-legacy");
    let order = r#"{"id":"t-4","paid_at":"2026-11-20T10:00:00+08:00","price":"100.00","status":"verifying"}"#;
    let lines = summary(&legacy, order, "2026-12-07T12:00:00+08:00", 40);
    let last = lines.last().unwrap();
    assert!(
        last.contains("error") && last.contains("does not cover"),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l == "(cut)"), "{lines:#?}");
}

/// An attribute that tests a window of its own (`if now within 168 hours ...`) changes where the window
/// closes, before the rule does; a duration held in a definition counts its whole hours the same.
#[test]
fn attributes_testing_windows_or_counting_defined_durations_change_where_they_do() {
    let tiered = common::inline(
        r#"
policy tiered
  document "x.txt"
  zone "UTC"

field paid_at: timestamp
field price: money

let held = now - paid_at

action refund {
  rule in_window
    when now within 720 hours after paid_at
    then allowed
    amount = if now within 168 hours after paid_at then price else price - 5.00
    value hours_held = hours(held)
    because "a" cite "Row 1"
  rule late then denied because "b" cite "Row 2"
}
"#,
    );
    let order = r#"{"paid_at":"2026-01-01T00:00:00Z","price":"100.00"}"#;
    let decide = |t: &str| common::decide_refund(&tiered, order, t);
    // Hours held change first: at 01:00.
    assert_eq!(
        decide("2026-01-01T00:30:00Z")["holds_until"],
        "2026-01-01T01:00:00+00:00"
    );
    // One hour before the 168th, the next hour is the 168th, where the amount drops too.
    let d = decide("2026-01-07T23:00:00Z");
    assert_eq!(
        (&d["amount"], &d["holds_until"]),
        (&"100.00".into(), &"2026-01-08T00:00:00+00:00".into())
    );
    assert_eq!(decide("2026-01-08T00:00:00Z")["amount"], "95.00");
    // Without the hours, the window in the amount alone: it closes at the 168th hour.
    let text = tiered
        .source()
        .text
        .replace("    value hours_held = hours(held)\n", "");
    let window_only = common::inline(&text.replace("let held = now - paid_at\n", ""));
    let d = common::decide_refund(&window_only, order, "2026-01-02T00:00:00Z");
    assert_eq!(d["holds_until"], "2026-01-08T00:00:00+00:00");
}

/// Versions selected by the request time: the next version takes over at its start.
#[test]
fn a_decision_by_request_time_holds_until_the_next_version_starts() {
    let version = |from: &str, days: u32| {
        common::inline(&format!(
            r#"
policy v
  document "x.txt"
  zone "UTC"
  effective from {from} by now

field paid_at: timestamp

action refund {{
  rule in_time when now within {days} calendar days after paid_at then allowed because "a" cite "Row 1"
  rule late then denied because "b" cite "Row 2"
}}
"#
        ))
    };
    let versions =
        policy::Versions::new(vec![version("2026-01-01", 30), version("2026-07-01", 30)]).unwrap();
    let decision = versions
        .decide_json(
            "refund",
            r#"{"paid_at":"2025-06-01T00:00:00Z"}"#,
            at("2026-06-30T12:00:00Z"),
        )
        .unwrap();
    assert_eq!(
        (decision.rule, decision.version),
        ("late", Some("2026-01-01"))
    );
    assert_eq!(
        decision.holds_until.unwrap().to_string(),
        "2026-07-01T00:00:00+00:00"
    );
    // Explained, the decision is the same, its `holds_until` included.
    let explained = versions
        .explain_json(
            "refund",
            r#"{"paid_at":"2025-06-01T00:00:00Z"}"#,
            at("2026-06-30T12:00:00Z"),
        )
        .unwrap();
    assert_eq!(
        explained.decision.map(|d| d.to_json()),
        Some(decision.to_json())
    );
}
