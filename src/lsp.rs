//! `policy lsp`: the language server (crate `policy-lsp`) on standard input and output.

use crate::output::Stop;

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it (VS Code's client does): the server always speaks over
    /// standard input and output.
    #[arg(long)]
    pub stdio: bool,
}

/// Serves one editor until it says `exit`; an error is a broken connection.
pub fn run(_args: LspArgs) -> Result<bool, Stop> {
    policy_lsp::run_stdio().map_err(|e| Stop::Error(format!("language server: {e}")))?;
    Ok(true)
}
