//! The lossless tree (`policy::syntax::tree`, the `policy-syntax` crate) against the engine's pest
//! parser: over every policy file of the repository and over damaged copies of them, the tree gives the
//! text back byte for byte, and the new parser accepts exactly the texts the engine's grammar accepts,
//! reporting its first error on the same line. Parsing never panics, whatever the input.

use std::path::{Path, PathBuf};

use policy::syntax::tree as syntax;
use proptest::prelude::*;

/// Every policy file of the repository with its text, read once.
fn corpus() -> &'static [(PathBuf, String)] {
    static CORPUS: std::sync::OnceLock<Vec<(PathBuf, String)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(read_corpus)
}

fn read_corpus() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folders = ["policies", "examples/policies", "tests/cases"].map(|f| root.join(f));
    let files = policy::files::policy_files(&folders).unwrap_or_default();
    assert!(files.len() > 100, "the corpus is missing: {}", files.len());
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            (p, text)
        })
        .collect()
}

/// The engine's grammar verdict: `None` when pest accepts the text, else the line of its first syntax
/// error. Errors of lowering (a bad escape, an expression too deep for the checker) come after the
/// grammar accepted the text, and are not syntax errors of the tree.
fn engine(text: &str) -> Option<usize> {
    let diagnostics = policy::syntax::check_syntax(text).err()?;
    let grammar = diagnostics.iter().find(|d| {
        d.code == "policy::parse::syntax"
            || d.code == "policy::parse::too_large"
            || (d.code == "policy::parse::too_deep" && !d.message.starts_with("this expression"))
    })?;
    Some(line(text, grammar.span.start as usize))
}

fn tree(text: &str) -> Option<usize> {
    let parsed = syntax::parse(text);
    assert_eq!(parsed.root.text(text), text, "the tree lost text");
    parsed.errors.first().map(|e| line(text, e.start))
}

fn line(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |t| t.matches('\n').count() + 1)
}

#[test]
fn every_policy_file_parses_alike_and_losslessly() {
    let mut rejected = 0;
    for (path, text) in corpus() {
        let (engine, tree) = (engine(text), tree(text));
        assert_eq!(
            tree.is_some(),
            engine.is_some(),
            "{}: tree {tree:?}, engine {engine:?}",
            path.display()
        );
        if engine.is_some() {
            rejected += 1;
        }
    }
    assert!(rejected >= 5, "the syntax error cases are missing");
}

#[test]
fn every_error_of_the_several_errors_case() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases/check/err/syntax_several_errors.policy");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tree: Vec<usize> = syntax::parse(&text)
        .errors
        .iter()
        .map(|e| line(&text, e.start))
        .collect();
    let engine: Vec<usize> = policy::syntax::check_syntax(&text)
        .err()
        .unwrap_or_default()
        .iter()
        .map(|d| line(&text, d.span.start as usize))
        .collect();
    assert_eq!(tree, engine);
    assert_eq!(tree.len(), 4);
}

/// A damaged copy of a corpus file: a span deleted, or a fragment inserted.
fn damage(text: &str, at: usize, len: usize, insert: &str) -> String {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut end = (at + len).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{insert}{}", &text[..at], &text[end..])
}

const FRAGMENTS: [&str; 16] = [
    "", "{", "}", "(", ")", "\"", "#", "\n", " and ", "rule", "then", "if ", "-", "order {", "7 x",
    "at least",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_parse_alike_and_losslessly(file in 0usize..1000, at in 0usize..100_000, len in 0usize..12, fragment in 0usize..FRAGMENTS.len()) {
        let files = corpus();
        let (path, text) = &files[file % files.len()];
        let damaged = damage(text, at, len, FRAGMENTS[fragment]);
        let (engine, tree) = (engine(&damaged), tree(&damaged));
        prop_assert_eq!(tree.is_some(), engine.is_some(), "{}: tree {:?}, engine {:?}\n{}", path.display(), tree, engine, damaged);
    }

    #[test]
    fn any_text_parses_losslessly(text in "\\PC{0,200}") {
        tree(&text);
        let _ = syntax::format(&text);
    }

    #[test]
    fn policy_shaped_garbage_parses_losslessly(words in proptest::collection::vec(
        prop_oneof![
            Just("policy p\n"), Just("action a {"), Just("}"), Just("rule r"), Just("when"), Just("then allowed"),
            Just("("), Just(")"), Just("x"), Just("and"), Just("\"s\""), Just("# c\n"), Just("example \"e\" {"),
            Just("order {\"a\": [1]}"), Just("1.5"), Just("calendar days"), Just("if"), Just("else"), Just("\n"),
            Just("policy a-2026-01-01\n"), Just("policy a-1.5"), Just("2026-01-01"), Just("2026-01-01T00:00:00Z"),
            Just("at least"), Just("more than"), Just("within"), Just("after"), Just("7 x 24 hours"), Just("not in"),
            Just("in"), Just("{a, \"b\",}"), Just("rounded half_up to 0.01"), Just("enum order {"), Just("action expect {"),
            Just("order {"), Just("expect"), Just("]"), Just("["), Just("requires [a,]"), Just("default amount ="),
            Just("because \"a\" \"b\" cite \"c\" in \"d\""), Just("f(x, 1)"), Just("-"), Just("=="), Just(","),
            Just("field a: int? = 1"), Just("let"), Just("steps { a }"), Just("effective from 2026-01-01 by x"),
            Just("minor_units \"JPY\" 0"), Just("unique"), Just("5days"), Just("at"), Just("\"open"),
        ],
        0..60,
    )) {
        let text = words.join(" ");
        let (engine, tree) = (engine(&text), tree(&text));
        prop_assert_eq!(tree.is_some(), engine.is_some(), "tree {:?}, engine {:?}\n{}", tree, engine, text);
        if tree.is_none() {
            let formatted = syntax::format(&text);
            prop_assert!(formatted.is_ok());
        }
    }
}
