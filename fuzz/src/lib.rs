//! What the fuzz targets share: the shipped policies (loaded once, with their calendars), the shipped
//! calendars, and the request time used when an order gives none.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use policy::calendar::Calendars;
use policy::Policy;

/// Every (policy, action) pair the shipped policies offer, in a fixed order: the first input byte of the
/// order and batch targets picks one (modulo the length). `fuzz/seed.sh` uses the same numbering.
pub const ACTIONS: [(&str, &str); 6] = [
    ("alibaba-cms-refund-2026", "refund"),
    ("alibaba-ssl-refund-legacy", "refund"),
    ("alibaba-ssl-revoke", "revoke"),
    ("alibaba-ssl-revoke", "delete"),
    ("huawei-scm-unsubscribe", "refund"),
    ("huawei-scm-withdraw", "withdraw"),
];

/// The request time of an order without `requested_at`.
pub const DEFAULT_NOW: &str = "2025-06-01T12:00:00+08:00";

fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// The shipped policy and action that `selector` picks, loaded once per process.
pub fn shipped(selector: u8) -> (&'static Policy, &'static str) {
    static POLICIES: OnceLock<Vec<Policy>> = OnceLock::new();
    let policies = POLICIES.get_or_init(|| {
        ACTIONS
            .iter()
            .map(|(name, _)| {
                let path = policies_dir().join(format!("{name}.policy"));
                match Policy::load(&path) {
                    Ok(policy) => policy,
                    Err(e) => panic!("cannot load shipped policy {}: {e}", path.display()),
                }
            })
            .collect()
    });
    let i = usize::from(selector) % ACTIONS.len();
    (&policies[i], ACTIONS[i].1)
}

/// The shipped calendars (`policies/calendars/`), so fuzzed policies may name `calendar cn`.
pub fn calendars() -> &'static Calendars {
    static CALENDARS: OnceLock<Calendars> = OnceLock::new();
    CALENDARS.get_or_init(|| {
        match policy::files::load_calendars(&policies_dir().join("calendars")).complete() {
            Ok(c) => c,
            Err(e) => panic!("cannot load shipped calendars: {e}"),
        }
    })
}

/// `DEFAULT_NOW` as the evaluator's request time. The one place that knows the time type.
pub fn default_now() -> policy::Instant {
    match policy::eval::parse_time(DEFAULT_NOW) {
        Ok(t) => t,
        Err(e) => panic!("bad DEFAULT_NOW: {e}"),
    }
}

/// Renders `diagnostic` both ways the CLI does (miette's graphical report, and plain text): rendering is
/// part of what `policy check` does with any input, so it must not panic either.
pub fn render(diagnostic: &policy::diagnostics::Diagnostic, file: &policy::source::SourceFile) {
    let mut out = String::new();
    let handler = miette::GraphicalReportHandler::new()
        .with_wrap_lines(false)
        .with_links(false);
    let _ = handler.render_report(&mut out, &diagnostic.in_file(file));
    let _ = diagnostic.render_plain(file);
    let _ = diagnostic.one_line(file);
}

/// Runs `one` on `data` as text, on a thread with a `stack`-byte stack: the library's recursion must
/// not depend on its caller's stack size, and a host may well call it from a thread of its own. Input
/// over `max_bytes` (the time budget) or not UTF-8 is skipped. A panic on the worker aborts the process
/// (libFuzzer's panic hook), so joining is enough; out of threads, `one` runs here rather than report
/// a failure of the machine.
pub fn on_text_thread(data: &[u8], max_bytes: usize, stack: usize, one: impl Fn(&str) + Sync) {
    if data.len() > max_bytes {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .stack_size(stack)
            .spawn_scoped(scope, || one(text))
        {
            Ok(worker) => {
                let _ = worker.join();
            }
            Err(_) => one(text),
        }
    });
}
