//! What each part of triage costs in speed and buys in quality, measured in one run.
//!
//! Triage is cut down step by step: everything (the policy's phrases and patterns and the
//! learned model), no model, no patterns, phrases alone, and nothing but redaction and the
//! verdict's assembly (no cues, no model: the floor under every other cut, which escalates
//! nothing). Each cut is measured twice:
//!
//! - **speed**: classify + redact on one thread over the benchmark's post-like corpus
//!   (`benches/support/corpus.rs`, the same text `cargo bench --bench triage` runs on), in
//!   MiB/s and as a multiple of the naive baseline (every phrase, pattern and personal-data
//!   kind its own regex pass) timed in the same run. Each cut's figure is the best of
//!   `--runs` passes, after one untimed pass that warms the patterns' lazy DFAs; the
//!   baseline, a hundred times slower, is timed once after one untimed pass.
//! - **quality**: escalation recall / precision and the sensitive topics' macro-F1 on each
//!   labeled set: the project's own sets the shipped model was not trained on
//!   (`testdata/fresh.jsonl`, `testdata/tuning.jsonl`, `testdata/hard-positives.jsonl`), and
//!   each `--eval FILE` (measuring-only sets outside the project).
//!
//! For scale, it then times the `aho-corasick` crate's DFA finding the policy's phrases
//! alone over the same corpus: the field's well-kept general multi-pattern matcher, doing
//! only part of what the phrase stage does.
//!
//! ```text
//! cargo run --release -p steward-triage --example tradeoff -- \
//!     [--mb 50] [--baseline-kb 1024] [--runs 3] [--posts FILE] [--eval FILE]...
//! ```
//!
//! `--posts FILE` times your own posts (JSON Lines as `steward triage` reads them, repeated
//! until the corpus is `--mb` long) instead of the generated corpus.

use std::path::{Path, PathBuf};
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use steward_triage::eval::Report;
use steward_triage::labeled::{parse_jsonl, LabeledPost};
use steward_triage::{Post, Triager};

#[path = "../benches/support/corpus.rs"]
mod corpus;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: tradeoff [--mb 50] [--baseline-kb 1024] [--runs 3] [--posts FILE] \
    [--eval FILE]...  (what each measures: the module doc of \
    crates/steward-triage/examples/tradeoff.rs)";

/// The project's labeled sets that the shipped model is not trained on.
const OWN_SETS: [&str; 3] =
    ["testdata/fresh.jsonl", "testdata/tuning.jsonl", "testdata/hard-positives.jsonl"];

struct Args {
    mb: usize,
    baseline_kb: usize,
    runs: usize,
    posts: Option<String>,
    eval: Vec<PathBuf>,
}

fn parse_args() -> Args {
    let mut args = Args { mb: 50, baseline_kb: 1024, runs: 3, posts: None, eval: Vec::new() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value\n{USAGE}"));
        let count = |v: String| -> usize {
            v.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| panic!("{v}: not a count"))
        };
        match flag.as_str() {
            "--mb" => args.mb = count(value()),
            "--baseline-kb" => args.baseline_kb = count(value()),
            "--runs" => args.runs = count(value()),
            "--posts" => args.posts = Some(value()),
            "--eval" => args.eval.push(value().into()),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => panic!("unknown argument {flag}\n{USAGE}"),
        }
    }
    args
}

/// The best of `runs` timed calls of `pass` (after one untimed), in seconds.
fn best_of(runs: usize, mut pass: impl FnMut() -> usize) -> f64 {
    std::hint::black_box(pass());
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(pass());
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn labeled(path: &Path) -> (String, Vec<LabeledPost>) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let posts = parse_jsonl(&text)
        .unwrap_or_else(|e| panic!("{}:{}: {}", path.display(), e.line, e.message));
    let name = path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    (name, posts)
}

