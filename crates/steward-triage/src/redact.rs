//! Finding and redacting personal data.
//!
//! A [`Redactor`] finds IP addresses (v4 and v6), email addresses, URLs and bare domain names
//! whose host is not one of the project's own (the policy's `allow_domains`), phone numbers,
//! and API keys, tokens and passwords. [`Redactor::redact`] replaces each with a typed
//! placeholder (`[ip]`, `[email]`, `[url]`, `[domain]`, `[phone]`, `[secret]`).
//!
//! # How it works, and why it is hand-written
//!
//! Triage must run at over 100 MB/s on one core, so redaction cannot be one large regular
//! expression run over every byte. Instead cheap prefilters find the few places where
//! personal data can start, and small hand-written scanners decide there:
//!
//! * one pass over the bytes skips eight at a time (SWAR) to the next `:`, `@`, `.` or
//!   digit, which drive URLs (`://`), IPv6 addresses (`:`), emails (`@`), IPv4 addresses and
//!   domain names (`.`) and phone numbers (runs of digits);
//! * an Aho-Corasick automaton over the known secret prefixes (`ghp_`, `AKIA`, `xoxb-`,
//!   `sk_live_`, `eyJ`, `Bearer`, `token`, `password`, …) drives secrets.
//!
//! No crate in the workspace detects this set of kinds with an allow-list and the
//! precision rules below (versions are not IPs, file names are not domains, dates are not
//! phone numbers), and general URL/email finders in the ecosystem scan every byte with a
//! state machine or a large regex, which is several times slower than jumping between
//! prefilter hits. The scanners look only at ASCII bytes, so every range they produce starts
//! and ends on a character boundary.
//!
//! # Precision trade-offs
//!
//! * IPv4: four decimal octets 0–255 without leading zeros, not part of a longer dotted run
//!   (`1.2.3.4.5`), not glued to letters (`v1.2.3.4`) and not right after a word that
//!   announces a version ([`VERSION_WORDS`]). A bare `1.2.3.4` is reported: it is a valid
//!   address.
//! * IPv6: validated by [`std::net::Ipv6Addr`]; must contain a decimal digit (so `std::vector`,
//!   `Foo::Bar` and `dead::beef` are not addresses) and may not be glued to identifier
//!   characters; Python slices such as `a[1::2]` are skipped.
//! * Domains: only names ending in a curated top-level domain, written in lower case. Real
//!   ccTLDs that collide with file extensions are left out on purpose (see `is_tld`); so
//!   are gTLDs that collide with common code (`user.name`, `app.run`, `user.email`), and
//!   `.zip`/`.mov`. Reverse-DNS package names (`com.example.app`), `receiver.member` code
//!   (`self.app`), method calls (`foo.com(`) and all-caps file stems (`MANIFEST.in`) are
//!   skipped. Bare names of public services (`github.com`, `socket.io`) are reported unless
//!   allow-listed.
//! * URLs: `http(s)`, `ftp(s)`, `ws(s)` and the connection strings of common databases and
//!   brokers (`postgres://user:pass@db…`, see `URL_SCHEMES`); a URL stops at whitespace,
//!   quotes, angle brackets and non-ASCII characters, and at 8 KiB; trailing punctuation and
//!   unbalanced closing brackets (Markdown links) are not part of it. URLs to `localhost`
//!   are not personal data, but the password in `user:password@` always is a secret. Text
//!   inside an allow-listed URL is still searched for emails and secrets.
//! * Emails at allow-listed domains (`security@example.org`) are the project's own role
//!   addresses and are left alone, as are SSH remotes (`git@github.com:org/repo`).
//! * Phones: 8–15 digits; `+` international numbers in any grouping; national numbers only
//!   with separators in a known shape (`(415) 555-0132`, `415-555-0132`, `415.555.0132`,
//!   `020 7946 0958`). Bare digit runs (issue numbers, timestamps), dates, year ranges and
//!   numbers glued to `#`, letters, `/` or `:` are not phones.
//! * Secrets: token formats with fixed prefixes, JWTs, `Bearer` tokens, PEM private key
//!   blocks, and `key = value` assignments whose key names a token, secret, API key or
//!   password and whose value looks random enough (long and high-entropy for tokens; with a
//!   digit, or mixed case and a symbol, for passwords). Only the value is redacted.

use std::fmt;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use serde::{Deserialize, Serialize};

use crate::post::Field;

/// Words after which a dotted quad is a version, not an address (`v 1.2.3.4`, `build:
/// 1.2.3.4`), in any case, across spaces, `:` and `=`.
pub const VERSION_WORDS: [&str; 8] =
    ["version", "ver", "v", "release", "build", "rev", "revision", "firmware"];

/// One piece of personal data found in a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiiFinding {
    pub kind: PiiKind,
    pub field: Field,
    pub start: usize,
    pub end: usize,
}

/// The kinds of personal data the redactor knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Ipv4,
    Ipv6,
    Email,
    Url,
    Domain,
    Phone,
    Secret,
}

impl PiiKind {
    /// The kind's name as serialised (`ipv4`, `email`, …).
    pub fn name(self) -> &'static str {
        match self {
            PiiKind::Ipv4 => "ipv4",
            PiiKind::Ipv6 => "ipv6",
            PiiKind::Email => "email",
            PiiKind::Url => "url",
            PiiKind::Domain => "domain",
            PiiKind::Phone => "phone",
            PiiKind::Secret => "secret",
        }
    }

    /// The placeholder that replaces this kind of data; see [`placeholder`].
    pub fn placeholder(self) -> &'static str {
        placeholder(self)
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The typed placeholder that replaces a finding of this kind in redacted text.
pub fn placeholder(kind: PiiKind) -> &'static str {
    match kind {
        PiiKind::Ipv4 | PiiKind::Ipv6 => "[ip]",
        PiiKind::Email => "[email]",
        PiiKind::Url => "[url]",
        PiiKind::Domain => "[domain]",
        PiiKind::Phone => "[phone]",
        PiiKind::Secret => "[secret]",
    }
}

/// Schemes of the URLs that are found: web and file transfer, and the connection strings
/// of databases and brokers that show up in troubleshooting posts, credentials and all.
const URL_SCHEMES: &[&str] = &[
    "http",
    "https",
    "ftp",
    "ftps",
    "sftp",
    "ws",
    "wss",
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "ldap",
    "ldaps",
    "smtp",
    "smtps",
    "imap",
    "imaps",
    "ssh",
];

