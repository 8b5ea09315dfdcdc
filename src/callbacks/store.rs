//! Callbacks' SQL: the daily lists with their seeds, the citizens drawn, the append-only
//! attempts, and the citizens who declined contact.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{ItemStatus, Outcome};

/// A drawn list.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub id: i64,
    pub site_id: i64,
    pub day: String,
    pub served_day: String,
    pub seed: String,
    pub sample_size: i64,
    pub population: i64,
    pub drawn_at: i64,
}

fn list_row(r: sqlx::any::AnyRow) -> Result<ListRow, sqlx::Error> {
    Ok(ListRow {
        id: r.try_get("id")?,
        site_id: r.try_get("site_id")?,
        day: r.try_get("day")?,
        served_day: r.try_get("served_day")?,
        seed: r.try_get("seed")?,
        sample_size: r.try_get("sample_size")?,
        population: r.try_get("population")?,
        drawn_at: r.try_get("drawn_at")?,
    })
}

macro_rules! select_list {
    ($rest:literal) => {
        concat!(
            "SELECT id, site_id, day, served_day, seed, sample_size, population, drawn_at FROM callback_lists ",
            $rest
        )
    };
}

pub async fn list<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    day: &str,
) -> Result<Option<ListRow>, sqlx::Error> {
    sqlx::query(select_list!("WHERE site_id = $1 AND day = $2"))
        .bind(site_id)
        .bind(day)
        .fetch_optional(ex)
        .await?
        .map(list_row)
        .transpose()
}

pub async fn list_by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<ListRow>, sqlx::Error> {
    sqlx::query(select_list!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(list_row)
        .transpose()
}

/// The applications whose acceptance finished at `site_id` on `served` (accepted or refused),
/// as (application id, application number, sealed ID number), in id order: src/callbacks draws
/// from them, one per person, less those who declined contact.
pub async fn served_applications<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    served: jiff::civil::Date,
) -> Result<Vec<(i64, String, Vec<u8>)>, sqlx::Error> {
    let Some((from, to)) = crate::clock::day_bounds_ms(served) else {
        return Ok(Vec::new());
    };
    sqlx::query(
        r#"
        SELECT a.id, a.application_no, a.id_sealed
        FROM applications a
        WHERE a.site_id = $1
          AND COALESCE(a.accepted_at, a.refused_at) >= $2
          AND COALESCE(a.accepted_at, a.refused_at) < $3
        ORDER BY a.id
        "#,
    )
    .bind(site_id)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("application_no")?,
            r.try_get("id_sealed")?,
        ))
    })
    .collect()
}

/// The blind indexes of everyone who had declined contact by `as_of` (a decline in the very
/// millisecond of a draw counts as before it: declining always wins).
pub async fn opted_out_by<'e>(
    ex: impl Executor<'e, Database = Any>,
    as_of: i64,
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    sqlx::query("SELECT id_index FROM contact_optouts WHERE at <= $1")
        .bind(as_of)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| r.try_get("id_index"))
        .collect()
}

pub struct NewList<'a> {
    pub site_id: i64,
    pub day: &'a str,
    pub served_day: &'a str,
    pub seed: &'a str,
    pub sample_size: i64,
    pub population: i64,
    pub drawn_at: i64,
}

/// Inserts the list; `None` if the site already has one for the day.
pub async fn insert_list(
    conn: &mut AnyConnection,
    l: &NewList<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        r#"
        INSERT INTO callback_lists (site_id, day, served_day, seed, sample_size, population, drawn_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (site_id, day) DO NOTHING
        RETURNING id
        "#,
    )
    .bind(l.site_id)
    .bind(l.day)
    .bind(l.served_day)
    .bind(l.seed)
    .bind(l.sample_size)
    .bind(l.population)
    .bind(l.drawn_at)
    .fetch_optional(conn)
    .await?;
    row.map(|r| r.try_get("id")).transpose()
}

pub async fn insert_item(
    conn: &mut AnyConnection,
    list_id: i64,
    application_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"
        INSERT INTO callback_items (list_id, application_id, officer_id, status, attempts)
        SELECT $1, id, officer_id, 'pending', 0 FROM applications WHERE id = $2
        "#,
    )
    .bind(list_id)
    .bind(application_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A citizen on a list.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub id: i64,
    pub list_id: i64,
    pub application_id: i64,
    pub officer_id: Option<i64>,
    pub status: ItemStatus,
    pub attempts: i64,
    pub answers: Option<String>,
}

