//! A folder of policies served to a host: [`PolicySet`] loads every `.policy` file of a folder, finds
//! each policy by its declared name, and reloads the folder on demand, swapping the whole set at once
//! when every file checks and keeping the last good set serving when one does not.
//!
//! ```
//! use policy::{Instant, PolicySet};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))?;
//! let set = PolicySet::builder("policies").load()?; // calendars from `policies/calendars/`
//! let policy = set.get("huawei-scm-unsubscribe").ok_or("no such policy")?;
//! let decision = policy.decide_json(
//!     "refund",
//!     r#"{"id":"o-1","paid_at":"2024-12-01T12:00:00+08:00","price":"100.00",
//!         "status":"pending_application","purchased_on":"scm_console"}"#,
//!     Instant::parse("2024-12-02T09:00:00+08:00")?,
//! )?;
//! assert_eq!(&*decision.rule, "pending_application");
//!
//! let report = set.reload(); // after the files changed on disk
//! assert!(report.is_ok(), "{report}");
//! # Ok(())
//! # }
//! ```
//!
//! Readers and reloads share one pointer to the current [`Snapshot`], behind a `std::sync::RwLock`
//! held only to clone or replace that pointer: a reload reads, checks and compiles the new set before
//! it takes the lock, so a reader waits at most for the pointer's swap, and a reader that holds a
//! snapshot (or a policy taken from one) keeps using it, whole, for as long as it likes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::eval::{file_list, CalendarFolder, CalendarProblem, FileContents, LoadError};
use crate::files::{calendar_dir, load_calendars, policy_files, FilesError};
use crate::versions::{Versions, VersionsError};
use crate::{Decision, Instant, OrderError, Policy};

/// The policies of a folder, by their declared names; reloaded on demand. `Send + Sync`: share it
/// (in an `Arc`, or by reference) between the threads that decide and the one that reloads.
#[derive(Debug)]
pub struct PolicySet {
    root: PathBuf,
    calendars: Option<PathBuf>,
    /// The set serving now. Locked only to clone or replace the pointer.
    current: RwLock<Arc<Snapshot>>,
    /// Held through a whole reload, so that two reloads do not interleave (readers never take it).
    reloading: Mutex<()>,
}

/// Where a [`PolicySet`] takes its files from; made by [`PolicySet::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `load` is called"]
pub struct PolicySetBuilder {
    root: PathBuf,
    calendars: Option<PathBuf>,
}

/// One consistent set of policies: what a [`PolicySet`] served at some moment. A reload never changes
/// a snapshot; it makes a new one.
#[derive(Debug, Default)]
pub struct Snapshot {
    generation: u64,
    policies: BTreeMap<String, Loaded>,
}

/// A policy of a snapshot, its versions (one for a policy without versions), and the file each came
/// from, in the versions' order.
#[derive(Debug)]
struct Loaded {
    versions: Versions,
    paths: Vec<PathBuf>,
}

impl Loaded {
    fn latest_path(&self) -> &Path {
        self.paths.last().map_or(Path::new(""), PathBuf::as_path)
    }
}

/// A file (or folder) that kept a set from loading: the set is all-or-nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetProblem {
    /// The folder cannot be walked.
    #[error("{0}")]
    Files(#[from] FilesError),
    /// A policy file that cannot be read or does not check. `Display` renders its diagnostics.
    #[error("{error}")]
    Policy {
        /// The file.
        path: PathBuf,
        /// Why it does not load.
        error: LoadError,
    },
    /// A problem of a calendar folder: a calendar file that does not load, a name two files declare.
    #[error("{0}")]
    Calendar(CalendarProblem),
    /// Several files declare the same policy name: none of them is loaded.
    #[error("policy `{name}` is declared by more than one file: {}", file_list(.paths))]
    DuplicateName {
        /// The policy name.
        name: String,
        /// The files that declare it, in walking order.
        paths: Vec<PathBuf>,
    },
    /// Several files declare the same policy as versions, and they do not fit together (two start at
    /// the same instant, or they select by different instants): none of them is loaded.
    #[error("{error}: {}", file_list(.paths))]
    Versions {
        /// The policy name.
        name: String,
        /// The files that declare it, in walking order.
        paths: Vec<PathBuf>,
        /// What does not fit.
        error: VersionsError,
    },
}

