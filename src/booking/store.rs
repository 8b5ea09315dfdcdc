//! SQL for slots, bookings, settings, the waiting list and no-show lifts.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::slots::SlotSettings;
use super::{Pool, Status};
use crate::privacy::BlindIndex;

pub async fn settings<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
) -> Result<Option<SlotSettings>, sqlx::Error> {
    let row = sqlx::query(
        r#"SELECT slot_minutes, quota_online, quota_phone, quota_onsite, open_days_ahead, open_at_minute,
                close_minutes_before, release_delay_seconds FROM slot_settings WHERE site_id = $1 AND line_code = $2"#,
    )
    .bind(site_id)
    .bind(line)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(SlotSettings {
            slot_minutes: r.try_get("slot_minutes")?,
            quota_online: r.try_get("quota_online")?,
            quota_phone: r.try_get("quota_phone")?,
            quota_onsite: r.try_get("quota_onsite")?,
            open_days_ahead: r.try_get("open_days_ahead")?,
            open_at_minute: r.try_get("open_at_minute")?,
            close_minutes_before: r.try_get("close_minutes_before")?,
            release_delay_seconds: r.try_get("release_delay_seconds")?,
        })
    })
    .transpose()
}

/// The longest booking window any site has set for any line (`None`: none set, the defaults
/// apply everywhere).
pub async fn longest_window<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT MAX(open_days_ahead) AS days FROM slot_settings")
        .fetch_one(ex)
        .await?
        .try_get("days")
}

pub async fn upsert_settings(
    conn: &mut AnyConnection,
    site_id: i64,
    line: &str,
    s: &SlotSettings,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO slot_settings (site_id, line_code, slot_minutes, quota_online, quota_phone, quota_onsite,
             open_days_ahead, open_at_minute, close_minutes_before, release_delay_seconds, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (site_id, line_code) DO UPDATE SET slot_minutes = $3, quota_online = $4, quota_phone = $5,
             quota_onsite = $6, open_days_ahead = $7, open_at_minute = $8, close_minutes_before = $9,
             release_delay_seconds = $10, updated_at = $11"#,
    )
    .bind(site_id)
    .bind(line)
    .bind(s.slot_minutes)
    .bind(s.quota_online)
    .bind(s.quota_phone)
    .bind(s.quota_onsite)
    .bind(s.open_days_ahead)
    .bind(s.open_at_minute)
    .bind(s.close_minutes_before)
    .bind(s.release_delay_seconds)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Extra places from peak-capacity changes covering `date`: (online, phone, onsite).
pub async fn extra_capacity<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
    date: &str,
) -> Result<(i64, i64, i64), sqlx::Error> {
    let r = sqlx::query(
        r#"SELECT CAST(COALESCE(SUM(extra_online), 0) AS BIGINT) AS o, CAST(COALESCE(SUM(extra_phone), 0) AS BIGINT) AS p,
                CAST(COALESCE(SUM(extra_onsite), 0) AS BIGINT) AS s
         FROM capacity_changes WHERE site_id = $1 AND line_code = $2 AND from_date <= $3 AND to_date >= $3"#,
    )
    .bind(site_id)
    .bind(line)
    .bind(date)
    .fetch_one(ex)
    .await?;
    Ok((r.try_get("o")?, r.try_get("p")?, r.try_get("s")?))
}

pub async fn day_closure<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let r = sqlx::query(
        "SELECT reason_zh, reason_en FROM day_closures WHERE site_id = $1 AND date = $2",
    )
    .bind(site_id)
    .bind(date)
    .fetch_optional(ex)
    .await?;
    r.map(|r| Ok((r.try_get("reason_zh")?, r.try_get("reason_en")?)))
        .transpose()
}

pub async fn count_slots<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
    date: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM slots WHERE site_id = $1 AND line_code = $2 AND date = $3",
    )
    .bind(site_id)
    .bind(line)
    .bind(date)
    .fetch_one(ex)
    .await?
    .try_get("n")
}

pub struct NewSlot {
    pub start_minute: i64,
    pub end_minute: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub quota: (i64, i64, i64),
}

