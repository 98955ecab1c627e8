//! Checking a draft response against the policy's response-writing tips.
//!
//! Each [`Tip`] of the policy may name patterns a draft must `avoid` (every match is a
//! finding that points at the words), patterns of which it must `require` at least one (one
//! finding at 1:1 when none matches), and a built-in `check`: `"personal_data"` reports
//! everything the [`Redactor`] would redact, honouring the policy's `allow_domains`.
//!
//! ```text
//! 3:14: no_false_promises: sets an expectation the team may not meet: "we'll add" (Don't make false promises or assumptions)
//! ```

use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::Serialize;
use steward_policy::{Policy, Tip};

use crate::redact::Redactor;

/// The built-in check that reports personal data.
pub const PERSONAL_DATA: &str = "personal_data";

/// Why a linter could not be built from a policy.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("tip `{tip}`: bad pattern `{pattern}`: {source}")]
    Pattern {
        tip: String,
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("tip `{tip}`: unknown check `{check}` (known: `personal_data`)")]
    UnknownCheck { tip: String, check: String },
}

/// One way a draft goes against a tip, pointing at the words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    /// The tip's id.
    pub rule: String,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column of `start`, in characters.
    pub col: usize,
    /// Byte range of the offending words; empty at 0 when something required is missing.
    pub start: usize,
    pub end: usize,
    pub message: String,
}

impl fmt::Display for LintFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.line, self.col, self.rule, self.message)
    }
}

#[derive(Debug, Clone)]
struct Rule {
    id: String,
    title: String,
    avoid: Vec<Regex>,
    require: Vec<Regex>,
    personal_data: bool,
}

/// Checks drafts against a policy's tips. Build it once per policy.
#[derive(Debug, Clone)]
pub struct Linter {
    rules: Vec<Rule>,
    redactor: Redactor,
}

impl Linter {
    /// Compiles every tip's patterns (case-insensitive).
    pub fn new(policy: &Policy) -> Result<Linter, LintError> {
        let rules = policy.tips.iter().map(compile).collect::<Result<_, _>>()?;
        Ok(Linter { rules, redactor: Redactor::new(&policy.allow_domains) })
    }

    /// Every finding in `draft`, ordered by position, then by tip order.
    pub fn check(&self, draft: &str) -> Vec<LintFinding> {
        let lines = LineIndex::new(draft);
        let mut out = Vec::new();
        for (order, rule) in self.rules.iter().enumerate() {
            let mut push = |start: usize, end: usize, message: String| {
                let (line, col) = lines.position(draft, start);
                out.push((
                    order,
                    LintFinding { rule: rule.id.clone(), line, col, start, end, message },
                ));
            };
            let mut spans: Vec<(usize, usize)> = rule
                .avoid
                .iter()
                .flat_map(|re| re.find_iter(draft).map(|m| (m.start(), m.end())))
                .filter(|(s, e)| s < e)
                .collect();
            spans.sort_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
            let mut last_end = 0;
            for (s, e) in spans {
                if s < last_end {
                    continue;
                }
                last_end = e;
                push(s, e, avoid_message(rule, &draft[s..e]));
            }
            if !rule.require.is_empty() && !rule.require.iter().any(|re| re.is_match(draft)) {
                push(0, 0, require_message(rule));
            }
            if rule.personal_data {
                for (kind, r) in self.redactor.find(draft) {
                    let message =
                        format!("contains personal data ({kind}): remove it before posting");
                    push(r.start, r.end, message);
                }
            }
        }
        out.sort_by_key(|(order, f)| (f.start, *order));
        out.into_iter().map(|(_, f)| f).collect()
    }
}

fn compile(tip: &Tip) -> Result<Rule, LintError> {
    let build = |pattern: &String| {
        RegexBuilder::new(pattern).case_insensitive(true).build().map_err(|e| LintError::Pattern {
            tip: tip.id.clone(),
            pattern: pattern.clone(),
            source: Box::new(e),
        })
    };
    let personal_data = match tip.check.as_deref() {
        None => false,
        Some(PERSONAL_DATA) => true,
        Some(other) => {
            return Err(LintError::UnknownCheck { tip: tip.id.clone(), check: other.to_string() })
        }
    };
    Ok(Rule {
        id: tip.id.clone(),
        title: tip.title.clone(),
        avoid: tip.avoid.iter().map(build).collect::<Result<_, _>>()?,
        require: tip.require.iter().map(build).collect::<Result<_, _>>()?,
        personal_data,
    })
}

/// What an `avoid` match means, for the tips of the shipped policy; a plain wording for
/// any other tip.
fn avoid_message(rule: &Rule, words: &str) -> String {
    let what = match rule.id.as_str() {
        "no_false_promises" => "sets an expectation the team may not meet",
        "positivity" => "sounds like an excuse",
        "no_opinions" => "states a personal opinion",
        _ => "goes against this tip",
    };
    format!("{what}: \"{words}\" ({})", rule.title)
}

/// What a missing `require` means, for the tips of the shipped policy; a plain wording
/// for any other tip.
fn require_message(rule: &Rule) -> String {
    let what = match rule.id.as_str() {
        "link_documentation" => "links no documentation",
        "be_thankful" => "does not thank the person",
        _ => "contains none of the required wording",
    };
    format!("{what} ({})", rule.title)
}

/// Byte offsets of line starts, to turn an offset into a 1-based line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// Line and column (in characters) of byte `offset`, which is on a char boundary.
    fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = text.get(start..offset).map_or(0, |s| s.chars().count());
        (line, col + 1)
    }
}
