//! Formatting: the one hook where `policy fmt`'s formatter plugs in.
//!
//! NOT AVAILABLE YET: the library has no formatting function in this build, so the server does not
//! advertise `documentFormattingProvider` and answers a formatting request with an error. Wiring the
//! formatter is two lines: make `format_text` call it and set `AVAILABLE` to true.

/// Whether `format_text` formats (the server advertises formatting only then).
pub const AVAILABLE: bool = false;

/// The text formatted as `policy fmt` writes it; `None` while no formatter is available (or for a text
/// the formatter refuses, such as one that does not parse).
pub fn format_text(_text: &str) -> Option<String> {
    None
}
