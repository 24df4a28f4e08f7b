//! What the server answers: hover, definition, references, completion, quick fixes, the outline.
//! Each function reads an analysed document and returns the protocol's answer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CompletionItem, CompletionItemKind,
    DocumentSymbol, Hover, HoverContents, Location, MarkupContent, MarkupKind, Range, SymbolKind,
    TextEdit, Uri, WorkspaceEdit,
};
use policy::diagnostics::Severity;
use policy::symbols::{Symbol, SymbolIndex, SymbolKind as Kind};

use crate::document::Document;
use crate::lines::{Encoding, Lines};

/// The symbol under byte `offset` of the text now, and the span of that occurrence in the text now.
fn symbol_at(doc: &Document, offset: usize) -> Option<(&Symbol, policy::source::Span)> {
    let (index, shift) = doc.index()?;
    let (symbol, span) = index.at(shift.to_old(offset)?)?;
    Some((symbol, shift.span(span)?))
}

/// The hover of the name under `offset`: what it is, its type and unit, a rule's outcome and
/// citations, a definition's value in each example.
pub fn hover(doc: &Document, offset: usize) -> Option<Hover> {
    let (symbol, span) = symbol_at(doc, offset)?;
    let mut text = format!("{} `{}`", symbol.kind.describe(), symbol.name);
    match symbol.kind {
        Kind::Field | Kind::Let | Kind::RuleValue => match &symbol.detail {
            Some(detail) => text.push_str(&format!(": `{detail}`")),
            None => text.push_str(": type not known until the policy checks"),
        },
        Kind::EnumValue => {
            if let Some(parent) = &symbol.parent {
                text.push_str(&format!(" of enum `{parent}`"));
            }
        }
        Kind::Rule => {
            if let Some(outcome) = symbol.outcome {
                text.push_str(&format!(": **{}**", outcome.as_str()));
            }
            if let Some(action) = &symbol.parent {
                text.push_str(&format!(" (action `{action}`)"));
            }
        }
        Kind::Enum | Kind::Action => {
            if let Some(detail) = &symbol.detail {
                text.push_str(&format!(": {detail}"));
            }
        }
        Kind::Step | Kind::RefundDestination | Kind::ReviewKind | Kind::Import => {}
    }
    if let Some(origin) = &symbol.origin {
        let what = if symbol.kind == Kind::Import {
            "reads"
        } else {
            "imported from"
        };
        text.push_str(&format!("\n\n{what} `{}`", origin.path.display()));
    }
    if symbol.kind == Kind::Enum {
        let (index, _) = doc.index()?;
        let values: Vec<String> = index
            .of_kind(Kind::EnumValue)
            .filter(|v| v.parent.as_deref() == Some(symbol.name.as_str()))
            .map(|v| format!("`{}`", v.name))
            .collect();
        text.push_str(&format!("\n\n{}", values.join(", ")));
    }
    for reason in &symbol.reasons {
        text.push_str(&format!("\n\n- because {:?}", reason.text));
        if let Some(cite) = &reason.cite {
            text.push_str(&format!("\n\n  > {cite}"));
            if let Some(document) = &reason.document {
                text.push_str(&format!(" (in `{document}`)"));
            }
        }
    }
    if symbol.kind == Kind::Let {
        text.push_str(&examples_values(doc, &symbol.name));
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(doc.lines.range(&doc.text, span)),
    })
}

/// The most examples whose values a hover lists.
const MAX_EXAMPLES_SHOWN: usize = 12;

/// `In the examples:` and the definition's value in each example of the last policy that checked.
fn examples_values(doc: &Document, name: &str) -> String {
    let Some((policy, current)) = &doc.policy else {
        return "\n\nIts value in the examples: not available until the policy checks".into();
    };
    let mut lines = Vec::new();
    for example in policy.examples().take(MAX_EXAMPLES_SHOWN) {
        let value = match policy.read_order_str(example.order) {
            Ok(order) => {
                let at = example.at.unwrap_or_else(policy::eval::now);
                match policy.definition_value(name, &order, at) {
                    Some(Ok(value)) => format!("`{value}`"),
                    Some(Err(why)) => format!("no value ({why})"),
                    None => return String::new(),
                }
            }
            Err(error) => format!("no value ({error})"),
        };
        lines.push(format!(
            "- {:?} ({}): {value}",
            example.name, example.action
        ));
    }
    if lines.is_empty() {
        return String::new();
    }
    let stale = if *current {
        ""
    } else {
        " (as of the last version that checked)"
    };
    format!("\n\nIn the examples{stale}:\n{}", lines.join("\n"))
}

