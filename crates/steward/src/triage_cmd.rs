//! `steward triage`, `triage eval`, `triage train`, `redact` and `lint-response`.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use anyhow::{Context, Result};
use steward_triage::eval::Report;
use steward_triage::labeled::{self, LabeledPost};
use steward_triage::model::{Example, Model};
use steward_triage::{lint::Linter, Post, Triager};

use crate::policy_cmd::load;
use crate::{EngineArgs, TriageArgs, TriageCmd};

pub fn run(args: TriageArgs) -> Result<ExitCode> {
    match args.command {
        None => triage(&args.engine, args.input.as_deref(), args.jobs.threads()),
        Some(TriageCmd::Eval { labeled, misses, json, cross_validate }) => {
            eval(&args.engine, &labeled, misses, json, cross_validate)
        }
        Some(TriageCmd::Explain { input, jobs }) => {
            explain(&args.engine, input.as_deref(), jobs.threads())
        }
        Some(TriageCmd::Train { labeled, out, without_builtin }) => {
            train(&labeled, &out, without_builtin)
        }
    }
}

fn triager(engine: &EngineArgs) -> Result<Triager> {
    let policy = load(engine.policy.as_deref())?;
    if engine.no_model {
        return Ok(Triager::new(&policy)?);
    }
    match &engine.model {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read model {}", path.display()))?;
            let model: Model = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a model file", path.display()))?;
            Ok(Triager::new(&policy)?.with_model(&model))
        }
        None => Ok(steward_triage::default_triager(&policy)?),
    }
}

fn input(path: Option<&Path>) -> Result<Box<dyn BufRead>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        )),
        None => Box::new(std::io::BufReader::new(std::io::stdin())),
    })
}

fn triage(engine: &EngineArgs, path: Option<&Path>, jobs: usize) -> Result<ExitCode> {
    let triager = triager(engine)?;
    each_post(path, jobs, |post, out| {
        serde_json::to_writer(&mut *out, &triager.triage(post))?;
        Ok(())
    })
}

/// One line per post: `{"id", "topics": [...]}`, every topic with a score other than zero or
/// with evidence, highest score first.
fn explain(engine: &EngineArgs, path: Option<&Path>, jobs: usize) -> Result<ExitCode> {
    let triager = triager(engine)?;
    each_post(path, jobs, |post, out| {
        let mut topics = triager.score(post);
        topics.retain(|t| t.score != 0.0 || !t.evidence.is_empty());
        topics.sort_by(|a, b| b.score.total_cmp(&a.score));
        serde_json::to_writer(&mut *out, &serde_json::json!({ "id": post.id, "topics": topics }))?;
        Ok(())
    })
}

/// Lines handed to a worker at a time: enough that handing them over costs little beside
/// triaging them, few enough that output starts at once.
const BATCH_LINES: usize = 256;

/// A batch of input lines, numbered from 1, with its place in the input.
type Batch = (usize, Vec<(usize, String)>);

/// What became of one line: its output, or the problem to report.
enum Outcome {
    Written(Vec<u8>),
    Malformed(String),
}

/// Reads posts as JSON Lines and writes one line for each with `write`, in input order,
/// triaging on `jobs` threads. A malformed line is reported on stderr with its number, the
/// others are still processed, and the exit code is then 1.
///
/// The reader hands batches of lines to the workers; the writer puts their results back in
/// input order. The reader takes a credit for each batch and the writer gives it back once
/// the batch is written, so at most four batches per thread are read and not yet written,
/// however long the input and however slow one batch is. When the writer stops (stdout
/// closed), the workers and the reader stop too.
fn each_post(
    path: Option<&Path>,
    jobs: usize,
    write: impl Fn(&Post, &mut Vec<u8>) -> Result<()> + Sync,
) -> Result<ExitCode> {
    let source = path.map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
    let lines = input(path)?.lines();
    // The credits bound both channels: neither holds more than `window` batches.
    let (batches, work) = std::sync::mpsc::channel::<Batch>();
    // Owned by the workers alone: when the last of them stops, the reader's sends fail.
    let work = std::sync::Arc::new(std::sync::Mutex::new(work));
    let (done, results) = std::sync::mpsc::channel::<(usize, Vec<Outcome>)>();
    let window = jobs * 4;
    let (give_back, credits) = std::sync::mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        give_back.send(()).expect("the credits channel holds the window");
    }
    std::thread::scope(|scope| {
        let mut workers = Vec::with_capacity(jobs);
        for _ in 0..jobs {
            let (work, done, write, source) = (work.clone(), done.clone(), &write, &source);
            workers.push(scope.spawn(move || -> Result<()> {
                loop {
                    let next = work.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((seq, batch)) = next else { return Ok(()) };
                    let outcomes = batch
                        .into_iter()
                        .map(|(number, line)| outcome(source, number, &line, write))
                        .collect::<Result<_>>()?;
                    if done.send((seq, outcomes)).is_err() {
                        return Ok(());
                    }
                }
            }));
        }
        drop((work, done));
        let writer = scope.spawn(move || write_in_order(results, give_back));
        let read = read_batches(lines, &batches, credits);
        drop(batches);
        let bad = writer.join().map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
        for worker in workers {
            worker.join().map_err(|_| anyhow::anyhow!("a triage thread panicked"))??;
        }
        read?;
        Ok(if bad > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    })
}

