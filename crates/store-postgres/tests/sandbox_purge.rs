//! Removing a sandbox deletes every row of its marketplace: `schema::sandbox::PURGE` must name
//! every table with a `marketplace_id` column of the migrated schema, so a table added later
//! without being added there fails here. Skipped without PARTNERD_TEST_POSTGRES_URL.

use partnerd_store::schema::sandbox::{missing_from_purge, unknown_in_purge};
use std::str::FromStr;

#[tokio::test]
async fn the_purge_list_covers_every_table_with_a_marketplace() {
    let Ok(url) = std::env::var("PARTNERD_TEST_POSTGRES_URL") else {
        eprintln!("PARTNERD_TEST_POSTGRES_URL not set: skipping");
        return;
    };
    let url = partnerd_store_postgres::fresh_schema_url(&url).await.expect("create test schema");
    let _store = partnerd_store_postgres::PostgresStore::connect(&url).await.expect("connect and migrate");
    let config = tokio_postgres::Config::from_str(&url).expect("url");
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let names = async |sql: &str| -> Vec<String> {
        client.query(sql, &[]).await.expect("query").iter().map(|r| r.get::<_, String>(0)).collect()
    };
    let with_column = names(
        "SELECT table_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND column_name = 'marketplace_id' ORDER BY 1",
    )
    .await;
    let tables = names(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .await;
    assert!(with_column.len() > 20, "{with_column:?}");
    assert_eq!(missing_from_purge(&with_column), Vec::<&str>::new(), "add these tables to PURGE");
    assert_eq!(unknown_in_purge(&tables), Vec::<&str>::new(), "PURGE names tables that do not exist");
}
