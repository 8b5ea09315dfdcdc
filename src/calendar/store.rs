//! SQL of the calendar capability: the entered notices (append-only versions) and the reports
//! of what entering each one changed.

use sqlx::{Any, AnyConnection, Executor, Row};

/// One entered version of a year's arrangement.
#[derive(Debug, Clone)]
pub struct NoticeRow {
    pub id: i64,
    pub year: i64,
    pub version: i64,
    /// JSON of `domain::calendar::Arrangement`.
    pub arrangement: String,
    pub note: String,
    pub entered_by: i64,
    pub entered_by_name: Option<String>,
    pub entered_at: i64,
}

/// The notice columns, with `$tail` (the WHERE and ORDER BY) after them.
macro_rules! select_notice {
    ($tail:literal) => {
        concat!(
            r#"
SELECT n.id, n.year, n.version, n.arrangement, n.note, n.entered_by, s.display_name AS entered_by_name,
       n.entered_at
FROM calendar_notices n
LEFT JOIN staff s ON s.id = n.entered_by
"#,
            $tail
        )
    };
}

fn notice_row(r: &sqlx::any::AnyRow) -> Result<NoticeRow, sqlx::Error> {
    Ok(NoticeRow {
        id: r.try_get("id")?,
        year: r.try_get("year")?,
        version: r.try_get("version")?,
        arrangement: r.try_get("arrangement")?,
        note: r.try_get("note")?,
        entered_by: r.try_get("entered_by")?,
        entered_by_name: r.try_get("entered_by_name")?,
        entered_at: r.try_get("entered_at")?,
    })
}

/// Every entered version, by year and the latest first (the latest that passes the checks is
/// in force; a few rows a year).
pub async fn all_versions<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> Result<Vec<NoticeRow>, sqlx::Error> {
    sqlx::query(select_notice!(
        r#"
ORDER BY n.year, n.version DESC
"#
    ))
    .fetch_all(ex)
    .await?
    .iter()
    .map(notice_row)
    .collect()
}

/// Every version of `year`, the latest first.
pub async fn versions<'e>(
    ex: impl Executor<'e, Database = Any>,
    year: i64,
) -> Result<Vec<NoticeRow>, sqlx::Error> {
    sqlx::query(select_notice!(
        r#"
WHERE n.year = $1
ORDER BY n.version DESC
"#
    ))
    .bind(year)
    .fetch_all(ex)
    .await?
    .iter()
    .map(notice_row)
    .collect()
}

/// The next version number of `year` (1 for the first entry).
pub async fn next_version(conn: &mut AnyConnection, year: i64) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT COALESCE(MAX(version), 0) + 1 AS next FROM calendar_notices WHERE year = $1",
    )
    .bind(year)
    .fetch_one(conn)
    .await?
    .try_get("next")
}

pub struct NewNotice<'a> {
    pub year: i64,
    pub version: i64,
    pub arrangement: &'a str,
    pub note: &'a str,
    pub entered_by: i64,
    pub now: i64,
}

/// Adds a version; two administrators entering the same year at once meet the unique
/// `(year, version)` and one is refused.
pub async fn insert_notice(
    conn: &mut AnyConnection,
    n: &NewNotice<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"
INSERT INTO calendar_notices (year, version, arrangement, note, entered_by, entered_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id
"#,
    )
    .bind(n.year)
    .bind(n.version)
    .bind(n.arrangement)
    .bind(n.note)
    .bind(n.entered_by)
    .bind(n.now)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn insert_report<'e>(
    ex: impl Executor<'e, Database = Any>,
    notice_id: i64,
    report: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO calendar_reports (notice_id, at, report) VALUES ($1, $2, $3)")
        .bind(notice_id)
        .bind(now)
        .bind(report)
        .execute(ex)
        .await?;
    Ok(())
}

/// The report of what entering a version changed (JSON), if it was made.
pub async fn report<'e>(
    ex: impl Executor<'e, Database = Any>,
    notice_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT report FROM calendar_reports WHERE notice_id = $1")
        .bind(notice_id)
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("report"))
        .transpose()
}
