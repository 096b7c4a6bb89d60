//! Hardening: hostile addresses, slow clients, a Redis that goes away.

use crate::common::*;
use serde_json::json;

const HOOKS: &str = "/api/v1/partners/webhooks";

on_both_backends!(ipv6_forms_of_private_addresses_are_refused_as_webhook_targets, |backend| async move {
    let Some(database_url) = fresh_database(backend).await else { return };
    let app = spawn_with(&database_url, fixed_clock(), None, false).await;
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (_, plain_private) =
        app.post(HOOKS, &a.api_key, json!({ "url": "https://127.0.0.1/hook", "events": ["listing.updated"] })).await;
    for url in [
        "https://[::127.0.0.1]/",
        "https://[2002:7f00:1::1]/",
        "https://[::ffff:169.254.169.254]/latest",
        "https://[64:ff9b::10.0.0.8]/x",
        "https://[64:ff9b:1::a00:8]/x",
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",
    ] {
        let (status, body) = app.post(HOOKS, &a.api_key, json!({ "url": url, "events": ["listing.updated"] })).await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["error"], plain_private["error"], "{url}: the same refusal as for 127.0.0.1");
    }
    let (status, body) = app
        .post(HOOKS, &a.api_key, json!({ "url": "https://[2002:808:808::1]/hook", "events": ["listing.updated"] }))
        .await;
    assert_eq!(status, 201, "6to4 of a public address is a public address: {body}");
});
