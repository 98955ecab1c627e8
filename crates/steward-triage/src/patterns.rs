//! The policy's regular-expression cues, matched without scanning each post once per pattern.
//!
//! Nearly every pattern begins with a word boundary and a group of words
//! (`\b(court|judge)…`): every match starts, at a word start, with one of its *prefix
//! literals* (`court`, `judge`), which `regex-syntax` extracts. These *gate literals* are
//! not searched for here: they join the policy's phrases in the one trie that the
//! classifier walks from each word start (see `phrases`), which hands their occurrences
//! back. A pattern is only tried, anchored, where one of its prefix literals occurs.
//! Patterns without usable prefix literals (no leading `\b`, empty, unbounded, non-ASCII,
//! or beginning with a non-word character) are run over the whole text.
//!
//! Most shipped patterns are two or three word groups within a window
//! (`\b(is|are|can)\b[^.\n]{0,40}\b(compliant|certified)`): their prefix literals are
//! common words, but every match also holds a literal of each later group. Those *required
//! literal sets* are gate literals too; a pattern is only tried at a start that has a
//! literal of each of its sets after it, within the longest span a match can have, and
//! before the next sentence end (`.`, `?`, newline) that no match of it can hold.
//!
//! The gates are ASCII case-insensitive, like the patterns on ASCII text; a pattern whose
//! only match relies on a non-ASCII case variant of an ASCII letter (the Kelvin sign for
//! `k`) is missed.
//!
//! Why by hand: a `RegexSet` over the shipped patterns spends most of its time building lazy
//! DFA states for their bounded windows (`[^.\n]{0,50}`) on every new post, and one pass per
//! pattern costs 51 passes; neither crate offers literal-gated anchored matching of a set.

use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Compiled patterns with their gate literals.
#[derive(Debug)]
pub(crate) struct Patterns {
    regexes: Vec<Regex>,
    /// The most bytes a match of each pattern spans (`None`: unbounded).
    max_len: Vec<Option<usize>>,
    /// Every distinct gate literal (prefix or required), lower case, each beginning with an
    /// ASCII word character and found only at ASCII word starts (see the module docs).
    literals: Vec<Vec<u8>>,
    /// For each literal of `literals`, the patterns that may start where it occurs.
    starts: Lists,
    /// For each literal of `literals`, the required literal sets it belongs to.
    holds: Lists,
    /// For each pattern, its required literal sets (ids) with their reach: a start is tried
    /// only when each set occurs after it, no further than its reach and the pattern's
    /// `max_len`.
    required: Vec<Vec<(usize, usize)>>,
    /// Patterns run over the whole text (still only when their required sets are held).
    ungated: Vec<usize>,
    /// How many required literal sets there are.
    sets: usize,
    /// For each pattern, which of [`BARRIERS`] no match of it can hold (a bit each): a match
    /// ends before the first of them after its start, and so must its required literals.
    barriers: Vec<u8>,
}

/// Sentence ends that most window patterns (`[^.\n]{0,40}`) cannot match across. A start
/// whose required literals lie only past the next of them (in a later sentence) is not
/// tried: on real posts this drops about two thirds of the tries, each a walk of the
/// pattern's lazy DFA over its whole window.
const BARRIERS: [u8; 3] = [b'.', b'\n', b'?'];

/// Per thread, reused from post to post by [`Patterns::find_each`].
#[derive(Default)]
struct Scratch {
    next: Vec<usize>,
    /// Where the field's [`BARRIERS`] are, in order, with which of them each is.
    bars: Vec<(usize, usize)>,
    /// (pattern, start) worth trying, last first.
    tries: Vec<(usize, usize)>,
    done: Vec<bool>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// A list of numbers for each index, kept in one allocation: the hot loop over a post's
/// literal occurrences reads one slice per occurrence, not a pointer to a vector.
#[derive(Debug, Default)]
struct Lists {
    /// Where the list of index `i` starts in `items` (`i + 1`: where it ends).
    offsets: Vec<usize>,
    items: Vec<usize>,
}

impl Lists {
    fn new(lists: Vec<Vec<usize>>) -> Lists {
        let mut out = Lists { offsets: vec![0], items: Vec::new() };
        for list in lists {
            out.items.extend(list);
            out.offsets.push(out.items.len());
        }
        out
    }

