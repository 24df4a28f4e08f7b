//! `policy explain`: why a policy decides an order as it does, as a person would say it (`--format
//! text`) or as the JSON `docs/explain.md` documents (`--format json`).

use std::io::Write;
use std::path::PathBuf;

use crate::eval::{choose_action, load_policy, read_order};
use crate::output::{Format, Stop, Terminal};
use policy::eval::parse_time;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The policy file (its calendars are read from `calendars/` beside it, or --calendars).
    #[arg(long)]
    pub policy: PathBuf,
    /// The folder of calendar files (default: `calendars/` beside the policy).
    #[arg(long, value_name = "DIR")]
    pub calendars: Option<PathBuf>,
    /// The action to decide (default: the policy's only action).
    #[arg(long)]
    pub action: Option<String>,
    /// The request time for an order without `requested_at` (RFC 3339 with offset; default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
    /// The order, as a JSON file.
    #[arg(long, value_name = "FILE.json")]
    pub order: PathBuf,
    /// `text`: an explanation to read; `json`: the explanation as data (see docs/explain.md).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Exit 0 when the order is decided, 1 when it cannot be (the explanation says why).
pub fn run(args: ExplainArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    terminal.require_stdout()?;
    let policy = load_policy(&args.policy, args.calendars.as_deref(), terminal)?;
    let action = choose_action(&[&policy], args.action)?;
    let now = match &args.at {
        Some(at) => parse_time(at).map_err(|e| format!("--at: {e}"))?,
        None => policy::eval::now(),
    };
    let text = read_order(&args.order)?;
    let explanation = policy
        .explain_json(&action, &text, now)
        .map_err(|e| Stop::Error(e.to_string()))?;
    let written = match args.format {
        Format::Text => explanation.to_string(),
        Format::Json => serde_json::to_string_pretty(&explanation)
            .map_err(|e| format!("internal error: {e}"))?,
    };
    let out = terminal.stdout();
    writeln!(out, "{}", written.trim_end())
        .and_then(|()| out.flush())
        .map_err(|e| Stop::write("standard output", e))?;
    Ok(explanation.decision.is_some())
}
