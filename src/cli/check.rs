//! `policy check`

use std::path::PathBuf;

use super::{Stop, Terminal};
use crate::analysis::analyze;
use crate::diagnostics::{Diagnostic, Severity};
use crate::eval::{calendar_dir, load_calendars, LoadError, Policy};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files or folders (default: `policies/`).
    pub paths: Vec<PathBuf>,
    /// `--deny warnings`: treat warnings (gaps, dead rules, unused names, ...) as errors.
    #[arg(long, value_name = "warnings")]
    pub deny: Option<DenyLevel>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DenyLevel {
    Warnings,
}

pub fn run(args: CheckArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    let files = crate::cli::policy_files(&args.paths)?;
    let (mut errors, mut warnings) = (0usize, 0usize);
    for path in &files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let calendars = match load_calendars(&calendar_dir(path)) {
            Ok(c) => c,
            Err(e) => {
                terminal.err(format_args!("error: {e}\n"))?;
                errors += 1;
                continue;
            }
        };
        let (file, diagnostics): (_, Vec<Diagnostic>) =
            match Policy::from_source(&path.display().to_string(), &text, &calendars) {
                Ok(policy) => {
                    let mut all = policy.warnings().to_vec();
                    all.extend(analyze(&policy).into_iter().map(|f| f.diagnostic));
                    (policy.source().clone(), all)
                }
                Err(LoadError::Invalid { file, diagnostics }) => (file, diagnostics),
                Err(e) => return Err(Stop::Error(e.to_string())),
            };
        for d in &diagnostics {
            match d.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
                Severity::Note => {}
            }
            terminal.err(format_args!("{}", crate::cli::render(d, &file)))?;
        }
    }
    let denied = args.deny.is_some() && warnings > 0;
    terminal.err(format_args!(
        "checked {} file{}: {errors} error{}, {warnings} warning{}{}\n",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        if denied {
            " (denied by --deny warnings)"
        } else {
            ""
        }
    ))?;
    Ok(errors == 0 && !denied)
}
