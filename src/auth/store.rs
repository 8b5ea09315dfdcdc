//! SQL for staff accounts, role grants and sessions.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{RequestMeta, Role, RoleGrant};

pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub badge_no: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub active: bool,
    pub failed_logins: i64,
    pub locked_until: i64,
}

fn account(row: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        badge_no: row.try_get("badge_no")?,
        password_hash: row.try_get("password_hash")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        active: row.try_get::<i64, _>("active")? != 0,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
    })
}

pub async fn account_by_username<'e>(
    ex: impl Executor<'e, Database = Any>,
    username: &str,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query(
        r#"SELECT id, username, display_name, badge_no, password_hash, must_change_password, active, failed_logins, locked_until
         FROM staff WHERE username = $1"#,
    )
    .bind(username)
    .fetch_optional(ex)
    .await?
    .map(|r| account(&r))
    .transpose()
}

pub async fn account_by_id(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query(
        r#"SELECT id, username, display_name, badge_no, password_hash, must_change_password, active, failed_logins, locked_until
         FROM staff WHERE id = $1"#,
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(|r| account(&r))
    .transpose()
}

/// Until when the pair `username`, `ip` is locked out (0: not locked).
pub async fn sign_in_lock<'e>(
    ex: impl Executor<'e, Database = Any>,
    username: &str,
    ip: &str,
) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query("SELECT locked_until FROM sign_in_failures WHERE username = $1 AND ip = $2")
            .bind(username)
            .bind(ip)
            .fetch_optional(ex)
            .await?
            .map(|r| r.try_get::<i64, _>("locked_until"))
            .transpose()?
            .unwrap_or(0),
    )
}

/// Counts a failed sign-in of the pair within `window_ms` of its first failure (an older
/// count starts again), locking the pair until `now + lock_ms` at `max` failures. Returns the
/// failures counted and until when the pair is locked (0: not).
pub async fn count_sign_in_failure(
    conn: &mut AnyConnection,
    username: &str,
    ip: &str,
    now: i64,
    window_ms: i64,
    max: i64,
    lock_ms: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        r#"INSERT INTO sign_in_failures (username, ip, failures, first_at, locked_until)
         VALUES ($1, $2, 1, $3, CASE WHEN $4 <= 1 THEN $5 ELSE 0 END)
         ON CONFLICT (username, ip) DO UPDATE SET
           failures = CASE WHEN sign_in_failures.first_at < $3 - $6 THEN 1 ELSE sign_in_failures.failures + 1 END,
           first_at = CASE WHEN sign_in_failures.first_at < $3 - $6 THEN $3 ELSE sign_in_failures.first_at END,
           locked_until = CASE
             WHEN (CASE WHEN sign_in_failures.first_at < $3 - $6 THEN 1 ELSE sign_in_failures.failures + 1 END) >= $4
             THEN $5 ELSE 0 END
         RETURNING failures, locked_until"#,
    )
    .bind(username)
    .bind(ip)
    .bind(now)
    .bind(max)
    .bind(now + lock_ms)
    .bind(window_ms)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("failures")?, row.try_get("locked_until")?))
}

/// Forgets the failures of a pair that signed in, and pairs idle for a day.
pub async fn clear_sign_in_failures(
    conn: &mut AnyConnection,
    username: &str,
    ip: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM sign_in_failures WHERE (username = $1 AND ip = $2) OR (first_at < $3 AND locked_until < $4)",
    )
    .bind(username)
    .bind(ip)
    .bind(now - 86_400_000)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn record_successful_login(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE staff SET failed_logins = 0, locked_until = 0, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    staff_id: i64,
    now: i64,
    expires_at: i64,
    meta: &RequestMeta,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO sessions (token_hash, staff_id, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, $3, $4, $5, $6)"#,
    )
    .bind(token_hash)
    .bind(staff_id)
    .bind(now)
    .bind(expires_at)
    .bind(&meta.ip)
    .bind(meta.user_agent.chars().take(300).collect::<String>())
    .execute(conn)
    .await?;
    Ok(())
}

pub struct SessionRow {
    pub staff_id: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub username: String,
    pub display_name: String,
    pub badge_no: String,
    pub must_change_password: bool,
    pub active: bool,
}

