//! Bookings written many at a time (docs/decisions/009): a batch of bookings checks the
//! no-show rule, takes its places, inserts its rows and queues its texts in a handful of
//! statements inside one transaction, instead of several statements and a commit each.

use std::collections::HashMap;

use tokio::sync::oneshot;

use super::store::{self, SlotRow};
use super::{Channel, NoShowRule, Pool, slots};
use crate::audit::{self, AuditEntry};
use crate::auth::Actor;
use crate::db::{Batch, Db, RunFuture};
use crate::notify;
use crate::privacy::BlindIndex;

/// Everything a booking writes, prepared (validated, sealed, texts written) before it queues,
/// so the single writer spends its time on statements only.
pub struct BookingJob {
    pub code: String,
    pub slot: SlotRow,
    pub channel: Channel,
    pub id_index: BlindIndex,
    pub id_sealed: Vec<u8>,
    pub name_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub lang: crate::i18n::Lang,
    pub idempotency_key: Option<String>,
    /// The officer booking for a caller or at the desk (audited).
    pub actor: Option<Actor>,
    /// The no-show rule to apply; `None` for staff channels, which it does not bind.
    pub no_show: Option<NoShowRule>,
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
    /// Online booking is blocked for the person until then (the no-show rule).
    Blocked(i64),
}

pub struct Queued {
    job: BookingJob,
    /// `None` while undecided within a write.
    outcome: Option<Written>,
    reply: Option<oneshot::Sender<Result<Written, sqlx::Error>>>,
}

/// Writes a booking through the group-commit writer and waits for its commit.
pub async fn write(db: &Db, job: BookingJob) -> Result<Written, sqlx::Error> {
    let (reply, answer) = oneshot::channel();
    db.write_batched(Queued {
        job,
        outcome: None,
        reply: Some(reply),
    })
    .await;
    answer.await.unwrap_or(Err(sqlx::Error::PoolClosed))
}

impl Batch for Queued {
    fn write_all<'c>(jobs: &'c mut [Self], conn: &'c mut sqlx::AnyConnection) -> RunFuture<'c> {
        Box::pin(write_bookings(jobs, conn))
    }

    fn finish(mut self, committed: Result<(), sqlx::Error>) {
        if let Some(reply) = self.reply.take() {
            let outcome = committed.and_then(|()| {
                self.outcome
                    .ok_or_else(|| sqlx::Error::Protocol("booking left undecided".into()))
            });
            // The requester may have gone (a closed connection); the booking stands either way.
            let _ = reply.send(outcome);
        }
    }
}

fn pool_index(pool: Pool) -> usize {
    match pool {
        Pool::Online => 0,
        Pool::Phone => 1,
        Pool::OnSite => 2,
    }
}

async fn write_bookings(
    jobs: &mut [Queued],
    conn: &mut sqlx::AnyConnection,
) -> Result<(), sqlx::Error> {
    for q in jobs.iter_mut() {
        q.outcome = None;
    }
    apply_no_show_rule(jobs, conn).await?;
    refuse_booked_under_previous_form(jobs, conn).await?;

    refuse_twins(jobs);
    // Places are handed out in rounds: a round gives the batch's undecided bookings what
    // their slots have left, in arrival order, and inserts them; a booking that meets a unique
    // constraint gives its place back, and the next round offers it to those that missed out.
    // A round without such returns decides everyone left as "full".
    loop {
        let granted = grant_places(jobs, conn).await?;
        if granted.is_empty() {
            break;
        }
        if !insert_granted(jobs, &granted, conn).await? {
            break;
        }
    }
    for q in jobs.iter_mut().filter(|q| q.outcome.is_none()) {
        q.outcome = Some(Written::Full);
    }

    // Texts and the audit trail of the bookings that were made.
    let booked = || {
        jobs.iter().filter_map(|q| match q.outcome {
            Some(Written::Booked(id)) => Some((id, &q.job)),
            _ => None,
        })
    };
    let messages: Vec<notify::Sealed> = booked()
        .flat_map(|(_, j)| j.messages.iter().cloned())
        .collect();
    if let Some(now) = booked().map(|(_, j)| j.now).max() {
        notify::enqueue_sealed(conn, &messages, now).await?;
    }
    let audited: Vec<_> = booked()
        .filter_map(|(id, j)| j.actor.as_ref().map(|a| (id, a, j)))
        .collect();
    for (id, a, j) in audited {
        audit::record(
            conn,
            AuditEntry::by(a, "booking.created", "booking", &id.to_string(), j.now)
                .site(j.slot.site_id)
                .detail(
                    serde_json::json!({"code": j.code, "channel": j.channel, "slot": j.slot.id}),
                ),
        )
        .await?;
    }
    Ok(())
}

