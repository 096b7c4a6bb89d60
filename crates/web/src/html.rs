//! HTML building: escaping, the page layout, forms with per-field errors, tables and pagers.
//!
//! Pages are plain `String`s written with `format!`/`write!`. Every value that did not come
//! from this crate's own literals goes through [`esc`] (or [`attr`]), which is the one rule
//! that keeps the dashboard free of injected markup; a test renders hostile values through
//! every helper.

use partnerd_domain::ValidationErrors;
use partnerd_services::users::WebSession;
use std::fmt::{self, Display, Write};

/// Text escaped for element content and quoted attribute values.
pub(crate) struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = 0;
        for (i, b) in self.0.bytes().enumerate() {
            let rep = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            f.write_str(&self.0[last..i])?;
            f.write_str(rep)?;
            last = i + 1;
        }
        f.write_str(&self.0[last..])
    }
}

pub(crate) fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// A query-string component (for links carrying filters).
pub(crate) fn urlenc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Which part of the navigation is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    None,
    Overview,
    Listings,
    Cosell,
    Customers,
    Tickets,
    Leads,
    Quotes,
    Subscriptions,
    Webhooks,
    Keys,
    OpPartners,
    OpUsers,
    OpCatalog,
    OpLeads,
    OpOverview,
}

const PARTNER_NAV: &[(Nav, &str, &str)] = &[
    (Nav::Overview, "/dashboard/", "Overview"),
    (Nav::Listings, "/dashboard/listings", "Listings"),
    (Nav::Cosell, "/dashboard/cosell", "Co-sell"),
    (Nav::Customers, "/dashboard/customers", "Customers"),
    (Nav::Tickets, "/dashboard/tickets", "Tickets"),
    (Nav::Leads, "/dashboard/leads", "Leads"),
    (Nav::Quotes, "/dashboard/quotes", "Quotes"),
    (Nav::Subscriptions, "/dashboard/subscriptions", "Subscriptions"),
    (Nav::Webhooks, "/dashboard/webhooks", "Webhooks"),
    (Nav::Keys, "/dashboard/settings/api-keys", "API keys"),
];

const OPERATOR_NAV: &[(Nav, &str, &str)] = &[
    (Nav::OpOverview, "/dashboard/operator", "Marketplace"),
    (Nav::OpPartners, "/dashboard/operator/partners", "Partners"),
    (Nav::OpUsers, "/dashboard/operator/users", "Users"),
    (Nav::OpCatalog, "/dashboard/operator/catalog", "Catalog"),
    (Nav::OpLeads, "/dashboard/operator/leads", "Lead approvals"),
    (Nav::Quotes, "/dashboard/quotes", "Quotes"),
    (Nav::Keys, "/dashboard/settings/api-keys", "API keys"),
];

/// The whole document around `body`: head, skip link, navigation for the signed-in user
/// (partner or operator), the sign-out form, and `main`.
pub(crate) fn page(session: Option<&WebSession>, title: &str, nav: Nav, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 3000);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · partnerd</title>\
         <link rel=\"stylesheet\" href=\"/dashboard/assets/style.css\">\
         <script src=\"/dashboard/assets/app.js\" defer></script></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a>",
        esc(title)
    );
    if let Some(s) = session {
        let p = &s.principal;
        let (items, who) = match &p.partner {
            Some(partner) => (PARTNER_NAV, partner.company_name.as_str()),
            None => (OPERATOR_NAV, "Operator"),
        };
        out.push_str(
            "<header class=\"top\"><a class=\"brand\" href=\"/dashboard/\">partnerd</a><nav aria-label=\"Main\"><ul>",
        );
        for (item, href, label) in items {
            let current = if *item == nav { " aria-current=\"page\"" } else { "" };
            let _ = write!(out, "<li><a href=\"{href}\"{current}>{label}</a></li>");
        }
        let _ = write!(
            out,
            "</ul></nav><div class=\"who\"><span title=\"{}\">{} · {}</span>\
             <form method=\"post\" action=\"/dashboard/sign-out\">{}<button type=\"submit\" class=\"link\">Sign out</button></form></div></header>",
            esc(&p.user_email),
            esc(who),
            esc(&p.user_email),
            csrf_field(&s.csrf_token)
        );
    }
    let _ = write!(out, "<main id=\"main\"><h1>{}</h1>{body}</main></body></html>", esc(title));
    out
}

pub(crate) fn csrf_field(token: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(token))
}

/// A notice above the page's content (`role="status"`), or an error (`role="alert"`).
pub(crate) fn notice(text: &str) -> String {
    format!("<p class=\"notice\" role=\"status\">{}</p>", esc(text))
}

pub(crate) fn alert(text: &str) -> String {
    format!("<p class=\"alert\" role=\"alert\">{}</p>", esc(text))
}

