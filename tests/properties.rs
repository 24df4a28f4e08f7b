//! Property tests, on the stable toolchain (the fuzz targets under `fuzz/` need cargo-fuzz):
//!
//! 1. Orders: random orders for every shipped policy and action, each field by its declared type, or
//!    missing, null, of the wrong type, or at the edges (years 0001 and 9999, the ends of the
//!    nanosecond range, sub-second times, huge and over-precise money), at random request times. Reading
//!    and deciding never panics, and a decision's JSON is valid JSON. Deadlines hold: whenever a decision
//!    is not `denied` and has a `deadline` D, the same order decided one second before D (if that is not
//!    before the request) is not `denied`, and decided at D is `denied` (`contract.md`: the deadline is
//!    "the first instant at or after the request at which the outcome would become denied").
//! 2. Batches: JSON Lines of example orders, some damaged (cut, a byte replaced, empty, blank, a BOM, a
//!    CR before the LF), through `policy::batch::decide_lines`: one valid JSON line answers each input
//!    line, and 1 and 2 threads write the same bytes.
//! 3. Policy texts: the shipped policies with a few tokens deleted, duplicated, swapped or replaced go
//!    through parse -> check -> compile -> analysis -> examples without a panic; a refused policy has at
//!    least one error diagnostic, and every diagnostic renders.
//!
//! Deterministic by default (a fixed seed), so CI is stable; explore further with
//! `PROPTEST_RNG_SEED=N PROPTEST_CASES=N cargo test --test properties`. Proptest reports a panic as a
//! failing case, shrinks it, and prints the minimal input.

#![allow(clippy::expect_used, reason = "tests: a failure is the test failing")]

mod common;

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, TimeZone, Utc};
use policy::eval::FieldType as Type;
use policy::eval::{parse_time, run_examples, LoadError, Outcome};
use policy::{Decision, Policy};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, RngSeed, TestCaseError};

/// Every (policy, action) pair of the shipped policies.
const ACTIONS: [(&str, &str); 6] = [
    ("alibaba-cms-refund-2026", "refund"),
    ("alibaba-ssl-refund-legacy", "refund"),
    ("alibaba-ssl-revoke", "revoke"),
    ("alibaba-ssl-revoke", "delete"),
    ("huawei-scm-unsubscribe", "refund"),
    ("huawei-scm-withdraw", "withdraw"),
];

const POLICY_NAMES: [&str; 5] = [
    "alibaba-cms-refund-2026",
    "alibaba-ssl-refund-legacy",
    "alibaba-ssl-revoke",
    "huawei-scm-unsubscribe",
    "huawei-scm-withdraw",
];

fn shipped(index: usize) -> (&'static Policy, &'static str) {
    static POLICIES: OnceLock<Vec<Policy>> = OnceLock::new();
    let policies = POLICIES.get_or_init(|| {
        ACTIONS
            .iter()
            .map(|(name, _)| common::policy(name))
            .collect()
    });
    (&policies[index], ACTIONS[index].1)
}

fn config(default_cases: u32) -> Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: env("PROPTEST_CASES").map_or(default_cases, |n| n as u32),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x5eed_f008)),
        // Failures are reported with their shrunk input; nothing is written into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------------
// Time. The only place that knows the evaluator's time type: every instant travels as RFC 3339 text and
// becomes a request time through `policy::eval::parse_time`, whatever type that returns.

/// Decides `order` (JSON text) at `at` (RFC 3339, used when the order has no usable `requested_at`).
/// `None` when the library refuses `at` itself as a request time. A panic is reported with the order's
/// text, which the shrunk case does not show as plainly.
fn decide_at<'p>(
    policy: &'p Policy,
    action: &str,
    order: &str,
    at: &str,
) -> Option<Result<Decision<'p>, policy::OrderError>> {
    let decide = || {
        let now = parse_time(at).ok()?;
        Some(
            policy
                .read_order_str(order)
                .and_then(|o| policy.decide(action, &o, now)),
        )
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(decide)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!(
                "{} {action}: panicked on order {order} at {at}: {message}",
                policy.name()
            );
        }
    }
}

