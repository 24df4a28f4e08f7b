//! The `policy` binary when its output cannot be delivered: a reader that went away (a broken pipe)
//! stops every subcommand quietly with exit 2; any other write failure, and a closed standard output,
//! is said on standard error with exit 2; `--threads` has a documented cap.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

const LEGACY: &str = "policies/alibaba-ssl-refund-legacy.policy";
const ORDERS: &str = "examples/alibaba-ssl-refund-legacy.jsonl";
const AT: &str = "2024-12-03T10:00:00+08:00";

fn policy_cmd(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_policy"));
    command
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
    command
}

/// A pipe whose reading end is already closed: every write to it fails with a broken pipe.
fn dead_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer
}

fn assert_quiet_stop(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{what}: {output:?}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(!stderr.contains("error"), "{what}: {stderr}");
}

const EVAL: &[&str] = &["eval", "--policy", LEGACY, "--orders", ORDERS, "--at", AT];
const EVAL_1: &[&str] = &[
    "eval",
    "--policy",
    LEGACY,
    "--orders",
    ORDERS,
    "--at",
    AT,
    "--threads",
    "1",
];
const EVAL_ONE: &[&str] = &[
    "eval",
    "--policy",
    LEGACY,
    "--order",
    "tests/data/legacy-order.json",
    "--at",
    AT,
];

#[test]
fn a_reader_gone_from_stdout_stops_every_subcommand_quietly() {
    for args in [&["test", "policies"][..], EVAL, EVAL_1] {
        let output = policy_cmd(args)
            .stdout(dead_pipe())
            .stderr(Stdio::piped())
            .output()
            .expect("the policy binary runs");
        assert_quiet_stop(&output, &args.join(" "));
    }
}

#[test]
fn a_reader_gone_from_stderr_stops_check_quietly() {
    // `policy check 2>&1 | head`: both streams into the pipe, then the reader goes.
    let pipe = dead_pipe();
    let output = policy_cmd(&["check", "policies"])
        .stdout(pipe.try_clone().expect("a second end"))
        .stderr(pipe)
        .output()
        .expect("the policy binary runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    // A diagnostic of a policy that does not check goes to stderr too.
    let broken = "tests/cases/check/err/duplicate_field.policy";
    let output = policy_cmd(&["eval", "--policy", broken, "--orders", ORDERS])
        .stdout(Stdio::piped())
        .stderr(dead_pipe())
        .output()
        .expect("the policy binary runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}

/// A full disk is not a reader gone: the command says it could not write.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_is_an_error_with_exit_2() {
    for args in [&["test", "policies"][..], EVAL, EVAL_1] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let output = policy_cmd(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .expect("the policy binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: cannot write to standard output: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}

/// Help that cannot be written is no success either.
#[cfg(target_os = "linux")]
#[test]
fn help_that_cannot_be_written_is_an_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = policy_cmd(&["eval", "--help"])
        .stdout(full)
        .output()
        .expect("the policy binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
    let output = policy_cmd(&["eval", "--help"])
        .stdout(dead_pipe())
        .output()
        .expect("the policy binary runs");
    assert_quiet_stop(&output, "eval --help");
    let output = policy_cmd(&["--help"])
        .output()
        .expect("the policy binary runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: policy <COMMAND>"));
}

/// `policy eval ... >&-`: the results would vanish, so the command refuses to run.
#[cfg(unix)]
#[test]
fn a_closed_stdout_is_an_error_with_exit_2() {
    for args in [&["test", "policies"][..], EVAL, EVAL_ONE] {
        let output = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" >&-"#)
            .arg(env!("CARGO_BIN_EXE_policy"))
            .args(args)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .output()
            .expect("sh runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: standard output is closed"),
            "{args:?}: {stderr}"
        );
    }
}

/// Output sent to /dev/null on purpose (written only) is no closed stdout.
#[test]
fn stdout_redirected_to_null_runs() {
    let output = policy_cmd(&["test", "policies"])
        .stdout(Stdio::null())
        .output()
        .expect("the policy binary runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let output = policy_cmd(EVAL)
        .stdout(Stdio::null())
        .output()
        .expect("the policy binary runs");
    // The examples hold orders that cannot be decided: exit 1, not 2.
    assert_eq!(output.status.code(), Some(1), "{output:?}");
}

#[test]
fn threads_are_capped_at_256() {
    for threads in ["0", "257", "100000"] {
        let mut args = EVAL.to_vec();
        args.extend(["--threads", threads]);
        let output = policy_cmd(&args).output().expect("the policy binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{threads}: {stderr}");
        assert!(stderr.contains("1..=256"), "{threads}: {stderr}");
    }
    let mut args = EVAL.to_vec();
    args.extend(["--threads", "256"]);
    let many = policy_cmd(&args).output().expect("the policy binary runs");
    let one = policy_cmd(EVAL_1).output().expect("the policy binary runs");
    assert_eq!(many.status.code(), Some(1), "{many:?}");
    assert_eq!(many.stdout, one.stdout);
}
