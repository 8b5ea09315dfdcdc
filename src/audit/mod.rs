//! The append-only audit log: every staff action and every staff read of a person's record
//! (R15), written in the same transaction as the action so neither exists without the other.

pub mod web;

use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyConnection, Executor, Row};

use crate::auth::{Actor, RequestMeta};

/// One line of the audit log, before it is written.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub site_id: Option<i64>,
    pub detail: serde_json::Value,
    pub ip: String,
    pub request_id: String,
}

impl AuditEntry {
    /// An action by a signed-in staff member.
    pub fn by(
        actor: &Actor,
        action: &str,
        target_kind: &str,
        target_id: &str,
        at: i64,
    ) -> AuditEntry {
        AuditEntry {
            at,
            actor_id: Some(actor.staff_id),
            actor_name: if actor.staff_id == 0 {
                actor.username.clone()
            } else {
                format!("{} ({})", actor.username, actor.badge_no)
            },
            action: action.into(),
            target_kind: target_kind.into(),
            target_id: target_id.into(),
            site_id: None,
            detail: serde_json::Value::Null,
            ip: actor.meta.ip.clone(),
            request_id: actor.meta.request_id.clone(),
        }
    }

    /// An action a registered device took by itself (a kiosk accepting a self-service
    /// endorsement): the device stands where the staff member would.
    pub fn by_device(
        device: &str,
        action: &str,
        target_kind: &str,
        target_id: &str,
        at: i64,
    ) -> AuditEntry {
        AuditEntry::unattended(
            format!("device: {device}"),
            action,
            target_kind,
            target_id,
            at,
        )
    }

    /// An action the server's own workers took (an automatic refund).
    pub fn by_system(action: &str, target_kind: &str, target_id: &str, at: i64) -> AuditEntry {
        AuditEntry::unattended("system".into(), action, target_kind, target_id, at)
    }

    fn unattended(
        actor_name: String,
        action: &str,
        target_kind: &str,
        target_id: &str,
        at: i64,
    ) -> AuditEntry {
        AuditEntry {
            at,
            actor_id: None,
            actor_name,
            action: action.into(),
            target_kind: target_kind.into(),
            target_id: target_id.into(),
            site_id: None,
            detail: serde_json::Value::Null,
            ip: String::new(),
            request_id: String::new(),
        }
    }

    /// An action with no signed-in staff member (a failed sign-in, a citizen, the system).
    pub fn system(
        action: &str,
        target_kind: &str,
        target_id: &str,
        meta: &RequestMeta,
        at: i64,
    ) -> AuditEntry {
        AuditEntry {
            at,
            actor_id: None,
            actor_name: "anonymous".into(),
            action: action.into(),
            target_kind: target_kind.into(),
            target_id: target_id.into(),
            site_id: None,
            detail: serde_json::Value::Null,
            ip: meta.ip.clone(),
            request_id: meta.request_id.clone(),
        }
    }

    pub fn detail(mut self, detail: serde_json::Value) -> AuditEntry {
        self.detail = detail;
        self
    }

    pub fn site(mut self, site_id: i64) -> AuditEntry {
        self.site_id = Some(site_id);
        self
    }
}

/// Appends an entry inside the caller's transaction.
/// Records that `actor` was shown a person's data unmasked in `view` (PIPL, R15: who, whose
/// record, which view, when). One short transaction of its own.
pub async fn personal_data_read(
    db: &crate::db::Db,
    actor: &Actor,
    target_kind: &str,
    target: &str,
    site: Option<i64>,
    view: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut entry = AuditEntry::by(actor, "personal_data.read", target_kind, target, now)
        .detail(serde_json::json!({"view": view}));
    if let Some(site) = site {
        entry = entry.site(site);
    }
    let mut tx = db.begin().await?;
    record(&mut tx, entry).await?;
    tx.commit().await
}

pub async fn record(conn: &mut AnyConnection, e: AuditEntry) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO audit_log (at, actor_id, actor_name, action, target_kind, target_id, site_id, detail, ip, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
    )
    .bind(e.at)
    .bind(e.actor_id)
    .bind(&e.actor_name)
    .bind(&e.action)
    .bind(&e.target_kind)
    .bind(&e.target_id)
    .bind(e.site_id)
    .bind(if e.detail.is_null() { String::from("{}") } else { e.detail.to_string() })
    .bind(&e.ip)
    .bind(&e.request_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A written audit entry, as the administrator's search shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub at_local: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub site_id: Option<i64>,
    pub detail: String,
    pub ip: String,
    pub request_id: String,
}

/// What the administrator searches by; every field is optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Staff username (exact), as in the actor column.
    pub actor: Option<String>,
    /// Action prefix, e.g. `auth.` or `staff.created`.
    pub action: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    /// From this local date (YYYY-MM-DD), inclusive.
    pub from: Option<String>,
    /// To this local date (YYYY-MM-DD), inclusive.
    pub to: Option<String>,
    /// Entries older than this id (paging backwards).
    pub before_id: Option<i64>,
    pub limit: Option<i64>,
}

/// Searches the log, newest first.
pub async fn search<'e>(
    ex: impl Executor<'e, Database = Any>,
    q: &AuditQuery,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let actor = q.actor.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let actor_prefix = actor.map(|s| format!("{s} (%"));
    let action_prefix = q
        .action
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!("{}%", s.trim()));
    let rows = sqlx::query(
        r#"SELECT id, at, actor_id, actor_name, action, target_kind, target_id, site_id, detail, ip, request_id
         FROM audit_log
         WHERE (CAST($1 AS TEXT) IS NULL OR actor_name LIKE $1 OR actor_name = $9)
           AND (CAST($2 AS TEXT) IS NULL OR action LIKE $2)
           AND (CAST($3 AS TEXT) IS NULL OR target_kind = $3)
           AND (CAST($4 AS TEXT) IS NULL OR target_id = $4)
           AND (CAST($5 AS BIGINT) IS NULL OR at >= $5)
           AND (CAST($6 AS BIGINT) IS NULL OR at < $6)
           AND (CAST($7 AS BIGINT) IS NULL OR id < $7)
         ORDER BY id DESC LIMIT $8"#,
    )
    .bind(actor_prefix)
    .bind(action_prefix)
    .bind(q.target_kind.as_deref().filter(|s| !s.is_empty()))
    .bind(q.target_id.as_deref().filter(|s| !s.is_empty()))
    .bind(from_ms)
    .bind(to_ms)
    .bind(q.before_id)
    .bind(limit)
    .bind(actor)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            let at: i64 = r.try_get("at")?;
            Ok(AuditRecord {
                id: r.try_get("id")?,
                at,
                at_local: crate::clock::format_local(at),
                actor_id: r.try_get("actor_id")?,
                actor_name: r.try_get("actor_name")?,
                action: r.try_get("action")?,
                target_kind: r.try_get("target_kind")?,
                target_id: r.try_get("target_id")?,
                site_id: r.try_get("site_id")?,
                detail: r.try_get("detail")?,
                ip: r.try_get("ip")?,
                request_id: r.try_get("request_id")?,
            })
        })
        .collect()
}