/// While a key rotation's rebuild runs (src/rekey), a person's booking may be stored under the
/// form of their index before the newest, which the unique index on the newest form cannot
/// see: such a person is refused here as "taken", as the unique index would refuse them. A
/// look-up per booking, but only then (outside a rebuild both forms are one).
async fn refuse_booked_under_previous_form(
    jobs: &mut [Queued],
    conn: &mut sqlx::AnyConnection,
) -> Result<(), sqlx::Error> {
    for q in jobs.iter_mut().filter(|q| q.outcome.is_none()) {
        let [newest, previous] = q.job.id_index.forms();
        let (site, date) = (q.job.slot.site_id, &q.job.slot.date);
        if previous != newest
            && store::active_booking_of(&mut *conn, &q.job.id_index, site, date)
                .await?
                .is_some()
        {
            q.outcome = Some(Written::Taken);
        }
    }
    Ok(())
}

/// Within a batch, a second booking of the same person at the same site and day, or a second
/// request with the same idempotency key, can only meet the first: it is decided "taken" before
/// it can hold a place someone else could have had.
fn refuse_twins(jobs: &mut [Queued]) {
    let mut seen_people = std::collections::HashSet::new();
    let mut seen_keys = std::collections::HashSet::new();
    for q in jobs.iter_mut().filter(|q| q.outcome.is_none()) {
        let person = (
            q.job.id_index.newest().to_owned(),
            q.job.slot.site_id,
            q.job.slot.date.clone(),
        );
        let key_seen = q
            .job
            .idempotency_key
            .as_ref()
            .is_some_and(|k| !seen_keys.insert(k.clone()));
        if !seen_people.insert(person) || key_seen {
            q.outcome = Some(Written::Taken);
        }
    }
}

/// One round of places: reads what the undecided bookings' slots have left and takes each
/// slot's share in one conditional UPDATE (all or nothing, so the quota holds even if the
/// slot changed meanwhile — the batch then fails and is retried job by job). Returns the
/// bookings that got a place; the others stay undecided.
async fn grant_places(
    jobs: &mut [Queued],
    conn: &mut sqlx::AnyConnection,
) -> Result<Vec<usize>, sqlx::Error> {
    let mut slot_ids: Vec<i64> = jobs
        .iter()
        .filter(|q| q.outcome.is_none())
        .map(|q| q.job.slot.id)
        .collect();
    slot_ids.sort_unstable();
    slot_ids.dedup();
    let mut left: HashMap<i64, [i64; 3]> = store::places_left(conn, &slot_ids)
        .await?
        .into_iter()
        .collect();
    let mut taken: HashMap<(i64, Pool), i64> = HashMap::new();
    let mut granted = Vec::new();
    for (i, q) in jobs.iter().enumerate().filter(|(_, q)| q.outcome.is_none()) {
        let pool = q.job.channel.pool();
        if let Some(places) = left.get_mut(&q.job.slot.id)
            && places[pool_index(pool)] > 0
        {
            places[pool_index(pool)] -= 1;
            *taken.entry((q.job.slot.id, pool)).or_default() += 1;
            granted.push(i);
        }
    }
    // One statement per pool for all the batch's slots (a release morning books one pool).
    for pool in [Pool::Online, Pool::Phone, Pool::OnSite] {
        let mut shares: Vec<(i64, i64)> = taken
            .iter()
            .filter(|((_, p), _)| *p == pool)
            .map(|((slot, _), n)| (*slot, *n))
            .collect();
        shares.sort_unstable();
        if !store::take_shares(conn, pool, &shares).await? {
            return Err(sqlx::Error::Protocol(
                "a slot changed while its places were handed out".into(),
            ));
        }
    }
    Ok(granted)
}

