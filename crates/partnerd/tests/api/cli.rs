//! The `partnerd` binary itself: admin commands against a database a server is using.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn partnerd(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_partnerd"))
        .args(args)
        .env("PARTNERD_DATABASE_URL", database_url)
        .env_remove("PARTNERD_CONFIG")
        .env("PARTNERD_LOG", "warn")
        .output()
        .expect("run partnerd")
}

fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "exactly one JSON object: {text}");
    serde_json::from_str(&text).expect("stdout is JSON")
}

on_both_backends!(a_partner_created_by_the_cli_works_on_a_running_server, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let out = partnerd(
        &app.database_url,
        &[
            "partners",
            "create",
            "--name",
            "Acme Corp",
            "--email",
            "admin@acme.com",
            "--plan",
            "enterprise",
            "--role",
            "reseller",
            "--role",
            "developer",
            "--json",
        ],
    );
    let created = stdout_json(&out);
    for field in ["partner_id", "company_id", "user_id", "api_key", "key_id"] {
        assert!(created[field].as_str().is_some_and(|s| !s.is_empty()), "{field} in {created}");
    }
    let r = app.get("/api/v1/partners/profile", created["api_key"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-limit"), "1000", "enterprise plan");
    let body = json(r).await;
    assert_eq!(body["data"]["id"], created["partner_id"]);
    assert_eq!(body["data"]["plan"], "enterprise");

    let listed = stdout_json(&partnerd(&app.database_url, &["partners", "list", "--json"]));
    assert_eq!(listed[0]["partner_id"], created["partner_id"]);
});

on_both_backends!(keys_are_created_listed_without_secrets_and_revoked, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let created = stdout_json(&partnerd(
        &app.database_url,
        &["keys", "create", "--user", &p.user_id, "--name", "ci", "--allow-ip", "127.0.0.1", "--json"],
    ));
    let key = created["api_key"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/partners/profile", &key).await.status(), 200);

    let out = partnerd(&app.database_url, &["keys", "list", "--user", &p.user_id, "--json"]);
    let listed = stdout_json(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    for secret in [&key, &p.api_key] {
        assert!(!text.contains(secret.rsplit('_').next().unwrap()), "list shows a secret");
    }
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["name"], "ci");
    assert_eq!(listed[1]["allowed_ips"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(listed[1]["revoked_at"], serde_json::Value::Null);

    let revoked =
        stdout_json(&partnerd(&app.database_url, &["keys", "revoke", created["key_id"].as_str().unwrap(), "--json"]));
    assert!(revoked["revoked_at"].as_str().is_some());
    let mut status = 200;
    for _ in 0..100 {
        status = app.get("/api/v1/partners/profile", &key).await.status().as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, 401, "the running server stopped accepting the revoked key");
    assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200, "other keys still work");

    let out = partnerd(&app.database_url, &["keys", "revoke", "key_doesnotexist"]);
    assert_eq!(out.status.code(), Some(1));
});

#[test]
fn usage_errors_exit_2_with_one_line() {
    let dir = std::env::temp_dir().join(format!("partnerd-cli-{}", partnerd_domain::ids::random_token(10)));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("cli.db").display());
    let cases: &[&[&str]] = &[
        &["partners", "create", "--name", "Acme"],
        &["partners", "create", "--name", "Acme", "--email", "not-an-email"],
        &["partners", "create", "--name", "Acme", "--email", "a@acme.com", "--plan", "gold"],
        &["partners", "create", "--name", "Acme", "--email", "a@acme.com", "--role", "admin"],
        &["keys", "create", "--user", "user_x", "--allow-ip", "10.0.0.0/99"],
        &["frobnicate"],
    ];
    for args in cases {
        let out = partnerd(&db, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty());
    }
    let out = partnerd(&db, &["partners", "create", "--name", "Acme", "--email", "a@acme.com", "--plan", "gold"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("gold") && stderr.contains("starter"));
}

#[test]
fn other_failures_exit_1_with_a_reason() {
    let out = partnerd("mysql://nowhere/db", &["partners", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
    let out = partnerd("sqlite:///nonexistent-dir/sub/x.db", &["partners", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let dir = std::env::temp_dir().join(format!("partnerd-cli-{}", partnerd_domain::ids::random_token(10)));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("dup.db").display());
    let args = ["partners", "create", "--name", "Acme", "--email", "a@acme.com"];
    assert!(partnerd(&db, &args).status.success());
    let out = partnerd(&db, &args);
    assert_eq!(out.status.code(), Some(2), "the e-mail is taken: a refused value");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
}

#[test]
fn database_is_a_global_flag_and_sqlite_files_are_created() {
    let dir = std::env::temp_dir().join(format!("partnerd-cli-{}", partnerd_domain::ids::random_token(10)));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fresh.db");
    let url = format!("sqlite://{}", file.display());
    assert!(url.starts_with("sqlite:///"));
    let out = Command::new(env!("CARGO_BIN_EXE_partnerd"))
        .args(["partners", "create", "--database", &url, "--name", "Acme", "--email", "a@acme.com", "--json"])
        .env_remove("PARTNERD_DATABASE_URL")
        .output()
        .unwrap();
    let created = stdout_json(&out);
    assert!(created["api_key"].as_str().unwrap().starts_with("pdk_"));
    assert!(file.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("operator API key"), "a new database shows the operator key");
}

/// `serve` on a new database prints the operator key once, serves, and exits 0 on SIGTERM.
#[test]
fn serve_prints_the_operator_key_once_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("partnerd-serve-{}", partnerd_domain::ids::random_token(10)));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("serve.db").display());
    for run in 0..2 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_partnerd"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut addr = None;
        for line in stderr.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                addr = Some(rest.split_whitespace().next().unwrap().to_owned());
                break;
            }
        }
        let drain = std::thread::spawn(move || stderr.count());
        let addr = addr.expect("serve logs its address");
        let health = std::net::TcpStream::connect(&addr).is_ok();
        assert!(health, "serving on {addr}");
        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        drain.join().unwrap();
        assert!(out.status.success(), "graceful exit: {:?}", out.status);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if run == 0 {
            assert!(stdout.contains("Operator API key") && stdout.contains("pdk_"), "{stdout}");
            assert!(stdout.contains("partners create"));
        } else {
            assert!(!stdout.contains("pdk_"), "the key is shown only once");
        }
    }
}

