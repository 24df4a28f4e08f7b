//! Tiny helpers shared by the integration tests: load a shipped policy, build orders from a base with
//! overrides, decide at a given time and compare decisions field by field.

#![allow(
    dead_code,
    reason = "each test crate uses its own subset of these helpers"
)]
#![allow(
    clippy::expect_used,
    reason = "test helpers: a failure is the test failing"
)]

pub mod generate;

use std::path::Path;

use policy::Policy;
use serde_json::{Map, Value};

/// Loads `policies/{name}.policy` (with its calendars) from this crate.
pub fn policy(name: &str) -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(format!("{name}.policy"));
    Policy::load(&path).unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()))
}

/// An RFC 3339 timestamp as the interpreter's request time.
pub fn at(timestamp: &str) -> policy::Instant {
    policy::eval::parse_time(timestamp).unwrap_or_else(|e| panic!("bad test timestamp: {e}"))
}

/// `base` with each key of `overrides` set (a `null` override stays: null means absent).
pub fn with(base: &Value, overrides: Value) -> Value {
    let (Value::Object(base), Value::Object(overrides)) = (base, &overrides) else {
        panic!("base {base} and overrides {overrides} must be objects");
    };
    let mut order = base.clone();
    order.extend(overrides.clone());
    Value::Object(order)
}

/// `base` without the given keys.
pub fn without(base: &Value, keys: &[&str]) -> Value {
    let Value::Object(base) = base else {
        panic!("base {base} must be an object");
    };
    let mut order: Map<String, Value> = base.clone();
    for key in keys {
        order.remove(*key);
    }
    Value::Object(order)
}

/// Decides `order` with `action` at time `at` (used when the order has no `requested_at`); the decision
/// as the contract's JSON. Panics with the error when the order cannot be decided.
pub fn decide(policy: &Policy, action: &str, order: &Value, at: &str) -> Value {
    match try_decide(policy, action, order, at) {
        Ok(decision) => decision,
        Err(e) => panic!("order {order} at {at}: unexpected error: {e}"),
    }
}

/// Like `decide`, but the error message when the order cannot be decided.
pub fn try_decide(policy: &Policy, action: &str, order: &Value, at: &str) -> Result<Value, String> {
    let now = self::at(at);
    policy
        .read_order(order)
        .and_then(|o| policy.decide(action, &o, now))
        .map(|d| serde_json::to_value(&d).unwrap_or_else(|e| panic!("decision: {e}")))
        .map_err(|e| e.to_string())
}

/// The error message for an order that must not be decidable.
pub fn decide_err(policy: &Policy, action: &str, order: &Value, at: &str) -> String {
    match try_decide(policy, action, order, at) {
        Ok(decision) => panic!("order {order} at {at}: expected an error, got {decision}"),
        Err(message) => message,
    }
}

/// Asserts that every field of `expected` (a JSON object) is in `decision` with that value.
#[track_caller]
pub fn assert_fields(decision: &Value, expected: Value) {
    let Value::Object(expected) = expected else {
        panic!("expected fields must be an object");
    };
    for (field, want) in &expected {
        let got = decision.get(field).unwrap_or(&Value::Null);
        assert_eq!(
            got, want,
            "field `{field}`: expected {want}, got {got}\nwhole decision: {decision:#}"
        );
    }
}

/// Decides and asserts the given fields in one step.
#[track_caller]
pub fn assert_decides(policy: &Policy, order: &Value, at: &str, expected: Value) -> Value {
    let decision = decide(policy, "refund", order, at);
    assert_fields(&decision, expected);
    decision
}

/// A `denied` or `undetermined` decision: only `rule`, `because` and a null `deadline` speak.
#[track_caller]
pub fn assert_refused(decision: &Value, outcome: &str, rule: &str) {
    assert_fields(
        decision,
        serde_json::json!({
            "outcome": outcome, "rule": rule, "amount": null, "currency": null, "refund_to": null,
            "requires": [], "review": null, "review_by": null, "deadline": null, "next_status": null,
            "values": {},
        }),
    );
    let reasons = decision["because"].as_array().map_or(0, Vec::len);
    assert!(reasons > 0, "a refusal gives its reasons: {decision:#}");
}

