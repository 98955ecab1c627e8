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
use steward_policy::Policy;
use steward_triage::{Post, Triager};

#[path = "support/corpus.rs"]
mod corpus;
use corpus::{baseline_regexes, baseline_slice, corpus, corpus_from, cut, naive_pass, size};

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
    let slice = baseline_slice(&posts, baseline_bytes());
    let slice_total = size(slice);
    eprintln!("baseline: {} regexes over {:.1} MB", regexes.len(), slice_total as f64 / 1e6);
    group.throughput(Throughput::Bytes(slice_total));
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("naive_regex_per_cue", |b| b.iter(|| naive_pass(slice, &regexes)));
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
        ("triage_no_cues_no_model", cut(policy, false, false)),
        ("triage_phrases_no_model", cut(policy, true, false)),
        ("triage_cues_no_model", cut(policy, true, true)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| posts.iter().map(|p| black_box(triager.triage(p)).pii.len()).sum::<usize>())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
