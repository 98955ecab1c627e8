//! The permission matrix: every endpoint of the router × every kind of caller, walked in one
//! test against an expected table written out by hand from the README (only approved
//! responders draft, approve and close; admins may also assign owners), so a wrong
//! permission table in the code fails it. Also pins the exact JSON of a refusal.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

both!(every_endpoint_checks_every_role, a_refusal_has_the_documented_shape);

/// The case topic of the matrix; Jason Blais is an approved responder, Natalie Jew (VP HR)
/// is a responder of another topic only.
const TOPIC: &str = "licensing";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    Admin,
    Triager,
    Approved,
    NotApproved,
    Viewer,
}

impl Who {
    const ALL: [Who; 6] =
        [Who::Nobody, Who::Admin, Who::Triager, Who::Approved, Who::NotApproved, Who::Viewer];
}

/// Callers holding a token who may change things (the README's "admin, triager, responder").
const WRITERS: &[Who] = &[Who::Admin, Who::Triager, Who::Approved, Who::NotApproved];
/// Everyone with a token.
const READERS: &[Who] = &[Who::Admin, Who::Triager, Who::Approved, Who::NotApproved, Who::Viewer];
/// Everyone, token or not.
const ANYONE: &[Who] = &Who::ALL;

/// One endpoint: method, path template, who may call it (written out from the README's API
/// table, not derived from the code under test), and the status of success.
struct Endpoint {
    method: Method,
    path: &'static str,
    allowed: &'static [Who],
    ok: u16,
}

fn ep(method: Method, path: &'static str, allowed: &'static [Who], ok: u16) -> Endpoint {
    Endpoint { method, path, allowed, ok }
}

/// Every route of `crates/steward-server/src/api/mod.rs`.
fn endpoints() -> Vec<Endpoint> {
    use Who::*;
    vec![
        ep(Method::POST, "/api/v1/posts", WRITERS, 201),
        ep(Method::GET, "/api/v1/posts", READERS, 200),
        ep(Method::GET, "/api/v1/posts/{id}", READERS, 200),
        ep(Method::POST, "/api/v1/posts/{id}/relabel", WRITERS, 200),
        ep(Method::POST, "/api/v1/cases", WRITERS, 201),
        ep(Method::GET, "/api/v1/cases", READERS, 200),
        ep(Method::GET, "/api/v1/cases/{id}", READERS, 200),
        // The case's approved responders; admins may assign.
        ep(Method::POST, "/api/v1/cases/{id}/owner", &[Approved, Admin], 200),
        // Only the case's approved responders answer.
        ep(Method::POST, "/api/v1/cases/{id}/responses", &[Approved], 201),
        ep(Method::POST, "/api/v1/cases/{id}/responses/{rid}/approve", &[Approved], 200),
        ep(Method::POST, "/api/v1/cases/{id}/close", &[Approved], 200),
        ep(Method::GET, "/api/v1/audit", &[Admin], 200),
        ep(Method::GET, "/api/v1/audit/verify", &[Admin], 200),
        ep(Method::GET, "/api/v1/policy", READERS, 200),
        ep(Method::GET, "/api/v1/tokens", &[Admin], 200),
        ep(Method::DELETE, "/api/v1/tokens/{id}", &[Admin], 204),
        ep(Method::GET, "/api/v1/openapi.json", ANYONE, 200),
        ep(Method::GET, "/api/v1/health", ANYONE, 200),
    ]
}

fn expected(e: &Endpoint, who: Who) -> u16 {
    if e.allowed.contains(&who) {
        e.ok
    } else if who == Who::Nobody {
        401
    } else {
        403
    }
}

