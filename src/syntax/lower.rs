//! One lowering function per grammar rule, from pest pairs to the AST.

use std::str::FromStr;
use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use rust_decimal::Decimal;

use super::ast::*;
use crate::diagnostics::Diagnostic;
use crate::source::{Span, Spanned};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/policy.pest"]
struct PolicyParser;

/// Operator precedence, loosest first.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::postfix(Rule::rounded))
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::eq_op, Assoc::Left)
            | Op::infix(Rule::ne_op, Assoc::Left)
            | Op::infix(Rule::lt_op, Assoc::Left)
            | Op::infix(Rule::le_op, Assoc::Left)
            | Op::infix(Rule::gt_op, Assoc::Left)
            | Op::infix(Rule::ge_op, Assoc::Left)
            | Op::infix(Rule::window, Assoc::Left))
        .op(Op::postfix(Rule::in_set) | Op::postfix(Rule::not_in_set))
        .op(Op::infix(Rule::add_op, Assoc::Left) | Op::infix(Rule::sub_op, Assoc::Left))
        .op(Op::infix(Rule::mul_op, Assoc::Left) | Op::infix(Rule::div_op, Assoc::Left))
        .op(Op::prefix(Rule::neg_op))
});

type Result<T> = std::result::Result<T, Diagnostic>;

/// Parses a policy file. A syntax error stops the parse: the first one is reported.
pub fn parse(text: &str) -> Result<PolicyAst> {
    if text.len() > u32::MAX as usize / 2 {
        return Err(Diagnostic::error(
            "policy::parse::too_large",
            "the policy file is too large",
            Span::default(),
        ));
    }
    let mut pairs = PolicyParser::parse(Rule::file, text).map_err(|e| syntax_error(e, text))?;
    let file = pairs.next().ok_or_else(|| internal(Span::default()))?;
    lower_file(file)
}

#[cold]
fn internal(span: Span) -> Diagnostic {
    Diagnostic::error(
        "policy::parse::internal",
        "the parser met a shape it does not know",
        span,
    )
    .with_help("this is a bug in the policy tool; please report it with the file")
}

