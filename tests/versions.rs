//! Effective-dated versions (issue 10): `effective from DATE by FIELD` in a policy's header, the version
//! in force per order, the version in each decision, and an order before the first version refused.
//! Also `minor_units "CODE" DIGITS`, a policy's own rounding of a currency.

// Tests unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use policy::{OrderErrorKind, Policy, Versions, VersionsError};

use common::{at, decide_refund, decide_text, inline};

/// A refund window of `days` calendar days in Berlin, in force from `from`, selected by `by`.
fn version(from: &str, by: &str, days: u32) -> String {
    format!(
        r#"
policy withdrawal
  document "terms.txt"
  zone "Europe/Berlin"
  effective from {from} by {by}

field id: string?
field paid_at: timestamp
field price: money

action refund {{
  rule in_time
    when now within {days} calendar days after paid_at
    then allowed
    amount = price
    because "within {days} days" cite "Section 1"

  rule late
    then denied
    because "too late" cite "Section 1"
}}
"#
    )
}

fn versions(by: &str) -> Versions {
    Versions::new(vec![
        inline(&version("2026-01-01", by, 30)),
        inline(&version("2025-01-01", by, 14)),
    ])
    .unwrap()
}

fn order(paid_at: &str) -> String {
    format!(r#"{{"id": "o-1", "paid_at": "{paid_at}", "price": "10.00"}}"#)
}

#[test]
fn the_decision_names_its_version_and_a_policy_without_versions_does_not() {
    let policy = inline(&version("2026-01-01", "paid_at", 30));
    let decision = decide_refund(
        &policy,
        &order("2026-02-01T12:00:00+01:00"),
        "2026-02-02T12:00:00+01:00",
    );
    assert_eq!(decision["version"], "2026-01-01");
    let text = policy
        .decide_json(
            "refund",
            &order("2026-02-01T12:00:00+01:00"),
            at("2026-02-02T12:00:00+01:00"),
        )
        .unwrap()
        .to_json();
    assert!(
        text.starts_with(r#"{"order":"o-1","policy":"withdrawal","version":"2026-01-01","action""#),
        "{text}"
    );

    let unversioned = common::policy("huawei-scm-withdraw");
    assert!(unversioned.version().is_none());
    let order = r#"{"paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00", "status": "pending_application"}"#;
    let decision = unversioned
        .decide_json("withdraw", order, at("2024-12-02T12:00:00+08:00"))
        .unwrap();
    assert!(!decision.to_json().contains("version"));
    assert!(!serde_json::to_string(&decision)
        .unwrap()
        .contains("version"));
}

/// The version starts at midnight in the policy's zone: the second before is the old version's.
#[test]
fn each_order_is_decided_by_the_version_in_force_at_its_payment_to_the_second() {
    let set = versions("paid_at");
    let now = at("2026-01-20T12:00:00+01:00");
    let old = set
        .decide_json("refund", &order("2025-12-31T23:59:59+01:00"), now)
        .unwrap();
    assert_eq!((old.version, old.rule), (Some("2025-01-01"), "late"));
    let new = set
        .decide_json("refund", &order("2026-01-01T00:00:00+01:00"), now)
        .unwrap();
    assert_eq!((new.version, new.rule), (Some("2026-01-01"), "in_time"));
    // The same instant written in another offset selects the same version.
    let new = set
        .decide_json("refund", &order("2025-12-31T23:00:00Z"), now)
        .unwrap();
    assert_eq!(new.version, Some("2026-01-01"));
}

#[test]
fn by_now_the_request_selects_the_version() {
    let set = versions("now");
    let paid = order("2025-12-20T12:00:00+01:00");
    let old = set
        .decide_json("refund", &paid, at("2025-12-31T23:59:59+01:00"))
        .unwrap();
    assert_eq!(old.version, Some("2025-01-01"));
    let new = set
        .decide_json("refund", &paid, at("2026-01-01T00:00:00+01:00"))
        .unwrap();
    assert_eq!((new.version, new.rule), (Some("2026-01-01"), "in_time"));
}

#[test]
fn an_order_before_the_first_version_is_an_error_naming_it() {
    let set = versions("paid_at");
    let error = set
        .decide_json(
            "refund",
            &order("2024-12-31T23:59:59+01:00"),
            at("2025-01-02T00:00:00+01:00"),
        )
        .unwrap_err();
    assert_eq!(error.kind(), OrderErrorKind::NotInForce);
    common::assert_mentions(
        &error.to_string(),
        &[
            "order `o-1`",
            "`paid_at` 2024-12-31T23:59:59+01:00",
            "version 2025-01-01 of policy withdrawal",
            "(2025-01-01T00:00:00+01:00)",
        ],
    );
    // A single version refuses the same order on its own.
    let one = inline(&version("2025-01-01", "paid_at", 14));
    let message = decide_text(
        &one,
        "refund",
        &order("2024-12-31T23:59:59+01:00"),
        "2025-01-02T00:00:00+01:00",
    )
    .unwrap_err();
    assert!(
        message.contains("before version 2025-01-01 of policy withdrawal"),
        "{message}"
    );
}

#[test]
fn an_order_without_the_selecting_field_is_an_input_error() {
    let set = versions("paid_at");
    let error = set
        .decide_json(
            "refund",
            r#"{"price": "1.00"}"#,
            at("2026-01-02T00:00:00+01:00"),
        )
        .unwrap_err();
    assert_eq!(error.kind(), OrderErrorKind::Input);
    assert!(
        error.to_string().contains("field `paid_at`: is missing"),
        "{error}"
    );
    // Malformed, it is said as the reading found it, with the order's other problems.
    let error = set
        .decide_json(
            "refund",
            r#"{"paid_at": "2026-13-45T00:00:00Z", "price": "-1"}"#,
            at("2026-01-02T00:00:00+01:00"),
        )
        .unwrap_err();
    assert_eq!(error.kind(), OrderErrorKind::Input);
    common::assert_mentions(&error.to_string(), &["paid_at", "price"]);
    assert!(!error.to_string().contains("missing"), "{error}");
}

#[test]
fn versions_that_do_not_fit_together_are_refused() {
    let same_start = Versions::new(vec![
        inline(&version("2026-01-01", "paid_at", 30)),
        inline(&version("2026-01-01T00:00:00+01:00", "paid_at", 14)),
    ]);
    assert!(
        matches!(same_start, Err(VersionsError::SameStart(..))),
        "{same_start:?}"
    );
    let selectors = Versions::new(vec![
        inline(&version("2026-01-01", "paid_at", 30)),
        inline(&version("2025-01-01", "now", 14)),
    ]);
    assert!(
        matches!(selectors, Err(VersionsError::Selectors(..))),
        "{selectors:?}"
    );
    let other = Versions::new(vec![
        inline(&version("2026-01-01", "paid_at", 30)),
        common::policy("huawei-scm-withdraw"),
    ]);
    assert!(matches!(other, Err(VersionsError::Names(..))), "{other:?}");
    let unversioned = version("2026-01-01", "paid_at", 30)
        .replace("  effective from 2026-01-01 by paid_at\n", "");
    let unversioned = Versions::new(vec![
        inline(&version("2026-01-01", "paid_at", 30)),
        inline(&unversioned),
    ]);
    assert!(
        matches!(unversioned, Err(VersionsError::Unversioned(..))),
        "{unversioned:?}"
    );
}

/// A timestamp names its own instant; a date starts at midnight in the zone, even across DST.
#[test]
fn a_version_may_start_at_an_instant() {
    let policy = inline(&version("2026-03-29T03:00:00+02:00", "paid_at", 30));
    assert_eq!(policy.effective_from(), Some(at("2026-03-29T01:00:00Z")));
    let day = inline(&version("2026-03-29", "paid_at", 30));
    assert_eq!(day.effective_from(), Some(at("2026-03-29T00:00:00+01:00")));
}

/// `minor_units` overrides ISO 4217 (JPY in hundredths) and adds a currency it does not know.
#[test]
fn a_policy_may_round_a_currency_its_own_way() {
    let text = r#"
policy credits
  document "terms.txt"
  zone "Asia/Tokyo"
  minor_units "JPY" 2
  minor_units "CREDITS" 0
  minor_units "USD" 4

field paid_at: timestamp
field price: money
field currency: string = "JPY"

action refund {
  rule third
    then allowed
    amount = (price / 3) rounded half_away_from_zero to 0.0001
    because "a third" cite "Section 1"
}
"#;
    let policy = inline(text);
    let decide = |currency: &str| {
        let order = format!(
            r#"{{"paid_at": "2026-01-01T00:00:00+09:00", "price": "100", "currency": "{currency}"}}"#
        );
        decide_refund(&policy, &order, "2026-01-02T00:00:00+09:00")["amount"].clone()
    };
    assert_eq!(decide("JPY"), "33.33");
    assert_eq!(decide("CREDITS"), "33");
    assert_eq!(decide("USD"), "33.3333");
    assert_eq!(decide("BHD"), "33.333");
    let order = r#"{"paid_at": "2026-01-01T00:00:00+09:00", "price": "100"}"#;
    assert_eq!(
        decide_refund(&policy, order, "2026-01-02T00:00:00+09:00")["amount"],
        "33.33"
    );
}

/// Without a currency field, the default currency (USD) takes the policy's minor units for it.
#[test]
fn the_default_currency_takes_the_policys_minor_units() {
    let text = r#"
policy usage
  document "terms.txt"
  zone "UTC"
  minor_units "USD" 3

field price: money

action refund {
  rule all then allowed amount = price because "all" cite "Section 1"
}
"#;
    let decision = decide_refund(
        &inline(text),
        r#"{"price": "1.2345"}"#,
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(
        (&decision["amount"], &decision["currency"]),
        (&"1.235".into(), &"USD".into())
    );
}

#[test]
fn a_policy_set_serves_every_version_of_a_policy() {
    let dir = std::env::temp_dir().join(format!("policy-versions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("withdrawal-2025.policy"),
        version("2025-01-01", "paid_at", 14),
    )
    .unwrap();
    std::fs::write(
        dir.join("withdrawal-2026.policy"),
        version("2026-01-01", "paid_at", 30),
    )
    .unwrap();
    let set = policy::PolicySet::load(&dir).unwrap();
    let snapshot = set.snapshot();
    assert_eq!(snapshot.names().collect::<Vec<_>>(), ["withdrawal"]);
    assert_eq!(
        snapshot.get("withdrawal").unwrap().version(),
        Some("2026-01-01")
    );
    assert!(snapshot
        .path("withdrawal")
        .unwrap()
        .ends_with("withdrawal-2026.policy"));
    let versions = set.versions("withdrawal").unwrap();
    let labels: Vec<_> = versions
        .all()
        .iter()
        .map(|p| p.version().unwrap().to_string())
        .collect();
    assert_eq!(labels, ["2025-01-01", "2026-01-01"]);
    let now = at("2026-01-20T12:00:00+01:00");
    let old = snapshot
        .decide_json(
            "withdrawal",
            "refund",
            &order("2025-12-30T12:00:00+01:00"),
            now,
        )
        .unwrap()
        .unwrap();
    assert_eq!(old.version, Some("2025-01-01"));

    // Two versions from the same day: the set does not load, and says which files.
    std::fs::write(
        dir.join("withdrawal-copy.policy"),
        version("2026-01-01", "paid_at", 7),
    )
    .unwrap();
    let report = set.reload();
    assert!(!report.is_ok());
    let message = report.to_string();
    common::assert_mentions(
        &message,
        &[
            "same instant",
            "withdrawal-copy.policy",
            "withdrawal-2026.policy",
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_version_header_misused_is_a_check_error() {
    for (text, code) in [
        (
            version("2026-01-01", "price", 30),
            "policy::check::invalid_version_selector",
        ),
        (
            version("2026-01-01", "id", 30),
            "policy::check::invalid_version_selector",
        ),
        (
            version("2026-01-01", "paid", 30),
            "policy::check::unknown_name",
        ),
        (
            version("2026-02-30", "paid_at", 30),
            "policy::check::invalid_date",
        ),
        (
            version("2026-02-01T00:00:00", "paid_at", 30),
            "policy::check::timestamp_without_offset",
        ),
    ] {
        let error = Policy::from_source("v.policy", &text, &policy::calendar::Calendars::new())
            .unwrap_err();
        let policy::LoadError::Invalid { diagnostics, .. } = error else {
            panic!("{error}")
        };
        assert!(
            diagnostics.iter().any(|d| d.code == code),
            "{code}: {diagnostics:?}"
        );
    }
}

/// `policy check` of a folder says when several files of one name are not versions that fit together.
#[test]
fn check_reports_versions_that_do_not_fit_together() {
    let dir = std::env::temp_dir().join(format!("policy-versions-check-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let check = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_policy"))
            .arg("check")
            .arg(&dir)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    std::fs::write(dir.join("a.policy"), version("2025-01-01", "paid_at", 14)).unwrap();
    std::fs::write(dir.join("b.policy"), version("2026-01-01", "paid_at", 30)).unwrap();
    let (code, stderr) = check();
    assert_eq!(code, Some(0), "{stderr}");
    std::fs::write(dir.join("c.policy"), version("2026-01-01", "now", 30)).unwrap();
    let (code, stderr) = check();
    assert_eq!(code, Some(1), "{stderr}");
    common::assert_mentions(
        &stderr,
        &[
            "error: two versions of policy `withdrawal`",
            "c.policy`",
            "1 error",
        ],
    );
    std::fs::write(
        dir.join("c.policy"),
        version("2027-01-01", "paid_at", 30)
            .replace("  effective from 2027-01-01 by paid_at\n", ""),
    )
    .unwrap();
    let (code, stderr) = check();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("not every copy says `effective from DATE`"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `policy eval --policy FOLDER [--name NAME]`: each order decided by the version in force for it, one
/// order or a batch.
#[test]
fn eval_of_a_folder_decides_each_order_with_its_version() {
    let dir = std::env::temp_dir().join(format!("policy-versions-eval-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.policy"), version("2025-01-01", "paid_at", 14)).unwrap();
    std::fs::write(dir.join("b.policy"), version("2026-01-01", "paid_at", 30)).unwrap();
    let orders = [
        order("2025-12-30T12:00:00+01:00"),
        order("2026-01-02T12:00:00+01:00"),
        order("2024-06-01T12:00:00+02:00"),
    ];
    std::fs::write(dir.join("orders.jsonl"), orders.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("one.json"), &orders[0]).unwrap();
    let eval = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_policy"))
            .arg("eval")
            .args(["--at", "2026-01-20T12:00:00+01:00", "--policy"])
            .arg(&dir)
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = eval(&["--orders", dir.join("orders.jsonl").to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        (&lines[0]["version"], &lines[0]["rule"]),
        (&"2025-01-01".into(), &"late".into())
    );
    assert_eq!(
        (&lines[1]["version"], &lines[1]["rule"]),
        (&"2026-01-01".into(), &"in_time".into())
    );
    assert!(
        lines[2]["error"]
            .as_str()
            .unwrap()
            .contains("before version 2025-01-01"),
        "{}",
        lines[2]
    );
    let (code, stdout, stderr) = eval(&[
        "--name",
        "withdrawal",
        "--order",
        dir.join("one.json").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"version\": \"2025-01-01\""), "{stdout}");
    let (code, _, stderr) = eval(&[
        "--name",
        "other",
        "--order",
        dir.join("one.json").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("has no policy `other` (it has: withdrawal)"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
