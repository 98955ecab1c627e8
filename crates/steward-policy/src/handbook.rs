//! Handbook pages: importing a policy from one, exporting a policy as one.
//!
//! A handbook page is the human-readable form of the policy that community teams keep in
//! their wiki. Two shapes are understood, and anything in between:
//!
//! * **Markdown**: `## Sensitive topics` with numbered topics
//!   (`1 - Non-regulatory **Privacy/Telemetry** where …`) each followed by bullets
//!   (`* Approved Responders: Head of Community, CEO`, `* Loop in: …`,
//!   `* Template Response: …`), a non-sensitive topics sentence, and `### Roles` with
//!   `* CEO: Ian Tien` lines.
//! * **Plain text**: the same content without markup, where a topic is the line just before
//!   its `Approved Responders:` line, section headings are lines of their own
//!   ("Sensitive topics", "Roles", …), and response-writing tips are short heading lines each
//!   followed by paragraph lines.
//!
//! [`import`] reads either shape into a [`Policy`], mapping topic headings onto the standard
//! topic ids by keyword, creating one [`Person`] per name (however many roles they hold) and a
//! member-less [`Role`] for every role that is named as responder or loop-in but never mapped
//! to people. What a page cannot say (triage cues, thresholds, SLA, …) comes from an optional
//! base policy. [`export`] writes a policy back as a Markdown page that [`import`] reads back
//! to the same topics, roles, people and tips.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::source::{Diagnostic, Seg, Span};
use crate::{validate, Minutes, Person, Policy, Role, Tip, Topic};

/// The standard sensitive topics and the title a handbook page gives each, in handbook order.
const STANDARD_TOPICS: [(&str, &str); 9] = [
    ("privacy_telemetry", "Privacy/Telemetry"),
    ("product_regulation", "Product-related Regulations/GDPR"),
    ("licensing", "Licensing"),
    ("packaging", "Packaging"),
    ("workplace", "Workplace policies"),
    ("security_vulnerability", "Security vulnerabilities"),
    ("illicit_use", "Illicit use"),
    ("marketing_regulation", "Marketing-related Regulations/GDPR"),
    ("government_request", "Governmental data request"),
];

/// The standard non-sensitive kinds and their default titles.
const STANDARD_KINDS: [(&str, &str); 4] = [
    ("feature_request", "Feature requests"),
    ("troubleshooting", "Troubleshooting questions"),
    ("bug_report", "Bug reports"),
    ("feedback", "User feedback"),
];

/// Written where a role has nobody and where a topic has no template yet.
const NOBODY: &str = "(nobody)";
const NO_TEMPLATE: &str = "To be added";

/// What importing a handbook page gave.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The policy the page describes, completed from the base policy where the page is silent.
    pub policy: Policy,
    /// Import warnings (lines skipped, topics not recognised, …), each with a span into the
    /// page, followed by everything [`validate`](crate::validate()) says about the policy, with
    /// a span where the page line behind it is known.
    pub diagnostics: Vec<Diagnostic>,
    /// The version label and effective date the page itself states ("Version 7, effective
    /// 2024-02-29.", as [`export`] writes it); `policy` carries them too. `None` when the
    /// page states none: `policy` then has the base's (`imported` when there is no base).
    pub stated: Option<(String, String)>,
}

