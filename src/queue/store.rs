//! SQL for tickets, their events, sequences and window states.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{Ticket, TicketClass, TicketStatus, WindowState};

pub async fn next_number(
    conn: &mut AnyConnection,
    site_id: i64,
    date: &str,
    line: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO ticket_counters (site_id, date, line_code, next) VALUES ($1, $2, $3, 1)
         ON CONFLICT (site_id, date, line_code) DO UPDATE SET next = ticket_counters.next + 1 RETURNING next"#,
    )
    .bind(site_id)
    .bind(date)
    .bind(line)
    .fetch_one(conn)
    .await?
    .try_get("next")
}

pub struct NewTicket<'a> {
    pub token: &'a str,
    pub site_id: i64,
    pub date: &'a str,
    pub line: &'a str,
    pub number: &'a str,
    pub class: TicketClass,
    pub class_reason: Option<&'a str>,
    pub booking_id: Option<i64>,
    pub channel: &'a str,
    pub issued_by: Option<i64>,
    pub now: i64,
}

pub async fn insert_ticket(
    conn: &mut AnyConnection,
    t: &NewTicket<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO tickets (token, site_id, date, line_code, number, class, class_reason, booking_id, status, issued_at, issued_by, channel)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'waiting', $9, $10, $11) RETURNING id"#,
    )
    .bind(t.token)
    .bind(t.site_id)
    .bind(t.date)
    .bind(t.line)
    .bind(t.number)
    .bind(t.class.as_str())
    .bind(t.class_reason)
    .bind(t.booking_id)
    .bind(t.now)
    .bind(t.issued_by)
    .bind(t.channel)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

