//! The calendar coverage early warning (issue 10) and `# allow(CODE): REASON` suppressions: `policy
//! check` warns when a policy's calendar stops covering within a horizon (90 days by default) of today
//! or `--at`, and a suppression with a reason silences it.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use policy::analysis::{calendar_coverage, DEFAULT_HORIZON_DAYS};

use common::at;

/// A policy counting business days on a calendar covering 2026 only.
const POLICY: &str = r#"policy covered
  document "doc.txt"
  zone "America/New_York"
  calendar short

field price: money

action refund {
  rule always
    then allowed
    amount = price
    review_by = date(now) + 5 business days
    because "every order is refunded" cite "Refunds: always."
}
"#;

const CALENDAR: &str = "name short\ncovers 2026-01-01 2026-12-31\nweekend saturday sunday\n";

fn folder(name: &str, policy: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("policy-coverage-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&root).ok();
    std::fs::create_dir_all(root.join("calendars")).unwrap();
    std::fs::write(root.join("covered.policy"), policy).unwrap();
    std::fs::write(root.join("calendars/short.calendar"), CALENDAR).unwrap();
    root
}

fn check(root: &Path, args: &[&str]) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .arg("check")
        .args(["--deny", "warnings"])
        .args(args)
        .arg(root.join("covered.policy"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

fn policy() -> policy::Policy {
    let calendars = policy::files::load_calendars(&folder("lib", POLICY).join("calendars"))
        .complete()
        .unwrap();
    policy::Policy::from_source("covered.policy", POLICY, &calendars).unwrap()
}

/// The horizon's edge, to the day: the warning starts when today + 90 days passes the last date covered,
/// read in the policy's zone.
#[test]
fn the_warning_starts_the_day_the_horizon_passes_the_last_covered_date() {
    let policy = policy();
    // 2026-10-02 + 90 days = 2026-12-31: still covered.
    assert!(calendar_coverage(
        &policy,
        at("2026-10-02T23:59:59-04:00"),
        DEFAULT_HORIZON_DAYS
    )
    .is_none());
    // The same instant, but already 3 October in UTC, is 2 October in New York: no warning.
    assert!(calendar_coverage(&policy, at("2026-10-03T03:59:59Z"), DEFAULT_HORIZON_DAYS).is_none());
    let warning = calendar_coverage(
        &policy,
        at("2026-10-03T00:00:00-04:00"),
        DEFAULT_HORIZON_DAYS,
    )
    .unwrap();
    assert_eq!(warning.code, "policy::check::calendar_coverage");
    common::assert_mentions(
        &warning.message,
        &[
            "`short`",
            "until 2026-12-31",
            "from 2027-01-01, 90 days from 2026-10-03",
        ],
    );
    assert_eq!(
        &POLICY[warning.span.start as usize..warning.span.end as usize],
        "short"
    );
    // A shorter horizon, and a calendar already past.
    assert!(calendar_coverage(&policy, at("2026-12-01T00:00:00-05:00"), 30).is_none());
    let past = calendar_coverage(&policy, at("2027-02-01T00:00:00-05:00"), 0).unwrap();
    assert!(
        past.message.contains("stopped covering on 2026-12-31"),
        "{}",
        past.message
    );
}

#[test]
fn a_policy_without_calendar_has_no_coverage_warning() {
    let policy = common::policy("huawei-scm-unsubscribe");
    assert!(calendar_coverage(&policy, at("2030-01-01T00:00:00Z"), DEFAULT_HORIZON_DAYS).is_none());
}

#[test]
fn check_warns_denies_and_a_reasoned_allow_silences_the_warning() {
    let root = folder("cli", POLICY);
    let (output, stderr) = check(&root, &["--at", "2026-06-01T00:00:00Z"]);
    assert!(output.status.success(), "{stderr}");
    let (output, stderr) = check(&root, &["--at", "2026-11-29T00:00:00Z"]);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    common::assert_mentions(
        &stderr,
        &[
            "policy::check::calendar_coverage",
            "1 warning (denied by --deny warnings)",
        ],
    );
    let (output, stderr) = check(
        &root,
        &["--at", "2026-11-29T00:00:00Z", "--calendar-horizon", "30"],
    );
    assert!(output.status.success(), "{stderr}");

    let allowed = POLICY.replace(
        "  calendar short\n",
        "  # allow(calendar_coverage): the 2027 holidays are not published yet\n  calendar short\n",
    );
    let root = folder("allowed", &allowed);
    let (output, stderr) = check(&root, &["--at", "2026-11-29T00:00:00Z"]);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("0 warnings (1 allowed by `# allow`)"),
        "{stderr}"
    );
    // Before the warning starts, the suppression silences nothing, and says so.
    let (output, stderr) = check(&root, &["--at", "2026-06-01T00:00:00Z"]);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("policy::check::unused_suppression"),
        "{stderr}"
    );

    let unreasoned = POLICY.replace(
        "  calendar short\n",
        "  # allow(calendar_coverage)\n  calendar short\n",
    );
    let root = folder("unreasoned", &unreasoned);
    let (output, stderr) = check(&root, &["--at", "2026-11-29T00:00:00Z"]);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    common::assert_mentions(
        &stderr,
        &[
            "policy::check::suppression_without_reason",
            "policy::check::calendar_coverage",
        ],
    );
}
