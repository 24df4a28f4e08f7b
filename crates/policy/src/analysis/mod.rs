//! Static analysis of each action's rule table: gaps (inputs no rule decides), dead rules (always
//! pre-empted), overlaps under `unique` matching, enum values no rule mentions, and declared gaps.
//!
//! Guards become Boolean formulas over atoms (`logic`): presence of optionals, booleans, enum sets, and
//! comparisons that are linear in the times, dates, counts and amounts of the order, in the units the
//! order carries them in (nanoseconds, day numbers, 10^-28 of money), with the zone's days as the
//! interpreter sees them (`zone_model`). What the model does not express is an opaque atom, free to be
//! either way. So the model holds every valid order (and maybe more): a region it finds empty is empty.
//!
//! One walk over the table (`search`) splits on the atoms rule by rule, as the interpreter tries the
//! rules: each leaf is decided by a rule, or by none (a gap). What the walk claims:
//!
//! - a **gap** only with an order, on real days of the zone, that the interpreter decides with no rule;
//!   a region the model finds but no order confirms is reported as **incomplete** ("could not prove");
//! - a **dead rule** when no leaf reaches it (a proof over the model, which holds every valid order);
//!   an order the rule matches, decided by an earlier rule, is attached when one is found, and if the
//!   interpreter ever decides such an order with the dead rule itself, the claim is withdrawn as
//!   incomplete;
//! - an **overlap** only with an order both guards match;
//! - **incomplete** too when the work budget (`search::BUDGET`, counted in steps, not time) runs out:
//!   then nothing else is claimed complete.

mod coverage;
pub mod diff;
mod linear;
mod logic;
mod search;
mod zone_model;

use std::sync::Arc;

pub use coverage::{calendar_coverage, DEFAULT_HORIZON_DAYS};

use chrono::NaiveDate;
use serde_json::{Map, Value as Json};

use crate::check::typed::Slot;
use crate::check::CheckedAction;
use crate::diagnostics::Diagnostic;
use crate::eval::{Outcome, Policy, NO_RULE};
use crate::value::{Type, Value};
use linear::{bound_of, Bound, Inequality};
use logic::{
    absent_fields, money_decimal, money_units, variants_mask, AtomKind, DayStart, Formula, Lin,
    Model, Owner, Var, MONEY_SCALE,
};
use search::{Budget, Cube, Engine, Goal, Satisfy, Status, BUDGET};
use zone_model::{ZoneModel, DAY, NANOS};

/// How many gaps of one action are reported with their own witness.
const MAX_GAPS: usize = 6;
/// How many orders are tried for one region before giving up on confirming it.
const MAX_TRIES: usize = 64;

/// What kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// Valid orders no rule decides (`policy::analysis::gap`).
    Gap,
    /// A rule no order reaches: earlier rules decide every order it matches.
    DeadRule,
    /// Two rules of a `unique` action match one order.
    Overlap,
    /// An enum value no guard of the action mentions.
    UnmentionedValue,
    /// A gap the policy declares on purpose (a note).
    DeclaredGap,
    /// The analysis could not prove something: a region it could not confirm, or a budget spent.
    Incomplete,
}

/// A concrete order and request time that shows a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    /// The order's fields, as JSON.
    pub order: Map<String, Json>,
    /// The request time, RFC 3339.
    pub at: String,
    /// The interpreter, run on the witness, reached the situation claimed.
    pub confirmed: bool,
}

/// One claim about an action's rule table, with the order that shows it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// What is claimed.
    pub kind: FindingKind,
    /// The action whose table it concerns.
    pub action: String,
    /// The rules concerned (the dead rule and those pre-empting it; the overlapping pair).
    pub rules: Vec<String>,
    /// The region, in the policy's own terms.
    pub conditions: Vec<String>,
    /// For a gap or an overlap, an order in it; for a dead rule, an order it matches that an earlier
    /// rule decides.
    pub witness: Option<Witness>,
    /// The finding as `policy check` reports it.
    pub diagnostic: Diagnostic,
}

/// Analyses every action of a policy.
pub fn analyze(policy: &Policy) -> Vec<Finding> {
    let checked = policy.checked();
    let zone = ZoneModel::of(checked.zone);
    let mut findings = Vec::new();
    for action in &checked.actions {
        let analysis = ActionAnalysis::new(policy, action, &zone);
        analysis.run(&mut findings);
    }
    findings
}

/// What the interpreter says of a witness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Confirmed,
    /// The opposite of the claim (a rule the analysis calls dead decides the order).
    Refuted,
    /// The order is not in the region after all, or cannot be read.
    Inconclusive,
}

struct ActionAnalysis<'a> {
    policy: &'a Policy,
    action: &'a CheckedAction,
    model: Model<'a>,
    validity: Vec<Formula>,
    guards: Vec<Formula>,
    /// Atoms below this index come from guards; the rest only from input constraints, which regions
    /// do not repeat.
    guard_atoms: usize,
    preferred: Vec<i128>,
    budget: Budget,
}

/// The walk over a table: which rules some leaf reaches, and the first gaps.
struct Table<'f> {
    validity: &'f [Formula],
    guards: &'f [Formula],
    reached: Vec<bool>,
    gaps: Vec<Cube>,
    max_gaps: usize,
}

impl Table<'_> {
    /// The first rule whose guard is not false, and whether it is true.
    fn first_rule(&self, assignment: &[Option<bool>]) -> Option<(usize, Option<bool>)> {
        first_rule(self.guards, assignment)
    }
}

/// The first rule whose guard is not false, and whether it is true.
fn first_rule(guards: &[Formula], assignment: &[Option<bool>]) -> Option<(usize, Option<bool>)> {
    guards
        .iter()
        .enumerate()
        .find_map(|(i, g)| match g.eval(assignment) {
            Some(false) => None,
            value => Some((i, value)),
        })
}