/// Escalation recall / precision and sensitive macro-F1 of `triager` on `posts`.
fn quality(triager: &Triager, posts: &[LabeledPost]) -> String {
    let mut report = Report::new(&steward_policy::SENSITIVE_TOPICS);
    for p in posts {
        report.add(&p.id, &p.labels, &triager.triage(&Post::from(p)).labels());
    }
    let e = &report.escalation;
    format!("{:.3}/{:.3}/{:.3}", e.recall(), e.precision(), report.macro_f1_sensitive())
}

fn main() {
    let args = parse_args();
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy_text = std::fs::read_to_string(crate_dir.join("../../examples/policy.toml"))
        .expect("the shipped policy");
    let (policy, _) = steward_policy::parse(&policy_text).valid().expect("a valid policy");
    let sets: Vec<(String, Vec<LabeledPost>)> = OWN_SETS
        .iter()
        .map(|s| crate_dir.join(s))
        .chain(args.eval.iter().cloned())
        .map(|p| labeled(&p))
        .collect();

    let target = args.mb << 20;
    let posts = match &args.posts {
        Some(path) => corpus::corpus_from(path, target),
        None => corpus::corpus(target),
    };
    let bytes = corpus::size(&posts) as f64;
    let slice = corpus::baseline_slice(&posts, args.baseline_kb << 10);
    let slice_bytes = corpus::size(slice);
    let regexes = corpus::baseline_regexes(&policy);
    let naive = slice_bytes as f64 / best_of(1, || corpus::naive_pass(slice, &regexes));
    println!(
        "speed: classify + redact, one thread, {:.1} MB of posts; naive baseline ({} regexes, \
         {:.1} MB): {:.2} MiB/s",
        bytes / 1e6,
        regexes.len(),
        slice_bytes as f64 / 1e6,
        naive / f64::from(1 << 20)
    );
    println!("quality: escalation recall/precision/sensitive macro-F1 per labeled set\n");
    print!("{:<22} {:>7} {:>7}", "cut", "MiB/s", "×naive");
    for (name, _) in &sets {
        print!("  {name:>17}");
    }
    println!();

    let model = steward_triage::builtin_model();
    // (name, phrases, patterns, model)
    let cuts: [(&str, bool, bool, bool); 5] = [
        ("everything", true, true, true),
        ("no model", true, true, false),
        ("no patterns", true, false, true),
        ("phrases alone", true, false, false),
        ("no cues, no model", false, false, false),
    ];
    for (name, phrases, patterns, with_model) in cuts {
        let triager = corpus::cut(&policy, phrases, patterns);
        let triager = if with_model { triager.with_model(model) } else { triager };
        let speed =
            bytes / best_of(args.runs, || posts.iter().map(|p| triager.triage(p).pii.len()).sum());
        print!("{name:<22} {:>7.1} {:>7.1}", speed / f64::from(1 << 20), speed / naive);
        for (_, labeled) in &sets {
            print!("  {:>17}", quality(&triager, labeled));
        }
        println!();
    }

    // For scale: a general matcher doing only the phrase part of the job.
    let phrases: Vec<String> = policy
        .topics
        .iter()
        .flat_map(|t| t.cues.iter().flat_map(|c| c.phrases.iter()))
        .map(|p| p.trim().trim_end_matches('*').trim().to_lowercase())
        .collect();
    let dfa = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(true)
        .build(&phrases)
        .expect("an automaton of the policy's phrases");
    let speed = bytes
        / best_of(args.runs, || {
            posts
                .iter()
                .map(|p| {
                    dfa.find_overlapping_iter(&p.title).count()
                        + dfa.find_overlapping_iter(&p.body).count()
                })
                .sum()
        });
    println!(
        "\nfor scale: aho-corasick's DFA ({} KiB) finding the policy's {} phrases alone, \
         anywhere (no word boundaries, gate literals, scoring or redaction): {:.1} MiB/s",
        dfa.memory_usage() >> 10,
        phrases.len(),
        speed / f64::from(1 << 20)
    );
}
