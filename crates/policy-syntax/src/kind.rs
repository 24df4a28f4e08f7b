//! The kinds of tokens and nodes of the tree.

/// What a token or a node of the syntax tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxKind {
    // ------------------------------------------------------------ trivia
    /// Spaces, tabs, carriage returns and line feeds.
    Whitespace,
    /// `#` to the end of the line (the line feed excluded).
    Comment,
    /// A UTF-8 byte-order mark opening the file.
    Bom,

    // ------------------------------------------------------------ tokens
    /// A word: a keyword or a name (`rule`, `status`, `calendar`).
    Word,
    /// Digits: `168`.
    Integer,
    /// Digits, a dot, digits: `0.01`.
    Decimal,
    /// `2026-03-18`.
    Date,
    /// `2026-03-18T00:00:00+08:00`.
    Timestamp,
    /// A quoted string, escapes included: `"a \"b\""`.
    String,
    /// A string that is never closed (to the end of the file).
    UnterminatedString,
    /// The JSON object of an example's `order` or `expect`, taken whole (as the grammar does).
    Json,
    /// An example's JSON object never closed, or closed by the wrong bracket.
    UnterminatedJson,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `?`
    Question,
    /// `=`
    Eq,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// `<=`
    LtEq,
    /// `>=`
    GtEq,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// A character the language has no use for.
    Unknown,

    // ------------------------------------------------------------ nodes
    /// The whole file.
    File,
    /// `policy NAME` or `library NAME` and the metadata after it.
    Header,
    /// The policy's name (`alibaba-ssl-revoke`: words and hyphens, nothing between).
    PolicyName,
    /// `provider "..."`
    Provider,
    /// `document "FILE" "TITLE"`
    Document,
    /// `zone "..."`
    Zone,
    /// `calendar NAME`
    Calendar,
    /// `effective from DATE by FIELD`
    Effective,
    /// `minor_units "CODE" DIGITS`
    MinorUnits,
    /// `import "FILE"`
    Import,
    /// `steps { ... }`, `refund_destinations { ... }`, `review_kinds { ... }`
    Vocabulary,
    /// `enum NAME { ... }`
    Enum,
    /// `field NAME: TYPE? = EXPR`
    Field,
    /// `require NAME when EXPR`
    Require,
    /// `constraint EXPR else "..."`
    Constraint,
    /// `let NAME = EXPR`
    Let,
    /// `action NAME unique { ... }`
    Action,
    /// `default ATTRIBUTE`
    Default,
    /// `rule NAME when EXPR then OUTCOME ...`
    Rule,
    /// `requires [ ... ]`
    RequiresAttr,
    /// `value NAME = EXPR`
    ValueAttr,
    /// `amount = EXPR` and the other assigned attributes.
    AssignAttr,
    /// `because "..." cite ...`
    Reason,
    /// `cite "..." in "..."`
    Citation,
    /// `example "..." { ... }`
    Example,
    /// `at "..."` in an example.
    ExampleAt,
    /// `order { ... }` in an example.
    ExampleOrder,
    /// `expect { ... }` in an example.
    ExampleExpect,
    /// Adjacent strings, which the language joins.
    Text,
    /// An expression: a flat run of operands and operators, as the grammar has it.
    Expr,
    /// `( EXPR )`
    Paren,
    /// `if EXPR then EXPR else EXPR`
    If,
    /// `NAME ( EXPR, ... )`
    Call,
    /// `168 hours`, `7 x 24 hours`, `1.5 calendar months`
    Quantity,
    /// `hours`, `calendar days`, `business days`
    Unit,
    /// `within QUANTITY after`
    Window,
    /// `in { ... }`
    InSet,
    /// `not in { ... }`
    NotInSet,
    /// `{ a, "b" }` after `in`
    Set,
    /// `rounded MODE to QUANTUM`
    Rounded,
    /// Text that does not parse, kept as it was written.
    Error,
}

impl SyntaxKind {
    /// White space, comments and the byte-order mark: kept in the tree, without meaning.
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            SyntaxKind::Whitespace | SyntaxKind::Comment | SyntaxKind::Bom
        )
    }
}
