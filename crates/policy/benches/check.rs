//! Loading: parsing, checking and compiling every shipped policy from its text
//! (`Policy::from_source`, calendars already loaded), and the rule-table analysis (`analyze`) of each;
//! then the analysis of generated tables: 500 and 1,000 rules `x == K`, 1,000 rules on an enum and a
//! count, 200 rules on two linear forms, and a table that spends the analysis's whole budget (the
//! worst case of one action). Parsing alone: expressions of about 500, 1,000 and 2,000 operators (the
//! time should double with the size; it grew fourfold before lowering stopped copying operands).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../../tests/common/generate.rs"]
mod generate;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use policy::analysis::analyze;
use policy::files::load_calendars;
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
        policy::syntax::check_syntax(&text).unwrap();
        group.bench_function(BenchmarkId::new("operators", groups * 17), |b| {
            b.iter(|| policy::syntax::check_syntax(black_box(&text)).unwrap())
        });
    }
    group.finish();
}

/// A policy with one definition, `generate::balanced_sum(groups)`.
fn wide_expression(groups: usize) -> String {
    format!(
        "policy wide\n  document \"x.txt\"\n  zone \"Asia/Shanghai\"\n\nfield n: int = 0\nlet s = {}\n",
        generate::balanced_sum(groups)
    )
}

use generate::rule_table as generated;

fn large_tables(c: &mut Criterion) {
    let equalities = |n: usize| -> Vec<String> { (1..=n).map(|k| format!("x == {k}")).collect() };
    let tiers: Vec<String> = (0..10).map(|t| format!("t{t}")).collect();
    let mut budget = String::new();
    for i in 0..20 {
        budget.push_str(&format!("field a{i}: bool\nfield b{i}: bool\n"));
    }
    budget.push_str("field x: int\nfield y: int\n");
    let mut beyond: Vec<String> = (0..20).map(|i| format!("a{i} and b{i}")).collect();
    beyond.push("x > 5 and x < 3".to_string());
    beyond.extend((0..400).map(|k| format!("y == {k}")));
    let tables = [
        (
            "x_eq_k_500",
            generated("x-500", "field x: int\n", &equalities(500)),
        ),
        (
            "x_eq_k_1000",
            generated("x-1000", "field x: int\n", &equalities(1000)),
        ),
        (
            "enum_and_count_1000",
            generated(
                "tiers",
                &format!(
                    "enum Tier {{ {} }}\nfield tier: Tier\nfield count: int\n",
                    tiers.join(", ")
                ),
                &(0..1000)
                    .map(|i| format!("tier == t{} and count == {}", i % 10, i / 10))
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "linear_200",
            generated(
                "linear",
                "field x: int\nfield y: int\n",
                &(0..200)
                    .map(|i| format!("x + y >= {} and x - y < {}", i * 3, i * 2 + 1))
                    .collect::<Vec<_>>(),
            ),
        ),
        ("whole_budget", generated("budget", &budget, &beyond)),
    ];
    let calendars = load_calendars(&common::policies_dir().join("calendars"))
        .complete()
        .unwrap();
    let mut group = c.benchmark_group("analyze_large");
    group.sample_size(10);
    for (name, text) in &tables {
        let policy = Policy::from_source(name, text, &calendars).unwrap();
        group.bench_function(*name, |b| b.iter(|| analyze(black_box(&policy))));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = check, large_tables
}
criterion_main!(benches);
