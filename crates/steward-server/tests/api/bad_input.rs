//! Bad input gets a clear 4xx in the API's error format, `{"error": {"code", "message"}}`,
//! and writes nothing: malformed JSON, wrong types, missing and unknown fields, a missing
//! content type, an oversized body, unknown ids and routes, bad tokens, unknown topics.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{json, Value};
use steward_server::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

both!(bad_input_is_refused_with_a_clear_error_and_nothing_written);

async fn bad_input_is_refused_with_a_clear_error_and_nothing_written(app: TestApp) {
    // Something to refer to: a post with a case, and a harmless post.
    let case_id = app.submit_case(&topic_post(Some("licensing"), "bad-1")).await;
    let plain = app.submit(&topic_post(None, "bad-2")).await;
    let post_id = plain["post"]["id"].as_str().unwrap().to_string();
    let jason = app.person("jason_blais").await;
    let before = written(&app).await;
    let triager = app.tokens.triager.clone();
    let valid = topic_post(Some("licensing"), "bad-new");

    let raw = |body: Vec<u8>| {
        app.raw(Method::POST, "/api/v1/posts")
            .header(AUTHORIZATION, format!("Bearer {triager}"))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
    };

    // Malformed JSON.
    let r =
        TestApp::read(raw(br#"{"source": "forum", "external_id": "x", "title": "#.to_vec())).await;
    r.expect_error(400, "invalid_json");
    let r = TestApp::read(raw(b"not json at all".to_vec())).await;
    r.expect_error(400, "invalid_json");

    // Wrong types, missing fields, unknown fields.
    let mut wrong = valid.clone();
    wrong["external_id"] = json!(42);
    let r = app.post_post(&triager, &wrong).await.expect_error(422, "validation_failed");
    assert!(r.message().contains("external_id"), "{}", r.message());
    let mut wrong = valid.clone();
    wrong["title"] = json!(["a", "list"]);
    app.post_post(&triager, &wrong).await.expect_error(422, "validation_failed");
    app.post_post(&triager, &json!([1, 2, 3])).await.expect_error(422, "validation_failed");
    let r = app.post_post(&triager, &json!({"title": "t", "body": "b"})).await;
    let r = r.expect_error(422, "validation_failed");
    assert!(r.message().contains("source"), "{}", r.message());
    let mut unknown = valid.clone();
    unknown["colour"] = json!("red");
    let r = app.post_post(&triager, &unknown).await.expect_error(422, "validation_failed");
    assert!(r.message().contains("colour"), "{}", r.message());
    let mut empty = valid.clone();
    empty["title"] = json!(" ");
    empty["body"] = json!("");
    app.post_post(&triager, &empty).await.expect_error(422, "validation_failed");
    let mut blank = valid.clone();
    blank["source"] = json!("");
    app.post_post(&triager, &blank).await.expect_error(422, "validation_failed");

    // No content type, or another one.
    let body = serde_json::to_vec(&valid).unwrap();
    let r = app.raw(Method::POST, "/api/v1/posts").bearer_auth(&triager).body(body.clone());
    TestApp::read(r).await.expect_error(415, "unsupported_media_type");
    let r = app
        .raw(Method::POST, "/api/v1/posts")
        .bearer_auth(&triager)
        .header(CONTENT_TYPE, "text/plain")
        .body(body);
    TestApp::read(r).await.expect_error(415, "unsupported_media_type");

    // A 10 MB body.
    let (status, body) = oversized_post(&app, &triager, 10 * 1024 * 1024).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("bytes")), "{body}");

    // Unknown ids.
    let admin = app.tokens.admin.clone();
    app.get_post(&admin, "p_doesnotexist").await.expect_error(404, "not_found");
    app.get_case(&admin, "c_doesnotexist").await.expect_error(404, "not_found");
    app.set_owner(&jason, "c_doesnotexist", None).await.expect_error(404, "not_found");
    app.draft(&jason, "c_doesnotexist", "Thanks!").await.expect_error(404, "not_found");
    app.approve(&jason, "c_doesnotexist", "r_x").await.expect_error(404, "not_found");
    app.approve(&jason, &case_id, "r_doesnotexist").await.expect_error(404, "not_found");
    app.close(&jason, "c_doesnotexist", "done").await.expect_error(404, "not_found");
    app.relabel(&admin, "p_doesnotexist", &json!({"kind": "feedback"}))
        .await
        .expect_error(404, "not_found");
    app.escalate(&admin, &json!({"post_id": "p_doesnotexist"}))
        .await
        .expect_error(404, "not_found");

    // Unknown routes and methods.
    app.get("/api/v1/nothing-here", Some(&admin)).await.expect_error(404, "not_found");
    app.get("/nothing-here", None).await.expect_error(404, "not_found");
    app.request(Method::DELETE, "/api/v1/posts", Some(&admin), None)
        .await
        .expect_error(405, "method_not_allowed");

    // Missing or invalid tokens.
    app.post("/api/v1/posts", None, &valid).await.expect_error(401, "unauthenticated");
    app.post("/api/v1/posts", Some("stw_not_a_real_token"), &valid)
        .await
        .expect_error(401, "unauthenticated");
    let r = app.raw(Method::GET, "/api/v1/posts").header(AUTHORIZATION, format!("Basic {admin}"));
    TestApp::read(r).await.expect_error(401, "unauthenticated");
    let r = app.raw(Method::GET, "/api/v1/posts").header(AUTHORIZATION, "Bearer ");
    TestApp::read(r).await.expect_error(401, "unauthenticated");

    // Relabel with an unknown topic, a non-sensitive topic as a topic, or nothing.
    for body in [
        json!({"topics": ["no_such_topic"]}),
        json!({"topics": ["feedback"]}),
        json!({"kind": "licensing"}),
        json!({}),
        json!({"topics": ["licensing"], "kind": "feedback"}),
    ] {
        let r = app.relabel(&triager, &post_id, &body).await;
        r.expect_error(422, "validation_failed");
    }
    // Escalating by hand needs a post or a URL, and sensitive topics.
    app.escalate(&triager, &json!({})).await.expect_error(422, "validation_failed");
    app.escalate(&triager, &json!({"post_id": post_id, "topics": ["no_such_topic"]}))
        .await
        .expect_error(422, "validation_failed");
    app.escalate(&triager, &json!({"post_id": post_id}))
        .await
        .expect_error(422, "validation_failed");
    // A URL whose text touches no sensitive topic, with no topics named: refused, and the
    // post is not stored either.
    let harmless = json!({"url": "https://forum.example.org/t/dark-theme/7",
                          "text": "The dark theme toggle sits two pixels too low."});
    app.escalate(&triager, &harmless).await.expect_error(422, "validation_failed");

    // Bad query strings.
    app.get_cases(&admin, "state=pending").await.expect_error(400, "bad_request");
    app.get("/api/v1/posts?limit=many", Some(&admin)).await.expect_error(400, "bad_request");

    // Bad answers.
    app.draft(&jason, &case_id, "   ").await.expect_error(422, "validation_failed");
    let r = app.post(&format!("/api/v1/cases/{case_id}/close"), Some(&jason), &json!({})).await;
    r.expect_error(422, "validation_failed");

    assert_eq!(written(&app).await, before, "bad input wrote something");
}

