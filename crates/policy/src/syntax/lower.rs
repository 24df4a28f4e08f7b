//! One lowering function per grammar rule, from pest pairs to the AST (expressions in `expr`). A
//! declaration that cannot be lowered is reported and the others are still lowered, so that every such
//! error of a file is found in one run.

use std::str::FromStr;

use pest::iterators::{Pair, Pairs};
use rust_decimal::Decimal;

use super::ast::*;
use super::expr::lower_expr;
use super::grammar::Rule;
use crate::diagnostics::Diagnostic;
use crate::source::{Span, Spanned};

pub(super) type Result<T> = std::result::Result<T, Diagnostic>;

#[cold]
pub(super) fn internal(span: Span) -> Diagnostic {
    Diagnostic::error(
        "policy::parse::internal",
        "the parser met a shape it does not know",
        span,
    )
    .with_help("this is a bug in the policy tool; please report it with the file")
}

/// The pair's span without the white space and comments the grammar let it swallow at its end.
pub(super) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let span = pair.as_span();
    let mut text = span.as_str();
    loop {
        let trimmed = text.trim_end();
        let last_line = trimmed.rsplit('\n').next().unwrap_or("");
        if last_line.trim_start().starts_with('#') && trimmed.len() > last_line.len() {
            text = &trimmed[..trimmed.len() - last_line.len()];
        } else {
            text = trimmed;
            break;
        }
    }
    Span::new(span.start(), span.start() + text.len())
}

/// The next child of a pair, or an internal error naming where it was expected.
pub(super) fn next<'a>(pairs: &mut Pairs<'a, Rule>, parent: Span) -> Result<Pair<'a, Rule>> {
    pairs.next().ok_or_else(|| internal(parent))
}

/// Children that carry meaning: keywords are matched by the grammar and skipped here.
fn meaningful(pair: Pair<'_, Rule>) -> Pairs<'_, Rule> {
    pair.into_inner()
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_policy
            | Rule::kw_library
            | Rule::kw_import
            | Rule::kw_provider
            | Rule::kw_document
            | Rule::kw_zone
            | Rule::kw_calendar
            | Rule::kw_effective
            | Rule::kw_from
            | Rule::kw_by
            | Rule::kw_minor_units
            | Rule::kw_enum
            | Rule::kw_field
            | Rule::kw_require
            | Rule::kw_constraint
            | Rule::kw_let
            | Rule::kw_action
            | Rule::kw_unique
            | Rule::kw_default
            | Rule::kw_rule
            | Rule::kw_when
            | Rule::kw_then
            | Rule::kw_else
            | Rule::kw_because
            | Rule::kw_cite
            | Rule::kw_example
            | Rule::kw_at
            | Rule::kw_order
            | Rule::kw_expect
            | Rule::kw_requires
            | Rule::kw_value
            | Rule::kw_in
            | Rule::kw_if
            | Rule::kw_x
            | Rule::kw_rounded
            | Rule::kw_to
            | Rule::kw_not
    )
}

/// The inner pairs without keywords.
pub(super) fn parts(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    meaningful(pair).filter(|p| !is_keyword(p.as_rule()))
}