/// Asserts that `message` contains every one of `parts`.
#[track_caller]
pub fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
}

/// The crate's root, where `policies/` and `tests/cases/` are.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped calendars.
pub fn calendars() -> policy::calendar::Calendars {
    policy::files::load_calendars(&root().join("policies/calendars"))
        .complete()
        .expect("the shipped calendars load")
}

/// `*.policy` files directly in `dir`, sorted.
pub fn policy_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .collect();
    files.sort();
    files
}

/// The name a case is reported and snapshotted under: its path from the crate root, with `/` on every
/// platform so snapshots do not depend on the OS.
pub fn display_name(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// One table cell: `-` for null, absent and empty; lists comma-joined; objects as `key=value`.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.is_empty() => "-".to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| cell(Some(i)))
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(map)) if map.is_empty() => "-".to_string(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(Some(v))))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    }
}

/// Rows under a header as a fixed-width table: columns aligned and separated by ` | `, a rule under
/// the header.
pub fn aligned_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain(std::iter::once(header[c].chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:width$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(header.to_vec())];
    out.push(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-"),
    );
    for row in rows {
        assert_eq!(row.len(), header.len(), "row {row:?}");
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n") + "\n"
}

/// Loads a policy from its text, as a host would: its warnings when it loads, else every finding
/// (errors and warnings).
pub fn build(
    file: &policy::source::SourceFile,
    calendars: &policy::calendar::Calendars,
) -> Result<(Policy, Vec<policy::diagnostics::Diagnostic>), Vec<policy::diagnostics::Diagnostic>> {
    match Policy::from_source(&file.name, &file.text, calendars) {
        Ok(policy) => {
            let warnings = policy.warnings().to_vec();
            Ok((policy, warnings))
        }
        Err(policy::LoadError::Invalid { diagnostics, .. }) => Err(diagnostics),
        Err(error) => panic!("{error}"),
    }
}

/// The shared vocabulary the shipped policies import, on one line.
pub const SHARED_IMPORT: &str = "import \"common/contract.policy\"";

/// A shipped policy's text that stands alone (a copy elsewhere, a text without a file): its import of
/// the shared vocabulary replaced by the vocabulary's declarations, on the same line, so that every
/// other line keeps its number.
pub fn standalone(text: &str) -> String {
    let vocabulary = std::fs::read_to_string(root().join("policies/common/contract.policy"))
        .expect("the shared vocabulary reads");
    let declarations: Vec<&str> = vocabulary
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("library "))
        .collect();
    assert!(
        text.contains(SHARED_IMPORT),
        "the policy imports the shared vocabulary"
    );
    text.replacen(SHARED_IMPORT, &declarations.join(" "), 1)
}

/// A policy from its text, with no calendars; a policy that does not load fails the test.
pub fn inline(text: &str) -> Policy {
    Policy::from_source("inline.policy", text, &policy::calendar::Calendars::new())
        .unwrap_or_else(|e| panic!("inline policy: {e}"))
}

/// Decides the order given as JSON text; the decision as JSON, or the error message.
pub fn decide_text(policy: &Policy, action: &str, order: &str, now: &str) -> Result<Value, String> {
    policy
        .decide_json(action, order, at(now))
        .map(|d| serde_json::from_str(&d.to_json()).expect("a decision is JSON"))
        .map_err(|e| e.to_string())
}

/// Decides the order given as JSON text for `refund`; an order that cannot be decided fails the test.
pub fn decide_refund(policy: &Policy, order: &str, now: &str) -> Value {
    decide_text(policy, "refund", order, now).unwrap_or_else(|e| panic!("{order}: {e}"))
}