/// Records one step of a ticket; returns the event's id.
pub async fn event(
    conn: &mut AnyConnection,
    ticket_id: i64,
    at: i64,
    kind: &str,
    window_id: Option<i64>,
    officer_id: Option<i64>,
    detail: serde_json::Value,
) -> Result<i64, sqlx::Error> {
    sqlx::query("INSERT INTO ticket_events (ticket_id, at, kind, window_id, officer_id, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(ticket_id)
        .bind(at)
        .bind(kind)
        .bind(window_id)
        .bind(officer_id)
        .bind(detail.to_string())
        .fetch_one(conn)
        .await?
        .try_get("id")
}

/// The key space of the advisory locks that number a site's calls (see [`call_event`]).
const CALLS_LOCK: i32 = 0x6f74_6361;

/// On PostgreSQL, holds the site's call lock until the transaction ends. SQLite has one writer,
/// so its transactions are one at a time already.
async fn lock_calls(conn: &mut AnyConnection, site_id: i64) -> Result<(), sqlx::Error> {
    if conn.backend_name() == "PostgreSQL" {
        // Held for a statement or two and the commit. A node that freezes while holding it holds
        // the site's windows only until the database ends its idle transaction
        // (`db::PG_IDLE_IN_TRANSACTION`).
        // Sites number in the dozens; an id past i32 would only share a lock with another site
        // (slower, still correct).
        sqlx::query("SELECT 1 AS held FROM pg_advisory_xact_lock($1, $2)")
            .bind(CALLS_LOCK)
            .bind(i32::try_from(site_id).unwrap_or(i32::MAX))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Records a call or a recall (`kind`) and returns its event id — the call's id on every node,
/// which the hall displays resume from — and the id of the site's call before it (0 if none).
/// A site's calls are recorded one at a time (the call lock, held to commit), so their ids rise
/// in the order they commit: whoever has seen call N has seen every earlier call of the site,
/// the calls after N are exactly the ones missed, and a display whose last call is the one
/// before can show this one without asking the database.
#[allow(clippy::too_many_arguments)]
pub async fn call_event(
    conn: &mut AnyConnection,
    site_id: i64,
    ticket_id: i64,
    at: i64,
    kind: &str,
    window_id: i64,
    officer_id: i64,
    detail: serde_json::Value,
) -> Result<(i64, i64), sqlx::Error> {
    lock_calls(&mut *conn, site_id).await?;
    let before: Option<i64> = sqlx::query("SELECT last_call FROM call_heads WHERE site_id = $1")
        .bind(site_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("last_call"))
        .transpose()?;
    let id = event(
        &mut *conn,
        ticket_id,
        at,
        kind,
        Some(window_id),
        Some(officer_id),
        detail,
    )
    .await?;
    sqlx::query(
        "INSERT INTO call_heads (site_id, last_call) VALUES ($1, $2) \
         ON CONFLICT (site_id) DO UPDATE SET last_call = excluded.last_call",
    )
    .bind(site_id)
    .bind(id)
    .execute(conn)
    .await?;
    // No head yet: the site has never called (the migration set one for every site that had).
    Ok((id, before.unwrap_or(0)))
}

/// The newest event id now, taken under the site's call lock: no call of the site is numbered
/// and not yet committed, so every call after this moment has a greater id, and none before it
/// does. A display that has seen nothing follows the calls after it.
pub async fn calls_baseline(conn: &mut AnyConnection, site_id: i64) -> Result<i64, sqlx::Error> {
    lock_calls(&mut *conn, site_id).await?;
    sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM ticket_events")
        .fetch_one(conn)
        .await?
        .try_get("id")
}

/// A recorded call as the displays announce it: (event id, ticket number, window number,
/// recall, called at).
pub type RecordedCall = (i64, String, i64, bool, i64);

/// The site's calls and recalls of `date` recorded after event `after`, oldest first, at most
/// `limit`.
pub async fn calls_after<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<RecordedCall>, sqlx::Error> {
    // Read from the events' end (`e.id > $1`, a few rows since the display's last call), not
    // from the day's tickets: every display asks after every call. `CROSS JOIN` keeps SQLite's
    // planner on that order; PostgreSQL plans it as the same inner join.
    sqlx::query(
        r#"SELECT e.id, t.number, w.number AS window_no, e.kind, e.at
         FROM ticket_events e CROSS JOIN tickets t CROSS JOIN windows w
         WHERE e.id > $1 AND t.id = e.ticket_id AND w.id = e.window_id
           AND t.site_id = $2 AND t.date = $3 AND e.kind IN ('called', 'recalled')
         ORDER BY e.id LIMIT $4"#,
    )
    .bind(after)
    .bind(site_id)
    .bind(date)
    .bind(limit)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("number")?,
            r.try_get("window_no")?,
            r.try_get::<String, _>("kind")? == "recalled",
            r.try_get("at")?,
        ))
    })
    .collect()
}

macro_rules! ticket_select {
    ($where:literal) => {
        concat!(
            r#"SELECT id, token, site_id, date, line_code, number, class, class_reason, booking_id, status, issued_at, window_id,
             officer_id, called_at, call_count, started_at, finished_at, transfers FROM tickets "#,
            $where
        )
    };
}

fn ticket_row(r: &sqlx::any::AnyRow) -> Result<Ticket, sqlx::Error> {
    let class: String = r.try_get("class")?;
    let status: String = r.try_get("status")?;
    Ok(Ticket {
        id: r.try_get("id")?,
        token: r.try_get("token")?,
        site_id: r.try_get("site_id")?,
        date: r.try_get("date")?,
        line_code: r.try_get("line_code")?,
        number: r.try_get("number")?,
        class: TicketClass::parse(&class)
            .ok_or_else(|| sqlx::Error::Decode(format!("class {class}").into()))?,
        class_reason: r.try_get("class_reason")?,
        booking_id: r.try_get("booking_id")?,
        status: TicketStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("status {status}").into()))?,
        issued_at: r.try_get("issued_at")?,
        window_id: r.try_get("window_id")?,
        officer_id: r.try_get("officer_id")?,
        called_at: r.try_get("called_at")?,
        call_count: r.try_get("call_count")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        transfers: r.try_get("transfers")?,
    })
}

pub async fn ticket<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<Ticket>, sqlx::Error> {
    sqlx::query(ticket_select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| ticket_row(&r))
        .transpose()
}

