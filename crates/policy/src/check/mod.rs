//! Checking: the AST to a `CheckedPolicy`. Names resolve to field slots, enum values and references
//! to definitions; every expression gets a type with its unit (a timestamp is not a date, calendar days are
//! not business days, money is not an integer); optional fields must be tested before use; every rule has
//! the attributes its outcome needs. All errors of a file are reported in one run.

mod expr;
pub mod limits;
pub mod typed;
mod validate;
mod version;

pub use version::{Effective, VersionSelector};

use std::collections::HashMap;
use std::sync::Arc;

use chrono_tz::Tz;

use crate::zone::Zone;
use serde_json::Map;

use crate::calendar::Calendar;
use crate::contract::{NO_REVIEW, ROLE_FIELDS, SHARED_VOCABULARY};
use crate::diagnostics::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{self, AttrKind, Outcome, PolicyAst, Vocabulary};
use crate::value::{Type, Value, REFUND_TO_ENUM, REVIEW_ENUM};
pub use typed::CheckedLet;
use typed::{LetId, Slot, TExpr, TKind, MAX_FIELDS};

/// Enums, the contract's two built-in ones included.
const MAX_ENUMS: usize = 1024;

use expr::literal_example;
pub use expr::Facts;

/// Proof that a diagnostic was reported: only `Checker::report` makes one. A check step that cannot
/// produce its result returns `Err(Reported)`, so nothing is dropped without a word to the author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reported {
    _private: (),
}

/// The result of a check step: the checked form, or the proof that the problem was reported.
pub(crate) type Checked<T> = Result<T, Reported>;

/// A policy that passed every check. Only `check` makes one, so nothing unchecked can be compiled.
#[derive(Debug)]
#[non_exhaustive]
pub struct CheckedPolicy {
    /// A library (`library NAME`): declarations for policies to import, nothing to decide.
    pub library: bool,
    pub name: String,
    pub provider: Option<String>,
    pub document: String,
    pub document_title: Option<String>,
    pub zone: Zone,
    pub calendar: Option<Arc<Calendar>>,
    /// Where the header (or the import that gave it) names the calendar.
    pub calendar_span: Option<Span>,
    /// `effective from ...`: this version's start, and what selects it.
    pub effective: Option<Effective>,
    /// `minor_units "CODE" DIGITS`: the policy's own minor units, before ISO 4217's.
    pub minor_units: Vec<(String, u32)>,
    pub enums: Vec<EnumInfo>,
    /// The steps `requires` may name, as declared (`steps { .. }`): `RuleAttrs::requires` indexes them.
    pub steps: Vec<String>,
    pub fields: Vec<FieldInfo>,
    pub constraints: Vec<Constraint>,
    /// The definitions (`let`) that checked, in order: `TKind::Let` indexes them.
    pub lets: Vec<CheckedLet>,
    pub actions: Vec<CheckedAction>,
    /// Findings that do not stop the policy from running.
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
pub struct EnumInfo {
    pub name: String,
    pub variants: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Value>,
    pub span: Span,
}

/// `constraint COND else "MESSAGE"`: checked whenever every field it reads is present.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub condition: TExpr,
    pub message: String,
    pub reads: u64,
}

/// `require FIELD [when COND]`
#[derive(Debug, Clone)]
pub struct Requirement {
    pub field: Slot,
    pub when: Option<TExpr>,
    /// The condition as written, for the input error.
    pub when_text: String,
}

#[derive(Debug)]
pub struct CheckedAction {
    pub name: String,
    pub unique: bool,
    /// Non-optional fields without default that this action reads: missing ones are input errors.
    pub needs: u64,
    /// The policy's requirements followed by the action's own.
    pub requirements: Vec<Requirement>,
    pub rules: Vec<CheckedRule>,
    pub examples: Vec<Example>,
    pub span: Span,
}

