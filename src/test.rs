//! `policy test`

use std::path::{Path, PathBuf};

use crate::output::{Stop, Terminal};
use policy::eval::{
    example_coverage, percent, run_examples, ExampleCoverage, ExampleResult, FileContents,
    LoadError, Policy,
};
use policy::files::load_calendars;
use policy::report;

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Policy files or folders (default: `policies/`).
    pub paths: Vec<PathBuf>,
    /// The folder of calendar files (default: `calendars/` beside each policy).
    #[arg(long, value_name = "DIR")]
    pub calendars: Option<PathBuf>,
    /// How results are written: `text` (each failure, then `N passed, N failed`), `json` or `junit`
    /// (JUnit XML), on standard output (docs/output-formats.md). The exit status is the same.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    /// Also report what the examples leave untested: rules no example decides, window edges without
    /// an example in the second on each side, enum values no example's order uses (docs/language.md
    /// §10.1). Written as text, or inside the JSON document with `--format json`.
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit 1) when the examples decide fewer than PCT percent of the rules, or cover fewer than
    /// PCT percent of the window edges, over all the files run. Implies `--coverage`.
    #[arg(long, value_name = "PCT", value_parser = min_coverage)]
    pub min_coverage: Option<f64>,
}

/// A percentage, 0 to 100.
fn min_coverage(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(pct) if (0.0..=100.0).contains(&pct) => Ok(pct),
        _ => Err("a percentage from 0 to 100".into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    /// Each failure with its fields' expected and actual values, then `N passed, N failed`.
    Text,
    /// One JSON document: every example of every file, with its mismatches.
    Json,
    /// JUnit XML: a test suite per file, a test case per example.
    Junit,
}

/// The examples of one policy file, run.
struct FileRun {
    path: PathBuf,
    /// The policy (its source, for places) and its results; the reason it could not run otherwise.
    outcome: Result<(Policy, Vec<ExampleResult>), String>,
}

pub fn run(args: TestArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    terminal.require_stdout()?;
    let coverage = args.coverage || args.min_coverage.is_some();
    if coverage && args.format == TestFormat::Junit {
        return Err(Stop::Error(
            "--coverage is written as text or JSON: use it with `--format text` or `--format json`"
                .into(),
        ));
    }
    let files = crate::policy_files(&args.paths)?;
    let mut runs = Vec::new();
    for path in &files {
        let outcome = match load_reporting(path, args.calendars.as_deref(), terminal)? {
            Ok(FileContents::Policy(policy)) => {
                let results = run_examples(&policy);
                Ok((policy, results))
            }
            // A library has no examples: the policies that import it test it.
            Ok(FileContents::Library { .. }) => continue,
            Err(message) => {
                terminal.err(format_args!("error: {message}\n"))?;
                Err(message)
            }
        };
        runs.push(FileRun {
            path: path.clone(),
            outcome,
        });
    }
    let (passed, failed) = counts(&runs);
    let measured: Vec<(&FileRun, ExampleCoverage)> = if coverage {
        runs.iter()
            .filter_map(|run| match &run.outcome {
                Ok((policy, _)) => Some((run, example_coverage(policy))),
                Err(_) => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let totals = Totals::of(measured.iter().map(|(_, c)| c));
    let below = args.min_coverage.filter(|&min| totals.below(min));
    match args.format {
        TestFormat::Text => {
            text(&runs, terminal)?;
            if coverage {
                coverage_text(&measured, &totals, terminal)?;
            }
            if let Some(min) = below {
                terminal.out(format_args!(
                    "coverage below --min-coverage {min}%: rules {:.1}%, window edges (with field windows) {:.1}%\n",
                    totals.rules_pct(),
                    totals.edges_pct()
                ))?;
            }
            terminal.out(format_args!("{passed} passed, {failed} failed\n"))?;
        }
        TestFormat::Json => {
            let mut document = json(&runs);
            if coverage {
                document["coverage"] = coverage_json(&measured, &totals, args.min_coverage);
            }
            terminal.out(format_args!("{document:#}\n"))?;
        }
        TestFormat::Junit => terminal.out(format_args!("{}", junit(&runs)))?,
    }
    Ok(failed == 0 && below.is_none())
}

/// Coverage added up over the files run.
#[derive(Debug, Default)]
struct Totals {
    rules: (usize, usize),
    edges: (usize, usize),
    field_windows: (usize, usize),
    enum_values: (usize, usize),
}

impl Totals {
    fn of<'a>(all: impl Iterator<Item = &'a ExampleCoverage>) -> Totals {
        let add = |a: (usize, usize), b: (usize, usize)| (a.0 + b.0, a.1 + b.1);
        all.fold(Totals::default(), |t, c| Totals {
            rules: add(t.rules, c.rules_covered()),
            edges: add(t.edges, c.edges_covered()),
            field_windows: add(t.field_windows, c.field_windows_covered()),
            enum_values: add(t.enum_values, c.enum_values_covered()),
        })
    }

    fn rules_pct(&self) -> f64 {
        percent(self.rules.0, self.rules.1)
    }

    /// Window edges: those on the request time and those between the order's own times.
    fn edges_pct(&self) -> f64 {
        percent(
            self.edges.0 + self.field_windows.0,
            self.edges.1 + self.field_windows.1,
        )
    }

    /// Whether rules or window edges are covered below `min` percent.
    fn below(&self, min: f64) -> bool {
        self.rules_pct() < min || self.edges_pct() < min
    }
}

/// `covered/total (P%)`.
fn ratio((covered, total): (usize, usize)) -> String {
    format!("{covered}/{total} ({:.1}%)", percent(covered, total))
}

fn coverage_text(
    measured: &[(&FileRun, ExampleCoverage)],
    totals: &Totals,
    terminal: &mut Terminal,
) -> Result<(), Stop> {
    for (run, c) in measured {
        let Ok((policy, _)) = &run.outcome else {
            continue;
        };
        let file = run.path.display();
        terminal.out(format_args!(
            "coverage {file}: rules {}, window edges {}, field windows {}, enum values {}\n",
            ratio(c.rules_covered()),
            ratio(c.edges_covered()),
            ratio(c.field_windows_covered()),
            ratio(c.enum_values_covered())
        ))?;
        let at = |span: policy::source::Span| {
            let (line, col) = policy.source().line_col(span.start);
            format!("{file}:{line}:{col}")
        };
        for rule in c.rules.iter().filter(|r| r.examples == 0) {
            terminal.out(format_args!(
                "  {}: rule `{}` of action `{}`: no example decides it\n",
                at(rule.span),
                rule.rule,
                rule.action
            ))?;
        }
        for edge in c.edges.iter().filter(|e| !e.covered()) {
            let missing = match (edge.below, edge.above) {
                (0, 0) => "in the second before it nor in the second from it",
                (0, _) => "in the second before it",
                _ => "in the second from it",
            };
            terminal.out(format_args!(
                "  {}: window edge `{}` of rule `{}`: no example {missing}\n",
                at(edge.span),
                written(policy, edge.span),
                edge.rule
            ))?;
        }
        for window in c.field_windows.iter().filter(|w| !w.covered()) {
            let missing = match (window.holding, window.failing) {
                (0, 0) => "on either side",
                (0, _) => "where it holds",
                _ => "where it fails",
            };
            terminal.out(format_args!(
                "  {}: field window `{}` of rule `{}`: no example at its edge {missing}\n",
                at(window.span),
                written(policy, window.span),
                window.rule
            ))?;
        }
        for value in c.enum_values.iter().filter(|v| v.examples == 0) {
            terminal.out(format_args!(
                "  enum value {}::{}: no example's order uses it\n",
                value.enum_name, value.value
            ))?;
        }
    }
    terminal.out(format_args!(
        "coverage total: rules {}, window edges {}, field windows {}, enum values {}\n",
        ratio(totals.rules),
        ratio(totals.edges),
        ratio(totals.field_windows),
        ratio(totals.enum_values)
    ))
}

/// The text of the policy at `span`.
fn written(policy: &Policy, span: policy::source::Span) -> &str {
    policy
        .source()
        .text
        .get(span.start as usize..span.end as usize)
        .unwrap_or("")
}

fn coverage_json(
    measured: &[(&FileRun, ExampleCoverage)],
    totals: &Totals,
    min: Option<f64>,
) -> serde_json::Value {
    use serde_json::json;
    let counts = |(covered, total): (usize, usize)| json!({ "covered": covered, "total": total, "percent": percent(covered, total) });
    let files: Vec<serde_json::Value> = measured
        .iter()
        .filter_map(|(run, c)| {
            let (policy, _) = run.outcome.as_ref().ok()?;
            let source = policy.source();
            let rules: Vec<serde_json::Value> = c
                .rules
                .iter()
                .map(|r| {
                    json!({
                        "action": r.action, "rule": r.rule, "examples": r.examples,
                        "span": report::span_json(source, r.span),
                    })
                })
                .collect();
            let edges: Vec<serde_json::Value> = c
                .edges
                .iter()
                .map(|e| {
                    json!({
                        "action": e.action, "rule": e.rule, "below": e.below, "above": e.above,
                        "covered": e.covered(),
                        "text": written(policy, e.span),
                        "span": report::span_json(source, e.span),
                    })
                })
                .collect();
            let windows: Vec<serde_json::Value> = c
                .field_windows
                .iter()
                .map(|w| {
                    json!({
                        "action": w.action, "rule": w.rule, "holding": w.holding,
                        "failing": w.failing, "covered": w.covered(),
                        "text": written(policy, w.span),
                        "span": report::span_json(source, w.span),
                    })
                })
                .collect();
            let values: Vec<serde_json::Value> = c
                .enum_values
                .iter()
                .map(|v| json!({ "enum": v.enum_name, "value": v.value, "examples": v.examples }))
                .collect();
            Some(json!({
                "file": run.path.display().to_string(),
                "policy": policy.name(),
                "rules": counts(c.rules_covered()),
                "window_edges": counts(c.edges_covered()),
                "field_windows": counts(c.field_windows_covered()),
                "enum_values": counts(c.enum_values_covered()),
                "rule_list": rules,
                "edge_list": edges,
                "field_window_list": windows,
                "enum_value_list": values,
            }))
        })
        .collect();
    json!({
        "rules": counts(totals.rules),
        "window_edges": counts(totals.edges),
        "field_windows": counts(totals.field_windows),
        "enum_values": counts(totals.enum_values),
        "min_coverage": min,
        "passed": min.is_none_or(|min| !totals.below(min)),
        "files": files,
    })
}

/// Examples passed; examples failed plus files that could not run.
fn counts(runs: &[FileRun]) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for run in runs {
        match &run.outcome {
            Ok((_, results)) => {
                let ok = results.iter().filter(|r| r.passed()).count();
                passed += ok;
                failed += results.len() - ok;
            }
            Err(_) => failed += 1,
        }
    }
    (passed, failed)
}

fn text(runs: &[FileRun], terminal: &mut Terminal) -> Result<(), Stop> {
    for run in runs {
        let Ok((policy, results)) = &run.outcome else {
            continue;
        };
        for result in results.iter().filter(|r| !r.passed()) {
            let (line, col) = policy.source().line_col(result.span.start);
            terminal.out(format_args!(
                "FAIL {}:{line}:{col}: action `{}`, example \"{}\"\n",
                run.path.display(),
                result.action,
                result.name
            ))?;
            for m in &result.mismatches {
                terminal.out(format_args!(
                    "  {}:\n    expected: {}\n    actual:   {}\n",
                    m.field, m.expected, m.actual
                ))?;
            }
        }
    }
    Ok(())
}

fn json(runs: &[FileRun]) -> serde_json::Value {
    use serde_json::json;
    let (passed, failed) = counts(runs);
    let files: Vec<serde_json::Value> = runs
        .iter()
        .map(|run| match &run.outcome {
            Ok((policy, results)) => {
                let examples: Vec<serde_json::Value> = results
                    .iter()
                    .map(|r| {
                        let mismatches: Vec<serde_json::Value> = r
                            .mismatches
                            .iter()
                            .map(|m| {
                                json!({ "field": m.field, "expected": m.expected, "actual": m.actual })
                            })
                            .collect();
                        json!({
                            "action": r.action,
                            "name": r.name,
                            "passed": r.passed(),
                            "span": report::span_json(policy.source(), r.span),
                            "mismatches": mismatches,
                        })
                    })
                    .collect();
                json!({
                    "file": run.path.display().to_string(),
                    "policy": policy.name(),
                    "error": null,
                    "examples": examples,
                })
            }
            Err(message) => json!({
                "file": run.path.display().to_string(),
                "policy": null,
                "error": message,
                "examples": [],
            }),
        })
        .collect();
    json!({
        "version": report::JSON_VERSION,
        "passed": passed,
        "failed": failed,
        "files": files,
    })
}

/// JUnit XML: a `testsuite` per file, a `testcase` per example; a file that does not load is one test
/// case in error.
fn junit(runs: &[FileRun]) -> String {
    use std::fmt::Write;
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0usize, 0usize, 0usize);
    for run in runs {
        let file = run.path.display().to_string();
        match &run.outcome {
            Ok((policy, results)) => {
                let failed = results.iter().filter(|r| !r.passed()).count();
                tests += results.len();
                failures += failed;
                let _ = writeln!(
                    suites,
                    "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">",
                    xml(&file),
                    results.len()
                );
                for r in results {
                    let (line, _) = policy.source().line_col(r.span.start);
                    let _ = write!(
                        suites,
                        "    <testcase classname=\"{}.{}\" name=\"{}\" file=\"{}\" line=\"{line}\"",
                        xml(policy.name()),
                        xml(&r.action),
                        xml(&r.name),
                        xml(&file)
                    );
                    if r.passed() {
                        suites.push_str("/>\n");
                        continue;
                    }
                    let fields: Vec<&str> = r.mismatches.iter().map(|m| m.field.as_str()).collect();
                    let mut details = String::new();
                    for m in &r.mismatches {
                        let _ = write!(
                            details,
                            "{}:\n  expected: {}\n  actual:   {}\n",
                            m.field, m.expected, m.actual
                        );
                    }
                    let _ = write!(
                        suites,
                        ">\n      <failure message=\"{}\" type=\"mismatch\">{}</failure>\n    </testcase>\n",
                        xml(&format!("the decision differs in {}", fields.join(", "))),
                        xml_text(&details)
                    );
                }
                suites.push_str("  </testsuite>\n");
            }
            Err(message) => {
                tests += 1;
                errors += 1;
                let _ = write!(
                    suites,
                    "  <testsuite name=\"{0}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    \
                     <testcase classname=\"{0}\" name=\"load\" file=\"{0}\">\n      \
                     <error message=\"{1}\" type=\"load\">{1}</error>\n    </testcase>\n  </testsuite>\n",
                    xml(&file),
                    xml(message)
                );
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"policy test\" tests=\"{tests}\" \
         failures=\"{failures}\" errors=\"{errors}\">\n{suites}</testsuites>\n"
    )
}

/// Text as XML character data: `<` and `&` escaped, newlines and quotes kept as they are.
fn xml_text(text: &str) -> String {
    xml(text)
        .replace("&#10;", "\n")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
}

/// Text as an XML attribute value: the five special characters escaped, and the characters XML 1.0
/// cannot hold (control characters, `U+FFFE`, `U+FFFF`) written as `U+FFFD`.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Loads a policy file (or a library), printing its diagnostics when it does not check:
/// `Ok(Err(message))` then.
pub(crate) fn load_reporting(
    path: &Path,
    calendars: Option<&Path>,
    terminal: &mut Terminal,
) -> Result<Result<FileContents, String>, Stop> {
    let loaded = std::fs::read_to_string(path)
        .map_err(|error| LoadError::Io {
            path: path.to_path_buf(),
            error,
        })
        .and_then(|text| {
            Policy::from_file_text(
                path,
                &text,
                &load_calendars(&crate::calendar_folder(path, calendars)),
            )
        });
    Ok(match loaded {
        Ok(contents) => Ok(contents),
        Err(LoadError::Invalid { file, diagnostics }) => {
            for d in &diagnostics {
                terminal.err(format_args!("{}", crate::render(d, &file)))?;
            }
            Err(format!("`{}` does not check", path.display()))
        }
        Err(e) => Err(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::xml;

    /// Every character XML 1.0 forbids is replaced, so the JUnit report always parses.
    #[test]
    fn text_xml_cannot_hold_is_replaced() {
        assert_eq!(
            xml("a\u{ffff}b\u{fffe}c\u{1}<&\"\n"),
            "a\u{fffd}b\u{fffd}c\u{fffd}&lt;&amp;&quot;&#10;"
        );
        assert_eq!(xml("\u{10ffff}\u{fffd}"), "\u{10ffff}\u{fffd}");
    }
}
