//! The parser's tests: the tree gives the text back, every error of a file, a tree for a half-typed one,
//! bounded nesting, keywords and contextual words.
use crate::{parse, SyntaxKind};

const SMALL: &str = "policy p\n  zone \"UTC\" # where\n\nfield a: int = 1 + -2\n\naction refund {\n  rule r\n    when a in {x, \"y\"} and now within 7 x 24 hours after paid_at\n    then allowed\n    because \"a\" \"b\" cite \"c\" in \"d\"\n  example \"e\" {\n    order { \"a\": [1, {\"b\": 2}] }\n  }\n}\n";

#[test]
fn the_tree_gives_the_text_back() {
    let parsed = parse(SMALL);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.root.text(SMALL), SMALL);
    let tree = parsed.root.debug_tree(SMALL);
    for kind in [
        "Header",
        "Field",
        "Action",
        "Rule",
        "Window",
        "Quantity",
        "InSet",
        "Citation",
        "ExampleOrder",
    ] {
        assert!(tree.contains(kind), "{kind} missing from\n{tree}");
    }
}

#[test]
fn every_error_of_a_file_in_one_run() {
    let text = "policy p\nlet a = b -\nfield x: \naction r {\n  rule a when x denied\n  rule b then allowed\n  rule c when a && b then allowed\n}\nconstraint a else\n";
    let parsed = parse(text);
    assert_eq!(parsed.root.text(text), text);
    let lines: Vec<usize> = parsed
        .errors
        .iter()
        .map(|e| text[..e.start].matches('\n').count() + 1)
        .collect();
    assert_eq!(lines, vec![3, 4, 5, 7, 9], "{:#?}", parsed.errors);
    assert!(parsed
        .errors
        .iter()
        .all(|e| e.code == "policy::parse::syntax"));
}

#[test]
fn a_half_typed_file_still_has_its_declarations() {
    let text =
        "policy p\nfield a: int\naction refund {\n  rule r\n    when a >\n  rule s then allowed\n";
    let parsed = parse(text);
    assert!(!parsed.errors.is_empty());
    assert_eq!(parsed.root.text(text), text);
    let kinds: Vec<SyntaxKind> = parsed.root.child_nodes().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        vec![SyntaxKind::Header, SyntaxKind::Field, SyntaxKind::Action]
    );
    let action = parsed.root.child_nodes().last().map(|n| {
        n.child_nodes()
            .filter(|c| c.kind == SyntaxKind::Rule)
            .count()
    });
    assert_eq!(action, Some(2));
    // The declaration under an offset, for an editor.
    let at = text.find("when").unwrap_or(0);
    assert_eq!(parsed.root.node_at(at).kind, SyntaxKind::Rule);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [33, 100, 100_000] {
        let text = format!(
            "policy p\nlet a = {}1{}\n",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let parsed = parse(&text);
        assert_eq!(parsed.root.text(&text), text);
        assert!(parsed
            .errors
            .iter()
            .any(|e| e.code == "policy::parse::too_deep"));
        let ifs = format!(
            "policy p\nlet a = {}1{}\n",
            "if a then 1 else ".repeat(depth),
            ""
        );
        let parsed = parse(&ifs);
        assert_eq!(parsed.root.text(&ifs), ifs);
        assert!(!parsed.errors.is_empty());
    }
    let ok = format!("policy p\nlet a = {}1{}\n", "(".repeat(32), ")".repeat(32));
    assert!(parse(&ok).errors.is_empty());
}

#[test]
fn deep_input_parses_on_a_small_stack() {
    let deep = format!("policy p\nlet a = {}1\n", "(-".repeat(200_000));
    let chain = format!(
        "policy p\nlet a = {}1\n",
        "if a then 1 else ".repeat(100_000)
    );
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            for text in [deep, chain] {
                let parsed = parse(&text);
                assert_eq!(parsed.root.text(&text), text);
                assert!(!parsed.errors.is_empty());
                assert!(crate::format(&text).is_err());
            }
        });
    assert!(worker.is_ok_and(|w| w.join().is_ok()));
}

#[test]
fn keywords_are_not_names_but_other_words_are() {
    assert!(!parse("policy p\nfield rule: int\n").errors.is_empty());
    assert!(
        parse("policy p\nfield calendar: int\nfield order: int\naction order { }\n")
            .errors
            .is_empty()
    );
    assert!(parse("policy p\nlet a = 5 days\nlet b = 1.5 calendar months\nlet c = now at least 2 business days before x\n").errors.is_empty());
    // `at least` and `more than` take white space only between their words.
    assert!(
        !parse("policy p\nlet c = now at # c\n least 2 days before x\n")
            .errors
            .is_empty()
    ); // A policy's name is taken whole, dates and all; it starts with a letter.
    assert!(parse("policy a-2026-01-01T00_x--\n").errors.is_empty());
    assert!(!parse("policy a-1.5\n").errors.is_empty());
    assert!(!parse("policy _a\n").errors.is_empty());
}

#[test]
fn garbage_never_panics_and_is_kept() {
    for text in [
        "",
        "\u{FEFF}",
        "}}}",
        "policy",
        "policy p {",
        "\"",
        "policy p\nexample \"a\" { order {",
        "é#\r\n\0",
        "policy p\naction a { example \"x\" { expect { ] } } }",
    ] {
        let parsed = parse(text);
        assert_eq!(parsed.root.text(text), text);
    }
}
