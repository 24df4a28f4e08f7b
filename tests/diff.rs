//! `policy diff` end to end: the legacy policy against a copy whose `28 calendar days` read `30 calendar
//! days` (the acceptance case of issue 10), a policy against itself, `--orders` over the legacy orders
//! file, and versions that cannot be compared. Every witness the command reports is decided again here
//! with both versions, through the public API.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::DateTime;
use serde_json::Value;

use common::root;

const LEGACY: &str = "policies/alibaba-ssl-refund-legacy.policy";

/// A folder holding `old.policy` (the legacy policy) and `new.policy` (its days changed from 28 to
/// 30), beside the shared vocabulary and the calendars they read.
fn versions(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("policy-diff-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("common")).unwrap();
    std::fs::create_dir_all(dir.join("calendars")).unwrap();
    std::fs::copy(
        root().join("policies/common/contract.policy"),
        dir.join("common/contract.policy"),
    )
    .unwrap();
    for entry in std::fs::read_dir(root().join("policies/calendars")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("calendars").join(path.file_name().unwrap())).unwrap();
    }
    let text = std::fs::read_to_string(root().join(LEGACY)).unwrap();
    assert!(text.contains("28 calendar days"));
    std::fs::write(dir.join("old.policy"), &text).unwrap();
    std::fs::write(
        dir.join("new.policy"),
        text.replace("28 calendar days", "30 calendar days"),
    )
    .unwrap();
    dir
}

fn policy_diff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policy"))
        .arg("diff")
        .args(args)
        .current_dir(root())
        .output()
        .expect("the policy binary runs")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Decides a witness with a policy: its rule and outcome.
fn decide(policy: &policy::Policy, witness: &Value) -> (String, String) {
    let order = policy.read_order(&witness["order"]).unwrap();
    let at = policy::eval::parse_time(witness["at"].as_str().unwrap()).unwrap();
    let decision = policy.decide("refund", &order, at).unwrap();
    (
        decision.rule.to_string(),
        decision.outcome.as_str().to_string(),
    )
}

