//! The policy's phrases and the patterns' gate literals, found where they may start: at
//! the start of a word.
//!
//! A phrase that begins with a word character only counts at a word start (the character
//! before it is not a word character), so instead of an unanchored scan of every byte, one
//! trie of all needles is walked anchored from each word start and stops at the first byte
//! no needle continues with, a few bytes in on most words. Phrases that begin with another
//! character (`.net`, `@security`) are walked from every place that character occurs. Gate
//! literals count at ASCII word starts (see `patterns`), which also fall inside a Unicode
//! word, right after a non-ASCII letter; only literals are reported from those.
//!
//! The places to walk from are found 64 bytes at a time: a block of ASCII (nearly every
//! block of a post) becomes bit masks of its word bytes and phrase firsts, eight bytes per
//! step, and its word starts are the word bytes after a non-word byte, read off with
//! `trailing_zeros`, instead of a branch per byte that goes one way or the other at every
//! word's edge and is mispredicted there. A block with a non-ASCII character is read a
//! character at a time.
//!
//! The trie has two layouts. The root and the two levels below it, where every walk
//! starts and most end, are dense rows over byte classes (the two cases of a letter are one
//! class; a byte no needle holds is a class that leads nowhere): one load per byte. Deeper
//! states (28,000 of 29,000 on the shipped policy, most with one way on) are short
//! records of their transitions laid out depth first, so that a walk down a phrase reads on
//! in memory. Dense rows for every state would take 7 MB and were no faster; the two
//! layouts take 0.3 MB.
//!
//! Why by hand: aho-corasick refuses anchored overlapping iteration; walking its contiguous
//! NFA through its `Automaton` trait (the previous design) decodes a state's encoding at
//! every byte (the bench's phrase stage ran 5% slower on it, whole triage 13–22% slower
//! with the model's larger table beside it in cache), and its unanchored DFA spent
//! most of its time on cache misses in a table of several megabytes. (Looking each word up
//! in hash indexes instead of walking was tried too: slower.)

use crate::classify::is_word_char;

/// This bit of a state's handle marks a state where needles end.
const MATCH: u32 = 1 << 23;
/// The state no needle continues from: row 0, every transition back to it.
const DEAD: u32 = 0;
/// States this deep or less (the root is 0) are dense rows: 80 KB on the shipped policy.
const DENSE_DEPTH: usize = 2;
/// Handles are below this (with [`MATCH`], 24 bits, so that a deep state's transition is
/// its class and its target in one word): a trie of more is refused.
const HANDLE_LIMIT: usize = 1 << 23;
/// The low 24 bits of a record's word: a handle with its [`MATCH`] bit, or an index.
const LOW: u32 = (1 << 24) - 1;

#[derive(Debug)]
pub(crate) struct Phrases {
    /// Byte → class: equal for the two cases of an ASCII letter, 0 for every byte no
    /// needle holds.
    classes: [u8; 256],
    /// log2 of a row's length (the number of classes, rounded up to a power of two).
    shift: u32,
    /// The states of the first [`DENSE_DEPTH`] levels (below the root), where nearly every
    /// walk is, as rows of transitions: the state of handle `h` has row `h`, column
    /// `class`, holding the next state's handle (row 0 is the dead state).
    dense: Vec<u32>,
    /// The deeper states, most with one way on, each a record at `h - dense_end`: a word
    /// with how many transitions (top byte) and the index in `sparse_ends` of the needles
    /// that end there, then a word per transition: its class (top byte) and the handle it
    /// leads to. A state with one way on takes 8 bytes.
    sparse: Vec<u32>,
    /// Handles from here on are records of `sparse`.
    dense_end: u32,
    /// The handle of the start state.
    start: u32,
    /// For each dense state, by row (the root's first), the range of `ends` holding the
    /// needles that end there.
    dense_ends: Vec<(u32, u32)>,
    /// The same for the deep states where needles end, by the index in their record.
    sparse_ends: Vec<(u32, u32)>,
    /// Needle ids, grouped by the state they end at, ascending within a state.
    ends: Vec<u32>,
    /// Needles `0..phrases` are phrases; the rest are the patterns' gate literals.
    phrases: usize,
    /// The first characters of phrases that begin with a non-word character.
    other_firsts: Vec<char>,
    /// What each byte is to the scan for word starts: bit [`WORD`], [`OTHER_FIRST`] or
    /// [`NON_ASCII`] set (or none of them).
    kinds: [u8; 256],
}

