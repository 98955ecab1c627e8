//! The policy's regular-expression cues, matched without scanning each post once per pattern.
//!
//! Every match of a pattern starts with one of its *prefix literals* (`\b(court|judge)…`
//! starts with `court` or `judge`), which `regex-syntax` extracts. All patterns' prefix
//! literals go into one Aho-Corasick automaton; a pattern is only tried, anchored, where one
//! of its literals occurs. Patterns without usable prefix literals (empty, unbounded, or
//! non-ASCII ones, which ASCII case folding could miss) are run over the whole text.
//!
//! Most shipped patterns are two or three word groups within a window
//! (`\b(is|are|can)\b[^.\n]{0,40}\b(compliant|certified)`): their prefix literals are
//! common words, but every match also holds a literal of each later group. Those *required
//! literal sets* go into the same automaton, and a pattern is only tried on a post that holds
//! one literal of each of its sets. The one scan finds both.
//!
//! The gates are ASCII case-insensitive, like the patterns on ASCII text; a pattern whose
//! only match relies on a non-ASCII case variant of an ASCII letter (the Kelvin sign for
//! `k`) is missed.
//!
//! Why by hand: a `RegexSet` over the shipped patterns spends most of its time building lazy
//! DFA states for their bounded windows (`[^.\n]{0,50}`) on every new post, and one pass per
//! pattern costs 51 passes; neither crate offers literal-gated anchored matching of a set.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

/// Compiled patterns with their literal index.
#[derive(Debug)]
pub(crate) struct Patterns {
    regexes: Vec<Regex>,
    /// Every distinct gate literal (prefix or required), ASCII case-insensitively.
    literals: Option<AhoCorasick>,
    /// For each literal of `literals`, what finding it means.
    roles: Vec<Vec<Role>>,
    /// For each pattern, the required literal sets (ids) a post must all hold.
    required: Vec<Vec<usize>>,
    /// How many required literal sets there are.
    sets: usize,
    /// Patterns run over the whole text (still only when their required sets are held).
    ungated: Vec<usize>,
}

/// What an occurrence of a gate literal means.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// A place where this pattern may start.
    Start(usize),
    /// This required literal set is held by the post.
    Holds(usize),
}

/// What could not be built: a pattern (its index), or the literal automaton (`None`).
#[derive(Debug)]
pub(crate) struct BuildError {
    pub index: Option<usize>,
    pub message: String,
}

impl Patterns {
    /// Compiles the policy's patterns (already checked with `regex` as written),
    /// case-insensitively and with ASCII word boundaries.
    pub fn new(patterns: &[String]) -> Result<Patterns, BuildError> {
        let sources: Vec<String> = patterns.iter().map(|p| ascii_word_boundaries(p)).collect();
        let mut regexes = Vec::with_capacity(sources.len());
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut roles: Vec<Vec<Role>> = Vec::new();
        let mut add = |lit: Vec<u8>, role: Role| match literals.iter().position(|l| *l == lit) {
            Some(i) => roles[i].push(role),
            None => {
                literals.push(lit);
                roles.push(vec![role]);
            }
        };
        let mut required = Vec::with_capacity(sources.len());
        let mut sets = 0;
        let mut ungated = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            let re = Regex::builder()
                .syntax(syntax::Config::new().case_insensitive(true))
                .configure(
                    Regex::config().nfa_size_limit(Some(1 << 24)).hybrid_cache_capacity(1 << 24),
                )
                .build(source)
                .map_err(|e| BuildError { index: Some(index), message: e.to_string() })?;
            regexes.push(re);
            let prefix = prefix_literals(source);
            match &prefix {
                Some(lits) => lits.iter().for_each(|lit| add(lit.clone(), Role::Start(index))),
                None => ungated.push(index),
            }
            let mut ids = Vec::new();
            for set in required_literal_sets(source) {
                if prefix.as_ref() == Some(&set) {
                    continue;
                }
                set.into_iter().for_each(|lit| add(lit, Role::Holds(sets)));
                ids.push(sets);
                sets += 1;
            }
            required.push(ids);
        }
        let literals = if literals.is_empty() {
            None
        } else {
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&literals)
                .map_err(|e| BuildError { index: None, message: e.to_string() })?;
            Some(ac)
        };
        Ok(Patterns { regexes, literals, roles, required, sets, ungated })
    }

    /// How many patterns are tried only where their prefix literals occur.
    #[cfg(test)]
    pub fn gated(&self) -> usize {
        self.regexes.len() - self.ungated.len()
    }

    /// Calls `found(pattern, start, end)` at most once per pattern that matches `text`.
    pub fn find_each(&self, text: &str, mut found: impl FnMut(usize, usize, usize)) {
        let mut held = vec![false; self.sets];
        let mut starts: Vec<(usize, usize)> = Vec::new();
        if let Some(literals) = &self.literals {
            for m in literals.find_overlapping_iter(text) {
                for role in &self.roles[m.pattern().as_usize()] {
                    match *role {
                        Role::Start(index) => starts.push((index, m.start())),
                        Role::Holds(set) => held[set] = true,
                    }
                }
            }
        }
        let mut done = vec![false; self.regexes.len()];
        for (index, start) in starts {
            if done[index] || !self.required[index].iter().all(|&set| held[set]) {
                continue;
            }
            // The earliest match is enough: the cue counts once, and its evidence need not
            // run to the longest end.
            let input = Input::new(text).range(start..).anchored(Anchored::Yes).earliest(true);
            if let Some(hit) = self.regexes[index].find(input) {
                done[index] = true;
                found(index, hit.start(), hit.end());
            }
        }
        for &index in &self.ungated {
            if !self.required[index].iter().all(|&set| held[set]) {
                continue;
            }
            if let Some(hit) = self.regexes[index].find(text) {
                found(index, hit.start(), hit.end());
            }
        }
    }

    /// How many required literal sets the patterns have in all.
    #[cfg(test)]
    pub fn required_sets(&self) -> usize {
        self.sets
    }
}

