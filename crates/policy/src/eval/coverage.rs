//! What a policy's examples leave untested (`policy test --coverage`), measured on the interpreter
//! itself, never on the text:
//!
//! - **rules**: a rule is covered when some example is decided by it (the decision's `rule`);
//! - **window edges**: every comparison of a guard with the request time (a window on `now`, or a
//!   comparison such as `date(now) <= date(paid_at) + 5 business days`) is an edge the interpreter solves
//!   for each order. An edge is covered *below* when some example is requested in the second before its
//!   truth changes (its truth at the request differs from its truth one second later), and *above* when
//!   some example is requested in the second from which it has changed (its truth at the request
//!   differs from its truth one second earlier). Only examples whose order can reach the edge's rule
//!   count: the rule's conditions that do not read the request time (`status == issued and ...`) hold
//!   for it. An edge is covered when it is covered on both sides;
//! - **field windows**: every other comparison of times in a guard, between the order's own timestamps
//!   or dates (`revoked_at within 28 calendar days after issued_at`). An example stands at its edge when
//!   moving one of the timestamps it reads by one second (a date by one day), either way, changes the
//!   comparison's truth; on the side where it holds, or where it fails. A field window is covered when
//!   examples stand at its edge on both sides. Every example whose order gives the comparison a value
//!   counts;
//! - **enum values**: a value of an enum that types a field is covered when some example's order has
//!   it in such a field (given, or by the field's default).
//!
//! Examples whose order is refused (they `expect` an `error`) decide no rule and reach no edge.

use super::interp::{self, EdgeBounds, Env, Lets};
use super::Policy;
use crate::check::typed::{TExpr, TKind};
use crate::source::Span;
use crate::value::{Type, Value};

/// One second, in nanoseconds.
const SECOND: i128 = 1_000_000_000;

/// What the examples of one policy exercise.
#[derive(Debug, Clone, Default)]
pub struct ExampleCoverage {
    /// Every rule of every action, in source order.
    pub rules: Vec<RuleCoverage>,
    /// Every edge of every rule, in the order the interpreter solves them.
    pub edges: Vec<EdgeCoverage>,
    /// Every comparison between the order's own times in a guard, rule by rule.
    pub field_windows: Vec<FieldWindowCoverage>,
    /// Every value of every enum that types a field, in declaration order.
    pub enum_values: Vec<EnumValueCoverage>,
}

/// A comparison between the order's own times, and the examples at its edge on each side.
#[derive(Debug, Clone)]
pub struct FieldWindowCoverage {
    /// The action of its rule.
    pub action: String,
    /// The rule whose guard holds it.
    pub rule: String,
    /// Where it is written (inside a definition: where the definition is used).
    pub span: Span,
    /// The examples at its edge where it holds: moving a time it reads by a second (a date by a day)
    /// makes it fail.
    pub holding: usize,
    /// The examples at its edge where it fails.
    pub failing: usize,
}

impl FieldWindowCoverage {
    /// Whether examples stand at its edge on both sides.
    pub fn covered(&self) -> bool {
        self.holding > 0 && self.failing > 0
    }
}

/// A rule, and how many examples it decides.
#[derive(Debug, Clone)]
pub struct RuleCoverage {
    /// Its action.
    pub action: String,
    /// Its id.
    pub rule: String,
    /// Where its id is written.
    pub span: Span,
    /// The examples decided by it.
    pub examples: usize,
}

/// A comparison with the request time, and the examples on each side of it.
#[derive(Debug, Clone)]
pub struct EdgeCoverage {
    /// The action of its rule.
    pub action: String,
    /// The rule whose guard holds it.
    pub rule: String,
    /// Where the comparison is written (for a window, the window; inside a definition, there).
    pub span: Span,
    /// The examples requested in the second before its truth changes.
    pub below: usize,
    /// The examples requested in the second from which its truth has changed.
    pub above: usize,
}

impl EdgeCoverage {
    /// Whether examples stand on both sides of it.
    pub fn covered(&self) -> bool {
        self.below > 0 && self.above > 0
    }
}

/// A value of an enum, and how many examples' orders use it.
#[derive(Debug, Clone)]
pub struct EnumValueCoverage {
    /// The enum's name.
    pub enum_name: String,
    /// The value.
    pub value: String,
    /// The examples whose order has it in a field of that enum.
    pub examples: usize,
}

