//! What changed between two versions of a policy.
//!
//! [`diff`] compares two policies and lists every change a reviewer cares about, one
//! [`Change`] each: version and effective date, topics added and removed, per topic the
//! approved responders and loop-ins (as roles, and as the people those roles reach), title,
//! sensitivity, template, official position, first-response target and triage cues; roles
//! and their members; people and their handles; response-writing tips; SLA settings.
//!
//! [`PolicyDiff`] prints as one line per change (`licensing: approved responder added: cro
//! (CRO)`) and serialises to JSON for tools.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::{Cue, HandleKind, Person, Policy, Topic};

/// Everything that changed from one policy version to the next, in a stable order: policy
/// settings, then topics (in the new policy's order, removed ones last), roles, people, tips.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDiff {
    pub old_version: String,
    pub new_version: String,
    pub changes: Vec<Change>,
}

impl PolicyDiff {
    /// Whether the two policies are the same in everything compared.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// A role as named in a change: its id and its title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleRef {
    pub id: String,
    pub title: String,
}

/// A person as named in a change: their id and their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

/// Counts of triage-cue changes on one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CueChanges {
    pub phrases_added: usize,
    pub phrases_removed: usize,
    pub patterns_added: usize,
    pub patterns_removed: usize,
    /// Phrases and patterns in both versions whose weight or title-only flag changed.
    pub reweighted: usize,
}

/// One change between two policy versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Name {
        old: String,
        new: String,
    },
    Version {
        old: String,
        new: String,
    },
    Effective {
        old: String,
        new: String,
    },
    AllowDomainAdded {
        domain: String,
    },
    AllowDomainRemoved {
        domain: String,
    },
    /// An SLA setting (`first_response`, `reminder_before`) changed.
    Sla {
        field: String,
        old: String,
        new: String,
    },
    ModelWeight {
        old: f64,
        new: f64,
    },

    TopicAdded {
        topic: String,
        title: String,
        sensitive: bool,
    },
    TopicRemoved {
        topic: String,
        title: String,
    },
    TopicTitle {
        topic: String,
        old: String,
        new: String,
    },
    TopicSensitive {
        topic: String,
        old: bool,
        new: bool,
    },
    TopicDescription {
        topic: String,
        old: String,
        new: String,
    },
    ResponderAdded {
        topic: String,
        role: RoleRef,
    },
    ResponderRemoved {
        topic: String,
        role: RoleRef,
    },
    /// The approved-responder roles, in order, before and after (the first owns by default).
    Responders {
        topic: String,
        old: Vec<String>,
        new: Vec<String>,
    },
    /// The people who may respond on the topic, through any role, before and after.
    RespondingPeople {
        topic: String,
        added: Vec<PersonRef>,
        removed: Vec<PersonRef>,
    },
    LoopInAdded {
        topic: String,
        role: RoleRef,
    },
    LoopInRemoved {
        topic: String,
        role: RoleRef,
    },
    /// The people looped in on the topic, through any role, before and after.
    LoopedInPeople {
        topic: String,
        added: Vec<PersonRef>,
        removed: Vec<PersonRef>,
    },
    Template {
        topic: String,
        old: Option<String>,
        new: Option<String>,
    },
    PositionUrl {
        topic: String,
        old: Option<String>,
        new: Option<String>,
    },
    FirstResponse {
        topic: String,
        old: Option<String>,
        new: Option<String>,
    },
    Threshold {
        topic: String,
        old: f64,
        new: f64,
    },
    Cues {
        topic: String,
        changes: CueChanges,
    },

    RoleAdded {
        role: RoleRef,
        members: Vec<PersonRef>,
    },
    RoleRemoved {
        role: RoleRef,
    },
    RoleTitle {
        role: String,
        old: String,
        new: String,
    },
    MemberAdded {
        role: RoleRef,
        person: PersonRef,
    },
    MemberRemoved {
        role: RoleRef,
        person: PersonRef,
    },

    PersonAdded {
        person: PersonRef,
    },
    PersonRemoved {
        person: PersonRef,
    },
    PersonName {
        person: String,
        old: String,
        new: String,
    },
    PersonHandle {
        person: PersonRef,
        channel: HandleKind,
        old: Option<String>,
        new: Option<String>,
    },

    TipAdded {
        tip: String,
        title: String,
    },
    TipRemoved {
        tip: String,
        title: String,
    },
    /// A tip kept its id but changed; `fields` names what changed.
    TipChanged {
        tip: String,
        title: String,
        fields: Vec<String>,
    },
}

