//! Storage: one connection pool over SQLite or PostgreSQL, migrations per engine, the event bus.
//!
//! One set of SQL serves both engines through sqlx's `Any` driver (ARCHITECTURE.md); the few
//! statements that differ ask [`Db::engine`]. Values crossing the driver are the portable kinds
//! only: integers (epoch milliseconds, fen, 0/1 flags), text, blobs (see docs/decisions/001).

use std::str::FromStr;
use std::time::Duration;

mod group_commit;

pub use group_commit::{Batch, RunFuture, cacheable_chunks, placeholder_rows};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::broadcast;

/// The database engine behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl FromStr for Engine {
    type Err = DbError;
    fn from_str(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("cannot create the database directory {0}: {1}")]
    Directory(String, std::io::Error),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Options beyond the URL.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    /// SQLite `synchronous` level (`full`, `extra` or `normal`).
    pub sqlite_synchronous: String,
    /// PostgreSQL schema to use instead of `public` (tests isolate themselves this way).
    pub pg_schema: Option<String>,
    /// SQLite: the bound of the write-ahead log in bytes. Past half of it the checkpointer
    /// restarts the log from its beginning (issue 17: under a booking storm with readers always
    /// in the log, a passive checkpoint never lets it restart, and it grew to 965 MB). The
    /// server sets it from `ONETRIP_SQLITE_WAL_LIMIT_MIB` (64 MiB by default); a bare
    /// `DbOptions::default()` (tools, tests) has none.
    pub sqlite_wal_limit_bytes: i64,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 16,
            sqlite_synchronous: "full".into(),
            pg_schema: None,
            sqlite_wal_limit_bytes: i64::MAX,
        }
    }
}

/// A change other parts of the system (displays, workstations, the outbox) react to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Event {
    pub topic: String,
    pub payload: serde_json::Value,
}

/// An event published with a transaction, still to be handed to [`Db::committed`].
#[must_use = "hand it to Db::committed after the commit"]
pub struct InTransaction(Option<Event>);

/// The database: a reader pool, a writer pool, and the event bus.
///
/// On SQLite the writer pool holds one connection, so writers queue in the process instead of
/// failing with `SQLITE_BUSY`; readers run in parallel under WAL. On PostgreSQL both are the
/// same pool.
#[derive(Clone)]
pub struct Db {
    engine: Engine,
    read: AnyPool,
    write: AnyPool,
    events: broadcast::Sender<Event>,
    /// PostgreSQL only: the URL and NOTIFY channel that carry events between nodes.
    relay: Option<std::sync::Arc<Relay>>,
    /// Held by every handle; background tasks that hold only a weak reference stop when the
    /// last handle is dropped.
    alive: std::sync::Arc<()>,
    /// [`Db::publish_coalesced`]'s open windows: the latest payload held back in each.
    coalescing: std::sync::Arc<std::sync::Mutex<OpenWindows>>,
    /// SQLite: the thread the group-commit writers run on, started with the database
    /// ([`group_commit::WriterThread`]).
    writer_thread: Option<group_commit::WriterThread>,
    /// The group-commit writers, one set per kind of job, started on first use.
    group: std::sync::Arc<
        std::sync::Mutex<
            std::collections::HashMap<
                std::any::TypeId,
                std::sync::Arc<dyn std::any::Any + Send + Sync>,
            >,
        >,
    >,
}

/// Sends `event` to every node's listener (PostgreSQL); inside a transaction, on its commit.
async fn notify<'e>(
    ex: impl sqlx::Executor<'e, Database = sqlx::Any>,
    channel: &str,
    event: &Event,
) -> Result<(), sqlx::Error> {
    // An `Event` is a string and a JSON value: it always serialises.
    let text = serde_json::to_string(event).unwrap_or_default();
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(&text)
        .execute(ex)
        .await
        .map(|_| ())
}

/// The log is cut back to this many bytes when it restarts from its beginning, so that the size
/// of its file tells how much it holds.
const WAL_FILE_AFTER_RESTART: i64 = 4 * 1024 * 1024;

