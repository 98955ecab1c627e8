//! Measures how the learned model's training settings, its weight and the topics' thresholds
//! change escalation (sensitive or not) on posts the model was not trained on.
//!
//! Two measures, each as escalation recall / precision / F1, pooled and per set:
//!
//! - **cv**: k-fold cross-validation over the union of the project's labeled sets
//!   (`data/labeled.jsonl`, `testdata/tuning.jsonl`, `testdata/fresh.jsonl`,
//!   `testdata/hard-positives.jsonl`). Posts are grouped by their source URL, so that a post
//!   and its paraphrase never sit on both sides; each fold retrains only the model (the
//!   policy's rules are fixed) and triages the held-out posts; pooled over the folds and over
//!   `--repeats` different fold assignments. This is the selection criterion. With
//!   `--train-share S` each fold trains on only that share of the other folds' sources
//!   (0.39 is about the size of `labeled`, 0.75 of `labeled+tuning`): a learning curve.
//! - **holdout**: the model trained on `--train` (`labeled`, the shipped model, by default;
//!   `labeled+tuning` adds the tuning set), measured on every set it was not trained on and
//!   on each `--eval FILE` (measuring-only sets outside the project). An `--eval` post whose
//!   source is also behind a project post is counted apart, as set `NAME~seen`.
//!
//! Rule scores are computed once per post and the model's votes once per trained model, so
//! each `--weights` × `--thresholds` pair (a threshold given here applies to every sensitive
//! topic; by default the policy's own weight and thresholds) costs nothing more. For the
//! policy's own pair every verdict is checked against a real [`Triager`] with the model.
//! `--verdicts` lists each holdout post's verdict at the first pair, to diff two runs.
//!
//! ```text
//! cargo run --release -p steward-triage --example model_cv -- \
//!     [--policy FILE] [--train labeled|labeled+tuning] [--folds 5] [--repeats 3] \
//!     [--train-share 1.0] [--epochs 40] [--lr 0.2] [--l2 1e-4] [--unbalanced | --balance 1.0] \
//!     [--min-posts 1] [--weights 0.6,0.9] [--thresholds 0.9,1.0] [--eval FILE]... \
//!     [--verdicts]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use steward_triage::eval::Counts;
use steward_triage::labeled::{parse_jsonl, LabeledPost};
use steward_triage::model::{Example, Model, TrainConfig, VoteTable};
use steward_triage::{Post, Triager};

const SETS: [&str; 4] = [
    "data/labeled.jsonl",
    "testdata/tuning.jsonl",
    "testdata/fresh.jsonl",
    "testdata/hard-positives.jsonl",
];

struct Args {
    policy: PathBuf,
    train: Vec<String>,
    folds: usize,
    repeats: usize,
    config: TrainConfig,
    weights: Option<Vec<f32>>,
    thresholds: Option<Vec<f32>>,
    eval: Vec<PathBuf>,
    verdicts: bool,
    share: f64,
}

const USAGE: &str = "usage: model_cv [--policy FILE] [--train labeled|labeled+tuning] \
    [--folds 5] [--repeats 3] [--train-share 1.0] [--epochs 40] [--lr 0.2] [--l2 1e-4] \
    [--unbalanced | --balance 1.0] [--min-posts 1] [--weights 0.6,0.9] [--thresholds 0.9,1.0] \
    [--eval FILE]... [--verdicts]  (what each measures: the module doc of \
    crates/steward-triage/examples/model_cv.rs)";

fn parse_args() -> Args {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = Args {
        policy: crate_dir.join("../../examples/policy.toml"),
        train: vec!["labeled".into()],
        folds: 5,
        repeats: 3,
        config: TrainConfig::default(),
        weights: None,
        thresholds: None,
        eval: Vec::new(),
        verdicts: false,
        share: 1.0,
    };
    let mut it = std::env::args().skip(1);
    let list = |s: String| -> Vec<f32> {
        s.split(',').map(|x| x.trim().parse().expect("a number")).collect()
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--policy" => args.policy = value().into(),
            "--train" => args.train = value().split('+').map(str::to_string).collect(),
            "--folds" => args.folds = value().parse().expect("a count"),
            "--repeats" => args.repeats = value().parse().expect("a count"),
            "--epochs" => args.config.epochs = value().parse().expect("a count"),
            "--lr" => args.config.learning_rate = value().parse().expect("a number"),
            "--l2" => args.config.l2 = value().parse().expect("a number"),
            "--unbalanced" => args.config.balance = 0.0,
            "--balance" => args.config.balance = value().parse().expect("a number"),
            "--min-posts" => args.config.min_posts = value().parse().expect("a count"),
            "--weights" => args.weights = Some(list(value())),
            "--thresholds" => args.thresholds = Some(list(value())),
            "--eval" => args.eval.push(value().into()),
            "--verdicts" => args.verdicts = true,
            "--train-share" => args.share = value().parse().expect("a number"),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => panic!("unknown argument {flag}\n{USAGE}"),
        }
    }
    args
}

