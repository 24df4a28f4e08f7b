//! Guards as Boolean formulas over atoms: presence of optionals, booleans, enum sets, string literals,
//! and comparisons that are linear in the order's instants, dates, counts and amounts. The search over
//! them is in `search`.
//!
//! Units are those of the input, so that a region of the model holds exactly the orders in it: instants
//! and durations in nanoseconds, dates in day numbers, counts as they are, money in units of 10^-28 (the
//! finest amount an order can carry). Conditions the model does not express become opaque atoms, free to
//! be true or false: the model then holds more than the real orders, never fewer.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::linear::{Grains, Inequality};
use super::zone_model::{instant_constant, ZoneModel, DAY};
use crate::check::typed::{ArithOp, CmpOp, Slot, TExpr, TKind};
use crate::check::CheckedPolicy;
use crate::value::{Type, Value};
use crate::zone::add_months;

/// The owner of a variable: an order field, or the request time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Field(Slot),
    Now,
}

/// A numeric variable: instants in nanoseconds, dates as day numbers, whole numbers, money in units of
/// 10^-28, and the first instant of a day the guards mention (`DayStart(i)`, see `Model::day_starts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Var {
    Instant(Owner),
    Date(Owner),
    Number(Slot),
    Money(Slot),
    DayStart(usize),
}

/// Money's unit: rust_decimal carries at most 28 decimal places, so every amount is a whole number of
/// 10^-28.
pub const MONEY_DIGITS: u32 = 28;
pub const MONEY_SCALE: i128 = 10_000_000_000_000_000_000_000_000_000;

/// An amount in units of 10^-28.
pub fn money_units(amount: rust_decimal::Decimal) -> Option<i128> {
    let scale = amount.scale();
    amount
        .mantissa()
        .checked_mul(10i128.checked_pow(MONEY_DIGITS.checked_sub(scale)?)?)
}

