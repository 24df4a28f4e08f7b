//! The error-tolerant recursive-descent parser: tokens to the lossless tree, and every syntax error of
//! the file. It follows the grammar of the engine (`crates/policy/grammar/policy.pest`) rule for rule,
//! and accepts the same texts (`tests/syntax_tree.rs` compares the two over every policy file of the
//! repository).
//!
//! After an error, the declaration (or the action's entry) it is in is closed, the tokens up to the next
//! place parsing can resume are kept in an `Error` node, and parsing goes on: one error per declaration
//! or entry of an action, as the engine reports them, and a tree for the rest of the file. Recursion is
//! bounded (`MAX_PARSE_DEPTH`): deeper text becomes an `Error` node, so no input exhausts the stack.

use crate::kind::SyntaxKind::{self, *};
use crate::lexer::Token;
use crate::tree::{SyntaxElement, SyntaxNode};
use crate::SyntaxError;

/// How deep expressions may nest in the parser before the rest is kept as an `Error` node (the engine's
/// own limit, `MAX_NESTING`, is lower and reported apart).
pub const MAX_PARSE_DEPTH: usize = 64;

/// Words that are never names (the grammar's `keyword`).
const KEYWORDS: [&str; 37] = [
    "policy",
    "provider",
    "document",
    "zone",
    "enum",
    "field",
    "require",
    "constraint",
    "let",
    "action",
    "unique",
    "default",
    "rule",
    "when",
    "then",
    "else",
    "because",
    "cite",
    "example",
    "requires",
    "value",
    "and",
    "or",
    "not",
    "in",
    "if",
    "within",
    "after",
    "before",
    "rounded",
    "to",
    "allowed",
    "conditional",
    "denied",
    "undetermined",
    "true",
    "false",
];

/// Words that open a declaration of the file.
const ITEM_STARTS: [&str; 10] = [
    "import",
    "steps",
    "refund_destinations",
    "review_kinds",
    "enum",
    "field",
    "require",
    "constraint",
    "let",
    "action",
];

/// Words that open an entry of an action.
const ACTION_ITEM_STARTS: [&str; 4] = ["default", "require", "rule", "example"];

const HEADER_ENTRIES: [&str; 6] = [
    "provider",
    "document",
    "zone",
    "calendar",
    "effective",
    "minor_units",
];

const ATTR_NAMES: [&str; 5] = ["amount", "refund_to", "review_by", "review", "next_status"];

const OUTCOMES: [&str; 4] = ["allowed", "conditional", "denied", "undetermined"];

const EXACT_UNITS: [&str; 10] = [
    "seconds", "second", "minutes", "minute", "hours", "hour", "days", "day", "weeks", "week",
];

/// Whether `word` is a keyword (never a name).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

pub(crate) struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    /// Indices of the significant tokens in `tokens`.
    sig: Vec<usize>,
    /// The next significant token, an index into `sig`.
    cur: usize,
    /// The next token not yet in the tree, an index into `tokens`.
    pos: usize,
    stack: Vec<(SyntaxKind, Vec<SyntaxElement>)>,
    errors: Vec<SyntaxError>,
    /// Whether the declaration or entry being parsed has had its error already.
    errored: bool,
    depth: usize,
}