pub async fn session<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let row = sqlx::query(
        r#"SELECT s.staff_id, s.last_seen_at, s.expires_at, a.username, a.display_name, a.badge_no,
                a.must_change_password, a.active
         FROM sessions s JOIN staff a ON a.id = s.staff_id WHERE s.token_hash = $1"#,
    )
    .bind(token_hash)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(SessionRow {
            staff_id: r.try_get("staff_id")?,
            last_seen_at: r.try_get("last_seen_at")?,
            expires_at: r.try_get("expires_at")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            badge_no: r.try_get("badge_no")?,
            must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
            active: r.try_get::<i64, _>("active")? != 0,
        })
    })
    .transpose()
}

pub async fn touch_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_session(conn: &mut AnyConnection, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of `staff_id` except `keep` (a token hash), if given.
pub async fn delete_other_sessions(
    conn: &mut AnyConnection,
    staff_id: i64,
    keep: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE staff_id = $1 AND token_hash <> $2")
        .bind(staff_id)
        .bind(keep.unwrap_or(""))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn grants_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    staff_id: i64,
) -> Result<Vec<RoleGrant>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT role, site_id FROM staff_roles WHERE staff_id = $1 ORDER BY role, site_id",
    )
    .bind(staff_id)
    .fetch_all(ex)
    .await?;
    let mut grants = Vec::with_capacity(rows.len());
    for r in rows {
        let role: String = r.try_get("role")?;
        let site: i64 = r.try_get("site_id")?;
        // The CHECK constraint admits only known roles; an unknown one grants nothing.
        if let Some(role) = Role::parse(&role) {
            grants.push(RoleGrant {
                role,
                site_id: (site != 0).then_some(site),
            });
        }
    }
    Ok(grants)
}

pub async fn replace_grants(
    conn: &mut AnyConnection,
    staff_id: i64,
    grants: &[RoleGrant],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM staff_roles WHERE staff_id = $1")
        .bind(staff_id)
        .execute(&mut *conn)
        .await?;
    let mut seen = Vec::new();
    for g in grants {
        if seen.contains(g) {
            continue;
        }
        seen.push(*g);
        sqlx::query("INSERT INTO staff_roles (staff_id, role, site_id) VALUES ($1, $2, $3)")
            .bind(staff_id)
            .bind(g.role.as_str())
            .bind(g.site_id.unwrap_or(0))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn insert_staff(
    conn: &mut AnyConnection,
    username: &str,
    display_name: &str,
    badge_no: &str,
    password_hash: &str,
    must_change_password: bool,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        r#"INSERT INTO staff (username, display_name, badge_no, password_hash, must_change_password, active,
                            failed_logins, locked_until, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, 0, 0, $6, $6) RETURNING id"#,
    )
    .bind(username)
    .bind(display_name)
    .bind(badge_no)
    .bind(password_hash)
    .bind(i64::from(must_change_password))
    .bind(now)
    .fetch_one(conn)
    .await?;
    row.try_get("id")
}

pub async fn set_password(
    conn: &mut AnyConnection,
    id: i64,
    hash: &str,
    must_change: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"UPDATE staff SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_until = 0,
                updated_at = $3 WHERE id = $4"#,
    )
    .bind(hash)
    .bind(i64::from(must_change))
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_active(
    conn: &mut AnyConnection,
    id: i64,
    active: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE staff SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(active))
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A staff member as the administrator's list shows them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StaffSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub badge_no: String,
    pub active: bool,
    pub must_change_password: bool,
    pub locked: bool,
    pub grants: Vec<RoleGrant>,
}

pub async fn list_staff<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    now: i64,
) -> Result<Vec<StaffSummary>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, username, display_name, badge_no, active, must_change_password, locked_until FROM staff ORDER BY username",
    )
    .fetch_all(ex)
    .await?;
    let grant_rows =
        sqlx::query("SELECT staff_id, role, site_id FROM staff_roles ORDER BY role, site_id")
            .fetch_all(ex)
            .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let mut grants = Vec::new();
        for g in &grant_rows {
            if g.try_get::<i64, _>("staff_id")? == id
                && let Some(role) = Role::parse(&g.try_get::<String, _>("role")?)
            {
                let site: i64 = g.try_get("site_id")?;
                grants.push(RoleGrant {
                    role,
                    site_id: (site != 0).then_some(site),
                });
            }
        }
        out.push(StaffSummary {
            id,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            badge_no: r.try_get("badge_no")?,
            active: r.try_get::<i64, _>("active")? != 0,
            must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
            locked: r.try_get::<i64, _>("locked_until")? > now,
            grants,
        });
    }
    Ok(out)
}

pub async fn count_staff<'e>(ex: impl Executor<'e, Database = Any>) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM staff")
        .fetch_one(ex)
        .await?
        .try_get("n")
}
