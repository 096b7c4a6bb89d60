//! Removing a sandbox deletes every row of its marketplace: `schema::sandbox::PURGE` must name
//! every table with a `marketplace_id` column of the migrated schema, so a table added later
//! without being added there fails here.

use partnerd_store::schema::sandbox::{missing_from_purge, unknown_in_purge};

#[test]
fn the_purge_list_covers_every_table_with_a_marketplace() {
    let dir = std::env::temp_dir().join(format!("partnerd-purge-{}", partnerd_domain::ids::random_token(12)));
    std::fs::create_dir_all(&dir).expect("create a test directory");
    let path = dir.join("test.db");
    let store = partnerd_store_sqlite::SqliteStore::open(&path).expect("open and migrate");
    store.close();
    let c = rusqlite::Connection::open(&path).expect("open the file");
    let names = |sql: &str| -> Vec<String> {
        let mut stmt = c.prepare(sql).expect("prepare");
        stmt.query_map([], |r| r.get::<_, String>(0)).expect("query").map(|r| r.expect("row")).collect()
    };
    let with_column = names(
        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND p.name = 'marketplace_id' ORDER BY m.name",
    );
    let tables = names("SELECT name FROM sqlite_master WHERE type = 'table'");
    assert!(with_column.len() > 20, "{with_column:?}");
    assert_eq!(missing_from_purge(&with_column), Vec::<&str>::new(), "add these tables to PURGE");
    assert_eq!(unknown_in_purge(&tables), Vec::<&str>::new(), "PURGE names tables that do not exist");
}