/// A folder whose first load failed: every problem found. There is no last good set to serve.
#[derive(Debug, thiserror::Error)]
#[error("{}", problems_message(&format!("the policies of `{}` do not load", .root.display()), .problems))]
pub struct SetError {
    /// The folder.
    pub root: PathBuf,
    /// Every problem: the policy files' in walking order, then the calendar folders' (by path), then
    /// the names several files declare.
    pub problems: Vec<SetProblem>,
}

/// What a [`PolicySet::reload`] did. `Display` says it, problems rendered in full.
#[derive(Debug)]
#[non_exhaustive]
#[must_use = "a reload that fails keeps the last good set serving: look at its problems"]
pub struct ReloadReport {
    /// Whether a new set now serves: every file checked and something differs.
    pub swapped: bool,
    /// The generation serving after the reload (see [`Snapshot::generation`]).
    pub generation: u64,
    /// Policies the new set has and the old did not (none unless swapped).
    pub added: Vec<String>,
    /// Policies the old set had and the new does not (none unless swapped).
    pub removed: Vec<String>,
    /// Policies in both whose text or calendar differ (none unless swapped).
    pub changed: Vec<String>,
    /// Why the reload was refused: every problem found. Empty when the folder checked.
    pub problems: Vec<SetProblem>,
}

impl PolicySet {
    /// Starts loading the policies under `root` (a folder, walked recursively; or one file). The
    /// calendars are those of `calendars/` beside each policy file, as for `policy check`, unless
    /// [`PolicySetBuilder::calendars`] names one folder for all.
    pub fn builder(root: impl Into<PathBuf>) -> PolicySetBuilder {
        PolicySetBuilder {
            root: root.into(),
            calendars: None,
        }
    }

    /// Loads the policies under `root`, calendars beside them: `PolicySet::builder(root).load()`.
    pub fn load(root: impl Into<PathBuf>) -> Result<PolicySet, SetError> {
        PolicySet::builder(root).load()
    }

    /// The folder (or file) the set is loaded from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The set serving now. Hold it to decide several orders against one consistent set.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The policy of that declared name in the set serving now (its latest version: see
    /// [`Snapshot::get`]). Each call counts references on
    /// pointers every thread shares: on a hot path, take the policy (or a [`snapshot`](Self::snapshot))
    /// once per batch or request and decide with it.
    pub fn get(&self, name: &str) -> Option<Arc<Policy>> {
        self.snapshot().get(name).cloned()
    }

    /// Every version of the policy of that declared name serving now (see [`Versions`]).
    pub fn versions(&self, name: &str) -> Option<Versions> {
        self.snapshot().versions(name).cloned()
    }

    /// The declared names of the policies serving now, sorted.
    pub fn names(&self) -> Vec<String> {
        self.snapshot().names().map(str::to_string).collect()
    }

    /// The generation serving now (see [`Snapshot::generation`]).
    pub fn generation(&self) -> u64 {
        self.snapshot().generation
    }

    /// Reads the folder again. If every file checks, the new set replaces the old one at once (a
    /// reader sees one or the other, never a mix), keeping the very same `Arc<Policy>` for each policy
    /// whose file, text and calendar are unchanged; if nothing differs at all, nothing is swapped. If
    /// a file does not check, the last good set keeps serving and the report lists every problem.
    /// Reloads from several threads run one after the other.
    pub fn reload(&self) -> ReloadReport {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let old = self.snapshot();
        let fresh = match read_set(&self.root, self.calendars.as_deref()) {
            Ok(fresh) => fresh,
            Err(problems) => {
                return ReloadReport {
                    swapped: false,
                    generation: old.generation,
                    added: Vec::new(),
                    removed: Vec::new(),
                    changed: Vec::new(),
                    problems,
                }
            }
        };
        let mut report = ReloadReport {
            swapped: false,
            generation: old.generation,
            added: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
            problems: Vec::new(),
        };
        let mut moved = false;
        let mut policies = BTreeMap::new();
        for (name, mut new) in fresh {
            match old.policies.get(&name) {
                None => report.added.push(name.clone()),
                Some(before) if same_versions(&before.versions, &new.versions) => {
                    if before.paths == new.paths {
                        new.versions = before.versions.clone();
                    } else {
                        moved = true;
                    }
                }
                Some(_) => report.changed.push(name.clone()),
            }
            policies.insert(name, new);
        }
        report.removed = old
            .policies
            .keys()
            .filter(|name| !policies.contains_key(*name))
            .cloned()
            .collect();
        if report.added.is_empty()
            && report.removed.is_empty()
            && report.changed.is_empty()
            && !moved
        {
            return report;
        }
        let generation = old.generation + 1;
        let new = Arc::new(Snapshot {
            generation,
            policies,
        });
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = new;
        report.swapped = true;
        report.generation = generation;
        report
    }
}

