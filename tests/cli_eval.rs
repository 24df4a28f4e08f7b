//! The `policy` binary: `eval` on a JSON Lines batch mixing good and bad orders (from a file and from
//! standard input), `eval --order` on one order, and `check` on the shipped policies.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const LEGACY: &str = "policies/alibaba-ssl-refund-legacy.policy";
const AT: &str = "2024-12-03T10:00:00+08:00";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn policy_cmd(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_policy"));
    command.args(args).current_dir(manifest());
    command
}

fn run(args: &[&str]) -> Output {
    policy_cmd(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run policy {args:?}: {e}"))
}

fn run_with_stdin(args: &[&str], input: &str) -> Output {
    let spawned = policy_cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = spawned.unwrap_or_else(|e| panic!("cannot start policy {args:?}: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        if let Err(e) = stdin.write_all(input.as_bytes()) {
            panic!("cannot write to policy's standard input: {e}");
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("policy {args:?} did not finish: {e}"))
}

/// Each output line parsed as JSON.
fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn batch_path() -> PathBuf {
    manifest().join("tests/data/batch-mixed.jsonl")
}

#[test]
fn batch_answers_line_k_with_line_k_and_fails_overall() {
    let input = std::fs::read_to_string(batch_path()).unwrap();
    let output = run(&[
        "eval",
        "--policy",
        LEGACY,
        "--orders",
        "tests/data/batch-mixed.jsonl",
        "--at",
        AT,
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(
        lines.len(),
        input.lines().count(),
        "one output line per input line"
    );

    // (line, order, what the error must say) for the error records.
    let errors: [(u64, Option<&str>, &[&str]); 7] = [
        (2, None, &["not valid JSON"]),
        (3, None, &["blank line"]),
        (4, None, &["expected a JSON object", "an array"]),
        (
            5,
            Some("no-price"),
            &["order `no-price`", "field `price`", "is missing"],
        ),
        (
            6,
            Some("no-offset"),
            &[
                "order `no-offset`",
                "field `paid_at`",
                "`2024-12-01T12:00:00`",
                "no offset",
            ],
        ),
        (
            7,
            None,
            &["field `id`", "expected a string, found a number"],
        ),
        (9, None, &["expected a JSON object", "null"]),
    ];
    for (line, order, parts) in errors {
        let record = &lines[line as usize - 1];
        // The record's fields come in the contract's order (read from the text: a parsed map sorts them).
        let text = String::from_utf8_lossy(&output.stdout)
            .lines()
            .nth(line as usize - 1)
            .unwrap()
            .to_string();
        let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
        assert!(
            at("order") == 1 && at("order") < at("line") && at("line") < at("error"),
            "line {line}: {text}"
        );
        assert_eq!(record["line"], line, "{record}");
        assert_eq!(record["order"].as_str(), order, "line {line}: {record}");
        let message = record["error"].as_str().unwrap();
        for part in parts {
            assert!(
                message.contains(part),
                "line {line}: `{part}` not in: {message}"
            );
        }
    }

    // The valid lines are decided all the same, each carrying its own id.
    let ok_1 = &lines[0];
    assert_eq!(ok_1["order"], "ok-1");
    assert_eq!(ok_1["outcome"], "allowed");
    assert_eq!(ok_1["rule"], "unissued_within_5_days");
    assert!(ok_1.get("error").is_none());
    let ok_2 = &lines[7];
    assert_eq!(ok_2["order"], "ok-2");
    assert_eq!(ok_2["outcome"], "denied");
    assert_eq!(ok_2["rule"], "issued_after_28_days");
    let ok_3 = &lines[9];
    assert_eq!(ok_3["order"], "ok-3");
    assert_eq!(ok_3["outcome"], "conditional");
    assert_eq!(ok_3["amount"], "80.00");
    assert_eq!(ok_3["requires"], serde_json::json!(["revoke"]));
    assert_eq!(ok_3["deadline"], "2024-12-31T00:00:00+08:00");
}

#[test]
fn batch_from_standard_input() {
    let input = std::fs::read_to_string(batch_path()).unwrap();
    let output = run_with_stdin(
        &["eval", "--policy", LEGACY, "--orders", "-", "--at", AT],
        &input,
    );
    assert_eq!(output.status.code(), Some(1));
    let from_file = run(&[
        "eval",
        "--policy",
        LEGACY,
        "--orders",
        "tests/data/batch-mixed.jsonl",
        "--at",
        AT,
    ]);
    assert_eq!(
        output.stdout, from_file.stdout,
        "stdin and file give the same lines"
    );

    // Only valid orders: exit 0, one decision per line, in order.
    let valid: String = input
        .lines()
        .filter(|l| l.starts_with(r#"{"id": "ok-"#))
        .map(|l| format!("{l}\n"))
        .collect();
    let output = run_with_stdin(
        &["eval", "--policy", LEGACY, "--orders", "-", "--at", AT],
        &valid,
    );
    assert!(output.status.success(), "{output:?}");
    let ids: Vec<Value> = json_lines(&output)
        .iter()
        .map(|d| d["order"].clone())
        .collect();
    assert_eq!(ids, ["ok-1", "ok-2", "ok-3"]);
}

#[test]
fn one_order_from_a_file() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let good = dir.join("cli-eval-one-order.json");
    std::fs::write(
        &good,
        r#"{ "id": "one", "paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00",
             "status": "verifying", "requested_at": "2024-12-07T00:00:00+08:00" }"#,
    )
    .unwrap();
    let output = run(&[
        "eval",
        "--policy",
        LEGACY,
        "--order",
        good.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{output:?}");
    let decision: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["order"], "one");
    assert_eq!(decision["outcome"], "allowed");
    assert_eq!(decision["rule"], "unissued_after_5_days");
    assert_eq!(decision["review_by"], "2024-12-27");

    let bad = dir.join("cli-eval-one-bad-order.json");
    std::fs::write(
        &bad,
        r#"{ "id": "bad", "paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00",
             "status": "issued" }"#,
    )
    .unwrap();
    let output = run(&[
        "eval",
        "--policy",
        LEGACY,
        "--order",
        bad.to_str().unwrap(),
        "--at",
        AT,
    ]);
    assert!(!output.status.success());
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(record["order"], "bad");
    let message = record["error"].as_str().unwrap();
    assert!(
        message.contains("field `issued_at`") && message.contains("missing"),
        "{message}"
    );
}

#[test]
fn huawei_order_through_the_cli() {
    let output = run_with_stdin(
        &[
            "eval",
            "--policy",
            "policies/huawei-scm-unsubscribe.policy",
            "--action",
            "refund",
            "--orders",
            "-",
            "--at",
            "2024-12-08T03:59:59Z",
        ],
        r#"{"id": "hw", "paid_at": "2024-12-01T12:00:00+08:00", "price": "80.00", "status": "pending_application", "purchased_on": "scm_console"}"#,
    );
    assert!(output.status.success(), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["outcome"], "allowed");
    assert_eq!(lines[0]["deadline"], "2024-12-08T12:00:00+08:00");
}

#[test]
fn a_request_time_without_offset_is_refused() {
    let output = run(&[
        "eval",
        "--policy",
        LEGACY,
        "--orders",
        "tests/data/batch-mixed.jsonl",
        "--at",
        "2024-12-03T10:00:00",
    ]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--at") && stderr.contains("no offset"),
        "{stderr}"
    );
}

#[test]
fn check_passes_on_the_shipped_policies() {
    let output = run(&["check"]);
    assert!(output.status.success(), "{output:?}");
    let output = run(&[
        "check",
        "policies/huawei-scm-unsubscribe.policy",
        "policies/alibaba-ssl-refund-legacy.policy",
    ]);
    assert!(output.status.success(), "{output:?}");
}