/// Covered items out of a total, as a percentage (100 when there is nothing to cover).
pub fn percent(covered: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        100.0 * covered as f64 / total as f64
    }
}

impl ExampleCoverage {
    /// Rules decided by some example, and all rules.
    pub fn rules_covered(&self) -> (usize, usize) {
        let covered = self.rules.iter().filter(|r| r.examples > 0).count();
        (covered, self.rules.len())
    }

    /// Edges with examples on both sides, and all edges.
    pub fn edges_covered(&self) -> (usize, usize) {
        let covered = self.edges.iter().filter(|e| e.covered()).count();
        (covered, self.edges.len())
    }

    /// Field windows with examples at their edge on both sides, and all of them.
    pub fn field_windows_covered(&self) -> (usize, usize) {
        let covered = self.field_windows.iter().filter(|w| w.covered()).count();
        (covered, self.field_windows.len())
    }

    /// Enum values some example uses, and all of them.
    pub fn enum_values_covered(&self) -> (usize, usize) {
        let covered = self.enum_values.iter().filter(|v| v.examples > 0).count();
        (covered, self.enum_values.len())
    }
}

/// Runs every example of `policy` and measures what they exercise (see the module's documentation).
pub fn example_coverage(policy: &Policy) -> ExampleCoverage {
    let program = &*policy.program;
    let checked = &program.policy;
    let mut coverage = ExampleCoverage::default();
    // Rules and edges, action by action.
    let mut first_rule = Vec::with_capacity(program.actions.len());
    let mut first_edge = Vec::with_capacity(program.actions.len());
    // Per action, its field windows' comparisons, numbered as `coverage.field_windows` from
    // `first_window`.
    let mut field_atoms: Vec<Vec<TExpr>> = Vec::with_capacity(program.actions.len());
    let mut first_window = Vec::with_capacity(program.actions.len());
    for (action, compiled) in checked.actions.iter().zip(&program.actions) {
        first_rule.push(coverage.rules.len());
        first_edge.push(coverage.edges.len());
        first_window.push(coverage.field_windows.len());
        let mut from = 0;
        for (rule, compiled_rule) in action.rules.iter().zip(&compiled.rules) {
            coverage.rules.push(RuleCoverage {
                action: action.name.clone(),
                rule: rule.id.clone(),
                span: rule.id_span,
                examples: 0,
            });
            let through = usize::from(compiled_rule.edges_through);
            for edge in compiled.edges.get(from..through).unwrap_or_default() {
                coverage.edges.push(EdgeCoverage {
                    action: action.name.clone(),
                    rule: rule.id.clone(),
                    span: edge.span,
                    below: 0,
                    above: 0,
                });
            }
            from = from.max(through);
        }
        let mut atoms = Vec::new();
        for (rule, compiled_rule) in action.rules.iter().zip(&compiled.rules) {
            let mut own = Vec::new();
            // The guard's conjuncts, in order: its timeless part, then the rest.
            for part in [&compiled_rule.timeless, &compiled_rule.timed]
                .into_iter()
                .flatten()
            {
                time_comparisons(part, checked, &mut own);
            }
            for atom in own {
                coverage.field_windows.push(FieldWindowCoverage {
                    action: action.name.clone(),
                    rule: rule.id.clone(),
                    span: atom.span,
                    holding: 0,
                    failing: 0,
                });
                atoms.push(atom);
            }
        }
        field_atoms.push(atoms);
    }
    // Enum values: those of enums that type a field.
    let mut enum_first: Vec<Option<usize>> = vec![None; checked.enums.len()];
    for field in &checked.fields {
        let Type::Enum(id) = field.ty else {
            continue;
        };
        let id = usize::from(id);
        let (Some(first @ None), Some(info)) = (enum_first.get_mut(id), checked.enums.get(id))
        else {
            continue;
        };
        *first = Some(coverage.enum_values.len());
        for value in &info.variants {
            coverage.enum_values.push(EnumValueCoverage {
                enum_name: info.name.clone(),
                value: value.clone(),
                examples: 0,
            });
        }
    }

    for (index, action) in checked.actions.iter().enumerate() {
        let compiled = &program.actions[index];
        for example in &action.examples {
            let Ok(order) = policy.read_order_str(&example.order_text) else {
                continue;
            };
            // Enum values of the order, each value once per example.
            let mut seen = vec![false; coverage.enum_values.len()];
            for (slot, field) in checked.fields.iter().enumerate() {
                if let (Type::Enum(id), Some(Some(Value::Enum(v)))) =
                    (field.ty, order.frame.get(slot))
                {
                    if let Some(Some(first)) = enum_first.get(usize::from(id)) {
                        if let Some(seen) = seen.get_mut(first + usize::from(*v)) {
                            *seen = true;
                        }
                    }
                }
            }
            for (value, seen) in coverage.enum_values.iter_mut().zip(seen) {
                value.examples += usize::from(seen);
            }
            // INVARIANT: the checker refuses examples with neither `at` nor `requested_at`.
            let default_now = example.at.unwrap_or(crate::time::Instant::UNIX_EPOCH);
            let Ok(decision) = policy.decide(&action.name, &order, default_now) else {
                continue;
            };
            if let Some(rule) = action.rules.iter().position(|r| r.id == decision.rule) {
                if let Some(counted) = coverage.rules.get_mut(first_rule[index] + rule) {
                    counted.examples += 1;
                }
            }
            let now = program
                .requested_at
                .and_then(|slot| match order.frame.get(usize::from(slot)) {
                    Some(Some(Value::Timestamp(t))) => Some(t.nanos()),
                    _ => None,
                })
                .unwrap_or(default_now.nanos());
            let lets = Lets::<i128>::new(program);
            let bounds = EdgeBounds::<i128>::new(&compiled.edges);
            let env = Env {
                frame: &order.frame,
                now,
                zone: checked.zone,
                calendar: checked.calendar.as_deref(),
                edges: Some(&bounds),
                lets: &lets,
            };
            let holds =
                |edge: usize, at: i128| interp::edge_holds(edge, &Env { now: at, ..env }).ok();
            let mut from = 0;
            for rule in &compiled.rules {
                let through = usize::from(rule.edges_through);
                let own = from..through.max(from);
                from = own.end;
                // A rule whose conditions without `now` are false for this order never matches it.
                if let Some(given) = &rule.timeless {
                    if !matches!(interp::truth(given, &env), Ok(true)) {
                        continue;
                    }
                }
                for edge in own {
                    let (Some(before), Some(at), Some(after)) = (
                        holds(edge, now - SECOND),
                        holds(edge, now),
                        holds(edge, now + SECOND),
                    ) else {
                        continue;
                    };
                    let Some(counted) = coverage.edges.get_mut(first_edge[index] + edge) else {
                        continue;
                    };
                    counted.below += usize::from(at != after);
                    counted.above += usize::from(at != before);
                }
            }
            for (k, atom) in field_atoms[index].iter().enumerate() {
                if let Some(holds) = at_field_edge(policy, atom, &order.frame, now) {
                    if let Some(counted) = coverage.field_windows.get_mut(first_window[index] + k) {
                        counted.holding += usize::from(holds);
                        counted.failing += usize::from(!holds);
                    }
                }
            }
        }
    }
    coverage
}

