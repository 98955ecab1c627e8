//! API tokens (admins): the tokens in use, and revoking one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use steward_desk::Action;

use crate::auth::{authorize, Authed};
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/tokens",
    responses((status = 200, description = "The tokens in use, oldest first: id, person, role, label, created_at (never a secret or its hash)"),
        (status = 403, description = "Admins only")),
    security(("token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authed(actor): Authed,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ManageTokens)?;
    let tokens = state.store().list_tokens().await?;
    Ok(Json(json!({"tokens": tokens})))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}",
    params(("id" = String, Path, description = "The token's id, `t_…` (not its secret)")),
    responses((status = 204, description = "Revoked: this desk refuses it from now on, other desks on the same database within 10 s"),
        (status = 403, description = "Admins only"),
        (status = 404, description = "No token with this id in use")),
    security(("token" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    authorize(&actor, Action::ManageTokens)?;
    state.store().revoke_token(&id, &actor.label, state.now_ms()).await?;
    state.tokens().clear();
    Ok(StatusCode::NO_CONTENT)
}
