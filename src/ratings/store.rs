//! Ratings' SQL: the append-only ratings (the database refuses updates and deletes) and the
//! follow-up cases of bad ones.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{Channel, Level, Outcome};

/// A new rating, as the use case decided it.
pub struct NewRating<'a> {
    pub ticket_id: i64,
    pub site_id: i64,
    pub window_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub line_code: &'a str,
    pub application_id: Option<i64>,
    pub level: Level,
    pub reasons: &'a [String],
    pub comment: &'a str,
    pub channel: Channel,
    pub at: i64,
}

/// Inserts a rating; `None` when the service was rated already (the unique ticket decides,
/// so two raters at once get one rating).
pub async fn insert_rating(
    conn: &mut AnyConnection,
    r: &NewRating<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        r#"
        INSERT INTO ratings (ticket_id, site_id, window_id, officer_id, line_code, application_id,
                             level, reasons, comment, channel, rated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (ticket_id) DO NOTHING
        RETURNING id
        "#,
    )
    .bind(r.ticket_id)
    .bind(r.site_id)
    .bind(r.window_id)
    .bind(r.officer_id)
    .bind(r.line_code)
    .bind(r.application_id)
    .bind(r.level.code())
    .bind(r.reasons.join(","))
    .bind(r.comment)
    .bind(r.channel.code())
    .bind(r.at)
    .fetch_optional(conn)
    .await?;
    row.map(|r| r.try_get("id")).transpose()
}

/// A rating as stored.
#[derive(Debug, Clone)]
pub struct RatingRow {
    pub id: i64,
    pub ticket_id: i64,
    pub site_id: i64,
    pub window_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub line_code: String,
    pub level: Level,
    pub reasons: Vec<String>,
    pub comment: String,
    pub channel: Channel,
    pub rated_at: i64,
}

fn rating_row(r: &sqlx::any::AnyRow) -> Result<RatingRow, sqlx::Error> {
    let level: String = r.try_get("level")?;
    let channel: String = r.try_get("channel")?;
    let reasons: String = r.try_get("reasons")?;
    Ok(RatingRow {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        site_id: r.try_get("site_id")?,
        window_id: r.try_get("window_id")?,
        officer_id: r.try_get("officer_id")?,
        line_code: r.try_get("line_code")?,
        level: Level::parse(&level)
            .ok_or_else(|| sqlx::Error::Decode(format!("rating level {level}").into()))?,
        reasons: reasons
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        comment: r.try_get("comment")?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| sqlx::Error::Decode(format!("rating channel {channel}").into()))?,
        rated_at: r.try_get("rated_at")?,
    })
}

macro_rules! select_rating {
    ($tail:literal) => {
        concat!(
            "SELECT id, ticket_id, site_id, window_id, officer_id, line_code, level, reasons, comment, channel, rated_at FROM ratings ",
            $tail
        )
    };
}

/// The rating of a ticket, if it was rated.
pub async fn rating_of_ticket<'e>(
    ex: impl Executor<'e, Database = Any>,
    ticket_id: i64,
) -> Result<Option<RatingRow>, sqlx::Error> {
    sqlx::query(select_rating!("WHERE ticket_id = $1"))
        .bind(ticket_id)
        .fetch_optional(ex)
        .await?
        .map(|r| rating_row(&r))
        .transpose()
}

/// A site's ratings since `from` (epoch ms), newest first.
pub async fn ratings_since<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    from: i64,
) -> Result<Vec<RatingRow>, sqlx::Error> {
    sqlx::query(select_rating!(
        "WHERE site_id = $1 AND rated_at >= $2 ORDER BY rated_at DESC, id DESC"
    ))
    .bind(site_id)
    .bind(from)
    .fetch_all(ex)
    .await?
    .iter()
    .map(rating_row)
    .collect()
}

/// Opens the follow-up case of a bad rating.
pub async fn open_case(
    conn: &mut AnyConnection,
    rating_id: i64,
    site_id: i64,
    due_date: &str,
    at: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"
        INSERT INTO rating_cases (rating_id, site_id, opened_at, due_date)
        VALUES ($1, $2, $3, $4)
        RETURNING id
        "#,
    )
    .bind(rating_id)
    .bind(site_id)
    .bind(at)
    .bind(due_date)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

/// A follow-up case with the rating it follows.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: i64,
    pub site_id: i64,
    pub opened_at: i64,
    pub due_date: String,
    pub outcome: Option<Outcome>,
    pub verification: Option<String>,
    pub rectification: Option<String>,
    pub citizen_reply: Option<String>,
    pub closed_at: Option<i64>,
    pub rating: RatingRow,
}

fn case_row(r: &sqlx::any::AnyRow) -> Result<CaseRow, sqlx::Error> {
    let outcome: Option<String> = r.try_get("outcome")?;
    Ok(CaseRow {
        id: r.try_get("case_id")?,
        site_id: r.try_get("site_id")?,
        opened_at: r.try_get("opened_at")?,
        due_date: r.try_get("due_date")?,
        outcome: outcome.as_deref().and_then(Outcome::parse),
        verification: r.try_get("verification")?,
        rectification: r.try_get("rectification")?,
        citizen_reply: r.try_get("citizen_reply")?,
        closed_at: r.try_get("closed_at")?,
        rating: rating_row(r)?,
    })
}

macro_rules! select_case {
    ($tail:literal) => {
        concat!(
            r#"
            SELECT c.id AS case_id, c.opened_at, c.due_date, c.outcome, c.verification,
                   c.rectification, c.citizen_reply, c.closed_at,
                   r.id, r.ticket_id, r.site_id, r.window_id, r.officer_id, r.line_code, r.level,
                   r.reasons, r.comment, r.channel, r.rated_at
            FROM rating_cases c JOIN ratings r ON r.id = c.rating_id
            "#,
            $tail
        )
    };
}

/// A case by id.
pub async fn case<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<CaseRow>, sqlx::Error> {
    sqlx::query(select_case!("WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| case_row(&r))
        .transpose()
}

/// A site's open cases (oldest deadline first) and the ones closed since `closed_from`.
pub async fn cases_of_site<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    closed_from: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    sqlx::query(select_case!(
        r#"
        WHERE c.site_id = $1 AND (c.closed_at IS NULL OR c.closed_at >= $2)
        ORDER BY c.closed_at IS NOT NULL, c.due_date, c.id
        "#
    ))
    .bind(site_id)
    .bind(closed_from)
    .fetch_all(ex)
    .await?
    .iter()
    .map(case_row)
    .collect()
}

/// Open cases (every site) due before `today`.
pub async fn overdue_cases<'e>(
    ex: impl Executor<'e, Database = Any>,
    today: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM rating_cases WHERE closed_at IS NULL AND due_date < $1",
    )
    .bind(today)
    .fetch_one(ex)
    .await
}

/// Closes an open case with its verification; false when it was closed already.
#[allow(clippy::too_many_arguments)]
pub async fn close_case(
    conn: &mut AnyConnection,
    id: i64,
    outcome: Outcome,
    verification: &str,
    rectification: &str,
    citizen_reply: &str,
    by: i64,
    at: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        r#"
        UPDATE rating_cases
        SET outcome = $1, verification = $2, rectification = $3, citizen_reply = $4,
            closed_by = $5, closed_at = $6
        WHERE id = $7 AND closed_at IS NULL
        "#,
    )
    .bind(outcome.code())
    .bind(verification)
    .bind(rectification)
    .bind(citizen_reply)
    .bind(by)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
