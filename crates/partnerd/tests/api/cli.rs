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
            // The operator's way into the dashboard, at the address it listens on.
            let link = format!("http://{addr}/dashboard/invitation/");
            assert!(stdout.contains(&link), "{link} in {stdout}");
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

fn partnerd_at(database_url: &str, public_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_partnerd"))
        .args(args)
        .env("PARTNERD_DATABASE_URL", database_url)
        .env("PARTNERD_PUBLIC_URL", public_url)
        .env_remove("PARTNERD_CONFIG")
        .env("PARTNERD_LOG", "warn")
        .output()
        .expect("run partnerd")
}

/// The path of a printed dashboard link that starts with the server's own address.
fn link_path(app: &TestApp, url: &serde_json::Value) -> String {
    let url = url.as_str().unwrap_or_else(|| panic!("no link in {url}"));
    let path = url.strip_prefix(&app.base).unwrap_or_else(|| panic!("{url} does not start with {}", app.base));
    assert!(path.starts_with("/dashboard/invitation/"), "{path}");
    path.to_owned()
}

/// The server learns of another process's change from the event log within its poll interval
/// (half a second): waits up to 3 s for the profile to answer `status`, and returns its body.
async fn profile_becomes(app: &TestApp, key: &str, status: u16) -> serde_json::Value {
    let mut last = (0, serde_json::Value::Null);
    for _ in 0..60 {
        last = app.read("/api/v1/partners/profile", key).await;
        if last.0 == status {
            return last.1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the profile answers {} ({}), not {status}", last.0, last.1);
}

on_both_backends!(dashboard_links_plans_and_suspension_from_the_cli, |backend| async move {
    use crate::dashboard::{Browserless, PASSWORD};
    let Some(app) = spawn_app(backend).await else { return };
    let run = |args: &[&str]| stdout_json(&partnerd_at(&app.database_url, &app.base, args));
    let app_ref = &app;

    // `partners create` prints the admin's invitation link under the public URL; it works once.
    let created = run(&["partners", "create", "--name", "Acme Corp", "--email", "admin@acme.com", "--json"]);
    let path = link_path(&app, &created["invitation_url"]);
    let mut b = Browserless::new(&app);
    b.get(&path).await.has("admin@acme.com");
    let done = b.post(&path, &[("password", PASSWORD), ("password_confirmation", PASSWORD)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(b.get("/dashboard/settings/api-keys").await.status, 200);

    // A new user of that partner, invited by the CLI, with a role.
    let partner = created["partner_id"].as_str().unwrap();
    let invited =
        run(&["users", "invite", "--email", "ops@acme.com", "--partner", partner, "--role", "developer", "--json"]);
    assert_eq!(invited["email"], "ops@acme.com");
    assert_eq!(Browserless::new(&app).get(&link_path(&app, &invited["invitation_url"])).await.status, 200);
    // A new e-mail without a place to join is a usage error.
    let out = partnerd_at(&app.database_url, &app.base, &["users", "invite", "--email", "nobody@acme.com"]);
    assert!(!out.status.success());
    let listed = run(&["users", "list", "--json"]);
    let users = listed.as_array().unwrap();
    let admin = users.iter().find(|u| u["email"] == "admin@acme.com").unwrap();
    assert_eq!(admin["has_password"], true);
    let ops = users.iter().find(|u| u["email"] == "ops@acme.com").unwrap();
    assert_eq!(ops["has_password"], false);
    assert_eq!(ops["partner_id"], created["partner_id"]);

    // A reset link signs the admin out everywhere once used.
    let reset = run(&["users", "reset", "--email", "admin@acme.com", "--json"]);
    assert_eq!(reset["purpose"], "reset");
    let path = link_path(&app, &reset["invitation_url"]);
    let mut other = Browserless::new(&app);
    other.get(&path).await;
    let new_password = "another long passphrase";
    let done = other.post(&path, &[("password", new_password), ("password_confirmation", new_password)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(b.get("/dashboard/settings/api-keys").await.status, 303, "the old session ended");

    // Plan and suspension reach the running server's cached key (another process's change).
    let key = created["api_key"].as_str().unwrap();
    let changed = run(&["partners", "update", partner, "--plan", "enterprise", "--json"]);
    assert_eq!(changed["plan"], "enterprise");
    let mut plan = serde_json::Value::Null;
    for _ in 0..60 {
        plan = profile_becomes(app_ref, key, 200).await["data"]["plan"].clone();
        if plan == "enterprise" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(plan, "enterprise");
    assert_eq!(run(&["partners", "update", partner, "--suspend", "--json"])["suspended"], true);
    profile_becomes(app_ref, key, 403).await;
    assert_eq!(run(&["partners", "update", partner, "--resume", "--json"])["suspended"], false);
    profile_becomes(app_ref, key, 200).await;
    let out = partnerd_at(&app.database_url, &app.base, &["partners", "update", partner]);
    assert_eq!(out.status.code(), Some(2), "nothing to change is a usage error");
    let out = partnerd_at(&app.database_url, &app.base, &["partners", "update", partner, "--plan", "nope"]);
    assert_eq!(out.status.code(), Some(2), "an unknown plan: {}", String::from_utf8_lossy(&out.stderr));
});
