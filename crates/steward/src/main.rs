//! The `steward` binary: parses the command line and hands each subcommand to its module.
//! Everything here is glue; the rules live in the library crates.

mod policy_cmd;
mod serve;
mod triage_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// mimalloc instead of the system allocator: a request allocates and frees many small
/// strings and JSON values, and under load glibc's malloc cost a fifth of the desk's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "steward", version, about = "Steward, the community escalation desk")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the desk: the HTTP API, delivery and timers.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        #[command(flatten)]
        settings: serve::SettingsArgs,
    },
    /// Administration: API tokens, audit log.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Configuration: print the documented default file.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Check, import, export and diff response policies.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Triage posts (JSON Lines in, JSON Lines out); `triage eval` and `triage train` too.
    Triage(TriageArgs),
    /// Redact personal data from standard input to standard output.
    Redact {
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Check a draft response against the policy's response-writing tips.
    LintResponse {
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The draft (standard input when absent).
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCmd {
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Check the audit log's hash chain.
    VerifyAudit {
        #[command(flatten)]
        settings: serve::SettingsArgs,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create a token; prints it as the last line (only its hash is stored).
    Create {
        /// The person (a policy person id) the token acts as.
        #[arg(long)]
        person: Option<String>,
        /// admin, triager, responder or viewer (default: responder with --person, else admin).
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        settings: serve::SettingsArgs,
    },
    /// List the tokens in use (not revoked): id, role, person, created, label.
    List {
        #[command(flatten)]
        settings: serve::SettingsArgs,
    },
    /// Revoke a token by its id (see `token list`); a running desk stops accepting it
    /// within 10 seconds.
    Revoke {
        /// The token's id, `t_…` (not the secret).
        id: String,
        #[command(flatten)]
        settings: serve::SettingsArgs,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print the documented default configuration file.
    Default,
}

#[derive(Subcommand)]
enum PolicyCmd {
    /// Validate policy files; prints FILE:LINE:COL: error|warning: message.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Read a handbook page (Markdown or plain text) and print the policy as TOML.
    Import {
        page: PathBuf,
        /// Policy to take triage cues, clocks and tips from (default: the shipped example).
        #[arg(long)]
        base: Option<PathBuf>,
        #[arg(long)]
        name: Option<String>,
        /// Version label (default: the one the page states, as `policy export` writes it,
        /// else "imported").
        #[arg(long)]
        version: Option<String>,
        /// Effective date, YYYY-MM-DD (default: the one the page states, else today).
        #[arg(long)]
        effective: Option<String>,
    },
    /// Print a policy as a handbook page in Markdown.
    Export { file: PathBuf },
    /// Show what changed between two versions of a policy (TOML files or handbook pages).
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Print the difference as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct TriageArgs {
    #[command(subcommand)]
    command: Option<TriageCmd>,
    #[command(flatten)]
    engine: EngineArgs,
    /// Posts as JSON Lines: {"id", "title", "body"} (standard input when absent).
    input: Option<PathBuf>,
    #[command(flatten)]
    jobs: JobsArg,
}

#[derive(Args, Clone, Copy)]
struct JobsArg {
    /// Threads that triage (default: one per core). Output stays in input order.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,
}

impl JobsArg {
    fn threads(self) -> usize {
        self.jobs
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, std::num::NonZeroUsize::get)
    }
}

#[derive(Args, Clone)]
struct EngineArgs {
    /// Policy file (default: the shipped example policy).
    #[arg(long, global = true)]
    policy: Option<PathBuf>,
    /// A model trained with `steward triage train` (default: trained on the shipped set).
    #[arg(long, global = true, conflicts_with = "no_model")]
    model: Option<PathBuf>,
    /// Rules only: no learned model.
    #[arg(long, global = true)]
    no_model: bool,
}

#[derive(Subcommand)]
enum TriageCmd {
    /// Measure triage against labeled posts (JSON Lines with "labels").
    Eval {
        labeled: PathBuf,
        /// Also list every post whose labels were missed.
        #[arg(long)]
        misses: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Evaluate the shipped model by k-fold cross-validation on this file instead
        /// (the model is trained on the other folds, never on the post it labels).
        #[arg(long, value_name = "K")]
        cross_validate: Option<usize>,
    },
    /// Explain triage: for each post, every topic it scores on, highest first, with the
    /// threshold, the model's part of the score and the evidence behind it.
    Explain {
        /// Posts as JSON Lines, like `steward triage` (standard input when absent).
        input: Option<PathBuf>,
        #[command(flatten)]
        jobs: JobsArg,
    },
    /// Train a model from labeled posts and write it as JSON.
    Train {
        #[arg(required = true)]
        labeled: Vec<PathBuf>,
        #[arg(long, short)]
        out: PathBuf,
        /// Leave out the shipped labeled set.
        #[arg(long)]
        without_builtin: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Serve { listen, settings } => serve::serve(settings, listen),
        Command::Admin(AdminCmd::Token(TokenCmd::Create { person, role, label, settings })) => {
            serve::token_create(settings, person, role, label)
        }
        Command::Admin(AdminCmd::Token(TokenCmd::List { settings })) => serve::token_list(settings),
        Command::Admin(AdminCmd::Token(TokenCmd::Revoke { id, settings })) => {
            serve::token_revoke(settings, id)
        }
        Command::Admin(AdminCmd::VerifyAudit { settings }) => serve::audit_verify(settings),
        Command::Config(ConfigCmd::Default) => serve::config_default(),
        Command::Policy(cmd) => policy_cmd::run(cmd),
        Command::Triage(args) => triage_cmd::run(args),
        Command::Redact { policy } => triage_cmd::redact(policy),
        Command::LintResponse { policy, file } => triage_cmd::lint_response(policy, file),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`steward triage big.jsonl | head`): nothing failed here, so
        // stop quietly, as `grep` or `rg` would.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("steward: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes a command's whole output. Unlike `print!`, which panics, a closed pipe comes back
/// as an error, which `main` ends quietly (see [`is_broken_pipe`]).
fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
