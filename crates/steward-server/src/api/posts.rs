//! Posts: submit (triage, store, escalate), list, read, relabel.

use axum::extract::{Path, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use steward_desk::Action;
use steward_store::Page;
use utoipa::ToSchema;

use crate::auth::{authorize, Authed};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery};
use crate::intake::{self, PostSubmission};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> Page {
        let d = Page::default();
        Page { limit: self.limit.unwrap_or(d.limit), offset: self.offset.unwrap_or(0) }
    }
}

#[utoipa::path(post, path = "/api/v1/posts", request_body = PostSubmission,
    responses((status = 201, description = "The post, its triage and its case id (null when none); a repeat answers the same with `Idempotent-Replay: true`"),
              (status = 400, description = "Malformed JSON"), (status = 422, description = "Invalid fields")),
    security(("token" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(sub): ApiJson<PostSubmission>,
) -> Result<impl IntoResponse, AppError> {
    authorize(&actor, Action::SubmitPost)?;
    let intake = intake::submit(&state, &actor, sub, None).await?;
    let replay = if intake.created { "false" } else { "true" };
    let body = json!({
        "post": intake.post,
        "triage": intake.post.triage,
        "case_id": intake.case_id,
        "created": intake.created,
    });
    Ok((StatusCode::CREATED, [(HeaderName::from_static("idempotent-replay"), replay)], Json(body)))
}

#[utoipa::path(get, path = "/api/v1/posts", params(("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, description = "Posts, newest first, redacted")), security(("token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ReadPosts)?;
    let posts = state.store().list_posts(q.page()).await?;
    Ok(Json(json!({"posts": posts})))
}

#[utoipa::path(get, path = "/api/v1/posts/{id}", responses((status = 200, description = "The post, redacted"), (status = 404, description = "No such post")),
    security(("token" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ReadPosts)?;
    let post = state.store().get_post(&id).await?;
    Ok(Json(json!({"post": post})))
}

/// The right labels of a post, set by hand; kept for evaluation and training.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelabelRequest {
    /// Sensitive topics the post touches (empty when none).
    #[serde(default)]
    pub topics: Vec<String>,
    /// The non-sensitive kind, required when `topics` is empty.
    pub kind: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/posts/{id}/relabel", request_body = RelabelRequest,
    responses((status = 200, description = "The relabeled post"), (status = 422, description = "Unknown topic or kind")),
    security(("token" = [])))]
pub async fn relabel(
    State(state): State<AppState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RelabelRequest>,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::Relabel)?;
    intake::check_sensitive_topics(&state, &req.topics)?;
    let kind = match (&req.kind, req.topics.is_empty()) {
        (Some(k), true) => match state.policy().topic(k) {
            Some(t) if !t.sensitive => Some(k.clone()),
            _ => return Err(AppError::Validation(format!("`{k}` is not a non-sensitive kind"))),
        },
        (None, true) => {
            return Err(AppError::Validation(
                "give the sensitive `topics`, or the non-sensitive `kind`".into(),
            ))
        }
        (Some(_), false) => {
            return Err(AppError::Validation(
                "a post with sensitive topics has no non-sensitive `kind`".into(),
            ))
        }
        (None, false) => None,
    };
    state.store().relabel_post(&id, req.topics, kind, &actor.label, state.now_ms()).await?;
    let post = state.store().get_post(&id).await?;
    Ok(Json(json!({"post": post})))
}
