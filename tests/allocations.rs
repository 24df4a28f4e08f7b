//! Heap allocations per decision: `Policy::decide` on an order already read allocates nothing, except
//! for the decision's `values` (at most one allocation per entry, plus one for their `Vec`).
//!
//! The counting global allocator comes from the `allocation-counter` dev-dependency (the crate forbids
//! `unsafe_code`, which a `GlobalAlloc` written here would need). It counts only the allocations made
//! by the current thread inside `measure`, so tests running in parallel do not disturb the counts.
//! An integration test is its own binary: the counting allocator is installed in this one only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use policy::{Decision, Policy};

fn load(name: &str) -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(format!("{name}.policy"));
    Policy::load(&path).unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()))
}

fn at(timestamp: &str) -> policy::Instant {
    policy::eval::parse_time(timestamp).unwrap()
}

/// (policy, action, the outcome expected, order)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "huawei-scm-unsubscribe",
        "refund",
        "allowed",
        r#"{"id":"hw-a","paid_at":"2024-12-01T12:00:00+08:00","requested_at":"2024-12-03T12:00:00+08:00","price":"80.00","voucher":"10.00","status":"pending_application","purchased_on":"scm_console"}"#,
    ),
    (
        "huawei-scm-unsubscribe",
        "refund",
        "allowed",
        r#"{"id":"hw-r","paid_at":"2024-12-01T12:00:00+08:00","requested_at":"2024-12-08T11:30:00+08:00","price":"33.335","status":"revoked","revoked_at":"2024-12-08T11:00:00+08:00","purchased_on":"scm_console"}"#,
    ),
    (
        "huawei-scm-unsubscribe",
        "refund",
        "conditional",
        r#"{"id":"hw-c","paid_at":"2024-12-01T12:00:00+08:00","requested_at":"2024-12-08T03:58:00Z","price":"80.00","status":"issued","purchased_on":"scm_console"}"#,
    ),
    (
        "huawei-scm-unsubscribe",
        "refund",
        "denied",
        r#"{"id":"hw-d","paid_at":"2024-12-01T12:00:00+08:00","requested_at":"2024-12-08T12:00:00+08:00","price":"80.00","status":"pending_application","purchased_on":"scm_console"}"#,
    ),
    (
        "huawei-scm-unsubscribe",
        "refund",
        "denied",
        r#"{"paid_at":"2024-12-01T12:00:00+08:00","requested_at":"2024-12-02T12:00:00+08:00","price":"80.00","status":"issued","purchased_on":"other"}"#,
    ),
    (
        "huawei-scm-withdraw",
        "withdraw",
        "allowed",
        r#"{"id":"wd-a","requested_at":"2025-01-06T12:33:00Z","status":"pending_domain_verification"}"#,
    ),
    (
        "huawei-scm-withdraw",
        "withdraw",
        "denied",
        r#"{"id":"wd-d","requested_at":"2025-01-13T06:23:00Z","status":"revoking"}"#,
    ),
    (
        "huawei-scm-withdraw",
        "withdraw",
        "denied",
        r#"{"requested_at":"2025-01-20T07:29:00-05:00","status":"issued"}"#,
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "allowed",
        r#"{"id":"r1-b","requested_at":"2024-12-06T15:59:59Z","paid_at":"2024-11-30T16:00:00Z","price":"80.00","voucher":"20.00","status":"pending_application","expires_at":"2025-12-01T12:00:00+08:00"}"#,
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "allowed",
        r#"{"id":"r2-b","requested_at":"2025-06-14T23:59:59+08:00","paid_at":"2025-01-02T10:00:00+08:00","price":"80.00","voucher":"5.00","status":"verifying","expires_at":"2025-06-30T12:00:00+08:00"}"#,
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "allowed",
        r#"{"id":"r4-a","requested_at":"2025-01-06T10:00:00+08:00","paid_at":"2024-12-01T12:00:00+08:00","price":"80.00","status":"revoked","issued_at":"2024-12-02T10:00:00+08:00","expires_at":"2025-12-02T10:00:00+08:00","revoked_at":"2024-12-30T15:59:59Z","currency":"CNY"}"#,
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "conditional",
        r#"{"id":"r4-b","requested_at":"2024-12-30T23:59:59+08:00","paid_at":"2024-12-01T12:00:00+08:00","price":"80.00","status":"issued","issued_at":"2024-12-02T10:00:00+08:00","expires_at":"2025-12-02T10:00:00+08:00"}"#,
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "conditional",
        r#"{"id":"r6-a","requested_at":"2025-12-01T11:59:59+08:00","paid_at":"2025-11-19T10:00:00+08:00","price":"80.00","status":"issued","issued_at":"2025-11-20T10:00:00+08:00","expires_at":"2025-12-01T04:00:00Z"}"#,
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "denied",
        r#"{"id":"r5-a","requested_at":"2024-12-30T16:00:00Z","paid_at":"2024-12-01T12:00:00+08:00","price":"80.00","status":"issued","issued_at":"2024-12-02T10:00:00+08:00","expires_at":"2025-12-02T10:00:00+08:00"}"#,
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "denied",
        r#"{"id":"free-1","requested_at":"2024-12-02T10:00:00+08:00","paid_at":"2024-12-01T12:00:00+08:00","price":"80.00","status":"pending_application","free":true}"#,
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "undetermined",
        r#"{"id":"gap-1","requested_at":"2024-12-20T10:00:00+08:00","paid_at":"2024-12-01T12:00:00+08:00","price":"80.00","status":"validated","expires_at":"2025-12-01T12:00:00+08:00"}"#,
    ),
    (
        "alibaba-cms-refund-2026",
        "refund",
        "allowed",
        r#"{"id":"cms-a","paid_at":"2026-03-02T12:00:00+08:00","requested_at":"2026-03-03T10:00:00+08:00","price":"199.00","voucher":"19.90","status":"pending_application"}"#,
    ),
    (
        "alibaba-cms-refund-2026",
        "refund",
        "allowed",
        r#"{"id":"cms-b","paid_at":"2026-03-02T12:00:00+08:00","requested_at":"2026-03-03T10:00:00+08:00","price":"9.90","service":"private_ca","original_payment_available":false,"currency":"CNY"}"#,
    ),
    (
        "alibaba-cms-refund-2026",
        "refund",
        "conditional",
        r#"{"id":"cms-c","paid_at":"2026-04-01T10:00:00+08:00","requested_at":"2026-04-02T10:00:00+08:00","price":"1.6","service":"https_gateway","domain_added_at":"2026-04-01T12:00:00+08:00","grcq_total":300,"grcq_consumed":60}"#,
    ),
    (
        "alibaba-cms-refund-2026",
        "refund",
        "conditional",
        r#"{"id":"cms-i","paid_at":"2026-03-02T12:00:00+08:00","requested_at":"2026-03-05T10:00:00+08:00","price":"199.00","status":"issued"}"#,
    ),
    (
        "alibaba-cms-refund-2026",
        "refund",
        "denied",
        r#"{"id":"cms-d","paid_at":"2026-03-02T12:00:00+08:00","requested_at":"2026-03-20T10:00:00+08:00","price":"199.00","status":"pending_application"}"#,
    ),
    (
        "alibaba-cms-refund-2026",
        "refund",
        "undetermined",
        r#"{"id":"cms-p","paid_at":"2026-03-02T12:00:00+08:00","requested_at":"2026-03-03T10:00:00+08:00","price":"199.00","status":"pending_application","promotion":true}"#,
    ),
    (
        "alibaba-ssl-revoke",
        "revoke",
        "allowed",
        r#"{"id":"doc-rv","requested_at":"2026-06-10T09:00:00+08:00","status":"issued","cert_type":"OV","issued_at":"2026-06-03T10:00:00+08:00","expires_at":"2027-06-03T23:59:59+08:00"}"#,
    ),
    (
        "alibaba-ssl-revoke",
        "revoke",
        "allowed",
        r#"{"id":"rv-dv","requested_at":"2026-06-17T09:00:00+08:00","status":"issued","cert_type":"DV","issued_at":"2026-06-03T10:00:00+08:00"}"#,
    ),
    (
        "alibaba-ssl-revoke",
        "revoke",
        "denied",
        r#"{"id":"rv-d","requested_at":"2026-06-17T09:00:00+08:00","status":"revoking","issued_at":"2026-06-03T10:00:00+08:00"}"#,
    ),
    (
        "alibaba-ssl-revoke",
        "revoke",
        "denied",
        r#"{"id":"rv-u","requested_at":"2026-06-17T09:00:00+08:00","status":"issued","uploaded":true,"issued_at":"2026-06-03T10:00:00+08:00"}"#,
    ),
    (
        "alibaba-ssl-revoke",
        "delete",
        "allowed",
        r#"{"id":"del-a","requested_at":"2025-03-04T01:19:00-05:00","status":"revoked","issued_at":"2024-11-14T06:19:00Z","expires_at":"2025-11-14T06:19:00Z","cert_type":"EV"}"#,
    ),
    (
        "alibaba-ssl-revoke",
        "delete",
        "denied",
        r#"{"id":"del-d","requested_at":"2025-02-10T20:23:00+08:00","status":"issued","issued_at":"2024-10-19T12:23:00Z","expires_at":"2025-10-18T12:23:00Z"}"#,
    ),
];

