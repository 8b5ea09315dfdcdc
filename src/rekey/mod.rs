//! Key rotation (R15, issue 17): `onetrip key rotate` adds a personal-data key version, new
//! values are sealed with it at once, and a background job seals every stored value again
//! under it, table by table in small batches, while the hall serves.
//!
//! The database records each version by its check value (`key_versions`), so a node missing a
//! version or holding a different key under it refuses to start, and a running node picks a
//! new version up from its state directory within seconds. The job's cursor per table
//! (`key_reseal`) is written in the same transaction as the batch it covers: a restart half-way
//! goes on from the last committed batch, and a value is replaced only if it is still the one
//! read (a concurrent change by the hall wins). Blind indexes keep version 1's index key (see
//! [`Cipher::blind_index`]): they need no rebuild, and the records that hold a person only by
//! index stay matched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::Row;

use crate::clock::Clock;
use crate::db::Db;
use crate::privacy::{self, Cipher, MAX_VERSION};

/// Every sealed column, by table (each table's key is `id`). The SQL built from these names
/// is safe: they are constants here, never input.
pub const SEALED: &[(&str, &[&str])] = &[
    ("bookings", &["id_sealed", "name_sealed", "phone_sealed"]),
    ("waitlist", &["phone_sealed"]),
    ("outbox", &["phone_sealed"]),
    (
        "applications",
        &[
            "id_sealed",
            "name_sealed",
            "phone_sealed",
            "address_sealed",
            "guardian_name_sealed",
            "guardian_id_sealed",
            "express_sealed",
        ],
    ),
    (
        "application_documents",
        &["old_number_sealed", "issued_number_sealed"],
    ),
    ("pickups", &["recipient_sealed"]),
    ("shipments", &["recipient_sealed"]),
    ("complaints", &["name_sealed", "phone_sealed"]),
    ("self_endorsements", &["chip_sealed"]),
];

/// Rows per batch: a batch is one short write transaction, so the hall's own writes wait at
/// most one batch's time behind it.
pub const BATCH: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    #[error(
        "the database's personal data uses key version {version} (check {check}), which is not \
         installed here: copy {file} from the node where `onetrip key rotate` ran"
    )]
    Missing {
        version: i64,
        check: String,
        file: String,
    },
    #[error(
        "key version {version} here (check {held}) is not the key the database records under \
         that version (check {recorded}): install the key this database was sealed with"
    )]
    Mismatch {
        version: i64,
        held: String,
        recorded: String,
    },
    #[error("the newest key version is {0}, the last one a sealed value can name")]
    Exhausted(u8),
    #[error(transparent)]
    Key(#[from] privacy::KeyError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// A key version as the database records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub version: i64,
    pub check: String,
    pub added_at: i64,
}

async fn recorded(db: &Db) -> Result<Vec<Recorded>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT version, key_check, added_at FROM key_versions ORDER BY version")
            .fetch_all(db.reader())
            .await?;
    rows.iter()
        .map(|r| {
            Ok(Recorded {
                version: r.try_get(0)?,
                check: r.try_get(1)?,
                added_at: r.try_get(2)?,
            })
        })
        .collect()
}

async fn record(db: &Db, version: u8, check: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO key_versions (version, key_check, added_at) VALUES ($1, $2, $3) \
         ON CONFLICT (version) DO NOTHING",
    )
    .bind(i64::from(version))
    .bind(check)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Agrees the cipher's versions with the database's, at start and every few seconds after:
/// versions held but not recorded are recorded (the first start records version 1); recorded
/// versions not held are read from the state directory, or refused; a held key that is not the
/// recorded one is refused. Returns the versions picked up.
pub async fn reconcile(
    db: &Db,
    cipher: &Cipher,
    state_dir: &Path,
    now: i64,
) -> Result<Vec<u8>, RekeyError> {
    let held = cipher.versions();
    let mut known = recorded(db).await?;
    for (version, check) in &held {
        if known.iter().all(|r| r.version != i64::from(*version)) {
            record(db, *version, check, now).await?;
        }
    }
    if known.len() < held.len() {
        known = recorded(db).await?;
    }
    let mut picked = Vec::new();
    for r in &known {
        let held_check = held
            .iter()
            .find(|(v, _)| i64::from(*v) == r.version)
            .map(|(_, c)| c.clone());
        let check = match held_check {
            Some(c) => c,
            None => {
                let version = u8::try_from(r.version).map_err(|_| RekeyError::Missing {
                    version: r.version,
                    check: r.check.clone(),
                    file: "a key file".into(),
                })?;
                let missing = || RekeyError::Missing {
                    version: r.version,
                    check: r.check.clone(),
                    file: privacy::version_file(state_dir, version)
                        .display()
                        .to_string(),
                };
                let key = privacy::read_version(state_dir, version)?.ok_or_else(missing)?;
                let check = privacy::key_check(&key);
                if check == r.check {
                    cipher.adopt(version, &key);
                    picked.push(version);
                }
                check
            }
        };
        if check != r.check {
            return Err(RekeyError::Mismatch {
                version: r.version,
                held: check,
                recorded: r.check.clone(),
            });
        }
    }
    Ok(picked)
}

/// `onetrip key rotate`: a new key version in the state directory (mode 0600), recorded in the
/// database; the cipher seals with it from now on. Returns the version and its file.
pub async fn rotate(
    db: &Db,
    cipher: &Cipher,
    state_dir: &Path,
    now: i64,
) -> Result<(u8, PathBuf), RekeyError> {
    reconcile(db, cipher, state_dir, now).await?;
    let newest = cipher.current_version();
    if newest == MAX_VERSION {
        return Err(RekeyError::Exhausted(newest));
    }
    let version = newest + 1;
    // A file left by a rotation that stopped before recording it is used, not replaced:
    // nothing was sealed with it yet, but it may already have been copied to other nodes.
    let key = match privacy::read_version(state_dir, version)? {
        Some(key) => key,
        None => {
            let mut key = [0u8; 32];
            crate::crypto::fill_random(&mut key);
            privacy::write_version(state_dir, version, &key)?;
            key
        }
    };
    record(db, version, &privacy::key_check(&key), now).await?;
    cipher.adopt(version, &key);
    Ok((version, privacy::version_file(state_dir, version)))
}

/// What one batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub table: &'static str,
    pub rows: usize,
    pub resealed: usize,
    /// Values no held key opens (damaged): left as they are and logged.
    pub unreadable: usize,
}

struct Progress {
    version: i64,
    last_id: i64,
    resealed: i64,
    done: bool,
}

async fn progress(db: &Db, table: &str) -> Result<Option<Progress>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT version, last_id, resealed, done_at FROM key_reseal WHERE table_name = $1",
    )
    .bind(table)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        Ok(Progress {
            version: r.try_get(0)?,
            last_id: r.try_get(1)?,
            resealed: r.try_get(2)?,
            done: r.try_get::<Option<i64>, _>(3)?.is_some(),
        })
    })
    .transpose()
}

/// Seals the next batch of stored values again under the newest version; `None` once every
/// table is through (or no key was ever rotated).
pub async fn step(
    db: &Db,
    cipher: &Cipher,
    clock: &Clock,
    batch: i64,
) -> Result<Option<Step>, RekeyError> {
    let target = i64::from(cipher.current_version());
    if target == 1 {
        return Ok(None);
    }
    for (table, columns) in SEALED {
        let (cursor, resealed_before) = match progress(db, table).await? {
            Some(p) if p.version == target && p.done => continue,
            Some(p) if p.version == target => (p.last_id, p.resealed),
            _ => (0, 0),
        };
        let select = format!(
            "SELECT id, {} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2",
            columns.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(select))
            .bind(cursor)
            .bind(batch)
            .fetch_all(db.reader())
            .await?;
        let mut done = Step {
            table,
            rows: rows.len(),
            resealed: 0,
            unreadable: 0,
        };
        let mut tx = db.begin().await?;
        let mut last_id = cursor;
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            last_id = id;
            for (i, column) in columns.iter().enumerate() {
                let Some(old) = row.try_get::<Option<Vec<u8>>, _>(i + 1)? else {
                    continue;
                };
                if privacy::is_erased(&old) {
                    continue;
                }
                match cipher.reseal(&old) {
                    Ok(None) => {}
                    Ok(Some(new)) => {
                        let update = format!(
                            "UPDATE {table} SET {column} = $1 WHERE id = $2 AND {column} = $3"
                        );
                        let changed = sqlx::query(sqlx::AssertSqlSafe(update))
                            .bind(new)
                            .bind(id)
                            .bind(old)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        done.resealed += changed as usize;
                    }
                    Err(_) => {
                        tracing::warn!(
                            table,
                            id,
                            column,
                            "a stored value opens with no held key; left as it is"
                        );
                        done.unreadable += 1;
                    }
                }
            }
        }
        let finished = rows.is_empty().then(|| clock.now_ms());
        sqlx::query(
            "INSERT INTO key_reseal (table_name, version, last_id, resealed, done_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, \
             last_id = excluded.last_id, resealed = excluded.resealed, done_at = excluded.done_at",
        )
        .bind(*table)
        .bind(target)
        .bind(last_id)
        .bind(resealed_before + done.resealed as i64)
        .bind(finished)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Some(done));
    }
    Ok(None)
}