/// `POST /api/v1/posts` announcing a body of `declared` bytes, over a plain TCP connection
/// that sends only one byte more than the desk accepts: the desk must refuse once the limit
/// is passed. (A client sending all 10 MB races the desk closing the connection after its
/// answer, and may see a broken pipe instead of the answer; sending only what the desk
/// reads keeps the test deterministic.) Returns the status and the JSON body.
async fn oversized_post(app: &TestApp, token: &str, declared: usize) -> (u16, Value) {
    let limit = Settings::default().max_body_bytes;
    assert!(declared > limit);
    let addr = app.address.strip_prefix("http://").expect("an http address");
    let mut stream = TcpStream::connect(addr).await.expect("connect to the desk");
    let head = format!(
        "POST /api/v1/posts HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    let mut body =
        br#"{"source": "forum", "external_id": "huge", "title": "t", "body": ""#.to_vec();
    body.resize(limit + 1, b'a');
    stream.write_all(head.as_bytes()).await.expect("send the head");
    stream.write_all(&body).await.expect("send the body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read the answer");
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let json = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

/// Posts, cases, audit entries and the outbox: everything a request could have written.
async fn written(app: &TestApp) -> ((usize, usize, usize), Value) {
    let outbox = app.get("/api/v1/health", None).await.expect(200).body["outbox"].clone();
    (app.written().await, outbox)
}
