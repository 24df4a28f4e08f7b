//! The names of a policy file, for editors: every declaration (field, definition, enum and its values,
//! step, refund destination, review kind, action, rule, a rule's named value, import) with where its
//! name is written, what it is, and every place the file uses it (in expressions, requirements,
//! `requires` lists, field types, `effective ... by`, and the keys of examples' orders).
//!
//! The index is built from the syntax tree, so a file that parses but does not check still gets one: a
//! name resolves as the checker would resolve it where the checker would accept it, and a name the file
//! does not declare stays unresolved (the checker reports it). Types of definitions and of rules' named
//! values come from a policy that checked ([`SymbolIndex::add_types`]): a front end keeps the last one.
//!
//! ```
//! use policy::symbols::{SymbolIndex, SymbolKind};
//!
//! let text = "policy p\n  document \"d.txt\"\n  zone \"UTC\"\n\
//!             field price: money\nlet half = price / 2\n\
//!             action refund {\n  rule r then allowed amount = half because \"b\"\n}\n";
//! let index = SymbolIndex::new(text).map_err(|_| "does not parse")?;
//! let price = index.find("price", SymbolKind::Field).ok_or("no field")?;
//! assert_eq!(price.detail.as_deref(), Some("money"));
//! assert_eq!(price.uses.len(), 1); // in `let half = price / 2`
//! let at = text.rfind("half").ok_or("no use")?;
//! let (half, _) = index.at(at).ok_or("nothing there")?;
//! assert_eq!((half.kind, half.name.as_str()), (SymbolKind::Let, "half"));
//! # Ok::<(), &str>(())
//! ```

use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{
    AttrKind, BinaryOp, Expr, ExprKind, Outcome, PolicyAst, RuleDef, Vocabulary,
};
use crate::syntax::parse;

/// What a declared name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// `field NAME: TYPE`
    Field,
    /// `let NAME = EXPR`
    Let,
    /// `enum NAME { .. }`
    Enum,
    /// A value of an enum (its [`Symbol::parent`] names the enum).
    EnumValue,
    /// A value of `steps { .. }`: what `requires [..]` names.
    Step,
    /// A value of `refund_destinations { .. }`: what `refund_to` names.
    RefundDestination,
    /// A value of `review_kinds { .. }`: what `review` names.
    ReviewKind,
    /// `action NAME { .. }`
    Action,
    /// `rule NAME ...` (its [`Symbol::parent`] names the action).
    Rule,
    /// `value NAME = EXPR` in a rule or an action's defaults (its [`Symbol::parent`] names the rule, or
    /// the action for a default).
    RuleValue,
    /// `import "FILE"`: the name is the path as written.
    Import,
}

impl SymbolKind {
    /// How a person calls it: `field`, `definition`, `enum value`, ...
    pub fn describe(self) -> &'static str {
        match self {
            SymbolKind::Field => "field",
            SymbolKind::Let => "definition",
            SymbolKind::Enum => "enum",
            SymbolKind::EnumValue => "enum value",
            SymbolKind::Step => "step",
            SymbolKind::RefundDestination => "refund destination",
            SymbolKind::ReviewKind => "review kind",
            SymbolKind::Action => "action",
            SymbolKind::Rule => "rule",
            SymbolKind::RuleValue => "value",
            SymbolKind::Import => "import",
        }
    }

    fn of_vocabulary(vocabulary: Vocabulary) -> SymbolKind {
        match vocabulary {
            Vocabulary::Steps => SymbolKind::Step,
            Vocabulary::RefundDestinations => SymbolKind::RefundDestination,
            Vocabulary::ReviewKinds => SymbolKind::ReviewKind,
        }
    }
}

/// Where an imported declaration is written: the library file and the name's span in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The library's path: the importing file's folder joined with the import's path.
    pub path: PathBuf,
    /// The name in the library's text.
    pub span: Span,
}

/// A reason a rule gives: `because "TEXT" cite "SENTENCE" [in "DOCUMENT"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The reason.
    pub text: String,
    /// The sentence of the source document it cites.
    pub cite: Option<String>,
    /// Another document than the header's, when the citation names one.
    pub document: Option<String>,
}

