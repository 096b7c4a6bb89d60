//! The store contract, on a fresh SQLite file per test.

use partnerd_store::Store;
use std::sync::Arc;

async fn fresh() -> Option<Arc<dyn Store>> {
    let dir = std::env::temp_dir().join(format!("partnerd-contract-{}", partnerd_domain::ids::random_token(12)));
    std::fs::create_dir_all(&dir).expect("create a test directory");
    Some(partnerd_store_sqlite::SqliteStore::open(&dir.join("test.db")).expect("open a test database"))
}

partnerd_store::store_contract_tests!(fresh().await);
