//! The real `steward serve`, started on a free port for a test and killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `steward serve`. Dropping it kills the process.
pub struct Desk {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Desk {
    /// Starts the binary on a free port and waits for its listening line; returns the
    /// admin token when this was the database's first start.
    pub async fn start(config: &Path, database: &str) -> (Desk, Option<String>) {
        let (config, database) = (config.to_owned(), database.to_owned());
        tokio::task::spawn_blocking(move || Desk::start_blocking(&config, &database))
            .await
            .expect("starting the desk")
    }

    fn start_blocking(config: &Path, database: &str) -> (Desk, Option<String>) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
        for (var, _) in std::env::vars().filter(|(k, _)| k.starts_with("STEWARD_")) {
            command.env_remove(var);
        }
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database, "--config"])
            .arg(config)
            .env("STEWARD_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("start steward serve");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut said = Vec::new();
        let mut token = None;
        let base = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                let status = child.wait();
                panic!("steward serve stopped before listening ({status:?}); it said {said:#?}");
            };
            if let Some(rest) = line.strip_prefix("steward: listening on ") {
                break rest.split_whitespace().next().expect("an address").to_owned();
            }
            if said.last().is_some_and(|l: &String| l.contains("created an admin API token")) {
                token = Some(line.trim().to_owned());
            }
            said.push(line);
        };
        // Keep reading, so that a later line never meets a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        (Desk { child, base }, token)
    }

    /// SIGKILL, then reap the process.
    #[allow(dead_code)] // Used by the crash test, not by every test that starts a desk.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill -9 steward serve");
        let _ = self.child.wait();
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
