//! `policy test`

use std::path::{Path, PathBuf};

use crate::eval::{run_examples, LoadError, Policy};

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Policy files or folders (default: `policies/`).
    pub paths: Vec<PathBuf>,
}

pub fn run(args: TestArgs) -> Result<bool, String> {
    let files = crate::cli::policy_files(&args.paths)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &files {
        let policy = match load_reporting(path) {
            Ok(policy) => policy,
            Err(message) => {
                eprintln!("error: {message}");
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
            println!(
                "FAIL {}:{line}:{col}: action `{}`, example \"{}\"",
                path.display(),
                result.action,
                result.name
            );
            for m in &result.mismatches {
                println!("  {}:", m.field);
                println!("    expected: {}", m.expected);
                println!("    actual:   {}", m.actual);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(failed == 0)
}

/// Loads a policy, printing its diagnostics when it does not check.
pub(crate) fn load_reporting(path: &Path) -> Result<Policy, String> {
    match Policy::load(path) {
        Ok(policy) => Ok(policy),
        Err(LoadError::Invalid { file, diagnostics }) => {
            for d in &diagnostics {
                eprint!("{}", crate::cli::render(d, &file));
            }
            Err(format!("`{}` does not check", path.display()))
        }
        Err(e) => Err(e.to_string()),
    }
}