pub async fn insert_slot(
    conn: &mut AnyConnection,
    site_id: i64,
    line: &str,
    date: &str,
    s: &NewSlot,
    closed: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO slots (site_id, line_code, date, start_minute, end_minute, starts_at, ends_at, quota_online, quota_phone, quota_onsite, closed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (site_id, line_code, date, start_minute) DO NOTHING"#,
    )
    .bind(site_id)
    .bind(line)
    .bind(date)
    .bind(s.start_minute)
    .bind(s.end_minute)
    .bind(s.starts_at)
    .bind(s.ends_at)
    .bind(s.quota.0)
    .bind(s.quota.1)
    .bind(s.quota.2)
    .bind(i64::from(closed))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SlotRow {
    pub id: i64,
    pub site_id: i64,
    pub line_code: String,
    pub date: String,
    pub start_minute: i64,
    pub end_minute: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub quota_online: i64,
    pub quota_phone: i64,
    pub quota_onsite: i64,
    pub booked_online: i64,
    pub booked_phone: i64,
    pub booked_onsite: i64,
    pub closed: bool,
}

impl SlotRow {
    pub fn remaining(&self, pool: Pool) -> i64 {
        match pool {
            Pool::Online => self.quota_online - self.booked_online,
            Pool::Phone => self.quota_phone - self.booked_phone,
            Pool::OnSite => self.quota_onsite - self.booked_onsite,
        }
        .max(0)
    }
    pub fn quota(&self) -> i64 {
        self.quota_online + self.quota_phone + self.quota_onsite
    }
    pub fn booked(&self) -> i64 {
        self.booked_online + self.booked_phone + self.booked_onsite
    }
}

macro_rules! slot_select {
    ($where:literal) => {
        concat!(
            r#"SELECT id, site_id, line_code, date, start_minute, end_minute, starts_at, ends_at, quota_online, quota_phone,
             quota_onsite, booked_online, booked_phone, booked_onsite, closed FROM slots "#,
            $where
        )
    };
}

fn slot_row(r: &sqlx::any::AnyRow) -> Result<SlotRow, sqlx::Error> {
    Ok(SlotRow {
        id: r.try_get("id")?,
        site_id: r.try_get("site_id")?,
        line_code: r.try_get("line_code")?,
        date: r.try_get("date")?,
        start_minute: r.try_get("start_minute")?,
        end_minute: r.try_get("end_minute")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        quota_online: r.try_get("quota_online")?,
        quota_phone: r.try_get("quota_phone")?,
        quota_onsite: r.try_get("quota_onsite")?,
        booked_online: r.try_get("booked_online")?,
        booked_phone: r.try_get("booked_phone")?,
        booked_onsite: r.try_get("booked_onsite")?,
        closed: r.try_get::<i64, _>("closed")? != 0,
    })
}

pub async fn slots_of_day<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
    date: &str,
) -> Result<Vec<SlotRow>, sqlx::Error> {
    sqlx::query(slot_select!(
        "WHERE site_id = $1 AND line_code = $2 AND date = $3 ORDER BY start_minute"
    ))
    .bind(site_id)
    .bind(line)
    .bind(date)
    .fetch_all(ex)
    .await?
    .iter()
    .map(slot_row)
    .collect()
}

pub async fn slots_of_site_day<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
) -> Result<Vec<SlotRow>, sqlx::Error> {
    sqlx::query(slot_select!(
        "WHERE site_id = $1 AND date = $2 ORDER BY line_code, start_minute"
    ))
    .bind(site_id)
    .bind(date)
    .fetch_all(ex)
    .await?
    .iter()
    .map(slot_row)
    .collect()
}

pub async fn slot<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<SlotRow>, sqlx::Error> {
    sqlx::query(slot_select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| slot_row(&r))
        .transpose()
}

