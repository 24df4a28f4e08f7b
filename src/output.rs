//! Where the command line writes, and what a failed write means. Every subcommand writes through a
//! [`Terminal`], so all answer alike:
//!
//! - the reader went away (a broken pipe: `policy test | head -1`): the command stops at once and
//!   quietly, like a tool killed by `SIGPIPE`, and exits 2 (it did not run to its end);
//! - any other failure (a full disk, a closed standard output): the command stops with
//!   `error: cannot write to standard output: ...` and exits 2.

use std::fmt;
use std::io::{self, Write};

/// Why a command stopped without a verdict (exit 2).
#[derive(Debug)]
pub enum Stop {
    /// The reader of standard output or standard error went away: stop without a word.
    Quiet,
    /// The command could not run: said as `error: MESSAGE` on standard error.
    Error(String),
    /// The command ran to its end but reached no verdict (`policy diff`: could not prove); its
    /// report says why.
    Unproven,
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Error(message)
    }
}

impl Stop {
    /// A failed write to `stream` (`"standard output"`, ...).
    pub fn write(stream: &str, error: io::Error) -> Stop {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Stop::Quiet
        } else {
            Stop::Error(format!("cannot write to {stream}: {error}"))
        }
    }
}

/// Standard output (results) and standard error (diagnostics, notes).
pub struct Terminal {
    out: io::StdoutLock<'static>,
    err: io::Stderr,
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal::new()
    }
}

impl Terminal {
    pub fn new() -> Terminal {
        Terminal {
            out: io::stdout().lock(),
            err: io::stderr(),
        }
    }

    /// Writes to standard output (line-buffered).
    pub fn out(&mut self, text: fmt::Arguments<'_>) -> Result<(), Stop> {
        self.out
            .write_fmt(text)
            .map_err(|e| Stop::write("standard output", e))
    }

    /// Writes to standard error, after what standard output holds, so the two keep their order.
    pub fn err(&mut self, text: fmt::Arguments<'_>) -> Result<(), Stop> {
        self.out
            .flush()
            .map_err(|e| Stop::write("standard output", e))?;
        self.err
            .write_fmt(text)
            .map_err(|e| Stop::write("standard error", e))
    }

    /// Standard output itself, for a command that buffers its own writes; map its errors with
    /// [`Stop::write`].
    pub fn stdout(&mut self) -> &mut io::StdoutLock<'static> {
        &mut self.out
    }

    /// Delivers what is buffered.
    pub fn flush(&mut self) -> Result<(), Stop> {
        self.out
            .flush()
            .map_err(|e| Stop::write("standard output", e))?;
        self.err
            .flush()
            .map_err(|e| Stop::write("standard error", e))
    }

    /// Refuses to run when standard output is closed, where results would be lost without a word.
    pub fn require_stdout(&self) -> Result<(), Stop> {
        if stdout_closed() {
            return Err(Stop::Error(
                "standard output is closed (or is /dev/null opened for reading and writing, as a \
                 closed one is reopened): the results would be lost; to discard them, use `>/dev/null`"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Whether standard output was closed when the process started. The Rust runtime reopens a closed
/// standard descriptor on `/dev/null`, for reading and writing, before `main`, so writes would
/// succeed and the output vanish. A shell's `>/dev/null` opens it for writing only; so does
/// `std::process::Stdio::null()`. So: standard output is `/dev/null` and can be read from.
#[cfg(unix)]
fn stdout_closed() -> bool {
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    let stdout = io::stdout();
    let Ok(fd) = stdout.as_fd().try_clone_to_owned() else {
        // Not even a descriptor: closed, on a platform that does not reopen it.
        return true;
    };
    let mut file = std::fs::File::from(fd);
    let (Ok(meta), Ok(null)) = (file.metadata(), std::fs::metadata("/dev/null")) else {
        return false;
    };
    if !meta.file_type().is_char_device() || meta.rdev() != null.rdev() {
        return false;
    }
    file.read(&mut [0u8; 1]).is_ok()
}

#[cfg(not(unix))]
fn stdout_closed() -> bool {
    false
}

/// How a report is written: `--format text|json` of `explain` and `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// JSON, documented with its command.
    Json,
}