impl Imported {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Imports a handbook page (Markdown or plain text) into a policy.
///
/// `base`, when given, supplies what a page does not say: the policy's name, version,
/// effective date, allowed domains, SLA and model weight; per topic (matched by id) the
/// description when the page gives none, the triage cues, threshold, first-response target,
/// official-position link and template when the page has no template line at all; per person
/// (matched by id) the handles when the page gives none; per tip (matched by id, else by
/// title) the `avoid`/`require` patterns and the built-in check. Responders, loop-ins, roles
/// and people always come from the page.
pub fn import(page: &str, base: Option<&Policy>) -> Imported {
    let lines = split_lines(page);
    let markdown = lines.iter().any(|l| HEADING.is_match(l.text.trim_start()));
    let mut parser = Parser::new(&lines, markdown);
    for i in 0..lines.len() {
        parser.line(i);
    }
    parser.end_section();
    Builder::new(&lines, base, parser).build()
}

/// Exports a policy as a Markdown handbook page in the shape of the classic community
/// response policy page. The output is deterministic and [`import`] reads it back to the
/// same topics, roles, people and tips.
pub fn export(policy: &Policy) -> String {
    let mut out: Vec<String> = Vec::new();
    let sensitive: Vec<&Topic> = policy.topics.iter().filter(|t| t.sensitive).collect();
    let other: Vec<&Topic> = policy.topics.iter().filter(|t| !t.sensitive).collect();
    let role_titles = |ids: &[String]| -> String {
        ids.iter()
            .map(|id| policy.role(id).map_or(id.as_str(), |r| r.title.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };

    out.push(format!("# {}", policy.name));
    out.push(String::new());
    out.push(format!(
        "Version {}, effective {}. This page is generated from the policy file: change the \
         policy, not the page.",
        policy.version, policy.effective
    ));
    out.push(String::new());
    out.push(format!(
        "The {} sensitive topics listed below are escalated to their approved responders. Anyone \
         can escalate a post, but only the approved responders of its topic may answer it; by \
         default the first approved responder owns the response, which is due within {} unless \
         the topic says otherwise.",
        sensitive.len(),
        policy.sla.first_response
    ));
    out.push(String::new());

    out.push("## Sensitive topics".into());
    out.push(String::new());
    for (n, topic) in sensitive.iter().enumerate() {
        out.push(format!("{} - {}", n + 1, topic_heading(topic)));
        out.push(format!("* Approved Responders: {}", role_titles(&topic.responders)));
        if !topic.loop_in.is_empty() {
            out.push(format!("* Loop in: {}", role_titles(&topic.loop_in)));
        }
        let template = topic.template.as_deref().unwrap_or(NO_TEMPLATE);
        let mut template_lines = template.lines();
        out.push(format!("* Template Response: {}", template_lines.next().unwrap_or(NO_TEMPLATE)));
        for line in template_lines {
            out.push(if line.trim().is_empty() { String::new() } else { format!("  {line}") });
        }
        if let Some(url) = &topic.position_url {
            out.push(format!("* Official position: {url}"));
        }
        if let Some(within) = topic.first_response {
            out.push(format!("* First response within: {within}"));
        }
        out.push(String::new());
    }

    out.push("### Non-sensitive topics".into());
    out.push(String::new());
    out.push("Non-sensitive topics include:".into());
    out.push(String::new());
    for topic in &other {
        out.push(format!("* {}", topic_heading(topic)));
    }
    out.push(String::new());
    out.push("Anyone is welcome and encouraged to respond to them.".into());
    out.push(String::new());

    if !policy.tips.is_empty() {
        out.push("## Response writing tips".into());
        out.push(String::new());
        for tip in &policy.tips {
            out.push(format!("### {}", tip.title));
            out.push(String::new());
            if !tip.text.trim().is_empty() {
                out.extend(tip.text.trim().lines().map(|l| l.trim_end().to_string()));
                out.push(String::new());
            }
        }
    }

    out.push("### Roles".into());
    out.push(String::new());
    out.push(
        "Below is the list of members mapped to each role mentioned as an approved responder:"
            .into(),
    );
    out.push(String::new());
    let mut introduced: HashSet<&str> = HashSet::new();
    for role in &policy.roles {
        let names: Vec<String> = role
            .members
            .iter()
            .map(|id| match policy.person(id) {
                Some(person) if introduced.insert(person.id.as_str()) => person_entry(person),
                Some(person) => person.name.clone(),
                None => id.clone(),
            })
            .collect();
        let names = if names.is_empty() { NOBODY.to_string() } else { names.join(", ") };
        out.push(format!("* {}: {names}", role.title));
    }
    out.push(String::new());
    out.join("\n")
}

/// A snake_case id from a title or name: ASCII letters and digits, `_` between words.
/// Apostrophes vanish ("Don't" → `dont`), common accented letters lose their accents, other
/// characters separate words. Empty when nothing usable is left.
pub fn snake_id(text: &str) -> String {
    let mut id = String::new();
    let mut gap = false;
    for c in text.chars() {
        if matches!(c, '\'' | '’' | '‘') {
            continue;
        }
        match fold(c) {
            Some(s) => {
                if gap && !id.is_empty() {
                    id.push('_');
                }
                gap = false;
                id.push_str(&s);
            }
            None => gap = true,
        }
    }
    id
}

/// The chat handle a person gets when the page names none: their name's words, lowercased and
/// joined by dots ("Ian Tien" → `ian.tien`).
pub fn chat_placeholder(name: &str) -> String {
    name.split_whitespace()
        .map(|word| {
            word.chars()
                .filter_map(|c| match c {
                    '-' | '_' => Some(c.to_string()),
                    c => fold(c),
                })
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// The standard id of a sensitive topic, recognised by keyword in a heading or title.
pub fn sensitive_topic_id(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    let id = if has(&["government", "law enforcement", "subpoena"]) {
        "government_request"
    } else if has(&["regulation", "gdpr"]) && has(&["marketing"]) {
        "marketing_regulation"
    } else if has(&["regulation", "gdpr"]) {
        "product_regulation"
    } else if has(&["vulnerab", "security"]) {
        "security_vulnerability"
    } else if has(&["telemetry", "privacy"]) {
        "privacy_telemetry"
    } else if has(&["licens"]) {
        "licensing"
    } else if has(&["packaging", "pricing", "enterprise feature", "paid feature"]) {
        "packaging"
    } else if has(&["workplace", "hiring"]) {
        "workplace"
    } else if has(&["illicit", "illegal", "criminal"]) {
        "illicit_use"
    } else {
        return None;
    };
    Some(id)
}

/// The standard id of a non-sensitive kind, recognised by keyword.
pub fn non_sensitive_kind_id(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    let id = if has(&["feature"]) {
        "feature_request"
    } else if has(&["troubleshoot", "support question", "how-to", "how to"]) {
        "troubleshooting"
    } else if has(&["bug"]) {
        "bug_report"
    } else if has(&["feedback"]) {
        "feedback"
    } else {
        return None;
    };
    Some(id)
}

// ---------------------------------------------------------------------------------------------
// Export helpers

/// `Non-regulatory **Privacy/Telemetry** where …`: the description with the title in bold where
/// it occurs, else the bold title, then ` — ` and the description.
fn topic_heading(topic: &Topic) -> String {
    let (title, desc) = (topic.title.trim(), topic.description.trim());
    if desc.is_empty() || desc == title {
        return format!("**{title}**");
    }
    let dashed = format!("{title} — ");
    if !title.is_empty() && !desc.starts_with(&dashed) {
        if let Some(at) = desc.find(title) {
            let (before, rest) = desc.split_at(at);
            return format!("{before}**{title}**{}", &rest[title.len()..]);
        }
    }
    format!("**{title}** — {desc}")
}

/// A person's name, with the handles that differ from what import would assume.
fn person_entry(person: &Person) -> String {
    let mut handles = Vec::new();
    let placeholder = chat_placeholder(&person.name);
    match person.chat.as_deref() {
        Some(chat) if chat == placeholder => {}
        Some(chat) => handles.push(format!("chat: {chat}")),
        None if placeholder.is_empty() => {}
        None => handles.push("chat: -".to_string()),
    }
    if let Some(github) = &person.github {
        handles.push(format!("github: {github}"));
    }
    if let Some(email) = &person.email {
        handles.push(format!("email: {email}"));
    }
    if handles.is_empty() {
        person.name.clone()
    } else {
        format!("{} ({})", person.name, handles.join(", "))
    }
}

// ---------------------------------------------------------------------------------------------
// Lines and markup

static HEADING: LazyLock<Regex> = LazyLock::new(|| re(r"^(#{1,6})\s+(.*?)\s*#*\s*$"));
static NUMBERED: LazyLock<Regex> = LazyLock::new(|| re(r"^\d{1,3}\s*[-.):–—]\s+(.*)$"));
/// The sentence [`export`] opens a page with: "Version 7, effective 2024-02-29. …".
static STATED_VERSION: LazyLock<Regex> =
    LazyLock::new(|| re(r"^Version (.+?), effective (\d{4}-\d{2}-\d{2})\."));
static BULLET: LazyLock<Regex> = LazyLock::new(|| re(r"^[*+\-•]\s+(.*)$"));
static BOLD: LazyLock<Regex> = LazyLock::new(|| re(r"\*\*(.+?)\*\*|__(.+?)__"));
static LINK: LazyLock<Regex> = LazyLock::new(|| re(r"\[([^\]]*)\]\(([^)\s]*)\)"));
static FIELD: LazyLock<Regex> = LazyLock::new(|| re(r"^([A-Za-z][A-Za-z \-/]{0,40}?)\s*:\s*(.*)$"));
static NON_SENSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^non[- ]?sensitive (?:topics|kinds|posts)\s+(?:include|are)\s*:?\s*(.*)$")
});

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the handbook's own patterns are valid")
}

/// One line of the page, without its line ending, and where it is in the page.
struct Line<'a> {
    text: &'a str,
    span: Span,
}

fn split_lines(page: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in page.split_inclusive('\n') {
        let end = start + piece.len();
        let mut text = piece.strip_suffix('\n').unwrap_or(piece);
        text = text.strip_suffix('\r').unwrap_or(text);
        let mut first = start;
        if start == 0 {
            if let Some(rest) = text.strip_prefix('\u{feff}') {
                first += text.len() - rest.len();
                text = rest;
            }
        }
        out.push(Line { text, span: first..first + text.len() });
        start = end;
    }
    out
}

/// A line with its markup taken apart.
#[derive(Debug, Clone)]
struct Clean {
    /// Markdown heading level.
    level: Option<usize>,
    bullet: bool,
    numbered: bool,
    /// The first bold span.
    bold: Option<String>,
    /// The whole bolded: `**Title**`.
    all_bold: bool,
    /// Text without heading marks, numbers, bullets, bold and link markup; whitespace collapsed.
    text: String,
    indent: usize,
}

impl Clean {
    fn strong(&self) -> bool {
        self.level.is_some() || self.numbered || self.bold.is_some()
    }
}

fn clean(line: &str) -> Clean {
    let indent =
        line.chars().take_while(|c| c.is_whitespace()).map(|c| if c == '\t' { 4 } else { 1 }).sum();
    let mut rest = line.replace('\u{a0}', " ");
    rest = rest.trim().to_string();
    let mut level = None;
    if let Some(c) = HEADING.captures(&rest) {
        level = Some(c[1].len());
        rest = c[2].to_string();
    }
    let mut numbered = false;
    let mut bullet = false;
    if let Some(c) = NUMBERED.captures(&rest) {
        numbered = true;
        rest = c[1].to_string();
    } else if let Some(c) = BULLET.captures(&rest) {
        bullet = true;
        rest = c[1].to_string();
        if let Some(c) = NUMBERED.captures(&rest) {
            numbered = true;
            rest = c[1].to_string();
        }
    }
    let bold = BOLD
        .captures(&rest)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| collapse(m.as_str()))
        .filter(|b| !b.is_empty());
    let all_bold = BOLD
        .find(&rest)
        .is_some_and(|m| m.start() == 0 && m.end() == rest.trim_end_matches(':').len());
    let text = BOLD.replace_all(&rest, |c: &regex::Captures<'_>| {
        c.get(1).or_else(|| c.get(2)).map_or(String::new(), |m| m.as_str().to_string())
    });
    let text = LINK.replace_all(&text, "$1");
    Clean { level, bullet, numbered, bold, all_bold, text: collapse(&text), indent }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lowercase, whitespace collapsed, without a trailing colon or full stop.
fn normalise(text: &str) -> String {
    collapse(text).trim_end_matches([':', '.']).trim().to_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Other,
    Topics,
    NonSensitive,
    Tips,
    Roles,
}

fn known_section(text: &str) -> Option<Section> {
    let t = normalise(text);
    if t.starts_with("last updated") {
        return Some(Section::Other);
    }
    Some(match t.as_str() {
        "sensitive topics"
        | "sensitive topics and responders"
        | "sensitive topics and approved responders" => Section::Topics,
        "non-sensitive topics" | "non sensitive topics" | "nonsensitive topics" => {
            Section::NonSensitive
        }
        "response writing tips"
        | "response-writing tips"
        | "writing tips"
        | "tips"
        | "tips for responding" => Section::Tips,
        "roles" | "role mapping" | "roles and people" | "roles and members" => Section::Roles,
        "escalation process"
        | "non-compliance policy"
        | "non compliance policy"
        | "why do we need a policy?"
        | "why do we need a policy" => Section::Other,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Responders,
    LoopIn,
    Template,
    Position,
    FirstResponse,
}

fn topic_field(key: &str) -> Option<Field> {
    let k: String =
        key.chars().filter(char::is_ascii_alphabetic).collect::<String>().to_lowercase();
    Some(match k.as_str() {
        "approvedresponders" | "approvedresponder" | "responders" => Field::Responders,
        "loopin" | "loopins" | "loopedin" | "loop" => Field::LoopIn,
        "templateresponse" | "templateresponses" | "template" | "standardresponse" => {
            Field::Template
        }
        "officialposition" | "position" | "positionurl" | "officialpositionurl" => Field::Position,
        "firstresponsewithin" | "firstresponse" | "firstresponsetarget" | "respondwithin" => {
            Field::FirstResponse
        }
        _ => return None,
    })
}

fn is_placeholder(value: &str) -> bool {
    matches!(
        normalise(value).trim_matches(['(', ')']),
        "" | "to be added"
            | "tbd"
            | "tba"
            | "todo"
            | "none"
            | "n/a"
            | "-"
            | "—"
            | "nobody"
            | "vacant"
    )
}

// ---------------------------------------------------------------------------------------------
// Parsing: page lines into drafts

#[derive(Debug, Default)]
struct TopicDraft {
    /// Index of the heading line.
    line: usize,
    sensitive: bool,
    text: String,
    bold: Option<String>,
    extra: Vec<String>,
    responders: Option<(String, usize)>,
    loop_in: Option<(String, usize)>,
    /// `Some(None)` when the page says the template is still to be added.
    template: Option<Option<String>>,
    position: Option<String>,
    first_response: Option<Minutes>,
}

#[derive(Debug)]
struct RoleDraft {
    line: usize,
    title: String,
    names: String,
}

#[derive(Debug)]
struct TipDraft {
    line: usize,
    title: String,
    lines: Vec<String>,
}

struct Parser<'a> {
    lines: &'a [Line<'a>],
    markdown: bool,
    section: Section,
    section_level: usize,
    topics: Vec<TopicDraft>,
    /// Non-key lines since the last field line, in the topics section.
    pending: Vec<(usize, Clean)>,
    last_field: Option<Field>,
    template_gap: bool,
    /// Non-sensitive kinds from the "Non-sensitive topics include …" sentence.
    kinds: Vec<(String, usize)>,
    roles: Vec<RoleDraft>,
    tips: Vec<TipDraft>,
    after_blank: bool,
    warnings: Vec<Diagnostic>,
}

impl<'a> Parser<'a> {
    fn new(lines: &'a [Line<'a>], markdown: bool) -> Self {
        Self {
            lines,
            markdown,
            section: Section::Other,
            section_level: 0,
            topics: Vec::new(),
            pending: Vec::new(),
            last_field: None,
            template_gap: false,
            kinds: Vec::new(),
            roles: Vec::new(),
            tips: Vec::new(),
            after_blank: false,
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, line: usize, message: String) {
        let mut d = Diagnostic::warning(Vec::new(), message);
        d.span = self.lines.get(line).map(|l| l.span.clone());
        self.warnings.push(d);
    }

    fn line(&mut self, i: usize) {
        let raw = self.lines[i].text;
        if raw.trim().is_empty() {
            self.after_blank = true;
            if self.last_field == Some(Field::Template) {
                self.template_gap = true;
            }
            return;
        }
        let c = clean(raw);
        let plain_line = !c.bullet && !c.numbered;
        if let Some(section) = known_section(&c.text).filter(|_| plain_line) {
            self.enter(section, c.level.unwrap_or(self.section_level));
        } else if c.level.is_some_and(|l| l <= self.section_level) {
            self.enter(Section::Other, c.level.unwrap_or(0));
        } else if let Some(list) = NON_SENSITIVE.captures(&c.text).and_then(|m| m.get(1)) {
            let items = split_list(list.as_str().trim_end_matches('.'), &[]);
            self.kinds.extend(items.into_iter().map(|item| (item, i)));
            self.last_field = None;
        } else {
            match self.section {
                Section::Topics => self.topic_line(i, c),
                Section::NonSensitive => {
                    if c.bullet || c.numbered || c.level.is_some() {
                        self.topics.push(TopicDraft {
                            line: i,
                            sensitive: false,
                            text: c.text,
                            bold: c.bold,
                            ..TopicDraft::default()
                        });
                    }
                }
                Section::Tips => self.tip_line(i, &c, raw),
                Section::Roles => self.role_line(i, &c),
                Section::Other => {}
            }
        }
        self.after_blank = false;
    }

    fn enter(&mut self, section: Section, level: usize) {
        self.end_section();
        self.section = section;
        self.section_level = level;
    }

    fn end_section(&mut self) {
        if self.section == Section::Topics {
            for (line, c) in std::mem::take(&mut self.pending) {
                if c.numbered || c.level.is_some() {
                    self.warn(line, format!("`{}` looks like a topic but has no Approved Responders, Loop in or Template Response line; skipped", c.text));
                }
            }
        }
        self.last_field = None;
    }

    fn topic_line(&mut self, i: usize, c: Clean) {
        if self.last_field == Some(Field::Template)
            && c.indent >= 2
            && !c.bullet
            && !c.numbered
            && c.level.is_none()
        {
            if let Some(Some(Some(template))) = self.topics.last_mut().map(|t| t.template.as_mut())
            {
                if self.template_gap {
                    template.push('\n');
                }
                template.push('\n');
                template.push_str(self.lines[i].text.trim());
                self.template_gap = false;
                return;
            }
        }
        self.template_gap = false;
        if let Some(m) = FIELD.captures(&c.text) {
            let (key, value) = (m[1].trim().to_string(), m[2].trim().to_string());
            match topic_field(&key) {
                Some(field) => {
                    if !self.pending.is_empty() {
                        self.start_topic();
                    }
                    if self.topics.iter().any(|t| t.sensitive) {
                        self.apply(i, field, &key, value);
                    } else {
                        self.warn(i, format!("`{key}:` line outside any topic; skipped"));
                    }
                    self.last_field = Some(field);
                    return;
                }
                None if !value.is_empty()
                    && self.pending.is_empty()
                    && self.last_field.is_some() =>
                {
                    self.warn(i, format!("unknown topic field `{key}` (known: Approved Responders, Loop in, Template Response, Official position, First response within); skipped"));
                    return;
                }
                None => {}
            }
        }
        self.last_field = None;
        self.pending.push((i, c));
    }

    /// Starts a topic from the pending lines: the last strong one (numbered, heading, bold) or
    /// else the last one is the heading; lines after it extend its description.
    fn start_topic(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let at = pending.iter().rposition(|(_, c)| c.strong()).unwrap_or(pending.len() - 1);
        for (line, c) in &pending[..at] {
            if c.numbered || c.level.is_some() {
                self.warn(*line, format!("`{}` looks like a topic but has no Approved Responders, Loop in or Template Response line; skipped", c.text));
            }
        }
        let mut rest = pending.into_iter().skip(at);
        if let Some((line, c)) = rest.next() {
            self.topics.push(TopicDraft {
                line,
                sensitive: true,
                text: c.text,
                bold: c.bold,
                extra: rest.map(|(_, c)| c.text).collect(),
                ..TopicDraft::default()
            });
        }
    }

    fn apply(&mut self, i: usize, field: Field, key: &str, value: String) {
        let mut warning = None;
        let Some(topic) = self.topics.iter_mut().rev().find(|t| t.sensitive) else {
            return;
        };
        match field {
            Field::Responders | Field::LoopIn => {
                let slot = if field == Field::Responders {
                    &mut topic.responders
                } else {
                    &mut topic.loop_in
                };
                if slot.is_some() {
                    warning =
                        Some(format!("second `{key}:` line for one topic; it replaces the first"));
                }
                *slot = Some((value, i));
            }
            Field::Template => {
                topic.template = Some(Some(value).filter(|v| !is_placeholder(v)));
            }
            Field::Position => {
                let url = LINK
                    .captures(&value)
                    .map_or(value.as_str(), |c| c.get(2).map_or("", |m| m.as_str()))
                    .trim_matches(['<', '>'])
                    .trim()
                    .to_string();
                topic.position = Some(url).filter(|u| !is_placeholder(u));
            }
            Field::FirstResponse => match value.parse::<Minutes>() {
                Ok(m) => topic.first_response = Some(m),
                Err(e) if !is_placeholder(&value) => warning = Some(e.to_string()),
                Err(_) => {}
            },
        }
        if let Some(w) = warning {
            self.warn(i, w);
        }
    }

    fn tip_line(&mut self, i: usize, c: &Clean, raw: &str) {
        let text = raw.trim();
        let title = c.level.is_some() || c.all_bold || (!self.markdown && title_like(text));
        if title {
            self.tips.push(TipDraft {
                line: i,
                title: c.text.trim_end_matches(':').to_string(),
                lines: Vec::new(),
            });
        } else if let Some(tip) = self.tips.last_mut() {
            if self.after_blank && !tip.lines.is_empty() {
                tip.lines.push(String::new());
            }
            tip.lines.push(text.to_string());
        }
    }

    fn role_line(&mut self, i: usize, c: &Clean) {
        if let Some((title, names)) = c.text.split_once(':') {
            let title = title.trim();
            let words = title.split_whitespace().count();
            if (1..=6).contains(&words) && title.len() <= 60 {
                self.roles.push(RoleDraft {
                    line: i,
                    title: title.to_string(),
                    names: names.trim().to_string(),
                });
                return;
            }
        }
        if c.bullet {
            self.warn(i, format!("`{}` is not a `Role: names` line; skipped", c.text));
        }
    }
}

/// A plain-text tip heading: short, capitalised, not ending like a sentence.
fn title_like(text: &str) -> bool {
    let words = text.split_whitespace().count();
    (1..=12).contains(&words)
        && text.chars().next().is_some_and(char::is_uppercase)
        && !text.ends_with(['.', '!', '?', ':', ';', ',', ')', '"', '”', '\'', '’'])
        && !BULLET.is_match(text)
}

/// Splits `A, B, and C` (also `;`, and ` and `/` & ` where `known` says so) into items,
/// outside parentheses.
fn split_list(text: &str, known: &[String]) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for ch in text.chars() {
        match ch {
            '(' | '<' => depth += 1,
            ')' | '>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && matches!(ch, ',' | ';') {
            items.push(std::mem::take(&mut current));
        } else {
            current.push(ch);
        }
    }
    items.push(current);
    let mut out = Vec::new();
    for item in items {
        let item = collapse(&item);
        let item = item
            .strip_prefix("and ")
            .or_else(|| item.strip_prefix("or "))
            .unwrap_or(&item)
            .trim()
            .trim_end_matches('.')
            .to_string();
        if item.is_empty() {
            continue;
        }
        let parts: Vec<String> = item
            .split(" and ")
            .flat_map(|p| p.split(" & "))
            .map(|p| p.trim().to_string())
            .collect();
        let split = parts.len() > 1
            && (known.is_empty() && !item.contains('(')
                || !known.contains(&snake_id(&item))
                    && parts.iter().all(|p| known.contains(&snake_id(p))));
        if split {
            out.extend(parts.into_iter().filter(|p| !p.is_empty()));
        } else {
            out.push(item);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Building the policy from the drafts

/// Where a policy item came from on the page, for pointing validation diagnostics at it.
#[derive(Default)]
struct Origins {
    topics: Vec<(Option<usize>, Option<usize>, Option<usize>)>,
    roles: Vec<usize>,
    people: Vec<usize>,
    tips: Vec<usize>,
}

struct Builder<'a> {
    lines: &'a [Line<'a>],
    base: Option<&'a Policy>,
    parser: Parser<'a>,
    origins: Origins,
    warnings: Vec<Diagnostic>,
}

impl<'a> Builder<'a> {
    fn new(lines: &'a [Line<'a>], base: Option<&'a Policy>, parser: Parser<'a>) -> Self {
        Self { lines, base, parser, origins: Origins::default(), warnings: Vec::new() }
    }

