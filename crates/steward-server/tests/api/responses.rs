//! Responder-only answers: approved responders draft (getting the response-lint findings),
//! approve (which stops the first-response clock) and close; everyone else is refused with
//! a message naming the topic and its approved roles; a closed case stays closed.

use serde_json::Value;

use crate::helpers::*;

both!(
    only_approved_responders_draft_approve_and_close,
    every_refused_answer_names_the_topic_and_its_roles,
);

/// The topic of this story: its approved responders are Jason Blais (Dr. Program
/// Management) and Ian Tien (CEO); the CRO role has nobody.
const TOPIC: &str = "licensing";

/// Asserts a refusal to answer: 403, and for a person's token `not_approved_responder`
/// naming the topic and the roles (for the other callers see
/// [`every_refused_answer_names_the_topic_and_its_roles`]).
#[track_caller]
fn refused(resp: Resp, who: &str) {
    assert_eq!(resp.status, 403, "{who}: {}", resp.text);
    if matches!(who, "triager" | "viewer" | "admin") {
        return;
    }
    names_topic_and_roles(resp, who);
}

/// Asserts 403 `not_approved_responder` with a message naming the topic and its roles.
#[track_caller]
fn names_topic_and_roles(resp: Resp, who: &str) {
    let resp = resp.expect_error(403, "not_approved_responder");
    let message = resp.message();
    assert!(message.contains(TOPIC), "{who}: the message names the topic: {message}");
    assert!(
        message.contains("Dr. Program Management") && message.contains("CEO"),
        "{who}: the message names the approved roles: {message}"
    );
}