/// The bits of a byte's kind (see `Phrases::kinds`), and of the masks of a block: an ASCII
/// word character (`[A-Za-z0-9_]`) ...
const WORD: u32 = 0;
/// ... an ASCII character that phrases begin with, not a word character (`.` of `.net`) ...
const OTHER_FIRST: u32 = 1;
/// ... a byte of a non-ASCII character.
const NON_ASCII: u32 = 2;
/// The scan reads this many bytes at a time, as bit masks.
const BLOCK: usize = 64;
/// The lowest bit of each byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;

/// Bit `i` of the result is the lowest bit of byte `i` of `x`, whose other bits are clear:
/// the multiplication moves each byte's bit to its place in the top byte, and no two
/// partial products meet there or carry into it.
fn bits_of_bytes(x: u64) -> u64 {
    x.wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// What the walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needle {
    /// A phrase, by its index in the phrases given to [`Phrases::new`].
    Phrase(usize),
    /// A pattern gate literal, by its index in the literals given to [`Phrases::new`].
    Literal(usize),
}

/// The needles make a trie too large to hold.
#[derive(Debug, thiserror::Error)]
#[error(
    "the phrases and pattern literals make a trie of {states} states, more than its table holds"
)]
pub struct TooManyStates {
    pub states: usize,
}

impl Phrases {
    /// Builds the trie of `phrases` and of the patterns' gate `literals` (each beginning
    /// with an ASCII word character), matched ASCII case-insensitively.
    pub fn new(phrases: &[String], literals: &[Vec<u8>]) -> Result<Phrases, TooManyStates> {
        Self::with_limit(phrases, literals, HANDLE_LIMIT)
    }

