//! Complaints' SQL: the complaints (never deleted), their append-only history, and the daily
//! numbers.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{Category, ComplaintChannel, Status};

/// Hands out the next number of `day` (`YYYYMMDD`), one transaction at a time.
pub async fn next_number(conn: &mut AnyConnection, day: &str) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"
        INSERT INTO complaint_sequences (day, last) VALUES ($1, 1)
        ON CONFLICT (day) DO UPDATE SET last = complaint_sequences.last + 1
        RETURNING last
        "#,
    )
    .bind(day)
    .fetch_one(conn)
    .await?
    .try_get("last")
}

/// A complaint as registered.
pub struct NewComplaint<'a> {
    pub number: &'a str,
    pub channel: ComplaintChannel,
    pub category: Category,
    pub site_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub window_id: Option<i64>,
    pub line_code: Option<&'a str>,
    pub application_no: Option<&'a str>,
    pub content: &'a str,
    pub name_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub phone_index: &'a str,
    pub received_at: i64,
    pub received_by: Option<i64>,
    pub due_date: &'a str,
}

pub async fn insert(conn: &mut AnyConnection, c: &NewComplaint<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"
        INSERT INTO complaints (number, channel, category, site_id, officer_id, window_id,
                                line_code, application_no, content, name_sealed, phone_sealed,
                                phone_index, received_at, received_by, due_date, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'open')
        RETURNING id
        "#,
    )
    .bind(c.number)
    .bind(c.channel.code())
    .bind(c.category.code())
    .bind(c.site_id)
    .bind(c.officer_id)
    .bind(c.window_id)
    .bind(c.line_code)
    .bind(c.application_no)
    .bind(c.content)
    .bind(c.name_sealed.clone())
    .bind(c.phone_sealed.clone())
    .bind(c.phone_index)
    .bind(c.received_at)
    .bind(c.received_by)
    .bind(c.due_date)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

/// Appends a step to a complaint's history.
pub async fn event(
    conn: &mut AnyConnection,
    complaint_id: i64,
    at: i64,
    kind: &str,
    staff_id: Option<i64>,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO complaint_events (complaint_id, at, kind, staff_id, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(complaint_id)
    .bind(at)
    .bind(kind)
    .bind(staff_id)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// A complaint as stored (contact data sealed).
#[derive(Debug, Clone)]
pub struct ComplaintRow {
    pub id: i64,
    pub number: String,
    pub channel: ComplaintChannel,
    pub category: Category,
    pub site_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub window_id: Option<i64>,
    pub line_code: Option<String>,
    pub application_no: Option<String>,
    pub content: String,
    pub name_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub phone_index: String,
    pub received_at: i64,
    pub due_date: String,
    pub handler_id: Option<i64>,
    pub status: Status,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    pub justified: Option<bool>,
    pub accountability: Option<String>,
    pub satisfied: Option<bool>,
}

fn complaint_row(r: &sqlx::any::AnyRow) -> Result<ComplaintRow, sqlx::Error> {
    let decode = |what: &str, v: &str| sqlx::Error::Decode(format!("complaint {what} {v}").into());
    let channel: String = r.try_get("channel")?;
    let category: String = r.try_get("category")?;
    let status: String = r.try_get("status")?;
    let satisfaction: Option<String> = r.try_get("satisfaction")?;
    let justified: Option<i64> = r.try_get("justified")?;
    Ok(ComplaintRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        channel: ComplaintChannel::parse(&channel).ok_or_else(|| decode("channel", &channel))?,
        category: Category::parse(&category).ok_or_else(|| decode("category", &category))?,
        site_id: r.try_get("site_id")?,
        officer_id: r.try_get("officer_id")?,
        window_id: r.try_get("window_id")?,
        line_code: r.try_get("line_code")?,
        application_no: r.try_get("application_no")?,
        content: r.try_get("content")?,
        name_sealed: r.try_get("name_sealed")?,
        phone_sealed: r.try_get("phone_sealed")?,
        phone_index: r.try_get("phone_index")?,
        received_at: r.try_get("received_at")?,
        due_date: r.try_get("due_date")?,
        handler_id: r.try_get("handler_id")?,
        status: Status::parse(&status).ok_or_else(|| decode("status", &status))?,
        answer: r.try_get("answer")?,
        answered_at: r.try_get("answered_at")?,
        justified: justified.map(|j| j == 1),
        accountability: r.try_get("accountability")?,
        satisfied: satisfaction.map(|s| s == "satisfied"),
    })
}

macro_rules! select_complaint {
    ($tail:literal) => {
        concat!(
            r#"
            SELECT id, number, channel, category, site_id, officer_id, window_id, line_code,
                   application_no, content, name_sealed, phone_sealed, phone_index, received_at,
                   due_date, handler_id, status, answer, answered_at, justified, accountability,
                   satisfaction
            FROM complaints
            "#,
            $tail
        )
    };
}

pub async fn by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<ComplaintRow>, sqlx::Error> {
    sqlx::query(select_complaint!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| complaint_row(&r))
        .transpose()
}

pub async fn by_number<'e>(
    ex: impl Executor<'e, Database = Any>,
    number: &str,
) -> Result<Option<ComplaintRow>, sqlx::Error> {
    sqlx::query(select_complaint!("WHERE number = $1"))
        .bind(number)
        .fetch_optional(ex)
        .await?
        .map(|r| complaint_row(&r))
        .transpose()
}

