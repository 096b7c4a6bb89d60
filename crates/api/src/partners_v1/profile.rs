//! Partner Profile: `GET /partners/profile`.

use super::{ApiError, Caller, iso, ok};
use axum::extract::State;
use axum::response::Response;
use partnerd_services::Services;
use serde::Serialize;

#[derive(Serialize)]
struct Profile {
    id: String,
    company_name: String,
    email: String,
    plan: String,
    aws_account_connected: bool,
    created_at: String,
}

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