/// The whole file: its AST, or every error of its declarations.
pub(super) fn lower_file(file: Pair<'_, Rule>) -> std::result::Result<PolicyAst, Vec<Diagnostic>> {
    let span = span_of(&file);
    let mut items = file.into_inner();
    let mut errors = Vec::new();
    let header = next(&mut items, span)
        .map_err(|e| vec![e])
        .map(|h| lower_header(h, &mut errors))?;
    let mut ast = PolicyAst {
        header,
        imports: Vec::new(),
        vocabularies: Vec::new(),
        imported: Vec::new(),
        enums: Vec::new(),
        fields: Vec::new(),
        requires: Vec::new(),
        constraints: Vec::new(),
        lets: Vec::new(),
        actions: Vec::new(),
    };
    for item in items {
        let lowered = match item.as_rule() {
            Rule::import_def => single(item)
                .and_then(lower_string)
                .map(|path| ast.imports.push(path)),
            Rule::vocabulary_def => lower_vocabulary(item).map(|v| ast.vocabularies.push(v)),
            Rule::enum_def => lower_enum(item).map(|e| ast.enums.push(e)),
            Rule::field_def => lower_field(item).map(|f| ast.fields.push(f)),
            Rule::require_def => lower_require(item).map(|r| ast.requires.push(r)),
            Rule::constraint_def => lower_constraint(item).map(|c| ast.constraints.push(c)),
            Rule::let_def => lower_let(item).map(|l| ast.lets.push(l)),
            Rule::action_def => lower_action(item, &mut errors).map(|a| ast.actions.push(a)),
            Rule::EOI => Ok(()),
            _ => Err(internal(span_of(&item))),
        };
        if let Err(error) = lowered {
            errors.push(error);
        }
    }
    if errors.is_empty() {
        Ok(ast)
    } else {
        Err(errors)
    }
}

