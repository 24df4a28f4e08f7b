//! Evaluation: orders in, decisions out. `Policy` is what a host application loads once and shares
//! across threads; `Order` is an order's fields read into slots; `Decision` is the contract's output.

mod decide;
mod examples;
mod interp;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::calendar::Calendar;
use crate::check::{check, Calendars};
use crate::compile::{compile, Program};
use crate::diagnostics::Diagnostic;
use crate::source::SourceFile;
use crate::syntax::parse;
use crate::value::{parse_field, parse_timestamp, FieldProblem, Type, Value};

pub use crate::syntax::ast::Outcome;
pub use decide::NO_RULE;
pub use examples::{run_examples, ExampleResult, Mismatch};

/// A loaded, checked and compiled policy. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Policy {
    program: Arc<Program>,
    source: SourceFile,
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{path}`: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}")]
    Calendar(#[from] crate::calendar::CalendarFileError),
    #[error("`{}` has {} error(s)", .file.name, .diagnostics.iter().filter(|d| d.is_error()).count())]
    Invalid {
        file: SourceFile,
        diagnostics: Vec<Diagnostic>,
    },
}

/// An order that cannot be decided. `Display` names the order, the field and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("{}: {}", OrderName(.order), join(.problems))]
    Input {
        order: Option<String>,
        problems: Vec<FieldProblem>,
    },
    #[error("{}: {message}", OrderName(.order))]
    Eval {
        order: Option<String>,
        message: String,
    },
    #[error("{}: policy `{policy}` has no action `{action}` (it has: {available})", OrderName(.order))]
    UnknownAction {
        order: Option<String>,
        policy: String,
        action: String,
        available: String,
    },
}

impl OrderError {
    /// The order's id, when it has one.
    pub fn order(&self) -> Option<&str> {
        match self {
            OrderError::Input { order, .. }
            | OrderError::Eval { order, .. }
            | OrderError::UnknownAction { order, .. } => order.as_deref(),
        }
    }
}

struct OrderName<'a>(&'a Option<String>);

impl fmt::Display for OrderName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "order `{id}`"),
            None => f.write_str("order (no id)"),
        }
    }
}

fn join(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// An order's declared fields, read and type-checked into the policy's slots.
#[derive(Debug, Clone)]
pub struct Order {
    pub(crate) id: Option<String>,
    pub(crate) frame: Vec<Option<Value>>,
    /// Fields present but malformed: reported when the order is decided, with every other problem.
    pub(crate) problems: Vec<FieldProblem>,
}

impl Order {
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// The contract's decision, field for field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub order: Option<String>,
    pub policy: String,
    pub action: String,
    pub outcome: Outcome,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub refund_to: Option<&'static str>,
    pub requires: Vec<&'static str>,
    pub review: Option<&'static str>,
    pub review_by: Option<String>,
    pub deadline: Option<String>,
    pub next_status: Option<String>,
    pub values: serde_json::Map<String, serde_json::Value>,
    pub rule: String,
    pub because: Vec<String>,
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Decision {
    fn empty(
        program: &Program,
        action: &crate::check::CheckedAction,
        order: Option<String>,
        outcome: Outcome,
        rule: &str,
    ) -> Decision {
        Decision {
            order,
            policy: program.policy.name.clone(),
            action: action.name.clone(),
            outcome,
            amount: None,
            currency: None,
            refund_to: None,
            requires: Vec::new(),
            review: None,
            review_by: None,
            deadline: None,
            next_status: None,
            values: serde_json::Map::new(),
            rule: rule.to_string(),
            because: Vec::new(),
        }
    }

    /// The decision as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

impl Policy {
    /// Loads a policy file and the calendars in `calendars/` beside it.
    pub fn load(path: &Path) -> Result<Policy, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let calendars = load_calendars(&calendar_dir(path))?;
        Policy::from_source(&path.display().to_string(), &text, &calendars)
    }

    /// Parses, checks and compiles a policy given as text, with the calendars it may name.
    pub fn from_source(name: &str, text: &str, calendars: &Calendars) -> Result<Policy, LoadError> {
        let file = SourceFile::new(name, text);
        let (program, _) = build(&file, calendars).map_err(|diagnostics| LoadError::Invalid {
            file: file.clone(),
            diagnostics,
        })?;
        Ok(Policy {
            program: Arc::new(program),
            source: file,
        })
    }

    pub fn name(&self) -> &str {
        &self.program.policy.name
    }

    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The policy's zone, e.g. `Asia/Shanghai`.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.program.policy.zone
    }

    /// Non-blocking findings of the checker.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.program.policy.warnings
    }

    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.program.policy.actions.iter().map(|a| a.name.as_str())
    }

    /// The checked policy behind this one (fields, rules, examples), for tools.
    pub fn checked(&self) -> &crate::check::CheckedPolicy {
        &self.program.policy
    }

    /// Reads an order from JSON. Malformed fields are kept as problems and reported, together with
    /// whatever else is wrong, when the order is decided; only a non-object is refused here.
    pub fn read_order(&self, json: &serde_json::Value) -> Result<Order, OrderError> {
        let serde_json::Value::Object(object) = json else {
            return Err(OrderError::Input {
                order: None,
                problems: vec![FieldProblem {
                    field: "(order)".into(),
                    message: format!(
                        "expected a JSON object, found {}",
                        crate::value::json_kind(json)
                    ),
                }],
            });
        };
        let policy = &self.program.policy;
        let mut problems = Vec::new();
        let id = match object.get("id") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => {
                problems.push(FieldProblem {
                    field: "id".into(),
                    message: format!(
                        "expected a string, found {}",
                        crate::value::json_kind(other)
                    ),
                });
                None
            }
        };
        let mut frame = Vec::with_capacity(policy.fields.len());
        for field in &policy.fields {
            let value = match object.get(&field.name) {
                None | Some(serde_json::Value::Null) => field.default.clone(),
                Some(_) if field.name == "id" && field.ty == Type::Str => {
                    id.as_deref().map(|s| Value::Str(s.into()))
                }
                Some(json) => {
                    let variants: &[String] = match field.ty {
                        Type::Enum(e) => &policy.enums[e as usize].variants,
                        _ => &[],
                    };
                    match parse_field(field.ty, json, variants) {
                        Ok(v) => Some(v),
                        Err(message) => {
                            problems.push(FieldProblem {
                                field: field.name.clone(),
                                message,
                            });
                            None
                        }
                    }
                }
            };
            frame.push(value);
        }
        Ok(Order {
            id,
            frame,
            problems,
        })
    }

    /// Reads an order from JSON text.
    pub fn read_order_str(&self, text: &str) -> Result<Order, OrderError> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| OrderError::Input {
                order: None,
                problems: vec![FieldProblem {
                    field: "(order)".into(),
                    message: format!("not valid JSON: {e}"),
                }],
            })?;
        self.read_order(&json)
    }

    /// Decides `order` for `action`. The request time is the order's `requested_at`, else `default_now`
    /// (nanoseconds since the Unix epoch; see `parse_time`).
    pub fn decide(
        &self,
        action: &str,
        order: &Order,
        default_now: i64,
    ) -> Result<Decision, OrderError> {
        let index = self
            .action_index(action)
            .ok_or_else(|| OrderError::UnknownAction {
                order: order.id.clone(),
                policy: self.name().to_string(),
                action: action.to_string(),
                available: self.actions().collect::<Vec<_>>().join(", "),
            })?;
        decide::decide(&self.program, index, order, default_now)
    }

    /// Reads and decides one order given as JSON text.
    pub fn decide_json(
        &self,
        action: &str,
        text: &str,
        default_now: i64,
    ) -> Result<Decision, OrderError> {
        let order = self.read_order_str(text)?;
        self.decide(action, &order, default_now)
    }

    fn action_index(&self, name: &str) -> Option<usize> {
        self.program
            .policy
            .actions
            .iter()
            .position(|a| a.name == name)
    }
}

/// Whether `rule`'s guard holds for `order` at `now`; `None` if it cannot be evaluated. For the analysis,
/// which confirms overlaps on the interpreter itself.
pub(crate) fn guard_holds(
    policy: &Policy,
    rule: &crate::check::CheckedRule,
    order: &Order,
    now: i64,
) -> Option<bool> {
    let checked = policy.checked();
    let env = interp::Env {
        frame: &order.frame,
        now,
        zone: checked.zone,
        calendar: checked.calendar.as_deref(),
    };
    match &rule.guard {
        Some(guard) => interp::truth(guard, &env).ok(),
        None => Some(true),
    }
}

/// An RFC 3339 timestamp with an offset, as the evaluator's request time.
pub fn parse_time(text: &str) -> Result<i64, String> {
    parse_timestamp(text)
}

/// The current time as the evaluator's request time.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Parse, check and compile, returning the program and the non-blocking findings; or every diagnostic.
pub fn build(
    file: &SourceFile,
    calendars: &Calendars,
) -> Result<(Program, Vec<Diagnostic>), Vec<Diagnostic>> {
    let ast = parse(&file.text).map_err(|d| vec![d])?;
    let checked = check(&ast, file, calendars)?;
    let warnings = checked.warnings.clone();
    let program = compile(checked).map_err(|mut errors| {
        errors.extend(warnings.iter().cloned());
        errors
    })?;
    Ok((program, warnings))
}

/// Where the calendars of a policy file live: `calendars/` beside it.
pub fn calendar_dir(policy_path: &Path) -> PathBuf {
    policy_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("calendars")
}

/// Every `*.calendar` file in `dir`, by the name each declares. A missing folder is no calendars.
pub fn load_calendars(dir: &Path) -> Result<Calendars, LoadError> {
    let mut calendars: Calendars = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(calendars);
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "calendar"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|error| LoadError::Io {
            path: path.clone(),
            error,
        })?;
        let calendar = Calendar::parse(&path.display().to_string(), &text)?;
        calendars.insert(calendar.name().to_string(), Arc::new(calendar));
    }
    Ok(calendars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn policies_are_shared_across_threads() {
        assert_send_sync::<Policy>();
        assert_send_sync::<Decision>();
    }
}
