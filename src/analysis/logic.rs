//! Guards as Boolean formulas over atoms, and a case-splitting search for the assignments of atoms
//! that make a set of formulas true, with the linear atoms kept consistent by `linear::solve`.

use std::collections::{BTreeMap, HashMap};

use super::linear::{solve, Inequality, Solution};
use crate::check::typed::{ArithOp, CmpOp, Slot, TExpr, TKind};
use crate::check::CheckedPolicy;
use crate::value::{Type, Value, NANOS_PER_SECOND};

/// The owner of a variable: an order field, or the request time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Field(Slot),
    Now,
}

/// A numeric variable: instants in seconds, dates as day numbers, whole numbers, money in millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Var {
    Instant(Owner),
    Date(Owner),
    Number(Slot),
    Money(Slot),
}

pub const MONEY_SCALE: i128 = 1_000_000;

/// An amount in millionths, if it has no finer part.
pub fn money_units(amount: rust_decimal::Decimal) -> Option<i128> {
    let scaled = amount.checked_mul(rust_decimal::Decimal::from(MONEY_SCALE as i64))?;
    scaled
        .fract()
        .is_zero()
        .then(|| scaled.mantissa() / 10i128.pow(scaled.scale()))
}
const SECONDS_PER_DAY: i128 = 86_400;

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
    fn pending_atom(&self, assignment: &[Option<bool>]) -> Option<usize> {
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
#[derive(Debug, Clone, Default)]
struct Lin {
    terms: BTreeMap<usize, i128>,
    constant: i128,
}

impl Lin {
    fn scaled(mut self, k: i128) -> Option<Lin> {
        for c in self.terms.values_mut() {
            *c = c.checked_mul(k)?;
        }
        self.constant = self.constant.checked_mul(k)?;
        Some(self)
    }

    fn plus(mut self, other: Lin, sign: i128) -> Option<Lin> {
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

    fn inequality(self) -> Inequality {
        Inequality {
            coeffs: self.terms.into_iter().filter(|(_, c)| *c != 0).collect(),
            constant: self.constant,
        }
    }
}

/// Builds the atoms and formulas of one action's guards.
pub struct Model<'a> {
    pub policy: &'a CheckedPolicy,
    source: &'a str,
    pub atoms: Vec<Atom>,
    keys: HashMap<String, usize>,
    pub vars: Vec<Var>,
    var_index: HashMap<Var, usize>,
    /// The zone's offset from UTC in seconds (its standard offset: dates and instants are tied by it).
    pub offset: i128,
}

impl<'a> Model<'a> {
    pub fn new(policy: &'a CheckedPolicy, source: &'a str, offset: i128) -> Self {
        Model {
            policy,
            source,
            atoms: Vec::new(),
            keys: HashMap::new(),
            vars: Vec::new(),
            var_index: HashMap::new(),
            offset,
        }
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
        let listed: Vec<&str> = variants
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, v)| v.as_str())
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
            TKind::And(a, b) => Formula::And(vec![self.formula(a), self.formula(b)]),
            TKind::Or(a, b) => Formula::Or(vec![self.formula(a), self.formula(b)]),
            TKind::If(c, a, b) => {
                let (c, a, b) = (self.formula(c), self.formula(a), self.formula(b));
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
            TKind::Cmp(op, a, b) => self.comparison(e, *op, a, b),
            _ => self.opaque(e),
        }
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
                reads: e.fields_read(),
            },
        )
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
                let name = self.policy.fields[*slot as usize].name.clone();
                let atom = self.atom(
                    format!("string {slot} {literal:?}"),
                    Atom {
                        kind: AtomKind::StrEq {
                            slot: *slot,
                            literal: literal.to_string(),
                        },
                        text: format!("{name} == {literal:?}"),
                        negated_text: format!("{name} != {literal:?}"),
                        reads: 1 << slot,
                    },
                );
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
        let (Some(left), Some(right)) = (self.linear(a), self.linear(b)) else {
            return self.opaque(e);
        };
        let Some(difference) = left.plus(right, -1) else {
            return self.opaque(e);
        };
        let reads = e.fields_read();
        // Desugared windows carry one span for the whole window: describe them as written.
        let (sides, flipped) = if a.span == e.span || b.span == e.span {
            let whole = self.text(e);
            ((whole.clone(), whole.clone()), None)
        } else {
            ((self.text(a), self.text(b)), Some(()))
        };
        let describe = |op: CmpOp| -> String {
            let symbol = match op {
                CmpOp::Eq => "==",
                CmpOp::Ne => "!=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            format!("{} {symbol} {}", sides.0, sides.1)
        };
        let whole = || sides.0.clone();
        let texts = |op: CmpOp, negated: CmpOp| match flipped {
            Some(()) => (describe(op), describe(negated)),
            None => (whole(), format!("not ({})", whole())),
        };
        let mut le = |lin: Lin, text: (String, String)| -> Formula {
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
        };
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
                Value::Timestamp(t) => (t.subsec_nanos() == 0)
                    .then(|| i128::from(t.unix_seconds()))
                    .and_then(constant),
                Value::Duration(n) => (n % NANOS_PER_SECOND == 0)
                    .then(|| i128::from(n / NANOS_PER_SECOND))
                    .and_then(constant),
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
                let date = self.linear(inner)?;
                date.scaled(SECONDS_PER_DAY)?.plus(
                    Lin {
                        constant: self.offset,
                        ..Lin::default()
                    },
                    -1,
                )
            }
            TKind::Neg(inner) => self.linear(inner)?.scaled(-1),
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

    /// Variable indices in the order the solver values them: dates, then counts and amounts, then
    /// instants.
    fn solving_order(&self) -> Vec<usize> {
        let rank = |v: &Var| match v {
            Var::Date(_) => 0,
            Var::Number(_) | Var::Money(_) => 1,
            Var::Instant(_) => 2,
        };
        let mut order: Vec<usize> = (0..self.vars.len()).collect();
        order.sort_by_key(|i| rank(&self.vars[*i]));
        order
    }

    /// Constraints every valid input meets: instants and their dates agree, amounts and counts are not
    /// negative.
    pub fn background(&self, absent: u64) -> Vec<Inequality> {
        let mut rows = Vec::new();
        let index = |var: Var| self.var_index.get(&var).copied();
        let owners: Vec<Owner> = self
            .vars
            .iter()
            .filter_map(|v| match v {
                Var::Instant(o) | Var::Date(o) => Some(*o),
                _ => None,
            })
            .collect();
        let mut seen = Vec::new();
        for owner in owners {
            if seen.contains(&owner) {
                continue;
            }
            seen.push(owner);
            if let Owner::Field(slot) = owner {
                if absent & (1 << slot) != 0 {
                    continue;
                }
            }
            if let (Some(t), Some(d)) = (index(Var::Instant(owner)), index(Var::Date(owner))) {
                // d·86400 - offset ≤ t ≤ d·86400 + 86399 - offset
                rows.push(Inequality {
                    coeffs: vec![(d, SECONDS_PER_DAY), (t, -1)],
                    constant: -self.offset,
                });
                rows.push(Inequality {
                    coeffs: vec![(t, 1), (d, -SECONDS_PER_DAY)],
                    constant: -(SECONDS_PER_DAY - 1) + self.offset,
                });
            }
        }
        for (i, var) in self.vars.iter().enumerate() {
            if let Var::Number(slot) | Var::Money(slot) = var {
                if absent & (1 << slot) == 0 {
                    rows.push(Inequality {
                        coeffs: vec![(i, -1)],
                        constant: 0,
                    });
                }
            }
        }
        rows
    }
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct Cube {
    pub assignment: Vec<Option<bool>>,
    /// Values of the model's variables, when the linear part produced them.
    pub values: Option<Vec<i128>>,
}