/// Takes each slot's share of places from one pool in one statement: `shares` are
/// `(slot id, places)` with distinct slots. The conditional `UPDATE` is what keeps a quota
/// from ever being exceeded, whatever runs concurrently. All or nothing — false (and nothing taken) when any
/// of the slots is closed or would go over its quota, which the caller treats as the slots
/// having changed under it.
pub async fn take_shares(
    conn: &mut AnyConnection,
    pool: Pool,
    shares: &[(i64, i64)],
) -> Result<bool, sqlx::Error> {
    let Some(last) = shares.last() else {
        return Ok(true);
    };
    let (booked, quota) = match pool {
        Pool::Online => ("booked_online", "quota_online"),
        Pool::Phone => ("booked_phone", "quota_phone"),
        Pool::OnSite => ("booked_onsite", "quota_onsite"),
    };
    // Padded to a power of two by repeating the last share (the same row matched twice
    // updates it once), so the statement comes in a few shapes the cache keeps.
    let width = padded(shares.len());
    let sql = format!(
        r#"UPDATE slots SET {booked} = {booked} + v.column2 FROM (VALUES {}) AS v
         WHERE slots.id = v.column1 AND slots.closed = 0 AND slots.{booked} + v.column2 <= slots.{quota}"#,
        crate::db::placeholder_rows(conn, width, 2)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for i in 0..width {
        let (slot, n) = shares.get(i).unwrap_or(last);
        q = q.bind(*slot).bind(*n);
    }
    let updated = q.execute(conn).await?.rows_affected();
    Ok(updated == shares.len() as u64)
}

/// Takes one place (see [`take_shares`]).
pub async fn take_place(
    conn: &mut AnyConnection,
    slot_id: i64,
    pool: Pool,
) -> Result<bool, sqlx::Error> {
    take_shares(conn, pool, &[(slot_id, 1)]).await
}

/// Gives `n` places back to their pool.
pub async fn return_places(
    conn: &mut AnyConnection,
    slot_id: i64,
    pool: Pool,
    n: i64,
) -> Result<(), sqlx::Error> {
    let sql = match pool {
        Pool::Online => {
            "UPDATE slots SET booked_online = booked_online - $2 WHERE id = $1 AND booked_online >= $2"
        }
        Pool::Phone => {
            "UPDATE slots SET booked_phone = booked_phone - $2 WHERE id = $1 AND booked_phone >= $2"
        }
        Pool::OnSite => {
            "UPDATE slots SET booked_onsite = booked_onsite - $2 WHERE id = $1 AND booked_onsite >= $2"
        }
    };
    sqlx::query(sql).bind(slot_id).bind(n).execute(conn).await?;
    Ok(())
}

/// Gives a place back to its pool.
pub async fn return_place(
    conn: &mut AnyConnection,
    slot_id: i64,
    pool: Pool,
) -> Result<(), sqlx::Error> {
    return_places(conn, slot_id, pool, 1).await
}

pub struct NewBooking<'a> {
    pub code: &'a str,
    pub slot: &'a SlotRow,
    pub channel: super::Channel,
    pub pool: Pool,
    pub id_index: &'a str,
    pub id_sealed: Vec<u8>,
    pub name_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub lang: crate::i18n::Lang,
    pub rescheduled_from: Option<i64>,
    pub idempotency_key: Option<&'a str>,
    pub created_by: Option<i64>,
    pub now: i64,
}

/// The columns a new booking fills, in the order [`bind_booking`] binds them.
const BOOKING_COLUMNS: &str = r#"code, slot_id, site_id, line_code, date, start_minute, starts_at, ends_at, channel, pool,
     id_index, id_sealed, name_sealed, phone_sealed, lang, status, rescheduled_from, idempotency_key, created_by, created_at"#;
const BOOKING_WIDTH: usize = 20;

fn bind_booking<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    b: &'q NewBooking<'q>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    q.bind(b.code)
        .bind(b.slot.id)
        .bind(b.slot.site_id)
        .bind(&b.slot.line_code)
        .bind(&b.slot.date)
        .bind(b.slot.start_minute)
        .bind(b.slot.starts_at)
        .bind(b.slot.ends_at)
        .bind(b.channel.as_str())
        .bind(b.pool.as_str())
        .bind(b.id_index)
        .bind(b.id_sealed.as_slice())
        .bind(b.name_sealed.as_slice())
        .bind(b.phone_sealed.as_slice())
        .bind(b.lang.code())
        .bind(Status::Booked.as_str())
        .bind(b.rescheduled_from)
        .bind(b.idempotency_key)
        .bind(b.created_by)
        .bind(b.now)
}

