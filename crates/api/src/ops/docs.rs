//! `GET /docs`: the API reference, rendered on the server from the generated OpenAPI document
//! into one self-contained HTML page (inline CSS, no script, no external asset), once.
//! Operations are grouped by tag, each with its parameters, request body and responses; the
//! descriptions' Markdown (paragraphs, lists, tables, `code`, **bold**, headings) is rendered
//! by the small converter below, enough for what the descriptions use.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330}\
nav{position:fixed;top:0;bottom:0;width:270px;overflow:auto;padding:16px;background:#f4f6f9;border-right:1px solid #dde2ea}\
nav a{display:block;color:#1d2330;text-decoration:none;font-size:13px;padding:1px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}nav h4{margin:14px 0 4px}\
main{margin-left:310px;max-width:960px;padding:16px 32px}\
.op{border:1px solid #dde2ea;border-radius:6px;padding:8px 16px;margin:16px 0}\
.m{display:inline-block;min-width:62px;text-align:center;border-radius:4px;color:#fff;font:bold 12px monospace;padding:2px 4px;margin-right:6px}\
.get{background:#2f7d32}.post{background:#1e5fb4}.put{background:#8a5a00}.patch{background:#6a3fb5}.delete{background:#b3261e}\
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #dde2ea;padding:3px 8px;text-align:left;vertical-align:top;font-size:14px}\
code{background:#f0f2f5;padding:0 3px;border-radius:3px}.id{color:#667;font-size:13px}.schema{margin:4px 0 8px 0}";

/// The page for `doc`.
pub(crate) fn render(doc: &Value) -> String {
    let mut by_tag: BTreeMap<String, Vec<(String, String, &Value)>> = BTreeMap::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let tag = op["tags"][0].as_str().unwrap_or("Other").to_owned();
                    by_tag.entry(tag).or_default().push((method.to_owned(), path.clone(), op));
                }
            }
        }
    }
    let title = esc(doc["info"]["title"].as_str().unwrap_or("API"));
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} API reference</title>\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>{STYLE}</style></head><body><nav>\
         <strong>{title} {}</strong><a href=\"/openapi.json\">openapi.json</a>",
        esc(doc["info"]["version"].as_str().unwrap_or(""))
    );
    for (tag, ops) in &by_tag {
        let _ = write!(out, "<h4><a href=\"#tag-{}\">{}</a></h4>", anchor(tag), esc(tag));
        for (method, path, op) in ops {
            let _ = write!(
                out,
                "<a href=\"#op-{}\"><span class=\"m {method}\">{}</span>{}</a>",
                anchor(op_id(op, method, path).as_str()),
                method.to_ascii_uppercase(),
                esc(path)
            );
        }
    }
    out.push_str("<h4><a href=\"#schemas\">Schemas</a></h4></nav><main>");
    let _ = write!(out, "<h1>{title} API reference</h1>");
    out.push_str(&markdown(doc["info"]["description"].as_str().unwrap_or("")));
    for (tag, ops) in &by_tag {
        let _ = write!(out, "<h2 id=\"tag-{}\">{}</h2>", anchor(tag), esc(tag));
        for (method, path, op) in ops {
            operation(&mut out, method, path, op);
        }
    }
    out.push_str("<h2 id=\"schemas\">Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(out, "<section id=\"schema-{}\"><h3>{}</h3>", anchor(name), esc(name));
            if let Some(d) = schema["description"].as_str() {
                out.push_str(&markdown(d));
            }
            schema_block(&mut out, schema);
            out.push_str("</section>");
        }
    }
    out.push_str("</main></body></html>");
    out
}

