//! A case split over the atoms of a model (`logic`), with the linear atoms kept feasible by `linear`.
//!
//! The search walks a tree: at each node it asks its goal what the node is (a conflict, an atom to split
//! on, or a leaf), checks that the atoms assigned so far can hold together (enum masks, string literals,
//! the linear rows), and assigns every atom the linear bounds and enum masks already decide
//! (propagation: the other branch would be infeasible anyway). At a leaf whose values break how two day
//! starts relate (`logic::Pair`), it splits on that pair first. The tree is walked with an explicit
//! stack, and every node and every row the linear solver handles is paid for out of a `Budget`: when
//! it runs out the search stops and says so, so that a result never depends on the machine's speed.

use std::cell::Cell;
use std::collections::HashMap;

use super::linear::{bound_of, solve, Bound, Grains, Inequality, Solution};
use super::logic::{variants_mask, AtomKind, Formula, Model, PAIR_REGIONS};
use crate::check::typed::Slot;

/// Work units an action's analysis may spend: one per node of a search, one per row the linear solver
/// handles. About a second in a release build; a 1,000-rule table of `x == K` needs well under a tenth.
pub const BUDGET: u64 = 20_000_000;

/// The work left for one action's analysis, shared by all its searches.
#[derive(Debug)]
pub struct Budget {
    left: Cell<u64>,
    limit: u64,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget {
            left: Cell::new(limit),
            limit,
        }
    }

    /// Pays `units`; false once the budget is spent.
    pub fn spend(&self, units: u64) -> bool {
        let left = self.left.get();
        self.left.set(left.saturating_sub(units));
        left >= units
    }

    pub fn exhausted(&self) -> bool {
        self.left.get() == 0
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }
}

/// A leaf of a search: the atoms assigned there, and values of the model's variables that meet them.
#[derive(Debug, Clone)]
pub struct Cube {
    pub assignment: Vec<Option<bool>>,
    /// Values of the model's variables, when the linear part produced them.
    pub values: Option<Vec<i128>>,
    /// The region chosen for each pair of day starts, if the search split on it.
    pub regions: Vec<Option<u8>>,
}

pub enum Status {
    /// No input in this subtree is of interest.
    Conflict,
    /// Split on this atom.
    Pending(usize),
    Leaf,
}

pub trait Goal {
    fn status(&mut self, assignment: &[Option<bool>]) -> Status;
    /// A leaf whose atoms can hold together; false stops the search.
    fn leaf(&mut self, cube: Cube) -> bool;
}

/// Finds up to `max` leaves where every formula is true.
pub struct Satisfy<'f> {
    pub formulas: &'f [Formula],
    pub max: usize,
    pub cubes: Vec<Cube>,
}

impl<'f> Satisfy<'f> {
    pub fn new(formulas: &'f [Formula], max: usize) -> Self {
        Satisfy {
            formulas,
            max,
            cubes: Vec::new(),
        }
    }
}

/// Over formulas that must all hold: `Conflict` if one is false, else the first atom still to choose
/// for one that is not yet decided (`Pending`), else `Leaf` (all hold).
pub fn all_hold(formulas: &[Formula], assignment: &[Option<bool>]) -> Status {
    let mut pending = None;
    for f in formulas {
        match f.eval(assignment) {
            Some(false) => return Status::Conflict,
            Some(true) => {}
            None => {
                if pending.is_none() {
                    pending = f.pending_atom(assignment);
                }
            }
        }
    }
    match pending {
        Some(atom) => Status::Pending(atom),
        None => Status::Leaf,
    }
}

impl Goal for Satisfy<'_> {
    fn status(&mut self, assignment: &[Option<bool>]) -> Status {
        all_hold(self.formulas, assignment)
    }

    fn leaf(&mut self, cube: Cube) -> bool {
        self.cubes.push(cube);
        self.cubes.len() < self.max
    }
}

enum Choice {
    Atom(usize),
    Pair(usize),
}

struct Frame {
    choice: Choice,
    branch: u8,
    trail: usize,
}

/// What the assigned atoms allow: `values` when the solver found them, and the bounds the linear rows
/// set on each form, for propagation.
struct Theory {
    values: Option<Vec<i128>>,
    /// Per form of a linear atom (see `Engine::forms`): the least and greatest value the rows allow.
    bounds: Vec<(i128, i128)>,
    masks: HashMap<Slot, u64>,
    strings: HashMap<Slot, usize>,
}

pub struct Engine<'m, 'a> {
    model: &'m Model<'a>,
    preferred: &'m [i128],
    budget: &'m Budget,
    /// The budget ran out during this engine's searches.
    pub exhausted: bool,
    /// Per linear atom: its form's index in `forms`, and the bound it sets on it when true.
    linear: Vec<Option<(usize, Bound)>>,
    /// The forms of the linear atoms: propagation only looks at these.
    forms: HashMap<Vec<(usize, i128)>, usize>,
}

