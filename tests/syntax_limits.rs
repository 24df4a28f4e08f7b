//! Limits, not crashes. Deep nesting used to overflow the stack and abort the process (parentheses a
//! few thousand deep, long `and`/`or`/`+` chains, nested `max(`, long `not` and `-` chains, deep JSON in
//! examples). Now the text size, the nesting of brackets and `if`s, and the depth of expressions (as
//! written, and as checked with definitions inlined) have limits answered with a located diagnostic.
//!
//! At the limits, a policy loads, is analysed, and decides an order on a 256 KiB thread in this (debug)
//! build; one past them, or far past them, it is refused with the located diagnostic, never an abort.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::build;
use policy::calendar::Calendars;
use policy::diagnostics::Diagnostic;
use policy::source::SourceFile;
use policy::syntax::{MAX_EXPR_DEPTH, MAX_NESTING, MAX_SOURCE_LEN, MAX_SYNTAX_ERRORS};
use policy::{LoadError, Policy};

/// Runs `f` on a thread with a 256 KiB stack: what a batch worker or a host's small thread may have.
fn on_small_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn_scoped(scope, f)
            .unwrap()
            .join()
            .unwrap()
    })
}

/// A policy whose first rule is guarded by `guard` (inside the action's braces: one level of nesting)
/// and gives `amount`; `lets` come before the action.
fn policy_text(lets: &str, guard: &str, amount: &str) -> String {
    format!(
        "policy limits\n  document \"x.txt\"\n  zone \"Asia/Shanghai\"\n\n\
         field price: money\nfield n: int = 0\nfield t: bool = true\nfield f: bool = false\n\
         field paid_at: timestamp\n\n{lets}\n\
         action refund {{\n  default amount = price\n\n  rule deep\n    when {guard}\n    then allowed\n    \
         amount = {amount}\n    because \"deep\" cite \"deep\"\n\n  rule other\n    then denied\n    \
         because \"other\" cite \"other\"\n}}\n"
    )
}

/// The line of `policy_text` holding the guard.
const GUARD_LINE: usize = 16;

/// An expression `depth` deep of each kind that nests (names the guard reads: `t` true, `f` false).
fn shapes(depth: usize) -> Vec<(&'static str, String)> {
    let d = depth;
    vec![
        ("and chain", vec!["t"; d + 1].join(" and ")),
        ("or chain", vec!["f"; d].join(" or ") + " or t"),
        ("+ chain", format!("{} == {}", vec!["n"; d].join(" + "), 0)),
        (
            "money chain",
            format!("{} > 0", vec!["price"; d].join(" + ")),
        ),
        ("comparison chain", format!("{}t", "t == ".repeat(d))),
        ("not chain", format!("{}t", "not ".repeat(d))),
        ("- chain", format!("{}n == 0", "- ".repeat(d - 1))),
        (
            "time chain",
            format!("now < paid_at{}", " + 1 hours".repeat(d - 1)),
        ),
        (
            "nested max",
            format!("{}n{} == 0", "max(n, ".repeat(d - 1), ")".repeat(d - 1)),
        ),
        (
            "mixed",
            format!(
                "{}{}(n + 1 > 1){}{}",
                if d % 2 == 1 { "not (" } else { "" },
                "t and not (".repeat((d - 2) / 2),
                ")".repeat((d - 2) / 2),
                if d % 2 == 1 { ")" } else { "" },
            ),
        ),
    ]
}

/// An amount `depth` deep that stays `price`.
fn deep_amount(depth: usize) -> String {
    let mut amount = "price".to_string();
    for i in 0..depth {
        amount.push_str(if i % 2 == 0 { " + price" } else { " - price" });
    }
    amount
}

fn expect_error(text: &str, code: &str) -> Diagnostic {
    let file = SourceFile::new("limits.policy", text);
    let diagnostics =
        on_small_stack(|| build(&file, &Calendars::new())).expect_err("the policy is past a limit");
    diagnostics
        .into_iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("{code} is not reported"))
}