/// The example files: every valid line of each, decided with its policy and action.
const EXAMPLE_FILES: &[(&str, &str, &str)] = &[
    (
        "huawei-scm-unsubscribe",
        "refund",
        "huawei-scm-unsubscribe.jsonl",
    ),
    (
        "huawei-scm-withdraw",
        "withdraw",
        "huawei-scm-withdraw.jsonl",
    ),
    (
        "alibaba-ssl-refund-legacy",
        "refund",
        "alibaba-ssl-refund-legacy.jsonl",
    ),
    ("alibaba-ssl-refund-legacy", "refund", "orders.jsonl"),
    (
        "alibaba-cms-refund-2026",
        "refund",
        "alibaba-cms-refund-2026.jsonl",
    ),
    (
        "alibaba-ssl-revoke",
        "revoke",
        "alibaba-ssl-revoke.revoke.jsonl",
    ),
    (
        "alibaba-ssl-revoke",
        "delete",
        "alibaba-ssl-revoke.delete.jsonl",
    ),
];

/// What one decision cost.
struct Count {
    what: String,
    outcome: &'static str,
    values: usize,
    allocations: u64,
}

impl Count {
    /// The budget: nothing, or one allocation per `values` entry plus one for their `Vec`.
    fn allowed(&self) -> u64 {
        if self.values == 0 {
            0
        } else {
            self.values as u64 + 1
        }
    }
}

