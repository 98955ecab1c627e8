//! The policy's phrases (and the patterns' gate literals), found where they may start: at
//! the start of a word.
//!
//! A phrase that begins with a word character only counts at a word start (the character
//! before it is not a word character). At a word start the word is read once, its bytes
//! hashed as they come (ASCII lower-cased, FNV-1a); two indexes keyed by that hash say
//! which needles can start here: needles that are one word (`gdpr`, and the prefixes
//! `telemetr` of `telemetr*` and `court` of `\bcourt`) are looked up after each character
//! of the word, under the hash of the bytes so far; needles that go on after their first
//! word (`commercial license`, `opt-in`) are looked up at the word's end under the hash of
//! the whole word, then the rest of the needle is compared with the text. A 64 Kibit
//! bit set in front of each index turns away nearly every miss without touching the index.
//!
//! Rarer starts walk a trie of all needles instead (aho-corasick's contiguous NFA,
//! anchored): a word that begins with a non-ASCII letter or holds one, phrases that begin
//! with another character (`.net`, `@security`, walked from every place that character
//! occurs), and gate literals right after a non-ASCII letter (an ASCII word start inside a
//! Unicode word).
//!
//! Both ways find the same needles: every occurrence that starts at such a start, whatever
//! follows it (the end is not checked for a word boundary). A test checks this against an
//! unanchored search on every labeled post.
//!
//! Why by hand: no crate finds thousands of needles anchored at word starts. An unanchored
//! DFA over the shipped policy spent most of its time on cache misses in a table of several
//! megabytes, and walking the NFA from every word start cost tens of nanoseconds per word;
//! two hash probes per word cost a few.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

use crate::classify::is_word_char;

#[derive(Debug)]
pub(crate) struct Phrases {
    trie: NFA,
    /// Needles `0..phrases` are phrases; the rest are the patterns' gate literals.
    phrases: usize,
    needles: Vec<Box<[u8]>>,
    /// Per needle, the length of its first word (the whole needle for one-word needles).
    first_word: Vec<usize>,
    /// One-word needles, by the hash of the needle.
    whole: WordIndex,
    /// Needles that go on after their first word, by the hash of the first word.
    lead: WordIndex,
    /// The first characters of phrases that begin with a non-word character, and the ASCII
    /// ones among them as a bit set.
    other_firsts: Vec<char>,
    other_ascii: u128,
}

/// What the walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needle {
    /// A phrase, by its index in the phrases given to [`Phrases::new`].
    Phrase(usize),
    /// A pattern gate literal, by its index in the literals given to [`Phrases::new`].
    Literal(usize),
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME)
}

/// Needle ids by the hash of a word, behind a bit set of the hashes' top 16 bits.
#[derive(Debug, Default)]
struct WordIndex {
    bits: Vec<u64>,
    ids: HashMap<u64, Vec<u32>, BuildHasherDefault<Mixed>>,
}

impl WordIndex {
    fn new() -> WordIndex {
        WordIndex { bits: vec![0; 1 << 10], ids: HashMap::default() }
    }

    fn insert(&mut self, hash: u64, id: usize) {
        let top = (hash >> 48) as usize;
        self.bits[top >> 6] |= 1 << (top & 63);
        self.ids.entry(hash).or_default().push(id as u32);
    }

    #[inline]
    fn get(&self, hash: u64) -> &[u32] {
        let top = (hash >> 48) as usize;
        if self.bits[top >> 6] & (1 << (top & 63)) == 0 {
            return &[];
        }
        self.ids.get(&hash).map_or(&[], Vec::as_slice)
    }
}

/// The hasher of [`WordIndex`]: its keys are FNV-1a hashes already, so it only mixes
/// their bits (the table picks buckets by the low bits, which FNV mixes least).
#[derive(Debug, Default)]
struct Mixed(u64);

