//! The rule-table analysis (`policy::analysis`) against a catalogue of small policies, each with planted
//! findings (`tests/cases/analysis/*.policy`) and a clean twin with the finding fixed
//! (`tests/cases/analysis/clean/*.policy`).
//!
//! Each case's first line says what it must report: `# expect: gap, dead_rule` (kinds are the last part
//! of the diagnostic code: `gap`, `dead_rule`, `overlap`, `unmentioned_value`, `declared_gap`,
//! `unused_field`, `unused_definition`, `incomplete`), or `# expect: clean`. A case may go on with
//! `; analysis false positive: KIND, ...`: kinds the analysis reports today although it should not, and
//! `; analysis unconfirmed witness: KIND, ...`: kinds whose witness the interpreter does not confirm today
//! (conditions the analysis does not model). Both are tolerated, but must still occur, so that fixing the
//! analysis makes the line be updated.
//!
//! - every case reports exactly its promised kinds (and its known false positives), and the rendered
//!   diagnostics are pinned by insta (`tests/snapshots/analysis_<case>.snap`);
//! - every gap and overlap witness is confirmed, and re-run here through the public API;
//! - every clean twin, and every shipped policy, reports nothing but declared-gap notes;
//! - `policy check --deny warnings` fails on a gap and passes on `policies/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use policy::analysis::{analyze, Finding, FindingKind, Witness};
use policy::diagnostics::Diagnostic;
use policy::eval::{parse_time, NO_RULE};
use policy::{Outcome, Policy};

use common::{calendars, display_name, policy_files, root};

fn cases() -> Vec<PathBuf> {
    policy_files(&root().join("tests/cases/analysis"))
}

fn clean_twins() -> Vec<PathBuf> {
    policy_files(&root().join("tests/cases/analysis/clean"))
}

/// Loads a policy from its text; a case that does not build is a broken fixture.
fn load_text(name: &str, text: &str) -> Policy {
    match Policy::from_source(name, text, &calendars()) {
        Ok(policy) => policy,
        Err(policy::LoadError::Invalid { file, diagnostics }) => panic!(
            "{name} does not build:\n{}",
            diagnostics
                .iter()
                .map(|d| d.render_plain(&file))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        Err(e) => panic!("{name} does not load: {e}"),
    }
}

fn load(path: &Path) -> (Policy, String) {
    let text = std::fs::read_to_string(path).unwrap();
    (load_text(&display_name(path), &text), text)
}

/// The kind a diagnostic reports: the last part of its code (`policy::analysis::gap` -> `gap`).
fn kind(d: &Diagnostic) -> &'static str {
    d.code.rsplit("::").next().unwrap_or(d.code)
}

/// The checker's warnings, then the analysis findings' diagnostics, in order.
fn all_diagnostics(policy: &Policy, findings: &[Finding]) -> Vec<Diagnostic> {
    policy
        .warnings()
        .iter()
        .cloned()
        .chain(findings.iter().map(|f| f.diagnostic.clone()))
        .collect()
}

