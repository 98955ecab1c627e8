//! The receiver itself, as run by the `steward-receiver` binary: an HTTP server that takes
//! any request, and a minimal SMTP server, both appending what they receive to a log.
//!
//! The SMTP side is hand-written on purpose: the maintained SMTP crates are clients
//! (lettre) or full mail servers meant to be deployed, and none offers a small test server
//! that records transactions. The subset needed to receive mail from a client is small
//! (RFC 5321 section 4.5.1's minimum: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, with
//! dot-unstuffing), and writing it keeps the test receiver a real TCP peer.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::record::{HttpRequest, Mail, Record};

/// What the receiver is told on its command line.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub http: SocketAddr,
    pub smtp: SocketAddr,
    pub log: PathBuf,
    /// Answer 503 to this many HTTP requests first.
    pub fail_first: u32,
    /// Answer this status to the HTTP requests after those (200 by default).
    pub status: u16,
    /// Answer `451` at the end of DATA for this many mails first.
    pub smtp_fail_first: u32,
}

/// Appends records to the log, one JSON line each, flushed at once so a test can read the
/// log while the receiver runs.
#[derive(Clone)]
struct Log(Arc<Mutex<File>>);

impl Log {
    fn append(&self, record: &Record) {
        let mut line = serde_json::to_vec(record).expect("records serialize");
        line.push(b'\n');
        let mut file = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // One write per line on an O_APPEND file: a reader never sees half of two lines.
        if let Err(e) = file.write_all(&line).and_then(|()| file.flush()) {
            eprintln!("steward-receiver: cannot write the log: {e}");
        }
    }
}

struct Shared {
    log: Log,
    fail_first: u32,
    status: StatusCode,
    http_seen: AtomicU32,
    smtp_fail_first: u32,
    smtp_seen: AtomicU32,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Binds both listeners, prints `http=ADDR smtp=ADDR` on stdout and serves until killed.
pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&config.log)?;
    let shared = Arc::new(Shared {
        log: Log(Arc::new(Mutex::new(file))),
        fail_first: config.fail_first,
        status: StatusCode::from_u16(config.status)?,
        http_seen: AtomicU32::new(0),
        smtp_fail_first: config.smtp_fail_first,
        smtp_seen: AtomicU32::new(0),
    });
    let http = TcpListener::bind(config.http).await?;
    let smtp = TcpListener::bind(config.smtp).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "http={} smtp={}", http.local_addr()?, smtp.local_addr()?)?;
        out.flush()?;
    }

    let app = axum::Router::new().fallback(record_http).with_state(shared.clone());
    let http_task = tokio::spawn(async move { axum::serve(http, app).await });
    let smtp_task = tokio::spawn(async move {
        loop {
            let (stream, _) = smtp.accept().await?;
            let shared = shared.clone();
            tokio::spawn(async move {
                if let Err(e) = smtp_session(stream, &shared).await {
                    eprintln!("steward-receiver: smtp session: {e}");
                }
            });
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    tokio::select! {
        r = http_task => r??,
        r = smtp_task => r??,
    }
    Ok(())
}

async fn record_http(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let n = shared.http_seen.fetch_add(1, Ordering::SeqCst);
    let status =
        if n < shared.fail_first { StatusCode::SERVICE_UNAVAILABLE } else { shared.status };
    let mut header_map = std::collections::BTreeMap::<String, String>::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        header_map
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    shared.log.append(&Record::Http(HttpRequest {
        at_ms: now_ms(),
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| uri.path().to_owned()),
        headers: header_map,
        body: String::from_utf8_lossy(&body).into_owned(),
        status: status.as_u16(),
    }));
    let text = if status.is_success() { "ok" } else { "steward-receiver says no" };
    (status, text)
}

/// Longest command line accepted (RFC 5321 says 512 octets; leave room).
const MAX_LINE: usize = 4096;
/// Largest DATA accepted, as advertised with SIZE.
const MAX_DATA: usize = 10 * 1024 * 1024;

async fn smtp_session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer.write_all(b"220 steward-receiver ESMTP ready\r\n").await?;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let n = (&mut reader).take(MAX_LINE as u64).read_until(b'\n', &mut raw).await?;
        if n == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\r', '\n']);
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("");
        let reply: &[u8] = match verb {
            "EHLO" => b"250-steward-receiver\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
            "HELO" => b"250 steward-receiver\r\n",
            "MAIL" => match upper.strip_prefix("MAIL FROM:") {
                Some(_) => {
                    mail_from = Some(path_argument(&line["MAIL FROM:".len()..]));
                    rcpt_to.clear();
                    b"250 2.1.0 OK\r\n"
                }
                None => b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (upper.strip_prefix("RCPT TO:"), &mail_from) {
                (_, None) => b"503 5.5.1 MAIL first\r\n",
                (Some(_), Some(_)) => {
                    rcpt_to.push(path_argument(&line["RCPT TO:".len()..]));
                    b"250 2.1.5 OK\r\n"
                }
                (None, Some(_)) => b"501 5.5.4 Syntax: RCPT TO:<address>\r\n",
            },
            "DATA" => {
                if mail_from.is_none() || rcpt_to.is_empty() {
                    b"503 5.5.1 RCPT first\r\n"
                } else {
                    writer.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                    let Some(data) = read_data(&mut reader).await? else {
                        return Ok(());
                    };
                    let from = mail_from.take().unwrap_or_default();
                    let to = std::mem::take(&mut rcpt_to);
                    let n = shared.smtp_seen.fetch_add(1, Ordering::SeqCst);
                    if n < shared.smtp_fail_first {
                        b"451 4.3.0 steward-receiver: try again later\r\n"
                    } else if data.len() > MAX_DATA {
                        b"552 5.3.4 message too big\r\n"
                    } else {
                        let data = String::from_utf8_lossy(&data).into_owned();
                        shared.log.append(&Record::Smtp(Mail::parse(from, to, data, now_ms())));
                        b"250 2.0.0 OK queued\r\n"
                    }
                }
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not implemented\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// The address inside `<…>` (parameters such as `BODY=8BITMIME` after it are ignored).
fn path_argument(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(start), Some(end)) if start < end => arg[start + 1..end].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing. `None` when the client hung
/// up first. Past [`MAX_DATA`] it keeps reading but stops keeping.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(data));
        }
        let content = match line.strip_prefix(b".") {
            Some(rest) => rest,
            None => &line[..],
        };
        if data.len() <= MAX_DATA {
            data.extend_from_slice(content);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_arguments() {
        assert_eq!(path_argument("<a@x.org> BODY=8BITMIME"), "a@x.org");
        assert_eq!(path_argument(" <>"), "");
        assert_eq!(path_argument("a@x.org"), "a@x.org");
    }

    #[tokio::test]
    async fn data_is_dot_unstuffed() {
        let input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nplain\r\n.\r\nNOOP\r\n";
        let mut reader = BufReader::new(input);
        let data = read_data(&mut reader).await.unwrap().unwrap();
        assert_eq!(data, b"Subject: x\r\n\r\n.leading dot\r\nplain\r\n");
        let mut reader = BufReader::new(&b"no end\r\n"[..]);
        assert_eq!(read_data(&mut reader).await.unwrap(), None);
    }
}