/// An instant as RFC 3339 text with every nanosecond, in its own offset.
/// In UTC, where every instant of years 0001 to 9999 has a four-digit year (in +08:00,
/// 9999-12-31T23:59:59Z falls in year 10000).
fn rfc3339<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&chrono::Utc)
        .to_rfc3339_opts(SecondsFormat::Nanos, true)
}

const DAY: i64 = 86_400;

/// A timestamp as an order or a request gives it.
#[derive(Debug, Clone)]
enum TimeGen {
    /// `anchor + seconds` (+ `nanos`), written in `offset_minutes`, with `digits` fractional digits
    /// (the nanoseconds are cut to them).
    Near {
        seconds: i64,
        nanos: u32,
        digits: usize,
        offset_minutes: i32,
    },
    /// Written as is: the ends of the ranges, and texts that are no valid timestamp.
    Literal(&'static str),
}

/// A valid timestamp near the anchor: seconds from it (a second, a day, a year away; often on a whole
/// day), sometimes with a fraction, in one of several offsets.
fn near_time(seconds: BoxedStrategy<i64>) -> impl Strategy<Value = TimeGen> {
    (
        seconds,
        0u32..1_000_000_000,
        prop_oneof![3 => Just(0usize), 1 => 1usize..=9],
        select(vec![0, 480, -300, -240, 60, 330, 345, 840, -720, -59]),
    )
        .prop_map(|(seconds, nanos, digits, offset_minutes)| TimeGen::Near {
            seconds,
            nanos,
            digits,
            offset_minutes,
        })
}

/// Seconds from the anchor for a field's timestamp.
fn field_seconds() -> BoxedStrategy<i64> {
    prop_oneof![
        -3_600i64..3_600,
        -10 * DAY..60 * DAY,
        -400 * DAY..400 * DAY,
        (-3i64..40).prop_map(|d| d * DAY),
        (-3i64..40, -2i64..=2).prop_map(|(d, s)| d * DAY + s),
    ]
    .boxed()
}

/// Seconds from the anchor for the request: mostly within the windows of the shipped policies.
fn request_seconds() -> BoxedStrategy<i64> {
    prop_oneof![
        4 => 0i64..45 * DAY,
        1 => (0i64..45, -2i64..=2).prop_map(|(d, s)| d * DAY + s),
        1 => -400 * DAY..400 * DAY,
    ]
    .boxed()
}

/// The request time of an example order without `requested_at`.
const DEFAULT_REQUEST: &str = "2025-06-01T12:00:00+08:00";

/// The ends of the ranges (RFC 3339's, and those of i64 nanoseconds since the epoch), and texts that
/// are no valid timestamp.
const TIME_EDGES: [&str; 16] = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999999-12:00",
    "1677-09-21T00:12:43.145224192Z",
    "1677-09-21T00:12:43.145224191Z",
    "2262-04-11T23:47:16.854775807Z",
    "2262-04-11T23:47:16.854775808Z",
    "1970-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-02-10T24:00:00Z",
    "2016-12-31T23:59:60Z",
    "2026-02-10T10:00:00",
    "2026-02-10",
    "2026-02-10t10:00:00z",
    "",
];

const DATE_EDGES: [&str; 5] = [
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-2-3",
    "20260203",
];

/// Money at the edges: signs, sub-cent amounts, the ends of a 96-bit decimal, more than 28 digits.
const MONEY_EDGES: [&str; 16] = [
    "0.00",
    "-0.00",
    "-1",
    "0.001",
    "0.005",
    "1e3",
    "1E-2",
    "79228162514264337593543950335",
    "79228162514264337593543950336",
    "100.000000000000000000000000001",
    "99999999999999999999999999999999999999",
    "0.0000000000000000000000000001",
    "NaN",
    " 1",
    "1,00",
    "",
];

const INT_EDGES: [&str; 11] = [
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "1e3",
    "1.0",
    "1.5",
    "-0",
    "1e400",
    "\"12\"",
    "-1",
];

fn is_json_number(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.is_number())
}

fn edge_time() -> impl Strategy<Value = TimeGen> {
    select(TIME_EDGES.to_vec()).prop_map(TimeGen::Literal)
}

fn request_time() -> impl Strategy<Value = TimeGen> {
    prop_oneof![12 => near_time(request_seconds()), 1 => edge_time()]
}