/// The header; an entry that cannot be lowered is reported in `errors` and left out.
fn lower_header(pair: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Header {
    let span = span_of(&pair);
    let library = pair
        .clone()
        .into_inner()
        .next()
        .is_some_and(|p| p.as_rule() == Rule::kw_library);
    let mut inner = parts(pair);
    let name = match inner.next() {
        Some(name) => Spanned::new(name.as_str().to_string(), span_of(&name)),
        None => {
            errors.push(internal(span));
            Spanned::new(String::new(), span)
        }
    };
    let mut header = Header {
        library,
        name,
        provider: None,
        document: None,
        zone: None,
        calendar: None,
        effective: None,
        minor_units: Vec::new(),
    };
    for entry in inner {
        if let Err(error) = lower_header_entry(entry, &mut header) {
            errors.push(error);
        }
    }
    header
}

fn lower_header_entry(entry: Pair<'_, Rule>, header: &mut Header) -> Result<()> {
    let entry_span = span_of(&entry);
    let duplicate = || {
        Diagnostic::error(
            "policy::parse::duplicate_header",
            "this header entry is given twice",
            entry_span,
        )
        .with_help("keep one")
    };
    let given_before = match entry.as_rule() {
        Rule::provider => {
            let text = lower_text(single(entry)?)?;
            header.provider.replace(text).is_some()
        }
        Rule::document => {
            let mut p = parts(entry);
            let file = lower_string(p.next().ok_or_else(|| internal(entry_span))?)?;
            let title = p.next().map(lower_text).transpose()?;
            header.document.replace((file, title)).is_some()
        }
        Rule::zone => {
            let zone = lower_string(single(entry)?)?;
            header.zone.replace(zone).is_some()
        }
        Rule::calendar => {
            let name = lower_ident(single(entry)?);
            header.calendar.replace(name).is_some()
        }
        Rule::effective => {
            let mut p = parts(entry);
            let from = p.next().ok_or_else(|| internal(entry_span))?;
            let effective = Effective {
                from: Spanned::new(from.as_str().to_string(), span_of(&from)),
                by: p.next().map(lower_ident),
            };
            header.effective.replace(effective).is_some()
        }
        Rule::minor_units => {
            let mut p = parts(entry);
            let code = lower_string(p.next().ok_or_else(|| internal(entry_span))?)?;
            let digits = p.next().ok_or_else(|| internal(entry_span))?;
            let digits = Spanned::new(digits.as_str().to_string(), span_of(&digits));
            header.minor_units.push((code, digits));
            false
        }
        _ => return Err(internal(entry_span)),
    };
    if given_before {
        return Err(duplicate());
    }
    Ok(())
}

/// The one meaningful child of a pair.
pub(super) fn single(pair: Pair<'_, Rule>) -> Result<Pair<'_, Rule>> {
    let span = span_of(&pair);
    parts(pair).next().ok_or_else(|| internal(span))
}

pub(super) fn lower_ident(pair: Pair<'_, Rule>) -> Ident {
    Spanned::new(pair.as_str().to_string(), span_of(&pair))
}

pub(super) fn lower_string(pair: Pair<'_, Rule>) -> Result<Spanned<String>> {
    let span = span_of(&pair);
    let inner = pair.into_inner().next().ok_or_else(|| internal(span))?;
    let mut out = String::with_capacity(inner.as_str().len());
    let inner_start = inner.as_span().start();
    let mut chars = inner.as_str().char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next().map(|(_, c)| c) {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            other => {
                return Err(Diagnostic::error(
                    "policy::parse::escape",
                    format!(
                        "unknown escape `\\{}` in a string",
                        other.map(String::from).unwrap_or_default()
                    ),
                    Span::new(
                        inner_start + at,
                        inner_start + at + 1 + other.map_or(0, char::len_utf8),
                    ),
                )
                .with_label("unknown escape")
                .with_help("strings know `\\\"`, `\\\\`, `\\n` and `\\t`"))
            }
        }
    }
    Ok(Spanned::new(out, span))
}

/// Adjacent strings, joined.
fn lower_text(pair: Pair<'_, Rule>) -> Result<Spanned<String>> {
    let span = span_of(&pair);
    let mut joined = String::new();
    for part in pair.into_inner() {
        joined.push_str(&lower_string(part)?.node);
    }
    Ok(Spanned::new(joined, span))
}

fn lower_vocabulary(pair: Pair<'_, Rule>) -> Result<VocabularyDef> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let kind = next(&mut inner, span)?;
    let vocabulary = match kind.as_str() {
        "steps" => Vocabulary::Steps,
        "refund_destinations" => Vocabulary::RefundDestinations,
        "review_kinds" => Vocabulary::ReviewKinds,
        _ => return Err(internal(span_of(&kind))),
    };
    Ok(VocabularyDef {
        kind: Spanned::new(vocabulary, span_of(&kind)),
        values: inner.map(lower_ident).collect(),
    })
}

fn lower_enum(pair: Pair<'_, Rule>) -> Result<EnumDef> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let name = lower_ident(inner.next().ok_or_else(|| internal(span))?);
    let variants = inner
        .map(|value| match value.as_rule() {
            Rule::string => lower_string(value),
            _ => Ok(lower_ident(value)),
        })
        .collect::<Result<_>>()?;
    Ok(EnumDef { name, variants })
}

fn lower_field(pair: Pair<'_, Rule>) -> Result<FieldDef> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let name = lower_ident(next_part(&mut inner, span)?);
    let ty = lower_ident(next_part(&mut inner, span)?);
    let mut optional = false;
    let mut default = None;
    for rest in inner {
        match rest.as_rule() {
            Rule::optional => optional = true,
            Rule::expr => default = Some(lower_expr(rest)?),
            _ => return Err(internal(span_of(&rest))),
        }
    }
    Ok(FieldDef {
        name,
        ty,
        optional,
        default,
        span,
    })
}

pub(super) fn next_part<'a>(
    parts: &mut impl Iterator<Item = Pair<'a, Rule>>,
    parent: Span,
) -> Result<Pair<'a, Rule>> {
    parts.next().ok_or_else(|| internal(parent))
}

fn lower_require(pair: Pair<'_, Rule>) -> Result<RequireDef> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let field = lower_ident(next_part(&mut inner, span)?);
    let when = inner.next().map(lower_expr).transpose()?;
    Ok(RequireDef { field, when, span })
}

fn lower_constraint(pair: Pair<'_, Rule>) -> Result<ConstraintDef> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let condition = lower_expr(next_part(&mut inner, span)?)?;
    let message = lower_text(next_part(&mut inner, span)?)?;
    Ok(ConstraintDef {
        condition,
        message,
        span,
    })
}

fn lower_let(pair: Pair<'_, Rule>) -> Result<LetDef> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let name = lower_ident(next_part(&mut inner, span)?);
    let value = lower_expr(next_part(&mut inner, span)?)?;
    Ok(LetDef { name, value })
}

