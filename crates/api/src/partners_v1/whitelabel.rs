//! White-label: `/partners/customers/{customer_id}/branding` and `…/email-templates`.

use super::{ApiError, ApiJson, Caller, JsonOrEmpty, iso, known_id, ok, unknown_fields};
use axum::extract::{Path, State};
use axum::response::Response;
use partnerd_domain::ValidationErrors;
use partnerd_domain::email_template::TemplateName;
use partnerd_services::Services;
use partnerd_services::whitelabel::{BrandingInput, BrandingView, Preview, TemplateInput, TemplateView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

fn customer_id(id: &str) -> Result<&str, ApiError> {
    known_id("company", id, "Customer")
}

#[derive(Deserialize, ToSchema)]
#[schema(as = BrandingInput)]
pub(super) struct BrandingBody {
    /// An absolute `https` URL (at most 2048 characters, no user or password). Left out or
    /// `null`: no logo.
    #[schema(max_length = 2048)]
    logo_url: Option<String>,
    /// `#rgb` or `#rrggbb` (hexadecimal), stored in lower case. Left out or `null`: `#2563eb`.
    #[schema(example = "#007bff")]
    primary_color: Option<String>,
    /// As `primary_color`. Left out or `null`: `#64748b`.
    #[schema(example = "#6c757d")]
    secondary_color: Option<String>,
    /// A host name (`app.partner.com`): ASCII labels of letters, digits and hyphens, at least
    /// two, at most 253 characters; no scheme, port, path, trailing dot or IP address;
    /// internationalised names in their `xn--` form. Stored in lower case. Unique in the
    /// marketplace. Left out or `null`: none.
    #[schema(example = "app.partner.com", max_length = 253)]
    custom_domain: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

/// Fields of a GET a client may echo back; ignored on writes.
const BRANDING_READ_ONLY: &[&str] = &["customer_id", "customized", "updated_at"];

#[derive(Serialize, ToSchema)]
pub(super) struct Branding {
    customer_id: String,
    #[schema(required = true)]
    logo_url: Option<String>,
    primary_color: String,
    secondary_color: String,
    #[schema(required = true)]
    custom_domain: Option<String>,
    /// `false` until the branding is first set: the values shown are then the defaults.
    customized: bool,
    #[schema(format = DateTime, required = true)]
    updated_at: Option<String>,
}

fn branding(v: BrandingView) -> Branding {
    Branding {
        customer_id: v.customer_id,
        logo_url: v.branding.logo_url,
        primary_color: v.branding.primary_color,
        secondary_color: v.branding.secondary_color,
        custom_domain: v.branding.custom_domain,
        customized: v.customized,
        updated_at: v.updated_at.map(iso),
    }
}

/// Custom Branding
///
/// Sets the customer's white-label branding. **Decision**: the body is the whole branding
/// (`POST` replaces it): a field left out or `null` takes its default (no logo, primary
/// `#2563eb`, secondary `#64748b`, no custom domain). Answers **200** with the branding as
/// stored, the first time as every later time. Colours are stored in lower case, the custom
/// domain in lower case. A `custom_domain` another customer of the marketplace uses is **422**
/// naming `custom_domain` (a validation error, like every other refusal of the value). Saving
/// the same branding again changes nothing. Appends the audit event `branding.updated` (not a
/// webhook event). A cancelled account's branding is read-only (422 `customer_id`); another
/// partner's customer is 404.
#[utoipa::path(post, path = "/customers/{customer_id}/branding", tag = "White-label",
    params(("customer_id" = String, Path)), request_body = BrandingBody,
    responses((status = 200, description = "The branding as stored", body = super::dto::Envelope<Branding>)))]
pub(super) async fn set_branding(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BrandingBody>,
) -> Result<Response, ApiError> {
    unknown_fields(&body.other, BRANDING_READ_ONLY, "a branding")
        .into_result()
        .map_err(|e| ApiError::validation(&e))?;
    let input = BrandingInput {
        logo_url: body.logo_url,
        primary_color: body.primary_color,
        secondary_color: body.secondary_color,
        custom_domain: body.custom_domain,
    };
    Ok(ok(branding(s.whitelabel().set_branding(&who, customer_id(&id)?, input).await?)))
}

/// Get Custom Branding
///
/// The customer's branding. **Decision**: a customer whose branding was never set answers
/// **200** with the defaults and `customized: false` (not 404), so a client can always render
/// with what this returns. Another partner's customer is 404.
#[utoipa::path(get, path = "/customers/{customer_id}/branding", tag = "White-label",
    params(("customer_id" = String, Path)),
    responses((status = 200, description = "The branding, or the defaults", body = super::dto::Envelope<Branding>)))]