/// The ticket issued for a booking's arrival, if one was.
pub async fn ticket_of_booking<'e>(
    ex: impl Executor<'e, Database = Any>,
    booking_id: i64,
) -> Result<Option<Ticket>, sqlx::Error> {
    sqlx::query(ticket_select!("WHERE booking_id = $1 ORDER BY id LIMIT 1"))
        .bind(booking_id)
        .fetch_optional(ex)
        .await?
        .map(|r| ticket_row(&r))
        .transpose()
}

pub async fn ticket_by_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    token: &str,
) -> Result<Option<Ticket>, sqlx::Error> {
    sqlx::query(ticket_select!("WHERE token = $1"))
        .bind(token)
        .fetch_optional(ex)
        .await?
        .map(|r| ticket_row(&r))
        .transpose()
}

/// The ticket a window is dealing with now (called or being served).
pub async fn current_at_window<'e>(
    ex: impl Executor<'e, Database = Any>,
    window_id: i64,
    date: &str,
) -> Result<Option<Ticket>, sqlx::Error> {
    sqlx::query(ticket_select!("WHERE window_id = $1 AND date = $2 AND status IN ('called', 'serving') ORDER BY called_at DESC LIMIT 1"))
        .bind(window_id)
        .bind(date)
        .fetch_optional(ex)
        .await?
        .map(|r| ticket_row(&r))
        .transpose()
}

/// The ticket a window finished last today, if any (what its evaluator asks about).
pub async fn last_finished_at_window<'e>(
    ex: impl Executor<'e, Database = Any>,
    window_id: i64,
    date: &str,
) -> Result<Option<Ticket>, sqlx::Error> {
    sqlx::query(ticket_select!(
        "WHERE window_id = $1 AND date = $2 AND status = 'done' ORDER BY finished_at DESC, id DESC LIMIT 1"
    ))
    .bind(window_id)
    .bind(date)
    .fetch_optional(ex)
    .await?
    .map(|r| ticket_row(&r))
    .transpose()
}

/// The oldest waiting ticket of each class in one line (at most four rows): the candidates
/// the calling order (`queue::order`) chooses among. `(id, class, issued_at)`.
pub async fn heads_of_line<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
    line: &str,
    window_id: i64,
) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    // One index seek per class (tickets_heads), not a scan of the line's queue: a hall at the
    // end of a busy morning has thousands waiting, and a window calls every few seconds.
    let rows = sqlx::query(
        r#"
        SELECT * FROM (SELECT id, class, issued_at FROM tickets
            WHERE site_id = $1 AND date = $2 AND line_code = $3 AND status = 'waiting'
              AND class = 'green' AND printed = 1 AND (target_window IS NULL OR target_window = $4)
            ORDER BY issued_at, id LIMIT 1) green
        UNION ALL
        SELECT * FROM (SELECT id, class, issued_at FROM tickets
            WHERE site_id = $1 AND date = $2 AND line_code = $3 AND status = 'waiting'
              AND class = 'love' AND printed = 1 AND (target_window IS NULL OR target_window = $4)
            ORDER BY issued_at, id LIMIT 1) love
        UNION ALL
        SELECT * FROM (SELECT id, class, issued_at FROM tickets
            WHERE site_id = $1 AND date = $2 AND line_code = $3 AND status = 'waiting'
              AND class = 'appointment' AND printed = 1 AND (target_window IS NULL OR target_window = $4)
            ORDER BY issued_at, id LIMIT 1) appointment
        UNION ALL
        SELECT * FROM (SELECT id, class, issued_at FROM tickets
            WHERE site_id = $1 AND date = $2 AND line_code = $3 AND status = 'waiting'
              AND class = 'normal' AND printed = 1 AND (target_window IS NULL OR target_window = $4)
            ORDER BY issued_at, id LIMIT 1) normal
        "#,
    )
    .bind(site_id)
    .bind(date)
    .bind(line)
    .bind(window_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("class")?,
                r.try_get("issued_at")?,
            ))
        })
        .collect()
}

