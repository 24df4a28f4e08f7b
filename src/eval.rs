//! `policy eval`

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::output::{Stop, Terminal};
use policy::batch::{decide_lines_in_force, BatchError, BatchOptions, MAX_THREADS};
use policy::eval::{parse_time, FileContents};
use policy::{Policy, PolicySet, Versions};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["order", "orders"])))]
pub struct EvalArgs {
    /// The policy file (its calendars are read from `calendars/` beside it, or --calendars); or a
    /// folder of policies, where each order is decided by the version in force for it.
    #[arg(long)]
    pub policy: PathBuf,
    /// With a folder: the policy to decide with (default: the folder's only policy).
    #[arg(long)]
    pub name: Option<String>,
    /// The folder of calendar files (default: `calendars/` beside each policy).
    #[arg(long, value_name = "DIR")]
    pub calendars: Option<PathBuf>,
    /// The action to decide (default: the policy's only action).
    #[arg(long)]
    pub action: Option<String>,
    /// The request time for orders without `requested_at` (RFC 3339 with offset; default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
    /// One order as a JSON file.
    #[arg(long, value_name = "FILE.json")]
    pub order: Option<PathBuf>,
    /// Orders as JSON Lines, one per line (`-` for standard input); output line k answers input line k.
    #[arg(long, value_name = "FILE.jsonl")]
    pub orders: Option<PathBuf>,
    /// Threads deciding --orders, 1 to 256 (default: one per core, at most 256); the output keeps the
    /// input's order.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS as i64))]
    pub threads: Option<u16>,
    /// Add to each decision a `trace` object saying why (see docs/explain.md); with --orders, one
    /// explained decision per line (an explanation costs about a hundred decisions).
    #[arg(long)]
    pub explain: bool,
}

pub fn run(args: EvalArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    terminal.require_stdout()?;
    let versions = if args.policy.is_dir() {
        versions_of_folder(
            &args.policy,
            args.calendars.as_deref(),
            args.name.as_deref(),
        )?
    } else {
        if args.name.is_some() {
            return Err(Stop::Error(
                "--name chooses a policy of a folder: give --policy FOLDER".into(),
            ));
        }
        Versions::single(Arc::new(load_policy(
            &args.policy,
            args.calendars.as_deref(),
            terminal,
        )?))
    };
    let action = choose_action(&[versions.latest()], args.action)?;
    let now = match &args.at {
        Some(at) => parse_time(at).map_err(|e| format!("--at: {e}"))?,
        None => policy::eval::now(),
    };
    let write_failed = |e| Stop::write("standard output", e);
    let mut out = BufWriter::with_capacity(1 << 16, terminal.stdout());
    let ok = if let Some(path) = &args.order {
        let text = read_order(path)?;
        if args.explain {
            let explanation = versions
                .explain_json(&action, &text, now)
                .map_err(|e| Stop::Error(e.to_string()))?;
            let pretty = serde_json::to_string_pretty(&explanation.traced())
                .map_err(|e| format!("internal error: {e}"))?;
            writeln!(out, "{pretty}").map_err(write_failed)?;
            out.flush().map_err(write_failed)?;
            return Ok(explanation.decision.is_some());
        }
        let ok = match versions.decide_json(&action, &text, now) {
            Ok(decision) => {
                let pretty = serde_json::to_string_pretty(&decision)
                    .map_err(|e| format!("internal error: {e}"))?;
                writeln!(out, "{pretty}").map_err(write_failed)?;
                true
            }
            Err(error) => {
                // The error record, as `OrderError` serialises itself.
                let record =
                    serde_json::to_string(&error).map_err(|e| format!("internal error: {e}"))?;
                writeln!(out, "{record}").map_err(write_failed)?;
                false
            }
        };
        out.flush().map_err(write_failed)?;
        ok
    } else if let Some(path) = &args.orders {
        let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let file = std::fs::File::open(path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            Box::new(std::io::BufReader::with_capacity(1 << 16, file))
        };
        let defaults = BatchOptions::default();
        let threads = args.threads.map_or(defaults.threads, usize::from);
        let options = BatchOptions {
            threads,
            trace: args.explain,
            ..defaults
        };
        let summary = decide_lines_in_force(&versions, &action, now, reader, &mut out, options)
            .map_err(|e| match e {
                BatchError::Write(e) => write_failed(e),
                BatchError::Read(e) if path.as_os_str() == "-" => {
                    Stop::Error(format!("cannot read standard input: {e}"))
                }
                BatchError::Read(e) => {
                    Stop::Error(format!("cannot read `{}`: {e}", path.display()))
                }
                e @ BatchError::Internal(_) => Stop::Error(e.to_string()),
            })?;
        out.flush().map_err(write_failed)?;
        drop(out);
        if summary.threads < threads {
            terminal.err(format_args!(
                "note: the system refused some of the {threads} threads asked for; the orders were \
                 decided with {}\n",
                summary.threads
            ))?;
        }
        summary.errors == 0
    } else {
        return Err(Stop::Error(
            "give --order FILE.json or --orders FILE.jsonl".into(),
        ));
    };
    Ok(ok)
}

/// An order's JSON text, read from `path`, without a byte-order mark (no part of the order).
pub(crate) fn read_order(path: &Path) -> Result<String, Stop> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// The policy of a file; a library, which decides nothing, is an error.
pub(crate) fn load_policy(
    path: &Path,
    calendars: Option<&Path>,
    terminal: &mut Terminal,
) -> Result<Policy, Stop> {
    match crate::test::load_reporting(path, calendars, terminal)?? {
        FileContents::Policy(policy) => Ok(policy),
        FileContents::Library { .. } => Err(Stop::Error(format!(
            "`{}` is a library, not a policy: it decides nothing",
            path.display()
        ))),
    }
}

/// The versions of the policy `name` in a folder (its only policy when no name is given).
fn versions_of_folder(
    folder: &Path,
    calendars: Option<&Path>,
    name: Option<&str>,
) -> Result<Versions, Stop> {
    let mut builder = PolicySet::builder(folder);
    if let Some(calendars) = calendars {
        builder = builder.calendars(calendars);
    }
    let set = builder.load().map_err(|e| Stop::Error(e.to_string()))?;
    let names = set.names();
    let name = match (name, names.as_slice()) {
        (Some(name), _) => name.to_string(),
        (None, [only]) => only.clone(),
        (None, many) => {
            return Err(Stop::Error(format!(
                "`{}` holds several policies ({}); choose one with --name",
                folder.display(),
                many.join(", ")
            )))
        }
    };
    set.versions(&name).ok_or_else(|| {
        Stop::Error(format!(
            "`{}` has no policy `{name}` (it has: {})",
            folder.display(),
            names.join(", ")
        ))
    })
}

/// The action to decide: the one asked for, which every policy must have, or their only one.
pub(crate) fn choose_action(policies: &[&Policy], asked: Option<String>) -> Result<String, Stop> {
    let Some(first) = policies.first() else {
        return Err(Stop::Error(
            "internal error: no policy to choose an action of".into(),
        ));
    };
    let action = match asked {
        Some(action) => action,
        None => {
            let actions: Vec<&str> = first.actions().collect();
            match actions.as_slice() {
                [only] => only.to_string(),
                many => {
                    return Err(Stop::Error(format!(
                        "policy `{}` has several actions ({}); choose one with --action",
                        first.name(),
                        many.join(", ")
                    )))
                }
            }
        }
    };
    for policy in policies {
        if !policy.actions().any(|a| a == action) {
            return Err(Stop::Error(format!(
                "policy `{}` has no action `{action}` (it has: {})",
                policy.name(),
                policy.actions().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(action)
}
