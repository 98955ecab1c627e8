//! The classifier: policy cues (and, when present, the learned model) scored per topic.
//!
//! Every phrase of every topic, and every gate literal of the patterns, goes into one trie,
//! walked from each word start of each field, ASCII case-insensitively, on Unicode word
//! boundaries (see `phrases`); patterns are regular expressions, tried only where their
//! prefix literals occur with their other required literals within reach (see
//! `patterns`). A topic's
//! score is the sum of the weights of the distinct cues found (a cue found in the title
//! weighs half again as much), plus the learned model's vote. A post is sensitive when a
//! sensitive topic reaches its threshold.

use regex::RegexBuilder;
use steward_policy::Policy;

use crate::model::{Model, VoteTable};
use crate::patterns::Patterns;
use crate::phrases::{Needle, Phrases};
use crate::post::{Evidence, Field, Post, Redacted, TopicMatch, Triage};
use crate::redact::{redact_span, PiiFinding, PiiKind, Redactor};

/// Weight multiplier for a cue matched in the title: titles say what a post is about.
const TITLE_BOOST: f32 = 1.5;
/// A second sensitive topic is reported only when it scores at least this share of the first.
const SECONDARY_SHARE: f32 = 0.5;
/// When no sensitive topic applies, the kind is chosen with the learned model's vote counted
/// this many times: the kinds' cues are generic words ("error", "how", "add"), and the model,
/// trained on whole posts, tells a bug report from a question better. Chosen by measurement
/// (`steward triage eval`, macro-F1 over all labels): the largest factor that helped on every
/// set. Escalation does not depend on it.
const KIND_MODEL_BOOST: f32 = 2.0;
/// At most this many evidence spans are kept per topic.
const MAX_EVIDENCE: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum TriagerError {
    #[error("topic `{topic}`: bad pattern `{pattern}`: {source}")]
    Pattern { topic: String, pattern: String, source: regex::Error },
    #[error("topic `{topic}`: pattern `{pattern}` cannot be compiled for matching: {message}")]
    PatternEngine { topic: String, pattern: String, message: String },
    #[error("cannot build the phrase matcher: {0}")]
    Phrases(#[from] crate::phrases::TooManyStates),
}

/// Where a cue came from: its topic, its weight, and an id that makes it count once.
#[derive(Debug, Clone, Copy)]
struct CueRef {
    topic: usize,
    weight: f32,
    title_only: bool,
    /// Distinct per phrase or pattern as written in the policy (variants share it).
    item: usize,
    /// The cue group (index into `Triager::groups`).
    group: usize,
}

#[derive(Debug, Clone, Copy)]
struct PhraseMeta {
    cue: CueRef,
    /// Written with a trailing `*`: matches any word that starts with it.
    prefix: bool,
}

#[derive(Debug)]
struct TopicInfo {
    id: String,
    sensitive: bool,
    threshold: f32,
}

/// A triage engine built once from a policy and shared across threads.
#[derive(Debug)]
pub struct Triager {
    topics: Vec<TopicInfo>,
    phrases: Phrases,
    phrase_meta: Vec<PhraseMeta>,
    patterns: Patterns,
    /// The cue of each pattern of `patterns`.
    pattern_cues: Vec<CueRef>,
    redactor: Redactor,
    /// The learned model's weights laid out for scoring, and for each topic its label's column.
    votes: Option<(VoteTable, Vec<Option<usize>>)>,
    model_weight: f32,
    /// Per cue group: its topic and its cap.
    groups: Vec<(usize, Option<f32>)>,
}

impl Triager {
    /// Builds a triager from the policy's cues alone.
    pub fn new(policy: &Policy) -> Result<Self, TriagerError> {
        let mut needles: Vec<String> = Vec::new();
        let mut phrase_meta = Vec::new();
        let mut pattern_srcs = Vec::new();
        let mut pattern_cues = Vec::new();
        let mut pattern_topics = Vec::new();
        let mut item = 0;
        let mut groups = Vec::new();
        for (ti, topic) in policy.topics.iter().enumerate() {
            for cue in &topic.cues {
                let group = groups.len();
                groups.push((ti, cue.cap.map(|c| c as f32)));
                for phrase in &cue.phrases {
                    let cref = CueRef {
                        topic: ti,
                        weight: cue.weight as f32,
                        title_only: cue.title_only,
                        item,
                        group,
                    };
                    item += 1;
                    let (body, prefix) = match phrase.trim().strip_suffix('*') {
                        Some(p) => (p.trim(), true),
                        None => (phrase.trim(), false),
                    };
                    for variant in variants(body) {
                        needles.push(variant);
                        phrase_meta.push(PhraseMeta { cue: cref, prefix });
                    }
                }
                for pattern in &cue.patterns {
                    let cref = CueRef {
                        topic: ti,
                        weight: cue.weight as f32,
                        title_only: cue.title_only,
                        item,
                        group,
                    };
                    item += 1;
                    // Checked as the author wrote it, so an error quotes their text.
                    RegexBuilder::new(pattern)
                        .case_insensitive(true)
                        .size_limit(1 << 24)
                        .build()
                        .map_err(|source| TriagerError::Pattern {
                        topic: topic.id.clone(),
                        pattern: pattern.clone(),
                        source,
                    })?;
                    pattern_srcs.push(pattern.clone());
                    pattern_cues.push(cref);
                    pattern_topics.push((topic.id.clone(), pattern.clone()));
                }
            }
        }
        let patterns = Patterns::new(&pattern_srcs).map_err(|e| {
            let (topic, pattern) = pattern_topics[e.index].clone();
            TriagerError::PatternEngine { topic, pattern, message: e.message }
        })?;
        let phrases = Phrases::new(&needles, patterns.literals())?;
        let topics = policy
            .topics
            .iter()
            .map(|t| TopicInfo {
                id: t.id.clone(),
                sensitive: t.sensitive,
                threshold: t.threshold as f32,
            })
            .collect();
        Ok(Self {
            topics,
            phrases,
            phrase_meta,
            patterns,
            pattern_cues,
            redactor: Redactor::new(&policy.allow_domains),
            votes: None,
            model_weight: policy.model_weight as f32,
            groups,
        })
    }

    /// Adds a learned model whose votes are added to the rule scores.
    pub fn with_model(mut self, model: &Model) -> Self {
        let table = model.vote_table();
        let columns =
            self.topics.iter().map(|t| table.labels().iter().position(|l| *l == t.id)).collect();
        self.votes = Some((table, columns));
        self
    }

    pub fn has_model(&self) -> bool {
        self.votes.is_some()
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Triage of one post: topics with evidence, or the non-sensitive kind; personal data
    /// found and redacted.
    pub fn triage(&self, post: &Post) -> Triage {
        let (mut topics, kind) = self.decide(post, self.tally(post));
        let (title, title_pii) = self.redactor.redact(&post.title);
        let (body, body_pii) = self.redactor.redact(&post.body);
        redact_evidence(
            post,
            topics.iter_mut().flat_map(|t| t.evidence.iter_mut()),
            [&title_pii, &body_pii],
        );
        let pii = title_pii
            .into_iter()
            .map(|(kind, r)| PiiFinding { kind, field: Field::Title, start: r.start, end: r.end })
            .chain(body_pii.into_iter().map(|(kind, r)| PiiFinding {
                kind,
                field: Field::Body,
                start: r.start,
                end: r.end,
            }))
            .collect();
        Triage {
            id: post.id.clone(),
            sensitive: !topics.is_empty(),
            topics,
            kind,
            pii,
            redacted: Redacted { title, body },
        }
    }

    /// Per-topic scores with evidence, before any decision (for explanation and tuning).
    /// Personal data inside the evidence is redacted as in [`Triager::triage`].
    pub fn score(&self, post: &Post) -> Vec<Scored> {
        let tally = self.tally(post);
        let mut scored: Vec<Scored> = self
            .topics
            .iter()
            .zip(tally.scores)
            .zip(tally.model)
            .zip(tally.spans)
            .map(|(((t, score), model), spans)| Scored {
                id: t.id.clone(),
                sensitive: t.sensitive,
                threshold: t.threshold,
                score,
                model,
                evidence: evidence(post, &spans),
            })
            .collect();
        let (title_pii, body_pii) =
            (self.redactor.find(&post.title), self.redactor.find(&post.body));
        redact_evidence(
            post,
            scored.iter_mut().flat_map(|t| t.evidence.iter_mut()),
            [&title_pii, &body_pii],
        );
        scored
    }

    /// Per-topic scores and evidence spans, in the order of `self.topics`.
    fn tally(&self, post: &Post) -> Tally {
        SCRATCH.with(|scratch| self.tally_with(post, &mut scratch.borrow_mut()))
    }

    fn tally_with(&self, post: &Post, scratch: &mut Scratch) -> Tally {
        let Scratch { found, spans, literals, group_sums } = scratch;
        found.clear();
        spans.clear();
        for field in [Field::Title, Field::Body] {
            let text = post.field(field);
            if text.is_empty() {
                continue;
            }
            let in_title = field == Field::Title;
            let mut note = |cue: CueRef, start: usize, end: usize| {
                if cue.title_only && !in_title {
                    return;
                }
                found.push((cue, in_title));
                if cue.weight > 0.0 {
                    spans.push((cue.topic, Span { field, start, end }));
                }
            };
            literals.clear();
            self.phrases.find_each(text, |needle, start, mut end| match needle {
                Needle::Phrase(i) => {
                    let meta = self.phrase_meta[i];
                    if meta.prefix {
                        end += text[end..].find(|c| !is_word_char(c)).unwrap_or(text.len() - end);
                    } else if !boundary_after(text, end) {
                        return;
                    }
                    note(meta.cue, start, end);
                }
                Needle::Literal(i) => literals.push((i, start)),
            });
            self.patterns
                .find_each(text, literals, |i, start, end| note(self.pattern_cues[i], start, end));
        }
        // A cue found in the title sorts first, so the one kept says so.
        found.sort_unstable_by_key(|(cue, in_title)| (cue.item, !in_title));
        found.dedup_by_key(|(cue, _)| cue.item);
        // Evidence: per topic, title first, in order, each span once, at most MAX_EVIDENCE
        // (the first ones found in reading order).
        spans.sort_unstable_by_key(|(topic, s)| (*topic, s.field != Field::Title, s.start, s.end));
        spans.dedup();
        let mut evidence: Vec<Vec<Span>> = vec![Vec::new(); self.topics.len()];
        for &(topic, span) in spans.iter() {
            if evidence[topic].len() < MAX_EVIDENCE {
                evidence[topic].push(span);
            }
        }

        // Each item counts once, whatever its variants and however often it was found.
        group_sums.clear();
        group_sums.resize(self.groups.len(), 0.0);
        for &(cue, in_title) in found.iter() {
            group_sums[cue.group] += weigh(cue.weight, in_title);
        }
        let mut scores = vec![0.0f32; self.topics.len()];
        for (&(topic, cap), &sum) in self.groups.iter().zip(group_sums.iter()) {
            scores[topic] += match cap {
                Some(cap) => sum.clamp(-cap, cap),
                None => sum,
            };
        }
        let mut model = vec![0.0f32; self.topics.len()];
        if let (Some((table, columns)), true) = (&self.votes, self.model_weight > 0.0) {
            let votes = table.votes(&post.title, &post.body);
            for ((score, part), column) in scores.iter_mut().zip(&mut model).zip(columns) {
                if let Some(c) = column {
                    *part = self.model_weight * votes[*c];
                    *score += *part;
                }
            }
        }
        Tally { scores, model, spans: evidence }
    }

    /// The sensitive topics that reach their threshold (the top one, and the others within
    /// [`SECONDARY_SHARE`] of it), or else the non-sensitive kind that scores highest, its
    /// model vote counted [`KIND_MODEL_BOOST`] times.
    fn decide(&self, post: &Post, tally: Tally) -> (Vec<TopicMatch>, Option<String>) {
        let Tally { scores, mut spans, model } = tally;
        let mut sensitive: Vec<usize> = (0..self.topics.len())
            .filter(|&i| self.topics[i].sensitive && scores[i] >= self.topics[i].threshold)
            .collect();
        sensitive.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        if let Some(top) = sensitive.first().map(|&i| scores[i]) {
            let topics = sensitive
                .into_iter()
                .filter(|&i| scores[i] >= top * SECONDARY_SHARE)
                .map(|i| TopicMatch {
                    id: self.topics[i].id.clone(),
                    score: round2(scores[i]),
                    evidence: evidence(post, &std::mem::take(&mut spans[i])),
                })
                .collect();
            return (topics, None);
        }
        let kind_score = |i: usize| scores[i] + (KIND_MODEL_BOOST - 1.0) * model[i];
        let kind = (0..self.topics.len())
            .filter(|&i| !self.topics[i].sensitive)
            .max_by(|&a, &b| kind_score(a).total_cmp(&kind_score(b)))
            .map(|i| self.topics[i].id.clone());
        (Vec::new(), kind)
    }

    /// Finds and redacts personal data in free text.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text).0
    }
}

/// Per thread, reused from post to post by [`Triager::tally`].
#[derive(Default)]
struct Scratch {
    /// Every cue occurrence, with whether it was in the title: sorted by cue, so that each
    /// cue counts once, without a search per occurrence.
    found: Vec<(CueRef, bool)>,
    /// Where cues were found, by topic: (topic, span).
    spans: Vec<(usize, Span)>,
    /// Where the patterns' gate literals occur in the field being read.
    literals: Vec<(usize, usize)>,
    group_sums: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Per-topic scores and where their cues were found, before any text is copied.
struct Tally {
    scores: Vec<f32>,
    /// The learned model's part of each score.
    model: Vec<f32>,
    spans: Vec<Vec<Span>>,
}

/// Where a cue was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    field: Field,
    start: usize,
    end: usize,
}

/// Evidence leaves the desk too (stored, notices, API, `triage explain`): personal data
/// inside a matched window is replaced the same way as in the redacted text (`found`: the
/// title's findings, then the body's). Offsets stay those of the original post.
fn redact_evidence<'a>(
    post: &Post,
    evidence: impl Iterator<Item = &'a mut Evidence>,
    found: [&[(PiiKind, std::ops::Range<usize>)]; 2],
) {
    for e in evidence {
        let found = match e.field {
            Field::Title => found[0],
            Field::Body => found[1],
        };
        if found.iter().any(|(_, r)| r.start < e.end && r.end > e.start) {
            e.text = redact_span(post.field(e.field), e.start..e.end, found);
        }
    }
}