/// Compares two versions of a policy.
pub fn diff(old: &Policy, new: &Policy) -> PolicyDiff {
    let mut d = Differ { old, new, out: Vec::new() };
    d.settings();
    d.topics();
    d.roles();
    d.people();
    d.tips();
    PolicyDiff {
        old_version: old.version.clone(),
        new_version: new.version.clone(),
        changes: d.out,
    }
}

struct Differ<'a> {
    old: &'a Policy,
    new: &'a Policy,
    out: Vec<Change>,
}

impl Differ<'_> {
    fn push(&mut self, change: Change) {
        self.out.push(change);
    }

    /// A role by id, titled from the new policy, else the old one, else the id.
    fn role(&self, id: &str) -> RoleRef {
        let title = self.new.role(id).or_else(|| self.old.role(id)).map_or(id, |r| &r.title);
        RoleRef { id: id.to_string(), title: title.to_string() }
    }

    fn person(&self, id: &str) -> PersonRef {
        let name = self.new.person(id).or_else(|| self.old.person(id)).map_or(id, |p| &p.name);
        PersonRef { id: id.to_string(), name: name.to_string() }
    }

    fn settings(&mut self) {
        let (old, new) = (self.old, self.new);
        if old.name != new.name {
            self.push(Change::Name { old: old.name.clone(), new: new.name.clone() });
        }
        if old.version != new.version {
            self.push(Change::Version { old: old.version.clone(), new: new.version.clone() });
        }
        if old.effective != new.effective {
            self.push(Change::Effective { old: old.effective.clone(), new: new.effective.clone() });
        }
        let (added, removed) = added_removed(&old.allow_domains, &new.allow_domains);
        self.out.extend(added.into_iter().map(|domain| Change::AllowDomainAdded { domain }));
        self.out.extend(removed.into_iter().map(|domain| Change::AllowDomainRemoved { domain }));
        for (field, o, n) in [
            ("first_response", old.sla.first_response, new.sla.first_response),
            ("reminder_before", old.sla.reminder_before, new.sla.reminder_before),
        ] {
            if o != n {
                self.push(Change::Sla {
                    field: field.into(),
                    old: o.to_string(),
                    new: n.to_string(),
                });
            }
        }
        if old.model_weight != new.model_weight {
            self.push(Change::ModelWeight { old: old.model_weight, new: new.model_weight });
        }
    }

    fn topics(&mut self) {
        for topic in &self.new.topics {
            match self.old.topic(&topic.id) {
                Some(before) => self.topic(before, topic),
                None => self.push(Change::TopicAdded {
                    topic: topic.id.clone(),
                    title: topic.title.clone(),
                    sensitive: topic.sensitive,
                }),
            }
        }
        for topic in &self.old.topics {
            if self.new.topic(&topic.id).is_none() {
                self.push(Change::TopicRemoved {
                    topic: topic.id.clone(),
                    title: topic.title.clone(),
                });
            }
        }
    }

    fn topic(&mut self, old: &Topic, new: &Topic) {
        let id = || new.id.clone();
        if old.title != new.title {
            self.push(Change::TopicTitle {
                topic: id(),
                old: old.title.clone(),
                new: new.title.clone(),
            });
        }
        if old.sensitive != new.sensitive {
            self.push(Change::TopicSensitive {
                topic: id(),
                old: old.sensitive,
                new: new.sensitive,
            });
        }
        if old.description != new.description {
            self.push(Change::TopicDescription {
                topic: id(),
                old: old.description.clone(),
                new: new.description.clone(),
            });
        }

        let (added, removed) = added_removed(&old.responders, &new.responders);
        for role in added {
            self.push(Change::ResponderAdded { topic: id(), role: self.role(&role) });
        }
        for role in removed {
            self.push(Change::ResponderRemoved { topic: id(), role: self.role(&role) });
        }
        if old.responders != new.responders {
            self.push(Change::Responders {
                topic: id(),
                old: old.responders.clone(),
                new: new.responders.clone(),
            });
        }
        let (added, removed) = self.people_change(&old.id, Policy::responders_of);
        if !added.is_empty() || !removed.is_empty() {
            self.push(Change::RespondingPeople { topic: id(), added, removed });
        }

        let (added, removed) = added_removed(&old.loop_in, &new.loop_in);
        for role in added {
            self.push(Change::LoopInAdded { topic: id(), role: self.role(&role) });
        }
        for role in removed {
            self.push(Change::LoopInRemoved { topic: id(), role: self.role(&role) });
        }
        let (added, removed) = self.people_change(&old.id, Policy::loop_ins_of);
        if !added.is_empty() || !removed.is_empty() {
            self.push(Change::LoopedInPeople { topic: id(), added, removed });
        }

        if old.template != new.template {
            self.push(Change::Template {
                topic: id(),
                old: old.template.clone(),
                new: new.template.clone(),
            });
        }
        if old.position_url != new.position_url {
            self.push(Change::PositionUrl {
                topic: id(),
                old: old.position_url.clone(),
                new: new.position_url.clone(),
            });
        }
        if old.first_response != new.first_response {
            self.push(Change::FirstResponse {
                topic: id(),
                old: old.first_response.map(|m| m.to_string()),
                new: new.first_response.map(|m| m.to_string()),
            });
        }
        if old.threshold != new.threshold {
            self.push(Change::Threshold { topic: id(), old: old.threshold, new: new.threshold });
        }
        let cues = cue_changes(&old.cues, &new.cues);
        if cues != CueChanges::default() {
            self.push(Change::Cues { topic: id(), changes: cues });
        }
    }

    /// People reached on a topic through `of` in the new policy but not the old, and back.
    fn people_change(
        &self,
        topic: &str,
        of: for<'p> fn(&'p Policy, &str) -> Vec<&'p Person>,
    ) -> (Vec<PersonRef>, Vec<PersonRef>) {
        let ids = |p: &Policy| of(p, topic).into_iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        let (added, removed) = added_removed(&ids(self.old), &ids(self.new));
        let refs = |ids: Vec<String>| ids.iter().map(|id| self.person(id)).collect();
        (refs(added), refs(removed))
    }

    fn roles(&mut self) {
        for role in &self.new.roles {
            let Some(before) = self.old.role(&role.id) else {
                let members = role.members.iter().map(|m| self.person(m)).collect();
                self.push(Change::RoleAdded { role: self.role(&role.id), members });
                continue;
            };
            if before.title != role.title {
                self.push(Change::RoleTitle {
                    role: role.id.clone(),
                    old: before.title.clone(),
                    new: role.title.clone(),
                });
            }
            let (added, removed) = added_removed(&before.members, &role.members);
            for person in added {
                self.push(Change::MemberAdded {
                    role: self.role(&role.id),
                    person: self.person(&person),
                });
            }
            for person in removed {
                self.push(Change::MemberRemoved {
                    role: self.role(&role.id),
                    person: self.person(&person),
                });
            }
        }
        for role in &self.old.roles {
            if self.new.role(&role.id).is_none() {
                self.push(Change::RoleRemoved {
                    role: RoleRef { id: role.id.clone(), title: role.title.clone() },
                });
            }
        }
    }

    fn people(&mut self) {
        for person in &self.new.people {
            let Some(before) = self.old.person(&person.id) else {
                self.push(Change::PersonAdded { person: self.person(&person.id) });
                continue;
            };
            if before.name != person.name {
                self.push(Change::PersonName {
                    person: person.id.clone(),
                    old: before.name.clone(),
                    new: person.name.clone(),
                });
            }
            for channel in [HandleKind::Chat, HandleKind::Github, HandleKind::Email] {
                let (o, n) = (before.handle(channel), person.handle(channel));
                if o != n {
                    self.push(Change::PersonHandle {
                        person: self.person(&person.id),
                        channel,
                        old: o.map(str::to_string),
                        new: n.map(str::to_string),
                    });
                }
            }
        }
        for person in &self.old.people {
            if self.new.person(&person.id).is_none() {
                self.push(Change::PersonRemoved {
                    person: PersonRef { id: person.id.clone(), name: person.name.clone() },
                });
            }
        }
    }

    fn tips(&mut self) {
        for tip in &self.new.tips {
            let Some(before) = self.old.tips.iter().find(|t| t.id == tip.id) else {
                self.push(Change::TipAdded { tip: tip.id.clone(), title: tip.title.clone() });
                continue;
            };
            let fields: Vec<String> = [
                ("title", before.title != tip.title),
                ("text", before.text != tip.text),
                ("avoid", before.avoid != tip.avoid),
                ("require", before.require != tip.require),
                ("check", before.check != tip.check),
            ]
            .into_iter()
            .filter(|(_, changed)| *changed)
            .map(|(field, _)| field.to_string())
            .collect();
            if !fields.is_empty() {
                self.push(Change::TipChanged {
                    tip: tip.id.clone(),
                    title: tip.title.clone(),
                    fields,
                });
            }
        }
        for tip in &self.old.tips {
            if !self.new.tips.iter().any(|t| t.id == tip.id) {
                self.push(Change::TipRemoved { tip: tip.id.clone(), title: tip.title.clone() });
            }
        }
    }
}

