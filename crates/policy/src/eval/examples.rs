//! Running the examples a policy carries: each order decided at its time and compared, field by
//! field, with the decision it expects.

use serde_json::Value as Json;

use super::Policy;
use crate::source::Span;

/// One example's result: empty `mismatches` means it passed.
#[derive(Debug, Clone)]
pub struct ExampleResult {
    /// The action the example decides.
    pub action: String,
    /// The example's name.
    pub name: String,
    /// Where the policy writes it.
    pub span: Span,
    /// Each expected field the decision does not match (or the order's error, as field `error`).
    pub mismatches: Vec<Mismatch>,
}

impl ExampleResult {
    /// Whether the decision matched every expected field.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// A decision field that is not what the example expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The decision field.
    pub field: String,
    /// What the example expects.
    pub expected: Json,
    /// What the decision says.
    pub actual: Json,
}

/// An example a policy carries, as written: what explaining it, or deciding it elsewhere, needs.
#[derive(Debug, Clone, Copy)]
pub struct ExampleOrder<'p> {
    /// The action it decides.
    pub action: &'p str,
    /// Its name.
    pub name: &'p str,
    /// The request time it gives (`at`); `None` when its order carries `requested_at` instead.
    pub at: Option<crate::time::Instant>,
    /// The order, as JSON text.
    pub order: &'p str,
}

impl Policy {
    /// Every example of every action, in source order.
    pub fn examples(&self) -> impl Iterator<Item = ExampleOrder<'_>> {
        self.checked().actions.iter().flat_map(|action| {
            action.examples.iter().map(move |example| ExampleOrder {
                action: &action.name,
                name: &example.name,
                at: example.at,
                order: &example.order_text,
            })
        })
    }
}

/// Runs every example of every action of `policy`, in source order.
pub fn run_examples(policy: &Policy) -> Vec<ExampleResult> {
    let mut results = Vec::new();
    for action in &policy.checked().actions {
        for example in &action.examples {
            // INVARIANT: the checker refuses examples with neither `at` nor `requested_at`.
            let now = example.at.unwrap_or(crate::time::Instant::UNIX_EPOCH);
            let actual = match policy
                .read_order_str(&example.order_text)
                .and_then(|o| policy.decide(&action.name, &o, now))
            {
                Ok(decision) => serde_json::to_value(&decision).unwrap_or(Json::Null),
                Err(error) => serde_json::json!({ "error": error.to_string() }),
            };
            let mismatches = compare(&example.expect, &actual);
            results.push(ExampleResult {
                action: action.name.clone(),
                name: example.name.clone(),
                span: example.span,
                mismatches,
            });
        }
    }
    results
}

/// Expected fields against the actual decision. `because` given as a string matches a reason that
/// contains it; `error` matches an error message that contains it.
fn compare(expect: &serde_json::Map<String, Json>, actual: &Json) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    let failed = actual.get("error").is_some();
    if failed && !expect.contains_key("error") {
        mismatches.push(Mismatch {
            field: "error".into(),
            expected: Json::Null,
            actual: actual.get("error").cloned().unwrap_or(Json::Null),
        });
        return mismatches;
    }
    for (field, expected) in expect {
        let got = actual.get(field).cloned().unwrap_or(Json::Null);
        let matches = match (field.as_str(), expected, &got) {
            ("error", Json::String(part), Json::String(message)) => message.contains(part.as_str()),
            ("because", Json::String(part), Json::Array(reasons)) => reasons
                .iter()
                .any(|r| r.as_str().is_some_and(|r| r.contains(part.as_str()))),
            _ => *expected == got,
        };
        if !matches {
            mismatches.push(Mismatch {
                field: field.clone(),
                expected: expected.clone(),
                actual: got,
            });
        }
    }
    mismatches
}
