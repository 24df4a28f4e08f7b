//! Deciding JSON Lines in bulk: output line k answers input line k, an order that cannot be decided
//! yields an error record in its place, and the work is spread over threads while the output keeps the
//! input's order. Memory stays flat whatever the input's length: at most a few chunks of lines are in
//! flight at once.
//!
//! The calling thread reads and writes (so neither side needs to be `Send`); worker threads decide
//! whole chunks. With one thread, chunks are decided in place, through the same function, so the output
//! is the same byte for byte.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::eval::{Order, Policy};

#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// Worker threads; 1 decides on the calling thread.
    pub threads: usize,
    /// Lines per unit of work.
    pub chunk_lines: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_lines: 2048,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub lines: usize,
    /// Lines answered with an error record.
    pub errors: usize,
}

/// A run of input lines: their bytes, where each ends, and the number of the first.
struct Chunk {
    sequence: u64,
    first_line: usize,
    text: Vec<u8>,
    ends: Vec<usize>,
}

struct Decided {
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
    mut input: impl BufRead,
    output: &mut impl Write,
    options: BatchOptions,
) -> io::Result<BatchSummary> {
    let mut summary = BatchSummary::default();
    let mut next_line = 1;
    let mut sequence = 0;
    let mut read_chunk = |input: &mut dyn BufRead| -> io::Result<Option<Chunk>> {
        let mut chunk = Chunk {
            sequence,
            first_line: next_line,
            text: Vec::with_capacity(options.chunk_lines * 256),
            ends: Vec::with_capacity(options.chunk_lines),
        };
        while chunk.ends.len() < options.chunk_lines.max(1) {
            if input.read_until(b'\n', &mut chunk.text)? == 0 {
                break;
            }
            chunk.ends.push(chunk.text.len());
        }
        if chunk.ends.is_empty() {
            return Ok(None);
        }
        next_line += chunk.ends.len();
        sequence += 1;
        Ok(Some(chunk))
    };

    if options.threads <= 1 {
        let mut order = Order::default();
        while let Some(chunk) = read_chunk(&mut input)? {
            let decided = decide_chunk(policy, action, default_now, &chunk, &mut order);
            output.write_all(&decided.output)?;
            summary.lines += decided.lines;
            summary.errors += decided.errors;
        }
        return Ok(summary);
    }

    let max_in_flight = options.threads * 2;
    std::thread::scope(|scope| {
        let (work_sender, work_receiver) = mpsc::sync_channel::<Chunk>(max_in_flight);
        let work_receiver = Arc::new(Mutex::new(work_receiver));
        let (done_sender, done_receiver) = mpsc::channel::<Decided>();
        for _ in 0..options.threads {
            let work = Arc::clone(&work_receiver);
            let done = done_sender.clone();
            scope.spawn(move || {
                let policy = &policy.fork();
                let mut order = Order::default();
                loop {
                    let next = match work.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    let Ok(chunk) = next else { return };
                    if done
                        .send(decide_chunk(
                            policy,
                            action,
                            default_now,
                            &chunk,
                            &mut order,
                        ))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(done_sender);

        let mut pending: BTreeMap<u64, Decided> = BTreeMap::new();
        let mut next_to_write = 0u64;
        let mut in_flight = 0usize;
        let mut write_ready =
            |pending: &mut BTreeMap<u64, Decided>, in_flight: &mut usize| -> io::Result<()> {
                while let Some(decided) = pending.remove(&next_to_write) {
                    output.write_all(&decided.output)?;
                    summary.lines += decided.lines;
                    summary.errors += decided.errors;
                    next_to_write += 1;
                    *in_flight -= 1;
                }
                Ok(())
            };
        let worker_gone = || io::Error::other("a worker thread stopped unexpectedly");
        while let Some(chunk) = read_chunk(&mut input)? {
            work_sender.send(chunk).map_err(|_| worker_gone())?;
            in_flight += 1;
            while let Ok(decided) = done_receiver.try_recv() {
                pending.insert(decided.sequence, decided);
            }
            write_ready(&mut pending, &mut in_flight)?;
            while in_flight >= max_in_flight {
                let decided = done_receiver.recv().map_err(|_| worker_gone())?;
                pending.insert(decided.sequence, decided);
                write_ready(&mut pending, &mut in_flight)?;
            }
        }
        drop(work_sender);
        while in_flight > 0 {
            let decided = done_receiver.recv().map_err(|_| worker_gone())?;
            pending.insert(decided.sequence, decided);
            write_ready(&mut pending, &mut in_flight)?;
        }
        Ok(summary)
    })
}

/// Decides the lines of one chunk into their output lines.
fn decide_chunk(
    policy: &Policy,
    action: &str,
    default_now: crate::time::Instant,
    chunk: &Chunk,
    order: &mut Order,
) -> Decided {
    let mut output = Vec::with_capacity(chunk.text.len() * 3);
    let mut errors = 0;
    let mut start = 0;
    for (i, &end) in chunk.ends.iter().enumerate() {
        let line_number = chunk.first_line + i;
        let bytes = &chunk.text[start..end];
        start = end;
        let line = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let result = match std::str::from_utf8(line) {
            Err(_) => Err((None, "the line is not valid UTF-8".to_string())),
            Ok(text) if text.trim().is_empty() => {
                Err((None, "blank line: expected a JSON object".to_string()))
            }
            Ok(text) => policy
                .read_order_into(text, order)
                .and_then(|()| policy.decide(action, order, default_now))
                .map_err(|e| {
                    (
                        e.order().map(str::to_string).or_else(|| string_id(text)),
                        e.to_string(),
                    )
                }),
        };
        let written = match result {
            Ok(decision) => {
                decision.write_json(&mut output);
                Ok(())
            }
            Err((order_id, message)) => {
                errors += 1;
                let record = crate::eval::ErrorRecord {
                    order: order_id.as_deref(),
                    line: Some(line_number),
                    error: &message,
                };
                serde_json::to_writer(&mut output, &record)
            }
        };
        if written.is_err() {
            // Serializing into memory fails only on a bug; keep the line's place all the same.
            output.extend_from_slice(
                br#"{"order":null,"error":"internal error: the decision could not be written"}"#,
            );
        }
        output.push(b'\n');
    }
    Decided {
        sequence: chunk.sequence,
        output,
        lines: chunk.ends.len(),
        errors,
    }
}

/// The string `id` of a line that is a JSON object but not a valid order, if it has one.
fn string_id(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value.get("id")?.as_str().map(str::to_string)
}