/// Claims a waiting ticket for a window: a conditional UPDATE, so of two windows that chose the
/// same ticket exactly one gets it (the other matches nothing and chooses again).
pub async fn claim(
    conn: &mut AnyConnection,
    id: i64,
    window_id: i64,
    officer_id: i64,
    now: i64,
) -> Result<Option<Ticket>, sqlx::Error> {
    let done = sqlx::query(
        r#"UPDATE tickets SET status = 'called', window_id = $1, officer_id = $2, called_at = $3, call_count = 1
         WHERE id = $4 AND status = 'waiting'"#,
    )
    .bind(window_id)
    .bind(officer_id)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        ticket(&mut *conn, id).await
    } else {
        Ok(None)
    }
}

/// Moves a ticket from one of `from` states to `to`, setting the given timestamp column.
pub async fn transition(
    conn: &mut AnyConnection,
    id: i64,
    from: &str,
    to: TicketStatus,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = match to {
        TicketStatus::Serving => {
            "UPDATE tickets SET status = 'serving', started_at = $1 WHERE id = $2 AND status = $3"
        }
        TicketStatus::Done => {
            "UPDATE tickets SET status = 'done', finished_at = $1 WHERE id = $2 AND status = $3"
        }
        TicketStatus::NoShow => {
            "UPDATE tickets SET status = 'no_show', finished_at = $1 WHERE id = $2 AND status = $3"
        }
        TicketStatus::Called => {
            "UPDATE tickets SET status = 'called', called_at = $1, call_count = call_count + 1 WHERE id = $2 AND status = $3"
        }
        TicketStatus::Waiting => {
            "UPDATE tickets SET status = 'waiting', window_id = NULL, officer_id = NULL, called_at = $1 WHERE id = $2 AND status = $3"
        }
    };
    Ok(sqlx::query(sql)
        .bind(now)
        .bind(id)
        .bind(from)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

pub async fn transfer(
    conn: &mut AnyConnection,
    id: i64,
    to_line: &str,
    to_window: Option<i64>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        r#"UPDATE tickets SET status = 'waiting', line_code = $1, target_window = $3, window_id = NULL, officer_id = NULL,
                transfers = transfers + 1
         WHERE id = $2 AND status IN ('called', 'serving')"#,
    )
    .bind(to_line)
    .bind(id)
    .bind(to_window)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn window_state<'e>(
    ex: impl Executor<'e, Database = Any>,
    window_id: i64,
) -> Result<Option<WindowState>, sqlx::Error> {
    sqlx::query("SELECT window_id, status, officer_id, lines, pause_reason FROM window_states WHERE window_id = $1")
        .bind(window_id)
        .fetch_optional(ex)
        .await?
        .map(|r| {
            Ok(WindowState {
                window_id: r.try_get("window_id")?,
                status: r.try_get("status")?,
                officer_id: r.try_get("officer_id")?,
                lines: r.try_get("lines")?,
                pause_reason: r.try_get("pause_reason")?,
            })
        })
        .transpose()
}

pub async fn set_window_state(
    conn: &mut AnyConnection,
    w: &WindowState,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO window_states (window_id, status, officer_id, lines, pause_reason, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (window_id) DO UPDATE SET status = $2, officer_id = $3, lines = $4, pause_reason = $5, updated_at = $6"#,
    )
    .bind(w.window_id)
    .bind(&w.status)
    .bind(w.officer_id)
    .bind(&w.lines)
    .bind(&w.pause_reason)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Waiting tickets per line at a site today.
pub async fn waiting_counts<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query("SELECT line_code, COUNT(*) AS n FROM tickets WHERE site_id = $1 AND date = $2 AND status = 'waiting' AND printed = 1 GROUP BY line_code ORDER BY line_code")
        .bind(site_id)
        .bind(date)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("line_code")?, r.try_get("n")?)))
        .collect()
}

/// The latest calls at a site today: (ticket number, window number, called at).
pub async fn recent_calls<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
    limit: i64,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query(
        r#"SELECT t.number, w.number AS window_no, t.called_at FROM tickets t JOIN windows w ON w.id = t.window_id
         WHERE t.site_id = $1 AND t.date = $2 AND t.called_at IS NOT NULL AND t.status IN ('called', 'serving')
         ORDER BY t.called_at DESC LIMIT $3"#,
    )
    .bind(site_id)
    .bind(date)
    .bind(limit)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("number")?, r.try_get("window_no")?, r.try_get("called_at")?)))
    .collect()
}

