//! Generated policy texts shared by the tests and the benchmarks (`benches/check.rs` includes this file
//! by path): large rule tables for the analysis, wide expressions for the parser.

#![allow(
    dead_code,
    reason = "each crate that includes this file uses its own subset"
)]

/// A policy whose action `refund` has a rule `r<i>` per guard.
pub fn rule_table(name: &str, declarations: &str, guards: &[String]) -> String {
    let mut text = format!(
        "policy {name}\n  document \"doc.txt\" \"Generated\"\n  zone \"Asia/Shanghai\"\n\n\
         field id: string?\nfield requested_at: timestamp?\nfield price: money\n{declarations}\n\
         action refund {{\n  default amount = price\n"
    );
    for (i, guard) in guards.iter().enumerate() {
        text.push_str(&format!(
            "\n  rule r{i}\n    when {guard}\n    then allowed\n    because \"case {i}\"\n      cite \"Case {i}.\"\n"
        ));
    }
    text.push_str("}\n");
    text
}

/// `groups` (at least one) parenthesised chains of 16 additions of `n`, added together in a balanced
/// tree: 17 operators per group, each at most 16 + log2(groups) deep, within the depth and nesting limits.
pub fn balanced_sum(groups: usize) -> String {
    let mut parts: Vec<String> = (0..groups.max(1))
        .map(|_| format!("({})", vec!["n"; 17].join(" + ")))
        .collect();
    while parts.len() > 1 {
        parts = parts
            .chunks(2)
            .map(|pair| format!("({})", pair.join(" + ")))
            .collect();
    }
    parts.remove(0)
}