/// The evidence of `spans`: their words as the post has them.
fn evidence(post: &Post, spans: &[Span]) -> Vec<Evidence> {
    spans
        .iter()
        .map(|s| Evidence {
            field: s.field,
            start: s.start,
            end: s.end,
            text: post.field(s.field)[s.start..s.end].to_string(),
        })
        .collect()
}

/// A topic's score for one post, with the evidence behind it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scored {
    pub id: String,
    pub sensitive: bool,
    #[serde(serialize_with = "two_decimals")]
    pub threshold: f32,
    /// Everything counted: the cues found and the model's vote.
    #[serde(serialize_with = "two_decimals")]
    pub score: f32,
    /// The learned model's part of `score` (its vote times the policy's model weight).
    #[serde(serialize_with = "two_decimals")]
    pub model: f32,
    pub evidence: Vec<Evidence>,
}

fn weigh(weight: f32, in_title: bool) -> f32 {
    if in_title && weight > 0.0 {
        weight * TITLE_BOOST
    } else {
        weight
    }
}

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}

/// Scores are written with two decimals, as in a triage verdict: f32 sums carry noise in
/// the last digits.
fn two_decimals<S: serde::Serializer>(x: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round2(*x))
}

/// Word characters in any script: a phrase next to “curly quotes”, «guillemets», dashes or
/// emoji still starts and ends at a word boundary, while "Telemetrie" inside "Télémetrie"
/// does not match "metrie".
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `end` is a char boundary of `text`.
fn boundary_after(text: &str, end: usize) -> bool {
    let last = text[..end].chars().next_back();
    let after = text[end..].chars().next();
    !(last.is_some_and(is_word_char) && after.is_some_and(is_word_char))
}

