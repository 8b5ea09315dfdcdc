//! Report page, exports and API: the duty leader picks a site and a range (this month by
//! default) and reads the figures, the charts and the tables, each table downloadable as CSV or
//! .xlsx; an integrator reads the same report as JSON.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::civil::Date;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::report::{self, Names, RangeError, Report};
use super::{charts, export, rollup};
use crate::auth::grant::Lead;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Path, Query, Staff};
use crate::web::layout::Page;

/// Today's aggregates are rolled again when a report is read and they are older than this.
const TODAY_MAX_AGE_MS: i64 = 10_000;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/staff/leader/reports", get(report_page))
        .route("/staff/leader/reports/export", get(export_file))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_report))
}

#[derive(Debug, Default, Deserialize)]
struct ReportQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    table: String,
    #[serde(default)]
    format: String,
}

/// The range asked for: this month so far when left out.
fn range_of(state: &AppState, from: &str, to: &str) -> Result<report::Range, RangeError> {
    let today = state.clock.today();
    let parse = |s: &str, field: &'static str, default: Date| match s.trim() {
        "" => Ok(default),
        d => d.parse::<Date>().map_err(|_| RangeError::BadDate(field)),
    };
    let from = parse(from, "from", today.first_of_month())?;
    let to = parse(to, "to", today)?;
    report::Range::new(from, to)
}

/// Refreshes what the range and its comparison read, then builds the report.
pub async fn report_for(
    state: &AppState,
    site: &Site,
    range: report::Range,
    lang: Lang,
) -> AppResult<Report> {
    let (previous_from, _) = range.previous();
    rollup::refresh(
        &state.db,
        &state.clock,
        site.id,
        previous_from,
        range.to,
        TODAY_MAX_AGE_MS,
    )
    .await?;
    let names = Names::load(state, site.id, lang).await?;
    Ok(report::build(state.db.reader(), &site.code, site.id, range, &names).await?)
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/reports.html")]
struct ReportPage {
    page: Page,
    sites: Vec<Site>,
    site: Site,
    from: String,
    to: String,
    error: Option<String>,
    report: Option<Report>,
    charts: Vec<String>,
    /// (label, from, to) of the quick ranges.
    presets: Vec<(&'static str, String, String)>,
}

impl ReportPage {
    fn export_href(&self, table: &str, format: &str) -> String {
        let mut q = vec![
            ("site", self.site.code.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("format", format),
        ];
        if !table.is_empty() {
            q.push(("table", table));
        }
        format!(
            "/staff/leader/reports/export?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }
    fn headline(&self) -> String {
        self.report
            .as_ref()
            .and_then(|r| r.headline_within_share)
            .map(|s| format!("{s:.1} %"))
            .unwrap_or_else(|| "—".into())
    }
}

fn presets(today: Date, lang: Lang) -> Vec<(&'static str, String, String)> {
    let month = today.first_of_month();
    let last_month_end = month.yesterday().unwrap_or(month);
    let year = today.first_of_year();
    vec![
        (
            lang.pick("今天", "Today"),
            today.to_string(),
            today.to_string(),
        ),
        (
            lang.pick("本月", "This month"),
            month.to_string(),
            today.to_string(),
        ),
        (
            lang.pick("上月", "Last month"),
            last_month_end.first_of_month().to_string(),
            last_month_end.to_string(),
        ),
        (
            lang.pick("今年", "This year"),
            year.to_string(),
            today.to_string(),
        ),
    ]
}

async fn report_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ReportQuery>,
) -> AppResult<ReportPage> {
    actor.grant::<Lead>().ok_or_else(AppError::forbidden)?;
    let (sites, site) = crate::sites::web::duty_sites::<Lead>(&state, &actor, &q.site).await?;
    let lang = page.lang;
    let (report, error, from, to) = match range_of(&state, &q.from, &q.to) {
        Ok(range) => {
            let r = report_for(&state, &site, range, lang).await?;
            (Some(r), None, range.from.to_string(), range.to.to_string())
        }
        Err(e) => (
            None,
            Some(crate::i18n::UserMessage::message(&e, lang)),
            q.from.clone(),
            q.to.clone(),
        ),
    };
    let charts = report
        .as_ref()
        .map(|r| {
            vec![
                charts::volume(&r.daily, lang),
                charts::waits(&r.daily, lang),
                charts::journey(&r.daily, lang),
            ]
        })
        .unwrap_or_default();
    Ok(ReportPage {
        presets: presets(state.clock.today(), lang),
        page,
        sites,
        site,
        from,
        to,
        error,
        report,
        charts,
    })
}

fn attachment(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

async fn export_file(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    actor.grant::<Lead>().ok_or_else(AppError::forbidden)?;
    let (_, site) = crate::sites::web::duty_sites::<Lead>(&state, &actor, &q.site).await?;
    let range = range_of(&state, &q.from, &q.to).map_err(AppError::invalid)?;
    let report = report_for(&state, &site, range, page.lang).await?;
    let tables: Vec<&report::Table> = if q.table.is_empty() {
        report.tables.iter().collect()
    } else {
        vec![
            report
                .tables
                .iter()
                .find(|t| t.id == q.table)
                .ok_or_else(|| AppError::invalid(RangeError::UnknownTable(q.table.clone())))?,
        ]
    };
    let stem = format!(
        "report-{}-{}-{}{}",
        site.code,
        report.from,
        report.to,
        if q.table.is_empty() {
            String::new()
        } else {
            format!("-{}", q.table)
        }
    );
    match q.format.as_str() {
        "xlsx" | "" => {
            let body = export::xlsx(&report, &tables).map_err(AppError::internal)?;
            Ok(attachment(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{stem}.xlsx"),
                body,
            ))
        }
        "csv" => {
            // A CSV holds one table: the one asked for, or the summary.
            let table = tables
                .first()
                .ok_or_else(|| AppError::invalid(RangeError::UnknownTable(q.table.clone())))?;
            let body = export::csv(table).map_err(AppError::internal)?;
            Ok(attachment(
                "text/csv; charset=utf-8",
                &format!("{stem}.csv"),
                body,
            ))
        }
        _ => Err(AppError::invalid(RangeError::UnknownFormat)),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct RangeQuery {
    /// First day, `YYYY-MM-DD`; the first of this month when left out.
    #[serde(default)]
    #[param(format = Date)]
    from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`; today when left out. At most 400 days.
    #[serde(default)]
    #[param(format = Date)]
    to: Option<String>,
}

/// A site's report for a range of days, with the period before for comparison (its duty
/// leaders). Tables carry the same cells as the page and the exports.
#[utoipa::path(get, path = "/api/v1/sites/{code}/reports", tag = "statistics",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code"), RangeQuery),
    responses((status = 200, body = Report), (status = 400, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn api_report(
    State(state): State<AppState>,
    lang: Lang,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
    Query(q): Query<RangeQuery>,
) -> AppResult<axum::Json<Report>> {
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    if !actor.may::<Lead>(site.id) {
        return Err(AppError::forbidden());
    }
    let range = range_of(
        &state,
        q.from.as_deref().unwrap_or_default(),
        q.to.as_deref().unwrap_or_default(),
    )
    .map_err(AppError::invalid)?;
    Ok(axum::Json(report_for(&state, &site, range, lang).await?))
}