/// One declared name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The name (for an import, the path as written; for a quoted enum value, its text).
    pub name: String,
    /// What it is.
    pub kind: SymbolKind,
    /// Where the name is written in this file; for an imported declaration, the `import` line's path.
    pub span: Span,
    /// The whole declaration in this file (`field voucher: money = 0`), for outlines.
    pub full: Span,
    /// For an imported declaration (and for an import itself): the file it is written in.
    pub origin: Option<Origin>,
    /// Its type and unit where known: a field's as declared (`money`, `timestamp?`, `money = 0`), a
    /// definition's or a named value's once a checked policy gave it ([`SymbolIndex::add_types`]);
    /// for a rule, its outcome.
    pub detail: Option<String>,
    /// The enum of an enum value, the action of a rule, the rule (or action) of a named value.
    pub parent: Option<String>,
    /// Every use of the name in this file, in source order (the declaration itself not included).
    pub uses: Vec<Span>,
    /// A rule's outcome.
    pub outcome: Option<Outcome>,
    /// A rule's reasons with their citations, in order.
    pub reasons: Vec<Reason>,
}

impl Symbol {
    fn new(name: &str, kind: SymbolKind, span: Span) -> Symbol {
        Symbol {
            name: name.to_string(),
            kind,
            span,
            full: span,
            origin: None,
            detail: None,
            parent: None,
            uses: Vec::new(),
            outcome: None,
            reasons: Vec::new(),
        }
    }
}

/// The declarations of a policy file and the uses of each (see the [module](self)).
#[derive(Debug, Clone, Default)]
pub struct SymbolIndex {
    symbols: Vec<Symbol>,
}

/// The deepest chain of imports followed ([`SymbolIndex::with_imports`]); a cycle stops earlier.
const MAX_IMPORT_DEPTH: usize = 16;

/// What an expression's value is expected to name, where a bare name may be a vocabulary's value.
#[derive(Debug, Clone, Copy)]
enum Hint<'a> {
    None,
    Kind(SymbolKind),
    Enum(&'a str),
}

impl SymbolIndex {
    /// The index of a policy's text, its imports not followed (their names stay unresolved); the
    /// syntax errors when the text does not parse.
    pub fn new(text: &str) -> Result<SymbolIndex, Vec<Diagnostic>> {
        Self::with_imports(text, None, |_| None)
    }

    /// The index of the text of the file at `path`, with the declarations of the libraries it imports
    /// (directly or not): `read` gives a library's text by path (from disk, or an editor's open
    /// buffer), `None` when it cannot. Imported declarations are located at their `import` line, with
    /// their [`Origin`]. The syntax errors when the text does not parse (a library that does not parse
    /// only brings nothing).
    pub fn with_imports(
        text: &str,
        path: Option<&Path>,
        mut read: impl FnMut(&Path) -> Option<String>,
    ) -> Result<SymbolIndex, Vec<Diagnostic>> {
        let ast = parse(text)?;
        let mut index = SymbolIndex::default();
        if let Some(path) = path {
            let mut chain = vec![path.to_path_buf()];
            for import in &ast.imports {
                let mut symbol = Symbol::new(&import.node, SymbolKind::Import, import.span);
                let library = library_path(path, &import.node);
                symbol.origin = Some(Origin {
                    path: library.clone(),
                    span: Span::default(),
                });
                index.symbols.push(symbol);
                index.import(&library, import.span, &mut chain, &mut read);
            }
        } else {
            for import in &ast.imports {
                index
                    .symbols
                    .push(Symbol::new(&import.node, SymbolKind::Import, import.span));
            }
        }
        index.declarations(&ast, None);
        index.uses(&ast);
        Ok(index)
    }

    /// Every symbol, imported declarations first, then the file's own in source order.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// The first symbol of `kind` named `name`.
    pub fn find(&self, name: &str, kind: SymbolKind) -> Option<&Symbol> {
        self.symbols
            .iter()
            .find(|s| s.kind == kind && s.name == name)
    }

    /// The symbols of `kind`, in order.
    pub fn of_kind(&self, kind: SymbolKind) -> impl Iterator<Item = &Symbol> {
        self.symbols.iter().filter(move |s| s.kind == kind)
    }

