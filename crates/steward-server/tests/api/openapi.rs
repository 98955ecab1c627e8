//! The OpenAPI document: public, valid JSON, and listing every `/api/v1` route of the
//! router with its methods (and nothing the router does not serve).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

both!(the_openapi_document_lists_every_route);

/// Every (method, path) of `crates/steward-server/src/api/mod.rs` except the document itself.
const ROUTES: [(&str, &str); 17] = [
    ("post", "/api/v1/posts"),
    ("get", "/api/v1/posts"),
    ("get", "/api/v1/posts/{id}"),
    ("post", "/api/v1/posts/{id}/relabel"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases"),
    ("get", "/api/v1/cases/{id}"),
    ("post", "/api/v1/cases/{id}/owner"),
    ("post", "/api/v1/cases/{id}/responses"),
    ("post", "/api/v1/cases/{id}/responses/{rid}/approve"),
    ("post", "/api/v1/cases/{id}/close"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/audit/verify"),
    ("get", "/api/v1/policy"),
    ("get", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/health"),
];

async fn the_openapi_document_lists_every_route(app: TestApp) {
    let r = app.get("/api/v1/openapi.json", None).await.expect(200);
    let doc: Value = serde_json::from_str(&r.text).expect("the document is JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string());

    let mut listed = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                listed.insert((method.to_string(), path.clone()));
            }
        }
    }
    let routes: BTreeSet<(String, String)> =
        ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(listed, routes, "the document's routes differ from the router's");

    // Every listed route is served (a missing one would be the 404 fallback or a 405), and
    // every route but health needs the bearer token the document declares.
    assert_eq!(doc["components"]["securitySchemes"]["token"]["scheme"], "bearer");
    for (method, path) in &listed {
        let concrete = path.replace("{id}", "x").replace("{rid}", "y");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let got = app.request(method.clone(), &concrete, None, None).await;
        let want = if path == "/api/v1/health" { 200 } else { 401 };
        assert_eq!(got.status, want, "{method} {concrete}: {}", got.text);
        let secured = doc["paths"][path][method.as_str().to_lowercase()]["security"].is_array();
        assert_eq!(secured, want == 401, "{method} {path}: security in the document");
    }
}
