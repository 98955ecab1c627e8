//! `steward admin token create | list | revoke` against the real binary and a real database
//! (SQLite in a temporary directory; PostgreSQL in a fresh database, as in `crash.rs`), and
//! a desk started afterwards on that database: a revoked token is refused, the others are
//! still accepted.

use std::process::{Command, Output};

use steward_testkit::TestDatabase;

#[path = "support/desk.rs"]
mod desk;
use desk::Desk;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_sqlite() {
    let db = TestDatabase::sqlite();
    create_list_revoke("sqlite", db.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_postgres() {
    let db = TestDatabase::postgres().await;
    create_list_revoke("postgres", db.url()).await;
}

fn steward(args: &[&str], database: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    for (var, _) in std::env::vars().filter(|(k, _)| k.starts_with("STEWARD_")) {
        command.env_remove(var);
    }
    command.args(args).args(["--database", database]).output().expect("run steward")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The secret a `token create` printed as its last line.
fn created(out: &Output) -> String {
    assert!(out.status.success(), "token create: {}", String::from_utf8_lossy(&out.stderr));
    stdout(out).lines().last().expect("a token").trim().to_owned()
}

/// `token list` as (id, role, person) rows.
fn listed(database: &str) -> Vec<(String, String, String)> {
    let out = steward(&["admin", "token", "list"], database);
    assert!(out.status.success(), "token list: {}", String::from_utf8_lossy(&out.stderr));
    stdout(&out)
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            (cols[0].to_owned(), cols[1].to_owned(), cols[2].to_owned())
        })
        .collect()
}

/// A listing, a revocation or an audit check pointed at a SQLite file that does not exist
/// fails and creates nothing (`serve` and `token create` do create a new database).
#[test]
fn reading_commands_do_not_create_a_database() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("typo").join("steward.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [
        &["admin", "token", "list"][..],
        &["admin", "token", "revoke", "t_1"],
        &["admin", "verify-audit"],
    ] {
        let out = steward(args, &url);
        assert!(!out.status.success(), "{args:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("no SQLite database at"), "{args:?}: {said}");
        assert!(!dir.path().join("typo").exists(), "{args:?} created a directory");
    }
}

async fn create_list_revoke(backend: &str, database: &str) {
    let admin = created(&steward(&["admin", "token", "create"], database));
    let triager = created(&steward(
        &["admin", "token", "create", "--person", "natalie_jew", "--role", "triager"],
        database,
    ));
    assert!(admin.starts_with("stw_") && triager.starts_with("stw_"), "{backend}");

    let tokens = listed(database);
    assert_eq!(tokens.len(), 2, "{backend}: {tokens:?}");
    assert_eq!((tokens[0].1.as_str(), tokens[0].2.as_str()), ("admin", "-"), "{backend}");
    assert_eq!((tokens[1].1.as_str(), tokens[1].2.as_str()), ("triager", "natalie_jew"));

    let id = tokens[1].0.clone();
    let revoked = steward(&["admin", "token", "revoke", &id], database);
    assert!(revoked.status.success(), "{backend}: {}", String::from_utf8_lossy(&revoked.stderr));
    assert_eq!(listed(database).len(), 1, "{backend}: the revoked token is no longer listed");

    // Again, or an id that never was: an error naming the id, and nothing changes.
    for gone in [id.as_str(), "t_000000000000"] {
        let again = steward(&["admin", "token", "revoke", gone], database);
        assert!(!again.status.success(), "{backend}: revoking {gone} must fail");
        let said = String::from_utf8_lossy(&again.stderr);
        assert!(said.contains(gone) && said.contains("token list"), "{backend}: {said}");
    }
    assert_eq!(listed(database).len(), 1, "{backend}");

    // The audit log's hash chain still holds after the revocation's entry.
    let audit = steward(&["admin", "verify-audit"], database);
    assert!(audit.status.success(), "{backend}: {}", stdout(&audit));

    // A desk on this database refuses the revoked token and accepts the other one.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("steward.toml");
    std::fs::write(&config, "").expect("write an empty configuration");
    let (desk, first_start_token) = Desk::start(&config, database).await;
    assert_eq!(first_start_token, None, "{backend}: tokens exist, so no first-start token");
    let client = reqwest::Client::new();
    let cases = |token: &str| {
        client.get(format!("{}/api/v1/cases", desk.base)).bearer_auth(token.to_owned()).send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(cases(&admin).await.map(status).expect("a response"), 200, "{backend}");
    assert_eq!(cases(&triager).await.map(status).expect("a response"), 401, "{backend}");

    // The audit log (read through that desk) names the command as who revoked it.
    let audit: serde_json::Value = client
        .get(format!("{}/api/v1/audit", desk.base))
        .bearer_auth(&admin)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("the audit log")
        .json()
        .await
        .expect("JSON");
    let revocations: Vec<&serde_json::Value> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "token.revoke" && e["subject"] == id.as_str())
        .collect();
    assert_eq!(revocations.len(), 1, "{backend}: {audit:#}");
    assert_eq!(revocations[0]["actor"], "steward admin", "{backend}");
}