struct State {
    assignment: Vec<Option<bool>>,
    /// Assigned by propagation rather than by a split.
    implied: Vec<bool>,
    trail: Vec<usize>,
    regions: Vec<Option<u8>>,
    frames: Vec<Frame>,
}

impl State {
    fn assign(&mut self, atom: usize, value: bool, implied: bool) {
        self.assignment[atom] = Some(value);
        self.implied[atom] = implied;
        self.trail.push(atom);
    }

    fn undo(&mut self, to: usize) {
        while self.trail.len() > to {
            if let Some(atom) = self.trail.pop() {
                self.assignment[atom] = None;
                self.implied[atom] = false;
            }
        }
    }
}

impl<'m, 'a> Engine<'m, 'a> {
    pub fn new(model: &'m Model<'a>, preferred: &'m [i128], budget: &'m Budget) -> Self {
        let mut forms: HashMap<Vec<(usize, i128)>, usize> = HashMap::new();
        let linear = model
            .atoms
            .iter()
            .map(|atom| match &atom.kind {
                AtomKind::Linear(row) => bound_of(row).map(|bound| {
                    let next = forms.len();
                    let form = *forms.entry(bound.form.clone()).or_insert(next);
                    (form, bound)
                }),
                _ => None,
            })
            .collect();
        Engine {
            model,
            preferred,
            budget,
            exhausted: false,
            linear,
            forms,
        }
    }

    /// Walks the tree for `goal`, until the goal stops it, the tree ends or the budget runs out.
    pub fn run(&mut self, goal: &mut impl Goal) {
        let atoms = self.model.atoms.len();
        let mut state = State {
            assignment: vec![None; atoms],
            implied: vec![false; atoms],
            trail: Vec::new(),
            regions: vec![None; self.model.pairs.len()],
            frames: Vec::new(),
        };
        loop {
            if self.exhausted || !self.budget.spend(1) {
                self.exhausted = true;
                return;
            }
            match self.visit(goal, &mut state) {
                Visit::Descend => continue,
                Visit::Stop => return,
                Visit::Backtrack => {}
            }
            // Backtrack to the next branch not yet taken.
            loop {
                let Some(mut frame) = state.frames.pop() else {
                    return;
                };
                state.undo(frame.trail);
                let branches = match frame.choice {
                    Choice::Atom(_) => 2,
                    Choice::Pair(pair) => {
                        state.regions[pair] = None;
                        PAIR_REGIONS
                    }
                };
                frame.branch += 1;
                if frame.branch < branches {
                    self.take(&mut state, &frame);
                    state.frames.push(frame);
                    break;
                }
            }
        }
    }

    fn take(&self, state: &mut State, frame: &Frame) {
        match frame.choice {
            Choice::Atom(atom) => state.assign(atom, frame.branch == 0, false),
            Choice::Pair(pair) => state.regions[pair] = Some(frame.branch),
        }
    }

    fn visit(&mut self, goal: &mut impl Goal, state: &mut State) -> Visit {
        let mut theory: Option<Theory> = None;
        let status = loop {
            let status = goal.status(&state.assignment);
            if matches!(status, Status::Conflict) {
                return Visit::Backtrack;
            }
            if theory.is_none() {
                let Some(found) = self.theory(state, &[], None) else {
                    return Visit::Backtrack;
                };
                let propagated = self.propagate(state, &found);
                theory = Some(found);
                if propagated {
                    continue;
                }
            }
            break status;
        };
        let values = theory.and_then(|t| t.values);
        match status {
            Status::Pending(atom) => {
                let frame = Frame {
                    choice: Choice::Atom(atom),
                    branch: 0,
                    trail: state.trail.len(),
                };
                self.take(state, &frame);
                state.frames.push(frame);
                Visit::Descend
            }
            Status::Leaf => {
                if let Some(values) = &values {
                    let broken = self.model.pairs.iter().enumerate().find(|(i, pair)| {
                        state.regions[*i].is_none()
                            && self.model.pair_holds(pair, values) == Some(false)
                    });
                    if let Some((pair, _)) = broken {
                        let frame = Frame {
                            choice: Choice::Pair(pair),
                            branch: 0,
                            trail: state.trail.len(),
                        };
                        self.take(state, &frame);
                        state.frames.push(frame);
                        return Visit::Descend;
                    }
                }
                let cube = Cube {
                    assignment: state.assignment.clone(),
                    values,
                    regions: state.regions.clone(),
                };
                if goal.leaf(cube) {
                    Visit::Backtrack
                } else {
                    Visit::Stop
                }
            }
            Status::Conflict => Visit::Backtrack,
        }
    }

    /// Values for a cube's region again, under extra rows and with other preferred values: for
    /// witnesses on real days of the zone, or elsewhere in the region.
    pub fn resolve(
        &mut self,
        cube: &Cube,
        extra: &[Inequality],
        preferred: Option<&[i128]>,
    ) -> Option<Vec<i128>> {
        let state = State {
            assignment: cube.assignment.clone(),
            implied: vec![false; cube.assignment.len()],
            trail: (0..cube.assignment.len())
                .filter(|i| cube.assignment[*i].is_some())
                .collect(),
            regions: cube.regions.clone(),
            frames: Vec::new(),
        };
        self.theory(&state, extra, preferred)?.values
    }

