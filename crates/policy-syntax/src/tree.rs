//! The lossless tree: nodes holding tokens and other nodes, in the order of the text. Every byte of the
//! text is in exactly one token, white space and comments included (as trivia tokens), so the tree
//! gives the text back (`SyntaxNode::text`), whatever the text, syntax errors included.

use crate::kind::SyntaxKind;
use crate::lexer::Token;

/// A node or a token of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxElement {
    /// A node, with children of its own.
    Node(SyntaxNode),
    /// A token: a byte range of the text.
    Token(Token),
}

impl SyntaxElement {
    /// Its kind.
    pub fn kind(&self) -> SyntaxKind {
        match self {
            SyntaxElement::Node(node) => node.kind,
            SyntaxElement::Token(token) => token.kind,
        }
    }

    /// The node, when it is one.
    pub fn as_node(&self) -> Option<&SyntaxNode> {
        match self {
            SyntaxElement::Node(node) => Some(node),
            SyntaxElement::Token(_) => None,
        }
    }

    /// The token, when it is one.
    pub fn as_token(&self) -> Option<&Token> {
        match self {
            SyntaxElement::Token(token) => Some(token),
            SyntaxElement::Node(_) => None,
        }
    }
}

/// A node: its kind and its children. Leading trivia belong to the parent, so a node's first token is a
/// significant one (except the file's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxNode {
    /// What it is.
    pub kind: SyntaxKind,
    /// Its tokens and nodes, in the order of the text.
    pub children: Vec<SyntaxElement>,
}

impl SyntaxNode {
    /// Its tokens, in order, trivia included (a walk with an explicit stack: no recursion).
    pub fn tokens(&self) -> Vec<Token> {
        let mut out = Vec::new();
        let mut stack: Vec<std::slice::Iter<'_, SyntaxElement>> = vec![self.children.iter()];
        while let Some(top) = stack.last_mut() {
            match top.next() {
                Some(SyntaxElement::Token(token)) => out.push(*token),
                Some(SyntaxElement::Node(node)) => stack.push(node.children.iter()),
                None => {
                    stack.pop();
                }
            }
        }
        out
    }

    /// The text it covers, rebuilt from its tokens: for the file, the whole text it was parsed from.
    pub fn text(&self, source: &str) -> String {
        self.tokens()
            .iter()
            .map(|t| source.get(t.start..t.end).unwrap_or(""))
            .collect()
    }

    /// Its byte range: from its first token's start to its last token's end (`None` when it has none).
    pub fn range(&self) -> Option<(usize, usize)> {
        let tokens = self.tokens();
        Some((tokens.first()?.start, tokens.last()?.end))
    }

    /// Its child nodes.
    pub fn child_nodes(&self) -> impl Iterator<Item = &SyntaxNode> {
        self.children.iter().filter_map(SyntaxElement::as_node)
    }

    /// The deepest node whose range holds `offset` (for an editor: the declaration under the cursor).
    pub fn node_at(&self, offset: usize) -> &SyntaxNode {
        let mut node = self;
        'down: loop {
            for child in node.child_nodes() {
                if let Some((start, end)) = child.range() {
                    if start <= offset && offset < end {
                        node = child;
                        continue 'down;
                    }
                }
            }
            return node;
        }
    }

    /// The tree as indented text, one line per node or token (for tests and debugging).
    pub fn debug_tree(&self, source: &str) -> String {
        let mut out = String::new();
        self.debug_into(source, 0, &mut out);
        out
    }

    fn debug_into(&self, source: &str, depth: usize, out: &mut String) {
        out.push_str(&format!("{}{:?}\n", "  ".repeat(depth), self.kind));
        for child in &self.children {
            match child {
                SyntaxElement::Node(node) => node.debug_into(source, depth + 1, out),
                SyntaxElement::Token(t) => out.push_str(&format!(
                    "{}{:?} {:?}\n",
                    "  ".repeat(depth + 1),
                    t.kind,
                    source.get(t.start..t.end).unwrap_or("")
                )),
            }
        }
    }
}