    /// The symbol whose declaration or use covers byte `offset` of the file (its end included, where a
    /// cursor stands after a name), with the span of that occurrence.
    pub fn at(&self, offset: usize) -> Option<(&Symbol, Span)> {
        let covers = |span: &Span| span.start as usize <= offset && offset <= span.end as usize;
        // A declaration's own name first: an imported one is located at its import, which the import
        // itself covers too.
        let declared = self
            .symbols
            .iter()
            .filter(|s| s.origin.is_none() || s.kind == SymbolKind::Import)
            .find(|s| covers(&s.span))
            .map(|s| (s, s.span));
        declared.or_else(|| {
            self.symbols
                .iter()
                .find_map(|s| s.uses.iter().find(|u| covers(u)).map(|u| (s, *u)))
        })
    }

    /// Fills in the types of definitions and rules' named values from `policy`, a checked version of
    /// the same file (or the last version that checked, for a file being edited): a name `policy` does
    /// not have keeps its detail.
    pub fn add_types(&mut self, policy: &crate::Policy) {
        let checked = policy.checked();
        let enum_names = checked
            .enums
            .iter()
            .map(|e| e.name.clone())
            .collect::<Vec<_>>();
        for symbol in &mut self.symbols {
            match symbol.kind {
                SymbolKind::Let => {
                    if let Some(def) = checked.lets.iter().find(|l| l.name == symbol.name) {
                        symbol.detail = Some(def.value.ty.describe(&enum_names));
                    }
                }
                SymbolKind::RuleValue => {
                    let ty = checked
                        .actions
                        .iter()
                        .flat_map(|a| a.rules.iter().map(move |r| (a, r)))
                        .filter(|(a, r)| {
                            symbol.parent.as_deref() == Some(r.id.as_str())
                                || symbol.parent.as_deref() == Some(a.name.as_str())
                        })
                        .find_map(|(_, r)| {
                            r.attrs
                                .values
                                .iter()
                                .find(|(name, _)| *name == symbol.name)
                                .map(|(_, e)| e.ty)
                        });
                    if let Some(ty) = ty {
                        symbol.detail = Some(ty.describe(&enum_names));
                    }
                }
                _ => {}
            }
        }
    }

    /// Takes in the declarations of the library at `library`, imported at `at`, and those it imports.
    fn import(
        &mut self,
        library: &Path,
        at: Span,
        chain: &mut Vec<PathBuf>,
        read: &mut impl FnMut(&Path) -> Option<String>,
    ) {
        if chain.len() > MAX_IMPORT_DEPTH || chain.iter().any(|p| p == library) {
            return;
        }
        let Some(text) = read(library) else { return };
        let Ok(ast) = parse(&text) else { return };
        chain.push(library.to_path_buf());
        for import in &ast.imports {
            self.import(&library_path(library, &import.node), at, chain, read);
        }
        chain.pop();
        let first = self.symbols.len();
        self.declarations(&ast, Some(library));
        // Only what a library may declare is taken in (a library's rules would be an error there).
        let mut kept = self.symbols.split_off(first);
        kept.retain(|s| {
            !matches!(
                s.kind,
                SymbolKind::Action | SymbolKind::Rule | SymbolKind::RuleValue | SymbolKind::Import
            )
        });
        for mut symbol in kept {
            symbol.origin = Some(Origin {
                path: library.to_path_buf(),
                span: symbol.span,
            });
            symbol.span = at;
            symbol.full = at;
            self.symbols.push(symbol);
        }
    }

