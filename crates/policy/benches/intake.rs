//! Order intake: JSON text to the evaluator's input (`Policy::read_order_str`), for each shipped policy
//! on a representative order of its own (the first allowed case of `common::CASES`), and for the legacy
//! policy also on a line of the seeded generator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn intake(c: &mut Criterion) {
    let mut group = c.benchmark_group("intake");
    for name in common::POLICIES {
        let policy = common::load(name);
        let case = common::CASES
            .iter()
            .find(|case| case.policy == name)
            .unwrap();
        policy.read_order_str(case.json).unwrap();
        group.throughput(Throughput::Bytes(case.json.len() as u64));
        group.bench_function(BenchmarkId::new("read_order_str", case.id()), |b| {
            b.iter(|| black_box(&policy).read_order_str(black_box(case.json)))
        });
    }

    // A generated line with issued_at, expires_at and revoked_at: the legacy policy's widest order.
    let legacy = common::load(common::LEGACY);
    let lines = common::generate_orders(1000, 42);
    let line = std::str::from_utf8(&lines)
        .unwrap()
        .lines()
        .find(|l| l.contains("revoked_at") && l.contains("voucher"))
        .unwrap()
        .to_string();
    legacy.read_order_str(&line).unwrap();
    group.throughput(Throughput::Bytes(line.len() as u64));
    group.bench_function(
        BenchmarkId::new(
            "read_order_str",
            "alibaba-ssl-refund-legacy/generated_revoked",
        ),
        |b| b.iter(|| black_box(&legacy).read_order_str(black_box(&line))),
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = intake
}
criterion_main!(benches);
