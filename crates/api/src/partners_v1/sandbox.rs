//! Provisioning: `/partners/sandbox…` (Create Sandbox Environment, and the list, read and
//! delete a client needs around it).

use super::dto::Envelope;
use super::{ApiError, ApiJson, Caller, iso, known_id, ok, refuse_unknown_fields};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::sandbox::{MAX_EXPIRY_DAYS, MIN_EXPIRY_DAYS, status_at};
use partnerd_services::Services;
use partnerd_services::sandboxes::{NewSandbox, Seeded};
use partnerd_store::SandboxRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(ToSchema)]
#[schema(as = SandboxStatus, rename_all = "snake_case")]
#[allow(dead_code)]
enum SandboxStatusName {
    Active,
    Expired,
}

#[derive(Deserialize, Default, ToSchema)]
#[schema(as = SandboxInput)]
pub(super) struct CreateBody {
    /// 1–100 characters once trimmed; `Sandbox` by default.
    #[schema(max_length = 100)]
    name: Option<String>,
    /// Whole days from 1 to 30; the server's `sandbox_expiry_days` (7 unless configured) by
    /// default.
    #[schema(minimum = 1, maximum = 30)]
    expires_in_days: Option<i64>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Sandbox {
    /// `sbx_…`: also the id of the sandbox's own marketplace.
    id: String,
    name: String,
    /// `active` until `expires_at`, `expired` from then until it is removed (minutes later).
    #[schema(value_type = SandboxStatusName)]
    status: &'static str,
    /// The demo partner inside the sandbox: what its key acts as, and the `X-Partner-ID` to
    /// send with it.
    partner_id: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SandboxSeeded)]
pub(super) struct SeededCounts {
    customers: u32,
    invoices: u32,
    listings: u32,
    opportunities: u32,
    tickets: u32,
}

#[derive(Serialize, ToSchema)]
pub(super) struct CreatedSandbox {
    /// `sbx_…`: also the id of the sandbox's own marketplace.
    id: String,
    name: String,
    #[schema(value_type = SandboxStatusName)]
    status: &'static str,
    /// The demo partner inside the sandbox (the `X-Partner-ID` to send with its key).
    partner_id: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: String,
    /// The sandbox's API key: shown only in this response, never again.
    api_key: String,
    /// The demo data written into the sandbox.
    demo_data: SeededCounts,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SandboxDeleted)]
pub(super) struct Deleted {
    id: String,
    /// Always `true`.
    deleted: bool,
}

fn sandbox(s: &SandboxRecord, now: chrono::DateTime<chrono::Utc>) -> Sandbox {
    Sandbox {
        id: s.id.clone(),
        name: s.name.clone(),
        status: status_at(s.expires_at, now).as_str(),
        partner_id: s.sandbox_partner_id.clone().unwrap_or_default(),
        created_at: iso(s.created_at),
        expires_at: iso(s.expires_at),
    }
}

fn seeded(s: Seeded) -> SeededCounts {
    SeededCounts {
        customers: s.customers,
        invoices: s.invoices,
        listings: s.listings,
        opportunities: s.opportunities,
        tickets: s.tickets,
    }
}

fn sandbox_id(id: &str) -> Result<&str, ApiError> {
    known_id(partnerd_domain::sandbox::ID_PREFIX, id, "Sandbox")
}

/// Create Sandbox Environment
///
/// Creates an isolated sandbox for testing and demos: a marketplace of its own holding a
/// demo partner (your company's name, e-mail, plan and roles) seeded with realistic data
/// through the same rules as production — three customer accounts with their first invoices
/// and commissions, two listings (one active, one draft), two co-sell opportunities with a
/// second demo partner, and two support tickets. The answer carries the sandbox's **API key,
/// shown only here**. The key works on every surface (`/api/v1/partners`,
/// `/api/appReseller/v1`, `/api/lead/v2`) and sees only the sandbox; production keys never
/// see the sandbox's records, nor it theirs (404 either way).
///
/// **Decisions:** `expires_in_days` is 1–30 (default 7, configurable with
/// `sandbox_expiry_days`); at `expires_at` the key stops working at once and `partnerd serve`
/// removes the sandbox with everything in it within a minute. A partner holds at most 10
/// sandboxes (422 naming `request`). A sandbox's own key may not create sandboxes (403). Seeding
/// is all or nothing: a failed seed leaves no sandbox. Appends `sandbox.created` (a partnerd
/// addition to the webhook catalog) to your marketplace.
#[utoipa::path(post, path = "/sandbox", tag = "Provisioning", request_body = CreateBody,
    responses((status = 201, description = "The sandbox, its API key (shown once) and what was seeded",
        body = Envelope<CreatedSandbox>)))]
pub(super) async fn create(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown_fields(&body.other, &[], "a sandbox")?;
    let input = NewSandbox { name: body.name, expires_in_days: body.expires_in_days };
    let created = s.sandboxes().create(&who, input).await?;
    let shown = sandbox(&created.sandbox, s.now());
    let data = CreatedSandbox {
        id: shown.id,
        name: shown.name,
        status: shown.status,
        partner_id: shown.partner_id,
        created_at: shown.created_at,
        expires_at: shown.expires_at,
        api_key: created.api_key,
        demo_data: seeded(created.seeded),
    };
    Ok((StatusCode::CREATED, ok(data)).into_response())
}

/// List Sandboxes
///
/// Your sandboxes, newest first (at most 10, so unpaged); keys are not shown again. A
/// sandbox's own key has none.
#[utoipa::path(get, path = "/sandbox", tag = "Provisioning",
    responses((status = 200, description = "Sandboxes", body = Envelope<Vec<Sandbox>>)))]
pub(super) async fn list(State(s): State<Services>, Caller(who): Caller) -> Result<Response, ApiError> {
    let now = s.now();
    let rows = s.sandboxes().list(&who).await?;
    Ok(ok(rows.iter().map(|r| sandbox(r, now)).collect::<Vec<_>>()))
}

/// Get Sandbox
///
/// One of your sandboxes; another partner's, or one removed, is 404.
#[utoipa::path(get, path = "/sandbox/{sandbox_id}", tag = "Provisioning", params(("sandbox_id" = String, Path)),
    responses((status = 200, description = "The sandbox", body = Envelope<Sandbox>)))]
pub(super) async fn get(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = s.sandboxes().get(&who, sandbox_id(&id)?).await?;
    Ok(ok(sandbox(&row, s.now())))
}

/// Delete Sandbox
///
/// Removes the sandbox and every record in it, in one transaction; its key stops working at
/// once. **Decision:** answered like `DELETE /webhooks/{id}` (200 with `{id, deleted}`), the
/// surface's convention for deletes. Another partner's sandbox is 404. Appends
/// `sandbox.deleted` (`reason` `deleted`; the sweep appends it with `expired`).
#[utoipa::path(delete, path = "/sandbox/{sandbox_id}", tag = "Provisioning", params(("sandbox_id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<Deleted>)))]
pub(super) async fn delete(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.sandboxes().delete(&who, sandbox_id(&id)?).await?;
    Ok(ok(Deleted { id, deleted: true }))
}

const _: () = assert!(MIN_EXPIRY_DAYS == 1 && MAX_EXPIRY_DAYS == 30, "the schema's bounds above");
