//! Sharing one `Policy` between threads: 1, 2 and 4 threads each decide the same 10,000 generated
//! legacy orders (read once, before timing) with the same `&Policy`. Throughput is decisions per second
//! over all threads; with no contention on the hot path it grows with the threads up to the cores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use policy::Order;

const ORDERS: u64 = 10_000;

fn shared_policy(c: &mut Criterion) {
    let policy = common::load(common::LEGACY);
    let lines = common::generate_orders(ORDERS, 42);
    let orders: Vec<Order> = std::str::from_utf8(&lines)
        .unwrap()
        .lines()
        .filter_map(|line| policy.read_order_str(line).ok())
        .collect();
    let now = common::default_now();

    let mut group = c.benchmark_group("threads");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for threads in [1u64, 2, 4] {
        group.throughput(Throughput::Elements(threads * orders.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iterations| {
                    let started = Instant::now();
                    std::thread::scope(|scope| {
                        for _ in 0..threads {
                            scope.spawn(|| {
                                for _ in 0..iterations {
                                    for order in &orders {
                                        let decision = policy.decide("refund", order, now);
                                        std::hint::black_box(decision.ok());
                                    }
                                }
                            });
                        }
                    });
                    started.elapsed()
                });
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = shared_policy
}
criterion_main!(benches);
