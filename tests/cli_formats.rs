//! The machine-readable outputs of `policy check` (`--format json|sarif`) and `policy test`
//! (`--format json|junit`): the SARIF log validates against the SARIF 2.1.0 schema, the JUnit report
//! reads back with a JUnit parser, the JSON documents are pinned by snapshots, and the exit status
//! does not depend on the format.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value as Json;

const FORMATS: &str = "tests/data/formats/";

fn policy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .output()
        .expect("the policy binary runs")
}

fn stdout_json(output: &Output) -> Json {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn sarif_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let mut schema: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Two patterns of the published schema, those of `run.language` and `toolComponent.language`
    // (which `policy` never writes), have a stray `]` that an ECMA-262 regular expression in Unicode
    // mode refuses, so the schema fails its own meta-schema. The file stays as published; the test
    // mends those patterns in memory.
    for at in ["run", "toolComponent"] {
        let language = schema
            .pointer_mut(&format!("/definitions/{at}/properties/language/pattern"))
            .expect("the schema has the language pattern");
        assert_eq!(language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *language = Json::from("^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$");
    }
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(log: &Json) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}\n{log:#}");
}

#[test]
fn sarif_of_errors_warnings_suppressions_and_suggestions_validates_against_the_schema() {
    let output = policy(&["check", "--format", "sarif", FORMATS]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    // Nothing rendered on standard error: the log is the whole answer.
    assert!(output.stderr.is_empty(), "{output:?}");
    let log = stdout_json(&output);
    assert_valid_sarif(&log);

    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let results = run["results"].as_array().unwrap();
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for result in results {
        // Each result names its rule by id and by index, and they agree.
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    let by_rule = |id: &str| -> Vec<&Json> {
        results
            .iter()
            .filter(|r| r["ruleId"] == format!("policy::{id}"))
            .collect()
    };
    // The error, with its did-you-mean as a fix replacing the name as written.
    let unknown = by_rule("check::unknown_name");
    assert_eq!(unknown.len(), 1, "{results:#?}");
    assert_eq!(unknown[0]["level"], "error");
    let region = &unknown[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(9), Some(45))
    );
    let replacement = &unknown[0]["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "paid_at");
    assert_eq!(replacement["deletedRegion"], *region);
    // The dead rule the file allows: present, suppressed in source, with the reason as justification.
    let dead = by_rule("analysis::dead_rule");
    assert_eq!(dead.len(), 2, "{results:#?}");
    let suppressed: Vec<&&Json> = dead
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{dead:#?}");
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "kept to show the document's own wording; see ticket 12"
    );
    // The finding the dead rule is pre-empted by is a related location.
    assert!(dead
        .iter()
        .all(|r| r["relatedLocations"][0]["message"]["text"] == "matches first"));
    // The suppression that silences nothing is a warning of its own; the gap too.
    assert_eq!(by_rule("check::unused_suppression")[0]["level"], "warning");
    assert_eq!(by_rule("analysis::gap")[0]["level"], "warning");
}

#[test]
fn sarif_of_the_shipped_policies_validates_and_keeps_their_suppressions() {
    for folder in ["policies/", "examples/policies/"] {
        let output = policy(&[
            "check",
            "--format",
            "sarif",
            "--deny",
            "warnings",
            // Within 90 days of the end of the `cn` calendar: the suppressions of its warning apply.
            "--at",
            "2026-12-01T00:00:00+08:00",
            folder,
        ]);
        assert_eq!(output.status.code(), Some(0), "{folder}: {output:?}");
        assert_valid_sarif(&stdout_json(&output));
    }
}

#[test]
fn the_json_of_check_is_pinned() {
    let output = policy(&["check", "--format", "json", FORMATS]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    let json = stdout_json(&output);
    insta::assert_snapshot!("check_json_formats", format!("{json:#}"));
}

#[test]
fn the_format_does_not_change_the_exit_status() {
    let cases: [(&[&str], i32); 4] = [
        (&["check", FORMATS], 1),
        (&["check", "tests/data/formats/warns.policy"], 0),
        (
            &[
                "check",
                "--deny",
                "warnings",
                "tests/data/formats/warns.policy",
            ],
            1,
        ),
        (&["check", "--deny", "warnings", "policies/"], 0),
    ];
    for (args, status) in cases {
        for format in ["text", "json", "sarif"] {
            let mut with = args.to_vec();
            with.extend(["--format", format]);
            let output = policy(&with);
            assert_eq!(output.status.code(), Some(status), "{with:?}: {output:?}");
            if format != "text" {
                let json = stdout_json(&output);
                if format == "json" {
                    assert_eq!(json["passed"], status == 0, "{with:?}");
                }
            }
        }
    }
}

const TEST_ARGS: [&str; 3] = [
    "test",
    "tests/data/test-formats/",
    "tests/data/formats/broken.policy",
];

/// A failed example: file, line, action, name.
type Failure = (String, u64, String, String);

/// The text output's failures (each `FAIL` line), and the closing counts.
fn text_failures() -> (Vec<Failure>, (u64, u64)) {
    let output = policy(&TEST_ARGS);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let mut failures = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("FAIL ")) {
        // FAIL FILE:LINE:COL: action `A`, example "NAME"
        let (place, rest) = line["FAIL ".len()..].split_once(": action `").unwrap();
        let mut parts = place.rsplitn(3, ':');
        let (_col, line_no, file) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        let (action, name) = rest.split_once("`, example \"").unwrap();
        failures.push((
            file.to_string(),
            line_no.parse().unwrap(),
            action.to_string(),
            name.strip_suffix('"').unwrap().to_string(),
        ));
    }
    let last = text.lines().last().unwrap();
    let (passed, failed) = last.split_once(" passed, ").unwrap();
    let failed = failed.trim_end_matches(" failed");
    (failures, (passed.parse().unwrap(), failed.parse().unwrap()))
}

#[test]
fn junit_reads_back_with_the_counts_and_failures_of_the_text_output() {
    let (failures, (passed, failed)) = text_failures();
    let output = policy(&[TEST_ARGS.as_slice(), &["--format", "junit"]].concat());
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report =
        junit_parser::from_reader(std::io::Cursor::new(&output.stdout)).unwrap_or_else(|e| {
            panic!(
                "JUnit does not read ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        });
    assert_eq!(report.tests, passed + failed);
    assert_eq!(report.failures + report.errors, failed);
    assert_eq!(report.errors, 1, "the file that does not check");
    let mut read_failures = Vec::new();
    for suite in &report.suites {
        for case in &suite.cases {
            if case.status.is_failure() {
                let (policy, action) = case.classname.as_deref().unwrap().split_once('.').unwrap();
                assert_eq!(policy, "mixed");
                read_failures.push((
                    case.file.clone().unwrap(),
                    case.line.unwrap(),
                    action.to_string(),
                    case.original_name.clone(),
                ));
                let junit_parser::TestStatus::Failure(failure) = &case.status else {
                    unreachable!()
                };
                assert_eq!(failure.message, "the decision differs in outcome, rule");
                assert!(
                    failure.text.contains("expected: \"allowed\""),
                    "{failure:?}"
                );
            }
            if case.status.is_error() {
                assert_eq!(case.original_name, "load");
            }
        }
    }
    assert_eq!(read_failures, failures);
    assert_eq!(failures[0].3, "wrong on purpose: <8 days> & \"quoted\"");
}

#[test]
fn the_json_of_test_has_the_counts_of_the_text_output_and_is_pinned() {
    let (failures, (passed, failed)) = text_failures();
    let output = policy(&[TEST_ARGS.as_slice(), &["--format", "json"]].concat());
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let json = stdout_json(&output);
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(passed), Some(failed))
    );
    let failed_examples: Vec<Failure> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|file| {
            file["examples"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["passed"] == false)
                .map(|e| {
                    (
                        file["file"].as_str().unwrap().to_string(),
                        e["span"]["line"].as_u64().unwrap(),
                        e["action"].as_str().unwrap().to_string(),
                        e["name"].as_str().unwrap().to_string(),
                    )
                })
        })
        .collect();
    assert_eq!(failed_examples, failures);
    insta::assert_snapshot!("test_json_formats", format!("{json:#}"));
}

#[test]
fn the_shipped_policies_pass_in_every_format() {
    for format in ["text", "json", "junit"] {
        let output = policy(&["test", "--format", format, "policies/"]);
        assert_eq!(output.status.code(), Some(0), "{format}: {output:?}");
    }
}

const PARTIAL: &str = "tests/data/coverage/partial.policy";

#[test]
fn coverage_names_what_the_examples_leave_untested() {
    let output = policy(&["test", "--coverage", PARTIAL]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let expected = format!(
        "coverage {PARTIAL}: rules 5/6 (83.3%), window edges 1/2 (50.0%), field windows 0/1 (0.0%), \
         enum values 2/3 (66.7%)\n\
         \x20 {PARTIAL}:28:8: rule `suspended_orders` of action `refund`: no example decides it\n\
         \x20 {PARTIAL}:23:39: window edge `now within 7 calendar days after paid_at` of rule `slow`: no \
         example in the second from it\n\
         \x20 {PARTIAL}:61:47: field window `delivered_at within 24 hours after paid_at` of rule \
         `in_time`: no example at its edge where it fails\n\
         \x20 enum value Status::suspended: no example's order uses it\n\
         coverage total: rules 5/6 (83.3%), window edges 1/2 (50.0%), field windows 0/1 (0.0%), enum \
         values 2/3 (66.7%)\n\
         6 passed, 0 failed\n"
    );
    assert_eq!(text, expected);
}

#[test]
fn min_coverage_fails_below_the_threshold_and_keeps_the_closing_line_last() {
    // Rules 83.3%; window edges, those on the request time and the field windows together, 1 of 3.
    for (min, status) in [("100", 1), ("50", 1), ("33", 0), ("0", 0)] {
        let output = policy(&["test", "--min-coverage", min, PARTIAL]);
        assert_eq!(output.status.code(), Some(status), "{min}: {output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.ends_with("6 passed, 0 failed\n"), "{text}");
        assert_eq!(
            text.contains("coverage below --min-coverage"),
            status == 1,
            "{text}"
        );
    }
    let json = stdout_json(&policy(&[
        "test",
        "--format",
        "json",
        "--min-coverage",
        "75",
        PARTIAL,
    ]));
    assert_eq!(json["coverage"]["passed"], false);
    // Out of range, or with JUnit: a usage error.
    assert_eq!(
        policy(&["test", "--min-coverage", "101", PARTIAL])
            .status
            .code(),
        Some(2)
    );
    let junit = policy(&["test", "--coverage", "--format", "junit", PARTIAL]);
    assert_eq!(junit.status.code(), Some(2), "{junit:?}");
}

#[test]
fn the_json_of_coverage_is_pinned() {
    let output = policy(&["test", "--format", "json", "--coverage", PARTIAL]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let json = stdout_json(&output);
    insta::assert_snapshot!("coverage_json_partial", format!("{:#}", json["coverage"]));
}

/// The shipped policies: every rule decided by an example, every window edge with an example in the
/// second before it and one in the second from it.
#[test]
fn the_shipped_policies_reach_full_rule_and_edge_coverage() {
    for folder in ["policies/", "examples/policies/"] {
        let output = policy(&["test", "--format", "json", "--min-coverage", "100", folder]);
        assert_eq!(output.status.code(), Some(0), "{folder}: {output:?}");
        let coverage = &stdout_json(&output)["coverage"];
        for measure in ["rules", "window_edges", "field_windows"] {
            assert_eq!(coverage[measure]["percent"], 100.0, "{folder} {measure}");
            assert!(
                coverage[measure]["total"].as_u64().unwrap() > 0,
                "{folder} {measure}"
            );
        }
        assert_eq!(coverage["passed"], true);
    }
}

/// Each analysis and check warning silenced where it is located (the action's line for a gap, the
/// rule's for a dead rule, the declaration's for an unused name) no longer fails `--deny warnings`,
/// and every output keeps it as suppressed, with its whole reason.
#[test]
fn suppressed_findings_pass_deny_warnings_and_stay_in_every_output() {
    const SUPPRESS: &str = "tests/data/suppress/";
    let text = policy(&["check", "--deny", "warnings", SUPPRESS]);
    assert_eq!(text.status.code(), Some(0), "{text:?}");
    assert!(String::from_utf8_lossy(&text.stderr)
        .ends_with("checked 1 file: 0 errors, 0 warnings (4 allowed by `# allow`)\n"));
    let json = stdout_json(&policy(&[
        "check", "--deny", "warnings", "--format", "json", SUPPRESS,
    ]));
    let suppressed: Vec<(&str, u64, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["span"]["line"].as_u64().unwrap(),
                d["suppressed"]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        suppressed,
        [
            (
                "policy::check::unused_field",
                14,
                "the order carries it for the ledger, which reads it after the decision"
            ),
            ("policy::check::unused_definition", 17, "kept for the next version of the terms"),
            (
                "policy::analysis::gap",
                21,
                "the terms say nothing of closed or archived orders after seven days; see ticket 12"
            ),
            (
                "policy::analysis::dead_rule",
                27,
                "the terms repeat the seven-day rule for suspended orders"
            ),
        ]
    );
    assert_eq!(
        (json["warnings"].as_u64(), json["suppressed"].as_u64()),
        (Some(0), Some(4))
    );
    let sarif = policy(&["check", "--deny", "warnings", "--format", "sarif", SUPPRESS]);
    assert_eq!(sarif.status.code(), Some(0), "{sarif:?}");
    let log = stdout_json(&sarif);
    assert_valid_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert!(results
        .iter()
        .all(|r| r["suppressions"][0]["kind"] == "inSource"));
}

/// A finding about the run, at no place in a policy (a calendar file that does not read), is an error
/// of code `policy::check::run` without a span in JSON, and a result without a region in SARIF.
#[test]
fn run_errors_have_a_code_and_no_place() {
    let args = [
        "check",
        "--calendars",
        "tests/data/broken-calendars",
        "tests/data/formats/warns.policy",
    ];
    let json = policy(&[args.as_slice(), &["--format", "json"]].concat());
    assert_eq!(json.status.code(), Some(1), "{json:?}");
    let json = stdout_json(&json);
    let run = &json["diagnostics"][0];
    assert_eq!(run["code"], "policy::check::run");
    assert_eq!(run["severity"], "error");
    assert_eq!(run["span"], Json::Null);
    assert!(
        run["message"].as_str().unwrap().contains("zz.calendar"),
        "{run}"
    );
    let sarif = policy(&[args.as_slice(), &["--format", "sarif"]].concat());
    assert_eq!(sarif.status.code(), Some(1), "{sarif:?}");
    let log = stdout_json(&sarif);
    assert_valid_sarif(&log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "policy::check::run");
    assert_eq!(result["level"], "error");
}
