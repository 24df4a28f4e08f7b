//! Evaluation: orders in, decisions out. `Policy` is what a host application loads once and shares
//! across threads; `Order` is an order's fields read into slots; `Decision` is the contract's output.

mod coverage;
mod decide;
mod describe;
mod examples;
mod explain;
pub(crate) mod horizon;
mod intake;
mod interp;
mod typed;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::calendar::CalendarFileError;
use crate::check::{check, Calendars};
use crate::compile::{compile, Program};
use crate::diagnostics::Diagnostic;
use crate::source::SourceFile;
use crate::syntax::parse;
use crate::time::Instant;
use crate::value::{parse_field, FieldInput, Type, Value};

pub use crate::contract::{Decision, ErrorRecord, Outcome, Reasons, Text, NO_RULE};
pub use crate::value::{FieldProblem, TimestampError};
pub use coverage::{
    example_coverage, percent, EdgeCoverage, EnumValueCoverage, ExampleCoverage,
    FieldWindowCoverage, RuleCoverage,
};
pub use describe::{Field, FieldType, Rule};
pub use examples::{run_examples, ExampleOrder, ExampleResult, Mismatch};
pub use explain::{
    AtomTrace, AttributeTrace, Explanation, InputProblem, Period, RuleTrace, Step, Traced,
    TIMELINE_LIMIT,
};
pub use typed::FieldValue;

/// A loaded, checked and compiled policy. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Policy {
    program: Arc<Program>,
    source: SourceFile,
}

/// Why a policy could not be loaded. `Display` says it whole, without colours: for a policy that does
/// not check, the file, the count of errors, then every diagnostic (errors and warnings) rendered with
/// its source line, as [`Diagnostic::render_plain`] does.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The policy file cannot be read.
    #[error("cannot read `{path}`: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// The policy does not parse, check or compile.
    #[error("{}", invalid_message(.file, .diagnostics))]
    Invalid {
        /// The policy's text, as the diagnostics' spans point into it.
        file: SourceFile,
        /// Every finding: at least one error, and the warnings found with them.
        diagnostics: Vec<Diagnostic>,
    },
}

/// What went wrong in loading a policy, to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file cannot be read ([`LoadError::Io`]).
    Io,
    /// The policy does not check ([`LoadError::Invalid`]).
    Invalid,
}

impl LoadError {
    /// What went wrong, to match on.
    pub fn kind(&self) -> LoadErrorKind {
        match self {
            LoadError::Io { .. } => LoadErrorKind::Io,
            LoadError::Invalid { .. } => LoadErrorKind::Invalid,
        }
    }

    /// The findings of a policy that does not check; none for a file that cannot be read.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Io { .. } => &[],
            LoadError::Invalid { diagnostics, .. } => diagnostics,
        }
    }
}

/// `` `FILE` does not check: N errors[, M warnings] `` and every diagnostic rendered plain.
fn invalid_message(file: &SourceFile, diagnostics: &[Diagnostic]) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == crate::diagnostics::Severity::Warning)
        .count();
    let mut message = format!(
        "`{}` does not check: {}",
        file.name,
        plural(errors, "error")
    );
    if warnings > 0 {
        message.push_str(&format!(", {}", plural(warnings, "warning")));
    }
    for diagnostic in diagnostics {
        message.push_str("\n\n");
        message.push_str(diagnostic.render_plain(file).trim_end());
    }
    message
}

/// An order that cannot be decided. `Display` names the order, the field and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// The order's input is wrong: every problem found, each naming its field.
    #[error("{}: {}", OrderName(.order), join(.problems))]
    Input {
        /// The order's id, if it has one.
        order: Option<String>,
        /// What is wrong, field by field.
        problems: Vec<FieldProblem>,
    },
    /// Deciding the order failed.
    #[error("{}: {message}", OrderName(.order))]
    Eval {
        /// The order's id, if it has one.
        order: Option<String>,
        /// What failed.
        message: String,
    },
    /// The order falls before the version of the policy deciding it came into force
    /// (`effective from`), and no earlier version was there to decide it.
    #[error("{}: {detail}", OrderName(.order))]
    NotInForce {
        /// The order's id, if it has one.
        order: Option<String>,
        /// Which instant, and which version.
        detail: Box<NotInForce>,
    },
    /// The policy has no action of that name.
    #[error("{}: policy `{policy}` has no action `{action}` (it has: {available})", OrderName(.order))]
    UnknownAction {
        /// The order's id, if it has one.
        order: Option<String>,
        /// The policy's name.
        policy: String,
        /// The action asked for.
        action: String,
        /// The policy's actions, comma-separated.
        available: String,
    },
}

