//! Syntax errors: pest's errors turned into diagnostics that name what was expected in the author's
//! words, and every syntax error of a file found in one run. After an error, parsing resumes at the next
//! declaration (or the next entry of the action the error was in, as the scan found them) and goes on to
//! the end of the file; an error there is reported too, and so on.

use pest::Parser as _;

use super::grammar::{PolicyParser, Rule};
use super::scan::{Resume, Scan};
use super::MAX_SYNTAX_ERRORS;
use crate::diagnostics::Diagnostic;
use crate::source::Span;

/// Every syntax error of `text`, the first being `first` (the error of parsing the whole file).
#[cold]
pub(super) fn syntax_errors(
    text: &str,
    first: pest::error::Error<Rule>,
    scan: &Scan,
) -> Vec<Diagnostic> {
    let mut at = start_of(&first);
    let mut errors = vec![syntax_error(&first, text, 0)];
    // Each place is tried once, in order: the loop ends. A place at the error itself is tried too (the
    // error may end the declaration before it), and finding the same error again from it is skipped.
    let mut places = scan.resume.iter();
    while let Some(&(start, resume)) = places.find(|(start, _)| *start >= at) {
        let rule = match resume {
            Resume::Items => Rule::resume_items,
            Resume::ActionItems => Rule::resume_action,
        };
        let Err(error) = PolicyParser::parse(rule, &text[start..]) else {
            break;
        };
        let found = start + start_of(&error);
        if found == at {
            continue;
        }
        if errors.len() == MAX_SYNTAX_ERRORS {
            errors.push(
                Diagnostic::note(
                    "policy::parse::too_many_errors",
                    format!("stopped looking for syntax errors after {MAX_SYNTAX_ERRORS}"),
                    Span::new(found, found),
                )
                .with_label("there may be more from here on")
                .with_help("fix the errors above and check again"),
            );
            break;
        }
        at = found;
        errors.push(syntax_error(&error, text, start));
    }
    errors
}

fn start_of(error: &pest::error::Error<Rule>) -> usize {
    match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
}

/// The diagnostic for a pest error in the text from `offset` on.
#[cold]
fn syntax_error(error: &pest::error::Error<Rule>, text: &str, offset: usize) -> Diagnostic {
    let mut span = match error.location {
        pest::error::InputLocation::Pos(p) => Span::new(offset + p, offset + p),
        pest::error::InputLocation::Span((s, e)) => Span::new(offset + s, offset + e),
    };
    let at_end = text[span.start as usize..].trim().is_empty();
    if at_end {
        // Point at the last character written, where the reader looks, not past the final newline.
        let end = text.trim_end().len();
        let start = text[..end].char_indices().last().map_or(0, |(i, _)| i);
        span = Span::new(start, end);
    }
    let rest = &text[span.start as usize..];
    let (message, label) = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut expected: Vec<&str> = positives.iter().filter_map(|r| readable(*r)).collect();
            expected.sort_unstable();
            expected.dedup();
            let label = match expected.as_slice() {
                [] => "unexpected text here".to_string(),
                [one] => format!("expected {one}"),
                many => format!(
                    "expected {} or {}",
                    many[..many.len() - 1].join(", "),
                    many[many.len() - 1]
                ),
            };
            ("syntax error".to_string(), label)
        }
        pest::error::ErrorVariant::CustomError { message } => (message.clone(), message.clone()),
    };
    let help = if rest.starts_with("&&") || rest.starts_with("||") {
        "write `and` and `or` for conditions".to_string()
    } else if at_end && unclosed_braces(text) > 0 {
        "a `{` opened earlier is never closed: add the missing `}`".to_string()
    } else if at_end {
        "the file ends in the middle of a declaration".to_string()
    } else {
        "see the language tour in README.md for the shape of each declaration".to_string()
    };
    Diagnostic::error("policy::parse::syntax", message, span)
        .with_label(label)
        .with_help(help)
}

