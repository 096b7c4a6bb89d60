//! Wiring: configuration, choosing the store from the database URL, starting the server. The
//! binary (`main.rs`) is a thin CLI over this, and the integration tests start servers with it.

pub mod config;
pub mod http;
pub mod server;

use partnerd_store::Store;
use std::sync::Arc;

/// Opens the store a URL names, creating and migrating it as needed: `sqlite://…` (the
/// default, embedded) or `postgres://…` / `postgresql://…`.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = partnerd_store_postgres::PostgresStore::connect(url).await.map_err(|e| e.to_string())?;
        Ok(store)
    } else if let Some(path) = partnerd_store_sqlite::path_from_url(url) {
        let store = tokio::task::spawn_blocking(move || partnerd_store_sqlite::SqliteStore::open(&path))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok(store)
    } else {
        Err(format!("unsupported database URL '{url}': use sqlite://FILE or postgres://…"))
    }
}
