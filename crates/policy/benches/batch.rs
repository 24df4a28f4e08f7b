//! End to end: `batch::decide_lines` on 100,000 generated legacy orders held in memory (the bytes of
//! `generate_orders 100000 42`), decisions written to `io::sink()`, with one thread and with as many
//! threads as the machine has cores. Throughput is reported in orders per second.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use policy::batch::{decide_lines, BatchOptions};

const ORDERS: u64 = 100_000;

fn batch(c: &mut Criterion) {
    let policy = common::load(common::LEGACY);
    let input = common::generate_orders(ORDERS, 42);
    let default_now = common::default_now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(ORDERS));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    let mut thread_counts = vec![1];
    if cores > 1 {
        thread_counts.push(cores);
    }
    for threads in thread_counts {
        let options = BatchOptions {
            threads,
            ..BatchOptions::default()
        };
        let run = || {
            decide_lines(
                &policy,
                "refund",
                default_now,
                &input[..],
                &mut std::io::sink(),
                options,
            )
            .unwrap()
        };
        assert_eq!(run().lines, ORDERS as usize);
        group.bench_function(
            BenchmarkId::new("decide_lines/legacy_100k", format!("threads={threads}")),
            |b| b.iter(run),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = batch
}
criterion_main!(benches);
