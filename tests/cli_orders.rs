//! `policy eval --orders` on the edges of an orders file: a byte-order mark, a line longer than the
//! limit, bytes that are not UTF-8, strings that escape a lone surrogate. Output line k still answers
//! input line k, and each bad line gets an error record that says what is wrong with it.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const LEGACY: &str = "policies/alibaba-ssl-refund-legacy.policy";
const AT: &str = "2024-12-03T10:00:00+08:00";
const GOOD: &str = r#"{"id":"good","paid_at":"2024-12-01T10:00:00+08:00","price":"49.00","status":"pending_application"}"#;

/// Runs `eval --orders -` on `input`, under each thread count.
fn eval(input: &[u8], threads: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["eval", "--policy", LEGACY, "--at", AT, "--orders", "-"])
        .args(["--threads", threads])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the policy binary starts");
    let mut stdin = child.stdin.take().expect("its standard input");
    let input = input.to_vec();
    // Written from another thread: the output may fill its pipe before the input is all written.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("the policy binary ends");
    writer
        .join()
        .expect("the writer")
        .expect("the input is written");
    output
}

fn answers(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn error(answer: &Value) -> &str {
    answer["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {answer}"))
}

#[test]
fn a_byte_order_mark_opening_the_file_is_skipped() {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(format!("{GOOD}\n{GOOD}\n").as_bytes());
    for threads in ["1", "2"] {
        let output = eval(&input, threads);
        let answers = answers(&output);
        assert_eq!(answers.len(), 2, "{output:?}");
        for answer in &answers {
            assert_eq!(answer["order"], "good", "{answer}");
            assert!(answer.get("error").is_none(), "{answer}");
        }
        assert_eq!(output.status.code(), Some(0));
    }
}

#[test]
fn a_single_order_file_may_open_with_a_byte_order_mark() {
    let dir = std::env::temp_dir().join(format!("policy-bom-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("order.json");
    std::fs::write(&path, format!("\u{feff}{GOOD}")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["eval", "--policy", LEGACY, "--at", AT, "--order"])
        .arg(&path)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .output()
        .expect("the policy binary runs");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let decision: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["order"], "good");
}

/// A line over 1 MiB is answered in its place; the lines around it are decided.
#[test]
fn a_line_longer_than_one_mebibyte_is_an_error_record_at_its_line() {
    let padding = "x".repeat(1 << 20);
    let long = format!(r#"{{"id":"long","note":"{padding}"}}"#);
    // Just under the limit: read and decided (the unknown field is skipped).
    let fits = format!(
        r#"{{"id":"fits","paid_at":"2024-12-01T10:00:00+08:00","price":"49.00","status":"pending_application","note":"{}"}}"#,
        "y".repeat((1 << 20) - 200)
    );
    let input = format!("{GOOD}\n{long}\n{GOOD}\n{fits}\n{long}");
    for threads in ["1", "3"] {
        let output = eval(input.as_bytes(), threads);
        let answers = answers(&output);
        assert_eq!(answers.len(), 5, "{threads} threads");
        assert_eq!(answers[0]["order"], "good");
        assert_eq!(answers[1]["line"], 2);
        assert!(
            error(&answers[1]).contains("longer than 1048576 bytes"),
            "{}",
            answers[1]
        );
        assert_eq!(answers[2]["order"], "good");
        assert_eq!(answers[3]["order"], "fits");
        assert!(answers[3].get("error").is_none(), "{}", answers[3]);
        assert_eq!(answers[4]["line"], 5);
        assert_eq!(output.status.code(), Some(1));
    }
}

#[test]
fn a_line_that_is_not_utf8_is_an_error_record_at_its_line() {
    let mut input = format!("{GOOD}\n").into_bytes();
    input.extend_from_slice(b"{\"id\":\"bad\xFF\xFE\"}\n");
    input.extend_from_slice(format!("{GOOD}\n").as_bytes());
    for threads in ["1", "2"] {
        let output = eval(&input, threads);
        let answers = answers(&output);
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[1]["line"], 2);
        assert_eq!(
            error(&answers[1]),
            "the line is not valid UTF-8 (at byte 11)"
        );
        assert_eq!(answers[2]["order"], "good");
    }
}

/// `"\ud800"` is no Unicode text: said so, naming the field, not "found an object".
#[test]
fn a_lone_surrogate_is_named_as_such() {
    let lines = [
        r#"{"id":"s1","paid_at":"2024-12-01T10:00:00+08:00","price":"49.00","status":"\ud800"}"#,
        r#"{"id":"s2","paid_at":"\udc00x","price":"49.00","status":"pending_application"}"#,
        r#""\ud800""#,
        // A key that escapes a lone surrogate names no field: skipped like any unknown key.
        r#"{"\ud800":1,"id":"s4","paid_at":"2024-12-01T10:00:00+08:00","price":"49.00","status":"pending_application"}"#,
        // A well-formed pair is an ordinary character.
        r#"{"id":"s5\ud83d\ude00","paid_at":"2024-12-01T10:00:00+08:00","price":"49.00","status":"pending_application"}"#,
    ];
    let output = eval(format!("{}\n", lines.join("\n")).as_bytes(), "1");
    let answers = answers(&output);
    assert_eq!(answers.len(), 5);
    let not_unicode = "a string that is not valid Unicode (it escapes a lone surrogate";
    assert!(
        error(&answers[0]).contains(&format!(
            "field `status`: expected a string, found {not_unicode}"
        )),
        "{}",
        answers[0]
    );
    assert!(
        error(&answers[1]).contains(&format!(
            "field `paid_at`: expected a timestamp string, found {not_unicode}"
        )),
        "{}",
        answers[1]
    );
    assert!(
        error(&answers[2]).contains(&format!("expected a JSON object, found {not_unicode}")),
        "{}",
        answers[2]
    );
    for answer in &answers {
        assert!(!answer.to_string().contains("found an object"), "{answer}");
    }
    assert_eq!(answers[3]["order"], "s4");
    assert!(answers[3].get("error").is_none(), "{}", answers[3]);
    assert_eq!(answers[4]["order"], "s5\u{1F600}");
    assert!(answers[4].get("error").is_none(), "{}", answers[4]);
}