impl Hasher for Mixed {
    fn finish(&self) -> u64 {
        let h = self.0 ^ (self.0 >> 31);
        h.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Phrases {
    /// Builds the indexes of `phrases` and of the patterns' gate `literals` (each beginning
    /// with an ASCII word character), matched ASCII case-insensitively.
    pub fn new(
        phrases: &[String],
        literals: &[Vec<u8>],
    ) -> Result<Phrases, aho_corasick::BuildError> {
        let needles: Vec<Box<[u8]>> = phrases
            .iter()
            .map(|p| Box::from(p.as_bytes()))
            .chain(literals.iter().map(|l| Box::from(l.as_slice())))
            .collect();
        let trie = NFA::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(&needles)?;
        let (mut whole, mut lead) = (WordIndex::new(), WordIndex::new());
        let mut first_word = Vec::with_capacity(needles.len());
        for (id, needle) in needles.iter().enumerate() {
            let text = std::str::from_utf8(needle).unwrap_or_default();
            let len = text.find(|c| !is_word_char(c)).unwrap_or(text.len());
            first_word.push(len);
            // Needles that begin with a non-word character are walked, not indexed.
            if len == 0 {
                continue;
            }
            let hash = needle[..len].iter().fold(FNV_OFFSET, |h, &b| fnv_step(h, b));
            if len == needle.len() {
                whole.insert(hash, id);
            } else {
                lead.insert(hash, id);
            }
        }
        for ids in lead.ids.values_mut() {
            ids.sort_by_key(|&id| (needles[id as usize].len(), id));
        }
        let mut other_firsts: Vec<char> =
            phrases.iter().filter_map(|n| n.chars().next()).filter(|c| !is_word_char(*c)).collect();
        other_firsts.sort_unstable();
        other_firsts.dedup();
        let other_ascii = other_firsts
            .iter()
            .filter(|c| c.is_ascii())
            .fold(0u128, |bits, &c| bits | 1 << c as u32);
        Ok(Phrases {
            trie,
            phrases: phrases.len(),
            needles,
            first_word,
            whole,
            lead,
            other_firsts,
            other_ascii,
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
            let at = next;
            let b = bytes[at];
            if b < 0x80 {
                next += 1;
                let word = b.is_ascii_alphanumeric() || b == b'_';
                if word && !after_word {
                    // The common case: an ASCII word start. Read the word through the
                    // indexes; when it is all ASCII, nothing inside it starts anything.
                    if self.read_word(text, at, &mut found) {
                        next = self.word_end(bytes, at);
                    }
                } else if word && !after_ascii_word {
                    self.walk(bytes, at, false, true, &mut found);
                } else if !word && self.other_ascii & (1u128 << b) != 0 {
                    self.walk(bytes, at, true, false, &mut found);
                }
                (after_word, after_ascii_word) = (word, word);
            } else {
                let c = text[at..].chars().next().unwrap_or_default();
                next += c.len_utf8().max(1);
                let word = is_word_char(c);
                if (word && !after_word) || (!word && self.other_firsts.contains(&c)) {
                    self.walk(bytes, at, true, false, &mut found);
                }
                (after_word, after_ascii_word) = (word, false);
            }
        }
    }

    /// The end of the all-ASCII word at `at`.
    fn word_end(&self, bytes: &[u8], at: usize) -> usize {
        at + bytes[at..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count()
    }

    /// Reports the needles that start at the ASCII word start `at`, through the indexes.
    /// Returns whether the word is all ASCII (so that the caller may skip to its end).
    fn read_word(
        &self,
        text: &str,
        at: usize,
        found: &mut impl FnMut(Needle, usize, usize),
    ) -> bool {
        let bytes = text.as_bytes();
        let mut h = FNV_OFFSET;
        let mut k = at;
        let mut ascii = true;
        while k < bytes.len() {
            let b = bytes[k];
            if b < 0x80 {
                if !(b.is_ascii_alphanumeric() || b == b'_') {
                    break;
                }
                h = fnv_step(h, b);
                k += 1;
            } else {
                let Some(c) = text[k..].chars().next() else { break };
                if !is_word_char(c) {
                    break;
                }
                ascii = false;
                for &b in &bytes[k..k + c.len_utf8()] {
                    h = fnv_step(h, b);
                }
                k += c.len_utf8();
            }
            for &id in self.whole.get(h) {
                let needle = &self.needles[id as usize];
                if needle.len() == k - at && needle.eq_ignore_ascii_case(&bytes[at..k]) {
                    self.report(id as usize, at, k, true, found);
                }
            }
        }
        // Sorted by length when built, so shorter ones are reported first.
        for &id in self.lead.get(h) {
            let (id, needle) = (id as usize, &self.needles[id as usize]);
            if self.first_word[id] == k - at
                && bytes.len() >= at + needle.len()
                && needle.eq_ignore_ascii_case(&bytes[at..at + needle.len()])
            {
                self.report(id, at, at + needle.len(), true, found);
            }
        }
        ascii
    }

    fn report(
        &self,
        id: usize,
        at: usize,
        end: usize,
        phrase_start: bool,
        found: &mut impl FnMut(Needle, usize, usize),
    ) {
        if id < self.phrases {
            if phrase_start {
                found(Needle::Phrase(id), at, end);
            }
        } else {
            found(Needle::Literal(id - self.phrases), at, end);
        }
    }

    /// Walks the trie of all needles from `at`, reporting phrases when `phrase_start` and
    /// gate literals when `literal_start`.
    fn walk(
        &self,
        bytes: &[u8],
        at: usize,
        phrase_start: bool,
        literal_start: bool,
        found: &mut impl FnMut(Needle, usize, usize),
    ) {
        let Ok(mut sid) = self.trie.start_state(Anchored::Yes) else { return };
        for (k, &b) in bytes[at..].iter().enumerate() {
            sid = self.trie.next_state(Anchored::Yes, sid, b);
            if self.trie.is_dead(sid) {
                break;
            }
            if self.trie.is_match(sid) {
                let end = at + k + 1;
                for i in 0..self.trie.match_len(sid) {
                    let needle = self.trie.match_pattern(sid, i);
                    // A state also holds the needles that end here but start later
                    // (suffixes); those are found from their own start.
                    if end - self.trie.pattern_len(needle) != at {
                        continue;
                    }
                    let id = needle.as_usize();
                    if id >= self.phrases && !literal_start {
                        continue;
                    }
                    self.report(id, at, end, phrase_start, found);
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
