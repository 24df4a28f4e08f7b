//! The versions of one policy (`effective from DATE by FIELD` in each header), and which of them decides
//! an order: the latest whose start is at or before the order's selecting instant (the request, or the
//! field named by `by`). An order before the first version is an error ([`OrderError::NotInForce`]).
//!
//! ```
//! use policy::{Instant, Policy, Versions};
//! use policy::calendar::Calendars;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let version = |from: &str, days: u32| {
//!     Policy::from_source("refund", &format!(r#"
//! policy refund
//!   document "terms.txt"
//!   zone "Europe/Berlin"
//!   effective from {from} by paid_at
//! field paid_at: timestamp
//! action refund {{
//!   rule in_time when now within {days} calendar days after paid_at then allowed
//!     because "in time" cite "{days} days"
//!   rule late then denied because "late" cite "{days} days"
//! }}"#), &Calendars::new())
//! };
//! let versions = Versions::new(vec![version("2025-01-01", 14)?, version("2026-01-01", 30)?])?;
//! let at = Instant::parse("2026-01-20T12:00:00+01:00")?;
//! let old = versions.decide_json("refund", r#"{"paid_at": "2025-12-30T12:00:00+01:00"}"#, at)?;
//! assert_eq!((old.version, old.rule), (Some("2025-01-01"), "late"));
//! let new = versions.decide_json("refund", r#"{"paid_at": "2026-01-02T12:00:00+01:00"}"#, at)?;
//! assert_eq!((new.version, new.rule), (Some("2026-01-01"), "in_time"));
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use crate::eval::{Decision, Order, OrderError, Policy};
use crate::time::Instant;

/// The versions of one policy, oldest first; or a policy without versions, alone.
#[derive(Debug, Clone)]
pub struct Versions {
    // INVARIANT: not empty; one policy without `effective`, or every one with it, by strictly increasing
    // start, all of one name and one selector.
    policies: Vec<Arc<Policy>>,
}

/// Why policies cannot be versions of one policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionsError {
    /// No policy was given.
    #[error("no policy was given")]
    Empty,
    /// Two policies of different names.
    #[error("`{0}` and `{1}` are different policies, not versions of one")]
    Names(String, String),
    /// Several policies, one of which has no `effective from`: which decides is not said.
    #[error("policy `{0}` is given more than once, and not every copy says `effective from DATE`")]
    Unversioned(String),
    /// Two versions start at the same instant.
    #[error("two versions of policy `{0}` are effective from the same instant ({1})")]
    SameStart(String, String),
    /// The versions select by different instants (`by paid_at` in one, `by now` in another).
    #[error("the versions of policy `{0}` select by different instants (`by {1}` and `by {2}`): say the same `by` in each")]
    Selectors(String, String, String),
}

impl Versions {
    /// The versions of one policy, in any order.
    pub fn new(policies: Vec<Policy>) -> Result<Versions, VersionsError> {
        Versions::from_shared(policies.into_iter().map(Arc::new).collect())
    }

    /// One policy alone: the only version there is (with or without `effective from`).
    pub fn single(policy: Arc<Policy>) -> Versions {
        Versions {
            policies: vec![policy],
        }
    }

    /// Like [`Versions::new`], for policies already shared.
    pub fn from_shared(mut policies: Vec<Arc<Policy>>) -> Result<Versions, VersionsError> {
        let Some(first) = policies.first() else {
            return Err(VersionsError::Empty);
        };
        let name = first.name().to_string();
        if let Some(other) = policies.iter().find(|p| p.name() != name) {
            return Err(VersionsError::Names(name, other.name().to_string()));
        }
        if policies.len() == 1 {
            return Ok(Versions { policies });
        }
        if policies.iter().any(|p| p.checked().effective.is_none()) {
            return Err(VersionsError::Unversioned(name));
        }
        policies.sort_by_key(|p| p.effective_from());
        for pair in policies.windows(2) {
            if let [a, b] = pair {
                if a.effective_from() == b.effective_from() {
                    let label = b.version().unwrap_or_default().to_string();
                    return Err(VersionsError::SameStart(name, label));
                }
                let (x, y) = (selector_name(a), selector_name(b));
                if x != y {
                    return Err(VersionsError::Selectors(name, x, y));
                }
            }
        }
        Ok(Versions { policies })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        self.latest().name()
    }

    /// The versions, oldest first.
    pub fn all(&self) -> &[Arc<Policy>] {
        &self.policies
    }