/// Inserts bookings in one statement and returns `(code, id)` of each row written. With
/// `unless_taken`, a row that meets a unique constraint (the person's active booking that
/// day, a used idempotency key) is skipped — it is missing from the answer and the
/// transaction stays usable on both engines; without, it is an error.
pub async fn insert_bookings(
    conn: &mut AnyConnection,
    rows: &[NewBooking<'_>],
    unless_taken: bool,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let mut written = Vec::with_capacity(rows.len());
    // 20 values a row; 128 rows stay far below either engine's limit on bound values.
    for chunk in crate::db::cacheable_chunks(rows, 128) {
        let sql = format!(
            "INSERT INTO bookings ({BOOKING_COLUMNS}) VALUES {} {}RETURNING code, id",
            crate::db::placeholder_rows(conn, chunk.len(), BOOKING_WIDTH),
            if unless_taken {
                "ON CONFLICT DO NOTHING "
            } else {
                ""
            }
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in chunk {
            q = bind_booking(q, b);
        }
        for r in q.fetch_all(&mut *conn).await? {
            written.push((r.try_get("code")?, r.try_get("id")?));
        }
    }
    Ok(written)
}

/// Inserts one booking; a second active booking of the person that day (or a reused
/// idempotency key) is a unique-constraint error.
pub async fn insert_booking(
    conn: &mut AnyConnection,
    b: &NewBooking<'_>,
) -> Result<i64, sqlx::Error> {
    insert_bookings(conn, std::slice::from_ref(b), false)
        .await?
        .first()
        .map(|(_, id)| *id)
        .ok_or(sqlx::Error::RowNotFound)
}

/// An `IN` list's length rounded up to a power of two (the last value repeats, which changes
/// nothing), so such queries come in a few shapes the statement cache keeps.
fn padded(n: usize) -> usize {
    n.next_power_of_two()
}

/// Places left in each of these slots, per pool (none in a closed slot); on PostgreSQL the
/// rows stay locked, in id order, until the transaction ends.
pub async fn places_left(
    conn: &mut AnyConnection,
    slot_ids: &[i64],
) -> Result<Vec<(i64, [i64; 3])>, sqlx::Error> {
    if slot_ids.is_empty() {
        return Ok(Vec::new());
    }
    let lock = if conn.backend_name() == "PostgreSQL" {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        r#"SELECT id, closed, quota_online - booked_online AS online, quota_phone - booked_phone AS phone,
                quota_onsite - booked_onsite AS onsite FROM slots WHERE id IN {} ORDER BY id{lock}"#,
        crate::db::placeholder_rows(conn, 1, padded(slot_ids.len()))
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for i in 0..padded(slot_ids.len()) {
        q = q.bind(slot_ids[i.min(slot_ids.len() - 1)]);
    }
    q.fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            let open = r.try_get::<i64, _>("closed")? == 0;
            let left = |c: &str| -> Result<i64, sqlx::Error> {
                Ok(if open {
                    r.try_get::<i64, _>(c)?.max(0)
                } else {
                    0
                })
            };
            Ok((
                r.try_get("id")?,
                [left("online")?, left("phone")?, left("onsite")?],
            ))
        })
        .collect()
}

/// The no-show times of each of these people (by blind index), for the no-show rule.
pub async fn no_show_times_of(
    conn: &mut AnyConnection,
    id_indexes: &[&str],
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    if id_indexes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id_index, no_show_at FROM bookings WHERE status = 'no_show' AND no_show_at IS NOT NULL AND id_index IN {}",
        crate::db::placeholder_rows(conn, 1, padded(id_indexes.len()))
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for i in 0..padded(id_indexes.len()) {
        q = q.bind(id_indexes[i.min(id_indexes.len() - 1)]);
    }
    q.fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id_index")?, r.try_get("no_show_at")?)))
        .collect()
}

#[derive(Debug, Clone)]
pub struct BookingRow {
    pub id: i64,
    pub code: String,
    pub slot_id: i64,
    pub site_id: i64,
    pub line_code: String,
    pub date: String,
    pub start_minute: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub channel: super::Channel,
    pub pool: Pool,
    pub id_index: String,
    pub id_sealed: Vec<u8>,
    pub name_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub lang: crate::i18n::Lang,
    pub status: Status,
    pub cancel_reason: Option<String>,
    pub created_at: i64,
    pub arrived_at: Option<i64>,
    /// Locked for online lookup and changes after too many wrong ID numbers (issue 12 item 5).
    pub locked_at: Option<i64>,
}

fn booking_row(r: &sqlx::any::AnyRow) -> Result<BookingRow, sqlx::Error> {
    let pool: String = r.try_get("pool")?;
    let status: String = r.try_get("status")?;
    let channel: String = r.try_get("channel")?;
    let lang: String = r.try_get("lang")?;
    Ok(BookingRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        slot_id: r.try_get("slot_id")?,
        site_id: r.try_get("site_id")?,
        line_code: r.try_get("line_code")?,
        date: r.try_get("date")?,
        start_minute: r.try_get("start_minute")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        channel: super::Channel::parse(&channel)
            .ok_or_else(|| sqlx::Error::Decode(format!("channel {channel}").into()))?,
        pool: Pool::parse(&pool)
            .ok_or_else(|| sqlx::Error::Decode(format!("pool {pool}").into()))?,
        id_index: r.try_get("id_index")?,
        id_sealed: r.try_get("id_sealed")?,
        name_sealed: r.try_get("name_sealed")?,
        phone_sealed: r.try_get("phone_sealed")?,
        lang: crate::i18n::Lang::from_code(&lang)
            .ok_or_else(|| sqlx::Error::Decode(format!("lang {lang}").into()))?,
        status: Status::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("status {status}").into()))?,
        cancel_reason: r.try_get("cancel_reason")?,
        created_at: r.try_get("created_at")?,
        arrived_at: r.try_get("arrived_at")?,
        locked_at: r.try_get("locked_at")?,
    })
}