/// Where the name under `offset` is declared: in this file, or in the library it is imported from
/// (`read` gives a file's text, to place the name in it).
pub fn definition(
    doc: &Document,
    uri: &Uri,
    offset: usize,
    encoding: Encoding,
    read: impl FnOnce(&Path) -> Option<String>,
) -> Option<Location> {
    let (symbol, _) = symbol_at(doc, offset)?;
    if let Some(origin) = &symbol.origin {
        let target = crate::uri::from_path(&origin.path)?;
        let text = read(&origin.path).unwrap_or_default();
        let lines = Lines::new(&text, encoding);
        return Some(Location::new(target, lines.range(&text, origin.span)));
    }
    let (_, shift) = doc.index()?;
    let span = shift.span(symbol.span)?;
    Some(Location::new(uri.clone(), doc.lines.range(&doc.text, span)))
}

/// Every use in this file of the name under `offset`, and its declaration if asked and written here.
pub fn references(
    doc: &Document,
    uri: &Uri,
    offset: usize,
    declaration: bool,
) -> Option<Vec<Location>> {
    let (symbol, _) = symbol_at(doc, offset)?;
    let (_, shift) = doc.index()?;
    let mut spans = Vec::new();
    if declaration && symbol.origin.is_none() {
        spans.push(symbol.span);
    }
    spans.extend(symbol.uses.iter().copied());
    Some(
        spans
            .into_iter()
            .filter_map(|s| shift.span(s))
            .map(|s| Location::new(uri.clone(), doc.lines.range(&doc.text, s)))
            .collect(),
    )
}

/// What the name under `offset` is declared as: the file that declares it (`None` for a buffer without
/// a file), its kind and its name.
pub fn declared(doc: &Document, offset: usize) -> Option<(Option<PathBuf>, Kind, String)> {
    let (symbol, _) = symbol_at(doc, offset)?;
    if symbol.kind == Kind::Import {
        return None;
    }
    let file = match &symbol.origin {
        Some(origin) => Some(origin.path.clone()),
        None => doc.path.clone(),
    };
    Some((file, symbol.kind, symbol.name.clone()))
}

/// The places in `doc` (at `uri`) that use the name `name` of `kind` declared in the file `path`: the
/// uses of its import, or, in that file itself, its uses and (with `declaration`) its declaration.
pub fn uses_in(
    doc: &Document,
    uri: &Uri,
    path: &Path,
    kind: Kind,
    name: &str,
    declaration: bool,
) -> Vec<Location> {
    let Some((index, shift)) = doc.index() else {
        return Vec::new();
    };
    let here = doc.path.as_deref().is_some_and(|p| same_file(p, path));
    let mut spans = Vec::new();
    for symbol in index.of_kind(kind).filter(|s| s.name == name) {
        match &symbol.origin {
            None if here => {
                if declaration {
                    spans.push(symbol.span);
                }
                spans.extend(symbol.uses.iter().copied());
            }
            Some(origin) if !here && same_file(&origin.path, path) => {
                spans.extend(symbol.uses.iter().copied());
            }
            _ => {}
        }
    }
    spans
        .into_iter()
        .filter_map(|s| shift.span(s))
        .map(|s| Location::new(uri.clone(), doc.lines.range(&doc.text, s)))
        .collect()
}

/// Whether two paths name one file (`a/../b` and `b` do).
pub fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
}