/// Tickets waiting ahead of `t` for its line (a fair approximation for the citizen: same line,
/// waiting, issued earlier or in a higher class).
pub async fn ahead_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    t: &Ticket,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"SELECT COUNT(*) AS n FROM tickets WHERE site_id = $1 AND date = $2 AND line_code = $3 AND status = 'waiting' AND printed = 1 AND id <> $4
           AND (issued_at < $5 OR (issued_at = $5 AND id < $4) OR (class IN ('green', 'love', 'appointment') AND $6 = 'normal'))"#,
    )
    .bind(t.site_id)
    .bind(&t.date)
    .bind(&t.line_code)
    .bind(t.id)
    .bind(t.issued_at)
    .bind(t.class.as_str())
    .fetch_one(ex)
    .await?
    .try_get("n")
}

/// Mean service seconds of the line's last finished tickets today, if any.
pub async fn mean_service_ms<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
    line: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let rows = sqlx::query(
        r#"SELECT finished_at - started_at AS d FROM tickets WHERE site_id = $1 AND date = $2 AND line_code = $3 AND status = 'done'
           AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 20"#,
    )
    .bind(site_id)
    .bind(date)
    .bind(line)
    .fetch_all(ex)
    .await?;
    let d: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.try_get::<i64, _>("d").ok())
        .collect();
    Ok((!d.is_empty()).then(|| d.iter().sum::<i64>() / d.len() as i64))
}

/// Open windows at a site whose lines include `line`.
pub async fn open_windows_for<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    line: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"SELECT COUNT(*) AS n FROM window_states s JOIN windows w ON w.id = s.window_id
         WHERE w.site_id = $1 AND s.status = 'open' AND s.lines LIKE ('%,' || $2 || ',%')"#,
    )
    .bind(site_id)
    .bind(line)
    .fetch_one(ex)
    .await?
    .try_get("n")
}

pub async fn history<'e>(
    ex: impl Executor<'e, Database = Any>,
    ticket_id: i64,
) -> Result<Vec<(i64, String, Option<i64>, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT at, kind, window_id, detail FROM ticket_events WHERE ticket_id = $1 ORDER BY id",
    )
    .bind(ticket_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("at")?,
            r.try_get("kind")?,
            r.try_get("window_id")?,
            r.try_get("detail")?,
        ))
    })
    .collect()
}

/// Tickets a closing window called but did not start: back to the front of the queue.
pub async fn release_window(
    conn: &mut AnyConnection,
    window_id: i64,
    date: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM tickets WHERE window_id = $1 AND date = $2 AND status = 'called'",
    )
    .bind(window_id)
    .bind(date)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    sqlx::query("UPDATE tickets SET status = 'waiting', window_id = NULL, officer_id = NULL WHERE window_id = $1 AND date = $2 AND status = 'called'")
        .bind(window_id)
        .bind(date)
        .execute(conn)
        .await?;
    Ok(ids)
}

/// Records a kiosk's print outcome for a waiting ticket; false if the ticket is no longer waiting.
pub async fn set_printed(
    conn: &mut AnyConnection,
    id: i64,
    printed: bool,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE tickets SET printed = $1 WHERE id = $2 AND status = 'waiting'")
            .bind(i64::from(printed))
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// The display notices of a site: one per line, `中文 | English`.
pub async fn notices<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
) -> Result<String, sqlx::Error> {
    Ok(sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(format!("display_notices:{site_id}"))
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get::<String, _>("value"))
        .transpose()?
        .unwrap_or_default())
}

pub async fn set_notices(
    conn: &mut AnyConnection,
    site_id: i64,
    text: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2")
        .bind(format!("display_notices:{site_id}"))
        .bind(text)
        .execute(conn)
        .await?;
    Ok(())
}