    fn warn(&mut self, line: Option<usize>, message: String) {
        let mut d = Diagnostic::warning(Vec::new(), message);
        d.span = line.and_then(|l| self.lines.get(l)).map(|l| l.span.clone());
        self.warnings.push(d);
    }

    fn build(mut self) -> Imported {
        let base = self.base;
        let (roles, people) = self.roles_and_people();
        let stated = self.lines.iter().find_map(|l| {
            let c = STATED_VERSION.captures(l.text.trim())?;
            Some((c[1].to_string(), c[2].to_string()))
        });
        let (version, effective) = stated.clone().unwrap_or_else(|| match base {
            Some(b) => (b.version.clone(), b.effective.clone()),
            None => ("imported".into(), "1970-01-01".into()),
        });
        let mut policy = Policy {
            name: base.map_or_else(|| "Community Response Policy".into(), |b| b.name.clone()),
            version,
            effective,
            allow_domains: base.map(|b| b.allow_domains.clone()).unwrap_or_default(),
            sla: base.map(|b| b.sla.clone()).unwrap_or_default(),
            model_weight: base.map_or(1.0, |b| b.model_weight),
            topics: Vec::new(),
            roles,
            people,
            tips: Vec::new(),
        };
        self.topics(&mut policy);
        self.tips(&mut policy);

        let mut diagnostics = std::mem::take(&mut self.parser.warnings);
        diagnostics.append(&mut self.warnings);
        // A page that names no topic is not a handbook page (a security policy, a README):
        // what would come out is the base policy without a single sensitive topic.
        if self.origins.topics.iter().all(|(heading, _, _)| heading.is_none()) {
            let mut d = Diagnostic::error(
                Vec::new(),
                "no sensitive topic found: a handbook page has a section per topic (a heading \
                 or line such as `Licensing` followed by its approved responders)",
            );
            d.span = self.span(Some(0));
            diagnostics.push(d);
        }
        for mut d in validate(&policy) {
            d.span = self.locate(&d.at);
            diagnostics.push(d);
        }
        Imported { policy, diagnostics, stated }
    }

