//! One signed POST per attempt, guarded against server-side request forgery.

use async_trait::async_trait;
use partnerd_domain::webhooks::forbidden_address;
use partnerd_services::webhooks::{SendOutcome, WebhookSender};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Response bodies are read (so connections can be reused) up to this much, then dropped.
const BODY_LIMIT: usize = 64 * 1024;

pub struct HttpSender {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

/// Resolves names and keeps only addresses deliveries may reach, so a public name that
/// resolves (or is re-bound) to a private address is refused at connect time.
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let allowed = reachable(tokio::net::lookup_host((host.as_str(), 0)).await?);
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to addresses webhooks may not reach").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The resolved addresses a delivery may connect to.
fn reachable(found: impl IntoIterator<Item = SocketAddr>) -> Vec<SocketAddr> {
    found.into_iter().filter(|a| !forbidden_address(a.ip())).collect()
}

impl HttpSender {
    pub fn new(allow_private: bool, timeout: Duration) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("partnerd-webhooks/", env!("CARGO_PKG_VERSION")))
            // Up to the dispatcher's shared request slots may go to one host (many webhooks of one
            // receiver): keep a quarter of them open between bursts.
            .pool_max_idle_per_host(64)
            .no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        let client = builder.build().map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self { client, allow_private, timeout })
    }

    /// IP literals never reach the resolver, so they are checked here.
    fn literal_refused(&self, url: &str) -> Option<String> {
        if self.allow_private {
            return None;
        }
        let parsed = url::Url::parse(url).ok()?;
        let ip: IpAddr = match parsed.host()? {
            url::Host::Ipv4(a) => a.into(),
            url::Host::Ipv6(a) => a.into(),
            url::Host::Domain(_) => return None,
        };
        forbidden_address(ip).then(|| format!("{ip} is an address webhooks may not reach"))
    }
}

fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} s", timeout.as_secs());
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg.chars().take(500).collect()
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn send(&self, url: &str, headers: &[(&'static str, String)], body: &[u8]) -> SendOutcome {
        if let Some(reason) = self.literal_refused(url) {
            return SendOutcome { status: None, latency_ms: 0, error: Some(reason), retry_after: None };
        }
        let started = Instant::now();
        let mut req = self.client.post(url).body(body.to_vec());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let outcome = match req.send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let retry_after =
                    resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                let mut read = 0usize;
                while let Ok(Some(chunk)) = resp.chunk().await {
                    read += chunk.len();
                    if read > BODY_LIMIT {
                        break;
                    }
                }
                let error = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
                SendOutcome { status: Some(status), latency_ms: 0, error, retry_after }
            }
            Err(e) => {
                SendOutcome { status: None, latency_ms: 0, error: Some(describe(&e, self.timeout)), retry_after: None }
            }
        };
        SendOutcome { latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX), ..outcome }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resolver_drops_ipv6_forms_of_private_ipv4_addresses() {
        let found: Vec<SocketAddr> = [
            "[::127.0.0.1]:0",
            "[2002:7f00:1::1]:0",
            "[::ffff:10.0.0.1]:0",
            "[64:ff9b::7f00:1]:0",
            "[2001:0:1:2::80ff:fffe]:0",
            "[2606:4700:4700::1111]:0",
            "1.1.1.1:0",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let kept: Vec<String> = reachable(found).iter().map(ToString::to_string).collect();
        assert_eq!(kept, ["[2606:4700:4700::1111]:0", "1.1.1.1:0"]);
    }

    #[tokio::test]
    async fn ip_literal_urls_that_embed_loopback_are_not_sent() {
        let sender = HttpSender::new(false, Duration::from_secs(1)).unwrap();
        for url in ["https://[::127.0.0.1]:9/", "https://[2002:7f00:1::1]:9/"] {
            let outcome = sender.send(url, &[], b"{}").await;
            assert_eq!(outcome.status, None, "{url}");
            assert!(outcome.error.unwrap().contains("may not reach"), "{url}");
        }
    }
}