/// The comparisons of times in `guard` that do not read the request time (those became edges) and read
/// a timestamp or date field of the order; inside definitions too.
fn time_comparisons(guard: &TExpr, checked: &crate::check::CheckedPolicy, out: &mut Vec<TExpr>) {
    let mut walk = |e: &TExpr| time_comparisons(e, checked, out);
    match &guard.kind {
        TKind::Not(a) => walk(a),
        TKind::And(a, b) | TKind::Or(a, b) => {
            walk(a);
            walk(b);
        }
        TKind::If(c, a, b) => {
            walk(c);
            walk(a);
            walk(b);
        }
        TKind::Let(_) if guard.ty == Type::Bool => {
            if let Some(value) = guard.substituted(&checked.lets) {
                walk(&value);
            }
        }
        TKind::Cmp(_, a, _)
            if matches!(
                a.ty,
                Type::Timestamp | Type::Date | Type::Duration | Type::Days
            ) && time_fields(guard, checked) != 0
                && !guard.uses_now(&checked.lets) =>
        {
            out.push(guard.clone());
        }
        _ => {}
    }
}

/// The timestamp and date fields `e` reads, as a mask of slots.
fn time_fields(e: &TExpr, checked: &crate::check::CheckedPolicy) -> u64 {
    let reads = e.fields_read(&checked.lets);
    checked
        .fields
        .iter()
        .enumerate()
        .take(64)
        .filter(|(slot, f)| {
            reads & (1u64 << slot) != 0 && matches!(f.ty, Type::Timestamp | Type::Date)
        })
        .fold(0, |mask, (slot, _)| mask | (1u64 << slot))
}

