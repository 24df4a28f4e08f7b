//! Instruction counts per decision, for comparing two builds on a busy machine:
//! `valgrind --tool=callgrind` on `decide_count CASE N` minus `decide_count CASE 0`, over N.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "../benches/common/mod.rs"]
mod common;
use std::hint::black_box;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        for (i, c) in common::CASES.iter().enumerate() {
            println!("{i} {}", c.id());
        }
        return;
    }
    let index: usize = args[1].parse().unwrap();
    let count: usize = args[2].parse().unwrap();
    let case = &common::CASES[index];
    let policy = common::load(case.policy);
    let order = policy.read_order_str(case.json).unwrap();
    let now = common::default_now();
    let first = policy.decide(case.action, &order, now).unwrap();
    black_box(first);
    for _ in 0..count {
        black_box(
            policy
                .decide(black_box(case.action), black_box(&order), now)
                .unwrap(),
        );
    }
}
