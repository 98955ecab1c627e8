//! The learned model: one-vs-rest logistic regression over hashed word features.
//!
//! Trained from labeled posts (the project's own set, plus relabels made on the desk), it
//! adds a vote in [-1, 1] per topic to the rule scores, so that posts which use none of a
//! topic's usual words can still reach it, and posts that use them in passing can fall
//! short. Hashing keeps the model a fixed size whatever the vocabulary; training is
//! deterministic (fixed order, no randomness) so the same data gives the same model.

use serde::{Deserialize, Serialize};

/// Number of hashed feature buckets.
const BUCKETS: usize = 1 << 18;
const EPOCHS: usize = 40;
const LEARNING_RATE: f32 = 0.2;
const L2: f32 = 1e-4;

/// One labeled example.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Example {
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
}

/// A trained model: per label, a bias and sparse weights over hashed features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub labels: Vec<LabelWeights>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelWeights {
    pub label: String,
    pub bias: f32,
    /// (bucket, weight) pairs, non-zero weights only.
    pub weights: Vec<(u32, f32)>,
}

impl Model {
    /// Trains one classifier per label seen in the examples.
    pub fn train(examples: &[Example]) -> Model {
        let mut labels: Vec<&str> =
            examples.iter().flat_map(|e| e.labels.iter().map(String::as_str)).collect();
        labels.sort_unstable();
        labels.dedup();
        let feats: Vec<Vec<u32>> = examples.iter().map(|e| features(&e.title, &e.body)).collect();
        let labels = labels
            .into_iter()
            .map(|label| {
                let ys: Vec<f32> = examples
                    .iter()
                    .map(|e| if e.labels.iter().any(|l| l == label) { 1.0 } else { 0.0 })
                    .collect();
                train_one(label, &feats, &ys)
            })
            .collect();
        Model { labels }
    }

    /// The weights laid out for fast scoring (see [`VoteTable`]).
    pub fn vote_table(&self) -> VoteTable {
        let mut buckets: Vec<u32> =
            self.labels.iter().flat_map(|lw| lw.weights.iter().map(|(b, _)| *b)).collect();
        buckets.sort_unstable();
        buckets.dedup();
        let n = self.labels.len();
        let mut rows = vec![0.0f32; buckets.len() * n];
        for (li, lw) in self.labels.iter().enumerate() {
            for (b, w) in &lw.weights {
                if let Ok(at) = buckets.binary_search(b) {
                    rows[at * n + li] = *w;
                }
            }
        }
        let mut row_of = vec![NO_ROW; BUCKETS];
        for (row, b) in buckets.iter().enumerate() {
            if let Some(slot) = row_of.get_mut(*b as usize) {
                *slot = row as u32;
            }
        }
        VoteTable {
            labels: self.labels.iter().map(|lw| lw.label.clone()).collect(),
            biases: self.labels.iter().map(|lw| lw.bias).collect(),
            row_of,
            rows,
        }
    }
}

/// A model's weights as one table: for each feature bucket any label uses, one row of
/// weights (a column per label), found through a direct index of all buckets (1 MiB). A
/// feature costs one lookup, not one binary search per label.
#[derive(Debug, Clone)]
pub struct VoteTable {
    labels: Vec<String>,
    biases: Vec<f32>,
    /// Bucket → row of `rows`, or [`NO_ROW`].
    row_of: Vec<u32>,
    rows: Vec<f32>,
}

const NO_ROW: u32 = u32::MAX;