/// Whether the order stands at the edge of `atom`: `Some(truth)` when moving one of the times it reads
/// by a second (a date by a day), either way, changes its truth; `None` when it does not, or the
/// comparison has no value for this order.
fn at_field_edge(
    policy: &Policy,
    atom: &TExpr,
    frame: &[Option<Value>],
    now: i128,
) -> Option<bool> {
    let program = &*policy.program;
    let checked = &program.policy;
    let truth = |frame: &[Option<Value>]| {
        let lets = Lets::<i128>::new(program);
        let env = Env {
            frame,
            now,
            zone: checked.zone,
            calendar: checked.calendar.as_deref(),
            edges: None,
            lets: &lets,
        };
        interp::truth(atom, &env).ok()
    };
    let holds = truth(frame)?;
    let fields = time_fields(atom, checked);
    for slot in (0..frame.len().min(64)).filter(|slot| fields & (1u64 << slot) != 0) {
        for step in [1i32, -1] {
            let moved = match frame.get(slot) {
                Some(Some(Value::Timestamp(t))) => {
                    crate::time::Instant::from_nanos(t.nanos() + i128::from(step) * SECOND)
                        .map(Value::Timestamp)
                }
                Some(Some(Value::Date(d))) => d.checked_add(step).map(Value::Date),
                _ => None,
            };
            let Some(moved) = moved else {
                continue;
            };
            let mut shifted = frame.to_vec();
            shifted[slot] = Some(moved);
            if truth(&shifted).is_some_and(|t| t != holds) {
                return Some(holds);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
policy p
  document "t.txt"
  zone "UTC"

enum Status { active, closed, archived }

field paid_at: timestamp
field done_at: timestamp?
field status: Status

action refund {
  rule quick when status == active and now within 2 days after paid_at then denied
    because "q" cite "1"
  rule done when present(done_at) and done_at within 1 hours after paid_at then denied
    because "d" cite "2"
  rule other when status in {active, closed, archived} then denied
    because "o" cite "3"

  example "the last second of the two days" {
    at "2026-01-02T23:59:59Z"
    order { "paid_at": "2026-01-01T00:00:00Z", "status": "active" }
    expect { "rule": "quick" }
  }
  example "a closed order at the edge does not reach `quick`" {
    at "2026-01-03T00:00:00Z"
    order { "paid_at": "2026-01-01T00:00:00Z", "status": "closed", "done_at": "2026-01-01T01:00:00Z" }
    expect { "rule": "other" }
  }
  example "an active order at the edge" {
    at "2026-01-03T00:00:00Z"
    order { "paid_at": "2026-01-01T00:00:00Z", "status": "active", "done_at": "2026-01-01T00:59:59Z" }
    expect { "rule": "done" }
  }
}
"#;

    #[test]
    fn rules_edges_field_windows_and_enum_values_are_measured_on_the_interpreter() {
        let policy =
            Policy::from_source("p.policy", POLICY, &crate::check::Calendars::new()).unwrap();
        let coverage = example_coverage(&policy);
        let decided: Vec<(&str, usize)> = coverage
            .rules
            .iter()
            .map(|r| (r.rule.as_str(), r.examples))
            .collect();
        assert_eq!(decided, [("quick", 1), ("done", 1), ("other", 1)]);
        // `now within 2 days after paid_at`: 23:59:59 before it; the closed order at 00:00:00 does not
        // reach the rule, the active one does.
        let edge = &coverage.edges[0];
        assert_eq!(
            (edge.rule.as_str(), edge.below, edge.above),
            ("quick", 1, 1)
        );
        assert_eq!(coverage.edges_covered(), (1, 1));
        // `done_at within 1 hours after paid_at`: at its edge where it fails (01:00:00) and where it
        // holds (00:59:59).
        let window = &coverage.field_windows[0];
        assert_eq!((window.holding, window.failing), (1, 1));
        let unused: Vec<&str> = coverage
            .enum_values
            .iter()
            .filter(|v| v.examples == 0)
            .map(|v| v.value.as_str())
            .collect();
        assert_eq!(unused, ["archived"]);
        assert_eq!(coverage.rules_covered(), (3, 3));
        assert_eq!(percent(0, 0), 100.0);
    }
}
