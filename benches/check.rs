//! Loading: parsing, checking and compiling every shipped policy from its text
//! (`Policy::from_source`, calendars already loaded), and the rule-table analysis (`analyze`) of each.
//! Parsing alone: expressions of about 500, 1,000 and 2,000 operators (the time should double with the
//! size; it grew fourfold before lowering stopped copying operands).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use policy::analysis::analyze;
use policy::eval::load_calendars;
use policy::Policy;

fn check(c: &mut Criterion) {
    let calendars = load_calendars(&common::policies_dir().join("calendars"))
        .complete()
        .unwrap();
    let sources: Vec<(&str, String)> = common::POLICIES
        .iter()
        .map(|name| {
            (
                *name,
                std::fs::read_to_string(common::policy_path(name)).unwrap(),
            )
        })
        .collect();

    let mut group = c.benchmark_group("check");
    for (name, text) in &sources {
        Policy::from_source(name, text, &calendars).unwrap();
        group.bench_function(BenchmarkId::new("from_source", name), |b| {
            b.iter(|| Policy::from_source(name, black_box(text), &calendars).unwrap())
        });
    }
    group.bench_function("from_source/all", |b| {
        b.iter(|| {
            for (name, text) in &sources {
                black_box(Policy::from_source(name, black_box(text), &calendars).unwrap());
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("analyze");
    let policies: Vec<(&str, Policy)> = sources
        .iter()
        .map(|(name, text)| (*name, Policy::from_source(name, text, &calendars).unwrap()))
        .collect();
    for (name, policy) in &policies {
        group.bench_function(BenchmarkId::new("analyze", name), |b| {
            b.iter(|| analyze(black_box(policy)))
        });
    }
    group.bench_function("analyze/all", |b| {
        b.iter(|| {
            for (_, policy) in &policies {
                black_box(analyze(black_box(policy)));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("parse");
    for groups in [32, 64, 128] {
        let text = wide_expression(groups);
        policy::syntax::parse(&text).unwrap();
        group.bench_function(BenchmarkId::new("operators", groups * 17), |b| {
            b.iter(|| policy::syntax::parse(black_box(&text)).unwrap())
        });
    }
    group.finish();
}

/// A policy with one definition: `groups` parenthesised chains of 16 additions, added together in a
/// balanced tree (17 operators per group; within the depth and nesting limits).
fn wide_expression(groups: usize) -> String {
    let mut parts: Vec<String> = (0..groups)
        .map(|_| format!("({})", vec!["n"; 17].join(" + ")))
        .collect();
    while parts.len() > 1 {
        parts = parts
            .chunks(2)
            .map(|pair| format!("({})", pair.join(" + ")))
            .collect();
    }
    format!(
        "policy wide\n  document \"x.txt\"\n  zone \"Asia/Shanghai\"\n\nfield n: int = 0\nlet s = {}\n",
        parts.remove(0)
    )
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = check
}
criterion_main!(benches);
