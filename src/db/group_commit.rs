//! Group commit: small write jobs that arrive together share one transaction, so a burst of
//! bookings pays one commit (one fsync on SQLite) per batch instead of one per booking.
//!
//! A job runs its statements on the batch's connection and keeps its own outcome; it is told
//! the result only after the commit, so nobody hears "booked" for a row that was rolled back.
//! A job's "no" (a full slot, a taken ID number) is part of its outcome and writes nothing, so
//! it never spoils the batch. If the batch fails for any other reason, it is rolled back and
//! every job runs again in a transaction of its own: one broken job cannot fail the others.
//! There is no waiting for company — a writer takes whatever queued while it was busy, so a
//! lone request is written at once and a crowd is written in a few large transactions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{Mutex, mpsc};

/// What [`Batch::write_all`] returns.
pub type RunFuture<'c> = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;

/// A kind of job the group-commit writer can write many of at once.
pub trait Batch: Send + Sized + 'static {
    /// Writes `jobs` in the open transaction, each keeping its own outcome. May be called
    /// again for a single job (after a failed batch), so outcomes are set afresh each time.
    /// A job's refusal must write nothing (or undo what it wrote) and not be an error.
    fn write_all<'c>(jobs: &'c mut [Self], conn: &'c mut AnyConnection) -> RunFuture<'c>;

    /// Called exactly once per job: `Ok` when the transaction holding its last write
    /// committed.
    fn finish(self, committed: Result<(), sqlx::Error>);
}

/// At most this many jobs share a transaction: enough to amortise the commit and the
/// statements, few enough that the first job in a batch does not wait long for the last.
const MAX_BATCH: usize = 256;

/// The queue in front of the writers of one kind of job.
pub struct GroupCommit<J> {
    sender: mpsc::Sender<J>,
}

impl<J: Batch> GroupCommit<J> {
    /// Starts `writers` tasks writing through `pool` (one on SQLite, which has one writer
    /// connection anyway; a few on PostgreSQL so a commit's round trip overlaps the next batch).
    ///
    /// With [`Home::Thread`] the writers run on the database's writer thread. Every statement
    /// of a batch is a hand-off to the SQLite connection's worker thread and back; on the
    /// shared runtime each return waited in the run queue behind the HTTP tasks of a release
    /// morning, which made a batch of 100 bookings take 10–30 ms instead of a few (p99 113 ms
    /// → 34 ms at 5,000 bookings/s, docs/BENCHMARKS.md).
    pub fn start(pool: AnyPool, writers: usize, home: Home) -> GroupCommit<J> {
        let (sender, receiver) = mpsc::channel::<J>(16_384);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            let writer = write_loop(pool.clone(), receiver.clone());
            match &home {
                Home::Runtime => drop(tokio::spawn(writer)),
                Home::Thread(thread) => drop(thread.runtime.spawn(writer)),
            }
        }
        GroupCommit { sender }
    }

    /// Queues a job; its `finish` tells the outcome.
    pub async fn submit(&self, job: J) {
        if let Err(mpsc::error::SendError(job)) = self.sender.send(job).await {
            job.finish(Err(sqlx::Error::PoolClosed));
        }
    }
}

/// Where the writers of a [`GroupCommit`] run.
#[derive(Clone)]
pub enum Home {
    /// On the runtime that serves requests.
    Runtime,
    /// On a thread and runtime of their own, so their many short waits do not queue behind
    /// request handling.
    Thread(WriterThread),
}

/// A thread with a runtime of its own for the group-commit writers of every kind of job. It is
/// started with the database, not on the path of the request that first writes, and stops
/// when the last handle to it is dropped.
#[derive(Clone)]
pub struct WriterThread {
    runtime: tokio::runtime::Handle,
    /// Dropped with the last handle, which ends the thread's runtime.
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl WriterThread {
    pub fn start() -> std::io::Result<WriterThread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let _ = stopped.await;
                });
            })?;
        Ok(WriterThread {
            runtime: handle,
            _stop: Arc::new(stop),
        })
    }
}

async fn write_loop<J: Batch>(pool: AnyPool, receiver: Arc<Mutex<mpsc::Receiver<J>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut queue = receiver.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        metrics::histogram!("db_group_commit_batch_size").record(batch.len() as f64);
        write_batch(&pool, batch).await;
    }
}

async fn write_batch<J: Batch>(pool: &AnyPool, mut batch: Vec<J>) {
    if batch.len() > 1 {
        match run_in_one_transaction(pool, &mut batch).await {
            Ok(()) => {
                for job in batch {
                    job.finish(Ok(()));
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = batch.len(), "group commit failed; writing its jobs one by one");
            }
        }
    }
    for mut job in batch {
        let result = run_in_one_transaction(pool, std::slice::from_mut(&mut job)).await;
        job.finish(result);
    }
}

async fn run_in_one_transaction<J: Batch>(
    pool: &AnyPool,
    jobs: &mut [J],
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    if let Err(e) = J::write_all(jobs, &mut tx).await {
        // Roll back now rather than when the connection is next used.
        let _ = tx.rollback().await;
        return Err(e);
    }
    tx.commit().await
}