/// Runs [`step`] until every table is through; returns how many values were sealed again.
pub async fn reseal_all(db: &Db, cipher: &Cipher, clock: &Clock) -> Result<usize, RekeyError> {
    let mut total = 0;
    while let Some(s) = step(db, cipher, clock, BATCH).await? {
        total += s.resealed;
    }
    Ok(total)
}

/// One table's way through the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStatus {
    pub table: &'static str,
    /// Rows not yet looked at under the newest version.
    pub rows_left: i64,
    pub resealed: i64,
    pub done: bool,
}

/// Where rotation stands: the recorded versions, the newest, and each table's progress.
#[derive(Debug, Clone)]
pub struct Status {
    pub versions: Vec<Recorded>,
    pub newest: i64,
    pub tables: Vec<TableStatus>,
}

impl Status {
    pub fn done(&self) -> bool {
        self.tables.iter().all(|t| t.done)
    }
}

/// `onetrip key status`.
pub async fn status(db: &Db) -> Result<Status, RekeyError> {
    let versions = recorded(db).await?;
    let newest = versions.iter().map(|r| r.version).max().unwrap_or(1);
    let mut tables = Vec::with_capacity(SEALED.len());
    for (table, _) in SEALED {
        let p = progress(db, table).await?.filter(|p| p.version == newest);
        let cursor = p.as_ref().map_or(0, |p| p.last_id);
        let rows_left: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE id > $1"
        )))
        .bind(cursor)
        .fetch_one(db.reader())
        .await?
        .try_get(0)?;
        tables.push(TableStatus {
            table,
            rows_left: if newest == 1 { 0 } else { rows_left },
            resealed: p.as_ref().map_or(0, |p| p.resealed),
            done: newest == 1 || p.is_some_and(|p| p.done),
        });
    }
    Ok(Status {
        versions,
        newest,
        tables,
    })
}

/// The server's part: every few seconds, pick up versions rotated elsewhere and seal what is
/// left under the newest, pausing between batches so the hall's writes go first.
pub fn spawn(db: Db, cipher: std::sync::Arc<Cipher>, clock: Clock, state_dir: PathBuf) {
    tokio::spawn(async move {
        let mut working = false;
        loop {
            match reconcile(&db, &cipher, &state_dir, clock.now_ms()).await {
                Ok(picked) => {
                    for version in picked {
                        tracing::info!(
                            version,
                            "personal-data key version picked up; new values are sealed with it"
                        );
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "personal-data keys do not agree with the database")
                }
            }
            loop {
                match step(&db, &cipher, &clock, BATCH).await {
                    Ok(Some(s)) => {
                        if !working {
                            tracing::info!(
                                version = cipher.current_version(),
                                "sealing stored personal data again under the newest key"
                            );
                            working = true;
                        }
                        if s.rows > 0 {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                    Ok(None) => {
                        if working {
                            tracing::info!(
                                version = cipher.current_version(),
                                "all stored personal data is sealed under the newest key"
                            );
                            working = false;
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sealing again failed; retrying");
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}