    /// [`Phrases::new`], refusing a trie whose handles reach `limit` (at most
    /// [`HANDLE_LIMIT`]).
    fn with_limit(
        phrases: &[String],
        literals: &[Vec<u8>],
        limit: usize,
    ) -> Result<Phrases, TooManyStates> {
        let limit = limit.min(HANDLE_LIMIT);
        // (id, needle), empty needles left out.
        let needles: Vec<(u32, &[u8])> = phrases
            .iter()
            .map(|p| p.as_bytes())
            .chain(literals.iter().map(Vec::as_slice))
            .enumerate()
            .filter(|(_, n)| !n.is_empty())
            .map(|(i, n)| (i as u32, n))
            .collect();
        let mut classes = [0u8; 256];
        let mut count = 1usize;
        for b in needles.iter().flat_map(|(_, n)| n.iter()).map(u8::to_ascii_lowercase) {
            if classes[b as usize] == 0 {
                classes[b as usize] = count as u8;
                classes[b.to_ascii_uppercase() as usize] = count as u8;
                count += 1;
            }
        }
        // At most 231 classes: the two cases of a letter share one, and class 0 is none.
        let shift = count.next_power_of_two().trailing_zeros();
        // The trie as a tree first (children by class), then laid out as below.
        let mut children: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
        let mut ends: Vec<Vec<u32>> = vec![Vec::new()];
        for &(id, needle) in &needles {
            let mut node = 0usize;
            for &b in needle.iter() {
                let class = classes[b as usize];
                node = match children[node].iter().find(|(c, _)| *c == class) {
                    Some(&(_, child)) => child as usize,
                    None => {
                        children.push(Vec::new());
                        ends.push(Vec::new());
                        let child = children.len() - 1;
                        children[node].push((class, child as u32));
                        child
                    }
                };
            }
            ends[node].push(id);
        }
        // The first levels breadth first, as dense rows; then each deeper subtree depth
        // first, so that a state's first child follows it in memory (most deep states
        // have one) and a walk down a phrase reads on instead of jumping.
        let mut order = vec![(0usize, 0usize)];
        let mut i = 0;
        while i < order.len() {
            let (node, depth) = order[i];
            children[node].sort_unstable();
            if depth < DENSE_DEPTH {
                order.extend(children[node].iter().map(|&(_, child)| (child as usize, depth + 1)));
            }
            i += 1;
        }
        let dense_states = order.len();
        for n in 0..dense_states {
            let (node, depth) = order[n];
            if depth < DENSE_DEPTH {
                continue;
            }
            let mut stack: Vec<usize> =
                children[node].iter().rev().map(|&(_, c)| c as usize).collect();
            while let Some(node) = stack.pop() {
                order.push((node, 0));
                children[node].sort_unstable();
                stack.extend(children[node].iter().rev().map(|&(_, c)| c as usize));
            }
        }
        // Where each node's state goes: a row of `dense` (after the dead row 0), or a
        // record of `sparse` after the dense rows.
        let dense_end = (dense_states + 1) << shift;
        let mut handle = vec![0u32; children.len()];
        let mut sparse_len = 0usize;
        for (n, &(node, _)) in order.iter().enumerate() {
            let at = if n < dense_states {
                (n + 1) << shift
            } else {
                let at = dense_end + sparse_len;
                sparse_len += 1 + children[node].len();
                at
            };
            if dense_end + sparse_len > limit {
                return Err(TooManyStates { states: order.len() });
            }
            handle[node] = at as u32 | if ends[node].is_empty() { 0 } else { MATCH };
        }
        let mut dense = vec![DEAD; dense_end];
        let mut sparse = Vec::with_capacity(sparse_len);
        let mut dense_ends = Vec::with_capacity(dense_states);
        // The ranges of `ends` of the deep states where needles end (0 is none).
        let mut sparse_ends = vec![(0u32, 0u32)];
        let mut flat = Vec::new();
        for (n, &(node, _)) in order.iter().enumerate() {
            let mut here = std::mem::take(&mut ends[node]);
            here.sort_unstable();
            here.dedup();
            let range = (flat.len() as u32, (flat.len() + here.len()) as u32);
            flat.extend(here);
            if n < dense_states {
                let row = (n + 1) << shift;
                for &(class, child) in &children[node] {
                    dense[row + class as usize] = handle[child as usize];
                }
                dense_ends.push(range);
            } else {
                let index = if range.0 == range.1 {
                    0
                } else {
                    sparse_ends.push(range);
                    sparse_ends.len() as u32 - 1
                };
                sparse.push((children[node].len() as u32) << 24 | index);
                for &(class, child) in &children[node] {
                    sparse.push(u32::from(class) << 24 | handle[child as usize]);
                }
            }
        }
        let mut other_firsts: Vec<char> =
            phrases.iter().filter_map(|n| n.chars().next()).filter(|c| !is_word_char(*c)).collect();
        other_firsts.sort_unstable();
        other_firsts.dedup();
        let mut kinds = [0u8; 256];
        for (b, kind) in kinds.iter_mut().enumerate() {
            let b = b as u8;
            *kind = if b >= 0x80 {
                1 << NON_ASCII
            } else if b.is_ascii_alphanumeric() || b == b'_' {
                1 << WORD
            } else if other_firsts.contains(&char::from(b)) {
                1 << OTHER_FIRST
            } else {
                0
            };
        }
        Ok(Phrases {
            classes,
            shift,
            dense,
            sparse,
            dense_end: dense_end as u32,
            start: handle[0],
            dense_ends,
            sparse_ends,
            ends: flat,
            phrases: phrases.len(),
            other_firsts,
            kinds,
        })
    }