/// Why no version of a policy decides an order: its selecting instant is before the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{selector} {at} is before version {version} of policy {policy} came into force ({from})")]
pub struct NotInForce {
    /// The policy's name.
    pub policy: String,
    /// The earliest version loaded (`effective from` as written).
    pub version: String,
    /// What selects the version: the request, or the field (`paid_at`).
    pub selector: String,
    /// The selecting instant, in the policy's zone.
    pub at: String,
    /// The version's first instant, in the policy's zone.
    pub from: String,
}

/// What kind of problem stopped an order, to match on (say, to choose an HTTP status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OrderErrorKind {
    /// The order's input is wrong: not a JSON object, a field missing or malformed, a constraint
    /// broken ([`OrderError::Input`]). The caller can fix the order.
    Input,
    /// The order is well formed but deciding it failed: an amount out of range, a date beyond what
    /// the calendar covers, a division by zero ([`OrderError::Eval`]).
    Eval,
    /// No version of the policy was in force for the order ([`OrderError::NotInForce`]).
    NotInForce,
    /// The policy has no such action ([`OrderError::UnknownAction`]): a mistake of the caller, not
    /// of the order.
    UnknownAction,
}

impl OrderError {
    /// The order's id, when it has one.
    pub fn order(&self) -> Option<&str> {
        match self {
            OrderError::Input { order, .. }
            | OrderError::Eval { order, .. }
            | OrderError::NotInForce { order, .. }
            | OrderError::UnknownAction { order, .. } => order.as_deref(),
        }
    }

    /// What kind of problem this is, to match on.
    pub fn kind(&self) -> OrderErrorKind {
        match self {
            OrderError::Input { .. } => OrderErrorKind::Input,
            OrderError::Eval { .. } => OrderErrorKind::Eval,
            OrderError::NotInForce { .. } => OrderErrorKind::NotInForce,
            OrderError::UnknownAction { .. } => OrderErrorKind::UnknownAction,
        }
    }
}

/// Writes the error record `{"order": ID or null, "error": MESSAGE}` ([`ErrorRecord`] without a
/// line), `MESSAGE` as `Display` says it: exactly what `policy eval --order` prints for an order it
/// cannot decide.
impl serde::Serialize for OrderError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = self.to_string();
        ErrorRecord {
            order: self.order(),
            line: None,
            error: &message,
        }
        .serialize(serializer)
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
#[derive(Debug, Clone, Default)]
pub struct Order {
    pub(crate) id: Option<Arc<str>>,
    /// Slots that hold a value (given, or defaulted).
    pub(crate) present: u64,
    /// Slots given a value that could not be read (see `problems`).
    pub(crate) malformed: u64,
    pub(crate) frame: Vec<Option<Value>>,
    /// Fields present but malformed: reported when the order is decided, with every other problem.
    pub(crate) problems: Vec<FieldProblem>,
    /// The digits of an amount: the minor units of the order's currency, else of the default one.
    pub(crate) amount_scale: u32,
    /// Kept from one order to the next read into this storage.
    last_currency: crate::contract::LastCurrency,
}

/// What reading a field's value into its slot gave (see `Policy::fill_values`).
pub(crate) enum Filled {
    /// A value, written into the slot.
    Read,
    /// No value: the field's default applies.
    Absent,
    /// A value that could not be read, and why.
    Malformed(String),
}