    fn span(&self, line: Option<usize>) -> Option<Span> {
        line.and_then(|l| self.lines.get(l)).map(|l| l.span.clone())
    }

    fn locate(&self, at: &[Seg]) -> Option<Span> {
        let o = &self.origins;
        let line = match at {
            [Seg::Key("topics"), Seg::Index(i), rest @ ..] => {
                o.topics.get(*i).and_then(|&(heading, responders, loop_in)| match rest {
                    [Seg::Key("responders"), ..] => responders.or(heading),
                    [Seg::Key("loop_in"), ..] => loop_in.or(heading),
                    _ => heading,
                })
            }
            [Seg::Key("roles"), Seg::Index(i), ..] => o.roles.get(*i).copied(),
            [Seg::Key("people"), Seg::Index(i), ..] => o.people.get(*i).copied(),
            [Seg::Key("tips"), Seg::Index(i), ..] => o.tips.get(*i).copied(),
            _ => None,
        };
        self.span(line)
    }

    /// Roles from the roles section, then roles only named as responders or loop-ins; one
    /// person per distinct name.
    fn roles_and_people(&mut self) -> (Vec<Role>, Vec<Person>) {
        let mut roles: Vec<Role> = Vec::new();
        let mut people: Vec<Person> = Vec::new();
        let mut explicit: HashSet<String> = HashSet::new();
        let drafts = std::mem::take(&mut self.parser.roles);
        for draft in drafts {
            let id = snake_id(&draft.title);
            if id.is_empty() {
                self.warn(
                    Some(draft.line),
                    format!("role `{}` has no usable id; skipped", draft.title),
                );
                continue;
            }
            let members = self.members(&draft, &mut people, &mut explicit);
            if let Some(role) = roles.iter_mut().find(|r| r.id == id) {
                self.warn(
                    Some(draft.line),
                    format!(
                        "role `{id}` ({}) is listed twice; its members are merged",
                        draft.title
                    ),
                );
                for m in members {
                    if !role.members.contains(&m) {
                        role.members.push(m);
                    }
                }
            } else {
                roles.push(Role { id, title: draft.title.clone(), members });
                self.origins.roles.push(draft.line);
            }
        }

        // Roles named by topics but never mapped to anyone.
        let known: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
        let mut named: Vec<(String, usize)> = Vec::new();
        for topic in &self.parser.topics {
            for (list, line) in [&topic.responders, &topic.loop_in].into_iter().flatten() {
                named.extend(split_list(list, &known).into_iter().map(|t| (t, *line)));
            }
        }
        for (title, line) in named {
            let id = snake_id(&title);
            if !id.is_empty() && !roles.iter().any(|r| r.id == id) {
                roles.push(Role { id, title, members: Vec::new() });
                self.origins.roles.push(line);
            }
        }

        // Handles the page does not give come from the base policy.
        if let Some(base) = self.base {
            for person in people.iter_mut().filter(|p| !explicit.contains(&p.id)) {
                if let Some(known) = base.person(&person.id) {
                    person.chat.clone_from(&known.chat);
                    person.github.clone_from(&known.github);
                    person.email.clone_from(&known.email);
                }
            }
        }
        (roles, people)
    }

