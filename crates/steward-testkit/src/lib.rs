//! Test support for Steward: a real receiver process for delivery tests.
//!
//! `steward-receiver` (this crate's binary, [`server`]) listens on loopback for HTTP and
//! SMTP and appends everything it receives to a JSON-lines log. [`Receiver`] starts it as a
//! child process, reads its addresses, stops and restarts it on the same ports (a receiver
//! that is down, then up), and reads the log back as typed [`Record`]s. Tests exercise the
//! real HTTP and SMTP clients against it: nothing is stubbed.
//!
//! Finding the binary from another crate's tests: see [`Receiver::binary_path`].
//!
//! [`TestDatabase`] gives each test its own database, SQLite or PostgreSQL, dropped
//! afterwards, so one storage story can run against every backend.

pub mod db;
pub mod record;
pub mod server;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use db::TestDatabase;
pub use record::{read_log, HttpRequest, Mail, Record};

/// How to start a receiver.
#[derive(Debug, Clone, Default)]
pub struct ReceiverOptions {
    /// The `steward-receiver` executable; [`Receiver::binary_path`] when `None`.
    pub binary: Option<PathBuf>,
    /// Answer 503 to this many HTTP requests first (counted per process start).
    pub fail_first: u32,
    /// The status for the other HTTP requests (200 when `None`).
    pub status: Option<u16>,
    /// Answer 451 at the end of DATA for this many mails first.
    pub smtp_fail_first: u32,
    /// The log file; a file in a fresh temporary directory when `None`.
    pub log: Option<PathBuf>,
}

/// A running (or stopped) `steward-receiver` process. Dropping it kills the process.
pub struct Receiver {
    child: Option<Child>,
    http_addr: SocketAddr,
    smtp_addr: SocketAddr,
    log: PathBuf,
    binary: PathBuf,
    options: ReceiverOptions,
    _dir: Option<tempfile::TempDir>,
}

impl Receiver {
    /// Starts a receiver on free loopback ports and waits until it listens.
    ///
    /// # Panics
    /// When the binary cannot be found, built or started: a test cannot go on without it.
    pub fn start(options: ReceiverOptions) -> Receiver {
        let binary = options.binary.clone().unwrap_or_else(Self::binary_path);
        let (log, dir) = match &options.log {
            Some(log) => (log.clone(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("steward-receiver-")
                    .tempdir()
                    .expect("create a temporary directory");
                (dir.path().join("received.jsonl"), Some(dir))
            }
        };
        let loopback: SocketAddr = "127.0.0.1:0".parse().expect("valid address");
        let (child, http_addr, smtp_addr) = spawn(&binary, loopback, loopback, &log, &options);
        Receiver { child: Some(child), http_addr, smtp_addr, log, binary, options, _dir: dir }
    }

    /// Where `steward-receiver` is, building it first when running under Cargo.
    ///
    /// In order: `$STEWARD_RECEIVER_BIN` if set; otherwise, when the test runs under Cargo
    /// (`$CARGO` is set), `cargo build -p steward-testkit --bin steward-receiver` is run
    /// once per test process, into the test's own target directory and profile (a no-op
    /// when it is fresh; this is what makes `cargo test -p <other crate>` work from a clean
    /// target directory, where a dev-dependency's binaries are not built); then the binary
    /// next to the test executable's directory (`target/<profile>/deps/..`).
    pub fn binary_path() -> PathBuf {
        static PATH: OnceLock<PathBuf> = OnceLock::new();
        PATH.get_or_init(|| {
            if let Some(path) = std::env::var_os("STEWARD_RECEIVER_BIN") {
                return PathBuf::from(path);
            }
            let exe = std::env::current_exe().expect("the test executable's path");
            let mut dir = exe.parent().expect("the executable's directory").to_owned();
            if dir.file_name().is_some_and(|n| n == "deps") {
                dir.pop();
            }
            let binary = dir.join(format!("steward-receiver{}", std::env::consts::EXE_SUFFIX));
            if let Some(cargo) = std::env::var_os("CARGO") {
                build_receiver(Path::new(&cargo), &dir);
            }
            assert!(
                binary.exists(),
                "{} does not exist: build it with `cargo build -p steward-testkit` \
                 or set STEWARD_RECEIVER_BIN",
                binary.display()
            );
            binary
        })
        .clone()
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn smtp_addr(&self) -> SocketAddr {
        self.smtp_addr
    }

    /// `http://127.0.0.1:PORT` followed by `path` (which should start with `/`).
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr)
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn smtp_url(&self) -> String {
        format!("smtp://{}", self.smtp_addr)
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the process and waits for it: from now on connections are refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again on the same ports and the same log, with the same options
    /// (`fail_first` counts again from zero).
    pub fn restart_on_same_ports(&mut self) {
        let options = self.options.clone();
        self.restart_with(options);
    }

    /// Starts the process again on the same ports and log, with other options.
    pub fn restart_with(&mut self, options: ReceiverOptions) {
        self.stop();
        let (child, http_addr, smtp_addr) =
            spawn(&self.binary, self.http_addr, self.smtp_addr, &self.log, &options);
        debug_assert_eq!((http_addr, smtp_addr), (self.http_addr, self.smtp_addr));
        self.child = Some(child);
        self.options = options;
    }

    /// Everything received so far, in order, across restarts.
    pub fn records(&self) -> Vec<Record> {
        read_log(&self.log).expect("read the receiver log")
    }

    /// The HTTP requests received so far.
    pub fn http_requests(&self) -> Vec<HttpRequest> {
        self.records()
            .into_iter()
            .filter_map(|r| match r {
                Record::Http(h) => Some(h),
                Record::Smtp(_) => None,
            })
            .collect()
    }

    /// The mails received so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.records()
            .into_iter()
            .filter_map(|r| match r {
                Record::Smtp(m) => Some(m),
                Record::Http(_) => None,
            })
            .collect()
    }

    /// Waits until at least `count` records (HTTP and SMTP together) are in the log, polling
    /// it every 10 ms, and returns them all.
    ///
    /// # Panics
    /// After `timeout`, with what did arrive.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Record> {
        self.wait_until(timeout, |records| records.len() >= count, "records").await
    }