/// Quick fixes: each suggestion of a finding of the text now whose range meets `range`, as an edit.
pub fn code_actions(doc: &Document, uri: &Uri, range: Range) -> Vec<CodeActionOrCommand> {
    let start = doc.lines.offset(&doc.text, range.start);
    let end = doc.lines.offset(&doc.text, range.end);
    let mut actions = Vec::new();
    for diagnostic in &doc.diagnostics {
        let (s, e) = (diagnostic.span.start as usize, diagnostic.span.end as usize);
        if e < start || s > end {
            continue;
        }
        if let Some(allow) = allow_action(doc, uri, diagnostic) {
            actions.push(allow);
        }
        for suggestion in &diagnostic.suggestions {
            let edit = TextEdit::new(
                doc.lines.range(&doc.text, suggestion.span),
                suggestion.replacement.clone(),
            );
            let mut changes = HashMap::new();
            changes.insert(uri.clone(), vec![edit]);
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace with `{}`", suggestion.replacement),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![to_lsp(doc, uri, diagnostic)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                }),
                command: None,
                is_preferred: Some(diagnostic.suggestions.len() == 1),
                disabled: None,
                data: None,
            }));
        }
    }
    actions
}

/// For a warning: a `# allow(CODE): ` line above the line it is on, its reason left for the author to
/// write (until then it silences nothing, and says so: `policy::check::suppression_without_reason`).
fn allow_action(
    doc: &Document,
    uri: &Uri,
    diagnostic: &policy::diagnostics::Diagnostic,
) -> Option<CodeActionOrCommand> {
    if diagnostic.severity != Severity::Warning || diagnostic.code.contains("suppression") {
        return None;
    }
    let code = diagnostic.code.rsplit("::").next()?;
    let at = (diagnostic.span.start as usize).min(doc.text.len());
    let line_start = doc.text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line = doc.text.get(line_start..)?;
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    let place = doc.lines.position(&doc.text, line_start);
    let edit = TextEdit::new(
        Range::new(place, place),
        format!("{indent}# allow({code}): \n"),
    );
    let mut changes = HashMap::new();
    changes.insert(uri.clone(), vec![edit]);
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title: format!("Allow `{code}` here (write the reason after `# allow({code}):`)"),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![to_lsp(doc, uri, diagnostic)]),
        edit: Some(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }),
        command: None,
        is_preferred: Some(false),
        disabled: None,
        data: None,
    }))
}

/// A finding as the protocol's diagnostic.
pub fn to_lsp(
    doc: &Document,
    uri: &Uri,
    d: &policy::diagnostics::Diagnostic,
) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(label) = &d.label {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related = d
        .related
        .iter()
        .map(|(span, label)| lsp_types::DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), doc.lines.range(&doc.text, *span)),
            message: label.clone(),
        })
        .collect::<Vec<_>>();
    lsp_types::Diagnostic {
        range: doc.lines.range(&doc.text, d.span),
        severity: Some(match d.severity {
            Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
            Severity::Note => lsp_types::DiagnosticSeverity::INFORMATION,
        }),
        code: Some(lsp_types::NumberOrString::String(d.code.to_string())),
        code_description: None,
        source: Some("policy".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// The outline: actions with their rules, and the other declarations of the file.
#[expect(
    deprecated,
    reason = "DocumentSymbol's `deprecated` field must be written, as None"
)]
pub fn document_symbols(doc: &Document) -> Vec<DocumentSymbol> {
    let Some((index, shift)) = doc.index() else {
        return Vec::new();
    };
    let make = |s: &Symbol| -> Option<DocumentSymbol> {
        let name_span = shift.span(s.span)?;
        let full = shift.span(s.full).unwrap_or(name_span);
        Some(DocumentSymbol {
            name: s.name.clone(),
            detail: s.detail.clone(),
            kind: match s.kind {
                Kind::Field => SymbolKind::FIELD,
                Kind::Let => SymbolKind::CONSTANT,
                Kind::Enum => SymbolKind::ENUM,
                Kind::EnumValue => SymbolKind::ENUM_MEMBER,
                Kind::Step | Kind::RefundDestination | Kind::ReviewKind => SymbolKind::CONSTANT,
                Kind::Action => SymbolKind::CLASS,
                Kind::Rule => SymbolKind::METHOD,
                Kind::RuleValue => SymbolKind::VARIABLE,
                Kind::Import => SymbolKind::MODULE,
            },
            tags: None,
            deprecated: None,
            range: doc.lines.range(&doc.text, full),
            selection_range: doc.lines.range(&doc.text, name_span),
            children: None,
        })
    };
    let mut out: Vec<DocumentSymbol> = Vec::new();
    for symbol in index.symbols() {
        if symbol.origin.is_some() && symbol.kind != Kind::Import {
            continue;
        }
        let Some(made) = make(symbol) else { continue };
        match symbol.kind {
            Kind::Rule | Kind::RuleValue | Kind::EnumValue => {
                if let Some(parent) = out.last_mut() {
                    parent.children.get_or_insert_with(Vec::new).push(made);
                    continue;
                }
                out.push(made);
            }
            _ => out.push(made),
        }
    }
    out
}

