//! Configuration deploys: `/partners/customers/{customer_id}/deploy` and `…/deployments`.

use super::customers::{Limit, Offset, ok_offset};
use super::{ApiError, ApiJson, Caller, Query, iso, known_id, ok, unknown_fields};
use crate::kernel::{self, Param};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::ValidationErrors;
use partnerd_domain::deploy::{
    ConfigChanges, Configuration, ConfigurationInput, KeyChanges, Setting, SettingInput, StepInput, TemplateInput,
    WorkflowInput,
};
use partnerd_services::Services;
use partnerd_services::deploys::Deployment;
use partnerd_store::Cursor;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

fn customer_id(id: &str) -> Result<&str, ApiError> {
    known_id("company", id, "Customer")
}

#[derive(ToSchema)]
#[schema(as = WorkflowTrigger)]
#[allow(dead_code)]
enum TriggerName {
    #[schema(rename = "manual")]
    Manual,
    #[schema(rename = "schedule")]
    Schedule,
    #[schema(rename = "contact.created")]
    ContactCreated,
    #[schema(rename = "contact.updated")]
    ContactUpdated,
    #[schema(rename = "message.received")]
    MessageReceived,
    #[schema(rename = "form.submitted")]
    FormSubmitted,
    #[schema(rename = "webhook")]
    Webhook,
}

#[derive(ToSchema)]
#[schema(as = WorkflowStepType, rename_all = "snake_case")]
#[allow(dead_code)]
enum StepTypeName {
    SendEmail,
    SendSms,
    SendWhatsapp,
    Wait,
    Webhook,
}

#[derive(ToSchema)]
#[schema(as = MessageChannel, rename_all = "snake_case")]
#[allow(dead_code)]
enum ChannelName {
    Email,
    Sms,
    Whatsapp,
}

#[derive(ToSchema)]
#[schema(as = DeploymentStatus, rename_all = "snake_case")]
#[allow(dead_code)]
enum StatusName {
    Deployed,
    Superseded,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = WorkflowStepInput)]
pub(super) struct StepBody {
    /// What the step does.
    #[serde(rename = "type")]
    #[schema(required = true, value_type = Option<StepTypeName>)]
    step_type: Option<String>,
    /// `send_email`, `send_sms`, `send_whatsapp` only (required there): the `key` of a template
    /// of this deployment with the step's channel.
    template: Option<String>,
    /// `wait` only (required there): 1–2,592,000 (30 days).
    #[schema(minimum = 1, maximum = 2592000)]
    duration_seconds: Option<i64>,
    /// `webhook` only (required there): an `https` URL to POST to.
    url: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = WorkflowInput)]
pub(super) struct WorkflowBody {
    /// Unique in the deployment: 1–64 of `a-z`, `0-9`, `_`, `-`, starting with a letter or digit.
    #[schema(required = true, max_length = 64)]
    key: Option<String>,
    /// 1–200 characters.
    #[schema(required = true, max_length = 200)]
    name: Option<String>,
    #[schema(required = true, value_type = Option<TriggerName>)]
    trigger: Option<String>,
    /// `true` by default.
    enabled: Option<bool>,
    /// 1–50 steps, run in order.
    #[schema(required = true)]
    steps: Option<Vec<StepBody>>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = MessageTemplateInput)]
pub(super) struct MessageTemplateBody {
    /// Unique in the deployment, as a workflow key.
    #[schema(required = true, max_length = 64)]
    key: Option<String>,
    #[schema(required = true, value_type = Option<ChannelName>)]
    channel: Option<String>,
    /// Email templates only (required there): one line, at most 200 characters.
    #[schema(max_length = 200)]
    subject: Option<String>,
    /// 1–100,000 characters; `{{name}}` placeholders are allowed (any name: they are the
    /// customer platform's contact fields), but a `{{` must be closed.
    #[schema(required = true, max_length = 100000)]
    body: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = DeployInput)]
