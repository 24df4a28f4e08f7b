//! `policy test`

use std::path::{Path, PathBuf};

use crate::eval::{LoadError, Policy};

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Policy files or folders (default: `policies/`).
    pub paths: Vec<PathBuf>,
}

pub fn run(_args: TestArgs) -> Result<bool, String> {
    Err("not yet".into())
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