impl TimeGen {
    fn render(&self, anchor: i64) -> String {
        match self {
            TimeGen::Literal(text) => (*text).to_string(),
            TimeGen::Near {
                seconds,
                nanos,
                digits,
                offset_minutes,
            } => {
                let Some(offset) = FixedOffset::east_opt(offset_minutes * 60) else {
                    return "2026-01-01T00:00:00Z".into();
                };
                let Some(utc) = Utc.timestamp_opt(anchor + seconds, 0).single() else {
                    return "2026-01-01T00:00:00Z".into();
                };
                let local = utc.with_timezone(&offset);
                let fraction = if *digits == 0 {
                    String::new()
                } else {
                    format!(".{}", &format!("{nanos:09}")[..*digits])
                };
                let zone = if *offset_minutes == 0 {
                    "Z".to_string()
                } else {
                    local.format("%:z").to_string()
                };
                format!("{}{fraction}{zone}", local.format("%Y-%m-%dT%H:%M:%S"))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Orders.

/// One field of a generated order, as JSON text (or absent).
#[derive(Debug, Clone)]
enum FieldGen {
    Missing,
    Raw(String),
    Time(TimeGen),
    /// A date: the date part of a timestamp.
    Date(TimeGen),
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// Neither missing nor null, nor of the declared type.
fn noise() -> impl Strategy<Value = FieldGen> {
    prop_oneof![
        Just(FieldGen::Missing),
        select(vec![
            "null",
            "true",
            "false",
            "0",
            "-1",
            "1.5",
            "[]",
            "{}",
            "[1,2]",
            "{\"a\":null}",
            "\"\"",
            "\"x\"",
        ])
        .prop_map(|raw| FieldGen::Raw(raw.to_string())),
    ]
}

fn raw(text: &'static str) -> FieldGen {
    FieldGen::Raw(text.to_string())
}

/// A value of the declared type, as a sensible order has it (absent, for a field that may be).
fn valid(ty: Type, variants: Vec<String>, omittable: bool) -> BoxedStrategy<FieldGen> {
    let value = match ty {
        Type::Bool => any::<bool>()
            .prop_map(|b| FieldGen::Raw(b.to_string()))
            .boxed(),
        Type::Int => (0i64..1_000)
            .prop_map(|n| FieldGen::Raw(n.to_string()))
            .boxed(),
        Type::Money => prop_oneof![
            2 => Just("0".to_string()),
            1 => (0u64..100, 0u32..100).prop_map(|(u, c)| format!("{u}.{c:02}")),
            2 => (0u64..10_000, 0u32..100).prop_map(|(u, c)| format!("{u}.{c:02}")),
        ]
        .prop_map(|s| FieldGen::Raw(json_string(&s)))
        .boxed(),
        Type::Enum { .. } if !variants.is_empty() => select(variants)
            .prop_map(|s| FieldGen::Raw(json_string(&s)))
            .boxed(),
        Type::Timestamp => near_time(field_seconds()).prop_map(FieldGen::Time).boxed(),
        Type::Date => near_time(field_seconds()).prop_map(FieldGen::Date).boxed(),
        _ => prop_oneof![
            select(vec!["USD", "CNY", "o-1"]).prop_map(str::to_string),
            "\\PC{0,12}",
        ]
        .prop_map(|s| FieldGen::Raw(json_string(&s)))
        .boxed(),
    };
    if omittable {
        prop_oneof![1 => Just(FieldGen::Missing), 2 => value].boxed()
    } else {
        value
    }
}

/// A value at the edge of the declared type, or just past it.
fn edge(ty: Type) -> BoxedStrategy<FieldGen> {
    match ty {
        Type::Int => prop_oneof![
            any::<i64>().prop_map(|n| FieldGen::Raw(n.to_string())),
            select(INT_EDGES.to_vec()).prop_map(raw),
        ]
        .boxed(),
        Type::Money => select(MONEY_EDGES.to_vec())
            .prop_flat_map(|text| {
                // As a JSON string or, when it reads as one, as a JSON number.
                let number = if is_json_number(text) {
                    text.to_string()
                } else {
                    json_string(text)
                };
                prop_oneof![
                    Just(FieldGen::Raw(json_string(text))),
                    Just(FieldGen::Raw(number))
                ]
            })
            .boxed(),
        Type::Enum { .. } => select(vec!["", "nope", "Issued", "issued ", "0"])
            .prop_map(|s| FieldGen::Raw(json_string(s)))
            .boxed(),
        Type::Timestamp => edge_time().prop_map(FieldGen::Time).boxed(),
        Type::Date => prop_oneof![
            select(DATE_EDGES.to_vec()).prop_map(|s| FieldGen::Raw(json_string(s))),
            edge_time().prop_map(FieldGen::Time),
        ]
        .boxed(),
        Type::Bool => select(vec!["\"true\"", "1", "0"]).prop_map(raw).boxed(),
        _ => select(vec![
            "",
            "\u{feff}",
            "\u{0}",
            "\u{d7ff}\u{e000}",
            "\u{10ffff}",
        ])
        .prop_map(|s| FieldGen::Raw(json_string(s)))
        .boxed(),
    }
}

/// One field: valid, at an edge, or noise, by the case's rates (in percent).
#[derive(Debug, Clone)]
struct FieldChoice {
    valid: FieldGen,
    edge: FieldGen,
    noise: FieldGen,
    pick: u8,
}

impl FieldChoice {
    fn get(&self, edge_rate: u8, noise_rate: u8) -> &FieldGen {
        if self.pick < noise_rate {
            &self.noise
        } else if self.pick < noise_rate.saturating_add(edge_rate) {
            &self.edge
        } else {
            &self.valid
        }
    }
}

fn field(ty: Type, variants: Vec<String>, omittable: bool) -> BoxedStrategy<FieldChoice> {
    (valid(ty, variants, omittable), edge(ty), noise(), 0u8..100)
        .prop_map(|(valid, edge, noise, pick)| FieldChoice {
            valid,
            edge,
            noise,
            pick,
        })
        .boxed()
}

#[derive(Clone)]
struct OrderCase {
    pair: usize,
    /// Seconds since the epoch that the generated timestamps are near (2018 to 2027).
    anchor: i64,
    /// By the policy's declared fields, in order.
    fields: Vec<FieldChoice>,
    /// Percentages of the fields given an edge value, and noise (absent, null, another type).
    edge_rate: u8,
    noise_rate: u8,
    request: TimeGen,
}

fn order_case() -> impl Strategy<Value = OrderCase> {
    (0..ACTIONS.len()).prop_flat_map(|pair| {
        let fields: Vec<BoxedStrategy<FieldChoice>> = shipped(pair)
            .0
            .fields()
            .map(|f| {
                let variants = match f.ty() {
                    Type::Enum { values, .. } => values.to_vec(),
                    _ => Vec::new(),
                };
                field(f.ty(), variants, f.optional())
            })
            .collect();
        let rate = || select(vec![0u8, 0, 0, 0, 0, 5, 20, 50]);
        (
            Just(pair),
            1_514_764_800i64..1_798_761_600, // 2018-01-01 to 2027-01-01
            fields,
            rate(),
            rate(),
            request_time(),
        )
            .prop_map(
                |(pair, anchor, fields, edge_rate, noise_rate, request)| OrderCase {
                    pair,
                    anchor,
                    fields,
                    edge_rate,
                    noise_rate,
                    request,
                },
            )
    })
}

/// The case as the order's text, the request time and the policy: what a failure report needs.
impl std::fmt::Debug for OrderCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderCase")
            .field("policy", &ACTIONS[self.pair])
            .field("order", &self.text(None))
            .field("request", &self.request.render(self.anchor))
            .finish()
    }
}

impl OrderCase {
    /// The order as JSON text; `requested_at` replaced by `requested_at` when given.
    fn text(&self, requested_at: Option<&str>) -> String {
        let policy = shipped(self.pair).0;
        let mut members = Vec::new();
        for (info, choice) in policy.fields().zip(&self.fields) {
            let gen = choice.get(self.edge_rate, self.noise_rate);
            let value = if info.name() == "requested_at" && requested_at.is_some() {
                requested_at.map(json_string)
            } else {
                match gen {
                    FieldGen::Missing => None,
                    FieldGen::Raw(raw) => Some(raw.clone()),
                    FieldGen::Time(t) => Some(json_string(&t.render(self.anchor))),
                    FieldGen::Date(t) => {
                        let text = t.render(self.anchor);
                        Some(json_string(text.get(..10).unwrap_or(&text)))
                    }
                }
            };
            if let Some(value) = value {
                members.push(format!("{}:{value}", json_string(info.name())));
            }
        }
        // An undeclared `requested_at` still says when the order was requested.
        if let Some(at) = requested_at {
            if !policy.fields().any(|f| f.name() == "requested_at") {
                members.push(format!("\"requested_at\":{}", json_string(at)));
            }
        }
        format!("{{{}}}", members.join(","))
    }
}

fn assert_valid_json(decision: &Decision) {
    let json = decision.to_json();
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
        panic!("decision is not valid JSON ({e}): {json}");
    }
}

fn describe(result: &Result<Decision, policy::OrderError>) -> String {
    match result {
        Ok(d) => d.to_json(),
        Err(e) => format!("error: {e}"),
    }
}

/// The order property: `order(requested_at)` gives the order's text, with `requested_at` set to the
/// given time (`None`: as generated). Decided as generated at `request`, then requested at `request`:
/// no panic, valid JSON, and the deadline holds.
fn check_order(
    policy: &Policy,
    action: &str,
    order: impl Fn(Option<&str>) -> String,
    request: &str,
) -> Result<(), TestCaseError> {
    // 1. The order as generated, `requested_at` and all, at the generated request time.
    if let Some(Ok(decision)) = decide_at(policy, action, &order(None), request) {
        assert_valid_json(&decision);
    }

    // 2. The same order requested at `request` (in `requested_at` too): the deadline's two sides.
    let Ok(requested) = DateTime::parse_from_rfc3339(request) else {
        return Ok(());
    };
    let Some(Ok(decision)) = decide_at(policy, action, &order(Some(request)), request) else {
        return Ok(());
    };
    assert_valid_json(&decision);
    check_holds_until(policy, action, &order, &requested, &decision)?;
    let Some(deadline) = decision.deadline.map(|d| d.datetime()) else {
        return Ok(());
    };
    prop_assert!(
        decision.outcome != Outcome::Denied,
        "a denied decision has a deadline: {}",
        decision.to_json()
    );
    prop_assert!(
        deadline >= requested,
        "the deadline is before the request ({request}): {}",
        decision.to_json()
    );

    let at_deadline = rfc3339(&deadline);
    let then = decide_at(policy, action, &order(Some(&at_deadline)), &at_deadline);
    prop_assert!(
        matches!(&then, Some(Ok(d)) if d.outcome == Outcome::Denied),
        "not denied at its deadline {at_deadline}: {}\nrequested at {request}: {}",
        then.as_ref().map_or("(time refused)".into(), describe),
        decision.to_json()
    );

    let before = deadline - chrono::Duration::seconds(1);
    if before >= requested {
        let just_before = rfc3339(&before);
        let earlier = decide_at(policy, action, &order(Some(&just_before)), &just_before);
        // Not denied. An error is accepted only when a business-day calendar ends before the date the
        // decision needs then (e.g. `review_by` 15 business days on, past the calendar's last day): the
        // deadline speaks of denial, and the policy cannot be applied at that time at all.
        // Likewise at the end of time: within a day of 9999-12-31T23:59:59Z, the date of the request in
        // the policy's zone can be in year 10000, which no date can be.
        let calendar_ends = |e: &policy::OrderError| e.to_string().contains("does not cover");
        let time_ends = |e: &policy::OrderError| {
            let utc = before.with_timezone(&Utc);
            utc.year() == 9999 && utc.ordinal() >= 365 && e.to_string().contains("out of range")
        };
        prop_assert!(
            match &earlier {
                Some(Ok(d)) => d.outcome != Outcome::Denied,
                Some(Err(e)) => calendar_ends(e) || time_ends(e),
                None => false,
            },
            "denied (or refused) one second before its deadline, at {just_before}: {}\n\
             requested at {request}: {}",
            earlier.as_ref().map_or("(time refused)".into(), describe),
            decision.to_json()
        );
    }
    Ok(())
}

/// `holds_until` H holds: the order decided one second before H (if that is not before the request)
/// is decided exactly as at the request, and decided at H, differently (or not at all).
fn check_holds_until(
    policy: &Policy,
    action: &str,
    order: &impl Fn(Option<&str>) -> String,
    requested: &DateTime<FixedOffset>,
    decision: &Decision,
) -> Result<(), TestCaseError> {
    let Some(until) = decision.holds_until.map(|t| t.datetime()) else {
        return Ok(());
    };
    prop_assert!(
        until > *requested,
        "holds_until is not after the request: {}",
        decision.to_json()
    );
    // Near the end of time the date of an instant in the policy's zone may be in year 10000.
    let time_ends = |t: &DateTime<_>| t.with_timezone(&Utc).year() == 9999;
    let at_until = rfc3339(&until);
    let then = decide_at(policy, action, &order(Some(&at_until)), &at_until);
    prop_assert!(
        !matches!(&then, Some(Ok(d)) if d.to_json() == decision.to_json()),
        "decided alike at holds_until {at_until}: {}",
        decision.to_json()
    );
    let before = until - chrono::Duration::seconds(1);
    if before >= *requested && !time_ends(&until) {
        let just_before = rfc3339(&before);
        let earlier = decide_at(policy, action, &order(Some(&just_before)), &just_before);
        prop_assert!(
            matches!(&earlier, Some(Ok(d)) if d.to_json() == decision.to_json()),
            "decided otherwise one second before holds_until, at {just_before}: {}\nat the request: {}",
            earlier.as_ref().map_or("(time refused)".into(), describe),
            decision.to_json()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(4096))]

    /// Random orders never panic, and every deadline and holds_until holds.
    #[test]
    fn orders_decide_without_panic_and_deadlines_hold(case in order_case()) {
        let (policy, action) = shipped(case.pair);
        let request = case.request.render(case.anchor);
        check_order(policy, action, |at| case.text(at), &request)?;
    }
}

/// The same property, swept rather than sampled: in the first orders of each shipped example file, each
/// field of a type with edges (timestamps, dates, money, integers) set to each edge value in turn.
/// The example orders of each (policy, action) pair, by `ACTIONS` index.
const EXAMPLE_FILES: [&str; 6] = [
    "alibaba-cms-refund-2026.jsonl",
    "alibaba-ssl-refund-legacy.jsonl",
    "alibaba-ssl-revoke.revoke.jsonl",
    "alibaba-ssl-revoke.delete.jsonl",
    "huawei-scm-unsubscribe.jsonl",
    "huawei-scm-withdraw.jsonl",
];

fn example_lines(pair: usize) -> &'static [String] {
    static LINES: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    &LINES.get_or_init(|| {
        EXAMPLE_FILES
            .iter()
            .map(|file| {
                std::fs::read_to_string(common::root().join("examples").join(file))
                    .expect("an example file reads")
                    .lines()
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    })[pair]
}

#[test]
fn edge_values_in_example_orders() {
    let mut failures = Vec::new();
    let mut decided = 0usize;
    for (pair, file) in EXAMPLE_FILES.iter().enumerate() {
        let (policy, action) = shipped(pair);
        for line in example_lines(pair).iter().take(6) {
            // Each field's JSON text: edge values are put in as written (a `Value` would read
            // numbers through `f64`, and refuse some of them).
            let base: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
                serde_json::from_str(line).expect("an example order parses");
            let request = base
                .get("requested_at")
                .and_then(|t| serde_json::from_str::<String>(t.get()).ok())
                .unwrap_or_else(|| DEFAULT_REQUEST.to_string());
            for field in policy.fields() {
                let edges: Vec<String> = match field.ty() {
                    Type::Timestamp => TIME_EDGES.iter().map(|t| json_string(t)).collect(),
                    Type::Date => DATE_EDGES.iter().map(|t| json_string(t)).collect(),
                    Type::Money => MONEY_EDGES
                        .iter()
                        .map(|m| json_string(m))
                        .chain(
                            MONEY_EDGES
                                .iter()
                                .filter(|m| is_json_number(m))
                                .map(|m| m.to_string()),
                        )
                        .collect(),
                    Type::Int => INT_EDGES.iter().map(|i| i.to_string()).collect(),
                    _ => continue,
                };
                for edge in edges {
                    let order = |at: Option<&str>| {
                        let mut fields: Vec<(String, String)> = base
                            .iter()
                            .map(|(k, v)| (k.clone(), v.get().to_string()))
                            .collect();
                        fields.retain(|(k, _)| {
                            k != field.name() && (at.is_none() || k != "requested_at")
                        });
                        fields.push((field.name().to_string(), edge.clone()));
                        if let Some(at) = at {
                            fields.push(("requested_at".into(), json_string(at)));
                        }
                        let body: Vec<String> = fields
                            .iter()
                            .map(|(k, v)| format!("{}:{v}", json_string(k)))
                            .collect();
                        format!("{{{}}}", body.join(","))
                    };
                    decided += 1;
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        check_order(policy, action, order, &request)
                    }));
                    match outcome {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            failures.push(format!("{file}: `{}` = {edge}: {e}", field.name()))
                        }
                        Err(_) => {
                            failures.push(format!("{file}: `{}` = {edge}: panicked", field.name()))
                        }
                    }
                }
            }
        }
    }
    assert!(decided > 500, "only {decided} orders swept");
    assert!(
        failures.is_empty(),
        "{} of {decided} edge orders failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------------
// Batches.

/// One line of an orders file: an example order, or one damaged.
#[derive(Debug, Clone)]
enum LineGen {
    Example(Index),
    Truncated(Index, Index),
    ByteReplaced(Index, Index, u8),
    Empty,
    Blank,
    Bom(Index),
    CrLf(Index),
}

fn line_gen() -> impl Strategy<Value = LineGen> {
    prop_oneof![
        6 => any::<Index>().prop_map(LineGen::Example),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(l, at)| LineGen::Truncated(l, at)),
        1 => (any::<Index>(), any::<Index>(), any::<u8>())
            .prop_map(|(l, at, b)| LineGen::ByteReplaced(l, at, b)),
        1 => Just(LineGen::Empty),
        1 => Just(LineGen::Blank),
        1 => any::<Index>().prop_map(LineGen::Bom),
        1 => any::<Index>().prop_map(LineGen::CrLf),
    ]
}

