//! A policy's calendar folder: a name two files declare is an error naming both, and a file that does
//! not load fails only the policies that name a calendar it may concern, with its own error.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failure is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use policy::calendar::Calendar;
use policy::eval::CalendarProblem;
use policy::files::load_calendars;
use policy::{LoadError, Policy};

const NO_CALENDAR: &str = r#"policy plain
  document "doc.txt" "Refund rules"
  zone "Asia/Shanghai"

field price: money

action refund {
  default amount = price

  rule always
    then allowed
    because "every order is refunded"
      cite "Refunds: always."
}
"#;

/// The same policy, named `uses-NAME` (a folder's policies have names of their own), naming calendar
/// `name`.
fn with_calendar(name: &str) -> String {
    NO_CALENDAR
        .replace("policy plain\n", &format!("policy uses-{name}\n"))
        .replace(
            "  zone \"Asia/Shanghai\"\n",
            &format!("  zone \"Asia/Shanghai\"\n  calendar {name}\n"),
        )
}

const BROKEN_OTHER: &str = "name other\ncovers 2020-01-01 2020-12-31\nweekend sundae\n";
const BROKEN_NAMELESS: &str = "covers 2020-01-01 2020-12-31\nweekend sunday\n";

fn cn() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/calendars/cn.calendar"),
    )
    .unwrap()
}

