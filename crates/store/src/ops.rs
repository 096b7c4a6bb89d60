//! What operations endpoints ask a store: is it there and current, how deep is the delivery
//! queue, how busy is the pool. Kept apart from the aggregates' traits: none of it is a use case.

use crate::StoreResult;
use async_trait::async_trait;

/// Connections of the backend's pool, as it reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Open connections waiting to be used.
    pub idle: u64,
    /// Connections lent out now, where the pool counts them (PostgreSQL).
    pub in_use: Option<u64>,
    /// Most connections the pool opens (PostgreSQL); `None` when it opens more on demand.
    pub max: Option<u64>,
}

#[async_trait]
pub trait OpsStore: Send + Sync {
    /// The newest migration applied to the database: a real round trip, so it also proves the
    /// database answers.
    async fn schema_version(&self) -> StoreResult<i64>;

    /// The newest migration this binary knows.
    fn known_schema_version(&self) -> i64;

    /// Deliveries waiting to be sent (pending, due or not): an indexed count.
    async fn delivery_backlog(&self) -> StoreResult<u64>;

    fn pool_status(&self) -> PoolStatus;
}
