//! Refund and lifecycle policies written as code.
//!
//! The pipeline: `syntax::parse` (text to AST) -> `check::check` (names, types, units, optionals) ->
//! `compile::compile` (deadline edges solved, ready to run) -> `eval` (orders in, decisions out).
//! `Policy` ties them together for host applications; the `policy` binary is a thin CLI over it.

#![expect(
    clippy::result_large_err,
    reason = "diagnostics travel only on the error path, where their size costs nothing"
)]

pub mod analysis;
pub mod batch;
pub mod calendar;
pub mod check;
pub mod cli;
pub mod compile;
pub mod diagnostics;
pub mod eval;
pub mod source;
pub mod syntax;
pub mod value;
pub mod zone;

pub use eval::{Decision, LoadError, Order, OrderError, Outcome, Policy};