impl Order {
    /// The order's `id`, if it gives one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

impl Policy {
    /// Loads a policy file and the calendars in `calendars/` beside it. A calendar file that does not
    /// load, or a name two files declare, fails only the policies that name a calendar it may concern
    /// (see [`Policy::from_source_in`]).
    #[cfg(feature = "files")]
    pub fn load(path: &std::path::Path) -> Result<Policy, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let folder = crate::files::load_calendars(&crate::files::calendar_dir(path));
        match Policy::from_file_text(path, &text, &folder)? {
            FileContents::Policy(policy) => Ok(policy),
            FileContents::Library { source, name, .. } => Err(LoadError::Invalid {
                diagnostics: vec![library_not_policy(&source, name)],
                file: source,
            }),
        }
    }

    /// The text of the file at `path`, with the calendars of a folder: a policy, or a library of
    /// declarations (`library NAME`) for policies to import. Its imports are read relative to `path`.
    /// Calendar problems are explained as by [`Policy::from_source_in`].
    #[cfg(feature = "files")]
    pub fn from_file_text(
        path: &std::path::Path,
        text: &str,
        folder: &CalendarFolder,
    ) -> Result<FileContents, LoadError> {
        let file = SourceFile::new(path.display().to_string(), text);
        let built = stacker::maybe_grow(BUILD_STACK, BUILD_STACK, || {
            build_here(&file, &folder.calendars, Some(path))
        });
        match built {
            Ok(Built::Policy(program, _)) => Ok(FileContents::Policy(Policy {
                program: Arc::new(program),
                source: file,
            })),
            Ok(Built::Library(name, warnings)) => Ok(FileContents::Library {
                source: file,
                name,
                warnings,
            }),
            Err(mut diagnostics) => {
                for diagnostic in &mut diagnostics {
                    folder.explain(&file, diagnostic);
                }
                Err(LoadError::Invalid { file, diagnostics })
            }
        }
    }

    /// Like [`Policy::from_source`], with the calendars of a folder. If the policy names a calendar the
    /// folder could not provide because of its problems (two files declare the name, or a file that
    /// may declare it does not load), the error says so and names the files, with their own errors.
    /// The folder's other problems do not concern this policy and are not reported.
    pub fn from_source_in(
        name: &str,
        text: &str,
        folder: &CalendarFolder,
    ) -> Result<Policy, LoadError> {
        Policy::from_source(name, text, &folder.calendars).map_err(|error| match error {
            LoadError::Invalid {
                file,
                mut diagnostics,
            } => {
                for diagnostic in &mut diagnostics {
                    folder.explain(&file, diagnostic);
                }
                LoadError::Invalid { file, diagnostics }
            }
            other => other,
        })
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

    /// The policy's declared name (`policy NAME`).
    pub fn name(&self) -> &str {
        &self.program.policy.name
    }

    /// Who publishes the rules (`provider "..."`), if the policy says.
    pub fn provider(&self) -> Option<&str> {
        self.program.policy.provider.as_deref()
    }

    /// The source document the rules encode (`document "..."`), as reasons cite it.
    pub fn document(&self) -> &str {
        &self.program.policy.document
    }

    /// The document's title, if the policy gives one.
    pub fn document_title(&self) -> Option<&str> {
        self.program.policy.document_title.as_deref()
    }

    /// The text it was loaded from.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The policy's zone, e.g. `Asia/Shanghai`.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.program.policy.zone.tz
    }

