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

// ---- slow clients ----

use partnerd::http::HttpLimits;
use partnerd::server::{self, ServerOptions};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longer than any test should wait: reaching it means the server held the connection.
const HOLD: Duration = Duration::from_secs(30);

fn short_limits() -> HttpLimits {
    HttpLimits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        max_connections: 1_000,
    }
}

async fn spawn_limited(backend: Backend, limits: HttpLimits) -> Option<TestApp> {
    let database_url = fresh_database(backend).await?;
    let clock = fixed_clock();
    let server = server::start_with(
        ServerOptions {
            listen: "127.0.0.1:0".into(),
            database_url: database_url.clone(),
            redis_url: None,
            plans: test_plans(),
            clock: clock.clone(),
            invalidation_interval: Duration::from_millis(50),
            schedule_interval: Duration::from_secs(3600),
            allow_private_webhooks: true,
            webhook_schedule: test_schedule(),
            dispatcher: partnerd_webhooks::DispatcherOptions::default(),
            billing: Default::default(),
            sandbox: Default::default(),
            public_url: None,
        },
        limits,
    )
    .await
    .expect("server starts");
    Some(TestApp { base: format!("http://{}", server.addr), database_url, clock, http: Http::new(), server })
}

/// Everything the server sends until it closes the connection; fails if it never does.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(HOLD, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open; it sent {:?}", String::from_utf8_lossy(&got));
    String::from_utf8_lossy(&got).into_owned()
}

