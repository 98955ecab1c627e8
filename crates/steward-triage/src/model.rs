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

/// How a model is trained (see [`Model::train_with`]); [`Default`] is what
/// [`Model::train`] uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Passes over the examples.
    pub epochs: usize,
    /// Step size of the first pass; pass `e` uses `learning_rate / (1 + 0.1 e)`.
    pub learning_rate: f32,
    /// L2 penalty on a feature's weight, applied when the feature is seen.
    pub l2: f32,
    /// How far positives and negatives are weighed so that each class counts half: each
    /// class's weight is raised to this power (1: fully balanced, 0: every post weighs 1).
    pub balance: f32,
    /// Features found in fewer training posts than this are left out of the model.
    pub min_posts: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { epochs: 40, learning_rate: 0.2, l2: 1e-4, balance: 1.0, min_posts: 1 }
    }
}

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
        Self::train_with(examples, &TrainConfig::default())
    }

    /// [`Model::train`] with the given settings.
    pub fn train_with(examples: &[Example], config: &TrainConfig) -> Model {
        let mut labels: Vec<&str> =
            examples.iter().flat_map(|e| e.labels.iter().map(String::as_str)).collect();
        labels.sort_unstable();
        labels.dedup();
        let mut feats: Vec<Vec<u32>> =
            examples.iter().map(|e| features(&e.title, &e.body)).collect();
        if config.min_posts > 1 {
            let mut posts = vec![0u32; BUCKETS];
            for f in feats.iter().flatten() {
                posts[*f as usize] += 1;
            }
            for x in &mut feats {
                x.retain(|f| posts[*f as usize] as usize >= config.min_posts);
            }
        }
        let labels = labels
            .into_iter()
            .map(|label| {
                let ys: Vec<f32> = examples
                    .iter()
                    .map(|e| if e.labels.iter().any(|l| l == label) { 1.0 } else { 0.0 })
                    .collect();
                train_one(label, &feats, &ys, config)
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
        // A model read from a file may name buckets past the table; no feature hashes there.
        buckets.retain(|b| (*b as usize) < BUCKETS);
        let stride = self.labels.len().div_ceil(LANES).max(1);
        let largest = self
            .labels
            .iter()
            .flat_map(|lw| lw.weights.iter().map(|(_, w)| w.abs()))
            .filter(|w| w.is_finite())
            .fold(0.0f32, f32::max);
        let scale = if largest > 0.0 { largest / f32::from(i16::MAX) } else { 1.0 };
        let mut rows = vec![Row([0; LANES]); buckets.len() * stride];
        for (li, lw) in self.labels.iter().enumerate() {
            for (b, w) in &lw.weights {
                if let Ok(at) = buckets.binary_search(b) {
                    // In range by the choice of `scale`; `as` saturates a non-finite weight.
                    rows[at * stride + li / LANES].0[li % LANES] = (w / scale).round() as i16;
                }
            }
        }
        let mut present = vec![0u64; BUCKETS / 64];
        for b in &buckets {
            present[*b as usize / 64] |= 1 << (b % 64);
        }
        let mut rank = Vec::with_capacity(present.len());
        let mut before = 0u32;
        for word in &present {
            rank.push(before);
            before += word.count_ones();
        }
        VoteTable {
            labels: self.labels.iter().map(|lw| lw.label.clone()).collect(),
            biases: self.labels.iter().map(|lw| lw.bias).collect(),
            present,
            rank,
            rows,
            stride,
            scale,
        }
    }
}

/// Labels whose weights sit in one [`Row`] (half a cache line).
const LANES: usize = 16;

/// Weights of one feature for up to [`LANES`] labels, in units of [`VoteTable::scale`]:
/// half a cache line, added lane by lane.
#[derive(Debug, Clone, Copy)]
#[repr(align(32))]
struct Row([i16; LANES]);

/// A model's weights as one table: for each feature bucket any label uses, one row of
/// weights (a lane per label), as 16-bit multiples of one step (the largest weight over
/// 32,767: under 0.0002 on the shipped model, whose median weight is 0.03), which halves
/// the table against `f32` so that more of it stays in cache. Which buckets have a row is
/// a bit set over all buckets with the count of rows before each 64 of them (48 KiB, which
/// stays in the nearest caches), so a feature costs a lookup and a population count, not
/// one binary search per label nor a cache miss in a megabyte-sized index.
#[derive(Debug, Clone)]
pub struct VoteTable {
    labels: Vec<String>,
    biases: Vec<f32>,
    /// Bit `b` is set when bucket `b` has a row.
    present: Vec<u64>,
    /// For each word of `present`, how many rows the words before it hold.
    rank: Vec<u32>,
    /// Rows in bucket order, `stride` [`Row`]s each (one for up to 16 labels).
    rows: Vec<Row>,
    stride: usize,
    /// The weight of one unit of a [`Row`].
    scale: f32,
}

impl VoteTable {
    /// The labels, in the order of [`VoteTable::votes`].
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The row of a feature bucket, if any label weighs it.
    fn row(&self, bucket: u32) -> Option<u32> {
        let (word, bit) = (bucket as usize / 64, bucket % 64);
        let bits = *self.present.get(word)?;
        if bits & (1 << bit) == 0 {
            return None;
        }
        Some(self.rank[word] + (bits & ((1u64 << bit) - 1)).count_ones())
    }

    /// Each label's vote for a post, `2p - 1`, in the order of [`VoteTable::labels`].
    pub fn votes(&self, title: &str, body: &str) -> Vec<f32> {
        // Each row counts once (a feature counts once, as in training). The post's rows are
        // gathered first and added afterwards, so that the loads of rows not in cache
        // overlap instead of waiting on each other.
        let sums = SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let Scratch { rows, seen } = &mut *scratch;
            seen.resize((self.rows.len() / self.stride).div_ceil(64), 0);
            rows.clear();
            each_feature(title, body, |f| rows.extend(self.row(f)));
            match self.stride {
                1 => add_rows(&self.rows, rows, seen),
                _ => add_rows_wide(&self.rows, self.stride, rows, seen),
            }
        });
        self.biases
            .iter()
            .zip(sums)
            .map(|(b, sum)| 2.0 * sigmoid(b + sum as f32 * self.scale) - 1.0)
            .collect()
    }
}