/// URLs are read up to this many bytes after `://`.
const MAX_URL: usize = 8192;

/// Finds and redacts personal data. Build it once; it is cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Allow-listed domains, lower case, without leading `*.`/`.` or trailing `.`.
    allow: Vec<String>,
    /// Known secret prefixes and key names; the rule for pattern `i` is `secret_rules[i]`.
    secrets: AhoCorasick,
    secret_rules: Vec<SecretRule>,
}

/// How to read a secret from where its prefix matched.
#[derive(Debug, Clone, Copy)]
enum SecretRule {
    /// A fixed prefix then `len` (at least `min`, at most `max`) characters of a set.
    Prefixed { set: CharSet, min: usize, max: usize },
    /// `eyJ…` header, `.eyJ…` payload, `.signature`.
    Jwt,
    /// `Bearer <token>`: the token.
    Bearer,
    /// A key name (`api_key`, `token`, `password`, …) assigned a value: the value.
    Keyword,
    /// `-----BEGIN … PRIVATE KEY-----` through its `-----END … -----` line.
    PrivateKey,
}

#[derive(Debug, Clone, Copy)]
enum CharSet {
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_]`
    Word,
    /// `[A-Z0-9]`
    UpperDigit,
    /// `[A-Za-z0-9-]`
    AlnumDash,
    /// `[A-Za-z0-9_-]`
    Base64Url,
}

impl CharSet {
    fn contains(self, b: u8) -> bool {
        match self {
            CharSet::Alnum => b.is_ascii_alphanumeric(),
            CharSet::Word => b.is_ascii_alphanumeric() || b == b'_',
            CharSet::UpperDigit => b.is_ascii_uppercase() || b.is_ascii_digit(),
            CharSet::AlnumDash => b.is_ascii_alphanumeric() || b == b'-',
            CharSet::Base64Url => b.is_ascii_alphanumeric() || b == b'-' || b == b'_',
        }
    }
}

/// The secret prefixes. Key names are listed in the three usual casings (`token`, `Token`,
/// `TOKEN`) rather than matched case-insensitively, so that the automaton keeps its fast
/// vectorised prefilter.
fn secret_patterns() -> Vec<(String, SecretRule)> {
    use CharSet::*;
    use SecretRule::*;
    let mut out: Vec<(String, SecretRule)> = Vec::new();
    let mut add = |p: &str, rule| out.push((p.to_string(), rule));
    // GitHub: 36 characters after the prefix; a little slack for truncated pastes.
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        add(p, Prefixed { set: Alnum, min: 30, max: 255 });
    }
    add("github_pat_", Prefixed { set: Word, min: 22, max: 255 });
    // AWS access key ids: exactly 16 more upper-case letters and digits.
    for p in ["AKIA", "ASIA"] {
        add(p, Prefixed { set: UpperDigit, min: 16, max: 16 });
    }
    for p in ["xoxa-", "xoxb-", "xoxp-", "xoxr-"] {
        add(p, Prefixed { set: AlnumDash, min: 10, max: 255 });
    }
    for p in ["sk_live_", "pk_live_", "rk_live_"] {
        add(p, Prefixed { set: Alnum, min: 16, max: 255 });
    }
    // Google API keys: 35 more characters.
    add("AIza", Prefixed { set: Base64Url, min: 30, max: 255 });
    add("eyJ", Jwt);
    for p in ["Bearer", "bearer", "BEARER"] {
        add(p, Bearer);
    }
    for word in ["key", "token", "secret", "passw", "pwd", "passphrase"] {
        let mut cap = word.to_string();
        cap[..1].make_ascii_uppercase();
        add(word, Keyword);
        add(&cap, Keyword);
        add(&word.to_ascii_uppercase(), Keyword);
    }
    add("-----BEGIN ", PrivateKey);
    out
}

impl Redactor {
    /// A redactor that leaves hosts equal to or under any of `allow_domains` alone.
    pub fn new(allow_domains: &[String]) -> Redactor {
        let allow = allow_domains
            .iter()
            .map(|d| {
                let d = d.trim().trim_start_matches("*.").trim_matches('.');
                d.to_ascii_lowercase()
            })
            .filter(|d| !d.is_empty())
            .collect();
        let (patterns, secret_rules): (Vec<String>, Vec<SecretRule>) =
            secret_patterns().into_iter().unzip();
        let secrets = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("the fixed secret prefixes always build an automaton");
        Redactor { allow, secrets, secret_rules }
    }

    /// Whether `host` is one of the allow-listed domains or under one of them.
    pub fn is_allowed_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').as_bytes();
        self.allow.iter().any(|d| {
            let d = d.as_bytes();
            if host.len() == d.len() {
                host.eq_ignore_ascii_case(d)
            } else {
                host.len() > d.len()
                    && host[host.len() - d.len() - 1] == b'.'
                    && host[host.len() - d.len()..].eq_ignore_ascii_case(d)
            }
        })
    }

    /// Every piece of personal data in `text`: sorted, non-overlapping UTF-8 byte ranges,
    /// each on character boundaries.
    pub fn find(&self, text: &str) -> Vec<(PiiKind, Range<usize>)> {
        let mut scan = Scan::new(self, text.as_bytes());
        scan.run();
        scan.resolve()
    }

    /// `text` with every finding replaced by its [`placeholder`], and the findings, whose
    /// ranges are into the original `text`.
    pub fn redact(&self, text: &str) -> (String, Vec<(PiiKind, Range<usize>)>) {
        let found = self.find(text);
        let out = redact_span(text, 0..text.len(), &found);
        (out, found)
    }

    /// [`Redactor::redact`] for one field of a post, with the findings as [`PiiFinding`]s.
    pub fn redact_field(&self, field: Field, text: &str) -> (String, Vec<PiiFinding>) {
        let (redacted, found) = self.redact(text);
        let findings = found
            .into_iter()
            .map(|(kind, r)| PiiFinding { kind, field, start: r.start, end: r.end })
            .collect();
        (redacted, findings)
    }
}

/// `text[span]` with every finding that overlaps the span replaced by its [`placeholder`]
/// (a finding cut by the span's edge is replaced whole). `found` is sorted and
/// non-overlapping, as [`Redactor::find`] gives it; `span` is on character boundaries.
pub fn redact_span(text: &str, span: Range<usize>, found: &[(PiiKind, Range<usize>)]) -> String {
    let mut out = String::with_capacity(span.len());
    let mut at = span.start;
    for (kind, range) in found.iter().filter(|(_, r)| r.start < span.end && r.end > span.start) {
        out.push_str(&text[at..range.start.max(at)]);
        out.push_str(placeholder(*kind));
        at = range.end.min(span.end);
    }
    out.push_str(&text[at..span.end]);
    out
}

/// A candidate finding.
#[derive(Debug, Clone, Copy)]
struct Cand {
    start: usize,
    end: usize,
    kind: PiiKind,
}

/// The candidates of one text, per detector, in priority order: when two overlap, the
/// earlier list wins (a URL contains its host and query, an email its domain, an IPv6
/// address may embed an IPv4 one).
#[derive(Default)]
struct Lists {
    url: Vec<Cand>,
    secret: Vec<Cand>,
    email: Vec<Cand>,
    /// Allow-listed URLs and emails (and `localhost` URLs): nothing inside them is reported
    /// as an IP, phone or domain. Emails and secrets inside them still are.
    shield: Vec<Range<usize>>,
    ipv6: Vec<Cand>,
    ipv4: Vec<Cand>,
    phone: Vec<Cand>,
    domain: Vec<Cand>,
}

struct Scan<'a> {
    r: &'a Redactor,
    b: &'a [u8],
    lists: Lists,
    /// No `-----END ` occurs at or after this offset (keeps PEM scanning linear).
    no_pem_end_from: usize,
}

// ---- byte classes -------------------------------------------------------------------------

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_host(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

fn is_url_char(b: u8) -> bool {
    b > b' '
        && b < 0x7f
        && !matches!(b, b'<' | b'>' | b'"' | b'\'' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^')
}

fn is_email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_secret_value(b: u8) -> bool {
    b > b' '
        && b < 0x7f
        && !matches!(
            b,
            b'"' | b'\''
                | b'`'
                | b','
                | b';'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'<'
                | b'>'
                | b'&'
        )
}

