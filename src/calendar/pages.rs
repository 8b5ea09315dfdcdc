//! The administrators' calendar pages: each year's arrangement as in force, its versions with
//! what entering each one changed, and the form that enters the State Council's notice as it
//! reads (one row per statutory festival, the 调休 days, the notice's reference).

use std::collections::HashMap;

use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use jiff::civil::Date;
use serde::Deserialize;

use super::{CalendarAdminError, Report, YearView, store};
use crate::auth::{Actor, Failure};
use crate::domain::calendar::{Arrangement, Break, Notice};
use crate::domain::statutory::Festival;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::web::AppState;
use crate::web::extract::{Form, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(years_page))
        .route("/admin/calendar/{year}", get(year_page).post(enter_notice))
}

/// The years an administrator can look at and enter: this one and the next two (a notice is
/// published for the next year; an amendment may come during the year).
fn years_open(state: &AppState) -> std::ops::RangeInclusive<i16> {
    let this = state.clock.today().year();
    this..=this.saturating_add(2)
}

/// One year in the list.
struct YearRow {
    year: i16,
    view: Option<YearView>,
    versions: usize,
}

impl YearRow {
    fn source(&self, lang: Lang) -> String {
        source_label(self.view.as_ref(), lang)
    }
}

fn source_label(view: Option<&YearView>, lang: Lang) -> String {
    match view.map(|v| (v.source.as_str(), v.version)) {
        Some(("entered", Some(n))) => match lang {
            Lang::ZhCn => format!("已录入通知（第{n}版）"),
            Lang::En => format!("Notice entered (version {n})"),
        },
        Some(("file", _)) => lang
            .pick("随系统发布的通知", "Notice shipped with the system")
            .into(),
        Some(_) => lang
            .pick(
                "暂定：按法定节假日推算，待国务院通知",
                "Provisional: statutory holidays only, until the State Council's notice",
            )
            .into(),
        None => lang.pick("无", "None").into(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/calendar.html")]
struct YearsPage {
    page: Page,
    years: Vec<YearRow>,
}

async fn years_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<YearsPage> {
    actor.admin().ok_or_else(AppError::forbidden)?;
    let calendar = state.calendar.current();
    let mut years = Vec::new();
    for year in years_open(&state) {
        years.push(YearRow {
            year,
            view: super::year_view(&calendar, year),
            versions: store::versions(state.db.reader(), i64::from(year))
                .await?
                .len(),
        });
    }
    Ok(YearsPage { page, years })
}

/// One festival's row of the form.
struct FestivalRow {
    code: &'static str,
    name: &'static str,
    start: String,
    end: String,
}

/// The form as entered (or as prefilled from the arrangement in force).
struct NoticeForm {
    title: String,
    document_number: String,
    published: String,
    source: String,
    festivals: Vec<FestivalRow>,
    /// 调休 days, one per line.
    adjusted: String,
    note: String,
}

/// An entered version as the history shows it.
struct VersionRow {
    version: i64,
    entered_at: String,
    entered_by: String,
    note: String,
    title: String,
    document_number: String,
    report: Option<Report>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/calendar_year.html")]
struct YearPage {
    page: Page,
    year: i16,
    source: String,
    view: Option<YearView>,
    /// The signed-in administrator may enter a notice (administrators of every site only).
    can_enter: bool,
    form: NoticeForm,
    versions: Vec<VersionRow>,
    message: Option<String>,
    error: Option<String>,
}

impl YearPage {
    fn days(h: &super::HolidayView) -> i64 {
        (h.end - h.start).get_days() as i64 + 1
    }
}

#[derive(Debug, Default, Deserialize)]
struct Entered {
    entered: Option<i64>,
}

fn prefill(view: Option<&YearView>, year: i16, lang: Lang) -> NoticeForm {
    let notice = view.and_then(|v| v.notice.clone());
    let festivals = Festival::ALL
        .into_iter()
        .map(|f| {
            let h = view.and_then(|v| v.holidays.iter().find(|h| h.festivals.contains(&f)));
            FestivalRow {
                code: f.code(),
                name: f.name(lang),
                start: h.map(|h| h.start.to_string()).unwrap_or_default(),
                end: h.map(|h| h.end.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    NoticeForm {
        title: notice
            .as_ref()
            .map(|n| n.title.clone())
            .unwrap_or_else(|| format!("国务院办公厅关于{year}年部分节假日安排的通知")),
        document_number: notice
            .as_ref()
            .and_then(|n| n.document_number.clone())
            .unwrap_or_default(),
        published: notice
            .as_ref()
            .map(|n| n.published.to_string())
            .unwrap_or_default(),
        source: notice
            .as_ref()
            .and_then(|n| n.source.clone())
            .unwrap_or_default(),
        festivals,
        adjusted: view
            .map(|v| {
                v.adjusted_workdays
                    .iter()
                    .map(Date::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        note: String::new(),
    }
}

/// The form back from the browser, as typed (re-shown on a refusal).
fn form_as_typed(f: &HashMap<String, String>, lang: Lang) -> NoticeForm {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    NoticeForm {
        title: get("title"),
        document_number: get("document_number"),
        published: get("published"),
        source: get("source"),
        festivals: Festival::ALL
            .into_iter()
            .map(|fe| FestivalRow {
                code: fe.code(),
                name: fe.name(lang),
                start: get(&format!("{}_start", fe.code())),
                end: get(&format!("{}_end", fe.code())),
            })
            .collect(),
        adjusted: get("adjusted"),
        note: get("note"),
    }
}

fn date_field(value: &str, label: &str) -> Result<Date, CalendarAdminError> {
    value
        .parse::<Date>()
        .map_err(|_| CalendarAdminError::BadDate {
            field: label.to_owned(),
            value: value.to_owned(),
        })
}

/// The arrangement the form describes. Festivals given the same days are one break (国庆节、
/// 中秋节 in 2025); a festival left empty is left out, for the checks to name it.
fn arrangement_of(form: &NoticeForm, year: i16) -> Result<Arrangement, CalendarAdminError> {
    let published = date_field(&form.published, "通知日期 / date of the notice")?;
    let mut holidays: Vec<Break> = Vec::new();
    for (row, festival) in form.festivals.iter().zip(Festival::ALL) {
        if row.start.is_empty() && row.end.is_empty() {
            continue;
        }
        let start = date_field(&row.start, festival.name_zh())?;
        let end = if row.end.is_empty() {
            start
        } else {
            date_field(&row.end, festival.name_zh())?
        };
        match holidays
            .iter_mut()
            .find(|b| b.start == start && b.end == end)
        {
            Some(b) => b.festivals.push(festival),
            None => holidays.push(Break {
                festivals: vec![festival],
                start,
                end,
            }),
        }
    }
    let adjusted_workdays = form
        .adjusted
        .split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == '、')
        .filter(|s| !s.is_empty())
        .map(|s| date_field(s, "调休上班日 / weekend working day"))
        .collect::<Result<Vec<_>, _>>()?;
    let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Ok(Arrangement {
        year,
        notice: Notice {
            title: form.title.clone(),
            document_number: optional(&form.document_number),
            published,
            source: optional(&form.source),
        },
        holidays,
        adjusted_workdays,
    })
}

async fn versions(state: &AppState, year: i16) -> AppResult<Vec<VersionRow>> {
    let mut out = Vec::new();
    for row in store::versions(state.db.reader(), i64::from(year)).await? {
        // A stored version or report that does not read is our own data gone wrong: the page
        // still lists the version (it is kept out of the calendar and reported in /healthz), says
        // so, and logs it.
        let notice = match serde_json::from_str::<Arrangement>(&row.arrangement) {
            Ok(a) => Some(a.notice),
            Err(e) => {
                tracing::error!(year, version = row.version, error = %e, "a stored holiday notice does not read");
                None
            }
        };
        let report = match store::report(state.db.reader(), row.id).await? {
            Some(r) => match serde_json::from_str::<Report>(&r) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::error!(year, version = row.version, error = %e, "a stored calendar report does not read");
                    None
                }
            },
            None => None,
        };
        let unreadable = notice.is_none();
        out.push(VersionRow {
            version: row.version,
            entered_at: crate::clock::format_local_minute(row.entered_at),
            entered_by: row.entered_by_name.unwrap_or_default(),
            note: row.note,
            title: match &notice {
                Some(n) => n.title.clone(),
                None if unreadable => {
                    "⚠ 此版本无法读取，未生效 / this version cannot be read and is not in force"
                        .into()
                }
                None => String::new(),
            },
            document_number: notice.and_then(|n| n.document_number).unwrap_or_default(),
            report,
        });
    }
    Ok(out)
}

async fn render_year(
    state: &AppState,
    page: Page,
    actor: &Actor,
    year: i16,
    form: Option<NoticeForm>,
    message: Option<String>,
    error: Option<String>,
) -> AppResult<YearPage> {
    if !years_open(state).contains(&year) && state.calendar.current().year(year).is_none() {
        return Err(AppError::not_found());
    }
    let view = super::year_view(&state.calendar.current(), year);
    let lang = page.lang;
    Ok(YearPage {
        year,
        source: source_label(view.as_ref(), lang),
        can_enter: actor.any_admin().is_some() && years_open(state).contains(&year),
        form: form.unwrap_or_else(|| prefill(view.as_ref(), year, lang)),
        versions: versions(state, year).await?,
        view,
        message,
        error,
        page,
    })
}

async fn year_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(year): Path<i16>,
    Query(q): Query<Entered>,
) -> AppResult<YearPage> {
    actor.admin().ok_or_else(AppError::forbidden)?;
    let message = q.entered.map(|v| match page.lang {
        Lang::ZhCn => format!("第{v}版已录入，即时生效；变化见下方版本记录。"),
        Lang::En => format!(
            "Version {v} is entered and in force; what it changed is in the versions below."
        ),
    });
    render_year(&state, page, &actor, year, None, message, None).await
}

async fn enter_notice(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(year): Path<i16>,
    Form(fields): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    actor.admin().ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    let form = form_as_typed(&fields, lang);
    let outcome = match (actor.any_admin(), arrangement_of(&form, year)) {
        (None, _) => Err(Failure::Refused(CalendarAdminError::AllSitesOnly)),
        (Some(_), Err(e)) => Err(Failure::Refused(e)),
        (Some(admin), Ok(arrangement)) => {
            let input = super::NoticeInput {
                arrangement,
                note: form.note.clone(),
            };
            super::enter_notice(&state.calendar_admin(), admin, input).await
        }
    };
    match outcome {
        Ok(entered) => Ok(Redirect::to(&format!(
            "/admin/calendar/{year}?entered={}",
            entered.version
        ))
        .into_response()),
        Err(Failure::Refused(e)) => {
            let status = match e {
                CalendarAdminError::AllSitesOnly => StatusCode::FORBIDDEN,
                CalendarAdminError::Concurrent => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let error = e.message(lang);
            let page =
                render_year(&state, page, &actor, year, Some(form), None, Some(error)).await?;
            Ok((status, page).into_response())
        }
        Err(other) => Err(AppError::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(rows: &[(&str, &str)], adjusted: &str) -> NoticeForm {
        NoticeForm {
            title: "国务院办公厅关于2027年部分节假日安排的通知".into(),
            document_number: String::new(),
            published: "2026-11-20".into(),
            source: String::new(),
            festivals: Festival::ALL
                .into_iter()
                .zip(rows.iter().chain(std::iter::repeat(&("", ""))))
                .map(|(f, (s, e))| FestivalRow {
                    code: f.code(),
                    name: f.name_zh(),
                    start: (*s).into(),
                    end: (*e).into(),
                })
                .collect(),
            adjusted: adjusted.into(),
            note: String::new(),
        }
    }

    #[test]
    fn festivals_on_the_same_days_are_one_break_and_one_day_needs_no_end() {
        let rows = [
            ("2027-01-01", ""),
            ("2027-02-05", "2027-02-12"),
            ("2027-04-03", "2027-04-05"),
            ("2027-05-01", "2027-05-05"),
            ("2027-06-09", "2027-06-11"),
            ("2027-10-01", "2027-10-08"),
            ("2027-10-01", "2027-10-08"),
        ];
        let a = arrangement_of(&form(&rows, "2027-02-20，2027-10-09\n"), 2027).expect("parsed");
        assert_eq!(a.holidays.len(), 6);
        assert_eq!(a.holidays[0].start, a.holidays[0].end);
        assert_eq!(
            a.holidays[5].festivals,
            vec![Festival::MidAutumn, Festival::NationalDay]
        );
        assert_eq!(a.adjusted_workdays.len(), 2);
    }

    #[test]
    fn a_bad_date_names_its_field() {
        let e = arrangement_of(&form(&[("2027-13-01", "")], ""), 2027).expect_err("refused");
        assert!(
            e.message(Lang::ZhCn).contains("元旦"),
            "{}",
            e.message(Lang::ZhCn)
        );
        assert!(e.message(Lang::En).contains("2027-13-01"));
    }
}
