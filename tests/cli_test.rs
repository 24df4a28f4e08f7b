//! `policy test`: the shipped examples pass, and a wrong expectation fails readably.
#![allow(
    clippy::expect_used,
    reason = "a test helper: a failure is the test failing"
)]

mod common;

use std::path::Path;
use std::process::Command;

fn run_test(path: &Path) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .arg("test")
        .arg(path)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the policy binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_shipped_examples_pass_and_are_counted() {
    let (code, stdout) = run_test(Path::new("policies"));
    assert_eq!(code, Some(0), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    let passed: usize = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("closing line: {last:?}"));
    assert!(passed >= 100, "{last}");
}

#[test]
fn a_wrong_expectation_fails_with_expected_and_actual() {
    let dir = std::env::temp_dir().join(format!("policy-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("calendars")).unwrap();
    std::fs::copy(
        "policies/calendars/cn.calendar",
        dir.join("calendars/cn.calendar"),
    )
    .unwrap();
    let source = common::standalone(
        &std::fs::read_to_string("policies/alibaba-cms-refund-2026.policy").unwrap(),
    );
    // The document's worked example: 1.6 paid, 60 of 300 GRCQ consumed, refund 1.28. Claim 1.29.
    assert!(source.contains("\"1.28\""));
    let wrong = source.replacen("\"1.28\"", "\"1.29\"", 1);
    let path = dir.join("alibaba-cms-refund-2026.policy");
    std::fs::write(&path, &wrong).unwrap();

    let (code, stdout) = run_test(&path);
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(code, Some(1), "{stdout}");
    let fail = stdout
        .lines()
        .position(|l| l.starts_with("FAIL "))
        .unwrap_or_else(|| panic!("no FAIL line in:\n{stdout}"));
    let lines: Vec<&str> = stdout.lines().collect();
    // FAIL FILE:LINE:COL: action `refund`, example "..."
    let location = lines[fail];
    let line_number: usize = location
        .split(':')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line in {location}"));
    assert!(
        wrong
            .lines()
            .nth(line_number - 1)
            .is_some_and(|l| l.trim_start().starts_with("example")),
        "{location} does not point at an example"
    );
    assert_eq!(lines[fail + 1].trim(), "amount:");
    assert_eq!(lines[fail + 2].trim(), "expected: \"1.29\"");
    assert_eq!(lines[fail + 3].trim(), "actual:   \"1.28\"");
    assert!(stdout.trim_end().ends_with(" passed, 1 failed"), "{stdout}");
}
