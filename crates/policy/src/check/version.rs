//! The header entries that say which version of a policy this is (`effective from DATE by FIELD`) and
//! how its amounts are rounded (`minor_units "CODE" DIGITS`).

use chrono_tz::Tz;

use super::typed::Slot;
use super::{Checked, Checker};
use crate::diagnostics::Diagnostic;
use crate::syntax::ast;
use crate::time::Instant;
use crate::value::Type;
use crate::zone::{day_number_to_date, Zone};

/// `effective from 2026-01-01 by paid_at`: from when this version of the policy is in force, and which
/// instant of an order says whether it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// The date or timestamp as written: the version's name in decisions.
    pub label: String,
    /// The first instant in force: a date's start in the policy's zone.
    pub from: Instant,
    pub by: VersionSelector,
}

/// What selects the version for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSelector {
    /// The request time (`by now`, the default).
    Request,
    /// A timestamp field of the order (`by paid_at`), never absent.
    Field(Slot),
}

/// The most digits after the decimal point an amount can have (`rust_decimal`'s scale).
const MAX_MINOR_UNITS: u32 = 28;

impl Checker<'_> {
    /// `minor_units "CODE" DIGITS` entries: each code once, 0 to 28 digits. A code ISO 4217 does not
    /// know (`"CREDITS"`) becomes a currency of this policy.
    pub(super) fn minor_units(&mut self, header: &ast::Header) -> Vec<(String, u32)> {
        let mut table: Vec<(String, u32)> = Vec::new();
        for (code, digits) in &header.minor_units {
            // Capitals and digits, as ISO 4217 writes codes: `"jpy"` would be a second currency beside
            // `JPY` that no order names.
            let valid_code = !code.node.is_empty()
                && code
                    .node
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !valid_code {
                self.report(
                    Diagnostic::error(
                        "policy::check::invalid_minor_units",
                        format!("`{}` is not a currency code", code.node),
                        code.span,
                    )
                    .with_help(
                        "a currency code is capital letters and digits, as ISO 4217 writes them: `\"JPY\"`",
                    ),
                );
                continue;
            }
            let Some(count) = digits
                .node
                .parse::<u32>()
                .ok()
                .filter(|d| *d <= MAX_MINOR_UNITS)
            else {
                self.report(
                    Diagnostic::error(
                        "policy::check::invalid_minor_units",
                        format!(
                            "an amount cannot have {} digits after the point",
                            digits.node
                        ),
                        digits.span,
                    )
                    .with_help(format!(
                        "write 0 to {MAX_MINOR_UNITS}: `minor_units \"{}\" 2`",
                        code.node
                    )),
                );
                continue;
            };
            if table.iter().any(|(c, _)| *c == code.node) {
                self.report(
                    Diagnostic::error(
                        "policy::check::invalid_minor_units",
                        format!("the minor units of `{}` are given twice", code.node),
                        code.span,
                    )
                    .with_help("keep one `minor_units` line per currency"),
                );
                continue;
            }
            table.push((code.node.clone(), count));
        }
        table
    }

    /// `effective from ...`, once the fields are known (a field may select the version).
    pub(super) fn effective(
        &mut self,
        header: &ast::Header,
        zone: Checked<Tz>,
    ) -> Checked<Option<Effective>> {
        let Some(effective) = &header.effective else {
            return Ok(None);
        };
        let text = &effective.from.node;
        let span = effective.from.span;
        let from = if text.contains('T') {
            self.timestamp_literal(text, span)
        } else {
            self.date_literal(text, span).and_then(|day| {
                // A date is the start of that day in the policy's zone (its first instant, even on a
                // day that opens with a DST gap).
                // Without a zone (its problem reported by the header), the date has no start.
                let tz = zone?;
                let start = day_number_to_date(i64::from(day))
                    .and_then(|date| Zone::new(tz).start_of_day(date))
                    .and_then(Instant::from_nanos);
                start.ok_or_else(|| {
                    self.report(Diagnostic::error(
                        "policy::check::invalid_date",
                        format!("`{text}` has no first instant in the policy's zone"),
                        span,
                    ))
                })
            })
        };
        let by = match &effective.by {
            None => Ok(VersionSelector::Request),
            Some(name) if name.node == "now" => Ok(VersionSelector::Request),
            Some(name) => match self.field_slot(&name.node) {
                None => Err(self.unknown_name(&name.node, name.span, "field")),
                Some(slot) => {
                    let field = &self.fields[usize::from(slot)];
                    if field.ty == Type::Timestamp && !field.optional {
                        self.field_used[usize::from(slot)] = true;
                        Ok(VersionSelector::Field(slot))
                    } else {
                        let found = if field.optional {
                            "an optional field".to_string()
                        } else {
                            super::with_article(&self.describe(field.ty))
                        };
                        Err(self.report(
                            Diagnostic::error(
                                "policy::check::invalid_version_selector",
                                format!("`{}` cannot select the version: it is {found}", name.node),
                                name.span,
                            )
                            .with_label("not a timestamp every order has")
                            .with_help(
                                "select by a `timestamp` field that is not optional (`by paid_at`), or by the \
                                 request (`by now`)",
                            ),
                        ))
                    }
                }
            },
        };
        Ok(Some(Effective {
            label: text.clone(),
            from: from?,
            by: by?,
        }))
    }
}