/// The sum of `rows`, each counted once, lane by lane in registers, for a model of at
/// most 16 labels (one [`Row`] per row).
fn add_rows(table: &[Row], rows: &[u32], seen: &mut [u64]) -> Vec<i32> {
    let mut lanes = [0i32; LANES];
    each_once(rows, seen, |row| {
        for (sum, w) in lanes.iter_mut().zip(&table[row].0) {
            *sum += i32::from(*w);
        }
    });
    lanes.to_vec()
}

/// [`add_rows`] for a model of more than 16 labels.
fn add_rows_wide(table: &[Row], stride: usize, rows: &[u32], seen: &mut [u64]) -> Vec<i32> {
    let mut sums = vec![0i32; stride * LANES];
    each_once(rows, seen, |row| {
        let weights = table[row * stride..][..stride].iter().flat_map(|r| r.0);
        for (sum, w) in sums.iter_mut().zip(weights) {
            *sum += i32::from(w);
        }
    });
    sums
}

/// Calls `f` with each row of `rows` once: `seen` marks those done, a bit per row, and is
/// all clear again on return (no sort, no allocation per post).
fn each_once(rows: &[u32], seen: &mut [u64], mut f: impl FnMut(usize)) {
    for &row in rows {
        let (word, bit) = (row as usize / 64, 1u64 << (row % 64));
        if seen[word] & bit == 0 {
            seen[word] |= bit;
            f(row as usize);
        }
    }
    for &row in rows {
        seen[row as usize / 64] = 0;
    }
}

