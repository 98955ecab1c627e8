//! Routes of `/api/v1` and the fallbacks, so that every answer, even to an unknown path,
//! is JSON in the API's error format.

pub(crate) mod cases;
pub(crate) mod meta;
pub(crate) mod posts;
pub(crate) mod tokens;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::state::AppState;

pub use cases::{CaseEscalation, CloseRequest, DraftRequest, OwnerRequest};
pub use posts::RelabelRequest;

pub fn routes(state: AppState) -> Router {
    let limit = state.settings().max_body_bytes;
    let api = Router::new()
        .route("/posts", post(posts::submit).get(posts::list))
        .route("/posts/{id}", get(posts::get))
        .route("/posts/{id}/relabel", post(posts::relabel))
        .route("/cases", post(cases::escalate).get(cases::list))
        .route("/cases/{id}", get(cases::get))
        .route("/cases/{id}/owner", post(cases::owner))
        .route("/cases/{id}/responses", post(cases::draft))
        .route("/cases/{id}/responses/{rid}/approve", post(cases::approve))
        .route("/cases/{id}/close", post(cases::close))
        .route("/audit", get(meta::audit))
        .route("/audit/verify", get(meta::verify_audit))
        .route("/policy", get(meta::policy))
        .route("/tokens", get(tokens::list))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/openapi.json", get(meta::openapi))
        .route("/health", get(meta::health))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed });
    Router::new()
        .nest("/api/v1", api)
        .fallback(|| async { AppError::NotFound("no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
