//! Reading a policy from TOML, with every diagnostic pointing at its place in the file.

use crate::source::{Diagnostic, Seg, Span};
use crate::{validate, Policy};

/// What parsing a policy file gave: the policy when it could be read at all, and every
/// problem found (errors and warnings), each with a span into the source.
#[derive(Debug)]
pub struct ParseOutcome {
    pub policy: Option<Policy>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ParseOutcome {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The policy, when it was read and has no errors.
    pub fn valid(self) -> Result<(Policy, Vec<Diagnostic>), Vec<Diagnostic>> {
        match self.policy {
            Some(p) if !self.diagnostics.iter().any(Diagnostic::is_error) => {
                Ok((p, self.diagnostics))
            }
            _ => Err(self.diagnostics),
        }
    }
}

/// Parses and validates a policy written in TOML.
///
/// Syntax errors, wrong types and unknown keys stop the parse (one diagnostic); otherwise the
/// policy is validated and every problem is reported.
pub fn parse(source: &str) -> ParseOutcome {
    let policy: Policy = match toml::from_str(source) {
        Ok(p) => p,
        Err(e) => {
            // One line, as `FILE:LINE:COL: error: …` wants it ("invalid array: expected
            // `]`"); the toml crate says nothing at all about a missing value (`key =`).
            let lines: Vec<&str> =
                e.message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let message = if lines.is_empty() {
                "a value is missing or malformed here (expected a string, number, boolean, \
                 date, array or inline table)"
                    .to_string()
            } else {
                lines.join(": ")
            };
            let mut d = Diagnostic::error(Vec::new(), message);
            d.span = e.span();
            return ParseOutcome { policy: None, diagnostics: vec![d] };
        }
    };
    let mut diagnostics = validate(&policy);
    if let Ok(doc) = toml_edit::ImDocument::parse(source) {
        for d in &mut diagnostics {
            d.span = locate(doc.as_item(), &d.at);
        }
    }
    ParseOutcome { policy: Some(policy), diagnostics }
}

/// The span of the deepest item along `path` that has one.
fn locate(root: &toml_edit::Item, path: &[Seg]) -> Option<Span> {
    let mut found = root.span();
    let mut item = Some(Node::Item(root));
    for seg in path {
        item = item.and_then(|node| node.child(seg));
        match &item {
            Some(node) => found = node.span().or(found),
            None => break,
        }
    }
    found
}

enum Node<'a> {
    Item(&'a toml_edit::Item),
    Value(&'a toml_edit::Value),
    Table(&'a toml_edit::Table),
}

impl<'a> Node<'a> {
    fn span(&self) -> Option<Span> {
        match self {
            Node::Item(i) => i.span(),
            Node::Value(v) => v.span(),
            Node::Table(t) => t.span(),
        }
    }

    fn child(&self, seg: &Seg) -> Option<Node<'a>> {
        match (self, seg) {
            (Node::Item(i), Seg::Key(k)) => match i {
                toml_edit::Item::Table(t) => t.get(k).map(Node::Item),
                toml_edit::Item::Value(v) => Node::Value(v).child(seg),
                _ => None,
            },
            (Node::Item(i), Seg::Index(n)) => match i {
                toml_edit::Item::ArrayOfTables(a) => a.get(*n).map(Node::Table),
                toml_edit::Item::Value(v) => Node::Value(v).child(seg),
                _ => None,
            },
            (Node::Table(t), Seg::Key(k)) => t.get(k).map(Node::Item),
            (Node::Value(toml_edit::Value::InlineTable(t)), Seg::Key(k)) => {
                t.get(k).map(Node::Value)
            }
            (Node::Value(toml_edit::Value::Array(a)), Seg::Index(n)) => a.get(*n).map(Node::Value),
            _ => None,
        }
    }
}
