//! Folder walking by `policy check` and `policy test`: links to folders are followed, each folder is
//! walked once by its canonical path, and each file is listed once, so a folder with link loops is
//! walked in time and nothing is counted twice.
#![cfg(unix)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const POLICY: &str = "policies/huawei-scm-unsubscribe.policy";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary, failing (rather than hanging the test run) if it takes over a minute.
fn run_in_time(args: &[&str], path: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(args)
        .arg(path)
        .current_dir(manifest())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the policy binary starts");
    let start = Instant::now();
    while child.try_wait().expect("the child").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            panic!("policy {args:?} did not end within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("its output")
}

/// A folder holding one policy, with links back up the tree, across it and to the policy itself:
/// `root/a.policy`, `root/sub/b.policy`, `root/sub/up -> ..`, `root/sub/self -> .`,
/// `root/sub/loop -> ../sub`, `root/alias -> sub`, `root/sub/b-again.policy -> b.policy`.
fn tree(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("policy-walk-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&root).ok();
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let text = common::standalone(&std::fs::read_to_string(manifest().join(POLICY)).unwrap());
    std::fs::write(root.join("a.policy"), &text).unwrap();
    // A name of its own: one folder's policies are a set, where two files of one name must be versions.
    let renamed = text.replacen(
        "\npolicy huawei-scm-unsubscribe\n",
        "\npolicy huawei-scm-unsubscribe-b\n",
        1,
    );
    assert_ne!(renamed, text);
    std::fs::write(root.join("sub/b.policy"), renamed).unwrap();
    symlink("..", root.join("sub/up")).unwrap();
    symlink(".", root.join("sub/self")).unwrap();
    symlink("../sub", root.join("sub/loop")).unwrap();
    symlink("sub", root.join("alias")).unwrap();
    symlink("b.policy", root.join("sub/b-again.policy")).unwrap();
    root
}

#[test]
fn check_walks_a_folder_with_link_loops_once() {
    let root = tree("check");
    let output = run_in_time(&["check"], &root);
    std::fs::remove_dir_all(&root).ok();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("checked 2 files: 0 errors"), "{stderr}");
}

#[test]
fn test_counts_each_policy_once() {
    let once = run_in_time(&["test"], &manifest().join(POLICY));
    let once = String::from_utf8_lossy(&once.stdout).into_owned();
    let per_file: usize = once
        .trim_end()
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("closing line: {once}"));

    let root = tree("test");
    let output = run_in_time(&["test"], &root);
    std::fs::remove_dir_all(&root).ok();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        stdout.trim_end(),
        format!("{} passed, 0 failed", 2 * per_file),
        "{stdout}"
    );
}

/// A file named twice on the command line, or by two paths, is checked once.
#[test]
fn a_file_given_twice_is_checked_once() {
    let root = tree("twice");
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .arg("check")
        .arg(root.join("a.policy"))
        .arg(root.join("sub/../a.policy"))
        .arg(root.join("sub/b.policy"))
        .arg(root.join("sub/b-again.policy"))
        .output()
        .expect("the policy binary runs");
    std::fs::remove_dir_all(&root).ok();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("checked 2 files"), "{stderr}");
}

/// A FIFO named `*.policy` in a folder is not a policy file: walking the folder neither blocks on it
/// nor lists it.
#[test]
fn a_fifo_in_a_folder_is_not_read() {
    let dir = std::env::temp_dir().join(format!("policy-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("pipe.policy");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo here: nothing to test");
        return;
    }
    let files = policy::files::policy_files(std::slice::from_ref(&dir)).unwrap();
    assert!(files.is_empty(), "{files:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