/// The words completion offers everywhere an expression or a declaration may start.
const KEYWORDS: [&str; 30] = [
    "policy",
    "provider",
    "document",
    "zone",
    "calendar",
    "import",
    "enum",
    "field",
    "require",
    "constraint",
    "let",
    "action",
    "unique",
    "default",
    "rule",
    "when",
    "then",
    "else",
    "because",
    "cite",
    "example",
    "requires",
    "value",
    "and",
    "or",
    "not",
    "in",
    "if",
    "within",
    "rounded",
];

/// The built-in functions, with what each gives.
const FUNCTIONS: [(&str, &str); 12] = [
    ("date", "date(timestamp): its date in the policy's zone"),
    ("start_of_day", "start_of_day(date): its first instant"),
    ("days", "days(duration): whole days"),
    ("hours", "hours(duration): whole hours"),
    ("minutes", "minutes(duration): whole minutes"),
    ("seconds", "seconds(duration): whole seconds"),
    ("min", "min(a, b)"),
    ("max", "max(a, b)"),
    (
        "present",
        "present(field): whether an optional field is given",
    ),
    ("starts_with", "starts_with(string, prefix)"),
    ("ends_with", "ends_with(string, suffix)"),
    ("contains", "contains(string, part)"),
];

/// The units a count may take.
const UNITS: [(&str, &str); 10] = [
    ("calendar days", "whole dates in the policy's zone"),
    ("business days", "working days of the policy's calendar"),
    ("hours", "an exact duration"),
    ("days", "an exact duration of 86,400 s each"),
    ("minutes", "an exact duration"),
    ("seconds", "an exact duration"),
    ("weeks", "an exact duration of 7 x 24 hours each"),
    (
        "calendar months",
        "months of the calendar: the day of the month is kept",
    ),
    ("calendar years", "12 calendar months each"),
    ("x", "a product: `7 x 24 hours`"),
];

const OUTCOMES: [&str; 4] = ["allowed", "conditional", "denied", "undetermined"];

const FIELD_TYPES: [&str; 6] = ["bool", "int", "money", "string", "timestamp", "date"];

