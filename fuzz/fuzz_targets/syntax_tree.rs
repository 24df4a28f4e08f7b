//! The lossless tree and the formatter (`policy::syntax::tree`): whatever the text, parsing gives it
//! back byte for byte, and the new parser accepts exactly what the engine's pest grammar accepts; when
//! a text parses, formatting it succeeds, is idempotent, and the result parses too.
//! Nothing may panic, abort or hang.
//!
//! Run on a thread with a `STACK` stack, as `policy_text`: the parser's recursion is bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy::syntax::tree as syntax;
use policy_fuzz::on_text_thread;

const MAX_BYTES: usize = 100_000;
const STACK: usize = 256 * 1024;

fuzz_target!(|data: &[u8]| on_text_thread(data, MAX_BYTES, STACK, one));

fn one(text: &str) {
    let parsed = syntax::parse(text);
    assert_eq!(parsed.root.text(text), text, "the tree lost text");
    let engine_rejects = policy::syntax::check_syntax(text).err().is_some_and(|ds| {
        ds.iter().any(|d| {
            d.code == "policy::parse::syntax"
                || d.code == "policy::parse::too_large"
                || (d.code == "policy::parse::too_deep" && !d.message.starts_with("this expression"))
        })
    });
    assert_eq!(
        parsed.errors.is_empty(),
        !engine_rejects,
        "the tree and the engine disagree: {:?}",
        parsed.errors
    );
    if parsed.errors.is_empty() {
        match syntax::format(text) {
            Ok(once) => {
                assert_eq!(syntax::format(&once).as_deref(), Ok(once.as_str()), "not idempotent");
            }
            Err(errors) => panic!("a text that parses does not format: {errors:?}"),
        }
    }
}
