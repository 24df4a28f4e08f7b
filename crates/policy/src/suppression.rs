//! Per-finding suppression with a reason: a comment line `# allow(CODE): REASON` silences the warnings
//! of that code located in the code it applies to, so that a finding the author cannot fix (a gap the
//! document leaves, a calendar whose next year is not published yet) no longer fails
//! `policy check --deny warnings`. `CODE` is a diagnostic's full code or its last part
//! (`policy::check::calendar_coverage` or `calendar_coverage`).
//!
//! What a suppression applies to, as rustc's `#[allow]` on an item: the next line that is not blank or
//! a comment, and the whole syntactic unit that starts on it (read from the lossless tree,
//! `policy_syntax`): the declaration or action entry (`field`, `let`, `rule`, `default`, `example`,
//! `action`, a header entry ...) whose first token opens that line, to its end; on a line inside a unit
//! (a rule's `when` line), the clause that starts there. So `policy fmt`, which moves a rule's clauses
//! onto lines of their own, does not move a finding out of its suppression. A text with syntax errors
//! is not analysed; there a suppression covers its next line alone. Where suppressions nest (one above
//! an action, one above a rule in it), a finding is silenced by the innermost that names its code.
//!
//! The reason may go on over the comment lines right below (no blank line between): they continue it,
//! joined with spaces.
//!
//! Only warnings are silenced: an error still stops the policy. A suppression without a reason
//! silences nothing (`policy::check::suppression_without_reason`), and one that silences nothing is
//! itself a warning (`policy::check::unused_suppression`), so that suppressions do not outlive their
//! findings.

use crate::diagnostics::{Diagnostic, Severity};
use crate::source::Span;

/// One `# allow(CODE): REASON` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The comment.
    pub span: Span,
    /// The code, as written.
    pub code: String,
    /// Why, as written after `):`.
    pub reason: String,
    /// The byte range it applies to: its next code line and the unit that starts there.
    target: Span,
}

impl Suppression {
    fn silences(&self, diagnostic: &Diagnostic) -> bool {
        diagnostic.severity == Severity::Warning
            && (diagnostic.code == self.code
                || diagnostic.code.rsplit("::").next() == Some(self.code.as_str()))
            && (self.target.start..self.target.end).contains(&diagnostic.span.start)
    }
}

/// What the suppressions of a file made of its findings.
#[derive(Debug, Default)]
pub struct Applied {
    /// The findings still reported, with the suppressions' own findings, in source order.
    pub reported: Vec<Diagnostic>,
    /// The findings silenced, each with the reason given.
    pub suppressed: Vec<(Diagnostic, String)>,
}

/// Applies the suppressions written in `text` to its `diagnostics`.
pub fn apply(text: &str, diagnostics: Vec<Diagnostic>) -> Applied {
    let (suppressions, mut reported) = read(text);
    let mut used = vec![false; suppressions.len()];
    let mut applied = Applied::default();
    for diagnostic in diagnostics {
        // The innermost suppression that names the finding's code (the first of equals).
        let innermost = suppressions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.silences(&diagnostic))
            .min_by_key(|(_, s)| s.target.end - s.target.start)
            .map(|(i, _)| i);
        match innermost {
            Some(i) => {
                used[i] = true;
                applied
                    .suppressed
                    .push((diagnostic, suppressions[i].reason.clone()));
            }
            None => reported.push(diagnostic),
        }
    }
    // A file with errors was not analysed: its suppressions' findings were never looked for.
    let analysed = !reported.iter().any(Diagnostic::is_error);
    for (suppression, _) in suppressions
        .iter()
        .zip(&used)
        .filter(|(_, used)| analysed && !**used)
    {
        reported.push(
            Diagnostic::warning(
                "policy::check::unused_suppression",
                format!(
                    "nothing here to allow: no `{}` finding in the code below",
                    suppression.code
                ),
                suppression.span,
            )
            .with_help(
                "remove the suppression: the finding it silenced is gone (or is on another line)",
            ),
        );
    }
    reported.sort_by_key(|d| (d.span.start, d.span.end));
    applied.reported = reported;
    applied
}