impl Goal for Table<'_> {
    fn status(&mut self, assignment: &[Option<bool>]) -> Status {
        match search::all_hold(self.validity, assignment) {
            Status::Leaf => {}
            other => return other,
        }
        let gaps_full = self.gaps.len() >= self.max_gaps;
        let Some((first, value)) = self.first_rule(assignment) else {
            // A gap.
            return if gaps_full {
                Status::Conflict
            } else {
                Status::Leaf
            };
        };
        if value == Some(true) {
            return if self.reached[first] {
                Status::Conflict
            } else {
                Status::Leaf
            };
        }
        // Nothing left to learn below: every rule that may decide here is known to be reachable, and
        // no gap is wanted or possible.
        let mut candidate = false;
        let mut covered = false;
        for (j, guard) in self.guards.iter().enumerate().skip(first) {
            match guard.eval(assignment) {
                Some(false) => {}
                Some(true) => {
                    candidate |= !self.reached[j];
                    covered = true;
                    break;
                }
                None => {
                    if !self.reached[j] {
                        candidate = true;
                        break;
                    }
                }
            }
        }
        if !candidate && (gaps_full || covered) {
            return Status::Conflict;
        }
        match self.guards[first].pending_atom(assignment) {
            Some(atom) => Status::Pending(atom),
            None => Status::Conflict,
        }
    }

    fn leaf(&mut self, cube: Cube) -> bool {
        match self.first_rule(&cube.assignment) {
            Some((rule, _)) => self.reached[rule] = true,
            None => self.gaps.push(cube),
        }
        !(self.gaps.len() >= self.max_gaps && self.reached.iter().all(|r| *r))
    }
}

impl<'a> ActionAnalysis<'a> {
    fn new(policy: &'a Policy, action: &'a CheckedAction, zone: &'a Arc<ZoneModel>) -> Self {
        let checked = policy.checked();
        let mut model = Model::new(checked, &policy.source().text, zone);
        let guards = guard_formulas(&mut model, checked, action);
        let guard_atoms = model.atoms.len();
        let validity = validity_formulas(&mut model, checked, action);
        Self::finished(policy, action, model, validity, guards, guard_atoms)
    }

    /// The analysis over a model whose formulas are all built.
    fn finished(
        policy: &'a Policy,
        action: &'a CheckedAction,
        mut model: Model<'a>,
        validity: Vec<Formula>,
        guards: Vec<Formula>,
        guard_atoms: usize,
    ) -> Self {
        model.finish();
        let preferred = preferred(&model);
        ActionAnalysis {
            policy,
            action,
            model,
            validity,
            guards,
            guard_atoms,
            preferred,
            budget: Budget::new(BUDGET),
        }
    }

    fn engine(&self) -> Engine<'_, 'a> {
        Engine::new(&self.model, &self.preferred, &self.budget)
    }

    fn search(&self, engine: &mut Engine<'_, 'a>, formulas: &[Formula], max: usize) -> Vec<Cube> {
        let mut goal = Satisfy::new(formulas, max);
        engine.run(&mut goal);
        goal.cubes
    }

    fn run(&self, findings: &mut Vec<Finding>) {
        let action = self.action;
        let span = action.span;
        let mut engine = self.engine();

        // One walk over the table: the rules some order reaches, and the first gaps.
        let mut table = Table {
            validity: &self.validity,
            guards: &self.guards,
            reached: vec![false; action.rules.len()],
            gaps: Vec::new(),
            max_gaps: MAX_GAPS + 1,
        };
        engine.run(&mut table);
        let complete = !engine.exhausted;
        let uncovered: Vec<Formula> = self
            .validity
            .iter()
            .cloned()
            .chain(self.guards.iter().cloned().map(Formula::not))
            .collect();

        for (n, cube) in table.gaps.iter().enumerate() {
            let (witness, verdict) =
                self.find_witness(&mut engine, cube, |decided, _| match decided {
                    Some(rule) if rule == NO_RULE => Verdict::Confirmed,
                    _ => Verdict::Inconclusive,
                });
            let confirmed = verdict == Verdict::Confirmed;
            if n == MAX_GAPS {
                let (kind, code, message) = if confirmed {
                    (
                        FindingKind::Gap,
                        "policy::analysis::gap",
                        format!(
                            "action `{}` has more gaps than the {MAX_GAPS} shown",
                            action.name
                        ),
                    )
                } else {
                    (
                        FindingKind::Incomplete,
                        "policy::analysis::incomplete",
                        format!(
                            "action `{}` may have more gaps than the {MAX_GAPS} shown",
                            action.name
                        ),
                    )
                };
                findings.push(Finding {
                    kind,
                    action: action.name.clone(),
                    rules: Vec::new(),
                    conditions: Vec::new(),
                    witness: None,
                    diagnostic: Diagnostic::warning(code, message, span),
                });
                break;
            }
            let conditions = self.describe(cube, &uncovered, true);
            if confirmed {
                let d = Diagnostic::warning(
                    "policy::analysis::gap",
                    format!(
                        "no rule of action `{}` decides orders where {}",
                        action.name,
                        conditions.join(" and ")
                    ),
                    span,
                )
                .with_label("this table has a gap")
                .with_help(format!(
                    "{}\nadd a rule for this case; if the source leaves it open on purpose, say so with a rule \
                     `then undetermined` that cites the source",
                    witness_text(&witness, "reaches no rule")
                ));
                findings.push(Finding {
                    kind: FindingKind::Gap,
                    action: action.name.clone(),
                    rules: Vec::new(),
                    conditions,
                    witness,
                    diagnostic: d,
                });
            } else {
                let d = Diagnostic::warning(
                    "policy::analysis::incomplete",
                    format!(
                        "could not prove that a rule of action `{}` decides orders where {}",
                        action.name,
                        conditions.join(" and ")
                    ),
                    span,
                )
                .with_label("maybe a gap")
                .with_help(format!(
                    "{}\nthe analysis approximates a condition here and found no order that reaches no rule; \
                     check these orders by hand, or add a rule for them",
                    witness_text(&witness, "reaches no rule")
                ));
                findings.push(Finding {
                    kind: FindingKind::Incomplete,
                    action: action.name.clone(),
                    rules: Vec::new(),
                    conditions,
                    witness,
                    diagnostic: d,
                });
            }
        }

        // Dead rules: no leaf of a complete walk reaches them.
        if complete {
            for k in 0..action.rules.len() {
                if table.reached[k] {
                    continue;
                }
                self.dead_rule(&mut engine, k, findings);
            }
        }

        // Overlaps, when the action asks that at most one rule match: first whether any earlier rule
        // shares an order with rule `j`, then which.
        if action.unique {
            'pairs: for j in 1..action.rules.len() {
                let mut any = self.validity.clone();
                any.push(self.guards[j].clone());
                any.push(Formula::or(self.guards[..j].to_vec()));
                if self.search(&mut engine, &any, 1).is_empty() {
                    if engine.exhausted {
                        break;
                    }
                    continue;
                }
                for i in 0..j {
                    if engine.exhausted {
                        break 'pairs;
                    }
                    let mut both = self.validity.clone();
                    both.push(self.guards[i].clone());
                    both.push(self.guards[j].clone());
                    let cubes = self.search(&mut engine, &both, 1);
                    let Some(cube) = cubes.first() else {
                        continue;
                    };
                    self.overlap(&mut engine, cube, &both, i, j, findings);
                }
            }
        }