fn item_row(r: sqlx::any::AnyRow) -> Result<ItemRow, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(ItemRow {
        id: r.try_get("id")?,
        list_id: r.try_get("list_id")?,
        application_id: r.try_get("application_id")?,
        officer_id: r.try_get("officer_id")?,
        status: ItemStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("callback status {status}").into()))?,
        attempts: r.try_get("attempts")?,
        answers: r.try_get("answers")?,
    })
}

macro_rules! select_item {
    ($rest:literal) => {
        concat!(
            "SELECT id, list_id, application_id, officer_id, status, attempts, answers FROM callback_items ",
            $rest
        )
    };
}

pub async fn items<'e>(
    ex: impl Executor<'e, Database = Any>,
    list_id: i64,
) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query(select_item!("WHERE list_id = $1 ORDER BY id"))
        .bind(list_id)
        .fetch_all(ex)
        .await?
        .into_iter()
        .map(item_row)
        .collect()
}

pub async fn item<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<ItemRow>, sqlx::Error> {
    sqlx::query(select_item!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(item_row)
        .transpose()
}

/// Moves an item on from `attempts_read` attempts; false if someone else got there first.
pub async fn advance(
    conn: &mut AnyConnection,
    id: i64,
    attempts_read: i64,
    status: ItemStatus,
    answers: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        r#"
        UPDATE callback_items SET attempts = attempts + 1, status = $1, answers = $2
        WHERE id = $3 AND attempts = $4 AND status = 'pending'
        "#,
    )
    .bind(status.code())
    .bind(answers)
    .bind(id)
    .bind(attempts_read)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct NewAttempt<'a> {
    pub item_id: i64,
    pub attempt: i64,
    pub at: i64,
    pub staff_id: i64,
    pub outcome: Outcome,
    pub answers: &'a str,
    pub note: &'a str,
}

pub async fn insert_attempt(
    conn: &mut AnyConnection,
    a: &NewAttempt<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"
        INSERT INTO callback_attempts (item_id, attempt, at, staff_id, outcome, answers, note)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        "#,
    )
    .bind(a.item_id)
    .bind(a.attempt)
    .bind(a.at)
    .bind(a.staff_id)
    .bind(a.outcome.code())
    .bind(a.answers)
    .bind(a.note)
    .execute(conn)
    .await?;
    Ok(())
}

/// One recorded attempt.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub attempt: i64,
    pub at: i64,
    pub staff_id: i64,
    pub outcome: Outcome,
    pub note: String,
}

pub async fn attempts<'e>(
    ex: impl Executor<'e, Database = Any>,
    item_id: i64,
) -> Result<Vec<AttemptRow>, sqlx::Error> {
    sqlx::query(
        "SELECT attempt, at, staff_id, outcome, note FROM callback_attempts WHERE item_id = $1 ORDER BY attempt",
    )
    .bind(item_id)
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(|r| {
        let outcome: String = r.try_get("outcome")?;
        Ok(AttemptRow {
            attempt: r.try_get("attempt")?,
            at: r.try_get("at")?,
            staff_id: r.try_get("staff_id")?,
            outcome: Outcome::parse(&outcome)
                .ok_or_else(|| sqlx::Error::Decode(format!("callback outcome {outcome}").into()))?,
            note: r.try_get("note")?,
        })
    })
    .collect()
}

/// Records that a citizen declined contact (the first time counts).
pub async fn opt_out(
    conn: &mut AnyConnection,
    person: &crate::privacy::BlindIndex,
    at: i64,
    source: &str,
) -> Result<(), sqlx::Error> {
    let [newest, previous] = person.forms();
    // Once is enough, under whichever form a key rotation's rebuild has left it.
    sqlx::query(
        "INSERT INTO contact_optouts (id_index, at, source) SELECT $1, $2, $3 \
         WHERE NOT EXISTS (SELECT 1 FROM contact_optouts WHERE id_index = $4) \
         ON CONFLICT (id_index) DO NOTHING",
    )
    .bind(newest)
    .bind(at)
    .bind(source)
    .bind(previous)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn opted_out<'e>(
    ex: impl Executor<'e, Database = Any>,
    person: &crate::privacy::BlindIndex,
) -> Result<bool, sqlx::Error> {
    let [newest, previous] = person.forms();
    Ok(
        sqlx::query("SELECT 1 AS one FROM contact_optouts WHERE id_index IN ($1, $2)")
            .bind(newest)
            .bind(previous)
            .fetch_optional(ex)
            .await?
            .is_some(),
    )
}