impl LineGen {
    /// The line's bytes, without its `\n`; never containing `\n`.
    fn bytes(&self, examples: &[String]) -> Vec<u8> {
        let pick = |i: &Index| examples[i.index(examples.len())].as_bytes().to_vec();
        let mut line = match self {
            LineGen::Example(l) => pick(l),
            LineGen::Truncated(l, at) => {
                let line = pick(l);
                line[..at.index(line.len() + 1)].to_vec()
            }
            LineGen::ByteReplaced(l, at, b) => {
                let mut line = pick(l);
                let at = at.index(line.len());
                line[at] = *b;
                line
            }
            LineGen::Empty => Vec::new(),
            LineGen::Blank => b" \t ".to_vec(),
            LineGen::Bom(l) => [&b"\xef\xbb\xbf"[..], &pick(l)].concat(),
            LineGen::CrLf(l) => [&pick(l)[..], b"\r"].concat(),
        };
        line.retain(|&b| b != b'\n');
        line
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// `decide_lines` answers every line, with valid JSON, the same bytes with 1 and 2 threads.
    #[test]
    fn batch_answers_every_line(
        pair in 0..ACTIONS.len(),
        lines in prop::collection::vec(line_gen(), 0..10),
        final_newline in any::<bool>(),
        chunk_lines in 1usize..4,
    ) {
        let (policy, action) = shipped(pair);
        let mut input = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            input.extend(line.bytes(example_lines(pair)));
            if i + 1 < lines.len() || final_newline {
                input.push(b'\n');
            }
        }
        // What `read_until(b'\n')` splits the input into.
        let expected = input.iter().filter(|&&b| b == b'\n').count()
            + usize::from(input.last().is_some_and(|&b| b != b'\n'));
        let now = parse_time(DEFAULT_REQUEST).expect("the default request time parses");
        let mut outputs = Vec::new();
        for threads in [1, 2] {
            let mut output = Vec::new();
            let options = policy::batch::BatchOptions {
                threads,
                chunk_lines,
                ..Default::default()
            };
            let summary =
                policy::batch::decide_lines(policy, action, now, &input[..], &mut output, options)
                    .expect("an in-memory batch cannot fail to read or write");
            prop_assert_eq!(summary.lines, expected, "lines counted, {} thread(s)", threads);
            let text = String::from_utf8(output.clone()).expect("the output is UTF-8");
            prop_assert_eq!(text.lines().count(), expected, "lines written, {} thread(s)", threads);
            for line in text.lines() {
                prop_assert!(
                    serde_json::from_str::<serde_json::Value>(line).is_ok(),
                    "not JSON: {}", line
                );
            }
            outputs.push(output);
        }
        prop_assert!(outputs[0] == outputs[1], "1 and 2 threads wrote different output");
    }
}