/// Passive checkpoints on a reader connection, each copying what the writer appended during the
/// one before, until a round finds fewer than 256 new frames (about 1 MiB) or after four rounds:
/// the bulk of the log goes into the database beside the writer, which is never held.
async fn copy_beside_writer(read: &AnyPool) -> Result<(), sqlx::Error> {
    use sqlx::Row;
    let mut last = 0i64;
    for _ in 0..4 {
        // (busy, frames in the log, frames copied)
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(read)
            .await?;
        let frames: i64 = row.try_get(1)?;
        let new = frames - last;
        last = frames;
        if new < 256 {
            break;
        }
    }
    Ok(())
}

/// Copies the rest of the log on the writer's own connection, so nothing is appended meanwhile;
/// a passive checkpoint waits for no reader. Once everything is copied, the writer's next commit
/// starts the log again from its beginning by itself, if no reader is in the log at that moment.
async fn copy_rest_holding_writer(write: &AnyPool) -> Result<(), sqlx::Error> {
    let mut conn = write.acquire().await?;
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// Copies the whole log into the database and truncates it, on the writer's own connection (so
/// no write of this process is under way), waiting at most 250 ms for readers.
async fn restart_log(write: &AnyPool) -> Result<(), sqlx::Error> {
    let mut conn = write.acquire().await?;
    sqlx::query("PRAGMA busy_timeout = 250")
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await;
    // The writer waits for other processes (a backup) as long as it always did.
    sqlx::query("PRAGMA busy_timeout = 10000")
        .execute(&mut *conn)
        .await?;
    done.map(|_| ())
}

/// Per topic and key, the latest payload held back in an open coalescing window.
type OpenWindows = std::collections::HashMap<(&'static str, i64), Option<serde_json::Value>>;

/// Sends an event to this node's subscribers, through every node's listener on PostgreSQL.
fn send_event(
    relay: Option<&std::sync::Arc<Relay>>,
    write: &AnyPool,
    events: &broadcast::Sender<Event>,
    event: Event,
) {
    match relay {
        Some(relay) => {
            let (pool, channel, events) = (write.clone(), relay.channel.clone(), events.clone());
            tokio::spawn(async move {
                let sent = notify(&pool, &channel, &event).await;
                if let Err(e) = sent {
                    // The other nodes miss it; this node's displays still get it.
                    tracing::warn!(error = %e, "pg_notify failed; event delivered locally only");
                    let _ = events.send(event);
                }
            });
        }
        None => {
            // No subscriber is a normal state (no display connected), not an error.
            let _ = events.send(event);
        }
    }
}

/// Events across nodes (PostgreSQL `LISTEN/NOTIFY`): every node publishes with `pg_notify`
/// and one listener per node feeds what arrives — its own events included — into the local
/// bus, so a call made on one node shows on displays connected to another.
struct Relay {
    url: String,
    channel: String,
    listening: std::sync::atomic::AtomicBool,
}

/// How long PostgreSQL lets one of our transactions sit idle before ending it (see `connect`).
pub const PG_IDLE_IN_TRANSACTION: Duration = Duration::from_secs(2);

impl Db {
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Db, DbError> {
        install_default_drivers();
        let engine: Engine = url.parse()?;
        match engine {
            Engine::Sqlite => {
                let url = sqlite_url_with_create(url)?;
                let sync = options.sqlite_synchronous.clone();
                let pragmas = move || {
                    format!(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;"
                    )
                };
                let p = pragmas.clone();
                let wal_limit = options.sqlite_wal_limit_bytes.max(1024 * 1024);
                // A local file needs no liveness ping before each use (one hand-off to the
                // connection's thread saved per transaction). The writer keeps a larger page
                // cache: a release morning inserts into random places of the booking indexes.
                // The writer's one connection is opened here and kept for the life of the
                // pool (sqlx would close it after 10 idle minutes and replace it every 30):
                // its 64 MiB page cache stays warm, and the first booking after a quiet hour
                // does not wait for a new connection and its pragmas.
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .max_lifetime(None)
                    .idle_timeout(None)
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |conn, _| {
                        // The log is copied into the database file by the checkpointer
                        // (below), not by whichever commit crosses 1,000 pages: that made
                        // every few batches of bookings wait for a copy and an fsync of the
                        // database file.
                        // Statement journals in memory: a multi-row insert of a batch of
                        // bookings outgrew the 64 KiB a statement journal keeps in memory, so
                        // each such statement opened, wrote and deleted a temporary file — a
                        // fifth of the writer's time under the issue-17 booking load.
                        let sql = format!(
                            "{} PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 0; \
                             PRAGMA journal_size_limit = {WAL_FILE_AFTER_RESTART}; \
                             PRAGMA temp_store = MEMORY;",
                            p(),
                        );
                        Box::pin(async move {
                            conn.execute(sqlx::AssertSqlSafe(sql)).await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                let read = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |conn, _| {
                        let sql = pragmas();
                        Box::pin(async move {
                            conn.execute(sqlx::AssertSqlSafe(sql)).await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                let mut db = Db::assemble(engine, read, write);
                db.writer_thread = group_commit::WriterThread::start()
                    .inspect_err(|e| {
                        tracing::warn!(error = %e, "no writer thread; group commits run on the shared runtime")
                    })
                    .ok();
                db.spawn_checkpointer(wal_limit, sqlite_wal_path(&url));
                Ok(db)
            }
            Engine::Postgres => {
                let schema = options.pg_schema.clone();
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    // A connection idle for a moment is asked whether it still answers before
                    // use (the server may have restarted meanwhile); one just put back is not:
                    // a round trip before every statement was a third of the server's time
                    // under the issue-17 booking load.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for > Duration::from_secs(1) {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    .after_connect(move |conn, _| {
                        let schema = schema.clone();
                        Box::pin(async move {
                            // No transaction of ours waits between its statements for more
                            // than a moment. One that does belongs to a node that froze or
                            // lost its network while holding locks (a window's ticket, a
                            // site's call lock): the database ends it after two idle seconds,
                            // so the other node's windows are not held up for longer.
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "SET idle_in_transaction_session_timeout = '{}s'",
                                PG_IDLE_IN_TRANSACTION.as_secs()
                            )))
                            .await?;
                            if let Some(s) = schema {
                                // The schema name is generated by our own test harness and
                                // checked to be an identifier.
                                conn.execute(sqlx::AssertSqlSafe(format!(
                                    "SET search_path TO {}",
                                    quote_ident(&s)
                                )))
                                .await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?;
                let mut db = Db::assemble(engine, pool.clone(), pool);
                // Each schema (a deployment, or a test) has its own channel.
                let channel = format!(
                    "onetrip_events_{}",
                    options.pg_schema.as_deref().unwrap_or("public")
                );
                db.relay = Some(std::sync::Arc::new(Relay {
                    url: url.to_string(),
                    channel,
                    listening: std::sync::atomic::AtomicBool::new(false),
                }));
                Ok(db)
            }
        }
    }

    fn assemble(engine: Engine, read: AnyPool, write: AnyPool) -> Db {
        let (events, _) = broadcast::channel(1024);
        Db {
            engine,
            read,
            write,
            events,
            relay: None,
            writer_thread: None,
            alive: std::sync::Arc::new(()),
            coalescing: Default::default(),
            group: std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new())),
        }
    }

    /// SQLite: copies the write-ahead log into the database file once a second on a reader
    /// connection. A passive checkpoint never blocks the writer or the readers, so commits
    /// only append to the log, and the log restarts from its beginning once copied — unless
    /// the writer always has more, as under a storm. So the log's size is looked at ten times a
    /// second, and once it passes half of `wal_limit` bytes it is copied beside the writer
    /// ([`copy_beside_writer`]) and what came meanwhile with the writer held
    /// ([`copy_rest_holding_writer`]: a few milliseconds), so the writer's next commit restarts
    /// it. Where readers keep it from restarting three looks in a row, or past three quarters of
    /// the bound, the writer's connection checkpoints it in `TRUNCATE` mode, waiting up to 250 ms
    /// for the readers of the moment (that, not the copy, held the writer 15–75 ms each time
    /// when it was the only way). Ends a moment after the last handle on this database is
    /// dropped.
    fn spawn_checkpointer(&self, wal_limit: i64, wal: Option<std::path::PathBuf>) {
        let alive = std::sync::Arc::downgrade(&self.alive);
        let (read, write) = (self.read.clone(), self.write.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut n = 0u32;
            let mut gentle_tries = 0u32;
            loop {
                tick.tick().await;
                if alive.upgrade().is_none() {
                    return;
                }
                let size = wal
                    .as_ref()
                    .and_then(|p| std::fs::metadata(p).ok())
                    .map_or(0, |m| i64::try_from(m.len()).unwrap_or(i64::MAX));
                let done = if size <= wal_limit / 2 {
                    gentle_tries = 0;
                    if n.is_multiple_of(10) {
                        copy_beside_writer(&read).await
                    } else {
                        Ok(())
                    }
                } else {
                    let truncate = size > wal_limit / 4 * 3 || gentle_tries >= 3;
                    gentle_tries = if truncate { 0 } else { gentle_tries + 1 };
                    match copy_beside_writer(&read).await {
                        Ok(()) if truncate => restart_log(&write).await,
                        Ok(()) => copy_rest_holding_writer(&write).await,
                        Err(e) => Err(e),
                    }
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e, "checkpoint of the SQLite log failed; retrying");
                }
                n = n.wrapping_add(1);
            }
        });
    }

    /// Applies the engine's migrations (idempotent).
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.engine {
            Engine::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.write).await?,
            Engine::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.write)
                    .await?
            }
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The pool for reads that need no transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Begins the one transaction a use case writes in.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.write.begin().await
    }

    /// Writes a job through the group-commit writers of its kind (see [`Batch`]); the job's
    /// `finish` tells when it committed.
    pub async fn write_batched<J: Batch>(&self, job: J) {
        // SQLite's statements are hand-offs to its connection's worker thread, so its writer
        // gets a thread of its own; PostgreSQL's connections belong to the serving runtime
        // (their sockets are registered with its I/O driver), so its writers stay there.
        let (writers, home) = match (self.engine, &self.writer_thread) {
            (Engine::Sqlite, Some(thread)) => (1, group_commit::Home::Thread(thread.clone())),
            (Engine::Sqlite, None) => (1, group_commit::Home::Runtime),
            (Engine::Postgres, _) => (2, group_commit::Home::Runtime),
        };
        let group = {
            let mut groups = self
                .group
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            groups
                .entry(std::any::TypeId::of::<J>())
                .or_insert_with(|| {
                    std::sync::Arc::new(group_commit::GroupCommit::<J>::start(
                        self.write.clone(),
                        writers,
                        home,
                    ))
                })
                .clone()
        };
        match group.downcast::<group_commit::GroupCommit<J>>() {
            Ok(g) => g.submit(job).await,
            // The map is keyed by the job's type, so this cannot happen; refuse rather than panic.
            Err(_) => job.finish(Err(sqlx::Error::PoolClosed)),
        }
    }

    /// Publishes an event after the transaction that caused it has committed.
    pub fn publish(&self, topic: &str, payload: serde_json::Value) {
        send_event(
            self.relay.as_ref(),
            &self.write,
            &self.events,
            Event {
                topic: topic.to_string(),
                payload,
            },
        );
    }

    /// Publishes an event that only says "something of `key` changed" (a booking taken, for
    /// the duty leader's dashboard) at most once per `window` for each topic and key: the first
    /// at once, the last of those that came meanwhile at the window's end. On a release
    /// morning thousands a second would otherwise each be a `NOTIFY` between nodes and a frame
    /// to every dashboard, which reloads at most every 300 ms anyway.
    pub fn publish_coalesced(
        &self,
        topic: &'static str,
        key: i64,
        payload: serde_json::Value,
        window: Duration,
    ) {
        {
            let mut open = self
                .coalescing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(latest) = open.get_mut(&(topic, key)) {
                *latest = Some(payload);
                return;
            }
            open.insert((topic, key), None);
        }
        self.publish(topic, payload);
        let (relay, write, events, open) = (
            self.relay.clone(),
            self.write.clone(),
            self.events.clone(),
            self.coalescing.clone(),
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(window).await;
                let latest = {
                    let mut open = open
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    match open.get_mut(&(topic, key)).and_then(Option::take) {
                        Some(p) => p,
                        None => {
                            // Nothing came during this window: the next one is sent at once.
                            open.remove(&(topic, key));
                            return;
                        }
                    }
                };
                send_event(
                    relay.as_ref(),
                    &write,
                    &events,
                    Event {
                        topic: topic.to_string(),
                        payload: latest,
                    },
                );
            }
        });
    }

    /// Publishes an event as part of the transaction that causes it: on PostgreSQL the
    /// notification is sent if and only if the transaction commits, even when this process
    /// dies right after the commit (a call made just before its node is lost still wakes the
    /// displays on the other nodes). Hand the result to [`Db::committed`] after the commit:
    /// SQLite's in-process bus is told then.
    pub async fn publish_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        topic: &str,
        payload: serde_json::Value,
    ) -> Result<InTransaction, sqlx::Error> {
        let event = Event {
            topic: topic.to_string(),
            payload,
        };
        match &self.relay {
            Some(relay) => {
                notify(conn, &relay.channel, &event).await?;
                Ok(InTransaction(None))
            }
            None => Ok(InTransaction(Some(event))),
        }
    }

    /// Completes [`Db::publish_in`] once its transaction has committed.
    pub fn committed(&self, published: InTransaction) {
        if let Some(event) = published.0 {
            // No subscriber is a normal state (no display connected), not an error.
            let _ = self.events.send(event);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        if let Some(relay) = &self.relay
            && !relay
                .listening
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            spawn_listener(relay.clone(), self.events.clone());
        }
        self.events.subscribe()
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// The topic of the local event that tells a node's followers its listener (re)started: events
/// from other nodes may have been missed just before (PostgreSQL only).
pub const RESUMED: &str = "events.resumed";

/// Listens on the node's channel until the process ends, reconnecting after failures.
fn spawn_listener(relay: std::sync::Arc<Relay>, events: broadcast::Sender<Event>) {
    tokio::spawn(async move {
        loop {
            match sqlx::postgres::PgListener::connect(&relay.url).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(&relay.channel).await {
                        tracing::warn!(error = %e, "LISTEN failed; retrying");
                    } else {
                        // Whatever other nodes published while this node was not listening is
                        // lost: followers read what they need again from the database.
                        let _ = events.send(Event {
                            topic: RESUMED.to_string(),
                            payload: serde_json::json!({}),
                        });
                        loop {
                            match listener.recv().await {
                                Ok(n) => {
                                    if let Ok(event) = serde_json::from_str::<Event>(n.payload()) {
                                        let _ = events.send(event);
                                    }
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot connect the event listener; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// Makes sure the SQLite file's directory exists and the file is created on first use.
/// The write-ahead log's file of a SQLite URL (`None` in memory).
fn sqlite_wal_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    (path != ":memory:" && !path.is_empty())
        .then(|| std::path::PathBuf::from(format!("{path}-wal")))
}

fn sqlite_url_with_create(url: &str) -> Result<String, DbError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path != ":memory:"
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbError::Directory(parent.display().to_string(), e))?;
    }
    Ok(match query {
        Some(q) if q.contains("mode=") => format!("sqlite://{path}?{q}"),
        Some(q) => format!("sqlite://{path}?{q}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    })
}

/// Quotes an SQL identifier.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// True when an error is a unique-constraint violation (both engines), for precise 409/422s.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || d.code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// One PRAGMA's value as text, whichever type SQLite returns it as.
    async fn pragma(conn: &mut sqlx::AnyConnection, name: &str) -> String {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(&mut *conn)
            .await
            .expect("pragma");
        row.try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
            .expect("pragma value")
    }

    #[tokio::test]
    async fn the_sqlite_writer_is_set_up_for_group_commit() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .expect("connect");
        assert!(
            db.writer_thread.is_some(),
            "the group-commit writers get their own thread, started with the database"
        );
        let mut tx = db.begin().await.expect("writer");
        // Statement journals in memory (2): a batch's multi-row insert spilled them to files.
        assert_eq!(pragma(&mut tx, "temp_store").await, "2");
        // Checkpoints are the checkpointer's, never a commit's.
        assert_eq!(pragma(&mut tx, "wal_autocheckpoint").await, "0");
        assert_eq!(pragma(&mut tx, "journal_mode").await, "wal");
        assert_eq!(pragma(&mut tx, "foreign_keys").await, "1");
        assert_eq!(pragma(&mut tx, "cache_size").await, "-65536");
        tx.rollback().await.expect("rollback");
        // The one writer connection is kept, not closed when idle.
        assert_eq!(db.write.size(), 1);
        assert_eq!(db.write.options().get_min_connections(), 1);
        assert!(db.write.options().get_idle_timeout().is_none());
        assert!(db.write.options().get_max_lifetime().is_none());
    }
}
