//! Per decision, through the library: the order already read, `Policy::decide` for every shipped policy
//! and action on 2-4 representative orders. In the same group, the floor: the Alibaba legacy table
//! written by hand in Rust over an already parsed order (chrono and rust_decimal values), computing
//! the outcome, the rule, the amount, `review_by` (with the same `cn` calendar) and the deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use policy::calendar::{Calendar, OutOfCalendar};
use policy::{Decision, Outcome, Policy};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use common::{Case, CASES, LEGACY};

// ------------------------------------------------------------------ the hand-written legacy table

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    PendingApplication,
    Verifying,
    ValidationFailed,
    Validated,
    Issued,
    Revoking,
    Revoked,
    Expired,
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "pending_application" => Status::PendingApplication,
            "verifying" => Status::Verifying,
            "validation_failed" => Status::ValidationFailed,
            "validated" => Status::Validated,
            "issued" => Status::Issued,
            "revoking" => Status::Revoking,
            "revoked" => Status::Revoked,
            "expired" => Status::Expired,
            other => return Err(format!("unknown status `{other}`")),
        })
    }
}

/// An order of the legacy table, its fields already parsed.
#[derive(Debug, Clone)]
struct LegacyOrder {
    requested_at: Option<DateTime<Utc>>,
    paid_at: DateTime<Utc>,
    price: Decimal,
    voucher: Decimal,
    coupon: Decimal,
    status: Status,
    issued_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    free: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct LegacyDecision {
    outcome: Outcome,
    rule: &'static str,
    amount: Option<Decimal>,
    review_by: Option<NaiveDate>,
    deadline: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
enum LegacyError {
    Missing(&'static str),
    VouchersExceedPrice,
    Calendar(OutOfCalendar),
}

/// The calendar date of an instant in Asia/Shanghai.
fn date_of(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Shanghai).date_naive()
}

/// The first instant of a date in Asia/Shanghai.
fn start_of_day(d: NaiveDate) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&d.and_time(NaiveTime::MIN))
        .earliest()
        .expect("Asia/Shanghai has no gap at midnight")
        .with_timezone(&Utc)
}

fn plus_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).expect("date in range")
}

fn minus_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).expect("date in range")
}

