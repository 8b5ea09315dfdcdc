//! Key rotation (R15, issue 17): `onetrip key rotate` adds a personal-data key version, new
//! values are sealed with it at once, and a background job seals every stored value again
//! under it, table by table in small batches, while the hall serves.
//!
//! The database records each version by its check value (`key_versions`), so a node missing a
//! version or holding a different key under it refuses to start, and a running node picks a
//! new version up from its state directory within seconds. The job's cursor per table
//! (`key_reseal`) is written in the same transaction as the batch it covers: a restart half-way
//! goes on from the last committed batch, and a value is replaced only if it is still the one
//! read (a concurrent change by the hall wins).
//!
//! The same job then rebuilds every blind index under the newest version ([`INDEXED`]): each
//! stored index is brought forward by the chain the look-ups compute ([`BlindIndex`]), so the
//! records that hold a person by index alone (watch list, opt-outs, no-show lifts) need no
//! plain value. Meanwhile look-ups try both forms and the hall's cross-table matches go by the
//! sealed values, so nothing is missed half-way; once every column is through, an old key alone
//! matches no stored row. One rotation at a time: the next waits until this one is through.
//!
//! [`BlindIndex`]: crate::privacy::BlindIndex

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

/// A blind-index column the rebuild brings forward.
#[derive(Debug, Clone, Copy)]
pub struct IndexColumn {
    /// Its name in the job's progress (`key_reseal`) and in `onetrip key status`.
    pub name: &'static str,
    pub table: &'static str,
    pub column: &'static str,
    /// Whether the table has an `id` key to walk in batches; a table keyed by the index itself
    /// (the opt-outs, a few rows) is taken whole in one batch.
    pub keyed: bool,
    /// When the row's newest form is already stored under a unique constraint (the same fact
    /// recorded again during the rebuild): the condition, with `$1` the newest form and the
    /// table's name for the row, and whether the stale row is then dropped (a duplicate fact)
    /// or left as it is (logged).
    pub duplicate: Option<(&'static str, bool)>,
}

/// Every blind-index column.
pub const INDEXED: &[IndexColumn] = &[
    IndexColumn {
        name: "watch_list.id_index",
        table: "watch_list",
        column: "id_index",
        keyed: true,
        duplicate: Some((
            "EXISTS (SELECT 1 FROM watch_list x WHERE x.id_index = $1 AND x.kind = watch_list.kind)",
            true,
        )),
    },
    IndexColumn {
        name: "contact_optouts.id_index",
        table: "contact_optouts",
        column: "id_index",
        keyed: false,
        duplicate: Some((
            "EXISTS (SELECT 1 FROM contact_optouts x WHERE x.id_index = $1)",
            true,
        )),
    },
    IndexColumn {
        name: "no_show_lifts.id_index",
        table: "no_show_lifts",
        column: "id_index",
        keyed: true,
        duplicate: None,
    },
    IndexColumn {
        name: "waitlist.id_index",
        table: "waitlist",
        column: "id_index",
        keyed: true,
        duplicate: Some((
            "EXISTS (SELECT 1 FROM waitlist x WHERE x.id_index = $1 AND x.site_id = waitlist.site_id \
             AND x.line_code = waitlist.line_code AND x.date = waitlist.date)",
            true,
        )),
    },
    IndexColumn {
        name: "bookings.id_index",
        table: "bookings",
        column: "id_index",
        keyed: true,
        duplicate: Some((
            "bookings.status IN ('booked', 'arrived') AND EXISTS (SELECT 1 FROM bookings x \
             WHERE x.id_index = $1 AND x.site_id = bookings.site_id AND x.date = bookings.date \
             AND x.status IN ('booked', 'arrived'))",
            false,
        )),
    },
    IndexColumn {
        name: "applications.id_index",
        table: "applications",
        column: "id_index",
        keyed: true,
        duplicate: None,
    },
    IndexColumn {
        name: "pickups.recipient_id_index",
        table: "pickups",
        column: "recipient_id_index",
        keyed: true,
        duplicate: None,
    },
    IndexColumn {
        name: "complaints.phone_index",
        table: "complaints",
        column: "phone_index",
        keyed: true,
        duplicate: None,
    },
    IndexColumn {
        name: "self_endorsements.id_index",
        table: "self_endorsements",
        column: "id_index",
        keyed: true,
        duplicate: None,
    },
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
    #[error(
        "key version {0}'s rotation is not through yet (see `onetrip key status`): rotate again \
         once every stored value and index is under it"
    )]
    Unfinished(i64),
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
    if rebuild_pending(db).await? {
        return Err(RekeyError::Unfinished(i64::from(cipher.current_version())));
    }
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
        save_progress(
            &mut tx,
            table,
            target,
            last_id,
            resealed_before + done.resealed as i64,
            finished,
        )
        .await?;
        tx.commit().await?;
        return Ok(Some(done));
    }
    for column in INDEXED {
        let cursor = match progress(db, column.name).await? {
            Some(p) if p.version == target && p.done => continue,
            Some(p) if p.version == target => p,
            _ => Progress {
                version: target,
                last_id: 0,
                resealed: 0,
                done: false,
            },
        };
        return Ok(Some(
            rebuild_batch(db, cipher, clock, column, cursor, batch).await?,
        ));
    }
    cipher.set_indexes_settled(true);
    Ok(None)
}

