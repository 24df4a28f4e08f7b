//! Parsing: `.policy` text to the AST (`ast`). A thin pest layer (`lower`) turns each grammar rule into
//! its AST node at once; syntax errors become diagnostics with readable names for what was expected.

pub mod ast;
mod lower;

pub use lower::parse;