pub(super) struct DeployBody {
    /// At most 100. Left out: none.
    workflows: Option<Vec<WorkflowBody>>,
    /// At most 100. Left out: none.
    templates: Option<Vec<MessageTemplateBody>>,
    /// At most 200 keys (dot-separated lower-case words, `sso.enabled`) with string (at most
    /// 1,000 characters), integer or boolean values. Left out: none.
    #[schema(value_type = Option<Object>)]
    settings: Option<BTreeMap<String, Value>>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

fn setting(v: Value) -> SettingInput {
    match v {
        Value::Bool(b) => SettingInput::Boolean(b),
        Value::String(s) => SettingInput::Text(s),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SettingInput::Integer(i),
            None => SettingInput::Other("a number that is not a 64-bit integer"),
        },
        Value::Null => SettingInput::Other("null"),
        Value::Array(_) => SettingInput::Other("an array"),
        Value::Object(_) => SettingInput::Other("an object"),
    }
}

/// The domain's input, and the unknown fields of every item named by path.
fn input(b: DeployBody) -> (ConfigurationInput, ValidationErrors) {
    let mut e = unknown_fields(&b.other, &[], "a deployment");
    let workflows = b
        .workflows
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            e.merge_prefixed(&format!("workflows[{i}]."), unknown_fields(&w.other, &[], "a workflow"));
            let steps = w.steps.map(|steps| {
                steps
                    .into_iter()
                    .enumerate()
                    .map(|(j, s)| {
                        e.merge_prefixed(
                            &format!("workflows[{i}].steps[{j}]."),
                            unknown_fields(&s.other, &[], "a step"),
                        );
                        StepInput {
                            step_type: s.step_type,
                            template: s.template,
                            duration_seconds: s.duration_seconds,
                            url: s.url,
                        }
                    })
                    .collect()
            });
            WorkflowInput { key: w.key, name: w.name, trigger: w.trigger, enabled: w.enabled, steps }
        })
        .collect();
    let templates = b
        .templates
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            e.merge_prefixed(&format!("templates[{i}]."), unknown_fields(&t.other, &[], "a template"));
            TemplateInput { key: t.key, channel: t.channel, subject: t.subject, body: t.body }
        })
        .collect();
    let settings = b.settings.unwrap_or_default().into_iter().map(|(k, v)| (k, setting(v))).collect();
    (ConfigurationInput { workflows, templates, settings }, e)
}

#[derive(Serialize, ToSchema)]
#[schema(as = WorkflowStep)]
pub(super) struct StepDto {
    #[serde(rename = "type")]
    #[schema(value_type = StepTypeName)]
    step_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConfiguredWorkflow)]
pub(super) struct Workflow {
    key: String,
    name: String,
    #[schema(value_type = TriggerName)]
    trigger: &'static str,
    enabled: bool,
    steps: Vec<StepDto>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConfiguredMessageTemplate)]
pub(super) struct MessageTemplate {
    key: String,
    #[schema(value_type = ChannelName)]
    channel: &'static str,
    /// Email templates only.
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    body: String,
}

/// The configuration in canonical form: workflows and templates sorted by key.
#[derive(Serialize, ToSchema)]
#[schema(as = CustomerConfiguration)]
pub(super) struct ConfigurationDto {
    workflows: Vec<Workflow>,
    templates: Vec<MessageTemplate>,
    /// String, integer or boolean values by key.
    #[schema(value_type = Object)]
    settings: BTreeMap<String, Value>,
}

