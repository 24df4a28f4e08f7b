//! What changes between two versions of a policy: the valid orders they decide differently.
//!
//! One model holds both versions' guards over the same variables (the versions must declare the same
//! fields, enums, zone and calendar, so that an order means the same to both; see [`diff`]). One walk
//! (`search`) splits on the atoms until it knows which rule of each version decides: each leaf lies in
//! the region of a pair of rules. A pair whose rules decide alike (the same outcome, and the same
//! amount, refund destination, review, review date, next status, values and steps, written the same
//! once definitions are spelled out) differs nowhere on its region. For every other pair, orders of
//! its region are built and decided by both versions, as the gap analysis confirms its gaps. What the
//! diff claims:
//!
//! - a **difference** only with an order that both versions decide by the pair's rules, and whose
//!   decisions differ in a compared field ([`COMPARED`]; which rule decides is not compared: a renamed
//!   rule deciding alike is no change);
//! - a region of a pair that may decide differently but where no order shows it is **unproven**
//!   ("could not prove");
//! - **no difference** only when the walk covered every valid order within its budget and every pair
//!   it met decides alike.
//!
//! Deadlines are not modelled: they depend on the whole table as time passes. They are the same when
//! both tables are written the same (guards and outcomes), or when no guard reads the request time;
//! otherwise every pair whose outcome goes through may differ in its deadline, which only an order
//! can show.
//!
//! The orders compared are those both versions accept (their `require` lines and constraints): an
//! order one version refuses is not in the model. `diff_order` compares a real order, and reports
//! an order one version refuses and the other decides.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::logic::{shape, Formula, Model};
use super::search::{all_hold, Cube, Goal, Status};
use super::zone_model::ZoneModel;
use super::{guard_formulas, validity_formulas, ActionAnalysis, Verdict, Witness};
use crate::check::typed::TExpr;
use crate::check::{CheckedAction, CheckedLet, CheckedPolicy, CheckedRule};
use crate::contract::{Decision, NO_RULE};
use crate::eval::{parse_time, OrderError, Outcome, Policy};
use crate::time::Instant;

/// The decision fields compared, as the decision's JSON names them.
pub const COMPARED: [&str; 10] = [
    "outcome",
    "amount",
    "currency",
    "refund_to",
    "requires",
    "review",
    "review_by",
    "deadline",
    "next_status",
    "values",
];

/// How many leaves of one pair's region are kept to look for an order that shows a difference.
const SAMPLES: usize = 4;

/// One decision field that differs, with its value under each version (JSON `null` when absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The field's name in the decision (one of [`COMPARED`]).
    pub field: &'static str,
    /// Its value under the old version.
    pub old: Json,
    /// Its value under the new version.
    pub new: Json,
}

/// The region of a pair of rules, one of each version, where the decisions differ or may differ.
#[derive(Debug, Clone)]
pub struct Region {
    /// The rule of the old version that decides these orders (`(no rule)` if none).
    pub old_rule: String,
    /// The rule of the new version that decides them.
    pub new_rule: String,
    /// The region, in the policies' own terms.
    pub conditions: Vec<String>,
    /// For a difference, the fields the witness's decisions differ in, with both values; for an
    /// unproven region, empty.
    pub changes: Vec<Change>,
    /// For an unproven region, the fields that may differ there.
    pub may_differ: Vec<&'static str>,
    /// An order of the region with its request time; `confirmed` when both versions decide it by the
    /// pair's rules and differently.
    pub witness: Option<Witness>,
}

/// How one action compares.
#[derive(Debug, Clone)]
pub struct ActionDiff {
    /// The action's name.
    pub action: String,
    /// Regions with an order both versions decide differently.
    pub differences: Vec<Region>,
    /// Regions that may decide differently, with no order to show it.
    pub unproven: Vec<Region>,
    /// The walk covered every valid order within its budget.
    pub complete: bool,
    /// Both versions accept the same orders: their input requirements (`require`, `constraint`) are
    /// written alike. When not, an order one refuses and the other decides may exist, which the walk
    /// (over the orders both accept) does not look for: no "same" can be claimed.
    pub accept_alike: bool,
}

