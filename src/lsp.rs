//! `policy lsp`: the language server (crate `policy-lsp`) on standard input and output.

use crate::output::Stop;

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Accepted for clients that add it (vscode-languageclient's stdio transport does): the server always speaks over
    /// standard input and output.
    #[arg(long)]
    pub stdio: bool,
}

/// Serves one editor until it says `exit`: exit 0 after `shutdown` and `exit`, 1 after an `exit`
/// without `shutdown` or when the editor went away (as the protocol says), 2 on a broken connection.
pub fn run(_args: LspArgs) -> Result<bool, Stop> {
    policy_lsp::run_stdio().map_err(|e| Stop::Error(format!("language server: {e}")))
}
