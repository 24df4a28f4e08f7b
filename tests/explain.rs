//! `Policy::explain` for every rule of every shipped policy: for each rule, the first of the policy's
//! own examples that the rule decides, explained as text and as JSON, and an example with an input
//! error; each policy's explanations pinned with insta. Rules no example decides are listed, so a
//! gap in coverage shows in the snapshot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use policy::{Instant, Policy};

/// The policy's examples chosen for its rules: per action, per rule in order, the first example the
/// rule decides; then the first example whose input is wrong.
fn chosen(policy: &Policy) -> (Vec<policy::eval::ExampleOrder<'_>>, Vec<String>) {
    let mut picked = Vec::new();
    let mut uncovered = Vec::new();
    let examples: Vec<_> = policy.examples().collect();
    let at = |e: &policy::eval::ExampleOrder<'_>| e.at.unwrap_or(Instant::UNIX_EPOCH);
    for action in policy.actions() {
        let mut rules: Vec<String> = policy
            .rules(action)
            .unwrap()
            .map(|r| r.id().to_string())
            .collect();
        rules.push(policy::eval::NO_RULE.to_string());
        let mut seen = BTreeSet::new();
        for rule in rules {
            let example = examples.iter().find(|e| {
                e.action == action
                    && policy
                        .decide_json(action, e.order, at(e))
                        .is_ok_and(|d| d.rule == rule)
            });
            match example {
                Some(e) if seen.insert(e.name) => picked.push(*e),
                Some(_) => {}
                None if rule == policy::eval::NO_RULE => {}
                None => uncovered.push(format!("{action}/{rule}")),
            }
        }
        let input_error = examples.iter().find(|e| {
            e.action == action
                && matches!(
                    policy.decide_json(action, e.order, at(e)),
                    Err(policy::OrderError::Input { .. })
                )
        });
        picked.extend(input_error.copied());
    }
    (picked, uncovered)
}

fn explained(name: &str) -> (String, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(format!("{name}.policy"));
    let policy = Policy::load(&path).unwrap();
    let (examples, uncovered) = chosen(&policy);
    let mut text = String::new();
    let mut json = Vec::new();
    if !uncovered.is_empty() {
        text.push_str(&format!(
            "no example is decided by: {}\n\n",
            uncovered.join(", ")
        ));
    }
    for example in examples {
        let at = example.at.unwrap_or(Instant::UNIX_EPOCH);
        let explanation = policy
            .explain_json(example.action, example.order, at)
            .unwrap();
        text.push_str(&format!(
            "==== example \"{}\"\n{}\n",
            example.name, explanation
        ));
        json.push(serde_json::json!({
            "example": example.name,
            "explanation": explanation,
        }));
    }
    (text, serde_json::to_string_pretty(&json).unwrap())
}

macro_rules! explained {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            let (text, json) = explained($name);
            insta::assert_snapshot!(concat!(stringify!($test), "_text"), text);
            insta::assert_snapshot!(concat!(stringify!($test), "_json"), json);
        }
    };
}

explained!(alibaba_cms_refund_2026, "alibaba-cms-refund-2026");
explained!(alibaba_ssl_refund_legacy, "alibaba-ssl-refund-legacy");
explained!(alibaba_ssl_revoke, "alibaba-ssl-revoke");
explained!(huawei_scm_unsubscribe, "huawei-scm-unsubscribe");
explained!(huawei_scm_withdraw, "huawei-scm-withdraw");

