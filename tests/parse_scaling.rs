//! Parsing grows linearly with the text. Lowering used to copy the whole left operand at every infix
//! operator, so a chain of N operators cost N² (21/68/230 ms at 500/1,000/2,000 operators). Timings
//! belong in a benchmark (`benches/check.rs`, `parse`); here the work is counted instead, as heap
//! allocations on this thread (the counting allocator of the `allocation-counter` dev-dependency): twice
//! the text must cost twice the allocations, give or take a few percent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use policy::syntax::{check_syntax as parse, MAX_EXPR_DEPTH};

fn allocations(text: &str) -> i64 {
    parse(text).expect("the text parses");
    let info = allocation_counter::measure(|| {
        std::hint::black_box(parse(text)).unwrap();
    });
    info.count_total as i64
}

fn header() -> String {
    "policy scaling\n  document \"x.txt\"\n  zone \"Asia/Shanghai\"\n\nfield n: int = 0\nfield t: bool = true\n"
        .to_string()
}

/// `(a(m) - a(0)) / (a(m / 2) - a(0))`: 2 when the cost is linear in `m`.
fn growth(a: impl Fn(usize) -> i64, m: usize) -> f64 {
    let base = a(0);
    (a(m) - base) as f64 / (a(m / 2) - base) as f64
}

#[test]
fn a_chain_of_operators_costs_linearly_in_its_length() {
    // One chain of `len` additions.
    let chain = |len: usize| {
        let terms = vec!["n"; len + 1].join(" + ");
        allocations(&format!("{}let s = {terms}\n", header()))
    };
    let g = growth(chain, MAX_EXPR_DEPTH);
    assert!(
        (1.8..=2.1).contains(&g),
        "doubling the chain multiplied the cost by {g:.2}"
    );
    let and = |len: usize| {
        let terms = vec!["t"; len + 1].join(" and ");
        allocations(&format!("{}let s = {terms}\n", header()))
    };
    let g = growth(and, MAX_EXPR_DEPTH);
    assert!(
        (1.8..=2.1).contains(&g),
        "doubling the chain multiplied the cost by {g:.2}"
    );
}

#[test]
fn a_wide_expression_costs_linearly_in_its_size() {
    // `groups` parenthesised chains of 16 additions, added together in a balanced tree: 17 operators
    // per group, each group at most 16 + log2(groups) deep.
    let wide = |groups: usize| {
        let expr = if groups == 0 {
            "n".to_string()
        } else {
            common::generate::balanced_sum(groups)
        };
        allocations(&format!("{}let s = {expr}\n", header()))
    };
    let g = growth(wide, 128);
    assert!(
        (1.8..=2.1).contains(&g),
        "doubling the expression multiplied the cost by {g:.2}"
    );
}

#[test]
fn many_declarations_cost_linearly_in_their_number() {
    let many = |count: usize| {
        let lets: String = (0..count)
            .map(|i| format!("let s{i} = n + n * 2 - n / 3 > 4 and not t or t\n"))
            .collect();
        allocations(&format!("{}{lets}", header()))
    };
    let g = growth(many, 400);
    assert!(
        (1.8..=2.1).contains(&g),
        "doubling the declarations multiplied the cost by {g:.2}"
    );
}
