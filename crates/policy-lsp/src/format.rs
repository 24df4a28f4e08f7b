//! Formatting: `policy fmt`'s formatter (`policy::syntax::format`), for `textDocument/formatting`.

/// Whether `format_text` formats (the server advertises formatting only then).
pub const AVAILABLE: bool = true;

/// The text formatted as `policy fmt` writes it; `None` for a text the formatter refuses (one with
/// syntax errors, which the diagnostics already show).
pub fn format_text(text: &str) -> Option<String> {
    policy::syntax::format(text).ok()
}
