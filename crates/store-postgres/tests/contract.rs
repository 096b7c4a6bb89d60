//! The store contract on PostgreSQL, one fresh schema per test. Set PARTNERD_TEST_POSTGRES_URL
//! (the test script does when a server answers); without it these tests are skipped.

use partnerd_store::Store;
use std::sync::Arc;

async fn fresh() -> Option<Arc<dyn Store>> {
    let Ok(url) = std::env::var("PARTNERD_TEST_POSTGRES_URL") else {
        eprintln!("PARTNERD_TEST_POSTGRES_URL not set: skipping PostgreSQL contract test");
        return None;
    };
    let url = partnerd_store_postgres::fresh_schema_url(&url).await.expect("create test schema");
    Some(partnerd_store_postgres::PostgresStore::connect(&url).await.expect("connect"))
}

partnerd_store::store_contract_tests!(fresh().await);