/// Items of `new` not in `old` (in `new`'s order) and of `old` not in `new` (in `old`'s).
fn added_removed(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    let added = new.iter().filter(|x| !old.contains(x)).cloned().collect();
    let removed = old.iter().filter(|x| !new.contains(x)).cloned().collect();
    (added, removed)
}

fn cue_changes(old: &[Cue], new: &[Cue]) -> CueChanges {
    // Each phrase or pattern with the weight and title-only flag it has (the last wins).
    type Index = BTreeMap<String, (u64, bool)>;
    fn index(cues: &[Cue], patterns: bool) -> Index {
        let mut out = Index::new();
        for cue in cues {
            let items = if patterns { &cue.patterns } else { &cue.phrases };
            for item in items {
                let key = if patterns { item.clone() } else { item.to_lowercase() };
                out.insert(key, (cue.weight.to_bits(), cue.title_only));
            }
        }
        out
    }
    let mut changes = CueChanges::default();
    for patterns in [false, true] {
        let (o, n) = (index(old, patterns), index(new, patterns));
        let (ok, nk): (BTreeSet<&String>, BTreeSet<&String>) =
            (o.keys().collect(), n.keys().collect());
        let added = nk.difference(&ok).count();
        let removed = ok.difference(&nk).count();
        changes.reweighted += nk.intersection(&ok).filter(|k| o.get(**k) != n.get(**k)).count();
        if patterns {
            changes.patterns_added = added;
            changes.patterns_removed = removed;
        } else {
            changes.phrases_added = added;
            changes.phrases_removed = removed;
        }
    }
    changes
}

