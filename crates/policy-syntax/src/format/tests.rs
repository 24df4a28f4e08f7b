//! The formatter's tests: the canonical layout, continuation lines, refusals, idempotence.
use super::format;

fn formatted(text: &str) -> String {
    match format(text) {
        Ok(out) => {
            assert_eq!(
                format(&out).ok().as_deref(),
                Some(out.as_str()),
                "not idempotent"
            );
            out
        }
        Err(errors) => panic!("{errors:?}"),
    }
}

#[test]
fn the_canonical_layout() {
    let messy = "\n\n# top\npolicy   p\nzone \"UTC\"   # trailing\n\n\n\nenum E {a,b}\nenum F {\n    x,\n    y, # why\n}\nfield a : int?=1+ - 2\naction refund unique{\ndefault amount=max( a ,b )\n\n\n  rule r when a in { x , y } and\n  now within 7 x 24 hours after paid_at then allowed requires [ s , t ] because \"a \"\n \"b\"   cite \"c\"\n# own line\nexample \"e\" {\nat \"2026-01-01T00:00:00Z\"\n      order { \"a\": 1,\n              \"b\": 2 }\n}\n}\n";
    let expected = "# top\npolicy p\n  zone \"UTC\"   # trailing\n\nenum E { a, b }\nenum F {\n  x,\n  y, # why\n}\nfield a: int? = 1 + -2\naction refund unique {\n  default amount = max(a, b)\n\n  rule r\n    when a in {x, y} and\n         now within 7 x 24 hours after paid_at\n    then allowed\n    requires [s, t]\n    because \"a \"\n            \"b\"\n      cite \"c\"\n  # own line\n  example \"e\" {\n    at \"2026-01-01T00:00:00Z\"\n    order { \"a\": 1,\n            \"b\": 2 }\n  }\n}\n";
    assert_eq!(formatted(messy), expected);
}

#[test]
fn continuation_lines_align_with_their_expression() {
    let text = "policy p\nlet y = if a then 1\n  else if b then 2\n      else 3\nlet z = (a and\nb) or c\n";
    let expected = "policy p\nlet y = if a then 1\n        else if b then 2\n        else 3\nlet z = (a and\n         b) or c\n";
    assert_eq!(formatted(text), expected);
}

#[test]
fn a_file_with_syntax_errors_is_not_formatted() {
    let errors = format("policy p\nlet a =\nlet b = (\n")
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 2);
}

#[test]
fn one_long_line() {
    // Columns are followed as the text grows: a file on one line formats like any other.
    let values: Vec<String> = (0..50_000).map(|i| format!("v{i}")).collect();
    let text = format!("policy p enum E {{ {} }}", values.join(" ,"));
    let out = formatted(&text);
    assert!(out.starts_with("policy p\nenum E { v0, v1, "));
    assert!(out.ends_with(", v49999 }\n"));
}

#[test]
fn a_byte_order_mark_and_crlf() {
    assert_eq!(
        formatted("\u{FEFF}policy p\r\nlet a = 1 # c\r\n"),
        "\u{FEFF}policy p\nlet a = 1 # c\n"
    );
}

#[test]
fn empty_blocks_and_comments_at_the_end() {
    assert_eq!(
        formatted("policy p\naction a {\n}\naction b { # c\n}\n\n\n# end\n"),
        "policy p\naction a {}\naction b { # c\n}\n\n# end\n"
    );
}