/// What the comparison of two versions establishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffVerdict {
    /// Proved: no valid order is decided differently.
    Same,
    /// At least one order, confirmed by both versions, is decided differently.
    Different,
    /// No difference was found, but none could be ruled out everywhere.
    Unproven,
}

/// The comparison of two versions, action by action.
#[derive(Debug, Clone)]
pub struct Diff {
    /// The actions compared, in the old version's order.
    pub actions: Vec<ActionDiff>,
}

impl Diff {
    /// `Different` if any difference is confirmed, else `Unproven` if any region is unproven, a walk
    /// incomplete or the versions accept different orders, else `Same`.
    pub fn verdict(&self) -> DiffVerdict {
        if self.actions.iter().any(|a| !a.differences.is_empty()) {
            DiffVerdict::Different
        } else if self
            .actions
            .iter()
            .any(|a| !a.unproven.is_empty() || !a.complete || !a.accept_alike)
        {
            DiffVerdict::Unproven
        } else {
            DiffVerdict::Same
        }
    }
}

/// Why two versions cannot be compared: their orders would not mean the same to both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Incomparable(pub String);

/// Compares two versions of a policy: the actions both have (or only `action`), over the orders both
/// accept. The versions must declare the same fields (name, type, optional, default, in the same
/// order), the same enums, the same zone and the same business-day calendar; else `Incomparable`
/// says what differs.
pub fn diff(old: &Policy, new: &Policy, action: Option<&str>) -> Result<Diff, Incomparable> {
    let (old_checked, new_checked) = (old.checked(), new.checked());
    comparable(old, new)?;
    let names: Vec<&str> = match action {
        Some(name) => {
            for (which, policy) in [("old", old_checked), ("new", new_checked)] {
                if !policy.actions.iter().any(|a| a.name == name) {
                    return Err(Incomparable(format!(
                        "the {which} version has no action `{name}`"
                    )));
                }
            }
            vec![name]
        }
        None => {
            let old_names: Vec<&str> = old_checked
                .actions
                .iter()
                .map(|a| a.name.as_str())
                .collect();
            let mut new_names: Vec<&str> = new_checked
                .actions
                .iter()
                .map(|a| a.name.as_str())
                .collect();
            let mut sorted = old_names.clone();
            sorted.sort_unstable();
            new_names.sort_unstable();
            if sorted != new_names {
                return Err(Incomparable(format!(
                    "the versions have different actions (old: {}; new: {}): choose one both have with \
                     --action",
                    old_names.join(", "),
                    new_names.join(", ")
                )));
            }
            old_names
        }
    };
    let zone = ZoneModel::of(old_checked.zone);
    let actions = names
        .into_iter()
        .filter_map(|name| {
            let old_action = old_checked.actions.iter().find(|a| a.name == name)?;
            let new_action = new_checked.actions.iter().find(|a| a.name == name)?;
            Some(diff_action(old, old_action, new, new_action, &zone))
        })
        .collect();
    Ok(Diff { actions })
}

/// Whether the two versions' input requirements (`require FIELD when ...`, `constraint ...`) are
/// written alike, so that they accept the same orders.
fn accept_alike(
    old: &crate::check::CheckedPolicy,
    old_action: &CheckedAction,
    new: &crate::check::CheckedPolicy,
    new_action: &CheckedAction,
) -> bool {
    let requirements = |policy: &crate::check::CheckedPolicy, action: &CheckedAction| {
        action
            .requirements
            .iter()
            .map(|r| {
                let mut text = format!("{}:", r.field);
                if let Some(when) = &r.when {
                    shape(&when.expand(&policy.lets), &mut text);
                }
                text
            })
            .collect::<Vec<_>>()
    };
    let constraints = |policy: &crate::check::CheckedPolicy| {
        policy
            .constraints
            .iter()
            .map(|c| {
                let mut text = String::new();
                shape(&c.condition.expand(&policy.lets), &mut text);
                text
            })
            .collect::<Vec<_>>()
    };
    old_action.needs == new_action.needs
        && requirements(old, old_action) == requirements(new, new_action)
        && constraints(old) == constraints(new)
}

