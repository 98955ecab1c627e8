//! `steward-receiver`: a real HTTP and SMTP receiver on loopback for delivery tests.
//!
//! Prints `http=ADDR smtp=ADDR` once both listen, then appends every HTTP request and every
//! mail to `--log` as one JSON line each. See `steward_testkit::server`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use steward_testkit::server::{self, ServerConfig};

#[derive(Debug, Parser)]
#[command(version, about = "A loopback HTTP and SMTP receiver that logs what it receives")]
struct Args {
    /// Address for the HTTP listener (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    http: SocketAddr,
    /// Address for the SMTP listener (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    smtp: SocketAddr,
    /// JSON-lines file to append what is received to.
    #[arg(long)]
    log: PathBuf,
    /// Answer 503 to this many HTTP requests before answering normally.
    #[arg(long, default_value_t = 0)]
    fail_first: u32,
    /// The HTTP status to answer (after --fail-first).
    #[arg(long, default_value_t = 200)]
    status: u16,
    /// Answer 451 at the end of DATA for this many mails before accepting.
    #[arg(long, default_value_t = 0)]
    smtp_fail_first: u32,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    server::run(ServerConfig {
        http: args.http,
        smtp: args.smtp,
        log: args.log,
        fail_first: args.fail_first,
        status: args.status,
        smtp_fail_first: args.smtp_fail_first,
    })
    .await
}