/// An action; an entry that cannot be lowered is reported in `errors` and left out.
fn lower_action(pair: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Result<ActionDef> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let name = lower_ident(next_part(&mut inner, span)?);
    let mut action = ActionDef {
        name,
        unique: false,
        defaults: Vec::new(),
        requires: Vec::new(),
        rules: Vec::new(),
        examples: Vec::new(),
        span,
    };
    for item in inner {
        let lowered = match item.as_rule() {
            Rule::unique => {
                action.unique = true;
                Ok(())
            }
            Rule::default_def => single(item)
                .and_then(lower_attr)
                .map(|d| action.defaults.push(d)),
            Rule::require_def => lower_require(item).map(|r| action.requires.push(r)),
            Rule::rule_def => lower_rule(item).map(|r| action.rules.push(r)),
            Rule::example_def => lower_example(item).map(|e| action.examples.push(e)),
            _ => Err(internal(span_of(&item))),
        };
        if let Err(error) = lowered {
            errors.push(error);
        }
    }
    Ok(action)
}

fn lower_rule(pair: Pair<'_, Rule>) -> Result<RuleDef> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let id = lower_ident(next_part(&mut inner, span)?);
    let mut guard = None;
    let mut outcome = None;
    let mut attrs = Vec::new();
    let mut reasons = Vec::new();
    for part in inner {
        match part.as_rule() {
            Rule::expr => guard = Some(lower_expr(part)?),
            Rule::outcome => outcome = Some(lower_outcome(part)?),
            Rule::reason => reasons.push(lower_reason(part)?),
            _ => attrs.push(lower_attr(part)?),
        }
    }
    Ok(RuleDef {
        id,
        guard,
        outcome: outcome.ok_or_else(|| internal(span))?,
        attrs,
        reasons,
        span,
    })
}

fn lower_outcome(pair: Pair<'_, Rule>) -> Result<Spanned<Outcome>> {
    let span = span_of(&pair);
    let kw = single(pair)?;
    let outcome = match kw.as_rule() {
        Rule::kw_allowed => Outcome::Allowed,
        Rule::kw_conditional => Outcome::Conditional,
        Rule::kw_denied => Outcome::Denied,
        Rule::kw_undetermined => Outcome::Undetermined,
        _ => return Err(internal(span)),
    };
    Ok(Spanned::new(outcome, span))
}

fn lower_attr(pair: Pair<'_, Rule>) -> Result<Attr> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::requires_attr => AttrKind::Requires(parts(pair).map(lower_ident).collect()),
        Rule::value_attr => {
            let mut inner = parts(pair);
            let name = lower_ident(next_part(&mut inner, span)?);
            AttrKind::Value(name, lower_expr(next_part(&mut inner, span)?)?)
        }
        Rule::assign_attr => {
            let mut inner = parts(pair);
            let name = next_part(&mut inner, span)?;
            let value = lower_expr(next_part(&mut inner, span)?)?;
            match name.as_str() {
                "amount" => AttrKind::Amount(value),
                "refund_to" => AttrKind::RefundTo(value),
                "review" => AttrKind::Review(value),
                "review_by" => AttrKind::ReviewBy(value),
                "next_status" => AttrKind::NextStatus(value),
                _ => return Err(internal(span)),
            }
        }
        _ => return Err(internal(span)),
    };
    Ok(Attr { kind, span })
}

fn lower_reason(pair: Pair<'_, Rule>) -> Result<Reason> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let text = lower_text(next_part(&mut inner, span)?)?;
    let cite = match inner.next() {
        Some(citation) => {
            let cite_span = span_of(&citation);
            let mut c = parts(citation);
            let text = lower_text(next_part(&mut c, cite_span)?)?;
            let document = c.next().map(lower_string).transpose()?;
            Some(Citation { text, document })
        }
        None => None,
    };
    Ok(Reason { text, cite, span })
}