/// Whether an order means the same to both versions.
fn comparable(old: &Policy, new: &Policy) -> Result<(), Incomparable> {
    let (a, b) = (old.checked(), new.checked());
    let fail = |what: String| Err(Incomparable(format!("cannot compare the versions: {what}")));
    if old.zone() != new.zone() {
        return fail(format!(
            "the old one is in zone `{}`, the new one in `{}`",
            old.zone(),
            new.zone()
        ));
    }
    if a.calendar.as_deref() != b.calendar.as_deref() {
        return fail("they use different business-day calendars".into());
    }
    for i in 0..a.fields.len().max(b.fields.len()) {
        match (a.fields.get(i), b.fields.get(i)) {
            (Some(x), Some(y))
                if x.name == y.name
                    && x.ty == y.ty
                    && x.optional == y.optional
                    && x.default == y.default => {}
            (Some(x), Some(y)) if x.name == y.name => {
                return fail(format!(
                    "field `{}` is declared differently (its type, `?` or default)",
                    x.name
                ))
            }
            (x, y) => {
                let name = |f: Option<&crate::check::FieldInfo>| {
                    f.map_or("nothing".to_string(), |f| format!("field `{}`", f.name))
                };
                return fail(format!(
                    "their fields differ: field {} of the old version is {}, of the new one {} (both must \
                     declare the same fields in the same order)",
                    i + 1,
                    name(x),
                    name(y)
                ));
            }
        }
    }
    let mut units = (a.minor_units.clone(), b.minor_units.clone());
    units.0.sort();
    units.1.sort();
    if units.0 != units.1 {
        return fail("they round currencies differently (`minor_units`)".into());
    }
    if a.enums.len() != b.enums.len()
        || a.enums
            .iter()
            .zip(&b.enums)
            .any(|(x, y)| x.name != y.name || x.variants != y.variants)
    {
        return fail(
            "their enums differ (both must declare the same values in the same order)".into(),
        );
    }
    Ok(())
}