/// `{` minus `}` outside strings and comments.
fn unclosed_braces(text: &str) -> i64 {
    let (mut depth, mut in_string, mut in_comment, mut escaped) = (0i64, false, false, false);
    for c in text.chars() {
        match (in_string, in_comment, c) {
            (_, true, '\n') => in_comment = false,
            (_, true, _) => {}
            (true, _, _) if escaped => escaped = false,
            (true, _, '\\') => escaped = true,
            (true, _, '"') => in_string = false,
            (true, _, _) => {}
            (false, _, '"') => in_string = true,
            (false, _, '#') => in_comment = true,
            (false, _, '{') => depth += 1,
            (false, _, '}') => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Names of grammar rules as a policy author knows them; `None` for rules too small to mention.
fn readable(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::header | Rule::kw_policy => "`policy NAME`",
        Rule::kw_library => "`library NAME`",
        Rule::import_def | Rule::kw_import => "`import \"FILE\"`",
        Rule::vocabulary_def | Rule::vocabulary_kind => {
            "a vocabulary (`steps`, `refund_destinations`, `review_kinds`)"
        }
        Rule::policy_name => "a policy name",
        Rule::provider | Rule::kw_provider => "`provider`",
        Rule::document | Rule::kw_document => "`document`",
        Rule::zone | Rule::kw_zone => "`zone`",
        Rule::calendar | Rule::kw_calendar => "`calendar`",
        Rule::effective | Rule::kw_effective => "`effective from DATE`",
        Rule::kw_from => "`from`",
        Rule::kw_by => "`by FIELD`",
        Rule::minor_units | Rule::kw_minor_units => "`minor_units \"CODE\" DIGITS`",
        Rule::enum_def | Rule::kw_enum => "`enum`",
        Rule::field_def | Rule::kw_field => "`field`",
        Rule::require_def | Rule::kw_require => "`require`",
        Rule::constraint_def | Rule::kw_constraint => "`constraint`",
        Rule::let_def | Rule::kw_let => "`let`",
        Rule::action_def | Rule::kw_action => "`action`",
        Rule::default_def | Rule::kw_default => "`default`",
        Rule::rule_def | Rule::kw_rule => "`rule`",
        Rule::example_def | Rule::kw_example => "`example`",
        Rule::kw_when => "`when`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::outcome => "an outcome (`allowed`, `conditional`, `denied`, `undetermined`)",
        Rule::requires_attr | Rule::kw_requires => "`requires [...]`",
        Rule::value_attr | Rule::kw_value => "`value NAME = ...`",
        Rule::assign_attr | Rule::attr_name => {
            "an attribute (`amount`, `refund_to`, `review`, `review_by`, `next_status`)"
        }
        Rule::reason | Rule::kw_because => "`because \"...\"`",
        Rule::citation | Rule::kw_cite => "`cite \"...\"`",
        Rule::expr | Rule::primary => "an expression",
        Rule::or_op | Rule::and_op => "`and`/`or`",
        Rule::eq_op | Rule::ne_op | Rule::le_op | Rule::ge_op | Rule::lt_op | Rule::gt_op => {
            "a comparison"
        }
        Rule::add_op | Rule::sub_op | Rule::mul_op | Rule::div_op => "an operator",
        Rule::window | Rule::window_relation => "a window (`within N UNIT after X`)",
        Rule::window_direction => "`after` or `before`",
        Rule::in_set | Rule::not_in_set => "`in {...}`",
        Rule::rounded => "`rounded MODE to QUANTUM`",
        Rule::quantity | Rule::fractional_quantity | Rule::unit | Rule::unit_exact => {
            "a unit (`hours`, `days`, `calendar days`, `calendar months`, `business days`)"
        }
        Rule::integer => "a whole number",
        Rule::decimal => "a decimal number",
        Rule::string | Rule::text => "a string",
        Rule::ident => "a name",
        Rule::json_object => "a JSON object",
        Rule::set => "a set `{a, b}`",
        Rule::optional => "`?`",
        _ => return None,
    })
}
