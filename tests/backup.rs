//! Backup and restore (issue 17, R15): a copy taken while writes go on holds every row written
//! before it began and passes the integrity check; a damaged copy is refused; a restore waits
//! for no server (it is refused while one holds the database) and brings the copy back; the
//! key file is never in a backup.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use onetrip::backup::{self, BackupError};
use onetrip::db::{Db, DbOptions};

async fn rows(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM rate_hits")
        .fetch_one(db.reader())
        .await
        .expect("count")
}

async fn write(db: &Db, n: i64) {
    let mut tx = db.begin().await.expect("tx");
    sqlx::query("INSERT INTO rate_hits (key, window_start, hits) VALUES ($1, $2, 1)")
        .bind(format!("w{n}"))
        .bind(n)
        .execute(&mut *tx)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_writes_restores_everything_acknowledged_before_it() {
    let dir = tempfile::tempdir().expect("dir");
    let db_path = dir.path().join("state/onetrip.db");
    let url = format!("sqlite://{}", db_path.display());
    std::fs::create_dir_all(db_path.parent().expect("parent")).expect("mkdir");
    std::fs::write(dir.path().join("state/secret.key"), "not in any backup").expect("key");
    let db = Db::connect(&url, &DbOptions::default()).await.expect("db");
    db.migrate().await.expect("migrate");
    for n in 0..200 {
        write(&db, n).await;
    }
    // Writers keep writing while the copy is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let db = db.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 1_000;
            while !stop.load(Ordering::Relaxed) {
                write(&db, n).await;
                n += 1;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let acknowledged = rows(&db).await;
    let dest = dir.path().join("backup-1");
    let manifest = backup::backup(&db, &url, &dest, "2026-12-03T10:00:00Z")
        .await
        .expect("backup");
    stop.store(true, Ordering::Relaxed);
    writer.await.expect("writer");
    assert!(
        manifest.tables["rate_hits"] >= acknowledged,
        "{} < {acknowledged}",
        manifest.tables["rate_hits"]
    );
    assert!(manifest.tables.contains_key("applications"));
    let files: Vec<String> = std::fs::read_dir(&dest)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!files.iter().any(|f| f.contains("key")), "{files:?}");
    assert_eq!(backup::verify(&dest).await.expect("verify"), manifest);

    // Not into a directory that has something in it.
    assert!(matches!(
        backup::backup(&db, &url, &dest, "x").await,
        Err(BackupError::DestinationNotEmpty(_))
    ));

    // A server holds the database: no restore.
    let held = backup::hold(&db_path).expect("hold");
    assert!(matches!(
        backup::restore(&dest, &db_path).await,
        Err(BackupError::InUse(_))
    ));
    assert!(
        matches!(backup::hold(&db_path), Err(BackupError::InUse(_))),
        "a second server is refused too"
    );
    drop(held);
    db.close().await;
    let restored = backup::restore(&dest, &db_path).await.expect("restore");
    let db = Db::connect(&url, &DbOptions::default()).await.expect("db");
    assert_eq!(rows(&db).await, restored.tables["rate_hits"]);
    db.close().await;

    // A damaged copy is refused before it is used.
    let copy = dest.join(backup::DATABASE_FILE);
    let mut bytes = std::fs::read(&copy).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&copy, bytes).expect("damage");
    assert!(matches!(
        backup::verify(&dest).await,
        Err(BackupError::Checksum)
    ));
}
