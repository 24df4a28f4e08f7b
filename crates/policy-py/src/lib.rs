//! The native half of the Python package `policy_lang`: a policy (or a policy of a folder, with its
//! versions and calendars) loaded once, then orders decided one by one as JSON text or as Arrow
//! batches. The Python half (`python/policy_lang/`) turns dicts and `datetime`s into JSON text and
//! back, and defines the exceptions this module raises. See `docs/python.md`.

mod batch;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use policy::{Instant, OrderError, Policy, PolicySet, Versions};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::input::AnyRecordBatch;

/// Where the policy comes from: one file, or one policy (all its versions) of a folder.
enum Source {
    File {
        path: PathBuf,
        current: RwLock<Arc<Versions>>,
    },
    Set {
        set: PolicySet,
        name: String,
    },
}

/// A loaded policy: decides orders, explains them, and reloads from disk.
#[pyclass(frozen, module = "policy_lang._native")]
struct Engine {
    source: Source,
}

#[pymethods]
impl Engine {
    /// Loads a `.policy` file (its calendars from `calendars/` beside it) or a folder of policies
    /// (`name` chooses one when it holds several; `calendars` overrides where calendars are read).
    #[staticmethod]
    #[pyo3(signature = (path, name=None, calendars=None))]
    fn load(
        py: Python<'_>,
        path: PathBuf,
        name: Option<String>,
        calendars: Option<PathBuf>,
    ) -> PyResult<Engine> {
        if path.is_dir() {
            let mut builder = PolicySet::builder(path.clone());
            if let Some(calendars) = calendars {
                builder = builder.calendars(calendars);
            }
            let set = builder
                .load()
                .map_err(|error| load_error(py, &error.to_string(), "invalid", &path))?;
            let names = set.names();
            let name = match name {
                Some(name) if names.contains(&name) => name,
                Some(name) => {
                    return Err(load_error(
                        py,
                        &format!(
                            "the folder {} has no policy `{name}` (it has: {})",
                            path.display(),
                            names.join(", ")
                        ),
                        "not_found",
                        &path,
                    ))
                }
                None => match names.as_slice() {
                    [only] => only.clone(),
                    _ => {
                        return Err(load_error(
                            py,
                            &format!(
                                "the folder {} holds several policies ({}); choose one with name=",
                                path.display(),
                                names.join(", ")
                            ),
                            "ambiguous",
                            &path,
                        ))
                    }
                },
            };
            Ok(Engine {
                source: Source::Set { set, name },
            })
        } else {
            if calendars.is_some() {
                return Err(PyValueError::new_err(
                    "calendars= applies to a folder of policies; a file reads calendars/ beside it",
                ));
            }
            let versions = load_file(py, &path)?;
            Ok(Engine {
                source: Source::File {
                    path,
                    current: RwLock::new(Arc::new(versions)),
                },
            })
        }
    }

    /// The policy's name.
    #[getter]
    fn name(&self) -> PyResult<String> {
        Ok(self.versions()?.name().to_string())
    }

    /// The IANA zone of the policy's calendar days and of the instants it gives.
    #[getter]
    fn zone(&self) -> PyResult<String> {
        Ok(self.versions()?.latest().zone().name().to_string())
    }

    /// The policy's actions, as declared.
    #[getter]
    fn actions(&self) -> PyResult<Vec<String>> {
        Ok(self
            .versions()?
            .latest()
            .actions()
            .map(str::to_string)
            .collect())
    }

    /// The versions loaded (`effective from` as written), oldest first; empty without versions.
    #[getter]
    fn versions_loaded(&self) -> PyResult<Vec<String>> {
        Ok(self
            .versions()?
            .all()
            .iter()
            .filter_map(|p| p.version().map(str::to_string))
            .collect())
    }

    /// The fields the latest version declares: `(name, type, optional)`.
    #[getter]
    fn fields(&self) -> PyResult<Vec<(String, String, bool)>> {
        let versions = self.versions()?;
        Ok(versions
            .latest()
            .fields()
            .map(|f| (f.name().to_string(), type_name(f.ty()), f.optional()))
            .collect())
    }