/// Reads until `end` has arrived (one whole small response), failing if it never does.
async fn until_contains(stream: &mut TcpStream, end: &str) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(HOLD, async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains(end) {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(read.is_ok() && text.contains(end), "no complete response: {text:?}");
    text
}

async fn wait_for_open_connections(app: &TestApp, n: usize) {
    let reached = tokio::time::timeout(HOLD, async {
        while app.server.open_connections() != n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(reached.is_ok(), "open connections stayed at {}, not {n}", app.server.open_connections());
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: partnerd\r\n\r\n";

on_both_backends!(a_request_that_stalls_in_its_headers_is_closed, |backend| async move {
    let Some(app) = spawn_limited(backend, short_limits()).await else { return };
    let mut half = TcpStream::connect(app.server.addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: partnerd\r\nX-Slow: ").await.unwrap();
    let mut silent = TcpStream::connect(app.server.addr).await.unwrap();
    let sent = until_closed(&mut half).await;
    assert!(!sent.contains("200 OK"), "{sent}");
    until_closed(&mut silent).await;
    wait_for_open_connections(&app, 0).await;
    // Still serving.
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
});

on_both_backends!(a_request_body_that_stalls_is_refused_and_closed, |backend| async move {
    let Some(app) = spawn_limited(backend, short_limits()).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut slow = TcpStream::connect(app.server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/partners/listings HTTP/1.1\r\nHost: partnerd\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"title\":",
        p.api_key
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let answer = until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"success\":false"), "the surface's error envelope: {answer}");
    let (_, listings) = app.read("/api/v1/partners/listings", &p.api_key).await;
    assert_eq!(listings["data"].as_array().map(Vec::len), Some(0), "{listings}");
});

on_both_backends!(an_idle_kept_alive_connection_is_closed, |backend| async move {
    let Some(app) = spawn_limited(backend, short_limits()).await else { return };
    let mut idle = TcpStream::connect(app.server.addr).await.unwrap();
    idle.write_all(HEALTHZ).await.unwrap();
    let sent = until_closed(&mut idle).await;
    assert!(sent.starts_with("HTTP/1.1 200"), "answered first, then closed when idle: {sent}");
});

on_both_backends!(connections_beyond_the_cap_wait_until_one_closes, |backend| async move {
    let limits = HttpLimits { max_connections: 2, ..HttpLimits::default() };
    let Some(app) = spawn_limited(backend, limits).await else { return };
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(app.server.addr).await.unwrap();
        c.write_all(HEALTHZ).await.unwrap();
        until_contains(&mut c, "\"ok\"}").await;
        held.push(c);
    }
    assert_eq!(app.server.open_connections(), 2);
    // The third is in the listen backlog: connected, but not served while both are held.
    let mut third = TcpStream::connect(app.server.addr).await.unwrap();
    third.write_all(HEALTHZ).await.unwrap();
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await.is_err(),
        "a connection beyond the cap was served"
    );
    assert_eq!(app.server.open_connections(), 2);
    drop(held.remove(0));
    let answer = until_contains(&mut third, "\"ok\"}").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(app.server.open_connections(), 2);
    drop(held);
    drop(third);
    wait_for_open_connections(&app, 0).await;
});

on_both_backends!(shutdown_lets_an_in_flight_request_finish, |backend| async move {
    let Some(mut app) = spawn_limited(backend, HttpLimits::default()).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut c = TcpStream::connect(app.server.addr).await.unwrap();
    let body = r#"{"title":"Sent across shutdown"}"#;
    let head = format!(
        "POST /api/v1/partners/listings HTTP/1.1\r\nHost: partnerd\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        p.api_key,
        body.len()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    // The handler asks for the body: the request is in flight.
    until_contains(&mut c, "100 Continue\r\n\r\n").await;
    app.server.trigger_shutdown();
    c.write_all(body.as_bytes()).await.unwrap();
    let answer = until_closed(&mut c).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    tokio::time::timeout(HOLD, app.server.wait()).await.expect("the server stops").unwrap();
});

// ---- Redis outage ----

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A TCP proxy in front of Redis that can be made unreachable: while down it accepts each
/// connection attempt, counts it and closes it, and it cuts the connections it was carrying.
struct RedisProxy {
    url: String,
    shared: Arc<ProxyShared>,
}

struct ProxyShared {
    target: Option<SocketAddr>,
    up: AtomicBool,
    attempts_while_down: AtomicUsize,
    /// Script calls (`EVAL…`) carried to Redis: one per request counted there (probes are PINGs).
    counted: AtomicUsize,
    pipes: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl RedisProxy {
    /// In front of `target`; with `None`, a Redis that is down for good.
    async fn start(target: Option<SocketAddr>) -> RedisProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}/", listener.local_addr().unwrap());
        let shared = Arc::new(ProxyShared {
            target,
            up: AtomicBool::new(target.is_some()),
            attempts_while_down: AtomicUsize::new(0),
            counted: AtomicUsize::new(0),
            pipes: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                if !s.up.load(Ordering::SeqCst) {
                    s.attempts_while_down.fetch_add(1, Ordering::SeqCst);
                    drop(client);
                    continue;
                }
                let target = s.target.unwrap();
                let s2 = s.clone();
                let pipe = tokio::spawn(async move {
                    let Ok(mut redis) = TcpStream::connect(target).await else { return };
                    let (mut from_client, mut to_client) = client.split();
                    let (mut from_redis, mut to_redis) = redis.split();
                    let upstream = async {
                        let mut buf = [0u8; 8192];
                        loop {
                            match from_client.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => {
                                    let calls = buf[..n].windows(4).filter(|w| w == b"EVAL").count();
                                    s2.counted.fetch_add(calls, Ordering::SeqCst);
                                    if to_redis.write_all(&buf[..n]).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    };
                    tokio::select! {
                        () = upstream => {}
                        _ = tokio::io::copy(&mut from_redis, &mut to_client) => {}
                    }
                });
                s.pipes.lock().unwrap().push(pipe);
            }
        });
        RedisProxy { url, shared }
    }

    fn down(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        for pipe in self.shared.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    fn up(&self) {
        self.shared.up.store(true, Ordering::SeqCst);
    }

    fn attempts_while_down(&self) -> usize {
        self.shared.attempts_while_down.load(Ordering::SeqCst)
    }

    fn counted(&self) -> usize {
        self.shared.counted.load(Ordering::SeqCst)
    }
}

on_both_backends!(serve_starts_while_redis_is_down_and_counts_locally, |backend| async move {
    let Some(database_url) = fresh_database(backend).await else { return };
    // A closed port: the server starts anyway and serves.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("redis://{}/", l.local_addr().unwrap())
    };
    let app = spawn_on(&database_url, fixed_clock(), Some(closed)).await;
    let p = app.partner("Acme Corp", "admin@acme.com", "tiny").await;
    assert_eq!(app.read("/api/v1/partners/profile", &p.api_key).await.0, 200);
    app.server.stop().await.unwrap();

    // A Redis that accepts connections and drops them, counting the attempts.
    let dead = RedisProxy::start(None).await;
    let app = spawn_on(&database_url, fixed_clock(), Some(dead.url.clone())).await;
    // `tiny` allows 3 a minute: counted in process, the 4th and later are refused.
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(app.read("/api/v1/partners/profile", &p.api_key).await.0);
    }
    assert_eq!(&statuses[..4], [200, 200, 200, 429]);
    assert!(statuses[4..].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(
        dead.attempts_while_down() < 10,
        "{} connection attempts for 60 requests: each request should not try Redis",
        dead.attempts_while_down()
    );
});

on_both_backends!(requests_count_locally_while_redis_is_unreachable_and_use_it_again_after, |backend| async move {
    let Some(redis) = redis_url() else { return };
    let Some(database_url) = fresh_database(backend).await else { return };
    let target = reqwest::Url::parse(&redis).unwrap().socket_addrs(|| Some(6379)).unwrap()[0];
    let proxy = RedisProxy::start(Some(target)).await;
    let app = spawn_on(&database_url, fixed_clock(), Some(proxy.url.clone())).await;
    let p = app.partner("Acme Corp", "admin@acme.com", "enterprise").await;

    let before = proxy.counted();
    assert_eq!(app.read("/api/v1/partners/profile", &p.api_key).await.0, 200);
    assert_eq!(proxy.counted(), before + 1, "counted in Redis");

    proxy.down();
    for _ in 0..100 {
        let r = app.get("/api/v1/partners/profile", &p.api_key).await;
        assert_eq!(r.status(), 200);
        assert!(r.headers().contains_key("x-ratelimit-remaining"), "still limited, in process");
    }
    assert!(
        proxy.attempts_while_down() < 10,
        "{} connection attempts for 100 requests: each request should not try Redis",
        proxy.attempts_while_down()
    );

    proxy.up();
    let back = tokio::time::timeout(HOLD, async {
        loop {
            let before = proxy.counted();
            assert_eq!(app.read("/api/v1/partners/profile", &p.api_key).await.0, 200);
            if proxy.counted() > before {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(back.is_ok(), "requests were not counted in Redis again after it came back");
});
