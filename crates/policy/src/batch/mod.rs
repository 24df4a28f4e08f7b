//! Deciding JSON Lines in bulk: output line k answers input line k, an order that cannot be decided
//! yields an error record in its place, and the work is spread over threads while the output keeps the
//! input's order. Memory stays flat whatever the input's length: at most a few chunks of lines are in
//! flight at once, and no line longer than [`MAX_LINE_BYTES`] is ever held in memory.
//!
//! The calling thread reads and writes (so neither side needs to be `Send`); worker threads decide
//! whole chunks. With one thread, chunks are decided in place, through the same function, so the output
//! is the same byte for byte.
//!
//! Nothing is lost and nothing hangs, whatever a line does to the evaluator: a chunk whose deciding
//! panics is decided again line by line, each line on its own, so that only the line that panics gets an
//! "internal error" record in its place and every other line is decided as usual.

#[cfg(feature = "threads")]
mod parallel;

use std::any::Any;
use std::io::{self, BufRead, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::eval::{Order, Policy};
use crate::versions::Versions;

/// The most worker threads a batch uses; more are capped to this.
pub const MAX_THREADS: usize = 256;

/// The longest order line, in bytes before its newline (a `\r` before it counts). A longer line is not
/// read into memory: it is answered with an error record at its line.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A chunk stops taking lines once it holds this many bytes, so that long lines do not make chunks huge.
const CHUNK_BYTES: usize = 1 << 20;

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// How a batch is decided.
#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// Worker threads (at most [`MAX_THREADS`]); 1 decides on the calling thread, as does any number
    /// without the `threads` feature.
    pub threads: usize,
    /// Lines per unit of work.
    pub chunk_lines: usize,
    /// Each decision with its explanation as `trace` ([`crate::Explanation::traced_at_line`], what
    /// `policy eval --explain` writes): an explanation costs tens of microseconds, a hundred times a
    /// decision. A line that is not text or is blank still gets a plain error record.
    pub trace: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            threads: if cfg!(feature = "threads") {
                std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(MAX_THREADS)
            } else {
                1
            },
            chunk_lines: 2048,
            trace: false,
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Lines answered (every line of the input).
    pub lines: usize,
    /// Lines answered with an error record.
    pub errors: usize,
    /// Threads that decided: the workers that could be started (fewer than asked when the system
    /// refuses more), or 1 when the calling thread decided.
    pub threads: usize,
}

/// Why a batch stopped before its end. Orders that cannot be decided are not errors here: each is
/// answered with an error record in its place.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The input failed.
    #[error("cannot read the orders: {0}")]
    Read(io::Error),
    /// The output failed (a closed pipe, a full disk).
    #[error("cannot write the decisions: {0}")]
    Write(io::Error),
    /// A bug: every worker thread stopped.
    #[error("internal error: {0}; please report it")]
    Internal(&'static str),
}

/// Where one line's bytes are in its chunk's text.
#[derive(Debug, Clone, Copy)]
enum LineSpan {
    /// The line ends (its newline included) at this offset; it starts where the previous one ended.
    Text { end: usize },
    /// Longer than the limit: not kept.
    TooLong,
}

/// A run of input lines: their bytes, where each ends, and the number of the first.
struct Chunk {
    sequence: u64,
    first_line: usize,
    text: Vec<u8>,
    lines: Vec<LineSpan>,
}

impl Chunk {
    /// Each line's number and bytes (`None`: too long), its line ending removed.
    fn lines(&self) -> impl Iterator<Item = (usize, Option<&[u8]>)> {
        let mut start = 0;
        self.lines.iter().enumerate().map(move |(i, span)| {
            let line = match *span {
                LineSpan::Text { end } => {
                    let bytes = self.text.get(start..end).unwrap_or_default();
                    start = end;
                    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                    Some(bytes.strip_suffix(b"\r").unwrap_or(bytes))
                }
                LineSpan::TooLong => None,
            };
            (self.first_line + i, line)
        })
    }
}

