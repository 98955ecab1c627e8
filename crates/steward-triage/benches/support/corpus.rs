//! The post-like corpus, the naive baseline and the cut-down triagers shared by the triage
//! benchmark (`benches/triage.rs`) and the speed/quality trade-off report
//! (`examples/tradeoff.rs`), so that both measure the same text against the same baseline.

use regex::{Regex, RegexBuilder};
use steward_policy::Policy;
use steward_triage::{Post, Triager};

/// A fixed-seed linear congruential generator (Knuth's MMIX constants): the corpus is the
/// same on every run and every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Personal data of every kind the redactor knows, to sprinkle between sentences.
const PII: &[&str] = &[
    "reach me at dana.kowalski@example-mail.net",
    "the server is 198.51.100.24",
    "our proxy 2001:db8:4f::17 drops it",
    "see https://wiki.acme-corp.io/ops/runbook?id=42",
    "logs at build.acme-corp.io",
    "call +44 20 7946 0958",
    "token=ghp_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2",
    "ping me on admin@github.com",
];

/// Sentences of the shipped labeled set's titles and bodies.
fn sentences() -> Vec<String> {
    let mut out = Vec::new();
    for p in steward_triage::labeled::builtin() {
        out.push(p.title.clone());
        for s in p.body.split_inclusive(['.', '?', '!', '\n']) {
            let s = s.trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
        }
    }
    out
}

/// Posts of 1 to 12 mixed sentences each, PII in about a third of them, until `target`
/// bytes of title and body.
pub fn corpus(target: usize) -> Vec<Post> {
    let sentences = sentences();
    let mut rng = Lcg(0x5eed_2024);
    let mut posts = Vec::new();
    let mut bytes = 0;
    while bytes < target {
        let title = sentences[rng.below(sentences.len())].clone();
        let mut body = String::new();
        for _ in 0..1 + rng.below(12) {
            body.push_str(&sentences[rng.below(sentences.len())]);
            body.push(if rng.below(4) == 0 { '\n' } else { ' ' });
            if rng.below(10) < 3 {
                body.push_str(PII[rng.below(PII.len())]);
                body.push_str(". ");
            }
        }
        bytes += title.len() + body.len();
        posts.push(Post { id: posts.len().to_string(), title, body, ..Post::default() });
    }
    posts
}

/// Bytes of title and body in all of `posts`.
pub fn size(posts: &[Post]) -> u64 {
    posts.iter().map(|p| (p.title.len() + p.body.len()) as u64).sum()
}

/// The naive approach: each phrase `(?i)\bphrase\b`, each pattern and each PII kind its own
/// regex, one pass each over each field of each post.
pub fn baseline_regexes(policy: &Policy) -> Vec<Regex> {
    let mut sources: Vec<String> = Vec::new();
    for topic in &policy.topics {
        for cue in &topic.cues {
            for phrase in &cue.phrases {
                let phrase = phrase.trim();
                match phrase.strip_suffix('*') {
                    Some(prefix) => sources.push(format!(r"\b{}\w*", regex::escape(prefix))),
                    None => sources.push(format!(r"\b{}\b", regex::escape(phrase))),
                }
            }
            sources.extend(cue.patterns.iter().cloned());
        }
    }
    sources.extend(
        [
            r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b",
            r"\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b",
            r"\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b",
            r"\b(?:https?|ftps?|wss?)://[^\s<>]+",
            r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|app|co|de|uk)\b",
            r"\+?\d[\d ().-]{7,18}\d",
            r"\b(?:ghp_|gho_|github_pat_|AKIA|xox[abpr]-|sk_live_|AIza)[A-Za-z0-9_-]{10,}",
        ]
        .map(String::from),
    );
    sources
        .iter()
        .map(|s| {
            RegexBuilder::new(s)
                .case_insensitive(true)
                .size_limit(1 << 24)
                .build()
                .expect("baseline regex")
        })
        .collect()
}

/// The first posts of `posts` up to `target` bytes of title and body (the first one past it
/// included): the slice the much slower baseline runs over.
pub fn baseline_slice(posts: &[Post], target: usize) -> &[Post] {
    let mut bytes = 0;
    let n = posts
        .iter()
        .take_while(|p| {
            let keep = bytes < target;
            bytes += p.title.len() + p.body.len();
            keep
        })
        .count();
    &posts[..n]
}

/// One pass of the naive baseline: every regex over each field of each post; the number of
/// matches.
pub fn naive_pass(posts: &[Post], regexes: &[Regex]) -> usize {
    let mut n = 0;
    for p in posts {
        for re in regexes {
            n += re.find_iter(&p.title).count() + re.find_iter(&p.body).count();
        }
    }
    n
}

/// The posts of `path` (JSON Lines), repeated until `target` bytes of title and body.
pub fn corpus_from(path: &str, target: usize) -> Vec<Post> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let posts: Vec<Post> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}:{}: {e}", i + 1)))
        .collect();
    assert!(!posts.is_empty(), "{path}: no posts");
    let mut out = Vec::new();
    let mut bytes = 0;
    for p in posts.iter().cycle() {
        if bytes >= target {
            break;
        }
        bytes += p.title.len() + p.body.len();
        out.push(Post { id: out.len().to_string(), ..p.clone() });
    }
    out
}

/// A triager from `policy` with its phrases, its patterns or both left out, and no model.
pub fn cut(policy: &Policy, keep_phrases: bool, keep_patterns: bool) -> Triager {
    let mut policy = policy.clone();
    for cue in policy.topics.iter_mut().flat_map(|t| t.cues.iter_mut()) {
        if !keep_phrases {
            cue.phrases.clear();
        }
        if !keep_patterns {
            cue.patterns.clear();
        }
    }
    Triager::new(&policy).expect("a triager from a cut-down policy")
}
