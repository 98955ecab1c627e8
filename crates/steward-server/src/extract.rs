//! Extractors whose rejections speak the API's error format: a JSON body (malformed JSON,
//! wrong types, missing or unknown fields, oversized bodies) and query strings.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::state::AppState;

/// `axum::Json` with rejections mapped to [`AppError`].
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonSyntaxError(e) => {
                    AppError::InvalidJson(format!("malformed JSON: {}", source_text(&e)))
                }
                JsonRejection::JsonDataError(e) => {
                    AppError::Validation(format!("invalid request body: {}", source_text(&e)))
                }
                JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
                JsonRejection::BytesRejection(_) => {
                    AppError::PayloadTooLarge(state.settings().max_body_bytes)
                }
                other => AppError::BadRequest(other.body_text()),
            }),
        }
    }
}

/// The innermost cause: serde's message with its line and column, or field path.
fn source_text(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// `axum::extract::Query` with rejections mapped to [`AppError`].
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| AppError::BadRequest(e.body_text()))
    }
}