// ---------------------------------------------------------------------------------------------------
// Policy texts.

/// A policy's text cut into tokens: runs of whitespace, runs of word characters, and single other
/// characters, so that joining them gives the text back.
fn tokens(text: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum Class {
        Space,
        Word,
        Other,
    }
    let class = |c: char| {
        if c.is_whitespace() {
            Class::Space
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            Class::Word
        } else {
            Class::Other
        }
    };
    let mut out: Vec<String> = Vec::new();
    let mut last: Option<Class> = None;
    for c in text.chars() {
        let k = class(c);
        match out.last_mut() {
            Some(token) if last.as_ref() == Some(&k) && k != Class::Other => token.push(c),
            _ => out.push(c.to_string()),
        }
        last = Some(k);
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Replace(Index, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let word = select(vec![
        "(",
        ")",
        "{",
        "}",
        "\"",
        "not",
        "and",
        "or",
        "now",
        "within",
        "after",
        "before",
        "days",
        "calendar",
        "business",
        "hours",
        "rule",
        "when",
        "then",
        "allowed",
        "denied",
        "field",
        "enum",
        "let",
        "example",
        "expect",
        "default",
        "0",
        "-1",
        "99999999999999999999",
        "x",
        "+",
        "-",
        "*",
        "/",
        "==",
        "<",
        ">=",
        "?",
        ",",
        "date(",
        "present(",
        "\n",
        "#",
    ]);
    prop_oneof![
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Duplicate),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<Index>(), word).prop_map(|(a, w)| Mutation::Replace(a, w)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut tokens = tokens(text);
    for m in mutations {
        if tokens.is_empty() {
            break;
        }
        let n = tokens.len();
        match m {
            Mutation::Delete(i) => {
                tokens.remove(i.index(n));
            }
            Mutation::Duplicate(i) => {
                let i = i.index(n);
                tokens.insert(i, tokens[i].clone());
            }
            Mutation::Swap(a, b) => tokens.swap(a.index(n), b.index(n)),
            Mutation::Replace(i, word) => tokens[i.index(n)] = (*word).to_string(),
        }
    }
    tokens.concat()
}

fn shipped_text(index: usize) -> &'static str {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    &TEXTS.get_or_init(|| {
        POLICY_NAMES
            .iter()
            .map(|name| {
                let path = common::root().join(format!("policies/{name}.policy"));
                std::fs::read_to_string(&path).expect("a shipped policy reads")
            })
            .collect()
    })[index]
}