fn render_all(policy: &Policy, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.render_plain(policy.source()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a case's first line promises.
struct Expectation {
    /// Kinds that must be reported (empty for `clean`).
    expected: BTreeSet<String>,
    /// Kinds reported today that should not be (see the module docs).
    false_positives: BTreeSet<String>,
    /// Kinds with a witness the interpreter does not confirm today.
    unconfirmed: BTreeSet<String>,
}

fn kinds(list: &str) -> BTreeSet<String> {
    list.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty() && *k != "clean")
        .map(str::to_string)
        .collect()
}

fn expectation(name: &str, text: &str) -> Expectation {
    let first = text.lines().next().unwrap_or("");
    let Some(rest) = first.strip_prefix("# expect: ") else {
        panic!("{name}: the first line must say what the case reports (`# expect: ...`)");
    };
    let mut parts = rest.split(';');
    let expected = kinds(parts.next().unwrap_or(""));
    let mut false_positives = BTreeSet::new();
    let mut unconfirmed = BTreeSet::new();
    for part in parts {
        let part = part.trim();
        if let Some(list) = part.strip_prefix("analysis false positive:") {
            false_positives.extend(kinds(list));
        } else if let Some(list) = part.strip_prefix("analysis unconfirmed witness:") {
            unconfirmed.extend(kinds(list));
        } else {
            panic!("{name}: unknown part of the first line: `{part}`");
        }
    }
    Expectation {
        expected,
        false_positives,
        unconfirmed,
    }
}

/// Asserts that the kinds reported are exactly the promised ones plus the known false positives.
fn assert_kinds(name: &str, expectation: &Expectation, reported: &[Diagnostic], rendered: &str) {
    let reported: BTreeSet<String> = reported.iter().map(|d| kind(d).to_string()).collect();
    for k in &expectation.expected {
        assert!(
            reported.contains(k),
            "{name}: `{k}` was promised by the first line but not reported:\n{rendered}"
        );
    }
    for k in &expectation.false_positives {
        assert!(
            reported.contains(k),
            "{name}: the known false positive `{k}` is no longer reported: update the first line\n{rendered}"
        );
    }
    for k in &reported {
        assert!(
            expectation.expected.contains(k) || expectation.false_positives.contains(k),
            "{name}: `{k}` reported but not promised by the first line:\n{rendered}"
        );
    }
}

#[test]
fn the_catalogue_is_complete() {
    let cases = cases();
    assert!(cases.len() >= 16, "the catalogue has {} cases", cases.len());
    let twins: Vec<PathBuf> = clean_twins();
    for case in &cases {
        let twin = root()
            .join("tests/cases/analysis/clean")
            .join(case.file_name().unwrap());
        assert!(
            twins.contains(&twin),
            "{} has no clean twin {}",
            display_name(case),
            display_name(&twin)
        );
    }
    assert_eq!(cases.len(), twins.len(), "every clean twin has its case");
    // Every kind of finding is planted somewhere.
    let planted: BTreeSet<String> = cases
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            expectation(&display_name(p), &text).expected
        })
        .collect();
    for k in [
        "gap",
        "dead_rule",
        "overlap",
        "unmentioned_value",
        "declared_gap",
        "unused_field",
        "unused_definition",
    ] {
        assert!(planted.contains(k), "no case plants `{k}`");
    }
}

#[test]
fn planted_findings_are_reported() {
    insta::glob!("cases/analysis/*.policy", |path| {
        let (policy, text) = load(path);
        let name = display_name(path);
        let findings = analyze(&policy);
        let diagnostics = all_diagnostics(&policy, &findings);
        let rendered = render_all(&policy, &diagnostics);
        assert_kinds(&name, &expectation(&name, &text), &diagnostics, &rendered);
        let snapshot = format!("{text}\n---\n{rendered}");
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.remove_snapshot_suffix();
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(format!("analysis_{stem}"), snapshot));
    });
}

/// The rule the interpreter decides `witness` with, and its outcome.
fn run(policy: &Policy, action: &str, witness: &Witness) -> (String, Outcome) {
    let order = policy
        .read_order(&serde_json::Value::Object(witness.order.clone()))
        .unwrap_or_else(|e| panic!("witness {:?} does not read: {e}", witness.order));
    let at = parse_time(&witness.at).unwrap();
    let decision = policy
        .decide(action, &order, at)
        .unwrap_or_else(|e| panic!("witness {:?} is not decided: {e}", witness.order));
    (decision.rule.to_string(), decision.outcome)
}

/// `text` with every rule of `action` but `keep` cut out (by the checked rules' spans).
fn only_rule(policy: &Policy, text: &str, action: &str, keep: &str) -> String {
    let action = policy
        .checked()
        .actions
        .iter()
        .find(|a| a.name == action)
        .unwrap();
    let mut cuts: Vec<(usize, usize)> = action
        .rules
        .iter()
        .filter(|r| r.id != keep)
        .map(|r| (r.span.start as usize, r.span.end as usize))
        .collect();
    cuts.sort_unstable();
    let mut out = text.to_string();
    for (start, end) in cuts.into_iter().rev() {
        out.replace_range(start..end, "");
    }
    out
}