/// What the text before the cursor asks for.
#[derive(Debug, PartialEq, Eq)]
enum Context<'a> {
    /// Inside a string or a comment: nothing.
    Nothing,
    /// `SUBJECT in {..., |`: the values of the subject's enum.
    SetOf(&'a str),
    /// `SUBJECT == |`: the subject's enum values, or any expression.
    Compared(&'a str),
    /// `requires [..., |`
    Steps,
    /// `refund_to = |`
    RefundTo,
    /// `review = |`
    Review,
    /// `next_status = |`
    NextStatus,
    /// After a count: units.
    Unit,
    /// After `calendar` or `business`: the unit's second word.
    UnitWord(&'a str),
    /// `field NAME: |`
    Type,
    /// `then |`: outcomes, or an expression after `if ... then`.
    Outcome,
    /// `rounded |`
    Rounding,
    /// Anything else: names, keywords, functions.
    Expression,
}

/// Reads what the text before the cursor (the word being typed excluded) asks for.
fn context(before: &str) -> Context<'_> {
    let line = before.rsplit('\n').next().unwrap_or(before);
    let mut in_string = false;
    for c in line.chars() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return Context::Nothing,
            _ => {}
        }
    }
    if in_string {
        return Context::Nothing;
    }
    let open = |o: char, c: char| match (before.rfind(o), before.rfind(c)) {
        (Some(o), Some(c)) if c > o => None,
        (Some(o), _) => Some(o),
        _ => None,
    };
    if let Some(at) = open('[', ']') {
        if before
            .get(..at)
            .unwrap_or("")
            .trim_end()
            .ends_with("requires")
        {
            return Context::Steps;
        }
    }
    if let Some(at) = open('{', '}') {
        let head = before.get(..at).unwrap_or("").trim_end();
        if let Some(head) = head.strip_suffix("in") {
            if head.ends_with(char::is_whitespace) {
                let head = head.trim_end();
                let head = head.strip_suffix("not").map_or(head, str::trim_end);
                return Context::SetOf(last_word(head));
            }
        }
    }
    let trimmed = before.trim_end();
    for op in ["==", "!="] {
        if let Some(head) = trimmed.strip_suffix(op) {
            return Context::Compared(last_word(head.trim_end()));
        }
    }
    if let Some(head) = trimmed.strip_suffix('=') {
        match last_word(head.trim_end()) {
            "refund_to" => return Context::RefundTo,
            "review" => return Context::Review,
            "next_status" => return Context::NextStatus,
            _ => return Context::Expression,
        }
    }
    if trimmed.ends_with(':') && line.trim_start().starts_with("field") {
        return Context::Type;
    }
    let word = last_word(trimmed);
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        return Context::Unit;
    }
    match word {
        "calendar" | "business" => {
            let before_word = trimmed.get(..trimmed.len() - word.len()).unwrap_or("");
            let count = last_word(before_word.trim_end());
            if !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()) {
                Context::UnitWord(word)
            } else {
                Context::Expression
            }
        }
        "then" => Context::Outcome,
        "rounded" => Context::Rounding,
        _ => Context::Expression,
    }
}

/// The identifier at the end of `text`.
fn last_word(text: &str) -> &str {
    let start = text
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    text.get(start..).unwrap_or("")
}

/// Completion at byte `offset`: what the place asks for, from the document's index (the last one that
/// parsed, while the text does not).
pub fn completion(doc: &Document, offset: usize) -> Vec<CompletionItem> {
    let mut offset = offset.min(doc.text.len());
    while !doc.text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = doc.text.get(..offset).unwrap_or("");
    let word = last_word(before);
    let before = before.get(..before.len() - word.len()).unwrap_or("");
    let empty = SymbolIndex::default();
    let index = doc.index().map_or(&empty, |(index, _)| index);
    let mut items = Vec::new();
    let mut add = |label: &str, kind: CompletionItemKind, detail: Option<String>| {
        if items.iter().all(|i: &CompletionItem| i.label != label) {
            items.push(CompletionItem {
                label: label.to_string(),
                kind: Some(kind),
                detail,
                ..CompletionItem::default()
            });
        }
    };
    let symbols = |kind: Kind| index.of_kind(kind);
    let enum_values = |subject: &str| -> Vec<&Symbol> {
        let of = index
            .find(subject, Kind::Field)
            .and_then(|f| f.detail.as_deref())
            .and_then(|d| d.split([' ', '?']).next())
            .filter(|ty| index.find(ty, Kind::Enum).is_some());
        index
            .of_kind(Kind::EnumValue)
            .filter(|v| of.is_none() || v.parent.as_deref() == of)
            .collect()
    };
    let value = CompletionItemKind::ENUM_MEMBER;
    match context(before) {
        Context::Nothing => {}
        Context::SetOf(subject) => {
            for v in enum_values(subject) {
                add(&v.name, value, v.parent.clone());
            }
        }
        Context::Compared(subject) => {
            for v in enum_values(subject) {
                add(&v.name, value, v.parent.clone());
            }
            names(index, &mut add);
        }
        Context::Steps => {
            symbols(Kind::Step).for_each(|s| add(&s.name, value, Some("step".into())))
        }
        Context::RefundTo => {
            for s in symbols(Kind::RefundDestination) {
                add(&s.name, value, Some("refund destination".into()));
            }
            names(index, &mut add);
        }
        Context::Review => {
            for s in symbols(Kind::ReviewKind) {
                add(&s.name, value, Some("review kind".into()));
            }
            names(index, &mut add);
        }
        Context::NextStatus => {
            for v in enum_values("status") {
                add(&v.name, value, v.parent.clone());
            }
        }
        Context::Unit => {
            for (unit, detail) in UNITS {
                add(unit, CompletionItemKind::UNIT, Some(detail.into()));
            }
        }
        Context::UnitWord(first) => {
            let words: &[&str] = if first == "business" {
                &["days"]
            } else {
                &["days", "months", "years", "month", "year", "day"]
            };
            for w in words {
                add(w, CompletionItemKind::UNIT, Some(format!("{first} {w}")));
            }
        }
        Context::Type => {
            for ty in FIELD_TYPES {
                add(ty, CompletionItemKind::TYPE_PARAMETER, None);
            }
            for e in symbols(Kind::Enum) {
                add(&e.name, CompletionItemKind::ENUM, Some("enum".into()));
            }
        }
        Context::Outcome => {
            for o in OUTCOMES {
                add(o, CompletionItemKind::KEYWORD, Some("outcome".into()));
            }
            names(index, &mut add);
        }
        Context::Rounding => {
            for r in policy::syntax::ROUNDING_MODES {
                add(r, CompletionItemKind::KEYWORD, Some("rounding".into()));
            }
        }
        Context::Expression => {
            names(index, &mut add);
            for (f, detail) in FUNCTIONS {
                add(f, CompletionItemKind::FUNCTION, Some(detail.into()));
            }
            add(
                "now",
                CompletionItemKind::VARIABLE,
                Some("the request time".into()),
            );
            for k in KEYWORDS.iter().chain(&OUTCOMES) {
                add(k, CompletionItemKind::KEYWORD, None);
            }
        }
    }
    items
}