    /// Records the declarations of `ast` (`library`: the file they are written in, when imported).
    fn declarations(&mut self, ast: &PolicyAst, library: Option<&Path>) {
        let text_of_type = |ty: &str, optional: bool| {
            if optional {
                format!("{ty}?")
            } else {
                ty.to_string()
            }
        };
        for vocabulary in &ast.vocabularies {
            let kind = SymbolKind::of_vocabulary(vocabulary.kind.node);
            for value in &vocabulary.values {
                let mut symbol = Symbol::new(&value.node, kind, value.span);
                symbol.parent = Some(vocabulary.kind.node.keyword().to_string());
                self.symbols.push(symbol);
            }
        }
        for def in &ast.enums {
            let mut symbol = Symbol::new(&def.name.node, SymbolKind::Enum, def.name.span);
            symbol.full = def
                .variants
                .last()
                .map_or(def.name.span, |v| def.name.span.to(v.span));
            symbol.detail = Some(format!("{} values", def.variants.len()));
            self.symbols.push(symbol);
            for variant in &def.variants {
                let mut value = Symbol::new(&variant.node, SymbolKind::EnumValue, variant.span);
                value.parent = Some(def.name.node.clone());
                value.detail = Some(def.name.node.clone());
                self.symbols.push(value);
            }
        }
        for def in &ast.fields {
            let mut symbol = Symbol::new(&def.name.node, SymbolKind::Field, def.name.span);
            symbol.full = def.span;
            let mut detail = text_of_type(&def.ty.node, def.optional);
            if let Some(default) = &def.default {
                detail.push_str(&format!(" (default {})", shown_literal(default)));
            }
            symbol.detail = Some(detail);
            self.symbols.push(symbol);
        }
        for def in &ast.lets {
            let mut symbol = Symbol::new(&def.name.node, SymbolKind::Let, def.name.span);
            symbol.full = def.name.span.to(def.value.span);
            self.symbols.push(symbol);
        }
        if library.is_some() {
            return;
        }
        for action in &ast.actions {
            let mut symbol = Symbol::new(&action.name.node, SymbolKind::Action, action.name.span);
            // The action's name to its last rule or example (the syntax tree's span of the whole
            // action is not read here: the parser is being rewritten).
            symbol.full = action
                .rules
                .iter()
                .map(|r| r.span)
                .chain(action.examples.iter().map(|e| e.span))
                .fold(action.name.span, Span::to);
            symbol.detail = Some(format!("{} rules", action.rules.len()));
            self.symbols.push(symbol);
            for attr in &action.defaults {
                if let AttrKind::Value(name, _) = &attr.kind {
                    let mut value = Symbol::new(&name.node, SymbolKind::RuleValue, name.span);
                    value.full = attr.span;
                    value.parent = Some(action.name.node.clone());
                    self.symbols.push(value);
                }
            }
            for rule in &action.rules {
                self.rule(rule, &action.name.node);
            }
        }
    }

    fn rule(&mut self, rule: &RuleDef, action: &str) {
        let mut symbol = Symbol::new(&rule.id.node, SymbolKind::Rule, rule.id.span);
        symbol.full = rule.span;
        symbol.parent = Some(action.to_string());
        symbol.outcome = Some(rule.outcome.node);
        symbol.detail = Some(rule.outcome.node.as_str().to_string());
        symbol.reasons = rule
            .reasons
            .iter()
            .map(|r| Reason {
                text: r.text.node.clone(),
                cite: r.cite.as_ref().map(|c| c.text.node.clone()),
                document: r
                    .cite
                    .as_ref()
                    .and_then(|c| c.document.as_ref().map(|d| d.node.clone())),
            })
            .collect();
        self.symbols.push(symbol);
        for attr in &rule.attrs {
            if let AttrKind::Value(name, _) = &attr.kind {
                let mut value = Symbol::new(&name.node, SymbolKind::RuleValue, name.span);
                value.full = attr.span;
                value.parent = Some(rule.id.node.clone());
                self.symbols.push(value);
            }
        }
    }

    /// Records every use of a declared name in `ast`.
    fn uses(&mut self, ast: &PolicyAst) {
        if let Some(by) = ast.header.effective.as_ref().and_then(|e| e.by.as_ref()) {
            self.use_of(&by.node, by.span, &[SymbolKind::Field]);
        }
        for def in &ast.fields {
            self.use_of(&def.ty.node, def.ty.span, &[SymbolKind::Enum]);
            if let Some(default) = &def.default {
                let hint = self.enum_hint(&def.ty.node);
                self.expr(default, hint);
            }
        }
        for def in &ast.lets {
            self.expr(&def.value, Hint::None);
        }
        let requires = ast
            .requires
            .iter()
            .chain(ast.actions.iter().flat_map(|a| a.requires.iter()));
        for require in requires {
            self.use_of(
                &require.field.node,
                require.field.span,
                &[SymbolKind::Field],
            );
            if let Some(when) = &require.when {
                self.expr(when, Hint::None);
            }
        }
        for constraint in &ast.constraints {
            self.expr(&constraint.condition, Hint::None);
        }
        for action in &ast.actions {
            for attr in &action.defaults {
                self.attr(&attr.kind);
            }
            for rule in &action.rules {
                if let Some(guard) = &rule.guard {
                    self.expr(guard, Hint::None);
                }
                for attr in &rule.attrs {
                    self.attr(&attr.kind);
                }
            }
            // An example's order names fields by its keys.
            for order in action.examples.iter().filter_map(|e| e.order.as_ref()) {
                for (key, span) in object_keys(&order.node, order.span.start) {
                    self.use_of(key, span, &[SymbolKind::Field]);
                }
            }
        }
        for symbol in &mut self.symbols {
            symbol.uses.sort_by_key(|s| (s.start, s.end));
            symbol.uses.dedup();
        }
    }