    /// The latest version.
    pub fn latest(&self) -> &Arc<Policy> {
        // INVARIANT: `policies` is never empty.
        &self.policies[self.policies.len() - 1]
    }

    /// The version in force at `instant`: the latest starting at or before it; the first if none does
    /// (it then refuses the order as not in force).
    pub fn in_force_at(&self, instant: Instant) -> &Arc<Policy> {
        self.index_in_force_at(instant).1
    }

    /// [`Versions::in_force_at`], with the version's index in [`Versions::all`].
    fn index_in_force_at(&self, instant: Instant) -> (usize, &Arc<Policy>) {
        let started = self
            .policies
            .partition_point(|p| p.effective_from().is_none_or(|from| from <= instant));
        let index = started.saturating_sub(1);
        (index, &self.policies[index])
    }

    /// Reads `text` and decides it with the version in force for it. The request time is the order's
    /// `requested_at`, else `default_now`.
    pub fn decide_json(
        &self,
        action: &str,
        text: &str,
        default_now: Instant,
    ) -> Result<Decision<'_>, OrderError> {
        self.decide_text_into(action, text, &mut Order::default(), default_now)
    }

    /// Like [`Versions::decide_json`], reading into `order`'s storage (batches reuse one per worker).
    pub fn decide_text_into(
        &self,
        action: &str,
        text: &str,
        order: &mut Order,
        default_now: Instant,
    ) -> Result<Decision<'_>, OrderError> {
        self.decide_read_into(action, order, default_now, |policy, _, order| {
            policy.read_order_into(text, order)
        })
    }

    /// Decides an order that `read` reads into `order` for a version (given with its index in
    /// [`Versions::all`]): first for the latest, then, if an earlier version is in force for it, for
    /// that one, with its own fields.
    pub(crate) fn decide_read_into(
        &self,
        action: &str,
        order: &mut Order,
        default_now: Instant,
        mut read: impl FnMut(&Policy, usize, &mut Order) -> Result<(), OrderError>,
    ) -> Result<Decision<'_>, OrderError> {
        let latest = self.latest();
        let last = self.policies.len().saturating_sub(1);
        read(latest, last, order)?;
        let (index, chosen) = match latest.version_instant(order, default_now) {
            Some(instant) => self.index_in_force_at(instant),
            // Without versions, or without the instant that selects one: the latest says what is wrong.
            None => (last, latest),
        };
        if index != last {
            // An earlier version reads the order with its own fields.
            read(chosen, index, order)?;
        }
        let mut decision = chosen.decide(action, order, default_now)?;
        self.hold_until_next_version(chosen, &mut decision);
        Ok(decision)
    }

    /// Selected by the request time, the next version takes over at its start: a decision of
    /// `chosen` holds until then at most.
    fn hold_until_next_version<'p>(&'p self, chosen: &'p Policy, decision: &mut Decision<'p>) {
        if chosen.program().version_selector() != "now" {
            return;
        }
        let next = self
            .policies
            .iter()
            .filter_map(|p| p.effective_from())
            .find(|from| chosen.effective_from().is_some_and(|own| *from > own));
        if let Some(next) = next {
            let next = crate::ZonedInstant::new(next, &chosen.checked().zone);
            if decision.holds_until.is_none_or(|until| next < until) {
                decision.holds_until = Some(next);
            }
        }
    }

    /// Reads `text` and explains its decision by the version in force for it (see
    /// [`Policy::explain`]); an order that cannot be read is explained by the latest version.
    pub fn explain_json(
        &self,
        action: &str,
        text: &str,
        default_now: Instant,
    ) -> Result<crate::Explanation<'_>, OrderError> {
        let latest = self.latest();
        let Ok(order) = latest.read_order_str(text) else {
            return latest.explain_json(action, text, default_now);
        };
        let chosen = match latest.version_instant(&order, default_now) {
            Some(instant) => self.in_force_at(instant),
            None => latest,
        };
        let mut explanation = chosen.explain_json(action, text, default_now)?;
        // The decision as `decide_json` gives it. (The explanation's timeline is the version's own.)
        if let Some(decision) = explanation.decision.as_mut() {
            self.hold_until_next_version(chosen, decision);
        }
        Ok(explanation)
    }
}

/// How a version says what selects it (a field's name, or `now`), and whether the request time may
/// come from the order: versions selected by the request must read it alike.
fn selector_name(policy: &Policy) -> String {
    let program = policy.program();
    match program.version_selector() {
        "now" if program.requested_at.is_some() => "now (the order's requested_at)".to_string(),
        name => name.to_string(),
    }
}
