//! The policy's phrases, found where they may start: at the start of a word.
//!
//! A phrase that begins with a word character only counts at a word start (the character
//! before it is not a word character), so instead of an unanchored scan of every byte, the
//! phrase trie is walked anchored from each word start and stops at the first byte no
//! phrase continues with, a few bytes in on most words. Phrases that begin with another
//! character (`.net`, `@security`) are walked from every place that character occurs.
//!
//! Why by hand: aho-corasick refuses anchored overlapping iteration, so the walk uses its
//! `Automaton` trait directly. On the shipped policy (thousands of phrase variants) the
//! unanchored DFA spent most of its time on cache misses in a table of several megabytes.

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

use crate::classify::is_word_char;

#[derive(Debug)]
pub(crate) struct Phrases {
    trie: NFA,
    /// The first characters of phrases that begin with a non-word character, and the ASCII
    /// ones among them as a bit set.
    other_firsts: Vec<char>,
    other_ascii: u128,
}

impl Phrases {
    /// Builds the trie of `needles`, matched ASCII case-insensitively.
    pub fn new(needles: &[String]) -> Result<Phrases, aho_corasick::BuildError> {
        let trie = NFA::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(needles)?;
        let mut other_firsts: Vec<char> =
            needles.iter().filter_map(|n| n.chars().next()).filter(|c| !is_word_char(*c)).collect();
        other_firsts.sort_unstable();
        other_firsts.dedup();
        let other_ascii = other_firsts
            .iter()
            .filter(|c| c.is_ascii())
            .fold(0u128, |bits, &c| bits | 1 << c as u32);
        Ok(Phrases { trie, other_firsts, other_ascii })
    }

    /// Calls `found(needle, start, end)` for every occurrence of a needle that starts at a
    /// word start (or, for a needle beginning with a non-word character, anywhere), in
    /// order of start, shorter first. The end is not checked for a word boundary.
    pub fn find_each(&self, text: &str, mut found: impl FnMut(usize, usize, usize)) {
        let Ok(root) = self.trie.start_state(Anchored::Yes) else { return };
        let bytes = text.as_bytes();
        let mut after_word = false;
        let mut next = 0;
        while next < bytes.len() {
            let at = next;
            // ASCII (nearly every byte of a post) without decoding.
            let (word, other) = if bytes[at] < 0x80 {
                next += 1;
                let b = bytes[at];
                let word = b.is_ascii_alphanumeric() || b == b'_';
                (word, !word && self.other_ascii & (1u128 << b) != 0)
            } else {
                let c = text[at..].chars().next().unwrap_or_default();
                next += c.len_utf8().max(1);
                let word = is_word_char(c);
                (word, !word && self.other_firsts.contains(&c))
            };
            let start_here = if word { !after_word } else { other };
            after_word = word;
            if !start_here {
                continue;
            }
            let mut sid = root;
            for (k, &b) in bytes[at..].iter().enumerate() {
                sid = self.trie.next_state(Anchored::Yes, sid, b);
                if self.trie.is_dead(sid) {
                    break;
                }
                if self.trie.is_match(sid) {
                    let end = at + k + 1;
                    for i in 0..self.trie.match_len(sid) {
                        let needle = self.trie.match_pattern(sid, i);
                        // A state also holds the phrases that end here but start later
                        // (suffixes); those are found from their own start.
                        if end - self.trie.pattern_len(needle) == at {
                            found(needle.as_usize(), at, end);
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

    #[test]
    fn finds_phrases_at_word_starts_only_and_overlapping() {
        let needles: Vec<String> =
            ["license", "commercial license", ".net", "gpl", "gplv3"].map(String::from).to_vec();
        let phrases = Phrases::new(&needles).unwrap();
        let text = "A Commercial LICENSE for .NET; lgpl is not gplv3, “gpl” is";
        let mut got = Vec::new();
        phrases.find_each(text, |n, s, e| got.push((needles[n].as_str(), &text[s..e])));
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
        let phrases = Phrases::new(&needles).unwrap();
        let text = "“phone” Télémetrie metrie";
        let mut got = Vec::new();
        phrases.find_each(text, |n, s, _| got.push((n, s)));
        assert_eq!(got, [(0, text.find("phone").unwrap()), (1, text.rfind("metrie").unwrap())]);
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
        let phrases = Phrases::new(&needles).unwrap();
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
                phrases.find_each(text, |n, s, e| got.push((n, s, e)));
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