/// Sends the lines in batches, blank lines left out, each once it has a credit; stops early
/// when nobody listens.
fn read_batches(
    lines: std::io::Lines<Box<dyn BufRead>>,
    batches: &Sender<Batch>,
    credits: Receiver<()>,
) -> Result<()> {
    let send = |seq, batch| credits.recv().is_ok() && batches.send((seq, batch)).is_ok();
    let mut batch = Vec::with_capacity(BATCH_LINES);
    let mut seq = 0;
    for (i, line) in lines.enumerate() {
        let line = line.with_context(|| format!("cannot read line {}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        batch.push((i + 1, line));
        if batch.len() == BATCH_LINES {
            if !send(seq, std::mem::take(&mut batch)) {
                return Ok(());
            }
            seq += 1;
        }
    }
    if !batch.is_empty() {
        send(seq, batch);
    }
    Ok(())
}

fn outcome(
    source: &str,
    number: usize,
    line: &str,
    write: &impl Fn(&Post, &mut Vec<u8>) -> Result<()>,
) -> Result<Outcome> {
    Ok(match serde_json::from_str::<Post>(line) {
        Ok(post) => {
            let mut out = Vec::with_capacity(line.len() + 256);
            write(&post, &mut out)?;
            out.push(b'\n');
            Outcome::Written(out)
        }
        Err(e) => Outcome::Malformed(format!(
            "{source}:{number}:{}: error: {}",
            e.column(),
            json_problem(&e)
        )),
    })
}

/// Writes the batches' outcomes in input order (stdout flushed before each problem, so a
/// terminal shows them in place), giving back a credit for each batch written; returns how
/// many lines were malformed.
fn write_in_order(
    results: Receiver<(usize, Vec<Outcome>)>,
    give_back: SyncSender<()>,
) -> Result<usize> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut waiting = std::collections::BTreeMap::new();
    let (mut next, mut bad) = (0, 0);
    for (seq, outcomes) in results {
        waiting.insert(seq, outcomes);
        while let Some(outcomes) = waiting.remove(&next) {
            for outcome in outcomes {
                match outcome {
                    Outcome::Written(bytes) => out.write_all(&bytes)?,
                    Outcome::Malformed(problem) => {
                        bad += 1;
                        out.flush()?;
                        eprintln!("{problem}");
                    }
                }
            }
            next += 1;
            // The reader may be gone already (the input ended): nothing to give back to.
            let _ = give_back.send(());
        }
    }
    out.flush()?;
    Ok(bad)
}

/// What is wrong with a line, without serde's "at line 1 column N" (the caller names the
/// place as `FILE:LINE:COL`, as `policy check` does).
fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((problem, _)) => problem.to_string(),
        None => text,
    }
}

fn read_labeled(path: &Path) -> Result<Vec<LabeledPost>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    labeled::parse_jsonl(&text).with_context(|| path.display().to_string())
}

/// The labels triage gives a post: its sensitive topics, or else its kind.
fn predicted(triager: &Triager, post: &LabeledPost) -> Vec<String> {
    triager.triage(&Post::from(post)).labels()
}

fn eval(
    engine: &EngineArgs,
    path: &Path,
    misses: bool,
    json: bool,
    cross_validate: Option<usize>,
) -> Result<ExitCode> {
    let posts = read_labeled(path)?;
    let mut report = Report::new(&steward_policy::SENSITIVE_TOPICS);
    match cross_validate {
        None => {
            let triager = triager(engine)?;
            for p in &posts {
                report.add(&p.id, &p.labels, &predicted(&triager, p));
            }
        }
        Some(k) => {
            let k = k.max(2);
            let policy = load(engine.policy.as_deref())?;
            for fold in 0..k {
                let train: Vec<Example> = posts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % k != fold)
                    .map(|(_, p)| p.into())
                    .collect();
                let triager = Triager::new(&policy)?.with_model(&Model::train(&train));
                for (_, p) in posts.iter().enumerate().filter(|(i, _)| i % k == fold) {
                    report.add(&p.id, &p.labels, &predicted(&triager, p));
                }
            }
        }
    }
    let mut out = if json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        report.to_string()
    };
    if misses && !json {
        use std::fmt::Write as _;
        out.push_str("misses:\n");
        for (id, gold, got) in &report.misses {
            let _ = writeln!(out, "  {id}: expected {} got {}", gold.join("+"), got.join("+"));
        }
    }
    crate::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn train(paths: &[PathBuf], out: &Path, without_builtin: bool) -> Result<ExitCode> {
    let mut examples: Vec<Example> = Vec::new();
    if !without_builtin {
        examples.extend(labeled::builtin().iter().map(Example::from));
    }
    for path in paths {
        examples.extend(read_labeled(path)?.iter().map(Example::from));
    }
    let model = Model::train(&examples);
    std::fs::write(out, serde_json::to_vec(&model)?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!(
        "trained on {} posts, {} labels → {}",
        examples.len(),
        model.labels.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn redact(policy: Option<PathBuf>) -> Result<ExitCode> {
    let policy = load(policy.as_deref())?;
    let redactor = steward_triage::redact::Redactor::new(&policy.allow_domains);
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
    crate::write_stdout(&redactor.redact(&text).0)?;
    Ok(ExitCode::SUCCESS)
}

pub fn lint_response(policy: Option<PathBuf>, file: Option<PathBuf>) -> Result<ExitCode> {
    let policy = load(policy.as_deref())?;
    let linter = Linter::new(&policy)?;
    let mut draft = String::new();
    match &file {
        Some(p) => {
            draft = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?
        }
        None => {
            std::io::stdin().read_to_string(&mut draft).context("cannot read standard input")?;
        }
    }
    let findings = linter.check(&draft);
    let out: String = findings.iter().map(|f| format!("{f}\n")).collect();
    crate::write_stdout(&out)?;
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
