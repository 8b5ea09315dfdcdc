//! Pages and API of the daily callbacks: the callback staff's list for today, the audited
//! reveal of a phone number, the script with each attempt's outcome; the citizen's "no
//! callbacks, please" on the progress page lives with the progress page.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AttemptInput, CallbackError, ItemStatus, ItemView, ListRow, Outcome, QuestionKind};
use crate::auth::Failure;
use crate::auth::grant::MakeCallbacks;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Json, Path, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/staff/callbacks", get(list_page))
        .route("/staff/callbacks/items/{id}/phone", post(phone_reveal))
        .route("/staff/callbacks/items/{id}/attempts", post(attempt_submit))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_script))
        .routes(routes!(api_list))
        .routes(routes!(api_phone))
        .routes(routes!(api_attempt))
}

/// A script question as the page shows it.
pub struct QuestionView {
    pub id: String,
    pub text: String,
    pub choice: bool,
    pub required: bool,
    pub options: Vec<(String, String)>,
}

fn questions(lang: Lang) -> Vec<QuestionView> {
    super::script()
        .iter()
        .map(|q| QuestionView {
            id: q.id.clone(),
            text: q.text(lang).to_string(),
            choice: q.kind == QuestionKind::Choice,
            required: q.required,
            options: q
                .options
                .iter()
                .map(|o| (o.value.clone(), o.text(lang).to_string()))
                .collect(),
        })
        .collect()
}

/// One recorded attempt as the page shows it.
pub struct AttemptLine {
    pub label: String,
    pub at: String,
    pub outcome: &'static str,
    pub note: String,
}

/// A citizen on the list as the page shows it.
pub struct ItemLine {
    pub id: i64,
    pub application_no: String,
    pub name: String,
    /// Masked unless revealed on this request.
    pub phone: String,
    pub revealed: bool,
    pub officer: String,
    pub status: String,
    pub open: bool,
    pub declined: bool,
    pub attempts: Vec<AttemptLine>,
    /// The recorded answers: (question, answer).
    pub answers: Vec<(String, String)>,
    /// Why this item's last attempt was refused (the form stays open with it).
    pub error: Option<String>,
}

/// The stored answers of a reached call (written by us: JSON that does not parse is a fault).
fn stored_answers(answers: Option<&str>) -> AppResult<Option<BTreeMap<String, String>>> {
    answers
        .map(|a| serde_json::from_str::<BTreeMap<String, String>>(a).map_err(AppError::internal))
        .transpose()
}

fn answer_lines(map: Option<BTreeMap<String, String>>, lang: Lang) -> Vec<(String, String)> {
    let Some(map) = map else {
        return Vec::new();
    };
    super::script()
        .iter()
        .filter_map(|q| {
            let given = map.get(&q.id)?;
            let shown = q
                .options
                .iter()
                .find(|o| &o.value == given)
                .map(|o| o.text(lang).to_string())
                .unwrap_or_else(|| given.clone());
            Some((q.text(lang).to_string(), shown))
        })
        .collect()
}

