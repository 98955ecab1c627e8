//! Tokens through the API (admins): the list shows what is in use and never a secret or its
//! hash; a revoked token is refused at once by the desk that revoked it (even one it had
//! just accepted, so cached), revoking again is a 404, and the audit log says who did it.

use reqwest::Method;
use serde_json::Value;
use steward_server::auth::token_hash;

use crate::helpers::*;

both!(admins_list_and_revoke_tokens);

async fn admins_list_and_revoke_tokens(app: TestApp) {
    let natalie = app.person("natalie_jew").await;
    let natalie_id = token_id(&natalie);
    // Natalie's token works, and the desk now remembers it.
    app.get("/api/v1/cases", Some(&natalie)).await.expect(200);

    let listed = app.get("/api/v1/tokens", Some(&app.tokens.admin)).await.expect(200);
    let tokens = listed.body["tokens"].as_array().expect("a list of tokens").clone();
    let ids: Vec<&str> = tokens.iter().filter_map(|t| t["id"].as_str()).collect();
    for secret in [&app.tokens.admin, &app.tokens.triager, &app.tokens.viewer, &natalie] {
        assert!(ids.contains(&token_id(secret).as_str()), "{ids:?}");
    }
    let natalies: Vec<&Value> = tokens.iter().filter(|t| t["id"] == natalie_id.as_str()).collect();
    assert_eq!(natalies.len(), 1);
    assert_eq!(natalies[0]["person"], "natalie_jew");
    assert_eq!(natalies[0]["role"], "responder");
    for secret in [&app.tokens.admin, &natalie] {
        assert!(!listed.text.contains(secret.as_str()), "a secret in the list");
        assert!(!listed.text.contains(&token_hash(secret)), "a hash in the list");
    }

    let path = format!("/api/v1/tokens/{natalie_id}");
    let revoked = app.request(Method::DELETE, &path, Some(&app.tokens.admin), None).await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    // Refused at once, though the desk had it cached a moment ago.
    app.get("/api/v1/cases", Some(&natalie)).await.expect_error(401, "unauthenticated");
    // The other tokens still work.
    app.get("/api/v1/cases", Some(&app.tokens.viewer)).await.expect(200);
    let listed = app.get("/api/v1/tokens", Some(&app.tokens.admin)).await.expect(200);
    assert!(!listed.text.contains(&natalie_id), "{}", listed.text);

    // Again, or a token that never was: 404, nothing changes.
    for id in [natalie_id.as_str(), "t_000000000000"] {
        let again = app
            .request(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&app.tokens.admin), None)
            .await;
        assert_eq!((again.status, again.code()), (404, "not_found"), "{}", again.text);
    }

    // The audit log keeps who revoked which token.
    let entries = app.audit(&app.tokens.admin).await.expect(200).body["entries"].clone();
    let revocations: Vec<&Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "token.revoke" && e["subject"] == natalie_id.as_str())
        .collect();
    assert_eq!(revocations.len(), 1, "{entries:#}");
    // The admin token has no person: it is named by its id.
    let admin = format!("token:{}", token_id(&app.tokens.admin));
    assert_eq!(revocations[0]["actor"], admin.as_str(), "{entries:#}");
}
