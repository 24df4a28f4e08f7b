//! `policy check`

use std::collections::hash_map::{Entry, HashMap};
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::output::{Stop, Terminal};
use policy::analysis::{analyze, calendar_coverage, DEFAULT_HORIZON_DAYS};
use policy::diagnostics::{Diagnostic, Severity};
use policy::eval::{CalendarFolder, FileContents, LoadError, Policy};
use policy::files::load_calendars;
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
                terminal.err(format_args!(
                    "error: cannot read `{}`: {e}\n",
                    path.display()
                ))?;
                errors += 1;
                continue;
            }
        };
        let folder = match folders.entry(crate::calendar_folder(path, args.calendars.as_deref())) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let folder = load_calendars(new.key());
                for problem in folder.problems() {
                    terminal.err(format_args!("error: {problem}\n"))?;
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
        for d in &applied.reported {
            match d.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
                Severity::Note => {}
            }
            terminal.err(format_args!("{}", crate::render(d, &file)))?;
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
            terminal.err(format_args!("error: {error}: {}\n", paths.join(", ")))?;
            errors += 1;
        }
    }
    let denied = args.deny.is_some() && warnings > 0;
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
    Ok(errors == 0 && !denied)
}
