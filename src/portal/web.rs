//! Home page and the public working-day calendar API.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::web::{DocumentGroup, groups};
use crate::domain::calendar::CountingRules;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::web::AppState;
use crate::web::extract::Query;
use crate::web::layout::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .merge(crate::catalog::web::pages())
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_working_days))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct Home {
    page: Page,
    groups: Vec<DocumentGroup>,
}

async fn home(State(state): State<AppState>, page: Page) -> Home {
    Home {
        groups: groups(&state.catalog, page.lang),
        page,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
struct WorkingDaysQuery {
    /// The start date (e.g. the acceptance date), YYYY-MM-DD; it is not counted.
    #[param(format = Date)]
    from: String,
    /// Working days to add (0–365).
    #[param(maximum = 365)]
    days: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
struct WorkingDaysAnswer {
    #[schema(format = Date)]
    from: String,
    days: u32,
    /// The `days`-th working day after `from`.
    #[schema(format = Date)]
    date: String,
    /// The count reached a year without the State Council's notice: the date is computed from
    /// the statutory holidays and may move when the notice is entered.
    provisional: bool,
    /// Whether 调休 weekend working days were counted (a setting).
    counted_adjusted_workdays: bool,
}

/// Adds working days on the holiday calendar (holidays and 调休 included); a year without the
/// State Council's notice is counted on the statutory holidays and the answer says
/// `provisional`; a year the statute does not reach is refused, never guessed.
#[utoipa::path(get, path = "/api/v1/calendar/working-days", tag = "public", params(WorkingDaysQuery),
    responses((status = 200, body = WorkingDaysAnswer), (status = 422, body = crate::error::ErrorBody)))]
async fn api_working_days(
    State(state): State<AppState>,
    _lang: Lang,
    Query(q): Query<WorkingDaysQuery>,
) -> AppResult<axum::Json<WorkingDaysAnswer>> {
    let from: jiff::civil::Date = q
        .from
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(BadDate(q.from.clone())))?;
    if q.days > 365 {
        return Err(AppError::bad_request("days must be 0–365"));
    }
    let rules = CountingRules {
        count_adjusted_workdays: state.config.count_adjusted_workdays,
    };
    let reckoned = state
        .calendar
        .current()
        .add_working_days(from, q.days, &rules)
        .map_err(AppError::invalid)?;
    Ok(axum::Json(WorkingDaysAnswer {
        from: from.to_string(),
        days: q.days,
        date: reckoned.date.to_string(),
        provisional: reckoned.provisional,
        counted_adjusted_workdays: rules.count_adjusted_workdays,
    }))
}

/// A date that is not a real `YYYY-MM-DD` date.
#[derive(Debug)]
pub struct BadDate(pub String);

impl UserMessage for BadDate {
    fn code(&self) -> &'static str {
        "date.invalid"
    }
    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::ZhCn => format!(
                "“{}”不是有效日期，请按 年-月-日（如 2026-02-12）填写。",
                self.0
            ),
            Lang::En => format!(
                "\"{}\" is not a valid date; use YYYY-MM-DD (e.g. 2026-02-12).",
                self.0
            ),
        }
    }
}