#[derive(Debug)]
pub struct CheckedRule {
    pub id: String,
    pub id_span: Span,
    pub guard: Option<TExpr>,
    pub outcome: Outcome,
    /// The action's defaults merged in; empty for denied and undetermined rules.
    pub attrs: RuleAttrs,
    /// Each reason with its citation, ready for the decision.
    pub because: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct RuleAttrs {
    pub amount: Option<TExpr>,
    pub refund_to: Option<TExpr>,
    pub review: Option<TExpr>,
    pub review_by: Option<TExpr>,
    /// `review_by = none`: this rule has no review date, whatever the action's default says.
    pub review_by_unset: bool,
    pub next_status: Option<TExpr>,
    /// Indexes of `CheckedPolicy::steps`, in the order the vocabulary declares them.
    pub requires: Vec<u16>,
    pub values: Vec<(String, TExpr)>,
}

impl RuleAttrs {
    /// Every attribute's expression slot, in one order: `amount`, `refund_to`, `review`, `review_by`,
    /// `next_status`, then the values (`None` for an attribute the rule does not set).
    pub fn expressions(&self) -> impl Iterator<Item = Option<&TExpr>> {
        typed::attribute_slots(
            [
                &self.amount,
                &self.refund_to,
                &self.review,
                &self.review_by,
                &self.next_status,
            ],
            self.values.iter().map(|(_, e)| e),
        )
    }
}

/// An example the policy carries: an order, a request time and the expected decision fields.
#[derive(Debug, Clone)]
pub struct Example {
    pub name: String,
    pub at: Option<crate::time::Instant>,
    /// The order as written, read like any order (`Policy::read_order_str`), so money keeps its text.
    pub order_text: String,
    pub expect: Map<String, serde_json::Value>,
    pub span: Span,
}

pub use crate::calendar::Calendars;

/// Checks a parsed policy. On failure, every error found (and the warnings) in source order.
pub fn check(
    ast: &PolicyAst,
    file: &SourceFile,
    calendars: &Calendars,
) -> Result<CheckedPolicy, Vec<Diagnostic>> {
    let mut checker = Checker::new(file);
    checker.imported.clone_from(&ast.imported);
    if ast.header.library {
        checker.library_holds_only_declarations(ast);
    }
    let header = checker.header(ast, calendars);
    checker.minor_units = checker.minor_units(&ast.header);
    checker.vocabularies(&ast.vocabularies);
    checker.enums(&ast.enums);
    checker.fields(&ast.fields);
    // The zone alone: the header's result also fails on a calendar or document problem. A zone that
    // does not parse failed the header, with its proof.
    let zone = match ast
        .header
        .zone
        .as_ref()
        .and_then(|z| z.node.parse::<Tz>().ok())
    {
        Some(tz) => Ok(tz),
        None => header
            .as_ref()
            .map(|(tz, ..)| *tz)
            .map_err(|reported| *reported),
    };
    let effective = checker.effective(&ast.header, zone);
    checker.lets(&ast.lets);
    let constraints = checker.constraints(&ast.constraints);
    let requirements = checker.requirements(&ast.requires, &[]);
    let actions = checker.actions(&ast.actions, &requirements);
    checker.unused();
    let deep =
        limits::deep_expressions(&constraints, &requirements, &actions, &checker.definitions);
    checker.diagnostics.extend(deep);

    let mut diagnostics = std::mem::take(&mut checker.diagnostics);
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    // Defaults are checked once per rule: report each finding once.
    diagnostics.dedup();
    let (Ok((zone, calendar, document)), Ok(effective)) = (header, effective) else {
        return Err(diagnostics);
    };
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    Ok(CheckedPolicy {
        library: ast.header.library,
        name: ast.header.name.node.clone(),
        provider: ast.header.provider.as_ref().map(|p| p.node.clone()),
        document,
        document_title: ast
            .header
            .document
            .as_ref()
            .and_then(|(_, t)| t.as_ref().map(|t| t.node.clone())),
        zone: Zone::new(zone),
        calendar,
        calendar_span: ast.header.calendar.as_ref().map(|c| c.span),
        effective,
        minor_units: checker.minor_units,
        enums: checker.enums,
        steps: checker.steps,
        fields: checker.fields,
        constraints,
        lets: checker.definitions,
        actions,
        warnings: diagnostics,
    })
}

/// What the checker keeps of a definition that checked, by name.
struct LetInfo {
    id: LetId,
    /// Optional fields the definition reads without testing them: they must be present where it is used.
    needs: u64,
    used: bool,
}

/// A requirement in the form narrowing understands: `require FIELD when ENUM_FIELD in {..}`.
#[derive(Debug, Clone, Copy)]
struct Narrowing {
    field: Slot,
    when: Option<(Slot, u64)>,
}

pub(crate) struct Checker<'a> {
    file: &'a SourceFile,
    diagnostics: Vec<Diagnostic>,
    enums: Vec<EnumInfo>,
    steps: Vec<String>,
    /// Where each vocabulary was declared, and whether a use without declaration was reported.
    vocabularies: Vec<(Vocabulary, Option<Span>)>,
    undeclared_reported: Vec<Vocabulary>,
    /// The review kind named `none` (`NO_REVIEW`), if declared: a rule with it has no review date.
    no_review: Option<u16>,
    /// The `import` lines that imported declarations are located at: their names may go unused.
    imported: Vec<Span>,
    /// Checking a library: declarations only, none of which needs to be used.
    library: bool,
    /// The header's `minor_units`, read before the fields (the default currency needs them).
    minor_units: Vec<(String, u32)>,
    fields: Vec<FieldInfo>,
    field_used: Vec<bool>,
    lets: HashMap<String, LetInfo>,
    /// The definitions that checked, in order (`LetInfo::id` indexes them).
    definitions: Vec<CheckedLet>,
    /// Requirements in force where an expression is being checked.
    narrowings: Vec<Narrowing>,
    /// While checking a definition: optional fields read without a test.
    collecting_needs: Option<u64>,
    has_calendar: bool,
    /// The header's document, cited by reasons that name no other.
    document: Option<String>,
    /// Definitions that failed to check, each with the proof its problem was reported: a later use
    /// of one is not reported again.
    poisoned: Vec<(String, Reported)>,
    /// Expression nodes the uses of definitions so far stand for, spelled out (as deadline solving and
    /// the analysis spell them out): `limits::MAX_INLINED_NODES`.
    inlined: usize,
    /// Set when `inlined` passed the limit, with the proof it was reported.
    inlining_exhausted: Option<Reported>,
}

impl<'a> Checker<'a> {
    fn new(file: &'a SourceFile) -> Self {
        // Their values are the policy's vocabularies (`Checker::vocabularies`).
        let builtin = |name: &str| EnumInfo {
            name: name.to_string(),
            variants: Vec::new(),
            span: Span::default(),
        };
        // INVARIANT: in the order of REFUND_TO_ENUM and REVIEW_ENUM.
        let enums = vec![builtin("refund destination"), builtin("review")];
        Checker {
            file,
            diagnostics: Vec::new(),
            enums,
            steps: Vec::new(),
            vocabularies: Vec::new(),
            undeclared_reported: Vec::new(),
            no_review: None,
            imported: Vec::new(),
            library: false,
            minor_units: Vec::new(),
            fields: Vec::new(),
            field_used: Vec::new(),
            lets: HashMap::new(),
            definitions: Vec::new(),
            narrowings: Vec::new(),
            collecting_needs: None,
            has_calendar: false,
            document: None,
            poisoned: Vec::new(),
            inlined: 0,
            inlining_exhausted: None,
        }
    }