/// Rewrites `\b` and `\B` outside character classes to their ASCII forms `(?-u:\b)` and
/// `(?-u:\B)`.
///
/// Why: the regex crate's fast engines (the lazy DFA behind `RegexSet`) give up on any
/// haystack with a non-ASCII byte when a pattern has a Unicode word boundary, and fall back
/// to the PikeVM, which made pattern matching two orders of magnitude slower on real posts
/// (curly quotes, emoji, accented names are everywhere). No option of the crate does this
/// rewrite. With ASCII boundaries a non-ASCII letter next to a pattern counts as a boundary;
/// `\w` and case folding stay Unicode. Phrases keep full Unicode boundaries (see
/// [`is_word_char`]).
fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut class_depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(b @ ('b' | 'B')) if class_depth == 0 && chars.peek() != Some(&'{') => {
                    out.push_str("(?-u:\\");
                    out.push(b);
                    out.push(')');
                }
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '[' => {
                class_depth += 1;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal member, not the end.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The literals every match of `pattern` starts with, lowercased; `None` when they cannot
/// gate it: not finite, an empty one (the pattern may match anywhere), or a non-ASCII one.
fn prefix_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    gate_literals(&hir)
}

/// For each part of the pattern's top-level sequence that every match goes through, the
/// literals that part's matches start with (as [`prefix_literals`] gives them): every
/// match holds one literal of each set. Parts without usable literals (windows like
/// `[^.\n]{0,40}`, `\w*`, word boundaries, optional parts) give no set.
fn required_literal_sets(pattern: &str) -> Vec<Vec<Vec<u8>>> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return Vec::new();
    };
    let HirKind::Concat(parts) = hir.kind() else {
        return Vec::new();
    };
    let mut sets: Vec<Vec<Vec<u8>>> = Vec::new();
    for part in parts {
        if let Some(set) = gate_literals(part) {
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
    }
    sets
}