/// Brings the next batch of one column's blind indexes forward to the newest version.
async fn rebuild_batch(
    db: &Db,
    cipher: &Cipher,
    clock: &Clock,
    c: &IndexColumn,
    from: Progress,
    batch: i64,
) -> Result<Step, RekeyError> {
    let IndexColumn { table, column, .. } = *c;
    let rows: Vec<(i64, String)> = if c.keyed {
        let select = format!("SELECT id, {column} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2");
        sqlx::query(sqlx::AssertSqlSafe(select))
            .bind(from.last_id)
            .bind(batch)
            .fetch_all(db.reader())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?
    } else {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {column} FROM {table}")))
            .fetch_all(db.reader())
            .await?
            .iter()
            .map(|r| Ok((0, r.try_get(0)?)))
            .collect::<Result<_, sqlx::Error>>()?
    };
    let mut done = Step {
        table: c.name,
        rows: rows.len(),
        resealed: 0,
        unreadable: 0,
    };
    // Every statement binds the newest form ($1), the stored one ($2) and the row's id ($3).
    let row = if c.keyed {
        format!("{column} = $2 AND id = $3")
    } else {
        format!("{column} = $2")
    };
    let guard = c
        .duplicate
        .map(|(cond, _)| format!(" AND NOT ({cond})"))
        .unwrap_or_default();
    let update = format!("UPDATE {table} SET {column} = $1 WHERE {row}{guard}");
    let run = |sql: &str, new: &str, old: &str, id: i64| {
        let q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(new.to_owned())
            .bind(old.to_owned());
        if c.keyed { q.bind(id) } else { q }
    };
    let mut tx = db.begin().await?;
    let mut last_id = from.last_id;
    for (id, old) in &rows {
        last_id = last_id.max(*id);
        let Some(version) = privacy::index_version(old) else {
            continue; // erased (src/retention)
        };
        if version >= cipher.current_version() {
            continue;
        }
        let Some(new) = cipher.index_forward(old) else {
            tracing::warn!(
                table,
                id,
                column,
                "a stored index is under a key not held; left"
            );
            done.unreadable += 1;
            continue;
        };
        let changed = run(&update, &new, old, *id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        done.resealed += changed as usize;
        if changed == 0
            && let Some((cond, drop)) = c.duplicate
        {
            if drop {
                // The same fact is already stored under the newest form: the stale row goes.
                let delete = format!("DELETE FROM {table} WHERE {row} AND ({cond})");
                done.resealed += run(&delete, &new, old, *id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected() as usize;
            } else {
                tracing::warn!(
                    table,
                    id,
                    column,
                    "bringing an index forward would duplicate a unique row; left"
                );
            }
        }
    }
    let finished = (rows.is_empty() || !c.keyed).then(|| clock.now_ms());
    save_progress(
        &mut tx,
        c.name,
        from.version,
        last_id,
        from.resealed + done.resealed as i64,
        finished,
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// Whether the newest key version's job is not through yet (every sealed table and index
/// column done under it); `false` when no key was ever rotated.
pub async fn rebuild_pending(db: &Db) -> Result<bool, sqlx::Error> {
    let newest: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM key_versions")
        .fetch_one(db.reader())
        .await?
        .try_get("v")?;
    let newest = newest.unwrap_or(1);
    if newest <= 1 {
        return Ok(false);
    }
    let through: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM key_reseal WHERE version = $1 AND done_at IS NOT NULL",
    )
    .bind(newest)
    .fetch_one(db.reader())
    .await?
    .try_get("n")?;
    Ok(through < (SEALED.len() + INDEXED.len()) as i64)
}

/// When the newest key version was recorded (ms), if a key was ever rotated.
async fn rotated_at(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    Ok(recorded(db)
        .await?
        .into_iter()
        .filter(|r| r.version > 1)
        .map(|r| r.added_at)
        .max())
}

async fn save_progress(
    tx: &mut sqlx::AnyConnection,
    name: &str,
    version: i64,
    last_id: i64,
    resealed: i64,
    finished: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO key_reseal (table_name, version, last_id, resealed, done_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, \
         last_id = excluded.last_id, resealed = excluded.resealed, done_at = excluded.done_at",
    )
    .bind(name)
    .bind(version)
    .bind(last_id)
    .bind(resealed)
    .bind(finished)
    .execute(tx)
    .await?;
    Ok(())
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
    let mut tables = Vec::with_capacity(SEALED.len() + INDEXED.len());
    let sealed = SEALED.iter().map(|(table, _)| (*table, *table, true));
    let indexed = INDEXED.iter().map(|c| (c.name, c.table, c.keyed));
    for (name, table, keyed) in sealed.chain(indexed) {
        let p = progress(db, name).await?.filter(|p| p.version == newest);
        let done = newest == 1 || p.as_ref().is_some_and(|p| p.done);
        let rows_left: i64 = if done {
            0
        } else if keyed {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE id > $1"
            )))
            .bind(p.as_ref().map_or(0, |p| p.last_id))
            .fetch_one(db.reader())
            .await?
            .try_get(0)?
        } else {
            // Taken whole: every row is left until it is done.
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(db.reader())
                .await?
                .try_get(0)?
        };
        tables.push(TableStatus {
            table: name,
            rows_left,
            resealed: p.as_ref().map_or(0, |p| p.resealed),
            done,
        });
    }
    Ok(Status {
        versions,
        newest,
        tables,
    })
}

