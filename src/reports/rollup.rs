//! Rolling a day up (issue 16, R14): one site's day of raw rows — tickets, acceptances,
//! bookings, payments, ratings, complaints, data errors, promised documents — counted per
//! dimension and key, with waiting, service and journey times as histograms of whole minutes,
//! and written over the day's previous aggregates in one transaction.

use std::collections::BTreeMap;

use jiff::civil::Date;
use sqlx::{Any, Executor, Row};

use super::{Dim, Measure, Minutes};
use crate::clock::Clock;
use crate::db::Db;

/// The headline journey: a first application for this document (Xiamen's "first HK/Macao
/// application in 16 minutes", seed 004), from arrival to the acceptance receipt.
pub const HEADLINE_DOCUMENT: &str = "hk_macao_permit";
pub const HEADLINE_CATEGORY: &str = "first_issue";
/// The reform's promise: arrival to receipt within 16 minutes (seed 004).
pub const JOURNEY_TARGET_S: i64 = 16 * 60;

/// One day's figures at one site, before they are written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DayFigures {
    pub counts: BTreeMap<(Dim, String, String), i64>,
    pub minutes: BTreeMap<(Dim, String, Measure), Minutes>,
}

/// The keys a fact counts under: the site, and each dimension it belongs to.
#[derive(Default)]
struct Keys(Vec<(Dim, String)>);

impl Keys {
    fn site() -> Keys {
        Keys(vec![(Dim::Site, String::new())])
    }
    fn with(mut self, dim: Dim, key: Option<impl ToString>) -> Keys {
        if let Some(k) = key {
            self.0.push((dim, k.to_string()));
        }
        self
    }
}

impl DayFigures {
    fn count(&mut self, keys: &Keys, metric: &str, n: i64) {
        for (dim, key) in &keys.0 {
            *self
                .counts
                .entry((*dim, key.clone(), metric.to_string()))
                .or_default() += n;
        }
    }

    /// Records a duration given in milliseconds (as every time in the database is).
    fn time(&mut self, keys: &Keys, measure: Measure, ms: i64) {
        for (dim, key) in &keys.0 {
            self.minutes
                .entry((*dim, key.clone(), measure))
                .or_default()
                .add_seconds(ms.div_euclid(1000), 1);
        }
    }
}

fn bad_date() -> sqlx::Error {
    sqlx::Error::Protocol("a date outside the calendar's range".into())
}

/// Computes a site's day from the raw rows.
pub async fn compute_day<'e, E>(
    ex: E,
    site_id: i64,
    date: Date,
    today: Date,
) -> Result<DayFigures, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let (lo, hi) = crate::clock::day_bounds_ms(date).ok_or_else(bad_date)?;
    let day = date.to_string();
    let mut f = DayFigures::default();
    tickets(ex, site_id, &day, &mut f).await?;
    acceptances(ex, site_id, lo, hi, &mut f).await?;
    let refused: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM applications WHERE site_id = $1 AND refused_at >= $2 AND refused_at < $3",
    )
    .bind(site_id)
    .bind(lo)
    .bind(hi)
    .fetch_one(ex)
    .await?
    .try_get("n")?;
    if refused > 0 {
        f.count(&Keys::site(), "refused", refused);
    }
    for r in sqlx::query(
        "SELECT channel, status, COUNT(*) AS n FROM bookings WHERE site_id = $1 AND date = $2 GROUP BY channel, status",
    )
    .bind(site_id)
    .bind(&day)
    .fetch_all(ex)
    .await?
    {
        let channel: String = r.try_get("channel")?;
        let status: String = r.try_get("status")?;
        f.count(
            &Keys::site(),
            &format!("booking.{channel}.{status}"),
            r.try_get("n")?,
        );
    }
    for r in sqlx::query(
        r#"SELECT method, COUNT(*) AS n, CAST(SUM(amount_fen) AS BIGINT) AS fen, CAST(SUM(refunded_fen) AS BIGINT) AS refunded
         FROM payments WHERE site_id = $1 AND business_date = $2 AND status = 'paid' GROUP BY method"#,
    )
    .bind(site_id)
    .bind(&day)
    .fetch_all(ex)
    .await?
    {
        let method: String = r.try_get("method")?;
        let keys = Keys::site();
        f.count(&keys, &format!("pay.{method}.n"), r.try_get("n")?);
        f.count(&keys, &format!("pay.{method}.fen"), sum(&r, "fen")?);
        f.count(&keys, &format!("pay.{method}.refunded"), sum(&r, "refunded")?);
    }
    for r in sqlx::query(
        "SELECT level, line_code, officer_id, window_id FROM ratings WHERE site_id = $1 AND rated_at >= $2 AND rated_at < $3",
    )
    .bind(site_id)
    .bind(lo)
    .bind(hi)
    .fetch_all(ex)
    .await?
    {
        let level: String = r.try_get("level")?;
        let keys = Keys::site()
            .with(Dim::Line, Some(r.try_get::<String, _>("line_code")?))
            .with(Dim::Officer, r.try_get::<Option<i64>, _>("officer_id")?)
            .with(Dim::Window, r.try_get::<Option<i64>, _>("window_id")?);
        f.count(&keys, &format!("rating.{level}"), 1);
    }
    for r in sqlx::query(
        "SELECT category, officer_id FROM complaints WHERE site_id = $1 AND received_at >= $2 AND received_at < $3",
    )
    .bind(site_id)
    .bind(lo)
    .bind(hi)
    .fetch_all(ex)
    .await?
    {
        let category: String = r.try_get("category")?;
        f.count(&Keys::site(), &format!("complaint.{category}"), 1);
        let keys = Keys::site().with(Dim::Officer, r.try_get::<Option<i64>, _>("officer_id")?);
        f.count(&keys, "complaints", 1);
    }
    // A data error found at pickup counts against the officer who accepted the application.
    for r in sqlx::query(
        r#"SELECT a.officer_id FROM data_errors e
         JOIN application_documents d ON d.id = e.document_id
         JOIN applications a ON a.id = d.application_id
         WHERE e.site_id = $1 AND e.reported_at >= $2 AND e.reported_at < $3"#,
    )
    .bind(site_id)
    .bind(lo)
    .bind(hi)
    .fetch_all(ex)
    .await?
    {
        let keys = Keys::site().with(Dim::Officer, r.try_get::<Option<i64>, _>("officer_id")?);
        f.count(&keys, "errors", 1);
    }
    time_limits(ex, site_id, &day, date, today, &mut f).await?;
    Ok(f)
}

