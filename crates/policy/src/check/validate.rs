//! Checking the parts of an action that are not plain expressions: rule attributes and examples.

use serde_json::Map;

use super::typed::{TExpr, TKind};
use super::{with_article, Checked, Checker, Example, Facts, Reported, RuleAttrs};
use crate::contract::{DECISION_FIELDS, ERROR_FIELD};
use crate::diagnostics::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{self, AttrKind, ExprKind, Vocabulary};
use crate::value::{
    parse_field, parse_timestamp, FieldInput, Type, Value, REFUND_TO_ENUM, REVIEW_ENUM,
};

/// What an example may expect: a decision's fields, or the error record's `error` (the order is
/// refused with this in the message).
fn expectable() -> impl Iterator<Item = &'static str> + Clone {
    DECISION_FIELDS.into_iter().chain([ERROR_FIELD])
}

impl Checker<'_> {
    pub(crate) fn attrs(
        &mut self,
        attrs: &[ast::Attr],
        facts: &Facts,
        is_default: bool,
    ) -> RuleAttrs {
        let mut out = RuleAttrs::default();
        let mut seen: Vec<String> = Vec::new();
        for attr in attrs {
            let name = attr.kind.name().to_string();
            if seen.contains(&name) {
                self.report(Diagnostic::error(
                    "policy::check::duplicate_attribute",
                    format!(
                        "`{name}` is given twice {}",
                        if is_default {
                            "among the defaults"
                        } else {
                            "in this rule"
                        }
                    ),
                    attr.span,
                ));
                continue;
            }
            seen.push(name);
            match &attr.kind {
                AttrKind::Amount(e) => {
                    // An attribute that fails to check was reported (`Err(Reported)`); the rule keeps none.
                    out.amount = self.typed_attr(e, Type::Money, "amount", facts).ok();
                    if let Some(division) = out
                        .amount
                        .as_ref()
                        .and_then(|amount| amount.unrounded_division(&self.definitions))
                    {
                        let d = Diagnostic::error(
                            "policy::check::unrounded_division",
                            "this amount divides but does not say how it rounds",
                            division,
                        );
                        // A division that is the whole amount is rounded by ending the amount; one
                        // inside it (an `if` branch, a `min` argument, a definition) where it is made.
                        self.report(if division == e.span {
                            d.with_help("end it with `rounded half_away_from_zero to 0.01` (or another mode)")
                        } else {
                            d.with_label("this divides, and is not rounded").with_help(
                                "round the quotient here (`price / 3 rounded half_away_from_zero to 0.01`), \
                                 or the whole amount in parentheses: `(...) rounded ...`",
                            )
                        });
                    }
                }
                AttrKind::RefundTo(e) => {
                    if self.vocabulary_declared(Vocabulary::RefundDestinations, e.span) {
                        out.refund_to = self
                            .typed_attr(e, Type::Enum(REFUND_TO_ENUM), "refund_to", facts)
                            .ok()
                    }
                }
                AttrKind::Review(e) => {
                    if self.vocabulary_declared(Vocabulary::ReviewKinds, e.span) {
                        out.review = self
                            .typed_attr(e, Type::Enum(REVIEW_ENUM), "review", facts)
                            .ok()
                    }
                }
                AttrKind::ReviewBy(e) if matches!(&e.kind, ExprKind::Name(n) if n == "none" && !self.resolves(n)) =>
                {
                    out.review_by_unset = true;
                }
                AttrKind::ReviewBy(e) => {
                    out.review_by = self.typed_attr(e, Type::Date, "review_by", facts).ok()
                }
                AttrKind::NextStatus(e) => out.next_status = self.next_status(e, facts).ok(),
                AttrKind::Requires(steps) => {
                    if let Some(first) = steps.first() {
                        if self.vocabulary_declared(Vocabulary::Steps, first.span) {
                            out.requires = self.steps(steps);
                        }
                    }
                }
                AttrKind::Value(name, e) => {
                    if let Ok(value) = self.expr(e, None, facts) {
                        if value.ty == Type::BusinessDays {
                            self.report(
                                Diagnostic::error(
                                    "policy::check::type_mismatch",
                                    "a count of business days is not a value a decision can carry",
                                    e.span,
                                )
                                .with_help("add it to a date: `date(now) + 5 business days`"),
                            );
                        } else {
                            out.values.push((name.node.clone(), value));
                        }
                    }
                }
            }
        }
        if let (Some(review), Some(review_by)) = (&out.review, &out.review_by) {
            if super::is_no_review(review, self.no_review) {
                self.report(
                    Diagnostic::error(
                        "policy::check::review_contradiction",
                        "`review = none` and a `review_by` date contradict each other",
                        review_by.span,
                    )
                    .with_related(review.span, "no review here")
                    .with_help("drop the date, or say `review = manual`"),
                );
            }
        }
        out
    }

    fn typed_attr(&mut self, e: &ast::Expr, ty: Type, name: &str, facts: &Facts) -> Checked<TExpr> {
        let checked = self.expr(e, Some(ty), facts)?;
        if checked.ty != ty {
            let (want, found) = (self.describe(ty), self.describe(checked.ty));
            let (want_a, found_a) = (with_article(&want), with_article(&found));
            let mut d = Diagnostic::error(
                "policy::check::type_mismatch",
                format!("`{name}` is {want_a}, found {found_a}"),
                e.span,
            )
            .with_label(format!("this is {found_a}"));
            if ty == Type::Date && checked.ty == Type::Timestamp {
                d = d.with_help("take its date: `date(...)`");
            }
            return Err(self.report(d));
        }
        Ok(checked)
    }

    /// `next_status` names a status that need not be one of the policy's own (`deleted`, `refunded`).
    fn next_status(&mut self, e: &ast::Expr, facts: &Facts) -> Checked<TExpr> {
        if let ExprKind::Name(name) = &e.kind {
            if self.field_slot(name).is_none() && !self.lets.contains_key(name) && name != "now" {
                return Ok(TExpr::new(
                    TKind::Const(Value::Str(name.as_str().into())),
                    Type::Str,
                    e.span,
                ));
            }
        }
        let checked = self.expr(e, None, facts)?;
        if !matches!(checked.ty, Type::Str | Type::Enum(_)) {
            let found = self.describe(checked.ty);
            let found_a = with_article(&found);
            return Err(self.report(Diagnostic::error(
                "policy::check::type_mismatch",
                format!("`next_status` is a status name, found {found_a}"),
                e.span,
            )));
        }
        Ok(checked)
    }

    /// The steps named, as indexes of the declared `steps`, in the vocabulary's order.
    fn steps(&mut self, idents: &[ast::Ident]) -> Vec<u16> {
        let mut steps = Vec::new();
        for ident in idents {
            let found = self
                .steps
                .iter()
                .position(|s| *s == ident.node)
                .and_then(|i| u16::try_from(i).ok());
            match found {
                Some(step) if steps.contains(&step) => {
                    self.report(Diagnostic::error(
                        "policy::check::duplicate_step",
                        format!("step `{}` is listed twice", ident.node),
                        ident.span,
                    ));
                }
                Some(step) => steps.push(step),
                None => {
                    let names = self.steps.iter().map(String::as_str);
                    let diagnostic = Diagnostic::error(
                        "policy::check::unknown_step",
                        format!("unknown step `{}`", ident.node),
                        ident.span,
                    )
                    .with_label("not a declared step")
                    .with_did_you_mean(
                        &ident.node,
                        Some(ident.span),
                        names,
                        || format!("steps: {}", self.steps.join(", ")),
                    );
                    self.report(diagnostic);
                }
            }
        }
        // A decision lists steps in the vocabulary's order, whatever the rule's.
        steps.sort_unstable();
        steps
    }

    pub(crate) fn example(&mut self, def: &ast::ExampleDef) -> Checked<Example> {
        // The first problem found, reported: the example is dropped only with it.
        let mut found: Option<Reported> = None;
        let order = match &def.order {
            Some(text) => self.json_object(&text.node, text.span, "order")?,
            None => {
                return Err(self.report(
                    Diagnostic::error(
                        "policy::check::example_without_order",
                        format!("example \"{}\" has no order", def.name.node),
                        def.name.span,
                    )
                    .with_help("add `order { \"paid_at\": \"...\", ... }`"),
                ));
            }
        };
        let order_span = def.order.as_ref().map_or(def.span, |o| o.span);
        let expect = match &def.expect {
            Some(text) => self.json_object(&text.node, text.span, "expect"),
            None => {
                Err(self.report(
                    Diagnostic::error(
                        "policy::check::example_without_expectation",
                        format!("example \"{}\" expects nothing", def.name.node),
                        def.name.span,
                    )
                    .with_help("add `expect { \"outcome\": \"allowed\", ... }` with the decision fields to compare"),
                ))
            }
        };
        // An example that expects the order to be refused may hold malformed fields on purpose.
        let expects_error = expect.as_ref().is_ok_and(|e| e.contains_key("error"));
        let order_text = def.order.as_ref().map_or("{}", |o| o.node.as_str());
        // Each field's JSON text, so that numbers are judged as written (not through `f64`).
        let raw: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(order_text).unwrap_or_default();
        for (key, value) in &order {
            let located = key_span(
                def.order.as_ref().map_or("", |o| o.node.as_str()),
                order_span,
                key,
            );
            let key_span = located.unwrap_or(order_span);
            let Some(slot) = self.field_slot(key) else {
                let names = self.fields.iter().map(|f| f.name.as_str());
                let diagnostic = Diagnostic::error(
                    "policy::check::example_unknown_field",
                    format!("the policy declares no field `{key}`"),
                    key_span,
                )
                .with_did_you_mean(
                    key,
                    located.map(Span::inside_quotes),
                    names,
                    || "the policy ignores fields it does not declare; remove it".to_string(),
                );
                found = found.or(Some(self.report(diagnostic)));
                continue;
            };
            if value.is_null() {
                continue;
            }
            let field = &self.fields[slot as usize];
            let variants = match field.ty {
                Type::Enum(id) => self.enums[id as usize].variants.clone(),
                _ => Vec::new(),
            };
            if expects_error {
                continue;
            }
            let input = match raw.get(key) {
                Some(text) => FieldInput::from_raw(text.get()),
                None => FieldInput::from_json(value),
            };
            if let Err(problem) = parse_field(field.ty, &input, &variants) {
                found = found.or(Some(self.report(Diagnostic::error(
                    "policy::check::example_bad_field",
                    format!("field `{key}` of this example: {problem}"),
                    key_span,
                ))));
            }
        }
        let at = match &def.at {
            Some(at) => match parse_timestamp(&at.node) {
                Ok(t) => Some(t),
                Err(problem) => {
                    found = found.or(Some(self.report(
                        Diagnostic::error("policy::check::example_bad_time", problem, at.span)
                            .with_label("not a request time")
                            .with_help("give the request time in RFC 3339 with an offset, e.g. `2024-12-08T11:58:00+08:00`"),
                    )));
                    None
                }
            },
            None => None,
        };
        if def.at.is_none() && order.get("requested_at").is_none_or(|v| v.is_null()) {
            found = found.or(Some(
                self.report(
                    Diagnostic::error(
                        "policy::check::example_without_time",
                        format!("example \"{}\" has no request time", def.name.node),
                        def.name.span,
                    )
                    .with_help(
                        "add `at \"2024-12-08T11:58:00+08:00\"`, or `requested_at` to the order",
                    ),
                ),
            ));
        }
        let expect = expect?;
        let expect_text = def.expect.as_ref().map_or("", |e| e.node.as_str());
        let expect_span = def.expect.as_ref().map_or(def.span, |e| e.span);
        for (key, value) in &expect {
            let located = key_span(expect_text, expect_span, key);
            let span = located.unwrap_or(expect_span);
            if !expectable().any(|field| field == key) {
                let diagnostic = Diagnostic::error(
                    "policy::check::example_unknown_expectation",
                    format!("a decision has no field `{key}`"),
                    span,
                )
                .with_did_you_mean(
                    key,
                    located.map(Span::inside_quotes),
                    expectable(),
                    || {
                        format!(
                            "a decision has: {}",
                            expectable().collect::<Vec<_>>().join(", ")
                        )
                    },
                );
                found = found.or(Some(self.report(diagnostic)));
            } else if key == "outcome"
                && !matches!(
                    value.as_str(),
                    Some("allowed" | "conditional" | "denied" | "undetermined")
                )
            {
                found = found.or(Some(self.report(Diagnostic::error(
                    "policy::check::example_bad_outcome",
                    format!(
                        "`{value}` is not an outcome (allowed, conditional, denied, undetermined)"
                    ),
                    span,
                ))));
            }
        }
        match found {
            Some(reported) => Err(reported),
            None => Ok(Example {
                name: def.name.node.clone(),
                at,
                order_text: order_text.to_string(),
                expect,
                span: def.span,
            }),
        }
    }

    fn json_object(
        &mut self,
        text: &str,
        span: Span,
        what: &str,
    ) -> Checked<Map<String, serde_json::Value>> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(other) => Err(self.report(Diagnostic::error(
                "policy::check::example_bad_json",
                format!(
                    "the example's {what} is not a JSON object but {}",
                    crate::value::json_kind(&other)
                ),
                span,
            ))),
            Err(e) => Err(self.report(Diagnostic::error(
                "policy::check::example_bad_json",
                format!("the example's {what} is not valid JSON: {e}"),
                span,
            ))),
        }
    }
}

/// The span of `"key"` inside a JSON object's text, or the whole object's.
fn key_span(text: &str, object: Span, key: &str) -> Option<Span> {
    let quoted = format!("\"{key}\"");
    text.find(&quoted).map(|at| {
        let start = object.start as usize + at;
        Span::new(start, start + quoted.len())
    })
}
