//! An open document: its text, the findings of its last analysis, its symbol index, and the last
//! policy that checked (for types and examples' values while the text is broken).

use std::path::{Path, PathBuf};

use policy::analysis::{analyze, calendar_coverage, DEFAULT_HORIZON_DAYS};
use policy::diagnostics::Diagnostic;
use policy::eval::{FileContents, LoadError, Policy};
use policy::symbols::SymbolIndex;

use crate::lines::{Encoding, Lines};

/// The symbol index of a document, built from `text` (the document's current text, or an earlier one
/// when the current one does not parse).
#[derive(Debug, Clone)]
pub struct Indexed {
    /// The text the index was built from.
    pub text: String,
    /// The index.
    pub index: SymbolIndex,
}

/// An open document.
#[derive(Debug)]
pub struct Document {
    /// Its file, when it has one (an unsaved buffer has none: it cannot import).
    pub path: Option<PathBuf>,
    /// The editor's version of it.
    pub version: i32,
    /// Its text now.
    pub text: String,
    /// Its lines now.
    pub lines: Lines,
    /// Whether `diagnostics` and `indexed` are of the text now.
    pub analysed: bool,
    /// The findings of the text now (once analysed), `# allow` applied.
    pub diagnostics: Vec<Diagnostic>,
    /// The last index built: of the text now when it parses, else of the last text that parsed.
    pub indexed: Option<Indexed>,
    /// The last policy that checked, and whether it is of the text now.
    pub policy: Option<(Policy, bool)>,
}

impl Document {
    /// A document just opened (not yet analysed).
    pub fn new(path: Option<PathBuf>, version: i32, text: String, encoding: Encoding) -> Self {
        Document {
            path,
            version,
            lines: Lines::new(&text, encoding),
            text,
            analysed: false,
            diagnostics: Vec::new(),
            indexed: None,
            policy: None,
        }
    }

    /// Replaces the text.
    pub fn set_text(&mut self, text: String, version: i32, encoding: Encoding) {
        self.lines = Lines::new(&text, encoding);
        self.text = text;
        self.version = version;
        self.analysed = false;
        if let Some((_, current)) = &mut self.policy {
            *current = false;
        }
    }

    /// Loads the text as `policy check` does (imports and `calendars/` beside the file, the analysis of
    /// a policy that checks, `# allow` comments), and indexes its names; `read` gives the text of an
    /// imported file (an open buffer's, else the disk's).
    pub fn analyse(&mut self, read: impl FnMut(&Path) -> Option<String>) {
        let (diagnostics, policy) = load(self.path.as_deref(), &self.text);
        self.diagnostics = policy::suppression::apply(&self.text, diagnostics).reported;
        if let Some(policy) = policy {
            self.policy = Some((policy, true));
        }
        if let Ok(mut index) = SymbolIndex::with_imports(&self.text, self.path.as_deref(), read) {
            if let Some((policy, _)) = &self.policy {
                index.add_types(policy);
            }
            self.indexed = Some(Indexed {
                text: self.text.clone(),
                index,
            });
        }
        self.analysed = true;
    }

    /// The index, with the way from the text now to the text it was built from.
    pub fn index(&self) -> Option<(&SymbolIndex, Shift)> {
        let indexed = self.indexed.as_ref()?;
        Some((&indexed.index, Shift::new(&indexed.text, &self.text)))
    }
}

/// Every finding of `text` and, when it checks as a policy, the policy.
fn load(path: Option<&Path>, text: &str) -> (Vec<Diagnostic>, Option<Policy>) {
    let loaded = match path {
        Some(path) => {
            let folder = policy::files::load_calendars(&policy::files::calendar_dir(path));
            Policy::from_file_text(path, text, &folder)
        }
        None => {
            Policy::from_source("untitled", text, &Default::default()).map(FileContents::Policy)
        }
    };
    match loaded {
        Ok(FileContents::Policy(policy)) => {
            let mut all = policy.warnings().to_vec();
            all.extend(analyze(&policy).into_iter().map(|f| f.diagnostic));
            all.extend(calendar_coverage(
                &policy,
                policy::eval::now(),
                DEFAULT_HORIZON_DAYS,
            ));
            (all, Some(policy))
        }
        Ok(FileContents::Library { warnings, .. }) => (warnings, None),
        Err(LoadError::Invalid { diagnostics, .. }) => (diagnostics, None),
        Err(error) => (
            vec![Diagnostic::error(
                "policy::lsp::unreadable",
                error.to_string(),
                policy::source::Span::default(),
            )],
            None,
        ),
    }
}

/// How offsets of an older text map to the text now: the two share a prefix and a suffix, and what is
/// between them changed (one edit, as typing makes). Offsets inside the change map to nothing.
#[derive(Debug, Clone, Copy)]
pub struct Shift {
    prefix: usize,
    old_end: usize,
    new_end: usize,
}

impl Shift {
    /// The shift from `old` to `new`.
    pub fn new(old: &str, new: &str) -> Shift {
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let mut prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
            prefix -= 1;
        }
        let room = a.len().min(b.len()) - prefix;
        let mut suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take(room)
            .take_while(|(x, y)| x == y)
            .count();
        while !old.is_char_boundary(a.len() - suffix) || !new.is_char_boundary(b.len() - suffix) {
            suffix -= 1;
        }
        Shift {
            prefix,
            old_end: a.len() - suffix,
            new_end: b.len() - suffix,
        }
    }

    /// The offset in the text now of `old` in the older text.
    pub fn to_new(self, old: usize) -> Option<usize> {
        if old <= self.prefix {
            Some(old)
        } else if old >= self.old_end {
            Some(old - self.old_end + self.new_end)
        } else {
            None
        }
    }

    /// The offset in the older text of `new` in the text now.
    pub fn to_old(self, new: usize) -> Option<usize> {
        if new <= self.prefix {
            Some(new)
        } else if new >= self.new_end {
            Some(new - self.new_end + self.old_end)
        } else {
            None
        }
    }

    /// A span of the older text in the text now.
    pub fn span(self, span: policy::source::Span) -> Option<policy::source::Span> {
        let start = self.to_new(span.start as usize)?;
        let end = self.to_new(span.end as usize)?;
        Some(policy::source::Span::new(start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_outside_one_edit_follow_it() {
        let shift = Shift::new("let a = b + c\nx", "let a = bb + c\nx");
        assert_eq!(shift.to_new(4), Some(4));
        assert_eq!(shift.to_new(13), Some(14));
        assert_eq!(shift.to_old(14), Some(13));
        assert_eq!(shift.to_new(8), Some(8));
        let shift = Shift::new("abc", "abc");
        assert_eq!((shift.to_new(3), shift.to_old(1)), (Some(3), Some(1)));
        let shift = Shift::new("a\u{e9}b", "a\u{e8}b");
        assert_eq!(shift.to_new(3), Some(3));
        let shift = Shift::new("aXXb", "ab");
        assert_eq!(
            (shift.to_new(2), shift.to_new(3), shift.to_new(4)),
            (None, Some(1), Some(2))
        );
    }
}
