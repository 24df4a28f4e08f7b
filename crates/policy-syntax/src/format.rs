//! The formatter: one canonical layout for a policy file, computed on the lossless tree. It changes
//! white space only: every token and every comment stays, in the same order (checked on the result
//! before it is returned), so a formatted file means what it meant. See `docs/fmt.md` for the layout.
//!
//! The layout: declarations at column 0, a header's entries, an action's and an example's entries
//! indented by 2, a rule's clauses (`when`, `then`, attributes, `because`) by 2 more and `cite` by 2 more
//! again; one space between tokens, none inside `( )`, `[ ]` and sets, none before `,` `:` `?` and after
//! a unary `-`. What the author chose stays: where an expression, a run of strings or a list breaks
//! its lines (a continuation line aligned with the start of the expression, or of the innermost
//! bracket's content, or with the first string of the run), the JSON of examples (shifted as a whole
//! when its first line moves), blank lines between declarations and entries (at most one), comments
//! (own-line comments at the indentation of what follows, trailing comments with the spaces before them).

use crate::kind::SyntaxKind::{self, *};
use crate::lexer::{lex, Token};
use crate::tree::{SyntaxElement, SyntaxNode};
use crate::{parse, SyntaxError};
use Gap::{Line, Space, Tight};

/// The text in the canonical layout, or the text's syntax errors (a file this parser refuses is not
/// formatted; the engine's limits checked after parsing, such as its expression depth, do not stop it).
/// Formatting a formatted text gives it back unchanged.
pub fn format(text: &str) -> Result<std::string::String, Vec<SyntaxError>> {
    // A byte-order mark stays where it is, outside the layout.
    if let Some(rest) = text.strip_prefix('\u{FEFF}') {
        let parsed = parse(text);
        if !parsed.errors.is_empty() {
            return Err(parsed.errors);
        }
        return format(rest).map(|out| format!("\u{FEFF}{out}"));
    }
    let parsed = parse(text);
    if !parsed.errors.is_empty() {
        return Err(parsed.errors);
    }
    let mut layout = Layout {
        text,
        slots: Vec::new(),
        pending: None,
        tight_next: false,
        breakable: 0,
        anchors: Vec::new(),
        indent: 0,
        inherit_anchor: false,
    };
    layout.file(&parsed.root);
    let out = emit(text, &lex(text), &layout.slots);
    same_tokens(text, &out)?;
    Ok(out)
}

/// How a token is separated from the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// On a line of its own, at this indentation.
    Line(usize),
    /// One space.
    Space,
    /// Nothing.
    Tight,
}

/// Where a continuation line before a token starts.
#[derive(Debug, Clone, Copy)]
enum Cont {
    /// At the column of an earlier token (its index in the slots).
    Anchor(usize),
    /// At this indentation.
    Indent(usize),
}

/// A place continuation lines align with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// The first token of an expression or of a bracket's content, not placed yet.
    Pending,
    /// That token, placed: its index in the slots.
    At(usize),
    /// A fixed indentation.
    Fixed(usize),
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    token: Token,
    gap: Gap,
    /// Whether a line break the author wrote before the token is kept.
    may_break: bool,
    cont: Cont,
    /// A `}` closing a block of entries: comments before it are indented as the entries.
    closes_block: bool,
}

struct Layout<'t> {
    text: &'t str,
    slots: Vec<Slot>,
    /// The gap of the next token, set by the node that knows it.
    pending: Option<Gap>,
    /// The next token follows the one before it with nothing between (after `(`, a unary `-`).
    tight_next: bool,
    /// Inside an expression, a run of strings or a list: the author's line breaks are kept.
    breakable: usize,
    /// The columns continuation lines align with: the first token of each open expression or bracket.
    anchors: Vec<Anchor>,
    /// The indentation of the current clause.
    indent: usize,
    /// The next expression aligns its continuation lines with the enclosing one (`else if`).
    inherit_anchor: bool,
}