    /// Whether the assigned atoms can hold together (`None` if not).
    fn theory(
        &mut self,
        state: &State,
        extra: &[Inequality],
        preferred: Option<&[i128]>,
    ) -> Option<Theory> {
        let model = self.model;
        let mut absent = 0u64;
        for &i in &state.trail {
            if let (AtomKind::Present(slot), Some(false)) =
                (&model.atoms[i].kind, state.assignment[i])
            {
                absent |= 1 << slot;
            }
        }
        let mut masks: HashMap<Slot, u64> = HashMap::new();
        let mut strings: HashMap<Slot, usize> = HashMap::new();
        let mut rows = model.background(absent);
        for &i in &state.trail {
            let (atom, value) = (&model.atoms[i], &state.assignment[i]);
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
                AtomKind::StrEq { slot, literal } if *value => {
                    if let Some(&other) = strings.get(slot) {
                        if let AtomKind::StrEq { literal: known, .. } = &model.atoms[other].kind {
                            if known != literal {
                                return None;
                            }
                        }
                    }
                    strings.insert(*slot, i);
                }
                // Implied atoms add nothing the other rows do not say.
                // (A negation that overflows is left out: fewer rows, more orders, still sound.)
                AtomKind::Linear(row) if !state.implied[i] => {
                    if *value {
                        rows.push(row.clone());
                    } else if let Some(negated) = row.negated() {
                        rows.push(negated);
                    }
                }
                _ => {}
            }
        }
        for (slot, mask) in &masks {
            if mask & variants_mask(model.policy, *slot) == 0 {
                return None;
            }
        }
        for (pair, region) in model.pairs.iter().zip(&state.regions) {
            if let Some(region) = region {
                rows.extend(model.pair_rows(pair, *region));
            }
        }
        rows.extend(extra.iter().cloned());
        let mut bounds = vec![(i128::MIN, i128::MAX); self.forms.len()];
        for row in &rows {
            let Some(bound) = bound_of(row) else { continue };
            let Some(&form) = self.forms.get(&bound.form) else {
                continue;
            };
            let entry = &mut bounds[form];
            if bound.upper {
                entry.1 = entry.1.min(bound.value);
            } else {
                entry.0 = entry.0.max(bound.value);
            }
            if entry.0 > entry.1 {
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
        let preferred = preferred.unwrap_or(self.preferred);
        let ordered: Vec<i128> = order
            .iter()
            .map(|v| preferred.get(*v).copied().unwrap_or(0))
            .collect();
        let grains: Vec<Grains> = order.iter().map(|v| model.grains(*v)).collect();
        let mut work = state.trail.len() as u64;
        let solution = solve(&rows, order.len(), &ordered, &grains, &mut work);
        if !self.budget.spend(work) {
            self.exhausted = true;
        }
        let values = match solution {
            Solution::Feasible(values) => Some(position.iter().map(|p| values[*p]).collect()),
            Solution::Infeasible => return None,
            Solution::Unknown => None,
        };
        Some(Theory {
            values,
            bounds,
            masks,
            strings,
        })
    }

    /// Assigns the atoms that the bounds, enum masks and string literals already decide; whether any was.
    fn propagate(&mut self, state: &mut State, theory: &Theory) -> bool {
        if !self.budget.spend(self.model.atoms.len() as u64) {
            self.exhausted = true;
        }
        let mut any = false;
        for (i, atom) in self.model.atoms.iter().enumerate() {
            if state.assignment[i].is_some() {
                continue;
            }
            let decided = match &atom.kind {
                AtomKind::Linear(_) => self.linear[i].as_ref().and_then(|(form, bound)| {
                    let (low, high) = theory.bounds[*form];
                    // The atom is `form ≤ value` (upper) or `form ≥ value`.
                    if bound.upper {
                        if high <= bound.value {
                            Some(true)
                        } else if low > bound.value {
                            Some(false)
                        } else {
                            None
                        }
                    } else if low >= bound.value {
                        Some(true)
                    } else if high < bound.value {
                        Some(false)
                    } else {
                        None
                    }
                }),
                AtomKind::Enum { slot, mask } => theory.masks.get(slot).and_then(|known| {
                    let known = known & variants_mask(self.model.policy, *slot);
                    if known & !mask == 0 {
                        Some(true)
                    } else if known & mask == 0 {
                        Some(false)
                    } else {
                        None
                    }
                }),
                AtomKind::StrEq { slot, .. } => theory.strings.get(slot).map(|_| false),
                _ => None,
            };
            if let Some(value) = decided {
                state.assign(i, value, true);
                any = true;
            }
        }
        any
    }
}

enum Visit {
    Descend,
    Backtrack,
    Stop,
}