macro_rules! booking_select {
    ($where:literal) => {
        concat!(
            r#"SELECT id, code, slot_id, site_id, line_code, date, start_minute, starts_at, ends_at, channel, pool, id_index,
             id_sealed, name_sealed, phone_sealed, lang, status, cancel_reason, created_at, arrived_at, locked_at FROM bookings "#,
            $where
        )
    };
}

pub async fn booking_by_code<'e>(
    ex: impl Executor<'e, Database = Any>,
    code: &str,
) -> Result<Option<BookingRow>, sqlx::Error> {
    sqlx::query(booking_select!("WHERE code = $1"))
        .bind(code)
        .fetch_optional(ex)
        .await?
        .map(|r| booking_row(&r))
        .transpose()
}

pub async fn booking_by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<BookingRow>, sqlx::Error> {
    sqlx::query(booking_select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| booking_row(&r))
        .transpose()
}

/// Counts a wrong ID number given with booking `id`'s code, locking the code at `lock_after`;
/// returns whether this attempt locked it (the owner is told once).
pub async fn count_wrong_id(
    conn: &mut AnyConnection,
    id: i64,
    lock_after: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let locked = sqlx::query(
        r#"UPDATE bookings SET wrong_id_attempts = wrong_id_attempts + 1,
         locked_at = CASE WHEN locked_at IS NULL AND wrong_id_attempts + 1 >= $2 THEN $3 ELSE locked_at END
         WHERE id = $1 RETURNING wrong_id_attempts"#,
    )
    .bind(id)
    .bind(lock_after)
    .bind(now)
    .fetch_one(conn)
    .await?
    .try_get::<i64, _>("wrong_id_attempts")?;
    Ok(locked == lock_after)
}