/// The complaints of a site (and those concerning no site): open first by deadline, then the
/// last 30 days' answered and closed ones.
pub async fn of_site<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    since: i64,
) -> Result<Vec<ComplaintRow>, sqlx::Error> {
    sqlx::query(select_complaint!(
        r#"
        WHERE (site_id = $1 OR site_id IS NULL) AND (status <> 'closed' OR received_at >= $2)
        ORDER BY status = 'closed', due_date, id
        "#
    ))
    .bind(site_id)
    .bind(since)
    .fetch_all(ex)
    .await?
    .iter()
    .map(complaint_row)
    .collect()
}

/// Every open complaint (all sites), for the duty leader's daily digest.
pub async fn open_all<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> Result<Vec<ComplaintRow>, sqlx::Error> {
    sqlx::query(select_complaint!(
        "WHERE status = 'open' ORDER BY due_date, id"
    ))
    .fetch_all(ex)
    .await?
    .iter()
    .map(complaint_row)
    .collect()
}

/// The open complaints assigned to `handler_id`, by deadline.
pub async fn assigned<'e>(
    ex: impl Executor<'e, Database = Any>,
    handler_id: i64,
) -> Result<Vec<ComplaintRow>, sqlx::Error> {
    sqlx::query(select_complaint!(
        "WHERE handler_id = $1 AND status = 'open' ORDER BY due_date, id"
    ))
    .bind(handler_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(complaint_row)
    .collect()
}

/// Names the handler of an open complaint; false if it is no longer open.
pub async fn assign(
    conn: &mut AnyConnection,
    id: i64,
    handler_id: i64,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE complaints SET handler_id = $1 WHERE id = $2 AND status = 'open'")
            .bind(handler_id)
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// How many complaints since `since` came from the same phone, or concern the same officer.
pub async fn repeats<'e>(
    ex: impl Executor<'e, Database = Any>,
    phone_forms: [&str; 2],
    officer_id: Option<i64>,
    since: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        r#"
        SELECT
            CAST(COALESCE(SUM(CASE WHEN phone_index IN ($1, $4) THEN 1 ELSE 0 END), 0) AS BIGINT) AS same_phone,
            CAST(COALESCE(SUM(CASE WHEN officer_id = $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS same_officer
        FROM complaints WHERE received_at >= $3
        "#,
    )
    .bind(phone_forms[0])
    .bind(officer_id)
    .bind(since)
    .bind(phone_forms[1])
    .fetch_one(ex)
    .await?;
    Ok((row.try_get("same_phone")?, row.try_get("same_officer")?))
}

pub async fn answer(
    conn: &mut AnyConnection,
    id: i64,
    answer: &str,
    justified: bool,
    accountability: Option<&str>,
    by: i64,
    at: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        r#"
        UPDATE complaints
        SET status = 'answered', answer = $1, justified = $2, accountability = $3,
            answered_by = $4, answered_at = $5
        WHERE id = $6 AND status = 'open'
        "#,
    )
    .bind(answer)
    .bind(i64::from(justified))
    .bind(accountability)
    .bind(by)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn close_with_satisfaction(
    conn: &mut AnyConnection,
    id: i64,
    satisfied: bool,
    at: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE complaints SET status = 'closed', satisfaction = $1, closed_at = $2 WHERE id = $3 AND status = 'answered'",
    )
    .bind(if satisfied { "satisfied" } else { "dissatisfied" })
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// A step of a complaint's history: `(at, kind, detail)`.
pub async fn history<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query("SELECT at, kind, detail FROM complaint_events WHERE complaint_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("at")?, r.try_get("kind")?, r.try_get("detail")?)))
        .collect()
}