    /// Non-blocking findings of the checker.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.program.policy.warnings
    }

    /// Its actions' names, in the order declared.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.program.policy.actions.iter().map(|a| a.name.as_str())
    }

    /// The fields an order may carry, in the order declared (the contract's own last, when the policy
    /// does not declare them).
    pub fn fields(&self) -> impl ExactSizeIterator<Item = Field<'_>> {
        Field::all(&self.program.policy)
    }

    /// The rules of `action`, in the order they are tried; `None` for an action the policy lacks.
    pub fn rules(&self, action: &str) -> Option<impl ExactSizeIterator<Item = Rule<'_>>> {
        let action = self
            .program
            .policy
            .actions
            .iter()
            .find(|a| a.name == action)?;
        Some(Rule::of(action))
    }

    /// The checked policy behind this one (fields, rules, examples), for tools.
    /// The libraries it imports, directly or not, as read when it was loaded.
    #[cfg(feature = "files")]
    pub(crate) fn imported(&self) -> &[SourceFile] {
        &self.program.imported
    }

    pub(crate) fn program(&self) -> &Program {
        &self.program
    }

    pub(crate) fn checked(&self) -> &crate::check::CheckedPolicy {
        &self.program.policy
    }

    /// The version of the policy, as its `effective from` writes it; `None` for a policy without versions.
    pub fn version(&self) -> Option<&str> {
        self.program
            .policy
            .effective
            .as_ref()
            .map(|e| e.label.as_str())
    }

    /// The first instant this version is in force (`effective from`, a date taken at its start in the
    /// policy's zone); `None` for a policy without versions.
    pub fn effective_from(&self) -> Option<Instant> {
        self.program.policy.effective.as_ref().map(|e| e.from)
    }

    /// The instant that selects the version for `order` (the request, or the field `by` names); `None`
    /// for a policy without versions, or when the order lacks a valid value for that field.
    pub fn version_instant(&self, order: &Order, default_now: Instant) -> Option<Instant> {
        self.program.policy.effective.as_ref()?;
        let now = self
            .program
            .requested_at
            .and_then(|slot| match order.frame.get(usize::from(slot)) {
                Some(Some(Value::Timestamp(t))) => Some(*t),
                _ => None,
            })
            .unwrap_or(default_now);
        Instant::from_nanos(self.program.version_instant(order, now.nanos())?)
    }

    /// Reads an order from a JSON value. Malformed fields are kept as problems and reported, together
    /// with whatever else is wrong, when the order is decided; only a non-object is refused here.
    pub fn read_order(&self, json: &serde_json::Value) -> Result<Order, OrderError> {
        let serde_json::Value::Object(object) = json else {
            return Err(not_an_object(crate::value::json_kind(json)));
        };
        let mut order = Order::default();
        let fields = &self.program.policy.fields;
        self.fill(&mut order, |slot| {
            object.get(&fields[slot].name).map(FieldInput::from_json)
        });
        Ok(order)
    }

    /// Reads an order from JSON text, straight into the policy's slots.
    pub fn read_order_str(&self, text: &str) -> Result<Order, OrderError> {
        let mut order = Order::default();
        self.read_order_into(text, &mut order)?;
        Ok(order)
    }

    /// Like `read_order_str`, reusing `order`'s storage: batch evaluation reads every line into one.
    pub fn read_order_into(&self, text: &str, order: &mut Order) -> Result<(), OrderError> {
        let fields = &self.program.policy.fields;
        let raw = intake::raw_fields(text, fields.len(), |name| {
            fields.iter().position(|f| f.name == name)
        })
        .map_err(|kind| match kind {
            intake::RawError::NotAnObject(kind) => not_an_object(kind),
            intake::RawError::Json(message) => OrderError::Input {
                order: None,
                problems: vec![FieldProblem {
                    field: crate::value::WHOLE_ORDER.into(),
                    message: format!("not valid JSON: {message}"),
                }],
            },
        })?;
        self.fill(order, |slot| raw.slots[slot].map(FieldInput::from_raw));
        // A field given twice is refused, never read as whichever copy a reader happens to keep.
        let mut repeated = raw.repeated;
        while repeated != 0 {
            let slot = repeated.trailing_zeros() as usize;
            repeated &= repeated - 1;
            order.malformed |= 1 << slot;
            order.present &= !(1 << slot);
            order.problems.push(FieldProblem {
                field: fields[slot].name.clone(),
                message: "is given more than once".into(),
            });
        }
        Ok(())
    }

    /// Fills `order` from the input of each field (the role fields among them), by slot.
    fn fill<'a>(&self, order: &mut Order, input: impl Fn(usize) -> Option<FieldInput<'a>>) {
        let policy = &self.program.policy;
        self.fill_values(order, |slot, cell| {
            let field = &policy.fields[slot];
            match input(slot) {
                None | Some(FieldInput::Null) => Filled::Absent,
                Some(input) => match parse_field(field.ty, &input, self.variants(field.ty)) {
                    Ok(value) => {
                        *cell = Some(value);
                        Filled::Read
                    }
                    Err(message) => Filled::Malformed(message),
                },
            }
        });
    }

    /// The values of an enum type, for reading a field of that type; empty for other types.
    fn variants(&self, ty: Type) -> &[String] {
        match ty {
            Type::Enum(e) => &self.program.policy.enums[e as usize].variants,
            _ => &[],
        }
    }

    /// Fills `order` from each field's value, by slot: `value_into(slot, cell)` writes a value read
    /// into the slot's cell itself (each kind of value stored where it is read, not moved through
    /// one `Option<Result<Value, String>>`), or says the field is absent (its default applies) or
    /// malformed (kept as a problem, reported when the order is decided).
    fn fill_values(
        &self,
        order: &mut Order,
        mut value_into: impl FnMut(usize, &mut Option<Value>) -> Filled,
    ) {
        let policy = &self.program.policy;
        // Each slot's value written over the last order's (a storage reads orders of one policy,
        // mostly): no push, no capacity check.
        if order.frame.len() != policy.fields.len() {
            order.frame.clear();
            order.frame.resize(policy.fields.len(), None);
        }
        order.problems.clear();
        order.present = 0;
        order.malformed = 0;
        for (slot, (field, cell)) in policy.fields.iter().zip(order.frame.iter_mut()).enumerate() {
            match value_into(slot, cell) {
                Filled::Read => {}
                Filled::Absent => *cell = field.default.clone(),
                Filled::Malformed(message) => {
                    *cell = None;
                    order.malformed |= 1 << slot;
                    order.problems.push(FieldProblem {
                        field: field.name.clone(),
                        message,
                    });
                }
            }
            if cell.is_some() {
                order.present |= 1 << slot;
            }
        }
        order.id = match self
            .program
            .id
            .and_then(|slot| order.frame.get(usize::from(slot)))
        {
            Some(Some(Value::Str(id))) => Some(id.clone()),
            _ => None,
        };
        order.amount_scale = self.program.default_minor_units;
        if let Some(slot) = self.program.currency.map(usize::from) {
            if let Some(Some(Value::Str(code))) = order.frame.get(slot) {
                let digits = crate::contract::own_minor_units(&policy.minor_units, code)
                    .or_else(|| order.last_currency.minor_units(code));
                match digits {
                    Some(digits) => order.amount_scale = digits,
                    None => {
                        order.malformed |= 1 << slot;
                        order.present &= !(1 << slot);
                        order.problems.push(FieldProblem {
                            field: policy.fields[slot].name.clone(),
                            message: format!(
                                "`{code}` is not an ISO 4217 currency code with minor units \
                                 (`USD`, `JPY`, `BHD`, ...)"
                            ),
                        });
                    }
                }
            }
        }
    }

    /// Decides `order` for `action`. The request time is the order's `requested_at`, else `default_now`.
    pub fn decide(
        &self,
        action: &str,
        order: &Order,
        default_now: Instant,
    ) -> Result<Decision<'_>, OrderError> {
        self.decide_with(action, order, default_now, VersionCheck::InForce)
    }

    /// Decides `order` as if this version were in force for it, whatever its `effective from`: `policy
    /// diff` asks what a new version would decide of orders the old one decided.
    pub(crate) fn decide_as_in_force(
        &self,
        action: &str,
        order: &Order,
        default_now: Instant,
    ) -> Result<Decision<'_>, OrderError> {
        self.decide_with(action, order, default_now, VersionCheck::Skip)
    }

    fn decide_with(
        &self,
        action: &str,
        order: &Order,
        default_now: Instant,
        version: VersionCheck,
    ) -> Result<Decision<'_>, OrderError> {
        let index = self
            .action_index(action)
            .ok_or_else(|| OrderError::UnknownAction {
                order: order.id.as_deref().map(str::to_string),
                policy: self.name().to_string(),
                action: action.to_string(),
                available: self.actions().collect::<Vec<_>>().join(", "),
            })?;
        decide::decide(&self.program, index, order, default_now, version)
    }

    /// The decisions of `order` as only time passes: the decision at the request (its `requested_at`,
    /// else `default_now`), then the one at each later instant where it changes (its `holds_until`),
    /// until a decision holds for good, at most `limit` decisions (`Timeline::complete` says whether
    /// the last one holds for good). A later instant at which the order cannot be decided (a review
    /// date past the calendar) ends the timeline with that error.
    pub fn timeline(
        &self,
        action: &str,
        order: &Order,
        default_now: Instant,
        limit: usize,
    ) -> Result<Timeline<'_>, OrderError> {
        let first = self.decide(action, order, default_now)?;
        let index = self.action_index(action).ok_or(OrderError::Eval {
            order: order.id.as_deref().map(str::to_string),
            message: "internal error: the action decided is gone".into(),
        })?;
        let mut next = first.holds_until.map(crate::ZonedInstant::instant);
        let mut timeline = Timeline {
            changes: Vec::new(),
            first,
            complete: true,
        };
        while let Some(at) = next {
            if timeline.changes.len() + 1 >= limit {
                timeline.complete = false;
                break;
            }
            match decide::decide_now(&self.program, index, order, at, VersionCheck::InForce) {
                Ok(decision) => {
                    next = decision.holds_until.map(crate::ZonedInstant::instant);
                    timeline.changes.push((at, Ok(decision)));
                }
                Err(error) => {
                    timeline.changes.push((at, Err(error)));
                    break;
                }
            }
        }
        Ok(timeline)
    }

    /// Reads and decides one order given as JSON text.
    pub fn decide_json(
        &self,
        action: &str,
        text: &str,
        default_now: Instant,
    ) -> Result<Decision<'_>, OrderError> {
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

