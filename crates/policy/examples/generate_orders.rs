//! Writes a seeded, reproducible JSON Lines file of orders for the Alibaba legacy refund policy, for
//! benchmarks and batch tests: mostly valid orders across every table row, and about 1% invalid ones.
//!
//! cargo run --release --example generate_orders -- COUNT [SEED] > orders.jsonl

use std::io::{BufWriter, Write};

#[path = "support/order_generator.rs"]
mod order_generator;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let out = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, out.lock());
    order_generator::write_orders(&mut out, count, seed)?;
    out.flush()
}
