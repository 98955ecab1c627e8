//! Who is asking: bearer tokens, stored only as SHA-256 hashes, resolved to an [`Actor`];
//! and the one place that checks an actor's role against an [`Action`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};
use steward_desk::access::{permits, Action, Actor};
use steward_desk::AccessRole;

use crate::error::AppError;
use crate::state::AppState;

/// The authenticated actor of a request.
pub struct Authed(pub Actor);

/// A new secret token: `stw_` and 40 random alphanumerics.
pub fn new_token_secret() -> String {
    let tail: String =
        rand::thread_rng().sample_iter(&Alphanumeric).take(40).map(char::from).collect();
    format!("stw_{tail}")
}

/// The stored form of a token. Tokens are long random strings, so a fast hash is enough;
/// lookups are by hash, so the secret itself is never compared.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AppError::Unauthenticated)?;
        let secret = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(AppError::Unauthenticated)?;
        let record = state
            .store()
            .find_token(&token_hash(secret))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let role: AccessRole = record.role.parse().map_err(AppError::internal)?;
        let person = (!record.person.is_empty()).then(|| record.person.clone());
        let label = person.clone().unwrap_or_else(|| format!("token:{}", record.id));
        Ok(Authed(Actor { person, role, label }))
    }
}

/// Refuses the action unless the actor's role permits it.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), AppError> {
    if permits(actor.role, action) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("the {} role may not do this ({action:?})", actor.role)))
    }
}
