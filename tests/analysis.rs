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
//! - every gap and overlap witness is confirmed, and re-run here through the public API; so is the order
//!   attached to a dead rule, which the dead rule matches and an earlier rule decides;
//! - every clean twin, and every shipped policy, reports nothing but declared-gap notes;
//! - `policy check --deny warnings` fails on a gap and passes on `policies/`;
//! - tables of 1,000 rules are analysed in full, and a table beyond the analysis's budget is reported
//!   incomplete (the same way on every run), which `--deny warnings` does not let pass.

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
    let mut cuts: Vec<(usize, usize)> = policy
        .rules(action)
        .unwrap()
        .filter(|r| r.id() != keep)
        .map(|r| (r.span().start as usize, r.span().end as usize))
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
    let mut dead_rule_witnesses = 0;
    for path in cases() {
        let (policy, text) = load(&path);
        let name = display_name(&path);
        let tolerated = expectation(&name, &text).unconfirmed;
        let mut unconfirmed_seen = BTreeSet::new();
        for finding in analyze(&policy) {
            let message = finding.diagnostic.render_plain(policy.source());
            let pre_empted = finding.kind == FindingKind::DeadRule
                && finding.diagnostic.message.contains("can never decide");
            if !matches!(finding.kind, FindingKind::Gap | FindingKind::Overlap) && !pre_empted {
                continue;
            }
            let Some(witness) = &finding.witness else {
                panic!("{name}: a finding without a witness:\n{message}");
            };
            let kind = kind(&finding.diagnostic);
            if finding.kind == FindingKind::DeadRule {
                dead_rule_witnesses += 1;
                dead_rule_is_pre_empted(&policy, &text, &name, &finding, witness, &message);
                continue;
            }
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
        dead_rule_witnesses >= 5,
        "only {dead_rule_witnesses} dead-rule witnesses in the catalogue"
    );
    assert!(
        overlaps >= 4,
        "only {overlaps} overlap witnesses in the catalogue"
    );
}

/// The order attached to a dead rule: the rule matches it (alone in its table, it decides it), and an
/// earlier rule decides it.
fn dead_rule_is_pre_empted(
    policy: &Policy,
    text: &str,
    name: &str,
    finding: &Finding,
    witness: &Witness,
    message: &str,
) {
    assert!(
        witness.confirmed,
        "{name}: the dead rule's order is not confirmed:\n{message}"
    );
    let dead = &finding.rules[0];
    let rules: Vec<&str> = policy
        .rules(&finding.action)
        .unwrap()
        .map(|r| r.id())
        .collect();
    let position = rules.iter().position(|r| r == dead).unwrap();
    let (rule, _) = run(policy, &finding.action, witness);
    assert!(
        rules[..position].contains(&rule.as_str()),
        "{name}: the dead rule's order is decided by `{rule}`, not by an earlier rule:\n{message}"
    );
    let cut = only_rule(policy, text, &finding.action, dead);
    let alone = load_text(&format!("{name} (only `{dead}`)"), &cut);
    let (rule, _) = run(&alone, &finding.action, witness);
    assert_eq!(
        &rule, dead,
        "{name}: `{dead}` alone does not match its order:\n{message}"
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
    // The example policies of other providers are held to the same standard.
    let examples = policy_files(&root().join("examples/policies"));
    assert!(examples.len() >= 2);
    let files = files.into_iter().chain(examples);
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

    let (code, stderr) = policy_check(&["--deny", "warnings", "examples/policies/"]);
    assert_eq!(code, Some(0), "the example policies pass:\n{stderr}");
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
}

use common::generate::rule_table as generated;

fn findings_of(kind: FindingKind, findings: &[Finding]) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == kind).collect()
}

#[test]
fn a_thousand_rules_on_one_count_are_analysed_in_full() {
    let guards: Vec<String> = (1..=1000).map(|k| format!("x == {k}")).collect();
    let policy = load_text("x-1000", &generated("x-1000", "field x: int\n", &guards));
    let findings = analyze(&policy);
    let rendered = render_all(&policy, &all_diagnostics(&policy, &findings));
    let gaps = findings_of(FindingKind::Gap, &findings);
    assert_eq!(findings.len(), 2, "{rendered}");
    assert_eq!(gaps.len(), 2, "{rendered}");
    assert_eq!(gaps[0].conditions, ["x < 1"], "{rendered}");
    assert_eq!(gaps[1].conditions, ["x > 1000"], "{rendered}");
    for gap in gaps {
        let witness = gap.witness.as_ref().unwrap();
        assert!(witness.confirmed, "{rendered}");
        assert_eq!(run(&policy, "refund", witness).0, NO_RULE);
    }
}