impl VoteTable {
    /// The labels, in the order of [`VoteTable::votes`].
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Each label's vote for a post, `2p - 1`, in the order of [`VoteTable::labels`].
    pub fn votes(&self, title: &str, body: &str) -> Vec<f32> {
        let n = self.labels.len();
        let mut z = self.biases.clone();
        // Each row counts once (a feature counts once, as in training): a row's weights are
        // added the first time one of its features is seen, marked in a bit set of rows
        // that is cleared again afterwards, row by row (no sort, no allocation per post).
        SEEN.with(|seen| {
            let mut seen = seen.borrow_mut();
            let Seen { bits, touched } = &mut *seen;
            let words = (self.rows.len() / n.max(1)).div_ceil(64);
            if bits.len() < words {
                bits.resize(words, 0);
            }
            each_feature(title, body, |f| {
                let row = self.row_of.get(f as usize).copied().unwrap_or(NO_ROW);
                if row == NO_ROW {
                    return;
                }
                let (word, bit) = (row as usize / 64, 1u64 << (row % 64));
                let Some(slot) = bits.get_mut(word) else { return };
                if *slot & bit != 0 {
                    return;
                }
                *slot |= bit;
                touched.push(row);
                let at = row as usize * n;
                if let Some(weights) = self.rows.get(at..at + n) {
                    for (zi, w) in z.iter_mut().zip(weights) {
                        *zi += w;
                    }
                }
            });
            for row in touched.drain(..) {
                if let Some(slot) = bits.get_mut(row as usize / 64) {
                    *slot = 0;
                }
            }
        });
        z.into_iter().map(|z| 2.0 * sigmoid(z) - 1.0).collect()
    }
}

/// Per thread: which rows a post's features have already added, for [`VoteTable::votes`].
#[derive(Default)]
struct Seen {
    bits: Vec<u64>,
    touched: Vec<u32>,
}

thread_local! {
    static SEEN: std::cell::RefCell<Seen> = std::cell::RefCell::new(Seen::default());
}