pub(super) async fn get_branding(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(branding(s.whitelabel().branding(&who, customer_id(&id)?).await?)))
}

#[derive(ToSchema)]
#[schema(as = EmailTemplateName, rename_all = "snake_case")]
#[allow(dead_code)]
enum TemplateNameSchema {
    Welcome,
    PasswordReset,
    Invoice,
    PaymentFailed,
    PlanChanged,
    SubscriptionCancelled,
}

#[derive(Deserialize, ToSchema, Default)]
#[schema(as = EmailTemplateInput)]
pub(super) struct TemplateBody {
    /// One line, at most 200 characters.
    #[schema(required = true, max_length = 200)]
    subject: Option<String>,
    /// The HTML body, at most 100,000 characters. Placeholder values are HTML-escaped when
    /// rendered.
    #[schema(required = true, max_length = 100000)]
    html: Option<String>,
    /// The plain-text body, at most 100,000 characters.
    #[schema(required = true, max_length = 100000)]
    text: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = EmailTemplatesInput)]
pub(super) struct TemplatesBody {
    /// The customised templates by name (`welcome`, `password_reset`, `invoice`,
    /// `payment_failed`, `plan_changed`, `subscription_cancelled`); `{}` resets them all.
    #[schema(required = true)]
    templates: Option<BTreeMap<String, TemplateBody>>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

const TEMPLATE_READ_ONLY: &[&str] = &["name", "customized", "placeholders", "updated_at"];

#[derive(Serialize, ToSchema)]
pub(super) struct EmailTemplate {
    #[schema(value_type = TemplateNameSchema)]
    name: &'static str,
    /// `false`: the system's default, shown here as it is sent.
    customized: bool,
    subject: String,
    html: String,
    text: String,
    /// The placeholders this template may use (`{{name}}`).
    placeholders: Vec<&'static str>,
    /// When the customised version was last changed; `null` for the default.
    #[schema(format = DateTime, required = true)]
    updated_at: Option<String>,
}

fn template(v: TemplateView) -> EmailTemplate {
    EmailTemplate {
        name: v.name.as_str(),
        customized: v.customized,
        subject: v.content.subject,
        html: v.content.html,
        text: v.content.text,
        placeholders: v.name.placeholders(),
        updated_at: v.updated_at.map(iso),
    }
}

fn template_input(prefix: &str, b: TemplateBody, e: &mut ValidationErrors) -> TemplateInput {
    e.merge_prefixed(prefix, unknown_fields(&b.other, TEMPLATE_READ_ONLY, "an email template"));
    TemplateInput { subject: b.subject, html: b.html, text: b.text }
}

/// Custom Email Templates
///
/// Customises the system e-mails the customer's users receive. **Decision**: the body's
/// `templates` is the complete set of customised templates (`PUT` replaces it): a system
/// template left out is (again) sent as the system's default, and `{"templates": {}}` resets
/// every one. Each given template needs its `subject`, `html` and `text`. Answers 200 with every
/// template, as `GET` does. Templates whose content did not change keep their `updated_at`; a
/// request that changes nothing writes nothing. Appends the audit event
/// `email_templates.updated` (not a webhook event). A cancelled account's templates are
/// read-only (422 `customer_id`); another partner's customer is 404.
///
/// See the templates note in the description of `GET` for names and placeholders.
#[utoipa::path(put, path = "/customers/{customer_id}/email-templates", tag = "White-label",
    params(("customer_id" = String, Path)), request_body = TemplatesBody,
    responses((status = 200, description = "Every template, customised or the default", body = super::dto::Envelope<Vec<EmailTemplate>>)))]
pub(super) async fn set_templates(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TemplatesBody>,
) -> Result<Response, ApiError> {
    let mut e = unknown_fields(&body.other, &[], "an email templates");
    let Some(given) = body.templates else {
        e.add("templates", "is required");
        return Err(ApiError::validation(&e));
    };
    let given: Vec<(String, TemplateInput)> = given
        .into_iter()
        .map(|(name, b)| {
            let input = template_input(&format!("templates.{name}."), b, &mut e);
            (name, input)
        })
        .collect();
    e.into_result().map_err(|e| ApiError::validation(&e))?;
    let views = s.whitelabel().set_templates(&who, customer_id(&id)?, given).await?;
    Ok(ok(views.into_iter().map(template).collect::<Vec<_>>()))
}

