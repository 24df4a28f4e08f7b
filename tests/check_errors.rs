//! A catalogue of broken policies (`tests/cases/check/err/*.policy`), each with one planted mistake
//! (one case plants three) named on its first line. Every case must fail to build, and its rendered
//! diagnostics are snapshotted in `tests/snapshots/<case>.snap` so any change to a message, a span or
//! a help line shows up in review.
//!
//! The binary is run on each case too (exit code 1, no panic), and the shipped policies are cut and
//! damaged in many ways to make sure the parser and checker never panic on half-written text.

// A test that cannot read its own fixtures should stop there: helpers unwrap like the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::Command;

use common::build;
use policy::calendar::Calendars;
use policy::diagnostics::Diagnostic;
use policy::eval::{FileContents, Policy};
use policy::source::SourceFile;

use common::{calendars, display_name, policy_files, root};

fn case_files() -> Vec<PathBuf> {
    policy_files(&root().join("tests/cases/check/err"))
}

/// The codes a case's first line promises (`policy::check::unknown_name`), up to a `checker gap:`
/// note, after which the line describes what the checker reports instead today.
fn expected_codes(first_line: &str) -> Vec<&str> {
    let promised = first_line.split("checker gap:").next().unwrap_or("");
    promised
        .match_indices("policy::")
        .map(|(at, _)| {
            let rest = &promised[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// Builds a case from its file, as `policy check` does: its imports are read beside it. Diagnostics
/// are rendered with `file` (the same text, named as the snapshots show it).
fn build_case(path: &std::path::Path, text: &str) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let folder = policy::files::load_calendars(&policy::files::calendar_dir(path));
    match Policy::from_file_text(path, text, &folder) {
        Ok(FileContents::Policy(policy)) => Ok(policy.warnings().to_vec()),
        Ok(FileContents::Library { warnings, .. }) => Ok(warnings),
        Err(error) => Err(error.diagnostics().to_vec()),
    }
}

fn render_all(diagnostics: &[Diagnostic], file: &SourceFile) -> String {
    diagnostics
        .iter()
        .map(|d| d.render_plain(file))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn broken_policies_report_their_mistakes() {
    insta::glob!("cases/check/err/*.policy", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = display_name(path);
        assert!(
            text.starts_with("# expect: "),
            "{name}: the first line must say what the case should report (`# expect: ...`)"
        );
        let file = SourceFile::new(name.as_str(), text.as_str());
        let diagnostics = match build_case(path, &text) {
            Ok(warnings) => panic!(
                "{name}: the planted mistake was not detected; warnings:\n{}",
                render_all(&warnings, &file)
            ),
            Err(diagnostics) => diagnostics,
        };
        assert!(
            diagnostics.iter().any(Diagnostic::is_error),
            "{name}: build failed without an error-severity diagnostic"
        );
        let first_line = text.lines().next().unwrap_or("");
        for code in expected_codes(first_line) {
            assert!(
                diagnostics.iter().any(|d| d.is_error() && d.code == code),
                "{name}: {code} was promised by the first line but not reported:\n{}",
                render_all(&diagnostics, &file)
            );
        }
        let snapshot = format!("{text}\n---\n{}", render_all(&diagnostics, &file));
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(stem, snapshot));
    });
}

#[test]
fn the_binary_fails_each_case_without_panicking() {
    let files = case_files();
    assert!(files.len() >= 24, "the catalogue has {} cases", files.len());
    for path in files {
        let output = Command::new(env!("CARGO_BIN_EXE_policy"))
            .arg("check")
            .arg(&path)
            .current_dir(root())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = display_name(&path);
        assert!(
            !stderr.contains("panicked"),
            "{name}: `policy check` panicked:\n{stderr}"
        );
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name}: `policy check` should exit 1; stderr:\n{stderr}"
        );
        // The binary reports the same findings as the library (the calendars beside the cases are
        // the shipped ones).
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(diagnostics) = build_case(&path, &text) {
            for d in diagnostics {
                assert!(
                    stderr.contains(d.code),
                    "{name}: `policy check` did not report {}:\n{stderr}",
                    d.code
                );
            }
        }
    }
}

/// xorshift64: a fixed, dependency-free sequence of pseudo-random numbers.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Builds `text` and returns a description of the panic, if it panicked.
fn build_panics(text: &str, calendars: &Calendars) -> Option<String> {
    let file = SourceFile::new("mutated.policy", text);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _ = build(&file, calendars);
    }));
    result.err().map(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(no message)".to_string())
    })
}

/// Removes the character starting at or after `at`, so the text stays valid UTF-8.
fn delete_char_at(text: &mut String, at: usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    if at < text.len() {
        text.remove(at);
    }
}

/// One damaged version of a shipped policy: its text and how it was made.
struct Variant<'a> {
    text: std::borrow::Cow<'a, str>,
    what: String,
}