#[cold]
fn not_an_object(kind: &str) -> OrderError {
    OrderError::Input {
        order: None,
        problems: vec![FieldProblem {
            field: crate::value::WHOLE_ORDER.into(),
            message: format!("expected a JSON object, found {kind}"),
        }],
    }
}

/// Whether `rule`'s guard holds for `order` at `now`; `None` if it cannot be evaluated. For the analysis,
/// which confirms overlaps on the interpreter itself.
pub(crate) fn guard_holds(
    policy: &Policy,
    rule: &crate::check::CheckedRule,
    order: &Order,
    now: Instant,
) -> Option<bool> {
    let checked = policy.checked();
    let lets = interp::Lets::new(&policy.program);
    let env = interp::Env {
        frame: &order.frame,
        now: now.nanos(),
        zone: checked.zone,
        calendar: checked.calendar.as_deref(),
        edges: None,
        lets: &lets,
    };
    match &rule.guard {
        Some(guard) => interp::truth(guard, &env).ok(),
        None => Some(true),
    }
}

/// Whether deciding refuses an order before the version's `effective from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionCheck {
    InForce,
    Skip,
}

/// The decisions of one order as only time passes ([`Policy::timeline`]).
#[derive(Debug)]
pub struct Timeline<'p> {
    /// The decision at the request.
    pub first: Decision<'p>,
    /// Each later instant at which the decision changes, with the decision from then on (or the error
    /// that deciding it then gives), in order.
    pub changes: Vec<(Instant, Result<Decision<'p>, OrderError>)>,
    /// Whether the last decision holds for good (else the timeline was cut at its limit).
    pub complete: bool,
}

