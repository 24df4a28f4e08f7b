//! `policy fmt`: the canonical layout for `.policy` files (`docs/fmt.md`), in place, or checked with
//! `--check` (the names of the files that would change) or `--diff` (a unified diff of each). A thin
//! layer over `policy::syntax::format`.
//!
//! Exit codes, as `ruff format`: 0 when every file is formatted (or, with `--check` or `--diff`,
//! already was); 1 with `--check` or `--diff` when some file would change; 2 when a file cannot be formatted (a syntax error, a file
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
    /// Change no file: print a unified diff of each file that would change, and exit 1 if there is any.
    #[arg(long)]
    diff: bool,
}

pub(crate) fn run(args: FmtArgs, terminal: &mut Terminal) -> Result<bool, Stop> {
    let check = args.check || args.diff;
    if args.paths.len() == 1 && args.paths[0] == Path::new("-") {
        return stdin(check, terminal);
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
        } else if check {
            changed += 1;
            if args.diff {
                let name = path.display().to_string();
                terminal.out(format_args!("{}", unified_diff(&name, &text, &formatted)))?;
            } else {
                terminal.out(format_args!("Would reformat: {}\n", path.display()))?;
            }
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
    let summary = summary(check, changed, unchanged, failed);
    terminal.err(format_args!("{summary}\n"))?;
    if failed > 0 {
        return Err(Stop::Quiet);
    }
    Ok(!(check && changed > 0))
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

/// Lines of context around each change in a diff.
const CONTEXT: usize = 2;

/// The most line pairs the diff compares one by one (a longest common subsequence); a larger changed
/// middle is shown as one replacement.
const MAX_DIFF_CELLS: usize = 4_000_000;

/// A unified diff of `old` and `new` (`--- NAME` / `+++ NAME (formatted)`, hunks with 2 lines of context).
fn unified_diff(name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Each line of either side: kept (in both), removed or added, in order.
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<(char, &str)> = a[..prefix].iter().map(|l| (' ', *l)).collect();
    if mid_a.len().saturating_mul(mid_b.len()) <= MAX_DIFF_CELLS {
        ops.extend(lcs_ops(mid_a, mid_b));
    } else {
        ops.extend(mid_a.iter().map(|l| ('-', *l)));
        ops.extend(mid_b.iter().map(|l| ('+', *l)));
    }
    ops.extend(a[a.len() - suffix..].iter().map(|l| (' ', *l)));

    let mut out = format!("--- {name}\n+++ {name} (formatted)\n");
    let changes: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].0 != ' ').collect();
    let mut i = 0;
    while i < changes.len() {
        // A hunk: changes closer than twice the context join.
        let start = changes[i].saturating_sub(CONTEXT);
        let mut end = changes[i];
        while i < changes.len() && changes[i] <= end + 2 * CONTEXT + 1 {
            end = changes[i];
            i += 1;
        }
        let end = (end + CONTEXT + 1).min(ops.len());
        let old_start = ops[..start].iter().filter(|(k, _)| *k != '+').count();
        let new_start = ops[..start].iter().filter(|(k, _)| *k != '-').count();
        let old_len = ops[start..end].iter().filter(|(k, _)| *k != '+').count();
        let new_len = ops[start..end].iter().filter(|(k, _)| *k != '-').count();
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            old_start + 1,
            new_start + 1
        ));
        for (kind, line) in &ops[start..end] {
            out.push(*kind);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The edit from `a` to `b` by a longest common subsequence of lines.
fn lcs_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(char, &'a str)> {
    let width = b.len() + 1;
    // lengths[i * width + j]: the longest common subsequence of a[i..] and b[j..].
    let mut lengths = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lengths[i * width + j] = if a[i] == b[j] {
                lengths[(i + 1) * width + j + 1] + 1
            } else {
                lengths[(i + 1) * width + j].max(lengths[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(a.len() + b.len());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len()
            && (j == b.len() || lengths[(i + 1) * width + j] >= lengths[i * width + j + 1])
        {
            // Removals before additions, as diff prints them.
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    ops
}

/// Writes `text` to `path` through a file beside it renamed over it: a reader sees the old text or the
/// new one, never half of one, and an interrupted run leaves the file as it was. A symbolic link is
/// followed: the file it points to is rewritten, the link stays.
///
/// The temporary file is created new (`create_new`: never through a link or over a file planted at its
/// name), under a name that cannot be guessed in advance (the process id, a counter and the clock's
/// nanoseconds, drawn again when taken), with the target's permissions set before any content is
/// written; it is removed on any error.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let resolved = std::fs::canonicalize(path)?;
    let path = resolved.as_path();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(PathBuf::new, Path::to_path_buf);
    let name = path
        .file_name()
        .map_or_else(|| "policy".into(), |n| n.to_string_lossy().into_owned());
    let (temp, mut file) = create_temp(&dir, &name)?;
    let result = (|| {
        // Keep the file's permissions, before the content is there to read.
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// A new file in `dir` named after `name`, created exclusively; a name already taken is drawn again, a
/// bounded number of times.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut last = None;
    for _ in 0..16 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let temp = dir.join(format!(
            ".{name}.fmt-{}-{}-{nanos:09}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn a_unified_diff_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
        assert_eq!(
            unified_diff("x.policy", old, new),
            "--- x.policy\n+++ x.policy (formatted)\n\
             @@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n d\n\
             @@ -9,2 +9,3 @@\n i\n j\n+k\n"
        );
    }

    #[test]
    fn close_changes_share_a_hunk() {
        let diff = unified_diff("x", "1\n2\n3\n4\n5\n6\n", "1\nX\n3\n4\nY\n6\n");
        assert_eq!(diff.matches("@@ -").count(), 1, "{diff}");
        assert!(diff.contains("@@ -1,6 +1,6 @@"), "{diff}");
    }
}