/// The messages of `field` (and of its sub-fields, `field.x` / `field[0]`) from a validation
/// failure.
pub(crate) fn field_errors(errors: Option<&ValidationErrors>, field: &str) -> Vec<String> {
    let Some(errors) = errors else { return Vec::new() };
    errors
        .fields()
        .iter()
        .filter(|(k, _)| {
            k.as_str() == field
                || k.strip_prefix(field).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
        .flat_map(|(k, msgs)| msgs.iter().map(move |m| if k == field { m.clone() } else { format!("{k}: {m}") }))
        .collect()
}

/// Messages of fields the form does not show (so none is lost).
pub(crate) fn other_errors(errors: Option<&ValidationErrors>, shown: &[&str]) -> String {
    let Some(errors) = errors else { return String::new() };
    let rest: Vec<String> = errors
        .fields()
        .iter()
        .filter(|(k, _)| {
            !shown.iter().any(|f| {
                k.as_str() == *f || k.strip_prefix(f).is_some_and(|r| r.starts_with('.') || r.starts_with('['))
            })
        })
        .flat_map(|(k, msgs)| msgs.iter().map(move |m| format!("{k}: {m}")))
        .collect();
    if rest.is_empty() {
        return String::new();
    }
    let mut out = String::from("<div class=\"alert\" role=\"alert\"><ul>");
    for m in rest {
        let _ = write!(out, "<li>{}</li>", esc(&m));
    }
    out.push_str("</ul></div>");
    out
}

/// One labelled input with its errors (`aria-invalid`, `aria-describedby`).
pub(crate) struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
    pub extra: &'a str,
}

impl<'a> Field<'a> {
    pub(crate) fn text(name: &'a str, label: &'a str, value: &'a str) -> Self {
        Field { name, label, kind: "text", value, required: false, hint: None, extra: "" }
    }

    pub(crate) fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(crate) fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub(crate) fn extra(mut self, extra: &'a str) -> Self {
        self.extra = extra;
        self
    }

    pub(crate) fn render(&self, errors: Option<&ValidationErrors>) -> String {
        let messages = field_errors(errors, self.name);
        let id = format!("f-{}", self.name.replace(['.', '[', ']'], "-"));
        let mut described = Vec::new();
        let mut out = format!("<div class=\"field\"><label for=\"{id}\">{}</label>", esc(self.label));
        if let Some(h) = self.hint {
            let _ = write!(out, "<small id=\"{id}-hint\">{}</small>", esc(h));
            described.push(format!("{id}-hint"));
        }
        if !messages.is_empty() {
            described.push(format!("{id}-error"));
        }
        let invalid = if messages.is_empty() { "" } else { " aria-invalid=\"true\"" };
        let describedby =
            if described.is_empty() { String::new() } else { format!(" aria-describedby=\"{}\"", described.join(" ")) };
        let required = if self.required { " required" } else { "" };
        if self.kind == "textarea" {
            let _ = write!(
                out,
                "<textarea id=\"{id}\" name=\"{}\"{required}{invalid}{describedby} {}>{}</textarea>",
                esc(self.name),
                self.extra,
                esc(self.value)
            );
        } else {
            let _ = write!(
                out,
                "<input id=\"{id}\" name=\"{}\" type=\"{}\" value=\"{}\"{required}{invalid}{describedby} {}>",
                esc(self.name),
                self.kind,
                esc(self.value),
                self.extra
            );
        }
        if !messages.is_empty() {
            let _ = write!(out, "<p class=\"error\" id=\"{id}-error\">{}</p>", esc(&messages.join("; ")));
        }
        out.push_str("</div>");
        out
    }
}

/// A `<select>` with its errors; `options` are `(value, label)`.
pub(crate) fn select(
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    selected: &str,
    errors: Option<&ValidationErrors>,
) -> String {
    let messages = field_errors(errors, name);
    let id = format!("f-{name}");
    let mut out = format!(
        "<div class=\"field\"><label for=\"{id}\">{}</label><select id=\"{id}\" name=\"{}\"",
        esc(label),
        esc(name)
    );
    if !messages.is_empty() {
        let _ = write!(out, " aria-invalid=\"true\" aria-describedby=\"{id}-error\"");
    }
    out.push('>');
    for (value, text) in options {
        let sel = if *value == selected { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{}\"{sel}>{}</option>", esc(value), esc(text));
    }
    out.push_str("</select>");
    if !messages.is_empty() {
        let _ = write!(out, "<p class=\"error\" id=\"{id}-error\">{}</p>", esc(&messages.join("; ")));
    }
    out.push_str("</div>");
    out
}

/// A POST form with only a button (an action on a record), CSRF included.
pub(crate) fn action_button(action: &str, csrf: &str, label: &str, class: &str, hidden: &[(&str, &str)]) -> String {
    let mut out = format!("<form method=\"post\" action=\"{}\" class=\"inline\">{}", esc(action), csrf_field(csrf));
    for (k, v) in hidden {
        let _ = write!(out, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v));
    }
    let _ = write!(out, "<button type=\"submit\" class=\"{class}\">{}</button></form>", esc(label));
    out
}

