//! Policy text: parse, check and compile (`Policy::from_source`), then what
//! `policy check`, `policy test` and `policy eval --orders` do with a policy that loads: the table
//! analysis, rendering every diagnostic, running the policy's own examples, and a two-thread batch of
//! one order (on worker threads sharing the policy).
//! Nothing may panic, abort or hang.
//!
//! The work runs on a thread with a `STACK` stack (half Rust's default for spawned threads): the
//! library's recursion must not depend on its caller's stack size, and a host may well call it from a
//! thread of its own.
//!
//! Time budget: inputs over `MAX_BYTES` are skipped (the largest shipped policy is about 28 KB; a line
//! past column 65,535 needs more than 64 KB), and `fuzz/run.sh` passes libFuzzer `-timeout=`, so a slow
//! input is reported as a timeout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy::batch::{decide_lines, BatchOptions};
use policy::eval::{run_examples, LoadError, Policy};
use policy_fuzz::{calendars, default_now, on_text_thread, render};

const MAX_BYTES: usize = 100_000;
const STACK: usize = 1024 * 1024;

fuzz_target!(|data: &[u8]| on_text_thread(data, MAX_BYTES, STACK, one));

fn one(text: &str) {
    match Policy::from_source("fuzz.policy", text, calendars()) {
        Ok(policy) => {
            for warning in policy.warnings() {
                render(warning, policy.source());
            }
            for finding in policy::analysis::analyze(&policy) {
                render(&finding.diagnostic, policy.source());
            }
            let _ = run_examples(&policy);
            if let Some(action) = policy.actions().next() {
                let mut output = Vec::new();
                let options = BatchOptions {
                    threads: 2,
                    chunk_lines: 1,
                    ..BatchOptions::default()
                };
                let input: &[u8] = b"{}\n{\"id\":\"x\"}\n";
                match decide_lines(&policy, action, default_now(), input, &mut output, options) {
                    Ok(summary) => assert_eq!(summary.lines, 2, "batch line count"),
                    Err(e) => panic!("decide_lines failed on an in-memory input: {e}"),
                }
                assert_eq!(output.iter().filter(|&&b| b == b'\n').count(), 2);
            }
        }
        Err(LoadError::Invalid { file, diagnostics }) => {
            assert!(
                diagnostics.iter().any(|d| d.is_error()),
                "a policy refused without an error diagnostic"
            );
            for d in &diagnostics {
                render(d, &file);
            }
        }
        Err(_) => {}
    }
}
