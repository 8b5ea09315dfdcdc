//! Calendar API: the arrangement of a year as in force (public), and the administrators' entry
//! of the State Council's notice (JSON; the page is [`super::pages`]).

use crate::web::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{CalendarAdminError, Entered, NoticeInput, YearView};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Json, Staff};

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_year))
        .routes(routes!(api_enter_notice))
}

/// A year's holiday arrangement as in force: the entered notice, the shipped file, or the
/// provisional statutory days (`provisional: true`).
#[utoipa::path(get, path = "/api/v1/calendar/years/{year}", tag = "public",
    params(("year" = i16, Path, minimum = 2025, maximum = 2100)),
    responses((status = 200, body = YearView), (status = 404, body = crate::error::ErrorBody)))]
async fn api_year(
    State(state): State<AppState>,
    Path(year): Path<i16>,
) -> AppResult<axum::Json<YearView>> {
    super::year_view(&state.calendar.current(), year)
        .map(axum::Json)
        .ok_or_else(AppError::not_found)
}

/// Enters the State Council's notice for a year (a new version when the year has one, with a
/// reason); in force at once on every node; promised dates it moves are recomputed and their
/// citizens texted. Administrators of every site.
#[utoipa::path(post, path = "/api/v1/admin/calendar/years/{year}", tag = "administration",
    params(("year" = i16, Path)), request_body = NoticeInput,
    responses((status = 201, body = Entered), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn api_enter_notice(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(year): Path<i16>,
    Json(input): Json<NoticeInput>,
) -> AppResult<Response> {
    let admin = actor.any_admin().ok_or_else(AppError::forbidden)?;
    if input.arrangement.year != year {
        return Err(AppError::invalid(CalendarAdminError::YearMismatch));
    }
    let entered = super::enter_notice(&state.calendar_admin(), admin, input).await?;
    Ok((StatusCode::CREATED, axum::Json(entered)).into_response())
}
