//! `policy fmt` over every policy file of the repository (policies/, examples/policies/, tests/cases/):
//! formatting is idempotent, keeps every comment, and the formatted file checks to the same result (the
//! same diagnostic codes, the same examples passing and failing, the same decisions); a file with
//! syntax errors is not formatted and has every error reported. And the command line's exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use policy::eval::run_examples;
use policy::eval::FileContents;
use policy::Policy;

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folders = ["policies", "examples/policies", "tests/cases"].map(|f| root.join(f));
    let files = policy::files::policy_files(&folders).unwrap_or_default();
    assert!(files.len() > 100, "the corpus is missing: {}", files.len());
    files
}

/// Comment texts in order, as the lexer sees them (trailing white space aside).
fn comments(text: &str) -> Vec<String> {
    let mut out: Vec<String> = policy::syntax::tree::lex(text)
        .into_iter()
        .filter(|t| t.kind == policy::syntax::tree::SyntaxKind::Comment)
        .map(|t| text[t.start..t.end].trim_end().to_string())
        .collect();
    out.sort();
    out
}

/// Warning codes once the file's `# allow(CODE): REASON` comments are applied, as `policy check`
/// applies them, with the codes silenced.
fn allowed(
    text: &str,
    warnings: &[policy::diagnostics::Diagnostic],
) -> (Vec<&'static str>, Vec<&'static str>) {
    let applied = policy::suppression::apply(text, warnings.to_vec());
    (
        applied.reported.iter().map(|d| d.code).collect(),
        applied.suppressed.iter().map(|(d, _)| d.code).collect(),
    )
}

/// What checking a file gives, without spans: the file's kind and its diagnostic codes (suppressions
/// applied), or its examples' results.
fn outcome(path: &Path, text: &str) -> String {
    let folder = policy::files::load_calendars(&policy::files::calendar_dir(path));
    match Policy::from_file_text(path, text, &folder) {
        Ok(FileContents::Policy(policy)) => {
            let warnings = allowed(text, policy.warnings());
            let examples: Vec<String> = run_examples(&policy)
                .iter()
                .map(|r| format!("{}/{}: {:?}", r.action, r.name, r.mismatches))
                .collect();
            format!("policy {warnings:?} {examples:#?}")
        }
        Ok(FileContents::Library { warnings, .. }) => {
            let codes = allowed(text, &warnings);
            format!("library {codes:?}")
        }
        Err(error) => {
            let codes: Vec<(&str, String)> = error
                .diagnostics()
                .iter()
                .map(|d| (d.code, d.message.clone()))
                .collect();
            format!("error {:?} {codes:?}", error.kind())
        }
    }
}

#[test]
fn formatting_every_policy_file_is_idempotent_keeps_comments_and_meaning() {
    let (mut formatted, mut refused) = (0, 0);
    for path in corpus() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        match policy::syntax::format(&text) {
            Ok(once) => {
                formatted += 1;
                let twice = policy::syntax::format(&once);
                assert_eq!(
                    twice.as_ref().ok(),
                    Some(&once),
                    "{}: not idempotent",
                    path.display()
                );
                assert_eq!(
                    comments(&once),
                    comments(&text),
                    "{}: comments differ",
                    path.display()
                );
                assert_eq!(
                    outcome(&path, &once),
                    outcome(&path, &text),
                    "{}: the formatted file checks differently",
                    path.display()
                );
            }
            Err(diagnostics) => {
                refused += 1;
                // Only a file that does not parse is refused, with every error `check` reports.
                let expected = policy::syntax::check_syntax(&text)
                    .err()
                    .unwrap_or_default();
                assert!(
                    !expected.is_empty(),
                    "{}: refused but parses: {diagnostics:?}",
                    path.display()
                );
                assert_eq!(diagnostics.len(), expected.len(), "{}", path.display());
            }
        }
    }
    assert!(formatted > 100);
    assert!(
        refused >= 5,
        "the syntax error cases are missing: {refused}"
    );
}

