//! The `steward` binary end to end: `policy check|import|export|diff`, `triage` (with
//! `eval`, `train`, `--model`, `--no-model`), `redact` and `lint-response`, each run as a
//! real process on files written to a temporary directory.

mod policy;
mod text;
mod triage;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing both streams when it is not the expected one.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// The workspace root, where the tests find `examples/` and the binary runs.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Runs `steward ARGS…` with an empty standard input.
pub fn steward(args: &[&str]) -> Run {
    run(args, None)
}

/// Runs `steward ARGS…` with `input` on standard input.
pub fn steward_with_stdin(args: &[&str], input: &str) -> Run {
    run(args, Some(input))
}

fn run(args: &[&str], input: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    // The developer's own settings (`STEWARD_LOG`, `STEWARD_POLICY`, …) must not leak in.
    for (var, _) in std::env::vars().filter(|(k, _)| k.starts_with("STEWARD_")) {
        command.env_remove(var);
    }
    let mut child = command
        .args(args)
        .current_dir(root())
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the steward binary runs");
    let writer = input.map(|text| {
        let mut stdin = child.stdin.take().expect("piped stdin");
        let text = text.to_string();
        // A run refused before it reads its input (a usage error) closes the pipe early;
        // that is the run's business, not a failure to write.
        std::thread::spawn(move || match stdin.write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
            _ => {}
        })
    });
    let out = child.wait_with_output().expect("the steward binary finishes");
    if let Some(w) = writer {
        w.join().expect("stdin writer");
    }
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `steward ARGS…` with `input` on stdin and stdout piped, reads its first line and
/// closes the pipe: what `steward … | head -1` does. Returns that line, and stderr and the
/// status of the run.
pub fn first_line_then_close(
    args: &[&str],
    input: &str,
) -> (String, String, std::process::ExitStatus) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the steward binary runs");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut first)
        .expect("read the first line");
    // The reader (and with it the pipe) is gone here.
    let out = child.wait_with_output().expect("the run ends");
    writer.join().expect("stdin writer").expect("write stdin");
    (first, String::from_utf8_lossy(&out.stderr).into_owned(), out.status)
}

/// Writes `text` to `name` in `dir` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// `LINE:COL` (1-based, columns in characters) of byte `offset` in `src`.
pub fn line_col(src: &str, offset: usize) -> String {
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = src[line_start..offset].chars().count() + 1;
    format!("{line}:{col}")
}

/// `LINE:COL` of `inner` inside the one occurrence of `context` in `src`: where a
/// diagnostic about those words must point.
#[track_caller]
pub fn at(src: &str, context: &str, inner: &str) -> String {
    let start = src.find(context).unwrap_or_else(|| panic!("{context:?} not in the file"));
    assert_eq!(src.matches(context).count(), 1, "{context:?} must occur once in the file");
    let within = context.find(inner).unwrap_or_else(|| panic!("{inner:?} not in {context:?}"));
    line_col(src, start + within)
}

#[test]
fn line_col_counts_lines_and_characters() {
    let src = "a = 1\nnäme = \"x\"\n";
    assert_eq!(line_col(src, 0), "1:1");
    assert_eq!(at(src, "näme = \"x\"", "\"x\""), "2:8");
}

#[test]
fn help_lists_every_subcommand() {
    let run = steward(&["--help"]);
    run.expect_code(0);
    for sub in ["serve", "admin", "config", "policy", "triage", "redact", "lint-response"] {
        assert!(run.stdout.contains(sub), "{sub} missing from:\n{}", run.stdout);
    }
    steward(&["no-such-command"]).expect_code(2);
}
