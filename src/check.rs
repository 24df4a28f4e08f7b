//! `policy check`

use std::collections::hash_map::{Entry, HashMap};
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::output::{Stop, Terminal};
use policy::analysis::{analyze, calendar_coverage, DEFAULT_HORIZON_DAYS};
use policy::diagnostics::{Diagnostic, Severity};
use policy::eval::{CalendarFolder, FileContents, LoadError, Policy};
use policy::files::load_calendars;
use policy::report;
use policy::source::SourceFile;
use policy::suppression;
use policy::Versions;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files or folders (default: `policies/`).
    pub paths: Vec<PathBuf>,
    /// The folder of calendar files (default: `calendars/` beside each policy).
    #[arg(long, value_name = "DIR")]
    pub calendars: Option<PathBuf>,
    /// `--deny warnings`: treat warnings (gaps, dead rules, unused names, ...) as errors.
    #[arg(long, value_name = "warnings")]
    pub deny: Option<DenyLevel>,
    /// Today, for the calendar coverage warning (RFC 3339 with offset; default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
    /// Warn when a policy's calendar stops covering within this many days of today.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_HORIZON_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=36_600))]
    pub calendar_horizon: u32,
    /// How findings are written: `text` (rendered, on standard error), `json` or `sarif` (SARIF
    /// 2.1.0), one document on standard output (docs/output-formats.md). The exit status is the same.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// Diagnostics rendered with the source underlined, on standard error.
    Text,
    /// One JSON document: every finding with its code, place, help and suggestions.
    Json,
    /// A SARIF 2.1.0 log, for code-scanning tools.
    Sarif,
}

/// Where the findings go: rendered on standard error, or gathered into one document.
enum Sink {
    Text,
    Json(Vec<serde_json::Value>),
    Sarif(report::SarifLog),
}

impl Sink {
    fn finding(
        &mut self,
        terminal: &mut Terminal,
        d: &Diagnostic,
        file: &SourceFile,
        suppressed: Option<&str>,
    ) -> Result<(), Stop> {
        match self {
            Sink::Text if suppressed.is_none() => {
                terminal.err(format_args!("{}", crate::render(d, file)))?;
            }
            Sink::Text => {}
            Sink::Json(records) => records.push(report::diagnostic_json(d, file, suppressed)),
            Sink::Sarif(log) => log.add(d, file, suppressed),
        }
        Ok(())
    }

