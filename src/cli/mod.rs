//! The command line: the only code that reads files, writes to the terminal and picks exit codes.
//! Each subcommand is a thin layer over the library.

mod check;
mod eval;
mod output;
mod test;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

pub use output::{Stop, Terminal};

/// Refund and lifecycle policies written as code: check them, decide orders with them, run their examples.
#[derive(Debug, Parser)]
#[command(name = "policy", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and type-check `.policy` files (folders recursively), run the static analysis, print
    /// diagnostics. Exit 0 when clean, 1 on any error.
    Check(check::CheckArgs),
    /// Decide orders with a policy: one JSON decision per order (JSON Lines for --orders).
    Eval(eval::EvalArgs),
    /// Run the examples the policies carry; close with `N passed, N failed`.
    Test(test::TestArgs),
}

/// Runs a command. `Ok(true)`: success; `Ok(false)`: the command ran and found failures (exit 1);
/// `Err`: it could not run to its end (exit 2; see [`Stop`]).
pub fn run(cli: Cli) -> Result<bool, Stop> {
    let mut terminal = Terminal::new();
    let verdict = match cli.command {
        Command::Check(args) => check::run(args, &mut terminal),
        Command::Eval(args) => eval::run(args, &mut terminal),
        Command::Test(args) => test::run(args, &mut terminal),
    };
    let flushed = terminal.flush();
    let verdict = verdict?;
    flushed?;
    Ok(verdict)
}

/// Says what the argument parser has to say (help, the version, or a usage error) through the same
/// writers as the subcommands: `Ok(true)` after help or the version, `Stop::Quiet` (exit 2) after a
/// usage error, which is said already.
pub fn usage(error: clap::Error) -> Result<bool, Stop> {
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

/// Every `.policy` file under the given paths: files as given, folders recursively (each folder's
/// entries sorted, depth first), each file once. Links to folders are followed, but each folder is
/// walked once, by its canonical path, so a link back up the tree (a loop) is not walked again; a file
/// reached by two paths is listed once, by the first.
pub(crate) fn policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let defaults = [PathBuf::from("policies")];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut walk = Walk::default();
    for path in paths {
        if path.is_dir() {
            walk.folder(path)?;
        } else if path.exists() {
            walk.file(path.clone());
        } else {
            return Err(format!("no such file or folder: `{}`", path.display()));
        }
    }
    Ok(walk.files)
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    /// Canonical paths of the folders walked and the files listed.
    seen: HashSet<PathBuf>,
}

impl Walk {
    fn file(&mut self, path: PathBuf) {
        // A path that cannot be resolved (a dangling link) is listed as given: reading it says why.
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if self.seen.insert(key) {
            self.files.push(path);
        }
    }

    /// Walks `root` without recursion: a stack of each open folder's remaining entries.
    fn folder(&mut self, root: &Path) -> Result<(), String> {
        let mut stack = Vec::new();
        if let Some(entries) = self.enter(root)? {
            stack.push(entries);
        }
        while let Some(entries) = stack.last_mut() {
            let Some(path) = entries.next() else {
                stack.pop();
                continue;
            };
            if path.is_dir() {
                if let Some(entries) = self.enter(&path)? {
                    stack.push(entries);
                }
            } else if path.extension().is_some_and(|e| e == "policy") {
                self.file(path);
            }
        }
        Ok(())
    }

    /// The sorted entries of `dir`, or `None` if it was walked already.
    fn enter(&mut self, dir: &Path) -> Result<Option<std::vec::IntoIter<PathBuf>>, String> {
        let cannot = |e: std::io::Error| format!("cannot read `{}`: {e}", dir.display());
        let canonical = std::fs::canonicalize(dir).map_err(cannot)?;
        if !self.seen.insert(canonical) {
            return Ok(None);
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(cannot)? {
            entries.push(entry.map_err(cannot)?.path());
        }
        entries.sort();
        Ok(Some(entries.into_iter()))
    }
}

/// Renders diagnostics for the terminal: coloured when stderr is a terminal, plain otherwise.
pub(crate) fn render(
    diagnostic: &crate::diagnostics::Diagnostic,
    file: &crate::source::SourceFile,
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
