//! SQL for sites and windows.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{Site, SiteInput, SiteKind, Window, WindowKind};
use crate::domain::opening::OpeningRules;

fn site_row(r: &sqlx::any::AnyRow) -> Result<Site, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let rules: String = r.try_get("opening_rules")?;
    Ok(Site {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        kind: SiteKind::parse(&kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown site kind {kind}").into()))?,
        name_zh: r.try_get("name_zh")?,
        name_en: r.try_get("name_en")?,
        address_zh: r.try_get("address_zh")?,
        address_en: r.try_get("address_en")?,
        phone: r.try_get("phone")?,
        opening_rules: serde_json::from_str::<OpeningRules>(&rules)
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

fn window_row(r: &sqlx::any::AnyRow) -> Result<Window, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(Window {
        id: r.try_get("id")?,
        site_id: r.try_get("site_id")?,
        number: r.try_get("number")?,
        kind: WindowKind::parse(&kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown window kind {kind}").into()))?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

pub async fn list_sites<'e>(
    ex: impl Executor<'e, Database = Any>,
    only_active: bool,
) -> Result<Vec<Site>, sqlx::Error> {
    sqlx::query(
        r#"SELECT id, code, kind, name_zh, name_en, address_zh, address_en, phone, opening_rules, active
         FROM sites WHERE active = 1 OR $1 = 0 ORDER BY code"#,
    )
    .bind(i64::from(only_active))
    .fetch_all(ex)
    .await?
    .iter()
    .map(site_row)
    .collect()
}

pub async fn site<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<Site>, sqlx::Error> {
    sqlx::query(
        "SELECT id, code, kind, name_zh, name_en, address_zh, address_en, phone, opening_rules, active FROM sites WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?
    .map(|r| site_row(&r))
    .transpose()
}

pub async fn site_by_code<'e>(
    ex: impl Executor<'e, Database = Any>,
    code: &str,
) -> Result<Option<Site>, sqlx::Error> {
    sqlx::query(
        "SELECT id, code, kind, name_zh, name_en, address_zh, address_en, phone, opening_rules, active FROM sites WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(ex)
    .await?
    .map(|r| site_row(&r))
    .transpose()
}

fn rules_json(rules: &OpeningRules) -> Result<String, sqlx::Error> {
    serde_json::to_string(rules).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

pub async fn insert_site(
    conn: &mut AnyConnection,
    s: &SiteInput,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO sites (code, kind, name_zh, name_en, address_zh, address_en, phone, opening_rules, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) RETURNING id"#,
    )
    .bind(s.code.trim())
    .bind(s.kind.as_str())
    .bind(s.name_zh.trim())
    .bind(s.name_en.trim())
    .bind(s.address_zh.trim())
    .bind(s.address_en.trim())
    .bind(s.phone.trim())
    .bind(rules_json(&s.opening_rules)?)
    .bind(now)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn update_site(
    conn: &mut AnyConnection,
    id: i64,
    s: &SiteInput,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        r#"UPDATE sites SET code = $1, kind = $2, name_zh = $3, name_en = $4, address_zh = $5, address_en = $6, phone = $7,
                opening_rules = $8, updated_at = $9 WHERE id = $10"#,
    )
    .bind(s.code.trim())
    .bind(s.kind.as_str())
    .bind(s.name_zh.trim())
    .bind(s.name_en.trim())
    .bind(s.address_zh.trim())
    .bind(s.address_en.trim())
    .bind(s.phone.trim())
    .bind(rules_json(&s.opening_rules)?)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn windows_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
) -> Result<Vec<Window>, sqlx::Error> {
    sqlx::query(
        "SELECT id, site_id, number, kind, active FROM windows WHERE site_id = $1 ORDER BY number",
    )
    .bind(site_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(window_row)
    .collect()
}

pub async fn window<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<Window>, sqlx::Error> {
    sqlx::query("SELECT id, site_id, number, kind, active FROM windows WHERE id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| window_row(&r))
        .transpose()
}

pub async fn insert_window(
    conn: &mut AnyConnection,
    site_id: i64,
    number: i64,
    kind: WindowKind,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO windows (site_id, number, kind, active, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4) RETURNING id",
    )
    .bind(site_id)
    .bind(number)
    .bind(kind.as_str())
    .bind(now)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn set_window_active(
    conn: &mut AnyConnection,
    id: i64,
    active: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE windows SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(active))
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