#[test]
fn witnesses_are_confirmed_and_reach_the_claimed_situation() {
    let mut gaps = 0;
    let mut overlaps = 0;
    for path in cases() {
        let (policy, text) = load(&path);
        let name = display_name(&path);
        let tolerated = expectation(&name, &text).unconfirmed;
        let mut unconfirmed_seen = BTreeSet::new();
        for finding in analyze(&policy) {
            if !matches!(finding.kind, FindingKind::Gap | FindingKind::Overlap) {
                continue;
            }
            let message = finding.diagnostic.render_plain(policy.source());
            let Some(witness) = &finding.witness else {
                panic!("{name}: a finding without a witness:\n{message}");
            };
            let kind = kind(&finding.diagnostic);
            if !witness.confirmed && tolerated.contains(kind) {
                unconfirmed_seen.insert(kind.to_string());
                continue;
            }
            assert!(
                witness.confirmed,
                "{name}: the witness is not confirmed:\n{message}"
            );
            assert!(
                !finding.conditions.is_empty(),
                "{name}: a region without conditions:\n{message}"
            );
            let (rule, outcome) = run(&policy, &finding.action, witness);
            match finding.kind {
                FindingKind::Gap => {
                    gaps += 1;
                    assert_eq!(
                        rule, NO_RULE,
                        "{name}: the gap witness reaches a rule:\n{message}"
                    );
                    assert_eq!(outcome, Outcome::Undetermined, "{name}:\n{message}");
                }
                _ => {
                    overlaps += 1;
                    let [first, second] = finding.rules.as_slice() else {
                        panic!("{name}: an overlap names two rules:\n{message}");
                    };
                    assert_eq!(
                        &rule, first,
                        "{name}: the overlap witness is decided by another rule:\n{message}"
                    );
                    // Each rule alone matches the witness too.
                    for keep in [first, second] {
                        let cut = only_rule(&policy, &text, &finding.action, keep);
                        let alone = load_text(&format!("{name} (only `{keep}`)"), &cut);
                        let (rule, _) = run(&alone, &finding.action, witness);
                        assert_eq!(
                            &rule, keep,
                            "{name}: `{keep}` alone does not match the witness:\n{message}"
                        );
                    }
                }
            }
        }
        assert_eq!(
            unconfirmed_seen, tolerated,
            "{name}: the known unconfirmed witnesses changed: update the first line"
        );
    }
    assert!(gaps >= 10, "only {gaps} gap witnesses in the catalogue");
    assert!(
        overlaps >= 4,
        "only {overlaps} overlap witnesses in the catalogue"
    );
}

#[test]
fn clean_twins_report_nothing_but_declared_gaps() {
    for path in clean_twins() {
        let (policy, text) = load(&path);
        let name = display_name(&path);
        let expectation = expectation(&name, &text);
        assert!(
            expectation.expected.iter().all(|k| k == "declared_gap"),
            "{name}: a clean twin may only promise declared gaps"
        );
        let diagnostics = all_diagnostics(&policy, &analyze(&policy));
        let rendered = render_all(&policy, &diagnostics);
        assert_kinds(&name, &expectation, &diagnostics, &rendered);
    }
}

#[test]
fn shipped_policies_report_nothing_but_declared_gaps() {
    let files = policy_files(&root().join("policies"));
    assert!(files.len() >= 5);
    for path in files {
        let name = display_name(&path);
        let policy = Policy::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let findings = analyze(&policy);
        let diagnostics = all_diagnostics(&policy, &findings);
        let rendered = render_all(&policy, &diagnostics);
        assert!(
            findings.iter().all(|f| f.kind == FindingKind::DeclaredGap)
                && policy.warnings().is_empty(),
            "{name}: the shipped policy has findings:\n{rendered}"
        );
        assert!(
            diagnostics
                .iter()
                .all(|d| !d.is_error() && kind(d) == "declared_gap"),
            "{name}:\n{rendered}"
        );
    }
}

fn policy_check(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .arg("check")
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "`policy check` panicked:\n{stderr}"
    );
    (output.status.code(), stderr)
}

#[test]
fn deny_warnings_fails_on_a_gap_and_passes_on_the_shipped_policies() {
    let case = "tests/cases/analysis/gap_money.policy";
    let (code, stderr) = policy_check(&[case]);
    assert_eq!(code, Some(0), "a gap alone is a warning:\n{stderr}");
    assert!(stderr.contains("policy::analysis::gap"), "{stderr}");

    let (code, stderr) = policy_check(&["--deny", "warnings", case]);
    assert_eq!(
        code,
        Some(1),
        "--deny warnings makes the gap fail:\n{stderr}"
    );
    assert!(stderr.contains("policy::analysis::gap"), "{stderr}");
    assert!(stderr.contains("denied by --deny warnings"), "{stderr}");

    // An overlap under `unique` is an error, with or without --deny.
    let (code, stderr) = policy_check(&["tests/cases/analysis/overlap_enum_unique.policy"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("policy::analysis::overlap"), "{stderr}");

    let (code, stderr) = policy_check(&["--deny", "warnings", "policies/"]);
    assert_eq!(code, Some(0), "the shipped policies pass:\n{stderr}");
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
}