pub async fn booking_by_key<'e>(
    ex: impl Executor<'e, Database = Any>,
    key: &str,
) -> Result<Option<BookingRow>, sqlx::Error> {
    sqlx::query(booking_select!("WHERE idempotency_key = $1"))
        .bind(key)
        .fetch_optional(ex)
        .await?
        .map(|r| booking_row(&r))
        .transpose()
}

/// Active bookings of a person at a site on a date (at most one, by the unique index).
pub async fn active_booking_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    person: &BlindIndex,
    site_id: i64,
    date: &str,
) -> Result<Option<BookingRow>, sqlx::Error> {
    let [newest, previous] = person.forms();
    sqlx::query(booking_select!(
        "WHERE id_index IN ($1, $4) AND site_id = $2 AND date = $3 AND status IN ('booked', 'arrived')"
    ))
    .bind(newest)
    .bind(site_id)
    .bind(date)
    .bind(previous)
    .fetch_optional(ex)
    .await?
    .map(|r| booking_row(&r))
    .transpose()
}

pub async fn bookings_of_site_day<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    sqlx::query(booking_select!(
        "WHERE site_id = $1 AND date = $2 ORDER BY start_minute, id"
    ))
    .bind(site_id)
    .bind(date)
    .fetch_all(ex)
    .await?
    .iter()
    .map(booking_row)
    .collect()
}

pub async fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    from: &[Status],
    to: Status,
    now: i64,
    reason: Option<&str>,
    release_at: Option<i64>,
) -> Result<bool, sqlx::Error> {
    // At most two source states are ever allowed; both are bound (repeat the first if one).
    let a = from.first().map_or("", |s| s.as_str());
    let b = from.get(1).map_or(a, |s| s.as_str());
    let sql = match to {
        Status::Cancelled => {
            "UPDATE bookings SET status = 'cancelled', cancelled_at = $1, cancel_reason = $2, release_at = $3 WHERE id = $4 AND status IN ($5, $6)"
        }
        Status::Arrived => {
            "UPDATE bookings SET status = 'arrived', arrived_at = $1, cancel_reason = $2, release_at = $3 WHERE id = $4 AND status IN ($5, $6)"
        }
        Status::NoShow => {
            "UPDATE bookings SET status = 'no_show', no_show_at = $1, cancel_reason = $2, release_at = $3 WHERE id = $4 AND status IN ($5, $6)"
        }
        Status::Booked => {
            "UPDATE bookings SET status = 'booked', cancelled_at = $1, cancel_reason = $2, release_at = $3 WHERE id = $4 AND status IN ($5, $6)"
        }
    };
    Ok(sqlx::query(sql)
        .bind(now)
        .bind(reason)
        .bind(release_at)
        .bind(id)
        .bind(a)
        .bind(b)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Cancelled bookings whose place is due to be offered again.
pub async fn due_releases(
    conn: &mut AnyConnection,
    now: i64,
) -> Result<Vec<(i64, i64, Pool, i64, String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        r#"SELECT id, slot_id, pool, site_id, line_code, date FROM bookings
         WHERE released = 0 AND status = 'cancelled' AND release_at IS NOT NULL AND release_at <= $1 ORDER BY release_at LIMIT 200"#,
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let pool: String = r.try_get("pool")?;
            Ok((
                r.try_get("id")?,
                r.try_get("slot_id")?,
                Pool::parse(&pool).unwrap_or(Pool::Online),
                r.try_get("site_id")?,
                r.try_get("line_code")?,
                r.try_get("date")?,
            ))
        })
        .collect()
}

pub async fn mark_released(conn: &mut AnyConnection, id: i64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE bookings SET released = 1 WHERE id = $1 AND released = 0")
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Bookings nobody came to, past their slot and its grace period.
pub async fn mark_no_shows(
    conn: &mut AnyConnection,
    before: i64,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("UPDATE bookings SET status = 'no_show', no_show_at = $1 WHERE status = 'booked' AND ends_at < $2")
        .bind(now)
        .bind(before)
        .execute(conn)
        .await?
        .rows_affected())
}

