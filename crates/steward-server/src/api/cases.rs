//! Cases: escalate by hand, list, read, ownership, responses, approval, closing. Answering
//! a case is for its approved responders only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use steward_desk::access::permits;
use steward_desk::case::{may_answer, may_own, ResolvedPerson};
use steward_desk::{AccessRole, Action, Actor, Refusal};
use steward_store::{CaseFilter, CaseRecord, NewResponse};
use utoipa::ToSchema;

use super::posts::PageQuery;
use crate::auth::{authorize, Authed};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery};
use crate::intake::{self, new_id, PostSubmission};
use crate::state::AppState;

/// Escalate by hand: a stored post, or a URL and its text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseEscalation {
    pub post_id: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    pub text: Option<String>,
    /// Where the post is (`manual` when absent).
    pub source: Option<String>,
    pub author: Option<String>,
    /// Sensitive topics; triage's when absent.
    #[serde(default)]
    pub topics: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/cases", request_body = CaseEscalation,
    responses((status = 201, description = "The case id (an existing open case of the same thread when there is one)"),
              (status = 422, description = "Nothing to escalate, or no sensitive topic")),
    security(("token" = [])))]
pub async fn escalate(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(req): ApiJson<CaseEscalation>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    authorize(&actor, Action::Escalate)?;
    let (case_id, post_id) = match (&req.post_id, &req.url) {
        (Some(post_id), None) => {
            let post = state.store().get_post(post_id).await?;
            (intake::escalate_post(&state, &actor, &post, req.topics).await?, post.id)
        }
        (None, Some(url)) => {
            let sub = PostSubmission {
                source: req.source.unwrap_or_else(|| "manual".into()),
                external_id: url.clone(),
                url: Some(url.clone()),
                author: req.author,
                title: req.title.unwrap_or_default(),
                body: req.text.unwrap_or_default(),
                thread: Some(url.clone()),
            };
            let topics = req.topics.clone();
            let intake = intake::submit(&state, &actor, sub, Some(topics.clone())).await?;
            let case_id = match intake.case_id {
                Some(id) => id,
                None => intake::escalate_post(&state, &actor, &intake.post, topics).await?,
            };
            (case_id, intake.post.id)
        }
        _ => {
            return Err(AppError::Validation(
                "give either `post_id`, or `url` with the post's `text`".into(),
            ))
        }
    };
    Ok((StatusCode::CREATED, Json(json!({"case_id": case_id, "post_id": post_id}))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    pub topic: Option<String>,
    pub state: Option<String>,
    pub owner: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/cases",
    params(("topic" = Option<String>, Query), ("state" = Option<String>, Query, description = "open or closed"),
           ("owner" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, description = "Cases, newest first")), security(("token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ReadCases)?;
    if let Some(s) = &q.state {
        if s != "open" && s != "closed" {
            return Err(AppError::BadRequest(format!(
                "state `{s}` is neither `open` nor `closed`"
            )));
        }
    }
    let page = PageQuery { limit: q.limit, offset: q.offset }.page();
    let filter = CaseFilter { topic: q.topic, state: q.state, owner: q.owner };
    let cases = state.store().list_cases(filter, page).await?;
    Ok(Json(json!({"cases": cases})))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}",
    responses((status = 200, description = "The case: posts (redacted), topics, evidence, policy version, responders and loop-ins as resolved at escalation, owner, timeline, responses, deliveries"),
              (status = 404, description = "No such case")),
    security(("token" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ReadCases)?;
    let case = state.store().get_case(&id).await?;
    Ok(Json(json!({"case": case})))
}

fn responders(case: &CaseRecord) -> Result<Vec<ResolvedPerson>, AppError> {
    serde_json::from_value(case.responders.clone()).map_err(AppError::internal)
}

/// The permission check for drafting, approving and closing: the role must be allowed to
/// answer at all (the `permits` table), and the person must be an approved responder of the
/// case. Either refusal names the case's topics and approved roles.
fn answerer(actor: &Actor, case: &CaseRecord, action: &'static str) -> Result<(), AppError> {
    let person = actor.person.as_deref().filter(|_| permits(actor.role, Action::Answer));
    may_answer(&responders(case)?, &case.topics, person, action)?;
    Ok(())
}

fn open(case: &CaseRecord) -> Result<(), AppError> {
    if case.state == "closed" {
        return Err(AppError::NotApproved(Refusal::Closed));
    }
    Ok(())
}

/// Take ownership (no `owner`) or hand it to another approved responder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerRequest {
    pub owner: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/owner", request_body = OwnerRequest,
    responses((status = 200, description = "The case with its new owner"),
              (status = 403, description = "Not an approved responder of the case's topics")),
    security(("token" = [])))]
pub async fn owner(
    State(state): State<AppState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<OwnerRequest>,
) -> Result<Json<serde_json::Value>, AppError> {
    authorize(&actor, Action::ChangeOwner)?;
    let case = state.store().get_case(&id).await?;
    open(&case)?;
    let people = responders(&case)?;
    // Admins may assign; everyone else must be an approved responder of the case.
    if actor.role != AccessRole::Admin {
        may_answer(&people, &case.topics, actor.person.as_deref(), "take or hand over ownership")?;
    }
    let new_owner = match (req.owner, &actor.person) {
        (Some(o), _) => o,
        (None, Some(me)) => me.clone(),
        (None, None) => return Err(AppError::Validation("name the new `owner`".into())),
    };
    may_own(&people, &case.topics, &new_owner)?;
    let case = state.store().set_owner(&id, &new_owner, &actor.label, state.now_ms()).await?;
    Ok(Json(json!({"case": case})))
}

/// A draft response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/responses", request_body = DraftRequest,
    responses((status = 201, description = "The draft and its response-lint findings"),
              (status = 403, description = "Not an approved responder of the case's topics")),
    security(("token" = [])))]