/// An RFC 3339 timestamp with an offset, as the evaluator's request time.
pub fn parse_time(text: &str) -> Result<Instant, TimestampError> {
    Instant::parse(text)
}

/// The current time as the evaluator's request time.
pub fn now() -> Instant {
    Instant::now()
}

/// Parse, check and compile, returning the program and the non-blocking findings; or every diagnostic.
///
/// Parsing, checking and compiling recurse once per level of an expression's nesting, within the limits
/// of `syntax` and `check::limits`; in a debug build the checker needs up to about 500 KiB of stack at
/// those limits. They run on a stack segment of `BUILD_STACK` bytes of their own when less than that
/// remains on the caller's, so a policy builds the same on any thread (batch workers included).
///
/// The text is not read from a file, so it cannot import (`policy::check::import_without_file`), and it
/// must be a policy, not a library.
pub(crate) fn build(
    file: &SourceFile,
    calendars: &Calendars,
) -> Result<(Program, Vec<Diagnostic>), Vec<Diagnostic>> {
    match stacker::maybe_grow(BUILD_STACK, BUILD_STACK, || {
        build_here(file, calendars, None)
    })? {
        Built::Policy(program, warnings) => Ok((program, warnings)),
        Built::Library(name, _) => Err(vec![library_not_policy(file, name)]),
    }
}

