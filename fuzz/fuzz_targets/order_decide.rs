//! Order intake and decide on every shipped policy. The first byte picks the (policy, action) pair
//! (`policy_fuzz::ACTIONS`); the rest is the order's JSON. The request time is the order's
//! `requested_at`, else `policy_fuzz::DEFAULT_NOW`.
//!
//! Besides "no panic": both intake paths (JSON text, and a parsed `serde_json::Value`) must agree (the
//! same decision, or errors naming the same fields), and a decision's JSON must be valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_fuzz::{default_now, shipped};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (policy, action) = shipped(selector);
    let now = default_now();
    let from_text = policy
        .read_order_str(text)
        .and_then(|order| policy.decide(action, &order, now));
    if let Ok(decision) = &from_text {
        let json = decision.to_json();
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
            panic!("decision is not valid JSON ({e}): {json}");
        }
    }
    // The same order through the `serde_json::Value` intake, when serde_json reads it as an object.
    // Both intakes let the last of duplicate keys win, so they must decide alike, unless a number is
    // one `f64` cannot hold exactly: a `Value` holds numbers as `f64` (the host's serde_json has no
    // arbitrary_precision, and the library does not force it on), so only the text path sees its digits
    // (docs/limits.md).
    if !numbers_fit_f64(text) {
        return;
    }
    // A field given twice is refused from text; a `Value` has already kept the last copy.
    if let Err(policy::OrderError::Input { problems, .. }) = &from_text {
        if problems.iter().any(|p| p.message == "is given more than once") {
            return;
        }
    }
    if let Ok(value @ serde_json::Value::Object(_)) =
        serde_json::from_str::<serde_json::Value>(text)
    {
        let from_value = policy
            .read_order(&value)
            .and_then(|order| policy.decide(action, &order, now));
        match (&from_text, &from_value) {
            (Ok(a), Ok(b)) => assert_eq!(a.to_json(), b.to_json(), "intake paths disagree"),
            // The same fields refused (a message may quote a number as serde_json re-writes it).
            (Err(a), Err(b)) => assert_eq!(
                problem_fields(a),
                problem_fields(b),
                "intake paths disagree"
            ),
            _ => panic!("intake paths disagree: text {from_text:?}, value {from_value:?}"),
        }
    }
});

/// What an order error refuses: the fields for an input error, else the kind of error.
fn problem_fields(error: &policy::OrderError) -> Vec<String> {
    match error {
        policy::OrderError::Input { problems, .. } => {
            problems.iter().map(|p| p.field.clone()).collect()
        }
        // Any other error: its kind.
        other => vec![format!("({:?})", other.kind())],
    }
}

/// Whether every number among the order's fields is plain and short enough (15 significant digits, no
/// exponent) that `f64` holds it exactly as written.
fn numbers_fit_f64(text: &str) -> bool {
    let Ok(fields) = serde_json::from_str::<
        std::collections::HashMap<String, Box<serde_json::value::RawValue>>,
    >(text) else {
        return true;
    };
    fields.values().all(|raw| {
        let raw = raw.get().trim();
        if !raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return true;
        }
        let digits = raw.trim_start_matches(['-', '0', '.']);
        !raw.contains(['e', 'E']) && digits.chars().filter(char::is_ascii_digit).count() <= 15
    })
}