    fn members(
        &mut self,
        draft: &RoleDraft,
        people: &mut Vec<Person>,
        explicit: &mut HashSet<String>,
    ) -> Vec<String> {
        if is_placeholder(&draft.names) {
            return Vec::new();
        }
        let mut members = Vec::new();
        for entry in split_list(&draft.names, &[]) {
            if is_placeholder(&entry) {
                continue;
            }
            let (person, given, problems) = parse_person(&entry);
            let id = person.id.clone();
            for p in problems {
                self.warn(Some(draft.line), p);
            }
            if person.id.is_empty() {
                self.warn(Some(draft.line), format!("`{entry}` has no usable name; skipped"));
                continue;
            }
            match people.iter_mut().find(|p| p.id == person.id) {
                Some(known) => {
                    if known.name != person.name {
                        self.warn(
                            Some(draft.line),
                            format!(
                                "`{}` and `{}` are taken to be the same person `{}`",
                                known.name, person.name, known.id
                            ),
                        );
                    }
                    if given {
                        if explicit.contains(&known.id) {
                            if (&known.chat, &known.github, &known.email)
                                != (&person.chat, &person.github, &person.email)
                            {
                                self.warn(Some(draft.line), format!("person `{}` is given different handles twice; the first are kept", known.id));
                            }
                        } else {
                            explicit.insert(known.id.clone());
                            known.chat = person.chat;
                            known.github = person.github;
                            known.email = person.email;
                        }
                    }
                }
                None => {
                    if given {
                        explicit.insert(person.id.clone());
                    }
                    self.origins.people.push(draft.line);
                    people.push(person);
                }
            }
            if !members.contains(&id) {
                members.push(id);
            }
        }
        members
    }