/// What a `.policy` file holds (see [`Policy::from_file_text`]).
#[derive(Debug)]
pub enum FileContents {
    /// A policy, built.
    Policy(Policy),
    /// A library (`library NAME`) that checked: declarations for policies to import.
    Library {
        /// Its text, as the warnings' spans point into it.
        source: SourceFile,
        /// Where its header names it.
        name: crate::source::Span,
        /// Its findings that do not stop it from being imported.
        warnings: Vec<Diagnostic>,
    },
}

/// What a build makes of a file.
#[expect(
    clippy::large_enum_variant,
    reason = "made once per file loaded and taken apart at once; boxing would only add an allocation"
)]
enum Built {
    Policy(Program, Vec<Diagnostic>),
    /// The library's name, where its header gives it, and its warnings (read by `from_file_text`).
    Library(
        crate::source::Span,
        #[cfg_attr(
            not(feature = "files"),
            expect(
                dead_code,
                reason = "only files are libraries, and files need the feature"
            )
        )]
        Vec<Diagnostic>,
    ),
}

/// The error of a library (its name at `name`) loaded where a policy is wanted.
fn library_not_policy(file: &SourceFile, name: crate::source::Span) -> Diagnostic {
    let text = file
        .text
        .get(name.start as usize..name.end as usize)
        .unwrap_or("");
    Diagnostic::error(
        "policy::check::library_not_policy",
        format!("`{text}` is a library, not a policy: it decides nothing"),
        name,
    )
    .with_help("policies import a library (`import \"FILE\"`); load one of those")
}

/// The stack `build` runs on: 1 MiB.
const BUILD_STACK: usize = 1024 * 1024;

fn build_here(
    file: &SourceFile,
    calendars: &Calendars,
    path: Option<&std::path::Path>,
) -> Result<Built, Vec<Diagnostic>> {
    let mut ast = parse(&file.text)?;
    let mut trail = crate::imports::Trail::default();
    // The importing file, by canonical path, to find cycles (files are read with `files` only).
    #[cfg(feature = "files")]
    trail
        .chain
        .extend(path.and_then(|p| std::fs::canonicalize(p).ok()));
    crate::imports::resolve(&mut ast, path, calendars, &mut trail)?;
    let checked = check(&ast, file, calendars)?;
    if checked.library {
        return Ok(Built::Library(ast.header.name.span, checked.warnings));
    }
    let warnings = checked.warnings.clone();
    let mut program = compile(checked).map_err(|mut errors| {
        errors.extend(warnings.iter().cloned());
        errors
    })?;
    program.imported = trail.read;
    Ok(Built::Policy(program, warnings))
}

/// The calendars of a folder (`calendars/` beside the policies): each name that exactly one file
/// declares, from a file that loads; and every problem of the others, kept so that a policy fails
/// only when it names a calendar a problem concerns.
#[derive(Debug, Default)]
pub struct CalendarFolder {
    pub(crate) calendars: Calendars,
    pub(crate) problems: Vec<CalendarProblem>,
}

/// Why a calendar folder could not provide a calendar.
#[derive(Debug, thiserror::Error)]
pub enum CalendarProblem {
    /// The folder exists but cannot be listed.
    #[error("cannot read calendar folder `{}`: {error}", .path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// A calendar file cannot be read.
    #[error("cannot read calendar file `{}`: {error}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// A calendar file does not parse. `declares`: the name on its `name` line, if that can be read.
    #[error("{error}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The name its `name` line declares, if that line can be read.
        declares: Option<String>,
        /// What is wrong, at which line.
        error: CalendarFileError,
    },
    /// Several files declare the same name (whether or not they load): none of them is used.
    #[error("calendar `{name}` is declared by more than one file: {}", file_list(.paths))]
    Duplicate {
        /// The calendar's name.
        name: String,
        /// Every file that declares it.
        paths: Vec<PathBuf>,
    },
}