pub async fn last_lift<'e>(
    ex: impl Executor<'e, Database = Any>,
    person: &BlindIndex,
) -> Result<Option<i64>, sqlx::Error> {
    let [newest, previous] = person.forms();
    sqlx::query("SELECT MAX(lifted_at) AS at FROM no_show_lifts WHERE id_index IN ($1, $2)")
        .bind(newest)
        .bind(previous)
        .fetch_one(ex)
        .await?
        .try_get("at")
}

pub async fn insert_lift(
    conn: &mut AnyConnection,
    id_index: &str,
    by: i64,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO no_show_lifts (id_index, lifted_at, lifted_by, reason) VALUES ($1, $2, $3, $4)")
        .bind(id_index)
        .bind(now)
        .bind(by)
        .bind(reason)
        .execute(conn)
        .await?;
    Ok(())
}

/// A person waiting for a place on a full day.
pub struct WaitEntry<'a> {
    pub site_id: i64,
    pub line: &'a str,
    pub date: &'a str,
    pub id_index: &'a str,
    pub phone_sealed: Vec<u8>,
    pub lang: &'a str,
}

pub async fn join_waitlist(
    conn: &mut AnyConnection,
    e: &WaitEntry<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let WaitEntry {
        site_id,
        line,
        date,
        id_index,
        phone_sealed,
        lang,
    } = e;
    let phone_sealed = phone_sealed.clone();
    Ok(sqlx::query(
        r#"INSERT INTO waitlist (site_id, line_code, date, id_index, phone_sealed, lang, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (site_id, line_code, date, id_index) DO NOTHING"#,
    )
    .bind(site_id)
    .bind(line)
    .bind(date)
    .bind(id_index)
    .bind(phone_sealed)
    .bind(lang)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// The first person waiting for a place on this day and line who has not been told yet; marks
/// them told.
pub async fn next_waiting(
    conn: &mut AnyConnection,
    site_id: i64,
    line: &str,
    date: &str,
    now: i64,
) -> Result<Option<(Vec<u8>, String)>, sqlx::Error> {
    let row = sqlx::query(
        r#"UPDATE waitlist SET notified_at = $1 WHERE id = (SELECT id FROM waitlist WHERE site_id = $2 AND line_code = $3
             AND date = $4 AND notified_at IS NULL ORDER BY id LIMIT 1) AND notified_at IS NULL RETURNING phone_sealed, lang"#,
    )
    .bind(now)
    .bind(site_id)
    .bind(line)
    .bind(date)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("phone_sealed")?, r.try_get("lang")?)))
        .transpose()
}

/// Sets the quotas of a day's generated slots (never below what is booked).
pub async fn set_day_quotas(
    conn: &mut AnyConnection,
    site_id: i64,
    line: &str,
    date: &str,
    q: (i64, i64, i64),
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"UPDATE slots SET
             quota_online = CASE WHEN $1 < booked_online THEN booked_online ELSE $1 END,
             quota_phone = CASE WHEN $2 < booked_phone THEN booked_phone ELSE $2 END,
             quota_onsite = CASE WHEN $3 < booked_onsite THEN booked_onsite ELSE $3 END
         WHERE site_id = $4 AND line_code = $5 AND date = $6"#,
    )
    .bind(q.0)
    .bind(q.1)
    .bind(q.2)
    .bind(site_id)
    .bind(line)
    .bind(date)
    .execute(conn)
    .await?;
    Ok(())
}

/// Dates from `from` on for which slots of a line exist.
pub async fn generated_dates<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
    from: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT DISTINCT date FROM slots WHERE site_id = $1 AND line_code = $2 AND date >= $3 ORDER BY date")
        .bind(site_id)
        .bind(line)
        .bind(from)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| r.try_get("date"))
        .collect()
}

pub struct CapacityChange {
    pub line_code: String,
    pub from_date: String,
    pub to_date: String,
    pub extra: (i64, i64, i64),
    pub reason: String,
}

