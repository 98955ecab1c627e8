//! Redaction throughput over ~5 MB of post-like text with personal data sprinkled in.
//!
//! `cargo bench -p steward-triage --bench redact -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use steward_triage::redact::Redactor;

/// Paragraphs in the style of issues and forum posts: prose, code, logs, versions, paths.
const PARAGRAPHS: &[&str] = &[
    "Hi team, after upgrading to v7.10.2 the desktop app keeps logging me out. I tried \
     clearing the cache (e.g. deleting ~/.config/app/Cache) but it didn't help. Any ideas?",
    "Steps to reproduce:\n1. Open config.yaml and set `SiteURL` to the public address.\n\
     2. Restart the server with `systemctl restart app`.\n3. Watch the logs.\n",
    "```\n2024-03-05T12:30:45.123Z ERROR api/server.go:218 failed to connect: dial tcp: \
     i/o timeout (retry 3 of 5)\n```",
    "This is a feature request: it would be great if admins could export channel data \
     as JSON or CSV. Our compliance team asks for it every quarter.",
    "In Rust I call `std::sync::Arc::new(client)` and then `tokio::spawn` the worker; \
     package.json lists node 18.17.1 and the lockfile pins 4.2.0. See README.md and main.rs.",
    "We run three replicas behind nginx on port 8443 and the load balancer health check \
     hits /api/v4/system/ping every 30 seconds. Issue #18342 looks related.",
    "Thanks for the quick reply! I followed https://docs.example.org/install/upgrade and \
     it works now. Closing this.",
    "The Java client uses org.springframework.boot 3.1.4 and com.example.app for the \
     Android build; versions 1.2.3.4.5 and v2.0.0.1 were tested.",
];

/// Personal data to sprinkle: one of these after every few paragraphs.
const PII: &[&str] = &[
    "my server is at 203.0.113.57, can someone look?",
    "reach me at jane.doe@acme-corp.com or +1 415 555 0132",
    "the proxy runs on 2001:db8:85a3::8a2e:370:7334",
    "our intranet is wiki.acme-corp.io and https://build.acme-corp.io/job/42/console",
    "token: ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 (oops)",
    "call (415) 555-0132 after 5pm",
];

fn corpus(target: usize) -> String {
    let mut text = String::with_capacity(target + 1024);
    let mut i = 0usize;
    while text.len() < target {
        text.push_str(PARAGRAPHS[i % PARAGRAPHS.len()]);
        text.push_str("\n\n");
        if i % 5 == 4 {
            text.push_str(PII[(i / 5) % PII.len()]);
            text.push_str("\n\n");
        }
        i += 1;
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = corpus(5 << 20);
    let redactor = Redactor::new(&["example.org".to_string()]);
    let found = redactor.find(&text).len();
    assert!(found > 1000, "the corpus has personal data in it ({found} found)");
    let mut group = c.benchmark_group("redact");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("find", |b| b.iter(|| redactor.find(black_box(&text))));
    group.bench_function("redact", |b| b.iter(|| redactor.redact(black_box(&text))));
    let clean: String = PARAGRAPHS.concat().repeat((5 << 20) / PARAGRAPHS.concat().len());
    group.throughput(Throughput::Bytes(clean.len() as u64));
    group.bench_function("find_clean", |b| b.iter(|| redactor.find(black_box(&clean))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
