//! SQL for self-service endorsement sessions.

use sqlx::{Any, AnyConnection, Executor, Row};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub token: String,
    pub device_id: i64,
    pub site_id: i64,
    pub started_at: i64,
    pub chip_sealed: Vec<u8>,
    pub state: String,
    pub option_id: Option<String>,
    pub application_id: Option<i64>,
    pub write_claimed_at: Option<i64>,
    pub write_ref: Option<String>,
}

pub struct NewSession<'a> {
    pub token: &'a str,
    pub device_id: i64,
    pub site_id: i64,
    pub now: i64,
    pub document_type: &'a str,
    pub id_index: &'a str,
    pub chip_sealed: Vec<u8>,
    pub face_ref: &'a str,
    pub face_score: i64,
    pub state: &'a str,
    pub application_id: Option<i64>,
    pub failure: Option<&'a str>,
}

pub async fn insert(conn: &mut AnyConnection, s: &NewSession<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO self_endorsements (token, device_id, site_id, started_at, document_type, id_index,
         chip_sealed, face_ref, face_score, state, application_id, failure, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id"#,
    )
    .bind(s.token)
    .bind(s.device_id)
    .bind(s.site_id)
    .bind(s.now)
    .bind(s.document_type)
    .bind(s.id_index)
    .bind(s.chip_sealed.clone())
    .bind(s.face_ref)
    .bind(s.face_score)
    .bind(s.state)
    .bind(s.application_id)
    .bind(s.failure)
    .bind((s.state != "read").then_some(s.now))
    .fetch_one(conn)
    .await?
    .try_get("id")
}

macro_rules! select_session {
    ($where:literal) => {
        concat!(
            "SELECT id, token, device_id, site_id, started_at, chip_sealed, state, option_id, application_id, write_claimed_at, write_ref FROM self_endorsements ",
            $where
        )
    };
}

pub async fn by_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    token: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(select_session!("WHERE token = $1"))
        .bind(token)
        .fetch_optional(ex)
        .await
}

pub async fn by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(select_session!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await
}

/// Sessions in `state` that started before `before` (the sweep's work).
pub async fn stale<'e>(
    ex: impl Executor<'e, Database = Any>,
    state: &str,
    before: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(select_session!(
        "WHERE state = $1 AND COALESCE(write_claimed_at, started_at) < $2 ORDER BY id"
    ))
    .bind(state)
    .bind(before)
    .fetch_all(ex)
    .await
}

/// read → chosen with the application, if still read.
pub async fn choose(
    conn: &mut AnyConnection,
    id: i64,
    option: &str,
    application_id: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE self_endorsements SET state = 'chosen', option_id = $1, application_id = $2 WHERE id = $3 AND state = 'read'",
    )
    .bind(option)
    .bind(application_id)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Takes the write for one caller: `from` → writing. Only one of any number of concurrent
/// callers gets true, so the card is written once.
pub async fn claim_write<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
    from: &str,
    claimed_at: Option<i64>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    // From `writing` (the sweep retrying a kiosk that went silent) the claim must still be the
    // one that was seen stale, or another sweep took it.
    let n = sqlx::query(
        r#"UPDATE self_endorsements SET state = 'writing', write_claimed_at = $1, write_attempts = write_attempts + 1
         WHERE id = $2 AND state = $3 AND COALESCE(write_claimed_at, 0) = COALESCE($4, 0)"#,
    )
    .bind(now)
    .bind(id)
    .bind(from)
    .bind(claimed_at)
    .execute(ex)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Ends a session: its final state, what was written or went wrong, and the chip data erased.
pub async fn finish(
    conn: &mut AnyConnection,
    id: i64,
    from: &str,
    to: &str,
    write_ref: Option<&str>,
    failure: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        r#"UPDATE self_endorsements SET state = $1, write_ref = $2, failure = $3, finished_at = $4, chip_sealed = $5
         WHERE id = $6 AND state = $7"#,
    )
    .bind(to)
    .bind(write_ref)
    .bind(failure)
    .bind(now)
    .bind(Vec::<u8>::new())
    .bind(id)
    .bind(from)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The application's one document (id) of a self-service session.
pub async fn document_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT id FROM application_documents WHERE application_id = $1 ORDER BY position")
        .bind(application_id)
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()
}

/// Ends every session of a kiosk still at `read` (the kiosk wiped itself home, or a new permit
/// was read): the chip data is erased at once rather than at the sweep.
pub async fn end_reads_of(
    conn: &mut AnyConnection,
    device_id: i64,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        r#"UPDATE self_endorsements SET state = 'abandoned', failure = 'wiped', finished_at = $1, chip_sealed = $2
         WHERE device_id = $3 AND state = 'read'"#,
    )
    .bind(now)
    .bind(Vec::<u8>::new())
    .bind(device_id)
    .execute(conn)
    .await?
    .rows_affected())
}
