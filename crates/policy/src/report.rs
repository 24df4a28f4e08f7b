//! Diagnostics as data for machines: the JSON record of one finding and a SARIF 2.1.0 log of a run, as
//! `policy check --format json|sarif` prints them and as a host (an editor, a code-review bot) wants
//! them. `docs/output-formats.md` documents every field.
//!
//! Places are given both ways: 1-based lines and columns, the columns counting Unicode characters
//! (code points, a byte-order mark opening the file not counted), and 0-based byte offsets into the
//! file's UTF-8 text. An end is exclusive: the column (or byte) just after the last character.

use serde_json::{json, Map, Value as Json};

use crate::diagnostics::{Diagnostic, Suggestion};
use crate::source::{SourceFile, Span};

/// The version of the JSON records; it changes only when a field changes meaning or goes away.
pub const JSON_VERSION: u32 = 1;

/// The `columnKind` the SARIF run declares: columns count Unicode code points.
pub const SARIF_COLUMN_KIND: &str = "unicodeCodePoints";

/// A span of `file` as the JSON records give it: `line`, `column`, `end_line`, `end_column` (1-based,
/// columns in characters, the end exclusive) and `start_byte`, `end_byte` (0-based, the end exclusive).
pub fn span_json(file: &SourceFile, span: Span) -> Json {
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end.max(span.start));
    json!({
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "start_byte": span.start,
        "end_byte": span.end.max(span.start),
    })
}

/// One finding as a JSON record: `code`, `severity`, `message`, `file`, `span` (see [`span_json`]),
/// `label`, `help`, `related` (each a `message` and a `span`), `suggestions` (each a `replacement` and
/// the `span` it replaces) and `suppressed` (`null`, or the `reason` of the `# allow` that silenced it).
pub fn diagnostic_json(
    diagnostic: &Diagnostic,
    file: &SourceFile,
    suppressed: Option<&str>,
) -> Json {
    let related: Vec<Json> = diagnostic
        .related
        .iter()
        .map(|(span, message)| json!({ "message": message, "span": span_json(file, *span) }))
        .collect();
    let suggestions: Vec<Json> = diagnostic
        .suggestions
        .iter()
        .map(|s| json!({ "replacement": s.replacement, "span": span_json(file, s.span) }))
        .collect();
    json!({
        "code": diagnostic.code,
        "severity": diagnostic.severity.name(),
        "message": diagnostic.message,
        "file": &*file.name,
        "span": span_json(file, diagnostic.span),
        "label": diagnostic.label,
        "help": diagnostic.help,
        "related": related,
        "suggestions": suggestions,
        "suppressed": suppressed.map(|reason| json!({ "reason": reason })),
    })
}

/// A finding of a run that belongs to no place in a policy's text (a calendar file that does not
/// read, two versions that do not fit together): `file` is the path concerned, if any, and `span` is
/// `null`. Its code is `policy::check::run`.
pub fn run_error_json(message: &str, file: Option<&str>) -> Json {
    json!({
        "code": RUN_ERROR_CODE,
        "severity": "error",
        "message": message,
        "file": file,
        "span": Json::Null,
        "label": Json::Null,
        "help": Json::Null,
        "related": [],
        "suggestions": [],
        "suppressed": Json::Null,
    })
}

/// The code of findings about the run rather than a place in a policy ([`run_error_json`]).
pub const RUN_ERROR_CODE: &str = "policy::check::run";

/// Builds a SARIF 2.1.0 log of one run of `policy check`: add each file's findings, then
/// [`SarifLog::finish`].
#[derive(Debug, Default)]
pub struct SarifLog {
    rules: Vec<&'static str>,
    results: Vec<Json>,
}

impl SarifLog {
    /// An empty log.
    pub fn new() -> Self {
        SarifLog::default()
    }