struct Decided {
    /// Which chunk this answers: workers finish out of order.
    #[cfg_attr(
        not(feature = "threads"),
        expect(dead_code, reason = "read by the threaded path only")
    )]
    sequence: u64,
    output: Vec<u8>,
    lines: usize,
    errors: usize,
}

/// Decides every line of `input` for `action`, writing one JSON line per input line to `output`.
pub fn decide_lines(
    policy: &Policy,
    action: &str,
    default_now: crate::time::Instant,
    input: impl BufRead,
    output: &mut impl Write,
    options: BatchOptions,
) -> Result<BatchSummary, BatchError> {
    let alone = Versions::single(std::sync::Arc::new(policy.clone()));
    decide_lines_in_force(&alone, action, default_now, input, output, options)
}

/// Like [`decide_lines`], each line decided by the version of `versions` in force for it.
pub fn decide_lines_in_force(
    versions: &Versions,
    action: &str,
    default_now: crate::time::Instant,
    input: impl BufRead,
    output: &mut impl Write,
    options: BatchOptions,
) -> Result<BatchSummary, BatchError> {
    // Every worker shares `versions`: a decision borrows from it and counts no references.
    let trace = options.trace;
    let make_decider = || {
        let mut order = Order::default();
        move |line_number: usize, line: &[u8], out: &mut Vec<u8>| {
            decide_line(
                versions,
                action,
                default_now,
                Line {
                    number: line_number,
                    bytes: line,
                    trace,
                },
                &mut order,
                out,
            )
        }
    };
    let limits = Limits {
        line_bytes: MAX_LINE_BYTES,
        spawnable: MAX_THREADS,
    };
    run_lines(input, output, options, limits, make_decider)
}

/// Limits of a run: [`MAX_LINE_BYTES`] and [`MAX_THREADS`], smaller in tests.
#[derive(Debug, Clone, Copy)]
struct Limits {
    line_bytes: usize,
    /// Threads the system is taken to allow: tests play a system that refuses threads.
    #[cfg_attr(
        not(feature = "threads"),
        expect(dead_code, reason = "read by the threaded path only")
    )]
    spawnable: usize,
}

/// The batch machinery, whatever decides a line. `make_decider` makes a line decider: once per
/// thread, and again after a decider panics (its state is then not trusted). A decider writes one
/// line's answer (without its newline) onto the output and says whether it is an error record.
fn run_lines<F, D>(
    mut input: impl BufRead,
    output: &mut impl Write,
    options: BatchOptions,
    limits: Limits,
    make_decider: F,
) -> Result<BatchSummary, BatchError>
where
    F: Fn() -> D + Sync,
    D: FnMut(usize, &[u8], &mut Vec<u8>) -> bool,
{
    let chunk_lines = options.chunk_lines.max(1);
    let mut next_line = 1;
    let mut sequence = 0;
    let mut read_chunk = |input: &mut dyn BufRead| -> io::Result<Option<Chunk>> {
        let mut chunk = Chunk {
            sequence,
            first_line: next_line,
            text: Vec::with_capacity((chunk_lines * 256).min(CHUNK_BYTES)),
            lines: Vec::with_capacity(chunk_lines),
        };
        while chunk.lines.len() < chunk_lines && chunk.text.len() < CHUNK_BYTES {
            let start = chunk.text.len();
            let Some(span) = read_line(input, &mut chunk.text, limits.line_bytes)? else {
                break;
            };
            if next_line == 1 && chunk.lines.is_empty() {
                // A byte-order mark opening the input is no part of the first order.
                if chunk
                    .text
                    .get(start..)
                    .is_some_and(|line| line.starts_with(BYTE_ORDER_MARK))
                {
                    chunk.text.drain(start..start + BYTE_ORDER_MARK.len());
                }
            }
            chunk.lines.push(match span {
                LineSpan::Text { .. } => LineSpan::Text {
                    end: chunk.text.len(),
                },
                LineSpan::TooLong => LineSpan::TooLong,
            });
        }
        if chunk.lines.is_empty() {
            return Ok(None);
        }
        next_line += chunk.lines.len();
        sequence += 1;
        Ok(Some(chunk))
    };
    let mut summary = BatchSummary {
        threads: 1,
        ..BatchSummary::default()
    };

    // Without the `threads` feature, every batch is decided on the calling thread.
    #[cfg(feature = "threads")]
    if let threads @ 2.. = options.threads.clamp(1, MAX_THREADS) {
        return parallel::parallel(input, output, read_chunk, &make_decider, threads, limits);
    }
    sequential(
        &mut input,
        output,
        &mut read_chunk,
        &make_decider,
        &mut summary,
    )?;
    Ok(summary)
}

