//! Measuring triage against labeled posts: per-label precision, recall and F1, escalation
//! recall and precision (sensitive or not), and macro-F1.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Counts for one label.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    pub fn support(&self) -> usize {
        self.tp + self.fn_
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// An evaluation: what was expected and what was predicted, post by post.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub posts: usize,
    pub labels: BTreeMap<String, Counts>,
    pub escalation: Counts,
    /// Posts whose predicted label set differs from the gold one: (id, gold, predicted).
    pub misses: Vec<(String, Vec<String>, Vec<String>)>,
    #[serde(skip)]
    sensitive: Vec<String>,
}

impl Report {
    /// A report over the given label vocabulary; `sensitive` names the sensitive topics.
    pub fn new(sensitive: &[&str]) -> Self {
        Self { sensitive: sensitive.iter().map(|s| s.to_string()).collect(), ..Self::default() }
    }

    /// Adds one post: the gold labels and the predicted ones (topics, or the one kind).
    pub fn add(&mut self, id: &str, gold: &[String], predicted: &[String]) {
        self.posts += 1;
        for label in gold.iter().chain(predicted) {
            self.labels.entry(label.clone()).or_default();
        }
        for (label, c) in self.labels.iter_mut() {
            match (gold.contains(label), predicted.contains(label)) {
                (true, true) => c.tp += 1,
                (false, true) => c.fp += 1,
                (true, false) => c.fn_ += 1,
                (false, false) => {}
            }
        }
        let is_sensitive = |ls: &[String]| ls.iter().any(|l| self.sensitive.contains(l));
        match (is_sensitive(gold), is_sensitive(predicted)) {
            (true, true) => self.escalation.tp += 1,
            (false, true) => self.escalation.fp += 1,
            (true, false) => self.escalation.fn_ += 1,
            (false, false) => {}
        }
        let mut g = gold.to_vec();
        let mut p = predicted.to_vec();
        g.sort();
        p.sort();
        if g != p {
            self.misses.push((id.to_string(), g, p));
        }
    }

    /// Mean F1 over the sensitive topics present in the gold labels.
    pub fn macro_f1_sensitive(&self) -> f64 {
        self.macro_f1(|l| self.sensitive.iter().any(|s| s == l))
    }

    /// Mean F1 over every label present in the gold labels.
    pub fn macro_f1_all(&self) -> f64 {
        self.macro_f1(|_| true)
    }

    fn macro_f1(&self, keep: impl Fn(&str) -> bool) -> f64 {
        let f1s: Vec<f64> = self
            .labels
            .iter()
            .filter(|(l, c)| keep(l) && c.support() > 0)
            .map(|(_, c)| c.f1())
            .collect();
        if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "posts: {}", self.posts)?;
        let e = &self.escalation;
        writeln!(
            f,
            "escalation: recall {:.3} precision {:.3} f1 {:.3} (tp {} fp {} fn {})",
            e.recall(),
            e.precision(),
            e.f1(),
            e.tp,
            e.fp,
            e.fn_
        )?;
        writeln!(f, "macro-F1 sensitive topics: {:.3}", self.macro_f1_sensitive())?;
        writeln!(f, "macro-F1 all labels: {:.3}", self.macro_f1_all())?;
        writeln!(
            f,
            "{:<24} {:>9} {:>7} {:>7} {:>8}",
            "label", "precision", "recall", "f1", "support"
        )?;
        for (label, c) in &self.labels {
            writeln!(
                f,
                "{:<24} {:>9.3} {:>7.3} {:>7.3} {:>8}",
                label,
                c.precision(),
                c.recall(),
                c.f1(),
                c.support()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn counts_escalation_and_labels() {
        let mut r = Report::new(&["licensing", "privacy_telemetry"]);
        r.add("1", &v(&["licensing"]), &v(&["licensing"]));
        r.add("2", &v(&["licensing"]), &v(&["bug_report"]));
        r.add("3", &v(&["bug_report"]), &v(&["privacy_telemetry"]));
        r.add("4", &v(&["feedback"]), &v(&["feedback"]));
        assert_eq!(r.escalation, Counts { tp: 1, fp: 1, fn_: 1 });
        assert_eq!(r.labels["licensing"], Counts { tp: 1, fp: 0, fn_: 1 });
        assert!((r.labels["licensing"].f1() - 2.0 / 3.0).abs() < 1e-9);
        // Only gold-present sensitive labels count: licensing (0.667); privacy has no support.
        assert!((r.macro_f1_sensitive() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(r.misses.len(), 2);
        let text = r.to_string();
        assert!(text.contains("escalation: recall 0.500 precision 0.500"), "{text}");
    }
}
