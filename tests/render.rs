//! Rendering diagnostics: from the shared source (never a copy of the file per diagnostic), and through a
//! window on lines too long to show whole (miette pads to a span's column, and panicked on columns past
//! 65,535).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::build;
use policy::calendar::Calendars;
use policy::diagnostics::Diagnostic;
use policy::source::{SourceFile, Span};

/// A policy whose `let` runs over one line of `padding` spaces and ends in an unknown name.
fn long_line_policy(padding: usize) -> String {
    format!(
        "policy long-line\n  document \"x.txt\"\n  zone \"Asia/Shanghai\"\n\nfield price: money\n\
         let big = price{}+ nope\n\naction refund {{\n  default amount = price\n  rule r\n    then allowed\n    \
         because \"x\" cite \"y\"\n}}\n",
        " ".repeat(padding)
    )
}

#[test]
fn an_error_past_column_65535_renders_a_window_of_its_line() {
    let text = long_line_policy(100_000);
    let file = SourceFile::new("long.policy", text.as_str());
    let diagnostics = build(&file, &Calendars::new()).expect_err("`nope` is unknown");
    let unknown = diagnostics
        .iter()
        .find(|d| d.code == "policy::check::unknown_name")
        .expect("the unknown name is reported");
    let rendered = unknown.render_plain(&file);
    assert!(
        rendered.contains("long.policy:6:100018"),
        "the header gives the true line and column:\n{rendered}"
    );
    assert!(rendered.contains("+ nope"), "{rendered}");
    assert!(
        rendered.len() < 2_000,
        "only a window of the 100,000-character line is shown ({} bytes)",
        rendered.len()
    );
    assert!(unknown
        .one_line(&file)
        .starts_with("long.policy:6:100018: error:"));
}

#[test]
fn spans_anywhere_on_long_lines_render_without_panicking() {
    for newline in ["\n", "\r\n"] {
        spans_on_long_lines(newline);
    }
}

/// Every span between interesting points of a text whose long lines end with `newline` (a span may
/// start on the `\n` of a CRLF line, after its `\r`).
fn spans_on_long_lines(newline: &str) {
    let line = "x".repeat(70_000) + "\u{e9}" + &"y".repeat(70_000);
    let text = format!(
        "a short line{newline}{line}{newline}\t\tthen a short one{newline}{line}{newline}end"
    );
    let file = SourceFile::new("spans.policy", text.as_str());
    let first = "a short line".len() + newline.len();
    let long = first..first + line.len();
    let points = [
        0,
        5,
        12,
        13,
        14,
        long.start + 65_535,
        long.start + 70_000,
        long.start + 70_001,
        long.end - 1,
        long.end,
        long.end + 1,
        long.end + 2,
        long.end + 5,
        text.len() - 1,
        text.len(),
    ];
    for &start in &points {
        for &end in &points {
            if end < start {
                continue;
            }
            for related in [None, Some(Span::new(long.start + 3, long.start + 9))] {
                let mut d =
                    Diagnostic::error("policy::test::span", "a span", Span::new(start, end))
                        .with_label("here")
                        .with_help("nothing to do");
                if let Some(span) = related {
                    d = d.with_related(span, "and here");
                }
                let rendered = std::panic::catch_unwind(|| d.render_plain(&file))
                    .unwrap_or_else(|_| panic!("rendering {start}..{end} panicked"));
                assert!(
                    rendered.len() < 4_000,
                    "{start}..{end} rendered {} bytes",
                    rendered.len()
                );
            }
        }
    }
}

#[test]
fn the_binary_reports_an_error_past_column_65535() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("long-line.policy");
    std::fs::write(&path, long_line_policy(100_000)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("policy::check::unknown_name"), "{stderr}");
    assert!(stderr.len() < 4_000, "{} bytes on stderr", stderr.len());
}

#[test]
fn rendering_borrows_the_source_instead_of_copying_it() {
    // A 1 MiB file and a diagnostic near its end: rendering allocates far less than the file.
    let filler = "# a comment line, of which there are many\n".repeat(25_000);
    let text = format!("{filler}{}", long_line_policy(0));
    assert!(text.len() > 1_000_000);
    let file = SourceFile::new("big.policy", text.as_str());
    let at = text.rfind("nope").unwrap();
    let d =
        Diagnostic::error("policy::test::span", "a span", Span::new(at, at + 4)).with_label("here");
    let first = d.render_plain(&file); // builds the line index once
    let mut again = String::new();
    let info = allocation_counter::measure(|| {
        for _ in 0..10 {
            again = d.render_plain(&file);
        }
    });
    assert_eq!(first, again);
    assert!(
        info.bytes_total < 200_000,
        "rendering one diagnostic ten times allocated {} bytes for a {}-byte file",
        info.bytes_total,
        text.len()
    );
}