/// Inserts the bookings that got a place, in one statement; one that meets a unique
/// constraint is decided "taken" and gives its place back. Tells whether any place was given
/// back (another round may then fill it).
async fn insert_granted(
    jobs: &mut [Queued],
    granted: &[usize],
    conn: &mut sqlx::AnyConnection,
) -> Result<bool, sqlx::Error> {
    let rows: Vec<store::NewBooking<'_>> = granted
        .iter()
        .map(|i| {
            let j = &jobs[*i].job;
            store::NewBooking {
                code: &j.code,
                slot: &j.slot,
                channel: j.channel,
                pool: j.channel.pool(),
                id_index: j.id_index.newest(),
                id_sealed: j.id_sealed.clone(),
                name_sealed: j.name_sealed.clone(),
                phone_sealed: j.phone_sealed.clone(),
                lang: j.lang,
                rescheduled_from: None,
                idempotency_key: j.idempotency_key.as_deref(),
                created_by: j.actor.as_ref().map(|a| a.staff_id),
                now: j.now,
            }
        })
        .collect();
    let ids: HashMap<String, i64> = store::insert_bookings(conn, &rows, true)
        .await?
        .into_iter()
        .collect();
    drop(rows);
    let mut given_back: HashMap<(i64, Pool), i64> = HashMap::new();
    for &i in granted {
        let q = &mut jobs[i];
        match ids.get(&q.job.code) {
            Some(id) => q.outcome = Some(Written::Booked(*id)),
            None => {
                q.outcome = Some(Written::Taken);
                *given_back
                    .entry((q.job.slot.id, q.job.channel.pool()))
                    .or_default() += 1;
            }
        }
    }
    let any = !given_back.is_empty();
    for ((slot, pool), n) in given_back {
        store::return_places(conn, slot, pool, n).await?;
    }
    Ok(any)
}

/// Refuses online bookings of people the no-show rule blocks (one query for the whole batch;
/// a second, per person, only for those with enough no-shows to be blocked).
async fn apply_no_show_rule(
    jobs: &mut [Queued],
    conn: &mut sqlx::AnyConnection,
) -> Result<(), sqlx::Error> {
    let mut people: Vec<&str> = jobs
        .iter()
        .filter(|q| q.job.no_show.is_some_and(|r| r.limit > 0))
        .flat_map(|q| q.job.id_index.forms())
        .collect();
    people.sort_unstable();
    people.dedup();
    let mut times: HashMap<String, Vec<i64>> = HashMap::new();
    for (person, at) in store::no_show_times_of(conn, &people).await? {
        times.entry(person).or_default().push(at);
    }
    for q in jobs.iter_mut() {
        let Some(rule) = q.job.no_show else { continue };
        let [newest, previous] = q.job.id_index.forms();
        let mut t: Vec<i64> = times.get(newest).cloned().unwrap_or_default();
        if previous != newest {
            t.extend(times.get(previous).into_iter().flatten());
        }
        if t.len() < rule.limit {
            continue;
        }
        let lift = store::last_lift(&mut *conn, &q.job.id_index).await?;
        if let Some(until) = slots::blocked_until(
            &t,
            lift,
            q.job.now,
            rule.limit,
            rule.window_days,
            rule.block_days,
        ) {
            q.outcome = Some(Written::Blocked(until));
        }
    }
    Ok(())
}