/// A value shown once, with a copy button: hidden until `app.js` shows it (without scripts
/// the value is selected by hand, and a button that does nothing is not offered).
pub(crate) fn copy_row(id: &str, value: &str) -> String {
    format!(
        "<p class=\"copy-row\"><code id=\"{id}\">{}</code> <button type=\"button\" class=\"copy\" data-copy=\"{id}\" hidden>Copy</button></p>",
        esc(value)
    )
}

/// A table: `head` are column titles, each row's cells are already HTML.
pub(crate) fn table(caption: &str, head: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", esc(empty));
    }
    let mut out = format!("<div class=\"table-wrap\"><table><caption>{}</caption><thead><tr>", esc(caption));
    for h in head {
        if h.is_empty() {
            // A column of buttons still has a header for screen readers.
            out.push_str("<th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th>");
        } else {
            let _ = write!(out, "<th scope=\"col\">{}</th>", esc(h));
        }
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// Previous / next links for a 1-based page of `per_page`, keeping the other query
/// parameters (`base_query`, already encoded, without `page`).
pub(crate) fn pager(path: &str, base_query: &str, page: u64, per_page: u64, total: u64) -> String {
    let pages = total.div_ceil(per_page.max(1)).max(1);
    let sep = if base_query.is_empty() { "" } else { "&" };
    let mut out = String::from("<nav class=\"pager\" aria-label=\"Pages\">");
    if page > 1 {
        let _ = write!(out, "<a rel=\"prev\" href=\"{path}?{base_query}{sep}page={}\">← Previous</a>", page - 1);
    }
    let _ = write!(out, "<span>Page {page} of {pages} · {total} in all</span>");
    if page < pages {
        let _ = write!(out, "<a rel=\"next\" href=\"{path}?{base_query}{sep}page={}\">Next →</a>", page + 1);
    }
    out.push_str("</nav>");
    out
}

/// A status as a badge (the class is the status's own name, sanitised).
pub(crate) fn badge(status: &str) -> String {
    let class: String =
        status.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    format!("<span class=\"badge badge-{class}\">{}</span>", esc(&status.replace('_', " ")))
}

pub(crate) fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("<time datetime=\"{}\">{}</time>", t.to_rfc3339(), t.format("%Y-%m-%d %H:%M UTC"))
}

/// A date (the day of `t`, UTC) in a `<time>`.
pub(crate) fn date_of(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("<time datetime=\"{}\">{}</time>", t.to_rfc3339(), t.format("%Y-%m-%d"))
}

pub(crate) fn day(d: chrono::NaiveDate) -> String {
    format!("<time datetime=\"{d}\">{d}</time>")
}

pub(crate) fn maybe_time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "<span class=\"muted\">—</span>".to_owned(), time)
}

/// `12,345`.
pub(crate) fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `$1,234.56`-style money from integer cents and a currency code.
pub(crate) fn money_cents(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    // `abs / 100` fits an i64 even for `i64::MIN`.
    let (units, rest) = (grouped(i64::try_from(abs / 100).unwrap_or(i64::MAX)), abs % 100);
    match currency {
        "USD" => format!("{sign}${units}.{rest:02}"),
        c => format!("{sign}{units}.{rest:02} {c}"),
    }
}

/// A sum of amounts (i128 cents) as money; sums beyond i64 cannot come from stored amounts, so
/// they saturate.
pub(crate) fn money_sum(cents: i128, currency: &str) -> String {
    money_cents(i64::try_from(cents).unwrap_or(if cents < 0 { i64::MIN } else { i64::MAX }), currency)
}

/// `<a href>` with escaped text.
pub(crate) fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

/// An API name (`IN_PROGRESS`, `reseller_manager`) in words: `In progress`.
pub(crate) fn words(name: &str) -> String {
    capitalized(&name.to_lowercase().replace('_', " "))
}

/// The text with its first letter upper case.
pub(crate) fn capitalized(text: &str) -> String {
    let mut c = text.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// `(value, label)` options for [`select`], borrowed from owned pairs.
pub(crate) fn as_options<V: AsRef<str>, L: AsRef<str>>(pairs: &[(V, L)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(v, l)| (v.as_ref(), l.as_ref())).collect()
}

/// The same after a first `("", first)`: a filter's "any" choice.
pub(crate) fn with_first<'a, V: AsRef<str>, L: AsRef<str>>(
    first: &'a str,
    rest: &'a [(V, L)],
) -> Vec<(&'a str, &'a str)> {
    std::iter::once(("", first)).chain(rest.iter().map(|(v, l)| (v.as_ref(), l.as_ref()))).collect()
}