fn calendars() -> &'static policy::calendar::Calendars {
    static CALENDARS: OnceLock<policy::calendar::Calendars> = OnceLock::new();
    CALENDARS.get_or_init(common::calendars)
}

#[test]
fn tokens_join_back_to_the_text() {
    for i in 0..POLICY_NAMES.len() {
        assert_eq!(tokens(shipped_text(i)).concat(), shipped_text(i));
    }
}

proptest! {
    #![proptest_config(config(96))]

    /// Mutated shipped policies go through every phase without a panic.
    #[test]
    fn mutated_policies_check_without_panic(
        index in 0..POLICY_NAMES.len(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let text = mutate(shipped_text(index), &mutations);
        match Policy::from_source("mutated.policy", &text, calendars()) {
            Ok(policy) => {
                for warning in policy.warnings() {
                    let _ = warning.render_plain(policy.source());
                }
                for finding in policy::analysis::analyze(&policy) {
                    let _ = finding.diagnostic.render_plain(policy.source());
                }
                let _ = run_examples(&policy);
            }
            Err(LoadError::Invalid { file, diagnostics }) => {
                prop_assert!(
                    diagnostics.iter().any(|d| d.is_error()),
                    "refused without an error diagnostic"
                );
                for d in &diagnostics {
                    let _ = d.render_plain(&file);
                    let _ = d.one_line(&file);
                }
            }
            Err(e) => prop_assert!(false, "unexpected load error: {e}"),
        }
    }
}
