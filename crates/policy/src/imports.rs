//! `import "FILE"`: a library's declarations (vocabularies, enums, fields, definitions, its calendar)
//! taken into the importing file, as if written there, before checking.
//!
//! A library is checked on its own first (`policy check` shows its errors in its own text); an import
//! of a library that does not check is one error at the `import` line, with the library's first error.
//! What a library declares is located, in the importing file, at its `import` line: a clash with the
//! file's own declarations (or another import's) is reported by the checker like any duplicate, its
//! "first declared here" pointing at the import. Imported names that the file does not use are not
//! reported: a library serves many policies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::check::Calendars;
use crate::diagnostics::Diagnostic;
use crate::source::{SourceFile, Span, Spanned};
use crate::syntax::ast::{Expr, ExprKind, PolicyAst};

/// What resolving a file's imports has gone through.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    /// The canonical paths of the files importing the one being resolved, to find cycles.
    #[cfg_attr(
        not(feature = "files"),
        expect(dead_code, reason = "only files import")
    )]
    pub chain: Vec<PathBuf>,
    /// Each library resolved so far, by canonical path: a library reached by several imports is
    /// read, resolved and checked once.
    #[cfg_attr(
        not(feature = "files"),
        expect(dead_code, reason = "only files import")
    )]
    known: HashMap<PathBuf, Result<Brought, Diagnostic>>,
    /// Every library read, directly or not, in the order read: a policy is the same policy only if
    /// these are the same texts too.
    pub read: Vec<SourceFile>,
}

/// The libraries an import brings, each by canonical path with its own declarations (its imports
/// taken out), those it imports before it.
type Brought = Vec<(PathBuf, PolicyAst)>;