    /// An error of the run, at no place in a policy's text.
    fn run_error(
        &mut self,
        terminal: &mut Terminal,
        message: &str,
        file: Option<&std::path::Path>,
    ) -> Result<(), Stop> {
        let name = file.map(|f| f.display().to_string());
        match self {
            Sink::Text => terminal.err(format_args!("error: {message}\n"))?,
            Sink::Json(records) => records.push(report::run_error_json(message, name.as_deref())),
            Sink::Sarif(log) => log.add_run_error(message, name.as_deref()),
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DenyLevel {
    Warnings,
}

pub fn run(args: CheckArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    let files = crate::policy_files(&args.paths)?;
    let today = match &args.at {
        Some(text) => policy::eval::parse_time(text)
            .map_err(|e| Stop::Error(format!("--at `{text}`: {e}")))?,
        None => policy::eval::now(),
    };
    let mut sink = match args.format {
        CheckFormat::Text => Sink::Text,
        CheckFormat::Json => Sink::Json(Vec::new()),
        CheckFormat::Sarif => Sink::Sarif(report::SarifLog::new()),
    };
    let (mut errors, mut warnings, mut suppressed) = (0usize, 0usize, 0usize);
    // The policies that checked, by folder given and name: a folder is a set, where several files of one
    // name must be versions that fit together. Files given one by one are not a set.
    let set_roots: Vec<PathBuf> = if args.paths.is_empty() {
        vec![PathBuf::from("policies")]
    } else {
        args.paths.iter().filter(|p| p.is_dir()).cloned().collect()
    };
    let mut by_name: BTreeMap<(usize, String), Vec<(Policy, PathBuf)>> = BTreeMap::new();
    // Each calendar folder is loaded once; its problems are errors of the run, said once.
    let mut folders: HashMap<PathBuf, CalendarFolder> = HashMap::new();
    for path in &files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                let message = format!("cannot read `{}`: {e}", path.display());
                sink.run_error(terminal, &message, Some(path))?;
                errors += 1;
                continue;
            }
        };
        let folder = match folders.entry(crate::calendar_folder(path, args.calendars.as_deref())) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let folder = load_calendars(new.key());
                for problem in folder.problems() {
                    sink.run_error(terminal, &problem.to_string(), None)?;
                    errors += 1;
                }
                new.insert(folder)
            }
        };
        let (file, diagnostics): (_, Vec<Diagnostic>) =
            match Policy::from_file_text(path, &text, folder) {
                Ok(FileContents::Library {
                    source, warnings, ..
                }) => (source, warnings),
                Ok(FileContents::Policy(policy)) => {
                    let mut all = policy.warnings().to_vec();
                    all.extend(analyze(&policy).into_iter().map(|f| f.diagnostic));
                    all.extend(calendar_coverage(&policy, today, args.calendar_horizon));
                    let file = policy.source().clone();
                    if let Some(folder) = set_roots.iter().position(|f| path.starts_with(f)) {
                        by_name
                            .entry((folder, policy.name().to_string()))
                            .or_default()
                            .push((policy, path.clone()));
                    }
                    (file, all)
                }
                Err(LoadError::Invalid { file, diagnostics }) => (file, diagnostics),
                Err(e) => return Err(Stop::Error(e.to_string())),
            };
        // `# allow(CODE): REASON` comments silence the warnings they name.
        let applied = suppression::apply(&file.text, diagnostics);
        suppressed += applied.suppressed.len();
        // Reported and silenced findings in source order; only the reported ones count.
        let mut findings: Vec<(&Diagnostic, Option<&str>)> =
            applied.reported.iter().map(|d| (d, None)).collect();
        findings.extend(
            applied
                .suppressed
                .iter()
                .map(|(d, r)| (d, Some(r.as_str()))),
        );
        findings.sort_by_key(|(d, _)| (d.span.start, d.span.end));
        for (d, silenced) in findings {
            if silenced.is_none() {
                match d.severity {
                    Severity::Error => errors += 1,
                    Severity::Warning => warnings += 1,
                    Severity::Note => {}
                }
            }
            sink.finding(terminal, d, &file, silenced)?;
        }
    }
    for versions in by_name.into_values() {
        if versions.len() < 2 {
            continue;
        }
        let paths: Vec<String> = versions
            .iter()
            .map(|(_, p)| format!("`{}`", p.display()))
            .collect();
        if let Err(error) = Versions::new(versions.into_iter().map(|(policy, _)| policy).collect())
        {
            sink.run_error(terminal, &format!("{error}: {}", paths.join(", ")), None)?;
            errors += 1;
        }
    }
    let denied = args.deny.is_some() && warnings > 0;
    let passed = errors == 0 && !denied;
    let document = match sink {
        Sink::Text => None,
        Sink::Json(diagnostics) => Some(serde_json::json!({
            "version": report::JSON_VERSION,
            "files": files.len(),
            "errors": errors,
            "warnings": warnings,
            "suppressed": suppressed,
            "denied": denied,
            "passed": passed,
            "diagnostics": diagnostics,
        })),
        Sink::Sarif(log) => Some(log.finish(env!("CARGO_PKG_VERSION"))),
    };
    if let Some(document) = document {
        terminal.require_stdout()?;
        terminal.out(format_args!("{document:#}\n"))?;
        return Ok(passed);
    }
    terminal.err(format_args!(
        "checked {} file{}: {errors} error{}, {warnings} warning{}{}{}\n",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        if suppressed > 0 {
            format!(" ({suppressed} allowed by `# allow`)")
        } else {
            String::new()
        },
        if denied {
            " (denied by --deny warnings)"
        } else {
            ""
        }
    ))?;
    Ok(passed)
}