/// A labeled post as scored: which set it is from, whether it is sensitive, and per
/// sensitive topic its rule score and threshold.
struct Scored {
    set: usize,
    source: String,
    post: LabeledPost,
    sensitive: bool,
    rules: Vec<f32>,
}

/// One verdict to count: the post's set, whether it is sensitive, and per sensitive topic
/// its rule score and the model's vote.
struct Case<'a> {
    set: usize,
    scored: &'a Scored,
    votes: Vec<f32>,
}

/// Counts one verdict: `want`, whether the post is sensitive; `got`, whether it was escalated.
fn count(c: &mut Counts, want: bool, got: bool) {
    match (want, got) {
        (true, true) => c.tp += 1,
        (false, true) => c.fp += 1,
        (true, false) => c.fn_ += 1,
        (false, false) => {}
    }
}

/// `recall/precision f1`, or a dash for a set with no sensitive post and no escalation.
fn show(c: &Counts) -> String {
    if c.tp + c.fp + c.fn_ == 0 {
        return "      -      ".into();
    }
    format!("{:.3}/{:.3} {:.3}", c.recall(), c.precision(), c.f1())
}

fn escalated(rules: &[f32], votes: &[f32], thresholds: &[f32], weight: f32) -> bool {
    rules.iter().zip(votes).zip(thresholds).any(|((r, v), t)| r + weight * v >= *t)
}

fn fnv(text: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 31)
}

