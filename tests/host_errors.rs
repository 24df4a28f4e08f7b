//! Errors as a host meets them: every error type is a `std::error::Error` (so `?` carries it into
//! `Box<dyn Error>` or anyhow), carries a kind to match on, and says everything in its `Display`: a
//! `LoadError` renders its diagnostics, plain; an `OrderError` serialises to the CLI's error record.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::Path;
use std::process::Command;

use policy::calendar::Calendar;
use policy::eval::{CalendarProblem, ErrorRecord, Policy};
use policy::{Instant, LoadError, LoadErrorKind, OrderError, OrderErrorKind};

const LEGACY: &str = "policies/alibaba-ssl-refund-legacy.policy";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn legacy() -> Policy {
    Policy::load(&manifest().join(LEGACY)).unwrap()
}

fn at() -> Instant {
    Instant::parse("2024-12-03T10:00:00+08:00").unwrap()
}

/// A policy with two mistakes: a field misspelt in a rule, an unknown unit.
const BROKEN: &str = r#"policy broken
  document "doc.txt" "Refund rules"
  zone "Asia/Shanghai"

field paid_at: timestamp
field price: money

action refund {
  default amount = price

  rule in_window
    when now within 7 calendar days after paid_on
    then allowed
    because "within the window"
      cite "Refunds: within 7 days."

  rule late
    then denied
    because "too late"
      cite "Refunds: not after."
}
"#;

fn is_error<E: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn every_error_type_is_a_std_error() {
    is_error::<LoadError>();
    is_error::<OrderError>();
    is_error::<policy::SetError>();
    is_error::<policy::SetProblem>();
    is_error::<policy::files::FilesError>();
    is_error::<CalendarProblem>();
    is_error::<policy::calendar::CalendarFileError>();
    is_error::<policy::eval::TimestampError>();
    is_error::<policy::time::OutOfRange>();
    is_error::<policy::batch::BatchError>();
}

#[test]
fn errors_travel_with_the_question_mark() {
    fn decide() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let policy = Policy::from_source("broken.policy", BROKEN, &Default::default())?;
        policy.decide_json("refund", "{}", Instant::parse("2026-01-01T00:00:00Z")?)?;
        Ok(())
    }
    let error = decide().unwrap_err();
    let load = error.downcast_ref::<LoadError>().unwrap();
    assert_eq!(load.kind(), LoadErrorKind::Invalid);
}

#[test]
fn a_load_error_renders_its_diagnostics_plain() {
    let error = Policy::from_source("broken.policy", BROKEN, &Default::default()).unwrap_err();
    assert_eq!(error.kind(), LoadErrorKind::Invalid);
    assert_eq!(error.diagnostics().len(), 1);
    let text = error.to_string();
    assert!(!text.contains('\u{1b}'), "no colours: {text:?}");
    assert!(!text.ends_with('\n'), "no trailing newline: {text:?}");
    insta::assert_snapshot!("load_error_display", text);
}

#[test]
fn a_load_error_counts_errors_and_warnings() {
    // Two errors (an unknown name twice over) and the warnings found with them.
    let twice = BROKEN.replace("then denied", "when paid_on > now\n    then denied");
    let error = Policy::from_source("twice.policy", &twice, &Default::default()).unwrap_err();
    let errors = error.diagnostics().iter().filter(|d| d.is_error()).count();
    assert_eq!(errors, 2, "{error}");
    let first = error.to_string().lines().next().unwrap().to_string();
    assert!(
        first.starts_with("`twice.policy` does not check: 2 errors"),
        "{first}"
    );
    assert_eq!(
        error
            .to_string()
            .matches("policy::check::unknown_name")
            .count(),
        2
    );
}

#[test]
fn a_file_that_cannot_be_read_is_an_io_load_error() {
    let missing = manifest().join("policies/no-such.policy");
    let error = Policy::load(&missing).unwrap_err();
    assert_eq!(error.kind(), LoadErrorKind::Io);
    assert!(error.diagnostics().is_empty());
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("cannot read `{}`: ", missing.display())),
        "{text}"
    );
}

#[test]
fn order_errors_have_kinds() {
    let policy = legacy();
    let input = policy
        .decide_json("refund", r#"{"id":"o-1","status":"issued"}"#, at())
        .unwrap_err();
    assert_eq!(input.kind(), OrderErrorKind::Input);
    let not_json = policy.decide_json("refund", "[1]", at()).unwrap_err();
    assert_eq!(not_json.kind(), OrderErrorKind::Input);
    let order = policy
        .read_order_str(
            r#"{"id":"o-2","paid_at":"2024-12-01T12:00:00+08:00","price":"80","status":"verifying"}"#,
        )
        .unwrap();
    let unknown = policy.decide("refnud", &order, at()).unwrap_err();
    assert_eq!(unknown.kind(), OrderErrorKind::UnknownAction);
    assert_eq!(
        unknown.to_string(),
        "order `o-2`: policy `alibaba-ssl-refund-legacy` has no action `refnud` (it has: refund)"
    );
    let eval = OrderError::Eval {
        order: None,
        message: "a formula divides by zero".into(),
    };
    assert_eq!(eval.kind(), OrderErrorKind::Eval);
}

#[test]
fn an_order_error_serialises_to_the_error_record() {
    let policy = legacy();
    let error = policy
        .decide_json(
            "refund",
            r#"{"id":"o-1","paid_at":"2024-12-01T12:00:00+08:00","price":"80","status":"issued"}"#,
            at(),
        )
        .unwrap_err();
    assert_eq!(
        serde_json::to_string(&error).unwrap(),
        r#"{"order":"o-1","error":"order `o-1`: field `issued_at`: is missing; it is required when `status in {issued, revoking, revoked}`"}"#
    );
    let record = ErrorRecord {
        order: error.order(),
        line: None,
        error: &error.to_string(),
    };
    assert_eq!(
        serde_json::to_value(&error).unwrap(),
        serde_json::to_value(record).unwrap()
    );
    let anonymous = policy.decide_json("refund", "[]", at()).unwrap_err();
    assert_eq!(
        serde_json::to_string(&anonymous).unwrap(),
        r#"{"order":null,"error":"order (no id): expected a JSON object, found an array"}"#
    );
}

/// `policy eval --order` prints exactly what `OrderError` serialises to.
#[test]
fn the_cli_prints_the_serialised_order_error() {
    let text = r#"{"id":"cli-1","paid_at":"2024-12-01T12:00:00+08:00","price":"80","status":"revoked","issued_at":"2024-12-02T10:00:00+08:00"}"#;
    let file = std::env::temp_dir().join(format!("policy-host-errors-{}.json", std::process::id()));
    std::fs::write(&file, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args([
            "eval",
            "--policy",
            LEGACY,
            "--at",
            "2024-12-03T10:00:00+08:00",
        ])
        .arg("--order")
        .arg(&file)
        .current_dir(manifest())
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let error = legacy().decide_json("refund", text, at()).unwrap_err();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{}\n", serde_json::to_string(&error).unwrap())
    );
}

#[test]
fn a_calendar_file_error_is_a_std_error_with_its_line() {
    let error = Calendar::parse("x.calendar", "name x\nweekend sundae\n").unwrap_err();
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert!(boxed.to_string().starts_with("x.calendar:2: "), "{boxed}");
}