/// The ten rules of `spec/policies.md`, "alibaba-ssl-refund-legacy", in order, with the deadline
/// derived per rule (the first instant at which, with only time passing, the table gives `denied`).
fn decide_legacy(
    order: &LegacyOrder,
    calendar: &Calendar,
    default_now: DateTime<Utc>,
) -> Result<LegacyDecision, LegacyError> {
    use Status::*;
    let status = order.status;
    if matches!(status, Issued | Revoking | Revoked) && order.issued_at.is_none() {
        return Err(LegacyError::Missing("issued_at"));
    }
    if status == Revoked && order.revoked_at.is_none() {
        return Err(LegacyError::Missing("revoked_at"));
    }
    if order.voucher + order.coupon > order.price {
        return Err(LegacyError::VouchersExceedPrice);
    }

    let now = order.requested_at.unwrap_or(default_now);
    let today = date_of(now);
    let paid_day = date_of(order.paid_at);
    let days_since_purchase = (today - paid_day).num_days();
    let expiry_day = order.expires_at.map(date_of);
    let days_to_expiry = expiry_day.map(|e| (e - today).num_days());
    let issued_day = order.issued_at.map(date_of);
    let days_since_issue = issued_day.map(|i| (today - i).num_days());
    let unissued = matches!(
        status,
        PendingApplication | Verifying | ValidationFailed | Validated
    );
    let not_yet_validated = unissued && status != Validated;
    let expired_now = order.expires_at.is_some_and(|e| now >= e);

    let (outcome, rule) = if order.free {
        (Outcome::Denied, "free_certificate")
    } else if status == Expired || expired_now {
        (Outcome::Denied, "expired")
    } else if not_yet_validated && days_since_purchase <= 5 {
        (Outcome::Allowed, "unissued_within_5_days")
    } else if not_yet_validated && days_since_purchase > 5 && days_to_expiry.is_none_or(|d| d > 15)
    {
        (Outcome::Allowed, "unissued_after_5_days")
    } else if unissued && days_to_expiry.is_some_and(|d| d <= 15) {
        (Outcome::Denied, "unissued_near_expiry")
    } else if status == Revoked
        && (date_of(order.revoked_at.unwrap()) - issued_day.unwrap()).num_days() <= 28
    {
        (Outcome::Allowed, "revoked_within_28_days")
    } else if status == Issued && days_since_issue.unwrap() <= 28 {
        (Outcome::Conditional, "issued_within_28_days")
    } else if status == Revoking && days_since_issue.unwrap() <= 28 {
        (Outcome::Conditional, "revoking_within_28_days")
    } else if matches!(status, Issued | Revoking | Revoked) {
        (Outcome::Denied, "issued_after_28_days")
    } else if status == Validated {
        (Outcome::Undetermined, "validated_not_issued")
    } else {
        (Outcome::Undetermined, policy::eval::NO_RULE)
    };

    let mut decision = LegacyDecision {
        outcome,
        rule,
        amount: None,
        review_by: None,
        deadline: None,
    };
    if !matches!(outcome, Outcome::Allowed | Outcome::Conditional) {
        return Ok(decision);
    }
    let cash = order.price - order.voucher - order.coupon;
    let mut amount = cash.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    amount.rescale(2);
    decision.amount = Some(amount);
    if rule != "unissued_within_5_days" {
        decision.review_by = Some(
            calendar
                .add_business_days(today, 15)
                .map_err(LegacyError::Calendar)?,
        );
    }
    // Time passing can deny through rule 2 (at expires_at), rule 5 (from the start of the date 15 days
    // before expiry, once rules 3 and 4 no longer apply) and rule 8 (from the start of the 29th day
    // after issuance); nothing else changes with time alone.
    decision.deadline = match rule {
        "unissued_within_5_days" => order.expires_at.map(|expires| {
            let window_closes = start_of_day(plus_days(paid_day, 6));
            let near_expiry = start_of_day(minus_days(expiry_day.unwrap(), 15));
            expires.min(window_closes.max(near_expiry))
        }),
        "unissued_after_5_days" => order
            .expires_at
            .map(|expires| expires.min(start_of_day(minus_days(expiry_day.unwrap(), 15)))),
        "revoked_within_28_days" => order.expires_at,
        _ => {
            let day_29 = start_of_day(plus_days(issued_day.unwrap(), 29));
            Some(
                order
                    .expires_at
                    .map_or(day_29, |expires| expires.min(day_29)),
            )
        }
    };
    Ok(decision)
}

