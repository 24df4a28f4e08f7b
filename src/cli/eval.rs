//! `policy eval`

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use crate::batch::{decide_lines, BatchOptions};
use crate::eval::parse_time;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["order", "orders"])))]
pub struct EvalArgs {
    /// The policy file (its calendars are read from `calendars/` beside it).
    #[arg(long)]
    pub policy: PathBuf,
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
    /// Threads deciding --orders (default: one per core); the output keeps the input's order.
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(args: EvalArgs) -> Result<bool, String> {
    let policy = super::test::load_reporting(&args.policy)?;
    let action = match args.action {
        Some(a) => a,
        None => {
            let actions: Vec<&str> = policy.actions().collect();
            match actions.as_slice() {
                [only] => only.to_string(),
                many => {
                    return Err(format!(
                        "policy `{}` has several actions ({}); choose one with --action",
                        policy.name(),
                        many.join(", ")
                    ))
                }
            }
        }
    };
    if !policy.actions().any(|a| a == action) {
        return Err(format!(
            "policy `{}` has no action `{action}` (it has: {})",
            policy.name(),
            policy.actions().collect::<Vec<_>>().join(", ")
        ));
    }
    let now = match &args.at {
        Some(at) => parse_time(at).map_err(|e| format!("--at: {e}"))?,
        None => crate::eval::now(),
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let ok = if let Some(path) = &args.order {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        match policy.decide_json(&action, &text, now) {
            Ok(decision) => {
                let pretty = serde_json::to_string_pretty(&decision).map_err(|e| e.to_string())?;
                writeln!(out, "{pretty}").map_err(|e| e.to_string())?;
                true
            }
            Err(error) => {
                let message = error.to_string();
                let record = crate::eval::ErrorRecord {
                    order: error.order(),
                    line: None,
                    error: &message,
                };
                let record = serde_json::to_string(&record).map_err(|e| e.to_string())?;
                writeln!(out, "{record}").map_err(|e| e.to_string())?;
                false
            }
        }
    } else if let Some(path) = &args.orders {
        let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let file = std::fs::File::open(path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            Box::new(std::io::BufReader::with_capacity(1 << 16, file))
        };
        let options = BatchOptions {
            threads: args
                .threads
                .unwrap_or_else(|| BatchOptions::default().threads),
            ..BatchOptions::default()
        };
        let summary = decide_lines(&policy, &action, now, reader, &mut out, options)
            .map_err(|e| e.to_string())?;
        summary.errors == 0
    } else {
        return Err("give --order FILE.json or --orders FILE.jsonl".into());
    };
    out.flush().map_err(|e| e.to_string())?;
    Ok(ok)
}