/// Get Custom Email Templates
///
/// Every system e-mail of the customer, in the order listed below: the customised version
/// (`customized: true`) or the system's default, with the placeholders each may use. Another
/// partner's customer is 404.
///
/// **Templates.** The system e-mails are `welcome` (account created), `password_reset`, `invoice`
/// (an invoice was issued), `payment_failed`, `plan_changed` and `subscription_cancelled`. Each
/// has a `subject` (one line), an `html` and a `text` body. The only syntax is `{{name}}` (spaces
/// inside the braces allowed); everything else is literal. Every template may use `customer.id`,
/// `customer.company_name`, `customer.contact_name`, `customer.contact_email`, `customer.plan`,
/// `partner.company_name`, `branding.logo_url`, `branding.primary_color`,
/// `branding.secondary_color`, `branding.custom_domain` and `app.url` (`https://` + the custom
/// domain; empty without one). Only `invoice` and `payment_failed` may use `invoice.number`,
/// `invoice.total` (e.g. `149.00`), `invoice.currency`, `invoice.due_date`,
/// `invoice.period_start`, `invoice.period_end` (dates `YYYY-MM-DD`); `payment_failed` also
/// `payment.next_retry_date`; `password_reset` `reset.url` and `reset.expires_at`; `plan_changed`
/// `plan.previous` and `plan.new`; `subscription_cancelled` `subscription.cancelled_at`. Each
/// template's `placeholders` lists what it may use. An unknown template name, a missing or blank
/// part, an unknown placeholder or a broken template (a `{{` without `}}`, an invalid name) is 422
/// naming the part, e.g. `templates.welcome.html: unknown placeholder {{foo}} for the welcome
/// template` or `templates.invoice.text: unclosed {{ at character 12`.
#[utoipa::path(get, path = "/customers/{customer_id}/email-templates", tag = "White-label",
    params(("customer_id" = String, Path)),
    responses((status = 200, description = "Every template, customised or the default", body = super::dto::Envelope<Vec<EmailTemplate>>)))]
pub(super) async fn get_templates(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let views = s.whitelabel().templates(&who, customer_id(&id)?).await?;
    Ok(ok(views.into_iter().map(template).collect::<Vec<_>>()))
}

#[derive(Serialize, ToSchema)]
pub(super) struct EmailPreview {
    #[schema(value_type = TemplateNameSchema)]
    name: &'static str,
    /// Whether the customer's customised version was rendered (`false`: the default, or the
    /// draft sent with the request).
    customized: bool,
    subject: String,
    /// Every placeholder value HTML-escaped (`&`, `<`, `>`, `"`, `'`).
    html: String,
    text: String,
}

fn preview(p: Preview) -> EmailPreview {
    EmailPreview {
        name: p.name.as_str(),
        customized: p.customized,
        subject: p.rendered.subject,
        html: p.rendered.html,
        text: p.rendered.text,
    }
}

/// Preview Email Template
///
/// Renders a template with the customer's branding and data, as the customer's users would
/// receive it; nothing is written or sent. **Decision**: `POST`, so that a draft can be
/// previewed before it is saved: with no body (or `{}`) the customer's current version (its
/// customised one, else the default) is rendered; with `subject`, `html` and `text` that draft
/// is (validated as by `PUT`, 422 naming the part). Values come from the account
/// (`customer.*`), your company (`partner.company_name`), the branding (its defaults if never
/// set) and the customer's latest invoice (`invoice.*`); values that exist only when an e-mail is
/// sent are samples: `reset.url` is `{app.url}/reset-password?token=preview`, `reset.expires_at`
/// an hour from now, `payment.next_retry_date` three days from now, `plan.previous` and
/// `plan.new` the current plan, `subscription.cancelled_at` the cancellation date (today if not
/// cancelled). In `html` every value is HTML-escaped; `subject` and `text` are plain text. An
/// unknown template name is 404; another partner's customer is 404.
#[utoipa::path(post, path = "/customers/{customer_id}/email-templates/{template}/preview", tag = "White-label",
    params(("customer_id" = String, Path), ("template" = TemplateNameSchema, Path)),
    request_body(content = Option<TemplateBody>, description = "Optional: a draft to render instead of the saved template"),
    responses((status = 200, description = "The rendered e-mail", body = super::dto::Envelope<EmailPreview>)))]
pub(super) async fn preview_template(
    State(s): State<Services>,
    Caller(who): Caller,
    Path((id, name)): Path<(String, String)>,
    JsonOrEmpty(body): JsonOrEmpty<TemplateBody>,
) -> Result<Response, ApiError> {
    let mut e = ValidationErrors::new();
    let given = body.subject.is_some() || body.html.is_some() || body.text.is_some();
    let draft = template_input("", body, &mut e);
    e.into_result().map_err(|e| ApiError::validation(&e))?;
    let id = customer_id(&id)?;
    if TemplateName::parse(&name).is_err() {
        return Err(ApiError::not_found("Email template"));
    }
    let p = s.whitelabel().preview(&who, id, &name, given.then_some(draft)).await?;
    Ok(ok(preview(p)))
}
