//! Triage throughput (classify + redact with the default triager) over >= 50 MB of post-like
//! text generated deterministically from the shipped labeled set, beside a naive baseline
//! that runs every phrase, pattern and PII kind as its own case-insensitive regex.
//!
//! `cargo bench -p steward-triage --bench triage`
//!
//! Both run with the allocator the `steward` binary ships with (mimalloc), so the figures
//! are those of the desk: a triage allocates its verdict's strings and vectors.
//!
//! The `stages` group then runs each part of triage alone over the same corpus, so the
//! figures say where the time goes without a profiler: redaction alone, the model's votes
//! alone, and triage with the policy's cues cut down step by step (none; phrases only;
//! phrases and patterns) with no model. The difference between two neighbouring steps is
//! the cost of what the second adds. `cargo bench -p steward-triage --bench triage -- stages`
//! runs that group alone.
//!
//! `STEWARD_BENCH_MB` (default 50) and `STEWARD_BENCH_BASELINE_KB` (default 1024) shrink the
//! two inputs for a quick look; the figures are only comparable at the defaults.
//! `STEWARD_BENCH_POSTS=FILE` measures your own posts instead (JSON Lines as `steward triage`
//! reads them), repeated until the corpus is `STEWARD_BENCH_MB` long.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use regex::{Regex, RegexBuilder};
use steward_policy::Policy;
use steward_triage::{Post, Triager};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const POLICY: &str = include_str!("../../../examples/policy.toml");

/// Size of the corpus the triager runs over, in MB (`STEWARD_BENCH_MB`, default 50).
fn corpus_bytes() -> usize {
    env_size("STEWARD_BENCH_MB", 50) << 20
}

/// Size of the slice the (much slower) baseline runs over, in KB.
fn baseline_bytes() -> usize {
    env_size("STEWARD_BENCH_BASELINE_KB", 1024) << 10
}

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

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
fn corpus(target: usize) -> Vec<Post> {
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

fn size(posts: &[Post]) -> u64 {
    posts.iter().map(|p| (p.title.len() + p.body.len()) as u64).sum()
}

/// The naive approach: each phrase `(?i)\bphrase\b`, each pattern and each PII kind its own
/// regex, one pass each over each field of each post.
fn baseline_regexes(policy: &Policy) -> Vec<Regex> {
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

/// The posts of `path` (JSON Lines), repeated until `target` bytes of title and body.
fn corpus_from(path: &str, target: usize) -> Vec<Post> {
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

fn bench(c: &mut Criterion) {
    let (policy, _) = steward_policy::parse(POLICY).valid().expect("valid example policy");
    let triager: Triager = steward_triage::default_triager(&policy).expect("default triager");
    let own_posts = std::env::var("STEWARD_BENCH_POSTS").ok();
    let posts = match &own_posts {
        Some(path) => corpus_from(path, corpus_bytes()),
        None => corpus(corpus_bytes()),
    };
    let total = size(&posts);
    assert!(total >= corpus_bytes() as u64);
    let sample = &posts[..posts.len().min(1000)];
    let sensitive = sample.iter().filter(|p| triager.triage(p).sensitive).count();
    let pii: usize = sample.iter().map(|p| triager.triage(p).pii.len()).sum();
    if own_posts.is_none() {
        assert!(sensitive > 0 && pii > 0, "the corpus has sensitive posts and personal data");
    }
    eprintln!(
        "corpus: {} posts, {:.1} MB; of the first {}: {sensitive} sensitive, {pii} PII findings",
        posts.len(),
        total as f64 / 1e6,
        sample.len()
    );

    let mut group = corpus_group(c, "triage", 20, total);
    group.bench_function("triage", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &posts {
                n += black_box(triager.triage(p)).pii.len();
            }
            n
        })
    });

    let regexes = baseline_regexes(&policy);
    let mut slice_bytes = 0;
    let slice: Vec<&Post> = posts
        .iter()
        .take_while(|p| {
            let keep = slice_bytes < baseline_bytes();
            slice_bytes += p.title.len() + p.body.len();
            keep
        })
        .collect();
    let slice_total: u64 = slice.iter().map(|p| (p.title.len() + p.body.len()) as u64).sum();
    eprintln!("baseline: {} regexes over {:.1} MB", regexes.len(), slice_total as f64 / 1e6);
    group.throughput(Throughput::Bytes(slice_total));
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("naive_regex_per_cue", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &slice {
                for re in &regexes {
                    n += re.find_iter(&p.title).count() + re.find_iter(&p.body).count();
                }
            }
            n
        })
    });
    group.finish();
    stages(c, &policy, &posts, total);
}

/// A group whose iterations are each a pass over a whole corpus of `bytes`, measured for
/// `seconds`: flat sampling runs 10 of them, not the 55 that linear sampling needs for 10
/// samples.
fn corpus_group<'a>(
    c: &'a mut Criterion,
    name: &str,
    seconds: u64,
    bytes: u64,
) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(seconds));
    group.throughput(Throughput::Bytes(bytes));
    group
}

/// Each part of triage alone, over the whole corpus (see the module docs).
fn stages(c: &mut Criterion, policy: &Policy, posts: &[Post], total: u64) {
    let cut = |keep_phrases: bool, keep_patterns: bool| {
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
    };
    let redactor = steward_triage::redact::Redactor::new(&policy.allow_domains);
    let votes = steward_triage::builtin_model().vote_table();
    let mut group = corpus_group(c, "stages", 10, total);
    group.bench_function("redact", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in posts {
                n += black_box(redactor.redact(&p.title)).1.len();
                n += black_box(redactor.redact(&p.body)).1.len();
            }
            n
        })
    });
    group.bench_function("model_votes", |b| {
        b.iter(|| {
            posts.iter().map(|p| black_box(votes.votes(&p.title, &p.body)).len()).sum::<usize>()
        })
    });
    for (name, triager) in [
        ("triage_no_cues_no_model", cut(false, false)),
        ("triage_phrases_no_model", cut(true, false)),
        ("triage_cues_no_model", cut(true, true)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| posts.iter().map(|p| black_box(triager.triage(p)).pii.len()).sum::<usize>())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