fn sum(r: &sqlx::any::AnyRow, col: &str) -> Result<i64, sqlx::Error> {
    Ok(r.try_get::<Option<i64>, _>(col)?.unwrap_or(0))
}

async fn tickets<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    day: &str,
    f: &mut DayFigures,
) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        r#"SELECT line_code, class, class_reason, status, issued_at, called_at, started_at,
                finished_at, window_id, officer_id
         FROM tickets WHERE site_id = $1 AND date = $2"#,
    )
    .bind(site_id)
    .bind(day)
    .fetch_all(ex)
    .await?;
    for r in rows {
        let line: String = r.try_get("line_code")?;
        let class: String = r.try_get("class")?;
        let status: String = r.try_get("status")?;
        let issued_at: i64 = r.try_get("issued_at")?;
        let called_at: Option<i64> = r.try_get("called_at")?;
        let started_at: Option<i64> = r.try_get("started_at")?;
        let finished_at: Option<i64> = r.try_get("finished_at")?;
        let window: Option<i64> = r.try_get("window_id")?;
        let officer: Option<i64> = r.try_get("officer_id")?;
        let issued = Keys::site().with(Dim::Line, Some(&line));
        f.count(&issued, "issued", 1);
        f.count(&Keys::site(), &format!("class.{class}"), 1);
        if class == "green" {
            let reason: Option<String> = r.try_get("class_reason")?;
            let reason = reason.filter(|r| !r.is_empty());
            f.count(
                &Keys::site(),
                &format!("green.{}", reason.as_deref().unwrap_or("other")),
                1,
            );
        }
        let at = Keys::site()
            .with(Dim::Line, Some(&line))
            .with(Dim::Officer, officer)
            .with(Dim::Window, window);
        if let Some(c) = called_at {
            f.time(&at, Measure::Wait, c - issued_at);
        }
        match status.as_str() {
            "done" => {
                f.count(&at, "served", 1);
                if let (Some(s), Some(e)) = (started_at, finished_at) {
                    f.time(&at, Measure::Service, e - s);
                }
            }
            "no_show" => f.count(&at, "missed", 1),
            _ => {}
        }
    }
    Ok(())
}

