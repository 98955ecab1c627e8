//! Validation: everything that makes a policy unusable (errors) or surprising (warnings).

use std::collections::HashMap;

use crate::source::{Diagnostic, Seg};
use crate::Policy;

use Seg::{Index, Key};

/// Checks a policy and returns every problem found, each with its path in the document.
pub fn validate(policy: &Policy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let v = &mut out;

    if policy.name.trim().is_empty() {
        v.push(Diagnostic::error(vec![Key("name")], "the policy has no name"));
    }
    if policy.version.trim().is_empty() {
        v.push(Diagnostic::error(vec![Key("version")], "the policy has no version label"));
    }
    if chrono::NaiveDate::parse_from_str(&policy.effective, "%Y-%m-%d").is_err() {
        v.push(Diagnostic::error(
            vec![Key("effective")],
            format!("effective date `{}` is not a date like 2024-06-01", policy.effective),
        ));
    }
    if !(policy.model_weight.is_finite() && policy.model_weight >= 0.0) {
        v.push(Diagnostic::error(
            vec![Key("model_weight")],
            "model_weight must be a number of at least 0",
        ));
    }
    for (i, d) in policy.allow_domains.iter().enumerate() {
        let ok = !d.is_empty()
            && d.contains('.')
            && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !ok {
            v.push(Diagnostic::error(
                vec![Key("allow_domains"), Index(i)],
                format!("`{d}` is not a domain name like example.org"),
            ));
        }
    }

    duplicates(v, "topics", "topic", policy.topics.iter().map(|t| t.id.as_str()));
    duplicates(v, "roles", "role", policy.roles.iter().map(|r| r.id.as_str()));
    duplicates(v, "people", "person", policy.people.iter().map(|p| p.id.as_str()));
    duplicates(v, "tips", "tip", policy.tips.iter().map(|t| t.id.as_str()));

    let role_list = || policy.roles.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", ");
    for (ti, topic) in policy.topics.iter().enumerate() {
        let at = |rest: &[Seg]| [vec![Key("topics"), Index(ti)], rest.to_vec()].concat();
        check_id(v, at(&[Key("id")]), "topic", &topic.id);
        for (field, roles) in [("responders", &topic.responders), ("loop_in", &topic.loop_in)] {
            for (ri, role) in roles.iter().enumerate() {
                if policy.role(role).is_none() {
                    v.push(Diagnostic::error(
                        at(&[Key(field), Index(ri)]),
                        format!(
                            "topic `{}` names unknown role `{role}` (known roles: {})",
                            topic.id,
                            role_list()
                        ),
                    ));
                }
            }
        }
        if topic.sensitive {
            if topic.responders.is_empty() {
                v.push(Diagnostic::error(
                    at(&[Key("id")]),
                    format!("sensitive topic `{}` has no approved responders", topic.id),
                ));
            } else if policy.responders_of(&topic.id).is_empty()
                && topic.responders.iter().all(|r| policy.role(r).is_some())
            {
                v.push(Diagnostic::error(
                    at(&[Key("responders")]),
                    format!(
                        "sensitive topic `{}` has no approved responder: none of its roles ({}) has a person",
                        topic.id,
                        topic.responders.join(", ")
                    ),
                ));
            }
            if topic.cues.is_empty() {
                v.push(Diagnostic::warning(
                    at(&[Key("id")]),
                    format!(
                        "sensitive topic `{}` has no triage cues: it is only ever escalated by hand",
                        topic.id
                    ),
                ));
            }
        }
        if !(topic.threshold.is_finite() && topic.threshold > 0.0) {
            v.push(Diagnostic::error(
                at(&[Key("threshold")]),
                format!("topic `{}`: threshold must be a number above 0", topic.id),
            ));
        }
        for (ci, cue) in topic.cues.iter().enumerate() {
            let cue_at = |rest: &[Seg]| at(&[&[Key("cues"), Index(ci)], rest].concat());
            if !cue.weight.is_finite() || cue.weight == 0.0 {
                v.push(Diagnostic::error(
                    cue_at(&[Key("weight")]),
                    format!("topic `{}`: a cue's weight must be a non-zero number", topic.id),
                ));
            }
            if cue.cap.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
                v.push(Diagnostic::error(
                    cue_at(&[Key("cap")]),
                    format!("topic `{}`: a cue group's cap must be a number above 0", topic.id),
                ));
            }
            if cue.phrases.is_empty() && cue.patterns.is_empty() {
                v.push(Diagnostic::warning(
                    cue_at(&[]),
                    format!("topic `{}`: cue group has neither phrases nor patterns", topic.id),
                ));
            }
            for (pi, phrase) in cue.phrases.iter().enumerate() {
                if phrase.trim().is_empty() {
                    v.push(Diagnostic::error(
                        cue_at(&[Key("phrases"), Index(pi)]),
                        format!("topic `{}`: empty phrase", topic.id),
                    ));
                }
            }
            for (pi, pattern) in cue.patterns.iter().enumerate() {
                check_regex(v, cue_at(&[Key("patterns"), Index(pi)]), pattern);
            }
        }
    }
    if !policy.topics.iter().any(|t| !t.sensitive) {
        v.push(Diagnostic::warning(
            vec![Key("topics")],
            "no non-sensitive topic: posts that touch no sensitive topic get no kind",
        ));
    }

    for (ri, role) in policy.roles.iter().enumerate() {
        let at = |rest: &[Seg]| [vec![Key("roles"), Index(ri)], rest.to_vec()].concat();
        check_id(v, at(&[Key("id")]), "role", &role.id);
        if role.members.is_empty() {
            v.push(Diagnostic::warning(
                at(&[Key("id")]),
                format!(
                    "role `{}` ({}) has no person: responders and loop-ins through it reach nobody",
                    role.id, role.title
                ),
            ));
        }
        for (mi, member) in role.members.iter().enumerate() {
            if policy.person(member).is_none() {
                v.push(Diagnostic::error(
                    at(&[Key("members"), Index(mi)]),
                    format!("role `{}` names unknown person `{member}`", role.id),
                ));
            }
        }
    }

    for (pi, person) in policy.people.iter().enumerate() {
        let at = |rest: &[Seg]| [vec![Key("people"), Index(pi)], rest.to_vec()].concat();
        check_id(v, at(&[Key("id")]), "person", &person.id);
        if let Some(email) = &person.email {
            let ok = email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
            if !ok {
                v.push(Diagnostic::error(
                    at(&[Key("email")]),
                    format!("person `{}`: `{email}` is not an email address", person.id),
                ));
            }
        }
    }

    for (ti, tip) in policy.tips.iter().enumerate() {
        let at = |rest: &[Seg]| [vec![Key("tips"), Index(ti)], rest.to_vec()].concat();
        check_id(v, at(&[Key("id")]), "tip", &tip.id);
        for (field, list) in [("avoid", &tip.avoid), ("require", &tip.require)] {
            for (i, pattern) in list.iter().enumerate() {
                check_regex(v, at(&[Key(field), Index(i)]), pattern);
            }
        }
        if let Some(check) = &tip.check {
            if check != "personal_data" {
                v.push(Diagnostic::error(
                    at(&[Key("check")]),
                    format!("tip `{}`: unknown check `{check}` (known: personal_data)", tip.id),
                ));
            }
        }
    }
    out
}

fn duplicates<'a>(
    v: &mut Vec<Diagnostic>,
    table: &'static str,
    what: &str,
    ids: impl Iterator<Item = &'a str>,
) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, id) in ids.enumerate() {
        if let Some(first) = seen.get(id) {
            v.push(Diagnostic::error(
                vec![Key(table), Index(i), Key("id")],
                format!("duplicate {what} id `{id}` (also {what} number {})", first + 1),
            ));
        } else {
            seen.insert(id, i);
        }
    }
}

fn check_id(v: &mut Vec<Diagnostic>, at: Vec<Seg>, what: &str, id: &str) {
    let ok = !id.is_empty()
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !ok {
        v.push(Diagnostic::error(
            at,
            format!("{what} id `{id}` must be lowercase letters, digits, `_` or `.`"),
        ));
    }
}

fn check_regex(v: &mut Vec<Diagnostic>, at: Vec<Seg>, pattern: &str) {
    if let Err(e) = regex::Regex::new(pattern) {
        let detail = e.to_string();
        let last = detail.lines().last().unwrap_or("invalid").trim().to_string();
        v.push(Diagnostic::error(at, format!("bad regular expression `{pattern}`: {last}")));
    }
}
