//! Backup and restore of the embedded SQLite database (R15, issue 17): an online, consistent
//! copy taken while the hall is busy (`VACUUM INTO`, one read transaction), with a manifest
//! (size, SHA-256, rows per table) and an integrity check of the copy; a restore that verifies
//! the copy first and refuses while a server holds the database. The personal-data key
//! (`secret.key`) is never in a backup: without it the sealed personal data cannot be read, so
//! it is kept apart (docs/OPERATIONS.md). PostgreSQL is backed up with its own tools.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest;
use sqlx::{Connection, Row};

use crate::db::Db;

/// The file a backup's database is written to, and its manifest.
pub const DATABASE_FILE: &str = "onetrip.db";
pub const MANIFEST_FILE: &str = "manifest.json";

/// What a backup holds, written beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// When the copy was taken (RFC 3339).
    pub taken_at: String,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    /// Rows per table in the copy.
    pub tables: BTreeMap<String, i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backups of this database are taken with its own tools (PostgreSQL: pg_dump or a base backup; docs/OPERATIONS.md)"
    )]
    NotSqlite,
    #[error("{0} exists and is not empty: back up into a new directory")]
    DestinationNotEmpty(String),
    #[error("the backup in {0} has no readable manifest")]
    NoManifest(String),
    #[error("the backup's checksum does not match its manifest: it is damaged")]
    Checksum,
    #[error("the backup fails SQLite's integrity check: {0}")]
    Integrity(String),
    #[error("the database {0} is in use by a running server: stop it first")]
    InUse(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// The file path of a `sqlite://` database URL.
pub fn sqlite_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn io(what: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io(what.display().to_string(), e)
}

fn sha256_file(path: &Path) -> Result<(u64, String), BackupError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    Ok((
        bytes.len() as u64,
        crate::crypto::hex(&sha2::Sha256::digest(&bytes)),
    ))
}

/// Opens a SQLite file read-only and checks it: integrity, and rows per table.
async fn inspect(path: &Path) -> Result<BTreeMap<String, i64>, BackupError> {
    sqlx::any::install_default_drivers();
    let mut c =
        sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await?;
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut c)
        .await?
        .try_get(0)?;
    if check != "ok" {
        return Err(BackupError::Integrity(check));
    }
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut c)
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    let mut tables = BTreeMap::new();
    for name in names {
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            crate::db::quote_ident(&name)
        )))
        .fetch_one(&mut c)
        .await?
        .try_get(0)?;
        tables.insert(name, n);
    }
    c.close().await?;
    Ok(tables)
}

/// Takes a consistent copy of the running database into `dest` (a new or empty directory).
pub async fn backup(
    db: &Db,
    database_url: &str,
    dest: &Path,
    taken_at: &str,
) -> Result<Manifest, BackupError> {
    if sqlite_path(database_url).is_none() {
        return Err(BackupError::NotSqlite);
    }
    if dest.exists() && std::fs::read_dir(dest).map_err(io(dest))?.next().is_some() {
        return Err(BackupError::DestinationNotEmpty(dest.display().to_string()));
    }
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let file = dest.join(DATABASE_FILE);
    // One read transaction: writers carry on (WAL), the copy is the database as of its start.
    sqlx::query("VACUUM INTO $1")
        .bind(file.display().to_string())
        .execute(db.reader())
        .await?;
    let tables = inspect(&file).await?;
    let (bytes, sha256) = sha256_file(&file)?;
    let manifest = Manifest {
        format: 1,
        taken_at: taken_at.to_string(),
        file: DATABASE_FILE.into(),
        bytes,
        sha256,
        tables,
    };
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| BackupError::Io(MANIFEST_FILE.into(), std::io::Error::other(e)))?;
    let path = dest.join(MANIFEST_FILE);
    std::fs::write(&path, json).map_err(io(&path))?;
    Ok(manifest)
}

/// Checks a backup against its manifest and SQLite's integrity check.
pub async fn verify(src: &Path) -> Result<Manifest, BackupError> {
    let path = src.join(MANIFEST_FILE);
    let manifest: Manifest = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| BackupError::NoManifest(src.display().to_string()))?;
    let file = src.join(&manifest.file);
    let (bytes, sha256) = sha256_file(&file)?;
    if bytes != manifest.bytes || sha256 != manifest.sha256 {
        return Err(BackupError::Checksum);
    }
    inspect(&file).await?;
    Ok(manifest)
}

/// Holds the database for a running server: a second server, or a restore, sees it in use.
pub fn hold(db_path: &Path) -> Result<std::fs::File, BackupError> {
    let lock = lock_path(db_path);
    if let Some(parent) = lock.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(io(&lock))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(BackupError::InUse(db_path.display().to_string())),
    }
}

fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Restores a verified backup over the database at `db_path` (which no server may hold); the
/// database it replaces is kept beside it as `…before-restore`.
pub async fn restore(src: &Path, db_path: &Path) -> Result<Manifest, BackupError> {
    let manifest = verify(src).await?;
    let _held = hold(db_path)?;
    if db_path.exists() {
        let mut kept = db_path.as_os_str().to_owned();
        kept.push(".before-restore");
        std::fs::rename(db_path, PathBuf::from(&kept)).map_err(io(db_path))?;
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = db_path.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        if side.exists() {
            std::fs::remove_file(&side).map_err(io(&side))?;
        }
    }
    let from = src.join(&manifest.file);
    std::fs::copy(&from, db_path).map_err(io(&from))?;
    Ok(manifest)
}
