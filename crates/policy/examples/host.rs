//! A host program: serves the shipped policies from a folder with a `PolicySet`, decides an order
//! given as JSON with a `chrono` request time, then edits a policy on disk while it runs. A broken
//! edit is refused (the last good set keeps serving, the diagnostics are reported); the fixed edit
//! (a 7-day window made 8 days) serves at once and the same order is decided differently.
//!
//! cargo run --example host
//!
//! Each step checks what it prints: the program exits non-zero if one does not behave (CI runs it).

use std::error::Error;
use std::path::{Path, PathBuf};

use chrono::{FixedOffset, TimeZone};
use policy::{Instant, LoadErrorKind, Outcome, PolicySet, SetProblem};

const POLICY: &str = "huawei-scm-unsubscribe";
const FILE: &str = "huawei-scm-unsubscribe.policy";
const ORDER: &str = r#"{"id": "hw-42", "paid_at": "2024-12-01T12:00:00+08:00", "price": "100.00",
                        "status": "pending_application", "purchased_on": "scm_console"}"#;

fn main() -> Result<(), Box<dyn Error>> {
    let folder = Scratch::new()?;
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    copy_folder(&shipped, &folder.0)?;
    let file = folder.0.join(FILE);
    let original = std::fs::read_to_string(&file)?;

    // 1. Load the folder (calendars from `calendars/` in it, said explicitly here).
    let set = PolicySet::builder(&folder.0)
        .calendars(folder.0.join("calendars"))
        .load()?;
    println!(
        "loaded {} policies: {}",
        set.names().len(),
        set.names().join(", ")
    );
    ensure(set.names().len() == 5, "the five shipped policies load")?;

    // 2. Decide an order from JSON, requested 7 days and 6 hours after payment (a `chrono` time in
    //    any offset; here +08:00): the 7 x 24-hour window has closed.
    let requested = FixedOffset::east_opt(8 * 3600)
        .ok_or("offset")?
        .with_ymd_and_hms(2024, 12, 8, 18, 0, 0)
        .single()
        .ok_or("request time")?;
    let now = Instant::try_from(requested)?;
    let first = set.get(POLICY).ok_or("the policy is served")?;
    let decision = first.decide_json("refund", ORDER, now)?;
    println!("\ngeneration {}: {}", set.generation(), decision.to_json());
    ensure(
        decision.outcome == Outcome::Denied && decision.rule == "window_closed",
        "with a 7-day window the order is denied by `window_closed`",
    )?;

    // 3. A broken edit: a misspelt field. The reload is refused and says why; the last good set serves.
    std::fs::write(&file, original.replace("after paid_at", "after paid_on"))?;
    let report = set.reload();
    println!("\nafter a broken edit: {report}");
    ensure(
        !report.swapped && report.generation == 1,
        "a broken edit swaps nothing",
    )?;
    let [SetProblem::Policy { path, error }] = report.problems.as_slice() else {
        return Err(format!("expected one problem, with the file: {:?}", report.problems).into());
    };
    ensure(path == &file, "the problem names the edited file")?;
    ensure(
        error.kind() == LoadErrorKind::Invalid
            && error
                .diagnostics()
                .iter()
                .any(|d| d.code == "policy::check::unknown_name"),
        "the diagnostics say `paid_on` is an unknown name",
    )?;
    ensure(
        report.to_string().contains("unknown name `paid_on`"),
        "the report renders the diagnostics",
    )?;
    let served = set.get(POLICY).ok_or("still served")?;
    let decision = served.decide_json("refund", ORDER, now)?;
    println!(
        "\nstill generation {}: {}",
        set.generation(),
        decision.to_json()
    );
    ensure(
        decision.outcome == Outcome::Denied,
        "the last good set keeps serving the 7-day window",
    )?;

    // 4. The fixed edit: the window becomes 8 x 24 hours. It serves at once.
    let fixed = original.replace(
        "let in_window = now within 7 x 24 hours after paid_at",
        "let in_window = now within 8 x 24 hours after paid_at",
    );
    ensure(fixed != original, "the fixed version differs")?;
    std::fs::write(&file, fixed)?;
    let report = set.reload();
    println!("\nafter the fix: {report}");
    ensure(
        report.swapped && report.generation == 2 && report.changed == [POLICY],
        "the fix swaps in generation 2, the one policy changed",
    )?;
    ensure(
        report.added.is_empty() && report.removed.is_empty(),
        "nothing added or removed",
    )?;
    let served = set.get(POLICY).ok_or("served")?;
    let decision = served.decide_json("refund", ORDER, now)?;
    println!("\ngeneration {}: {}", set.generation(), decision.to_json());
    ensure(
        decision.outcome == Outcome::Allowed && decision.rule == "pending_application",
        "with an 8-day window the same order is allowed",
    )?;
    ensure(
        decision.amount.map(|a| a.to_string()).as_deref() == Some("100.00"),
        "the whole price is refunded",
    )?;

    // 5. Whoever held the policy of generation 1 still decides with it, whole.
    let held = first.decide_json("refund", ORDER, now)?;
    ensure(
        held.outcome == Outcome::Denied,
        "a policy held from before the reload is unchanged",
    )?;
    println!(
        "\nthe policy held from generation 1 still says: {}",
        held.outcome.as_str()
    );
    println!("\nok");
    Ok(())
}

fn ensure(holds: bool, what: &str) -> Result<(), Box<dyn Error>> {
    if holds {
        Ok(())
    } else {
        Err(format!("step failed: {what}").into())
    }
}

/// Copies `from` into `to`, subfolders included (the policies and their `calendars/`).
fn copy_folder(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_folder(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

/// A fresh folder under the system's temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let path = std::env::temp_dir().join(format!("policy-host-example-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Nothing to do if it fails: the folder is in the temporary folder.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