fn item_line(
    v: ItemView,
    lang: Lang,
    revealed: Option<&(i64, String)>,
    error: Option<&(i64, String)>,
) -> AppResult<ItemLine> {
    let answers = answer_lines(stored_answers(v.item.answers.as_deref())?, lang);
    let attempts = v
        .attempts
        .iter()
        .map(|a| AttemptLine {
            label: match lang {
                Lang::ZhCn => format!("第{}次", a.attempt),
                Lang::En => format!("Attempt {}", a.attempt),
            },
            at: crate::clock::format_local_minute(a.at),
            outcome: a.outcome.name(lang),
            note: a.note.clone(),
        })
        .collect();
    let (phone, is_revealed) = match revealed {
        Some((id, p)) if *id == v.item.id => (p.clone(), true),
        _ => (v.masked_phone.clone(), false),
    };
    Ok(ItemLine {
        id: v.item.id,
        application_no: v.application_no,
        name: v.masked_name,
        phone,
        revealed: is_revealed,
        officer: v
            .officer
            .map(|(n, b)| format!("{n} ({b})"))
            .unwrap_or_default(),
        status: v.item.status.name(lang).to_string(),
        open: v.item.status == ItemStatus::Pending,
        declined: v.declined,
        attempts,
        answers,
        error: error
            .filter(|(id, _)| *id == v.item.id)
            .map(|(_, e)| e.clone()),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/callbacks.html")]
struct ListPage {
    page: Page,
    sites: Vec<Site>,
    site: Site,
    list: Option<ListRow>,
    /// Why there is no list today.
    no_list: Option<String>,
    items: Vec<ItemLine>,
    questions: Vec<QuestionView>,
    done: usize,
    error: Option<String>,
    ok: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ListQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    ok: Option<String>,
    /// The item the error or the confirmation is about.
    #[serde(default)]
    item: Option<String>,
}

/// What the previous step left to say, and about which item.
#[derive(Default)]
struct Notice {
    error: Option<String>,
    ok: bool,
    item: Option<i64>,
}

async fn render(
    state: &AppState,
    page: Page,
    actor: &crate::auth::Actor,
    site_code: &str,
    revealed: Option<(i64, String)>,
    notice: Notice,
) -> AppResult<ListPage> {
    let Notice { error, ok, item } = notice;
    let lang = page.lang;
    let grant = super::caller(actor)?;
    let (sites, site) =
        crate::sites::web::duty_sites::<MakeCallbacks>(state, actor, site_code).await?;
    let ctx = state.callbacks();
    let (list, no_list) = match super::list_for_day(&ctx, &grant, site.id, state.clock.today())
        .await
    {
        Ok(l) => (Some(l), None),
        Err(Failure::Refused(e @ CallbackError::NotWorkingDay)) => (None, Some(e.message(lang))),
        Err(e) => return Err(e.into()),
    };
    // An error about one item is shown in it; any other at the top.
    let (item_error, error) = match (item, error) {
        (Some(id), Some(e)) => (Some((id, e)), None),
        (_, e) => (None, e),
    };
    let mut items = Vec::new();
    if let Some(l) = &list {
        for v in super::items(&ctx, l).await? {
            items.push(item_line(v, lang, revealed.as_ref(), item_error.as_ref())?);
        }
    }
    let done = items.iter().filter(|i| !i.open).count();
    Ok(ListPage {
        page,
        sites,
        site,
        list,
        no_list,
        items,
        questions: questions(lang),
        done,
        error,
        ok,
    })
}

async fn list_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<ListPage> {
    render(
        &state,
        page,
        &actor,
        &q.site,
        None,
        Notice {
            error: q.error.filter(|e| !e.is_empty()),
            ok: q.ok.is_some(),
            item: q.item.and_then(|i| i.parse().ok()),
        },
    )
    .await
}

#[derive(Debug, Default, serde::Deserialize)]
struct SiteForm {
    #[serde(default)]
    site: String,
}

/// Shows one phone number in full on the page this POST returns (never in a URL); audited.
async fn phone_reveal(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    crate::web::extract::Form(f): crate::web::extract::Form<SiteForm>,
) -> AppResult<ListPage> {
    let grant = super::caller(&actor)?;
    let phone = super::reveal_phone(&state.callbacks(), &grant, id).await?;
    render(
        &state,
        page,
        &actor,
        &f.site,
        Some((id, phone)),
        Notice::default(),
    )
    .await
}

/// Back to the list, at the item the answer is about.
fn back_to(site: &str, item: i64, key: &str, value: &str) -> Response {
    let q =
        serde_urlencoded::to_string([("site", site), ("item", &item.to_string()), (key, value)])
            .unwrap_or_default();
    Redirect::to(&format!("/staff/callbacks?{q}#callback-{item}")).into_response()
}

/// The attempt form: `outcome`, one field per script question (`q_<id>`), `note`,
/// `decline_contact`. Read from pairs, so unknown fields are simply ignored.
async fn attempt_submit(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    crate::web::extract::Form(pairs): crate::web::extract::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let lang = page.lang;
    let grant = super::caller(&actor)?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let site = field("site");
    let Some(outcome) = Outcome::parse(&field("outcome")) else {
        let why = lang.pick("请选择本次回访的结果。", "Choose how this call ended.");
        return Ok(back_to(&site, id, "error", why));
    };
    let answers = pairs
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("q_")?.to_string(), v.clone())))
        .collect();
    let input = AttemptInput {
        outcome,
        answers,
        note: field("note"),
        decline_contact: field("decline_contact") == "yes",
    };
    match super::record_attempt(&state.callbacks(), &grant, id, &input).await {
        Ok(_) => Ok(back_to(&site, id, "ok", "1")),
        Err(Failure::Refused(e)) => Ok(back_to(&site, id, "error", &e.message(lang))),
        Err(e) => Err(e.into()),
    }
}

// ---- JSON API -------------------------------------------------------------------------------