/// Per thread, reused from post to post by [`VoteTable::votes`].
#[derive(Default)]
struct Scratch {
    /// The rows of the post's features, repeats included.
    rows: Vec<u32>,
    /// Which rows have been added already, a bit per row.
    seen: Vec<u64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

fn train_one(label: &str, feats: &[Vec<u32>], ys: &[f32], config: &TrainConfig) -> LabelWeights {
    let mut w = vec![0.0f32; BUCKETS];
    let positives = ys.iter().filter(|y| **y > 0.5).count().max(1) as f32;
    let negatives = (ys.len() as f32 - positives).max(1.0);
    // Class weights balance the rare positive label against the many negatives.
    let (pos_w, neg_w) = (
        (ys.len() as f32 / (2.0 * positives)).powf(config.balance),
        (ys.len() as f32 / (2.0 * negatives)).powf(config.balance),
    );
    let mut bias = 0.0f32;
    for epoch in 0..config.epochs {
        let lr = config.learning_rate / (1.0 + epoch as f32 * 0.1);
        for (x, &y) in feats.iter().zip(ys) {
            let z = bias + x.iter().map(|&f| w[f as usize]).sum::<f32>();
            let g = (sigmoid(z) - y) * if y > 0.5 { pos_w } else { neg_w };
            bias -= lr * g;
            for &f in x {
                let wf = &mut w[f as usize];
                *wf -= lr * (g + config.l2 * *wf);
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
/// 30 bytes and numbers left out; at most 2,000. An ASCII word (nearly every word) is
/// hashed as it is read, in one pass and without allocating.
fn each_word_hash(text: &str, mut f: impl FnMut(u64)) {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut words = 0;
    while at < bytes.len() && words < 2000 {
        let start = at;
        let mut ascii = true;
        // An ASCII word is hashed as it is read. `kept` is the hash, length and "digits
        // only" as of its last letter or digit: apostrophes after it are trimmed, those
        // before its first are never hashed.
        let (mut hash, mut len, mut digits) = (FNV_START, 0usize, true);
        let mut kept = (hash, len, digits);
        while at < bytes.len() {
            let b = bytes[at];
            if b.is_ascii_alphanumeric() {
                hash = fnv_step(hash, b.to_ascii_lowercase());
                len += 1;
                digits &= b.is_ascii_digit();
                kept = (hash, len, digits);
                at += 1;
            } else if b == b'\'' {
                if len > 0 {
                    hash = fnv_step(hash, b);
                    len += 1;
                    digits = false;
                }
                at += 1;
            } else if b < 0x80 {
                break;
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
        if ascii {
            let (hash, len, digits) = kept;
            if len > 0 && !digits && len <= 30 {
                f(hash);
                words += 1;
            }
            continue;
        }
        let w = text[start..at].trim_matches('\'');
        if w.is_empty() || w.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let lower = w.to_lowercase();
        if lower.len() <= 30 {
            f(word_hash(&lower));
            words += 1;
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
    bytes.fold(FNV_START, fnv_step)
}

/// FNV-1a's 64-bit offset basis and prime.
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
}

fn hash(parts: &[u64]) -> u32 {
    let mut h: u64 = FNV_START;
    for p in parts {
        h ^= *p;
        h = h.wrapping_mul(FNV_PRIME);
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
            "'''' '12' 12'34 rock'n'roll'' 'tis x' ' a'' 2024's",
            "thirtybytesexactlyinonewordabc thirtyonebytesexactlyinoneworda' ''thirtybytesexactlyinonewordabc''",
        ] {
            let want: Vec<u64> = reference_words(text).iter().map(|w| word_hash(w)).collect();
            assert_eq!(word_hashes(text), want, "{text}");
        }
    }

    use super::*;

    proptest::proptest! {
        /// On any text of letters, digits, apostrophes and separators, ASCII or not, the
        /// one-pass hashing sees the reference's words.
        #[test]
        fn word_hashes_match_the_reference_on_any_text(
            text in "[a-zA-Z0-9'’ .,\\-ÀéİßΣ日]{0,60}"
        ) {
            let want: Vec<u64> = reference_words(&text).iter().map(|w| word_hash(w)).collect();
            proptest::prop_assert_eq!(word_hashes(&text), want);
        }
    }

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
        votes_are_the_plain_sum(
            &model,
            "Phones home, phones HOME",
            "crash crash on startup; home home",
        );
    }

    /// Each label's vote from the table is the sigmoid of its bias plus the weights of the
    /// post's de-duplicated features, summed the plain way (within the table's rounding).
    fn votes_are_the_plain_sum(model: &Model, title: &str, body: &str) {
        let table = model.vote_table();
        let feats = features(title, body);
        let votes = table.votes(title, body);
        assert_eq!(votes.len(), model.labels.len());
        for (label, vote) in model.labels.iter().zip(votes) {
            let z = label.bias
                + label
                    .weights
                    .iter()
                    .filter(|(b, _)| feats.binary_search(b).is_ok())
                    .map(|(_, w)| w)
                    .sum::<f32>();
            let want = 2.0 * sigmoid(z) - 1.0;
            // Each weight is stored within half a step; a vote moves at most half as fast
            // as its sum.
            let within = feats.len() as f32 * table.scale / 4.0 + 1e-6;
            assert!((vote - want).abs() <= within, "{}: {vote} vs {want}", label.label);
        }
    }

    /// A model of more labels than one row holds (a policy may define more topics) votes
    /// the same as the plain sum too.
    #[test]
    fn votes_of_a_model_wider_than_one_row() {
        let data: Vec<Example> = (0..20)
            .map(|i| {
                let label = format!("topic_{i}");
                ex(&format!("word{i} shared words word{i}"), &[label.as_str()])
            })
            .collect();
        let model = Model::train(&data);
        assert_eq!(model.labels.len(), 20);
        assert_eq!(model.vote_table().stride, 2);
        votes_are_the_plain_sum(&model, "word3 shared", "word17 words word3");
    }

    #[test]
    fn min_posts_leaves_out_features_of_a_single_post() {
        let data = vec![
            ex("telemetry phones home", &["privacy_telemetry"]),
            ex("telemetry sent without consent", &["privacy_telemetry"]),
            ex("crash on startup", &["bug_report"]),
        ];
        let config = TrainConfig { min_posts: 2, ..TrainConfig::default() };
        let model = Model::train_with(&data, &config);
        let kept: Vec<u32> =
            model.labels.iter().flat_map(|l| l.weights.iter().map(|(b, _)| *b)).collect();
        assert!(features("telemetry", "").iter().all(|f| kept.contains(f)));
        assert!(features("consent", "").iter().all(|f| !kept.contains(f)));
    }

    #[test]
    fn features_are_case_insensitive() {
        assert_eq!(features("Phone Home", ""), features("phone home", ""));
    }
}
