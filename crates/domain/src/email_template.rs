//! The system e-mails a customer's users receive, and the tiny template language their
//! subjects and bodies are written in.
//!
//! The syntax is only `{{name}}` (spaces inside the braces are allowed: `{{ name }}`); every
//! other character is literal text. A name is dot-separated lower-case words
//! (`customer.company_name`). A `{{` without its `}}` is a broken template; a name outside the
//! template's [`placeholders`] is an unknown placeholder. Rendering replaces each placeholder by
//! its value, HTML-escaped in HTML bodies ([`html_escape`]); there are no conditionals, loops or
//! raw (unescaped) insertions.

use crate::validation::echo;

crate::str_enum! {
    /// The system e-mails, in the order they are listed.
    pub enum TemplateName {
        /// Sent when the account is created.
        Welcome = "welcome",
        /// A user asked to reset their password.
        PasswordReset = "password_reset",
        /// An invoice was issued.
        Invoice = "invoice",
        /// Collecting an invoice failed.
        PaymentFailed = "payment_failed",
        /// The plan changed (an upgrade or a downgrade).
        PlanChanged = "plan_changed",
        /// The subscription was cancelled.
        SubscriptionCancelled = "subscription_cancelled",
    }
}

/// Placeholders every template may use.
pub const COMMON_PLACEHOLDERS: &[&str] = &[
    "customer.id",
    "customer.company_name",
    "customer.contact_name",
    "customer.contact_email",
    "customer.plan",
    "partner.company_name",
    "branding.logo_url",
    "branding.primary_color",
    "branding.secondary_color",
    "branding.custom_domain",
    "app.url",
];

const INVOICE_PLACEHOLDERS: &[&str] = &[
    "invoice.number",
    "invoice.total",
    "invoice.currency",
    "invoice.due_date",
    "invoice.period_start",
    "invoice.period_end",
];

impl TemplateName {
    /// The placeholders only this template may use (besides [`COMMON_PLACEHOLDERS`]).
    pub fn own_placeholders(self) -> &'static [&'static str] {
        match self {
            TemplateName::Welcome => &[],
            TemplateName::PasswordReset => &["reset.url", "reset.expires_at"],
            TemplateName::Invoice => INVOICE_PLACEHOLDERS,
            TemplateName::PaymentFailed => &[
                "invoice.number",
                "invoice.total",
                "invoice.currency",
                "invoice.due_date",
                "invoice.period_start",
                "invoice.period_end",
                "payment.next_retry_date",
            ],
            TemplateName::PlanChanged => &["plan.previous", "plan.new"],
            TemplateName::SubscriptionCancelled => &["subscription.cancelled_at"],
        }
    }

    /// Whether `name` is a placeholder of this template.
    pub fn allows(self, name: &str) -> bool {
        COMMON_PLACEHOLDERS.contains(&name) || self.own_placeholders().contains(&name)
    }

    /// Every placeholder this template may use: the common ones, then its own.
    pub fn placeholders(self) -> Vec<&'static str> {
        COMMON_PLACEHOLDERS.iter().chain(self.own_placeholders()).copied().collect()
    }
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
}

/// Splits `src` into text and placeholders. Refuses a `{{` without `}}` and a placeholder
/// whose name is not dot-separated lower-case words (saying where, in characters from 1).
pub fn parse(src: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = src;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Segment::Text(&rest[..open]));
        }
        let at = src[..offset + open].chars().count() + 1;
        let inner_start = open + 2;
        let Some(close) = rest[inner_start..].find("}}") else {
            return Err(format!("unclosed {{{{ at character {at}"));
        };
        let raw = &rest[inner_start..inner_start + close];
        let name = raw.trim_matches(' ');
        if raw.contains("{{") {
            return Err(format!("unclosed {{{{ at character {at}"));
        }
        if !is_name(name) {
            return Err(format!("invalid placeholder {{{{{}}}}} at character {at}", echo(raw)));
        }
        out.push(Segment::Placeholder(name));
        let consumed = inner_start + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
    Ok(out)
}

/// Parses `src` and checks every placeholder is one of `template`'s.
pub fn check(template: TemplateName, src: &str) -> Result<Vec<Segment<'_>>, String> {
    let segments = parse(src)?;
    for s in &segments {
        if let Segment::Placeholder(name) = s
            && !template.allows(name)
        {
            return Err(format!("unknown placeholder {{{{{name}}}}} for the {template} template"));
        }
    }
    Ok(segments)
}

/// `&`, `<`, `>`, `"` and `'` as HTML entities.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The template with each placeholder replaced by `value(name)` (empty when it has none),
/// HTML-escaped when `html`.
pub fn render(segments: &[Segment<'_>], value: &dyn Fn(&str) -> Option<String>, html: bool) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Text(t) => out.push_str(t),
            Segment::Placeholder(name) => {
                let v = value(name).unwrap_or_default();
                if html { out.push_str(&html_escape(&v)) } else { out.push_str(&v) }
            }
        }
    }
    out
}

pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 100_000;

/// One e-mail's three parts, as written (not rendered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Which part of a template a problem is in, as the request names it.
pub const PARTS: [&str; 3] = ["subject", "html", "text"];

/// Checks a customised template: each part given and not blank, the subject one line of at
/// most [`MAX_SUBJECT_CHARS`], bodies at most [`MAX_BODY_CHARS`], every part parsing with only
/// the template's placeholders. Problems are `(part, message)`.
pub fn validate(template: TemplateName, c: &EmailContent) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    for (part, src) in PARTS.into_iter().zip([&c.subject, &c.html, &c.text]) {
        let max = if part == "subject" { MAX_SUBJECT_CHARS } else { MAX_BODY_CHARS };
        if src.trim().is_empty() {
            problems.push((part, "is required".to_owned()));
        } else if src.chars().count() > max {
            problems.push((part, format!("must be at most {max} characters")));
        } else if part == "subject" && src.contains(['\n', '\r']) {
            problems.push((part, "must be one line".to_owned()));
        } else if let Err(m) = check(template, src) {
            problems.push((part, m));
        }
    }
    problems
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Renders a valid template; the subject and text body as plain text, the HTML body escaped.
pub fn render_email(
    template: TemplateName,
    c: &EmailContent,
    value: &dyn Fn(&str) -> Option<String>,
) -> Result<Rendered, String> {
    let part = |src: &str, html: bool| check(template, src).map(|s| render(&s, value, html));
    Ok(Rendered { subject: part(&c.subject, false)?, html: part(&c.html, true)?, text: part(&c.text, false)? })
}

fn html_page(heading: &str, body: &str) -> String {
    format!(
        "<div style=\"font-family:sans-serif\">\
<div style=\"background:{{{{branding.primary_color}}}};padding:16px\"><img src=\"{{{{branding.logo_url}}}}\" alt=\"{{{{partner.company_name}}}}\" height=\"32\"></div>\
<h1 style=\"color:{{{{branding.primary_color}}}}\">{heading}</h1>{body}\
<p style=\"color:{{{{branding.secondary_color}}}}\">{{{{partner.company_name}}}}</p></div>"
    )
}