/// Reads an order's JSON into the hand-written function's struct (outside any timing).
fn parse_legacy(json: &Value) -> Result<LegacyOrder, String> {
    let field = |name: &str| json.get(name).filter(|v| !v.is_null());
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
        field(name)
            .map(|v| {
                let text = v.as_str().ok_or(format!("{name}: not a string"))?;
                DateTime::parse_from_rfc3339(text)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| format!("{name}: {e}"))
            })
            .transpose()
    };
    let money = |name: &str| -> Result<Decimal, String> {
        field(name).map_or(Ok(Decimal::ZERO), |v| {
            let text = v.as_str().ok_or(format!("{name}: not a string"))?;
            Decimal::from_str(text).map_err(|e| format!("{name}: {e}"))
        })
    };
    Ok(LegacyOrder {
        requested_at: time("requested_at")?,
        paid_at: time("paid_at")?.ok_or("paid_at missing")?,
        price: money("price")?,
        voucher: money("voucher")?,
        coupon: money("coupon")?,
        status: field("status")
            .and_then(Value::as_str)
            .ok_or("status missing")?
            .parse()?,
        issued_at: time("issued_at")?,
        expires_at: time("expires_at")?,
        revoked_at: time("revoked_at")?,
        free: field("free").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// Panics unless the policy's decision and the hand-written one agree on outcome, rule, amount,
/// review_by and deadline.
fn assert_same(what: &str, policy: &Decision, hand: &LegacyDecision) {
    let deadline = policy.deadline.map(|d| d.datetime().with_timezone(&Utc));
    let same = policy.outcome == hand.outcome
        && policy.rule == hand.rule
        && policy.amount.map(|a| a.to_string()) == hand.amount.map(|a| a.to_string())
        && policy.review_by == hand.review_by
        && deadline == hand.deadline;
    assert!(
        same,
        "{what}: the policy gives {:?} {} amount {:?} review_by {:?} deadline {:?}; by hand {hand:?}",
        policy.outcome, policy.rule, policy.amount, policy.review_by, deadline
    );
}

/// Cross-checks the hand-written table against the policy on generated orders, so that the floor is
/// the same function (not just on the benchmark orders). Returns how many orders agreed.
fn cross_check(
    policy: &Policy,
    calendar: &Calendar,
    default_now: policy::Instant,
    count: u64,
) -> usize {
    let now: DateTime<chrono::Utc> = default_now.into();
    let lines = common::generate_orders(count, 7);
    let mut agreed = 0;
    for line in std::str::from_utf8(&lines).unwrap().lines() {
        let by_policy = policy.decide_json("refund", line, default_now);
        let by_hand = serde_json::from_str(line)
            .map_err(|e| e.to_string())
            .and_then(|json| parse_legacy(&json))
            .and_then(|order| decide_legacy(&order, calendar, now).map_err(|e| format!("{e:?}")));
        match (by_policy, by_hand) {
            (Ok(p), Ok(h)) => {
                assert_same(line, &p, &h);
                agreed += 1;
            }
            (Err(_), Err(_)) => agreed += 1,
            (p, h) => panic!("{line}: the policy gives {p:?}, by hand {h:?}"),
        }
    }
    agreed
}

// ------------------------------------------------------------------ the benchmark

fn decide(c: &mut Criterion) {
    let default_now = common::default_now();
    let mut group = c.benchmark_group("decide");

    for name in common::POLICIES {
        let policy = common::load(name);
        for case in CASES.iter().filter(|case| case.policy == name) {
            let order = policy
                .read_order(&serde_json::from_str(case.json).unwrap())
                .unwrap();
            let decision = policy.decide(case.action, &order, default_now).unwrap();
            assert_eq!(decision.outcome.as_str(), case.outcome(), "{}", case.id());
            group.bench_function(BenchmarkId::new("policy", case.id()), |b| {
                b.iter(|| {
                    black_box(&policy).decide(
                        black_box(case.action),
                        black_box(&order),
                        default_now,
                    )
                })
            });
        }
    }

    // The floor: the legacy table by hand, on the same orders, after checking it agrees.
    let legacy = common::load(LEGACY);
    let calendar_path = common::policies_dir().join("calendars").join("cn.calendar");
    let calendar = Calendar::parse(
        &calendar_path.display().to_string(),
        &std::fs::read_to_string(&calendar_path).unwrap(),
    )
    .unwrap();
    let agreed = cross_check(&legacy, &calendar, default_now, 20_000);
    assert_eq!(agreed, 20_000);
    let now: DateTime<chrono::Utc> = default_now.into();
    let legacy_cases: Vec<&Case> = CASES.iter().filter(|c| c.policy == LEGACY).collect();
    for case in legacy_cases {
        let json: Value = serde_json::from_str(case.json).unwrap();
        let by_policy = legacy.decide("refund", &legacy.read_order(&json).unwrap(), default_now);
        let order = parse_legacy(&json).unwrap();
        let by_hand = decide_legacy(&order, &calendar, now).unwrap();
        assert_same(case.id().as_str(), &by_policy.unwrap(), &by_hand);
        group.bench_function(BenchmarkId::new("hand-written", case.id()), |b| {
            b.iter(|| decide_legacy(black_box(&order), black_box(&calendar), now))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = decide
}
criterion_main!(benches);