/// A script question.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionJson {
    pub id: String,
    /// `choice` or `text`.
    pub kind: String,
    pub required: bool,
    pub text: String,
    /// For `choice`: the values the answer may take, with their texts.
    pub options: Vec<OptionJson>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OptionJson {
    pub value: String,
    pub text: String,
}

/// The callback script (in the request's language).
#[utoipa::path(get, path = "/api/v1/callbacks/script", tag = "callbacks",
    responses((status = 200, body = Vec<QuestionJson>)))]
async fn api_script(lang: Lang, Staff(actor): Staff) -> AppResult<axum::Json<Vec<QuestionJson>>> {
    super::caller(&actor)?;
    Ok(axum::Json(
        super::script()
            .iter()
            .map(|q| QuestionJson {
                id: q.id.clone(),
                kind: match q.kind {
                    QuestionKind::Choice => "choice".into(),
                    QuestionKind::Text => "text".into(),
                },
                required: q.required,
                text: q.text(lang).to_string(),
                options: q
                    .options
                    .iter()
                    .map(|o| OptionJson {
                        value: o.value.clone(),
                        text: o.text(lang).to_string(),
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// A citizen on the list (name and phone masked).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemJson {
    pub id: i64,
    pub application_no: String,
    pub name: String,
    pub phone: String,
    /// The officer who served them: "name (badge)".
    pub officer: Option<String>,
    pub status: ItemStatus,
    pub attempts: i64,
    /// Question id → answer, once reached.
    pub answers: Option<BTreeMap<String, String>>,
}

/// Today's callback list of a site.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListJson {
    #[schema(format = Date)]
    pub day: String,
    /// The working day whose citizens were drawn.
    #[schema(format = Date)]
    pub served_day: String,
    /// The recorded seed: the sample is drawn again from it.
    pub seed: String,
    pub sample_size: i64,
    /// Citizens served that day who could be called.
    pub population: i64,
    pub items: Vec<ItemJson>,
}

/// Today's callback list of a site, drawn on first asking (one per site and working day).
#[utoipa::path(get, path = "/api/v1/sites/{code}/callbacks", tag = "callbacks",
    params(("code" = crate::web::fields::SiteCodeText, Path, description = "Site code")),
    responses((status = 200, body = ListJson), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn api_list(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(code): Path<crate::web::fields::SiteCodeText>,
) -> AppResult<axum::Json<ListJson>> {
    let grant = super::caller(&actor)?;
    let site = crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let ctx = state.callbacks();
    let list = super::list_for_day(&ctx, &grant, site.id, state.clock.today()).await?;
    let mut items = Vec::new();
    for v in super::items(&ctx, &list).await? {
        items.push(ItemJson {
            answers: stored_answers(v.item.answers.as_deref())?,
            id: v.item.id,
            application_no: v.application_no,
            name: v.masked_name,
            phone: v.masked_phone,
            officer: v.officer.map(|(n, b)| format!("{n} ({b})")),
            status: v.item.status,
            attempts: v.item.attempts,
        });
    }
    Ok(axum::Json(ListJson {
        day: list.day,
        served_day: list.served_day,
        seed: list.seed,
        sample_size: list.sample_size,
        population: list.population,
        items,
    }))
}

/// The phone number to dial.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhoneJson {
    pub phone: String,
}

/// Reveals a listed citizen's phone number to the caller; every reveal is in the audit log.
#[utoipa::path(post, path = "/api/v1/callbacks/{id}/phone", tag = "callbacks",
    params(("id" = i64, Path, description = "Callback item id")),
    responses((status = 200, body = PhoneJson), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
async fn api_phone(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
) -> AppResult<axum::Json<PhoneJson>> {
    let grant = super::caller(&actor)?;
    let phone = super::reveal_phone(&state.callbacks(), &grant, id).await?;
    Ok(axum::Json(PhoneJson { phone }))
}

/// Records one call attempt (three at most per citizen).
#[utoipa::path(post, path = "/api/v1/callbacks/{id}/attempts", tag = "callbacks",
    params(("id" = i64, Path, description = "Callback item id")), request_body = AttemptInput,
    responses((status = 200, body = ItemStatus), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn api_attempt(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Json(b): Json<AttemptInput>,
) -> AppResult<axum::Json<ItemStatus>> {
    let grant = super::caller(&actor)?;
    let item = super::record_attempt(&state.callbacks(), &grant, id, &b).await?;
    Ok(axum::Json(item.status))
}