    fn get(&self, i: usize) -> &[usize] {
        &self.items[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// A pattern that could not be compiled: its index, and why.
#[derive(Debug)]
pub(crate) struct BuildError {
    pub index: usize,
    pub message: String,
}

impl Patterns {
    /// Compiles the policy's patterns (already checked with `regex` as written),
    /// case-insensitively and with ASCII word boundaries.
    pub fn new(patterns: &[String]) -> Result<Patterns, BuildError> {
        let sources: Vec<String> = patterns.iter().map(|p| ascii_word_boundaries(p)).collect();
        let mut regexes = Vec::with_capacity(sources.len());
        let mut max_len = Vec::with_capacity(sources.len());
        let mut literals: Vec<Vec<u8>> = Vec::new();
        // By literal: the patterns that may start where it occurs, the sets it belongs to.
        let (mut starts, mut holds): (Vec<Vec<usize>>, Vec<Vec<usize>>) = Default::default();
        let mut required = Vec::with_capacity(sources.len());
        let mut barriers = Vec::with_capacity(sources.len());
        let mut sets = 0;
        let mut ungated = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            let re = Regex::builder()
                .syntax(syntax::Config::new().case_insensitive(true))
                .configure(
                    Regex::config().nfa_size_limit(Some(1 << 24)).hybrid_cache_capacity(1 << 24),
                )
                .build(source)
                .map_err(|e| BuildError { index, message: e.to_string() })?;
            regexes.push(re);
            let gates = Gates::of(source);
            max_len.push(gates.max_len);
            barriers.push(gates.barriers);
            match &gates.start {
                Some(lits) => {
                    for lit in lits {
                        add(&mut starts, intern(&mut literals, lit), index);
                    }
                }
                None => ungated.push(index),
            }
            let mut ids = Vec::new();
            for (set, reach) in gates.required {
                if gates.start.as_ref() == Some(&set) {
                    continue;
                }
                for lit in &set {
                    add(&mut holds, intern(&mut literals, lit), sets);
                }
                ids.push((sets, reach.unwrap_or(usize::MAX)));
                sets += 1;
            }
            required.push(ids);
        }
        starts.resize(literals.len(), Vec::new());
        holds.resize(literals.len(), Vec::new());
        Ok(Patterns {
            regexes,
            max_len,
            literals,
            starts: Lists::new(starts),
            holds: Lists::new(holds),
            required,
            ungated,
            sets,
            barriers,
        })
    }

    /// The gate literals, to be found at ASCII word starts by the caller's scan and handed
    /// back to [`Patterns::find_each`] by their index here.
    pub fn literals(&self) -> &[Vec<u8>] {
        &self.literals
    }

    /// How many patterns are tried only where their prefix literals occur.
    #[cfg(test)]
    pub fn gated(&self) -> usize {
        self.regexes.len() - self.ungated.len()
    }

    /// Calls `found(pattern, start, end)` at most once per pattern that matches `text`.
    /// `hits` are the occurrences `(literal, start)` of [`Patterns::literals`] at the ASCII
    /// word starts of `text` (every one of them), in order of start.
    pub fn find_each(
        &self,
        text: &str,
        hits: &[(usize, usize)],
        mut found: impl FnMut(usize, usize, usize),
    ) {
        if hits.is_empty() && self.ungated.is_empty() {
            return;
        }
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            self.gate(text, hits, &mut scratch);
            let Scratch { next, tries, done, .. } = &mut *scratch;
            done.clear();
            done.resize(self.regexes.len(), false);
            for &(index, start) in tries.iter().rev() {
                if done[index] {
                    continue;
                }
                // The earliest match is enough: the cue counts once, and its evidence need
                // not run to the longest end.
                let input = Input::new(text).range(start..).anchored(Anchored::Yes).earliest(true);
                if let Some(hit) = self.regexes[index].find(input) {
                    done[index] = true;
                    found(index, hit.start(), hit.end());
                }
            }
            for &index in &self.ungated {
                if !self.required[index].iter().all(|&(set, _)| next[set] != usize::MAX) {
                    continue;
                }
                if let Some(hit) = self.regexes[index].find(text) {
                    found(index, hit.start(), hit.end());
                }
            }
        });
    }