/// The suppressions of `text`, and the findings about malformed ones.
fn read(text: &str) -> (Vec<Suppression>, Vec<Diagnostic>) {
    let mut suppressions = Vec::new();
    let mut findings = Vec::new();
    // Suppressions waiting for the line they apply to.
    let mut pending: Vec<Suppression> = Vec::new();
    let mut offset = 0;
    // Whether the previous line was a suppression (or its continuation) whose reason the next comment
    // line continues.
    let mut continuing = false;
    // The text's tree, parsed at the first suppression that needs it; `None` inside when it has errors.
    let mut tree: Option<Option<policy_syntax::SyntaxNode>> = None;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continuing = false;
            continue;
        }
        let Some(comment) = trimmed.strip_prefix('#') else {
            continuing = false;
            if pending.is_empty() {
                continue;
            }
            let tree = tree.get_or_insert_with(|| {
                let parse = policy_syntax::parse(text);
                parse.errors.is_empty().then_some(parse.root)
            });
            let first = start + (line.len() - line.trim_start().len());
            let end = tree
                .as_ref()
                .and_then(|root| unit_end(root, first, offset))
                .map_or(offset, |end| end.max(offset));
            let target = Span::new(start, end);
            suppressions.extend(pending.drain(..).map(|s| Suppression { target, ..s }));
            continue;
        };
        // `allow(CODE)` (`gap`, `policy::check::calendar_coverage`), then `:` or the end of the line:
        // anything else is an ordinary comment (`# allow(s) the customer to ...`), or, right below a
        // suppression, the continuation of its reason.
        let Some((code, after)) = comment
            .trim_start()
            .strip_prefix("allow(")
            .and_then(|rest| rest.split_once(')'))
        else {
            if let (true, Some(last)) = (continuing, pending.last_mut()) {
                let more = comment.trim();
                if !more.is_empty() {
                    last.reason.push(' ');
                    last.reason.push_str(more);
                }
            }
            continue;
        };
        continuing = false;
        let code = code.trim();
        let is_code = !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b':');
        let after = after.trim();
        if !is_code || !(after.is_empty() || after.starts_with(':')) {
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let span = Span::new(start + lead, start + lead + trimmed.len());
        let reason = after.strip_prefix(':').unwrap_or("").trim();
        if reason.is_empty() {
            findings.push(
                Diagnostic::warning(
                    "policy::check::suppression_without_reason",
                    format!("`allow({code})` does not say why"),
                    span,
                )
                .with_label("silences nothing without a reason")
                .with_help(format!(
                    "say why the finding cannot be fixed: `# allow({code}): REASON`"
                )),
            );
            continue;
        }
        pending.push(Suppression {
            span,
            code: code.to_string(),
            reason: reason.to_string(),
            target: Span::default(),
        });
        continuing = true;
    }
    // A suppression at the end of the file applies to nothing.
    suppressions.extend(pending);
    (suppressions, findings)
}