fn train_one(label: &str, feats: &[Vec<u32>], ys: &[f32]) -> LabelWeights {
    let mut w = vec![0.0f32; BUCKETS];
    let positives = ys.iter().filter(|y| **y > 0.5).count().max(1) as f32;
    let negatives = (ys.len() as f32 - positives).max(1.0);
    // Class weights balance the rare positive label against the many negatives.
    let (pos_w, neg_w) = (ys.len() as f32 / (2.0 * positives), ys.len() as f32 / (2.0 * negatives));
    let mut bias = 0.0f32;
    for epoch in 0..EPOCHS {
        let lr = LEARNING_RATE / (1.0 + epoch as f32 * 0.1);
        for (x, &y) in feats.iter().zip(ys) {
            let z = bias + x.iter().map(|&f| w[f as usize]).sum::<f32>();
            let g = (sigmoid(z) - y) * if y > 0.5 { pos_w } else { neg_w };
            bias -= lr * g;
            for &f in x {
                let wf = &mut w[f as usize];
                *wf -= lr * (g + L2 * *wf);
            }
        }
    }
    let weights =
        w.iter().enumerate().filter(|(_, v)| v.abs() > 1e-4).map(|(i, v)| (i as u32, *v)).collect();
    LabelWeights { label: label.to_string(), bias, weights }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Hashed, de-duplicated features: lowercased word unigrams and bigrams of title and body,
/// and title unigrams again under their own prefix.
pub fn features(title: &str, body: &str) -> Vec<u32> {
    let mut out = Vec::new();
    each_feature(title, body, |f| out.push(f));
    out.sort_unstable();
    out.dedup();
    out
}

/// Calls `f` with each feature of [`features`], repeats included, in no useful order.
fn each_feature(title: &str, body: &str, mut f: impl FnMut(u32)) {
    for (in_title, text) in [(true, title), (false, body)] {
        let mut previous = None;
        each_word_hash(text, |word| {
            if let Some(previous) = previous {
                f(hash(&[4, previous, word]));
            }
            f(hash(&[2, word]));
            if in_title {
                f(hash(&[3, word]));
            }
            previous = Some(word);
        });
    }
}

/// The [`word_hash`] of each word of `text`: split at characters that are neither
/// alphanumeric nor an apostrophe, apostrophes trimmed, lowercased; empty words, words over
/// 30 bytes and numbers left out; at most 2,000. ASCII (nearly all text) is read byte by
/// byte and hashed without allocating.
fn each_word_hash(text: &str, mut f: impl FnMut(u64)) {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut words = 0;
    while at < bytes.len() && words < 2000 {
        let start = at;
        let mut ascii = true;
        while at < bytes.len() {
            let b = bytes[at];
            if b < 0x80 {
                if !(b.is_ascii_alphanumeric() || b == b'\'') {
                    break;
                }
                at += 1;
            } else {
                let c = text[at..].chars().next().unwrap_or_default();
                if !c.is_alphanumeric() {
                    break;
                }
                ascii = false;
                at += c.len_utf8();
            }
        }
        if at == start {
            // A separator: step over it, whole.
            at += text[at..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let w = text[start..at].trim_matches('\'');
        if w.is_empty() || w.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if ascii {
            if w.len() <= 30 {
                f(fnv(w.bytes().map(|b| b.to_ascii_lowercase())));
                words += 1;
            }
        } else {
            let lower = w.to_lowercase();
            if lower.len() <= 30 {
                f(word_hash(&lower));
                words += 1;
            }
        }
    }
}

#[cfg(test)]
fn word_hashes(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    each_word_hash(text, |h| out.push(h));
    out
}

/// FNV-1a: stable across runs and platforms, unlike `std`'s randomly seeded hasher, so a
/// saved model keeps meaning the same features.
fn word_hash(word: &str) -> u64 {
    fnv(word.bytes())
}

fn fnv(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn hash(parts: &[u64]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        h ^= *p;
        h = h.wrapping_mul(0x0100_0000_01b3);
        h ^= h >> 29;
    }
    (h % BUCKETS as u64) as u32
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    /// The words as the first version of the model saw them; saved models depend on it.
    fn reference_words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric() && c != '\'')
            .map(|w| w.trim_matches('\'').to_lowercase())
            .filter(|w| !w.is_empty() && w.len() <= 30 && !w.chars().all(|c| c.is_ascii_digit()))
            .take(2000)
            .collect()
    }

    #[test]
    fn word_hashes_match_the_reference_words() {
        for text in [
            "Does the APP phone home? It's 2024, 'quoted' words and don't-stop",
            "Télémetrie ÜBER straße İstanbul 日本語 text — “curly” 42 4x4 ''",
            "averyveryveryveryverylongwordthatisoverthirtybytes short",
            "ÀÀÀÀÀÀÀÀÀÀÀÀÀÀÀ fifteen two-byte letters",
        ] {
            let want: Vec<u64> = reference_words(text).iter().map(|w| word_hash(w)).collect();
            assert_eq!(word_hashes(text), want, "{text}");
        }
    }

    use super::*;

    fn ex(title: &str, labels: &[&str]) -> Example {
        Example {
            title: title.into(),
            body: String::new(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn learns_separable_labels_and_is_deterministic() {
        let data = vec![
            ex("why does the app phone home", &["privacy_telemetry"]),
            ex("stop sending my usage to your servers", &["privacy_telemetry"]),
            ex("crash when opening settings", &["bug_report"]),
            ex("app crashes on startup", &["bug_report"]),
        ];
        let a = Model::train(&data);
        let b = Model::train(&data);
        assert_eq!(a, b);
        let table = a.vote_table();
        let votes = table.votes("the app keeps sending usage to your servers", "");
        let v: HashMap<&str, f32> = table.labels().iter().map(String::as_str).zip(votes).collect();
        assert!(v["privacy_telemetry"] > 0.0, "{v:?}");
        assert!(v["bug_report"] < v["privacy_telemetry"], "{v:?}");
    }

    /// Votes add each feature's weights once, as training counted it: the same as summing
    /// the label weights over the de-duplicated `features` the plain way.
    #[test]
    fn votes_count_each_feature_once() {
        let data = vec![
            ex("the app phones home phones home", &["privacy_telemetry"]),
            ex("telemetry is sent home without consent", &["privacy_telemetry"]),
            ex("crash when opening settings twice twice", &["bug_report"]),
            ex("app crashes on startup on startup", &["bug_report"]),
        ];
        let model = Model::train(&data);
        let table = model.vote_table();
        let (title, body) = ("Phones home, phones HOME", "crash crash on startup; home home");
        let feats = features(title, body);
        for (label, vote) in model.labels.iter().zip(table.votes(title, body)) {
            let z = label.bias
                + label
                    .weights
                    .iter()
                    .filter(|(b, _)| feats.binary_search(b).is_ok())
                    .map(|(_, w)| w)
                    .sum::<f32>();
            let want = 2.0 * sigmoid(z) - 1.0;
            assert!((vote - want).abs() < 1e-5, "{}: {vote} vs {want}", label.label);
        }
    }

    #[test]
    fn features_are_case_insensitive() {
        assert_eq!(features("Phone Home", ""), features("phone home", ""));
    }
}
