//! Page and API of the staffing planner: the duty leader picks a site and a day and sees, per
//! line and opening hour, the arrivals to expect, the windows needed for the wait target, and
//! the windows the line had with the waits each rota gives.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::plan::{self, LinePlan, Question, Targets};
use crate::auth::grant::Lead;
use crate::error::{AppError, AppResult};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Path, Query, Staff};
use crate::web::layout::Page;

/// Hand-entered arrivals per line: (hour, count).
pub type Entered = std::collections::BTreeMap<String, Vec<(u8, f64)>>;

fn entered(state: &AppState, text: &str) -> Result<Entered, plan::EnteredError> {
    let codes: Vec<&str> = state.lines.all().iter().map(|l| l.code.as_str()).collect();
    plan::parse_entered(text, &codes)
}

pub fn pages() -> Router<AppState> {
    Router::new().route("/staff/leader/staffing", get(plan_page))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_plan))
}

/// A day's staffing plan for a site.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayPlan {
    pub site: String,
    #[schema(format = Date)]
    pub date: String,
    /// Closed that day: no hours to plan.
    pub open: bool,
    pub targets: Targets,
    pub lines: Vec<LinePlan>,
}

/// Plans every business line of `site` on `date`.
pub async fn day_plan(
    state: &AppState,
    site: &Site,
    date: jiff::civil::Date,
    entered: &Entered,
) -> AppResult<DayPlan> {
    let calendar = state.calendar.current();
    // A year the calendar does not cover is said so, not planned as a closed day.
    let periods = crate::domain::opening::openings_on(&site.opening_rules, &calendar, date)
        .map(|d| d.periods().to_vec())
        .map_err(AppError::invalid)?;
    let hours = plan::opening_hours(&periods);
    let targets = Targets {
        share: state.config.staffing_target_share,
        wait_minutes: state.config.staffing_target_wait_minutes,
    };
    let mut lines = Vec::new();
    if !hours.is_empty() {
        for line in state.lines.all() {
            let q = Question {
                site_id: site.id,
                line: &line.code,
                date,
                hours: &hours,
                entered: entered
                    .get(&line.code)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            };
            lines.push(
                plan::plan_line(
                    state.db.reader(),
                    &calendar,
                    q,
                    targets,
                    state.config.max_wait_minutes as f64,
                )
                .await?,
            );
        }
    }
    Ok(DayPlan {
        site: site.code.clone(),
        date: date.to_string(),
        open: !hours.is_empty(),
        targets,
        lines,
    })
}

#[derive(Debug, Default, Deserialize)]
struct PlanQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    expected: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/staffing.html")]
struct PlanPage {
    page: Page,
    sites: Vec<Site>,
    site: Site,
    date: String,
    expected: String,
    plan: Option<DayPlan>,
    error: Option<String>,
    /// (code, name) of every business line.
    names: Vec<(String, String)>,
}

impl PlanPage {
    fn line_name(&self, code: &str) -> String {
        self.names
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| code.to_string())
    }
    fn percent(&self, share: &Option<f64>) -> String {
        share
            .map(|s| format!("{:.0} %", s * 100.0))
            .unwrap_or_else(|| "—".into())
    }
    fn target_percent(&self, t: &Targets) -> String {
        format!("{:.0} %", t.share * 100.0)
    }
}

fn parse_date(s: &str, state: &AppState) -> Option<jiff::civil::Date> {
    match s.trim() {
        "" => Some(state.clock.today()),
        d => d.parse().ok(),
    }
}

async fn plan_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<PlanQuery>,
) -> AppResult<PlanPage> {
    actor.grant::<Lead>().ok_or_else(AppError::forbidden)?;
    let (sites, site) = crate::sites::web::duty_sites::<Lead>(&state, &actor, &q.site).await?;
    let (plan, error, date) = match parse_date(&q.date, &state) {
        Some(d) => match entered(&state, &q.expected) {
            Ok(by_hand) => (
                Some(day_plan(&state, &site, d, &by_hand).await?),
                None,
                d.to_string(),
            ),
            Err(e) => (
                None,
                Some(crate::i18n::UserMessage::message(&e, page.lang)),
                d.to_string(),
            ),
        },
        None => (
            None,
            Some(
                page.pick("日期格式应为 2026-12-03。", "Dates look like 2026-12-03.")
                    .to_string(),
            ),
            q.date.clone(),
        ),
    };
    let names = state
        .lines
        .all()
        .iter()
        .map(|l| (l.code.clone(), l.name(page.lang).to_string()))
        .collect();
    Ok(PlanPage {
        names,
        page,
        sites,
        site,
        date,
        expected: q.expected,
        plan,
        error,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct DateQuery {
    /// `YYYY-MM-DD`; today when left out.
    #[serde(default)]
    #[param(format = Date)]
    date: Option<String>,
    /// Arrivals per hour entered by hand, replacing the history's figure for those hours:
    /// `line:hour=count,hour=count;line:…`, e.g. `first_issue:9=40,10=55`.
    #[serde(default)]
    expected: Option<String>,
}

/// The staffing plan of a site for a day (its duty leaders).
#[utoipa::path(get, path = "/api/v1/sites/{code}/staffing", tag = "statistics",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code"), DateQuery),
    responses((status = 200, body = DayPlan), (status = 400, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn api_plan(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
    Query(q): Query<DateQuery>,
) -> AppResult<axum::Json<DayPlan>> {
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    if !actor.may::<Lead>(site.id) {
        return Err(AppError::forbidden());
    }
    let date = parse_date(q.date.as_deref().unwrap_or_default(), &state)
        .ok_or_else(|| AppError::bad_request("date: YYYY-MM-DD"))?;
    let by_hand =
        entered(&state, q.expected.as_deref().unwrap_or_default()).map_err(AppError::invalid)?;
    Ok(axum::Json(day_plan(&state, &site, date, &by_hand).await?))
}