    /// The gate: fills `scratch.tries` with the `(pattern, start)` worth trying, last
    /// first, and `scratch.next[set]` with where each required set first occurs
    /// (`usize::MAX`: nowhere).
    fn gate(&self, text: &str, hits: &[(usize, usize)], scratch: &mut Scratch) {
        let Scratch { next, bars, tries, .. } = scratch;
        bars.clear();
        let [a, b, c] = BARRIERS;
        bars.extend(memchr::memchr3_iter(a, b, c, text.as_bytes()).map(|at| {
            let byte = text.as_bytes()[at];
            (at, BARRIERS.iter().position(|&x| x == byte).unwrap_or_default())
        }));
        // The nearest place at or after the current one of each barrier.
        let mut next_bar = [usize::MAX; BARRIERS.len()];
        let mut b = bars.len();
        // From the last hit back to the first: `next[set]` is the nearest place at or
        // after the current one where the required set occurs, so whether a start has
        // each of its sets within reach is a lookup per set (no sort, no search).
        next.clear();
        next.resize(self.sets, usize::MAX);
        tries.clear();
        let mut i = hits.len();
        while i > 0 {
            let at = hits[i - 1].1;
            let mut j = i - 1;
            while j > 0 && hits[j - 1].1 == at {
                j -= 1;
            }
            while b > 0 && bars[b - 1].0 >= at {
                b -= 1;
                let (place, which) = bars[b];
                next_bar[which] = place;
            }
            for &(literal, _) in &hits[j..i] {
                for &set in self.holds.get(literal) {
                    next[set] = at;
                }
            }
            // Pushed backwards, so that the list reversed is in the order of `hits`.
            for &(literal, start) in hits[j..i].iter().rev() {
                for &index in self.starts.get(literal).iter().rev() {
                    // Every match holds a literal of each required set after its start,
                    // within its longest span and before the first barrier it cannot
                    // cross: otherwise there is nothing to try.
                    let mut end =
                        self.max_len[index].map_or(usize::MAX, |n| start.saturating_add(n));
                    for (k, &place) in next_bar.iter().enumerate() {
                        if self.barriers[index] & (1 << k) != 0 {
                            end = end.min(place);
                        }
                    }
                    let held = |&(set, reach): &(usize, usize)| {
                        next[set] < end && next[set] - start <= reach
                    };
                    if self.required[index].iter().all(held) {
                        tries.push((index, start));
                    }
                }
            }
            i = j;
        }
    }

