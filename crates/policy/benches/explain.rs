//! One explanation (`Policy::explain`, its order already read): every rule tried with its atoms'
//! values, the deciding rule's attributes step by step, and the timeline; for an order of the legacy
//! table and one of the CMS policy. Issue 11 asks for under 50 us each. The decision path without
//! explaining is `benches/decide.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use common::{Case, CASES, LEGACY};

/// The CMS policy's GRCQ document example: the amount computed step by step.
const CMS: &str = "alibaba-cms-refund-2026";
const GRCQ: &str = r#"{"id":"doc-grcq","paid_at":"2026-03-01T10:00:00+08:00","requested_at":"2026-03-08T10:59:59-05:00","price":"1.6","service":"https_gateway","domain_added_at":"2026-03-02T09:00:00+08:00","grcq_total":300,"grcq_consumed":60}"#;

fn explain(c: &mut Criterion) {
    let default_now = common::default_now();
    let mut group = c.benchmark_group("explain");
    let legacy: &Case = CASES
        .iter()
        .find(|case| case.policy == LEGACY && case.outcome() == "conditional")
        .expect("a conditional legacy case");
    for (name, action, id, json) in [
        (LEGACY, legacy.action, legacy.id(), legacy.json),
        (CMS, "refund", "cms/refund/grcq".to_string(), GRCQ),
    ] {
        let policy = common::load(name);
        let order = policy
            .read_order(&serde_json::from_str(json).unwrap())
            .unwrap();
        let explanation = policy.explain(action, &order, default_now).unwrap();
        assert!(explanation.decision.is_some(), "{id}");
        group.bench_function(BenchmarkId::new("policy", id), |b| {
            b.iter(|| black_box(&policy).explain(black_box(action), black_box(&order), default_now))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = explain
}
criterion_main!(benches);