    /// Records a diagnostic. The returned `Reported` is the only way to give up on a piece of the
    /// policy: a check that fails without a diagnostic does not compile.
    fn report(&mut self, diagnostic: Diagnostic) -> Reported {
        self.diagnostics.push(diagnostic);
        Reported { _private: () }
    }

    fn text(&self, span: Span) -> &str {
        self.file
            .text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    pub(crate) fn enum_names(&self) -> Vec<String> {
        self.enums.iter().map(|e| e.name.clone()).collect()
    }

    pub(crate) fn describe(&self, ty: Type) -> String {
        ty.describe(&self.enum_names())
    }

    /// A library declares; only a policy has requirements, constraints and actions (and `document`,
    /// `zone`, `provider`: the header of what decides).
    fn library_holds_only_declarations(&mut self, ast: &PolicyAst) {
        self.library = true;
        let header = &ast.header;
        let spans = ast
            .requires
            .iter()
            .map(|r| (r.field.span, "`require`"))
            .chain(
                ast.constraints
                    .iter()
                    .map(|c| (c.condition.span, "`constraint`")),
            )
            .chain(ast.actions.iter().map(|a| (a.name.span, "`action`")))
            .chain(header.document.iter().map(|(d, _)| (d.span, "`document`")))
            .chain(header.zone.iter().map(|z| (z.span, "`zone`")))
            .chain(header.provider.iter().map(|p| (p.span, "`provider`")))
            .chain(
                header
                    .effective
                    .iter()
                    .map(|e| (e.from.span, "`effective`")),
            )
            .chain(
                header
                    .minor_units
                    .iter()
                    .map(|(c, _)| (c.span, "`minor_units`")),
            );
        let found: Vec<(Span, &str)> = spans.collect();
        for (span, what) in found {
            self.report(
                Diagnostic::error(
                    "policy::check::not_in_library",
                    format!("a library cannot hold {what}"),
                    span,
                )
                .with_help("a library holds vocabularies, enums, fields, definitions and a calendar; write this in the policies that import it (`policy NAME`)"),
            );
        }
    }

    fn header(
        &mut self,
        ast: &PolicyAst,
        calendars: &Calendars,
    ) -> Checked<(Tz, Option<Arc<Calendar>>, String)> {
        let header = &ast.header;
        if header.library {
            // Nothing of a library is decided: its zone and document are its importers'.
            let calendar = self.calendar(header, calendars);
            return Ok((Tz::UTC, calendar?, String::new()));
        }
        let document = match &header.document {
            Some((file, _)) => {
                self.document = Some(file.node.clone());
                Ok(file.node.clone())
            }
            None => Err(self.report(
                Diagnostic::error(
                    "policy::check::missing_document",
                    "the policy does not name the source document it encodes",
                    header.name.span,
                )
                .with_help("add `document \"FILE\" \"TITLE\"` under the `policy` line"),
            )),
        };
        let zone = match &header.zone {
            Some(zone) => match zone.node.parse::<Tz>() {
                Ok(tz) => Ok(tz),
                Err(_) => {
                    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
                    let d = Diagnostic::error(
                        "policy::check::unknown_zone",
                        format!("`{}` is not an IANA time zone", zone.node),
                        zone.span,
                    )
                    .with_label("unknown time zone")
                    .with_did_you_mean(
                        &zone.node,
                        Some(zone.span.inside_quotes()),
                        names,
                        || "use an IANA name such as `Asia/Shanghai` or `Europe/Berlin`".into(),
                    );
                    Err(self.report(d))
                }
            },
            None => Err(self.report(
                Diagnostic::error(
                    "policy::check::missing_zone",
                    "the policy does not name its time zone",
                    header.name.span,
                )
                .with_help(
                    "calendar days are taken in the policy's zone: add `zone \"Asia/Shanghai\"`",
                ),
            )),
        };
        let calendar = self.calendar(header, calendars);
        Ok((zone?, calendar?, document?))
    }

    fn calendar(
        &mut self,
        header: &ast::Header,
        calendars: &Calendars,
    ) -> Checked<Option<Arc<Calendar>>> {
        match &header.calendar {
            Some(name) => match calendars.get(&name.node) {
                Some(calendar) => {
                    self.has_calendar = true;
                    Ok(Some(calendar.clone()))
                }
                None => {
                    let mut known: Vec<&str> = calendars.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    let diagnostic = Diagnostic::error(
                        "policy::check::unknown_calendar",
                        format!("no business-day calendar named `{}`", name.node),
                        name.span,
                    )
                    .with_label("unknown calendar")
                    .with_did_you_mean(&name.node, Some(name.span), known.iter().copied(), || {
                        let available = if known.is_empty() {
                            "none is there".to_string()
                        } else {
                            format!("there: {}", known.join(", "))
                        };
                        format!(
                            "calendars are loaded from `calendars/NAME.calendar` beside the policy ({available})"
                        )
                    });
                    let reported = self.report(diagnostic);
                    // Keep checking as if it existed, so business-day uses are not reported too.
                    self.has_calendar = true;
                    Err(reported)
                }
            },
            None => Ok(None),
        }
    }

    /// `steps { .. }`, `refund_destinations { .. }`, `review_kinds { .. }`: each declared once, each
    /// value once.
    fn vocabularies(&mut self, defs: &[ast::VocabularyDef]) {
        for def in defs {
            let keyword = def.kind.node.keyword();
            if let Some(previous) = self.declared(def.kind.node) {
                self.report(
                    Diagnostic::error(
                        "policy::check::duplicate_name",
                        format!("`{keyword}` is declared twice"),
                        def.kind.span,
                    )
                    .with_related(previous, "first declared here")
                    .with_help("keep one declaration (an imported file may hold the other)"),
                );
                continue;
            }
            self.vocabularies.push((def.kind.node, Some(def.kind.span)));
            let mut values: Vec<String> = Vec::new();
            for value in &def.values {
                if values.contains(&value.node) {
                    self.report(Diagnostic::error(
                        "policy::check::duplicate_variant",
                        format!("`{}` is listed twice in `{keyword}`", value.node),
                        value.span,
                    ));
                } else {
                    values.push(value.node.clone());
                }
            }
            if values.len() > 64 {
                self.report(Diagnostic::error(
                    "policy::check::enum_too_large",
                    format!("`{keyword}` has more than 64 values"),
                    def.kind.span,
                ));
                values.truncate(64);
            }
            let builtin = match def.kind.node {
                Vocabulary::Steps => {
                    self.steps = values;
                    continue;
                }
                Vocabulary::RefundDestinations => REFUND_TO_ENUM,
                Vocabulary::ReviewKinds => {
                    self.no_review = values
                        .iter()
                        .position(|v| v == NO_REVIEW)
                        .and_then(|i| u16::try_from(i).ok());
                    REVIEW_ENUM
                }
            };
            let info = &mut self.enums[usize::from(builtin)];
            info.variants = values;
            info.span = def.kind.span;
        }
    }

    /// Where `vocabulary` is declared, if it is.
    fn declared(&self, vocabulary: Vocabulary) -> Option<Span> {
        self.vocabularies
            .iter()
            .find(|(v, _)| *v == vocabulary)
            .and_then(|(_, span)| *span)
    }

    /// Whether `vocabulary` is declared; if not, says so at its first use (`span`).
    fn vocabulary_declared(&mut self, vocabulary: Vocabulary, span: Span) -> bool {
        if self.declared(vocabulary).is_some() {
            return true;
        }
        if !self.undeclared_reported.contains(&vocabulary) {
            self.undeclared_reported.push(vocabulary);
            let keyword = vocabulary.keyword();
            self.report(
                Diagnostic::error(
                    "policy::check::undeclared_vocabulary",
                    format!("this policy declares no `{keyword}`"),
                    span,
                )
                .with_label(format!("needs `{keyword} {{ .. }}`"))
                .with_help(format!(
                    "import the shipped vocabulary, `{SHARED_VOCABULARY}` (`import \"PATH\"`, the path relative to this file), or declare `{keyword} {{ .. }}`"
                )),
            );
        }
        false
    }

    fn enums(&mut self, defs: &[ast::EnumDef]) {
        for def in defs {
            // Enum ids are u16; far below that, no real policy comes near.
            if self.enums.len() == MAX_ENUMS {
                self.report(Diagnostic::error(
                    "policy::check::too_many_enums",
                    format!("a policy may declare at most {} enums", MAX_ENUMS - 2),
                    def.name.span,
                ));
                break;
            }
            if let Some(previous) = self.enums.iter().find(|e| e.name == def.name.node) {
                let previous = previous.span;
                self.report(
                    Diagnostic::error(
                        "policy::check::duplicate_enum",
                        format!("enum `{}` is declared twice", def.name.node),
                        def.name.span,
                    )
                    .with_related(previous, "first declared here"),
                );
                continue;
            }
            if Type::from_field_type_name(&def.name.node).is_some() {
                self.report(Diagnostic::error(
                    "policy::check::reserved_name",
                    format!(
                        "`{}` is a built-in type and cannot name an enum",
                        def.name.node
                    ),
                    def.name.span,
                ));
                continue;
            }
            let mut variants: Vec<String> = Vec::new();
            for variant in &def.variants {
                if variants.contains(&variant.node) {
                    self.report(Diagnostic::error(
                        "policy::check::duplicate_variant",
                        format!(
                            "`{}` is listed twice in enum `{}`",
                            variant.node, def.name.node
                        ),
                        variant.span,
                    ));
                } else {
                    variants.push(variant.node.clone());
                }
            }
            if variants.len() > 64 {
                self.report(Diagnostic::error(
                    "policy::check::enum_too_large",
                    format!("enum `{}` has more than 64 values", def.name.node),
                    def.name.span,
                ));
                variants.truncate(64);
            }
            self.enums.push(EnumInfo {
                name: def.name.node.clone(),
                variants,
                span: def.name.span,
            });
        }
    }

    fn fields(&mut self, defs: &[ast::FieldDef]) {
        for def in defs {
            if let Some(previous) = self.fields.iter().find(|f| f.name == def.name.node) {
                let previous = previous.span;
                self.report(
                    Diagnostic::error(
                        "policy::check::duplicate_field",
                        format!("field `{}` is declared twice", def.name.node),
                        def.name.span,
                    )
                    .with_related(previous, "first declared here"),
                );
                continue;
            }
            if def.name.node == "now" {
                self.report(
                    Diagnostic::error(
                        "policy::check::reserved_name",
                        "`now` is the request time and cannot name a field",
                        def.name.span,
                    )
                    .with_help("the request time comes from the order's `requested_at` field"),
                );
                continue;
            }
            // Room is kept for the role fields, declared or not.
            let is_role = ROLE_FIELDS.iter().any(|r| r.name == def.name.node);
            let others = self
                .fields
                .iter()
                .filter(|f| !ROLE_FIELDS.iter().any(|r| r.name == f.name))
                .count();
            if !is_role && others == MAX_FIELDS - ROLE_FIELDS.len() {
                self.report(Diagnostic::error(
                    "policy::check::too_many_fields",
                    format!(
                        "a policy may declare at most {} fields besides `id`, `requested_at` and `currency`",
                        MAX_FIELDS - ROLE_FIELDS.len()
                    ),
                    def.name.span,
                ));
                continue;
            }
            let ty = match Type::from_field_type_name(&def.ty.node) {
                Some(ty) => ty,
                None => match self.enums.iter().position(|e| e.name == def.ty.node) {
                    Some(id) if id >= 2 => Type::Enum(id as u16),
                    _ => {
                        let candidates: Vec<&str> = Type::FIELD_TYPE_NAMES
                            .into_iter()
                            .chain(self.enums[2..].iter().map(|e| e.name.as_str()))
                            .collect();
                        let diagnostic = Diagnostic::error(
                            "policy::check::unknown_type",
                            format!("unknown type `{}`", def.ty.node),
                            def.ty.span,
                        )
                        .with_label("not a type")
                        .with_did_you_mean(
                            &def.ty.node,
                            Some(def.ty.span),
                            candidates.iter().copied(),
                            || {
                                format!(
                                    "a field is one of {}, or an enum declared with `enum`",
                                    Type::FIELD_TYPE_NAMES.join(", ")
                                )
                            },
                        );
                        let reported = self.report(diagnostic);
                        self.poisoned.push((def.name.node.clone(), reported));
                        continue;
                    }
                },
            };
            // A default that fails to check was reported (`Err(Reported)`); the field keeps none.
            let default = def.default.as_ref().and_then(|expr| {
                let checked = self.expr(expr, Some(ty), &Facts::default()).ok()?;
                match checked.kind {
                    TKind::Const(value) if checked.ty == ty => Some(value),
                    _ => {
                        self.report(
                            Diagnostic::error(
                                "policy::check::default_not_constant",
                                "a field's default must be a constant of the field's type",
                                expr.span,
                            )
                            .with_help(literal_example(ty, &self.describe(ty))),
                        );
                        None
                    }
                }
            });
            if def.optional && def.default.is_some() {
                self.report(
                    Diagnostic::error(
                        "policy::check::optional_with_default",
                        format!("field `{}` is optional and has a default", def.name.node),
                        def.span,
                    )
                    .with_help(
                        "a field with a default is never absent: drop the `?` or the default",
                    ),
                );
            }
            // The default currency is the amount's currency for every order that gives none: it must
            // have minor units to round to, or every such order would be refused for the policy's value.
            if def.name.node == crate::contract::CURRENCY_FIELD {
                if let (Some(Value::Str(code)), Some(expr)) = (&default, &def.default) {
                    if crate::contract::minor_units_in(&self.minor_units, code).is_none() {
                        self.report(
                            Diagnostic::error(
                                "policy::check::unknown_currency",
                                format!("`{code}` is not an ISO 4217 currency code with minor units"),
                                expr.span,
                            )
                            .with_help("write the code as ISO 4217 does, in capitals: `\"USD\"`, `\"EUR\"`, `\"JPY\"`"),
                        );
                    }
                }
            }
            if let Some(role) = ROLE_FIELDS.iter().find(|r| r.name == def.name.node) {
                if ty != role.ty {
                    let (expected, found) = (self.describe(role.ty), self.describe(ty));
                    self.report(
                        Diagnostic::error(
                            "policy::check::role_field_type",
                            format!(
                                "`{}` is {} and must have type `{expected}`, not `{found}`",
                                role.name, role.role
                            ),
                            def.ty.span,
                        )
                        .with_help(format!(
                            "declare it as `field {}: {expected}?`, or leave it out: every order may carry it",
                            role.name
                        )),
                    );
                }
            }
            self.fields.push(FieldInfo {
                name: def.name.node.clone(),
                ty,
                optional: def.optional,
                default,
                span: def.name.span,
            });
            self.field_used.push(false);
        }
        // The contract's role fields mean the same whether declared or not: undeclared, each is an
        // optional field of its role's type, read and checked like any other.
        for role in ROLE_FIELDS {
            // INVARIANT: the limit above keeps room for every role field.
            if self.field_slot(role.name).is_none() {
                self.fields.push(FieldInfo {
                    name: role.name.to_string(),
                    ty: role.ty,
                    optional: true,
                    default: None,
                    span: Span::default(),
                });
                self.field_used.push(true);
            }
        }
    }

    fn lets(&mut self, defs: &[ast::LetDef]) {
        for def in defs {
            let name = &def.name.node;
            if name == "now" || self.field_slot(name).is_some() || self.lets.contains_key(name) {
                let what = if name == "now" {
                    "the request time"
                } else if self.lets.contains_key(name) {
                    "another definition"
                } else {
                    "a field"
                };
                self.report(Diagnostic::error(
                    "policy::check::duplicate_name",
                    format!("`{name}` is already the name of {what}"),
                    def.name.span,
                ));
                continue;
            }
            self.collecting_needs = Some(0);
            let mut value = self.expr(&def.value, None, &Facts::default());
            if let Some(deep) = value
                .as_ref()
                .ok()
                .and_then(|v| limits::too_deep(v, "this definition", &self.definitions))
            {
                value = Err(self.report(deep));
            }
            let needs = self.collecting_needs.take().unwrap_or(0);
            if let Err(reported) = value {
                self.poisoned.push((name.clone(), reported));
            }
            if let Ok(value) = value {
                let id = self.definitions.len() as LetId;
                let expanded = value.expanded(&self.definitions);
                self.definitions.push(CheckedLet {
                    name: name.clone(),
                    value,
                    span: def.name.span,
                    expanded,
                });
                self.lets.insert(
                    name.clone(),
                    LetInfo {
                        id,
                        needs,
                        used: false,
                    },
                );
            }
        }
    }

    /// Every value of an enum field, as a mask.
    fn variants_mask(&self, slot: Slot) -> u64 {
        match self.fields[slot as usize].ty {
            Type::Enum(id) => match self.enums[id as usize].variants.len() {
                64 => u64::MAX,
                n => (1u64 << n) - 1,
            },
            _ => u64::MAX,
        }
    }

    pub(crate) fn field_slot(&self, name: &str) -> Option<Slot> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| i as Slot)
    }

    /// Facts under which every field counts as present: constraints and requirement conditions are
    /// evaluated only when the fields they read are there.
    fn all_present() -> Facts {
        Facts {
            present: u64::MAX,
            ..Facts::default()
        }
    }

    fn constraints(&mut self, defs: &[ast::ConstraintDef]) -> Vec<Constraint> {
        let mut out = Vec::new();
        for def in defs {
            if let Ok(condition) = self.condition(&def.condition, &Self::all_present()) {
                out.push(Constraint {
                    reads: condition.fields_read(&self.definitions),
                    condition,
                    message: def.message.node.clone(),
                });
            }
        }
        out
    }

    fn requirements(
        &mut self,
        defs: &[ast::RequireDef],
        inherited: &[Requirement],
    ) -> Vec<Requirement> {
        let mut out = inherited.to_vec();
        for def in defs {
            let Some(field) = self.field_slot(&def.field.node) else {
                self.unknown_name(&def.field.node, def.field.span, "field");
                continue;
            };
            self.field_used[field as usize] = true;
            let info = &self.fields[field as usize];
            if !info.optional && def.when.is_none() {
                let name = info.name.clone();
                self.report(
                    Diagnostic::warning(
                        "policy::check::redundant_require",
                        format!(
                            "field `{name}` is not optional, so it is required wherever it is read"
                        ),
                        def.span,
                    )
                    .with_help("drop this line, or make the field optional with `?`"),
                );
            }
            let when = match &def.when {
                Some(cond) => match self.condition(cond, &Self::all_present()) {
                    Ok(c) => Some(c),
                    Err(_reported) => continue,
                },
                None => None,
            };
            let when_text = def
                .when
                .as_ref()
                .map(|w| self.text(w.span).to_string())
                .unwrap_or_default();
            out.push(Requirement {
                field,
                when,
                when_text,
            });
        }
        out
    }

    fn narrowings_of(&self, requirements: &[Requirement]) -> Vec<Narrowing> {
        requirements
            .iter()
            .filter_map(|r| {
                let when = match &r.when {
                    None => None,
                    Some(cond) => Some(expr::enum_fact(cond, true, &self.definitions)?),
                };
                Some(Narrowing {
                    field: r.field,
                    when,
                })
            })
            .collect()
    }

    fn actions(
        &mut self,
        defs: &[ast::ActionDef],
        policy_requirements: &[Requirement],
    ) -> Vec<CheckedAction> {
        let mut out: Vec<CheckedAction> = Vec::new();
        if defs.is_empty() && !self.library {
            self.report(
                Diagnostic::error(
                    "policy::check::no_action",
                    "the policy defines no action",
                    Span::default(),
                )
                .with_help("add `action refund { rule ... }`"),
            );
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for def in defs {
            if let Some(&previous) = seen.get(def.name.node.as_str()) {
                self.report(
                    Diagnostic::error(
                        "policy::check::duplicate_action",
                        format!("action `{}` is defined twice", def.name.node),
                        def.name.span,
                    )
                    .with_related(previous, "first defined here"),
                );
                continue;
            }
            let action = self.action(def, policy_requirements);
            seen.insert(&def.name.node, action.span);
            out.push(action);
        }
        out
    }

    fn action(
        &mut self,
        def: &ast::ActionDef,
        policy_requirements: &[Requirement],
    ) -> CheckedAction {
        let requirements = self.requirements(&def.requires, policy_requirements);
        self.narrowings = self.narrowings_of(&requirements);
        let base = self.narrowed(Facts::default());

        let moves_money = def
            .defaults
            .iter()
            .chain(def.rules.iter().flat_map(|r| &r.attrs))
            .any(|a| matches!(a.kind, AttrKind::Amount(_)));
        if !def.rules.iter().any(|r| r.outcome.node.goes_through()) {
            // No rule takes the defaults; still check them for types.
            self.attrs(&def.defaults, &Self::all_present(), true);
        }

        let mut rules: Vec<CheckedRule> = Vec::new();
        // Rule ids seen, with where: a table of thousands of rules stays linear.
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for rule in &def.rules {
            if let Some(&previous) = seen.get(rule.id.node.as_str()) {
                self.report(
                    Diagnostic::error(
                        "policy::check::duplicate_rule",
                        format!(
                            "rule id `{}` is used twice in action `{}`",
                            rule.id.node, def.name.node
                        ),
                        rule.id.span,
                    )
                    .with_label("duplicate id")
                    .with_related(previous, "first used here")
                    .with_help("rule ids name decisions in the output: give each rule its own"),
                );
                continue;
            }
            seen.insert(&rule.id.node, rule.id.span);
            if let Ok(checked) = self.rule(rule, &base, &def.defaults, moves_money) {
                rules.push(checked);
            }
        }
        if def.rules.is_empty() {
            self.report(Diagnostic::error(
                "policy::check::no_rules",
                format!("action `{}` has no rules", def.name.node),
                def.name.span,
            ));
        }

        let mut needs = 0u64;
        let mut add = |e: &TExpr| needs |= e.fields_read(&self.definitions);
        for rule in &rules {
            if let Some(guard) = &rule.guard {
                add(guard);
            }
            rule.attrs.expressions().flatten().for_each(&mut add);
        }
        let needs = needs
            & self
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| !f.optional && f.default.is_none())
                .fold(0u64, |mask, (i, _)| mask | 1 << i);

        let examples = def
            .examples
            .iter()
            // An example that fails to check was reported.
            .filter_map(|e| self.example(e).ok())
            .collect();
        self.narrowings.clear();
        CheckedAction {
            name: def.name.node.clone(),
            unique: def.unique,
            needs,
            requirements,
            rules,
            examples,
            span: def.name.span,
        }
    }

    /// Adds to `facts` what the requirements in force say (a required field is present where its
    /// condition holds).
    pub(crate) fn narrowed(&self, mut facts: Facts) -> Facts {
        for n in &self.narrowings {
            let holds = match n.when {
                None => true,
                Some((slot, allowed)) => {
                    facts.enum_mask(slot) & self.variants_mask(slot) & !allowed == 0
                }
            };
            if holds {
                facts.present |= 1 << n.field;
            }
        }
        facts
    }

    fn rule(
        &mut self,
        rule: &ast::RuleDef,
        base: &Facts,
        defaults_ast: &[ast::Attr],
        moves_money: bool,
    ) -> Checked<CheckedRule> {
        let guard = match &rule.guard {
            Some(g) => Some(self.condition(g, base)?),
            None => None,
        };
        let facts = match &guard {
            Some(g) => self.narrowed(base.clone().with(g, true, &self.definitions)),
            None => base.clone(),
        };
        let outcome = rule.outcome.node;
        let own = self.attrs(&rule.attrs, &facts, false);
        let mut attrs = RuleAttrs::default();
        if outcome.goes_through() {
            // Defaults are checked under each rule's facts: a default may read an optional field that
            // the rule's guard proves present.
            let defaults = self.attrs(defaults_ast, &facts, true);
            let own_review_by = own.review_by.as_ref().map(|e| e.span);
            attrs = own.merged_over(&defaults, self.no_review);
            // The rule's own date under the action's `default review = none` (one rule holding both
            // is reported where the attributes are checked).
            if let (Some(review), Some(date), None) = (
                &attrs.review,
                own_review_by,
                rule.attrs
                    .iter()
                    .find(|a| matches!(a.kind, AttrKind::Review(_))),
            ) {
                if is_no_review(review, self.no_review) {
                    self.report(
                        Diagnostic::error(
                            "policy::check::review_contradiction",
                            "this rule gives a `review_by` date, and the action's default says `review = none`",
                            date,
                        )
                        .with_related(review.span, "no review by default")
                        .with_help("say `review = manual` in this rule, or drop the date"),
                    );
                }
            }
            // An amount that was written but failed to check has been reported already.
            let wrote = |kind: fn(&AttrKind) -> bool| {
                rule.attrs.iter().chain(defaults_ast).any(|a| kind(&a.kind))
            };
            if moves_money && attrs.amount.is_none() && !wrote(|k| matches!(k, AttrKind::Amount(_)))
            {
                self.report(
                    Diagnostic::error(
                        "policy::check::missing_amount",
                        format!(
                            "rule `{}` lets the refund go through but says no amount",
                            rule.id.node
                        ),
                        rule.outcome.span,
                    )
                    .with_help(
                        "add `amount = ...` to the rule or `default amount = ...` to the action",
                    ),
                );
            }
            if outcome == Outcome::Conditional
                && attrs.requires.is_empty()
                && !wrote(|k| matches!(k, AttrKind::Requires(_)))
            {
                self.report(
                    Diagnostic::error(
                        "policy::check::conditional_without_steps",
                        format!(
                            "conditional rule `{}` does not say what must be done first",
                            rule.id.node
                        ),
                        rule.outcome.span,
                    )
                    .with_label("conditional on what?")
                    .with_help("add `requires [STEP, ...]`, e.g. `requires [revoke]`"),
                );
            }
        } else if let Some(attr) = rule.attrs.first() {
            self.report(
                Diagnostic::error(
                    "policy::check::attribute_on_refusal",
                    format!(
                        "a {} decision carries no `{}`",
                        outcome.as_str(),
                        attr.kind.name()
                    ),
                    attr.span,
                )
                .with_help("denied and undetermined decisions speak only through their reasons: remove the attribute"),
            );
        }
        if rule.reasons.is_empty() {
            self.report(
                Diagnostic::error(
                    "policy::check::missing_reason",
                    format!("rule `{}` gives no reason", rule.id.node),
                    rule.id.span,
                )
                .with_help("add `because \"...\" cite \"...\"` quoting the source document's row or sentence"),
            );
        }
        let mut because = Vec::new();
        for reason in &rule.reasons {
            match &reason.cite {
                Some(cite) => {
                    let document = cite
                        .document
                        .as_ref()
                        .map(|d| d.node.clone())
                        .or_else(|| self.document_name());
                    because.push(format!(
                        "{} [{}: \"{}\"]",
                        reason.text.node,
                        document.unwrap_or_default(),
                        cite.text.node
                    ));
                }
                None => {
                    self.report(
                        Diagnostic::error(
                            "policy::check::missing_citation",
                            "this reason cites no source",
                            reason.text.span,
                        )
                        .with_label("no `cite`")
                        .with_help(
                            "add `cite \"...\"` with the row or sentence of the document it comes from",
                        ),
                    );
                }
            }
        }
        Ok(CheckedRule {
            id: rule.id.node.clone(),
            id_span: rule.id.span,
            guard,
            outcome,
            attrs,
            because,
            span: rule.span,
        })
    }

    fn document_name(&self) -> Option<String> {
        self.document.clone()
    }

    fn unused(&mut self) {
        // A rule that failed to check reads nothing: after an error these warnings would mislead.
        // A library's names are for its importers to use.
        if self.library || self.diagnostics.iter().any(Diagnostic::is_error) {
            return;
        }
        let unused_lets: Vec<(String, Span)> = self
            .definitions
            .iter()
            .filter(|d| self.lets.get(&d.name).is_some_and(|info| !info.used))
            .filter(|d| !self.imported.contains(&d.span))
            .map(|d| (d.name.clone(), d.span))
            .collect();
        for (name, span) in unused_lets {
            self.report(
                Diagnostic::warning(
                    "policy::check::unused_definition",
                    format!("definition `{name}` is never used"),
                    span,
                )
                .with_help("remove it, or use it in a rule"),
            );
        }
        let unused_fields: Vec<(String, Span)> = self
            .fields
            .iter()
            .zip(&self.field_used)
            .filter(|(f, used)| {
                !**used
                    && !matches!(f.name.as_str(), "id" | "requested_at" | "currency")
                    && !self.imported.contains(&f.span)
            })
            .map(|(f, _)| (f.name.clone(), f.span))
            .collect();
        for (name, span) in unused_fields {
            self.report(
                Diagnostic::warning(
                    "policy::check::unused_field",
                    format!("field `{name}` is declared but never read"),
                    span,
                )
                .with_help(
                    "an unread field is still validated on input; remove it if no rule needs it",
                ),
            );
        }
    }

    pub(crate) fn unknown_name(&mut self, name: &str, span: Span, what: &str) -> Reported {
        if let Some((_, reported)) = self.poisoned.iter().find(|(p, _)| p == name) {
            return *reported;
        }
        let mut candidates: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        if what != "field" {
            candidates.extend(self.lets.keys().map(String::as_str));
            candidates.push("now");
        }
        let d = Diagnostic::error(
            "policy::check::unknown_name",
            format!("unknown {what} `{name}`"),
            span,
        )
        .with_label(format!("not a known {what}"))
        .with_did_you_mean(name, Some(span), candidates.iter().copied(), || {
            if what == "field" {
                "declare it with `field NAME: TYPE`".to_string()
            } else {
                "names are fields, definitions (`let`), `now`, or values of the enum being compared"
                    .to_string()
            }
        });
        self.report(d)
    }
}

