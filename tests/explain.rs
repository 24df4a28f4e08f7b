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
