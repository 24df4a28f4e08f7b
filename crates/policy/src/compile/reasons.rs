//! A rule's reasons as its decisions carry them: built once when the policy is compiled, shared by
//! every decision.

use std::sync::Arc;

/// A decision's reasons: the texts, and their JSON array escaped once when the policy is compiled.
#[derive(Debug, Clone)]
pub struct Reasons(Arc<ReasonsInner>);

#[derive(Debug)]
struct ReasonsInner {
    texts: Box<[String]>,
    json: Box<str>,
}

impl Reasons {
    pub fn new(texts: Vec<String>) -> Reasons {
        let json = serde_json::to_string(&texts).unwrap_or_else(|_| "[]".to_string());
        Reasons(Arc::new(ReasonsInner {
            texts: texts.into_boxed_slice(),
            json: json.into_boxed_str(),
        }))
    }

    /// The texts as a JSON array, escaped.
    pub fn json(&self) -> &str {
        &self.0.json
    }
}

impl std::ops::Deref for Reasons {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0.texts
    }
}

impl PartialEq for Reasons {
    fn eq(&self, other: &Self) -> bool {
        self.0.texts == other.0.texts
    }
}