    /// How many required literal sets the patterns have in all.
    #[cfg(test)]
    pub fn required_sets(&self) -> usize {
        // Each set belongs to one pattern.
        self.required.iter().map(Vec::len).sum()
    }
}

/// The index of `lit` in `literals`, added when new.
fn intern(literals: &mut Vec<Vec<u8>>, lit: &[u8]) -> usize {
    literals.iter().position(|l| l == lit).unwrap_or_else(|| {
        literals.push(lit.to_vec());
        literals.len() - 1
    })
}

/// Adds `item` to the list of index `i`.
fn add(lists: &mut Vec<Vec<usize>>, i: usize, item: usize) {
    if lists.len() <= i {
        lists.resize(i + 1, Vec::new());
    }
    lists[i].push(item);
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

/// What gates a pattern, read from its syntax.
#[derive(Debug, Default)]
struct Gates {
    /// The literals every match starts with, each at an ASCII word start; `None` when they
    /// cannot gate it: the pattern does not begin with `\b`, or its literals are not finite,
    /// empty (it may match anywhere), non-ASCII, or begin with a non-word character.
    start: Option<Vec<Vec<u8>>>,
    /// For each part of the pattern's top-level sequence that every match goes through and
    /// that follows a `\b`, the literals that part's matches start with: every match holds
    /// one literal of each set, at an ASCII word start. Parts without usable literals
    /// (windows like `[^.\n]{0,40}`, `\w*`, optional parts) give no set. With each set, its
    /// reach: the most bytes its literal can start after the start of a match (`None`:
    /// unbounded).
    required: Vec<(Vec<Vec<u8>>, Option<usize>)>,
    /// The most bytes a match spans.
    max_len: Option<usize>,
    /// Which of [`BARRIERS`] no match can hold, a bit each.
    barriers: u8,
}

impl Gates {
    fn of(pattern: &str) -> Gates {
        let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
            return Gates::default();
        };
        let max_len = hir.properties().maximum_len();
        let barriers = BARRIERS
            .iter()
            .enumerate()
            .filter(|(_, &b)| !may_hold(&hir, b))
            .fold(0, |bits, (k, _)| bits | 1 << k);
        let HirKind::Concat(parts) = hir.kind() else {
            return Gates { max_len, barriers, ..Gates::default() };
        };
        let start = match parts.first() {
            Some(first) if is_word_boundary(first) => word_start_literals(&hir),
            _ => None,
        };
        let mut required: Vec<(Vec<Vec<u8>>, Option<usize>)> = Vec::new();
        // The most bytes the parts before the current one span.
        let mut before = Some(0usize);
        for pair in parts.windows(2) {
            before = before.zip(pair[0].properties().maximum_len()).map(|(a, b)| a + b);
            if !(is_word_boundary(&pair[0]) || ends_with_non_word(&pair[0])) {
                continue;
            }
            if let Some(set) = word_start_literals(&pair[1]) {
                // A set that recurs further on is held within the first reach already.
                if !required.iter().any(|(s, _)| *s == set) {
                    required.push((set, before));
                }
            }
        }
        Gates { start, required, max_len, barriers }
    }
}

/// Whether a match of `hir` may hold the ASCII byte `b`.
fn may_hold(hir: &Hir, b: u8) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(lit) => lit.0.contains(&b),
        HirKind::Class(Class::Unicode(class)) => {
            class.ranges().iter().any(|r| (r.start()..=r.end()).contains(&char::from(b)))
        }
        HirKind::Class(Class::Bytes(class)) => {
            class.ranges().iter().any(|r| (r.start()..=r.end()).contains(&b))
        }
        HirKind::Repetition(rep) => rep.max != Some(0) && may_hold(&rep.sub, b),
        HirKind::Capture(cap) => may_hold(&cap.sub, b),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            parts.iter().any(|p| may_hold(p, b))
        }
    }
}

/// Whether every match of `hir` is non-empty and ends with a character that is not an ASCII
/// word character (`\s+`, `[- ]`, `'`): what follows starts at an ASCII word start, as after
/// a `\b`.
fn ends_with_non_word(hir: &Hir) -> bool {
    let word =
        |c: u32| c < 0x80 && (c as u8 as char).is_ascii_alphanumeric() || c == u32::from(b'_');
    match hir.kind() {
        HirKind::Literal(lit) => lit.0.last().is_some_and(|&b| !word(u32::from(b))),
        HirKind::Class(Class::Unicode(class)) => {
            !class.ranges().is_empty()
                && class
                    .ranges()
                    .iter()
                    .all(|r| (r.start() as u32..=r.end() as u32).all(|c| !word(c) || c > 0x7f))
        }
        HirKind::Class(Class::Bytes(class)) => {
            !class.ranges().is_empty()
                && class
                    .ranges()
                    .iter()
                    .all(|r| (u32::from(r.start())..=u32::from(r.end())).all(|c| !word(c)))
        }
        HirKind::Repetition(rep) => rep.min >= 1 && ends_with_non_word(&rep.sub),
        HirKind::Capture(cap) => ends_with_non_word(&cap.sub),
        HirKind::Concat(parts) => parts.last().is_some_and(ends_with_non_word),
        HirKind::Alternation(alts) => alts.iter().all(ends_with_non_word),
        HirKind::Empty | HirKind::Look(_) => false,
    }
}

fn is_word_boundary(hir: &Hir) -> bool {
    matches!(hir.kind(), HirKind::Look(Look::WordAscii | Look::WordUnicode))
}