    fn attr(&mut self, attr: &AttrKind) {
        match attr {
            AttrKind::Amount(e) | AttrKind::ReviewBy(e) | AttrKind::Value(_, e) => {
                self.expr(e, Hint::None);
            }
            AttrKind::RefundTo(e) => self.expr(e, Hint::Kind(SymbolKind::RefundDestination)),
            AttrKind::Review(e) => self.expr(e, Hint::Kind(SymbolKind::ReviewKind)),
            AttrKind::NextStatus(e) => self.expr(e, Hint::Kind(SymbolKind::EnumValue)),
            AttrKind::Requires(steps) => {
                for step in steps {
                    self.use_of(&step.node, step.span, &[SymbolKind::Step]);
                }
            }
        }
    }

    /// The enum a field or definition named `name` has as its type, if it is a field of an enum type.
    fn enum_of_name(&self, name: &str) -> Option<String> {
        let field = self.find(name, SymbolKind::Field)?;
        let ty = field.detail.as_deref()?;
        let ty = ty.split([' ', '?']).next()?;
        self.find(ty, SymbolKind::Enum).map(|e| e.name.clone())
    }

    fn enum_hint<'a>(&self, ty: &'a str) -> Hint<'a> {
        if self.find(ty, SymbolKind::Enum).is_some() {
            Hint::Enum(ty)
        } else {
            Hint::None
        }
    }

    /// Records the uses in `e`. It recurses once per level of the tree, which the parser bounds
    /// (`syntax::MAX_EXPR_DEPTH`).
    fn expr(&mut self, e: &Expr, hint: Hint<'_>) {
        match &e.kind {
            ExprKind::Name(name) => self.name(name, e.span, hint),
            ExprKind::Call(_, args) => {
                for arg in args {
                    self.expr(arg, Hint::None);
                }
            }
            ExprKind::Not(inner) | ExprKind::Neg(inner) => self.expr(inner, Hint::None),
            ExprKind::Binary(op, a, b) => {
                if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
                    let of = |x: &Expr| match &x.kind {
                        ExprKind::Name(n) => self.enum_of_name(n),
                        _ => None,
                    };
                    let (ea, eb) = (of(a), of(b));
                    self.expr(a, eb.as_deref().map_or(Hint::None, Hint::Enum));
                    self.expr(b, ea.as_deref().map_or(Hint::None, Hint::Enum));
                } else {
                    self.expr(a, Hint::None);
                    self.expr(b, Hint::None);
                }
            }
            ExprKind::InSet { subject, set, .. } => {
                self.expr(subject, Hint::None);
                let of = match &subject.kind {
                    ExprKind::Name(n) => self.enum_of_name(n),
                    _ => None,
                };
                for item in set {
                    let hint = of
                        .as_deref()
                        .map_or(Hint::Kind(SymbolKind::EnumValue), Hint::Enum);
                    self.name(&item.value.node, item.value.span, hint);
                }
            }
            ExprKind::If(c, a, b) => {
                self.expr(c, Hint::None);
                self.expr(a, hint);
                self.expr(b, hint);
            }
            ExprKind::Rounded { value, .. } => self.expr(value, Hint::None),
            ExprKind::Window {
                subject, anchor, ..
            } => {
                self.expr(subject, Hint::None);
                self.expr(anchor, Hint::None);
            }
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Decimal(_)
            | ExprKind::Str(_)
            | ExprKind::Date(_)
            | ExprKind::Timestamp(_)
            | ExprKind::Quantity(..) => {}
        }
    }

    /// A bare name at `span`: a definition, a field, or a value of what `hint` expects (any value of an
    /// enum or vocabulary when it expects nothing in particular).
    fn name(&mut self, name: &str, span: Span, hint: Hint<'_>) {
        let found = match hint {
            Hint::Enum(of) => self.symbols.iter().position(|s| {
                s.kind == SymbolKind::EnumValue && s.name == name && s.parent.as_deref() == Some(of)
            }),
            Hint::Kind(kind) => self
                .symbols
                .iter()
                .position(|s| s.kind == kind && s.name == name),
            Hint::None => None,
        };
        let found = found.or_else(|| {
            [
                SymbolKind::Let,
                SymbolKind::Field,
                SymbolKind::EnumValue,
                SymbolKind::RefundDestination,
                SymbolKind::ReviewKind,
                SymbolKind::Step,
            ]
            .iter()
            .find_map(|kind| {
                self.symbols
                    .iter()
                    .position(|s| s.kind == *kind && s.name == name)
            })
        });
        if let Some(symbol) = found.and_then(|i| self.symbols.get_mut(i)) {
            symbol.uses.push(span);
        }
    }

    /// A use of `name` at `span` as the first of `kinds` that declares it.
    fn use_of(&mut self, name: &str, span: Span, kinds: &[SymbolKind]) {
        let found = kinds.iter().find_map(|kind| {
            self.symbols
                .iter()
                .position(|s| s.kind == *kind && s.name == name)
        });
        if let Some(symbol) = found.and_then(|i| self.symbols.get_mut(i)) {
            symbol.uses.push(span);
        }
    }
}