/// `policy explain` and `policy eval --explain` on the GRCQ example of the CMS policy, and on an
/// order with input errors: what they write and their exit status.
#[test]
fn the_command_line_explains() {
    let dir = std::env::temp_dir().join(format!("policy-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let grcq = dir.join("grcq.json");
    std::fs::write(
        &grcq,
        r#"{ "id": "doc-grcq", "paid_at": "2026-03-01T10:00:00+08:00", "price": "1.6",
            "service": "https_gateway", "domain_added_at": "2026-03-02T09:00:00+08:00",
            "grcq_total": 300, "grcq_consumed": 60 }"#,
    )
    .unwrap();
    let wrong = dir.join("wrong.json");
    std::fs::write(&wrong, r#"{ "id": "wrong", "price": "1.6" }"#).unwrap();
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/alibaba-cms-refund-2026.policy"
    );
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let at = "2026-03-08T10:59:59-05:00";
    let grcq = grcq.to_str().unwrap();
    let wrong = wrong.to_str().unwrap();
    let (code, text, err) = run(&["explain", "--policy", policy, "--order", grcq, "--at", at]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    insta::assert_snapshot!("cli_explain_text", text);
    let (code, json, _) = run(&[
        "explain", "--policy", policy, "--order", grcq, "--at", at, "--format", "json",
    ]);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["decision"]["amount"], "1.28");
    let (code, text, _) = run(&["explain", "--policy", policy, "--order", wrong, "--at", at]);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!("cli_explain_input_error", text);
    let (code, traced, _) = run(&[
        "eval",
        "--explain",
        "--policy",
        policy,
        "--order",
        grcq,
        "--at",
        at,
    ]);
    assert_eq!(code, Some(0));
    let traced: serde_json::Value = serde_json::from_str(&traced).unwrap();
    assert_eq!(traced["amount"], "1.28");
    assert_eq!(traced["trace"]["attributes"][0]["name"], "amount");
    let (code, traced, _) = run(&[
        "eval",
        "--explain",
        "--policy",
        policy,
        "--order",
        wrong,
        "--at",
        at,
    ]);
    assert_eq!(code, Some(1));
    let traced: serde_json::Value = serde_json::from_str(&traced).unwrap();
    assert_eq!(traced["trace"]["input"][0]["field"], "paid_at");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The conditions an explanation evaluates (as written) agree with the compiled ones that decide:
/// for every example of every shipped policy, the last rule traced is the one that decided, and it
/// holds; with no rule deciding, none holds.
#[test]
fn every_example_traces_to_its_decision() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut traced = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "policy") {
            continue;
        }
        let policy = Policy::load(&path).unwrap();
        for example in policy.examples() {
            let at = example.at.unwrap_or(Instant::UNIX_EPOCH);
            let explanation = policy
                .explain_json(example.action, example.order, at)
                .unwrap();
            let Some(decision) = &explanation.decision else {
                continue;
            };
            let holding: Vec<&str> = explanation
                .rules
                .iter()
                .filter(|r| r.holds != Some(false))
                .map(|r| r.rule.as_str())
                .collect();
            if decision.rule == policy::eval::NO_RULE {
                assert_eq!(holding, Vec::<&str>::new(), "{}", example.name);
            } else {
                assert_eq!(holding, [decision.rule], "{}", example.name);
                assert_eq!(explanation.rules.last().unwrap().rule, decision.rule);
            }
            traced += 1;
        }
    }
    assert!(traced > 100, "{traced}");
}

/// `policy eval --explain --orders`: one explained decision per line, in the input's order, with
/// any number of threads; each line without its `trace` is the plain batch's line, and an order that
/// cannot be decided keeps its line number and says what needed the field.
#[test]
fn a_batch_explains_every_line() {
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/alibaba-ssl-refund-legacy.policy"
    );
    let orders = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/batch-mixed.jsonl");
    let run = |extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(["eval", "--policy", policy, "--orders", orders])
            .args(["--at", "2025-01-10T00:00:00+08:00"])
            .args(extra)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };
    let (plain_code, plain) = run(&[]);
    let (code, explained) = run(&["--explain", "--threads", "2"]);
    assert_eq!(code, plain_code);
    assert_eq!(run(&["--explain", "--threads", "1"]).1, explained);
    let plain: Vec<serde_json::Value> = plain
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let explained: Vec<serde_json::Value> = explained
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(explained.len(), plain.len());
    let (mut traced, mut errors_traced) = (0, 0);
    for (number, (plain, explained)) in plain.iter().zip(&explained).enumerate() {
        let mut without = explained.clone();
        let trace = without.as_object_mut().unwrap().remove("trace");
        match trace {
            Some(trace) => {
                traced += 1;
                if plain.get("error").is_some() {
                    // The explanation says the error in its own words, at the same line.
                    errors_traced += 1;
                    assert_eq!(without["line"], number + 1, "line {}", number + 1);
                    assert_eq!(without["order"], plain["order"], "line {}", number + 1);
                    assert!(trace["input"].is_array());
                } else {
                    assert_eq!(&without, plain, "line {}", number + 1);
                    assert_eq!(
                        trace["rules"].as_array().unwrap().last().unwrap()["rule"],
                        plain["rule"],
                        "line {}",
                        number + 1
                    );
                }
            }
            // Not text to explain (a blank line, say): the plain error record.
            None => assert_eq!(&without, plain, "line {}", number + 1),
        }
    }
    assert!(traced >= 5, "{traced}");
    assert!(errors_traced >= 1, "{errors_traced}");
}