fn configuration(c: Configuration) -> ConfigurationDto {
    ConfigurationDto {
        workflows: c
            .workflows
            .into_iter()
            .map(|w| Workflow {
                key: w.key,
                name: w.name,
                trigger: w.trigger.as_str(),
                enabled: w.enabled,
                steps: w
                    .steps
                    .into_iter()
                    .map(|s| StepDto {
                        step_type: s.step_type.as_str(),
                        template: s.template,
                        duration_seconds: s.duration_seconds,
                        url: s.url,
                    })
                    .collect(),
            })
            .collect(),
        templates: c
            .templates
            .into_iter()
            .map(|t| MessageTemplate { key: t.key, channel: t.channel.as_str(), subject: t.subject, body: t.body })
            .collect(),
        settings: c
            .settings
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Setting::Boolean(b) => Value::Bool(b),
                    Setting::Integer(n) => Value::from(n),
                    Setting::Text(s) => Value::String(s),
                };
                (k, v)
            })
            .collect(),
    }
}

/// Keys added, removed and changed, each sorted.
#[derive(Serialize, ToSchema)]
#[schema(as = ConfigurationKeyChanges)]
pub(super) struct KeyChangesDto {
    added: Vec<String>,
    removed: Vec<String>,
    changed: Vec<String>,
}

/// What this version changed against the previous one (the first version adds everything).
#[derive(Serialize, ToSchema)]
#[schema(as = ConfigurationChanges)]
pub(super) struct ChangesDto {
    workflows: KeyChangesDto,
    templates: KeyChangesDto,
    settings: KeyChangesDto,
}

fn keys(k: KeyChanges) -> KeyChangesDto {
    KeyChangesDto { added: k.added, removed: k.removed, changed: k.changed }
}

fn changes(c: ConfigChanges) -> ChangesDto {
    ChangesDto { workflows: keys(c.workflows), templates: keys(c.templates), settings: keys(c.settings) }
}

#[derive(Serialize, ToSchema)]
#[schema(as = CustomerDeployment)]
pub(super) struct DeploymentDto {
    id: String,
    customer_id: String,
    /// 1, 2, 3… per customer.
    version: i64,
    /// `deployed` for the current version, `superseded` for older ones.
    #[schema(value_type = StatusName)]
    status: &'static str,
    /// `sha256:` + the hex SHA-256 of the canonical configuration.
    config_hash: String,
    changes: ChangesDto,
    /// The user whose key deployed it.
    #[schema(required = true)]
    deployed_by: Option<String>,
    #[schema(format = DateTime)]
    deployed_at: String,
    #[schema(format = DateTime, required = true)]
    superseded_at: Option<String>,
    /// Not in lists: read a version for its configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration: Option<ConfigurationDto>,
}

fn deployment(d: Deployment, with_configuration: bool) -> DeploymentDto {
    DeploymentDto {
        id: d.id,
        customer_id: d.customer_id,
        version: d.version,
        status: d.status.as_str(),
        config_hash: d.config_hash,
        changes: changes(d.changes),
        deployed_by: d.deployed_by,
        deployed_at: iso(d.deployed_at),
        superseded_at: d.superseded_at.map(iso),
        configuration: with_configuration.then(|| configuration(d.configuration)),
    }
}

/// Deploy Customer Configuration
///
/// Deploys workflows, message templates and settings to the customer's account as a new
/// numbered version of its configuration. **Decisions**:
/// - **Schema.** `workflows[]`: `key` (unique), `name`, `trigger` (`manual`, `schedule`,
///   `contact.created`, `contact.updated`, `message.received`, `form.submitted`, `webhook`),
///   `enabled` (default `true`), `steps[]` (1–50, in order), each a `type` with its parameters:
///   `send_email` / `send_sms` / `send_whatsapp` need `template` (a key of this deployment's
///   `templates` with that channel), `wait` needs `duration_seconds` (1 s – 30 days), `webhook`
///   needs an `https` `url`; a parameter another type uses is refused. `templates[]`: `key`
///   (unique), `channel` (`email`, `sms`, `whatsapp`), `subject` (email only, required there),
///   `body`. `settings`: scalar values by key. All three may be left out (an empty
///   configuration is a valid version: it removes everything). Every problem is 422 naming its
///   path: `workflows[2].trigger`, `workflows[0].steps[1].template`, `templates[1].body`,
///   `settings.locale`; unknown fields too.
/// - **Versions.** Workflows and templates are keyed sets (their order carries no meaning; they
///   are stored and returned sorted by key). A configuration whose canonical form differs from
///   the current version becomes the next version (1, 2, 3… per customer), `deployed`, and the
///   previous one `superseded`: **201**. Deploying the current configuration again (same
///   `config_hash`) is a no-op answering the current version: **200**. Concurrent deploys get
///   consecutive versions (never two equal ones), each with its changes against the version
///   before it.
/// - `changes` lists the workflow, template and setting keys added, removed and changed.
///   Appends the audit event `configuration.deployed` (not a webhook event).
///
/// A cancelled account's configuration is read-only (422 `customer_id`); another partner's
/// customer is 404.
#[utoipa::path(post, path = "/customers/{customer_id}/deploy", tag = "Deployments",
    params(("customer_id" = String, Path)), request_body = DeployBody,
    responses(
        (status = 201, description = "A new version, now current", body = super::dto::Envelope<DeploymentDto>),
        (status = 200, description = "The configuration is already current: that version, unchanged", body = super::dto::Envelope<DeploymentDto>)))]
