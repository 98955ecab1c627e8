//! Ownership of a case: the default owner, taking and handing over ownership among the
//! approved responders of the case's topics, admins assigning, and refusals for everyone
//! else, with the change on the timeline and in the audit log.

use serde_json::{json, Value};

use crate::helpers::*;

both!(ownership_moves_only_between_approved_responders);

/// The topic of these stories and its approved responders in the example policy, in order.
const TOPIC: &str = "privacy_telemetry";

async fn ownership_moves_only_between_approved_responders(app: TestApp) {
    let responders: Vec<&str> =
        policy().responders_of(TOPIC).iter().map(|p| p.id.as_str()).collect();
    assert_eq!(responders, ["jason_blais", "katie_wiersgalla", "corey_hulen", "ian_tien"]);
    // Natalie holds only VP HR, a role of another topic (workplace).
    assert!(!policy().is_approved_responder("natalie_jew", TOPIC));
    assert!(policy().is_approved_responder("natalie_jew", "workplace"));

    let case_id = app.submit_case(&topic_post(Some(TOPIC), "own-1")).await;
    assert_eq!(app.case(&case_id).await["owner"], "jason_blais", "the first responder owns it");

    // Another approved responder takes it.
    let katie = app.person("katie_wiersgalla").await;
    let taken = app.set_owner(&katie, &case_id, None).await.expect(200);
    assert_eq!(taken.body["case"]["owner"], "katie_wiersgalla");
    let case = app.case(&case_id).await;
    assert_eq!(case["owner"], "katie_wiersgalla");
    let changes: Vec<&Value> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "owner_changed")
        .collect();
    assert_eq!(changes.len(), 1, "{case:#}");
    assert_eq!(changes[0]["actor"], "katie_wiersgalla");
    assert_eq!(changes[0]["detail"], json!({"before": "jason_blais", "after": "katie_wiersgalla"}));

    // The audit log (admins only) keeps who, what, before and after.
    let entries = app.audit(&app.tokens.admin).await.expect(200).body["entries"].clone();
    let owner_changes: Vec<&Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "case.owner" && e["subject"] == case_id.as_str())
        .collect();
    assert_eq!(owner_changes.len(), 1, "{entries:#}");
    assert_eq!(owner_changes[0]["actor"], "katie_wiersgalla");
    assert_eq!(owner_changes[0]["before"], json!({"owner": "jason_blais"}));
    assert_eq!(owner_changes[0]["after"], json!({"owner": "katie_wiersgalla"}));
    assert_eq!(owner_changes[0]["at"], T0);
    app.audit(&katie).await.expect_error(403, "forbidden");

    // She hands it to another approved responder.
    let handed = app.set_owner(&katie, &case_id, Some("corey_hulen")).await.expect(200);
    assert_eq!(handed.body["case"]["owner"], "corey_hulen");

    // Someone holding only another topic's role may neither take it …
    let natalie = app.person("natalie_jew").await;
    let refused = app.set_owner(&natalie, &case_id, None).await;
    let refused = refused.expect_error(403, "not_approved_responder");
    let message = refused.message();
    assert!(message.contains(TOPIC), "{message}");
    for role in ["Dr. Program Management", "Lead PM", "CTO", "CEO"] {
        assert!(message.contains(role), "the message names the approved role {role}: {message}");
    }
    // … nor hand it to herself or anyone.
    app.set_owner(&natalie, &case_id, Some("natalie_jew"))
        .await
        .expect_error(403, "not_approved_responder");
    app.set_owner(&natalie, &case_id, Some("ian_tien"))
        .await
        .expect_error(403, "not_approved_responder");

    // An approved responder cannot hand it to someone who is not approved.
    let corey = app.person("corey_hulen").await;
    let refused = app.set_owner(&corey, &case_id, Some("natalie_jew")).await;
    let refused = refused.expect_error(403, "not_approved_responder");
    assert!(refused.message().contains("natalie_jew"), "{}", refused.message());
    assert!(refused.message().contains(TOPIC), "{}", refused.message());
    app.set_owner(&corey, &case_id, Some("no_such_person"))
        .await
        .expect_error(403, "not_approved_responder");

    // Admins assign, but only to approved responders; triagers and viewers do not.
    app.set_owner(&app.tokens.admin, &case_id, Some("ian_tien")).await.expect(200);
    app.set_owner(&app.tokens.admin, &case_id, Some("natalie_jew"))
        .await
        .expect_error(403, "not_approved_responder");
    app.set_owner(&app.tokens.triager, &case_id, Some("jason_blais")).await.expect(403);
    app.set_owner(&app.tokens.viewer, &case_id, Some("jason_blais")).await.expect(403);

    // None of the refusals changed anything.
    let case = app.case(&case_id).await;
    assert_eq!(case["owner"], "ian_tien");
    let owners: Vec<&Value> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "owner_changed")
        .map(|e| &e["detail"]["after"])
        .collect();
    assert_eq!(owners, ["katie_wiersgalla", "corey_hulen", "ian_tien"]);

    // Owned cases are found by owner.
    let listed = app.get_cases(&app.tokens.viewer, "owner=ian_tien").await.expect(200);
    let ids: Vec<&Value> =
        listed.body["cases"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
    assert_eq!(ids, [&json!(case_id)]);
    let listed = app.get_cases(&app.tokens.viewer, "owner=jason_blais").await.expect(200);
    assert_eq!(listed.body["cases"], json!([]));
}