#[test]
fn a_thousand_rules_on_an_enum_and_counts_are_analysed_in_full() {
    let tiers: Vec<String> = (0..10).map(|t| format!("t{t}")).collect();
    let declarations = format!(
        "enum Tier {{ {} }}\nfield tier: Tier\nfield count: int\n",
        tiers.join(", ")
    );
    // Each tier: counts 0 to 99 one by one; then a repeat of the first rule, dead.
    let mut guards: Vec<String> = (0..1000)
        .map(|i| format!("tier == t{} and count == {}", i % 10, i / 10))
        .collect();
    guards.push("tier == t0 and count < 1".to_string());
    let policy = load_text(
        "tiers-1000",
        &generated("tiers-1000", &declarations, &guards),
    );
    let findings = analyze(&policy);
    let rendered = render_all(&policy, &all_diagnostics(&policy, &findings));
    assert!(
        findings_of(FindingKind::Incomplete, &findings).is_empty(),
        "{rendered}"
    );
    let dead = findings_of(FindingKind::DeadRule, &findings);
    assert_eq!(dead.len(), 1, "{rendered}");
    assert_eq!(dead[0].rules, ["r1000", "r0"], "{rendered}");
    let gaps = findings_of(FindingKind::Gap, &findings);
    assert!(!gaps.is_empty(), "{rendered}");
    // One gap per tier, beyond count 99: six shown, and a note that there are more.
    assert_eq!(gaps.len(), 7, "{rendered}");
    assert!(
        gaps[6].diagnostic.message.contains("more gaps"),
        "{rendered}"
    );
    for gap in &gaps[..6] {
        let witness = gap.witness.as_ref().unwrap();
        assert!(witness.confirmed, "{rendered}");
        assert!(
            witness.order["count"].as_i64().unwrap() >= 100,
            "{rendered}"
        );
        assert_eq!(run(&policy, "refund", witness).0, NO_RULE);
    }
}

/// Twenty rules `a<i> and b<i>` leave 3^20 regions, and the next rule (which matches no order, as only
/// the linear part shows) keeps every one of them open: the walk cannot finish. (The rules on `y` after
/// it make each step of the walk dearer, so that the budget runs out sooner.)
fn beyond_the_budget() -> String {
    let mut declarations = String::new();
    for i in 0..20 {
        declarations.push_str(&format!("field a{i}: bool\nfield b{i}: bool\n"));
    }
    declarations.push_str("field x: int\nfield y: int\n");
    let mut guards: Vec<String> = (0..20).map(|i| format!("a{i} and b{i}")).collect();
    guards.push("x > 5 and x < 3".to_string());
    guards.extend((0..400).map(|k| format!("y == {k}")));
    generated("beyond-the-budget", &declarations, &guards)
}

#[test]
fn a_table_beyond_the_budget_is_incomplete_the_same_way_every_time() {
    let text = beyond_the_budget();
    let policy = load_text("beyond-the-budget", &text);
    let findings = analyze(&policy);
    let rendered = render_all(&policy, &all_diagnostics(&policy, &findings));
    let incomplete = findings_of(FindingKind::Incomplete, &findings);
    assert_eq!(incomplete.len(), 1, "{rendered}");
    assert_eq!(
        incomplete[0].diagnostic.code,
        "policy::analysis::incomplete"
    );
    assert!(
        incomplete[0].diagnostic.message.contains("budget"),
        "{rendered}"
    );
    assert!(
        !incomplete[0].diagnostic.is_error(),
        "a warning: {rendered}"
    );
    // No rule is called dead: the walk did not finish.
    assert!(
        findings_of(FindingKind::DeadRule, &findings).is_empty(),
        "{rendered}"
    );
    // The gaps found before the budget ran out are real.
    for gap in findings_of(FindingKind::Gap, &findings) {
        if let Some(witness) = &gap.witness {
            assert!(witness.confirmed, "{rendered}");
            assert_eq!(run(&policy, "refund", witness).0, NO_RULE);
        }
    }
    // The budget counts steps, not time.
    let again = analyze(&policy);
    assert_eq!(
        render_all(&policy, &all_diagnostics(&policy, &again)),
        rendered
    );

    let dir = std::env::temp_dir().join(format!("policy-analysis-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("beyond-the-budget.policy");
    std::fs::write(&path, &text).unwrap();
    let (code, stderr) = policy_check(&["--deny", "warnings", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("policy::analysis::incomplete"), "{stderr}");
    assert!(stderr.contains("denied by --deny warnings"), "{stderr}");
}

#[test]
fn extreme_constants_are_analysed_without_a_panic() {
    let guards: Vec<String> = [
        "price > 17000000000.5",
        "price < 99999999999999999999.0 and price * 1000000 > 1",
        "x > 9223372036854775000",
        "x < 9223372036854775807 - 1 and x * 1000000000 > x",
        "paid_at > now + 2000000 hours",
        "now < paid_at - 99999 hours",
    ]
    .iter()
    .map(|g| g.to_string())
    .collect();
    let text = generated(
        "extremes",
        "field x: int\nfield paid_at: timestamp\n",
        &guards,
    );
    let policy = load_text("extremes", &text);
    let findings = analyze(&policy);
    let rendered = render_all(&policy, &all_diagnostics(&policy, &findings));
    for gap in findings_of(FindingKind::Gap, &findings) {
        if let Some(witness) = &gap.witness {
            assert!(witness.confirmed, "{rendered}");
            assert_eq!(run(&policy, "refund", witness).0, NO_RULE, "{rendered}");
        }
    }
}

/// The rule that a single offset would call dead decides orders in the 25th hour of a day that has one.
#[test]
fn the_rule_for_the_25th_hour_is_reachable() {
    for (case, paid_at, at) in [
        (
            "gap_zone_dst_back",
            "2026-11-01T00:30:00-04:00",
            "2026-11-01T23:30:00-05:00",
        ),
        (
            "gap_zone_no_midnight",
            "2026-11-01T00:30:00-04:00",
            "2026-11-01T23:30:00-05:00",
        ),
    ] {
        let (policy, _) = load(&root().join(format!("tests/cases/analysis/clean/{case}.policy")));
        let mut order = serde_json::Map::new();
        order.insert("paid_at".into(), paid_at.into());
        order.insert("price".into(), "10.00".into());
        order.insert("requested_at".into(), at.into());
        let witness = Witness {
            order,
            at: at.to_string(),
            confirmed: true,
        };
        assert_eq!(run(&policy, "refund", &witness).0, "last_hour", "{case}");
    }
}