/// The damaged versions of one policy: about 400 cuts spread over the text, at least 7 bytes apart,
/// on character boundaries (and the whole text), then random deletions with a fixed seed (one character, a few characters,
/// a short run).
fn variants<'a>(name: &str, text: &'a str) -> Vec<Variant<'a>> {
    let mut out: Vec<Variant<'a>> = (0..=text.len())
        .step_by((text.len() / 400).max(7))
        .chain([text.len()])
        .filter(|&i| text.is_char_boundary(i))
        .map(|cut| Variant {
            text: text[..cut].into(),
            what: format!("{name} truncated to {cut} bytes"),
        })
        .collect();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ text.len() as u64);
    for round in 0..96 {
        let mut damaged = text.to_string();
        let mut removed = Vec::new();
        let deletions = match round % 3 {
            0 => 1,
            1 => 1 + rng.below(4),
            _ => 0,
        };
        for _ in 0..deletions {
            let at = rng.below(damaged.len().max(1));
            removed.push(at);
            delete_char_at(&mut damaged, at);
        }
        if deletions == 0 {
            // A run of up to 16 bytes, snapped to character boundaries.
            let mut start = rng.below(damaged.len().max(1));
            while !damaged.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + 1 + rng.below(16)).min(damaged.len());
            while !damaged.is_char_boundary(end) {
                end += 1;
            }
            removed.push(start);
            damaged.replace_range(start..end, "");
        }
        out.push(Variant {
            text: damaged.into(),
            what: format!("{name} with deletions at {removed:?} (round {round})"),
        });
    }
    out
}

#[test]
fn build_never_panics_on_damaged_policies() {
    let calendars = calendars();
    let mut policies: Vec<PathBuf> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .collect();
    policies.sort();
    assert!(!policies.is_empty());
    let texts: Vec<(String, String)> = policies
        .iter()
        .map(|p| (display_name(p), std::fs::read_to_string(p).unwrap()))
        .collect();
    let all: Vec<Variant<'_>> = texts
        .iter()
        .flat_map(|(name, text)| variants(name, text))
        .collect();

    // Thousands of builds: share them out over the cores, interleaved so that each gets its part of
    // the long policies.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let panics: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|k| {
                let (all, calendars) = (&all, &calendars);
                scope.spawn(move || {
                    all.iter()
                        .skip(k)
                        .step_by(threads)
                        .filter_map(|v| {
                            build_panics(&v.text, calendars).map(|m| format!("{}: {m}", v.what))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(all.len() > 100, "only {} variants were built", all.len());
    assert!(
        panics.is_empty(),
        "`build` panicked on {} of {} damaged policies:\n{}",
        panics.len(),
        all.len(),
        panics.join("\n")
    );
}

/// A text given without a file cannot import: nothing says where to read the library from.
#[test]
fn a_text_without_a_file_cannot_import() {
    let text =
        "policy p\n  document \"x.txt\"\n  zone \"UTC\"\n\nimport \"common/contract.policy\"\n\n\
                action a {\n  rule r\n    then denied\n    because \"no\" cite \"x\"\n}\n";
    let error = Policy::from_source("p.policy", text, &calendars()).unwrap_err();
    let codes: Vec<&str> = error.diagnostics().iter().map(|d| d.code).collect();
    assert_eq!(codes, ["policy::check::import_without_file"]);
}

/// The shared vocabulary is a library: loading it as a policy says so; `policy check` checks it.
#[test]
fn a_library_is_not_a_policy() {
    let path = root().join("policies/common/contract.policy");
    let error = Policy::load(&path).unwrap_err();
    let codes: Vec<&str> = error.diagnostics().iter().map(|d| d.code).collect();
    assert_eq!(codes, ["policy::check::library_not_policy"]);
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["check", "--deny", "warnings"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every did-you-mean carries its replacement as a structured suggestion (what a language server offers
/// as a quick fix, SARIF as a fix), and applying it mends that finding: after the replacement no
/// diagnostic of that code starts there, the text still parses, and fewer errors are left.
#[test]
fn applying_a_suggestion_mends_its_finding() {
    let mut applied = 0;
    for path in case_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let Err(diagnostics) = build_case(&path, &text) else {
            continue;
        };
        for diagnostic in &diagnostics {
            for suggestion in &diagnostic.suggestions {
                let name = display_name(&path);
                let (start, end) = (suggestion.span.start as usize, suggestion.span.end as usize);
                let help = diagnostic.help.as_deref().unwrap_or("");
                assert_eq!(
                    help,
                    format!(
                        "did you mean `{}`?",
                        suggestion.replacement.trim_matches('"')
                    ),
                    "{name}: the help says the suggestion"
                );
                let mut mended = text.clone();
                mended.replace_range(start..end, &suggestion.replacement);
                let after = match build_case(&path, &mended) {
                    Ok(_) => Vec::new(),
                    Err(diagnostics) => diagnostics,
                };
                assert!(
                    !after.iter().any(|d| d.code.starts_with("policy::parse::")),
                    "{name}: replacing `{}` with `{}` breaks the syntax",
                    &text[start..end],
                    suggestion.replacement,
                );
                let errors = |list: &[Diagnostic]| list.iter().filter(|d| d.is_error()).count();
                assert!(
                    errors(&after) < errors(&diagnostics),
                    "{name}: replacing `{}` with `{}` leaves as many errors",
                    &text[start..end],
                    suggestion.replacement,
                );
                assert!(
                    !after
                        .iter()
                        .any(|d| d.code == diagnostic.code && d.span.start == suggestion.span.start),
                    "{name}: replacing `{}` with `{}` did not mend `{}`",
                    &text[start..end],
                    suggestion.replacement,
                    diagnostic.code
                );
                applied += 1;
            }
        }
    }
    assert!(applied >= 8, "only {applied} suggestions were applied");
}