#[test]
fn at_the_limits_a_policy_loads_is_analysed_and_decides_on_a_small_stack() {
    let order = serde_json::json!({
        "price": "10.00", "n": 0, "t": true, "f": false, "paid_at": "2024-01-01T00:00:00Z"
    });
    for (shape, guard) in shapes(MAX_EXPR_DEPTH) {
        let text = policy_text("", &guard, &deep_amount(MAX_EXPR_DEPTH));
        let outcome = on_small_stack(|| {
            let policy = Policy::from_source("limits.policy", &text, &Calendars::new())
                .unwrap_or_else(|e| panic!("{shape}: {e}"));
            let _ = policy::analysis::analyze(&policy);
            let order = policy.read_order(&order).unwrap();
            let at = policy::eval::parse_time("2024-01-01T00:30:00Z").unwrap();
            let decision = policy.decide("refund", &order, at).unwrap();
            (decision.outcome.as_str(), decision.rule.to_string())
        });
        assert_eq!(outcome.0, "allowed", "{shape}: {outcome:?}");
    }
}

#[test]
fn at_the_nesting_limit_a_policy_loads_on_a_small_stack() {
    // The action's `{` is one level; the guard's brackets and `if`s the others.
    let inner = MAX_NESTING - 1;
    let parens = format!("{}t{}", "(".repeat(inner), ")".repeat(inner));
    let ifs = format!("{}t", "if t then t else ".repeat(inner));
    for guard in [parens, ifs] {
        let text = policy_text("", &guard, "price");
        on_small_stack(|| Policy::from_source("limits.policy", &text, &Calendars::new()))
            .unwrap_or_else(|e| panic!("{guard}: {e}"));
    }
    // An example's JSON: the action's `{`, the example's `{` and the order's `{` are three levels.
    let json = format!(
        "{}1{}",
        "[".repeat(MAX_NESTING - 3),
        "]".repeat(MAX_NESTING - 3)
    );
    let text = policy_text("", "t", "price").replace(
        "  rule other",
        &format!("  example \"deep\" {{ order {{\"x\": {json}}} }}\n\n  rule other"),
    );
    on_small_stack(|| policy::syntax::check_syntax(&text)).unwrap();
}

#[test]
fn at_the_limits_policy_load_reads_and_decides_on_a_small_stack() {
    let guard = vec!["t"; MAX_EXPR_DEPTH + 1].join(" and ");
    let text = policy_text("", &guard, &deep_amount(MAX_EXPR_DEPTH));
    let path: PathBuf = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("at-limits.policy");
    std::fs::write(&path, &text).unwrap();
    let decided = on_small_stack(|| {
        let policy = Policy::load(&path).unwrap();
        let order = policy
            .read_order(&serde_json::json!({"price": "1", "paid_at": "2024-01-01T00:00:00Z"}))
            .unwrap();
        policy
            .decide("refund", &order, policy::Instant::UNIX_EPOCH)
            .map(|d| d.outcome.as_str())
    });
    assert_eq!(decided.unwrap(), "allowed");
}

#[test]
fn one_past_the_depth_limit_is_a_located_error() {
    for (shape, guard) in shapes(MAX_EXPR_DEPTH + 1) {
        let text = policy_text("", &guard, "price");
        let d = expect_error(&text, "policy::parse::too_deep");
        let file = SourceFile::new("limits.policy", text.as_str());
        assert_eq!(
            file.line_col(d.span.start).0,
            GUARD_LINE,
            "{shape}: {}",
            d.one_line(&file)
        );
        assert!(d.message.contains("nested too deeply"), "{shape}");
    }
    let text = policy_text("", "t", &deep_amount(MAX_EXPR_DEPTH + 1));
    expect_error(&text, "policy::parse::too_deep");
}

#[test]
fn one_past_the_nesting_limit_is_a_located_error() {
    // The action's `{` is level 1: the guard's `MAX_NESTING`-th opener passes the limit.
    let n = MAX_NESTING;
    let cases = [
        (format!("{}t{}", "(".repeat(n), ")".repeat(n)), n - 1),
        (
            format!("{}t", "if t then t else ".repeat(n)),
            (n - 1) * "if t then t else ".len(),
        ),
        (
            format!("{}n{} == 0", "max(n, ".repeat(n), ")".repeat(n)),
            (n - 1) * "max(n, ".len() + "max".len(),
        ),
    ];
    for (guard, opener) in cases {
        let text = policy_text("", &guard, "price");
        let d = expect_error(&text, "policy::parse::too_deep");
        let file = SourceFile::new("limits.policy", text.as_str());
        let expected = (GUARD_LINE, "    when ".len() + opener + 1);
        assert_eq!(
            file.line_col(d.span.start),
            expected,
            "{}",
            d.one_line(&file)
        );
    }
    let json = format!(
        "{}1{}",
        "[".repeat(MAX_NESTING - 2),
        "]".repeat(MAX_NESTING - 2)
    );
    let text = policy_text("", "t", "price").replace(
        "  rule other",
        &format!("  example \"deep\" {{ order {{\"x\": {json}}} }}\n\n  rule other"),
    );
    let d =
        on_small_stack(|| policy::syntax::check_syntax(&text)).expect_err("too deep")[0].clone();
    assert_eq!(d.code, "policy::parse::too_deep");
}

