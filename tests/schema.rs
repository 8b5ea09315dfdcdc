//! The two migration trees build the same database (decision 001, issue 13 item 5): the same
//! tables, the same columns in each, the same named indexes. Column types differ by engine
//! (`INTEGER` vs `BIGINT`) and are not compared; a column or index added to one tree only fails
//! here.

mod common;

use std::collections::BTreeSet;

use common::Engine;
use sqlx::Row;

type Schema = (BTreeSet<(String, String)>, BTreeSet<String>);

/// The first text column of every row the query returns.
async fn names(db: &onetrip::db::Db, sql: String) -> BTreeSet<String> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.reader())
        .await
        .expect("catalog query")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
}

async fn sqlite_schema(db: &onetrip::db::Db) -> Schema {
    let tables = names(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'"
            .into(),
    )
    .await;
    let mut columns = BTreeSet::new();
    for t in &tables {
        for c in names(db, format!("SELECT name FROM pragma_table_info('{t}')")).await {
            columns.insert((t.clone(), c));
        }
    }
    let indexes = names(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'".into(),
    )
    .await;
    (columns, indexes)
}

async fn postgres_schema(db: &onetrip::db::Db) -> Schema {
    let columns = sqlx::query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%'",
    )
    .fetch_all(db.reader())
    .await
    .expect("columns")
    .iter()
    .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
    .collect();
    // Primary keys and UNIQUE constraints get engine-made index names on both sides; only the
    // indexes the migrations name are compared.
    let indexes = names(
        db,
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
         AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key' \
         AND tablename NOT LIKE '\\_sqlx\\_%'"
            .into(),
    )
    .await;
    (columns, indexes)
}

#[tokio::test]
async fn both_migration_trees_define_the_same_tables_columns_and_indexes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lite, _) = common::fresh_db(Engine::Sqlite, dir.path())
        .await
        .expect("sqlite");
    let Some((pg, _)) = common::fresh_db(Engine::Postgres, dir.path()).await else {
        return;
    };
    let (lite_columns, lite_indexes) = sqlite_schema(&lite).await;
    let (pg_columns, pg_indexes) = postgres_schema(&pg).await;
    assert!(
        lite_columns.len() > 100,
        "{} columns read",
        lite_columns.len()
    );
    assert!(
        lite_indexes.len() > 10,
        "{} indexes read",
        lite_indexes.len()
    );
    let only_lite: Vec<_> = lite_columns.difference(&pg_columns).collect();
    let only_pg: Vec<_> = pg_columns.difference(&lite_columns).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "columns only on SQLite: {only_lite:?}; only on PostgreSQL: {only_pg:?}"
    );
    let only_lite: Vec<_> = lite_indexes.difference(&pg_indexes).collect();
    let only_pg: Vec<_> = pg_indexes.difference(&lite_indexes).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "indexes only on SQLite: {only_lite:?}; only on PostgreSQL: {only_pg:?}"
    );
}
