//! A booking's write as a group-commit job: take the place, insert the booking, queue its
//! texts, audit a staff booking — all in the batch's transaction (docs/decisions/009).

use tokio::sync::oneshot;

use super::Channel;
use super::store::{self, SlotRow};
use crate::audit::{self, AuditEntry};
use crate::auth::Actor;
use crate::db::{Batched, Db, RunFuture};
use crate::notify;

/// Everything a booking writes, prepared (validated, sealed, texts written) before it queues,
/// so the single writer spends its time on statements only.
pub struct BookingJob {
    pub code: String,
    pub slot: SlotRow,
    pub channel: Channel,
    pub id_index: String,
    pub id_sealed: Vec<u8>,
    pub name_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub lang: &'static str,
    pub idempotency_key: Option<String>,
    /// The officer booking for a caller or at the desk (audited).
    pub actor: Option<Actor>,
    pub messages: Vec<notify::Sealed>,
    pub now: i64,
}

/// What the write came to, once committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Booked(i64),
    /// The slot's pool had no place left.
    Full,
    /// The person already holds a booking that day, or the idempotency key was used.
    Taken,
}

struct Queued {
    job: BookingJob,
    outcome: Written,
    reply: Option<oneshot::Sender<Result<Written, sqlx::Error>>>,
}

/// Writes a booking through the group-commit writer and waits for its commit.
pub async fn write(db: &Db, job: BookingJob) -> Result<Written, sqlx::Error> {
    let (reply, answer) = oneshot::channel();
    db.write_batched(Box::new(Queued {
        job,
        outcome: Written::Full,
        reply: Some(reply),
    }))
    .await;
    answer.await.unwrap_or(Err(sqlx::Error::PoolClosed))
}

impl Batched for Queued {
    fn run<'c>(&'c mut self, conn: &'c mut sqlx::AnyConnection) -> RunFuture<'c> {
        Box::pin(async move {
            let j = &self.job;
            let pool = j.channel.pool();
            // The conditional UPDATE is what keeps a quota from ever being exceeded.
            if !store::take_place(conn, j.slot.id, pool).await? {
                self.outcome = Written::Full;
                return Ok(());
            }
            let new = store::NewBooking {
                code: &j.code,
                slot: &j.slot,
                channel: j.channel.as_str(),
                pool,
                id_index: &j.id_index,
                id_sealed: j.id_sealed.clone(),
                name_sealed: j.name_sealed.clone(),
                phone_sealed: j.phone_sealed.clone(),
                lang: j.lang,
                rescheduled_from: None,
                idempotency_key: j.idempotency_key.as_deref(),
                created_by: j.actor.as_ref().map(|a| a.staff_id),
                now: j.now,
            };
            let Some(id) = store::insert_booking_unless_taken(conn, &new).await? else {
                // Undo our own place in the same transaction; nothing else saw it.
                store::return_place(conn, j.slot.id, pool).await?;
                self.outcome = Written::Taken;
                return Ok(());
            };
            notify::enqueue_sealed(conn, &j.messages, j.now).await?;
            if let Some(a) = &j.actor {
                audit::record(
                    conn,
                    AuditEntry::by(a, "booking.created", "booking", &id.to_string(), j.now)
                        .site(j.slot.site_id)
                        .detail(serde_json::json!({"code": j.code, "channel": j.channel, "slot": j.slot.id})),
                )
                .await?;
            }
            self.outcome = Written::Booked(id);
            Ok(())
        })
    }

    fn lock_order(&self) -> i64 {
        self.job.slot.id
    }

    fn finish(mut self: Box<Self>, committed: Result<(), sqlx::Error>) {
        if let Some(reply) = self.reply.take() {
            // The requester may have gone (a closed connection); the booking stands either way.
            let _ = reply.send(committed.map(|()| self.outcome));
        }
    }
}