pub(super) async fn deploy(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeployBody>,
) -> Result<Response, ApiError> {
    let (config, unknown) = input(body);
    unknown.into_result().map_err(|e| ApiError::validation(&e))?;
    let out = s.deploys().deploy(&who, customer_id(&id)?, config).await?;
    let status = if out.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, ok(deployment(out.deployment, true))).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// 1–100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<Limit>,
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    offset: Option<Offset>,
    /// Beyond the document: `meta.next_cursor` of the previous page, for keyset paging (each
    /// page costs the same at any depth, and rows written meanwhile neither repeat nor vanish).
    /// `offset` is then not used, and `meta.offset` is 0.
    #[param(value_type = Option<String>)]
    cursor: Option<Param<Cursor>>,
}

/// List Customer Deployments
///
/// The customer's configuration versions, newest first, without their configurations (read a
/// version for it); `meta` has `limit`, `offset` and the `total`. Another partner's customer is
/// 404.
///
/// Beyond the document: `cursor` (the previous page's `meta.next_cursor`) pages by keyset
/// instead of `offset`; `meta.next_cursor` is `null` on the last page and `meta.offset` is 0 on
/// a page read by cursor. A cursor holds only the position in the order (keep the filters the
/// same while following it); one that is not this server's, or is of another order, is 422.
#[utoipa::path(get, path = "/customers/{customer_id}/deployments", tag = "Deployments",
    params(("customer_id" = String, Path), ListQuery),
    responses((status = 200, description = "A page of versions", body = super::customers::OffsetEnvelope<DeploymentDto>)))]
pub(super) async fn list(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (limit, offset) = (q.limit.map_or(20, |l| l.0), q.offset.map_or(0, |o| u64::from(o.0)));
    let window = kernel::window(q.cursor, offset);
    let page = s.deploys().list(&who, customer_id(&id)?, &window, limit).await?;
    let items = page.items.into_iter().map(|d| deployment(d, false)).collect();
    Ok(ok_offset(items, limit, &window, page.total, page.next.as_ref()))
}

/// Get Customer Deployment
///
/// One version with its configuration and changes. A version the customer does not have (or
/// that is not a positive integer) is 404, as is another partner's customer.
#[utoipa::path(get, path = "/customers/{customer_id}/deployments/{version}", tag = "Deployments",
    params(("customer_id" = String, Path), ("version" = i64, Path, minimum = 1)),
    responses((status = 200, description = "The version", body = super::dto::Envelope<DeploymentDto>)))]
pub(super) async fn get(
    State(s): State<Services>,
    Caller(who): Caller,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = customer_id(&id)?;
    let version = version.parse::<i64>().ok().filter(|v| *v >= 1).ok_or_else(|| ApiError::not_found("Deployment"))?;
    Ok(ok(deployment(s.deploys().get(&who, id, version).await?, true)))
}
