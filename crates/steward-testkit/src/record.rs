//! What the receiver writes to its log, one JSON object a line, and how tests read it back.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};

/// One thing the receiver received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Http(HttpRequest),
    Smtp(Mail),
}

/// An HTTP request as received, and the status it was answered with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// Unix milliseconds at the receiver.
    pub at_ms: i64,
    pub method: String,
    /// The path with its query string, if any.
    pub path: String,
    /// Header names lower-cased; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    /// The body, as UTF-8 (lossy).
    pub body: String,
    /// The status the receiver answered.
    pub status: u16,
}

impl HttpRequest {
    /// A header by name, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// When the body is not JSON: a test helper, where that is a failed test.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body of {} {} is not JSON: {e}", self.method, self.path))
    }
}

/// An SMTP transaction as received (after dot-unstuffing), with a few parsed headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mail {
    pub at_ms: i64,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent after DATA, headers and body, CRLF line ends kept.
    pub data: String,
    /// Header names lower-cased, folded lines unfolded, encoded words left as sent.
    pub headers: BTreeMap<String, String>,
    /// The Subject, with RFC 2047 encoded words decoded.
    pub subject: Option<String>,
    /// The `X-Steward-Delivery` header.
    pub delivery_id: Option<String>,
    /// The body with its Content-Transfer-Encoding (base64, quoted-printable) undone.
    pub body: String,
}

impl Mail {
    /// Parses the DATA of a transaction into headers, subject and decoded body.
    pub fn parse(mail_from: String, rcpt_to: Vec<String>, data: String, at_ms: i64) -> Mail {
        let (head, raw_body) = match data.find("\r\n\r\n") {
            Some(i) => (&data[..i], &data[i + 4..]),
            None => match data.find("\n\n") {
                Some(i) => (&data[..i], &data[i + 2..]),
                None => (data.as_str(), ""),
            },
        };
        let headers = parse_headers(head);
        let subject = headers.get("subject").map(|s| decode_encoded_words(s));
        let delivery_id = headers.get("x-steward-delivery").cloned();
        let body = match headers
            .get("content-transfer-encoding")
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("base64") => {
                let compact: String = raw_body.split_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_else(|_| raw_body.to_owned())
            }
            Some("quoted-printable") => decode_quoted_printable(raw_body),
            _ => raw_body.to_owned(),
        };
        Mail { at_ms, mail_from, rcpt_to, data, headers, subject, delivery_id, body }
    }
}

fn parse_headers(head: &str) -> BTreeMap<String, String> {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = current.take() {
            headers.entry(name).or_insert(value);
        }
        if let Some((name, value)) = line.split_once(':') {
            current = Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    if let Some((name, value)) = current {
        headers.entry(name).or_insert(value);
    }
    headers
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); whitespace between
/// two encoded words is dropped, as the RFC says. Charsets other than UTF-8 and ASCII are
/// decoded as if they were UTF-8: the desk only sends UTF-8.
fn decode_encoded_words(s: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut rest = s;
    let mut pending_space: Option<&str> = None;
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some((decoded, after)) = encoded_word(rest) {
            if let Some(space) = pending_space.take() {
                if !last_was_word {
                    out.extend_from_slice(space.as_bytes());
                }
            }
            out.extend_from_slice(&decoded);
            rest = after;
            last_was_word = true;
            continue;
        }
        let ch = rest.chars().next().expect("rest is not empty");
        if ch.is_whitespace() {
            let end = rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len());
            if let Some(space) = pending_space.take() {
                out.extend_from_slice(space.as_bytes());
            }
            pending_space = Some(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if let Some(space) = pending_space.take() {
            out.extend_from_slice(space.as_bytes());
        }
        let mut buf = [0; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        rest = &rest[ch.len_utf8()..];
        last_was_word = false;
    }
    if let Some(space) = pending_space {
        out.extend_from_slice(space.as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One encoded word at the start of `s`: its bytes and what follows it.
fn encoded_word(s: &str) -> Option<(Vec<u8>, &str)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    let decoded = match encoding {
        "b" | "B" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
        "q" | "Q" => decode_q(text.replace('_', " ").as_bytes(), false),
        _ => return None,
    };
    Some((decoded, &inner[end + 2..]))
}

fn decode_quoted_printable(s: &str) -> String {
    String::from_utf8_lossy(&decode_q(s.as_bytes(), true)).into_owned()
}

/// `=XX` escapes; with `soft_breaks`, `=` at a line end joins the lines.
fn decode_q(input: &[u8], soft_breaks: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'=' {
            if soft_breaks && input[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if soft_breaks && input[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            if let Some(hex) = input.get(i + 1..i + 3) {
                if let Ok(byte) = u8::from_str_radix(&String::from_utf8_lossy(hex), 16) {
                    out.push(byte);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// Reads every complete line of a receiver log. A last line still being written (no
/// newline yet) is left for the next read.
pub fn read_log(path: &Path) -> std::io::Result<Vec<Record>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut records = Vec::new();
    for line in text.split_inclusive('\n') {
        if !line.ends_with('\n') || line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(line).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("bad receiver log line {line:?}: {e}"),
            )
        })?;
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words() {
        assert_eq!(decode_encoded_words("plain subject"), "plain subject");
        assert_eq!(decode_encoded_words("=?utf-8?b?w6lzY2FsYWRl?= now"), "éscalade now");
        assert_eq!(decode_encoded_words("=?utf-8?b?w6k=?= =?utf-8?q?t=C3=A9_x?="), "été x");
        assert_eq!(decode_encoded_words("a  b"), "a  b");
    }

    #[test]
    fn parses_headers_and_decodes_bodies() {
        let data = "Subject: =?utf-8?b?w6k=?=\r\n lot\r\nX-Steward-Delivery: 7\r\n\
                    Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nau lait\r\n";
        let mail = Mail::parse("a@x".into(), vec!["b@x".into()], data.into(), 0);
        assert_eq!(mail.subject.as_deref(), Some("é lot"));
        assert_eq!(mail.delivery_id.as_deref(), Some("7"));
        assert_eq!(mail.body, "café au lait\r\n");
    }
}