/// `` `a`, `b` ``: paths as a message lists them.
pub(crate) fn file_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl CalendarFolder {
    /// The calendars that loaded, each declared by one file only.
    pub fn calendars(&self) -> &Calendars {
        &self.calendars
    }

    /// Every problem of the folder, in file order (duplicated names last).
    pub fn problems(&self) -> &[CalendarProblem] {
        &self.problems
    }

    /// Every problem of the folder, taken out of it (see [`CalendarFolder::problems`]).
    pub fn into_problems(self) -> Vec<CalendarProblem> {
        self.problems
    }

    /// The calendars, if the folder has no problem at all; else its first problem.
    pub fn complete(mut self) -> Result<Calendars, CalendarProblem> {
        if self.problems.is_empty() {
            Ok(self.calendars)
        } else {
            Err(self.problems.swap_remove(0))
        }
    }

    /// The problems that explain why calendar `name` is not available: none when it loaded, or when
    /// no problem of the folder could concern it. A duplicate comes with those of its files that do
    /// not load; a missing name with every file that does not load and may declare it.
    pub fn problems_for(&self, name: &str) -> Vec<&CalendarProblem> {
        let duplicate = self.problems.iter().find_map(|p| match p {
            CalendarProblem::Duplicate { name: n, paths } if n == name => Some((p, paths)),
            _ => None,
        });
        if let Some((duplicate, paths)) = duplicate {
            let broken = self.problems.iter().filter(
                |p| matches!(p, CalendarProblem::Invalid { path, .. } if paths.contains(path)),
            );
            return std::iter::once(duplicate).chain(broken).collect();
        }
        if self.calendars.contains_key(name) {
            return Vec::new();
        }
        self.problems
            .iter()
            .filter(|p| match p {
                CalendarProblem::Folder { .. } | CalendarProblem::Unreadable { .. } => true,
                CalendarProblem::Invalid { declares, .. } => {
                    declares.as_deref().is_none_or(|declared| declared == name)
                }
                CalendarProblem::Duplicate { .. } => false,
            })
            .collect()
    }

    /// Turns the checker's "no calendar named N" into what went wrong in the folder, when a problem
    /// of the folder concerns N.
    fn explain(&self, file: &SourceFile, diagnostic: &mut Diagnostic) {
        if diagnostic.code != "policy::check::unknown_calendar" {
            return;
        }
        let span = diagnostic.span;
        let Some(name) = file.text.get(span.start as usize..span.end as usize) else {
            return;
        };
        let problems = self.problems_for(name);
        let Some(first) = problems.first() else {
            return;
        };
        let details = |problems: &[&CalendarProblem]| {
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        // Files that declare this very name and do not load.
        let own: Vec<&CalendarProblem> = problems
            .iter()
            .copied()
            .filter(
                |p| matches!(p, CalendarProblem::Invalid { declares: Some(d), .. } if d == name),
            )
            .collect();
        let (code, message, label, help) = match first {
            CalendarProblem::Duplicate { .. } => {
                let mut help = "keep one file per calendar: the `name` line names a calendar, \
                                whatever its file is called"
                    .to_string();
                if !own.is_empty() {
                    help.push_str(&format!(
                        "; some of them do not load either: {}",
                        details(&own)
                    ));
                }
                (
                    "policy::load::duplicate_calendar",
                    first.to_string(),
                    "ambiguous calendar",
                    help,
                )
            }
            _ if !own.is_empty() => (
                "policy::load::broken_calendar",
                format!("calendar `{name}` does not load"),
                "calendar that does not load",
                format!("fix its file: {}", details(&own)),
            ),
            _ => (
                "policy::load::broken_calendar",
                format!("no calendar named `{name}` loaded, and some calendar files do not load"),
                "calendar not loaded",
                format!(
                    "one of these may declare it; fix them: {}",
                    details(&problems)
                ),
            ),
        };
        diagnostic.code = code;
        diagnostic.message = message;
        diagnostic.label = Some(label.to_string());
        diagnostic.help = Some(help);
    }
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
