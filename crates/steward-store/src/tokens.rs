//! API tokens: stored as the hex SHA-256 of the secret, never the secret itself; looked up
//! by that hash; revoked rather than deleted.

use serde_json::json;

use crate::{audit, rows, NewAudit, NewToken, Row, Store, StoreError, TokenRecord};

fn token_record(row: &Row) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: rows::text(row, "id")?,
        person: rows::text(row, "person")?,
        role: rows::text(row, "role")?,
        label: rows::text(row, "label")?,
        created_at: rows::int(row, "created_at")?,
    })
}

impl Store {
    /// Stores a token. A duplicate id or hash is a `Conflict`.
    #[tracing::instrument(skip_all, fields(token_id = %new.id, person = %new.person, role = %new.role))]
    pub async fn create_token(&self, new: NewToken, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tokens (id, person, role, hash, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&new.id)
        .bind(&new.person)
        .bind(&new.role)
        .bind(&new.hash)
        .bind(&new.label)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("token {}", new.id)))?;
        audit::append_in_tx(
            &mut tx,
            &NewAudit {
                actor: new.person.clone(),
                action: "token.create".into(),
                subject: new.id.clone(),
                before: None,
                after: Some(json!({"person": new.person, "role": new.role, "label": new.label})),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unrevoked token with this hash.
    #[tracing::instrument(skip_all)]
    pub async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(
            "SELECT id, person, role, label, created_at FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.reader)
        .await?
        .as_ref()
        .map(token_record)
        .transpose()
    }

    /// Tokens ever created, revoked ones included, so "first start" means exactly that.
    #[tracing::instrument(skip_all)]
    pub async fn count_tokens(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tokens").fetch_one(&self.reader).await?)
    }

    /// Unrevoked tokens, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        sqlx::query(
            "SELECT id, person, role, label, created_at FROM tokens WHERE revoked_at IS NULL ORDER BY created_at, id",
        )
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(token_record)
        .collect()
    }

    /// Revokes a token; `NotFound` when there is no unrevoked token with this id.
    #[tracing::instrument(skip_all, fields(token_id = %id, actor = %actor))]
    pub async fn revoke_token(&self, id: &str, actor: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let revoked =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if revoked == 0 {
            return Err(StoreError::not_found("token", id));
        }
        audit::append_in_tx(
            &mut tx,
            &NewAudit {
                actor: actor.into(),
                action: "token.revoke".into(),
                subject: id.into(),
                before: Some(json!({"revoked": false})),
                after: Some(json!({"revoked": true})),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
