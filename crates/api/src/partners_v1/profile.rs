//! Partner Profile: `GET /partners/profile`.

use super::dto::Envelope;
use super::{ApiError, Caller, iso, ok};
use axum::extract::State;
use axum::response::Response;
use partnerd_services::Services;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": "partner_3k2j5h6g7f8d9s0a1q2w", "company_name": "Acme Corp", "email": "admin@acme.com",
    "plan": "business", "aws_account_connected": true, "created_at": "2025-01-15T10:30:00Z"
}))]
pub(super) struct Profile {
    /// Partner id (`partner_…`).
    id: String,
    company_name: String,
    #[schema(format = Email)]
    email: String,
    /// `starter`, `business`, `enterprise` or another configured plan.
    plan: String,
    aws_account_connected: bool,
    #[schema(format = DateTime)]
    created_at: String,
}

/// Get Profile
///
/// The authenticated partner's profile. Keys of non-partner companies (the operator) get 403.
#[utoipa::path(get, path = "/profile", tag = "Profile",
    responses((status = 200, description = "The partner", body = Envelope<Profile>)))]
pub(super) async fn get_profile(
    State(services): State<Services>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    let p = services.partners().profile(&caller)?;
    Ok(ok(Profile {
        id: p.id,
        company_name: p.company_name,
        email: p.contact_email,
        plan: p.plan,
        aws_account_connected: p.aws_account_connected,
        created_at: iso(p.created_at),
    }))
}