fn main() {
    let args = parse_args();
    let text = std::fs::read_to_string(&args.policy).expect("policy file");
    let (policy, _) = steward_policy::parse(&text).valid().expect("a valid policy");
    let rules_only = Triager::new(&policy).expect("triager");
    let sensitive_ids: Vec<String> =
        policy.topics.iter().filter(|t| t.sensitive).map(|t| t.id.clone()).collect();
    let policy_thresholds: Vec<f32> =
        policy.topics.iter().filter(|t| t.sensitive).map(|t| t.threshold as f32).collect();
    let policy_weight = policy.model_weight as f32;

    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = SETS
        .iter()
        .map(|s| Path::new(s).file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut files: Vec<PathBuf> = SETS.iter().map(|s| crate_dir.join(s)).collect();
    for e in &args.eval {
        names.push(e.file_stem().unwrap().to_string_lossy().into_owned());
        files.push(e.clone());
    }
    let mut posts: Vec<Scored> = Vec::new();
    // Posts of `--eval` sets whose source is also behind a post of the project's sets are
    // counted apart, as set `NAME~seen`: a model trained on that post has seen them.
    let mut project_sources = std::collections::BTreeSet::new();
    let seen_base = names.len();
    for e in &args.eval {
        names.push(format!("{}~seen", e.file_stem().unwrap().to_string_lossy()));
    }
    for (set, file) in files.iter().enumerate() {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        for p in parse_jsonl(&text).expect("valid JSON Lines") {
            let scores = rules_only.score(&Post::from(&p));
            let rules = sensitive_ids
                .iter()
                .map(|id| scores.iter().find(|s| s.id == *id).map_or(0.0, |s| s.score))
                .collect();
            let sensitive =
                p.labels.iter().any(|l| steward_policy::SENSITIVE_TOPICS.contains(&l.as_str()));
            let source = p.source.clone().unwrap_or_else(|| p.id.clone());
            let source = source.trim_end_matches('/').to_string();
            let set = if set < SETS.len() {
                project_sources.insert(source.clone());
                set
            } else if project_sources.contains(&source) {
                seen_base + set - SETS.len()
            } else {
                set
            };
            posts.push(Scored { set, source, post: p, sensitive, rules });
        }
    }
    let votes_of = |table: &VoteTable, p: &LabeledPost| -> Vec<f32> {
        let votes = table.votes(&p.title, &p.body);
        sensitive_ids
            .iter()
            .map(|id| table.labels().iter().position(|l| l == id).map_or(0.0, |c| votes[c]))
            .collect()
    };
    let weights = args.weights.clone().unwrap_or_else(|| vec![policy_weight]);
    let thresholds = args.thresholds.clone().unwrap_or_default();
    println!(
        "config: {:?}; train (holdout): {}; {} folds x {} repeats",
        args.config,
        args.train.join("+"),
        args.folds,
        args.repeats
    );

    // Cross-validation over the union of the project's sets, grouped by source.
    let union: Vec<&Scored> = posts.iter().filter(|p| p.set < SETS.len()).collect();
    let mut cases: Vec<Case> = Vec::new();
    let mut checked = 0;
    for repeat in 0..args.repeats {
        for fold in 0..args.folds {
            let in_fold =
                |p: &Scored| fnv(&p.source, repeat as u64) % args.folds as u64 == fold as u64;
            // With `--train-share`, only that share of the other folds' sources is trained on.
            let kept = |p: &Scored| {
                ((fnv(&p.source, 1000 + repeat as u64) % 1000) as f64) < args.share * 1000.0
            };
            let train: Vec<Example> = union
                .iter()
                .filter(|p| !in_fold(p) && kept(p))
                .map(|p| Example::from(&p.post))
                .collect();
            let model = Model::train_with(&train, &args.config);
            let table = model.vote_table();
            let triager =
                (repeat == 0).then(|| Triager::new(&policy).expect("triager").with_model(&model));
            for p in union.iter().filter(|p| in_fold(p)) {
                let votes = votes_of(&table, &p.post);
                if let Some(t) = &triager {
                    let got = t.triage(&Post::from(&p.post)).sensitive;
                    let mine = escalated(&p.rules, &votes, &policy_thresholds, policy_weight);
                    assert_eq!(
                        got, mine,
                        "{}: the driver's verdict differs from triage",
                        p.post.id
                    );
                    checked += 1;
                }
                cases.push(Case { set: p.set, scored: p, votes });
            }
        }
    }
    println!("(verdicts checked against the triager: {checked})");
    report("cv", &names[..SETS.len()], &cases, &weights, &thresholds, &policy_thresholds);

    // Holdout: trained on the named sets, measured on the others.
    let trained_on: Vec<usize> = args
        .train
        .iter()
        .map(|t| names.iter().position(|n| n == t).unwrap_or_else(|| panic!("no set {t}")))
        .collect();
    let train: Vec<Example> = posts
        .iter()
        .filter(|p| trained_on.contains(&p.set))
        .map(|p| Example::from(&p.post))
        .collect();
    let model = Model::train_with(&train, &args.config);
    let triager = Triager::new(&policy).expect("triager").with_model(&model);
    let table = model.vote_table();
    let mut cases = Vec::new();
    for p in posts.iter().filter(|p| !trained_on.contains(&p.set)) {
        let votes = votes_of(&table, &p.post);
        let got = triager.triage(&Post::from(&p.post)).sensitive;
        assert_eq!(got, escalated(&p.rules, &votes, &policy_thresholds, policy_weight));
        cases.push(Case { set: p.set, scored: p, votes });
    }
    report("holdout", &names, &cases, &weights, &thresholds, &policy_thresholds);
    if args.verdicts {
        // Each held-out post's verdict at the first weight and threshold given.
        let w = weights[0];
        let ts = thresholds
            .first()
            .map_or(policy_thresholds.clone(), |t| vec![*t; policy_thresholds.len()]);
        for c in &cases {
            let p = c.scored;
            let got = escalated(&p.rules, &c.votes, &ts, w);
            let best = |xs: &[f32]| xs.iter().copied().fold(f32::MIN, f32::max);
            println!(
                "verdict {} {} gold={} got={} rules={:.2} vote={:.2}",
                names[p.set],
                p.post.id,
                p.sensitive,
                got,
                best(&p.rules),
                best(&c.votes)
            );
        }
    }
}

/// Prints, per weight and threshold, the pooled escalation figures and those of each set.
fn report(
    title: &str,
    names: &[String],
    cases: &[Case],
    weights: &[f32],
    thresholds: &[f32],
    policy_thresholds: &[f32],
) {
    let mut header = format!("{title:<8} {:>6} {:>5} | {:<19}", "weight", "thr", "all r/p f1");
    let present: Vec<usize> =
        (0..names.len()).filter(|s| cases.iter().any(|c| c.set == *s)).collect();
    for &s in &present {
        header.push_str(&format!(" | {:<19}", names[s]));
    }
    println!("{header}");
    // `None`: the policy's own thresholds.
    let mut thrs: Vec<Option<f32>> = thresholds.iter().copied().map(Some).collect();
    if thrs.is_empty() {
        thrs.push(None);
    }
    for &w in weights {
        for &t in &thrs {
            let ts: Vec<f32> = match t {
                Some(t) => vec![t; policy_thresholds.len()],
                None => policy_thresholds.to_vec(),
            };
            let mut all = Counts::default();
            let mut per: BTreeMap<usize, Counts> = BTreeMap::new();
            for c in cases {
                let got = escalated(&c.scored.rules, &c.votes, &ts, w);
                count(&mut all, c.scored.sensitive, got);
                count(per.entry(c.set).or_default(), c.scored.sensitive, got);
            }
            let t = t.map_or("pol".into(), |t| format!("{t:.2}"));
            let mut line = format!("{:<8} {w:>6.2} {t:>5} | {:<19}", "", show(&all));
            for s in &present {
                line.push_str(&format!(" | {:<19}", show(&per[s])));
            }
            println!("{line}");
        }
    }
}
