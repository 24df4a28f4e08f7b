//! Every `.policy` file of the repository parses without an error node (the checker's error cases in
//! `tests/cases/check/err/` excepted: they are meant to be wrong), the queries compile against the
//! grammar, and the generated parser is that of `grammar.js` as it is.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test")]

use std::path::{Path, PathBuf};

use tree_sitter::{Language, Parser, Query};

fn language() -> Language {
    tree_sitter_policy::LANGUAGE.into()
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policy_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if [".git", "target", "node_modules"]
            .iter()
            .any(|skip| name == *skip)
        {
            continue;
        }
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            policy_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "policy") {
            out.push(path);
        }
    }
}

/// The first error or missing node's position and kind.
fn first_error(node: tree_sitter::Node<'_>) -> Option<String> {
    if node.is_error() || node.is_missing() {
        let p = node.start_position();
        return Some(format!(
            "{}:{}: {}",
            p.row + 1,
            p.column + 1,
            node.to_sexp()
        ));
    }
    let mut cursor = node.walk();
    let children: Vec<_> = node.children(&mut cursor).collect();
    children.into_iter().find_map(first_error)
}

#[test]
fn every_policy_of_the_repository_parses() {
    let root = repository();
    let mut files = Vec::new();
    policy_files(&root, &mut files);
    files.sort();
    let mut parser = Parser::new();
    parser.set_language(&language()).unwrap();
    let (mut passed, mut failed, mut wrong) = (0, 0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let tree = parser.parse(&text, None).expect("a tree for any text");
        let name = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if name.starts_with("tests/cases/check/err/") {
            wrong += 1;
            continue;
        }
        match first_error(tree.root_node()) {
            None => passed += 1,
            Some(error) => {
                failed += 1;
                println!("FAIL {name}: {error}");
            }
        }
    }
    println!("{passed} passed, {failed} failed ({wrong} error cases parsed without a check)");
    assert!(passed >= 80, "too few files found under {}", root.display());
    assert_eq!(failed, 0);
}

#[test]
fn a_broken_text_has_an_error_node() {
    let mut parser = Parser::new();
    parser.set_language(&language()).unwrap();
    let tree = parser.parse("policy p\nfield : money\n", None).unwrap();
    assert!(tree.root_node().has_error());
}

#[test]
fn precedence_is_the_languages() {
    let mut parser = Parser::new();
    parser.set_language(&language()).unwrap();
    let mut sexp = |expression: &str| {
        let text = format!("policy p\nlet a = {expression}\n");
        let tree = parser.parse(&text, None).unwrap();
        let root = tree.root_node();
        let declaration = root.child(1).unwrap();
        declaration.child_by_field_name("value").unwrap().to_sexp()
    };
    // `not a and b` is `(not a) and b`; `not a == b` is `not (a == b)`.
    assert!(sexp("not a and b").starts_with("(binary_expression left: (not_expression"));
    assert!(sexp("not a == b").starts_with("(not_expression operand: (binary_expression"));
    // `a + b in {x}` is `(a + b) in {x}`; `x rounded` takes all to its left.
    assert!(sexp("a + b in {x}").starts_with("(in_expression subject: (binary_expression"));
    assert!(sexp("a + b rounded floor to 0.01")
        .starts_with("(rounded_expression value: (binary_expression"));
    // An `if` reaches as far right as it can.
    assert!(sexp("if c then a else b * 2").contains("alternative: (binary_expression"));
    // A window compares: `now within 7 x 24 hours after paid_at and x`.
    assert!(sexp("now within 7 x 24 hours after paid_at and x")
        .starts_with("(binary_expression left: (window_expression"));
}

#[test]
fn the_queries_compile() {
    for query in [
        tree_sitter_policy::HIGHLIGHTS_QUERY,
        tree_sitter_policy::FOLDS_QUERY,
    ] {
        Query::new(&language(), query).unwrap();
    }
}

/// FNV-1a (64 bits) of a file's bytes, as `generate.sh` records it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn the_parser_is_generated_from_the_grammar_as_it_is() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let grammar = std::fs::read(dir.join("grammar.js")).unwrap();
    let recorded = std::fs::read_to_string(dir.join("src/grammar.js.fnv1a")).unwrap();
    assert_eq!(
        recorded.trim(),
        format!("{:016x}", fnv1a(&grammar)),
        "grammar.js changed since src/ was generated: run editors/tree-sitter-policy/generate.sh"
    );
}
