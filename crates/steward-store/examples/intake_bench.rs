//! Measures durable intakes per second straight against the store, without HTTP:
//! `cargo run --release -p steward-store --example intake_bench -- URL [POSTS] [TASKS] [EVERY]`.
//! Every EVERYth post (default 10; 0 for none) escalates into a case with two notifications.

use std::time::Instant;

use serde_json::json;
use steward_store::{NewCase, NewEscalation, NewNotification, NewPost, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "sqlite:///tmp/steward-bench/bench.db".into());
    let posts: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20_000);
    let tasks: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let every: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10);
    let store = Store::connect(&url).await?;
    let run = format!("{:x}", std::process::id());
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let store = store.clone();
        let run = run.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for i in (t..posts).step_by(tasks) {
                let id = format!("{run}_{i}");
                let thread = format!("bench:{run}:{i}");
                let escalate = every > 0 && i % every == 0;
                let post = NewPost {
                    id: format!("p_{id}"),
                    source: "bench".into(),
                    external_id: id.clone(),
                    url: None,
                    author: Some("bench".into()),
                    thread_key: thread.clone(),
                    title: "A post".into(),
                    body: "Some body text that is about as long as a short forum post.".into(),
                    original_title: "A post".into(),
                    original_body: "Some body text that is about as long as a short forum post."
                        .into(),
                    triage: json!({"topics": []}),
                    sensitive: escalate,
                    topics: vec![],
                    kind: Some("feedback".into()),
                };
                let escalation = escalate.then(|| NewEscalation {
                    case: NewCase {
                        id: format!("c_{id}"),
                        thread_key: thread,
                        topics: vec!["licensing".into()],
                        policy_version: "bench".into(),
                        owner: Some("ana".into()),
                        responders: json!([]),
                        loop_ins: json!([]),
                        opened_by: "bench".into(),
                        due_at: None,
                        remind_at: None,
                    },
                    notifications: vec![
                        NewNotification {
                            channel: "hook".into(),
                            purpose: "escalation".into(),
                            payload: json!({"text": "x"}),
                        };
                        2
                    ],
                });
                let one = Instant::now();
                store.intake(post, escalation, vec![], 0).await?;
                latencies.push(one.elapsed());
            }
            Ok::<_, steward_store::StoreError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{posts} intakes with {tasks} tasks in {:.2?}: {:.0}/s, p50 {:.2?}, p99 {:.2?}",
        elapsed,
        posts as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}
