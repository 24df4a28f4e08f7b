//! Batch evaluation: output line k answers input line k, and any number of threads gives the bytes one
//! thread gives.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::io::Cursor;

use policy::batch::{decide_lines, BatchOptions};
use policy::eval::parse_time;
use policy::Policy;

/// Every example file, each line repeated with fresh ids, concatenated: valid and invalid orders of
/// every shape the examples hold.
fn input() -> String {
    let mut text = String::new();
    for round in 0..40 {
        for line in std::fs::read_to_string("examples/alibaba-ssl-refund-legacy.jsonl")
            .unwrap()
            .lines()
        {
            text.push_str(&line.replacen("\"id\":\"", &format!("\"id\":\"r{round}-"), 1));
            text.push('\n');
        }
        text.push_str("\n{not json\n[1,2]\n");
    }
    text
}

fn run(policy: &Policy, input: &str, threads: usize, chunk_lines: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let summary = decide_lines(
        policy,
        "refund",
        parse_time("2026-01-01T00:00:00Z").unwrap(),
        Cursor::new(input.as_bytes()),
        &mut out,
        BatchOptions {
            threads,
            chunk_lines,
            ..BatchOptions::default()
        },
    )
    .unwrap();
    assert_eq!(summary.lines, input.lines().count());
    (out, summary.errors)
}

#[test]
fn threads_keep_the_bytes_and_the_order() {
    let policy = Policy::load("policies/alibaba-ssl-refund-legacy.policy".as_ref()).unwrap();
    let input = input();
    let (single, errors) = run(&policy, &input, 1, 64);
    assert!(errors > 0);
    for (threads, chunk) in [(2, 64), (4, 7), (3, 1), (8, 1000)] {
        let (parallel, parallel_errors) = run(&policy, &input, threads, chunk);
        assert_eq!(parallel_errors, errors);
        assert!(
            parallel == single,
            "{threads} threads, chunks of {chunk}: output differs"
        );
    }
    let output = String::from_utf8(single).unwrap();
    assert_eq!(output.lines().count(), input.lines().count());
    for (k, (line, answer)) in input.lines().zip(output.lines()).enumerate() {
        let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
        match answer.get("line") {
            Some(number) => assert_eq!(number, k + 1, "{answer}"),
            None => {
                let order: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(answer["order"], order["id"], "line {}", k + 1);
            }
        }
    }
}