async fn only_approved_responders_draft_approve_and_close(app: TestApp) {
    let responders: Vec<&str> =
        policy().responders_of(TOPIC).iter().map(|p| p.id.as_str()).collect();
    assert_eq!(responders, ["jason_blais", "ian_tien"]);
    let case_id = app.submit_case(&topic_post(Some(TOPIC), "answer-1")).await;
    let jason = app.person("jason_blais").await;
    let ian = app.person("ian_tien").await;
    // Responders of other topics only.
    let natalie = app.person("natalie_jew").await;
    let daniel = app.person("daniel_schalla").await;
    let others = [
        ("triager", app.tokens.triager.clone()),
        ("viewer", app.tokens.viewer.clone()),
        ("admin", app.tokens.admin.clone()),
        ("natalie_jew", natalie),
        ("daniel_schalla", daniel),
    ];
    let before = app.written().await;

    // Nobody but an approved responder drafts …
    for (who, token) in &others {
        refused(
            app.draft(token, &case_id, "Thanks for asking! See https://docs.example.org.").await,
            who,
        );
    }
    assert_eq!(app.written().await, before, "refused drafts write nothing");

    // … an approved responder does, and gets the lint findings back.
    let draft = app
        .draft(&jason, &case_id, "Thanks for the question! We'll build it next release.")
        .await
        .expect(201);
    let findings = draft.body["findings"].as_array().expect("findings").clone();
    let rules: Vec<&str> = findings.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"no_false_promises"), "{findings:#?}");
    let promise = findings.iter().find(|f| f["rule"] == "no_false_promises").unwrap();
    assert_eq!(promise["line"], 1);
    assert!(promise["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(draft.body["response"]["state"], "draft");
    assert_eq!(draft.body["response"]["author"], "jason_blais");
    assert_eq!(draft.body["response"]["findings"], Value::Array(findings));
    let rid = draft.body["response"]["id"].as_str().unwrap().to_string();

    // A clean draft has no false-promise finding.
    let clean = app
        .draft(
            &ian,
            &case_id,
            "Thank you for asking! The terms are at https://docs.example.org/license.",
        )
        .await
        .expect(201);
    let rules: Vec<&Value> =
        clean.body["findings"].as_array().unwrap().iter().map(|f| &f["rule"]).collect();
    assert!(!rules.contains(&&Value::from("no_false_promises")), "{rules:?}");

    // Nobody but an approved responder approves …
    let before = app.written().await;
    for (who, token) in &others {
        refused(app.approve(token, &case_id, &rid).await, who);
    }
    assert_eq!(app.written().await, before, "refused approvals write nothing");
    assert_eq!(app.case(&case_id).await["first_response_at"], Value::Null);

    // … the approval of a responder stops the clock.
    app.clock.advance(60_000);
    let approved = app.approve(&ian, &case_id, &rid).await.expect(200);
    assert_eq!(approved.body["response"]["state"], "approved");
    assert_eq!(approved.body["response"]["approved_by"], "ian_tien");
    let case = app.case(&case_id).await;
    assert_eq!(case["first_response_at"], T0 + 60_000);
    let kinds: Vec<&str> =
        case["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"response_drafted") && kinds.contains(&"response_approved"),
        "{kinds:?}"
    );
    app.approve(&ian, &case_id, &rid).await.expect_error(409, "conflict");
    app.approve(&ian, &case_id, "r_unknown").await.expect_error(404, "not_found");

    // Nobody but an approved responder closes …
    let before = app.written().await;
    for (who, token) in &others {
        refused(app.close(token, &case_id, "answered").await, who);
    }
    assert_eq!(app.written().await, before, "refused closes write nothing");
    app.close(&jason, &case_id, "  ").await.expect_error(422, "validation_failed");

    // … a responder does, once.
    let closed = app.close(&jason, &case_id, "answered on the forum").await.expect(200);
    assert_eq!(closed.body["case"]["state"], "closed");
    assert_eq!(closed.body["case"]["close_reason"], "answered on the forum");
    app.close(&ian, &case_id, "again").await.expect_error(409, "conflict");

    // A closed case takes no more drafts, approvals or owners.
    app.draft(&jason, &case_id, "Thanks, one more thing.").await.expect_error(409, "case_closed");
    app.set_owner(&ian, &case_id, None).await.expect_error(409, "case_closed");
    let cases = app.get_cases(&app.tokens.viewer, "state=closed").await.expect(200);
    assert_eq!(cases.body["cases"].as_array().unwrap().len(), 1);
    let cases = app.get_cases(&app.tokens.viewer, "state=open").await.expect(200);
    assert_eq!(cases.body["cases"].as_array().unwrap().len(), 0);
}

/// "Anyone else gets 403 with a message naming the topic and its approved roles" (issue 3):
/// also a triager, a viewer and an admin, whose tokens belong to no person, so they know
/// whom to ask.
async fn every_refused_answer_names_the_topic_and_its_roles(app: TestApp) {
    let case_id = app.submit_case(&topic_post(Some(TOPIC), "refusals-1")).await;
    let jason = app.person("jason_blais").await;
    let draft = app.draft(&jason, &case_id, "Thank you! See https://docs.example.org.").await;
    let rid = draft.expect(201).body["response"]["id"].as_str().unwrap().to_string();
    let callers = [
        ("triager", app.tokens.triager.clone()),
        ("viewer", app.tokens.viewer.clone()),
        ("admin", app.tokens.admin.clone()),
    ];
    let mut wrong = Vec::new();
    for (who, token) in &callers {
        for (what, resp) in [
            ("draft", app.draft(token, &case_id, "Thanks!").await),
            ("approve", app.approve(token, &case_id, &rid).await),
            ("close", app.close(token, &case_id, "done").await),
        ] {
            let ok = resp.status == 403
                && resp.code() == "not_approved_responder"
                && resp.message().contains(TOPIC)
                && resp.message().contains("Dr. Program Management");
            if !ok {
                wrong.push(format!("{what} as {who}: {} {}", resp.status, resp.text));
            }
        }
    }
    assert!(wrong.is_empty(), "refusals that do not name the topic:\n{}", wrong.join("\n"));
}