impl PolicySetBuilder {
    /// Takes every calendar from this one folder, instead of `calendars/` beside each policy file.
    pub fn calendars(mut self, folder: impl Into<PathBuf>) -> Self {
        self.calendars = Some(folder.into());
        self
    }

    /// Loads the set: every file must check (there is no last good set yet); else every problem.
    pub fn load(self) -> Result<PolicySet, SetError> {
        let policies = match read_set(&self.root, self.calendars.as_deref()) {
            Ok(policies) => policies,
            Err(problems) => {
                return Err(SetError {
                    root: self.root,
                    problems,
                })
            }
        };
        Ok(PolicySet {
            root: self.root,
            calendars: self.calendars,
            current: RwLock::new(Arc::new(Snapshot {
                generation: 1,
                policies,
            })),
            reloading: Mutex::new(()),
        })
    }
}

impl Snapshot {
    /// The policy of that declared name: its latest version, if it has several. The latest version
    /// refuses orders from before its start (`OrderError::NotInForce`): to decide each order with the
    /// version in force for it, use [`Snapshot::decide_json`] or [`Snapshot::versions`].
    pub fn get(&self, name: &str) -> Option<&Arc<Policy>> {
        self.policies
            .get(name)
            .map(|loaded| loaded.versions.latest())
    }

    /// Every version of the policy of that declared name.
    pub fn versions(&self, name: &str) -> Option<&Versions> {
        self.policies.get(name).map(|loaded| &loaded.versions)
    }

    /// Reads `text` and decides it with the version of policy `name` in force for it (see
    /// [`Versions::decide_json`]); `None` if the set has no such policy.
    pub fn decide_json(
        &self,
        name: &str,
        action: &str,
        text: &str,
        default_now: Instant,
    ) -> Option<Result<Decision<'_>, OrderError>> {
        Some(self.versions(name)?.decide_json(action, text, default_now))
    }

    /// The file a policy (its latest version) was loaded from.
    pub fn path(&self, name: &str) -> Option<&Path> {
        self.policies.get(name).map(Loaded::latest_path)
    }

    /// The declared names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }

    /// The policies with their names, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<Policy>)> {
        self.policies
            .iter()
            .map(|(name, loaded)| (name.as_str(), loaded.versions.latest()))
    }

    /// How many policies the set has.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether the set has no policy (an empty folder).
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// 1 for the set first loaded, one more for each reload that swapped.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl SetProblem {
    /// The file (or folder) the problem is about; `None` for a name several files declare.
    pub fn path(&self) -> Option<&Path> {
        match self {
            SetProblem::Files(
                FilesError::Missing { path } | FilesError::Unreadable { path, .. },
            )
            | SetProblem::Policy { path, .. } => Some(path),
            SetProblem::Calendar(
                CalendarProblem::Folder { path, .. }
                | CalendarProblem::Unreadable { path, .. }
                | CalendarProblem::Invalid { path, .. },
            ) => Some(path),
            SetProblem::Calendar(CalendarProblem::Duplicate { .. })
            | SetProblem::DuplicateName { .. }
            | SetProblem::Versions { .. } => None,
        }
    }
}

impl ReloadReport {
    /// Whether every file checked (whether or not anything changed).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_ok() {
            let head = format!(
                "reload refused, generation {} keeps serving",
                self.generation
            );
            return f.write_str(&problems_message(&head, &self.problems));
        }
        if !self.swapped {
            return write!(f, "nothing changed, generation {} serving", self.generation);
        }
        write!(f, "generation {} serving", self.generation)?;
        for (what, names) in [
            ("added", &self.added),
            ("removed", &self.removed),
            ("changed", &self.changed),
        ] {
            if !names.is_empty() {
                let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                write!(f, "; {what} {}", names.join(", "))?;
            }
        }
        Ok(())
    }
}

/// `HEAD: N problems`, then each problem, a blank line between them.
fn problems_message(head: &str, problems: &[SetProblem]) -> String {
    let n = problems.len();
    let mut message = format!("{head}: {n} problem{}", if n == 1 { "" } else { "s" });
    for problem in problems {
        message.push_str("\n\n");
        message.push_str(problem.to_string().trim_end());
    }
    message
}

