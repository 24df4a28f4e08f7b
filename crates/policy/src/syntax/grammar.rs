//! The pest grammar (`grammar/policy.pest`), derived into `PolicyParser` and its `Rule`s.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/policy.pest"]
pub(super) struct PolicyParser;
