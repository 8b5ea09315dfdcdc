//! Page and API of the monthly error rate: the duty leader's table per officer with the zero
//! goal line, and the list behind each officer's numbers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{MonthReport, OfficerMonth};
use crate::auth::Failure;
use crate::auth::grant::Lead;
use crate::error::{AppError, AppResult};
use crate::i18n::UserMessage;
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Path, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new().route("/staff/leader/error-rate", get(report_page))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_report))
}

#[derive(Debug, Default, Deserialize)]
struct ReportQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    officer: Option<String>,
}

/// An error line as the page shows it.
pub struct ItemLine {
    pub kind: String,
    pub application_no: String,
    pub accepted_at: String,
    pub at: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/error_rate.html")]
struct ReportPage {
    page: Page,
    sites: Vec<Site>,
    site: Site,
    month: String,
    report: Option<MonthReport>,
    /// The officer whose list is shown.
    chosen: Option<OfficerMonth>,
    lines: Vec<ItemLine>,
    error: Option<String>,
}

/// This month, as `YYYY-MM`.
fn this_month(state: &AppState) -> String {
    state.clock.today().strftime("%Y-%m").to_string()
}

async fn report_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ReportQuery>,
) -> AppResult<ReportPage> {
    let lang = page.lang;
    let grant = super::leader(&actor)?;
    let (sites, site) = crate::sites::web::duty_sites::<Lead>(&state, &actor, &q.site).await?;
    let month = match q.month.trim() {
        "" => this_month(&state),
        m => m.to_string(),
    };
    let (report, error) = match super::parse_month(&month) {
        Ok(first) => (
            Some(super::month_report(&state.db, &grant, site.id, first).await?),
            None,
        ),
        Err(e) => (None, Some(e.message(lang))),
    };
    let officer: Option<i64> = q.officer.as_deref().and_then(|o| o.trim().parse().ok());
    let chosen = report
        .as_ref()
        .and_then(|r| r.officers.iter().find(|o| Some(o.officer_id) == officer))
        .cloned();
    let lines = match (&report, &chosen) {
        (Some(r), Some(o)) => r
            .items
            .iter()
            .filter(|i| i.officer_id == o.officer_id)
            .map(|i| ItemLine {
                kind: i.kind.name(lang).to_string(),
                application_no: i.application_no.clone(),
                accepted_at: crate::clock::format_local_minute(i.accepted_at),
                at: crate::clock::format_local_minute(i.at),
                detail: i.detail.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(ReportPage {
        page,
        sites,
        site,
        month,
        report,
        chosen,
        lines,
        error,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct MonthQuery {
    /// `YYYY-MM`; this month when left out.
    #[serde(default)]
    month: Option<String>,
}

/// The site's error rate per accepting officer for a month, with every error behind it.
#[utoipa::path(get, path = "/api/v1/sites/{code}/error-rate", tag = "ratings",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code"), MonthQuery),
    responses((status = 200, body = MonthReport), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_report(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
    Query(q): Query<MonthQuery>,
) -> AppResult<axum::Json<MonthReport>> {
    let grant = super::leader(&actor)?;
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let month = q.month.unwrap_or_else(|| this_month(&state));
    let first = super::parse_month(&month).map_err(|e| AppError::from(Failure::Refused(e)))?;
    Ok(axum::Json(
        super::month_report(&state.db, &grant, site.id, first).await?,
    ))
}