/// Decides `json` once to warm up, then again while counting this thread's allocations.
fn count(
    policy: &Policy,
    action: &str,
    what: String,
    json: &str,
    now: policy::Instant,
) -> Option<Count> {
    let order = policy.read_order_str(json).ok()?;
    let warm: Decision = policy.decide(action, &order, now).ok()?;
    let mut decided = None;
    let info = allocation_counter::measure(|| {
        decided = Some(policy.decide(action, &order, now));
    });
    let decision = decided.unwrap().unwrap();
    assert_eq!(decision, warm, "{what}: two decisions of one order differ");
    Some(Count {
        what,
        outcome: decision.outcome.as_str(),
        values: decision.values.len(),
        allocations: info.count_total,
    })
}

fn report(counts: &[Count]) -> String {
    counts
        .iter()
        .map(|c| {
            format!(
                "{}: {} with {} value(s): {} allocation(s), budget {}",
                c.what,
                c.outcome,
                c.values,
                c.allocations,
                c.allowed()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_counter_sees_this_threads_allocations() {
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert_eq!(info.count_total, 1);
}

#[test]
fn decisions_allocate_only_for_their_values() {
    let now = at("2026-01-01T00:00:00Z");
    let mut counts = Vec::new();
    for &(name, action, outcome, json) in CASES {
        let policy = load(name);
        let what = format!("{name} {action} {json}");
        let counted = count(&policy, action, what.clone(), json, now)
            .unwrap_or_else(|| panic!("{what}: cannot be decided"));
        assert_eq!(counted.outcome, outcome, "{what}");
        counts.push(counted);
    }
    for outcome in ["allowed", "conditional", "denied", "undetermined"] {
        assert!(
            counts.iter().any(|c| c.outcome == outcome),
            "no case is {outcome}"
        );
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for &(name, action, file) in EXAMPLE_FILES {
        let policy = load(name);
        let text = std::fs::read_to_string(examples.join(file)).unwrap();
        for (i, line) in text.lines().enumerate() {
            let what = format!("{name} {action} examples/{file}:{}", i + 1);
            // Lines that are invalid on purpose cannot be decided: not counted.
            if let Some(counted) = count(&policy, action, what, line, now) {
                counts.push(counted);
            }
        }
    }
    assert!(
        counts.len() > 300,
        "only {} decisions counted",
        counts.len()
    );

    // Shown with `--nocapture`: how many decisions were counted and what the most costly one took.
    let mut summary: Vec<(&str, &str, usize, u64, u64)> = Vec::new();
    for c in &counts {
        let mut words = c.what.split(' ');
        let (name, action) = (words.next().unwrap(), words.next().unwrap());
        match summary.iter_mut().find(|s| s.0 == name && s.1 == action) {
            Some(s) => {
                s.2 += 1;
                s.3 = s.3.max(c.allocations);
                s.4 = s.4.max(c.allowed());
            }
            None => summary.push((name, action, 1, c.allocations, c.allowed())),
        }
    }
    for (name, action, decisions, most, budget) in &summary {
        println!("{name} {action}: {decisions} decisions, at most {most} allocation(s) (budget {budget})");
    }

    let over: Vec<Count> = counts
        .into_iter()
        .filter(|c| c.allocations > c.allowed())
        .collect();
    assert!(
        over.is_empty(),
        "{} decision(s) allocate more than their budget:\n{}",
        over.len(),
        report(&over)
    );
}

/// Calendar months (issue 10), on dates and timestamps in a zone with daylight saving time, in a
/// window and beside `now`, with the deadline solved: the decision allocates nothing either.
#[test]
fn decisions_with_calendar_months_allocate_nothing() {
    const MONTHS: &str = r#"
policy months
  document "x.txt"
  zone "America/New_York"

field paid_at: timestamp
field expires_at: timestamp
field price: money

action refund {
  rule in_window
    when now within 1 calendar month after paid_at and now < expires_at - 1 calendar year
    then allowed
    amount = price
    because "within a month" cite "Row 1"

  rule too_late
    then denied
    because "too late" cite "Row 2"
}
"#;
    let policy =
        Policy::from_source("months.policy", MONTHS, &policy::calendar::Calendars::new()).unwrap();
    let json = r#"{"paid_at":"2026-02-08T02:30:00-05:00","expires_at":"2027-03-31T10:00:00-04:00","price":"10.00"}"#;
    for (now, outcome) in [
        ("2026-03-08T23:59:59-04:00", "allowed"),
        ("2026-03-09T00:00:00-04:00", "denied"),
    ] {
        let counted = count(&policy, "refund", now.to_string(), json, at(now)).unwrap();
        assert_eq!(counted.outcome, outcome, "{now}");
        let allocations = counted.allocations;
        assert_eq!(allocations, 0, "{}", report(&[counted]));
    }
}