    /// A finding of `file`; `suppressed` is the reason of the `# allow` that silenced it, if one did
    /// (the result then carries a suppression of kind `inSource` with that justification).
    pub fn add(&mut self, diagnostic: &Diagnostic, file: &SourceFile, suppressed: Option<&str>) {
        let rule_index = self.rule_index(diagnostic.code);
        let uri = file_uri(&file.name);
        let mut result = Map::new();
        result.insert("ruleId".into(), json!(diagnostic.code));
        result.insert("ruleIndex".into(), json!(rule_index));
        result.insert("level".into(), json!(diagnostic.severity.name()));
        result.insert("message".into(), message(diagnostic));
        result.insert(
            "locations".into(),
            json!([{ "physicalLocation": physical(&uri, file, diagnostic.span) }]),
        );
        if !diagnostic.related.is_empty() {
            let related: Vec<Json> = diagnostic
                .related
                .iter()
                .enumerate()
                .map(|(id, (span, label))| {
                    json!({
                        "id": id,
                        "message": { "text": label },
                        "physicalLocation": physical(&uri, file, *span),
                    })
                })
                .collect();
            result.insert("relatedLocations".into(), Json::Array(related));
        }
        if !diagnostic.suggestions.is_empty() {
            let description = diagnostic.help.as_deref().unwrap_or("apply the suggestion");
            let fixes: Vec<Json> = diagnostic
                .suggestions
                .iter()
                .map(|s| fix(&uri, file, s, description))
                .collect();
            result.insert("fixes".into(), Json::Array(fixes));
        }
        if let Some(reason) = suppressed {
            result.insert(
                "suppressions".into(),
                json!([{ "kind": "inSource", "justification": reason }]),
            );
        }
        if let Some(label) = &diagnostic.label {
            result.insert("properties".into(), json!({ "label": label }));
        }
        self.results.push(Json::Object(result));
    }

    /// A finding about the run, not a place in a file ([`run_error_json`]): an error whose location,
    /// if `file` is given, is that file without a region.
    pub fn add_run_error(&mut self, message: &str, file: Option<&str>) {
        let rule_index = self.rule_index(RUN_ERROR_CODE);
        let mut result = json!({
            "ruleId": RUN_ERROR_CODE,
            "ruleIndex": rule_index,
            "level": "error",
            "message": { "text": message },
        });
        if let (Some(file), Some(object)) = (file, result.as_object_mut()) {
            object.insert(
                "locations".into(),
                json!([{ "physicalLocation": { "artifactLocation": { "uri": file_uri(file) } } }]),
            );
        }
        self.results.push(result);
    }

    /// The log: one run of the tool `policy` at `version`, its rules (the codes found, in order of
    /// first appearance) and its results.
    pub fn finish(self, version: &str) -> Json {
        let rules: Vec<Json> = self
            .rules
            .iter()
            .map(|code| {
                json!({
                    "id": code,
                    "name": code.rsplit("::").next().unwrap_or(code),
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "policy",
                        "version": version,
                        "rules": rules,
                    }
                },
                "columnKind": SARIF_COLUMN_KIND,
                "results": self.results,
            }]
        })
    }

    fn rule_index(&mut self, code: &'static str) -> usize {
        match self.rules.iter().position(|c| *c == code) {
            Some(i) => i,
            None => {
                self.rules.push(code);
                self.rules.len() - 1
            }
        }
    }
}

/// The result's message: the diagnostic's, and its help on a line of its own.
fn message(diagnostic: &Diagnostic) -> Json {
    match &diagnostic.help {
        Some(help) => json!({ "text": format!("{}\nhelp: {help}", diagnostic.message) }),
        None => json!({ "text": diagnostic.message }),
    }
}

fn physical(uri: &str, file: &SourceFile, span: Span) -> Json {
    json!({ "artifactLocation": { "uri": uri }, "region": region(file, span) })
}

