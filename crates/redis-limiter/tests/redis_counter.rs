//! Against the real Redis named by PARTNERD_TEST_REDIS_URL (skipped when unset).

use chrono::{TimeZone, Utc};
use partnerd_domain::rate_limit::{Limits, slots};
use partnerd_redis_limiter::RedisCounter;
use partnerd_services::RateCounter;

async fn counter(namespace: &str) -> Option<RedisCounter> {
    let Ok(url) = std::env::var("PARTNERD_TEST_REDIS_URL") else {
        eprintln!("PARTNERD_TEST_REDIS_URL not set: skipping Redis test");
        return None;
    };
    Some(RedisCounter::connect(&url, namespace).await.expect("connect to Redis"))
}

#[tokio::test]
async fn two_connections_share_one_count_per_window() {
    let ns = format!("partnerd-test-{}", partnerd_domain::ids::random_token(10));
    let (Some(a), Some(b)) = (counter(&ns).await, counter(&ns).await) else { return };
    let limits = Limits { per_minute: Some(60), per_hour: Some(5_000), per_day: Some(1_000) };
    let now = Utc.with_ymd_and_hms(2025, 1, 8, 12, 0, 30).unwrap();
    let s = slots(&limits, now);
    assert_eq!(a.hit("key_1", &s).await.unwrap(), vec![1, 1, 1]);
    assert_eq!(b.hit("key_1", &s).await.unwrap(), vec![2, 2, 2]);
    assert_eq!(b.hit("key_2", &s).await.unwrap(), vec![1, 1, 1], "buckets are separate");
    // The next minute starts a new minute counter; hour and day go on.
    let next = slots(&limits, now + chrono::Duration::minutes(1));
    assert_eq!(a.hit("key_1", &next).await.unwrap(), vec![1, 3, 3]);
}

#[tokio::test]
async fn an_unreachable_redis_is_reported_not_hung() {
    if std::env::var("PARTNERD_TEST_REDIS_URL").is_err() {
        return;
    }
    // Nothing listens on port 1.
    assert!(RedisCounter::connect("redis://127.0.0.1:1/", "x").await.is_err());
}

#[tokio::test]
async fn a_lazy_counter_is_made_while_redis_is_down_and_reports_each_use() {
    // Nothing listens on port 1: making the counter succeeds, using it fails without hanging.
    let counter = RedisCounter::lazy("redis://127.0.0.1:1/", "x").expect("made without Redis");
    let s = slots(&Limits { per_minute: Some(1), per_hour: None, per_day: None }, Utc::now());
    assert!(counter.hit("k", &s).await.is_err());
    assert!(counter.probe().await.is_err());
    assert!(RedisCounter::lazy("not a url", "x").is_err(), "an invalid URL is still an error");
}

#[tokio::test]
async fn a_lazy_counter_counts_once_redis_answers() {
    let Ok(url) = std::env::var("PARTNERD_TEST_REDIS_URL") else { return };
    let ns = format!("partnerd-test-{}", partnerd_domain::ids::random_token(10));
    let counter = RedisCounter::lazy(&url, &ns).unwrap();
    counter.probe().await.expect("PING");
    let s = slots(&Limits { per_minute: Some(5), per_hour: None, per_day: None }, Utc::now());
    assert_eq!(counter.hit("k", &s).await.unwrap(), vec![1]);
    assert_eq!(counter.hit("k", &s).await.unwrap(), vec![2]);
}