impl Layout<'_> {
    fn push(&mut self, token: Token) {
        let gap = match self.pending.take() {
            Some(gap) => gap,
            None if self.tight_next => Tight,
            None if matches!(token.kind, Comma | RParen | RBracket | Colon | Question) => Tight,
            None => Space,
        };
        self.push_with(token, gap, false);
    }

    fn push_with(&mut self, token: Token, gap: Gap, closes_block: bool) {
        self.tight_next = false;
        let index = self.slots.len();
        let cont = match self.anchors.iter().rev().find(|a| **a != Anchor::Pending) {
            Some(Anchor::At(i)) => Cont::Anchor(*i),
            Some(Anchor::Fixed(n)) => Cont::Indent(*n),
            _ => Cont::Indent(self.indent + 4),
        };
        for anchor in self.anchors.iter_mut().rev() {
            if *anchor != Anchor::Pending {
                break;
            }
            *anchor = Anchor::At(index);
        }
        self.slots.push(Slot {
            token,
            gap,
            may_break: self.breakable > 0,
            cont,
            closes_block,
        });
    }

    fn word<'a>(&'a self, token: &Token) -> &'a str {
        self.text.get(token.start..token.end).unwrap_or("")
    }

    /// Whether the author broke the line after `token` (before the next significant token).
    fn newline_after(&self, node: &SyntaxNode, token: &Token) -> bool {
        let mut seen = false;
        for t in node.tokens() {
            if seen {
                if t.kind.is_trivia() {
                    if self.word(&t).contains('\n') {
                        return true;
                    }
                } else {
                    return false;
                }
            }
            if t == *token {
                seen = true;
            }
        }
        false
    }

    fn with_indent(&mut self, indent: usize, f: impl FnOnce(&mut Self)) {
        let saved = self.indent;
        self.indent = indent;
        f(self);
        self.indent = saved;
    }

    fn file(&mut self, root: &SyntaxNode) {
        for child in &root.children {
            match child {
                SyntaxElement::Node(node) => {
                    self.pending = Some(Line(0));
                    self.node(node);
                }
                SyntaxElement::Token(token) if !token.kind.is_trivia() => {
                    self.pending = Some(Line(0));
                    self.push(*token);
                }
                SyntaxElement::Token(_) => {}
            }
        }
    }

    /// Places a node's tokens, the first with the pending gap.
    fn node(&mut self, node: &SyntaxNode) {
        let indent = self.indent;
        match node.kind {
            Header => {
                for child in &node.children {
                    match child {
                        SyntaxElement::Node(n) if n.kind == PolicyName => self.policy_name(n),
                        SyntaxElement::Node(n) => {
                            self.pending = Some(Line(indent + 2));
                            self.with_indent(indent + 2, |l| l.node(n));
                        }
                        SyntaxElement::Token(t) if !t.kind.is_trivia() => self.push(*t),
                        SyntaxElement::Token(_) => {}
                    }
                }
            }
            Action | Example => self.block(node),
            Rule => {
                for child in &node.children {
                    match child {
                        SyntaxElement::Token(t) if t.kind.is_trivia() => {}
                        SyntaxElement::Token(t) => {
                            if matches!(self.word(t), "when" | "then") && t.kind == Word {
                                self.pending = Some(Line(indent + 2));
                            }
                            self.push(*t);
                        }
                        SyntaxElement::Node(n) if n.kind == Expr => {
                            self.with_indent(indent + 2, |l| l.node(n));
                        }
                        SyntaxElement::Node(n) => {
                            self.pending = Some(Line(indent + 2));
                            self.with_indent(indent + 2, |l| l.node(n));
                        }
                    }
                }
            }
            Reason => {
                for child in &node.children {
                    match child {
                        SyntaxElement::Node(n) if n.kind == Citation => {
                            self.pending = Some(Line(indent + 2));
                            self.with_indent(indent + 2, |l| l.node(n));
                        }
                        other => self.element(other),
                    }
                }
            }
            Enum | Vocabulary => self.braced_list(node),
            Text => {
                self.anchors.push(Anchor::Pending);
                self.breakable += 1;
                self.children(node);
                self.breakable -= 1;
                self.anchors.pop();
            }
            Expr => {
                // An `else if` chain aligns with the first `if`.
                let inherit = std::mem::take(&mut self.inherit_anchor);
                if !inherit {
                    self.anchors.push(Anchor::Pending);
                }
                self.breakable += 1;
                let mut expect_operand = true;
                for child in &node.children {
                    match child {
                        SyntaxElement::Token(t) if t.kind.is_trivia() => {}
                        SyntaxElement::Token(t) => {
                            let word = self.word(t);
                            let prefix = expect_operand && (t.kind == Minus || word == "not");
                            let infix = !expect_operand
                                && (matches!(
                                    t.kind,
                                    EqEq | NotEq
                                        | LtEq
                                        | GtEq
                                        | Lt
                                        | Gt
                                        | Plus
                                        | Minus
                                        | Star
                                        | Slash
                                ) || matches!(word, "and" | "or"));
                            self.push(*t);
                            if prefix && t.kind == Minus {
                                self.tight_next = true;
                            }
                            expect_operand = prefix || infix;
                        }
                        SyntaxElement::Node(n) => {
                            self.node(n);
                            expect_operand = n.kind == Window;
                        }
                    }
                }
                self.breakable -= 1;
                if !inherit {
                    self.anchors.pop();
                }
            }
            If => {
                let mut after_else = false;
                for child in &node.children {
                    match child {
                        SyntaxElement::Token(t) if t.kind.is_trivia() => {}
                        SyntaxElement::Token(t) => {
                            after_else = self.word(t) == "else";
                            self.push(*t);
                        }
                        SyntaxElement::Node(n) => {
                            self.inherit_anchor = after_else
                                && n.child_nodes().next().is_some_and(|c| c.kind == If)
                                && n.children.iter().filter(|c| !c.kind().is_trivia()).count() == 1;
                            self.node(n);
                            self.inherit_anchor = false;
                        }
                    }
                }
            }
            Paren | Call | Set | RequiresAttr => {
                self.breakable += 1;
                let mut opened = false;
                for child in &node.children {
                    match child {
                        SyntaxElement::Token(t) if t.kind.is_trivia() => {}
                        SyntaxElement::Token(t) => {
                            match t.kind {
                                LParen | LBracket | LBrace if !opened => {
                                    if node.kind == Call {
                                        self.tight_next = true;
                                    }
                                    self.push(*t);
                                    self.tight_next = true;
                                    self.anchors.push(Anchor::Pending);
                                    opened = true;
                                    continue;
                                }
                                RParen | RBracket | RBrace => self.tight_next = true,
                                _ => {}
                            }
                            self.push(*t);
                        }
                        SyntaxElement::Node(n) => self.node(n),
                    }
                }
                if opened {
                    self.anchors.pop();
                }
                self.breakable -= 1;
            }
            _ => self.children(node),
        }
    }

    fn element(&mut self, element: &SyntaxElement) {
        match element {
            SyntaxElement::Node(n) => self.node(n),
            SyntaxElement::Token(t) if !t.kind.is_trivia() => self.push(*t),
            SyntaxElement::Token(_) => {}
        }
    }

    fn children(&mut self, node: &SyntaxNode) {
        for child in &node.children {
            self.element(child);
        }
    }

    /// `alibaba-ssl-revoke`: its parts with nothing between.
    fn policy_name(&mut self, node: &SyntaxNode) {
        let mut first = true;
        for t in node.tokens() {
            if !first {
                self.tight_next = true;
            }
            self.push(t);
            first = false;
        }
    }

    /// An action or an example: a line, then its entries indented by 2, then `}` on a line of its own
    /// (`{}` when it has none).
    fn block(&mut self, node: &SyntaxNode) {
        let indent = self.indent;
        let mut inside = false;
        let mut entries = 0;
        for child in &node.children {
            match child {
                SyntaxElement::Token(t) if t.kind.is_trivia() => {}
                SyntaxElement::Token(t) if t.kind == LBrace && !inside => {
                    inside = true;
                    self.push(*t);
                }
                SyntaxElement::Token(t) if t.kind == RBrace && inside => {
                    if entries == 0 {
                        // `{}`, or `}` on the block's indentation after a comment.
                        self.anchors.push(Anchor::Fixed(indent));
                        self.push_with(*t, Tight, false);
                        self.anchors.pop();
                    } else {
                        self.push_with(*t, Line(indent), true);
                    }
                }
                SyntaxElement::Node(n) if inside => {
                    entries += 1;
                    self.pending = Some(Line(indent + 2));
                    self.with_indent(indent + 2, |l| l.node(n));
                }
                other => self.element(other),
            }
        }
    }

    /// An enum's values or a vocabulary's names: `{ a, b }` on the line, or, when the author broke the
    /// line after `{`, one block with the values indented by 2 (their own line breaks kept).
    fn braced_list(&mut self, node: &SyntaxNode) {
        let indent = self.indent;
        let mut block = false;
        let mut inside = false;
        let mut first = true;
        for child in &node.children {
            match child {
                SyntaxElement::Token(t) if t.kind.is_trivia() => {}
                SyntaxElement::Token(t) if t.kind == LBrace && !inside => {
                    inside = true;
                    block = self.newline_after(node, t);
                    self.push(*t);
                    self.breakable += 1;
                    self.anchors.push(if block {
                        Anchor::Fixed(indent + 2)
                    } else {
                        Anchor::Pending
                    });
                }
                SyntaxElement::Token(t) if t.kind == RBrace && inside => {
                    self.anchors.pop();
                    if block {
                        self.breakable -= 1;
                        self.push_with(*t, Line(indent), true);
                    } else {
                        self.anchors.push(Anchor::Fixed(indent));
                        self.push(*t);
                        self.anchors.pop();
                        self.breakable -= 1;
                    }
                    inside = false;
                }
                SyntaxElement::Token(t) if inside && block && first => {
                    first = false;
                    self.pending = Some(Line(indent + 2));
                    self.push(*t);
                }
                other => self.element(other),
            }
        }
    }
}