        self.unmentioned_values(findings);

        for rule in action
            .rules
            .iter()
            .filter(|r| r.outcome == Outcome::Undetermined)
        {
            findings.push(Finding {
                kind: FindingKind::DeclaredGap,
                action: action.name.clone(),
                rules: vec![rule.id.clone()],
                conditions: Vec::new(),
                witness: None,
                diagnostic: Diagnostic::note(
                    "policy::analysis::declared_gap",
                    format!(
                        "rule `{}` leaves these orders undetermined: the source does not decide them",
                        rule.id
                    ),
                    rule.id_span,
                )
                .with_label("declared gap"),
            });
        }

        if engine.exhausted || self.budget.exhausted() {
            findings.push(Finding {
                kind: FindingKind::Incomplete,
                action: action.name.clone(),
                rules: Vec::new(),
                conditions: Vec::new(),
                witness: None,
                diagnostic: Diagnostic::warning(
                    "policy::analysis::incomplete",
                    format!(
                        "could not finish the analysis of action `{}` within its budget of {} steps: gaps, \
                         dead rules and overlaps beyond those reported are not ruled out",
                        action.name,
                        self.budget.limit()
                    ),
                    span,
                )
                .with_label("analysis incomplete")
                .with_help(
                    "the budget counts search steps, so every run stops at the same place; split the action \
                     into smaller tables, or write its conditions more simply",
                ),
            });
        }
    }

    /// Reports rule `k`, which no leaf of a complete walk reaches.
    fn dead_rule(&self, engine: &mut Engine<'_, 'a>, k: usize, findings: &mut Vec<Finding>) {
        let action = self.action;
        let rule = &action.rules[k];
        // An order the rule matches: an earlier rule must decide it.
        let mut matching = self.validity.clone();
        matching.push(self.guards[k].clone());
        let samples = self.search(engine, &matching, 2);
        let mut witness = None;
        for cube in &samples {
            let (found, verdict) =
                self.find_witness(engine, cube, |decided, holds| match (holds(k), decided) {
                    (Some(true), Some(d)) if d == rule.id => Verdict::Refuted,
                    (Some(true), Some(d)) if d != NO_RULE => Verdict::Confirmed,
                    _ => Verdict::Inconclusive,
                });
            match verdict {
                Verdict::Refuted => {
                    findings.push(Finding {
                        kind: FindingKind::Incomplete,
                        action: action.name.clone(),
                        rules: vec![rule.id.clone()],
                        conditions: Vec::new(),
                        witness: found.clone(),
                        diagnostic: Diagnostic::warning(
                            "policy::analysis::incomplete",
                            format!("could not prove whether rule `{}` can decide an order", rule.id),
                            rule.id_span,
                        )
                        .with_label("maybe unreachable")
                        .with_help(format!(
                            "the analysis finds no order for it, but the interpreter decides {} with it",
                            witness_text(&found, "decided by this rule")
                        )),
                    });
                    return;
                }
                Verdict::Confirmed if witness.is_none() => witness = found,
                _ => {}
            }
        }
        // Name the first earlier rule that covers it alone, if any does; else those that share its orders
        // between them. A rule that matches no valid order has none.
        let matches_some = !samples.is_empty();
        let covering_alone = (0..k).filter(|_| matches_some).find(|&i| {
            let mut escapes = self.validity.clone();
            escapes.push(self.guards[k].clone());
            escapes.push(self.guards[i].clone().not());
            let found = self.search(engine, &escapes, 1);
            found.is_empty() && !engine.exhausted
        });
        let named: Vec<usize> = match covering_alone {
            Some(i) => vec![i],
            None if matches_some => (0..k)
                .filter(|&i| {
                    let mut both = self.validity.clone();
                    both.push(self.guards[i].clone());
                    both.push(self.guards[k].clone());
                    !self.search(engine, &both, 1).is_empty()
                })
                .collect(),
            None => Vec::new(),
        };
        let quoted = |rules: &[usize]| {
            rules
                .iter()
                .map(|&i| format!("`{}`", action.rules[i].id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (message, help) = match (covering_alone, named.as_slice()) {
            _ if engine.exhausted => (
                format!("rule `{}` can never decide", rule.id),
                "the analysis ran out of its budget before it could name the rules that pre-empt it: remove \
                 the rule, or move it before the rules that do",
            ),
            (_, []) => (
                format!("rule `{}` can never match a valid order", rule.id),
                "its condition contradicts itself, or the policy's `require` and `constraint` lines: correct \
                 its `when`, or remove the rule",
            ),
            (Some(_), _) => (
                format!(
                    "rule `{}` can never decide: {} always matches first",
                    rule.id,
                    quoted(&named)
                ),
                "remove the rule, or move it before the rule that pre-empts it",
            ),
            (None, _) => (
                format!(
                    "rule `{}` can never decide: between them, {} match every order it would",
                    rule.id,
                    quoted(&named)
                ),
                "remove the rule, or move it before the rules that pre-empt it",
            ),
        };
        let mut d = Diagnostic::warning("policy::analysis::dead_rule", message, rule.id_span)
            .with_label("unreachable")
            .with_help(help);
        for &i in &named {
            d = d.with_related(action.rules[i].id_span, "matches first");
        }
        let pre_empting: Vec<String> = named.iter().map(|&i| action.rules[i].id.clone()).collect();
        findings.push(Finding {
            kind: FindingKind::DeadRule,
            action: action.name.clone(),
            rules: std::iter::once(rule.id.clone())
                .chain(pre_empting)
                .collect(),
            conditions: Vec::new(),
            witness,
            diagnostic: d,
        });
    }

    fn overlap(
        &self,
        engine: &mut Engine<'_, 'a>,
        cube: &Cube,
        formulas: &[Formula],
        i: usize,
        j: usize,
        findings: &mut Vec<Finding>,
    ) {
        let action = self.action;
        let (first, second) = (&action.rules[i], &action.rules[j]);
        let (witness, verdict) =
            self.find_witness(engine, cube, |_, holds| match (holds(i), holds(j)) {
                (Some(true), Some(true)) => Verdict::Confirmed,
                _ => Verdict::Inconclusive,
            });
        let conditions = self.describe(cube, formulas, false);
        let (kind, d) = if verdict == Verdict::Confirmed {
            (
                FindingKind::Overlap,
                Diagnostic::error(
                    "policy::analysis::overlap",
                    format!(
                        "rules `{}` and `{}` both match orders where {} (the action is `unique`)",
                        first.id,
                        second.id,
                        conditions.join(" and ")
                    ),
                    second.id_span,
                )
                .with_label("overlaps")
                .with_related(first.id_span, "also matches")
                .with_help(format!(
                    "{}\nnarrow one of the guards so that they exclude each other",
                    witness_text(&witness, "matches both")
                )),
            )
        } else {
            (
                FindingKind::Incomplete,
                Diagnostic::warning(
                    "policy::analysis::incomplete",
                    format!(
                        "could not prove that rules `{}` and `{}` never both match (the action is `unique`): \
                         maybe where {}",
                        first.id,
                        second.id,
                        conditions.join(" and ")
                    ),
                    second.id_span,
                )
                .with_label("maybe overlaps")
                .with_related(first.id_span, "maybe also matches")
                .with_help(format!(
                    "{}\nthe analysis approximates a condition here and found no order both match",
                    witness_text(&witness, "matches both")
                )),
            )
        };
        findings.push(Finding {
            kind,
            action: action.name.clone(),
            rules: vec![first.id.clone(), second.id.clone()],
            conditions,
            witness,
            diagnostic: d,
        });
    }

    /// Enum values that no guard mentions, for enum fields the action reads, when no rule catches
    /// them without looking at the field.
    fn unmentioned_values(&self, findings: &mut Vec<Finding>) {
        let checked = self.policy.checked();
        for (slot, field) in checked.fields.iter().enumerate() {
            let Type::Enum(id) = field.ty else { continue };
            let slot = slot as Slot;
            // `status != expired` covers every other status: a value counts as mentioned when some
            // guard can test it true, whichever way the test is written.
            let mut mentioned = 0u64;
            for guard in &self.guards {
                self.enum_mentions(guard, true, slot, &mut mentioned);
            }
            mentioned &= variants_mask(checked, slot);
            if mentioned == 0 {
                continue;
            }
            let catch_all = self.action.rules.iter().any(|r| {
                r.guard
                    .as_ref()
                    .is_none_or(|g| g.fields_read(&checked.lets) & (1 << slot) == 0)
            });
            if catch_all {
                continue;
            }
            let missing: Vec<&str> = checked.enums[id as usize]
                .variants
                .iter()
                .enumerate()
                .filter(|(i, _)| mentioned & (1 << i) == 0)
                .map(|(_, v)| v.as_str())
                .collect();
            if missing.is_empty() {
                continue;
            }
            findings.push(Finding {
                kind: FindingKind::UnmentionedValue,
                action: self.action.name.clone(),
                rules: Vec::new(),
                conditions: missing.iter().map(|v| format!("{} == {v}", field.name)).collect(),
                witness: None,
                diagnostic: Diagnostic::warning(
                    "policy::analysis::unmentioned_value",
                    format!(
                        "no rule of action `{}` mentions {} {}, and no rule catches every `{}`",
                        self.action.name,
                        field.name,
                        missing.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "),
                        field.name
                    ),
                    self.action.span,
                )
                .with_label("some values are not handled")
                .with_help("decide what happens to them in a rule, or end the action with a rule without `when`"),
            });
        }
    }

    fn enum_mentions(&self, formula: &Formula, positive: bool, slot: Slot, mentioned: &mut u64) {
        match formula {
            Formula::Atom(i) => {
                if let AtomKind::Enum { slot: s, mask } = self.model.atoms[*i].kind {
                    if s == slot {
                        *mentioned |= if positive { mask } else { !mask };
                    }
                }
            }
            Formula::Not(inner) => self.enum_mentions(inner, !positive, slot, mentioned),
            Formula::And(parts) | Formula::Or(parts) => {
                for part in parts {
                    self.enum_mentions(part, positive, slot, mentioned);
                }
            }
            Formula::Const(_) => {}
        }
    }

    /// A value for a string field: the literal the cube makes it equal, or one that differs from
    /// every literal the cube rules out.
    fn witness_string(&self, cube: &Cube, slot: Slot, default: Option<&Value>) -> String {
        let mut excluded: Vec<&str> = Vec::new();
        for (atom, value) in self.model.atoms.iter().zip(&cube.assignment) {
            if let (AtomKind::StrEq { slot: s, literal }, Some(value)) = (&atom.kind, value) {
                if *s == slot {
                    if *value {
                        return literal.clone();
                    }
                    excluded.push(literal);
                }
            }
        }
        // An order's currency must be an ISO 4217 code: a witness that could not be read would not
        // confirm anything.
        let is_currency = self
            .policy
            .checked()
            .fields
            .get(usize::from(slot))
            .is_some_and(|f| f.name == crate::contract::CURRENCY_FIELD);
        if is_currency {
            if let Some(code) = crate::contract::WITNESS_CURRENCIES
                .into_iter()
                .find(|code| !excluded.contains(code))
            {
                return code.to_string();
            }
        }
        let mut candidate = match default {
            Some(Value::Str(s)) => s.to_string(),
            _ => "other".to_string(),
        };
        while excluded.contains(&candidate.as_str()) {
            candidate.push_str("-other");
        }
        candidate
    }

    /// The atoms a case split over `formulas`, formula by formula, would have assigned to reach the
    /// cube: the conditions that define its region.
    fn defining_atoms(&self, cube: &Cube, formulas: &[Formula]) -> Vec<bool> {
        let mut partial: Vec<Option<bool>> = vec![None; cube.assignment.len()];
        for f in formulas {
            while f.eval(&partial).is_none() {
                let Some(atom) = f.pending_atom(&partial) else {
                    break;
                };
                let Some(value) = cube.assignment[atom] else {
                    break;
                };
                partial[atom] = Some(value);
            }
        }
        partial.iter().map(Option::is_some).collect()
    }

    /// The region of a cube in the policy's own words: the atoms that define it, enum conditions
    /// merged per field, and (for gaps, whose regions cross many guards) of several bounds on one quantity
    /// only the tightest.
    fn describe(&self, cube: &Cube, formulas: &[Formula], tightest_only: bool) -> Vec<String> {
        let checked = self.policy.checked();
        let absent = absent_fields(&self.model, &cube.assignment);
        let defining = self.defining_atoms(cube, formulas);
        let mut enum_masks: Vec<(Slot, u64)> = Vec::new();
        let mut parts: Vec<(usize, String)> = Vec::new();
        // Per form and direction: the tightest bound and the atom that sets it.
        let mut tightest: Vec<(Bound, usize)> = Vec::new();
        let guard_atoms = self
            .model
            .atoms
            .iter()
            .zip(&cube.assignment)
            .enumerate()
            .take(self.guard_atoms);
        for (i, (atom, value)) in guard_atoms {
            let Some(value) = value else { continue };
            if !defining[i] || atom.reads & absent != 0 {
                continue;
            }
            match &atom.kind {
                AtomKind::Enum { slot, mask } => {
                    narrow(&mut enum_masks, *slot, if *value { *mask } else { !*mask });
                }
                kind => {
                    if let AtomKind::Linear(row) = kind {
                        let row = if *value {
                            Some(row.clone())
                        } else {
                            row.negated()
                        };
                        if let Some(bound) = row.as_ref().and_then(bound_of) {
                            match tightest
                                .iter_mut()
                                .find(|(b, _)| b.form == bound.form && b.upper == bound.upper)
                            {
                                Some((best, at)) => {
                                    let tighter = if bound.upper {
                                        bound.value < best.value
                                    } else {
                                        bound.value > best.value
                                    };
                                    if tighter {
                                        *best = bound;
                                        *at = i;
                                    }
                                }
                                None => tightest.push((bound, i)),
                            }
                        }
                    }
                    parts.push((
                        i,
                        if *value {
                            atom.text.clone()
                        } else {
                            atom.negated_text.clone()
                        },
                    ));
                }
            }
        }
        let redundant = |i: usize| {
            tightest_only
                && matches!(self.model.atoms[i].kind, AtomKind::Linear(_))
                && !tightest.iter().any(|(_, at)| *at == i)
        };
        let mut described: Vec<String> = enum_masks
            .into_iter()
            .map(|(slot, mask)| {
                let field = &checked.fields[slot as usize];
                let Type::Enum(id) = field.ty else {
                    return String::new();
                };
                let mask = mask & variants_mask(checked, slot);
                let values: Vec<&str> = checked.enums[id as usize]
                    .variants
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, v)| v.as_str())
                    .collect();
                match values.as_slice() {
                    [one] => format!("{} == {one}", field.name),
                    many => format!("{} in {{{}}}", field.name, many.join(", ")),
                }
            })
            .collect();
        described.extend(
            parts
                .into_iter()
                .filter(|(i, _)| !redundant(*i))
                .map(|(_, text)| text),
        );
        described
    }

    /// An order in the cube's region that the interpreter confirms (`check` is given the rule that
    /// decides the order, or `None` if it is refused, and a test of the action's guards on it); else the
    /// first order tried, unconfirmed. Orders are tried at the solver's values, on real days of the
    /// zone, and with the request time and each field's date moved (for conditions the model leaves
    /// open).
    fn find_witness(
        &self,
        engine: &mut Engine<'_, 'a>,
        cube: &Cube,
        check: impl Fn(Option<&str>, &dyn Fn(usize) -> Option<bool>) -> Verdict,
    ) -> (Option<Witness>, Verdict) {
        self.find_witness_judged(engine, cube, |order, at| self.judge(order, at, &check))
    }

    /// As `find_witness`, with the orders judged by `judge` (given the order and its request time).
    fn find_witness_judged(
        &self,
        engine: &mut Engine<'_, 'a>,
        cube: &Cube,
        judge: impl Fn(&Map<String, Json>, &str) -> Verdict,
    ) -> (Option<Witness>, Verdict) {
        let mut first: Option<Witness> = None;
        let mut tries = 0;
        for (n, Variant { preferred, shifts }) in self.variants().into_iter().enumerate() {
            let values = if n == 0 {
                cube.values.clone()
            } else {
                engine.resolve(cube, &[], Some(&preferred))
            };
            let Some(values) = values else { continue };
            for how in self.realizations(&values) {
                // Bounded by itself, so that a region found before the budget ran out is still confirmed.
                if tries >= MAX_TRIES {
                    return (first, Verdict::Inconclusive);
                }
                tries += 1;
                let Some(real) = self.on_real_days(engine, cube, &values, how, &preferred) else {
                    continue;
                };
                let Some((order, at)) = self.build_witness(cube, &real, &shifts) else {
                    continue;
                };
                let verdict = judge(&order, &at);
                let witness = Witness {
                    order,
                    at,
                    confirmed: verdict == Verdict::Confirmed,
                };
                if verdict != Verdict::Inconclusive {
                    return (Some(witness), verdict);
                }
                first.get_or_insert(witness);
            }
        }
        (first, Verdict::Inconclusive)
    }

    /// Runs the interpreter on a witness.
    fn judge(
        &self,
        order: &Map<String, Json>,
        at: &str,
        check: &impl Fn(Option<&str>, &dyn Fn(usize) -> Option<bool>) -> Verdict,
    ) -> Verdict {
        let Ok(parsed) = self.policy.read_order(&Json::Object(order.clone())) else {
            return Verdict::Inconclusive;
        };
        let Ok(now) = crate::eval::parse_time(at) else {
            return Verdict::Inconclusive;
        };
        let holds = |rule: usize| -> Option<bool> {
            crate::eval::guard_holds(self.policy, self.action.rules.get(rule)?, &parsed, now)
        };
        let decided = self
            .policy
            // As if in force: a version starting after the analysis's orders still has its table.
            .decide_as_in_force(&self.action.name, &parsed, now)
            .ok()
            .map(|d| d.rule.to_string());
        check(decided.as_deref(), &holds)
    }

    /// Preferred values to try, with the days each owner's default instant moves by.
    fn variants(&self) -> Vec<Variant> {
        let mut variants = vec![Variant {
            preferred: self.preferred.clone(),
            shifts: Vec::new(),
        }];
        let checked = self.policy.checked();
        let mut owners: Vec<Owner> = checked
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                matches!(f.ty, Type::Timestamp | Type::Date) && f.name != "requested_at"
            })
            .map(|(slot, _)| Owner::Field(slot as Slot))
            .collect();
        owners.push(Owner::Now);
        // 45 days: between one and two calendar months later, whatever the month (opaque in the model).
        for days in [1, 8, 31, -1, -8, 366, 45] {
            for &owner in &owners {
                let mut preferred = self.preferred.clone();
                for (i, var) in self.model.vars.iter().enumerate() {
                    match var {
                        Var::Instant(o) if *o == owner => preferred[i] += days * DAY,
                        Var::Date(o) if *o == owner => preferred[i] += days,
                        _ => {}
                    }
                }
                variants.push(Variant {
                    preferred,
                    shifts: vec![(owner, days)],
                });
            }
        }
        variants.truncate(24);
        variants
    }

    /// Ways to put the solver's values on real days of the zone: as they are, on days like those
    /// around the base date (every day starting at the offset in force there), then moved onto the
    /// zone's irregular days nearest them.
    fn realizations(&self, values: &[i128]) -> Vec<Realization> {
        let zone = self.model.zone;
        if zone.fixed().is_some() || self.model.day_starts.is_empty() {
            return vec![Realization::AsIs];
        }
        let mut attempts = vec![Realization::AsIs, Realization::Plain];
        let days: Vec<i128> = self
            .model
            .day_starts
            .iter()
            .filter_map(|s| s.day.value(values))
            .collect();
        let Some(&anchor) = days.first() else {
            return attempts;
        };
        let mut special: Vec<i128> = zone.special_days.iter().map(|d| i128::from(*d)).collect();
        special.sort_by_key(|d| (d - anchor).abs());
        let mut shifts: Vec<i128> = Vec::new();
        for s in special.into_iter().take(16) {
            for d in &days {
                for offset in [0, -1, 1] {
                    let Some(shift) = (s + offset).checked_sub(*d) else {
                        continue;
                    };
                    if !shifts.contains(&shift) {
                        shifts.push(shift);
                    }
                }
            }
        }
        attempts.extend(shifts.into_iter().map(Realization::Shift));
        attempts
    }

    /// The cube's values on real days of the zone (see `realizations`): `None` if the region holds no
    /// such values.
    fn on_real_days(
        &self,
        engine: &mut Engine<'_, 'a>,
        cube: &Cube,
        values: &[i128],
        how: Realization,
        preferred: &[i128],
    ) -> Option<Vec<i128>> {
        let model = &self.model;
        let real = |values: &[i128]| -> bool {
            model.day_starts.iter().all(|s| {
                s.day
                    .value(values)
                    .and_then(|d| day_start(model, s, d))
                    .is_some_and(|start| start == values[s.var])
            })
        };
        let pin = |rows: &mut Vec<Inequality>, lin: Lin| {
            rows.push(lin.clone().inequality());
            if let Some(negated) = lin.scaled(-1) {
                rows.push(negated.inequality());
            }
        };
        let mut rows = Vec::new();
        let mut moved_preferred = preferred.to_vec();
        match how {
            Realization::AsIs => return real(values).then(|| values.to_vec()),
            Realization::Plain => {
                // S(d) = d·DAY - e, with e the offset in force at the base date.
                let (base_day, _) = base(model.zone);
                let start = model.zone.start_of_day(base_day)?;
                let e = base_day * DAY - start;
                for s in &model.day_starts {
                    let lin = match s.first {
                        None => Lin::variable(s.var)
                            .plus(s.day.clone().scaled(DAY)?, -1)?
                            .plus(Lin::constant(e), 1)?,
                        Some(first) => Lin::variable(s.var)
                            .plus(Lin::variable(model.day_starts[first].var), -1)?,
                    };
                    pin(&mut rows, lin);
                }
            }
            Realization::Shift(shift) => {
                let mut moved = values.to_vec();
                for (i, var) in model.vars.iter().enumerate() {
                    match var {
                        Var::Date(_) => moved[i] = moved[i].checked_add(shift)?,
                        Var::Instant(_) => {
                            moved_preferred[i] =
                                moved_preferred[i].checked_add(shift.checked_mul(DAY)?)?;
                        }
                        _ => {}
                    }
                }
                for (i, var) in model.vars.iter().enumerate() {
                    if let Var::Date(_) = var {
                        pin(
                            &mut rows,
                            Lin::variable(i).plus(Lin::constant(moved[i]), -1)?,
                        );
                    }
                }
                for s in &model.day_starts {
                    let start = day_start(model, s, s.day.value(&moved)?)?;
                    pin(
                        &mut rows,
                        Lin::variable(s.var).plus(Lin::constant(start), -1)?,
                    );
                }
            }
        }
        let found = engine.resolve(cube, &rows, Some(&moved_preferred))?;
        real(&found).then_some(found)
    }

    fn build_witness(
        &self,
        cube: &Cube,
        values: &[i128],
        shifts: &[(Owner, i128)],
    ) -> Option<(Map<String, Json>, String)> {
        let checked = self.policy.checked();
        let zone = self.model.zone;
        let absent = absent_fields(&self.model, &cube.assignment);
        let value_of = |var: Var| -> Option<i128> { self.model.var_of(var).map(|i| values[i]) };
        let shift_of = |owner: Owner| -> i128 {
            shifts
                .iter()
                .find(|(o, _)| *o == owner)
                .map_or(0, |(_, d)| *d)
        };
        let (base_day, base_instant) = base(zone);
        let instant = |owner: Owner| -> Option<i128> {
            if let Some(t) = value_of(Var::Instant(owner)) {
                return Some(t);
            }
            if let Some(day) = value_of(Var::Date(owner)) {
                // Well inside the day: 10:00 on a day of 24 hours.
                let start = zone.first_of_day(day)?;
                let next = zone.first_of_day(day + 1)?;
                return Some(start + (10 * 3600 * NANOS).min((next - start) / 2));
            }
            Some(base_instant + shift_of(owner) * DAY)
        };
        let mut enum_masks: Vec<(Slot, u64)> = Vec::new();
        let mut bools: Vec<(Slot, bool)> = Vec::new();
        let mut present: u64 = 0;
        for (atom, value) in self.model.atoms.iter().zip(&cube.assignment) {
            let Some(value) = value else { continue };
            match atom.kind {
                AtomKind::Enum { slot, mask } => {
                    narrow(&mut enum_masks, slot, if *value { mask } else { !mask });
                    present |= 1 << slot;
                }
                AtomKind::Bool(slot) => {
                    bools.push((slot, *value));
                    present |= 1 << slot;
                }
                AtomKind::Present(slot) if *value => present |= 1 << slot,
                _ => present |= atom.reads,
            }
        }
        let mut order = Map::new();
        order.insert(
            "id".into(),
            Json::String(format!("witness-{}", self.action.name)),
        );
        for (slot, field) in checked.fields.iter().enumerate() {
            let slot = slot as Slot;
            if field.optional && (present & !absent & (1 << slot) == 0) {
                continue;
            }
            let json = match field.ty {
                Type::Enum(id) => {
                    let mask = enum_masks
                        .iter()
                        .find(|(s, _)| *s == slot)
                        .map_or(u64::MAX, |(_, m)| *m)
                        & variants_mask(checked, slot);
                    let variants = &checked.enums[id as usize].variants;
                    let default = match &field.default {
                        Some(Value::Enum(v)) if mask & (1 << v) != 0 => Some(*v as usize),
                        _ => None,
                    };
                    let index =
                        default.or_else(|| (0..variants.len()).find(|i| mask & (1 << i) != 0))?;
                    Json::String(variants[index].clone())
                }
                Type::Bool => Json::Bool(
                    bools
                        .iter()
                        .find(|(s, _)| *s == slot)
                        .map(|(_, b)| *b)
                        .unwrap_or(matches!(field.default, Some(Value::Bool(true)))),
                ),
                Type::Timestamp => {
                    if field.name == "requested_at" {
                        continue;
                    }
                    Json::String(zone.format(instant(Owner::Field(slot))?)?)
                }
                Type::Date => {
                    let owner = Owner::Field(slot);
                    let day = value_of(Var::Date(owner)).unwrap_or(base_day + shift_of(owner));
                    let date = NaiveDate::default()
                        .checked_add_signed(chrono::TimeDelta::days(i64::try_from(day).ok()?))?;
                    Json::String(date.format("%Y-%m-%d").to_string())
                }
                Type::Int => {
                    let v = value_of(Var::Number(slot)).unwrap_or(match field.default {
                        Some(Value::Int(i)) => i128::from(i),
                        _ => 0,
                    });
                    Json::from(i64::try_from(v).ok()?)
                }
                Type::Money => {
                    let units = value_of(Var::Money(slot)).unwrap_or(match &field.default {
                        Some(Value::Money(m)) => money_units(*m)?,
                        _ => 100 * MONEY_SCALE,
                    });
                    let amount = money_decimal(units)?;
                    Json::String(if amount.scale() < 2 {
                        format!("{amount:.2}")
                    } else {
                        amount.to_string()
                    })
                }
                Type::Str => {
                    if field.name == "id" {
                        continue;
                    }
                    Json::String(self.witness_string(cube, slot, field.default.as_ref()))
                }
                _ => continue,
            };
            order.insert(field.name.clone(), json);
        }
        let at = zone.format(instant(Owner::Now)?)?;
        order.insert("requested_at".into(), Json::String(at.clone()));
        Some((order, at))
    }
}