/// `n` rows of `width` placeholders for the connection's engine — `($1, $2), ($3, $4)` on
/// PostgreSQL, `(?, ?), (?, ?)` on SQLite — for multi-row statements whose row count is known
/// only at run time. Only placeholders go into the text; every value is bound. SQLite gets
/// anonymous ones because it looks a numbered parameter's name up by a linear search, which
/// makes binding thousands of them quadratic.
pub fn placeholder_rows(conn: &sqlx::AnyConnection, n: usize, width: usize) -> String {
    let numbered = conn.backend_name() == "PostgreSQL";
    let mut out = String::with_capacity(n * width * 5);
    for row in 0..n {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for col in 0..width {
            if col > 0 {
                out.push_str(", ");
            }
            if numbered {
                out.push('$');
                out.push_str(&(1 + row * width + col).to_string());
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}

/// Splits `items` into chunks whose sizes are powers of two up to `max` (100 → 64, 32, 4), so
/// multi-row statements come in a few shapes the connection's statement cache keeps, instead
/// of a new statement to prepare for every batch size.
pub fn cacheable_chunks<T>(items: &[T], max: usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let mut size = max.max(1).next_power_of_two();
        while size > rest.len() {
            size /= 2;
        }
        let (chunk, tail) = rest.split_at(size);
        out.push(chunk);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, DbOptions};
    use tokio::sync::oneshot;

    /// Inserts one row; `table` names a missing table to break the batch on purpose.
    struct Insert {
        table: &'static str,
        value: i64,
        runs: usize,
        reply: Option<oneshot::Sender<(Result<(), sqlx::Error>, usize)>>,
    }

    impl Batch for Insert {
        fn write_all<'c>(jobs: &'c mut [Self], conn: &'c mut AnyConnection) -> RunFuture<'c> {
            Box::pin(async move {
                for job in jobs.iter_mut() {
                    job.runs += 1;
                    let sql = match job.table {
                        "t" => "INSERT INTO t (x) VALUES ($1)",
                        _ => "INSERT INTO missing (x) VALUES ($1)",
                    };
                    sqlx::query(sql).bind(job.value).execute(&mut *conn).await?;
                }
                Ok(())
            })
        }

        fn finish(mut self, committed: Result<(), sqlx::Error>) {
            if let Some(r) = self.reply.take() {
                let _ = r.send((committed, self.runs));
            }
        }
    }

    #[test]
    fn chunks_come_in_powers_of_two() {
        let items: Vec<u32> = (0..100).collect();
        let sizes: Vec<usize> = cacheable_chunks(&items, 64)
            .iter()
            .map(|c| c.len())
            .collect();
        assert_eq!(sizes, vec![64, 32, 4]);
        let joined: Vec<u32> = cacheable_chunks(&items, 64).concat();
        assert_eq!(joined, items);
        assert!(cacheable_chunks::<u32>(&[], 64).is_empty());
    }

    /// Keeps the database's writer thread busy until the returned sender is dropped, so jobs
    /// queued meanwhile are taken together as one batch.
    async fn pause_writer(db: &Db) -> std::sync::mpsc::Sender<()> {
        let thread = db
            .writer_thread
            .as_ref()
            .expect("SQLite has a writer thread");
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (paused, is_paused) = oneshot::channel::<()>();
        drop(thread.runtime.spawn(async move {
            let _ = paused.send(());
            // Blocks the writer's one-thread runtime on purpose: nothing else runs there.
            let _ = released.recv();
        }));
        is_paused.await.expect("the writer thread paused");
        release
    }

    #[tokio::test]
    async fn one_broken_job_does_not_fail_its_batch() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let db = Db::connect(&url, &DbOptions::default()).await.expect("db");
        sqlx::query("CREATE TABLE t (x INTEGER NOT NULL)")
            .execute(&db.write)
            .await
            .expect("table");
        let mut answers = Vec::new();
        // Queued while the writer is held, so they share one batch.
        let paused = pause_writer(&db).await;
        for value in 0..20 {
            let (reply, answer) = oneshot::channel();
            let table = if value == 7 { "missing" } else { "t" };
            db.write_batched(Insert {
                table,
                value,
                runs: 0,
                reply: Some(reply),
            })
            .await;
            answers.push((value, answer));
        }
        drop(paused);
        for (value, answer) in answers {
            let (result, runs) = answer.await.expect("answered");
            if value == 7 {
                assert!(result.is_err(), "the broken job reports its error");
            } else {
                assert!(result.is_ok(), "job {value} committed: {result:?}");
                // Those before the broken one ran in the failed batch, then again alone;
                // those after it ran alone only.
                let expected = if value < 7 { 2 } else { 1 };
                assert_eq!(runs, expected, "job {value} ran {runs} times");
            }
        }
        let (n, sum): (i64, i64) = sqlx::query_as("SELECT COUNT(*), SUM(x) FROM t")
            .fetch_one(&db.read)
            .await
            .expect("count");
        assert_eq!(n, 19, "every good job written once, none twice");
        assert_eq!(sum, (0..20).sum::<i64>() - 7);
        let conn = db.reader().acquire().await.expect("conn");
        assert_eq!(placeholder_rows(&conn, 2, 3), "(?, ?, ?), (?, ?, ?)");
    }

    #[tokio::test]
    async fn a_batch_commits_together() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let db = Db::connect(&url, &DbOptions::default()).await.expect("db");
        sqlx::query("CREATE TABLE t (x INTEGER NOT NULL)")
            .execute(&db.write)
            .await
            .expect("table");
        let mut answers = Vec::new();
        let paused = pause_writer(&db).await;
        for value in 0..50 {
            let (reply, answer) = oneshot::channel();
            db.write_batched(Insert {
                table: "t",
                value,
                runs: 0,
                reply: Some(reply),
            })
            .await;
            answers.push(answer);
        }
        drop(paused);
        for answer in answers {
            let (result, runs) = answer.await.expect("answered");
            assert!(result.is_ok());
            assert_eq!(runs, 1, "a good batch runs each job once");
        }
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
            .fetch_one(&db.read)
            .await
            .expect("count");
        assert_eq!(n, 50);
    }
}