impl<'t> Parser<'t> {
    pub(crate) fn new(text: &'t str, tokens: Vec<Token>) -> Self {
        let sig = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.kind.is_trivia())
            .map(|(i, _)| i)
            .collect();
        Parser {
            text,
            tokens,
            sig,
            cur: 0,
            pos: 0,
            stack: Vec::new(),
            errors: Vec::new(),
            errored: false,
            depth: 0,
        }
    }

    // ------------------------------------------------------------ the tree

    fn flush_trivia(&mut self) {
        let upto = self.sig.get(self.cur).copied().unwrap_or(self.tokens.len());
        while self.pos < upto {
            let token = self.tokens[self.pos];
            if let Some((_, children)) = self.stack.last_mut() {
                children.push(SyntaxElement::Token(token));
            }
            self.pos += 1;
        }
    }

    fn start(&mut self, kind: SyntaxKind) {
        self.flush_trivia();
        self.stack.push((kind, Vec::new()));
    }

    fn checkpoint(&mut self) -> usize {
        self.flush_trivia();
        self.stack.last().map_or(0, |(_, c)| c.len())
    }

    fn start_at(&mut self, checkpoint: usize, kind: SyntaxKind) {
        let moved = match self.stack.last_mut() {
            Some((_, children)) => children.split_off(checkpoint.min(children.len())),
            None => Vec::new(),
        };
        self.stack.push((kind, moved));
    }

    fn finish(&mut self) {
        if self.stack.len() < 2 {
            return;
        }
        if let Some((kind, children)) = self.stack.pop() {
            if let Some((_, parent)) = self.stack.last_mut() {
                parent.push(SyntaxElement::Node(SyntaxNode { kind, children }));
            }
        }
    }

    fn bump(&mut self) {
        if self.cur >= self.sig.len() {
            return;
        }
        self.flush_trivia();
        let token = self.tokens[self.pos];
        if let Some((_, children)) = self.stack.last_mut() {
            children.push(SyntaxElement::Token(token));
        }
        self.pos += 1;
        self.cur += 1;
    }

    // ------------------------------------------------------------ looking ahead

    fn nth_token(&self, n: usize) -> Option<Token> {
        self.sig.get(self.cur + n).map(|&i| self.tokens[i])
    }

    fn nth(&self, n: usize) -> Option<SyntaxKind> {
        self.nth_token(n).map(|t| t.kind)
    }

    fn nth_text(&self, n: usize) -> &'t str {
        self.nth_token(n)
            .map_or("", |t| self.text.get(t.start..t.end).unwrap_or(""))
    }

    fn at(&self, kind: SyntaxKind) -> bool {
        self.nth(0) == Some(kind)
    }

    /// After an item of a braced list: a comma and another item (`true`), or the list's end, where a
    /// trailing comma before `}` is allowed (`false`).
    fn another_item(&mut self) -> bool {
        if !self.at(Comma) {
            return false;
        }
        self.bump();
        !self.at(RBrace)
    }

    fn nth_word(&self, n: usize, word: &str) -> bool {
        self.nth(n) == Some(Word) && self.nth_text(n) == word
    }

    fn at_word(&self, word: &str) -> bool {
        self.nth_word(0, word)
    }

    fn at_any_word(&self, words: &[&str]) -> bool {
        self.nth(0) == Some(Word) && words.contains(&self.nth_text(0))
    }

    fn at_eof(&self) -> bool {
        self.cur >= self.sig.len()
    }

    /// Whether only white space (no comment) lies between the `n`th significant token and the next.
    fn only_space_after(&self, n: usize) -> bool {
        let (Some(&a), Some(&b)) = (self.sig.get(self.cur + n), self.sig.get(self.cur + n + 1))
        else {
            return false;
        };
        let between = &self.tokens[a + 1..b];
        !between.is_empty() && between.iter().all(|t| t.kind == Whitespace)
    }

    // ------------------------------------------------------------ errors

    /// Reports that `expected` was expected here, once per declaration or entry.
    fn error(&mut self, expected: &str) {
        if self.errored {
            return;
        }
        self.errored = true;
        let (start, end, found) = match self.nth_token(0) {
            Some(t) => (t.start, t.end, describe(t.kind, &self.text[t.start..t.end])),
            None => {
                // Point at the last character written, where the reader looks.
                let end = self.text.trim_end().len();
                let start = self.text[..end].char_indices().last().map_or(0, |(i, _)| i);
                (start, end, "the end of the file".to_string())
            }
        };
        self.errors.push(SyntaxError {
            code: "policy::parse::syntax",
            message: format!("syntax error: expected {expected}, found {found}"),
            label: format!("expected {expected}"),
            start,
            end,
        });
    }

    fn expect(&mut self, kind: SyntaxKind, expected: &str) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            self.error(expected);
            false
        }
    }

    fn expect_word(&mut self, word: &str) -> bool {
        if self.at_word(word) {
            self.bump();
            true
        } else {
            self.error(&format!("`{word}`"));
            false
        }
    }

    fn at_name(&self) -> bool {
        self.nth(0) == Some(Word) && !is_keyword(self.nth_text(0))
    }

    fn name(&mut self) -> bool {
        if self.at_name() {
            self.bump();
            true
        } else {
            self.error("a name");
            false
        }
    }

    // ------------------------------------------------------------ the file

    pub(crate) fn parse_file(mut self) -> (SyntaxNode, Vec<SyntaxError>) {
        self.stack.push((File, Vec::new()));
        self.header();
        while !self.at_eof() {
            if self.at_any_word(&ITEM_STARTS) {
                self.errored = false;
                self.item();
            } else {
                self.error("a declaration (`enum`, `field`, `require`, `constraint`, `let`, `action`, ...)");
                self.start(Error);
                self.bump();
                while !self.at_eof() && !self.at_any_word(&ITEM_STARTS) {
                    self.bump();
                }
                self.finish();
            }
        }
        // Trailing trivia, and anything left open.
        self.pos = self.pos.min(self.tokens.len());
        while self.stack.len() > 1 {
            self.finish();
        }
        while self.pos < self.tokens.len() {
            let token = self.tokens[self.pos];
            if let Some((_, children)) = self.stack.last_mut() {
                children.push(SyntaxElement::Token(token));
            }
            self.pos += 1;
        }
        let (kind, children) = self.stack.pop().unwrap_or((File, Vec::new()));
        (SyntaxNode { kind, children }, self.errors)
    }

    fn header(&mut self) {
        if !(self.at_word("policy") || self.at_word("library")) {
            self.error("`policy NAME` or `library NAME`");
            return;
        }
        self.start(Header);
        self.bump();
        if self.policy_name() {
            while self.at_any_word(&HEADER_ENTRIES) {
                self.header_entry();
            }
        }
        self.finish();
    }

    /// `alibaba-ssl-revoke`: a letter, then letters, digits, `-` and `_`.
    fn policy_name(&mut self) -> bool {
        let starts_with_letter = self.nth(0) == Some(Word)
            && self
                .nth_text(0)
                .as_bytes()
                .first()
                .is_some_and(u8::is_ascii_alphabetic);
        if !starts_with_letter {
            self.error("a policy name");
            return false;
        }
        // The lexer takes the name whole (hyphens included).
        self.start(PolicyName);
        self.bump();
        self.finish();
        true
    }

    fn header_entry(&mut self) {
        let word = self.nth_text(0);
        let kind = match word {
            "provider" => Provider,
            "document" => Document,
            "zone" => Zone,
            "calendar" => Calendar,
            "effective" => Effective,
            _ => MinorUnits,
        };
        self.start(kind);
        self.bump();
        match kind {
            Provider => {
                self.text_run();
            }
            Document => {
                if self.expect(String, "a string") && self.at(String) {
                    self.text_run();
                }
            }
            Zone => {
                self.expect(String, "a string");
            }
            Calendar => {
                self.name();
            }
            Effective => {
                if self.expect_word("from") {
                    if self.at(Timestamp) || self.at(Date) {
                        self.bump();
                        if self.at_word("by") {
                            self.bump();
                            self.name();
                        }
                    } else {
                        self.error("a date or a timestamp");
                    }
                }
            }
            _ => {
                if self.expect(String, "a string") {
                    self.expect(Integer, "a whole number");
                }
            }
        }
        self.finish();
    }

    fn text_run(&mut self) -> bool {
        if !self.at(String) {
            self.error("a string");
            return false;
        }
        self.start(Text);
        while self.at(String) {
            self.bump();
        }
        self.finish();
        true
    }

    // ------------------------------------------------------------ declarations

    fn item(&mut self) {
        match self.nth_text(0) {
            "import" => {
                self.start(Import);
                self.bump();
                self.expect(String, "a string");
                self.finish();
            }
            "steps" | "refund_destinations" | "review_kinds" => {
                self.start(Vocabulary);
                self.bump();
                self.braced_list(false);
                self.finish();
            }
            "enum" => {
                self.start(Enum);
                self.bump();
                if self.name() {
                    self.braced_list(true);
                }
                self.finish();
            }
            "field" => {
                self.start(Field);
                self.bump();
                if self.name() && self.expect(Colon, "`:`") && self.name() {
                    if self.at(Question) {
                        self.bump();
                    }
                    if self.at(Eq) {
                        self.bump();
                        self.expr();
                    }
                }
                self.finish();
            }
            "require" => self.require(),
            "constraint" => {
                self.start(Constraint);
                self.bump();
                if self.expr() && self.expect_word("else") {
                    self.text_run();
                }
                self.finish();
            }
            "let" => {
                self.start(Let);
                self.bump();
                if self.name() && self.expect(Eq, "`=`") {
                    self.expr();
                }
                self.finish();
            }
            _ => self.action(),
        }
    }

    /// `{ a, b, }`: names (and strings, for an enum's values), at least one.
    fn braced_list(&mut self, strings: bool) {
        if !self.expect(LBrace, "`{`") {
            return;
        }
        let what = if strings {
            "a name or a string"
        } else {
            "a name"
        };
        loop {
            if self.at_name() || (strings && self.at(String)) {
                self.bump();
            } else {
                self.error(what);
                return;
            }
            if !self.another_item() {
                break;
            }
        }
        self.expect(RBrace, "`,` or `}`");
    }

    fn require(&mut self) {
        self.start(Require);
        self.bump();
        if self.name() && self.at_word("when") {
            self.bump();
            self.expr();
        }
        self.finish();
    }

    fn action(&mut self) {
        self.start(Action);
        self.bump();
        if !self.name() {
            self.finish();
            return;
        }
        if self.at_word("unique") {
            self.bump();
        }
        if !self.expect(LBrace, "`{`") {
            self.finish();
            return;
        }
        loop {
            if self.at(RBrace) {
                self.bump();
                break;
            }
            if self.at_eof() {
                self.error("`}`");
                break;
            }
            if self.at_any_word(&ACTION_ITEM_STARTS) {
                self.errored = false;
                self.action_item();
            } else if self.at_any_word(&ITEM_STARTS) {
                // The action's `}` is missing: the declarations after it are the file's.
                self.error("`}`");
                break;
            } else {
                self.error("`default`, `require`, `rule`, `example` or `}`");
                self.start(Error);
                let mut depth = 0usize;
                loop {
                    if self.at_eof()
                        || (depth == 0
                            && (self.at(RBrace)
                                || self.at_any_word(&ACTION_ITEM_STARTS)
                                || self.at_any_word(&ITEM_STARTS)))
                    {
                        break;
                    }
                    match self.nth(0) {
                        Some(LBrace | LParen | LBracket) => depth += 1,
                        Some(RBrace | RParen | RBracket) => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    self.bump();
                }
                self.finish();
            }
        }
        self.finish();
    }

    fn action_item(&mut self) {
        match self.nth_text(0) {
            "default" => {
                self.start(Default);
                self.bump();
                if !self.attr() {
                    self.error("an attribute (`amount`, `refund_to`, `review`, `review_by`, `next_status`, `value`, `requires`)");
                }
                self.finish();
            }
            "require" => self.require(),
            "rule" => self.rule(),
            _ => self.example(),
        }
    }

    /// An attribute, when one starts here (`false` when none does).
    fn attr(&mut self) -> bool {
        if self.at_word("requires") {
            self.start(RequiresAttr);
            self.bump();
            if self.expect(LBracket, "`[`") {
                if self.at_name() {
                    self.bump();
                    while self.at(Comma) && self.nth(1) == Some(Word) {
                        self.bump();
                        self.name();
                    }
                }
                if self.at(Comma) {
                    self.bump();
                }
                self.expect(RBracket, "`]`");
            }
            self.finish();
        } else if self.at_word("value") {
            self.start(ValueAttr);
            self.bump();
            if self.name() && self.expect(Eq, "`=`") {
                self.expr();
            }
            self.finish();
        } else if self.at_any_word(&ATTR_NAMES) {
            self.start(AssignAttr);
            self.bump();
            if self.expect(Eq, "`=`") {
                self.expr();
            }
            self.finish();
        } else {
            return false;
        }
        true
    }

    fn rule(&mut self) {
        self.start(Rule);
        self.bump();
        if self.name() {
            let ok = if self.at_word("when") {
                self.bump();
                self.expr()
            } else {
                true
            };
            if ok && self.expect_word("then") {
                if self.at_any_word(&OUTCOMES) {
                    self.bump();
                    while self.attr() {}
                    while self.at_word("because") {
                        self.reason();
                    }
                } else {
                    self.error("an outcome (`allowed`, `conditional`, `denied`, `undetermined`)");
                }
            }
        }
        self.finish();
    }

    fn reason(&mut self) {
        self.start(Reason);
        self.bump();
        if self.text_run() && self.at_word("cite") {
            self.start(Citation);
            self.bump();
            if self.text_run() && self.at_word("in") {
                self.bump();
                self.expect(String, "a string");
            }
            self.finish();
        }
        self.finish();
    }

    fn example(&mut self) {
        self.start(Example);
        self.bump();
        if self.text_run() && self.expect(LBrace, "`{`") {
            loop {
                if self.at_word("at") {
                    self.start(ExampleAt);
                    self.bump();
                    self.expect(String, "a string");
                    self.finish();
                } else if self.at_word("order") || self.at_word("expect") {
                    let kind = if self.at_word("order") {
                        ExampleOrder
                    } else {
                        ExampleExpect
                    };
                    self.start(kind);
                    self.bump();
                    self.expect(Json, "a JSON object");
                    self.finish();
                } else {
                    self.expect(RBrace, "`at`, `order`, `expect` or `}`");
                    break;
                }
                if self.errored {
                    break;
                }
            }
        }
        self.finish();
    }

    // ------------------------------------------------------------ expressions

    /// An expression: operands and operators, flat (precedence is the lowering's).
    fn expr(&mut self) -> bool {
        if self.depth >= MAX_PARSE_DEPTH {
            self.too_deep();
            return false;
        }
        self.depth += 1;
        self.start(Expr);
        let mut ok = self.operand();
        while ok && self.at_infix() {
            ok = self.infix() && self.operand();
        }
        self.finish();
        self.depth -= 1;
        ok
    }

    /// Text nested deeper than the parser goes: kept whole in an `Error` node, up to the bracket that
    /// closes what was open before it, without recursion.
    #[cold]
    fn too_deep(&mut self) {
        if !self.errored {
            self.errored = true;
            let (start, end) = self.nth_token(0).map_or((0, 0), |t| (t.start, t.end));
            self.errors.push(SyntaxError {
                code: "policy::parse::too_deep",
                message: "the expression is nested too deeply".to_string(),
                label: format!("this is nested deeper than {MAX_PARSE_DEPTH} levels"),
                start,
                end,
            });
        }
        self.start(Error);
        let mut depth = 0usize;
        while !self.at_eof() {
            match self.nth(0) {
                Some(LBrace | LParen | LBracket) => depth += 1,
                Some(RBrace | RParen | RBracket) => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.bump();
        }
        self.finish();
    }

    fn operand(&mut self) -> bool {
        while self.at_word("not") || self.at(Minus) {
            self.bump();
        }
        if !self.primary() {
            return false;
        }
        loop {
            if self.at_word("in") {
                self.start(InSet);
                self.bump();
                let ok = self.set();
                self.finish();
                if !ok {
                    return false;
                }
            } else if self.at_word("not") && self.nth_word(1, "in") {
                self.start(NotInSet);
                self.bump();
                self.bump();
                let ok = self.set();
                self.finish();
                if !ok {
                    return false;
                }
            } else if self.at_word("rounded") {
                self.start(Rounded);
                self.bump();
                let ok = self.name()
                    && self.expect_word("to")
                    && self.expect(Decimal, "a decimal number");
                self.finish();
                if !ok {
                    return false;
                }
            } else {
                return true;
            }
        }
    }

    fn set(&mut self) -> bool {
        self.start(Set);
        let mut ok = self.expect(LBrace, "`{`");
        if ok {
            loop {
                if self.at_name() || self.at(String) {
                    self.bump();
                } else {
                    self.error("a name or a string");
                    ok = false;
                    break;
                }
                if !self.another_item() {
                    break;
                }
            }
            ok = ok && self.expect(RBrace, "`,` or `}`");
        }
        self.finish();
        ok
    }

    fn at_infix(&self) -> bool {
        match self.nth(0) {
            Some(EqEq | NotEq | LtEq | GtEq | Lt | Gt | Plus | Minus | Star | Slash) => true,
            Some(Word) => match self.nth_text(0) {
                "and" | "or" | "within" => true,
                "more" => self.nth_word(1, "than") && self.only_space_after(0),
                "at" => self.nth_word(1, "least") && self.only_space_after(0),
                _ => false,
            },
            _ => false,
        }
    }

    fn infix(&mut self) -> bool {
        if !matches!(self.nth_text(0), "within" | "more" | "at") || self.nth(0) != Some(Word) {
            self.bump();
            return true;
        }
        self.start(Window);
        if !self.at_word("within") {
            self.bump();
        }
        self.bump();
        let ok = if self.quantity_len(0).is_some() {
            self.quantity();
            if self.at_word("after") || self.at_word("before") {
                self.bump();
                true
            } else {
                self.error("`after` or `before`");
                false
            }
        } else {
            self.error("a quantity with its unit (`7 calendar days`, `168 hours`)");
            false
        };
        self.finish();
        ok
    }

    /// The significant tokens a unit takes at `n`.
    fn unit_len(&self, n: usize) -> Option<usize> {
        if self.nth(n) != Some(Word) {
            return None;
        }
        match self.nth_text(n) {
            "calendar"
                if self.nth(n + 1) == Some(Word)
                    && matches!(
                        self.nth_text(n + 1),
                        "days" | "months" | "month" | "years" | "year"
                    ) =>
            {
                Some(2)
            }
            "business" if self.nth_word(n + 1, "days") => Some(2),
            word if EXACT_UNITS.contains(&word) => Some(1),
            _ => None,
        }
    }

    /// The significant tokens a quantity (`7 x 24 hours`, `1.5 calendar months`) takes at `n`.
    fn quantity_len(&self, n: usize) -> Option<usize> {
        match self.nth(n) {
            Some(Integer) => {
                if self.nth_word(n + 1, "x") && self.nth(n + 2) == Some(Integer) {
                    if let Some(unit) = self.unit_len(n + 3) {
                        return Some(3 + unit);
                    }
                }
                self.unit_len(n + 1).map(|u| 1 + u)
            }
            Some(Decimal) => self.unit_len(n + 1).map(|u| 1 + u),
            _ => None,
        }
    }

    fn quantity(&mut self) {
        let Some(len) = self.quantity_len(0) else {
            return;
        };
        let unit = len - if self.nth_word(1, "x") { 3 } else { 1 };
        self.start(Quantity);
        for _ in 0..len - unit {
            self.bump();
        }
        self.start(Unit);
        for _ in 0..unit {
            self.bump();
        }
        self.finish();
        self.finish();
    }

    fn primary(&mut self) -> bool {
        match self.nth(0) {
            Some(Timestamp | Date | String | Decimal | Integer)
                if self.quantity_len(0).is_none() =>
            {
                self.bump();
                true
            }
            Some(Integer | Decimal) => {
                self.quantity();
                true
            }
            Some(LParen) => {
                self.start(Paren);
                self.bump();
                let ok = self.expr() && self.expect(RParen, "`)`");
                self.finish();
                ok
            }
            Some(Word) => match self.nth_text(0) {
                "if" => {
                    self.start(If);
                    self.bump();
                    let ok = self.expr()
                        && self.expect_word("then")
                        && self.expr()
                        && self.expect_word("else")
                        && self.expr();
                    self.finish();
                    ok
                }
                "true" | "false" => {
                    self.bump();
                    true
                }
                word if !is_keyword(word) => {
                    if self.nth(1) == Some(LParen) {
                        self.call()
                    } else {
                        self.bump();
                        true
                    }
                }
                _ => {
                    self.error("an expression");
                    false
                }
            },
            _ => {
                self.error("an expression");
                false
            }
        }
    }

    fn call(&mut self) -> bool {
        let checkpoint = self.checkpoint();
        self.bump();
        self.start_at(checkpoint, Call);
        self.bump();
        let mut ok = true;
        if !self.at(RParen) {
            ok = self.expr();
            while ok && self.at(Comma) {
                self.bump();
                ok = self.expr();
            }
        }
        ok = ok && self.expect(RParen, "`,` or `)`");
        self.finish();
        ok
    }
}

/// How an error names the token it met.
fn describe(kind: SyntaxKind, text: &str) -> std::string::String {
    match kind {
        String => "a string".to_string(),
        UnterminatedString => "a string that is never closed".to_string(),
        Json => "a JSON object".to_string(),
        UnterminatedJson => "a JSON object that is never closed".to_string(),
        Integer | Decimal => format!("the number `{text}`"),
        Date | Timestamp => format!("`{text}`"),
        _ => {
            let shown: std::string::String = text.chars().take(30).collect();
            format!("`{shown}`")
        }
    }
}

#[cfg(test)]
mod tests;