/// The system's own version of each template, used until a partner customises it.
pub fn system_default(template: TemplateName) -> EmailContent {
    let (subject, heading, html, text): (&str, &str, &str, &str) = match template {
        TemplateName::Welcome => (
            "Welcome to {{partner.company_name}}, {{customer.company_name}}",
            "Welcome, {{customer.contact_name}}",
            "<p>Your {{customer.plan}} account for {{customer.company_name}} is ready.</p>\
<p><a href=\"{{app.url}}\">Sign in</a></p>",
            "Welcome, {{customer.contact_name}}.\n\nYour {{customer.plan}} account for {{customer.company_name}} is ready.\nSign in: {{app.url}}\n",
        ),
        TemplateName::PasswordReset => (
            "Reset your password",
            "Reset your password",
            "<p>Hello {{customer.contact_name}}, use this link to choose a new password:</p>\
<p><a href=\"{{reset.url}}\">Reset password</a></p><p>The link expires at {{reset.expires_at}}.</p>",
            "Hello {{customer.contact_name}},\n\nChoose a new password: {{reset.url}}\nThe link expires at {{reset.expires_at}}.\n",
        ),
        TemplateName::Invoice => (
            "Invoice {{invoice.number}} from {{partner.company_name}}",
            "Invoice {{invoice.number}}",
            "<p>Your invoice for {{invoice.period_start}} to {{invoice.period_end}} is {{invoice.total}} {{invoice.currency}}, due {{invoice.due_date}}.</p>",
            "Invoice {{invoice.number}} for {{customer.company_name}}: {{invoice.total}} {{invoice.currency}}, due {{invoice.due_date}} (period {{invoice.period_start}} to {{invoice.period_end}}).\n",
        ),
        TemplateName::PaymentFailed => (
            "Payment failed for invoice {{invoice.number}}",
            "We could not collect your payment",
            "<p>Collecting {{invoice.total}} {{invoice.currency}} for invoice {{invoice.number}} failed. We will try again on {{payment.next_retry_date}}.</p>\
<p><a href=\"{{app.url}}\">Update your payment method</a></p>",
            "Collecting {{invoice.total}} {{invoice.currency}} for invoice {{invoice.number}} failed.\nWe will try again on {{payment.next_retry_date}}.\nUpdate your payment method: {{app.url}}\n",
        ),
        TemplateName::PlanChanged => (
            "Your plan is now {{plan.new}}",
            "Your plan changed",
            "<p>{{customer.company_name}} moved from the {{plan.previous}} plan to the {{plan.new}} plan.</p>",
            "{{customer.company_name}} moved from the {{plan.previous}} plan to the {{plan.new}} plan.\n",
        ),
        TemplateName::SubscriptionCancelled => (
            "Your subscription was cancelled",
            "Your subscription was cancelled",
            "<p>The subscription of {{customer.company_name}} was cancelled on {{subscription.cancelled_at}}.</p>",
            "The subscription of {{customer.company_name}} was cancelled on {{subscription.cancelled_at}}.\n",
        ),
    };
    EmailContent { subject: subject.into(), html: html_page(heading, html), text: text.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_into_text_and_placeholders() {
        assert_eq!(
            parse("Hi {{customer.contact_name}}, {{ invoice.number }}!").unwrap(),
            [
                Segment::Text("Hi "),
                Segment::Placeholder("customer.contact_name"),
                Segment::Text(", "),
                Segment::Placeholder("invoice.number"),
                Segment::Text("!"),
            ]
        );
        assert_eq!(parse("").unwrap(), []);
        assert_eq!(parse("no placeholders } }} {").unwrap(), [Segment::Text("no placeholders } }} {")]);
        assert_eq!(parse("{{a}}{{b}}").unwrap(), [Segment::Placeholder("a"), Segment::Placeholder("b")]);
    }

    #[test]
    fn broken_templates_are_refused_saying_where() {
        assert_eq!(parse("Hello {{customer.company_name").unwrap_err(), "unclosed {{ at character 7");
        assert_eq!(parse("é{{").unwrap_err(), "unclosed {{ at character 2");
        assert_eq!(parse("{{a {{b}}").unwrap_err(), "unclosed {{ at character 1");
        assert!(parse("{{}}").unwrap_err().starts_with("invalid placeholder {{}}"));
        assert!(parse("{{ Customer.Name }}").unwrap_err().contains("invalid placeholder"));
        assert!(parse("{{a..b}}").is_err());
        assert!(parse("{{a.}}").is_err());
        assert!(parse("{{a-b}}").is_err());
    }

    #[test]
    fn placeholders_are_checked_per_template() {
        assert!(check(TemplateName::Welcome, "{{customer.company_name}} {{branding.logo_url}}").is_ok());
        assert_eq!(
            check(TemplateName::Welcome, "{{foo}}").unwrap_err(),
            "unknown placeholder {{foo}} for the welcome template"
        );
        // Invoice figures only where there is an invoice.
        assert!(check(TemplateName::Invoice, "{{invoice.number}}").is_ok());
        assert!(check(TemplateName::PaymentFailed, "{{invoice.number}} {{payment.next_retry_date}}").is_ok());
        assert!(check(TemplateName::Welcome, "{{invoice.number}}").is_err());
        assert!(check(TemplateName::Invoice, "{{reset.url}}").is_err());
        assert!(check(TemplateName::PasswordReset, "{{reset.url}}").is_ok());
        assert_eq!(TemplateName::Invoice.placeholders().len(), COMMON_PLACEHOLDERS.len() + 6);
    }

    #[test]
    fn rendering_escapes_html_bodies_only() {
        let segs = parse("<b>{{customer.company_name}}</b>{{missing}}").unwrap();
        let value = |n: &str| (n == "customer.company_name").then(|| "<script>alert('x')</script> & \"Co\"".to_owned());
        assert_eq!(
            render(&segs, &value, true),
            "<b>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;</b>"
        );
        assert_eq!(render(&segs, &value, false), "<b><script>alert('x')</script> & \"Co\"</b>");
        assert_eq!(html_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    }

    #[test]
    fn customised_templates_are_validated_per_part() {
        let ok =
            EmailContent { subject: "Hi {{customer.contact_name}}".into(), html: "<p>x</p>".into(), text: "x".into() };
        assert!(validate(TemplateName::Welcome, &ok).is_empty());
        let bad = EmailContent { subject: "Two\nlines".into(), html: "{{foo}}".into(), text: " ".into() };
        let problems = validate(TemplateName::Welcome, &bad);
        assert_eq!(problems.iter().map(|p| p.0).collect::<Vec<_>>(), ["subject", "html", "text"]);
        assert_eq!(problems[1].1, "unknown placeholder {{foo}} for the welcome template");
        assert_eq!(problems[2].1, "is required");
        let long = EmailContent { subject: "s".repeat(MAX_SUBJECT_CHARS + 1), ..ok.clone() };
        assert!(validate(TemplateName::Welcome, &long)[0].1.contains("at most"));
        let broken = EmailContent { text: "{{customer.plan".into(), ..ok };
        assert_eq!(validate(TemplateName::Welcome, &broken), [("text", "unclosed {{ at character 1".to_owned())]);
    }

    #[test]
    fn every_system_default_is_a_valid_template() {
        for t in TemplateName::ALL {
            let d = system_default(t);
            assert!(validate(t, &d).is_empty(), "{t}: {:?}", validate(t, &d));
            let rendered = render_email(t, &d, &|n| Some(format!("[{n}]"))).unwrap();
            assert!(!rendered.html.contains("{{") && !rendered.text.contains("{{"), "{t}");
        }
    }
}