fn lower_example(pair: Pair<'_, Rule>) -> Result<ExampleDef> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let name = lower_text(next_part(&mut inner, span)?)?;
    let mut example = ExampleDef {
        name,
        at: None,
        order: None,
        expect: None,
        span,
    };
    for entry in inner {
        let entry_span = span_of(&entry);
        let rule = entry.as_rule();
        let value = single(entry)?;
        let slot = match rule {
            Rule::example_at => {
                example.at = Some(lower_string(value)?);
                continue;
            }
            Rule::example_order => &mut example.order,
            Rule::example_expect => &mut example.expect,
            _ => return Err(internal(entry_span)),
        };
        if slot
            .replace(Spanned::new(value.as_str().to_string(), span_of(&value)))
            .is_some()
        {
            return Err(Diagnostic::error(
                "policy::parse::duplicate_example_entry",
                "this example gives the same entry twice",
                entry_span,
            ));
        }
    }
    Ok(example)
}

pub(super) fn lower_quantity(pair: Pair<'_, Rule>) -> Result<(i64, Unit)> {
    let span = span_of(&pair);
    let mut count: i64 = 1;
    let mut unit = None;
    let mut fractional = None;
    for part in parts(pair) {
        match part.as_rule() {
            Rule::decimal => fractional = Some(span_of(&part)),
            Rule::integer => {
                count = count.checked_mul(lower_integer(&part)?).ok_or_else(|| {
                    Diagnostic::error("policy::parse::number", "this quantity is too large", span)
                })?
            }
            Rule::unit => {
                let unit_pair = single(part)?;
                unit = Some(match unit_pair.as_rule() {
                    Rule::unit_calendar_days => Unit::CalendarDays,
                    Rule::unit_calendar_months => Unit::CalendarMonths(1),
                    Rule::unit_calendar_years => Unit::CalendarMonths(12),
                    Rule::unit_business_days => Unit::BusinessDays,
                    Rule::unit_exact => {
                        Unit::Exact(match unit_pair.as_str().trim_end_matches('s') {
                            "second" => 1,
                            "minute" => 60,
                            "hour" => 3600,
                            "day" => 86_400,
                            "week" => 7 * 86_400,
                            _ => return Err(internal(span)),
                        })
                    }
                    _ => return Err(internal(span)),
                });
            }
            _ => return Err(internal(span)),
        }
    }
    let unit = unit.ok_or_else(|| internal(span))?;
    if let Some(at) = fractional {
        return Err(fractional_count(at, unit));
    }
    Ok((count, unit))
}

/// `1.5 calendar months`: counts are whole numbers, and how to say the same depends on the unit.
#[cold]
fn fractional_count(span: Span, unit: Unit) -> Diagnostic {
    let help = match unit {
        Unit::CalendarMonths(_) => {
            "months have no fixed length: count whole months, and add days to the date they give, \
             `date(paid_at) + 1 calendar month + 15 calendar days`"
        }
        Unit::CalendarDays | Unit::BusinessDays => {
            "count whole days, e.g. `2 calendar days`, or an exact duration in hours: `36 hours`"
        }
        Unit::Exact(_) => "write it in a smaller unit: `90 minutes` rather than `1.5 hours`",
    };
    Diagnostic::error(
        "policy::parse::fractional_count",
        "a quantity counts whole units",
        span,
    )
    .with_label("not a whole number")
    .with_help(help)
}

pub(super) fn lower_integer(pair: &Pair<'_, Rule>) -> Result<i64> {
    i64::from_str(pair.as_str()).map_err(|_| {
        Diagnostic::error(
            "policy::parse::number",
            format!("`{}` is too large for a whole number", pair.as_str()),
            span_of(pair),
        )
    })
}

pub(super) fn lower_decimal(pair: &Pair<'_, Rule>) -> Result<Decimal> {
    Decimal::from_str(pair.as_str()).map_err(|_| {
        Diagnostic::error(
            "policy::parse::number",
            format!(
                "`{}` is not a decimal this tool can hold exactly",
                pair.as_str()
            ),
            span_of(pair),
        )
    })
}

#[cfg(test)]
mod tests;
