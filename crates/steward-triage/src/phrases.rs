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
//! Why by hand: aho-corasick refuses anchored overlapping iteration, so the walk uses its
//! `Automaton` trait directly. On the shipped policy (thousands of phrase variants) the
//! unanchored DFA spent most of its time on cache misses in a table of several megabytes.
//! (Looking each word up in hash indexes instead of walking was tried too: slower.)

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

use crate::classify::is_word_char;

#[derive(Debug)]
pub(crate) struct Phrases {
    trie: NFA,
    /// Needles `0..phrases` are phrases; the rest are the patterns' gate literals.
    phrases: usize,
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

impl Phrases {
    /// Builds the trie of `phrases` and of the patterns' gate `literals` (each beginning
    /// with an ASCII word character), matched ASCII case-insensitively.
    pub fn new(
        phrases: &[String],
        literals: &[Vec<u8>],
    ) -> Result<Phrases, aho_corasick::BuildError> {
        let needles: Vec<&[u8]> = phrases
            .iter()
            .map(|p| p.as_bytes())
            .chain(literals.iter().map(Vec::as_slice))
            .collect();
        let trie = NFA::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(&needles)?;
        let mut other_firsts: Vec<char> =
            phrases.iter().filter_map(|n| n.chars().next()).filter(|c| !is_word_char(*c)).collect();
        other_firsts.sort_unstable();
        other_firsts.dedup();
        let other_ascii = other_firsts
            .iter()
            .filter(|c| c.is_ascii())
            .fold(0u128, |bits, &c| bits | 1 << c as u32);
        Ok(Phrases { trie, phrases: phrases.len(), other_firsts, other_ascii })
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
            // ASCII (nearly every byte of a post) without decoding.
            let (phrase_start, literal_start) = if bytes[at] < 0x80 {
                next += 1;
                let b = bytes[at];
                let word = b.is_ascii_alphanumeric() || b == b'_';
                let starts = if word {
                    (!after_word, !after_ascii_word)
                } else {
                    (self.other_ascii & (1u128 << b) != 0, false)
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
        let Ok(mut sid) = self.trie.start_state(Anchored::Yes) else { return };
        for (k, &b) in bytes[at..].iter().enumerate() {
            sid = self.trie.next_state(Anchored::Yes, sid, b);
            if self.trie.is_dead(sid) {
                break;
            }
            if !self.trie.is_match(sid) {
                continue;
            }
            let end = at + k + 1;
            for i in 0..self.trie.match_len(sid) {
                let needle = self.trie.match_pattern(sid, i);
                // A state also holds the needles that end here but start later (suffixes);
                // those are found from their own start.
                if end - self.trie.pattern_len(needle) != at {
                    continue;
                }
                match needle.as_usize() {
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
