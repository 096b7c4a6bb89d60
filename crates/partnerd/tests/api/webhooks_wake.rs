//! The delivery worker is woken by the commit that created deliveries, not by its poll: with a
//! poll far longer than the bound asserted, a delivery still goes out at once; and on
//! PostgreSQL another process (another store, its own pool and `LISTEN` connection) hears the
//! commit through `NOTIFY`; and a backlog larger than one endpoint's queue drains without it.

use crate::common::*;
use partnerd::server::{self, ServerOptions};
use partnerd_store::WebhookStore;
use serde_json::json;
use std::time::{Duration, Instant};

/// Far longer than any bound below: a delivery that waited for the poll fails the test.
const LONG_POLL: Duration = Duration::from_secs(30);
/// Generous, for a loaded machine; still far below the poll.
const PROMPTLY: Duration = Duration::from_secs(5);

/// As `spawn_app`, with a dispatcher that polls only every [`LONG_POLL`].
async fn spawn_slow_poller(backend: Backend) -> Option<TestApp> {
    let database_url = fresh_database(backend).await?;
    let clock = fixed_clock();
    let server = server::start(ServerOptions {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        redis_url: None,
        plans: test_plans(),
        clock: clock.clone(),
        invalidation_interval: Duration::from_millis(50),
        schedule_interval: Duration::from_secs(3600),
        allow_private_webhooks: true,
        webhook_schedule: test_schedule(),
        dispatcher: partnerd_webhooks::DispatcherOptions { poll: LONG_POLL, ..Default::default() },
        billing: Default::default(),
        sandbox: Default::default(),
        public_url: None,
    })
    .await
    .expect("server starts");
    Some(TestApp { base: format!("http://{}", server.addr), database_url, clock, http: Http::new(), server })
}

/// A partner with a webhook for `listing.created` pointing at a fresh receiver.
async fn subscribed_partner(app: &TestApp) -> (TestPartner, Receiver) {
    let partner = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let receiver = Receiver::start().await;
    let (status, body) = app
        .post(
            "/api/v1/partners/webhooks",
            &partner.api_key,
            json!({ "url": receiver.url, "events": ["listing.created"] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (partner, receiver)
}

on_both_backends!(a_delivery_goes_out_at_its_commit_not_at_the_poll, |backend| async move {
    let Some(app) = spawn_slow_poller(backend).await else { return };
    let (partner, receiver) = subscribed_partner(&app).await;
    // Let the worker finish its first look and settle into its (long) wait.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for n in 1..=3 {
        let started = Instant::now();
        let (status, _) =
            app.post("/api/v1/partners/listings", &partner.api_key, json!({ "title": format!("Wake {n}") })).await;
        assert_eq!(status, 201);
        while receiver.received().len() < n {
            assert!(started.elapsed() < PROMPTLY, "delivery {n} waited for the poll ({:?})", started.elapsed());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(receiver.received()[n - 1].body.contains(&format!("Wake {n}")));
        // Idle again before the next one.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
});

/// Another process's store hears this one's commit: `NOTIFY` at COMMIT, its `LISTEN`
/// connection, its wake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_postgres_process_is_woken_by_notify() {
    let Some(app) = spawn_slow_poller(Backend::Postgres).await else { return };
    let other = partnerd_store_postgres::PostgresStore::connect(&app.database_url).await.expect("second store");
    let mut waiter = other.delivery_wake().subscribe();
    // Its listener wakes once when it starts listening (perhaps before this subscribed, which
    // then does not see it): after that, it hears commits.
    let _ = waiter.wait(Duration::from_secs(1)).await;
    waiter.mark_seen();
    let (partner, receiver) = subscribed_partner(&app).await;
    // (No check that other commits stay silent: tests in other schemas of this database share
    // the channel.)
    waiter.mark_seen();
    let (status, _) = app.post("/api/v1/partners/listings", &partner.api_key, json!({ "title": "Heard" })).await;
    assert_eq!(status, 201);
    let started = Instant::now();
    assert!(waiter.wait(PROMPTLY).await, "the second store was not woken by the first one's commit");
    assert!(started.elapsed() < PROMPTLY);
    // And the first process's own worker delivered it without waiting for its poll.
    while receiver.received().is_empty() {
        assert!(started.elapsed() < PROMPTLY, "the delivery waited for the poll");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A backlog larger than the worker holds for one endpoint (256 deliveries) drains without the
/// poll: while the endpoint's queue is full the worker looks again as it drains. The backlog is
/// one commit of another process (an import through a second store), heard by `NOTIFY`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_beyond_one_endpoints_queue_drains_without_the_poll() {
    use partnerd_domain::listing::ListingPatch;
    const BACKLOG: usize = 600;
    let Some(app) = spawn_slow_poller(Backend::Postgres).await else { return };
    let (partner, receiver) = subscribed_partner(&app).await;
    let importer = server::build_services(&app.database_url, None, test_plans(), app.clock.clone())
        .await
        .expect("a second process's services");
    let marketplace = importer.partners().bootstrap().await.unwrap().marketplace.id;
    let patches =
        (0..BACKLOG).map(|i| ListingPatch { title: Some(format!("Backlog {i}")), ..Default::default() }).collect();
    importer.listings().import(&marketplace, &partner.partner_id, patches).await.expect("the import commits");
    let started = Instant::now();
    loop {
        let delivered = receiver.received().len();
        if delivered >= BACKLOG {
            break;
        }
        assert!(started.elapsed() < 3 * PROMPTLY, "{delivered} of {BACKLOG} delivered: the rest waited for the poll");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