#[cold]
fn syntax_error(error: pest::error::Error<Rule>, text: &str) -> Diagnostic {
    let mut span = match error.location {
        pest::error::InputLocation::Pos(p) => Span::new(p, p),
        pest::error::InputLocation::Span((s, e)) => Span::new(s, e),
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
        Rule::policy_name => "a policy name",
        Rule::provider | Rule::kw_provider => "`provider`",
        Rule::document | Rule::kw_document => "`document`",
        Rule::zone | Rule::kw_zone => "`zone`",
        Rule::calendar | Rule::kw_calendar => "`calendar`",
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
        Rule::quantity | Rule::unit | Rule::unit_exact => {
            "a unit (`hours`, `days`, `calendar days`, `business days`)"
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

/// The pair's span without the white space and comments the grammar let it swallow at its end.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
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
fn next<'a>(pairs: &mut Pairs<'a, Rule>, parent: Span) -> Result<Pair<'a, Rule>> {
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
            | Rule::kw_provider
            | Rule::kw_document
            | Rule::kw_zone
            | Rule::kw_calendar
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
fn parts(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    meaningful(pair).filter(|p| !is_keyword(p.as_rule()))
}

fn lower_file(file: Pair<'_, Rule>) -> Result<PolicyAst> {
    let span = span_of(&file);
    let mut items = file.into_inner();
    let header = lower_header(next(&mut items, span)?)?;
    let mut ast = PolicyAst {
        header,
        enums: Vec::new(),
        fields: Vec::new(),
        requires: Vec::new(),
        constraints: Vec::new(),
        lets: Vec::new(),
        actions: Vec::new(),
    };
    for item in items {
        match item.as_rule() {
            Rule::enum_def => ast.enums.push(lower_enum(item)?),
            Rule::field_def => ast.fields.push(lower_field(item)?),
            Rule::require_def => ast.requires.push(lower_require(item)?),
            Rule::constraint_def => ast.constraints.push(lower_constraint(item)?),
            Rule::let_def => ast.lets.push(lower_let(item)?),
            Rule::action_def => ast.actions.push(lower_action(item)?),
            Rule::EOI => {}
            _ => return Err(internal(span_of(&item))),
        }
    }
    Ok(ast)
}

fn lower_header(pair: Pair<'_, Rule>) -> Result<Header> {
    let span = span_of(&pair);
    let mut inner = parts(pair);
    let name = inner.next().ok_or_else(|| internal(span))?;
    let mut header = Header {
        name: Spanned::new(name.as_str().to_string(), span_of(&name)),
        provider: None,
        document: None,
        zone: None,
        calendar: None,
    };
    for entry in inner {
        let entry_span = span_of(&entry);
        let duplicate = || {
            Diagnostic::error(
                "policy::parse::duplicate_header",
                "this header entry is given twice",
                entry_span,
            )
            .with_help("keep one")
        };
        match entry.as_rule() {
            Rule::provider => {
                let text = lower_text(single(entry)?)?;
                if header.provider.replace(text).is_some() {
                    return Err(duplicate());
                }
            }
            Rule::document => {
                let mut p = parts(entry);
                let file = lower_string(p.next().ok_or_else(|| internal(entry_span))?)?;
                let title = p.next().map(lower_text).transpose()?;
                if header.document.replace((file, title)).is_some() {
                    return Err(duplicate());
                }
            }
            Rule::zone => {
                let zone = lower_string(single(entry)?)?;
                if header.zone.replace(zone).is_some() {
                    return Err(duplicate());
                }
            }
            Rule::calendar => {
                let name = lower_ident(single(entry)?);
                if header.calendar.replace(name).is_some() {
                    return Err(duplicate());
                }
            }
            _ => return Err(internal(entry_span)),
        }
    }
    Ok(header)
}

/// The one meaningful child of a pair.
fn single(pair: Pair<'_, Rule>) -> Result<Pair<'_, Rule>> {
    let span = span_of(&pair);
    parts(pair).next().ok_or_else(|| internal(span))
}

fn lower_ident(pair: Pair<'_, Rule>) -> Ident {
    Spanned::new(pair.as_str().to_string(), span_of(&pair))
}

fn lower_string(pair: Pair<'_, Rule>) -> Result<Spanned<String>> {
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

fn lower_enum(pair: Pair<'_, Rule>) -> Result<EnumDef> {
    let span = span_of(&pair);
    let mut idents = parts(pair).map(lower_ident);
    let name = idents.next().ok_or_else(|| internal(span))?;
    Ok(EnumDef {
        name,
        variants: idents.collect(),
    })
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

fn next_part<'a>(
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

fn lower_action(pair: Pair<'_, Rule>) -> Result<ActionDef> {
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
        match item.as_rule() {
            Rule::unique => action.unique = true,
            Rule::default_def => action.defaults.push(lower_attr(single(item)?)?),
            Rule::require_def => action.requires.push(lower_require(item)?),
            Rule::rule_def => action.rules.push(lower_rule(item)?),
            Rule::example_def => action.examples.push(lower_example(item)?),
            _ => return Err(internal(span_of(&item))),
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

fn lower_expr(pair: Pair<'_, Rule>) -> Result<Expr> {
    PRATT
        .map_primary(lower_primary)
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let span = span_of(&op).to(rhs.span);
            let kind = match op.as_rule() {
                Rule::not_op => ExprKind::Not(Box::new(rhs)),
                Rule::neg_op => ExprKind::Neg(Box::new(rhs)),
                _ => return Err(internal(span)),
            };
            Ok(Expr { kind, span })
        })
        .map_postfix(|lhs, op| {
            let lhs = lhs?;
            let span = lhs.span.to(span_of(&op));
            let kind = match op.as_rule() {
                Rule::in_set | Rule::not_in_set => {
                    let negated = op.as_rule() == Rule::not_in_set;
                    let set = parts(single(op)?).map(lower_ident).collect();
                    ExprKind::InSet {
                        subject: Box::new(lhs),
                        set,
                        negated,
                    }
                }
                Rule::rounded => {
                    let mut inner = parts(op);
                    let mode = lower_ident(next_part(&mut inner, span)?);
                    let quantum = next_part(&mut inner, span)?;
                    ExprKind::Rounded {
                        value: Box::new(lhs),
                        mode,
                        quantum: Spanned::new(lower_decimal(&quantum)?, span_of(&quantum)),
                    }
                }
                _ => return Err(internal(span)),
            };
            Ok(Expr { kind, span })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let span = lhs.span.to(rhs.span);
            let binary = |op| ExprKind::Binary(op, Box::new(lhs.clone()), Box::new(rhs.clone()));
            let kind = match op.as_rule() {
                Rule::or_op => binary(BinaryOp::Or),
                Rule::and_op => binary(BinaryOp::And),
                Rule::eq_op => binary(BinaryOp::Eq),
                Rule::ne_op => binary(BinaryOp::Ne),
                Rule::lt_op => binary(BinaryOp::Lt),
                Rule::le_op => binary(BinaryOp::Le),
                Rule::gt_op => binary(BinaryOp::Gt),
                Rule::ge_op => binary(BinaryOp::Ge),
                Rule::add_op => binary(BinaryOp::Add),
                Rule::sub_op => binary(BinaryOp::Sub),
                Rule::mul_op => binary(BinaryOp::Mul),
                Rule::div_op => binary(BinaryOp::Div),
                Rule::window => lower_window(op, lhs.clone(), rhs.clone())?,
                _ => return Err(internal(span)),
            };
            Ok(Expr { kind, span })
        })
        .parse(pair.into_inner())
}

fn lower_window(op: Pair<'_, Rule>, subject: Expr, anchor: Expr) -> Result<ExprKind> {
    let span = span_of(&op);
    let mut inner = op.into_inner();
    let relation = single(next(&mut inner, span)?)?;
    let relation = match relation.as_rule() {
        Rule::kw_within => WindowRelation::Within,
        Rule::kw_more_than => WindowRelation::MoreThan,
        Rule::kw_at_least => WindowRelation::AtLeast,
        _ => return Err(internal(span)),
    };
    let (count, unit) = lower_quantity(next(&mut inner, span)?)?;
    let direction = match single(next(&mut inner, span)?)?.as_rule() {
        Rule::kw_after => WindowDirection::After,
        Rule::kw_before => WindowDirection::Before,
        _ => return Err(internal(span)),
    };
    Ok(ExprKind::Window {
        subject: Box::new(subject),
        relation,
        count,
        unit,
        direction,
        anchor: Box::new(anchor),
    })
}

fn lower_primary(pair: Pair<'_, Rule>) -> Result<Expr> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::expr => return lower_expr(pair),
        Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
        Rule::integer => ExprKind::Int(lower_integer(&pair)?),
        Rule::decimal => ExprKind::Decimal(lower_decimal(&pair)?),
        Rule::string => ExprKind::Str(lower_string(pair)?.node),
        Rule::ident => ExprKind::Name(pair.as_str().to_string()),
        Rule::quantity => {
            let (count, unit) = lower_quantity(pair)?;
            ExprKind::Quantity(count, unit)
        }
        Rule::call => {
            let mut inner = parts(pair);
            let name = lower_ident(next_part(&mut inner, span)?);
            let args = inner.map(lower_expr).collect::<Result<Vec<_>>>()?;
            ExprKind::Call(name, args)
        }
        Rule::if_expr => {
            let mut inner = parts(pair).filter(|p| p.as_rule() == Rule::expr);
            let cond = lower_expr(next_part(&mut inner, span)?)?;
            let then = lower_expr(next_part(&mut inner, span)?)?;
            let otherwise = lower_expr(next_part(&mut inner, span)?)?;
            ExprKind::If(Box::new(cond), Box::new(then), Box::new(otherwise))
        }
        _ => return Err(internal(span)),
    };
    Ok(Expr { kind, span })
}

fn lower_quantity(pair: Pair<'_, Rule>) -> Result<(i64, Unit)> {
    let span = span_of(&pair);
    let mut count: i64 = 1;
    let mut unit = None;
    for part in parts(pair) {
        match part.as_rule() {
            Rule::integer => {
                count = count.checked_mul(lower_integer(&part)?).ok_or_else(|| {
                    Diagnostic::error("policy::parse::number", "this quantity is too large", span)
                })?
            }
            Rule::unit => {
                let unit_pair = single(part)?;
                unit = Some(match unit_pair.as_rule() {
                    Rule::unit_calendar_days => Unit::CalendarDays,
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
    Ok((count, unit.ok_or_else(|| internal(span))?))
}

fn lower_integer(pair: &Pair<'_, Rule>) -> Result<i64> {
    i64::from_str(pair.as_str()).map_err(|_| {
        Diagnostic::error(
            "policy::parse::number",
            format!("`{}` is too large for a whole number", pair.as_str()),
            span_of(pair),
        )
    })
}

fn lower_decimal(pair: &Pair<'_, Rule>) -> Result<Decimal> {
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