impl<'a> Scan<'a> {
    fn new(r: &'a Redactor, b: &'a [u8]) -> Self {
        Scan { r, b, lists: Lists::default(), no_pem_end_from: usize::MAX }
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn before(&self, i: usize) -> u8 {
        if i == 0 {
            0
        } else {
            self.b[i - 1]
        }
    }

    fn run(&mut self) {
        self.scan_bytes();
        self.scan_secrets();
    }

    /// Merges the per-detector lists by priority into sorted, non-overlapping findings.
    fn resolve(self) -> Vec<(PiiKind, Range<usize>)> {
        let Lists { url, secret, email, shield, ipv6, ipv4, phone, domain } = self.lists;
        let shields = union(shield);
        let mut accepted: Vec<Cand> = Vec::new();
        for (list, shielded) in [
            (url, false),
            (secret, false),
            (email, false),
            (ipv6, true),
            (ipv4, true),
            (phone, true),
            (domain, true),
        ] {
            if list.is_empty() {
                continue;
            }
            let list = if shielded && !shields.is_empty() { outside(list, &shields) } else { list };
            accepted = merge(accepted, list);
        }
        accepted.into_iter().map(|c| (c.kind, c.start..c.end)).collect()
    }

    // ---- `:`, `@`, `.` -----------------------------------------------------------------

    /// One pass over the text, jumping between the bytes where a URL, IP, email, domain or
    /// phone number can be: `:`, `@`, `.` and digits.
    fn scan_bytes(&mut self) {
        let b = self.b;
        let mut url_next = 0;
        let mut ipv6_next = 0;
        let mut ipv4_next = 0;
        let mut domain_next = 0;
        let mut email_next = 0;
        let mut phone_next = 0;
        let mut i = 0;
        while i < b.len() {
            // Skip eight bytes at a time to the first one that may start something.
            while let Some(word) = b.get(i..i + 8) {
                let word: [u8; 8] = word.try_into().unwrap_or([b'.'; 8]);
                let mask = trigger_mask(u64::from_le_bytes(word));
                if mask != 0 {
                    i += mask.trailing_zeros() as usize / 8;
                    break;
                }
                i += 8;
            }
            let Some(&c) = b.get(i) else { break };
            match c {
                b'0'..=b'9' => {
                    let run_end = self.run_of(i, usize::MAX, |c| c.is_ascii_digit());
                    if i >= phone_next && i >= url_next {
                        if let Some(end) = self.phone_at(i) {
                            phone_next = end;
                        }
                    }
                    i = run_end;
                    continue;
                }
                b':' => {
                    if b[i + 1..].starts_with(b"//") {
                        if i >= url_next {
                            if let Some(end) = self.try_url(i) {
                                url_next = end;
                            }
                        }
                    } else if i >= ipv6_next && i >= url_next {
                        ipv6_next = self.try_ipv6(i);
                    }
                }
                b'@' if i >= email_next && i >= url_next => {
                    email_next = self.try_email(i);
                }
                b'.' if i >= url_next => {
                    let (p, n) = (self.before(i), self.at(i + 1));
                    if p.is_ascii_digit() && n.is_ascii_digit() {
                        if i >= ipv4_next {
                            ipv4_next = self.try_ipv4(i);
                        }
                    } else if n.is_ascii_alphabetic()
                        && p.is_ascii_alphanumeric()
                        && i >= domain_next
                    {
                        domain_next = self.try_domain(i);
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// A URL whose `://` is at `colon`. Returns where scanning for URLs may resume.
    fn try_url(&mut self, colon: usize) -> Option<usize> {
        let b = self.b;
        let mut s = colon;
        while s > 0 && colon - s < 12 && (b[s - 1].is_ascii_alphabetic() || b[s - 1] == b'+') {
            s -= 1;
        }
        if s == colon || is_word(self.before(s)) {
            return None;
        }
        let scheme = &b[s..colon];
        if !URL_SCHEMES.iter().any(|k| scheme.eq_ignore_ascii_case(k.as_bytes())) {
            return None;
        }
        let auth = colon + 3;
        let mut end = auth;
        // Capped so that a long chain of allow-listed URLs cannot make scanning quadratic.
        while end < b.len() && end - auth < MAX_URL && is_url_char(b[end]) {
            end += 1;
        }
        // Trailing punctuation and unbalanced closing brackets belong to the sentence.
        while let Some(&last) = b[auth..end].last() {
            let unbalanced = |open: u8, close: u8| {
                let url = &b[auth..end];
                url.iter().filter(|&&c| c == close).count()
                    > url.iter().filter(|&&c| c == open).count()
            };
            let trim = match last {
                b'.' | b',' | b';' | b':' | b'!' | b'?' | b'*' | b'_' | b'~' => true,
                b')' => unbalanced(b'(', b')'),
                b']' => unbalanced(b'[', b']'),
                _ => false,
            };
            if !trim {
                break;
            }
            end -= 1;
        }
        let authority_end = b[auth..end]
            .iter()
            .position(|c| matches!(c, b'/' | b'?' | b'#'))
            .map_or(end, |p| auth + p);
        let authority = &b[auth..authority_end];
        let host_from = authority.iter().rposition(|&c| c == b'@').map_or(0, |p| p + 1);
        // `user:password@host`: the password is a secret even when the host is allowed.
        if host_from > 0 {
            let userinfo = &authority[..host_from - 1];
            if let Some(p) = userinfo.iter().position(|&c| c == b':') {
                let password = &userinfo[p + 1..];
                if !password.is_empty() && password.iter().any(|&c| c != b'*' && c != b'x') {
                    let start = auth + p + 1;
                    let end = auth + host_from - 1;
                    self.lists.secret.push(Cand { start, end, kind: PiiKind::Secret });
                }
            }
        }
        let host_part = &authority[host_from..];
        let host = if host_part.first() == Some(&b'[') {
            let close = host_part.iter().position(|&c| c == b']').unwrap_or(host_part.len());
            &host_part[1..close.max(1)]
        } else {
            let colon = host_part.iter().position(|&c| c == b':').unwrap_or(host_part.len());
            &host_part[..colon]
        };
        if host.is_empty() {
            return None;
        }
        // Every byte of the URL is ASCII, so this never fails.
        let host = std::str::from_utf8(host).unwrap_or_default();
        let lower = host.trim_end_matches('.').to_ascii_lowercase();
        if lower == "localhost" || lower.ends_with(".localhost") || self.r.is_allowed_host(host) {
            self.lists.shield.push(s..end);
            // Keep searching inside allow-listed URLs: the query may hold an email or a token.
            Some(auth)
        } else {
            self.lists.url.push(Cand { start: s, end, kind: PiiKind::Url });
            Some(end)
        }
    }

    /// An IPv6 address around the colon at `colon`. Returns where to resume.
    fn try_ipv6(&mut self, colon: usize) -> usize {
        let b = self.b;
        let next = self.at(colon + 1);
        if !(next.is_ascii_hexdigit() || next == b':') {
            return colon + 1;
        }
        let mut s = colon;
        while s > 0 && colon - s < 4 && b[s - 1].is_ascii_hexdigit() {
            s -= 1;
        }
        let mut e = colon;
        while e < b.len()
            && e - s < 45
            && (b[e].is_ascii_hexdigit() || b[e] == b':' || b[e] == b'.')
        {
            e += 1;
        }
        let resume = e;
        while e > colon && b[e - 1] == b'.' {
            e -= 1;
        }
        let prev = self.before(s);
        if is_word(prev) || prev == b'.' || prev == b':' {
            return resume;
        }
        // `a[1::2]` is a Python slice, not `[::1]`.
        if prev == b'[' && s >= 2 && (is_word(b[s - 2]) || matches!(b[s - 2], b']' | b')')) {
            return resume;
        }
        let mut text = &b[s..e];
        if text.len() > 2 && text.ends_with(b":") && !text.ends_with(b"::") {
            text = &text[..text.len() - 1];
            e -= 1;
        }
        if is_word(self.at(e)) || (self.at(e) == b'.' && self.at(e + 1).is_ascii_alphanumeric()) {
            return resume;
        }
        if text.iter().filter(|&&c| c == b':').count() < 2 || !text.iter().any(u8::is_ascii_digit) {
            return resume;
        }
        let valid = std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<std::net::Ipv6Addr>().ok())
            .is_some();
        if !valid {
            return resume;
        }
        // A zone id: `fe80::1%eth0`, or `%25eth0` inside a URL.
        if self.at(e) == b'%' && self.at(e + 1).is_ascii_alphanumeric() {
            e += 1;
            while e < b.len() && b[e].is_ascii_alphanumeric() {
                e += 1;
            }
        }
        self.lists.ipv6.push(Cand { start: s, end: e, kind: PiiKind::Ipv6 });
        e.max(resume)
    }

    /// An email address around the `@` at `at`. Returns where to resume.
    fn try_email(&mut self, at: usize) -> usize {
        let b = self.b;
        let mut s = at;
        while s > 0 && at - s <= 64 && is_email_local(b[s - 1]) {
            s -= 1;
        }
        if at - s > 64 {
            return at + 1;
        }
        while s < at && b[s] == b'.' {
            s += 1;
        }
        if s == at || b[at - 1] == b'.' {
            return at + 1;
        }
        let mut e = at + 1;
        while e < b.len() && e - at <= 254 && is_host(b[e]) {
            e += 1;
        }
        while e > at + 1 && matches!(b[e - 1], b'.' | b'-') {
            e -= 1;
        }
        let domain = &b[at + 1..e];
        if !valid_labels(domain) {
            return at + 1;
        }
        let tld = domain.rsplit(|&c| c == b'.').next().unwrap_or_default();
        if !(2..=24).contains(&tld.len())
            || !tld.iter().all(u8::is_ascii_alphabetic)
            || is_file_extension(tld)
        {
            return at + 1;
        }
        if self.at(e) == b'@' || self.at(e) == b'_' {
            return e;
        }
        // `git@github.com:org/repo.git` is an SSH remote, not a person.
        if &b[s..at] == b"git" && self.at(e) == b':' {
            return e;
        }
        let host = std::str::from_utf8(domain).unwrap_or_default();
        if self.r.is_allowed_host(host) {
            self.lists.shield.push(s..e);
        } else {
            self.lists.email.push(Cand { start: s, end: e, kind: PiiKind::Email });
        }
        e
    }

    /// An IPv4 address around the dot at `dot` (a digit either side). Returns where to resume.
    fn try_ipv4(&mut self, dot: usize) -> usize {
        let b = self.b;
        let mut s = dot;
        while s > 0 && dot - s < 64 && (b[s - 1].is_ascii_digit() || b[s - 1] == b'.') {
            s -= 1;
        }
        let mut e = dot;
        while e < b.len() && e - s < 64 && (b[e].is_ascii_digit() || b[e] == b'.') {
            e += 1;
        }
        let resume = e;
        if b[s] == b'.' || e - s >= 64 {
            return resume;
        }
        while b[e - 1] == b'.' {
            e -= 1;
        }
        let prev = self.before(s);
        if is_word(prev) || (prev == b'-' && s >= 2 && b[s - 2].is_ascii_alphabetic()) {
            return resume;
        }
        let next = self.at(e);
        if is_word(next) {
            return resume;
        }
        let mut octets = 0;
        for part in b[s..e].split(|&c| c == b'.') {
            octets += 1;
            let ok = matches!(part.len(), 1..=3)
                && (part.len() == 1 || part[0] != b'0')
                && part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')) <= 255;
            if !ok || octets > 4 {
                return resume;
            }
        }
        if octets != 4 || self.after_version_word(s) {
            return resume;
        }
        self.lists.ipv4.push(Cand { start: s, end: e, kind: PiiKind::Ipv4 });
        resume
    }

    /// Whether the word before `s` (across spaces, `:` and `=`) says a version follows.
    fn after_version_word(&self, s: usize) -> bool {
        let b = self.b;
        let mut i = s;
        while i > 0 && s - i < 8 && matches!(b[i - 1], b' ' | b':' | b'=' | b'\t') {
            i -= 1;
        }
        let end = i;
        while i > 0 && end - i < 12 && b[i - 1].is_ascii_alphabetic() {
            i -= 1;
        }
        let word = &b[i..end];
        VERSION_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w.as_bytes()))
    }

    /// A bare domain name around the dot at `dot` (a letter after it). Returns where to
    /// resume.
    fn try_domain(&mut self, dot: usize) -> usize {
        let b = self.b;
        let mut s = dot;
        while s > 0 && dot - s <= 253 && is_host(b[s - 1]) {
            s -= 1;
        }
        let mut e = dot;
        while e < b.len() && e - s <= 253 && is_host(b[e]) {
            e += 1;
        }
        let resume = e;
        if e - s > 253 {
            return resume;
        }
        let prev = self.before(s);
        let next = self.at(e);
        if matches!(prev, b'_' | b'@' | b'$' | b'\\' | b'%')
            || matches!(next, b'_' | b'(' | b'@' | b'$')
        {
            return resume;
        }
        while s < e && matches!(b[s], b'.' | b'-') {
            s += 1;
        }
        while e > s && matches!(b[e - 1], b'.' | b'-') {
            e -= 1;
        }
        let name = &b[s..e];
        if !valid_labels(name) {
            return resume;
        }
        let tld = name.rsplit(|&c| c == b'.').next().unwrap_or_default();
        // Domains are written in lower case; `ASP.NET` and `Foo.Com` are not domains.
        if !tld.iter().all(u8::is_ascii_lowercase) || !is_tld(tld) {
            return resume;
        }
        let first = name.split(|&c| c == b'.').next().unwrap_or_default();
        let labels = 1 + name.iter().filter(|&&c| c == b'.').count();
        if labels >= 3 && is_reverse_dns_root(first) {
            return resume;
        }
        if labels == 2
            && (is_code_receiver(first)
                || (first.len() >= 3
                    && first.iter().all(|c| !c.is_ascii_lowercase())
                    && first.iter().any(u8::is_ascii_uppercase)))
        {
            return resume;
        }
        let host = std::str::from_utf8(name).unwrap_or_default();
        if !self.r.is_allowed_host(host) {
            self.lists.domain.push(Cand { start: s, end: e, kind: PiiKind::Domain });
        }
        resume
    }

    // ---- secrets ---------------------------------------------------------------------

    fn scan_secrets(&mut self) {
        let mut next = 0;
        let secrets = &self.r.secrets;
        for m in secrets.find_iter(self.b) {
            if m.start() < next {
                continue;
            }
            let rule = self.r.secret_rules[m.pattern().as_usize()];
            let found = match rule {
                SecretRule::Prefixed { set, min, max } => {
                    self.secret_prefixed(m.start(), m.end(), set, min, max)
                }
                SecretRule::Jwt => self.secret_jwt(m.start()),
                SecretRule::Bearer => self.secret_bearer(m.start(), m.end()),
                SecretRule::Keyword => self.secret_keyword(m.start(), m.end()),
                SecretRule::PrivateKey => self.secret_private_key(m.start(), m.end()),
            };
            if let Some(r) = found {
                next = r.end;
                self.lists.secret.push(Cand { start: r.start, end: r.end, kind: PiiKind::Secret });
            }
        }
    }

    fn run_of(&self, from: usize, max: usize, f: impl Fn(u8) -> bool) -> usize {
        let mut e = from;
        while e < self.b.len() && e - from < max && f(self.b[e]) {
            e += 1;
        }
        e
    }

    fn secret_prefixed(
        &self,
        s: usize,
        p_end: usize,
        set: CharSet,
        min: usize,
        max: usize,
    ) -> Option<Range<usize>> {
        if is_word(self.before(s)) {
            return None;
        }
        let e = self.run_of(p_end, max + 1, |c| set.contains(c));
        let len = e - p_end;
        if len < min || len > max || is_word(self.at(e)) {
            return None;
        }
        Some(s..e)
    }

    fn secret_jwt(&self, s: usize) -> Option<Range<usize>> {
        let prev = self.before(s);
        if is_word(prev) || prev == b'-' {
            return None;
        }
        let b64 = |c: u8| CharSet::Base64Url.contains(c);
        let header_end = self.run_of(s, 4096, b64);
        if header_end - s < 5 || self.at(header_end) != b'.' {
            return None;
        }
        let payload = header_end + 1;
        if !self.b[payload..].starts_with(b"eyJ") {
            return None;
        }
        let payload_end = self.run_of(payload, 16384, b64);
        if payload_end - payload < 5 || self.at(payload_end) != b'.' {
            return None;
        }
        let sig_end = self.run_of(payload_end + 1, 4096, b64);
        Some(s..sig_end)
    }

    fn secret_bearer(&self, s: usize, p_end: usize) -> Option<Range<usize>> {
        if is_word(self.before(s)) || !matches!(self.at(p_end), b' ' | b'\t') {
            return None;
        }
        let t = self.run_of(p_end, 8, |c| c == b' ' || c == b'\t');
        let tok = |c: u8| {
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        };
        let mut e = self.run_of(t, 8192, tok);
        e = self.run_of(e, 3, |c| c == b'=');
        while e > t && self.b[e - 1] == b'.' {
            e -= 1;
        }
        let value = &self.b[t..e];
        (value.len() >= 16 && entropy(value) >= 3.0 && !is_word(self.at(e))).then_some(t..e)
    }

    /// `api_key = "…"`, `"token": "…"`, `PASSWORD=…`: the value, when it looks real.
    fn secret_keyword(&self, s: usize, p_end: usize) -> Option<Range<usize>> {
        let b = self.b;
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        let mut is = s;
        while is > 0 && s - is < 64 && ident(b[is - 1]) {
            is -= 1;
        }
        let ie = self.run_of(p_end, 64, ident);
        let mut name = b[is..ie].to_ascii_lowercase();
        for c in &mut name {
            if *c == b'-' {
                *c = b'_';
            }
        }
        let password = ["password", "passwd", "pwd", "passphrase", "pass_phrase"]
            .iter()
            .any(|k| name.ends_with(k.as_bytes()));
        let token = [
            "api_key",
            "apikey",
            "secret_key",
            "secretkey",
            "access_key",
            "accesskey",
            "private_key",
            "privatekey",
            "auth_key",
            "token",
            "secret",
        ]
        .iter()
        .any(|k| name.ends_with(k.as_bytes()));
        if !password && !token {
            return None;
        }
        // Optional closing quote of a JSON/YAML key, spaces, `=` / `:` / `=>` / `:=`, spaces,
        // optional opening quote.
        let mut i = ie;
        if matches!(self.at(i), b'"' | b'\'') {
            i += 1;
        }
        i = self.run_of(i, 8, |c| c == b' ' || c == b'\t');
        match (self.at(i), self.at(i + 1)) {
            (b'=', b'>') | (b':', b'=') => i += 2,
            (b'=' | b':', _) => i += 1,
            _ => return None,
        }
        i = self.run_of(i, 8, |c| c == b' ' || c == b'\t');
        let quoted = matches!(self.at(i), b'"' | b'\'');
        if quoted {
            i += 1;
        }
        let mut e = self.run_of(i, 512, is_secret_value);
        if !quoted {
            while e > i && b[e - 1] == b'.' {
                e -= 1;
            }
        }
        let value = &b[i..e];
        if value.is_empty() || matches!(value[0], b'$' | b'%' | b'*' | b'#') {
            return None;
        }
        let ok = if password { looks_like_password(value) } else { looks_like_token(value) };
        ok.then_some(i..e)
    }

    fn secret_private_key(&mut self, s: usize, p_end: usize) -> Option<Range<usize>> {
        let b = self.b;
        let line_end = b[p_end..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| p_end + p);
        let header = &b[p_end..line_end];
        if !contains(header, b"PRIVATE KEY-----") {
            return None;
        }
        let end_line = if line_end >= self.no_pem_end_from {
            None
        } else {
            find(&b[line_end..], b"-----END ")
        };
        if end_line.is_none() {
            self.no_pem_end_from = self.no_pem_end_from.min(line_end);
        }
        let end = match end_line {
            Some(p) => {
                let after = line_end + p + 9;
                // Through the closing `-----` of the END line.
                match find(&b[after..], b"-----") {
                    Some(q) if !b[after..after + q].contains(&b'\n') => after + q + 5,
                    _ => after,
                }
            }
            // No END line: the block runs to the first blank line.
            None => find(&b[line_end..], b"\n\n").map_or(b.len(), |p| line_end + p),
        };
        Some(s..end)
    }

    // ---- phones ------------------------------------------------------------------------

    /// A phone number around the run of digits starting at `i`: its start, which may be a
    /// `+` or `(` just before, is recorded; its end is returned.
    fn phone_at(&mut self, i: usize) -> Option<usize> {
        if is_word(self.before(i)) {
            return None;
        }
        let starts = if matches!(self.before(i), b'+' | b'(') {
            [Some(i - 1), Some(i)]
        } else {
            [Some(i), None]
        };
        let (s, e) = starts.into_iter().flatten().find_map(|s| Some((s, self.try_phone(s)?)))?;
        self.lists.phone.push(Cand { start: s, end: e, kind: PiiKind::Phone });
        Some(e)
    }

    /// A phone number starting at `s` (a digit, `+` or `(`): its end.
    fn try_phone(&self, s: usize) -> Option<usize> {
        const SPACE: u8 = 1;
        const DASH: u8 = 2;
        const DOT: u8 = 4;
        let b = self.b;
        let plus = b[s] == b'+';
        let prev = self.before(s);
        if is_word(prev)
            || matches!(prev, b'.' | b'/' | b'#' | b'-' | b'@' | b'$' | b'%' | b'\\' | b'+')
            || (prev == b':' && !plus)
            || (prev == b'(' && b[s] == b'(')
        {
            return None;
        }
        let mut i = s + usize::from(plus);
        let mut groups = [0u8; 16];
        let mut n = 0;
        let mut digits = 0;
        let mut seps = 0u8;
        let mut pending = 0u8;
        let mut paren_first = false;
        let mut paren_later = false;
        let mut end = None;
        loop {
            let paren = self.at(i) == b'(';
            if paren {
                i += 1;
            }
            let de = self.run_of(i, 16, |c| c.is_ascii_digit());
            let len = de - i;
            if len == 0 || (paren && self.at(de) != b')') {
                break;
            }
            i = de + usize::from(paren);
            if n == groups.len() {
                return None;
            }
            groups[n] = len as u8;
            if paren {
                if n == 0 {
                    paren_first = true;
                } else {
                    paren_later = true;
                }
            }
            n += 1;
            digits += len;
            if digits > 15 {
                return None;
            }
            seps |= pending;
            end = Some(i);
            let c = self.at(i);
            let after = self.at(i + 1);
            match c {
                b' ' | b'-' | b'.' if after.is_ascii_digit() || after == b'(' => {
                    pending = match c {
                        b' ' => SPACE,
                        b'-' => DASH,
                        _ => DOT,
                    };
                    i += 1;
                }
                b'(' => pending = 0,
                _ if paren && c.is_ascii_digit() => pending = 0,
                _ => break,
            }
        }
        let end = end?;
        let groups = &groups[..n];
        let next = self.at(end);
        if is_word(next)
            || matches!(next, b'@' | b'/' | b'+')
            || (matches!(next, b':' | b'.' | b'-' | b',') && self.at(end + 1).is_ascii_digit())
        {
            return None;
        }
        if !(8..=15).contains(&digits) {
            return None;
        }
        if plus {
            return Some(end);
        }
        let g = |k: usize| usize::from(groups[k]);
        // Dates: 05.01.2023, 2023-01-05, 05 01 2023.
        if n >= 3
            && ((g(0) <= 2 && g(1) <= 2 && g(2) == 4) || (g(0) == 4 && g(1) <= 2 && g(2) <= 2))
        {
            return None;
        }
        if paren_later {
            return None;
        }
        let last = g(n - 1);
        if paren_first {
            return (n >= 2 && last >= 3 && seps & DOT == 0).then_some(end);
        }
        let ok = match seps {
            DOT => n >= 3 && groups.iter().all(|&l| (2..=4).contains(&l)),
            DASH | 3 /* DASH | SPACE */ => {
                let years = n == 2 && g(0) == 4 && g(1) == 4 && is_year(&b[s..s + 4]);
                n >= 2 && g(0) <= 5 && last >= 3 && !years
            }
            SPACE => b[s] == b'0' && n >= 3 && groups.iter().all(|&l| (2..=4).contains(&l)),
            _ => false,
        };
        ok.then_some(end)
    }
}

/// A mask with the high bit set in (at least) the first of the eight bytes of `word`
/// (little-endian) that is `.`, `/`, a digit, `:` or `@`, zero when there is none. SWAR: the
/// "has byte between" and "has zero byte" tricks; `/` is a harmless false positive. The
/// lowest set bit is exact; bits above it may be spurious, which the caller ignores.
fn trigger_mask(word: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // Bytes in (0x2d, 0x3b): `.` `/` `0`..=`9` `:`. Exact per byte for ASCII; bytes with the
    // high bit set never match.
    let low7 = word & (LO * 127);
    let between = (LO * (127 + 0x3b)).wrapping_sub(low7) & !word & (low7 + LO * (127 - 0x2d)) & HI;
    let at = word ^ (LO * u64::from(b'@'));
    let has_at = at.wrapping_sub(LO) & !at & HI;
    between | has_at
}

/// The union of possibly overlapping ranges, sorted.
fn union(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The candidates that overlap none of `shields` (sorted, disjoint).
fn outside(mut cands: Vec<Cand>, shields: &[Range<usize>]) -> Vec<Cand> {
    if !cands.is_sorted_by_key(|c| c.start) {
        cands.sort_by_key(|c| c.start);
    }
    let mut si = 0;
    cands.retain(|c| {
        while si < shields.len() && shields[si].end <= c.start {
            si += 1;
        }
        !(si < shields.len() && shields[si].start < c.end)
    });
    cands
}

/// Merges `cands` into `accepted` (sorted, non-overlapping), dropping every candidate that
/// overlaps an accepted range or an earlier candidate.
fn merge(accepted: Vec<Cand>, mut cands: Vec<Cand>) -> Vec<Cand> {
    if !cands.is_sorted_by_key(|c| c.start) {
        cands.sort_by_key(|c| (c.start, std::cmp::Reverse(c.end)));
    }
    let mut out = Vec::with_capacity(accepted.len() + cands.len());
    let mut ai = 0;
    let mut last_end = 0;
    for c in cands {
        while ai < accepted.len() && accepted[ai].end <= c.start {
            out.push(accepted[ai]);
            ai += 1;
        }
        let overlaps_accepted = ai < accepted.len() && accepted[ai].start < c.end;
        if overlaps_accepted || c.start < last_end {
            continue;
        }
        last_end = c.end;
        out.push(c);
    }
    out.extend_from_slice(&accepted[ai..]);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// At least two dot-separated labels, none empty, longer than 63 or edged with `-`.
fn valid_labels(name: &[u8]) -> bool {
    let mut count = 0;
    for label in name.split(|&c| c == b'.') {
        count += 1;
        if label.is_empty()
            || label.len() > 63
            || label[0] == b'-'
            || label[label.len() - 1] == b'-'
        {
            return false;
        }
    }
    count >= 2
}

fn is_year(d: &[u8]) -> bool {
    d.starts_with(b"19") || d.starts_with(b"20")
}

/// Shannon entropy in bits per byte.
fn entropy(s: &[u8]) -> f64 {
    let mut counts = [0u32; 128];
    for &c in s {
        counts[usize::from(c & 0x7f)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A token or API key: long, letters and digits, and random-looking.
fn looks_like_token(v: &[u8]) -> bool {
    v.len() >= 16
        && v.iter().any(u8::is_ascii_digit)
        && v.iter().any(u8::is_ascii_alphabetic)
        && entropy(v) >= 3.0
}

/// A password: at least 6 characters with a digit, or mixed case and a symbol; not a
/// dotted identifier (`process.env.DB_PASS`) nor a mask (`******`).
fn looks_like_password(v: &[u8]) -> bool {
    let digit = v.iter().any(u8::is_ascii_digit);
    let lower = v.iter().any(u8::is_ascii_lowercase);
    let upper = v.iter().any(u8::is_ascii_uppercase);
    let symbol = v.iter().any(|c| c.is_ascii_punctuation() && !matches!(c, b'.' | b'_' | b'-'));
    v.len() >= 6 && (digit || (lower && upper && symbol)) && v.iter().any(|&c| c != v[0])
}

/// File extensions that may end what looks like an email's domain (`icon@2x.png`).
fn is_file_extension(ext: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    let Some(lower) = lowercase(ext, &mut buf) else { return false };
    matches!(
        lower,
        b"png"
            | b"jpg"
            | b"jpeg"
            | b"gif"
            | b"svg"
            | b"webp"
            | b"ico"
            | b"bmp"
            | b"js"
            | b"mjs"
            | b"cjs"
            | b"ts"
            | b"tsx"
            | b"jsx"
            | b"json"
            | b"yaml"
            | b"yml"
            | b"toml"
            | b"css"
            | b"scss"
            | b"html"
            | b"htm"
            | b"xml"
            | b"txt"
            | b"md"
            | b"rs"
            | b"py"
            | b"go"
            | b"java"
            | b"kt"
            | b"rb"
            | b"php"
            | b"cpp"
            | b"hpp"
            | b"lock"
            | b"log"
            | b"csv"
            | b"zip"
            | b"tar"
            | b"gz"
            | b"tgz"
            | b"pdf"
            | b"exe"
            | b"dll"
            | b"so"
            | b"sh"
            | b"wasm"
            | b"map"
    )
}

fn lowercase<'b>(s: &[u8], buf: &'b mut [u8; 24]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..s.len())?;
    out.copy_from_slice(s);
    out.make_ascii_lowercase();
    Some(out)
}

/// The top-level domains accepted for bare domain names (lower case).
///
/// Curated rather than the full IANA list (over 1,400 entries, many of them ordinary words
/// like `.run`, `.page` or `.email`) so that code and file names in technical posts are not
/// mistaken for domains. Deliberately left out although they are real TLDs:
///
/// * ccTLDs that are common file extensions: `.rs` (Rust), `.md` (Markdown), `.py`
///   (Python), `.sh` (shell), `.pl`/`.pm` (Perl), `.cc` (C++), `.so` (shared objects),
///   `.ps` (PostScript), `.ml` (OCaml), `.mm` (Objective-C++), `.am`/`.ac`/`.mk`/`.in`
///   (build files), `.cr` (Crystal), `.gd` (GDScript), `.as` (ActionScript), `.st`
///   (Smalltalk), `.pt` (PyTorch models), `.tf` (Terraform), `.bz` (bzip), `.ws`,
///   `.do`, `.id`, `.ms`;
/// * gTLDs that are common member names or file types: `.name`, `.email`, `.run`, `.page`,
///   `.host`, `.zone`, `.group`, `.network`, `.help`, `.link`, `.game`, `.zip`, `.mov`.
///
/// The cost: `example.pl` or `example.in` is not redacted. Polish and Indian sites are
/// common, but in technical posts `script.pl` and `Makefile.in` are more common still.
fn is_tld(tld: &[u8]) -> bool {
    matches!(
        tld,
        // Generic
        b"com" | b"org" | b"net" | b"edu" | b"gov" | b"mil" | b"int" | b"info" | b"biz"
            | b"io" | b"dev" | b"app" | b"ai" | b"co" | b"me" | b"tv" | b"xyz" | b"tech"
            | b"cloud" | b"online" | b"site" | b"store" | b"shop" | b"blog" | b"news"
            | b"media" | b"live" | b"life" | b"world" | b"today" | b"tools" | b"team"
            | b"studio" | b"design" | b"digital" | b"global" | b"agency" | b"solutions"
            | b"software" | b"systems" | b"services" | b"company" | b"consulting" | b"pro"
            | b"mobi" | b"asia" | b"academy" | b"education" | b"university" | b"school"
            | b"finance" | b"capital" | b"money" | b"bank" | b"law" | b"legal" | b"health"
            | b"care" | b"social" | b"community" | b"foundation" | b"art" | b"ninja"
            | b"rocks" | b"guru" | b"wiki" | b"chat" | b"cafe" | b"family" | b"club"
            | b"space" | b"website" | b"center" | b"church" | b"travel" | b"works"
            | b"express" | b"ventures" | b"partners" | b"eu"
            // Country codes (without the file-extension collisions above)
            | b"us" | b"uk" | b"ca" | b"mx" | b"br" | b"ar" | b"cl" | b"pe" | b"ve" | b"ec"
            | b"uy" | b"bo" | b"gt" | b"pa" | b"cu" | b"jm" | b"tt" | b"pr"
            | b"de" | b"fr" | b"nl" | b"be" | b"lu" | b"ch" | b"li" | b"at" | b"it" | b"es"
            | b"ie" | b"is" | b"no" | b"se" | b"fi" | b"dk" | b"gr" | b"tr" | b"cy" | b"mt"
            | b"hu" | b"ro" | b"sk" | b"cz" | b"si" | b"hr" | b"ba" | b"bg" | b"ee" | b"lv"
            | b"lt" | b"ru" | b"ua" | b"by" | b"kz" | b"ge" | b"az" | b"uz" | b"mn"
            | b"jp" | b"cn" | b"kr" | b"tw" | b"hk" | b"sg" | b"my" | b"th" | b"vn" | b"ph"
            | b"pk" | b"bd" | b"np" | b"lk" | b"au" | b"nz" | b"il" | b"ir" | b"iq" | b"sa"
            | b"ae" | b"qa" | b"kw" | b"jo" | b"lb" | b"eg" | b"ma" | b"tn" | b"dz" | b"ng"
            | b"ke" | b"gh" | b"tz" | b"ug" | b"za" | b"et"
            // ccTLDs used as generic ones
            | b"gg" | b"fm" | b"ly" | b"to" | b"im" | b"la" | b"nu" | b"tk" | b"cx"
    )
}

/// First labels of reverse-DNS names (`com.example.app`, `org.springframework.boot`).
fn is_reverse_dns_root(label: &[u8]) -> bool {
    matches!(label, b"com" | b"org" | b"net" | b"io" | b"dev" | b"app" | b"edu" | b"gov")
}

/// Receivers in `receiver.member` code whose member happens to be a TLD (`self.app`).
fn is_code_receiver(label: &[u8]) -> bool {
    matches!(
        label,
        b"self"
            | b"this"
            | b"super"
            | b"cls"
            | b"ctx"
            | b"app"
            | b"req"
            | b"res"
            | b"obj"
            | b"opts"
            | b"options"
            | b"config"
            | b"cfg"
            | b"conf"
            | b"settings"
            | b"props"
            | b"state"
            | b"window"
            | b"document"
            | b"module"
            | b"exports"
            | b"console"
            | b"process"
            | b"os"
            | b"sys"
            | b"std"
            | b"event"
            | b"evt"
            | b"err"
            | b"error"
            | b"e"
            | b"el"
            | b"item"
            | b"user"
            | b"data"
            | b"result"
            | b"response"
            | b"request"
            | b"client"
            | b"server"
            | b"args"
            | b"params"
            | b"context"
            | b"model"
            | b"db"
            | b"api"
            | b"router"
            | b"session"
            | b"env"
            | b"t"
            | b"x"
            | b"s"
            | b"m"
    )
}
