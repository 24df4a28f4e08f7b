//! `policy diff`

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use crate::output::{Format, Stop, Terminal};
use policy::analysis::diff::{
    diff, diff_order, Change, Diff, DiffVerdict, OrderDiff, Region, COMPARED,
};
use policy::analysis::Witness;
use policy::eval::parse_time;
use policy::Policy;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old version's policy file.
    pub old: PathBuf,
    /// The new version's policy file.
    pub new: PathBuf,
    /// The folder of calendar files (default: `calendars/` beside each policy).
    #[arg(long, value_name = "DIR")]
    pub calendars: Option<PathBuf>,
    /// Compare this action only (default: every action; both versions must have the same ones).
    #[arg(long)]
    pub action: Option<String>,
    /// Compare the decisions of the orders of this file (JSON Lines, `-` for standard input) rather
    /// than every valid order.
    #[arg(long, value_name = "FILE.jsonl")]
    pub orders: Option<PathBuf>,
    /// With --orders: the request time for orders without `requested_at` (RFC 3339 with offset;
    /// default: now).
    #[arg(long, value_name = "TIMESTAMP", requires = "orders")]
    pub at: Option<String>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `Ok(true)`: no difference (exit 0); `Ok(false)`: differences (exit 1); `Stop::Unproven`: no
/// difference found, none ruled out (exit 2).
pub fn run(args: DiffArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    terminal.require_stdout()?;
    let old = crate::eval::load_policy(&args.old, args.calendars.as_deref(), terminal)?;
    let new = crate::eval::load_policy(&args.new, args.calendars.as_deref(), terminal)?;
    match &args.orders {
        Some(path) => orders(&args, &old, &new, path, terminal),
        None => {
            let found =
                diff(&old, &new, args.action.as_deref()).map_err(|e| Stop::Error(e.to_string()))?;
            let text = match args.format {
                Format::Text => report_text(&found),
                Format::Json => format!("{}\n", report_json(&found)),
            };
            terminal.out(format_args!("{text}"))?;
            match found.verdict() {
                DiffVerdict::Same => Ok(true),
                DiffVerdict::Different => Ok(false),
                DiffVerdict::Unproven => Err(Stop::Unproven),
            }
        }
    }
}

fn witness_json(w: &Witness) -> Json {
    json!({ "order": w.order, "at": w.at, "confirmed": w.confirmed })
}

fn changes_json(changes: &[Change]) -> Json {
    changes
        .iter()
        .map(|c| json!({ "field": c.field, "old": c.old, "new": c.new }))
        .collect()
}

fn region_json(r: &Region) -> Json {
    json!({
        "old_rule": r.old_rule,
        "new_rule": r.new_rule,
        "conditions": r.conditions,
        "changes": changes_json(&r.changes),
        "may_differ": r.may_differ,
        "witness": r.witness.as_ref().map(witness_json),
    })
}

fn verdict_name(verdict: DiffVerdict) -> &'static str {
    match verdict {
        DiffVerdict::Same => "same",
        DiffVerdict::Different => "different",
        DiffVerdict::Unproven => "unproven",
    }
}