/// A SARIF region: lines and columns (code points, as the run's `columnKind` says) and bytes.
fn region(file: &SourceFile, span: Span) -> Json {
    let end = span.end.max(span.start);
    let (start_line, start_column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(end);
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
        "byteOffset": span.start,
        "byteLength": end - span.start,
    })
}

fn fix(uri: &str, file: &SourceFile, suggestion: &Suggestion, description: &str) -> Json {
    json!({
        "description": { "text": description },
        "artifactChanges": [{
            "artifactLocation": { "uri": uri },
            "replacements": [{
                "deletedRegion": region(file, suggestion.span),
                "insertedContent": { "text": suggestion.replacement },
            }],
        }],
    })
}

/// A file name as a URI: a relative path as a relative reference (`policies/a.policy`, resolved
/// against the directory the command ran in), an absolute one as a `file:` URI (`/srv/p.policy` is
/// `file:///srv/p.policy`, `C:\p\a.policy` is `file:///C:/p/a.policy`). Segments are separated by
/// `/` (a Windows `\` too) and anything but unreserved characters is percent-encoded (a space is
/// `%20`).
pub fn file_uri(name: &str) -> String {
    let bytes = name.as_bytes();
    let drive = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    let (mut uri, rest) = if drive {
        (format!("file:///{}:", char::from(bytes[0])), &name[2..])
    } else if name.starts_with('/') {
        ("file://".to_string(), name)
    } else {
        (String::with_capacity(name.len()), name)
    };
    for byte in rest.bytes() {
        match byte {
            b'\\' | b'/' => uri.push('/'),
            b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => uri.push(char::from(b)),
            b => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative names stay relative references; absolute ones, POSIX or Windows, are `file:` URIs.
    #[test]
    fn file_names_become_uris() {
        assert_eq!(file_uri("policies/a b.policy"), "policies/a%20b.policy");
        assert_eq!(file_uri("dir\\x.policy"), "dir/x.policy");
        assert_eq!(file_uri("/srv/p.policy"), "file:///srv/p.policy");
        assert_eq!(file_uri("C:\\p\\a.policy"), "file:///C:/p/a.policy");
        assert_eq!(file_uri("d:/p.policy"), "file:///d:/p.policy");
    }

    #[test]
    fn places_count_characters_and_bytes_and_ends_are_exclusive() {
        let file = SourceFile::new("p.policy", "a\n  é x\n");
        // `x`: line 2, after two spaces and a two-byte `é` and a space.
        let at = "a\n  é ".len();
        let json = span_json(&file, Span::new(at, at + 1));
        assert_eq!(
            json,
            json!({"line": 2, "column": 5, "end_line": 2, "end_column": 6,
                   "start_byte": at, "end_byte": at + 1})
        );
    }

    #[test]
    fn a_suggestion_becomes_a_fix_and_a_suppression_an_in_source_suppression() {
        let file = SourceFile::new("my policies/p.policy", "let x = pirce\n");
        let span = Span::new(8, 13);
        let mut d =
            Diagnostic::warning("policy::check::unknown_name", "unknown name `pirce`", span)
                .with_help("did you mean `price`?");
        d.suggestions.push(Suggestion {
            span,
            replacement: "price".into(),
        });
        let mut log = SarifLog::new();
        log.add(&d, &file, Some("kept on purpose"));
        let log = log.finish("0.1.0");
        let result = &log["runs"][0]["results"][0];
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "my%20policies/p.policy"
        );
        assert_eq!(
            result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
            "price"
        );
        assert_eq!(result["suppressions"][0]["kind"], "inSource");
        assert_eq!(
            result["suppressions"][0]["justification"],
            "kept on purpose"
        );
        assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
        let record = diagnostic_json(&d, &file, None);
        assert_eq!(record["suggestions"][0]["replacement"], "price");
        assert_eq!(record["suggestions"][0]["span"]["column"], 9);
        assert_eq!(record["suppressed"], Json::Null);
    }
}
