//! `policy check`

use std::path::PathBuf;

use crate::diagnostics::Severity;
use crate::eval::{build, calendar_dir, load_calendars, LoadError};
use crate::source::SourceFile;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files or folders (default: `policies/`).
    pub paths: Vec<PathBuf>,
    /// Treat warnings as errors (`--deny warnings`).
    #[arg(long, value_name = "warnings")]
    pub deny: Option<DenyLevel>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DenyLevel {
    Warnings,
}

pub fn run(args: CheckArgs) -> Result<bool, String> {
    let files = crate::cli::policy_files(&args.paths)?;
    let (mut errors, mut warnings) = (0usize, 0usize);
    for path in &files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let file = SourceFile::new(path.display().to_string(), text);
        let calendars = match load_calendars(&calendar_dir(path)) {
            Ok(c) => c,
            Err(LoadError::Calendar(e)) => {
                eprintln!("error: {e}");
                errors += 1;
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        let diagnostics = match build(&file, &calendars) {
            Ok((_, warnings)) => warnings,
            Err(diagnostics) => diagnostics,
        };
        for d in &diagnostics {
            match d.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
                Severity::Note => {}
            }
            eprint!("{}", crate::cli::render(d, &file));
        }
    }
    let denied = args.deny.is_some() && warnings > 0;
    eprintln!(
        "checked {} file{}: {errors} error{}, {warnings} warning{}{}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        if denied { " (warnings denied)" } else { "" }
    );
    Ok(errors == 0 && !denied)
}