/// Decides every chunk on the calling thread.
fn sequential<F, D>(
    input: &mut dyn BufRead,
    output: &mut impl Write,
    read_chunk: &mut impl FnMut(&mut dyn BufRead) -> io::Result<Option<Chunk>>,
    make_decider: &F,
    summary: &mut BatchSummary,
) -> Result<(), BatchError>
where
    F: Fn() -> D,
    D: FnMut(usize, &[u8], &mut Vec<u8>) -> bool,
{
    let mut decider = None;
    while let Some(chunk) = read_chunk(input).map_err(BatchError::Read)? {
        let decided = decide_chunk_safely(make_decider, &mut decider, &chunk);
        output
            .write_all(&decided.output)
            .map_err(BatchError::Write)?;
        summary.lines += decided.lines;
        summary.errors += decided.errors;
    }
    Ok(())
}

/// Reads one line, its newline included, onto `text`; `None` at the end of the input. A line longer
/// than `max_bytes` is skipped up to and including its newline, and nothing of it is kept.
fn read_line(
    input: &mut dyn BufRead,
    text: &mut Vec<u8>,
    max_bytes: usize,
) -> io::Result<Option<LineSpan>> {
    let start = text.len();
    let limit = (max_bytes as u64).saturating_add(1);
    let read = input.take(limit).read_until(b'\n', text)?;
    if read == 0 {
        return Ok(None);
    }
    if text.last() == Some(&b'\n') || (read as u64) < limit {
        return Ok(Some(LineSpan::Text { end: text.len() }));
    }
    text.truncate(start);
    skip_line(input)?;
    Ok(Some(LineSpan::TooLong))
}

/// Consumes the input up to and including the next newline (or to its end).
fn skip_line(input: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(());
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(newline) => {
                input.consume(newline + 1);
                return Ok(());
            }
            None => {
                let all = available.len();
                input.consume(all);
            }
        }
    }
}

/// Decides a chunk; never panics, and answers every line. If deciding panics, the chunk is decided
/// again line by line, so that only a line that panics is answered with an internal-error record; if
/// even that fails, every line of the chunk is.
fn decide_chunk_safely<F, D>(make_decider: &F, decider: &mut Option<D>, chunk: &Chunk) -> Decided
where
    F: Fn() -> D,
    D: FnMut(usize, &[u8], &mut Vec<u8>) -> bool,
{
    catch_unwind(AssertUnwindSafe(|| {
        decide_chunk(make_decider, decider, chunk)
    }))
    .unwrap_or_else(|_| {
        *decider = None;
        let mut output = Vec::new();
        for (line_number, _) in chunk.lines() {
            output.extend_from_slice(
                format!(
                    "{{\"order\":null,\"line\":{line_number},\"error\":\"internal error: \
                     this line could not be decided; please report it\"}}\n"
                )
                .as_bytes(),
            );
        }
        Decided {
            sequence: chunk.sequence,
            output,
            lines: chunk.lines.len(),
            errors: chunk.lines.len(),
        }
    })
}

