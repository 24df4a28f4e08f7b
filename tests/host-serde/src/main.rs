//! A host of `policy` that uses serde_json for its own data. Cargo unifies features per build, so a
//! serde_json feature that `policy` enables (`arbitrary_precision`, `preserve_order`) changes this
//! crate's serde_json too. Each check below is what a host can rely on from plain serde_json; the
//! program reports every check and exits non-zero if any fails.

use std::path::Path;

use serde::Deserialize;

/// A host's own untagged number-or-text type. With `arbitrary_precision`, serde_json hands numbers to
/// untagged enums as a private map, and `1.5` matches neither variant.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    F(f64),
    S(String),
}

fn untagged_number() -> Result<(), String> {
    let parsed: NumberOrText =
        serde_json::from_str("1.5").map_err(|e| format!("`1.5` does not parse: {e}"))?;
    if parsed != NumberOrText::F(1.5) {
        return Err(format!("`1.5` parsed as {parsed:?}, expected F(1.5)"));
    }
    let parsed: NumberOrText =
        serde_json::from_str("\"1.5\"").map_err(|e| format!("`\"1.5\"` does not parse: {e}"))?;
    if parsed != NumberOrText::S("1.5".into()) {
        return Err(format!(
            "`\"1.5\"` parsed as {parsed:?}, expected S(\"1.5\")"
        ));
    }
    Ok(())
}

/// Without `preserve_order`, serde_json's `Map` is sorted by key.
fn map_sorted_by_key() -> Result<(), String> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"b":1,"a":2}"#).map_err(|e| format!("does not parse: {e}"))?;
    let text = serde_json::to_string(&map).map_err(|e| e.to_string())?;
    if text != r#"{"a":2,"b":1}"# {
        return Err(format!(
            "{{\"b\":1,\"a\":2}} serialises as {text}, expected {{\"a\":2,\"b\":1}} (keys sorted)"
        ));
    }
    Ok(())
}

/// A number in a `Value` reads back as the `f64` it is.
fn value_numbers_are_plain() -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_str(r#"{"x":1.5}"#).map_err(|e| format!("does not parse: {e}"))?;
    match value["x"].as_f64() {
        Some(x) if x == 1.5 => {}
        other => return Err(format!("`x` reads as {other:?}, expected Some(1.5)")),
    }
    let from: f64 = serde_json::from_value(value["x"].clone()).map_err(|e| e.to_string())?;
    if from != 1.5 {
        return Err(format!("from_value gives {from}, expected 1.5"));
    }
    Ok(())
}

/// The library still works in the host: a shipped policy decides an order, money read exactly.
fn policy_decides() -> Result<(), String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/huawei-scm-unsubscribe.policy");
    let policy = policy::Policy::load(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let now = policy::eval::parse_time("2025-03-04T12:00:00+08:00").map_err(|e| e.to_string())?;
    let order = r#"{"id":"h-1","paid_at":"2025-03-03T11:00:00+08:00","price":80.10,
                    "status":"pending_application","purchased_on":"scm_console"}"#;
    let decision = policy
        .decide_json("refund", order, now)
        .map_err(|e| e.to_string())?;
    let json: serde_json::Value =
        serde_json::from_str(&decision.to_json()).map_err(|e| e.to_string())?;
    if json["outcome"] != "allowed" || json["amount"] != "80.10" {
        return Err(format!("unexpected decision: {json}"));
    }
    Ok(())
}

fn main() {
    let checks: [(&str, fn() -> Result<(), String>); 4] = [
        ("untagged enum reads 1.5 as F(1.5)", untagged_number),
        ("serde_json::Map is sorted by key", map_sorted_by_key),
        ("Value numbers are plain f64", value_numbers_are_plain),
        ("policy decides in the host", policy_decides),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        match check() {
            Ok(()) => println!("ok: {name}"),
            Err(why) => {
                failed += 1;
                println!("FAILED: {name}: {why}");
            }
        }
    }
    println!(
        "host-serde: {} passed, {failed} failed",
        checks.len() - failed
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