fn diff_action(
    old: &Policy,
    old_action: &CheckedAction,
    new: &Policy,
    new_action: &CheckedAction,
    zone: &Arc<ZoneModel>,
) -> ActionDiff {
    let (old_checked, new_checked) = (old.checked(), new.checked());
    let mut model = Model::new(old_checked, &old.source().text, zone);
    let old_guards = guard_formulas(&mut model, old_checked, old_action);
    model.quote_from(&new.source().text);
    let new_guards = guard_formulas(&mut model, new_checked, new_action);
    let guard_atoms = model.atoms.len();
    let mut validity = validity_formulas(&mut model, new_checked, new_action);
    model.quote_from(&old.source().text);
    validity.extend(validity_formulas(&mut model, old_checked, old_action));
    let analysis =
        ActionAnalysis::finished(old, old_action, model, validity, old_guards, guard_atoms);

    let mut engine = analysis.engine();
    let mut pairs = Pairs {
        validity: &analysis.validity,
        old: &analysis.guards,
        new: &new_guards,
        found: Vec::new(),
    };
    engine.run(&mut pairs);
    let complete = !engine.exhausted;
    let deadlines_alike = deadlines_alike(old_checked, old_action, new_checked, new_action);

    let mut result = ActionDiff {
        action: old_action.name.clone(),
        differences: Vec::new(),
        unproven: Vec::new(),
        complete,
        accept_alike: accept_alike(old_checked, old_action, new_checked, new_action),
    };
    for ((i, j), cubes) in &pairs.found {
        let old_rule = i.map(|i| &old_action.rules[i]);
        let new_rule = j.map(|j| &new_action.rules[j]);
        let may_differ = may_differ(
            (old_checked, old_rule),
            (new_checked, new_rule),
            deadlines_alike,
        );
        if may_differ.is_empty() {
            continue;
        }
        let ids = (
            old_rule.map_or(NO_RULE, |r| r.id.as_str()),
            new_rule.map_or(NO_RULE, |r| r.id.as_str()),
        );
        let mut formulas = analysis.validity.clone();
        formulas.push(first_match(&analysis.guards, *i));
        formulas.push(first_match(&new_guards, *j));
        let mut first = None;
        let mut shown = None;
        for cube in cubes {
            let (witness, verdict) =
                analysis.find_witness_judged(&mut engine, cube, |order, at| {
                    match decide_both(old, new, &old_action.name, order, at) {
                        Some((a, b, changes))
                            if a == ids.0 && b == ids.1 && !changes.is_empty() =>
                        {
                            Verdict::Confirmed
                        }
                        _ => Verdict::Inconclusive,
                    }
                });
            if verdict == Verdict::Confirmed {
                shown = witness.map(|w| (cube, w));
                break;
            }
            if first.is_none() {
                first = Some((cube, witness));
            }
        }
        match shown {
            Some((cube, witness)) => {
                let changes = decide_both(old, new, &old_action.name, &witness.order, &witness.at)
                    .map(|(_, _, changes)| changes)
                    .unwrap_or_default();
                result.differences.push(Region {
                    old_rule: ids.0.to_string(),
                    new_rule: ids.1.to_string(),
                    conditions: analysis.describe(cube, &formulas, true),
                    changes,
                    may_differ: Vec::new(),
                    witness: Some(witness),
                });
            }
            None => {
                let (conditions, witness) = match first {
                    Some((cube, witness)) => (analysis.describe(cube, &formulas, true), witness),
                    None => (Vec::new(), None),
                };
                result.unproven.push(Region {
                    old_rule: ids.0.to_string(),
                    new_rule: ids.1.to_string(),
                    conditions,
                    changes: Vec::new(),
                    may_differ,
                    witness,
                });
            }
        }
    }
    result
}

/// The walk: splits until the rule of each version that decides is known; keeps, per pair of rules,
/// the first leaves of its region.
struct Pairs<'f> {
    validity: &'f [Formula],
    old: &'f [Formula],
    new: &'f [Formula],
    found: Vec<(RulePair, Vec<Cube>)>,
}

/// The rule of the old version and of the new that decide (`None`: no rule).
type RulePair = (Option<usize>, Option<usize>);

impl Goal for Pairs<'_> {
    fn status(&mut self, assignment: &[Option<bool>]) -> Status {
        match all_hold(self.validity, assignment) {
            Status::Leaf => {}
            other => return other,
        }
        for guards in [self.old, self.new] {
            if let Some((rule, None)) = super::first_rule(guards, assignment) {
                return match guards[rule].pending_atom(assignment) {
                    Some(atom) => Status::Pending(atom),
                    None => Status::Conflict,
                };
            }
        }
        Status::Leaf
    }

    fn leaf(&mut self, cube: Cube) -> bool {
        let pair = (
            super::first_rule(self.old, &cube.assignment).map(|(rule, _)| rule),
            super::first_rule(self.new, &cube.assignment).map(|(rule, _)| rule),
        );
        match self.found.iter_mut().find(|(p, _)| *p == pair) {
            Some((_, cubes)) if cubes.len() < SAMPLES => cubes.push(cube),
            Some(_) => {}
            None => self.found.push((pair, vec![cube])),
        }
        true
    }
}

/// Rule `rule` decides (no earlier guard holds and its own does); `None`: no rule decides.
fn first_match(guards: &[Formula], rule: Option<usize>) -> Formula {
    let earlier = rule.unwrap_or(guards.len());
    Formula::and(
        guards[..earlier]
            .iter()
            .cloned()
            .map(Formula::not)
            .chain(rule.map(|r| guards[r].clone()))
            .collect(),
    )
}