/// Every value of an enum (its name as label), after a first `("", any)`.
pub(crate) fn any_of<'a>(any: &'a str, names: &'a [&'a str]) -> Vec<(&'a str, &'a str)> {
    std::iter::once(("", any)).chain(names.iter().map(|n| (*n, *n))).collect()
}

/// A list's filter form (GET): its `fields`, a Filter button, and a link clearing the filters.
pub(crate) fn list_filters(action: &str, label: &str, fields: &[String], clear: &str, clear_text: &str) -> String {
    let fields = filter_ids(&fields.concat());
    format!(
        "<form method=\"get\" action=\"{}\" class=\"filters\" aria-label=\"{}\">{}\
         <div class=\"field\"><button type=\"submit\">Filter</button></div>\
         <div class=\"field\"><a href=\"{}\">{}</a></div></form>",
        esc(action),
        esc(label),
        fields,
        esc(clear),
        esc(clear_text)
    )
}

/// A filter form's fields with their own ids (`q-…` instead of the `f-…` every field gets),
/// so a page with a filter and a form over the same names keeps each label on its own field.
pub(crate) fn filter_ids(fields: &str) -> String {
    fields.replace("id=\"f-", "id=\"q-").replace("for=\"f-", "for=\"q-").replace("describedby=\"f-", "describedby=\"q-")
}

/// The notice of the `done=` code a redirect after an action carries (`messages` are
/// `(code, text)`); nothing for another code.
pub(crate) fn done_notice(done: &str, messages: &[(&str, &str)]) -> String {
    messages.iter().find(|(code, _)| *code == done).map(|(_, text)| notice(text)).unwrap_or_default()
}

/// A `<dt>`/`<dd>` pair of a facts list; `value` is HTML, and an empty one is left out.
pub(crate) fn fact(out: &mut String, term: &str, value: &str) {
    if !value.is_empty() {
        let _ = write!(out, "<dt>{}</dt><dd>{value}</dd>", esc(term));
    }
}

/// A fact of plain text (escaped); a blank one is left out.
pub(crate) fn text_fact(out: &mut String, term: &str, value: &str) {
    if !value.trim().is_empty() {
        fact(out, term, &esc(value).to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert('x')</script>\"&";

    #[test]
    fn escaping_covers_every_markup_character() {
        assert_eq!(esc(HOSTILE).to_string(), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;");
        assert_eq!(esc("plain").to_string(), "plain");
    }

    #[test]
    fn helpers_escape_hostile_values() {
        let mut errors = ValidationErrors::new();
        errors.add("name", HOSTILE);
        errors.add("other", HOSTILE);
        let rendered = [
            page(None, HOSTILE, Nav::None, ""),
            Field::text("name", HOSTILE, HOSTILE).render(Some(&errors)),
            other_errors(Some(&errors), &["name"]),
            select("s", HOSTILE, &[(HOSTILE, HOSTILE)], HOSTILE, Some(&errors)),
            action_button("/x", HOSTILE, HOSTILE, "b", &[(HOSTILE, HOSTILE)]),
            table(HOSTILE, &[HOSTILE], &[], HOSTILE),
            badge(HOSTILE),
            notice(HOSTILE),
            alert(HOSTILE),
        ];
        for r in rendered {
            assert!(!r.contains("<script>"), "{r}");
            assert!(!r.contains("'x'"), "{r}");
        }
    }

    #[test]
    fn field_errors_are_shown_beside_their_field() {
        let mut errors = ValidationErrors::new();
        errors.add("title", "is required");
        errors.add("features[1]", "too long");
        let html = Field::text("title", "Title", "").render(Some(&errors));
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("is required"));
        assert_eq!(field_errors(Some(&errors), "features"), vec!["features[1]: too long".to_owned()]);
        assert!(other_errors(Some(&errors), &["title", "features"]).is_empty());
        assert!(other_errors(Some(&errors), &["title"]).contains("features[1]: too long"));
    }

    #[test]
    fn pager_links_keep_filters() {
        let p = pager("/dashboard/listings", "status=active", 2, 20, 45);
        assert!(p.contains("href=\"/dashboard/listings?status=active&page=1\""));
        assert!(p.contains("href=\"/dashboard/listings?status=active&page=3\""));
        assert!(p.contains("Page 2 of 3"));
        assert!(!pager("/x", "", 1, 20, 0).contains("href"));
    }

    #[test]
    fn money_is_grouped_and_exact() {
        assert_eq!(money_cents(123_456_789, "USD"), "$1,234,567.89");
        assert_eq!(money_cents(-5, "USD"), "-$0.05");
        assert_eq!(money_cents(100_000, "EUR"), "1,000.00 EUR");
        assert_eq!(urlenc("a b&c"), "a%20b%26c");
    }
}