on_both_backends!(listings_are_imported_all_or_nothing, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let dir = std::env::temp_dir().join(format!("partnerd-cli-{}", partnerd_domain::ids::random_token(10)));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(
        &good,
        serde_json::json!([
            { "title": "Enterprise Security Suite", "status": "active", "keywords": ["security"] },
            { "title": "Compliance Reports", "highlights": ["One-click audit evidence for SOC 2"] }
        ])
        .to_string(),
    )
    .unwrap();
    let out = partnerd(
        &app.database_url,
        &["listings", "import", "--partner", &p.partner_id, good.to_str().unwrap(), "--json"],
    );
    let created = stdout_json(&out);
    assert_eq!(created["created"].as_array().unwrap().len(), 2);
    let r = app.get("/api/v1/partners/listings", &p.api_key).await;
    let body = json(r).await;
    assert_eq!(body["meta"]["total"], 2);
    let titles: Vec<&str> = body["data"].as_array().unwrap().iter().map(|l| l["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"Enterprise Security Suite") && titles.contains(&"Compliance Reports"));

    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"[{"title": "Fine"}, {"title": "", "status": "live"}, {"tittle": "typo"}]"#).unwrap();
    let out = partnerd(&app.database_url, &["listings", "import", "--partner", &p.partner_id, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[1].status") && stderr.contains("[2].tittle"), "{stderr}");
    let body = json(app.get("/api/v1/partners/listings", &p.api_key).await).await;
    assert_eq!(body["meta"]["total"], 2, "a refused file writes nothing");

    let out = partnerd(
        &app.database_url,
        &["listings", "create", "--partner", &p.partner_id, "--title", "From the CLI", "--json"],
    );
    assert_eq!(stdout_json(&out)["created"].as_array().unwrap().len(), 1);
    let out = partnerd(&app.database_url, &["listings", "create", "--partner", "partner_nobody", "--title", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("partner not found"));
});