    /// Calls `found(needle, start, end)` for every occurrence of a phrase that starts at a
    /// word start (or, for a phrase beginning with a non-word character, anywhere), and of
    /// a gate literal that starts at an ASCII word start (the character before is not an
    /// ASCII word character: after "é", "is" counts for a pattern's `\b(is)` but not for a
    /// phrase), in order of start, shorter first. The end is not checked for a word
    /// boundary.
    pub fn find_each(&self, text: &str, mut found: impl FnMut(Needle, usize, usize)) {
        let bytes = text.as_bytes();
        // Whether the previous character is a word character, in Unicode and in ASCII.
        let (mut after_word, mut after_ascii_word) = (false, false);
        let mut next = 0;
        while next < bytes.len() {
            // A block of ASCII (nearly every block of a post) is read as bit masks, one bit
            // per byte, without a branch per byte: the places to walk from are its word
            // starts (a word byte after a non-word byte) and its other phrase firsts.
            let block = &bytes[next..bytes.len().min(next + BLOCK)];
            let [word, other, non_ascii] = self.masks(block);
            if non_ascii == 0 {
                let starts = word & !(word << 1 | u64::from(after_ascii_word));
                let mut todo = starts | other;
                while todo != 0 {
                    let i = todo.trailing_zeros() as usize;
                    todo &= todo - 1;
                    if other & 1 << i != 0 {
                        self.walk(bytes, next + i, true, false, &mut found);
                    } else {
                        // After a non-ASCII letter, a word start in ASCII only.
                        let phrase_start = i > 0 || !after_word;
                        self.walk(bytes, next + i, phrase_start, true, &mut found);
                    }
                }
                after_word = word >> (block.len() - 1) & 1 != 0;
                after_ascii_word = after_word;
                next += block.len();
                continue;
            }
            // A block with non-ASCII characters: a character at a time, to its end.
            let end = next + block.len();
            while next < end {
                let at = next;
                let (phrase_start, literal_start) = if bytes[at] < 0x80 {
                    next += 1;
                    let kind = self.kinds[bytes[at] as usize];
                    let word = kind >> WORD & 1 != 0;
                    let starts = if word {
                        (!after_word, !after_ascii_word)
                    } else {
                        (kind >> OTHER_FIRST & 1 != 0, false)
                    };
                    (after_word, after_ascii_word) = (word, word);
                    starts
                } else {
                    let c = text[at..].chars().next().unwrap_or_default();
                    next += c.len_utf8().max(1);
                    let word = is_word_char(c);
                    let starts =
                        ((word && !after_word) || (!word && self.other_firsts.contains(&c)), false);
                    (after_word, after_ascii_word) = (word, false);
                    starts
                };
                if phrase_start || literal_start {
                    self.walk(bytes, at, phrase_start, literal_start, &mut found);
                }
            }
        }
    }

    /// The masks of `block` (at most [`BLOCK`] bytes) by kind: [`WORD`], [`OTHER_FIRST`]
    /// and [`NON_ASCII`], bit `i` for byte `i`.
    fn masks(&self, block: &[u8]) -> [u64; 3] {
        let mut masks = [0u64; 3];
        for (n, eight) in block.chunks(8).enumerate() {
            // The kinds of (up to) eight bytes, a byte each, then a bit each.
            let kinds =
                eight.iter().rev().fold(0u64, |k, &b| k << 8 | u64::from(self.kinds[b as usize]));
            for bit in [WORD, OTHER_FIRST, NON_ASCII] {
                masks[bit as usize] |= bits_of_bytes(kinds >> bit & ONES) << (8 * n);
            }
        }
        masks
    }

    /// The handle of the state after `handle` (no [`MATCH`] bit) on a byte of `class`.
    #[inline]
    fn step(&self, handle: u32, class: u8) -> u32 {
        if handle < self.dense_end {
            return self.dense[handle as usize + class as usize];
        }
        let at = (handle - self.dense_end) as usize;
        let n = (self.sparse[at] >> 24) as usize;
        self.sparse[at + 1..at + 1 + n]
            .iter()
            .find(|t| (*t >> 24) as u8 == class)
            .map_or(DEAD, |t| t & LOW)
    }

    /// The range of `ends` of the needles that end at the state of `handle` (no [`MATCH`]
    /// bit).
    fn ends_of(&self, handle: u32) -> std::ops::Range<usize> {
        let (from, to) = if handle < self.dense_end {
            self.dense_ends[(handle >> self.shift) as usize - 1]
        } else {
            self.sparse_ends[(self.sparse[(handle - self.dense_end) as usize] & LOW) as usize]
        };
        from as usize..to as usize
    }

