//! Deciding a batch on worker threads (feature `threads`): the calling thread reads chunks and writes
//! their answers in input order; workers decide whole chunks.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use super::{decide_chunk_safely, sequential, BatchError, BatchSummary, Chunk, Decided, Limits};

/// A worker thread's stack: the main thread's usual size, so that a worker decides whatever the calling
/// thread would.
const WORKER_STACK_BYTES: usize = 8 << 20;

/// Decides chunks on `threads` worker threads while the calling thread reads and writes in order.
pub(super) fn parallel<F, D>(
    mut input: impl BufRead,
    output: &mut impl Write,
    mut read_chunk: impl FnMut(&mut dyn BufRead) -> io::Result<Option<Chunk>>,
    make_decider: &F,
    threads: usize,
    limits: Limits,
) -> Result<BatchSummary, BatchError>
where
    F: Fn() -> D + Sync,
    D: FnMut(usize, &[u8], &mut Vec<u8>) -> bool,
{
    let mut summary = BatchSummary {
        threads: 1,
        ..BatchSummary::default()
    };
    let max_in_flight = threads * 2;
    std::thread::scope(|scope| {
        let (work_sender, work_receiver) = mpsc::sync_channel::<Chunk>(max_in_flight);
        let work_receiver = Arc::new(Mutex::new(work_receiver));
        let (done_sender, done_receiver) = mpsc::channel::<Decided>();
        let mut started = 0;
        for i in 0..threads {
            if i >= limits.spawnable {
                break;
            }
            let work = Arc::clone(&work_receiver);
            let done = done_sender.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("policy-batch-{i}"))
                .stack_size(WORKER_STACK_BYTES)
                .spawn_scoped(scope, move || worker(&work, &done, make_decider));
            match spawned {
                Ok(_) => started += 1,
                // The system refuses more threads: decide with those it gave.
                Err(_) => break,
            }
        }
        // Only the workers hold these now: if every worker is gone, sending and receiving fail rather
        // than wait for good.
        drop(work_receiver);
        drop(done_sender);
        if started == 0 {
            return sequential(
                &mut input,
                output,
                &mut read_chunk,
                make_decider,
                &mut summary,
            )
            .map(|()| summary);
        }
        summary.threads = started;
        let max_in_flight = started * 2;

        let mut pending: BTreeMap<u64, Decided> = BTreeMap::new();
        let mut next_to_write = 0u64;
        let mut in_flight = 0usize;
        let mut write_ready = |pending: &mut BTreeMap<u64, Decided>,
                               in_flight: &mut usize|
         -> Result<(), BatchError> {
            while let Some(decided) = pending.remove(&next_to_write) {
                output
                    .write_all(&decided.output)
                    .map_err(BatchError::Write)?;
                summary.lines += decided.lines;
                summary.errors += decided.errors;
                next_to_write += 1;
                *in_flight -= 1;
            }
            Ok(())
        };
        let worker_gone = || BatchError::Internal("every worker thread stopped");
        while let Some(chunk) = read_chunk(&mut input).map_err(BatchError::Read)? {
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

/// A worker: takes chunks until there are none, sends back each one decided.
fn worker<F, D>(work: &Mutex<mpsc::Receiver<Chunk>>, done: &mpsc::Sender<Decided>, make_decider: &F)
where
    F: Fn() -> D,
    D: FnMut(usize, &[u8], &mut Vec<u8>) -> bool,
{
    let mut decider = None;
    loop {
        // Nothing panics while holding the lock; a poisoned lock still guards a sound receiver.
        let next = work.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(chunk) = next else { return };
        if done
            .send(decide_chunk_safely(make_decider, &mut decider, &chunk))
            .is_err()
        {
            return;
        }
    }
}