/// An expression's structure with definitions spelled out: the same text means the same value.
fn written(e: Option<&TExpr>, lets: &[CheckedLet]) -> Option<String> {
    e.map(|e| {
        let mut out = String::new();
        shape(&e.expand(lets), &mut out);
        out
    })
}

/// Deadlines agree on every order: both tables test the same conditions in the same order with the
/// same outcomes (then, on one order, every instant selects rules deciding alike), or no guard of
/// either reads the request time (then no decision has a deadline).
fn deadlines_alike(
    old: &CheckedPolicy,
    old_action: &CheckedAction,
    new: &CheckedPolicy,
    new_action: &CheckedAction,
) -> bool {
    let timeless = |policy: &CheckedPolicy, action: &CheckedAction| {
        action
            .rules
            .iter()
            .filter_map(|r| r.guard.as_ref())
            .all(|g| !g.uses_now(&policy.lets))
    };
    let same_tables = old_action.rules.len() == new_action.rules.len()
        && old_action
            .rules
            .iter()
            .zip(&new_action.rules)
            .all(|(a, b)| {
                a.outcome == b.outcome
                    && written(a.guard.as_ref(), &old.lets) == written(b.guard.as_ref(), &new.lets)
            });
    same_tables || (timeless(old, old_action) && timeless(new, new_action))
}

/// The decision fields two rules (or none) may set differently on the same order.
fn may_differ(
    (old, a): (&CheckedPolicy, Option<&CheckedRule>),
    (new, b): (&CheckedPolicy, Option<&CheckedRule>),
    deadlines_alike: bool,
) -> Vec<&'static str> {
    let outcome = |r: Option<&CheckedRule>| r.map_or(Outcome::Undetermined, |r| r.outcome);
    if outcome(a) != outcome(b) {
        return vec!["outcome"];
    }
    let (Some(a), Some(b)) = (a, b) else {
        return Vec::new();
    };
    if !a.outcome.goes_through() {
        return Vec::new();
    }
    let (x, y) = (&a.attrs, &b.attrs);
    let same =
        |p: Option<&TExpr>, q: Option<&TExpr>| written(p, &old.lets) == written(q, &new.lets);
    let steps = |policy: &CheckedPolicy, rule: &CheckedRule| -> Vec<String> {
        rule.attrs
            .requires
            .iter()
            .filter_map(|s| policy.steps.get(usize::from(*s)).cloned())
            .collect()
    };
    let values_alike = x.values.len() == y.values.len()
        && x.values
            .iter()
            .zip(&y.values)
            .all(|((m, p), (n, q))| m == n && same(Some(p), Some(q)));
    let mut fields = Vec::new();
    for (field, alike) in [
        ("amount", same(x.amount.as_ref(), y.amount.as_ref())),
        (
            "refund_to",
            same(x.refund_to.as_ref(), y.refund_to.as_ref()),
        ),
        ("requires", steps(old, a) == steps(new, b)),
        ("review", same(x.review.as_ref(), y.review.as_ref())),
        (
            "review_by",
            x.review_by_unset == y.review_by_unset
                && same(x.review_by.as_ref(), y.review_by.as_ref()),
        ),
        ("deadline", deadlines_alike),
        (
            "next_status",
            same(x.next_status.as_ref(), y.next_status.as_ref()),
        ),
        ("values", values_alike),
    ] {
        if !alike {
            fields.push(field);
        }
    }
    fields
}

/// Decides an order (as a witness is built) with both versions: the rule of each, and what differs.
fn decide_both(
    old: &Policy,
    new: &Policy,
    action: &str,
    order: &Map<String, Json>,
    at: &str,
) -> Option<(String, String, Vec<Change>)> {
    let json = Json::Object(order.clone());
    let now = parse_time(at).ok()?;
    let a = old
        .decide_as_in_force(action, &old.read_order(&json).ok()?, now)
        .ok()?;
    let b = new
        .decide_as_in_force(action, &new.read_order(&json).ok()?, now)
        .ok()?;
    Some((a.rule.to_string(), b.rule.to_string(), changes(&a, &b)))
}