/// Preferred values to try for a witness, with the days each owner's default instant moves by.
struct Variant {
    preferred: Vec<i128>,
    shifts: Vec<(Owner, i128)>,
}

/// How `on_real_days` puts a solution on real days of the zone.
#[derive(Debug, Clone, Copy)]
enum Realization {
    AsIs,
    Plain,
    Shift(i128),
}

/// A readable base for witnesses: 2026-03-02 (a Monday), and 10:00 that day in the policy's zone.
fn base(zone: &ZoneModel) -> (i128, i128) {
    let day = NaiveDate::from_ymd_opt(2026, 3, 2)
        .map(|d| i128::from((d - NaiveDate::default()).num_days()))
        .unwrap_or(20_514);
    let start = zone.start_of_day(day).unwrap_or(day * DAY - zone.e_min);
    (day, start + 10 * 3600 * NANOS)
}

/// The values the solver prefers, so that witnesses read naturally: dates and instants at the base,
/// counts and amounts at their defaults (or a round 100), the starts of days where the zone has them.
fn preferred(model: &Model<'_>) -> Vec<i128> {
    let checked = model.policy;
    let (base_day, base_instant) = base(model.zone);
    let mut preferred: Vec<i128> = model
        .vars
        .iter()
        .map(|var| match var {
            Var::Instant(_) | Var::DayStart(_) => base_instant,
            Var::Date(_) => base_day,
            Var::Number(slot) => match &checked.fields[*slot as usize].default {
                Some(Value::Int(i)) => i128::from(*i),
                _ => 0,
            },
            // Fields with a default (vouchers, coupons) prefer it; others a round 100.
            Var::Money(slot) => match &checked.fields[*slot as usize].default {
                Some(Value::Money(m)) => money_units(*m).unwrap_or(0),
                _ => 100 * MONEY_SCALE,
            },
        })
        .collect();
    for start in &model.day_starts {
        if let Some(at) = start
            .day
            .value(&preferred)
            .and_then(|d| day_start(model, start, d))
        {
            preferred[start.var] = at;
        }
    }
    preferred
}

