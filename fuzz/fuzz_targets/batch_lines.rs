//! Batch lines: `policy::batch::decide_lines` over the input as JSON Lines, with 1 thread and, when the
//! first byte's high bit is set, with 2 threads too (small chunks, so several are in flight). The first
//! byte's low 7 bits pick the (policy, action) pair (`policy_fuzz::ACTIONS`); the rest is the orders
//! file.
//!
//! Output line k answers input line k: exactly as many output lines as input lines, each valid JSON,
//! and the same bytes whatever the thread count.
//!
//! Why not 2 threads on every input: starting worker threads under coverage instrumentation and ASan
//! costs more than deciding a few lines, and would slow the whole target. `seed.sh` seeds both kinds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy::batch::{decide_lines, BatchOptions};
use policy_fuzz::{default_now, shipped};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let (policy, action) = shipped(selector & 0x7f);
    let thread_counts: &[usize] = if selector & 0x80 != 0 { &[1, 2] } else { &[1] };
    // What `BufRead::read_until(b'\n')` splits into: every `\n` ends a line, and a last line may lack it.
    let input_lines = input.iter().filter(|&&b| b == b'\n').count()
        + usize::from(input.last().is_some_and(|&b| b != b'\n'));
    let mut outputs = Vec::new();
    for &threads in thread_counts {
        let mut output = Vec::new();
        let options = BatchOptions {
            threads,
            chunk_lines: 3,
            ..BatchOptions::default()
        };
        let summary = match decide_lines(policy, action, default_now(), input, &mut output, options)
        {
            Ok(summary) => summary,
            Err(e) => panic!("decide_lines failed on an in-memory input: {e}"),
        };
        assert_eq!(
            summary.lines, input_lines,
            "summary line count, {threads} thread(s)"
        );
        let text = match std::str::from_utf8(&output) {
            Ok(text) => text,
            Err(e) => panic!("output is not UTF-8 ({e}), {threads} thread(s)"),
        };
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "output does not end with a newline"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            input_lines,
            "output line count, {threads} thread(s)"
        );
        for line in &lines {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
                panic!("output line is not JSON ({e}): {line}");
            }
        }
        outputs.push(output);
    }
    assert!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "1 and 2 threads wrote different output"
    );
});
