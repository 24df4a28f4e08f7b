//! The calendar coverage early warning: a calendar covers a range of dates (`covers FIRST LAST`), and
//! from the day after LAST every order whose business days reach past it is an evaluation error. Since
//! holidays are published a year at a time, `policy check` warns while there is still time to add the
//! next year: when the policy's calendar stops covering within a horizon from today.

use chrono::{Days, NaiveDate};

use crate::diagnostics::Diagnostic;
use crate::eval::Policy;
use crate::time::Instant;

/// How far ahead `policy check` looks by default, in days.
pub const DEFAULT_HORIZON_DAYS: u32 = 90;

/// A warning when the calendar of `policy` stops covering before `horizon_days` after `today` (the date
/// of `today` in the policy's zone); `None` when it covers that far, or the policy has no calendar.
pub fn calendar_coverage(policy: &Policy, today: Instant, horizon_days: u32) -> Option<Diagnostic> {
    let checked = policy.checked();
    let calendar = checked.calendar.as_ref()?;
    let span = checked.calendar_span?;
    let today: NaiveDate = checked.zone.date_of(today.nanos());
    let horizon = today.checked_add_days(Days::new(u64::from(horizon_days)))?;
    let last = calendar.last();
    if last >= horizon {
        return None;
    }
    let name = calendar.name();
    let message = match last.checked_add_days(Days::new(1)) {
        Some(first_uncovered) if last >= today => format!(
            "calendar `{name}` covers dates only until {last}: from {first_uncovered}, {} from {today}, \
             orders that count business days past it cannot be decided",
            plural_days(last.signed_duration_since(today).num_days() + 1)
        ),
        _ => format!(
            "calendar `{name}` stopped covering on {last}: orders that count business days past it cannot be decided"
        ),
    };
    Some(
        Diagnostic::warning("policy::check::calendar_coverage", message, span)
            .with_label(format!("covers until {last}"))
            .with_help(format!(
                "add the next year's holidays and make-up days to the calendar `{name}` and move its `covers` \
                 line; the warning looks {horizon_days} days ahead (`--calendar-horizon DAYS`, `--at`); if the \
                 dates are not published yet, say so above this line: `# allow(calendar_coverage): REASON`"
            )),
    )
}

fn plural_days(n: i64) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}