pub struct Search<'m, 'a> {
    pub model: &'m Model<'a>,
    pub preferred: Vec<i128>,
    pub max_cubes: usize,
    pub max_nodes: usize,
    nodes: usize,
    pub exhausted: bool,
    pub cubes: Vec<Cube>,
}

impl<'m, 'a> Search<'m, 'a> {
    pub fn new(model: &'m Model<'a>, preferred: Vec<i128>, max_cubes: usize) -> Self {
        Search {
            model,
            preferred,
            max_cubes,
            max_nodes: 200_000,
            nodes: 0,
            exhausted: false,
            cubes: Vec::new(),
        }
    }

    /// Finds up to `max_cubes` assignments that make every formula true.
    pub fn run(&mut self, formulas: &[Formula]) {
        let mut assignment = vec![None; self.model.atoms.len()];
        self.step(formulas, &mut assignment);
    }

    fn step(&mut self, formulas: &[Formula], assignment: &mut Vec<Option<bool>>) {
        if self.cubes.len() >= self.max_cubes || self.exhausted {
            return;
        }
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            self.exhausted = true;
            return;
        }
        let mut pending = None;
        for f in formulas {
            match f.eval(assignment) {
                Some(false) => return,
                Some(true) => {}
                None => {
                    if pending.is_none() {
                        pending = f.pending_atom(assignment);
                    }
                }
            }
        }
        let theory = self.theory(assignment);
        let Some(values) = theory else {
            return;
        };
        let Some(atom) = pending else {
            self.cubes.push(Cube {
                assignment: assignment.clone(),
                values,
            });
            return;
        };
        for value in [true, false] {
            assignment[atom] = Some(value);
            self.step(formulas, assignment);
            assignment[atom] = None;
        }
    }

    /// Whether the assigned atoms can hold together: `None` if not; else the variables' values when
    /// the linear solver found them.
    fn theory(&self, assignment: &[Option<bool>]) -> Option<Option<Vec<i128>>> {
        let model = self.model;
        let absent = absent_fields(model, assignment);
        let mut masks: HashMap<Slot, u64> = HashMap::new();
        let mut strings: HashMap<Slot, &str> = HashMap::new();
        let mut rows = model.background(absent);
        for (atom, value) in model.atoms.iter().zip(assignment) {
            let Some(value) = value else { continue };
            if atom.reads & absent != 0 {
                continue;
            }
            match &atom.kind {
                AtomKind::Enum { slot, mask } => {
                    let entry = masks.entry(*slot).or_insert(u64::MAX);
                    *entry &= if *value { *mask } else { !*mask };
                }
                // One field cannot equal two different literals.
                AtomKind::StrEq { slot, literal }
                    if *value
                        && strings
                            .insert(*slot, literal)
                            .is_some_and(|other| other != literal) =>
                {
                    return None;
                }
                AtomKind::Linear(inequality) => rows.push(if *value {
                    inequality.clone()
                } else {
                    Inequality {
                        coeffs: inequality.coeffs.iter().map(|(v, c)| (*v, -c)).collect(),
                        constant: 1 - inequality.constant,
                    }
                }),
                _ => {}
            }
        }
        for (slot, mask) in masks {
            if mask & variants_mask(model.policy, slot) == 0 {
                return None;
            }
        }
        // Dates are valued before instants: an instant then only has to fall inside its day, which
        // keeps integer solutions where a rational one exists.
        let order = model.solving_order();
        let mut position = vec![0; order.len()];
        for (p, v) in order.iter().enumerate() {
            position[*v] = p;
        }
        let rows: Vec<Inequality> = rows
            .into_iter()
            .map(|r| Inequality {
                coeffs: r
                    .coeffs
                    .into_iter()
                    .map(|(v, c)| (position[v], c))
                    .collect(),
                constant: r.constant,
            })
            .collect();
        let preferred: Vec<i128> = order.iter().map(|v| self.preferred[*v]).collect();
        match solve(&rows, order.len(), &preferred) {
            Solution::Feasible(values) => Some(Some(position.iter().map(|p| values[*p]).collect())),
            Solution::Infeasible => None,
            Solution::Unknown => Some(None),
        }
    }
}

/// The structure of an expression without its spans: the same condition written twice has one shape.
fn shape(e: &TExpr, out: &mut String) {
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