pub async fn insert_capacity(
    conn: &mut AnyConnection,
    site_id: i64,
    c: &CapacityChange,
    by: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO capacity_changes (site_id, line_code, from_date, to_date, extra_online, extra_phone, extra_onsite, reason, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
    )
    .bind(site_id)
    .bind(&c.line_code)
    .bind(&c.from_date)
    .bind(&c.to_date)
    .bind(c.extra.0)
    .bind(c.extra.1)
    .bind(c.extra.2)
    .bind(&c.reason)
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        r#"UPDATE slots SET quota_online = quota_online + $1, quota_phone = quota_phone + $2, quota_onsite = quota_onsite + $3
         WHERE site_id = $4 AND line_code = $5 AND date >= $6 AND date <= $7"#,
    )
    .bind(c.extra.0)
    .bind(c.extra.1)
    .bind(c.extra.2)
    .bind(site_id)
    .bind(&c.line_code)
    .bind(&c.from_date)
    .bind(&c.to_date)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn capacity_changes<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    from: &str,
) -> Result<Vec<CapacityChange>, sqlx::Error> {
    sqlx::query(
        r#"SELECT line_code, from_date, to_date, extra_online, extra_phone, extra_onsite, reason FROM capacity_changes
         WHERE site_id = $1 AND to_date >= $2 ORDER BY from_date"#,
    )
    .bind(site_id)
    .bind(from)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(CapacityChange {
            line_code: r.try_get("line_code")?,
            from_date: r.try_get("from_date")?,
            to_date: r.try_get("to_date")?,
            extra: (r.try_get("extra_online")?, r.try_get("extra_phone")?, r.try_get("extra_onsite")?),
            reason: r.try_get("reason")?,
        })
    })
    .collect()
}

pub async fn insert_closure(
    conn: &mut AnyConnection,
    site_id: i64,
    date: &str,
    zh: &str,
    en: &str,
    by: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO day_closures (site_id, date, reason_zh, reason_en, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(site_id)
        .bind(date)
        .bind(zh)
        .bind(en)
        .bind(by)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE slots SET closed = 1 WHERE site_id = $1 AND date = $2")
        .bind(site_id)
        .bind(date)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn closures<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    from: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query("SELECT date, reason_zh, reason_en FROM day_closures WHERE site_id = $1 AND date >= $2 ORDER BY date")
        .bind(site_id)
        .bind(from)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("date")?, r.try_get("reason_zh")?, r.try_get("reason_en")?)))
        .collect()
}

/// Cancels every active booking of a site on a day (the day is closed); their places are not
/// offered again.
pub async fn cancel_day(
    conn: &mut AnyConnection,
    site_id: i64,
    date: &str,
    now: i64,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    let rows: Vec<BookingRow> = sqlx::query(booking_select!(
        "WHERE site_id = $1 AND date = $2 AND status = 'booked'"
    ))
    .bind(site_id)
    .bind(date)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(booking_row)
    .collect::<Result<_, _>>()?;
    sqlx::query(
        r#"UPDATE bookings SET status = 'cancelled', cancelled_at = $1, cancel_reason = 'site_closed', released = 1
         WHERE site_id = $2 AND date = $3 AND status = 'booked'"#,
    )
    .bind(now)
    .bind(site_id)
    .bind(date)
    .execute(conn)
    .await?;
    Ok(rows)
}

/// Places still held by cancelled bookings waiting for their release delay.
pub async fn held_places<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM bookings WHERE site_id = $1 AND date = $2 AND status = 'cancelled' AND released = 0")
        .bind(site_id)
        .bind(date)
        .fetch_one(ex)
        .await?
        .try_get("n")
}

/// Days in a range with people still waiting for a place on a line.
pub async fn waiting_dates<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
    from: &str,
    to: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        r#"SELECT DISTINCT date FROM waitlist WHERE site_id = $1 AND line_code = $2 AND date >= $3 AND date <= $4
           AND notified_at IS NULL ORDER BY date"#,
    )
    .bind(site_id)
    .bind(line)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| r.try_get("date"))
    .collect()
}