    fn topics(&mut self, policy: &mut Policy) {
        let drafts = std::mem::take(&mut self.parser.topics);
        let known: Vec<String> = policy.roles.iter().map(|r| r.id.clone()).collect();
        let (sensitive, other): (Vec<_>, Vec<_>) = drafts.into_iter().partition(|t| t.sensitive);
        for draft in sensitive.iter().chain(&other) {
            let (mut id, title, description, standard) = resolve_topic(draft);
            if id.is_empty() {
                self.warn(
                    Some(draft.line),
                    format!("topic `{}` has no usable id; skipped", draft.text),
                );
                continue;
            }
            if policy.topic(&id).is_some() {
                let fallback = unique(snake_id(&title), |c| policy.topic(c).is_some());
                self.warn(Some(draft.line), format!("topic `{title}` would be `{id}`, which an earlier topic already is; imported as `{fallback}`"));
                id = fallback;
            } else if !standard {
                let what = if draft.sensitive { "sensitive topic" } else { "non-sensitive kind" };
                self.warn(
                    Some(draft.line),
                    format!("`{title}` is not a standard {what}; imported as `{id}`"),
                );
            }
            let roles = |list: &Option<(String, usize)>| {
                list.as_ref().map_or_else(Vec::new, |(text, _)| {
                    let mut ids: Vec<String> = Vec::new();
                    for id in split_list(text, &known).iter().map(|t| snake_id(t)) {
                        if !id.is_empty() && !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                    ids
                })
            };
            let mut topic = Topic {
                id,
                title,
                sensitive: draft.sensitive,
                description,
                responders: roles(&draft.responders),
                loop_in: roles(&draft.loop_in),
                template: draft.template.clone().flatten(),
                position_url: draft.position.clone(),
                first_response: draft.first_response,
                threshold: 1.0,
                cues: Vec::new(),
            };
            if let Some(known) = self.base.and_then(|b| b.topic(&topic.id)) {
                if topic.description.is_empty() {
                    topic.description.clone_from(&known.description);
                }
                if draft.template.is_none() {
                    topic.template.clone_from(&known.template);
                }
                topic.position_url = topic.position_url.or_else(|| known.position_url.clone());
                topic.first_response = topic.first_response.or(known.first_response);
                topic.threshold = known.threshold;
                topic.cues.clone_from(&known.cues);
            }
            self.origins.topics.push((
                Some(draft.line),
                draft.responders.as_ref().map(|r| r.1),
                draft.loop_in.as_ref().map(|r| r.1),
            ));
            policy.topics.push(topic);
        }

        // Non-sensitive kinds named in the sentence, then the standard ones the page left out.
        let kinds = std::mem::take(&mut self.parser.kinds);
        let mut add = |policy: &mut Policy, id: String, title: String, line: Option<usize>| {
            if policy.topic(&id).is_some() {
                return;
            }
            let known = self.base.and_then(|b| b.topic(&id)).filter(|t| !t.sensitive);
            let mut topic = Topic {
                id,
                title,
                sensitive: false,
                description: String::new(),
                responders: Vec::new(),
                loop_in: Vec::new(),
                template: None,
                position_url: None,
                first_response: None,
                threshold: 1.0,
                cues: Vec::new(),
            };
            if let Some(known) = known {
                topic = Topic { responders: Vec::new(), loop_in: Vec::new(), ..known.clone() };
            }
            self.origins.topics.push((line, None, None));
            policy.topics.push(topic);
        };
        let mut unknown = Vec::new();
        for (item, line) in kinds {
            match non_sensitive_kind_id(&item) {
                Some(id) => add(policy, id.to_string(), standard_kind_title(id), Some(line)),
                None => {
                    let title = capitalise(item.strip_prefix("other ").unwrap_or(&item));
                    let id = snake_id(&title);
                    if !id.is_empty() {
                        unknown.push((id.clone(), title.clone(), line));
                        add(policy, id, title, Some(line));
                    }
                }
            }
        }
        for (id, _) in STANDARD_KINDS {
            add(policy, id.to_string(), standard_kind_title(id), None);
        }
        for (id, title, line) in unknown {
            self.warn(
                Some(line),
                format!("`{title}` is not a standard non-sensitive kind; imported as `{id}`"),
            );
        }
    }

    fn tips(&mut self, policy: &mut Policy) {
        for draft in std::mem::take(&mut self.parser.tips) {
            let title = draft.title.trim().to_string();
            let text = draft.lines.join("\n").trim().to_string();
            let by_id = snake_id(&title);
            let known = self.base.and_then(|b| {
                b.tips
                    .iter()
                    .find(|t| t.id == by_id)
                    .or_else(|| b.tips.iter().find(|t| normalise(&t.title) == normalise(&title)))
            });
            let id = known.map_or(by_id, |k| k.id.clone());
            if id.is_empty() {
                self.warn(Some(draft.line), format!("tip `{title}` has no usable id; skipped"));
                continue;
            }
            if policy.tips.iter().any(|t| t.id == id) {
                self.warn(
                    Some(draft.line),
                    format!("tip `{id}` appears twice; the second is skipped"),
                );
                continue;
            }
            policy.tips.push(Tip {
                id,
                title,
                text,
                avoid: known.map(|k| k.avoid.clone()).unwrap_or_default(),
                require: known.map(|k| k.require.clone()).unwrap_or_default(),
                check: known.and_then(|k| k.check.clone()),
            });
            self.origins.tips.push(draft.line);
        }
    }
}

fn standard_kind_title(id: &str) -> String {
    STANDARD_KINDS.iter().find(|(k, _)| *k == id).map_or(id, |(_, t)| t).to_string()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn unique(id: String, taken: impl Fn(&str) -> bool) -> String {
    if !taken(&id) {
        return id;
    }
    (2..).map(|n| format!("{id}_{n}")).find(|c| !taken(c)).unwrap_or(id)
}

/// A topic's id, title and description from its heading, and whether the id is a standard one.
fn resolve_topic(draft: &TopicDraft) -> (String, String, String, bool) {
    let text = draft.text.trim().trim_end_matches(':').trim();
    let bold = draft.bold.as_deref().map(|b| b.trim_end_matches(':').trim());
    let table: &[(&str, &str)] = if draft.sensitive { &STANDARD_TOPICS } else { &STANDARD_KINDS };
    let canonical = table
        .iter()
        .filter_map(|(id, title)| find_ci(text, title).map(|range| (*id, range)))
        .max_by_key(|(_, r)| r.len());
    let title = match (bold, &canonical) {
        (Some(b), Some((_, r))) if find_ci(&text[r.clone()], b).is_none() => b.to_string(),
        (_, Some((_, r))) => text[r.clone()].to_string(),
        (Some(b), None) => b.to_string(),
        (None, None) => plain_title(text),
    };
    let id = match &canonical {
        Some((id, r)) if text[r.clone()] == *title => Some(*id),
        _ if draft.sensitive => sensitive_topic_id(&title).or_else(|| sensitive_topic_id(text)),
        _ => non_sensitive_kind_id(&title).or_else(|| non_sensitive_kind_id(text)),
    };
    let mut description =
        match text.strip_prefix(title.as_str()).and_then(|r| r.strip_prefix(" — ")) {
            Some(rest) if bold.is_some() => rest.to_string(),
            _ if text == title => String::new(),
            _ => text.to_string(),
        };
    for extra in &draft.extra {
        if !description.is_empty() {
            description.push(' ');
        }
        description.push_str(extra);
    }
    match id {
        Some(id) => (id.to_string(), title, description, true),
        None => (snake_id(&title), title, description, false),
    }
}

/// The title of an unmarked heading: the text before the first clause separator.
fn plain_title(text: &str) -> String {
    let cut =
        [":", ",", ";", " where ", " including ", " e.g.", " such as ", " — ", " – ", " - ", " ("]
            .iter()
            .filter_map(|sep| text.find(sep))
            .min()
            .unwrap_or(text.len());
    let title = text[..cut].trim();
    if title.is_empty() {
        text.to_string()
    } else {
        title.to_string()
    }
}

/// Where `needle` occurs in `hay` as whole words, ignoring case.
fn find_ci(hay: &str, needle: &str) -> Option<std::ops::Range<usize>> {
    if needle.is_empty() {
        return None;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let before = if word(needle.chars().next()) { r"\b" } else { "" };
    let after = if word(needle.chars().last()) { r"\b" } else { "" };
    let pattern = format!("(?i){before}{}{after}", regex::escape(needle));
    Regex::new(&pattern).ok()?.find(hay).map(|m| m.range())
}

/// A person from a roles-list entry: `Name`, `Name (@chat)`, `Name (chat: x, github: y,
/// email: z)` or `Name <email>`. Also says whether the entry gave handles, and any problems.
fn parse_person(entry: &str) -> (Person, bool, Vec<String>) {
    let name = entry_name(entry);
    let id = snake_id(&name);
    let mut person = Person {
        id,
        chat: Some(chat_placeholder(&name)).filter(|c| !c.is_empty()),
        name,
        github: None,
        email: None,
    };
    let mut problems = Vec::new();
    let mut given = false;
    let inner: Vec<&str> = [('(', ')'), ('<', '>')]
        .iter()
        .filter_map(|(open, close)| {
            let start = entry.find(*open)?;
            let end = entry.rfind(*close).filter(|e| *e > start)?;
            Some(&entry[start + 1..end])
        })
        .collect();
    for handle in
        inner.iter().flat_map(|s| s.split([',', ';'])).map(str::trim).filter(|h| !h.is_empty())
    {
        given = true;
        let value = |v: &str| Some(v.trim().to_string()).filter(|v| !is_placeholder(v));
        let (key, val) = match handle.split_once(':') {
            Some((k, v)) if !k.contains('/') => (k.trim().to_lowercase(), v),
            _ => (String::new(), handle),
        };
        match key.as_str() {
            "chat" | "mattermost" | "slack" => person.chat = value(val),
            "github" | "gh" => person.github = value(val.trim().trim_start_matches('@')),
            "email" | "mail" => person.email = value(val),
            "" if val.starts_with('@') => person.chat = value(&val[1..]),
            "" if val.contains('@') => person.email = value(val),
            "" if val.contains("github.com/") => {
                person.github = val.rsplit('/').next().and_then(value);
            }
            _ => problems.push(format!("`{handle}` in `{entry}` is not a handle (write `chat: x`, `github: x` or `email: x`); skipped")),
        }
    }
    (person, given, problems)
}

/// The name part of a roles-list entry.
fn entry_name(entry: &str) -> String {
    let cut = entry.find(['(', '<']).unwrap_or(entry.len());
    collapse(&entry[..cut])
}

/// A letter or digit as lowercase ASCII, accents dropped; `None` for anything else.
fn fold(c: char) -> Option<String> {
    if c.is_ascii_alphanumeric() {
        return Some(c.to_ascii_lowercase().to_string());
    }
    let s = match c.to_lowercase().next().unwrap_or(c) {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'ł' | 'ľ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ř' => "r",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ť' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        'ð' => "d",
        _ => return None,
    };
    Some(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_snake_case_of_the_title() {
        for (title, id) in [
            ("Head of Community", "head_of_community"),
            ("Dr. Program Management", "dr_program_management"),
            ("VP Eng", "vp_eng"),
            ("CEO", "ceo"),
            ("Katie Wiersgalla", "katie_wiersgalla"),
            ("Chen-i Lim", "chen_i_lim"),
            ("Don’t make false promises", "dont_make_false_promises"),
            ("José Núñez", "jose_nunez"),
            ("  ", ""),
        ] {
            assert_eq!(snake_id(title), id, "{title}");
        }
    }

    #[test]
    fn chat_handles_default_to_first_dot_last() {
        assert_eq!(chat_placeholder("Ian Tien"), "ian.tien");
        assert_eq!(chat_placeholder("Chen-i Lim"), "chen-i.lim");
        assert_eq!(chat_placeholder("Mary Ann Smith"), "mary.ann.smith");
    }

    #[test]
    fn topics_are_recognised_by_keyword() {
        for (heading, id) in [
            ("Opinions on telemetry", "privacy_telemetry"),
            ("GDPR questions about the product", "product_regulation"),
            ("GDPR and marketing emails", "marketing_regulation"),
            ("Open source licensing", "licensing"),
            ("Pricing and packaging", "packaging"),
            ("Hiring locations", "workplace"),
            ("Security issues", "security_vulnerability"),
            ("Illegal uses of the product", "illicit_use"),
            ("Government requests for user data", "government_request"),
        ] {
            assert_eq!(sensitive_topic_id(heading), Some(id), "{heading}");
        }
        assert_eq!(sensitive_topic_id("Trademarks"), None);
        assert_eq!(non_sensitive_kind_id("other user feedback"), Some("feedback"));
        assert_eq!(non_sensitive_kind_id("bug reports"), Some("bug_report"));
    }

    #[test]
    fn titles_come_from_bold_text_or_the_first_clause() {
        let draft = |text: &str, bold: Option<&str>| TopicDraft {
            sensitive: true,
            text: text.into(),
            bold: bold.map(Into::into),
            ..TopicDraft::default()
        };
        let (id, title, description, standard) = resolve_topic(&draft(
            "Product-related Regulations/GDPR, and other legal issues",
            Some("Regulations/GDPR"),
        ));
        assert_eq!(
            (id.as_str(), title.as_str(), standard),
            ("product_regulation", "Product-related Regulations/GDPR", true)
        );
        assert_eq!(description, "Product-related Regulations/GDPR, and other legal issues");
        let (id, title, description, _) =
            resolve_topic(&draft("Data sovereignty questions, e.g. where data is stored:", None));
        assert_eq!(
            (id.as_str(), title.as_str()),
            ("data_sovereignty_questions", "Data sovereignty questions")
        );
        assert_eq!(description, "Data sovereignty questions, e.g. where data is stored");
        let (_, title, description, _) =
            resolve_topic(&draft("Trademarks — logos and names", Some("Trademarks")));
        assert_eq!((title.as_str(), description.as_str()), ("Trademarks", "logos and names"));
    }

    #[test]
    fn handles_and_vacant_roles_are_read_from_the_roles_list() {
        let page = "Roles\n\
            CEO: Ian Tien (@ian, github: itien, ian@example.org)\n\
            CTO: Ada Byron <ada@example.org> and Ian Tien\n\
            CRO: (nobody)\n\
            COO:\n\
            Last updated: 2024-05-01\n";
        let p = import(page, None).policy;
        let ids: Vec<(&str, usize)> =
            p.roles.iter().map(|r| (r.id.as_str(), r.members.len())).collect();
        assert_eq!(ids, [("ceo", 1), ("cto", 2), ("cro", 0), ("coo", 0)]);
        let ian = p.person("ian_tien").cloned();
        assert_eq!(
            ian,
            Some(Person {
                id: "ian_tien".into(),
                name: "Ian Tien".into(),
                chat: Some("ian".into()),
                github: Some("itien".into()),
                email: Some("ian@example.org".into()),
            })
        );
        let ada = p.person("ada_byron").and_then(|a| a.email.clone());
        assert_eq!(ada.as_deref(), Some("ada@example.org"));
    }

    #[test]
    fn multi_line_templates_survive_a_round_trip() {
        let page = "## Sensitive topics\n\n1 - **Licensing**\n* Approved Responders: CEO\n\
            * Template Response: Thanks for asking.\n  Our licence is Apache-2.0.\n\n  See the FAQ.\n\n\
            ### Roles\n\n* CEO: Jo Park\n";
        let first = import(page, None).policy;
        let template = first.topic("licensing").and_then(|t| t.template.clone());
        assert_eq!(
            template.as_deref(),
            Some("Thanks for asking.\nOur licence is Apache-2.0.\n\nSee the FAQ.")
        );
        assert_eq!(import(&export(&first), None).policy, first);
    }

    #[test]
    fn markdown_tips_may_be_bold_lines() {
        let page = "# Policy\n\n## Response writing tips\n\nKeep these in mind:\n\n**Be kind**\nAssume good intent.\n\n**Be brief**\nSay it once.\n";
        let tips = import(page, None).policy.tips;
        let got: Vec<(&str, &str)> =
            tips.iter().map(|t| (t.id.as_str(), t.text.as_str())).collect();
        assert_eq!(got, [("be_kind", "Assume good intent."), ("be_brief", "Say it once.")]);
    }
}
