//! The HTTP sender against raw local peers: what it refuses, and what it does not follow.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use partnerd_services::webhooks::WebhookSender;
use partnerd_webhooks::HttpSender;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A peer that answers every connection with `response` after `delay`.
async fn peer(response: &'static str, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let _ = sock.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/hook")
}

#[tokio::test]
async fn private_targets_are_refused_before_anything_is_sent() {
    let sender = HttpSender::new(false, Duration::from_secs(2)).unwrap();
    let out = sender.send("http://127.0.0.1:9/hook", &[], b"{}").await;
    assert!(out.status.is_none() && out.error.as_deref().unwrap().contains("may not reach"), "{out:?}");
    let out = sender.send("https://[::1]:9/hook", &[], b"{}").await;
    assert!(out.error.as_deref().unwrap().contains("may not reach"), "{out:?}");
    // A name that resolves only to loopback is refused by the resolver.
    let out = sender.send("https://localhost:9/hook", &[], b"{}").await;
    assert!(out.status.is_none());
    assert!(out.error.as_deref().unwrap().contains("may not reach"), "{out:?}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let url =
        peer("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n", Duration::ZERO)
            .await;
    let out = HttpSender::new(true, Duration::from_secs(2)).unwrap().send(&url, &[], b"{}").await;
    assert_eq!(out.status, Some(302));
    assert_eq!(out.error.as_deref(), Some("HTTP 302"));
}

#[tokio::test]
async fn slow_receivers_time_out() {
    let url = peer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Duration::from_secs(5)).await;
    let out = HttpSender::new(true, Duration::from_millis(300)).unwrap().send(&url, &[], b"{}").await;
    assert_eq!(out.status, None);
    assert!(out.error.as_deref().unwrap().contains("timed out"), "{out:?}");
    assert!(out.latency_ms >= 300 && out.latency_ms < 3_000);
}

#[tokio::test]
async fn retry_after_and_large_bodies_are_handled() {
    let url =
        peer("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 2\r\n\r\nno", Duration::ZERO).await;
    let out = HttpSender::new(true, Duration::from_secs(2)).unwrap().send(&url, &[], b"{}").await;
    assert_eq!((out.status, out.retry_after.as_deref()), (Some(429), Some("120")));
    static BIG: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    let big = BIG.get_or_init(|| {
        Box::leak(format!("HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n{}", "x".repeat(200_000)).into_boxed_str())
    });
    let url = peer(big, Duration::ZERO).await;
    let out = HttpSender::new(true, Duration::from_secs(2)).unwrap().send(&url, &[], b"{}").await;
    assert_eq!((out.status, out.error), (Some(200), None));
}
