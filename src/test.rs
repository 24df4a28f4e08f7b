//! `policy test`

use std::path::{Path, PathBuf};

use crate::output::{Stop, Terminal};
use policy::eval::{run_examples, FileContents, LoadError, Policy};
use policy::files::load_calendars;

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Policy files or folders (default: `policies/`).
    pub paths: Vec<PathBuf>,
    /// The folder of calendar files (default: `calendars/` beside each policy).
    #[arg(long, value_name = "DIR")]
    pub calendars: Option<PathBuf>,
}

pub fn run(args: TestArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    terminal.require_stdout()?;
    let files = crate::policy_files(&args.paths)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &files {
        let policy = match load_reporting(path, args.calendars.as_deref(), terminal)? {
            Ok(FileContents::Policy(policy)) => policy,
            // A library has no examples: the policies that import it test it.
            Ok(FileContents::Library { .. }) => continue,
            Err(message) => {
                terminal.err(format_args!("error: {message}\n"))?;
                failed += 1;
                continue;
            }
        };
        for result in run_examples(&policy) {
            if result.passed() {
                passed += 1;
                continue;
            }
            failed += 1;
            let (line, col) = policy.source().line_col(result.span.start);
            terminal.out(format_args!(
                "FAIL {}:{line}:{col}: action `{}`, example \"{}\"\n",
                path.display(),
                result.action,
                result.name
            ))?;
            for m in &result.mismatches {
                terminal.out(format_args!(
                    "  {}:\n    expected: {}\n    actual:   {}\n",
                    m.field, m.expected, m.actual
                ))?;
            }
        }
    }
    terminal.out(format_args!("{passed} passed, {failed} failed\n"))?;
    Ok(failed == 0)
}

/// Loads a policy file (or a library), printing its diagnostics when it does not check:
/// `Ok(Err(message))` then.
pub(crate) fn load_reporting(
    path: &Path,
    calendars: Option<&Path>,
    terminal: &mut Terminal,
) -> Result<Result<FileContents, String>, Stop> {
    let loaded = std::fs::read_to_string(path)
        .map_err(|error| LoadError::Io {
            path: path.to_path_buf(),
            error,
        })
        .and_then(|text| {
            Policy::from_file_text(
                path,
                &text,
                &load_calendars(&crate::calendar_folder(path, calendars)),
            )
        });
    Ok(match loaded {
        Ok(contents) => Ok(contents),
        Err(LoadError::Invalid { file, diagnostics }) => {
            for d in &diagnostics {
                terminal.err(format_args!("{}", crate::render(d, &file)))?;
            }
            Err(format!("`{}` does not check", path.display()))
        }
        Err(e) => Err(e.to_string()),
    })
}