async fn every_endpoint_checks_every_role(app: TestApp) {
    let jason = app.person("jason_blais").await;
    let natalie = app.person("natalie_jew").await;
    assert!(policy().is_approved_responder("jason_blais", TOPIC));
    assert!(!policy().is_approved_responder("natalie_jew", TOPIC));
    let token = |who: Who| -> Option<String> {
        match who {
            Who::Nobody => None,
            Who::Admin => Some(app.tokens.admin.clone()),
            Who::Triager => Some(app.tokens.triager.clone()),
            Who::Approved => Some(jason.clone()),
            Who::NotApproved => Some(natalie.clone()),
            Who::Viewer => Some(app.tokens.viewer.clone()),
        }
    };
    let harmless = app.submit(&topic_post(None, "matrix-plain")).await;
    let post_id = harmless["post"]["id"].as_str().unwrap().to_string();
    let shared_case = app.submit_case(&topic_post(Some(TOPIC), "matrix-case")).await;

    let endpoints = endpoints();
    assert_eq!(endpoints.len(), 18);
    let mut table = String::new();
    let mut wrong = Vec::new();
    for (n, e) in endpoints.iter().enumerate() {
        table += &format!("{:<6} {:<45}", e.method.as_str(), e.path);
        for (k, who) in Who::ALL.into_iter().enumerate() {
            let cell = format!("{n}-{k}");
            // Cells that change a case get their own case (and draft), so every cell sees
            // an open case and an unapproved draft whatever ran before it.
            let mut case_id = shared_case.clone();
            let mut rid = String::from("r_none");
            if e.path.ends_with("/close") || e.path.ends_with("/approve") {
                case_id =
                    app.submit_case(&topic_post(Some(TOPIC), &format!("matrix-{cell}"))).await;
            }
            if e.path.ends_with("/approve") {
                let d = app.draft(&jason, &case_id, "Thank you! https://docs.example.org").await;
                rid = d.expect(201).body["response"]["id"].as_str().unwrap().to_string();
            }
            // Each cell revokes a token of its own, so the allowed one finds it in use.
            let mut spare_token_id = String::new();
            if e.path.starts_with("/api/v1/tokens/") {
                spare_token_id = token_id(&app.create_token("", "viewer").await);
            }
            let id = if e.path.starts_with("/api/v1/posts/") {
                &post_id
            } else if e.path.starts_with("/api/v1/tokens/") {
                &spare_token_id
            } else {
                &case_id
            };
            let path = e.path.replace("{rid}", &rid).replace("{id}", id);
            let body: Option<Value> = match (e.method.as_str(), e.path) {
                ("POST", "/api/v1/posts") => Some(topic_post(None, &format!("matrix-{cell}"))),
                ("POST", "/api/v1/posts/{id}/relabel") => Some(json!({"kind": "feedback"})),
                ("POST", "/api/v1/cases") => Some(json!({
                    "url": format!("https://forum.example.org/t/matrix-{cell}"),
                    "text": "Can we ship this in a proprietary product?",
                    "topics": [TOPIC],
                })),
                ("POST", "/api/v1/cases/{id}/owner") => Some(json!({"owner": "jason_blais"})),
                ("POST", "/api/v1/cases/{id}/responses") => {
                    Some(json!({"body": "Thank you! https://docs.example.org"}))
                }
                ("POST", "/api/v1/cases/{id}/close") => Some(json!({"reason": "answered"})),
                _ => None,
            };
            let t = token(who);
            let got = app.request(e.method.clone(), &path, t.as_deref(), body.as_ref()).await;
            let want = expected(e, who);
            table += &format!(" {:?}={}", who, got.status);
            if got.status != want {
                wrong.push(format!(
                    "{} {path} as {who:?}: got {} want {want}: {}",
                    e.method, got.status, got.text
                ));
            } else if want >= 400 {
                // Refusals are JSON errors with a stable code.
                let codes: &[&str] = match want {
                    401 => &["unauthenticated"],
                    _ => &["forbidden", "not_approved_responder"],
                };
                if !codes.contains(&got.code()) {
                    wrong.push(format!(
                        "{} {path} as {who:?}: code {:?}: {}",
                        e.method,
                        got.code(),
                        got.text
                    ));
                }
            }
        }
        table.push('\n');
    }
    assert!(
        wrong.is_empty(),
        "{} cells wrong:\n{}\n\nmatrix:\n{table}",
        wrong.len(),
        wrong.join("\n")
    );
}

async fn a_refusal_has_the_documented_shape(app: TestApp) {
    let case_id = app.submit_case(&topic_post(Some(TOPIC), "shape-1")).await;
    let natalie = app.person("natalie_jew").await;
    let r = app.draft(&natalie, &case_id, "Thanks!").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("content-type"), Some("application/json"), "errors are JSON");
    assert_eq!(
        r.body,
        json!({"error": {
            "code": "not_approved_responder",
            "message": "only approved responders of licensing may respond on this case \
                        (approved roles: Dr. Program Management, CEO); ask one of them or the \
                        case owner",
        }})
    );
    let r = app.get("/api/v1/cases", None).await;
    assert_eq!(
        r.body,
        json!({"error": {
            "code": "unauthenticated",
            "message": "missing or invalid API token: send `Authorization: Bearer <token>`",
        }})
    );
}
