//! `policy fmt`: the canonical layout for `.policy` files (`docs/fmt.md`), in place, or checked with
//! `--check`. A thin layer over `policy::syntax::format`.
//!
//! Exit codes, as `ruff format`: 0 when every file is formatted (or, with `--check`, already was); 1
//! with `--check` when some file would change; 2 when a file cannot be formatted (a syntax error, a file
//! that cannot be read or written): the other files are still formatted.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::output::{Stop, Terminal};

#[derive(Debug, clap::Args)]
pub(crate) struct FmtArgs {
    /// Policy files, or folders searched recursively for `.policy` files (default: `policies/`). `-`
    /// formats standard input to standard output.
    paths: Vec<PathBuf>,
    /// Change no file: list the files that would change, and exit 1 if there is any.
    #[arg(long)]
    check: bool,
}

pub(crate) fn run(args: FmtArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    if args.paths.len() == 1 && args.paths[0] == Path::new("-") {
        return stdin(args.check, terminal);
    }
    let files = crate::policy_files(&args.paths)?;
    let (mut changed, mut unchanged, mut failed) = (0usize, 0usize, 0usize);
    for path in &files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                terminal.err(format_args!("error: cannot read {}: {e}\n", path.display()))?;
                failed += 1;
                continue;
            }
        };
        let formatted = match policy::syntax::format(&text) {
            Ok(formatted) => formatted,
            Err(diagnostics) => {
                let file = policy::source::SourceFile::new(path.display().to_string(), text);
                for d in &diagnostics {
                    terminal.err(format_args!("{}", crate::render(d, &file)))?;
                }
                failed += 1;
                continue;
            }
        };
        if formatted == text {
            unchanged += 1;
        } else if args.check {
            changed += 1;
            terminal.out(format_args!("Would reformat: {}\n", path.display()))?;
        } else if let Err(e) = write_atomically(path, &formatted) {
            terminal.err(format_args!(
                "error: cannot write {}: {e}\n",
                path.display()
            ))?;
            failed += 1;
        } else {
            changed += 1;
        }
    }
    let summary = summary(args.check, changed, unchanged, failed);
    terminal.err(format_args!("{summary}\n"))?;
    if failed > 0 {
        return Err(Stop::Quiet);
    }
    Ok(!(args.check && changed > 0))
}

fn summary(check: bool, changed: usize, unchanged: usize, failed: usize) -> String {
    let files = |n: usize| if n == 1 { "file" } else { "files" };
    let mut parts = Vec::new();
    if changed > 0 {
        let verb = if check {
            "would be reformatted"
        } else {
            "reformatted"
        };
        parts.push(format!("{changed} {} {verb}", files(changed)));
    }
    if unchanged > 0 || parts.is_empty() {
        let state = if check {
            "already formatted"
        } else {
            "left unchanged"
        };
        parts.push(format!("{unchanged} {} {state}", files(unchanged)));
    }
    if failed > 0 {
        parts.push(format!("{failed} {} could not be formatted", files(failed)));
    }
    parts.join(", ")
}

/// `policy fmt -`: standard input to standard output (an editor's "format document").
fn stdin(check: bool, terminal: &mut Terminal) -> Result<bool, Stop> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Stop::Error(format!("cannot read standard input: {e}")))?;
    match policy::syntax::format(&text) {
        Ok(formatted) if check => Ok(formatted == text),
        Ok(formatted) => {
            terminal.out(format_args!("{formatted}"))?;
            Ok(true)
        }
        Err(diagnostics) => {
            let file = policy::source::SourceFile::new("<stdin>", text);
            for d in &diagnostics {
                terminal.err(format_args!("{}", crate::render(d, &file)))?;
            }
            Err(Stop::Quiet)
        }
    }
}

/// Writes `text` to `path` through a file beside it renamed over it: a reader sees the old text or the
/// new one, never half of one, and an interrupted run leaves the file as it was. A symbolic link is
/// followed: the file it points to is rewritten, the link stays.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let resolved = std::fs::canonicalize(path)?;
    let path = resolved.as_path();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let name = path
        .file_name()
        .map_or_else(|| "policy".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir
        .map_or_else(PathBuf::new, Path::to_path_buf)
        .join(format!(".{name}.fmt-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        // Keep the file's permissions.
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