fn report_json(found: &Diff) -> Json {
    json!({
        "verdict": verdict_name(found.verdict()),
        "actions": found.actions.iter().map(|a| json!({
            "action": a.action,
            "complete": a.complete,
            "accept_alike": a.accept_alike,
            "differences": a.differences.iter().map(region_json).collect::<Vec<_>>(),
            "unproven": a.unproven.iter().map(region_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn rules_text(r: &Region) -> String {
    if r.old_rule == r.new_rule {
        format!("rule `{}` in both versions", r.old_rule)
    } else {
        format!(
            "rule `{}` in the old version, `{}` in the new",
            r.old_rule, r.new_rule
        )
    }
}

/// A region's first lines: the action, what was found, which rules, and where.
fn region_head(out: &mut String, action: &str, found: &str, r: &Region) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "action `{action}`: {found}: {}", rules_text(r));
    if !r.conditions.is_empty() {
        let _ = writeln!(out, "  where {}", r.conditions.join(" and "));
    }
}

fn report_text(found: &Diff) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for a in &found.actions {
        for r in &a.differences {
            region_head(&mut out, &a.action, "decided differently", r);
            if let Some(w) = &r.witness {
                let _ = writeln!(
                    out,
                    "  witness: {} at {} (confirmed by deciding it with both versions)",
                    Json::Object(w.order.clone()),
                    w.at
                );
            }
            for c in &r.changes {
                let _ = writeln!(out, "  {}: {} -> {}", c.field, c.old, c.new);
            }
        }
        for r in &a.unproven {
            region_head(&mut out, &a.action, "could not prove alike", r);
            let _ = writeln!(out, "  may differ in: {}", r.may_differ.join(", "));
            match &r.witness {
                Some(w) => {
                    let _ = writeln!(
                        out,
                        "  order tried: {} at {} (both versions decide it alike, or not by these rules)",
                        Json::Object(w.order.clone()),
                        w.at
                    );
                }
                None => {
                    let _ = writeln!(out, "  no order could be built for this region");
                }
            }
        }
        if !a.accept_alike {
            let _ = writeln!(
                out,
                "action `{}`: the versions accept different orders (their `require`, `constraint` or needed \
                 fields differ): orders one refuses and the other decides are not compared here; try \
                 --orders on real orders",
                a.action
            );
        }
        if !a.complete {
            let _ = writeln!(
                out,
                "action `{}`: the comparison ran out of its budget: differences beyond those reported are \
                 not ruled out",
                a.action
            );
        }
    }
    let differences: usize = found.actions.iter().map(|a| a.differences.len()).sum();
    let unproven: usize = found.actions.iter().map(|a| a.unproven.len()).sum();
    let _ = match found.verdict() {
        DiffVerdict::Same => writeln!(
            out,
            "no difference: the versions decide every valid order alike (proved)"
        ),
        DiffVerdict::Different => writeln!(
            out,
            "{differences} region(s) decided differently, each with a confirmed witness{}",
            if unproven > 0 {
                format!("; {unproven} more could not be proved alike")
            } else {
                String::new()
            }
        ),
        DiffVerdict::Unproven => writeln!(
            out,
            "could not prove that the versions decide alike: no difference found, {unproven} region(s) \
             unproven{}",
            if found.actions.iter().any(|a| !a.accept_alike) {
                ", and the versions accept different orders"
            } else {
                ""
            }
        ),
    };
    out
}

/// `--orders`: every line decided with both versions; the changed and refused ones listed with their
/// line, then the counts. An order one version refuses and the other decides (or refuses for another
/// reason) is a change of its field `error`; one both refuse alike is an input error, listed, not a
/// change. `Ok(true)`: no order changes.
fn orders(
    args: &DiffArgs,
    old: &Policy,
    new: &Policy,
    path: &Path,
    terminal: &mut Terminal,
) -> Result<bool, Stop> {
    let action = crate::eval::choose_action(&[old, new], args.action.clone())?;
    let now = match &args.at {
        Some(at) => parse_time(at).map_err(|e| format!("--at: {e}"))?,
        None => policy::eval::now(),
    };
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut records: Vec<Json> = Vec::new();
    let mut counts: BTreeMap<&'static str, usize> = COMPARED.iter().map(|f| (*f, 0)).collect();
    let (mut total, mut changed, mut refused) = (0usize, 0usize, 0usize);
    for (index, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let number = index + 1;
        total += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        let text = match std::str::from_utf8(line) {
            Ok(text) => text,
            Err(e) => {
                refused += 1;
                records.push(json!({
                    "line": number,
                    "error": format!("the line is not valid UTF-8 (at byte {})", e.valid_up_to() + 1),
                }));
                continue;
            }
        };
        let id = serde_json::from_str::<Json>(text)
            .ok()
            .and_then(|v| v.get("id").cloned())
            .unwrap_or(Json::Null);
        match diff_order(old, new, &action, text, now) {
            OrderDiff::Same => {}
            OrderDiff::Changed {
                old_rule,
                new_rule,
                changes,
            } => {
                changed += 1;
                for c in &changes {
                    *counts.entry(c.field).or_insert(0) += 1;
                }
                records.push(json!({
                    "line": number,
                    "order": id,
                    "old_rule": old_rule,
                    "new_rule": new_rule,
                    "changes": changes_json(&changes),
                }));
            }
            OrderDiff::Refused { old: a, new: b } => {
                let said = |e: Option<policy::OrderError>| e.map(|e| e.to_string());
                let (a, b) = (said(a), said(b));
                if a == b {
                    // Refused alike: an input error, listed, not a change.
                    refused += 1;
                    records.push(json!({ "line": number, "order": id, "error": a }));
                } else {
                    changed += 1;
                    *counts.entry("error").or_insert(0) += 1;
                    records.push(json!({
                        "line": number,
                        "order": id,
                        "old_error": a,
                        "new_error": b,
                    }));
                }
            }
        }
    }
    counts.retain(|_, n| *n > 0);
    let write_failed = |e| Stop::write("standard output", e);
    let mut out = BufWriter::new(terminal.stdout());
    match args.format {
        Format::Json => {
            let report = json!({
                "orders": total,
                "changed": changed,
                "refused": refused,
                "fields": counts,
                "records": records,
            });
            writeln!(out, "{report}").map_err(write_failed)?;
        }
        Format::Text => {
            for r in &records {
                writeln!(out, "{}", record_text(r)).map_err(write_failed)?;
            }
            writeln!(
                out,
                "{total} orders: {changed} decided differently, {refused} refused by both versions"
            )
            .map_err(write_failed)?;
            for (field, n) in &counts {
                writeln!(out, "  {field}: {n}").map_err(write_failed)?;
            }
        }
    }
    out.flush().map_err(write_failed)?;
    drop(out);
    Ok(changed == 0)
}

fn record_text(r: &Json) -> String {
    let line = r.get("line").cloned().unwrap_or(Json::Null);
    let order = match r.get("order") {
        Some(Json::Null) | None => String::new(),
        Some(id) => format!(" (order {id})"),
    };
    if let Some(changes) = r.get("changes").and_then(Json::as_array) {
        let listed: Vec<String> = changes
            .iter()
            .map(|c| {
                format!(
                    "{}: {} -> {}",
                    c.get("field").and_then(Json::as_str).unwrap_or("?"),
                    c.get("old").cloned().unwrap_or(Json::Null),
                    c.get("new").cloned().unwrap_or(Json::Null)
                )
            })
            .collect();
        let rule = |key: &str| r.get(key).and_then(Json::as_str).unwrap_or("?").to_string();
        return format!(
            "line {line}{order}: rule `{}` -> `{}`; {}",
            rule("old_rule"),
            rule("new_rule"),
            listed.join("; ")
        );
    }
    if let Some(error) = r.get("error").and_then(Json::as_str) {
        return format!("line {line}{order}: refused by both versions: {error}");
    }
    let said = |key: &str| match r.get(key).and_then(Json::as_str) {
        Some(e) => e.to_string(),
        None => "decides it".to_string(),
    };
    format!(
        "line {line}{order}: refused: old version: {}; new version: {}",
        said("old_error"),
        said("new_error")
    )
}