/// The formulas of an action's guards, in rule order. The model reads conditions with their
/// definitions spelled out, as they were once inlined.
fn guard_formulas(
    model: &mut Model<'_>,
    checked: &crate::check::CheckedPolicy,
    action: &CheckedAction,
) -> Vec<Formula> {
    action
        .rules
        .iter()
        .map(|rule| match &rule.guard {
            Some(guard) => model.formula(&guard.expand(&checked.lets)),
            None => Formula::Const(true),
        })
        .collect()
}

/// What every order the action accepts meets: its `require` lines and the policy's constraints.
fn validity_formulas(
    model: &mut Model<'_>,
    checked: &crate::check::CheckedPolicy,
    action: &CheckedAction,
) -> Vec<Formula> {
    let lets = &checked.lets;
    let mut validity = Vec::new();
    for requirement in &action.requirements {
        let present = model.present(requirement.field);
        validity.push(match &requirement.when {
            Some(when) => Formula::Or(vec![model.formula(&when.expand(lets)).not(), present]),
            None => present,
        });
    }
    for constraint in &checked.constraints {
        let mut alternatives: Vec<Formula> = (0..checked.fields.len())
            .filter(|i| constraint.reads & (1 << i) != 0)
            .map(|i| model.present(i as Slot).not())
            .collect();
        alternatives.push(model.formula(&constraint.condition.expand(lets)));
        validity.push(Formula::Or(alternatives));
    }
    validity
}

/// The real value of a day start on day `day`: `F(day)`, or `S(day)`.
fn day_start(model: &Model<'_>, start: &DayStart, day: i128) -> Option<i128> {
    match start.first {
        None => model.zone.first_of_day(day),
        Some(_) => model.zone.start_of_day(day),
    }
}

/// Narrows the values an enum field may take, per field.
fn narrow(masks: &mut Vec<(Slot, u64)>, slot: Slot, allowed: u64) {
    match masks.iter_mut().find(|(s, _)| *s == slot) {
        Some((_, mask)) => *mask &= allowed,
        None => masks.push((slot, allowed)),
    }
}

fn witness_text(witness: &Option<Witness>, claim: &str) -> String {
    match witness {
        Some(w) => format!(
            "witness: {} at {}{}",
            Json::Object(w.order.clone()),
            w.at,
            if w.confirmed {
                format!(" ({claim}: confirmed by the interpreter)")
            } else {
                " (the interpreter does not confirm this order: the analysis approximates a condition here)"
                    .to_string()
            }
        ),
        None => {
            "no order could be built for this region (the analysis approximates a condition here)"
                .to_string()
        }
    }
}
