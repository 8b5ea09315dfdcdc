//! The notification outbox (R2 reminders, R7 progress): messages are written in the same
//! transaction as the change they report, and a worker sends them through the SMS adapter, so
//! a message is neither lost by a crash nor sent for a change that was rolled back.
//!
//! Several nodes may run the worker: a row is claimed by one conditional `UPDATE` (PostgreSQL
//! re-checks the condition under the row lock), so each message goes out once.

pub mod wording;

use std::sync::Arc;
use std::time::Duration;

use sqlx::{AnyConnection, Row};

use crate::clock::Clock;
use crate::db::Db;
use crate::domain::phone::PhoneNumber;
use crate::privacy::Cipher;

/// Sends a text message. Real providers (an SMS gateway) implement this; the simulator writes
/// to the `sms_log` table, which the demo shows at `/admin/sms`.
pub trait SmsSender: Send + Sync {
    fn send<'a>(
        &'a self,
        db: &'a Db,
        phone: &'a PhoneNumber,
        body: &'a str,
        now: i64,
    ) -> SendFuture<'a>;
}

/// What [`SmsSender::send`] returns: boxed so senders can be chosen at run time.
pub type SendFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;

/// An honest stand-in for an SMS gateway: it sends nothing and records what it would send.
pub struct SimulatedSms;

impl SmsSender for SimulatedSms {
    fn send<'a>(
        &'a self,
        db: &'a Db,
        phone: &'a PhoneNumber,
        body: &'a str,
        now: i64,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            sqlx::query("INSERT INTO sms_log (at, phone_masked, body) VALUES ($1, $2, $3)")
                .bind(now)
                .bind(phone.masked())
                .bind(body)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())
        })
    }
}

/// A message to queue.
pub struct Outgoing<'a> {
    /// What it is about, e.g. `booking.reminder`.
    pub kind: &'a str,
    /// The record it is about (a booking code), so it can be withdrawn.
    pub reference: &'a str,
    pub phone: &'a PhoneNumber,
    pub body: &'a str,
    /// When to send it (epoch ms).
    pub due_at: i64,
}

/// Queues a message inside the caller's transaction.
pub async fn enqueue(
    conn: &mut AnyConnection,
    cipher: &Cipher,
    m: Outgoing<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    enqueue_sealed(conn, &[Sealed::new(cipher, &m)], now).await
}

/// A message ready for the outbox, its phone number already sealed — so a caller that writes
/// through the group-commit writer does the encryption before, not on the writer's time.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub kind: String,
    pub reference: String,
    pub phone_sealed: Vec<u8>,
    pub body: String,
    pub due_at: i64,
}

impl Sealed {
    pub fn new(cipher: &Cipher, m: &Outgoing<'_>) -> Sealed {
        Sealed {
            kind: m.kind.to_string(),
            reference: m.reference.to_string(),
            phone_sealed: cipher.seal(m.phone.as_str()),
            body: m.body.to_string(),
            due_at: m.due_at,
        }
    }
}

/// Queues sealed messages, many rows to a statement (a batch of bookings' confirmations and
/// reminders go in together).
pub async fn enqueue_sealed(
    conn: &mut AnyConnection,
    messages: &[Sealed],
    now: i64,
) -> Result<(), sqlx::Error> {
    // 6 values a row; 256 rows stay far below either engine's limit on bound values.
    for chunk in crate::db::cacheable_chunks(messages, 256) {
        let sql = format!(
            "INSERT INTO outbox (kind, ref, phone_sealed, body, due_at, created_at) VALUES {}",
            crate::db::placeholder_rows(conn, chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            q = q
                .bind(m.kind.as_str())
                .bind(m.reference.as_str())
                .bind(m.phone_sealed.as_slice())
                .bind(m.body.as_str())
                .bind(m.due_at)
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Withdraws queued, unsent messages of `kind` about `reference` (a reminder for a cancelled
/// booking).
pub async fn withdraw(
    conn: &mut AnyConnection,
    kind: &str,
    reference: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET cancelled_at = $1 WHERE ref = $2 AND kind = $3 AND sent_at IS NULL AND cancelled_at IS NULL")
        .bind(now)
        .bind(reference)
        .bind(kind)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sends what is due; returns how many went out. Failed sends are retried with back-off.
pub async fn deliver_due(
    db: &Db,
    cipher: &Cipher,
    sms: &dyn SmsSender,
    clock: &Clock,
) -> Result<usize, sqlx::Error> {
    let now = clock.now_ms();
    let mut tx = db.begin().await?;
    let rows = sqlx::query(
        r#"UPDATE outbox SET claimed_until = $1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND cancelled_at IS NULL AND due_at <= $2
                      AND claimed_until < $2 ORDER BY due_at, id LIMIT 50)
           AND sent_at IS NULL AND claimed_until < $2
         RETURNING id, phone_sealed, body, attempts"#,
    )
    .bind(now + 60_000)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut sent = 0;
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let sealed: Vec<u8> = r.try_get("phone_sealed")?;
        let body: String = r.try_get("body")?;
        let attempts: i64 = r.try_get("attempts")?;
        let outcome = match cipher
            .open(&sealed)
            .ok()
            .and_then(|p| PhoneNumber::parse(&p).ok())
        {
            Some(phone) => sms.send(db, &phone, &body, now).await,
            None => Err("stored phone number cannot be read".into()),
        };
        let mut tx = db.begin().await?;
        match outcome {
            Ok(()) => {
                sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sent += 1;
            }
            Err(e) => {
                // Back off 1, 2, 4 … minutes, at most an hour.
                let wait = 60_000 * (1_i64 << attempts.clamp(0, 6));
                sqlx::query("UPDATE outbox SET claimed_until = $1, last_error = $2 WHERE id = $3")
                    .bind(now + wait)
                    .bind(e)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// Runs the outbox worker until the process ends.
pub fn spawn_worker(db: Db, cipher: Arc<Cipher>, sms: Arc<dyn SmsSender>, clock: Clock) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&db, &cipher, sms.as_ref(), &clock).await {
                tracing::warn!(error = %e, "outbox delivery failed; retrying");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}

/// The simulator's log, newest first (for the demo page).
pub async fn recent_sms(db: &Db, limit: i64) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT at, phone_masked, body FROM sms_log ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                crate::clock::format_local(r.try_get("at")?),
                r.try_get("phone_masked")?,
                r.try_get("body")?,
            ))
        })
        .collect()
}