/// Takes the declarations of every file `ast` imports into it, each library once however many
/// imports reach it (a diamond of imports is fine). `path` is the importing file (imports
/// are relative to its folder); `None` for a text without a file, which cannot import. `trail` holds
/// the canonical paths of the files importing this one, to find cycles. The errors are located in the
/// importing file.
pub(crate) fn resolve(
    ast: &mut PolicyAst,
    path: Option<&Path>,
    calendars: &Calendars,
    trail: &mut Trail,
) -> Result<Brought, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut taken = Vec::new();
    let mut brought: Brought = Vec::new();
    for import in std::mem::take(&mut ast.imports) {
        match library(&import.node, import.span, path, calendars, trail) {
            Ok(libraries) => {
                for (canonical, own) in libraries {
                    if brought.iter().all(|(known, _)| *known != canonical) {
                        taken.push((import.span, own.clone()));
                        brought.push((canonical, own));
                    }
                }
            }
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Imported declarations come first, so that a clash is reported at the file's own declaration.
    let mut merged = PolicyAst {
        imports: Vec::new(),
        actions: std::mem::take(&mut ast.actions),
        requires: std::mem::take(&mut ast.requires),
        constraints: std::mem::take(&mut ast.constraints),
        ..ast.clone()
    };
    merged.vocabularies.clear();
    merged.enums.clear();
    merged.fields.clear();
    merged.lets.clear();
    for (span, library) in taken {
        if merged.header.calendar.is_none() {
            merged.header.calendar = library.header.calendar.map(|c| Spanned::new(c.node, span));
        }
        for mut v in library.vocabularies {
            v.kind.span = span;
            v.values.iter_mut().for_each(|i| i.span = span);
            merged.vocabularies.push(v);
        }
        for mut e in library.enums {
            e.name.span = span;
            e.variants.iter_mut().for_each(|i| i.span = span);
            merged.enums.push(e);
        }
        for mut f in library.fields {
            f.name.span = span;
            f.ty.span = span;
            f.span = span;
            if let Some(default) = &mut f.default {
                relocate(default, span);
            }
            merged.fields.push(f);
        }
        for mut l in library.lets {
            l.name.span = span;
            relocate(&mut l.value, span);
            merged.lets.push(l);
        }
        merged.imported.push(span);
    }
    merged.vocabularies.append(&mut ast.vocabularies);
    merged.enums.append(&mut ast.enums);
    merged.fields.append(&mut ast.fields);
    merged.lets.append(&mut ast.lets);
    *ast = merged;
    Ok(brought)
}

/// The libraries `import` brings: the one it names, checked, and those that one imports.
fn library(
    import: &str,
    span: Span,
    importer: Option<&Path>,
    calendars: &Calendars,
    trail: &mut Trail,
) -> Result<Brought, Diagnostic> {
    let without_file = || {
        Diagnostic::error(
            "policy::check::import_without_file",
            format!("`{import}` cannot be imported: this policy was given as text, not read from a file"),
            span,
        )
        .with_help("load the policy from its file (`Policy::load`, a `PolicySet`), so that imports are read beside it")
    };
    let Some(importer) = importer else {
        return Err(without_file());
    };
    read_library(import, span, importer, calendars, trail)
}

/// Without the `files` feature nothing is read from disk: an import is a text's import.
#[cfg(not(feature = "files"))]
fn read_library(
    import: &str,
    span: Span,
    _importer: &Path,
    _calendars: &Calendars,
    _trail: &mut Trail,
) -> Result<Brought, Diagnostic> {
    Err(Diagnostic::error(
        "policy::check::import_without_file",
        format!("`{import}` cannot be imported: this build reads no files (feature `files`)"),
        span,
    ))
}

/// Reads, parses and checks the library `import` (relative to `importer`'s folder).
#[cfg(feature = "files")]
fn read_library(
    import: &str,
    span: Span,
    importer: &Path,
    calendars: &Calendars,
    trail: &mut Trail,
) -> Result<Brought, Diagnostic> {
    use crate::check::check;
    use crate::syntax::parse;

    let target = importer
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(import);
    let not_found = |error: std::io::Error| {
        Diagnostic::error(
            "policy::check::import_not_found",
            format!("cannot read `{import}`: {error}"),
            span,
        )
        .with_label("imported here")
        .with_help("the path is relative to the folder of the importing file")
    };
    let canonical = std::fs::canonicalize(&target).map_err(not_found)?;
    if trail.chain.contains(&canonical) {
        return Err(Diagnostic::error(
            "policy::check::import_cycle",
            format!("`{import}` imports, directly or not, the file that imports it"),
            span,
        )
        .with_label("this import closes a cycle")
        .with_help("move what both files need into a library that neither imports back"));
    }
    if let Some(known) = trail.known.get(&canonical) {
        // Resolved for another import already: the same answer, at this import.
        return known.clone().map_err(|mut error| {
            error.span = span;
            error
        });
    }
    let text = std::fs::read_to_string(&target).map_err(not_found)?;
    let file = SourceFile::new(target.display().to_string(), text);
    let in_library = |diagnostics: Vec<Diagnostic>| {
        let first = diagnostics.iter().find(|d| d.is_error());
        let (code, message) = first.map_or(("policy::check::import_invalid", ""), |d| {
            (d.code, d.message.as_str())
        });
        Diagnostic::error(code, format!("in imported `{import}`: {message}"), span)
            .with_label("imported here")
            .with_help(format!(
                "`policy check` the library (`{import}`, beside this file) to see its every error"
            ))
    };
    let mut library = parse(&file.text).map_err(in_library)?;
    if !library.header.library {
        return Err(Diagnostic::error(
            "policy::check::import_not_library",
            format!("`{import}` is a policy, not a library"),
            span,
        )
        .with_label("imported here")
        .with_help("a file to import starts with `library NAME` and holds only vocabularies, enums, fields, definitions and a calendar"));
    }
    trail.read.push(file.clone());
    let own = PolicyAst {
        imports: Vec::new(),
        ..library.clone()
    };
    trail.chain.push(canonical.clone());
    let nested = resolve(&mut library, Some(&target), calendars, trail);
    trail.chain.pop();
    // A cycle found further down is this import's cycle too: its code and message say so.
    let resolved = nested.map_err(in_library).and_then(|mut brought| {
        check(&library, &file, calendars).map_err(in_library)?;
        brought.push((canonical.clone(), own));
        Ok(brought)
    });
    trail.known.insert(canonical, resolved.clone());
    resolved
}

/// Points every span of `expr` at `span`: an imported expression is shown at its `import` line.
fn relocate(expr: &mut Expr, span: Span) {
    expr.span = span;
    match &mut expr.kind {
        ExprKind::Call(name, args) => {
            name.span = span;
            args.iter_mut().for_each(|a| relocate(a, span));
        }
        ExprKind::Not(e) | ExprKind::Neg(e) => relocate(e, span),
        ExprKind::Binary(_, a, b) => {
            relocate(a, span);
            relocate(b, span);
        }
        ExprKind::InSet { subject, set, .. } => {
            relocate(subject, span);
            set.iter_mut().for_each(|i| i.value.span = span);
        }
        ExprKind::Rounded {
            value,
            mode,
            quantum,
        } => {
            relocate(value, span);
            mode.span = span;
            quantum.span = span;
        }
        ExprKind::Window {
            subject, anchor, ..
        } => {
            relocate(subject, span);
            relocate(anchor, span);
        }
        ExprKind::If(c, a, b) => {
            relocate(c, span);
            relocate(a, span);
            relocate(b, span);
        }
        _ => {}
    }
}
