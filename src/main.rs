//! The `policy` binary: the only code that writes to the terminal and picks exit codes. Each subcommand
//! is a file of its own and a thin layer over the `policy` library.

mod check;
mod diff;
mod eval;
mod explain;
mod fmt;
mod lsp;
mod output;
mod test;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::{Stop, Terminal};

/// Refund and lifecycle policies written as code: check them, decide orders with them, run their examples.
#[derive(Debug, Parser)]
#[command(name = "policy", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and type-check `.policy` files (folders recursively), run the static analysis, print
    /// diagnostics. Exit 0 when clean, 1 on any error.
    Check(check::CheckArgs),
    /// Decide orders with a policy: one JSON decision per order (JSON Lines for --orders).
    Eval(eval::EvalArgs),
    /// Run the examples the policies carry; close with `N passed, N failed`.
    Test(test::TestArgs),
    /// Compare two versions of a policy: the valid orders they decide differently, as regions with a
    /// witness order each, confirmed by deciding it with both versions; with --orders, the orders of a
    /// file whose decisions change, field by field, with counts. Exit 0: no difference (proved; with
    /// --orders, no order of the file changes); 1: differences found; 2: could not prove (no difference
    /// found, but not every region proved alike), or an error.
    Diff(diff::DiffArgs),
    /// Explain why a policy decides an order as it does: every rule tried with the value of each
    /// atom of its condition, how the deciding rule computed its attributes, or what is wrong with
    /// the input and what needed it. Exit 0 when the order is decided, 1 when it cannot be.
    Explain(explain::ExplainArgs),
    /// Format `.policy` files (folders recursively) in the one canonical layout, in place; comments
    /// stay where they were. With --check, change nothing and list the files that would change; with
    /// --diff, print their diffs. Exit 0 when done (or already formatted), 1 with --check or --diff
    /// when a file would change, 2 when a file cannot be formatted (a syntax error).
    Fmt(fmt::FmtArgs),
    /// Run the language server over standard input and output (for editors: diagnostics, hover,
    /// go to definition, references, completion, quick fixes; see docs/editors.md).
    Lsp(lsp::LspArgs),
}

/// Parses the arguments, runs the subcommand, maps the result to an exit code.
fn main() -> ExitCode {
    let verdict = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(error) => usage(error),
    };
    match verdict {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        // The reader went away: nobody is left to tell.
        Err(Stop::Quiet | Stop::Unproven) => ExitCode::from(2),
        Err(Stop::Error(message)) => {
            // If even standard error fails, the exit status is all that is left to say it.
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs a command. `Ok(true)`: success; `Ok(false)`: the command ran and found failures (exit 1);
/// `Err`: it could not run to its end (exit 2; see [`Stop`]).
fn run(cli: Cli) -> Result<bool, Stop> {
    // The language server writes standard output from a thread of its own: no `Terminal` (which
    // holds standard output's lock) may exist while it runs.
    let cli = match cli.command {
        Command::Lsp(args) => return lsp::run(args),
        command => Cli { command },
    };
    let mut terminal = Terminal::new();
    let verdict = match cli.command {
        Command::Check(args) => check::run(args, &mut terminal),
        Command::Eval(args) => eval::run(args, &mut terminal),
        Command::Test(args) => test::run(args, &mut terminal),
        Command::Diff(args) => diff::run(args, &mut terminal),
        Command::Explain(args) => explain::run(args, &mut terminal),
        Command::Fmt(args) => fmt::run(args, &mut terminal),
        Command::Lsp(args) => lsp::run(args),
    };
    let flushed = terminal.flush();
    let verdict = verdict?;
    flushed?;
    Ok(verdict)
}

/// Says what the argument parser has to say (help, the version, or a usage error) through the same
/// writers as the subcommands: `Ok(true)` after help or the version, `Stop::Quiet` (exit 2) after a
/// usage error, which is said already.
fn usage(error: clap::Error) -> Result<bool, Stop> {
    use std::io::IsTerminal;
    let mut terminal = Terminal::new();
    let text = error.render();
    if error.use_stderr() {
        if std::io::stderr().is_terminal() {
            terminal.err(format_args!("{}", text.ansi()))?;
        } else {
            terminal.err(format_args!("{text}"))?;
        }
        terminal.flush()?;
        return Err(Stop::Quiet);
    }
    if std::io::stdout().is_terminal() {
        terminal.out(format_args!("{}", text.ansi()))?;
    } else {
        terminal.out(format_args!("{text}"))?;
    }
    terminal.flush()?;
    Ok(true)
}

/// Every `.policy` file under the given paths (default: `policies/`); see [`policy::files::policy_files`].
pub(crate) fn policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let defaults = [PathBuf::from("policies")];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    policy::files::policy_files(paths).map_err(|e| e.to_string())
}

/// The calendar folder of the policy file at `path`: the one given with `--calendars`, else
/// `calendars/` beside the file.
fn calendar_folder(path: &std::path::Path, chosen: Option<&std::path::Path>) -> PathBuf {
    chosen.map_or_else(
        || policy::files::calendar_dir(path),
        std::path::Path::to_path_buf,
    )
}

/// Renders diagnostics for the terminal: coloured when stderr is a terminal, plain otherwise.
pub(crate) fn render(
    diagnostic: &policy::diagnostics::Diagnostic,
    file: &policy::source::SourceFile,
) -> String {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let mut out = String::new();
        let handler = miette::GraphicalReportHandler::new()
            .with_wrap_lines(false)
            .with_links(false);
        if handler
            .render_report(&mut out, &diagnostic.in_file(file))
            .is_ok()
        {
            return out;
        }
    }
    diagnostic.render_plain(file)
}