/// The fields and definitions, with their types.
fn names(index: &SymbolIndex, add: &mut impl FnMut(&str, CompletionItemKind, Option<String>)) {
    for s in index.of_kind(Kind::Field) {
        add(&s.name, CompletionItemKind::FIELD, s.detail.clone());
    }
    for s in index.of_kind(Kind::Let) {
        add(&s.name, CompletionItemKind::CONSTANT, s.detail.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_before_the_cursor_says_what_is_asked() {
        assert_eq!(
            context("  when status in {issued, "),
            Context::SetOf("status")
        );
        assert_eq!(context("  when status not in {"), Context::SetOf("status"));
        assert_eq!(context("when status == "), Context::Compared("status"));
        assert_eq!(context("  requires [revoke, "), Context::Steps);
        assert_eq!(context("  default refund_to = "), Context::RefundTo);
        assert_eq!(context("  review = "), Context::Review);
        assert_eq!(context("  next_status = "), Context::NextStatus);
        assert_eq!(context("now within 5 "), Context::Unit);
        assert_eq!(
            context("now within 5 calendar "),
            Context::UnitWord("calendar")
        );
        assert_eq!(context("field paid_at: "), Context::Type);
        assert_eq!(context("  calendar "), Context::Expression);
        assert_eq!(context("  then "), Context::Outcome);
        assert_eq!(context("x rounded "), Context::Rounding);
        assert_eq!(context("let a = "), Context::Expression);
        assert_eq!(context("because \"half "), Context::Nothing);
        assert_eq!(context("let a = b # see "), Context::Nothing);
        // A closed set or list is behind the cursor.
        assert_eq!(context("when s in {a} and "), Context::Expression);
        assert_eq!(context("requires [a]\n  "), Context::Expression);
    }
}

#[cfg(test)]
mod any_text {
    //! No text, whole or cut anywhere, and no position in it makes a feature panic.

    use super::*;
    use crate::document::Document;
    use std::str::FromStr;

    fn shipped() -> Vec<(std::path::PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
        [
            "alibaba-ssl-refund-legacy.policy",
            "alibaba-cms-refund-2026.policy",
        ]
        .iter()
        .map(|name| {
            let path = root.join(name);
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
    }

    #[test]
    fn every_feature_answers_on_cut_texts() {
        let uri = Uri::from_str("file:///x.policy").unwrap();
        for (path, text) in shipped() {
            let mut doc = Document::new(Some(path.clone()), 1, text.clone(), Encoding::Utf16);
            doc.analyse(|p| std::fs::read_to_string(p).ok());
            assert!(
                doc.diagnostics.iter().all(|d| !d.is_error()),
                "{:?}",
                doc.diagnostics
            );
            let mut cut = 0;
            while cut < text.len() {
                while !text.is_char_boundary(cut) {
                    cut += 1;
                }
                // The text cut short, as typed so far: the last good index stays in use.
                doc.set_text(text[..cut].to_string(), 2, Encoding::Utf16);
                doc.analyse(|p| std::fs::read_to_string(p).ok());
                let len = doc.text.len();
                for offset in (0..=len).step_by(41).chain([len]) {
                    let _ = hover(&doc, offset);
                    let _ = definition(&doc, &uri, offset, Encoding::Utf16, |_| None);
                    let _ = references(&doc, &uri, offset, true);
                    let _ = completion(&doc, offset);
                }
                let everything = doc
                    .lines
                    .range(&doc.text, policy::source::Span::new(0, len));
                let _ = code_actions(&doc, &uri, everything);
                let _ = document_symbols(&doc);
                cut += 1201;
            }
        }
    }

    #[test]
    fn a_warning_can_be_allowed_with_a_reason_to_write() {
        let text = "policy p\n  document \"d.txt\"\n  zone \"UTC\"\n\nfield price: money\n    field unused: money\n\
                    action a { rule r then allowed amount = price because \"b\" cite \"c\" }\n";
        let uri = Uri::from_str("untitled:x").unwrap();
        let mut doc = Document::new(None, 1, text.to_string(), Encoding::Utf16);
        doc.analyse(|_| None);
        let warning = doc
            .diagnostics
            .iter()
            .find(|d| d.code == "policy::check::unused_field")
            .unwrap_or_else(|| panic!("{:?}", doc.diagnostics));
        let range = doc.lines.range(&doc.text, warning.span);
        let actions = code_actions(&doc, &uri, range);
        let [CodeActionOrCommand::CodeAction(action)] = &actions[..] else {
            panic!("{actions:?}")
        };
        assert_eq!(
            action.title,
            "Allow `unused_field` here (write the reason after `# allow(unused_field):`)"
        );
        let edits = &action.edit.as_ref().unwrap().changes.as_ref().unwrap()[&uri];
        assert_eq!(edits[0].range.start, lsp_types::Position::new(5, 0));
        assert_eq!(edits[0].new_text, "    # allow(unused_field): \n");
        // Applied with a reason, the warning is gone.
        let allowed = text.replace(
            "    field unused",
            "    # allow(unused_field): kept for the next version\n    field unused",
        );
        doc.set_text(allowed, 2, Encoding::Utf16);
        doc.analyse(|_| None);
        assert!(doc.diagnostics.is_empty(), "{:?}", doc.diagnostics);
    }

    #[test]
    fn hover_follows_the_last_index_through_an_edit() {
        let (path, text) = shipped().remove(0);
        let mut doc = Document::new(Some(path), 1, text.clone(), Encoding::Utf16);
        doc.analyse(|p| std::fs::read_to_string(p).ok());
        // A line inserted before `let cash` that does not parse: `cash` is found where it moved.
        let edited = text.replacen("let cash", "let broken = (\nlet cash", 1);
        doc.set_text(edited.clone(), 2, Encoding::Utf16);
        doc.analyse(|p| std::fs::read_to_string(p).ok());
        assert!(doc.diagnostics.iter().any(|d| d.is_error()));
        let at = edited.find("let cash").unwrap() + 5;
        let shown = hover(&doc, at).unwrap();
        let HoverContents::Markup(markup) = shown.contents else {
            panic!("markup")
        };
        assert!(
            markup.value.starts_with("definition `cash`: `money`"),
            "{}",
            markup.value
        );
        assert!(markup
            .value
            .contains("(as of the last version that checked)"));
        // Inside the edit itself, nothing.
        assert!(hover(&doc, edited.find("broken").unwrap() + 1).is_none());
    }
}
