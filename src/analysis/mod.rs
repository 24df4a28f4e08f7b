//! Static analysis of each action's rule table: gaps (inputs no rule decides), dead rules (always
//! pre-empted), overlaps under `unique` matching, enum values no rule mentions, and declared gaps.
//!
//! Guards become Boolean formulas over atoms (`logic`): presence of optionals, booleans, enum sets, and
//! comparisons that are linear in the times, dates, counts and amounts of the order (`linear`). A case
//! split over the atoms, with the linear ones kept feasible, yields the regions of interest; each
//! region's solution becomes a concrete order and request time, and the real interpreter confirms it.

mod linear;
mod logic;

use chrono::{NaiveDate, Offset, TimeZone};
use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};

use crate::check::typed::{Slot, TExpr};
use crate::check::CheckedAction;
use crate::diagnostics::Diagnostic;
use crate::eval::{Outcome, Policy, NO_RULE};
use crate::value::{Type, Value, NANOS_PER_SECOND};
use logic::{
    absent_fields, money_units, variants_mask, AtomKind, Cube, Formula, Model, Owner, Search, Var,
    MONEY_SCALE,
};

/// How many gaps of one action are reported with their own witness.
const MAX_GAPS: usize = 6;

/// What kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    Gap,
    DeadRule,
    Overlap,
    UnmentionedValue,
    DeclaredGap,
    Incomplete,
}

/// A concrete order and request time that shows a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    pub order: Map<String, Json>,
    pub at: String,
    /// The interpreter, run on the witness, reached the situation claimed.
    pub confirmed: bool,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: FindingKind,
    pub action: String,
    /// The rules concerned (the dead rule and those pre-empting it; the overlapping pair).
    pub rules: Vec<String>,
    /// The region, in the policy's own terms.
    pub conditions: Vec<String>,
    pub witness: Option<Witness>,
    pub diagnostic: Diagnostic,
}

/// Analyses every action of a policy.
pub fn analyze(policy: &Policy) -> Vec<Finding> {
    let checked = policy.checked();
    let zone = checked.zone.tz;
    let reference = NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| zone.from_utc_datetime(&d).offset().fix().local_minus_utc())
        .unwrap_or(0);
    let mut findings = Vec::new();
    for action in &checked.actions {
        let analysis = ActionAnalysis::new(policy, action, i128::from(reference));
        analysis.run(&mut findings);
    }
    findings
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
}

impl<'a> ActionAnalysis<'a> {
    fn new(policy: &'a Policy, action: &'a CheckedAction, offset: i128) -> Self {
        let checked = policy.checked();
        let mut model = Model::new(checked, &policy.source().text, offset);
        let guards: Vec<Formula> = action
            .rules
            .iter()
            .map(|rule| match &rule.guard {
                Some(guard) => model.formula(guard),
                None => Formula::Const(true),
            })
            .collect();
        let guard_atoms = model.atoms.len();
        let mut validity = Vec::new();
        for requirement in &action.requirements {
            let present = model.present(requirement.field);
            validity.push(match &requirement.when {
                Some(when) => Formula::Or(vec![model.formula(when).not(), present]),
                None => present,
            });
        }
        for constraint in &checked.constraints {
            let mut alternatives: Vec<Formula> = (0..checked.fields.len())
                .filter(|i| constraint.reads & (1 << i) != 0)
                .map(|i| model.present(i as Slot).not())
                .collect();
            alternatives.push(model.formula(&constraint.condition));
            validity.push(Formula::Or(alternatives));
        }
        ActionAnalysis {
            policy,
            action,
            model,
            validity,
            guards,
            guard_atoms,
        }
    }