#[test]
fn far_past_the_limits_is_a_located_error_and_never_an_abort() {
    // Each used to abort well below this size.
    let n = 20_000;
    let guards = [
        format!("{}t{}", "(".repeat(n), ")".repeat(n)),
        vec!["t"; n].join(" and "),
        vec!["t"; n].join(" or "),
        format!("{} == 0", vec!["n"; n].join(" + ")),
        format!("{}t", "not ".repeat(n)),
        format!("{}n == 0", "-".repeat(n)),
        format!("{}n{} == 0", "max(n, ".repeat(n / 10), ")".repeat(n / 10)),
        format!("{}t", "if t then t else ".repeat(n / 10)),
    ];
    for guard in &guards {
        let text = policy_text("", guard, "price");
        let d = expect_error(&text, "policy::parse::too_deep");
        let file = SourceFile::new("limits.policy", text.as_str());
        assert_eq!(file.line_col(d.span.start).0, GUARD_LINE);
        // Through a file too.
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("far-past-{}.policy", guard.len()));
        std::fs::write(&path, &text).unwrap();
        match on_small_stack(|| Policy::load(&path)) {
            Err(LoadError::Invalid { diagnostics, .. }) => {
                assert!(diagnostics
                    .iter()
                    .any(|d| d.code == "policy::parse::too_deep"))
            }
            other => panic!("expected a too_deep error, got {other:?}"),
        }
    }
    let json = format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let text = policy_text("", "t", "price").replace(
        "  rule other",
        &format!("  example \"deep\" {{ order {{\"x\": {json}}} }}\n\n  rule other"),
    );
    expect_error(&text, "policy::parse::too_deep");
    let json = format!("{}1{}", "{\"a\": ".repeat(n), "}".repeat(n));
    let text = policy_text("", "t", "price").replace(
        "  rule other",
        &format!("  example \"deep\" {{ order {json} }}\n\n  rule other"),
    );
    expect_error(&text, "policy::parse::too_deep");
}

#[test]
fn brackets_in_strings_and_comments_do_not_nest() {
    let noise = "(".repeat(MAX_NESTING * 2);
    let text = policy_text("", "t", "price")
        .replace(
            "because \"deep\"",
            &format!("because \"{noise} \\\" {noise}\" # {noise}\n     "),
        )
        .replace("field n: int = 0", &format!("field n: int = 0 # {noise}"));
    on_small_stack(|| Policy::from_source("limits.policy", &text, &Calendars::new())).unwrap();
}

#[test]
fn a_text_past_the_size_limit_is_refused_at_once() {
    let mut text = policy_text("", "t", "price");
    let filler = "# filler\n".repeat(MAX_SOURCE_LEN / 9 + 1);
    text.push_str(&filler);
    assert!(text.len() > MAX_SOURCE_LEN);
    let d = expect_error(&text, "policy::parse::too_large");
    assert_eq!(d.span.start as usize, MAX_SOURCE_LEN);
    // Just under the limit, the same policy loads.
    text.truncate(MAX_SOURCE_LEN);
    let end = text.rfind('\n').unwrap();
    text.truncate(end + 1);
    on_small_stack(|| Policy::from_source("limits.policy", &text, &Calendars::new())).unwrap();
}

#[test]
fn definitions_inlined_past_the_depth_limit_are_a_located_error() {
    // Each definition is shallow; inlined into one another, the last is deeper than the limit.
    let lets: String = (1..=8)
        .map(|i| format!("let l{i} = l{}{}\n", i - 1, " + n".repeat(6)))
        .collect();
    let text = policy_text(&format!("let l0 = n\n{lets}"), "l8 == 0", "price");
    let d = expect_error(&text, "policy::check::too_deep");
    assert!(d.message.contains("definition"), "{}", d.message);
    let line_start = text[..d.span.start as usize]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    assert!(
        text[line_start..].starts_with("let l"),
        "{}",
        &text[line_start..][..20]
    );
    // Used at a depth where the whole passes the limit.
    let lets = format!("let s = {}\n", vec!["n"; MAX_EXPR_DEPTH - 1].join(" + "));
    let text = policy_text(&lets, "s + n + n == 0", "price");
    expect_error(&text, "policy::check::too_deep");
}