    /// Walks the trie from `at`, reporting phrases when `phrase_start` and gate literals
    /// when `literal_start`.
    fn walk(
        &self,
        bytes: &[u8],
        at: usize,
        phrase_start: bool,
        literal_start: bool,
        found: &mut impl FnMut(Needle, usize, usize),
    ) {
        let mut state = self.start;
        for (k, &b) in bytes[at..].iter().enumerate() {
            state = self.step(state & !MATCH, self.classes[b as usize]);
            if state == DEAD {
                break;
            }
            if state & MATCH == 0 {
                continue;
            }
            let end = at + k + 1;
            for &needle in &self.ends[self.ends_of(state & !MATCH)] {
                match needle as usize {
                    id if id < self.phrases => {
                        if phrase_start {
                            found(Needle::Phrase(id), at, end);
                        }
                    }
                    id => {
                        if literal_start {
                            found(Needle::Literal(id - self.phrases), at, end);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(n: Needle) -> usize {
        match n {
            Needle::Phrase(i) => i,
            Needle::Literal(i) => panic!("literal {i} found, none given"),
        }
    }

    #[test]
    fn finds_phrases_at_word_starts_only_and_overlapping() {
        let needles: Vec<String> =
            ["license", "commercial license", ".net", "gpl", "gplv3"].map(String::from).to_vec();
        let phrases = Phrases::new(&needles, &[]).unwrap();
        let text = "A Commercial LICENSE for .NET; lgpl is not gplv3, “gpl” is";
        let mut got = Vec::new();
        phrases.find_each(text, |n, s, e| got.push((needles[phrase(n)].as_str(), &text[s..e])));
        assert_eq!(
            got,
            [
                ("commercial license", "Commercial LICENSE"),
                ("license", "LICENSE"),
                (".net", ".NET"),
                ("gpl", "gpl"),
                ("gplv3", "gplv3"),
                ("gpl", "gpl"),
            ]
        );
        // Non-ASCII punctuation starts a word; a non-ASCII letter is part of one.
        let needles: Vec<String> = ["phone", "metrie"].map(String::from).to_vec();
        let phrases = Phrases::new(&needles, &[b"metrie".to_vec(), b"ph".to_vec()]).unwrap();
        let text = "“phone” Télémetrie metrie";
        let mut got = Vec::new();
        phrases.find_each(text, |n, s, _| got.push((n, s)));
        // A gate literal also counts after a non-ASCII letter (an ASCII word start).
        let (phone, metrie) = (text.find("phone").unwrap(), text.rfind("metrie").unwrap());
        assert_eq!(
            got,
            [
                (Needle::Literal(1), phone),
                (Needle::Phrase(0), phone),
                (Needle::Literal(0), text.find("metrie").unwrap()),
                (Needle::Phrase(1), metrie),
                (Needle::Literal(0), metrie),
            ]
        );
    }

    /// The walks a character-by-character scan starts: every word start (Unicode) for
    /// phrases, every ASCII word start for literals, every phrase first that is not a word
    /// character. The scan by bit masks must start the same walks.
    fn walks_by_character(phrases: &Phrases, text: &str) -> Vec<(usize, bool, bool)> {
        let mut out = Vec::new();
        let (mut after_word, mut after_ascii_word) = (false, false);
        for (at, c) in text.char_indices() {
            let word = is_word_char(c);
            let ascii_word = c.is_ascii_alphanumeric() || c == '_';
            let phrase_start =
                (word && !after_word) || (!word && phrases.other_firsts.contains(&c));
            let literal_start = ascii_word && !after_ascii_word;
            if phrase_start || literal_start {
                out.push((at, phrase_start, literal_start));
            }
            (after_word, after_ascii_word) = (word, ascii_word);
        }
        out
    }

    proptest::proptest! {
        /// On any text (long runs of ASCII, non-ASCII letters and punctuation at and across
        /// the 64-byte blocks), the scan finds what a walk from each place the
        /// character-by-character scan names finds.
        #[test]
        fn the_block_scan_walks_from_every_word_start(
            runs in proptest::collection::vec(("[abcdxAB_0 .\\-/\n]{0,150}", "(é|ß|“|—)?"), 0..6)
        ) {
            // Mostly ASCII, as posts are, so that most blocks are read as bit masks.
            let text: String = runs.into_iter().map(|(ascii, other)| ascii + &other).collect();
            let needles: Vec<String> =
                ["ab", "a b", "b", "éb", "-c", "/d", "x_", "c"].map(String::from).to_vec();
            let phrases = Phrases::new(&needles, &[b"ab".to_vec(), b"c".to_vec()]).unwrap();
            let mut got = Vec::new();
            phrases.find_each(&text, |n, s, e| got.push((n, s, e)));
            let mut want = Vec::new();
            for (at, phrase_start, literal_start) in walks_by_character(&phrases, &text) {
                phrases.walk(text.as_bytes(), at, phrase_start, literal_start, &mut |n, s, e| {
                    want.push((n, s, e))
                });
            }
            proptest::prop_assert_eq!(got, want);
        }
    }

    /// A block read as bit masks right after a non-ASCII letter: its first word start is
    /// one for literals (an ASCII word start) but not for phrases (inside a word).
    #[test]
    fn a_block_after_a_non_ascii_letter_starts_inside_a_word() {
        let phrases = Phrases::new(&["ab".to_string()], &[b"ab".to_vec()]).unwrap();
        // The first block (64 bytes) ends with `ß`; the second begins with `ab`.
        let text = format!("{}ßab ab", "x ".repeat(31));
        let at = text.find("ab").unwrap();
        assert_eq!(at, BLOCK);
        let mut got = Vec::new();
        phrases.find_each(&text, |n, s, _| got.push((n, s)));
        assert_eq!(
            got,
            [(Needle::Literal(0), at), (Needle::Phrase(0), at + 3), (Needle::Literal(0), at + 3)]
        );
    }

    /// A trie past the limit is refused with how many states it has, not built; one just
    /// within it is built and finds its needles.
    #[test]
    fn a_trie_past_the_limit_is_refused() {
        let needles: Vec<String> = ["license", "licensing", "telemetry"].map(String::from).to_vec();
        let fits = Phrases::with_limit(&needles, &[], usize::MAX).unwrap();
        let needed = fits.dense_end as usize + fits.sparse.len();
        let refused = Phrases::with_limit(&needles, &[], needed - 1).unwrap_err();
        // The root and a state per letter of the trie: licens, then e or ing; telemetry.
        assert_eq!(
            refused.states,
            1 + "licens".len() + "e".len() + "ing".len() + "telemetry".len()
        );
        let within = Phrases::with_limit(&needles, &[], needed).unwrap();
        let mut got = Vec::new();
        within.find_each("Licensing telemetry", |n, s, _| got.push((phrase(n), s)));
        assert_eq!(got, [(1, 0), (2, 10)]);
    }

    /// On every labeled post, the walk finds exactly what an unanchored overlapping search
    /// finds once matches not at a word start are dropped.
    #[test]
    fn agrees_with_an_unanchored_search_on_the_labeled_posts() {
        let src = include_str!("../../../examples/policy.toml");
        let (policy, _) = steward_policy::parse(src).valid().expect("the example policy");
        let mut needles: Vec<String> = policy
            .topics
            .iter()
            .flat_map(|t| t.cues.iter().flat_map(|c| c.phrases.iter()))
            .map(|p| p.trim().trim_end_matches('*').trim().to_string())
            .collect();
        needles.extend([".net".to_string(), "“".to_string()]);
        let phrases = Phrases::new(&needles, &[]).unwrap();
        let plain = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&needles)
            .unwrap();
        let mut total = 0;
        for line in crate::labeled::BUILTIN_JSONL.lines() {
            let post: serde_json::Value = serde_json::from_str(line).unwrap();
            for field in ["title", "body"] {
                let text = post[field].as_str().unwrap_or_default();
                let mut got = Vec::new();
                phrases.find_each(text, |n, s, e| got.push((phrase(n), s, e)));
                let mut want: Vec<(usize, usize, usize)> = plain
                    .find_overlapping_iter(text)
                    .filter(|m| {
                        let before = text[..m.start()].chars().next_back();
                        let first = text[m.start()..].chars().next();
                        !(before.is_some_and(is_word_char) && first.is_some_and(is_word_char))
                    })
                    .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                    .collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{:?} {field}", post["id"]);
                total += got.len();
            }
        }
        assert!(total > 1000, "phrases occur in the labeled posts ({total})");
    }
}
