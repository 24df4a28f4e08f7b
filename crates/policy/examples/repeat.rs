//! Decides (or explains) one of the benchmark orders N times, for instruction counts under
//! `valgrind --tool=callgrind`: repeatable on a busy machine, where timings are not. The cost of one
//! decision is the difference between N and 0 repetitions, over N (`benches/RESULTS.md`).
//!
//! `cargo run --release --example repeat` lists the orders; `repeat decide|explain INDEX N` runs one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, index, count] = args.as_slice() else {
        for (index, case) in common::CASES.iter().enumerate() {
            println!("{index} {}", case.id());
        }
        return;
    };
    let case = &common::CASES[index.parse::<usize>().unwrap()];
    let count: usize = count.parse().unwrap();
    let policy = common::load(case.policy);
    let order = policy.read_order_str(case.json).unwrap();
    let now = common::default_now();
    match mode.as_str() {
        "decide" => {
            // Once before counting, so that what is computed on first use is out of the difference.
            black_box(policy.decide(case.action, &order, now).unwrap());
            for _ in 0..count {
                black_box(
                    policy
                        .decide(black_box(case.action), black_box(&order), now)
                        .unwrap(),
                );
            }
        }
        "explain" => {
            black_box(policy.explain(case.action, &order, now).unwrap());
            for _ in 0..count {
                black_box(
                    policy
                        .explain(black_box(case.action), black_box(&order), now)
                        .unwrap(),
                );
            }
        }
        other => panic!("`{other}`: say decide or explain"),
    }
}