/// An amount in units of 10^-28 as a decimal, if rust_decimal can hold it.
pub fn money_decimal(units: i128) -> Option<rust_decimal::Decimal> {
    let (mut mantissa, mut scale) = (units, MONEY_DIGITS);
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    rust_decimal::Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

#[derive(Debug, Clone)]
pub enum AtomKind {
    Present(Slot),
    Bool(Slot),
    /// The field's value lies in the mask.
    Enum {
        slot: Slot,
        mask: u64,
    },
    /// `Σ a·x + c ≤ 0`; false means `Σ a·x + c ≥ 1`.
    Linear(Inequality),
    /// A string field equals a literal: at most one literal holds per field.
    StrEq {
        slot: Slot,
        literal: String,
    },
    /// A condition the analysis does not model: free to be true or false (the same condition,
    /// wherever it is written, is the same atom).
    Opaque,
}

#[derive(Debug, Clone)]
pub struct Atom {
    pub kind: AtomKind,
    /// How the condition reads, and how its negation reads.
    pub text: String,
    pub negated_text: String,
    /// Fields whose presence the atom assumes.
    pub reads: u64,
}

#[derive(Debug, Clone)]
pub enum Formula {
    Const(bool),
    Atom(usize),
    Not(Box<Formula>),
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

impl Formula {
    /// A conjunction, nested conjunctions merged into it (long `and` chains stay shallow).
    pub fn and(parts: Vec<Formula>) -> Formula {
        let mut flat = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Formula::And(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        Formula::And(flat)
    }

    /// A disjunction, nested disjunctions merged into it.
    pub fn or(parts: Vec<Formula>) -> Formula {
        let mut flat = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Formula::Or(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        Formula::Or(flat)
    }

    pub fn not(self) -> Formula {
        match self {
            Formula::Const(b) => Formula::Const(!b),
            Formula::Not(inner) => *inner,
            other => Formula::Not(Box::new(other)),
        }
    }

    /// Three-valued: `None` while an atom it depends on is unassigned.
    pub fn eval(&self, assignment: &[Option<bool>]) -> Option<bool> {
        match self {
            Formula::Const(b) => Some(*b),
            Formula::Atom(i) => assignment[*i],
            Formula::Not(inner) => inner.eval(assignment).map(|b| !b),
            Formula::And(parts) => {
                let mut unknown = false;
                for p in parts {
                    match p.eval(assignment) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                (!unknown).then_some(true)
            }
            Formula::Or(parts) => {
                let mut unknown = false;
                for p in parts {
                    match p.eval(assignment) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                (!unknown).then_some(false)
            }
        }
    }

    /// The first unassigned atom that can still change this formula's value, in reading order.
    pub fn pending_atom(&self, assignment: &[Option<bool>]) -> Option<usize> {
        if self.eval(assignment).is_some() {
            return None;
        }
        match self {
            Formula::Atom(i) => Some(*i),
            Formula::Not(inner) => inner.pending_atom(assignment),
            Formula::And(parts) | Formula::Or(parts) => {
                parts.iter().find_map(|p| p.pending_atom(assignment))
            }
            Formula::Const(_) => None,
        }
    }
}

/// A linear expression in the variables' units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lin {
    pub terms: BTreeMap<usize, i128>,
    pub constant: i128,
}

impl Lin {
    pub fn scaled(mut self, k: i128) -> Option<Lin> {
        for c in self.terms.values_mut() {
            *c = c.checked_mul(k)?;
        }
        self.constant = self.constant.checked_mul(k)?;
        Some(self)
    }

    pub fn plus(mut self, other: Lin, sign: i128) -> Option<Lin> {
        for (v, c) in other.terms {
            let entry = self.terms.entry(v).or_insert(0);
            *entry = entry.checked_add(c.checked_mul(sign)?)?;
        }
        self.constant = self
            .constant
            .checked_add(other.constant.checked_mul(sign)?)?;
        Some(self)
    }

    fn constant_only(&self) -> Option<i128> {
        self.terms
            .values()
            .all(|c| *c == 0)
            .then_some(self.constant)
    }

    /// Its value for the variables' values.
    pub fn value(&self, values: &[i128]) -> Option<i128> {
        self.terms.iter().try_fold(self.constant, |sum, (v, c)| {
            sum.checked_add(c.checked_mul(*values.get(*v)?)?)
        })
    }

    pub fn variable(index: usize) -> Lin {
        Lin {
            terms: BTreeMap::from([(index, 1)]),
            constant: 0,
        }
    }

    pub fn constant(c: i128) -> Lin {
        Lin {
            terms: BTreeMap::new(),
            constant: c,
        }
    }

    pub fn inequality(self) -> Inequality {
        Inequality {
            coeffs: self.terms.into_iter().filter(|(_, c)| *c != 0).collect(),
            constant: self.constant,
        }
    }
}

/// The start of a day the guards mention (see `zone_model`): the first instant `F(D)` of a date
/// expression `D` (for an instant `t` whose date is also read, `F(date(t))` and `F(date(t) + 1)`, between
/// which `t` lies), or the interpreter's `start_of_day(D)`, `S(D)`, where the zone has days on which
/// they differ.
#[derive(Debug, Clone)]
pub struct DayStart {
    /// The day, a linear expression in day numbers.
    pub day: Lin,
    /// Its variable (`Var::DayStart`).
    pub var: usize,
    /// For `S(D)`, the day start `F(D)` of the same day; `None` for `F(D)` itself.
    pub first: Option<usize>,
}

/// Two day starts whose days differ by a variable amount: how they relate depends on that amount,
/// which the search splits on when a solution breaks it (`Model::pair_rows`).
#[derive(Debug, Clone)]
pub struct Pair {
    pub first: usize,
    pub second: usize,
    /// The second day minus the first.
    pub delta: Lin,
}

/// How the days of a pair relate: the second is before the first by 2 or more, by 1, the same, after
/// by 1, after by 2 or more.
pub const PAIR_REGIONS: u8 = 5;

/// Builds the atoms and formulas of one action's guards.
pub struct Model<'a> {
    pub policy: &'a CheckedPolicy,
    source: &'a str,
    pub atoms: Vec<Atom>,
    keys: HashMap<String, usize>,
    pub vars: Vec<Var>,
    var_index: HashMap<Var, usize>,
    pub zone: &'a ZoneModel,
    pub day_starts: Vec<DayStart>,
    pub pairs: Vec<Pair>,
    /// Rows between day starts whose days differ by a constant.
    settled: Vec<Inequality>,
}

impl<'a> Model<'a> {
    pub fn new(policy: &'a CheckedPolicy, source: &'a str, zone: &'a ZoneModel) -> Self {
        Model {
            policy,
            source,
            atoms: Vec::new(),
            keys: HashMap::new(),
            vars: Vec::new(),
            var_index: HashMap::new(),
            zone,
            day_starts: Vec::new(),
            pairs: Vec::new(),
            settled: Vec::new(),
        }
    }

    /// Formulas built from now on quote their conditions from `source`: another version's text, whose
    /// guards `diff` reads into the same model.
    pub fn quote_from(&mut self, source: &'a str) {
        self.source = source;
    }

    pub fn var_of(&self, var: Var) -> Option<usize> {
        self.var_index.get(&var).copied()
    }

    /// `F(day)`: linear in a fixed zone, else a variable.
    fn first_of(&mut self, day: Lin) -> Option<Lin> {
        if let Some(e) = self.zone.fixed() {
            return day.scaled(DAY)?.plus(Lin::constant(e), -1);
        }
        self.day_start(day, None)
            .map(|k| Lin::variable(self.day_starts[k].var))
    }

    /// `S(day)`, the interpreter's `start_of_day`: `F(day)` unless the zone has days where they differ;
    /// not modelled in an irregular zone (the comparison is then opaque).
    fn start_of(&mut self, day: Lin) -> Option<Lin> {
        if !self.zone.regular {
            return None;
        }
        if self.zone.fixed().is_some() || self.zone.quirk_max == 0 {
            return self.first_of(day);
        }
        let first = self.day_start(day.clone(), None)?;
        self.day_start(day, Some(first))
            .map(|k| Lin::variable(self.day_starts[k].var))
    }

    fn day_start(&mut self, day: Lin, first: Option<usize>) -> Option<usize> {
        if let Some(k) = self
            .day_starts
            .iter()
            .position(|s| s.day == day && s.first.is_some() == first.is_some())
        {
            return Some(k);
        }
        let var = self.var(Var::DayStart(self.day_starts.len()));
        self.day_starts.push(DayStart { day, var, first });
        Some(self.day_starts.len() - 1)
    }

    /// Completes the model once every formula is built: the day starts that tie each instant to its
    /// date, and the pairs of day starts.
    pub fn finish(&mut self) {
        let owners: Vec<Owner> = self
            .vars
            .iter()
            .filter_map(|v| match v {
                Var::Instant(o) => Some(*o),
                _ => None,
            })
            .filter(|o| self.var_of(Var::Date(*o)).is_some())
            .collect();
        if self.zone.fixed().is_none() && self.zone.regular {
            for owner in owners {
                let Some(date) = self.var_of(Var::Date(owner)) else {
                    continue;
                };
                let day = Lin::variable(date);
                let _ = self.first_of(day.clone());
                if let Some(next) = day.plus(Lin::constant(1), 1) {
                    let _ = self.first_of(next);
                }
            }
        }
        let n = self.day_starts.len();
        for second in 0..n {
            for first in 0..second {
                if self.day_starts[second].first.is_some() || self.day_starts[first].first.is_some()
                {
                    continue;
                }
                let Some(delta) = self.day_starts[second]
                    .day
                    .clone()
                    .plus(self.day_starts[first].day.clone(), -1)
                else {
                    continue;
                };
                let delta_is_constant = delta.terms.values().all(|c| *c == 0);
                let pair = Pair {
                    first,
                    second,
                    delta: delta.clone(),
                };
                if delta_is_constant {
                    let region = match delta.constant {
                        ..=-2 => 0,
                        -1 => 1,
                        0 => 2,
                        1 => 3,
                        _ => 4,
                    };
                    let rows = self.pair_rows(&pair, region);
                    self.settled.extend(rows);
                } else {
                    self.pairs.push(pair);
                }
            }
        }
    }

    /// The rows that hold for a pair of day starts in a region (see `PAIR_REGIONS`): with `δ` the
    /// difference of their days and `s₁`, `s₂` their instants, `s₂ - s₁ = δ·DAY - (e(d₂) - e(d₁))`.
    pub fn pair_rows(&self, pair: &Pair, region: u8) -> Vec<Inequality> {
        let zone = self.zone;
        let (s1, s2) = (
            self.day_starts[pair.first].var,
            self.day_starts[pair.second].var,
        );
        let spread = zone.e_max - zone.e_min;
        // difference = s₂ - s₁
        let difference = Lin::variable(s2).plus(Lin::variable(s1), -1);
        let delta = pair.delta.clone();
        let mut rows = Vec::new();
        let mut push = |lin: Option<Lin>| {
            if let Some(lin) = lin {
                rows.push(lin.inequality());
            }
        };
        // δ ≤ k and δ ≥ k
        let delta_at_most = |k: i128| delta.clone().plus(Lin::constant(k), -1);
        let delta_at_least = |k: i128| Lin::constant(k).plus(delta.clone(), -1);
        // |s₂ - s₁ - δ·DAY| ≤ spread
        let around = |rows: &mut dyn FnMut(Option<Lin>)| {
            let scaled = delta.clone().scaled(DAY);
            rows(
                difference
                    .clone()
                    .and_then(|d| d.plus(scaled.clone()?, -1)?.plus(Lin::constant(spread), -1)),
            );
            rows(scaled.and_then(|s| {
                s.plus(difference.clone()?, -1)?
                    .plus(Lin::constant(spread), -1)
            }));
        };
        // s₂ - s₁ between `low` and `high` (or s₁ - s₂ when `flip`)
        let between = |rows: &mut dyn FnMut(Option<Lin>), low: i128, high: i128, flip: bool| {
            let d = if flip {
                difference.clone().and_then(|d| d.scaled(-1))
            } else {
                difference.clone()
            };
            rows(d.clone().and_then(|d| d.plus(Lin::constant(high), -1)));
            rows(d.and_then(|d| Lin::constant(low).plus(d, -1)));
        };
        match region {
            0 => {
                push(delta_at_most(-2));
                around(&mut push);
            }
            1 | 3 => {
                let k = if region == 1 { -1 } else { 1 };
                push(delta_at_most(k));
                push(delta_at_least(k));
                between(&mut push, zone.step_min, zone.step_max, region == 1);
            }
            2 => {
                push(delta_at_most(0));
                push(delta_at_least(0));
                between(&mut push, 0, 0, false);
            }
            _ => {
                push(delta_at_least(2));
                around(&mut push);
            }
        }
        rows
    }

    /// Whether `values` meet what a pair's days imply of their starts (`None` if they cannot be valued).
    pub fn pair_holds(&self, pair: &Pair, values: &[i128]) -> Option<bool> {
        let delta = pair.delta.value(values)?;
        let region = match delta {
            ..=-2 => 0,
            -1 => 1,
            0 => 2,
            1 => 3,
            _ => 4,
        };
        Some(self.pair_rows(pair, region).iter().all(|row| {
            row.coeffs
                .iter()
                .try_fold(row.constant, |sum, (v, c)| {
                    sum.checked_add(c.checked_mul(values[*v])?)
                })
                .is_some_and(|sum| sum <= 0)
        }))
    }

    fn text(&self, e: &TExpr) -> String {
        let raw = self
            .source
            .get(e.span.start as usize..e.span.end as usize)
            .unwrap_or("?");
        raw.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn var(&mut self, var: Var) -> usize {
        if let Some(i) = self.var_index.get(&var) {
            return *i;
        }
        self.vars.push(var);
        self.var_index.insert(var, self.vars.len() - 1);
        self.vars.len() - 1
    }

    fn atom(&mut self, key: String, atom: Atom) -> Formula {
        if let Some(i) = self.keys.get(&key) {
            return Formula::Atom(*i);
        }
        self.atoms.push(atom);
        self.keys.insert(key, self.atoms.len() - 1);
        Formula::Atom(self.atoms.len() - 1)
    }

    fn field_is_optional(&self, slot: Slot) -> bool {
        self.policy.fields[slot as usize].optional
    }

    pub fn present(&mut self, slot: Slot) -> Formula {
        if !self.field_is_optional(slot) {
            return Formula::Const(true);
        }
        let name = self.policy.fields[slot as usize].name.clone();
        self.atom(
            format!("present {slot}"),
            Atom {
                kind: AtomKind::Present(slot),
                text: format!("`{name}` is present"),
                negated_text: format!("`{name}` is absent"),
                reads: 0,
            },
        )
    }

    fn enum_atom(&mut self, slot: Slot, mask: u64) -> Formula {
        let field = &self.policy.fields[slot as usize];
        let Type::Enum(id) = field.ty else {
            return Formula::Const(false);
        };
        let variants = &self.policy.enums[id as usize].variants;
        // A value that is not an identifier (`"EV-1Y"`) is written quoted, as the policy writes it.
        let listed: Vec<String> = variants
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, v)| {
                let bare = v.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if bare {
                    v.clone()
                } else {
                    format!("{v:?}")
                }
            })
            .collect();
        let name = field.name.clone();
        let (text, negated_text) = match listed.as_slice() {
            [one] => (format!("{name} == {one}"), format!("{name} != {one}")),
            many => (
                format!("{name} in {{{}}}", many.join(", ")),
                format!("{name} not in {{{}}}", many.join(", ")),
            ),
        };
        self.atom(
            format!("enum {slot} {mask}"),
            Atom {
                kind: AtomKind::Enum { slot, mask },
                text,
                negated_text,
                reads: 1 << slot,
            },
        )
    }

    /// The formula of a condition.
    pub fn formula(&mut self, e: &TExpr) -> Formula {
        match &e.kind {
            TKind::Const(Value::Bool(b)) => Formula::Const(*b),
            TKind::Not(inner) => self.formula(inner).not(),
            TKind::And(a, b) => Formula::and(vec![self.formula(a), self.formula(b)]),
            TKind::Or(a, b) => Formula::or(vec![self.formula(a), self.formula(b)]),
            TKind::If(c, a, b) => {
                // The condition stands twice in the formula: a compound one becomes one opaque atom,
                // or `if` nested in conditions would double the formula at each level (exponential
                // within the nesting limit). Sound: opaque atoms only make claims "could not prove".
                let c = match self.formula(c) {
                    simple @ (Formula::Const(_) | Formula::Atom(_)) => simple,
                    Formula::Not(inner) if matches!(*inner, Formula::Atom(_)) => {
                        Formula::Not(inner)
                    }
                    _ => self.opaque(c),
                };
                let (a, b) = (self.formula(a), self.formula(b));
                Formula::Or(vec![
                    Formula::And(vec![c.clone(), a]),
                    Formula::And(vec![c.not(), b]),
                ])
            }
            TKind::Present(slot) => self.present(*slot),
            TKind::Field(slot) if e.ty == Type::Bool => {
                let name = self.policy.fields[*slot as usize].name.clone();
                self.atom(
                    format!("bool {slot}"),
                    Atom {
                        kind: AtomKind::Bool(*slot),
                        text: name.clone(),
                        negated_text: format!("not {name}"),
                        reads: 1 << slot,
                    },
                )
            }
            TKind::InSet(subject, mask) => match subject.kind {
                TKind::Field(slot) => self.enum_atom(slot, *mask),
                _ => self.opaque(e),
            },
            TKind::TextIn(subject, set) => match subject.kind {
                // The field equals one of the strings: each is the atom `field == "..."`.
                TKind::Field(slot) => Formula::Or(
                    set.iter()
                        .map(|member| self.text_atom(slot, member))
                        .collect(),
                ),
                _ => self.opaque(e),
            },
            TKind::Cmp(op, a, b) => self.comparison(e, *op, a, b),
            // `starts_with`, `ends_with`, `contains` among them: not modelled, so opaque.
            _ => self.opaque(e),
        }
    }

    /// `field == "literal"` for a string field.
    fn text_atom(&mut self, slot: Slot, literal: &str) -> Formula {
        let name = self.policy.fields[slot as usize].name.clone();
        self.atom(
            format!("string {slot} {literal:?}"),
            Atom {
                kind: AtomKind::StrEq {
                    slot,
                    literal: literal.to_string(),
                },
                text: format!("{name} == {literal:?}"),
                negated_text: format!("{name} != {literal:?}"),
                reads: 1 << slot,
            },
        )
    }

    fn opaque(&mut self, e: &TExpr) -> Formula {
        let text = self.text(e);
        let mut key = String::from("opaque ");
        shape(e, &mut key);
        self.atom(
            key,
            Atom {
                kind: AtomKind::Opaque,
                negated_text: format!("not ({text})"),
                text,
                reads: e.fields_read(&self.policy.lets),
            },
        )
    }

    /// A comparison the model does not express (`now < paid_at + 1 calendar month`, or the band
    /// between a month window's bounds): an opaque atom shared with its complement, `a > b` being
    /// `not (a <= b)`, so that rules split on `within` and `more than` one window are seen to decide
    /// every order between them. Exact for any order the interpreter decides: its values are totally
    /// ordered.
    fn opaque_comparison(&mut self, e: &TExpr, op: CmpOp, a: &TExpr, b: &TExpr) -> Formula {
        let complement = match op {
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Ne => CmpOp::Eq,
            CmpOp::Le | CmpOp::Ge | CmpOp::Eq => return self.opaque(e),
        };
        // The key `shape` gives `Cmp(complement, a, b)`, written without building that node.
        let mut key = format!("opaque {complement:?}(");
        for side in [a, b] {
            shape(side, &mut key);
            key.push(',');
        }
        key.push(')');
        let text = self.text(e);
        self.atom(
            key,
            Atom {
                kind: AtomKind::Opaque,
                text: format!("not ({text})"),
                negated_text: text,
                reads: e.fields_read(&self.policy.lets),
            },
        )
        .not()
    }

    fn comparison(&mut self, e: &TExpr, op: CmpOp, a: &TExpr, b: &TExpr) -> Formula {
        if let (TKind::Field(slot), TKind::Const(Value::Enum(v)))
        | (TKind::Const(Value::Enum(v)), TKind::Field(slot)) = (&a.kind, &b.kind)
        {
            let atom = self.enum_atom(*slot, 1 << v);
            return match op {
                CmpOp::Eq => atom,
                CmpOp::Ne => atom.not(),
                _ => self.opaque(e),
            };
        }
        if let (TKind::Field(slot), TKind::Const(Value::Str(literal)))
        | (TKind::Const(Value::Str(literal)), TKind::Field(slot)) = (&a.kind, &b.kind)
        {
            if matches!(op, CmpOp::Eq | CmpOp::Ne) {
                let atom = self.text_atom(*slot, literal);
                return if op == CmpOp::Eq { atom } else { atom.not() };
            }
        }
        if let (TKind::Field(slot), TKind::Const(Value::Bool(v)))
        | (TKind::Const(Value::Bool(v)), TKind::Field(slot)) = (&a.kind, &b.kind)
        {
            let atom = self.formula(&TExpr::new(TKind::Field(*slot), Type::Bool, a.span));
            let positive = (op == CmpOp::Eq) == *v;
            return if positive { atom } else { atom.not() };
        }
        if let Some(bounded) = self.months_comparison(e, op, a, b) {
            return bounded;
        }
        let (Some(left), Some(right)) = (self.linear(a), self.linear(b)) else {
            return self.opaque_comparison(e, op, a, b);
        };
        let Some(difference) = left.plus(right, -1) else {
            return self.opaque(e);
        };
        let reads = e.fields_read(&self.policy.lets);
        // Desugared windows carry one span for the whole window: describe them as written.
        let (sides, flipped) = if a.span == e.span || b.span == e.span {
            let whole = self.text(e);
            ((whole.clone(), whole.clone()), None)
        } else {
            ((self.text(a), self.text(b)), Some(()))
        };
        let describe = |op: CmpOp| -> String {
            let symbol = op.symbol();
            format!("{} {symbol} {}", sides.0, sides.1)
        };
        let whole = || sides.0.clone();
        let texts = |op: CmpOp, negated: CmpOp| match flipped {
            Some(()) => (describe(op), describe(negated)),
            None => (whole(), format!("not ({})", whole())),
        };
        let mut le = |lin: Lin, text: (String, String)| self.linear_atom(lin, text, reads);
        let negative = || difference.clone().scaled(-1);
        match op {
            // d < 0  ⇔  d + 1 ≤ 0
            CmpOp::Lt => match difference.clone().plus(
                Lin {
                    constant: 1,
                    ..Lin::default()
                },
                1,
            ) {
                Some(d) => le(d, texts(CmpOp::Lt, CmpOp::Ge)),
                None => self.opaque(e),
            },
            CmpOp::Le => le(difference, texts(CmpOp::Le, CmpOp::Gt)),
            CmpOp::Gt => match negative().and_then(|d| {
                d.plus(
                    Lin {
                        constant: 1,
                        ..Lin::default()
                    },
                    1,
                )
            }) {
                Some(d) => le(d, texts(CmpOp::Gt, CmpOp::Le)),
                None => self.opaque(e),
            },
            CmpOp::Ge => match negative() {
                Some(d) => le(d, texts(CmpOp::Ge, CmpOp::Lt)),
                None => self.opaque(e),
            },
            CmpOp::Eq | CmpOp::Ne => {
                let Some(neg) = negative() else {
                    return self.opaque(e);
                };
                let both = Formula::And(vec![
                    le(difference, texts(CmpOp::Le, CmpOp::Gt)),
                    le(neg, texts(CmpOp::Ge, CmpOp::Lt)),
                ]);
                if op == CmpOp::Eq {
                    both
                } else {
                    both.not()
                }
            }
        }
    }

    /// `lin ≤ 0`, reading as `text.0` (and its negation as `text.1`).
    fn linear_atom(&mut self, lin: Lin, text: (String, String), reads: u64) -> Formula {
        let inequality = lin.inequality();
        let key = format!("linear {inequality:?}");
        self.atom(
            key,
            Atom {
                kind: AtomKind::Linear(inequality),
                text: text.0,
                negated_text: text.1,
                reads,
            },
        )
    }

    /// A comparison of a date with a date moved by calendar months, `P op B + N calendar months`
    /// (windows in months are written so). N months move B by between `lo` and `hi` days (one month:
    /// 28 to 31), so with `D = P - B` the comparison is certain when D is outside that band, and an
    /// opaque condition inside it: `sure ∨ (¬refuted ∧ opaque)`. Sound: for every order, the opaque
    /// atom taken as the comparison's truth gives the truth. The opaque atom is shared with the
    /// complement, and so are the bounds, so `within` and `more than` one window stay complements.
    fn months_comparison(&mut self, e: &TExpr, op: CmpOp, a: &TExpr, b: &TExpr) -> Option<Formula> {
        // As `P op M`, the moved date M on the right.
        let (p, (base, months), op_right) = match (moved_by_months(a), moved_by_months(b)) {
            (None, Some(m)) => (a, m, op),
            (Some(m), None) => (
                b,
                m,
                match op {
                    CmpOp::Lt => CmpOp::Gt,
                    CmpOp::Le => CmpOp::Ge,
                    CmpOp::Gt => CmpOp::Lt,
                    CmpOp::Ge => CmpOp::Le,
                    same @ (CmpOp::Eq | CmpOp::Ne) => same,
                },
            ),
            _ => return None,
        };
        let (lo, hi) = month_span(months)?;
        let d = self.linear(p)?.plus(self.linear(base)?, -1)?;
        let reads = e.fields_read(&self.policy.lets);
        let (subject, anchor) = (self.day_text(p), self.day_text(base));
        let shifted = |c: i128| match c {
            0 => anchor.clone(),
            c if c > 0 => format!("{anchor} + {c} calendar days"),
            c => format!("{anchor} - {} calendar days", -c),
        };
        // `D ≤ c`, or `D ≥ c` as `not (D ≤ c - 1)`: atoms that read as the dates they compare.
        let at_most = |model: &mut Self, c: i128| -> Option<Formula> {
            let lin = d.clone().plus(constant(c), -1)?;
            let text = (
                format!("{subject} <= {}", shifted(c)),
                format!("{subject} > {}", shifted(c)),
            );
            Some(model.linear_atom(lin, text, reads))
        };
        let at_least = |model: &mut Self, c: i128| Some(at_most(model, c.checked_sub(1)?)?.not());
        let (below, above) = (lo.checked_sub(1)?, hi.checked_add(1)?);
        let (sure, refuted) = match op_right {
            CmpOp::Le => (at_most(self, lo)?, at_least(self, above)?),
            CmpOp::Lt => (at_most(self, below)?, at_least(self, hi)?),
            CmpOp::Ge => (at_least(self, hi)?, at_most(self, below)?),
            CmpOp::Gt => (at_least(self, above)?, at_most(self, lo)?),
            CmpOp::Eq | CmpOp::Ne => {
                let outside = Formula::or(vec![at_most(self, below)?, at_least(self, above)?]);
                // The opaque atom of `==`: `!=` gives its negation.
                let inside = match self.opaque_comparison(e, op, a, b) {
                    _ if lo == hi => Formula::Const(true),
                    unequal if op == CmpOp::Ne => unequal.not(),
                    equal => equal,
                };
                let equal = Formula::and(vec![outside.not(), inside]);
                return Some(if op_right == CmpOp::Eq {
                    equal
                } else {
                    equal.not()
                });
            }
        };
        let opaque = self.opaque_comparison(e, op, a, b);
        Some(Formula::or(vec![
            sure,
            Formula::and(vec![refuted.not(), opaque]),
        ]))
    }

    /// How a date-valued side reads: a window's `date(...)` of a timestamp carries the timestamp's
    /// own place in the text.
    fn day_text(&self, e: &TExpr) -> String {
        match &e.kind {
            TKind::DateOf(inner) if inner.span == e.span => format!("date({})", self.text(inner)),
            _ => self.text(e),
        }
    }

    fn owner(e: &TExpr) -> Option<Owner> {
        match e.kind {
            TKind::Now => Some(Owner::Now),
            TKind::Field(slot) => Some(Owner::Field(slot)),
            _ => None,
        }
    }

    /// `e` as a linear expression in its type's unit, if it is one.
    fn linear(&mut self, e: &TExpr) -> Option<Lin> {
        let constant = |c: i128| {
            Some(Lin {
                constant: c,
                ..Lin::default()
            })
        };
        let variable = |model: &mut Self, var: Var| {
            let index = model.var(var);
            Some(Lin {
                terms: BTreeMap::from([(index, 1)]),
                constant: 0,
            })
        };
        match &e.kind {
            TKind::Const(value) => match value {
                Value::Timestamp(_) | Value::Duration(_) => {
                    instant_constant(value).and_then(constant)
                }
                Value::Date(d) => constant(i128::from(*d)),
                Value::Days(n) | Value::Int(n) => constant(i128::from(*n)),
                Value::Money(m) => money_units(*m).and_then(constant),
                _ => None,
            },
            TKind::Now => variable(self, Var::Instant(Owner::Now)),
            TKind::Field(slot) => match e.ty {
                Type::Timestamp => variable(self, Var::Instant(Owner::Field(*slot))),
                Type::Date => variable(self, Var::Date(Owner::Field(*slot))),
                Type::Int => variable(self, Var::Number(*slot)),
                Type::Money => variable(self, Var::Money(*slot)),
                _ => None,
            },
            TKind::DateOf(inner) => {
                let owner = Self::owner(inner)?;
                variable(self, Var::Date(owner))
            }
            TKind::StartOfDay(inner) => {
                let day = self.linear(inner)?;
                self.start_of(day)
            }
            TKind::Neg(inner) => self.linear(inner)?.scaled(-1),
            // A count of days is the same number as an integer; a duration in whole units is a step
            // function, left opaque.
            TKind::Count(inner, _) if matches!(inner.ty, Type::Days | Type::BusinessDays) => {
                self.linear(inner)
            }
            TKind::Arith(op, a, b) => {
                let sign = match op {
                    ArithOp::AddNanos
                    | ArithOp::DateAddDays
                    | ArithOp::AddInt
                    | ArithOp::AddMoney => 1,
                    ArithOp::SubNanos
                    | ArithOp::DateSubDays
                    | ArithOp::DateDiff
                    | ArithOp::SubInt
                    | ArithOp::SubMoney => -1,
                    ArithOp::MulInt | ArithOp::MulMoneyInt => {
                        let (x, y) = (self.linear(a)?, self.linear(b)?);
                        let (lin, k) = match (x.constant_only(), y.constant_only()) {
                            (_, Some(k)) => (x, k),
                            (Some(k), _) => (y, k),
                            _ => return None,
                        };
                        // money × int: the int is a plain count, not in money's unit.
                        return lin.scaled(k);
                    }
                    _ => return None,
                };
                let (x, y) = (self.linear(a)?, self.linear(b)?);
                x.plus(y, sign)
            }
            _ => None,
        }
    }

    /// The steps in which the solver moves a variable away from its preferred value when a bound is
    /// finer than a second or a millionth (see `linear::pick`): instants by days, hours, ... down to
    /// nanoseconds, money by powers of ten.
    pub fn grains(&self, var: usize) -> Grains {
        const INSTANT: [i128; 13] = [
            DAY,
            3_600_000_000_000,
            60_000_000_000,
            1_000_000_000,
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
            100,
            10,
            1,
        ];
        const MONEY: [i128; 31] = {
            let mut grains = [1i128; 31];
            let mut i = 0;
            while i < 31 {
                grains[i] = 10i128.pow(30 - i as u32);
                i += 1;
            }
            grains
        };
        match self.vars.get(var) {
            Some(Var::Instant(_)) => Grains {
                whole: 1_000_000_000,
                grains: &INSTANT,
            },
            Some(Var::Money(_)) => Grains {
                whole: MONEY_SCALE / 1_000_000,
                grains: &MONEY,
            },
            _ => Grains {
                whole: 1,
                grains: &[],
            },
        }
    }

    /// Variable indices in the order the solver values them: dates, then counts and amounts, then the
    /// starts of days, then instants.
    pub fn solving_order(&self) -> Vec<usize> {
        let rank = |v: &Var| match v {
            Var::Date(_) => 0,
            Var::Number(_) | Var::Money(_) => 1,
            Var::DayStart(_) => 2,
            Var::Instant(_) => 3,
        };
        let mut order: Vec<usize> = (0..self.vars.len()).collect();
        order.sort_by_key(|i| rank(&self.vars[*i]));
        order
    }

    /// Constraints every valid input meets: instants lie in their day, days start where the zone lets
    /// them, amounts and counts are not negative.
    pub fn background(&self, absent: u64) -> Vec<Inequality> {
        let zone = self.zone;
        let mut rows = Vec::new();
        let is_absent = |owner: Owner| match owner {
            Owner::Field(slot) => absent & (1 << slot) != 0,
            Owner::Now => false,
        };
        let mut push = |lin: Option<Lin>| {
            if let Some(lin) = lin {
                rows.push(lin.inequality());
            }
        };
        for (i, var) in self.vars.iter().enumerate() {
            match var {
                Var::Instant(owner) if !is_absent(*owner) => {
                    let Some(date) = self.var_of(Var::Date(*owner)) else {
                        continue;
                    };
                    let t = Lin::variable(i);
                    let day = Lin::variable(date);
                    let start = |model: &Self, day: Lin| -> Option<Lin> {
                        model
                            .day_starts
                            .iter()
                            .find(|s| s.day == day && s.first.is_none())
                            .map(|s| Lin::variable(s.var))
                    };
                    let next = day.clone().plus(Lin::constant(1), 1);
                    match (zone.fixed(), zone.regular) {
                        // d·DAY - e ≤ t ≤ d·DAY + DAY - 1 - e
                        (Some(e), _) => {
                            let low = day.scaled(DAY).and_then(|d| d.plus(Lin::constant(e), -1));
                            push(low.clone().and_then(|l| l.plus(t.clone(), -1)));
                            push(low.and_then(|l| {
                                t.clone().plus(l, -1)?.plus(Lin::constant(DAY - 1), -1)
                            }));
                        }
                        // S(d) ≤ t ≤ S(d + 1) - 1
                        (None, true) => {
                            let (Some(first), Some(after)) =
                                (start(self, day), next.and_then(|n| start(self, n)))
                            else {
                                continue;
                            };
                            push(first.plus(t.clone(), -1));
                            push(t.plus(after, -1).and_then(|d| d.plus(Lin::constant(1), 1)));
                        }
                        // d·DAY - most offset ≤ t ≤ d·DAY + DAY - 1 - least offset
                        (None, false) => {
                            let scaled = day.scaled(DAY);
                            push(scaled.clone().and_then(|d| {
                                d.plus(Lin::constant(zone.offset_max), -1)?
                                    .plus(t.clone(), -1)
                            }));
                            push(scaled.and_then(|d| {
                                t.clone()
                                    .plus(d, -1)?
                                    .plus(Lin::constant(DAY - 1 - zone.offset_min), -1)
                            }));
                        }
                    }
                }
                // F(d) ≤ S(d) ≤ F(d) + the most they differ
                Var::DayStart(k) if self.day_starts[*k].first.is_some() => {
                    let Some(first) = self.day_starts[*k].first else {
                        continue;
                    };
                    let s = Lin::variable(i);
                    let f = Lin::variable(self.day_starts[first].var);
                    push(f.clone().plus(s.clone(), -1));
                    push(
                        s.plus(f, -1)
                            .and_then(|d| d.plus(Lin::constant(zone.quirk_max), -1)),
                    );
                }
                // d·DAY - e_max ≤ F(d) ≤ d·DAY - e_min
                Var::DayStart(k) => {
                    let s = Lin::variable(i);
                    let scaled = self.day_starts[*k].day.clone().scaled(DAY);
                    push(
                        scaled.clone().and_then(|d| {
                            d.plus(Lin::constant(zone.e_max), -1)?.plus(s.clone(), -1)
                        }),
                    );
                    push(
                        scaled.and_then(|d| {
                            s.clone().plus(d, -1)?.plus(Lin::constant(zone.e_min), 1)
                        }),
                    );
                }
                Var::Number(slot) | Var::Money(slot) if absent & (1 << slot) == 0 => {
                    push(Lin::constant(0).plus(Lin::variable(i), -1));
                }
                _ => {}
            }
        }
        rows.extend(self.settled.iter().cloned());
        rows
    }
}

/// `B + N calendar months` (or `- N`, as `+ -N`): B and the signed count, when the count is a constant.
fn moved_by_months(e: &TExpr) -> Option<(&TExpr, i64)> {
    let TKind::Arith(shift @ (ArithOp::DateAddMonths | ArithOp::DateSubMonths), base, count) =
        &e.kind
    else {
        return None;
    };
    let TKind::Const(Value::Months(n)) = count.kind else {
        return None;
    };
    let n = if *shift == ArithOp::DateSubMonths {
        n.checked_neg()?
    } else {
        n
    };
    Some((base, n))
}

/// A constant as a linear form.
fn constant(c: i128) -> Lin {
    Lin {
        constant: c,
        ..Lin::default()
    }
}

/// The fewest and the most days `months` calendar months move a date (one month: 28 days from
/// 31 January, 31 from 15 January). Moved from day d of a month, a date lands C - max(0, d - L) days
/// on (L the length of the month reached), so the extremes are from the first and the last day of a
/// month; the Gregorian calendar repeats every 400 years, so those of one cycle are all there are.
fn month_span(months: i64) -> Option<(i128, i128)> {
    let mut span: Option<(i64, i64)> = None;
    for index in 0..400 * 12 {
        let first = NaiveDate::from_ymd_opt(2000 + index / 12, (index % 12 + 1) as u32, 1)?;
        let last = add_months(first, 1)?.pred_opt()?;
        for day in [first, last] {
            let days = (add_months(day, months)? - day).num_days();
            span = Some(match span {
                None => (days, days),
                Some((lo, hi)) => (lo.min(days), hi.max(days)),
            });
        }
    }
    span.map(|(lo, hi)| (i128::from(lo), i128::from(hi)))
}

/// The structure of an expression without its spans: the same condition written twice has one shape.
pub(super) fn shape(e: &TExpr, out: &mut String) {
    use std::fmt::Write as _;
    let children: Vec<&TExpr> = match &e.kind {
        TKind::Const(v) => {
            let _ = write!(out, "c{v:?}");
            return;
        }
        TKind::Field(slot) => {
            let _ = write!(out, "f{slot}");
            return;
        }
        TKind::Now => {
            out.push('n');
            return;
        }
        TKind::Present(slot) => {
            let _ = write!(out, "p{slot}");
            return;
        }
        TKind::Edge(index) => {
            let _ = write!(out, "e{index}");
            return;
        }
        TKind::Let(id) => {
            let _ = write!(out, "l{id}");
            return;
        }
        TKind::Not(a) => {
            out.push('!');
            vec![a]
        }
        TKind::And(a, b) => {
            out.push('&');
            vec![a, b]
        }
        TKind::Or(a, b) => {
            out.push('|');
            vec![a, b]
        }
        TKind::Cmp(op, a, b) => {
            let _ = write!(out, "{op:?}");
            vec![a, b]
        }
        TKind::InSet(a, mask) => {
            let _ = write!(out, "in{mask}");
            vec![a]
        }
        TKind::TextIn(a, set) => {
            let _ = write!(out, "in{set:?}");
            vec![a]
        }
        TKind::Text(test, a, b) => {
            let _ = write!(out, "{test:?}");
            vec![a, b]
        }
        TKind::Arith(op, a, b) => {
            let _ = write!(out, "{op:?}");
            vec![a, b]
        }
        TKind::Neg(a) => {
            out.push('-');
            vec![a]
        }
        TKind::DateOf(a) => {
            out.push_str("date");
            vec![a]
        }
        TKind::StartOfDay(a) => {
            out.push_str("sod");
            vec![a]
        }
        TKind::Min(a, b) => {
            out.push_str("min");
            vec![a, b]
        }
        TKind::Max(a, b) => {
            out.push_str("max");
            vec![a, b]
        }
        TKind::If(c, a, b) => {
            out.push_str("if");
            vec![c, a, b]
        }
        TKind::Round(a, mode, quantum) => {
            let _ = write!(out, "round{mode:?}{quantum}");
            vec![a]
        }
        TKind::Count(a, per) => {
            let _ = write!(out, "count{per}");
            vec![a]
        }
    };
    out.push('(');
    for child in children {
        shape(child, out);
        out.push(',');
    }
    out.push(')');
}

/// Optional fields the assignment says are absent.
pub fn absent_fields(model: &Model<'_>, assignment: &[Option<bool>]) -> u64 {
    model
        .atoms
        .iter()
        .zip(assignment)
        .filter_map(|(atom, value)| match (&atom.kind, value) {
            (AtomKind::Present(slot), Some(false)) => Some(1u64 << slot),
            _ => None,
        })
        .fold(0, |mask, bit| mask | bit)
}

pub fn variants_mask(policy: &CheckedPolicy, slot: Slot) -> u64 {
    match policy.fields[slot as usize].ty {
        Type::Enum(id) => match policy.enums[id as usize].variants.len() {
            64 => u64::MAX,
            n => (1u64 << n) - 1,
        },
        _ => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bounds of calendar months in days: from 31 January one month is 28 days, from 15 January
    /// 31; a year is 365 or 366 days; back, the same lengths negated.
    #[test]
    fn months_move_a_date_by_bounded_days() {
        assert_eq!(month_span(0), Some((0, 0)));
        assert_eq!(month_span(1), Some((28, 31)));
        assert_eq!(month_span(2), Some((59, 62)));
        assert_eq!(month_span(12), Some((365, 366)));
        assert_eq!(month_span(-1), Some((-31, -28)));
        assert_eq!(month_span(-12), Some((-366, -365)));
        // Every date of a leap cycle, moved by a few counts, lands within the bounds.
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        for months in [1, 2, 5, 12, 13, -1, -7] {
            let (lo, hi) = month_span(months).unwrap();
            for offset in 0..1461 {
                let day = start + chrono::Days::new(offset);
                let days = i128::from((add_months(day, months).unwrap() - day).num_days());
                assert!((lo..=hi).contains(&days), "{day} + {months}: {days}");
            }
        }
    }
}
