//! The OpenAPI document of `/api/v1`, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "Steward", description = "The community escalation desk's JSON API. Errors are `{\"error\": {\"code\", \"message\"}}`."),
    paths(
        api::posts::submit, api::posts::list, api::posts::get, api::posts::relabel,
        api::cases::escalate, api::cases::list, api::cases::get, api::cases::owner,
        api::cases::draft, api::cases::approve, api::cases::close,
        api::meta::audit, api::meta::verify_audit, api::meta::policy, api::meta::health,
        api::tokens::list, api::tokens::revoke,
    ),
    components(schemas(
        crate::intake::PostSubmission, api::RelabelRequest, api::CaseEscalation,
        api::OwnerRequest, api::DraftRequest, api::CloseRequest,
    )),
    modifiers(&BearerToken)
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
