//! Loading: parsing, checking and compiling every shipped policy from its text
//! (`Policy::from_source`, calendars already loaded), and the rule-table analysis (`analyze`) of each.

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
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = check
}
criterion_main!(benches);
