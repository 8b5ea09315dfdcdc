//! Supervision cards' SQL: photo blobs by content hash, each staff member's current photo, and
//! who is on duty at a site today.

use sqlx::{Any, AnyConnection, Executor, Row};

/// Stores a blob once per content (the same photo uploaded twice is one row).
pub async fn put_blob(
    conn: &mut AnyConnection,
    sha256: &str,
    content_type: &str,
    bytes: &[u8],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"
        INSERT INTO photo_blobs (sha256, content_type, bytes, stored_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (sha256) DO NOTHING
        "#,
    )
    .bind(sha256)
    .bind(content_type)
    .bind(bytes.to_vec())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_photo(
    conn: &mut AnyConnection,
    staff_id: i64,
    sha256: &str,
    now: i64,
    by: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"
        INSERT INTO staff_photos (staff_id, sha256, set_at, set_by) VALUES ($1, $2, $3, $4)
        ON CONFLICT (staff_id) DO UPDATE SET sha256 = excluded.sha256, set_at = excluded.set_at,
                                             set_by = excluded.set_by
        "#,
    )
    .bind(staff_id)
    .bind(sha256)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The hash of a staff member's current photo.
pub async fn photo_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    staff_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT sha256 FROM staff_photos WHERE staff_id = $1")
        .bind(staff_id)
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("sha256"))
        .transpose()
}

pub async fn blob<'e>(
    ex: impl Executor<'e, Database = Any>,
    sha256: &str,
) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    sqlx::query("SELECT content_type, bytes FROM photo_blobs WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(ex)
        .await?
        .map(|r| Ok((r.try_get("content_type")?, r.try_get("bytes")?)))
        .transpose()
}

/// (staff id, window number, at the window now) for everyone at a window of the site now and
/// everyone who served a ticket there on `date`; those at a window now come first.
pub async fn on_duty<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    date: &str,
) -> Result<Vec<(i64, i64, bool)>, sqlx::Error> {
    sqlx::query(
        r#"
        SELECT staff_id, window_no, at_now FROM (
            SELECT ws.officer_id AS staff_id, w.number AS window_no, CAST(1 AS BIGINT) AS at_now
            FROM window_states ws JOIN windows w ON w.id = ws.window_id
            WHERE w.site_id = $1 AND ws.status IN ('open', 'paused') AND ws.officer_id IS NOT NULL
            UNION
            SELECT t.officer_id, w.number, CAST(0 AS BIGINT)
            FROM tickets t JOIN windows w ON w.id = t.window_id
            WHERE t.site_id = $1 AND t.date = $2 AND t.officer_id IS NOT NULL
        ) duty
        ORDER BY at_now DESC, window_no
        "#,
    )
    .bind(site_id)
    .bind(date)
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(|r| {
        let now: i64 = r.try_get("at_now")?;
        Ok((r.try_get("staff_id")?, r.try_get("window_no")?, now == 1))
    })
    .collect()
}
