//! Refund and lifecycle policies written as code: load a `.policy` file, decide orders with it, and
//! say why and until when.
//!
//! Inside, one pipeline: parse (text to syntax tree) -> check (names, types, units, optionals, into a
//! typed form) -> compile (by action and rule, deadline edges solved) -> evaluate (orders in, decisions
//! out). [`Policy`] is all of it for a host; [`PolicySet`] serves a folder of them and reloads it. The
//! `policy` command line is a thin crate over this one.
//!
//! Features: `files` (reading policies, calendars and folders: [`Policy::load`], [`PolicySet`]) and
//! `threads` (batch workers), both on by default.
//!
//! ```
//! use policy::{Instant, Policy};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))?;
//! let policy = Policy::load("policies/alibaba-ssl-refund-legacy.policy".as_ref())?; // its calendars too
//! let order = policy.read_order_str(
//!     r#"{"id":"o-1","paid_at":"2026-02-10T10:00:00+08:00","price":"199.00","status":"verifying"}"#,
//! )?;
//! let decision = policy.decide("refund", &order, Instant::parse("2026-02-16T09:00:00+08:00")?)?;
//! assert_eq!(decision.review_by.map(|d| d.to_string()), Some("2026-03-13".into()));
//! assert!(decision.to_json().starts_with(r#"{"order":"o-1","policy":"alibaba-ssl-refund-legacy""#));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]
#![expect(
    clippy::result_large_err,
    reason = "diagnostics travel only on the error path, where their size costs nothing"
)]

pub mod analysis;
pub mod batch;
pub mod calendar;
mod check;
mod compile;
pub mod contract;
pub mod diagnostics;
pub mod eval;
#[cfg(feature = "files")]
pub mod files;
mod imports;
#[cfg(feature = "files")]
pub mod registry;
pub mod report;
pub mod source;
pub mod suppression;
pub mod symbols;
pub mod syntax;
pub mod time;
mod value;
pub mod versions;
mod zone;

pub use contract::{Decision, Outcome, Text, ZonedInstant};
pub use eval::Explanation;
pub use eval::{LoadError, LoadErrorKind, Order, OrderError, OrderErrorKind, Policy};
#[cfg(feature = "files")]
pub use registry::{PolicySet, PolicySetBuilder, ReloadReport, SetError, SetProblem, Snapshot};
pub use time::Instant;
pub use versions::{Versions, VersionsError};