/// A fresh folder holding `plain.policy`, `uses-cn.policy`, `uses-other.policy` and `calendars/` with
/// the given files.
fn folder(name: &str, calendars: &[(&str, &str)]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("policy-calendars-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&root).ok();
    std::fs::create_dir_all(root.join("calendars")).unwrap();
    std::fs::write(root.join("plain.policy"), NO_CALENDAR).unwrap();
    std::fs::write(root.join("uses-cn.policy"), with_calendar("cn")).unwrap();
    std::fs::write(root.join("uses-other.policy"), with_calendar("other")).unwrap();
    for (file, text) in calendars {
        std::fs::write(root.join("calendars").join(file), text).unwrap();
    }
    root
}

/// The one diagnostic of a policy that does not load because of its calendar.
fn calendar_error(path: &Path) -> (String, String, String) {
    match Policy::load(path) {
        Err(LoadError::Invalid { diagnostics, .. }) => {
            let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
            assert_eq!(errors.len(), 1, "{errors:?}");
            let d = errors[0];
            (
                d.code.to_string(),
                d.message.clone(),
                d.help.clone().unwrap_or_default(),
            )
        }
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

#[test]
fn a_name_two_files_declare_is_an_error_naming_both() {
    let root = folder(
        "duplicate",
        &[("cn.calendar", &cn()), ("copy.calendar", &cn())],
    );
    let (code, message, _) = calendar_error(&root.join("uses-cn.policy"));
    let plain = Policy::load(&root.join("plain.policy"));
    let loaded = load_calendars(&root.join("calendars"));
    std::fs::remove_dir_all(&root).ok();

    assert_eq!(code, "policy::load::duplicate_calendar");
    assert!(
        message.starts_with("calendar `cn` is declared by more than one file"),
        "{message}"
    );
    assert!(
        message.contains("cn.calendar`") && message.contains("copy.calendar`"),
        "{message}"
    );
    assert!(
        plain.is_ok(),
        "a policy naming no calendar loads: {:?}",
        plain.err()
    );
    assert!(
        !loaded.calendars().contains_key("cn"),
        "neither file is used"
    );
    assert!(matches!(
        loaded.problems(),
        [CalendarProblem::Duplicate { name, paths }] if name == "cn" && paths.len() == 2
    ));
}

#[test]
fn a_broken_file_fails_only_the_policies_naming_its_calendar() {
    let root = folder(
        "broken",
        &[("cn.calendar", &cn()), ("other.calendar", BROKEN_OTHER)],
    );
    let plain = Policy::load(&root.join("plain.policy"));
    let uses_cn = Policy::load(&root.join("uses-cn.policy"));
    let (code, message, help) = calendar_error(&root.join("uses-other.policy"));
    std::fs::remove_dir_all(&root).ok();

    assert!(plain.is_ok(), "{:?}", plain.err());
    assert!(uses_cn.is_ok(), "{:?}", uses_cn.err());
    assert_eq!(code, "policy::load::broken_calendar");
    assert_eq!(message, "calendar `other` does not load");
    assert!(
        help.contains("other.calendar:3: unknown weekday `sundae`"),
        "{help}"
    );
}

#[test]
fn a_broken_file_without_a_name_concerns_every_missing_calendar() {
    let root = folder("nameless", &[("nameless.calendar", BROKEN_NAMELESS)]);
    let plain = Policy::load(&root.join("plain.policy"));
    let (code, message, help) = calendar_error(&root.join("uses-cn.policy"));
    // Once `cn` loads from a file of its own, the nameless file concerns it no more.
    std::fs::write(root.join("calendars/cn.calendar"), cn()).unwrap();
    let uses_cn = Policy::load(&root.join("uses-cn.policy"));
    std::fs::remove_dir_all(&root).ok();

    assert!(plain.is_ok(), "{:?}", plain.err());
    assert_eq!(code, "policy::load::broken_calendar");
    assert!(
        message.contains("no calendar named `cn` loaded"),
        "{message}"
    );
    assert!(
        help.contains("nameless.calendar:1: missing `name` line"),
        "{help}"
    );
    assert!(uses_cn.is_ok(), "{:?}", uses_cn.err());
}

/// A broken file that declares a name a good file declares too makes the name ambiguous.
#[test]
fn a_broken_file_declaring_a_loaded_name_is_a_duplicate() {
    let broken_cn = "name cn\ncovers 2020-01-01 2020-12-31\nweekend sundae\n";
    let root = folder(
        "broken-duplicate",
        &[("cn.calendar", &cn()), ("cn2.calendar", broken_cn)],
    );
    let (code, message, help) = calendar_error(&root.join("uses-cn.policy"));
    let plain = Policy::load(&root.join("plain.policy"));
    std::fs::remove_dir_all(&root).ok();

    assert_eq!(code, "policy::load::duplicate_calendar");
    assert!(message.contains("cn2.calendar`"), "{message}");
    assert!(
        help.contains("cn2.calendar:3: unknown weekday `sundae`"),
        "{help}"
    );
    assert!(plain.is_ok(), "{:?}", plain.err());
}

/// A calendar file that cannot be read at all (here a folder) may declare any missing name.
#[test]
fn an_unreadable_file_concerns_missing_calendars_only() {
    let root = folder("unreadable", &[("cn.calendar", &cn())]);
    std::fs::create_dir(root.join("calendars/folder.calendar")).unwrap();
    let uses_cn = Policy::load(&root.join("uses-cn.policy"));
    let (code, _, help) = calendar_error(&root.join("uses-other.policy"));
    std::fs::remove_dir_all(&root).ok();

    assert!(uses_cn.is_ok(), "{:?}", uses_cn.err());
    assert_eq!(code, "policy::load::broken_calendar");
    assert!(help.contains("cannot read calendar file"), "{help}");
    assert!(help.contains("folder.calendar`"), "{help}");
}

#[test]
fn a_missing_calendar_with_no_problem_around_is_still_unknown() {
    let root = folder("unknown", &[("cn.calendar", &cn())]);
    let (code, message, _) = calendar_error(&root.join("uses-other.policy"));
    std::fs::remove_dir_all(&root).ok();
    assert_eq!(code, "policy::check::unknown_calendar");
    assert!(message.contains("`other`"), "{message}");
}

#[test]
fn complete_is_the_strict_view() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/calendars");
    assert!(load_calendars(&shipped)
        .complete()
        .unwrap()
        .contains_key("cn"));
    let root = folder(
        "complete",
        &[("cn.calendar", &cn()), ("other.calendar", BROKEN_OTHER)],
    );
    let complete = load_calendars(&root.join("calendars")).complete();
    std::fs::remove_dir_all(&root).ok();
    let problem = complete.unwrap_err();
    assert!(
        problem.to_string().contains("unknown weekday `sundae`"),
        "{problem}"
    );
    // No folder at all: no calendars, no problem.
    assert!(load_calendars(&root.join("nowhere"))
        .complete()
        .unwrap()
        .is_empty());
}

#[test]
fn the_declared_name_of_a_file_that_does_not_parse() {
    assert_eq!(Calendar::declared_name(BROKEN_OTHER), Some("other"));
    assert_eq!(
        Calendar::declared_name("\u{feff}# c\n  name\tx-1 # why\n"),
        Some("x-1")
    );
    assert_eq!(Calendar::declared_name(BROKEN_NAMELESS), None);
    assert_eq!(Calendar::declared_name("name a\nname b\n"), None);
    assert_eq!(Calendar::declared_name("name a b\n"), None);
    assert_eq!(Calendar::declared_name("name a!\n"), None);
}

/// Through the binary: `check` says each problem of the folder once and fails; the policies that
/// name no broken calendar check clean, and `test` and `eval` run them.
#[test]
fn the_binary_reports_a_folder_problem_once_and_runs_the_policies_it_does_not_concern() {
    let root = folder(
        "cli",
        &[("cn.calendar", &cn()), ("other.calendar", BROKEN_OTHER)],
    );
    std::fs::remove_file(root.join("uses-other.policy")).unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_policy"))
        .arg("check")
        .arg(&root)
        .output()
        .unwrap();
    let test = Command::new(env!("CARGO_BIN_EXE_policy"))
        .arg("test")
        .arg(&root)
        .output()
        .unwrap();
    let order = root.join("order.json");
    std::fs::write(&order, r#"{"price":"10.00"}"#).unwrap();
    let eval = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(["eval", "--at", "2026-01-01T00:00:00Z", "--policy"])
        .arg(root.join("plain.policy"))
        .arg("--order")
        .arg(&order)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&root).ok();

    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.matches("unknown weekday `sundae`").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("checked 2 files: 1 error, "), "{stderr}");
    assert_eq!(test.status.code(), Some(0), "{test:?}");
    assert_eq!(eval.status.code(), Some(0), "{eval:?}");
}

/// `--calendars DIR` takes the calendars from a folder of the caller's choosing, for `check`, `test`
/// and `eval`; without it, a policy whose folder has no `calendars/` names an unknown calendar.
#[test]
fn the_calendar_folder_can_be_given() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("policy-calendars-arg-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let legacy = std::fs::read_to_string(root.join("policies/alibaba-ssl-refund-legacy.policy"))
        .unwrap()
        .replace(
            "import \"common/contract.policy\"",
            &format!(
                "import \"{}\"",
                root.join("policies/common/contract.policy").display()
            ),
        );
    let file = dir.join("legacy.policy");
    std::fs::write(&file, legacy).unwrap();
    let shipped = root.join("policies/calendars");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(args)
            .current_dir(root)
            .output()
            .unwrap()
    };
    let file = file.to_str().unwrap();
    let shipped = shipped.to_str().unwrap();

    let without = run(&["check", file]);
    assert_eq!(without.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&without.stderr).contains("unknown_calendar"));

    let with = run(&["check", "--calendars", shipped, file]);
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let tested = run(&["test", "--calendars", shipped, file]);
    assert_eq!(
        tested.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&tested.stderr)
    );
    assert!(String::from_utf8_lossy(&tested.stdout).contains(" passed, 0 failed"));
    let order = dir.join("order.json");
    std::fs::write(
        &order,
        r#"{"id":"o-1","paid_at":"2026-02-10T10:00:00+08:00","price":"199.00","status":"verifying"}"#,
    )
    .unwrap();
    let decided = run(&[
        "eval",
        "--calendars",
        shipped,
        "--policy",
        file,
        "--at",
        "2026-02-16T09:00:00+08:00",
        "--order",
        order.to_str().unwrap(),
    ]);
    assert_eq!(
        decided.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&decided.stderr)
    );
    assert!(String::from_utf8_lossy(&decided.stdout).contains(r#""review_by": "2026-03-13""#));
    std::fs::remove_dir_all(&dir).ok();
}
