//! Diagnostics shared by every phase: a code, a message, a labelled span, a help line. Rendered with
//! miette, so the file, line, column and the source line underlined come for free. The source is the
//! shared `SourceFile` (never a copy per diagnostic), which shows long lines through a window.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};

use crate::source::{SourceFile, Span};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Information that needs no action (a gap the author declared on purpose).
    Note,
    /// The policy runs, but something is likely wrong; `policy check --deny warnings` fails on it.
    Warning,
    /// The policy does not load.
    Error,
}

impl Severity {
    /// `error`, `warning` or `note`: as the terse line, JSON and SARIF (`level`) name it.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One finding about a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How much it matters.
    pub severity: Severity,
    /// Stable code, e.g. `policy::check::unknown_name` (`docs/language.md` lists them all).
    pub code: &'static str,
    /// What is wrong, in lowercase, without a final period.
    pub message: String,
    /// Where, in the policy's text.
    pub span: Span,
    /// What to underline the span with.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Further places that explain the finding (the earlier definition of a duplicate, say).
    pub related: Vec<(Span, String)>,
    /// Fixes an editor can apply as they are (a did-you-mean's replacement): what `help` says, as edits.
    pub suggestions: Vec<Suggestion>,
}

/// A fix as an edit: replace the text at `span` with `replacement`. Language servers offer it as a quick
/// fix, SARIF carries it as a `fix`, JSON output as `suggestions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The text to replace.
    pub span: Span,
    /// What to write instead.
    pub replacement: String,
}

impl Diagnostic {
    /// An error with `code` and `message` at `span`.
    #[cold]
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: None,
            help: None,
            related: Vec::new(),
            suggestions: Vec::new(),
        }
    }

    /// A warning with `code` and `message` at `span`.
    #[cold]
    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }

    /// A note with `code` and `message` at `span`.
    #[cold]
    pub fn note(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, message, span)
        }
    }

    /// Says what the underline of the span means.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Says how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `help: did you mean `CLOSE`?` when one of `candidates` is close to `name`, with `CLOSE` as a
    /// suggestion replacing `at` (the name as written, inside its quotes if it has any; `None` where its
    /// exact place is not known, and then only the help says it); else `otherwise` as the help.
    pub fn with_did_you_mean<'a>(
        self,
        name: &str,
        at: Option<Span>,
        candidates: impl IntoIterator<Item = &'a str>,
        otherwise: impl FnOnce() -> String,
    ) -> Self {
        self.with_did_you_mean_written(name, at, candidates, str::to_string, otherwise)
    }

    /// [`Diagnostic::with_did_you_mean`], the replacement written by `written` (a value that must be
    /// quoted, say).
    pub fn with_did_you_mean_written<'a>(
        self,
        name: &str,
        at: Option<Span>,
        candidates: impl IntoIterator<Item = &'a str>,
        written: impl FnOnce(&str) -> String,
        otherwise: impl FnOnce() -> String,
    ) -> Self {
        match did_you_mean(name, candidates) {
            Some(close) => {
                let mut d = self.with_help(format!("did you mean `{close}`?"));
                d.suggestions.extend(at.map(|span| Suggestion {
                    span,
                    replacement: written(close),
                }));
                d
            }
            None => self.with_help(otherwise()),
        }
    }

    /// Adds another place that explains the finding.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// Whether it stops the policy from loading.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Attaches the source so miette can render it (borrowed: nothing of the text is copied).
    pub fn in_file<'a>(&'a self, file: &'a SourceFile) -> RenderedDiagnostic<'a> {
        RenderedDiagnostic {
            diagnostic: self,
            source: file,
        }
    }

    /// The diagnostic as text with the source underlined, without colours (for files and snapshots).
    pub fn render_plain(&self, file: &SourceFile) -> String {
        let mut out = String::new();
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_wrap_lines(false)
            .with_links(false);
        if handler
            .render_report(&mut out, &self.in_file(file))
            .is_err()
        {
            out = format!("{}: {}", self.code, self.message);
        }
        out
    }

    /// `file:line:col: severity: message`, one line, for logs and terse output.
    pub fn one_line(&self, file: &SourceFile) -> String {
        let (line, col) = file.line_col(self.span.start);
        let severity = self.severity.name();
        format!("{}:{line}:{col}: {severity}: {}", file.name, self.message)
    }
}

/// A diagnostic joined with its source, as miette wants it.
pub struct RenderedDiagnostic<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a SourceFile,
}

impl fmt::Debug for RenderedDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for RenderedDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for RenderedDiagnostic<'_> {}

impl miette::Diagnostic for RenderedDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    /// The spans as the source shows them (`SourceFile::shown`: a window on a very long line).
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let shown = |span: Span| self.source.shown(span);
        let primary = LabeledSpan::new_primary_with_span(
            self.diagnostic.label.clone(),
            shown(self.diagnostic.span),
        );
        let related = self.diagnostic.related.iter().map(move |(span, label)| {
            LabeledSpan::new_with_span(Some(label.clone()), shown(*span))
        });
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// The closest of `candidates` to `name`, if close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["paid_at", "price", "status"];
        assert_eq!(did_you_mean("paid_ta", names), Some("paid_at"));
        assert_eq!(did_you_mean("statsu", names), Some("status"));
        assert_eq!(did_you_mean("completely_else", names), None);
        assert_eq!(did_you_mean("monye", ["money", "int"]), Some("money"));
    }
}