/// The keys of a JSON object's own members (not those of objects inside it), each with its span inside
/// its quotes; `base` is where the object's text starts in the file. A key with an escape is left out
/// (no field name has one).
fn object_keys(json: &str, base: u32) -> Vec<(&str, Span)> {
    let bytes = json.as_bytes();
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i + 1;
                let mut end = start;
                let mut escaped = false;
                while let Some(&c) = bytes.get(end) {
                    match c {
                        b'\\' => {
                            escaped = true;
                            end += 1;
                        }
                        b'"' => break,
                        _ => {}
                    }
                    end += 1;
                }
                let after = json.get(end + 1..).unwrap_or("").trim_start();
                if depth == 1 && !escaped && after.starts_with(':') {
                    if let Some(key) = json.get(start..end) {
                        let at = base as usize;
                        keys.push((key, Span::new(at + start, at + end)));
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

/// The library an import names, relative to the importing file's folder.
fn library_path(importer: &Path, import: &str) -> PathBuf {
    importer
        .parent()
        .map_or_else(|| PathBuf::from(import), |dir| dir.join(import))
}

/// A default's literal as a person reads it (`0`, `false`, `"USD"`); `...` for anything else.
fn shown_literal(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Decimal(d) => d.to_string(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Date(d) | ExprKind::Timestamp(d) => d.clone(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Neg(inner) => format!("-{}", shown_literal(inner)),
        _ => "...".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"policy p
  document "d.txt"
  zone "UTC"

steps { revoke, email_confirmation }
refund_destinations { original_payment }
review_kinds { none, manual }

enum Status { pending, issued, revoked }
enum Other { issued, gone }

field status: Status
field price: money
field voucher: money = 0
field paid_at: timestamp
field revoked_at: timestamp?

require revoked_at when status == revoked

let cash = price - voucher
let fresh = now within 7 days after paid_at

action refund {
  default refund_to = original_payment
  default review = none

  rule early
    when fresh and status in {pending, issued}
    then conditional
    amount = cash
    requires [revoke]
    value kept = cash
    because "early" cite "Row 1" in "other.txt"

  rule late then denied because "late" cite "Row 2"

  example "one" {
    at "2026-01-02T00:00:00Z"
    order { "status": "pending", "price": "1.00", "paid_at": "2026-01-01T00:00:00Z" }
    expect { "outcome": "conditional" }
  }
}
"#;

    fn index() -> SymbolIndex {
        match SymbolIndex::new(TEXT) {
            Ok(index) => index,
            Err(e) => panic!("does not parse: {e:?}"),
        }
    }

    fn texts(spans: &[Span]) -> Vec<&'static str> {
        spans
            .iter()
            .map(|s| &TEXT[s.start as usize..s.end as usize])
            .collect()
    }

    fn line_of(span: Span) -> usize {
        TEXT[..span.start as usize].matches('\n').count() + 1
    }

    #[test]
    fn declarations_have_kinds_details_and_parents() {
        let index = index();
        let voucher = index.find("voucher", SymbolKind::Field).unwrap();
        assert_eq!(voucher.detail.as_deref(), Some("money (default 0)"));
        assert_eq!(
            index
                .find("revoked_at", SymbolKind::Field)
                .unwrap()
                .detail
                .as_deref(),
            Some("timestamp?")
        );
        let issued: Vec<_> = index
            .of_kind(SymbolKind::EnumValue)
            .filter(|s| s.name == "issued")
            .map(|s| s.parent.as_deref().unwrap())
            .collect();
        assert_eq!(issued, ["Status", "Other"]);
        let early = index.find("early", SymbolKind::Rule).unwrap();
        assert_eq!(early.outcome, Some(Outcome::Conditional));
        assert_eq!(early.parent.as_deref(), Some("refund"));
        assert_eq!(
            early.reasons,
            [Reason {
                text: "early".into(),
                cite: Some("Row 1".into()),
                document: Some("other.txt".into()),
            }]
        );
        let kept = index.find("kept", SymbolKind::RuleValue).unwrap();
        assert_eq!(kept.parent.as_deref(), Some("early"));
        assert!(index.find("refund", SymbolKind::Action).is_some());
    }

    #[test]
    fn uses_resolve_by_context() {
        let index = index();
        let uses = |name, kind| {
            let symbol = index.find(name, kind).unwrap();
            symbol.uses.iter().map(|s| line_of(*s)).collect::<Vec<_>>()
        };
        // `require revoked_at when status == revoked`, the field's type in `field status: Status`.
        assert_eq!(uses("status", SymbolKind::Field), [18, 28, 39]);
        assert_eq!(uses("revoked_at", SymbolKind::Field), [18]);
        assert_eq!(uses("Status", SymbolKind::Enum), [12]);
        assert_eq!(uses("cash", SymbolKind::Let), [30, 32]);
        assert_eq!(uses("fresh", SymbolKind::Let), [28]);
        assert_eq!(uses("paid_at", SymbolKind::Field), [21, 39]);
        // The keys of an example's order.
        assert_eq!(uses("price", SymbolKind::Field), [20, 39]);
        let price = index.find("price", SymbolKind::Field).unwrap();
        assert_eq!(texts(&price.uses), ["price", "price"]);
        assert_eq!(uses("revoke", SymbolKind::Step), [31]);
        assert_eq!(
            uses("original_payment", SymbolKind::RefundDestination),
            [24]
        );
        assert_eq!(uses("none", SymbolKind::ReviewKind), [25]);
        // `issued` in the set of a `Status` field is Status's, not Other's.
        let issued = |parent: &str| {
            index
                .of_kind(SymbolKind::EnumValue)
                .find(|s| s.name == "issued" && s.parent.as_deref() == Some(parent))
                .unwrap()
                .uses
                .len()
        };
        assert_eq!((issued("Status"), issued("Other")), (1, 0));
        let revoked = index.find("revoked", SymbolKind::EnumValue).unwrap();
        assert_eq!(texts(&revoked.uses), ["revoked"]);
    }

    #[test]
    fn an_orders_keys_are_its_own_members() {
        let json = r#"{ "a": 1, "b\"": 2, "c" : {"d": [ {"e": 3} ]}, "f": "g:" }"#;
        let keys: Vec<_> = object_keys(json, 100)
            .into_iter()
            .map(|(k, span)| (k, &json[span.start as usize - 100..span.end as usize - 100]))
            .collect();
        assert_eq!(keys, [("a", "a"), ("c", "c"), ("f", "f")]);
        assert!(object_keys("{\"unclosed", 0).is_empty());
    }

    #[test]
    fn finds_the_symbol_under_an_offset() {
        let index = index();
        let at = TEXT.find("amount = cash").unwrap() + "amount = ca".len();
        let (symbol, span) = index.at(at).unwrap();
        assert_eq!(
            (symbol.kind, symbol.name.as_str()),
            (SymbolKind::Let, "cash")
        );
        assert_eq!(&TEXT[span.start as usize..span.end as usize], "cash");
        // On the declaration itself; at a name's end; nothing on a keyword.
        let decl = TEXT.find("let cash").unwrap() + 4;
        assert_eq!(index.at(decl).unwrap().1, symbol.span);
        assert_eq!(index.at(decl + 4).unwrap().0.name, "cash");
        assert!(index.at(TEXT.find("action").unwrap() + 1).is_none());
    }

    #[test]
    fn a_text_that_does_not_parse_gives_its_errors() {
        assert!(SymbolIndex::new("policy p\nfield : money\n").is_err());
        // A text that parses but does not check still has its index: the unknown name stays unresolved.
        let text = TEXT.replace("amount = cash", "amount = cahs");
        let index = SymbolIndex::new(&text).unwrap();
        assert_eq!(index.find("cash", SymbolKind::Let).unwrap().uses.len(), 1);
    }

    #[test]
    fn imports_bring_the_libraries_declarations_with_their_origin() {
        let library = "library lib\nsteps { revoke }\nfield price: money\n";
        let text = "policy p\n  document \"d.txt\"\n  zone \"UTC\"\nimport \"lib.policy\"\n\
                    let half = price / 2\naction a { rule r then allowed amount = half requires [revoke] because \"b\" }\n";
        let mut asked = Vec::new();
        let index = SymbolIndex::with_imports(text, Some(Path::new("/x/p.policy")), |path| {
            asked.push(path.to_path_buf());
            Some(library.to_string())
        })
        .unwrap();
        assert_eq!(asked, [PathBuf::from("/x/lib.policy")]);
        let price = index.find("price", SymbolKind::Field).unwrap();
        let origin = price.origin.as_ref().unwrap();
        assert_eq!(origin.path, PathBuf::from("/x/lib.policy"));
        assert_eq!(
            &library[origin.span.start as usize..origin.span.end as usize],
            "price"
        );
        assert_eq!(
            &text[price.span.start as usize..price.span.end as usize],
            "\"lib.policy\""
        );
        assert_eq!(price.uses.len(), 1);
        assert_eq!(
            index.find("revoke", SymbolKind::Step).unwrap().uses.len(),
            1
        );
        // On the import, the import itself.
        let on_import = text.find("lib.policy").unwrap();
        assert_eq!(index.at(on_import).unwrap().0.kind, SymbolKind::Import);
        // A cycle is followed once.
        let cyclic = "library lib\nimport \"lib.policy\"\nfield price: money\n";
        let index = SymbolIndex::with_imports(text, Some(Path::new("/x/p.policy")), |_| {
            Some(cyclic.into())
        })
        .unwrap();
        assert_eq!(index.of_kind(SymbolKind::Field).count(), 1);
    }

    #[test]
    fn types_come_from_the_checked_policy() {
        let mut index = index();
        assert_eq!(index.find("cash", SymbolKind::Let).unwrap().detail, None);
        let policy = match crate::Policy::from_source("p", TEXT, &Default::default()) {
            Ok(policy) => policy,
            Err(e) => panic!("{e}"),
        };
        index.add_types(&policy);
        let detail = |name, kind| index.find(name, kind).unwrap().detail.clone();
        assert_eq!(detail("cash", SymbolKind::Let).as_deref(), Some("money"));
        assert_eq!(detail("fresh", SymbolKind::Let).as_deref(), Some("bool"));
        assert_eq!(
            detail("kept", SymbolKind::RuleValue).as_deref(),
            Some("money")
        );
        // And a definition's value for an order.
        let order = policy
            .read_order_str(r#"{"status":"pending","price":"10.00","voucher":"2.50","paid_at":"2026-01-01T00:00:00Z"}"#)
            .unwrap();
        let at = crate::Instant::parse("2026-01-03T00:00:00Z").unwrap();
        assert_eq!(
            policy.definition_value("cash", &order, at),
            Some(Ok("7.5".into()))
        );
        assert_eq!(
            policy.definition_value("fresh", &order, at),
            Some(Ok("true".into()))
        );
        assert_eq!(policy.definition_value("nothing", &order, at), None);
        let without = policy
            .read_order_str(r#"{"status":"pending","voucher":"1"}"#)
            .unwrap();
        assert_eq!(
            policy.definition_value("cash", &without, at),
            Some(Err("the order has no `price`".into()))
        );
    }
}
