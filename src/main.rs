//! The `policy` binary: parse the arguments, run the subcommand, map the result to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use policy::cli::Stop;

fn main() -> ExitCode {
    let verdict = match policy::cli::Cli::try_parse() {
        Ok(cli) => policy::cli::run(cli),
        Err(usage) => policy::cli::usage(usage),
    };
    match verdict {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        // The reader went away: nobody is left to tell.
        Err(Stop::Quiet) => ExitCode::from(2),
        Err(Stop::Error(message)) => {
            // If even standard error fails, the exit status is all that is left to say it.
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(2)
        }
    }
}