/// [`gate_literals`] when each begins with an ASCII word character: after a `\b`, such a
/// literal starts where the character before is not an ASCII word character.
fn word_start_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let lits = gate_literals(hir)?;
    lits.iter()
        .all(|l| l.first().is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_'))
        .then_some(lits)
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

    /// The occurrences of the gate literals at ASCII word starts, found the plain way.
    pub(crate) fn literal_hits(patterns: &Patterns, text: &str) -> Vec<(usize, usize)> {
        let b = text.as_bytes();
        let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
        let mut hits = Vec::new();
        for at in 0..b.len() {
            if !word(b[at]) || (at > 0 && word(b[at - 1])) {
                continue;
            }
            for (i, lit) in patterns.literals().iter().enumerate() {
                if b[at..].len() >= lit.len() && b[at..at + lit.len()].eq_ignore_ascii_case(lit) {
                    hits.push((i, at));
                }
            }
        }
        hits.sort_by_key(|&(i, at)| (at, patterns.literals()[i].len()));
        hits
    }

    /// The `(pattern, start)` the gate lets through, in order of start.
    fn tries(patterns: &Patterns, text: &str) -> Vec<(usize, usize)> {
        let mut scratch = Scratch::default();
        patterns.gate(text, &literal_hits(patterns, text), &mut scratch);
        scratch.tries.reverse();
        scratch.tries
    }

    fn find_all(patterns: &Patterns, text: &str) -> Vec<(usize, usize, usize)> {
        let mut got = Vec::new();
        patterns.find_each(text, &literal_hits(patterns, text), |i, s, e| got.push((i, s, e)));
        got
    }

    #[test]
    fn start_gates_are_word_start_literals_of_patterns_that_begin_with_a_boundary() {
        let lits = Gates::of(r"(?-u:\b)(Court|judge)s?\s+order").start.unwrap();
        assert_eq!(lits, [b"court".to_vec(), b"judge".to_vec()]);
        assert_eq!(Gates::of(r"(Court|judge)s?\s+order").start, None, "no boundary before");
        assert_eq!(Gates::of(r"\b\w+@example").start, None, "starts anywhere");
        assert_eq!(Gates::of(r"\b(a|)b?").start, None, "may start with nothing");
        assert_eq!(Gates::of(r"\bdonnées").start, None, "non-ASCII: case folding could miss it");
        assert_eq!(Gates::of(r"\b(#|id)\d").start, None, "`#` after `\\b` follows a word");
        assert_eq!(Gates::of(r"\bab[^.]{0,10}c").max_len, Some(2 + 40 + 1));
    }

    #[test]
    fn required_sets_come_from_the_mandatory_parts_of_a_sequence_after_a_word_start() {
        let gates = Gates::of(r"\b(is|are)\b[^.\n]{0,40}\b(Compliant|certified)\w*(x)?\s+(yes|no)");
        let lits = |words: &[&str]| words.iter().map(|w| w.as_bytes().to_vec()).collect::<Vec<_>>();
        // `(yes|no)` follows `\s+`, which ends with a non-word character: a word start too.
        assert_eq!(
            gates.required,
            [
                (lits(&["is", "are"]), Some(0)),
                // `is|are` spans at most 3 bytes, `[^.\n]{0,40}` 40 characters of 4 bytes.
                (lits(&["compliant", "certified"]), Some(3 + 160)),
                (lits(&["yes", "no"]), None),
            ]
        );
        let opt = Gates::of(r"\bopt\s*(in|out)").required;
        assert_eq!(opt, [(lits(&["opt"]), Some(0))], "`\\s*` may match nothing: no set");
        let home = Gates::of(r"\bphones?[- ]home").required;
        assert_eq!(home, [(lits(&["phone"]), Some(0)), (lits(&["home"]), Some(7))]);
        assert!(
            Gates::of(r"\bfoo|bar\b\s\bbaz").required.is_empty(),
            "an alternation is not a sequence"
        );
        let patterns = Patterns::new(&[r"\b(is|are)\b[^.\n]{0,40}\bcompliant".into()]).unwrap();
        assert_eq!(find_all(&patterns, "Is it compliant? It is."), [(0, 0, 15)]);
        assert!(find_all(&patterns, "it is what it is").is_empty());
        // The required literal is held, but not within reach of any start.
        let far = format!("is {} compliant", "x".repeat(60));
        assert!(find_all(&patterns, &far).is_empty());
        // Each set within its own reach: `b` may start 41 bytes after the start at most,
        // `c` anywhere.
        // The pattern's longest span is unbounded (`.*`): only `b`'s reach keeps the gate
        // from trying a start with `b` out of reach.
        let two = Patterns::new(&[r"\ba\b[^.\n]{0,10}\bb\b.*\bc".into()]).unwrap();
        assert_eq!(two.required[0], [(0, 1 + 40), (1, usize::MAX)]);
        assert_eq!(tries(&two, "a xx b yy c"), [(0, 0)]);
        assert_eq!(find_all(&two, "a xx b yy c"), [(0, 0, 11)]);
        let b_too_far = format!("a {} b c", "x".repeat(45));
        assert_eq!(tries(&two, &b_too_far), []);
    }

    /// A pattern whose matches cannot hold a sentence end is not tried where its required
    /// literals lie only in a later sentence; one whose matches can is still found across.
    #[test]
    fn barriers_are_the_sentence_ends_no_match_can_hold() {
        let bits = |p: &str| Gates::of(p).barriers;
        assert_eq!(bits(r"\bis\b[^.\n]{0,40}\bcompliant"), 0b011, "`.` and `\\n`, not `?`");
        assert_eq!(bits(r"\bis\s+[^.?\n]{0,40}\bcompliant"), 0b101, "`\\s` holds a newline");
        assert_eq!(bits(r"\bis\b.{0,40}\bcompliant"), 0b010, "`.` holds all but a newline");
        assert_eq!(bits(r"(?s)\bis\b.{0,40}\bok"), 0, "`(?s)` holds everything");
        assert_eq!(bits(r"\bv\d+\.\d+"), 0b110, "a literal `.`");
        // `compliant` is within the longest span of the first `is`, but past a `.`.
        let window = Patterns::new(&[r"\b(is|are)\b[^.\n]{0,40}\bcompliant".into()]).unwrap();
        assert_eq!(tries(&window, "It is fine. compliant? no"), []);
        assert_eq!(tries(&window, "Is it. Is it compliant"), [(0, 7)]);
        assert_eq!(find_all(&window, "Is it. Is it compliant"), [(0, 7, 22)]);
        let across = Patterns::new(&[r"\b(is|are)\b.{0,40}\bcompliant".into()]).unwrap();
        assert_eq!(tries(&across, "It is fine. compliant? no"), [(0, 3)]);
        assert_eq!(find_all(&across, "It is fine. compliant? no"), [(0, 3, 21)]);
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
                for (i, _, _) in find_all(&patterns, text) {
                    got[i] = true;
                }
                let want: Vec<bool> = plain.iter().map(|re| re.is_match(text)).collect();
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(g, w, "pattern {} on {:?}", sources[i], post["id"]);
                }
                hits += want.iter().filter(|w| **w).count();
            }
        }
        assert!(hits > 100, "the patterns match the labeled posts often enough ({hits})");
    }

    /// The classifier finds the gate literals with its phrase walk; on every labeled post
    /// (and on text with non-ASCII letters before ASCII ones) that walk finds exactly the
    /// occurrences the plain way finds.
    #[test]
    fn the_phrase_walk_finds_the_gate_literals_at_ascii_word_starts() {
        let patterns = Patterns::new(&shipped_patterns()).unwrap();
        let walk = crate::phrases::Phrases::new(&[], patterns.literals()).unwrap();
        let mut texts: Vec<String> = vec!["éis ÉCOURT “court” naïvelegal données_is is_x".into()];
        for line in crate::labeled::BUILTIN_JSONL.lines() {
            let post: serde_json::Value = serde_json::from_str(line).unwrap();
            for field in ["title", "body"] {
                texts.push(post[field].as_str().unwrap_or_default().to_string());
            }
        }
        let mut total = 0;
        for text in &texts {
            let mut got = Vec::new();
            walk.find_each(text, |n, s, _| match n {
                crate::phrases::Needle::Literal(i) => got.push((i, s)),
                crate::phrases::Needle::Phrase(i) => panic!("phrase {i} found, none given"),
            });
            let mut want = literal_hits(&patterns, text);
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{text}");
            total += got.len();
        }
        assert!(total > 1000, "gate literals occur in the labeled posts ({total})");
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
        let mut got: Vec<(usize, &str)> =
            find_all(&patterns, text).into_iter().map(|(i, s, e)| (i, &text[s..e])).collect();
        got.sort();
        assert_eq!(
            got,
            [(0, "view the files of other users"), (1, "COURT ORDER"), (2, "555-1234")]
        );
        // `oversee` holds `see` but not at a word boundary; nothing else matches.
        let none = find_all(&patterns, "oversee the judgement");
        assert!(none.is_empty(), "{none:?}");
    }
}