pub async fn draft(
    State(state): State<AppState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DraftRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let case = state.store().get_case(&id).await?;
    answerer(&actor, &case, "respond")?;
    open(&case)?;
    if req.body.trim().is_empty() {
        return Err(AppError::Validation("the response `body` is empty".into()));
    }
    let findings = state.linter().check(&req.body);
    let findings = serde_json::to_value(&findings).map_err(AppError::internal)?;
    let new = NewResponse {
        id: new_id("r"),
        author: actor.person.clone().unwrap_or_default(),
        body: req.body,
        findings: findings.clone(),
    };
    let response = state.store().add_response(&id, new, state.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(json!({"response": response, "findings": findings}))))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/responses/{rid}/approve",
    responses((status = 200, description = "The approved response; the first approval stops the first-response clock"),
              (status = 403, description = "Not an approved responder of the case's topics")),
    security(("token" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    Authed(actor): Authed,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, AppError> {
    let case = state.store().get_case(&id).await?;
    answerer(&actor, &case, "approve a response")?;
    open(&case)?;
    let approver = actor.person.clone().unwrap_or_default();
    let response = state.store().approve_response(&id, &rid, &approver, state.now_ms()).await?;
    Ok(Json(json!({"response": response})))
}

/// Why the case is closed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/close", request_body = CloseRequest,
    responses((status = 200, description = "The closed case"), (status = 409, description = "Already closed"),
              (status = 403, description = "Not an approved responder of the case's topics")),
    security(("token" = [])))]
pub async fn close(
    State(state): State<AppState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CloseRequest>,
) -> Result<Json<serde_json::Value>, AppError> {
    let case = state.store().get_case(&id).await?;
    answerer(&actor, &case, "close")?;
    if req.reason.trim().is_empty() {
        return Err(AppError::Validation("give the `reason` for closing".into()));
    }
    let case = state.store().close_case(&id, &req.reason, &actor.label, state.now_ms()).await?;
    Ok(Json(json!({"case": case})))
}
