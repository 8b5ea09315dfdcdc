//! The administrator's audit-log search, as a page and as JSON. Searching is itself audited.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AuditEntry, AuditQuery, AuditRecord};
use crate::auth::Actor;
use crate::clock::hall_tz;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit_page))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_audit))
}

fn day_start_ms(date: &str) -> Result<Option<i64>, AppError> {
    if date.trim().is_empty() {
        return Ok(None);
    }
    let d: jiff::civil::Date = date
        .trim()
        .parse()
        .map_err(|_| AppError::bad_request(format!("not a date (YYYY-MM-DD): {date}")))?;
    d.to_zoned_datetime(hall_tz())
        .map(|z| Some(z.timestamp().as_millisecond()))
        .map_err(|e| AppError::bad_request(e.to_string()))
}

async fn run_search(
    state: &AppState,
    actor: &Actor,
    q: &AuditQuery,
) -> AppResult<Vec<AuditRecord>> {
    actor.any_admin().ok_or_else(AppError::forbidden)?;
    let from = day_start_ms(q.from.as_deref().unwrap_or(""))?;
    let to = match q.to.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(to) => {
            let d: jiff::civil::Date = to
                .parse()
                .map_err(|_| AppError::bad_request(format!("not a date (YYYY-MM-DD): {to}")))?;
            let next = d
                .tomorrow()
                .map_err(|e| AppError::bad_request(e.to_string()))?;
            day_start_ms(&next.to_string())?
        }
        None => None,
    };
    let rows = super::search(state.db.reader(), q, from, to).await?;
    let mut tx = state.db.begin().await?;
    super::record(
        &mut tx,
        AuditEntry::by(actor, "audit.searched", "audit_log", "-", state.clock.now_ms()).detail(serde_json::json!({
            "actor": q.actor, "action": q.action, "target_kind": q.target_kind, "target_id": q.target_id,
            "from": q.from, "to": q.to, "results": rows.len(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(rows)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    page: Page,
    q: AuditQuery,
    rows: Vec<AuditRecord>,
}

impl AuditPage {
    fn v<'a>(&self, field: &'a Option<String>) -> &'a str {
        field.as_deref().unwrap_or("")
    }
}

async fn audit_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<AuditQuery>,
) -> AppResult<AuditPage> {
    let rows = run_search(&state, &actor, &q).await?;
    Ok(AuditPage { page, q, rows })
}

/// Searches the append-only audit log, newest first (administrators of every site).
#[utoipa::path(get, path = "/api/v1/audit", tag = "administration", params(AuditQuery),
    responses((status = 200, body = Vec<AuditRecord>), (status = 403, body = crate::error::ErrorBody)))]
async fn api_audit(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Query(q): Query<AuditQuery>,
) -> AppResult<axum::Json<Vec<AuditRecord>>> {
    Ok(axum::Json(run_search(&state, &actor, &q).await?))
}