/// The end of what starts on the line whose code runs from `first` to `line_end`: the outermost nodes
/// of `root` (the file itself excepted) whose first token is on that line, as deep as the node that
/// holds the line's first token (a declaration that opens the line; on a rule's `when` line, the
/// condition). `None` when no node starts there. A walk down the tree, without recursion.
fn unit_end(root: &policy_syntax::SyntaxNode, first: usize, line_end: usize) -> Option<usize> {
    let mut node = root;
    'down: loop {
        let mut end = None;
        for child in node.child_nodes() {
            let Some((start, stop)) = child.range() else {
                continue;
            };
            if (first..line_end).contains(&start) {
                end = end.max(Some(stop));
            } else if start < first && first < stop {
                node = child;
                continue 'down;
            }
        }
        return end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning_at(text: &str, needle: &str, code: &'static str) -> Diagnostic {
        let start = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in the text"));
        Diagnostic::warning(code, "finding", Span::new(start, start + needle.len()))
    }

    const TEXT: &str = "policy p\n  # allow(calendar_coverage): 2027 not published yet\n\n  # a comment\n  calendar cn\nfield x: int\n";

    #[test]
    fn a_suppression_silences_its_code_on_the_next_line_of_code() {
        let finding = warning_at(TEXT, "cn", "policy::check::calendar_coverage");
        let applied = apply(TEXT, vec![finding.clone()]);
        assert!(applied.reported.is_empty(), "{:?}", applied.reported);
        assert_eq!(
            applied.suppressed,
            [(finding, "2027 not published yet".to_string())]
        );
    }

    #[test]
    fn other_codes_and_other_lines_are_not_silenced_and_the_suppression_is_unused() {
        for finding in [
            warning_at(TEXT, "cn", "policy::analysis::gap"),
            warning_at(TEXT, "field", "policy::check::calendar_coverage"),
        ] {
            let applied = apply(TEXT, vec![finding.clone()]);
            let codes: Vec<&str> = applied.reported.iter().map(|d| d.code).collect();
            assert!(codes.contains(&finding.code), "{codes:?}");
            assert!(
                codes.contains(&"policy::check::unused_suppression"),
                "{codes:?}"
            );
            assert!(applied.suppressed.is_empty());
        }
    }

    #[test]
    fn an_ordinary_comment_is_not_a_suppression_and_a_file_with_errors_reports_none_unused() {
        let text = "# allow(s) the customer to cancel\nfield x: int\n";
        assert!(read(text).0.is_empty() && read(text).1.is_empty());
        // An error on the suppressed line is not silenced, and the file was not analysed: no unused.
        let error = Diagnostic {
            severity: Severity::Error,
            ..warning_at(TEXT, "cn", "policy::check::calendar_coverage")
        };
        let applied = apply(TEXT, vec![error]);
        let codes: Vec<&str> = applied.reported.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["policy::check::calendar_coverage"]);
        assert!(applied.suppressed.is_empty());
    }

    #[test]
    fn a_reason_goes_on_over_the_comment_lines_right_below() {
        let text = "# allow(gap): the terms say nothing\n#   of closed orders\n\n# an ordinary comment\naction a {\n";
        let (suppressions, findings) = read(text);
        assert!(findings.is_empty());
        assert_eq!(suppressions.len(), 1);
        assert_eq!(
            suppressions[0].reason,
            "the terms say nothing of closed orders"
        );
        // A second suppression right below starts its own reason.
        let text = "# allow(gap): one\n# allow(dead_rule): two\n# more\nrule r\n";
        let reasons: Vec<String> = read(text).0.into_iter().map(|s| s.reason).collect();
        assert_eq!(reasons, ["one", "two more"]);
    }

    #[test]
    fn a_suppression_without_reason_silences_nothing() {
        let text = TEXT.replace(": 2027 not published yet", ":");
        let finding = warning_at(&text, "cn", "policy::check::calendar_coverage");
        let applied = apply(&text, vec![finding]);
        let codes: Vec<&str> = applied.reported.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "policy::check::suppression_without_reason",
                "policy::check::calendar_coverage"
            ]
        );
    }

    const RULE: &str = "policy p\n  zone \"UTC\"\n\nfield paid_at: timestamp\n\naction refund {\n  # allow(always_present): as the document words it\n  rule late\n    when present(paid_at) and now > paid_at\n    then denied\n    because \"x\"\n  rule other when present(paid_at) then denied because \"y\"\n}\n";

    #[test]
    fn a_suppression_covers_the_whole_declaration_that_starts_on_its_next_line() {
        // The finding is on the rule's `when` line, below the line the suppression is above.
        let finding = warning_at(RULE, "present(", "policy::check::always_present");
        let applied = apply(RULE, vec![finding.clone()]);
        assert!(applied.reported.is_empty(), "{:?}", applied.reported);
        assert_eq!(applied.suppressed.len(), 1);
        // The next rule is not covered.
        let at = RULE.find("other when present").map_or(0, |i| i + 11);
        let other = Diagnostic::warning(
            "policy::check::always_present",
            "finding",
            Span::new(at, at + 7),
        );
        let applied = apply(RULE, vec![other]);
        let codes: Vec<&str> = applied.reported.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "policy::check::unused_suppression",
                "policy::check::always_present"
            ]
        );
    }

    #[test]
    fn on_a_line_inside_a_declaration_a_suppression_covers_the_clause_that_starts_there() {
        let text = "policy p\nfield a: int\nlet b =\n  # allow(x): why\n  a +\n    a\nlet c = a\n";
        let (suppressions, _) = read(text);
        let start = text.find("  a +").unwrap_or(0);
        let end = text.find("let c").unwrap_or(0) - 1;
        assert_eq!(suppressions[0].target, Span::new(start, end));
        // A text with syntax errors: the next line alone, as written.
        let text = "field a: int\n# allow(x): why\nrule r when\n  a\n";
        let (suppressions, _) = read(text);
        let start = text.find("rule").unwrap_or(0);
        let end = text.find("  a").unwrap_or(0);
        assert_eq!(suppressions[0].target, Span::new(start, end));
    }

    #[test]
    fn nested_suppressions_the_innermost_silences() {
        let text = RULE.replace(
            "action refund {\n",
            "# allow(always_present): for the whole action\naction refund {\n",
        );
        let inner = warning_at(&text, "present(", "policy::check::always_present");
        let at = text.find("other when present").map_or(0, |i| i + 11);
        let outer = Diagnostic::warning(
            "policy::check::always_present",
            "finding",
            Span::new(at, at + 7),
        );
        let applied = apply(&text, vec![inner, outer]);
        assert!(applied.reported.is_empty(), "{:?}", applied.reported);
        let reasons: Vec<&str> = applied.suppressed.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            reasons,
            ["as the document words it", "for the whole action"]
        );
    }
}