    /// Reads the policy again from disk. A folder is swapped whole when every file checks; a broken
    /// edit keeps the last good policy serving. Returns the report as a dict.
    fn reload<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let report = PyDict::new(py);
        match &self.source {
            Source::File { path, current } => {
                let loaded = py.detach(|| Policy::load(path));
                match loaded {
                    Ok(policy) => {
                        let mut guard = current.write().map_err(|_| {
                            PyRuntimeError::new_err("the policy's lock is poisoned")
                        })?;
                        let changed = guard.latest().source().text != policy.source().text;
                        *guard = Arc::new(Versions::single(Arc::new(policy)));
                        report.set_item("swapped", true)?;
                        report.set_item(
                            "changed",
                            if changed { vec![guard.name()] } else { vec![] },
                        )?;
                        report.set_item("problems", Vec::<String>::new())?;
                    }
                    Err(error) => {
                        report.set_item("swapped", false)?;
                        report.set_item("changed", Vec::<String>::new())?;
                        report.set_item("problems", vec![error.to_string()])?;
                    }
                }
                report.set_item("added", Vec::<String>::new())?;
                report.set_item("removed", Vec::<String>::new())?;
            }
            Source::Set { set, .. } => {
                let outcome = py.detach(|| set.reload());
                report.set_item("swapped", outcome.swapped)?;
                report.set_item("generation", outcome.generation)?;
                report.set_item("added", outcome.added)?;
                report.set_item("removed", outcome.removed)?;
                report.set_item("changed", outcome.changed)?;
                report.set_item(
                    "problems",
                    outcome
                        .problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                )?;
            }
        }
        Ok(report)
    }

    /// Decides one order given as JSON text; returns the decision's JSON text (the contract's).
    #[pyo3(signature = (order, at=None, action=None))]
    fn decide_json(
        &self,
        py: Python<'_>,
        order: &str,
        at: Option<&str>,
        action: Option<&str>,
    ) -> PyResult<String> {
        let versions = self.versions()?;
        let action = choose_action(&versions, action)?;
        let now = instant(at)?;
        let decided = py.detach(|| {
            versions
                .decide_json(&action, order, now)
                .map(|d| d.to_json())
        });
        decided.map_err(|error| order_error(py, &error))
    }

    /// Explains one order given as JSON text: the explanation's JSON text, or its plain text.
    #[pyo3(signature = (order, at=None, action=None, text=false))]
    fn explain_json(
        &self,
        py: Python<'_>,
        order: &str,
        at: Option<&str>,
        action: Option<&str>,
        text: bool,
    ) -> PyResult<String> {
        let versions = self.versions()?;
        let action = choose_action(&versions, action)?;
        let now = instant(at)?;
        let explained = py.detach(|| {
            versions.explain_json(&action, order, now).map(|e| {
                if text {
                    e.to_string()
                } else {
                    explanation_json(&e)
                }
            })
        });
        explained.map_err(|error| order_error(py, &error))
    }

    /// Decides every row of an Arrow batch or table; returns a `pyarrow.RecordBatch` of decisions,
    /// one row per input row, in order. The GIL is released while deciding.
    #[pyo3(signature = (batch, at=None, action=None, threads=None))]
    fn decide_batch<'py>(
        &self,
        py: Python<'py>,
        batch: AnyRecordBatch,
        at: Option<&str>,
        action: Option<&str>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let versions = self.versions()?;
        let action = choose_action(&versions, action)?;
        let now = instant(at)?;
        let reader = batch.into_reader()?;
        let threads = threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let decided = py.detach(|| batch::decide_reader(&versions, &action, now, reader, threads));
        let decided = decided.map_err(|error| match error {
            batch::BatchError::Schema(message) => schema_error(py, &message),
            batch::BatchError::Arrow(message) => PyValueError::new_err(message),
        })?;
        pyo3_arrow::PyRecordBatch::new(decided).into_pyarrow(py)
    }
}

impl Engine {
    /// The versions serving now (a snapshot: a reload does not change it under a running decision).
    fn versions(&self) -> PyResult<Arc<Versions>> {
        match &self.source {
            Source::File { current, .. } => current
                .read()
                .map(|guard| Arc::clone(&guard))
                .map_err(|_| PyRuntimeError::new_err("the policy's lock is poisoned")),
            Source::Set { set, name } => set.versions(name).map(Arc::new).ok_or_else(|| {
                PyRuntimeError::new_err(format!(
                    "policy `{name}` is no longer in {} after a reload",
                    set.root().display()
                ))
            }),
        }
    }
}