#[test]
fn legacy_28_to_30_days_reports_the_revoked_orders_between_day_28_and_30() {
    let dir = versions("acceptance");
    let (old, new) = (dir.join("old.policy"), dir.join("new.policy"));
    let output = policy_diff(&[path(&old), path(&new), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json_of(&output);
    assert_eq!(report["verdict"], "different");
    let differences = report["actions"][0]["differences"].as_array().unwrap();
    let revoked = differences
        .iter()
        .find(|d| {
            d["old_rule"] == "issued_after_28_days" && d["new_rule"] == "revoked_within_28_days"
        })
        .expect("the region of revoked orders between day 28 and 30");
    let conditions: Vec<&str> = revoked["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for expected in [
        "status == revoked",
        "not (revoked_at within 28 calendar days after issued_at)",
        "revoked_at within 30 calendar days after issued_at",
    ] {
        assert!(conditions.contains(&expected), "{conditions:?}");
    }
    let witness = &revoked["witness"];
    assert_eq!(witness["confirmed"], true);
    let order = &witness["order"];
    assert_eq!(order["status"], "revoked");
    let day = |field: &str| DateTime::parse_from_rfc3339(order[field].as_str().unwrap()).unwrap();
    let days = (day("revoked_at") - day("issued_at")).num_hours() as f64 / 24.0;
    assert!(days > 28.0 && days <= 31.0, "{days} days");

    // Every difference's witness, decided again: the two versions' rules as reported, and a change.
    let old_policy = policy::Policy::load(&old).unwrap();
    let new_policy = policy::Policy::load(&new).unwrap();
    for d in differences {
        let w = &d["witness"];
        assert_eq!(w["confirmed"], true);
        let (a, b) = (decide(&old_policy, w), decide(&new_policy, w));
        assert_eq!(
            (a.0.as_str(), b.0.as_str()),
            (
                d["old_rule"].as_str().unwrap(),
                d["new_rule"].as_str().unwrap()
            )
        );
        assert!(!d["changes"].as_array().unwrap().is_empty());
    }

    let text = policy_diff(&[path(&old), path(&new)]);
    assert_eq!(text.status.code(), Some(1));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(
            "rule `issued_after_28_days` in the old version, `revoked_within_28_days` in the new"
        ),
        "{text}"
    );
    assert!(
        text.contains("outcome: \"denied\" -> \"allowed\""),
        "{text}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn every_shipped_policy_against_itself_is_no_difference() {
    for file in common::policy_files(&root().join("policies")) {
        let file = path(&file);
        let output = policy_diff(&[file, file]);
        assert_eq!(output.status.code(), Some(0), "{file}: {output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("no difference"), "{text}");
    }
    let output = policy_diff(&[LEGACY, LEGACY, "--format", "json"]);
    assert_eq!(json_of(&output)["verdict"], "same");
}

#[test]
fn orders_of_a_file_whose_decisions_change_are_listed_with_counts() {
    let dir = versions("orders");
    let (old, new) = (dir.join("old.policy"), dir.join("new.policy"));
    let orders = "examples/alibaba-ssl-refund-legacy.jsonl";
    let at = "2026-01-01T00:00:00+08:00";
    let output = policy_diff(&[
        path(&old),
        path(&new),
        "--orders",
        orders,
        "--at",
        at,
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json_of(&output);
    let lines = std::fs::read_to_string(root().join(orders))
        .unwrap()
        .lines()
        .count();
    assert_eq!(report["orders"], lines);
    let records = report["records"].as_array().unwrap();
    let changed: Vec<&Value> = records
        .iter()
        .filter(|r| r.get("changes").is_some())
        .collect();
    assert_eq!(report["changed"], changed.len());
    assert!(changed.iter().any(|r| r["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "outcome")));
    // The counts per field add up from the records.
    for (field, count) in report["fields"].as_object().unwrap() {
        let n = changed
            .iter()
            .filter(|r| {
                r["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["field"] == *field)
            })
            .count();
        assert_eq!(count, &Value::from(n), "{field}");
    }
    // Lines both versions refuse are listed with their line, never dropped.
    let refused: Vec<&Value> = records
        .iter()
        .filter(|r| r.get("error").is_some())
        .collect();
    assert_eq!(report["refused"], refused.len());
    assert!(refused
        .iter()
        .all(|r| r["line"].as_u64().is_some_and(|l| l >= 1)));
    assert!(!refused.is_empty());

    // Against itself: nothing changes, the refused lines still listed, exit 0.
    let same = policy_diff(&[path(&old), path(&old), "--orders", orders, "--at", at]);
    assert_eq!(same.status.code(), Some(0), "{same:?}");
    let text = String::from_utf8(same.stdout).unwrap();
    assert!(
        text.contains(&format!("{lines} orders: 0 decided differently")),
        "{text}"
    );
    assert!(text.contains("refused by both versions"), "{text}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn versions_whose_orders_mean_different_things_are_an_error() {
    let output = policy_diff(&[LEGACY, "policies/alibaba-ssl-revoke.policy"]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(err.contains("cannot compare the versions"), "{err}");
}

/// Two dated versions of one policy (`effective from`): each is compared as if in force for every
/// order, so the witnesses are not refused for predating the new version.
#[test]
fn dated_versions_are_compared_as_if_each_were_in_force() {
    let dir = versions("dated");
    let date = |file: &str, from: &str| {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let dated = text.replacen(
            "  calendar cn\n",
            &format!("  calendar cn\n  effective from {from} by paid_at\n"),
            1,
        );
        assert_ne!(text, dated);
        std::fs::write(dir.join(file), dated).unwrap();
    };
    date("old.policy", "2020-01-01");
    date("new.policy", "2030-01-01");
    let output = policy_diff(&[
        path(&dir.join("old.policy")),
        path(&dir.join("new.policy")),
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json_of(&output);
    let differences = report["actions"][0]["differences"].as_array().unwrap();
    assert!(differences
        .iter()
        .any(|d| d["old_rule"] == "issued_after_28_days" && d["witness"]["confirmed"] == true));
    let output = policy_diff(&[path(&dir.join("new.policy")), path(&dir.join("new.policy"))]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