/// The compared fields two decisions differ in.
pub fn changes(old: &Decision<'_>, new: &Decision<'_>) -> Vec<Change> {
    let (a, b) = (
        serde_json::to_value(old).unwrap_or(Json::Null),
        serde_json::to_value(new).unwrap_or(Json::Null),
    );
    COMPARED
        .into_iter()
        .filter_map(|field| {
            let (x, y) = (
                a.get(field).cloned().unwrap_or(Json::Null),
                b.get(field).cloned().unwrap_or(Json::Null),
            );
            (x != y).then_some(Change {
                field,
                old: x,
                new: y,
            })
        })
        .collect()
}

/// How one real order fares under both versions.
#[derive(Debug)]
pub enum OrderDiff {
    /// Both decide it, alike in every compared field.
    Same,
    /// Both decide it, differently.
    Changed {
        /// The rule of the old version that decides it.
        old_rule: String,
        /// The rule of the new version.
        new_rule: String,
        /// The fields that differ.
        changes: Vec<Change>,
    },
    /// At least one version cannot decide it (an input error, or one found deciding it: a calendar
    /// that does not cover a date, a division by zero): the errors, `None` for a version that decides it.
    Refused {
        /// The old version's error.
        old: Option<OrderError>,
        /// The new version's error.
        new: Option<OrderError>,
    },
}