async fn acceptances<'e, E>(
    ex: E,
    site_id: i64,
    lo: i64,
    hi: i64,
    f: &mut DayFigures,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut items: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    for r in sqlx::query(
        // From the day's acceptances to their documents (by the index on accepted_at), never
        // the other way round through every document ever written.
        r#"SELECT d.application_id, d.document_type, d.category FROM application_documents d
         WHERE d.application_id IN (SELECT a.id FROM applications a
              WHERE a.site_id = $1 AND a.accepted_at >= $2 AND a.accepted_at < $3)"#,
    )
    .bind(site_id)
    .bind(lo)
    .bind(hi)
    .fetch_all(ex)
    .await?
    {
        items
            .entry(r.try_get("application_id")?)
            .or_default()
            .push((r.try_get("document_type")?, r.try_get("category")?));
    }
    let rows = sqlx::query(
        r#"SELECT a.id, a.officer_id, a.window_id, a.time_limit_class, a.self_service, a.accepted_at,
                t.line_code, t.issued_at, b.arrived_at
         FROM applications a
         LEFT JOIN tickets t ON t.id = a.ticket_id
         LEFT JOIN bookings b ON b.id = t.booking_id
         WHERE a.site_id = $1 AND a.accepted_at >= $2 AND a.accepted_at < $3"#,
    )
    .bind(site_id)
    .bind(lo)
    .bind(hi)
    .fetch_all(ex)
    .await?;
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let docs = items.remove(&id).unwrap_or_default();
        let line: Option<String> = r.try_get("line_code")?;
        let mut keys = Keys::site()
            .with(Dim::Line, line)
            .with(Dim::Officer, r.try_get::<Option<i64>, _>("officer_id")?)
            .with(Dim::Window, r.try_get::<Option<i64>, _>("window_id")?);
        f.count(&keys, "accepted", 1);
        for (doc, category) in &docs {
            let item = Keys(vec![(Dim::Item, format!("{doc}.{category}"))]);
            f.count(&item, "accepted", 1);
            keys.0.push(item.0[0].clone());
        }
        if r.try_get::<Option<String>, _>("time_limit_class")?
            .as_deref()
            == Some("expedited")
        {
            f.count(&Keys::site(), "expedited", 1);
        }
        if r.try_get::<i64, _>("self_service")? != 0 {
            f.count(&Keys::site(), "self_service", 1);
        }
        // The journey starts at the first sign of the citizen in the hall: the appointment
        // check-in or the ticket, whichever came first; it ends with the acceptance receipt.
        let issued: Option<i64> = r.try_get("issued_at")?;
        let arrived: Option<i64> = r.try_get("arrived_at")?;
        let accepted_at: i64 = r.try_get("accepted_at")?;
        let Some(start) = [issued, arrived].into_iter().flatten().min() else {
            continue;
        };
        let ms = accepted_at - start;
        let within = i64::from(ms <= JOURNEY_TARGET_S * 1000);
        // An application with two documents is one journey, counted once per dimension.
        keys.0.dedup();
        f.time(&keys, Measure::Journey, ms);
        f.count(&keys, "journey.n", 1);
        f.count(&keys, "journey.within", within);
        if docs
            .iter()
            .any(|(d, c)| d == HEADLINE_DOCUMENT && c == HEADLINE_CATEGORY)
        {
            f.time(&Keys::site(), Measure::Headline, ms);
            f.count(&Keys::site(), "headline.n", 1);
            f.count(&Keys::site(), "headline.within", within);
        }
    }
    Ok(())
}

/// Documents promised for `date`: ready (in custody for pickup, or shipped) by then, late, or
/// not ready yet — overdue once the day has passed.
async fn time_limits<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    day: &str,
    date: Date,
    today: Date,
    f: &mut DayFigures,
) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        r#"SELECT d.status,
                (SELECT MIN(s.at) FROM document_steps s
                 WHERE s.document_id = d.id AND s.to_stage IN ('in_custody', 'shipped')) AS ready_at
         FROM application_documents d JOIN applications a ON a.id = d.application_id
         WHERE d.promised_date = $1 AND a.site_id = $2"#,
    )
    .bind(day)
    .bind(site_id)
    .fetch_all(ex)
    .await?;
    let (_, end) = crate::clock::day_bounds_ms(date).ok_or_else(bad_date)?;
    for r in rows {
        let status: String = r.try_get("status")?;
        let ready_at: Option<i64> = r.try_get("ready_at")?;
        let metric = match ready_at {
            Some(at) if at < end => "limit.on_time",
            Some(_) => "limit.late",
            // Not approved: no promise to keep.
            None if status == "rejected" => continue,
            None if date < today => "limit.overdue",
            None => "limit.open",
        };
        f.count(&Keys::site(), metric, 1);
    }
    Ok(())
}

