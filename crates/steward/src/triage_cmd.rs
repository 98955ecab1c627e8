//! `steward triage`, `triage eval`, `triage train`, `redact` and `lint-response`.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use steward_triage::eval::Report;
use steward_triage::labeled::{self, LabeledPost};
use steward_triage::model::{Example, Model};
use steward_triage::{lint::Linter, Post, Triager};

use crate::policy_cmd::load;
use crate::{EngineArgs, TriageArgs, TriageCmd};

pub fn run(args: TriageArgs) -> Result<ExitCode> {
    match args.command {
        None => triage(&args.engine, args.input.as_deref()),
        Some(TriageCmd::Eval { labeled, misses, json, cross_validate }) => {
            eval(&args.engine, &labeled, misses, json, cross_validate)
        }
        Some(TriageCmd::Explain { input }) => explain(&args.engine, input.as_deref()),
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

fn triage(engine: &EngineArgs, path: Option<&Path>) -> Result<ExitCode> {
    let triager = triager(engine)?;
    each_post(path, |post, out| {
        serde_json::to_writer(&mut *out, &triager.triage(post))?;
        Ok(())
    })
}

/// One line per post: `{"id", "topics": [...]}`, every topic with a score other than zero or
/// with evidence, highest score first.
fn explain(engine: &EngineArgs, path: Option<&Path>) -> Result<ExitCode> {
    let triager = triager(engine)?;
    each_post(path, |post, out| {
        let mut topics = triager.score(post);
        topics.retain(|t| t.score != 0.0 || !t.evidence.is_empty());
        topics.sort_by(|a, b| b.score.total_cmp(&a.score));
        serde_json::to_writer(&mut *out, &serde_json::json!({ "id": post.id, "topics": topics }))?;
        Ok(())
    })
}

/// Reads posts as JSON Lines and writes one line for each with `write`. A malformed line is
/// reported on stderr with its number, the others are still processed, and the exit code
/// is then 1.
fn each_post(
    path: Option<&Path>,
    mut write: impl FnMut(&Post, &mut dyn Write) -> Result<()>,
) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut bad = 0usize;
    let source = path.map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
    for (i, line) in input(path)?.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read line {}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Post>(&line) {
            Ok(post) => {
                write(&post, &mut out)?;
                out.write_all(b"\n")?;
            }
            Err(e) => {
                bad += 1;
                out.flush()?;
                eprintln!("{}:{}:{}: error: {}", source, i + 1, e.column(), json_problem(&e));
            }
        }
    }
    out.flush()?;
    Ok(if bad > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
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
    let t = triager.triage(&Post::from(post));
    if t.sensitive {
        t.topics.into_iter().map(|m| m.id).collect()
    } else {
        t.kind.into_iter().collect()
    }
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
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
        if misses {
            println!("misses:");
            for (id, gold, got) in &report.misses {
                println!("  {id}: expected {} got {}", gold.join("+"), got.join("+"));
            }
        }
    }
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
    print!("{}", redactor.redact(&text).0);
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
    for f in &findings {
        println!("{f}");
    }
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