/// Decides one order, given as JSON text, with both versions (request time: its `requested_at`,
/// else `now`).
pub fn diff_order(old: &Policy, new: &Policy, action: &str, text: &str, now: Instant) -> OrderDiff {
    // Each version decides as if in force: the question is what replacing one by the other changes.
    let a = old
        .read_order_str(text)
        .and_then(|order| old.decide_as_in_force(action, &order, now));
    let b = new
        .read_order_str(text)
        .and_then(|order| new.decide_as_in_force(action, &order, now));
    match (a, b) {
        (Ok(a), Ok(b)) => {
            let changes = changes(&a, &b);
            if changes.is_empty() {
                OrderDiff::Same
            } else {
                OrderDiff::Changed {
                    old_rule: a.rule.to_string(),
                    new_rule: b.rule.to_string(),
                    changes,
                }
            }
        }
        (a, b) => OrderDiff::Refused {
            old: a.err(),
            new: b.err(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
policy versions
  document "doc.txt" "A document"
  zone "Asia/Shanghai"

enum Status { issued, revoked }

field id: string?
field requested_at: timestamp?
field price: money
field status: Status
field issued_at: timestamp
field revoked_at: timestamp?

require revoked_at when status == revoked

action refund {
  default amount = price

  rule issued
    when status == issued
    then conditional
    requires [revoke]
    because "revoke first" cite "row 4"

  rule revoked_within_28_days
    when status == revoked and revoked_at within 28 calendar days after issued_at
    then allowed
    because "revoked in time" cite "row 4"

  rule revoked_late
    when status == revoked
    then denied
    because "revoked late" cite "row 5"
}

steps { revoke }
"#;

    fn load(text: &str) -> Policy {
        Policy::from_source("versions.policy", text, &crate::calendar::Calendars::new())
            .expect("the test policy loads")
    }

    fn compare(new_text: &str) -> Diff {
        diff(&load(BASE), &load(new_text), None).expect("the versions compare")
    }

    /// Every field of the contract's decision is compared or left out on purpose, so that a field
    /// added to the contract has to choose: `order` is the order's own, `policy`, `version`, `action`
    /// name what decides, `rule` and `because` may be renamed and reworded without a change for the
    /// customer, and `holds_until` follows from the windows, whose edge for denial (`deadline`) is
    /// compared.
    #[test]
    fn every_decision_field_is_compared_or_left_out_on_purpose() {
        const LEFT_OUT: [&str; 7] = [
            "order",
            "policy",
            "version",
            "action",
            "rule",
            "because",
            "holds_until",
        ];
        for field in crate::contract::DECISION_FIELDS {
            assert!(
                COMPARED.contains(&field) != LEFT_OUT.contains(&field),
                "`{field}`: compared, or left out with a reason, not both or neither"
            );
        }
        assert!(COMPARED
            .iter()
            .all(|f| crate::contract::DECISION_FIELDS.contains(f)));
    }

    #[test]
    fn a_version_against_itself_is_proved_the_same() {
        assert_eq!(compare(BASE).verdict(), DiffVerdict::Same);
    }

    /// A new constraint refuses orders the old version decided: not "the same", even though every
    /// order both accept is decided alike.
    #[test]
    fn versions_accepting_different_orders_are_not_proved_the_same() {
        let stricter = BASE.replace(
            "require revoked_at when status == revoked\n",
            "require revoked_at when status == revoked\nconstraint price > 1.00 else \"too cheap\"\n",
        );
        let found = compare(&stricter);
        assert_eq!(found.verdict(), DiffVerdict::Unproven);
        assert!(!found.actions[0].accept_alike);
    }

    #[test]
    fn a_renamed_rule_deciding_alike_is_no_change() {
        let renamed = BASE.replace("rule issued\n", "rule issued_first\n");
        assert_eq!(compare(&renamed).verdict(), DiffVerdict::Same);
    }

    #[test]
    fn a_longer_window_is_a_confirmed_difference_in_its_region() {
        let found = compare(&BASE.replace("28 calendar days", "30 calendar days"));
        assert_eq!(found.verdict(), DiffVerdict::Different);
        let [action] = found.actions.as_slice() else {
            panic!("one action")
        };
        assert!(action.complete && action.unproven.is_empty(), "{action:?}");
        let [region] = action.differences.as_slice() else {
            panic!("one region: {action:?}")
        };
        assert_eq!(
            (region.old_rule.as_str(), region.new_rule.as_str()),
            ("revoked_late", "revoked_within_28_days")
        );
        assert!(region.witness.as_ref().is_some_and(|w| w.confirmed));
        let outcome = region.changes.iter().find(|c| c.field == "outcome");
        assert_eq!(
            outcome.map(|c| (c.old.clone(), c.new.clone())),
            Some((Json::from("denied"), Json::from("allowed")))
        );
    }

    #[test]
    fn a_new_amount_is_shown_by_an_order() {
        let found =
            compare(&BASE.replace("default amount = price", "default amount = price - 1.00"));
        assert_eq!(found.verdict(), DiffVerdict::Different);
        let fields: Vec<&str> = found.actions[0]
            .differences
            .iter()
            .flat_map(|r| r.changes.iter().map(|c| c.field))
            .collect();
        assert!(fields.iter().all(|f| *f == "amount"), "{fields:?}");
    }

    #[test]
    fn an_amount_written_differently_but_equal_is_not_claimed_either_way() {
        let found =
            compare(&BASE.replace("default amount = price", "default amount = price + 0.00"));
        assert_eq!(found.verdict(), DiffVerdict::Unproven);
        assert!(found.actions[0]
            .unproven
            .iter()
            .all(|r| r.may_differ == ["amount"]));
    }

    #[test]
    fn versions_whose_orders_differ_are_not_compared() {
        let more = BASE.replace(
            "field price: money\n",
            "field price: money\nfield note: string?\n",
        );
        let error = diff(&load(BASE), &load(&more), None).expect_err("incomparable");
        assert!(error.0.contains("fields differ"), "{error}");
        let error = diff(&load(BASE), &load(BASE), Some("cancel")).expect_err("no such action");
        assert!(error.0.contains("no action `cancel`"), "{error}");
    }
}