#[test]
fn the_shipped_policies_are_close_to_the_layout_already() {
    // The canonical layout was chosen from the shipped files: formatting them moves few lines.
    for path in corpus()
        .iter()
        .filter(|p| !p.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")))
    {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let Ok(formatted) = policy::syntax::format(&text) else {
            panic!("{} does not format", path.display());
        };
        let moved = text
            .lines()
            .zip(formatted.lines())
            .filter(|(a, b)| a != b)
            .count()
            + text.lines().count().abs_diff(formatted.lines().count());
        assert!(moved <= 20, "{}: {moved} lines move", path.display());
    }
}

fn policy_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_policy"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("policy-fmt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap_or_default();
    dir
}

const MESSY: &str = "policy p\nzone \"UTC\"   # where\nfield a : int = 1+2\n";
const TIDY: &str = "policy p\n  zone \"UTC\"   # where\nfield a: int = 1 + 2\n";

#[test]
fn fmt_check_lists_what_would_change_and_exits_1() {
    let dir = scratch("check");
    std::fs::write(dir.join("sub/messy.policy"), MESSY).unwrap_or_default();
    std::fs::write(dir.join("tidy.policy"), TIDY).unwrap_or_default();
    let out = policy_bin()
        .args(["fmt", "--check"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Would reformat:") && stdout.contains("messy.policy"),
        "{stdout}"
    );
    assert!(!stdout.contains("tidy.policy"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("1 file would be reformatted, 1 file already formatted"));
    // Nothing was written.
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/messy.policy")).unwrap_or_default(),
        MESSY
    );

    // Formatting in place, then the check passes.
    let out = policy_bin()
        .arg("fmt")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/messy.policy")).unwrap_or_default(),
        TIDY
    );
    let out = policy_bin()
        .args(["fmt", "--check"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // --diff: a unified diff, nothing written.
    std::fs::write(dir.join("sub/messy.policy"), MESSY).unwrap_or_default();
    let out = policy_bin()
        .args(["fmt", "--diff"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("messy.policy (formatted)\n@@ -1,3 +1,3 @@\n policy p\n-zone \"UTC\"   # where\n-field a : int = 1+2\n+  zone \"UTC\"   # where\n+field a: int = 1 + 2\n"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/messy.policy")).unwrap_or_default(),
        MESSY
    );
    let out = policy_bin()
        .arg("fmt")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // No temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(dir.join("sub"))
        .map(|d| d.flatten().count())
        .into_iter()
        .collect();
    assert_eq!(left, vec![1]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn fmt_rewrites_the_file_a_link_points_to() {
    let dir = scratch("link");
    std::fs::write(dir.join("sub/messy.policy"), MESSY).unwrap_or_default();
    let linked = std::os::unix::fs::symlink(dir.join("sub/messy.policy"), dir.join("link.policy"));
    assert!(linked.is_ok());
    let out = policy_bin()
        .arg("fmt")
        .arg(dir.join("link.policy"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let link =
        std::fs::symlink_metadata(dir.join("link.policy")).map(|m| m.file_type().is_symlink());
    assert!(matches!(link, Ok(true)));
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/messy.policy")).unwrap_or_default(),
        TIDY
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A link planted at the temporary file's old, guessable name (`.NAME.fmt-PID.tmp`) is not followed:
/// the file it points to is untouched, the link stays, the policy is formatted.
#[cfg(unix)]
#[test]
fn fmt_does_not_write_through_a_link_planted_at_a_temporary_name() {
    let dir = scratch("planted");
    std::fs::write(dir.join("p.policy"), MESSY).unwrap_or_default();
    std::fs::write(dir.join("victim.txt"), "precious\n").unwrap_or_default();
    // `exec` keeps the shell's process id, so `$$` is the pid `policy fmt` runs with.
    let out = Command::new("sh")
        .current_dir(&dir)
        .arg("-c")
        .arg("ln -s victim.txt .p.policy.fmt-$$.tmp && exec \"$0\" fmt p.policy")
        .arg(env!("CARGO_BIN_EXE_policy"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("victim.txt")).unwrap_or_default(),
        "precious\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("p.policy")).unwrap_or_default(),
        TIDY
    );
    let planted: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
                .count()
        })
        .into_iter()
        .collect();
    assert_eq!(planted, vec![1]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A suppression covers the whole rule below it, so that moving the rule's clauses onto lines of their
/// own (as `policy fmt` does) keeps its finding silenced: `policy check` says the same before and after.
#[test]
fn formatting_keeps_what_a_suppression_silences() {
    let dir = scratch("allow");
    std::fs::write(dir.join("d.txt"), "late\n").unwrap_or_default();
    let text =
        "policy p\n  document \"d.txt\" \"Terms\"\n  zone \"UTC\"\n\nfield paid_at: timestamp\n\n\
                action refund {\n  # allow(always_present): written as the document words it\n  \
                rule late when present(paid_at) and now more than 7 days after paid_at then denied \
                because \"x\" cite \"late\"\n}\n";
    std::fs::write(dir.join("p.policy"), text).unwrap_or_default();
    let check = || {
        let out = policy_bin()
            .arg("check")
            .arg(dir.join("p.policy"))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let summary = stdout
            .lines()
            .chain(stderr.lines())
            .find(|l| l.starts_with("checked "))
            .unwrap_or_default()
            .to_string();
        (summary, format!("{stdout}{stderr}"))
    };
    let (before, all) = check();
    assert_eq!(
        before, "checked 1 file: 0 errors, 1 warning (1 allowed by `# allow`)",
        "{all}"
    );
    let out = policy_bin()
        .arg("fmt")
        .arg(dir.join("p.policy"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let formatted = std::fs::read_to_string(dir.join("p.policy")).unwrap_or_default();
    assert!(
        formatted.contains("  rule late\n    when present(paid_at)"),
        "{formatted}"
    );
    let (after, all) = check();
    assert_eq!(after, before, "{all}");
    assert!(!all.contains("unused_suppression"), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The engine's limits checked after parsing (the depth of an expression) are not the formatter's, as
/// `docs/fmt.md` and `docs/syntax.md` say: a guard of 200,000 chained `not`s, which the lossless parser
/// reads flat, is formatted, while `check` refuses it as too deep; nesting past the limit stops both.
#[test]
fn the_expression_depth_limit_is_checks_not_the_formatters() {
    let text = format!(
        "policy p\nfield a: bool\nlet b = {}a\n",
        "not ".repeat(200_000)
    );
    let errors = policy::syntax::check_syntax(&text)
        .err()
        .unwrap_or_default();
    assert!(
        errors.iter().any(|d| d.code == "policy::parse::too_deep"),
        "{errors:?}"
    );
    assert_eq!(
        policy::syntax::format(&text).ok().as_deref(),
        Some(text.as_str())
    );
    let nested = format!("policy p\nlet b = {}1{}\n", "(".repeat(40), ")".repeat(40));
    let refused = policy::syntax::format(&nested).err().unwrap_or_default();
    assert!(
        refused.iter().any(|d| d.code == "policy::parse::too_deep"),
        "{refused:?}"
    );
}

#[test]
fn fmt_of_a_file_with_syntax_errors_reports_them_all_and_exits_2() {
    let dir = scratch("errors");
    let broken = "policy p\nlet a =\nfield b: int\nlet c = (1\nfield d: int\n";
    std::fs::write(dir.join("broken.policy"), broken).unwrap_or_default();
    std::fs::write(dir.join("sub/messy.policy"), MESSY).unwrap_or_default();
    let out = policy_bin()
        .arg("fmt")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("policy::parse::syntax").count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("1 file could not be formatted"), "{stderr}");
    // The broken file is left alone; the other one is formatted.
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.policy")).unwrap_or_default(),
        broken
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/messy.policy")).unwrap_or_default(),
        TIDY
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_dash_formats_standard_input() {
    use std::io::Write;
    let mut child = policy_bin()
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(MESSY.as_bytes()).unwrap_or_default();
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), TIDY);
}

mod perturbed {
    use proptest::prelude::*;

    const INSERTS: [&str; 8] = [
        " ",
        "\n",
        "\n\n\n",
        "\t",
        "# c\n",
        "  # c\n",
        "\n# c\n\n",
        "\r\n",
    ];

    /// A corpus file with white space or comments added where white space already stands. With
    /// `layout_only`, not where the formatter keeps the author's spacing: before a comment on the same
    /// line as code (aligned trailing comments), and before an example's JSON on its line (the JSON's
    /// lines move with its `{`).
    fn perturb(text: &str, picks: &[(usize, usize)], layout_only: bool) -> String {
        use policy::syntax::tree::SyntaxKind::{Comment, Json, Whitespace};
        let tokens = policy::syntax::tree::lex(text);
        let spaces: Vec<usize> = tokens
            .iter()
            .enumerate()
            .filter(|(i, t)| {
                if t.kind != Whitespace {
                    return false;
                }
                if !layout_only {
                    return true;
                }
                let line_end = text[t.start..]
                    .find('\n')
                    .map_or(text.len(), |e| t.start + e);
                !tokens[*i..]
                    .iter()
                    .take_while(|u| u.start < line_end)
                    .any(|u| u.kind == Json || u.kind == Comment)
            })
            .map(|(_, t)| t.start)
            .collect();
        if spaces.is_empty() {
            return text.to_string();
        }
        let mut at: Vec<(usize, &str)> = picks
            .iter()
            .map(|(i, k)| (spaces[i % spaces.len()], INSERTS[k % INSERTS.len()]))
            .collect();
        at.sort_unstable();
        at.dedup_by_key(|(a, _)| *a);
        let mut out = text.to_string();
        for (offset, insert) in at.into_iter().rev() {
            out.insert_str(offset, insert);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Whatever the white space and comments, formatting succeeds, is idempotent and keeps the
        /// comments.
        #[test]
        fn formatting_survives_any_layout(file in 0usize..1000, picks in proptest::collection::vec((0usize..10_000, 0usize..8), 1..12)) {
            let files = super::corpus();
            let path = &files[file % files.len()];
            let text = std::fs::read_to_string(path).unwrap_or_default();
            prop_assume!(policy::syntax::tree::parse(&text).errors.is_empty());
            let damaged = perturb(&text, &picks, false);
            // A comment between `more` and `than` (or `at` and `least`) is a syntax error.
            prop_assume!(policy::syntax::tree::parse(&damaged).errors.is_empty());
            let once = policy::syntax::format(&damaged);
            prop_assert!(once.is_ok(), "{}: {:?}", path.display(), once);
            let once = once.unwrap_or_default();
            let twice = policy::syntax::format(&once).ok();
            prop_assert_eq!(twice.as_ref(), Some(&once), "{}: not idempotent", path.display());
            prop_assert_eq!(super::comments(&once), super::comments(&damaged));
        }

        /// Spaces added to a formatted file are taken out again.
        #[test]
        fn spaces_alone_are_undone(file in 0usize..1000, picks in proptest::collection::vec((0usize..10_000, 0usize..1), 1..12)) {
            let files = super::corpus();
            let path = &files[file % files.len()];
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let Ok(formatted) = policy::syntax::format(&text) else {
                return Ok(());
            };
            let spaced = perturb(&formatted, &picks, true);
            let again = policy::syntax::format(&spaced).ok();
            prop_assert_eq!(again.as_ref(), Some(&formatted), "{}", path.display());
        }
    }
}
