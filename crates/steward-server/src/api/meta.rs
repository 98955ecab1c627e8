//! The audit log (admins), the policy in force, health, and the OpenAPI document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use steward_desk::Action;

use super::posts::PageQuery;
use crate::auth::{authorize, Authed};
use crate::error::AppError;
use crate::extract::ApiQuery;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/audit", params(("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, description = "Audit entries, hash-chained"), (status = 403, description = "Admins only")),
    security(("token" = [])))]
pub async fn audit(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ReadAudit)?;
    let entries = state.store().list_audit(q.page()).await?;
    Ok(Json(json!({"entries": entries})))
}

#[utoipa::path(get, path = "/api/v1/audit/verify",
    responses((status = 200, description = "Whether the hash chain is intact"), (status = 403, description = "Admins only")),
    security(("token" = [])))]
pub async fn verify_audit(
    State(state): State<AppState>,
    Authed(actor): Authed,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ReadAudit)?;
    let v = state.store().verify_audit().await?;
    Ok(Json(json!({"verification": v})))
}

#[utoipa::path(get, path = "/api/v1/policy", responses((status = 200, description = "The policy in force")),
    security(("token" = [])))]
pub async fn policy(
    State(state): State<AppState>,
    Authed(actor): Authed,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ReadPolicy)?;
    Ok(Json(json!({"policy": state.policy()})))
}

#[utoipa::path(get, path = "/api/v1/health", responses(
    (status = 200, description = "The desk is up and can read its database: `status` and `database` are `ok`; the outbox counts by status, at most a second old"),
    (status = 503, description = "The desk is up but cannot read its database: `status` is `unavailable`, `database` is `unreachable` and `outbox` is null")))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    // Counting the outbox is the database read: a desk that cannot make it cannot take
    // posts either, so monitoring should see a failure, not "ok".
    let outbox = state.outbox_counts().await;
    let (code, status, database) = match outbox {
        Some(_) => (StatusCode::OK, "ok", "ok"),
        None => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "unreachable"),
    };
    let body = json!({
        "status": status,
        "database": database,
        "policy_version": state.policy().version,
        "outbox": outbox,
    });
    (code, Json(body))
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}