/// Decides a chunk at once, or line by line after a panic (see [`decide_chunk_safely`]).
fn decide_chunk<F, D>(make_decider: &F, decider: &mut Option<D>, chunk: &Chunk) -> Decided
where
    F: Fn() -> D,
    D: FnMut(usize, &[u8], &mut Vec<u8>) -> bool,
{
    let mut output = Vec::with_capacity(chunk.text.len() * 3);
    let whole = catch_unwind(AssertUnwindSafe(|| {
        let decide = decider.get_or_insert_with(make_decider);
        let mut errors = 0;
        for (line_number, line) in chunk.lines() {
            let is_error = match line {
                Some(line) => decide(line_number, line, &mut output),
                None => too_long(line_number, &mut output),
            };
            errors += usize::from(is_error);
            output.push(b'\n');
        }
        errors
    }));
    let errors = match whole {
        Ok(errors) => errors,
        Err(_) => {
            *decider = None;
            output.clear();
            let mut errors = 0;
            for (line_number, line) in chunk.lines() {
                let start = output.len();
                let answer = catch_unwind(AssertUnwindSafe(|| {
                    let decide = decider.get_or_insert_with(make_decider);
                    match line {
                        Some(line) => decide(line_number, line, &mut output),
                        None => too_long(line_number, &mut output),
                    }
                }));
                let is_error = answer.unwrap_or_else(|payload| {
                    *decider = None;
                    output.truncate(start);
                    internal_error(line_number, line, payload.as_ref(), &mut output);
                    true
                });
                errors += usize::from(is_error);
                output.push(b'\n');
            }
            errors
        }
    };
    Decided {
        sequence: chunk.sequence,
        output,
        lines: chunk.lines.len(),
        errors,
    }
}

/// One line of a batch to answer.
struct Line<'a> {
    /// Counted from 1.
    number: usize,
    bytes: &'a [u8],
    /// Whether to answer with the explanation (`BatchOptions::trace`).
    trace: bool,
}

/// Decides one line into its answer. True if the answer is an error record.
fn decide_line(
    versions: &Versions,
    action: &str,
    default_now: crate::time::Instant,
    line: Line<'_>,
    order: &mut Order,
    output: &mut Vec<u8>,
) -> bool {
    let line_number = line.number;
    if line.trace {
        if let Some(failed) = explain_line(versions, action, default_now, &line, output) {
            return failed;
        }
    }
    let result = match std::str::from_utf8(line.bytes) {
        Err(e) => Err((
            None,
            format!(
                "the line is not valid UTF-8 (at byte {})",
                e.valid_up_to() + 1
            ),
        )),
        Ok(text) if text.trim().is_empty() => {
            Err((None, "blank line: expected a JSON object".to_string()))
        }
        Ok(text) => versions
            .decide_text_into(action, text, order, default_now)
            .map_err(|e| {
                (
                    e.order().map(str::to_string).or_else(|| string_id(text)),
                    e.to_string(),
                )
            }),
    };
    match result {
        Ok(decision) => {
            decision.write_json(output);
            false
        }
        Err((order_id, message)) => {
            error_record(order_id, line_number, &message, output);
            true
        }
    }
}

/// A line's decision with its explanation, written to `output`: `Some(true)` when the order cannot
/// be decided; `None` when the line is no text to explain (the plain answer says why).
fn explain_line(
    versions: &Versions,
    action: &str,
    default_now: crate::time::Instant,
    line: &Line<'_>,
    output: &mut Vec<u8>,
) -> Option<bool> {
    let text = std::str::from_utf8(line.bytes)
        .ok()
        .filter(|text| !text.trim().is_empty())?;
    let explanation = versions.explain_json(action, text, default_now).ok()?;
    let traced = explanation.traced_at_line(Some(line.number));
    let start = output.len();
    if serde_json::to_writer(&mut *output, &traced).is_err() {
        // Serializing into memory fails only on a bug: the plain answer keeps the line's place.
        output.truncate(start);
        return None;
    }
    Some(explanation.decision.is_none())
}

