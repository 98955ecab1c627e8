//! Who is asking: bearer tokens, stored only as SHA-256 hashes, resolved to an [`Actor`];
//! and the one place that checks an actor's role against an [`Action`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// The id a token is listed and revoked by: the start of its hash, so it reveals nothing of
/// the secret.
pub fn token_id(secret: &str) -> String {
    format!("t_{}", &token_hash(secret)[..12])
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
        let hash = token_hash(secret);
        if let Some(actor) = state.tokens().get(&hash) {
            return Ok(Authed(actor));
        }
        let record = state.store().find_token(&hash).await?.ok_or(AppError::Unauthenticated)?;
        let role: AccessRole = record.role.parse().map_err(AppError::internal)?;
        let person = (!record.person.is_empty()).then(|| record.person.clone());
        let label = person.clone().unwrap_or_else(|| format!("token:{}", record.id));
        let actor = Actor { person, role, label };
        state.tokens().put(hash, actor.clone());
        Ok(Authed(actor))
    }
}

/// Tokens recently found in the store, by hash, so that a busy client does not cost a
/// database read per request. An entry is trusted for [`TokenCache::TTL`]: a token revoked
/// in the database stops working within that time. Unknown tokens are never cached, and
/// the cache is emptied when it reaches [`TokenCache::CAPACITY`], so random tokens cannot
/// grow it.
#[derive(Debug)]
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Actor, Instant)>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::with_ttl(Self::TTL)
    }
}

impl TokenCache {
    pub const TTL: Duration = Duration::from_secs(10);
    pub const CAPACITY: usize = 4096;

    fn with_ttl(ttl: Duration) -> Self {
        TokenCache { ttl, entries: Mutex::default() }
    }

    fn get(&self, hash: &str) -> Option<Actor> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (actor, at) = entries.get(hash)?;
        (at.elapsed() < self.ttl).then(|| actor.clone())
    }

    /// Forgets every token, so that one just revoked through this desk stops working at
    /// once (the cache is keyed by hash, which a revocation by id does not know).
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn put(&self, hash: String, actor: Actor) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(hash, (actor, Instant::now()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(label: &str) -> Actor {
        Actor { person: None, role: AccessRole::Admin, label: label.into() }
    }

    #[test]
    fn token_cache_forgets_after_its_ttl_and_stays_bounded() {
        let cache = TokenCache::with_ttl(Duration::from_millis(40));
        assert_eq!(cache.get("h1"), None);
        cache.put("h1".into(), actor("a"));
        assert_eq!(cache.get("h1"), Some(actor("a")));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("h1"), None, "a revoked token must stop working after the TTL");

        let cache = TokenCache::default();
        for i in 0..TokenCache::CAPACITY {
            cache.put(format!("h{i}"), actor("a"));
        }
        assert!(cache.get("h0").is_some());
        cache.put("one more".into(), actor("b"));
        assert_eq!(cache.get("h0"), None, "a full cache starts over");
        assert_eq!(cache.get("one more"), Some(actor("b")));
    }
}