impl fmt::Display for RoleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.title.is_empty() || self.title == self.id {
            f.write_str(&self.id)
        } else {
            write!(f, "{} ({})", self.id, self.title)
        }
    }
}

impl fmt::Display for PersonRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() || self.name == self.id {
            f.write_str(&self.id)
        } else {
            write!(f, "{} ({})", self.id, self.name)
        }
    }
}

impl fmt::Display for CueChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if self.phrases_added + self.phrases_removed > 0 {
            parts.push(format!(
                "{} added, {} removed",
                plural(self.phrases_added, "phrase"),
                self.phrases_removed
            ));
        }
        if self.patterns_added + self.patterns_removed > 0 {
            parts.push(format!(
                "{} added, {} removed",
                plural(self.patterns_added, "pattern"),
                self.patterns_removed
            ));
        }
        if self.reweighted > 0 {
            parts.push(format!("{} reweighted", self.reweighted));
        }
        f.write_str(&parts.join("; "))
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

fn opt(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("(none)")
}

fn people(added: &[PersonRef], removed: &[PersonRef]) -> String {
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("added {}", list(added)));
    }
    if !removed.is_empty() {
        parts.push(format!("removed {}", list(removed)));
    }
    parts.join("; ")
}

fn sensitivity(sensitive: bool) -> &'static str {
    if sensitive {
        "sensitive"
    } else {
        "non-sensitive"
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Change as C;
        match self {
            C::Name { old, new } => write!(f, "name changed from {old:?} to {new:?}"),
            C::Version { old, new } => write!(f, "version changed from {old} to {new}"),
            C::Effective { old, new } => write!(f, "effective date changed from {old} to {new}"),
            C::AllowDomainAdded { domain } => write!(f, "allowed domain added: {domain}"),
            C::AllowDomainRemoved { domain } => write!(f, "allowed domain removed: {domain}"),
            C::Sla { field, old, new } => write!(f, "sla.{field} changed from {old} to {new}"),
            C::ModelWeight { old, new } => write!(f, "model_weight changed from {old} to {new}"),
            C::TopicAdded { topic, title, sensitive } => {
                write!(f, "topic added: {topic} ({title}), {}", sensitivity(*sensitive))
            }
            C::TopicRemoved { topic, title } => write!(f, "topic removed: {topic} ({title})"),
            C::TopicTitle { topic, old, new } => {
                write!(f, "{topic}: title changed from {old:?} to {new:?}")
            }
            C::TopicSensitive { topic, old, new } => {
                write!(f, "{topic}: changed from {} to {}", sensitivity(*old), sensitivity(*new))
            }
            C::TopicDescription { topic, old, new } => {
                write!(f, "{topic}: description changed from {old:?} to {new:?}")
            }
            C::ResponderAdded { topic, role } => {
                write!(f, "{topic}: approved responder added: {role}")
            }
            C::ResponderRemoved { topic, role } => {
                write!(f, "{topic}: approved responder removed: {role}")
            }
            C::Responders { topic, old, new } => {
                let same: BTreeSet<&String> = old.iter().collect();
                let verb = if same == new.iter().collect() { "reordered" } else { "changed" };
                write!(f, "{topic}: approved responders {verb} from {} to {}", list(old), list(new))
            }
            C::RespondingPeople { topic, added, removed } => {
                write!(f, "{topic}: people who may respond: {}", people(added, removed))
            }
            C::LoopInAdded { topic, role } => write!(f, "{topic}: loop-in added: {role}"),
            C::LoopInRemoved { topic, role } => write!(f, "{topic}: loop-in removed: {role}"),
            C::LoopedInPeople { topic, added, removed } => {
                write!(f, "{topic}: people looped in: {}", people(added, removed))
            }
            C::Template { topic, old, new } => match (old, new) {
                (None, Some(_)) => write!(f, "{topic}: template response added"),
                (Some(_), None) => write!(f, "{topic}: template response removed"),
                _ => write!(f, "{topic}: template response changed"),
            },
            C::PositionUrl { topic, old, new } => {
                write!(f, "{topic}: official position changed from {} to {}", opt(old), opt(new))
            }
            C::FirstResponse { topic, old, new } => write!(
                f,
                "{topic}: first-response target changed from {} to {}",
                old.as_deref().unwrap_or("the policy default"),
                new.as_deref().unwrap_or("the policy default")
            ),
            C::Threshold { topic, old, new } => {
                write!(f, "{topic}: triage threshold changed from {old} to {new}")
            }
            C::Cues { topic, changes } => write!(f, "{topic}: triage cues changed: {changes}"),
            C::RoleAdded { role, members } => {
                if members.is_empty() {
                    write!(f, "role added: {role}, held by nobody")
                } else {
                    write!(f, "role added: {role}, held by {}", list(members))
                }
            }
            C::RoleRemoved { role } => write!(f, "role removed: {role}"),
            C::RoleTitle { role, old, new } => {
                write!(f, "role {role}: title changed from {old:?} to {new:?}")
            }
            C::MemberAdded { role, person } => write!(f, "role {role}: member added: {person}"),
            C::MemberRemoved { role, person } => {
                write!(f, "role {role}: member removed: {person}")
            }
            C::PersonAdded { person } => write!(f, "person added: {person}"),
            C::PersonRemoved { person } => write!(f, "person removed: {person}"),
            C::PersonName { person, old, new } => {
                write!(f, "person {person}: name changed from {old:?} to {new:?}")
            }
            C::PersonHandle { person, channel, old, new } => {
                let channel = match channel {
                    HandleKind::Chat => "chat",
                    HandleKind::Github => "GitHub",
                    HandleKind::Email => "email",
                };
                write!(
                    f,
                    "person {person}: {channel} handle changed from {} to {}",
                    opt(old),
                    opt(new)
                )
            }
            C::TipAdded { tip, title } => write!(f, "tip added: {tip} ({title})"),
            C::TipRemoved { tip, title } => write!(f, "tip removed: {tip} ({title})"),
            C::TipChanged { tip, fields, .. } => {
                write!(f, "tip {tip}: {} changed", fields.join(", "))
            }
        }
    }
}

impl fmt::Display for PolicyDiff {
    /// One line per change, after a header naming the two versions; "no changes" when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "policy {} → {}", self.old_version, self.new_version)?;
        if self.changes.is_empty() {
            return writeln!(f, "no changes");
        }
        for change in &self.changes {
            writeln!(f, "{change}")?;
        }
        Ok(())
    }
}
