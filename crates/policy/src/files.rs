//! Reading from the file system (feature `files`): the walk that finds policy files, shared by the CLI
//! (`policy check`, `policy test`) and [`PolicySet`](crate::PolicySet), and calendar folders.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::calendar::Calendar;
use crate::eval::{CalendarFolder, CalendarProblem};

/// Why the `.policy` files under some paths could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// A path given does not exist.
    #[error("no such file or folder: `{}`", .path.display())]
    Missing {
        /// The path as given.
        path: PathBuf,
    },
    /// A folder cannot be read (listed, or resolved to its canonical path).
    #[error("cannot read `{}`: {error}", .path.display())]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
}

/// Every `.policy` file under `paths`: files as given (whatever their extension), folders recursively
/// (each folder's entries sorted, depth first), each file once. Links to folders are followed, but
/// each folder is walked once, by its canonical path, so a link back up the tree (a loop) is not
/// walked again; a file reached by two paths is listed once, by the first.
pub fn policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FilesError> {
    let mut walk = Walk::default();
    for path in paths {
        if path.is_dir() {
            walk.folder(path)?;
        } else if path.exists() {
            walk.file(path.clone());
        } else {
            return Err(FilesError::Missing { path: path.clone() });
        }
    }
    Ok(walk.files)
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    /// Canonical paths of the folders walked and the files listed.
    seen: HashSet<PathBuf>,
}

impl Walk {
    fn file(&mut self, path: PathBuf) {
        // A path that cannot be resolved (a dangling link) is listed as given: reading it says why.
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if self.seen.insert(key) {
            self.files.push(path);
        }
    }

    /// Walks `root` without recursion: a stack of each open folder's remaining entries.
    fn folder(&mut self, root: &Path) -> Result<(), FilesError> {
        let mut stack = Vec::new();
        if let Some(entries) = self.enter(root)? {
            stack.push(entries);
        }
        while let Some(entries) = stack.last_mut() {
            let Some(path) = entries.next() else {
                stack.pop();
                continue;
            };
            if path.is_dir() {
                if let Some(entries) = self.enter(&path)? {
                    stack.push(entries);
                }
            } else if path.extension().is_some_and(|e| e == "policy") && path.is_file() {
                // Regular files only (links to them too): a FIFO or a device named `*.policy` in a
                // folder would block or never end.
                self.file(path);
            }
        }
        Ok(())
    }

    /// The sorted entries of `dir`, or `None` if it was walked already.
    fn enter(&mut self, dir: &Path) -> Result<Option<std::vec::IntoIter<PathBuf>>, FilesError> {
        let cannot = |error: std::io::Error| FilesError::Unreadable {
            path: dir.to_path_buf(),
            error,
        };
        let canonical = std::fs::canonicalize(dir).map_err(cannot)?;
        if !self.seen.insert(canonical) {
            return Ok(None);
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(cannot)? {
            entries.push(entry.map_err(cannot)?.path());
        }
        entries.sort();
        Ok(Some(entries.into_iter()))
    }
}

/// Where the calendars of a policy file live: `calendars/` beside it.
pub fn calendar_dir(policy_path: &Path) -> PathBuf {
    policy_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("calendars")
}

/// Every `*.calendar` file in `dir`, by the name each declares. A missing folder is no calendars. A
/// file that cannot be read or parsed, and a name several files declare, are kept as problems rather
/// than failing the whole folder: see [`CalendarFolder::problems_for`].
pub fn load_calendars(dir: &Path) -> CalendarFolder {
    let mut folder = CalendarFolder::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return folder,
        Err(error) => {
            folder.problems.push(CalendarProblem::Folder {
                path: dir.to_path_buf(),
                error,
            });
            return folder;
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(error) => folder.problems.push(CalendarProblem::Folder {
                path: dir.to_path_buf(),
                error,
            }),
        }
    }
    paths.retain(|p| p.extension().is_some_and(|e| e == "calendar"));
    paths.sort();
    // Each name, with the files that declare it (loaded or not) and the calendar if one loaded.
    let mut declared: BTreeMap<String, (Vec<PathBuf>, Option<Arc<Calendar>>)> = BTreeMap::new();
    for path in paths {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                folder
                    .problems
                    .push(CalendarProblem::Unreadable { path, error });
                continue;
            }
        };
        match Calendar::parse(&path.display().to_string(), &text) {
            Ok(calendar) => {
                let entry = declared.entry(calendar.name().to_string()).or_default();
                entry.0.push(path);
                entry.1 = Some(Arc::new(calendar));
            }
            Err(error) => {
                let declares = Calendar::declared_name(&text).map(str::to_string);
                if let Some(name) = &declares {
                    declared
                        .entry(name.clone())
                        .or_default()
                        .0
                        .push(path.clone());
                }
                folder.problems.push(CalendarProblem::Invalid {
                    path,
                    declares,
                    error,
                });
            }
        }
    }
    for (name, (paths, calendar)) in declared {
        match (paths.len(), calendar) {
            (1, Some(calendar)) => {
                folder.calendars.insert(name, calendar);
            }
            (1, None) => {}
            _ => folder
                .problems
                .push(CalendarProblem::Duplicate { name, paths }),
        }
    }
    folder
}