/// Rows per INSERT statement: well inside both engines' parameter limits.
const CHUNK: usize = 100;

/// Rolls a site's day up: computes it from the raw rows and replaces its aggregates in one
/// transaction. Idempotent; on PostgreSQL the day's `report_days` row serialises two nodes
/// rolling the same day, so neither sees the other half-written.
pub async fn roll_up_day(
    db: &Db,
    clock: &Clock,
    site_id: i64,
    date: Date,
) -> Result<DayFigures, sqlx::Error> {
    let figures = compute_day(db.reader(), site_id, date, clock.today()).await?;
    write_day(db, clock.now_ms(), site_id, date, &figures).await?;
    Ok(figures)
}

async fn write_day(
    db: &Db,
    now: i64,
    site_id: i64,
    date: Date,
    f: &DayFigures,
) -> Result<(), sqlx::Error> {
    let day = date.to_string();
    let mut tx = db.begin().await?;
    sqlx::query(
        r#"INSERT INTO report_days (site_id, date, rolled_at) VALUES ($1, $2, $3)
         ON CONFLICT (site_id, date) DO UPDATE SET rolled_at = excluded.rolled_at"#,
    )
    .bind(site_id)
    .bind(&day)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Two fixed table names, no input in the SQL.
    for table in ["report_counts", "report_minutes"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE site_id = $1 AND date = $2"
        )))
        .bind(site_id)
        .bind(&day)
        .execute(&mut *tx)
        .await?;
    }
    let counts: Vec<_> = f.counts.iter().filter(|(_, v)| **v != 0).collect();
    for chunk in counts.chunks(CHUNK) {
        let sql = insert_sql(
            "report_counts (site_id, dim, date, dim_key, metric, value)",
            6,
            chunk.len(),
        );
        // Placeholders only: the values are bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((dim, key, metric), value) in chunk {
            q = q
                .bind(site_id)
                .bind(dim.as_str())
                .bind(&day)
                .bind(key.as_str())
                .bind(metric.as_str())
                .bind(**value);
        }
        q.execute(&mut *tx).await?;
    }
    let minutes: Vec<_> = f.minutes.iter().collect();
    for chunk in minutes.chunks(CHUNK) {
        let sql = insert_sql(
            "report_minutes (site_id, dim, date, dim_key, measure, counts)",
            6,
            chunk.len(),
        );
        // Placeholders only: the values are bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((dim, key, measure), m) in chunk {
            q = q
                .bind(site_id)
                .bind(dim.as_str())
                .bind(&day)
                .bind(key.as_str())
                .bind(measure.as_str())
                .bind(m.encode());
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// `INSERT INTO {into} VALUES ($1, …), (…)` for `rows` rows of `width` values.
fn insert_sql(into: &str, width: usize, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect();
    format!("INSERT INTO {into} VALUES {}", values.join(", "))
}

/// A day's aggregates may still change for this long after it ends: documents promised within
/// the longest time limit become ready, ratings by link and complaints arrive late.
pub const SETTLES_AFTER_DAYS: i64 = 45;

/// Rolls up what needs it at a site: today (if older than `today_max_age_ms`), days in
/// `[from, to]` never rolled up, and — when `settle` — recent days not rolled up since they
/// could last change. Returns the days rolled.
pub async fn refresh(
    db: &Db,
    clock: &Clock,
    site_id: i64,
    from: Date,
    to: Date,
    today_max_age_ms: i64,
) -> Result<usize, sqlx::Error> {
    let today = clock.today();
    let to = to.min(today);
    // Days before the site's first ticket or booking have nothing to count (a comparison
    // reaching back before the hall used onetrip): they are not rolled, and read as empty.
    let first: Option<String> = sqlx::query(
        r#"SELECT MIN(d) AS d FROM (SELECT MIN(date) AS d FROM tickets WHERE site_id = $1
              UNION ALL SELECT MIN(date) AS d FROM bookings WHERE site_id = $1) firsts"#,
    )
    .bind(site_id)
    .fetch_one(db.reader())
    .await?
    .try_get("d")?;
    let Some(first) = first.and_then(|d| d.parse::<Date>().ok()) else {
        return Ok(0);
    };
    let from = from.max(first);
    if from > to {
        return Ok(0);
    }
    let rolled: BTreeMap<String, i64> = sqlx::query(
        "SELECT date, rolled_at FROM report_days WHERE site_id = $1 AND date >= $2 AND date <= $3",
    )
    .bind(site_id)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("date")?, r.try_get("rolled_at")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let now = clock.now_ms();
    let mut done = 0;
    let mut d = from;
    while d <= to {
        let stale = match rolled.get(&d.to_string()) {
            None => true,
            Some(at) if d == today => now - at > today_max_age_ms,
            Some(_) => false,
        };
        if stale {
            roll_up_day(db, clock, site_id, d).await?;
            done += 1;
        }
        d = d.tomorrow().map_err(|_| bad_date())?;
    }
    Ok(done)
}