/// The answer to a line longer than the limit.
#[cold]
fn too_long(line_number: usize, output: &mut Vec<u8>) -> bool {
    let message = format!(
        "the line is longer than {MAX_LINE_BYTES} bytes, the most one order may take: it was not read"
    );
    error_record(None, line_number, &message, output);
    true
}

/// The answer to a line whose deciding panicked: a bug, said as such, in the line's place.
#[cold]
fn internal_error(
    line_number: usize,
    line: Option<&[u8]>,
    payload: &(dyn Any + Send),
    output: &mut Vec<u8>,
) {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    let order_id = line
        .and_then(|line| std::str::from_utf8(line).ok())
        .and_then(string_id);
    let message = format!(
        "internal error: deciding this line panicked ({what}); please report it with the line"
    );
    error_record(order_id, line_number, &message, output);
}

/// Writes `{"order": ..., "line": ..., "error": ...}`.
fn error_record(order_id: Option<String>, line_number: usize, message: &str, output: &mut Vec<u8>) {
    let record = crate::eval::ErrorRecord {
        order: order_id.as_deref(),
        line: Some(line_number),
        error: message,
    };
    if serde_json::to_writer(&mut *output, &record).is_err() {
        // Serializing into memory fails only on a bug; keep the line's place all the same.
        output.extend_from_slice(
            br#"{"order":null,"error":"internal error: the decision could not be written"}"#,
        );
    }
}

