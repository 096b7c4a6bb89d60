//! Rate-limit counters in Redis, so that every partnerd process behind a load balancer enforces
//! one limit per key. One round trip per request: a Lua script increments every window's
//! counter and sets its expiry atomically.

use async_trait::async_trait;
use partnerd_domain::rate_limit::WindowSlot;
use partnerd_services::{CounterError, RateCounter};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

const SCRIPT: &str = r"
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, ARGV[i]) end
  counts[i] = n
end
return counts
";

/// A slow Redis must not slow the API: past this, the request is counted in process instead.
const TIMEOUT: Duration = Duration::from_millis(250);

pub struct RedisCounter {
    conn: ConnectionManager,
    script: redis::Script,
    namespace: String,
}

impl RedisCounter {
    /// Connects to `url` (`redis://host:port/db`), failing if Redis does not answer. Keys live
    /// under `namespace:` so that separate deployments can share one Redis.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, CounterError> {
        let counter = Self::lazy(url, namespace)?;
        tokio::time::timeout(Duration::from_secs(5), counter.ping())
            .await
            .map_err(|_| CounterError(format!("timed out connecting to Redis at {url}")))?
            .map_err(|e| CounterError(format!("cannot connect to Redis at {url}: {}", e.0)))?;
        Ok(counter)
    }

    /// A counter for `url` that connects on first use, so it can be made while Redis is down;
    /// only an invalid URL is an error.
    pub fn lazy(url: &str, namespace: &str) -> Result<Self, CounterError> {
        let client = redis::Client::open(url).map_err(|e| CounterError(format!("invalid Redis URL: {e}")))?;
        // One connection attempt per use, bounded: the rate limiter's breaker decides when to
        // try again, rather than the manager retrying while a request waits.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| CounterError(format!("invalid Redis configuration: {e}")))?;
        Ok(Self { conn, script: redis::Script::new(SCRIPT), namespace: namespace.to_owned() })
    }

    async fn ping(&self) -> Result<(), CounterError> {
        let mut conn = self.conn.clone();
        tokio::time::timeout(TIMEOUT, redis::cmd("PING").query_async::<String>(&mut conn))
            .await
            .map_err(|_| CounterError("Redis did not answer in time".into()))?
            .map(drop)
            .map_err(|e| CounterError(e.to_string()))
    }
}

#[async_trait]
impl RateCounter for RedisCounter {
    async fn hit(&self, bucket: &str, slots: &[WindowSlot]) -> Result<Vec<u64>, CounterError> {
        let mut invocation = self.script.prepare_invoke();
        for slot in slots {
            // The hash tag keeps one bucket's keys in one cluster slot, as scripts require.
            invocation.key(format!("{}:rl:{{{bucket}}}:{}:{}", self.namespace, slot.window.name(), slot.index));
            invocation.arg(slot.window.seconds() + 60);
        }
        let mut conn = self.conn.clone();
        tokio::time::timeout(TIMEOUT, invocation.invoke_async::<Vec<u64>>(&mut conn))
            .await
            .map_err(|_| CounterError("Redis did not answer in time".into()))?
            .map_err(|e| CounterError(e.to_string()))
    }

    async fn probe(&self) -> Result<(), CounterError> {
        self.ping().await
    }

    fn shared(&self) -> bool {
        true
    }
}