/// The text of the slots, with the white space between them decided and the comments of the original
/// put back in place.
fn emit(text: &str, tokens: &[Token], slots: &[Slot]) -> std::string::String {
    let mut out = std::string::String::with_capacity(text.len() + text.len() / 8);
    let mut cols: Vec<usize> = Vec::with_capacity(slots.len());
    // Columns are followed as the text grows (and through the original), never counted back from a
    // line's start: a long line costs no more than a short one.
    let mut out_col = Column::default();
    let mut text_col = Column::default();
    // Trivia between significant tokens: tokens[from..k] before each slot.
    let mut next = 0usize;
    let mut prev_sig: Option<Token> = None;
    let end_slot = Slot {
        token: Token {
            kind: Whitespace,
            start: text.len(),
            end: text.len(),
        },
        gap: Line(0),
        may_break: false,
        cont: Cont::Indent(0),
        closes_block: false,
    };
    for slot in slots.iter().chain(std::iter::once(&end_slot)) {
        let is_end = slot.token.start == text.len() && slot.token.kind == Whitespace;
        let mut trivia = Vec::new();
        while next < tokens.len() && tokens[next].start < slot.token.start {
            if tokens[next].kind.is_trivia() {
                trivia.push(tokens[next]);
            }
            next += 1;
        }
        if !is_end {
            next += 1;
        }
        let cont_col = match slot.cont {
            Cont::Anchor(i) => cols.get(i).copied().unwrap_or(0),
            Cont::Indent(n) => n,
        };
        let after_open = prev_sig.is_some_and(|p| matches!(p.kind, LBrace));
        let line_indent = match slot.gap {
            Line(i) if slot.closes_block => i + 2,
            Line(i) => i,
            _ => cont_col,
        };
        let mut newlines = 0usize;
        let mut hspace = "";
        let mut need_break = false;
        for t in &trivia {
            let t_text = &text[t.start..t.end];
            match t.kind {
                Whitespace => {
                    let n = t_text.matches('\n').count();
                    newlines += n;
                    hspace = if n == 0 { t_text } else { "" };
                }
                Comment => {
                    if newlines == 0 && prev_sig.is_some() && !out.is_empty() {
                        out.push_str(if hspace.is_empty() { " " } else { hspace });
                    } else {
                        if !out.is_empty() {
                            out.push('\n');
                            if newlines >= 2 && (need_break || !after_open) {
                                out.push('\n');
                            }
                        }
                        push_indent(&mut out, line_indent);
                    }
                    out.push_str(t_text.trim_end());
                    need_break = true;
                    newlines = 0;
                    hspace = "";
                }
                _ => {}
            }
        }
        if is_end {
            break;
        }
        let col = match slot.gap {
            Line(i) => {
                if !out.is_empty() {
                    out.push('\n');
                    let blank =
                        newlines >= 2 && (need_break || !after_open) && slot.token.kind != RBrace;
                    if blank {
                        out.push('\n');
                    }
                }
                push_indent(&mut out, i);
                i
            }
            Space | Tight if need_break || (slot.may_break && newlines > 0) => {
                out.push('\n');
                push_indent(&mut out, cont_col);
                cont_col
            }
            Space => {
                out.push(' ');
                out_col.at(&out)
            }
            Tight => out_col.at(&out),
        };
        cols.push(col);
        let token_text = &text[slot.token.start..slot.token.end];
        if slot.token.kind == Json {
            let old_col = text_col.at(&text[..slot.token.start]);
            out.push_str(&shift_json(token_text, col as isize - old_col as isize));
        } else {
            out.push_str(token_text);
        }
        prev_sig = Some(slot.token);
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn push_indent(out: &mut std::string::String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// The column (in characters) a growing text ends at, followed incrementally.
#[derive(Debug, Default)]
struct Column {
    /// How much of the text has been counted.
    counted: usize,
    col: usize,
}

impl Column {
    /// The column `text` ends at; `text` extends the text of the previous call.
    fn at(&mut self, text: &str) -> usize {
        let new = text.get(self.counted..).unwrap_or("");
        match new.rfind('\n') {
            Some(i) => self.col = new[i + 1..].chars().count(),
            None => self.col += new.chars().count(),
        }
        self.counted = text.len();
        self.col
    }
}

/// A JSON object's text moved by `delta` columns: its lines after the first shifted as a whole, trailing
/// white space dropped. A JSON text with a line break inside a string is left as it is.
fn shift_json(json: &str, delta: isize) -> std::string::String {
    if !json.contains('\n') || newline_in_string(json) {
        return json.to_string();
    }
    let mut out = std::string::String::with_capacity(json.len());
    for (i, line) in json.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            if delta >= 0 {
                push_indent(&mut out, delta as usize);
                out.push_str(line);
            } else {
                let leading = line.len() - line.trim_start_matches(' ').len();
                out.push_str(&line[leading.min(delta.unsigned_abs())..]);
            }
        } else {
            out.push_str(line.trim_end());
        }
    }
    out
}

fn newline_in_string(json: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (true, false, '\n') => return true,
            (false, _, '"') => in_string = true,
            _ => {}
        }
    }
    false
}

/// JSON without the white space outside its strings.
fn json_squeezed(json: &str) -> std::string::String {
    let mut out = std::string::String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            out.push(c);
            in_string = c == '"';
        }
    }
    out
}

/// The check that formatting changed white space only: the same tokens, the same comments, in the same
/// order, and the result parses.
fn same_tokens(before: &str, after: &str) -> Result<(), Vec<SyntaxError>> {
    let key = |text: &str| -> Vec<(SyntaxKind, std::string::String)> {
        lex(text)
            .into_iter()
            .filter(|t| !matches!(t.kind, Whitespace | Bom))
            .map(|t| {
                let s = &text[t.start..t.end];
                let s = match t.kind {
                    Json => json_squeezed(s),
                    Comment => s.trim_end().to_string(),
                    _ => s.to_string(),
                };
                (t.kind, s)
            })
            .collect()
    };
    if key(before) == key(after) && parse(after).errors.is_empty() {
        return Ok(());
    }
    Err(vec![SyntaxError {
        code: "policy::fmt::internal",
        message: "the formatter would change more than white space; the file is left as it is"
            .to_string(),
        label: "formatting this file failed".to_string(),
        start: 0,
        end: 0,
    }])
}

#[cfg(test)]
mod tests;