/// The spellings a phrase is matched in: hyphens and spaces are interchangeable
/// ("opt-in", "opt in"), and a straight apostrophe also matches a curly one.
fn variants(phrase: &str) -> Vec<String> {
    let mut out = vec![phrase.to_string()];
    if phrase.contains(['-', ' ']) {
        out.push(phrase.replace('-', " "));
        out.push(phrase.replace(' ', "-"));
    }
    // "--onlyallow" is not also matched as "  onlyallow": a variant that begins or ends
    // with a space would start a walk at every space.
    out.retain(|v| !v.starts_with(' ') && !v.ends_with(' '));
    if phrase.contains('\'') {
        let curly: Vec<String> = out.iter().map(|p| p.replace('\'', "\u{2019}")).collect();
        out.extend(curly);
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_cover_hyphen_space_and_curly_apostrophe() {
        let v = variants("don't opt-in");
        for want in ["don't opt-in", "don't opt in", "don't-opt-in", "don\u{2019}t opt-in"] {
            assert!(v.contains(&want.to_string()), "{want:?} missing from {v:?}");
        }
        assert_eq!(variants("--onlyallow"), ["--onlyallow"], "no variant starts with a space");
    }

    /// Between kinds, the model's vote counts twice: rules 1.2 with the model at 0.0 lose to
    /// rules 0.5 with the model at 0.4 (0.9 + 0.4), which a plain sum would not do.
    #[test]
    fn the_kind_counts_the_model_vote_twice() {
        let src = include_str!("../../../examples/policy.toml");
        let (policy, _) = steward_policy::parse(src).valid().expect("the example policy");
        let t = Triager::new(&policy).expect("triager");
        let at = |id: &str| t.topics.iter().position(|x| x.id == id).expect(id);
        let (bug, question) = (at("bug_report"), at("troubleshooting"));
        let n = t.topics.len();
        let tally = |bug_rules: f32, question_rules: f32, question_model: f32| {
            let mut scores = vec![0.0; n];
            let mut model = vec![0.0; n];
            scores[bug] = bug_rules;
            model[question] = question_model;
            scores[question] = question_rules + question_model;
            Tally { scores, model, spans: vec![Vec::new(); n] }
        };
        let post = Post::default();
        let (_, kind) = t.decide(&post, tally(1.2, 0.5, 0.4));
        assert_eq!(kind.as_deref(), Some("troubleshooting"), "0.5 + 2 × 0.4 beats 1.2");
        let (_, kind) = t.decide(&post, tally(1.4, 0.5, 0.4));
        assert_eq!(kind.as_deref(), Some("bug_report"), "1.4 beats 0.5 + 2 × 0.4");
    }

    #[test]
    fn word_boundaries_after_a_phrase() {
        let t = "relicensed license";
        assert!(boundary_after(t, t.len()));
        assert!(!boundary_after(t, 5));
        // Non-ASCII punctuation is a boundary; non-ASCII letters are not.
        let t = "“phone” Télémetrie";
        let phone = t.find("phone").unwrap();
        assert!(boundary_after(t, phone + "phone".len()));
        assert!(!boundary_after(t, t.find("Tél").unwrap() + "Tél".len()));
    }
}