fn op_id(op: &Value, method: &str, path: &str) -> String {
    op["operationId"].as_str().map_or_else(|| format!("{method}{path}"), str::to_owned)
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let id = op_id(op, method, path);
    let _ = write!(
        out,
        "<section class=\"op\" id=\"op-{}\"><h3><span class=\"m {method}\">{}</span><code>{}</code></h3>\
         <div class=\"id\">operationId <code>{}</code></div>",
        anchor(&id),
        method.to_ascii_uppercase(),
        esc(path),
        esc(&id)
    );
    if let Some(s) = op["summary"].as_str() {
        let _ = write!(out, "<p><strong>{}</strong></p>", inline(s));
    }
    if let Some(d) = op["description"].as_str() {
        out.push_str(&markdown(d));
    }
    if op["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty()))) {
        out.push_str("<p>No authentication.</p>");
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>");
        for p in params {
            let required = if p["required"].as_bool() == Some(true) { " <em>required</em>" } else { "" };
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(p["name"].as_str().unwrap_or("")),
                esc(p["in"].as_str().unwrap_or("")),
                type_of(&p["schema"]),
                inline(p["description"].as_str().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        out.push_str("<h4>Request body</h4>");
        for (media, m) in content {
            let _ = write!(out, "<div><code>{}</code> {}</div>", esc(media), type_of(&m["schema"]));
            schema_block(out, &m["schema"]);
        }
    }
    if let Some(responses) = op["responses"].as_object() {
        out.push_str("<h4>Responses</h4><table><tr><th>status</th><th>description</th><th>body</th></tr>");
        for (status, r) in responses {
            let mut body = String::new();
            if let Some(content) = r["content"].as_object() {
                for (media, m) in content {
                    let _ = write!(body, "<code>{}</code> {}<br>", esc(media), type_of(&m["schema"]));
                }
            }
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{body}</td></tr>",
                esc(status),
                inline(r["description"].as_str().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

/// A schema's fields as a table (objects), or its values (enums); references are links.
fn schema_block(out: &mut String, schema: &Value) {
    if let Some(props) = schema["properties"].as_object() {
        let required: Vec<&str> =
            schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        out.push_str("<table class=\"schema\"><tr><th>field</th><th>type</th><th>description</th></tr>");
        for (name, p) in props {
            let req = if required.contains(&name.as_str()) { " <em>required</em>" } else { "" };
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{req}</td><td>{}</td><td>{}</td></tr>",
                esc(name),
                type_of(p),
                inline(p["description"].as_str().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    } else if let Some(values) = schema["enum"].as_array() {
        let list: Vec<String> = values.iter().map(|v| format!("<code>{}</code>", esc(&v.to_string()))).collect();
        let _ = write!(out, "<p>One of {}</p>", list.join(", "));
    } else {
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(parts) = schema[key].as_array() {
                let list: Vec<String> = parts.iter().map(type_of).collect();
                let _ = write!(out, "<p>{key}: {}</p>", list.join(" | "));
            }
        }
    }
}

/// A one-line type: `string`, `integer ≥ 1`, `[Listing]`, a link to a named schema…
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{}\">{}</a>", anchor(name), esc(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema[key].as_array() {
            return parts.iter().map(type_of).collect::<Vec<_>>().join(" | ");
        }
    }
    let mut t = match &schema["type"] {
        Value::String(s) if s == "array" => format!("[{}]", type_of(&schema["items"])),
        Value::String(s) => esc(s),
        Value::Array(ts) => {
            ts.iter()
                .map(|t| {
                    if t == "array" {
                        format!("[{}]", type_of(&schema["items"]))
                    } else {
                        esc(t.as_str().unwrap_or(""))
                    }
                })
                .collect::<Vec<_>>()
                .join(" | ")
        }
        _ if schema.get("const").is_some() => format!("<code>{}</code>", esc(&schema["const"].to_string())),
        _ => "any".to_owned(),
    };
    if let Some(values) = schema["enum"].as_array() {
        let list: Vec<String> = values.iter().map(|v| esc(&v.to_string())).collect();
        let _ = write!(t, " ({})", list.join(", "));
    }
    if let Some(f) = schema["format"].as_str() {
        let _ = write!(t, " <span class=\"id\">{}</span>", esc(f));
    }
    for (key, sign) in [("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤")]
    {
        if let Some(n) = schema.get(key).filter(|n| n.is_number()) {
            let _ = write!(t, " {sign} {n}");
        }
    }
    t
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn anchor(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect()
}

/// `code`, **bold** and [text](url) inside one line, escaped.
fn inline(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
            continue;
        }
        let mut text = String::new();
        for (j, piece) in esc(part).split("**").enumerate() {
            if j % 2 == 1 {
                let _ = write!(text, "<strong>{piece}</strong>");
            } else {
                text.push_str(piece);
            }
        }
        out.push_str(&text);
    }
    out
}

/// Block-level Markdown: headings, lists, pipe tables, paragraphs.
fn markdown(s: &str) -> String {
    let mut out = String::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list = false;
    let mut table: Vec<&str> = Vec::new();
    let flush_para = |out: &mut String, para: &mut Vec<&str>| {
        if !para.is_empty() {
            let _ = write!(out, "<p>{}</p>", inline(&para.join(" ")));
            para.clear();
        }
    };
    let flush_table = |out: &mut String, table: &mut Vec<&str>| {
        if table.is_empty() {
            return;
        }
        out.push_str("<table>");
        for (i, row) in table.iter().enumerate() {
            let cells: Vec<&str> = row.trim().trim_matches('|').split('|').map(str::trim).collect();
            if cells.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':'))) {
                continue;
            }
            let tag = if i == 0 { "th" } else { "td" };
            out.push_str("<tr>");
            for c in cells {
                let _ = write!(out, "<{tag}>{}</{tag}>", inline(c));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
        table.clear();
    };
    for line in s.lines() {
        let t = line.trim();
        let item = t.strip_prefix("- ").or_else(|| t.strip_prefix("* "));
        if t.starts_with('|') {
            flush_para(&mut out, &mut para);
            table.push(t);
            continue;
        }
        flush_table(&mut out, &mut table);
        if let Some(item) = item {
            flush_para(&mut out, &mut para);
            if !list {
                out.push_str("<ul>");
                list = true;
            }
            let _ = write!(out, "<li>{}</li>", inline(item));
            continue;
        }
        if list && (t.is_empty() || !line.starts_with(' ')) {
            out.push_str("</ul>");
            list = false;
        }
        if t.is_empty() {
            flush_para(&mut out, &mut para);
        } else if let Some(h) = t.strip_prefix("### ").or_else(|| t.strip_prefix("## ")) {
            flush_para(&mut out, &mut para);
            let _ = write!(out, "<h3>{}</h3>", inline(h));
        } else {
            para.push(t);
        }
    }
    flush_table(&mut out, &mut table);
    flush_para(&mut out, &mut para);
    if list {
        out.push_str("</ul>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_blocks_and_escapes() {
        let html = markdown("A `<x>` **b**\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n## H");
        assert_eq!(
            html,
            "<p>A <code>&lt;x&gt;</code> <strong>b</strong></p><ul><li>one</li><li>two</li></ul>\
             <table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table><h3>H</h3>"
        );
    }

    #[test]
    fn every_operation_is_on_the_page() {
        let doc = serde_json::to_value(crate::openapi::document()).unwrap();
        let page = render(&doc);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let id = op["operationId"].as_str().unwrap();
                    assert!(page.contains(&format!("id=\"op-{}\"", anchor(id))), "{method} {path}");
                    assert!(page.contains(&format!("<code>{}</code>", esc(path))), "{path}");
                }
            }
        }
        // Self-contained: nothing for the browser to fetch.
        for asset in ["<script", "<link", " src=", "@import", "url("] {
            assert!(!page.contains(asset), "{asset}");
        }
    }
}