#[test]
fn definitions_that_double_are_refused_before_they_grow() {
    // Each line doubles the size of the last definition: 40 lines would be 2^40 nodes.
    let lets: String = (1..=40)
        .map(|i| format!("let l{i} = l{0} and l{0}\n", i - 1))
        .collect();
    let text = policy_text(&format!("let l0 = t\n{lets}"), "l40", "price");
    let started = std::time::Instant::now();
    let d = expect_error(&text, "policy::check::too_large");
    assert!(d.message.contains("too large"), "{}", d.message);
    assert!(
        started.elapsed().as_secs() < 60,
        "refusing took {:?}",
        started.elapsed()
    );
}

#[test]
fn every_syntax_error_is_reported_up_to_a_limit() {
    let broken_rule = |i: usize| {
        format!("  rule r{i}\n    when t\n    allowed\n    because \"x\" cite \"y\"\n\n")
    };
    let rules: String = (0..MAX_SYNTAX_ERRORS + 5).map(broken_rule).collect();
    let text =
        policy_text("", "t", "price").replace("  rule other", &format!("{rules}  rule other"));
    let file = SourceFile::new("limits.policy", text.as_str());
    let diagnostics = build(&file, &Calendars::new()).expect_err("broken rules");
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), MAX_SYNTAX_ERRORS);
    assert!(errors.iter().all(|d| d.code == "policy::parse::syntax"));
    // One per broken rule, in order, each at its `allowed`.
    for (i, d) in errors.iter().enumerate() {
        let at = text.find(&format!("rule r{i}\n")).unwrap();
        let allowed = at + text[at..].find("allowed").unwrap();
        assert_eq!(d.span.start as usize, allowed, "{}", d.one_line(&file));
    }
    let last = diagnostics.last().unwrap();
    assert_eq!(last.code, "policy::parse::too_many_errors");
    assert!(!last.is_error());
}

#[test]
fn a_byte_order_mark_opens_a_policy_file() {
    let text = common::standalone(
        &std::fs::read_to_string(common::root().join("policies/huawei-scm-withdraw.policy"))
            .unwrap(),
    );
    let with_mark = format!("\u{feff}{text}");
    let calendars = common::calendars();
    let plain = Policy::from_source("p.policy", &text, &calendars).unwrap();
    let marked = Policy::from_source("p.policy", &with_mark, &calendars).unwrap();
    let results = policy::eval::run_examples(&marked);
    assert!(!results.is_empty() && results.iter().all(|r| r.passed()));
    assert_eq!(results.len(), policy::eval::run_examples(&plain).len());
    // Spans stay byte offsets into the text as given: a diagnostic is at the same line and column.
    let broken = text.replacen("field ", "field 1", 1);
    let place = |text: &str| {
        let file = SourceFile::new("p.policy", text);
        let d = build(&file, &calendars).expect_err("broken").remove(0);
        (
            d.code,
            file.line_col(d.span.start),
            text[d.span.start as usize..].chars().next(),
        )
    };
    assert_eq!(place(&broken), place(&format!("\u{feff}{broken}")));
}

#[test]
fn the_binary_refuses_a_deep_policy_without_aborting() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("deep-binary");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("deep.policy");
    let guard = format!("{}t{}", "(".repeat(1000), ")".repeat(1000));
    std::fs::write(&path, policy_text("", &guard, "price")).unwrap();
    let orders = dir.join("orders.jsonl");
    let order = r#"{"price": "1", "paid_at": "2024-01-01T00:00:00Z"}"#;
    std::fs::write(&orders, format!("{order}\n").repeat(100)).unwrap();
    let runs: [&[&std::ffi::OsStr]; 3] = [
        &["check".as_ref(), path.as_os_str()],
        &["test".as_ref(), path.as_os_str()],
        &[
            "eval".as_ref(),
            "--policy".as_ref(),
            path.as_os_str(),
            "--orders".as_ref(),
            orders.as_os_str(),
            "--threads".as_ref(),
            "4".as_ref(),
        ],
    ];
    for args in runs {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(1 | 2)),
            "{args:?}: {:?}\n{stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("policy::parse::too_deep") || stderr.contains("nested too deeply"),
            "{args:?}: {stderr}"
        );
    }
}