fn load_file(py: Python<'_>, path: &std::path::Path) -> PyResult<Versions> {
    let policy = py.detach(|| Policy::load(path)).map_err(|error| {
        let kind = match error.kind() {
            policy::LoadErrorKind::Io => "io",
            _ => "invalid",
        };
        load_error(py, &error.to_string(), kind, path)
    })?;
    Ok(Versions::single(Arc::new(policy)))
}

/// A field type's name as a policy declares it (`money`), or its enum's name.
fn type_name(ty: policy::eval::FieldType<'_>) -> String {
    use policy::eval::FieldType as T;
    match ty {
        T::Bool => "bool".into(),
        T::Int => "int".into(),
        T::Money => "money".into(),
        T::String => "string".into(),
        T::Enum { name, .. } => name.to_string(),
        T::Timestamp => "timestamp".into(),
        T::Date => "date".into(),
        _ => "other".into(),
    }
}

/// The action asked for, or the policy's only one (as `policy eval` chooses).
fn choose_action(versions: &Versions, asked: Option<&str>) -> PyResult<String> {
    if let Some(action) = asked {
        return Ok(action.to_string());
    }
    let actions: Vec<&str> = versions.latest().actions().collect();
    match actions.as_slice() {
        [only] => Ok((*only).to_string()),
        _ => Err(PyValueError::new_err(format!(
            "policy `{}` has several actions ({}); choose one with action=",
            versions.name(),
            actions.join(", ")
        ))),
    }
}

/// The request time: RFC 3339 with an offset, else now.
fn instant(at: Option<&str>) -> PyResult<Instant> {
    match at {
        None => Ok(policy::eval::now()),
        Some(text) => Instant::parse(text)
            .map_err(|error| PyValueError::new_err(format!("at={text:?}: {error}"))),
    }
}

fn explanation_json(explanation: &policy::Explanation<'_>) -> String {
    // INVARIANT: an explanation always serialises (it is built of strings, numbers and lists).
    serde_json::to_string(explanation).unwrap_or_else(|error| {
        serde_json::json!({ "error": format!("internal error: {error}") }).to_string()
    })
}

/// What a Python caller sees of an `OrderError`: its code, and the fields it names.
pub(crate) fn error_parts(error: &OrderError) -> (&'static str, Vec<(String, String)>) {
    match error {
        OrderError::Input { problems, .. } => (
            "input",
            problems
                .iter()
                .map(|p| (p.field.clone(), p.message.clone()))
                .collect(),
        ),
        OrderError::Eval { .. } => ("eval", Vec::new()),
        OrderError::NotInForce { .. } => ("not_in_force", Vec::new()),
        OrderError::UnknownAction { .. } => ("unknown_action", Vec::new()),
        _ => ("other", Vec::new()),
    }
}

fn python_error(py: Python<'_>, class: &str, args: impl for<'py> IntoPyObject<'py>) -> PyErr {
    let made = py
        .import("policy_lang._errors")
        .and_then(|module| module.getattr(class))
        .and_then(|class| class.call1((args,)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(error) => error,
    }
}

fn order_error(py: Python<'_>, error: &OrderError) -> PyErr {
    let (code, problems) = error_parts(error);
    python_error(
        py,
        "_order_error",
        (
            error.to_string(),
            error.order().map(str::to_string),
            code,
            problems,
        ),
    )
}

fn load_error(py: Python<'_>, message: &str, kind: &str, path: &std::path::Path) -> PyErr {
    python_error(
        py,
        "_load_error",
        (
            message.to_string(),
            kind.to_string(),
            path.display().to_string(),
        ),
    )
}

fn schema_error(py: Python<'_>, message: &str) -> PyErr {
    python_error(py, "_schema_error", (message.to_string(),))
}

/// The native module: `Engine`, and the names of the decision columns `decide_batch` returns.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add("DECISION_COLUMNS", batch::COLUMNS.to_vec())?;
    m.add("AMOUNT_SCALE", batch::AMOUNT_SCALE)?;
    Ok(())
}
