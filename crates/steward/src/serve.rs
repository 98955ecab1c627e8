//! `steward serve`, `steward admin …` and `steward config default`: reading the settings,
//! opening the store, and running the desk.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use steward_desk::AccessRole;
use steward_server::auth::{new_token_secret, token_hash, token_id};
use steward_server::state::SystemClock;
use steward_server::{AppState, Settings};
use steward_store::{NewAudit, NewToken, Store};
use tokio::sync::watch;

use crate::policy_cmd::load;

/// Where settings come from, as given on the command line.
#[derive(clap::Args, Clone, Default)]
pub struct SettingsArgs {
    /// Configuration file (see `steward config default`).
    #[arg(long, env = "STEWARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long)]
    pub database: Option<String>,
    /// Policy file (default: the shipped example policy).
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

/// Defaults, then the file, then `STEWARD_*` variables, then flags.
pub fn settings(args: &SettingsArgs, listen: Option<String>) -> Result<Settings> {
    let text = match &args.config {
        Some(path) => Some((
            path.display().to_string(),
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )),
        None => None,
    };
    let env = std::env::vars().filter(|(k, _)| k.starts_with("STEWARD_"));
    let mut s = Settings::load(text.as_ref().map(|(n, t)| (n.as_str(), t.as_str())), env)?;
    if let Some(l) = listen {
        s.listen = l;
    }
    if let Some(d) = &args.database {
        s.database = d.clone();
    }
    if let Some(p) = &args.policy {
        s.policy = Some(p.clone());
    }
    Ok(s)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Creates a token and returns its secret; only the hash is stored.
async fn create_token(
    store: &Store,
    person: &str,
    role: AccessRole,
    label: &str,
    actor: &str,
) -> Result<String> {
    let secret = new_token_secret();
    let now = chrono::Utc::now().timestamp_millis();
    let id = token_id(&secret);
    store
        .create_token(
            NewToken {
                id: id.clone(),
                person: person.to_string(),
                role: role.as_str().to_string(),
                hash: token_hash(&secret),
                label: label.to_string(),
            },
            now,
        )
        .await?;
    store
        .append_audit(
            NewAudit {
                actor: actor.to_string(),
                action: "token.created".into(),
                subject: id,
                before: None,
                after: Some(
                    serde_json::json!({"person": person, "role": role.as_str(), "label": label}),
                ),
            },
            now,
        )
        .await?;
    Ok(secret)
}

pub fn serve(args: SettingsArgs, listen: Option<String>) -> Result<ExitCode> {
    let settings = settings(&args, listen)?;
    let policy = load(settings.policy.as_deref())?;
    runtime()?.block_on(async move {
        let store = open_store(&settings.database).await?;
        if store.count_tokens().await? == 0 {
            let secret =
                create_token(&store, "", AccessRole::Admin, "first start", "steward").await?;
            println!("steward: first start: created an admin API token (shown once, keep it):");
            println!("{secret}");
        }
        let listener = tokio::net::TcpListener::bind(&settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        let mut settings = settings;
        if settings.public_url.is_none() {
            settings.public_url = Some(format!("http://{addr}"));
        }
        let (database, version) = (settings.database.clone(), policy.version.clone());
        let state = AppState::new(store, policy, settings, Arc::new(SystemClock))?;
        let worker = steward_server::delivery_worker(&state)?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let tasks = steward_server::spawn_background(state.clone(), worker, stop_rx);
        println!(
            "steward: listening on http://{addr} (database {database}, policy version {version})"
        );
        axum::serve(listener, steward_server::router(state))
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

pub fn token_create(
    args: SettingsArgs,
    person: Option<String>,
    role: Option<String>,
    label: Option<String>,
) -> Result<ExitCode> {
    let settings = settings(&args, None)?;
    let policy = load(settings.policy.as_deref())?;
    let role: AccessRole = match role {
        Some(r) => r.parse()?,
        None if person.is_some() => AccessRole::Responder,
        None => AccessRole::Admin,
    };
    let person = person.unwrap_or_default();
    if person.is_empty() && role != AccessRole::Admin {
        bail!("a {role} token needs --person (one of the policy's people)");
    }
    if !person.is_empty() && policy.person(&person).is_none() {
        let known: Vec<&str> = policy.people.iter().map(|p| p.id.as_str()).collect();
        bail!("unknown person `{person}` (the policy's people: {})", known.join(", "));
    }
    if role == AccessRole::Responder
        && !policy.roles.iter().any(|r| r.members.iter().any(|m| m == &person))
    {
        bail!("`{person}` holds no policy role, so cannot be a responder; use --role triager or viewer");
    }
    runtime()?.block_on(async move {
        let store = open_store(&settings.database).await?;
        let for_whom = if person.is_empty() { String::new() } else { format!(" for {person}") };
        let label = label.unwrap_or_else(|| format!("{role} token{for_whom}"));
        let secret = create_token(&store, &person, role, &label, "steward admin").await?;
        let article = if role == AccessRole::Admin { "an" } else { "a" };
        eprintln!("created {article} {role} token{for_whom}");
        println!("{secret}");
        Ok(ExitCode::SUCCESS)
    })
}

/// The store at `database`, with an error that names it.
async fn open_store(database: &str) -> Result<Store> {
    Store::connect(database).await.with_context(|| format!("cannot open the database {database}"))
}

/// [`open_store`] for commands that only read or revoke: a missing SQLite file is an error,
/// not a new empty database.
async fn open_existing_store(database: &str) -> Result<Store> {
    Store::connect_existing(database)
        .await
        .with_context(|| format!("cannot open the database {database}"))
}

/// `steward admin token list`: the tokens in use, oldest first, one per line after a header.
pub fn token_list(args: SettingsArgs) -> Result<ExitCode> {
    let settings = settings(&args, None)?;
    runtime()?.block_on(async move {
        let store = open_existing_store(&settings.database).await?;
        let tokens = store.list_tokens().await?;
        use std::fmt::Write as _;
        let mut out =
            format!("{:<16} {:<9} {:<20} {:<20} label\n", "id", "role", "person", "created (UTC)");
        for t in &tokens {
            let created = chrono::DateTime::from_timestamp_millis(t.created_at).map_or_else(
                || t.created_at.to_string(),
                |d| d.format("%Y-%m-%d %H:%M:%S").to_string(),
            );
            let person = if t.person.is_empty() { "-" } else { t.person.as_str() };
            let _ = writeln!(
                out,
                "{:<16} {:<9} {:<20} {:<20} {}",
                t.id, t.role, person, created, t.label
            );
        }
        crate::write_stdout(&out)?;
        eprintln!("{} token(s) in use", tokens.len());
        Ok(ExitCode::SUCCESS)
    })
}

/// `steward admin token revoke ID`: the token stops working (a running desk trusts a token
/// it has seen for at most 10 s: `auth::TokenCache`); the audit log records who did it.
pub fn token_revoke(args: SettingsArgs, id: String) -> Result<ExitCode> {
    let settings = settings(&args, None)?;
    runtime()?.block_on(async move {
        let store = open_existing_store(&settings.database).await?;
        let now = chrono::Utc::now().timestamp_millis();
        match store.revoke_token(&id, "steward admin", now).await {
            Ok(()) => {
                println!("revoked token {id}; a running desk stops accepting it within 10 s");
                Ok(ExitCode::SUCCESS)
            }
            Err(steward_store::StoreError::NotFound { .. }) => bail!(
                "no token `{id}` in use (revoked already, or never created): \
                 `steward admin token list` shows the ids"
            ),
            Err(e) => Err(e.into()),
        }
    })
}

pub fn audit_verify(args: SettingsArgs) -> Result<ExitCode> {
    let settings = settings(&args, None)?;
    runtime()?.block_on(async move {
        let store = open_existing_store(&settings.database).await?;
        let v = store.verify_audit().await?;
        if v.ok {
            println!("audit log intact: {} entries", v.entries);
            Ok(ExitCode::SUCCESS)
        } else {
            println!(
                "audit log BROKEN at entry {}: {}",
                v.first_broken.map_or("?".to_string(), |s| s.to_string()),
                v.reason.unwrap_or_default()
            );
            Ok(ExitCode::FAILURE)
        }
    })
}

pub fn config_default() -> Result<ExitCode> {
    crate::write_stdout(steward_server::settings::DEFAULT_FILE)?;
    Ok(ExitCode::SUCCESS)
}