/// The literals every match of `hir` starts with, lowercased and without one that starts
/// with another; `None` when they cannot gate it.
fn gate_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    let lits = seq.literals()?;
    if lits.is_empty() {
        return None;
    }
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(lits.len());
    for lit in lits {
        let bytes = lit.as_bytes();
        if bytes.is_empty() || !bytes.is_ascii() {
            return None;
        }
        let lower = bytes.to_ascii_lowercase();
        if !out.contains(&lower) {
            out.push(lower);
        }
    }
    // A literal that starts with another adds nothing: the shorter one finds the same spot.
    let all = out.clone();
    out.retain(|lit| !all.iter().any(|other| other.len() < lit.len() && lit.starts_with(other)));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_word_boundaries_become_ascii_outside_classes() {
        assert_eq!(ascii_word_boundaries(r"\bgdpr\b"), r"(?-u:\b)gdpr(?-u:\b)");
        assert_eq!(ascii_word_boundaries(r"\Bx[\w\]b]\\b"), r"(?-u:\B)x[\w\]b]\\b");
        assert_eq!(ascii_word_boundaries(r"[]b]\b{start}x"), r"[]b]\b{start}x");
        for p in [r"\bphones?\s+home\b", r"[^.\n]{0,50}\b(other|any)\b", r"\\b\b"] {
            let rewritten = ascii_word_boundaries(p);
            assert!(regex::Regex::new(&rewritten).is_ok(), "{p} → {rewritten}");
        }
        let re = regex::Regex::new(&ascii_word_boundaries(r"\bphones?\s+home\b")).unwrap();
        assert!(re.is_match("it “phones home”, then"));
        assert!(!re.is_match("microphones homework"));
    }

    #[test]
    fn prefix_literals_gate_alternations_and_not_open_patterns() {
        let lits = prefix_literals(r"(?-u:\b)(Court|judge)s?\s+order").unwrap();
        assert_eq!(lits, [b"court".to_vec(), b"judge".to_vec()]);
        assert_eq!(prefix_literals(r"\w+@example"), None, "starts anywhere");
        assert_eq!(prefix_literals(r"(a|)b?"), None, "may start with nothing");
        assert_eq!(prefix_literals(r"données"), None, "non-ASCII: case folding could miss it");
    }

    #[test]
    fn required_sets_come_from_the_mandatory_parts_of_a_sequence() {
        let sets = required_literal_sets(r"\b(is|are)\b[^.\n]{0,40}\b(Compliant|certified)\w*(x)?");
        let lits = |words: &[&str]| words.iter().map(|w| w.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(sets, [lits(&["is", "are"]), lits(&["compliant", "certified"])]);
        assert!(required_literal_sets(r"a|b").is_empty(), "an alternation is not a sequence");
        let patterns = Patterns::new(&[r"\b(is|are)\b[^.\n]{0,40}\bcompliant".into()]).unwrap();
        let mut got = Vec::new();
        patterns.find_each("Is it compliant? It is.", |i, s, e| got.push((i, s, e)));
        assert_eq!(got, [(0, 0, 15)]);
        got.clear();
        patterns.find_each("it is what it is", |i, s, e| got.push((i, s, e)));
        assert!(got.is_empty());
    }

    /// The example policy's patterns, as written.
    fn shipped_patterns() -> Vec<String> {
        let src = include_str!("../../../examples/policy.toml");
        let (policy, _) = steward_policy::parse(src).valid().expect("the example policy");
        policy
            .topics
            .iter()
            .flat_map(|t| t.cues.iter().flat_map(|c| c.patterns.iter()))
            .cloned()
            .collect()
    }

    #[test]
    fn the_shipped_patterns_are_gated() {
        let sources = shipped_patterns();
        let patterns = Patterns::new(&sources).unwrap();
        eprintln!(
            "{} of {} patterns gated, {} required literal sets",
            patterns.gated(),
            sources.len(),
            patterns.required_sets()
        );
        assert!(
            patterns.gated() * 10 >= sources.len() * 9,
            "{} of {}",
            patterns.gated(),
            sources.len()
        );
        assert!(patterns.required_sets() >= sources.len(), "most window patterns have a set");
    }

    /// On every post of the shipped labeled set, each shipped pattern is found by the gated
    /// matcher exactly when a plain case-insensitive search finds it.
    #[test]
    fn gated_matching_agrees_with_plain_search_on_the_labeled_posts() {
        let sources = shipped_patterns();
        let patterns = Patterns::new(&sources).unwrap();
        let plain: Vec<regex::Regex> = sources
            .iter()
            .map(|p| {
                regex::RegexBuilder::new(&ascii_word_boundaries(p))
                    .case_insensitive(true)
                    .build()
                    .unwrap()
            })
            .collect();
        let mut hits = 0;
        for line in crate::labeled::BUILTIN_JSONL.lines() {
            let post: serde_json::Value = serde_json::from_str(line).unwrap();
            for field in ["title", "body"] {
                let text = post[field].as_str().unwrap_or_default();
                let mut got = vec![false; sources.len()];
                patterns.find_each(text, |i, _, _| got[i] = true);
                let want: Vec<bool> = plain.iter().map(|re| re.is_match(text)).collect();
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(g, w, "pattern {} on {:?}", sources[i], post["id"]);
                }
                hits += want.iter().filter(|w| **w).count();
            }
        }
        assert!(hits > 100, "the patterns match the labeled posts often enough ({hits})");
    }

    #[test]
    fn gated_matching_finds_what_a_plain_search_finds() {
        let sources: Vec<String> = [
            r"\b(see|view)\w*\b[^.\n]{0,50}\bother\s+users?\b",
            r"\b(court|judge)\s+order",
            r"\d{3}-\d{4}",
        ]
        .map(String::from)
        .to_vec();
        let patterns = Patterns::new(&sources).unwrap();
        assert_eq!(patterns.gated(), 2);
        let text = "A COURT ORDER came; I can view the files of other users. Call 555-1234. \
                    oversee nothing; judges order";
        let mut got = Vec::new();
        patterns.find_each(text, |i, s, e| got.push((i, &text[s..e])));
        got.sort();
        assert_eq!(
            got,
            [(0, "view the files of other users"), (1, "COURT ORDER"), (2, "555-1234")]
        );
        // `oversee` holds `see` but not at a word boundary; nothing else matches.
        let mut none = Vec::new();
        patterns.find_each("oversee the judgement", |i, _, _| none.push(i));
        assert!(none.is_empty(), "{none:?}");
    }
}