/// Re-rolls the days that can still change (yesterday back `SETTLES_AFTER_DAYS`) whose last
/// roll-up is older than `max_age_ms`, and any day with tickets never rolled up (a database
/// from before reports, or a node that was down at midnight). The background job.
pub async fn settle(
    db: &Db,
    clock: &Clock,
    site_id: i64,
    max_age_ms: i64,
) -> Result<usize, sqlx::Error> {
    let today = clock.today();
    let since = today
        .checked_sub(jiff::Span::new().days(SETTLES_AFTER_DAYS))
        .map_err(|_| bad_date())?;
    let first: Option<String> =
        sqlx::query("SELECT MIN(date) AS d FROM tickets WHERE site_id = $1")
            .bind(site_id)
            .fetch_one(db.reader())
            .await?
            .try_get("d")?;
    let mut done = 0;
    if let Some(first) = first.and_then(|d| d.parse::<Date>().ok()) {
        // Days never rolled: the whole history once, then only the settling window.
        done += refresh(db, clock, site_id, first, today, max_age_ms).await?;
    }
    let rolled: BTreeMap<String, i64> = sqlx::query(
        "SELECT date, rolled_at FROM report_days WHERE site_id = $1 AND date >= $2 AND date < $3",
    )
    .bind(site_id)
    .bind(since.to_string())
    .bind(today.to_string())
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("date")?, r.try_get("rolled_at")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let now = clock.now_ms();
    for (day, at) in rolled {
        if now - at > max_age_ms
            && let Ok(d) = day.parse::<Date>()
        {
            roll_up_day(db, clock, site_id, d).await?;
            done += 1;
        }
    }
    for d in changed_since_settled(db, site_id, since).await? {
        roll_up_day(db, clock, site_id, d).await?;
        done += 1;
    }
    Ok(done)
}

/// Days older than the settling window that still changed after their last roll-up. Only two
/// things reach that far back: a document counted overdue on its promised date becomes ready
/// (late, no longer overdue), and a payment is refunded (its day's refunded amount). Either
/// re-rolls its day once, when the change is newer than the day's roll-up; only days that
/// counted an overdue document are looked at for the first (a well-run hall has none).
async fn changed_since_settled(
    db: &Db,
    site_id: i64,
    since: Date,
) -> Result<Vec<Date>, sqlx::Error> {
    let since = since.to_string();
    let mut days: Vec<String> = sqlx::query(
        r#"SELECT r.date FROM report_days r
         JOIN report_counts c ON c.site_id = r.site_id AND c.date = r.date
              AND c.dim = 'site' AND c.dim_key = '' AND c.metric = 'limit.overdue'
         WHERE r.site_id = $1 AND r.date < $2 AND c.value > 0 AND EXISTS (
              SELECT 1 FROM application_documents d
              JOIN applications a ON a.id = d.application_id
              JOIN document_steps s ON s.document_id = d.id
              WHERE d.promised_date = r.date AND a.site_id = r.site_id
                    AND s.to_stage IN ('in_custody', 'shipped') AND s.at > r.rolled_at)"#,
    )
    .bind(site_id)
    .bind(&since)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| r.try_get("date"))
    .collect::<Result<_, _>>()?;
    // Refunds made inside the window (by their own day's index) on payments from before it.
    for r in sqlx::query(
        r#"SELECT p.business_date AS date FROM refunds f
         JOIN payments p ON p.id = f.payment_id
         JOIN report_days r ON r.site_id = p.site_id AND r.date = p.business_date
         WHERE f.site_id = $1 AND f.business_date >= $2 AND p.site_id = $1
               AND p.business_date < $2 AND f.at > r.rolled_at"#,
    )
    .bind(site_id)
    .bind(&since)
    .fetch_all(db.reader())
    .await?
    {
        days.push(r.try_get("date")?);
    }
    days.sort();
    days.dedup();
    Ok(days.iter().filter_map(|d| d.parse().ok()).collect())
}
