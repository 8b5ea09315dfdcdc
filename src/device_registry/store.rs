//! Devices' SQL: the registry (hashes of codes and credentials only) and the append-only
//! device events.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{Fault, Kind};

/// A registered device as stored.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub id: i64,
    pub site_id: i64,
    pub kind: Kind,
    pub name: String,
    pub enrol_expires_at: Option<i64>,
    pub credential_hash: Option<String>,
    pub enrolled_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub faults_text: String,
    /// Speaks its prompts (kiosks; issue 14 §1).
    pub voice_prompts: bool,
    /// Serves round the clock, not only in its site's opening hours (issue 14 §3).
    pub always_open: bool,
}

impl DeviceRow {
    /// The faults of its last heartbeat.
    pub fn faults(&self) -> Vec<Fault> {
        self.faults_text
            .split(',')
            .filter_map(Fault::parse)
            .collect()
    }
}

macro_rules! select_device {
    ($rest:literal) => {
        concat!(
            "SELECT id, site_id, kind, name, enrol_expires_at, credential_hash, enrolled_at, ",
            "revoked_at, last_seen_at, faults, voice_prompts, always_open FROM devices ",
            $rest
        )
    };
}

fn device_row(r: &sqlx::any::AnyRow) -> Result<DeviceRow, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(DeviceRow {
        id: r.try_get("id")?,
        site_id: r.try_get("site_id")?,
        kind: Kind::parse(&kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("device kind {kind}").into()))?,
        name: r.try_get("name")?,
        enrol_expires_at: r.try_get("enrol_expires_at")?,
        credential_hash: r.try_get("credential_hash")?,
        enrolled_at: r.try_get("enrolled_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        faults_text: r.try_get("faults")?,
        voice_prompts: r.try_get::<i64, _>("voice_prompts")? != 0,
        always_open: r.try_get::<i64, _>("always_open")? != 0,
    })
}

pub struct NewDevice<'a> {
    pub site_id: i64,
    pub kind: Kind,
    pub name: &'a str,
    pub enrol_code_hash: &'a str,
    pub enrol_expires_at: i64,
    pub created_at: i64,
    pub created_by: i64,
}

pub async fn insert(conn: &mut AnyConnection, d: &NewDevice<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"
        INSERT INTO devices (site_id, kind, name, enrol_code_hash, enrol_expires_at, created_at, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
        "#,
    )
    .bind(d.site_id)
    .bind(d.kind.code())
    .bind(d.name)
    .bind(d.enrol_code_hash)
    .bind(d.enrol_expires_at)
    .bind(d.created_at)
    .bind(d.created_by)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<DeviceRow>, sqlx::Error> {
    sqlx::query(select_device!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(device_row)
        .transpose()
}

pub async fn by_code<'e>(
    ex: impl Executor<'e, Database = Any>,
    code_hash: &str,
) -> Result<Option<DeviceRow>, sqlx::Error> {
    sqlx::query(select_device!("WHERE enrol_code_hash = $1"))
        .bind(code_hash)
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(device_row)
        .transpose()
}

pub async fn all<'e>(ex: impl Executor<'e, Database = Any>) -> Result<Vec<DeviceRow>, sqlx::Error> {
    sqlx::query(select_device!("ORDER BY site_id, kind, name, id"))
        .fetch_all(ex)
        .await?
        .iter()
        .map(device_row)
        .collect()
}

pub async fn set_code(
    conn: &mut AnyConnection,
    id: i64,
    code_hash: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET enrol_code_hash = $1, enrol_expires_at = $2 WHERE id = $3")
        .bind(code_hash)
        .bind(expires_at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Uses up the code and sets the credential; false if the code was used meanwhile.
pub async fn enrol(
    conn: &mut AnyConnection,
    id: i64,
    code_hash: &str,
    credential_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        r#"
        UPDATE devices SET credential_hash = $1, enrolled_at = $2, enrol_code_hash = NULL,
                           enrol_expires_at = NULL, last_seen_at = $2
        WHERE id = $3 AND enrol_code_hash = $4 AND revoked_at IS NULL
        "#,
    )
    .bind(credential_hash)
    .bind(now)
    .bind(id)
    .bind(code_hash)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Swaps the credential if it is still `old`; false if it changed or the device was revoked.
pub async fn replace_credential(
    conn: &mut AnyConnection,
    id: i64,
    old: &str,
    new: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE devices SET credential_hash = $1 WHERE id = $2 AND credential_hash = $3 AND revoked_at IS NULL",
    )
    .bind(new)
    .bind(id)
    .bind(old)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn revoke(conn: &mut AnyConnection, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE devices SET revoked_at = $1, credential_hash = NULL, enrol_code_hash = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_settings(
    conn: &mut AnyConnection,
    id: i64,
    voice_prompts: bool,
    always_open: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET voice_prompts = $1, always_open = $2 WHERE id = $3")
        .bind(i64::from(voice_prompts))
        .bind(i64::from(always_open))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn beat(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
    faults: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET last_seen_at = $1, faults = $2 WHERE id = $3")
        .bind(now)
        .bind(faults)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_event(
    conn: &mut AnyConnection,
    device_id: i64,
    at: i64,
    kind: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO device_events (device_id, at, kind, detail) VALUES ($1, $2, $3, $4)")
        .bind(device_id)
        .bind(at)
        .bind(kind)
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}

/// Enrolled, unrevoked devices silent since before `cutoff` whose silence has not been
/// reported yet (no `offline` event since their last report).
pub async fn newly_offline<'e>(
    ex: impl Executor<'e, Database = Any>,
    cutoff: i64,
) -> Result<Vec<DeviceRow>, sqlx::Error> {
    sqlx::query(select_device!(
        r#"
        WHERE enrolled_at IS NOT NULL AND revoked_at IS NULL AND last_seen_at < $1
          AND NOT EXISTS (SELECT 1 FROM device_events e
                          WHERE e.device_id = devices.id AND e.kind = 'offline'
                            AND e.at > devices.last_seen_at)
        ORDER BY id
        "#
    ))
    .bind(cutoff)
    .fetch_all(ex)
    .await?
    .iter()
    .map(device_row)
    .collect()
}