/// `a date`, `an int`: a type's name with its article, for messages.
pub(crate) fn with_article(name: &str) -> String {
    // Counts are named in the plural (`calendar days`): "a count of calendar days".
    if name.ends_with("days") || name.ends_with("months") {
        return format!("a count of {name}");
    }
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// `review = none` (`no_review`: the review kind named `none`, if declared), written as such (or as a
/// definition, which a constant is copied from: see `Checker::reference`).
pub(crate) fn is_no_review(review: &TExpr, no_review: Option<u16>) -> bool {
    matches!(review.kind, TKind::Const(Value::Enum(v)) if Some(v) == no_review)
}

impl RuleAttrs {
    fn merged_over(self, defaults: &RuleAttrs, no_review: Option<u16>) -> RuleAttrs {
        let mut values = defaults.values.clone();
        for (name, value) in self.values {
            match values.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => values.push((name, value)),
            }
        }
        RuleAttrs {
            amount: self.amount.or_else(|| defaults.amount.clone()),
            refund_to: self.refund_to.or_else(|| defaults.refund_to.clone()),
            // A rule without review (`review = none`, or `review_by = none`) takes no default date.
            review_by: if self.review_by_unset
                || self
                    .review
                    .as_ref()
                    .is_some_and(|r| is_no_review(r, no_review))
            {
                self.review_by
            } else {
                self.review_by.or_else(|| defaults.review_by.clone())
            },
            review_by_unset: self.review_by_unset,
            review: self.review.or_else(|| defaults.review.clone()),
            next_status: self.next_status.or_else(|| defaults.next_status.clone()),
            requires: if self.requires.is_empty() {
                defaults.requires.clone()
            } else {
                self.requires
            },
            values,
        }
    }
}