/// How long after a rotation the job waits before it starts: every node picks the new version
/// up within [`RECONCILE_EVERY`], so by then no node still writes under the version before,
/// and the rows the job walks past stay brought forward.
pub const GRACE: Duration = Duration::from_secs(10);

/// How often a running node agrees its keys with the database.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(2);

/// The server's part: every few seconds, pick up versions rotated elsewhere and, once a
/// rotation is [`GRACE`] old, seal what is left and rebuild the blind indexes under the newest,
/// pausing between batches so the hall's writes go first.
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
            let now = clock.now_ms();
            let young = match rotated_at(&db).await {
                Ok(at) => at.is_some_and(|at| now - at < GRACE.as_millis() as i64),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the key versions; retrying");
                    true
                }
            };
            if !young {
                while next_batch(&db, &cipher, &clock, &mut working).await {}
            }
            tokio::time::sleep(RECONCILE_EVERY).await;
        }
    });
}

/// One batch of the job, logged; `true` to go on, `false` when through (or failed: the next
/// round retries).
async fn next_batch(db: &Db, cipher: &Cipher, clock: &Clock, working: &mut bool) -> bool {
    match step(db, cipher, clock, BATCH).await {
        Ok(Some(s)) => {
            if !*working {
                tracing::info!(
                    version = cipher.current_version(),
                    "sealing stored personal data and rebuilding indexes under the newest key"
                );
                *working = true;
            }
            if s.rows > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            true
        }
        Ok(None) => {
            if *working {
                tracing::info!(
                    version = cipher.current_version(),
                    "all stored personal data and indexes are under the newest key"
                );
                *working = false;
            }
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "sealing again failed; retrying");
            false
        }
    }
}