    /// Waits until at least `count` HTTP requests arrived; returns them all.
    pub async fn wait_for_http(&self, count: usize, timeout: Duration) -> Vec<HttpRequest> {
        self.wait_until(
            timeout,
            |r| r.iter().filter(|r| matches!(r, Record::Http(_))).count() >= count,
            "HTTP requests",
        )
        .await;
        self.http_requests()
    }

    /// Waits until at least `count` mails arrived; returns them all.
    pub async fn wait_for_mails(&self, count: usize, timeout: Duration) -> Vec<Mail> {
        self.wait_until(
            timeout,
            |r| r.iter().filter(|r| matches!(r, Record::Smtp(_))).count() >= count,
            "mails",
        )
        .await;
        self.mails()
    }

    async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&[Record]) -> bool,
        what: &str,
    ) -> Vec<Record> {
        let deadline = Instant::now() + timeout;
        loop {
            let records = self.records();
            if done(&records) {
                return records;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; received so far: {records:#?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(
    binary: &Path,
    http: SocketAddr,
    smtp: SocketAddr,
    log: &Path,
    options: &ReceiverOptions,
) -> (Child, SocketAddr, SocketAddr) {
    let mut command = Command::new(binary);
    command
        .arg("--http")
        .arg(http.to_string())
        .arg("--smtp")
        .arg(smtp.to_string())
        .arg("--log")
        .arg(log)
        .arg("--fail-first")
        .arg(options.fail_first.to_string())
        .arg("--smtp-fail-first")
        .arg(options.smtp_fail_first.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(status) = options.status {
        command.arg("--status").arg(status.to_string());
    }
    let mut child = command.spawn().unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    let parsed = read.ok().and_then(|_| parse_ready_line(&line));
    match parsed {
        Some((http, smtp)) => (child, http, smtp),
        None => {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "{} did not report its addresses (said {line:?}, exit {status:?})",
                binary.display()
            )
        }
    }
}

/// Parses `http=ADDR smtp=ADDR`.
fn parse_ready_line(line: &str) -> Option<(SocketAddr, SocketAddr)> {
    let mut http = None;
    let mut smtp = None;
    for part in line.split_whitespace() {
        match part.split_once('=') {
            Some(("http", addr)) => http = addr.parse().ok(),
            Some(("smtp", addr)) => smtp = addr.parse().ok(),
            _ => {}
        }
    }
    Some((http?, smtp?))
}

/// Builds the receiver into `profile_dir` (`<target>/<profile>`) with the Cargo that runs
/// the tests. Cargo does not hold the build lock while tests run, so this does not block.
fn build_receiver(cargo: &Path, profile_dir: &Path) {
    let Some(target_dir) = profile_dir.parent() else {
        return;
    };
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => return,
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = Command::new(cargo)
        .arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--bin", "steward-receiver", "--profile", profile])
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {} build: {e}", cargo.display()));
    assert!(
        output.status.success(),
        "building steward-receiver failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_line() {
        assert_eq!(
            parse_ready_line("http=127.0.0.1:5 smtp=127.0.0.1:6\n"),
            Some(("127.0.0.1:5".parse().unwrap(), "127.0.0.1:6".parse().unwrap()))
        );
        assert_eq!(parse_ready_line("http=127.0.0.1:5\n"), None);
    }
}