/// The string `id` of a line that is a JSON object but not a valid order, if it has one.
fn string_id(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value.get("id")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn run(
        input: &[u8],
        threads: usize,
        chunk_lines: usize,
        max_line: usize,
        panics: &'static [usize],
    ) -> (String, BatchSummary) {
        run_spawning(input, threads, chunk_lines, max_line, panics, MAX_THREADS)
    }

    fn run_spawning(
        input: &[u8],
        threads: usize,
        chunk_lines: usize,
        max_line: usize,
        panics: &'static [usize],
        spawnable: usize,
    ) -> (String, BatchSummary) {
        let make = move || {
            move |n: usize, line: &[u8], out: &mut Vec<u8>| {
                out.extend_from_slice(format!("{{\"n\":{n},\"len\":{}}}", line.len()).as_bytes());
                if panics.contains(&n) {
                    panic!("injected panic on line {n}");
                }
                false
            }
        };
        let mut out = Vec::new();
        let summary = run_lines(
            Cursor::new(input),
            &mut out,
            BatchOptions {
                threads,
                chunk_lines,
                trace: false,
            },
            Limits {
                line_bytes: max_line,
                spawnable,
            },
            make,
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), summary)
    }

    /// Runs `f` on its own thread and fails, rather than hang the test run, if it does not end.
    fn ends_in_time<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(f()));
        receiver
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the batch ends")
    }

    fn input(lines: usize) -> Vec<u8> {
        (1..=lines)
            .flat_map(|n| format!("line {n}\n").into_bytes())
            .collect()
    }

    /// A panicking line gets an internal-error record in its place; every other line is answered, in
    /// order, and the run ends, whatever the thread count.
    #[test]
    fn a_panic_costs_only_its_line() {
        let panics: &'static [usize] = &[1, 7, 8, 50, 100];
        for threads in [1, 2, 4] {
            for chunk_lines in [1, 3, 64] {
                let (output, summary) =
                    ends_in_time(move || run(&input(100), threads, chunk_lines, 1000, panics));
                let lines: Vec<serde_json::Value> = output
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(
                    lines.len(),
                    100,
                    "{threads} threads, chunks of {chunk_lines}"
                );
                assert_eq!(summary.lines, 100);
                assert_eq!(summary.errors, panics.len());
                for (k, line) in lines.iter().enumerate() {
                    let n = k + 1;
                    if panics.contains(&n) {
                        assert_eq!(line["line"], n, "{line}");
                        let error = line["error"].as_str().unwrap();
                        assert!(error.starts_with("internal error"), "{error}");
                        assert!(error.contains("please report"), "{error}");
                        assert!(
                            error.contains(&format!("injected panic on line {n}")),
                            "{error}"
                        );
                    } else {
                        assert_eq!(line["n"], n, "{line}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_line_panicking_still_ends_with_every_line_answered() {
        let all: &'static [usize] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        for threads in [1, 2, 4] {
            let (output, summary) = ends_in_time(move || run(&input(10), threads, 4, 1000, all));
            assert_eq!(output.lines().count(), 10);
            assert_eq!(summary.errors, 10);
        }
    }

    #[test]
    fn too_long_lines_are_answered_in_place_and_not_kept() {
        let mut text = b"short\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 50));
        text.extend_from_slice(b"\nexactly_20_bytes_abc\nexactly_21_bytes_abcd\n");
        text.extend(std::iter::repeat_n(b'y', 25)); // the last line, too long, without a newline
        for threads in [1, 2] {
            let (output, summary) = run(&text, threads, 2, 20, &[]);
            let lines: Vec<serde_json::Value> = output
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(lines.len(), 5, "{output}");
            assert_eq!(lines[0]["len"], 5);
            assert_eq!(lines[1]["line"], 2);
            assert!(lines[1]["error"].as_str().unwrap().contains("longer than"));
            assert_eq!(lines[2]["len"], 20);
            assert_eq!(lines[3]["line"], 4);
            assert_eq!(lines[4]["line"], 5);
            assert_eq!(summary.errors, 3);
        }
    }

    #[test]
    fn a_byte_order_mark_opens_the_input_only() {
        let (output, _) = run(b"\xEF\xBB\xBFab\n\xEF\xBB\xBFcd\n", 1, 8, 100, &[]);
        assert_eq!(output, "{\"n\":1,\"len\":2}\n{\"n\":2,\"len\":5}\n");
    }

    #[test]
    fn thread_counts_are_capped() {
        let (output, summary) = run(&input(3), MAX_THREADS * 4, 1, 100, &[]);
        assert_eq!(output.lines().count(), 3);
        assert!(summary.threads <= MAX_THREADS, "{}", summary.threads);
    }

    /// When the system refuses threads, the batch goes on with those it gave, or on the calling
    /// thread if it gave none, and says how many decided.
    #[test]
    fn refused_threads_leave_fewer_workers_or_the_calling_thread() {
        let (expected, _) = run(&input(50), 1, 4, 1000, &[7]);
        for (spawnable, used) in [(0, 1), (1, 1), (2, 2)] {
            let (output, summary) = run_spawning(&input(50), 4, 4, 1000, &[7], spawnable);
            assert_eq!(output, expected, "{spawnable} threads allowed");
            assert_eq!(summary.threads, used, "{spawnable} threads allowed");
            assert_eq!(summary.errors, 1);
        }
    }

    /// Even a decider that cannot be made answers every line, in order, and the run ends.
    #[test]
    fn a_decider_that_cannot_be_made_costs_every_line_but_no_hang() {
        for threads in [1, 2, 4] {
            let (output, summary) = ends_in_time(move || {
                let make = || -> fn(usize, &[u8], &mut Vec<u8>) -> bool {
                    panic!("injected panic making a decider")
                };
                let mut out = Vec::new();
                let summary = run_lines(
                    Cursor::new(input(9)),
                    &mut out,
                    BatchOptions {
                        threads,
                        chunk_lines: 2,
                        trace: false,
                    },
                    Limits {
                        line_bytes: 100,
                        spawnable: MAX_THREADS,
                    },
                    make,
                )
                .unwrap();
                (String::from_utf8(out).unwrap(), summary)
            });
            assert_eq!(summary.errors, 9);
            for (k, line) in output.lines().enumerate() {
                let line: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(line["line"], k + 1);
                assert!(line["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("internal error"));
            }
            assert_eq!(output.lines().count(), 9);
        }
    }
}