/// Whether two loads of a policy behave alike: the same text, the same libraries imported (by
/// path and text), the same calendar.
fn same_policy(a: &Policy, b: &Policy) -> bool {
    let same_files = |x: &[crate::source::SourceFile], y: &[crate::source::SourceFile]| {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|(x, y)| x.name == y.name && x.text == y.text)
    };
    a.source().text == b.source().text
        && same_files(a.imported(), b.imported())
        && a.checked().calendar == b.checked().calendar
}

/// Whether two sets of versions behave alike, version by version.
fn same_versions(a: &Versions, b: &Versions) -> bool {
    a.all().len() == b.all().len() && a.all().iter().zip(b.all()).all(|(x, y)| same_policy(x, y))
}

/// Reads, checks and compiles every policy under `root`: the policies by name, or every problem.
fn read_set(
    root: &Path,
    calendars: Option<&Path>,
) -> Result<BTreeMap<String, Loaded>, Vec<SetProblem>> {
    let files = policy_files(&[root.to_path_buf()]).map_err(|e| vec![SetProblem::from(e)])?;
    let mut problems = Vec::new();
    // Each calendar folder is read once; its problems are the set's, said once.
    let mut folders: BTreeMap<PathBuf, CalendarFolder> = BTreeMap::new();
    let mut by_name: BTreeMap<String, Vec<(Arc<Policy>, PathBuf)>> = BTreeMap::new();
    for path in files {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                problems.push(SetProblem::Policy {
                    error: LoadError::Io {
                        path: path.clone(),
                        error,
                    },
                    path,
                });
                continue;
            }
        };
        let dir = calendars.map_or_else(|| calendar_dir(&path), Path::to_path_buf);
        let folder = folders
            .entry(dir)
            .or_insert_with_key(|dir| load_calendars(dir));
        match Policy::from_file_text(&path, &text, folder) {
            // A library serves the policies that import it: it is checked with them, not served.
            Ok(FileContents::Library { .. }) => {}
            Ok(FileContents::Policy(policy)) => by_name
                .entry(policy.name().to_string())
                .or_default()
                .push((Arc::new(policy), path)),
            Err(error) => problems.push(SetProblem::Policy { path, error }),
        }
    }
    for folder in folders.into_values() {
        problems.extend(folder.into_problems().into_iter().map(SetProblem::Calendar));
    }
    let mut policies = BTreeMap::new();
    for (name, mut loads) in by_name {
        let paths: Vec<PathBuf> = loads.iter().map(|(_, path)| path.clone()).collect();
        // In the versions' order, so that each keeps its path.
        loads.sort_by_key(|(policy, _)| policy.effective_from());
        let (versions, sorted_paths): (Vec<_>, Vec<_>) = loads.into_iter().unzip();
        match Versions::from_shared(versions) {
            Ok(versions) => {
                policies.insert(
                    name,
                    Loaded {
                        versions,
                        paths: sorted_paths,
                    },
                );
            }
            Err(VersionsError::Unversioned(_)) => {
                problems.push(SetProblem::DuplicateName { name, paths });
            }
            Err(error) => problems.push(SetProblem::Versions { name, paths, error }),
        }
    }
    if problems.is_empty() {
        Ok(policies)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Instant, Outcome};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A fresh folder under the system's temporary folder, removed when dropped.
    struct TempFolder(PathBuf);

    impl TempFolder {
        fn new(name: &str) -> TempFolder {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "policy-registry-{name}-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::remove_dir_all(&path).ok();
            std::fs::create_dir_all(&path).unwrap();
            TempFolder(path)
        }

        fn write(&self, file: &str, text: &str) {
            let path = self.0.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }

        fn remove(&self, file: &str) {
            std::fs::remove_file(self.0.join(file)).unwrap();
        }
    }

    impl Drop for TempFolder {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.0).ok();
        }
    }

    /// Policy `name`: an order is refunded within `days` calendar days after payment, denied after.
    /// `version` is written in its reason, to tell the loads apart.
    fn policy(name: &str, days: u32, version: u32) -> String {
        format!(
            r#"policy {name}
  document "doc.txt" "Refund rules"
  zone "Asia/Shanghai"

field paid_at: timestamp
field price: money

action refund {{
  default amount = price

  rule in_window
    when now within {days} calendar days after paid_at
    then allowed
    because "v{version}: within {days} days"
      cite "Refunds: within {days} days."

  rule late
    then denied
    because "v{version}: too late"
      cite "Refunds: not after {days} days."
}}
"#
        )
    }

    /// The same policy with a typo: `paid_on` is no field.
    fn broken(name: &str) -> String {
        policy(name, 7, 0).replace("after paid_at", "after paid_on")
    }

    const ORDER: &str = r#"{"id":"o-1","paid_at":"2026-03-01T10:00:00+08:00","price":"10.00"}"#;

    /// Eight days after payment: late for a 7-day window, in time for an 8-day one.
    fn eight_days_later() -> Instant {
        Instant::parse("2026-03-09T10:00:00+08:00").unwrap()
    }

    fn outcome(set: &PolicySet, name: &str) -> Outcome {
        set.get(name)
            .unwrap()
            .decide_json("refund", ORDER, eight_days_later())
            .unwrap()
            .outcome
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn a_set_is_shared_across_threads() {
        assert_send_sync::<PolicySet>();
        assert_send_sync::<Snapshot>();
        assert_send_sync::<ReloadReport>();
        assert_send_sync::<SetError>();
    }

    /// A library holding the refund window, and a policy taking it from there.
    fn windowed(days: u32) -> (String, String) {
        let library = format!("library window\n\nlet in_window = now within {days} calendar days after paid_at\nfield paid_at: timestamp\n");
        let policy = policy("windowed", 7, 0)
            .replace("field paid_at: timestamp\n", "")
            .replace(
                "zone \"Asia/Shanghai\"\n",
                "zone \"Asia/Shanghai\"\n\nimport \"lib/window.policy\"\n",
            )
            .replace("now within 7 calendar days after paid_at", "in_window");
        (library, policy)
    }

    #[test]
    fn an_edited_library_reloads_the_policies_that_import_it() {
        let folder = TempFolder::new("library");
        let (library, policy) = windowed(7);
        folder.write("lib/window.policy", &library);
        folder.write("windowed.policy", &policy);
        let set = PolicySet::load(&folder.0).unwrap();
        assert_eq!(outcome(&set, "windowed"), Outcome::Denied);

        folder.write("lib/window.policy", &windowed(8).0);
        let report = set.reload();
        assert!(report.swapped, "{report}");
        assert_eq!(report.changed, ["windowed"]);
        assert_eq!(outcome(&set, "windowed"), Outcome::Allowed);

        let unchanged = set.reload();
        assert!(
            !unchanged.swapped && unchanged.changed.is_empty(),
            "{unchanged}"
        );
    }

    #[test]
    fn loads_every_policy_of_a_folder_by_declared_name() {
        let folder = TempFolder::new("load");
        folder.write("a.policy", &policy("alpha", 7, 1));
        folder.write("nested/deeper/b.policy", &policy("beta", 8, 1));
        folder.write("notes.txt", "not a policy");
        let set = PolicySet::load(&folder.0).unwrap();
        assert_eq!(set.names(), ["alpha", "beta"]);
        assert_eq!(set.generation(), 1);
        assert_eq!(outcome(&set, "alpha"), Outcome::Denied);
        assert_eq!(outcome(&set, "beta"), Outcome::Allowed);
        assert!(
            set.get("a").is_none(),
            "found by declared name, not file name"
        );
        let snapshot = set.snapshot();
        assert_eq!(snapshot.len(), 2);
        assert_eq!(
            snapshot.path("beta"),
            Some(folder.0.join("nested/deeper/b.policy").as_path())
        );
    }

    #[test]
    fn the_shipped_policies_load_as_a_set() {
        let set = PolicySet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies")).unwrap();
        assert_eq!(
            set.names(),
            [
                "alibaba-cms-refund-2026",
                "alibaba-ssl-refund-legacy",
                "alibaba-ssl-revoke",
                "huawei-scm-unsubscribe",
                "huawei-scm-withdraw",
            ]
        );
    }

    #[test]
    fn a_first_load_that_fails_names_every_problem() {
        let folder = TempFolder::new("first");
        folder.write("a.policy", &policy("alpha", 7, 1));
        folder.write("b.policy", &broken("beta"));
        folder.write("c.policy", &policy("alpha", 7, 2));
        let error = PolicySet::load(&folder.0).unwrap_err();
        assert_eq!(error.problems.len(), 2, "{error}");
        assert_eq!(
            error.problems[0].path(),
            Some(folder.0.join("b.policy").as_path())
        );
        assert!(matches!(
            &error.problems[1],
            SetProblem::DuplicateName { name, paths } if name == "alpha" && paths.len() == 2
        ));
        let message = error.to_string();
        assert!(message.contains("do not load: 2 problems"), "{message}");
        assert!(message.contains("policy::check::unknown_name"), "{message}");
        assert!(
            message.contains("policy `alpha` is declared by more than one file"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_folder_does_not_load() {
        let folder = TempFolder::new("missing");
        let error = PolicySet::load(folder.0.join("nowhere")).unwrap_err();
        assert!(matches!(
            error.problems.as_slice(),
            [SetProblem::Files(FilesError::Missing { .. })]
        ));
    }

    #[test]
    fn a_broken_file_keeps_the_last_good_set_and_a_fix_serves() {
        let folder = TempFolder::new("break");
        folder.write("a.policy", &policy("alpha", 7, 1));
        folder.write("b.policy", &policy("beta", 7, 1));
        let set = PolicySet::load(&folder.0).unwrap();
        let before = set.get("alpha").unwrap();
        assert_eq!(outcome(&set, "alpha"), Outcome::Denied);

        folder.write("a.policy", &broken("alpha"));
        let report = set.reload();
        assert!(!report.is_ok() && !report.swapped, "{report}");
        assert_eq!(report.generation, 1);
        assert!(report.added.is_empty() && report.removed.is_empty() && report.changed.is_empty());
        assert_eq!(report.problems.len(), 1);
        let problem = &report.problems[0];
        assert_eq!(problem.path(), Some(folder.0.join("a.policy").as_path()));
        let SetProblem::Policy { error, .. } = problem else {
            panic!("{problem:?}");
        };
        assert_eq!(error.kind(), crate::LoadErrorKind::Invalid);
        assert_eq!(error.diagnostics()[0].code, "policy::check::unknown_name");
        let text = report.to_string();
        assert!(
            text.starts_with("reload refused, generation 1 keeps serving: 1 problem\n\n"),
            "{text}"
        );
        assert!(text.contains("a.policy` does not check: 1 error"), "{text}");
        assert!(text.contains("paid_on"), "the source line is shown: {text}");
        // The last good set serves: the very same policy.
        assert!(Arc::ptr_eq(&set.get("alpha").unwrap(), &before));
        assert_eq!(outcome(&set, "alpha"), Outcome::Denied);

        folder.write("a.policy", &policy("alpha", 8, 2));
        let report = set.reload();
        assert!(report.is_ok() && report.swapped, "{report}");
        assert_eq!(report.generation, 2);
        assert_eq!(report.changed, ["alpha"]);
        assert!(report.added.is_empty() && report.removed.is_empty());
        assert_eq!(report.to_string(), "generation 2 serving; changed `alpha`");
        assert_eq!(outcome(&set, "alpha"), Outcome::Allowed);
        // The old policy is still whole for whoever holds it.
        let old = before
            .decide_json("refund", ORDER, eight_days_later())
            .unwrap();
        assert_eq!(old.outcome, Outcome::Denied);
    }

    #[test]
    fn unchanged_policies_are_kept_and_an_unchanged_folder_swaps_nothing() {
        let folder = TempFolder::new("same");
        folder.write("a.policy", &policy("alpha", 7, 1));
        folder.write("b.policy", &policy("beta", 7, 1));
        let set = PolicySet::load(&folder.0).unwrap();
        let (alpha, beta) = (set.get("alpha").unwrap(), set.get("beta").unwrap());
        let report = set.reload();
        assert!(report.is_ok() && !report.swapped, "{report}");
        assert_eq!(report.to_string(), "nothing changed, generation 1 serving");

        folder.write("b.policy", &policy("beta", 8, 2));
        let report = set.reload();
        assert_eq!(report.changed, ["beta"]);
        assert!(Arc::ptr_eq(&set.get("alpha").unwrap(), &alpha));
        assert!(!Arc::ptr_eq(&set.get("beta").unwrap(), &beta));
    }

    #[test]
    fn added_and_removed_files_are_reported() {
        let folder = TempFolder::new("add");
        folder.write("a.policy", &policy("alpha", 7, 1));
        folder.write("b.policy", &policy("beta", 7, 1));
        let set = PolicySet::load(&folder.0).unwrap();
        folder.remove("b.policy");
        folder.write("sub/c.policy", &policy("gamma", 7, 1));
        folder.write("sub/d.policy", &policy("delta", 7, 1));
        let report = set.reload();
        assert!(report.swapped, "{report}");
        assert_eq!(report.added, ["delta", "gamma"]);
        assert_eq!(report.removed, ["beta"]);
        assert!(report.changed.is_empty());
        assert_eq!(
            report.to_string(),
            "generation 2 serving; added `delta`, `gamma`; removed `beta`"
        );
        assert_eq!(set.names(), ["alpha", "delta", "gamma"]);
        assert!(set.get("beta").is_none());
    }

    #[test]
    fn a_renamed_policy_is_one_removed_and_one_added() {
        let folder = TempFolder::new("rename");
        folder.write("a.policy", &policy("alpha", 7, 1));
        let set = PolicySet::load(&folder.0).unwrap();
        folder.write("a.policy", &policy("omega", 7, 1));
        let report = set.reload();
        assert_eq!(
            (report.added.as_slice(), report.removed.as_slice()),
            (&["omega".to_string()][..], &["alpha".to_string()][..])
        );
    }

    #[test]
    fn a_file_moved_with_the_same_text_swaps_but_is_not_changed() {
        let folder = TempFolder::new("move");
        folder.write("a.policy", &policy("alpha", 7, 1));
        let set = PolicySet::load(&folder.0).unwrap();
        folder.remove("a.policy");
        folder.write("sub/a.policy", &policy("alpha", 7, 1));
        let report = set.reload();
        assert!(report.swapped && report.changed.is_empty(), "{report}");
        assert_eq!(
            set.snapshot().path("alpha"),
            Some(folder.0.join("sub/a.policy").as_path())
        );
    }

    const CALENDAR: &str = "name work\ncovers 2026-01-01 2026-12-31\nweekend saturday sunday\n";

    /// A policy whose window is 3 business days of calendar `work`.
    fn business(name: &str) -> String {
        policy(name, 3, 1)
            .replace(
                "zone \"Asia/Shanghai\"\n",
                "zone \"Asia/Shanghai\"\n  calendar work\n",
            )
            .replace("3 calendar days", "3 business days")
    }

    /// Two libraries importing a third: its declarations are taken once, not declared twice. And a
    /// library reached by many paths (each level importing the next twice, 2^24 paths) is read once.
    #[test]
    fn a_library_reached_by_several_imports_is_taken_once() {
        let folder = TempFolder::new("diamond");
        folder.write("c.policy", "library c\nfield paid_at: timestamp\n");
        folder.write("a.policy", "library a\nimport \"c.policy\"\nlet in_window = now within 8 calendar days after paid_at\n");
        folder.write("b.policy", "library b\nimport \"c.policy\"\n");
        let (_, windowed) = windowed(8);
        let windowed = windowed.replace(
            "import \"lib/window.policy\"",
            "import \"a.policy\"\nimport \"b.policy\"",
        );
        folder.write("windowed.policy", &windowed);
        let set = PolicySet::load(&folder.0).unwrap();
        assert_eq!(outcome(&set, "windowed"), Outcome::Allowed);

        let deep = TempFolder::new("deep");
        deep.write("l0.policy", "library l0\nfield paid_at: timestamp\n");
        for level in 1..=24 {
            let below = level - 1;
            deep.write(
                &format!("l{level}.policy"),
                &format!(
                    "library l{level}\nimport \"l{below}.policy\"\nimport \"./l{below}.policy\"\n"
                ),
            );
        }
        let deep_policy = policy("deep", 8, 0)
            .replace("field paid_at: timestamp\n", "")
            .replace(
                "zone \"Asia/Shanghai\"\n",
                "zone \"Asia/Shanghai\"\n\nimport \"l24.policy\"\n",
            );
        deep.write("deep.policy", &deep_policy);
        let set = PolicySet::load(&deep.0).unwrap();
        assert_eq!(outcome(&set, "deep"), Outcome::Allowed);
    }

    /// A policy that names no calendar takes the one its library names.
    #[test]
    fn a_library_gives_its_calendar_to_a_policy_that_names_none() {
        let folder = TempFolder::new("library-calendar");
        // Beside the policy, so that checked on its own it finds the same calendars.
        folder.write("work-days.policy", "library work_days\n  calendar work\n");
        folder.write(
            "alpha.policy",
            &business("alpha").replace("  calendar work\n", "\nimport \"work-days.policy\"\n"),
        );
        folder.write("calendars/work.calendar", CALENDAR);
        let set = PolicySet::load(&folder.0).unwrap();
        // Three business days from Sunday 2026-03-01: Wednesday 2026-03-04 at the latest.
        let decide = |at: &str| {
            set.get("alpha")
                .unwrap()
                .decide_json("refund", ORDER, Instant::parse(at).unwrap())
                .unwrap()
                .outcome
        };
        assert_eq!(decide("2026-03-04T23:59:59+08:00"), Outcome::Allowed);
        assert_eq!(decide("2026-03-05T00:00:00+08:00"), Outcome::Denied);
    }

    #[test]
    fn calendars_come_from_beside_the_files_or_from_the_folder_given() {
        let folder = TempFolder::new("calendars");
        folder.write("policies/a.policy", &business("alpha"));
        folder.write("policies/calendars/work.calendar", CALENDAR);
        let set = PolicySet::load(folder.0.join("policies")).unwrap();
        assert_eq!(set.names(), ["alpha"]);

        folder.write("elsewhere/work.calendar", CALENDAR);
        folder.remove("policies/calendars/work.calendar");
        assert!(PolicySet::load(folder.0.join("policies")).is_err());
        let set = PolicySet::builder(folder.0.join("policies"))
            .calendars(folder.0.join("elsewhere"))
            .load()
            .unwrap();
        assert_eq!(set.names(), ["alpha"]);

        // A changed calendar changes the policies that name it.
        folder.write(
            "elsewhere/work.calendar",
            &CALENDAR.replace("saturday sunday", "sunday"),
        );
        let report = set.reload();
        assert_eq!(report.changed, ["alpha"], "{report}");
    }

    #[test]
    fn a_broken_calendar_refuses_the_reload() {
        let folder = TempFolder::new("broken-calendar");
        folder.write("a.policy", &policy("alpha", 7, 1));
        folder.write("calendars/work.calendar", CALENDAR);
        let set = PolicySet::load(&folder.0).unwrap();
        folder.write("calendars/work.calendar", "name work\nweekend sundae\n");
        let report = set.reload();
        assert!(!report.swapped, "{report}");
        assert!(matches!(
            report.problems.as_slice(),
            [SetProblem::Calendar(CalendarProblem::Invalid { .. })]
        ));
        assert_eq!(
            report.problems[0].path(),
            Some(folder.0.join("calendars/work.calendar").as_path())
        );
    }

    /// Two policies always written with the same version, then reloaded: every snapshot a reader
    /// takes has both at one version, and every decision succeeds, while reloads swap (and fail).
    #[test]
    fn readers_never_see_an_error_or_a_torn_set_during_reloads() {
        let folder = TempFolder::new("concurrent");
        let write = |version: u32| {
            let days = 7 + version % 2;
            folder.write("a.policy", &policy("alpha", days, version));
            folder.write("b.policy", &policy("beta", days, version));
        };
        write(0);
        let set = PolicySet::load(&folder.0).unwrap();
        let done = AtomicBool::new(false);
        let version_of = |policy: &Policy| {
            let decision = policy
                .decide_json("refund", ORDER, eight_days_later())
                .unwrap();
            let reason = decision.because[0].clone();
            reason[..reason.find(':').unwrap()].to_string()
        };
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        let mut seen = std::collections::BTreeSet::new();
                        while !done.load(Ordering::Relaxed) {
                            let snapshot = set.snapshot();
                            let alpha = version_of(snapshot.get("alpha").unwrap());
                            let beta = version_of(snapshot.get("beta").unwrap());
                            assert_eq!(alpha, beta, "a torn set");
                            seen.insert(alpha);
                            // And through `get`, which may see a newer set each time.
                            version_of(&set.get("beta").unwrap());
                        }
                        seen.len()
                    })
                })
                .collect();
            for version in 1..=12 {
                if version % 4 == 0 {
                    folder.write("a.policy", &broken("alpha"));
                    assert!(!set.reload().is_ok());
                }
                write(version);
                let report = set.reload();
                assert!(report.swapped, "{report}");
                assert_eq!(report.changed, ["alpha", "beta"]);
            }
            done.store(true, Ordering::Relaxed);
            for reader in readers {
                assert!(reader.join().unwrap() >= 1);
            }
        });
        assert_eq!(set.generation(), 13);
    }
}