    fn preferred(&self) -> Vec<i128> {
        let checked = self.policy.checked();
        // A readable base: 2026-03-02 (a Monday) at 10:00 in the policy's zone.
        let base_date = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
        let base_day = i128::from((base_date - NaiveDate::default()).num_days());
        let base_instant = base_day * 86_400 + 10 * 3600 - self.model.offset;
        self.model
            .vars
            .iter()
            .map(|var| match var {
                Var::Instant(_) => base_instant,
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
            .collect()
    }

    fn search(&self, formulas: &[Formula], max: usize) -> Search<'_, 'a> {
        let mut search = Search::new(&self.model, self.preferred(), max);
        search.run(formulas);
        search
    }

    fn run(&self, findings: &mut Vec<Finding>) {
        let action = self.action;
        let span = action.span;
        let mut incomplete = false;

        // Gaps: valid inputs that every guard rejects.
        let mut uncovered = self.validity.clone();
        uncovered.extend(self.guards.iter().cloned().map(Formula::not));
        let gaps = self.search(&uncovered, MAX_GAPS + 1);
        incomplete |= gaps.exhausted;
        for (n, cube) in gaps.cubes.iter().enumerate() {
            if n == MAX_GAPS {
                findings.push(Finding {
                    kind: FindingKind::Gap,
                    action: action.name.clone(),
                    rules: Vec::new(),
                    conditions: Vec::new(),
                    witness: None,
                    diagnostic: Diagnostic::warning(
                        "policy::analysis::gap",
                        format!(
                            "action `{}` has more gaps than the {MAX_GAPS} shown",
                            action.name
                        ),
                        span,
                    ),
                });
                break;
            }
            let conditions = self.describe(cube);
            let witness = self.witness(cube, |decided| decided == Some(NO_RULE));
            let mut d = Diagnostic::warning(
                "policy::analysis::gap",
                format!(
                    "no rule of action `{}` decides orders where {}",
                    action.name,
                    conditions.join(" and ")
                ),
                span,
            )
            .with_label("this table has a gap");
            d = d.with_help(format!(
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
        }

        // Dead rules: no valid input reaches them.
        for (k, rule) in action.rules.iter().enumerate() {
            let mut reaching = self.validity.clone();
            reaching.push(self.guards[k].clone());
            reaching.extend(self.guards[..k].iter().cloned().map(Formula::not));
            let search = self.search(&reaching, 1);
            incomplete |= search.exhausted;
            if !search.cubes.is_empty() || search.exhausted {
                continue;
            }
            let overlapping: Vec<usize> = (0..k)
                .filter(|&i| {
                    let mut both = self.validity.clone();
                    both.push(self.guards[i].clone());
                    both.push(self.guards[k].clone());
                    !self.search(&both, 1).cubes.is_empty()
                })
                .collect();
            // Name one earlier rule that covers it alone, if any does; else those that share its
            // orders between them.
            let covering_alone = overlapping.iter().copied().find(|&i| {
                let mut escapes = self.validity.clone();
                escapes.push(self.guards[k].clone());
                escapes.push(self.guards[i].clone().not());
                let search = self.search(&escapes, 1);
                search.cubes.is_empty() && !search.exhausted
            });
            let named: Vec<usize> = covering_alone.map_or_else(|| overlapping.clone(), |i| vec![i]);
            let quoted = |rules: &[usize]| {
                rules
                    .iter()
                    .map(|&i| format!("`{}`", action.rules[i].id))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (message, help) = match (covering_alone, named.as_slice()) {
                (_, []) => (
                    format!("rule `{}` can never match a valid order", rule.id),
                    "its condition contradicts itself, or the policy's `require` and `constraint` lines: correct \
                     its `when`, or remove the rule",
                ),
                (Some(_), _) => (
                    format!("rule `{}` can never decide: {} always matches first", rule.id, quoted(&named)),
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
            let pre_empting: Vec<String> =
                named.iter().map(|&i| action.rules[i].id.clone()).collect();
            findings.push(Finding {
                kind: FindingKind::DeadRule,
                action: action.name.clone(),
                rules: std::iter::once(rule.id.clone())
                    .chain(pre_empting)
                    .collect(),
                conditions: Vec::new(),
                witness: None,
                diagnostic: d,
            });
        }

        // Overlaps, when the action asks that at most one rule match.
        if action.unique {
            for j in 0..action.rules.len() {
                for i in 0..j {
                    let mut both = self.validity.clone();
                    both.push(self.guards[i].clone());
                    both.push(self.guards[j].clone());
                    let search = self.search(&both, 1);
                    incomplete |= search.exhausted;
                    let Some(cube) = search.cubes.first() else {
                        continue;
                    };
                    let (first, second) = (&action.rules[i], &action.rules[j]);
                    let witness = self.overlap_witness(cube, i, j);
                    let conditions = self.describe(cube);
                    let d = Diagnostic::error(
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
                    ));
                    findings.push(Finding {
                        kind: FindingKind::Overlap,
                        action: action.name.clone(),
                        rules: vec![first.id.clone(), second.id.clone()],
                        conditions,
                        witness,
                        diagnostic: d,
                    });
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

        if incomplete {
            findings.push(Finding {
                kind: FindingKind::Incomplete,
                action: action.name.clone(),
                rules: Vec::new(),
                conditions: Vec::new(),
                witness: None,
                diagnostic: Diagnostic::warning(
                    "policy::analysis::incomplete",
                    format!("the analysis of action `{}` stopped before the end: the table is too large", action.name),
                    span,
                ),
            });
        }
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
            let catch_all = self
                .action
                .rules
                .iter()
                .any(|r| r.guard.as_ref().is_none_or(|g| !mentions_enum(g, slot)));
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
        let mut candidate = match default {
            Some(Value::Str(s)) => s.to_string(),
            _ => "other".to_string(),
        };
        while excluded.contains(&candidate.as_str()) {
            candidate.push_str("-other");
        }
        candidate
    }

    /// The assigned atoms of a cube, in the policy's own words; enum conditions merged per field.
    fn describe(&self, cube: &Cube) -> Vec<String> {
        let checked = self.policy.checked();
        let absent = absent_fields(&self.model, &cube.assignment);
        let mut enum_masks: Vec<(Slot, u64)> = Vec::new();
        let mut parts = Vec::new();
        let guard_atoms = self
            .model
            .atoms
            .iter()
            .zip(&cube.assignment)
            .take(self.guard_atoms);
        for (atom, value) in guard_atoms {
            let Some(value) = value else { continue };
            if atom.reads & absent != 0 {
                continue;
            }
            match atom.kind {
                AtomKind::Enum { slot, mask } => {
                    narrow(&mut enum_masks, slot, if *value { mask } else { !mask });
                }
                _ => parts.push(if *value {
                    atom.text.clone()
                } else {
                    atom.negated_text.clone()
                }),
            }
        }
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
        described.extend(parts);
        described
    }

    /// A concrete order for a cube, and whether the interpreter confirms it (`check` is given the rule
    /// id the interpreter decided with, or `None` if it refused the order).
    fn witness(&self, cube: &Cube, check: impl Fn(Option<&str>) -> bool) -> Option<Witness> {
        let (order, at) = self.build_witness(cube)?;
        let confirmed = self
            .run_witness(&order, &at)
            .is_some_and(|rule| check(Some(rule.as_str())));
        Some(Witness {
            order,
            at,
            confirmed,
        })
    }

    fn overlap_witness(&self, cube: &Cube, i: usize, j: usize) -> Option<Witness> {
        let (order, at) = self.build_witness(cube)?;
        let confirmed = (|| {
            let parsed = self.policy.read_order(&Json::Object(order.clone())).ok()?;
            let now = crate::eval::parse_time(&at).ok()?;
            let rules = &self.action.rules;
            Some(
                crate::eval::guard_holds(self.policy, &rules[i], &parsed, now)?
                    && crate::eval::guard_holds(self.policy, &rules[j], &parsed, now)?,
            )
        })()
        .unwrap_or(false);
        Some(Witness {
            order,
            at,
            confirmed,
        })
    }

    /// The rule the interpreter decides the witness with (`NO_RULE` for none), or `None` if it refuses.
    fn run_witness(&self, order: &Map<String, Json>, at: &str) -> Option<String> {
        let now = crate::eval::parse_time(at).ok()?;
        let parsed = self.policy.read_order(&Json::Object(order.clone())).ok()?;
        let decision = self.policy.decide(&self.action.name, &parsed, now).ok()?;
        Some(decision.rule.to_string())
    }

    fn build_witness(&self, cube: &Cube) -> Option<(Map<String, Json>, String)> {
        let checked = self.policy.checked();
        let values = cube.values.as_ref()?;
        let absent = absent_fields(&self.model, &cube.assignment);
        let value_of = |var: Var| -> Option<i128> {
            self.model
                .vars
                .iter()
                .position(|v| *v == var)
                .map(|i| values[i])
        };
        let preferred = self.preferred();
        let base_instant = preferred
            .iter()
            .zip(&self.model.vars)
            .find(|(_, v)| matches!(v, Var::Instant(_)))
            .map_or(1_772_416_800, |(p, _)| *p);
        let instant = |owner: Owner| -> i128 {
            value_of(Var::Instant(owner))
                .or_else(|| {
                    value_of(Var::Date(owner)).map(|d| d * 86_400 + 10 * 3600 - self.model.offset)
                })
                .unwrap_or(base_instant)
        };
        let format_instant = |seconds: i128| -> Option<String> {
            let instant = crate::time::Instant::from_nanos(
                seconds.checked_mul(i128::from(NANOS_PER_SECOND))?,
            )?;
            Some(checked.zone.format(instant.nanos()).to_string())
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
                    Json::String(format_instant(instant(Owner::Field(slot)))?)
                }
                Type::Date => {
                    let day = value_of(Var::Date(Owner::Field(slot)))
                        .unwrap_or(preferred.first().copied().unwrap_or(0) / 86_400);
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
                    let micro = value_of(Var::Money(slot)).unwrap_or_else(|| {
                        let idx = self.model.vars.iter().position(|v| *v == Var::Money(slot));
                        idx.map_or(100 * MONEY_SCALE, |i| preferred[i])
                    });
                    let amount = Decimal::from_i128_with_scale(micro, 6).normalize();
                    Json::String(format!("{amount:.2}"))
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
        let at = format_instant(instant(Owner::Now))?;
        order.insert("requested_at".into(), Json::String(at.clone()));
        Some((order, at))
    }
}

/// Narrows the values an enum field may take, per field.
fn narrow(masks: &mut Vec<(Slot, u64)>, slot: Slot, allowed: u64) {
    match masks.iter_mut().find(|(s, _)| *s == slot) {
        Some((_, mask)) => *mask &= allowed,
        None => masks.push((slot, allowed)),
    }
}

fn mentions_enum(e: &TExpr, slot: Slot) -> bool {
    let mut found = false;
    e.walk(&mut |node| {
        if let crate::check::typed::TKind::Field(s) = node.kind {
            found |= s == slot;
        }
    });
    found
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
                " (the interpreter could not confirm this witness: the region may be empty where the analysis \
                 approximates)"
                    .to_string()
            }
        ),
        None => {
            "no witness could be built for this region (the analysis approximates a condition here)"
                .to_string()
        }
    }
}
