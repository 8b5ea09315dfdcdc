//! Pages and API of the one form and acceptance: the form on the kiosk and the phone, the
//! printed form with its Code 128 barcode, the ID-card reader simulator, the acceptance
//! workstation, the receipt, the one-time notice, the refusal notice, the watch-list import
//! and the duty leader's alerts.

use crate::auth::grant::{Intake, Lead, ReadDossier};
use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rules::{DocumentRequest, Guardian, OldDocument};
use super::{
    Acceptance, ApplicationError, Channel, CheckOutcome, Delivery, Dossier, FormInput, Status,
    store,
};
use crate::auth::{Actor, Failure};
use crate::catalog::{ApplicationCategory, DocumentType, TimeLimitClass};
use crate::devices::CaptureKind;
use crate::domain::application_no::ApplicationNo;
use crate::domain::document_number::DocumentNumber;
use crate::domain::id_number::IdNumber;
use crate::domain::money::Money;
use crate::domain::phone::PhoneNumber;
use crate::error::{AppError, AppResult};
use crate::i18n::BadValue;
use crate::i18n::{Lang, UserMessage};
use crate::sites::{Site, SiteKind};
use crate::web::AppState;
use crate::web::extract::{Form, Json, Query, Staff};
use crate::web::layout::Page;
mod form;
pub use form::*;
mod api;
pub use api::*;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/kiosk/{site}/form", get(kiosk_form))
        .route("/m/form", get(mobile_form))
        .route("/forms", post(submit_form_page))
        .route("/forms/{token}", get(printed_form))
        .route("/forms/{token}/barcode.svg", get(barcode))
        .route("/r/{token}", get(citizen_receipt))
        .route(
            "/staff/acceptance",
            get(acceptance_home).post(acceptance_open),
        )
        .route("/staff/acceptance/{no}", get(workstation))
        .route("/staff/acceptance/{no}/receipt", get(staff_receipt))
        .route("/staff/acceptance/{no}/notice", get(notice_page))
        .route("/staff/acceptance/{no}/refusal", get(refusal_page))
        .route("/staff/acceptance/{no}/{action}", post(workstation_action))
        .route("/admin/watch-list", get(watch_page).post(watch_import))
        .route("/staff/alerts", get(alerts_page))
        .route("/static/form.js", get(form_js))
}

async fn form_js() -> Response {
    crate::web::script_response(include_str!("../../static/form.js"))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_submit))
        .routes(routes!(api_simulated_card))
        .routes(routes!(api_application))
        .routes(routes!(api_start))
        .routes(routes!(api_materials))
        .routes(routes!(api_capture))
        .routes(routes!(api_face))
        .routes(routes!(api_checks))
        .routes(routes!(api_accept))
        .routes(routes!(api_refuse))
}

fn parse_no(input: &str) -> AppResult<ApplicationNo> {
    ApplicationNo::parse(input).map_err(AppError::invalid)
}

/// A Code 128 barcode as SVG: set C for an even number of digits (the application number,
/// document labels: twice as dense), set B otherwise (waybill numbers carry letters).
pub fn code128_svg(text: &str) -> AppResult<String> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let set = if digits_only && text.len().is_multiple_of(2) {
        '\u{0106}'
    } else {
        '\u{0181}'
    };
    let code = barcoders::sym::code128::Code128::new(format!("{set}{text}"))
        .map_err(AppError::internal)?;
    barcoders::generators::svg::SVG::new(60)
        .xdim(2)
        // Without the namespace a browser will not draw the SVG as an <img>.
        .xmlns("http://www.w3.org/2000/svg".into())
        .generate(code.encode())
        .map_err(AppError::internal)
}

// ---- receipt -------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    page: Page,
    d: Dossier,
    site: Site,
    documents: Vec<DocumentLine>,
    fee: String,
    class: String,
    emergency: Option<String>,
    delivery: String,
    collect_site: Option<Site>,
    /// The pickup site's hours on the promised date and the days after.
    collect_hours: Vec<String>,
    /// The promised date as the citizen reads it ("预计…（待…确认）" while provisional).
    promised: Option<String>,
    accepted_at: String,
    paid: Option<String>,
    staff_view: bool,
    ticket_to_receipt: Option<i64>,
    /// The accepting officer's supervision card (服务监督牌).
    officer: Option<crate::supervision::Card>,
}

async fn receipt(
    state: &AppState,
    page: Page,
    d: Dossier,
    staff_view: bool,
) -> AppResult<ReceiptPage> {
    if d.status != Status::Accepted {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            ApplicationError::Closed(d.status),
        ));
    }
    let lang = page.lang;
    let site = site_of(state, d.row.site_id).await?;
    let (delivery, collect_site) = match &d.delivery {
        Some(Delivery::Pickup { site_id }) => {
            let s = site_of(state, *site_id).await?;
            (
                format!(
                    "{}{}",
                    lang.pick("到以下办证点领取：", "Collect at: "),
                    s.name(lang)
                ),
                Some(s),
            )
        }
        Some(Delivery::Express {
            recipient, address, ..
        }) => (
            format!(
                "{}{} · {}",
                lang.pick("邮政速递（EMS）寄至：", "Express (EMS) to: "),
                crate::domain::masking::mask_name(recipient),
                address
            ),
            None,
        ),
        None => (String::new(), None),
    };
    let class = d
        .row
        .time_limit_class
        .as_deref()
        .and_then(|c| TimeLimitClass::ALL.into_iter().find(|t| t.code() == c));
    let collect_hours = match (
        &collect_site,
        d.row.promised_date.as_deref().and_then(|p| p.parse().ok()),
    ) {
        (Some(s), Some(from)) => crate::domain::opening::next_openings(
            &s.opening_rules,
            &state.calendar.current(),
            from,
            4,
        )
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, o)| o.is_open())
        .map(|(day, o)| {
            format!(
                "{} {} {}",
                day,
                crate::sites::web::weekday_name(day, lang),
                o.describe(lang)
            )
        })
        .collect(),
        _ => Vec::new(),
    };
    let paid = crate::payments::paid_payment(state.db.reader(), d.row.id)
        .await?
        .and_then(|p| p.receipt_no);
    let ticket_to_receipt = match (d.row.ticket_id, d.row.accepted_at) {
        (Some(t), Some(acc)) => store::ticket_issued_at(state.db.reader(), t)
            .await?
            .map(|issued| (acc - issued) / 60_000),
        _ => None,
    };
    let officer = crate::supervision::web::card_of(state, d.row.officer_id).await?;
    Ok(ReceiptPage {
        officer,
        promised: d.row.promised_date.as_deref().map(|p| {
            crate::domain::calendar::describe_date(p, d.row.promised_provisional != 0, lang)
        }),
        documents: document_lines(state, &d, lang, !staff_view),
        fee: yuan(d.row.fee_fen.unwrap_or_default()),
        class: class.map(|c| c.name(lang).to_string()).unwrap_or_default(),
        emergency: d
            .row
            .emergency_reason
            .as_deref()
            .and_then(|r| state.catalog.emergency_reason(r))
            .map(|r| r.name.get(lang).to_string()),
        delivery,
        collect_site,
        collect_hours,
        accepted_at: d
            .row
            .accepted_at
            .map(crate::clock::format_local)
            .unwrap_or_default(),
        paid,
        staff_view,
        ticket_to_receipt,
        site,
        d,
        page,
    })
}

async fn citizen_receipt(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> AppResult<ReceiptPage> {
    let d = super::dossier_by_token(&state.applications(), &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    receipt(&state, page, d, false).await
}

async fn staff_receipt(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(no): Path<String>,
) -> AppResult<ReceiptPage> {
    let d = officer_view(&state, &actor, &no, "receipt").await?;
    receipt(&state, page, d, true).await
}

/// The dossier for a staff view that shows the applicant unmasked; the read is audited (who,
/// whose record, which view, when: PIPL, R15), since every such view goes through here.
async fn officer_view(
    state: &AppState,
    actor: &Actor,
    no: &str,
    view: &'static str,
) -> AppResult<Dossier> {
    let no = parse_no(no)?;
    let d = super::dossier(&state.applications(), &no)
        .await?
        .ok_or_else(|| AppError::invalid(ApplicationError::NoSuchApplication))?;
    let allowed = actor.may::<ReadDossier>(d.row.site_id);
    if !allowed {
        return Err(AppError::invalid(ApplicationError::OtherSite));
    }
    crate::audit::personal_data_read(
        &state.db,
        actor,
        "application",
        no.as_str(),
        Some(d.row.site_id),
        view,
        state.clock.now_ms(),
    )
    .await?;
    Ok(d)
}

// ---- acceptance workstation ------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "staff/acceptance_home.html")]
struct AcceptanceHome {
    page: Page,
    error: Option<String>,
    windows: Vec<(i64, String)>,
}

async fn officer_windows(
    state: &AppState,
    actor: &Actor,
    lang: Lang,
) -> AppResult<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for site in crate::sites::list_sites(state.db.reader(), true).await? {
        if !actor.may::<Intake>(site.id) {
            continue;
        }
        for w in crate::sites::windows_of(state.db.reader(), site.id).await? {
            out.push((
                w.id,
                format!(
                    "{} · {} {}",
                    site.name(lang),
                    lang.pick("窗口", "Window"),
                    w.number
                ),
            ));
        }
    }
    Ok(out)
}

async fn acceptance_home(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<AcceptanceHome> {
    let windows = officer_windows(&state, &actor, page.lang).await?;
    Ok(AcceptanceHome {
        page,
        error: None,
        windows,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenForm {
    number: String,
    window: String,
}

async fn acceptance_open(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<OpenForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    let result = match ApplicationNo::parse(&f.number) {
        Ok(no) => super::start_acceptance(
            &state.applications(),
            &super::intake(&actor)?,
            &no,
            f.window.parse().ok(),
        )
        .await
        .map_err(|e| match e {
            Failure::Refused(e) => Ok(e.message(lang)),
            other => Err(AppError::from(other)),
        }),
        Err(e) => Err(Ok(e.message(lang))),
    };
    match result {
        Ok(d) => Ok(Redirect::to(&format!("/staff/acceptance/{}", d.no.as_str())).into_response()),
        Err(Ok(msg)) => {
            let windows = officer_windows(&state, &actor, lang).await?;
            Ok(AcceptanceHome {
                page,
                error: Some(msg),
                windows,
            }
            .into_response())
        }
        Err(Err(e)) => Err(e),
    }
}

pub struct MaterialRow {
    pub id: String,
    pub name: String,
    pub present: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/acceptance.html")]
struct Workstation {
    page: Page,
    d: Dossier,
    status: String,
    documents: Vec<DocumentLine>,
    materials: Vec<MaterialRow>,
    age: i16,
    sex: String,
    guardian: Option<String>,
    notice: Option<Vec<String>>,
    reasons: Vec<Choice>,
    pickup_sites: Vec<Choice>,
    estimate: String,
    message: Option<String>,
    error: Option<String>,
    open: bool,
    /// The time-limit class proposed from the applicant's ID number and the bureau's province.
    proposed: &'static str,
    /// Why, in words (the ID number's province), when it is cross-province.
    proposal_hint: Option<String>,
    /// Acceptance over, the ticket it was taken up under still served at its window: the
    /// window's id and the ticket's number, so the officer is asked to finish it.
    ticket_to_finish: Option<(i64, String)>,
}

/// The time-limit class to propose (R12): the applicant's ID number from the bureau's own
/// province is handled as at the household-registration place (户籍地, and 全省通办 counts the
/// same), any other as cross-province; expedited is the officer's call, never proposed.
pub fn proposed_class(
    id: &crate::domain::id_number::IdNumber,
    province_code: &str,
) -> TimeLimitClass {
    if id.province_code() == province_code.trim() {
        TimeLimitClass::Normal
    } else {
        TimeLimitClass::CrossProvince
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WorkstationQuery {
    ok: String,
    error: String,
}

async fn workstation(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(no): Path<String>,
    Query(q): Query<WorkstationQuery>,
) -> AppResult<Workstation> {
    let d = officer_view(&state, &actor, &no, "acceptance").await?;
    let lang = page.lang;
    let present = d.materials_present();
    let materials = d
        .materials(&state.catalog)
        .iter()
        .map(|m| MaterialRow {
            id: m.id.clone(),
            name: m.name.get(lang).to_string(),
            present: present.contains(&m.id),
        })
        .collect();
    let notice = if d.status == Status::AwaitingMaterials {
        store::latest_notice(state.db.reader(), d.row.id)
            .await?
            .map(|(_, _, missing)| material_names(&state, &missing, lang))
    } else {
        None
    };
    let pickup_sites = crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| s.kind != SiteKind::KioskPoint)
        .map(|s| Choice {
            value: s.id.to_string(),
            label: s.name(lang).to_string(),
        })
        .collect();
    let proposed = proposed_class(&d.id_number, &state.config.bureau.province_code);
    let proposal_hint = (proposed == TimeLimitClass::CrossProvince).then(|| match lang {
        crate::i18n::Lang::ZhCn => format!(
            "身份证号码显示户籍为{}，非本省，建议按跨省异地办理。",
            d.id_number.province_name(lang)
        ),
        crate::i18n::Lang::En => format!(
            "The ID number is from {}, another province: cross-province is proposed.",
            d.id_number.province_name(lang)
        ),
    });
    let estimate = super::terms(&state.applications(), &d, proposed, state.clock.today())
        .map(|t| {
            format!(
                "¥{} · {} {}",
                yuan(t.fee_fen),
                lang.pick("承诺办结", "promised by"),
                t.promised_date.describe(lang)
            )
        })
        .unwrap_or_else(|e| e.message(lang));
    let message = match q.ok.as_str() {
        "" => None,
        "materials" => Some(lang.pick("材料已核对齐全。", "Materials complete.").to_string()),
        "notice" => Some(lang.pick("已出具一次性告知书，并已短信告知申请人。", "One-time notice issued and sent to the applicant by SMS.").to_string()),
        "photo" => Some(lang.pick("照片已采集。", "Photo captured.").to_string()),
        "fingerprint" => Some(lang.pick("指纹已采集。", "Fingerprints captured.").to_string()),
        "exempt" => Some(lang.pick("已登记免采指纹。", "Fingerprint exemption recorded.").to_string()),
        "face" => Some(lang.pick("人证核验已确认。", "Face-to-face verification recorded.").to_string()),
        "clear" => Some(lang.pick("核查通过。", "Checks clear.").to_string()),
        "stopped" => Some(lang.pick("核查未通过：已停止受理并通知带班领导。请告知申请人“该申请无法在本窗口受理”，不要说明原因。", "Checks stopped acceptance; the duty leader is alerted. Tell the applicant only that the application cannot be accepted at this window.").to_string()),
        _ => None,
    };
    let error = Some(q.error).filter(|e| !e.is_empty());
    let open = matches!(
        d.status,
        Status::Submitted | Status::InAcceptance | Status::AwaitingMaterials
    );
    let ticket_to_finish = match (open, d.row.window_id, d.row.ticket_id) {
        (false, Some(w), Some(ticket)) => {
            crate::queue::current_at_window(state.db.reader(), w, &state.clock.today().to_string())
                .await?
                .filter(|t| t.id == ticket)
                .map(|t| (w, t.number))
        }
        _ => None,
    };
    Ok(Workstation {
        ticket_to_finish,
        proposed: proposed.code(),
        proposal_hint,
        status: d.status.name(lang).to_string(),
        documents: document_lines(&state, &d, lang, false),
        materials,
        age: d.age_on(state.clock.today()),
        sex: sex_name(&d.row.sex, lang),
        guardian: d.guardian.as_ref().map(|g| {
            format!(
                "{} · {} · {}{}",
                g.name,
                g.relation,
                g.id_number.masked(),
                if g.entrusted {
                    lang.pick(" · 委托他人陪同", " · entrusted companion")
                } else {
                    ""
                }
            )
        }),
        notice,
        reasons: state
            .catalog
            .emergency_reasons()
            .iter()
            .map(|r| Choice {
                value: r.code.clone(),
                label: r.name.get(lang).to_string(),
            })
            .collect(),
        pickup_sites,
        estimate,
        message,
        error,
        open,
        d,
        page,
    })
}

fn material_names(state: &AppState, ids: &[String], lang: Lang) -> Vec<String> {
    ids.iter()
        .map(|m| {
            state
                .catalog
                .material(m)
                .map(|x| x.name.get(lang).to_string())
                .unwrap_or_else(|| m.clone())
        })
        .collect()
}

/// Every field any workstation action posts (each action reads its own).
#[derive(Deserialize, Default)]
#[serde(default)]
struct ActionFields {
    /// Material ids, comma-joined by the page's hidden field or the checkboxes' names.
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

impl ActionFields {
    fn get(&self, key: &str) -> &str {
        self.rest.get(key).map(String::as_str).unwrap_or("")
    }
}

async fn workstation_action(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path((no, action)): Path<(String, String)>,
    Form(f): Form<ActionFields>,
) -> AppResult<Response> {
    let lang = page.lang;
    let no = parse_no(&no)?;
    let ctx = state.applications();
    let back = |ok: &str| {
        Redirect::to(&format!("/staff/acceptance/{}?ok={ok}", no.as_str())).into_response()
    };
    let grant = super::intake(&actor)?;
    let r: Result<Response, Failure<ApplicationError>> = match action.as_str() {
        "materials" => {
            let present: Vec<String> = f
                .rest
                .iter()
                .filter(|(k, v)| k.starts_with("m:") && on(v))
                .map(|(k, _)| k[2..].to_string())
                .collect();
            super::check_materials(&ctx, &grant, &no, &present)
                .await
                .map(|c| back(if c.complete { "materials" } else { "notice" }))
        }
        "photo" | "fingerprint" => {
            let kind = CaptureKind::parse(&action).unwrap_or(CaptureKind::Photo);
            super::capture(&ctx, &grant, &no, kind)
                .await
                .map(|_| back(&action))
        }
        "exempt" => super::exempt_fingerprints(&ctx, &grant, &no, f.get("reason"))
            .await
            .map(|_| back("exempt")),
        "face" => super::verify_face(&ctx, &grant, &no)
            .await
            .map(|_| back("face")),
        "checks" => super::run_checks(&ctx, &grant, &no).await.map(|o| {
            back(match o {
                CheckOutcome::Clear => "clear",
                CheckOutcome::Stopped => "stopped",
            })
        }),
        "accept" => match acceptance_from(&f) {
            Ok(acceptance) => super::accept(&ctx, &grant, &no, acceptance).await.map(|d| {
                Redirect::to(&format!("/staff/acceptance/{}/receipt", d.no.as_str()))
                    .into_response()
            }),
            Err(e) => Err(Failure::Refused(ApplicationError::BadValue(e))),
        },
        "refuse" => {
            let reasons = f.get("reasons").lines().map(String::from).collect();
            super::refuse(&ctx, &grant, &no, reasons, f.get("basis"))
                .await
                .map(|_| {
                    Redirect::to(&format!("/staff/acceptance/{}/refusal", no.as_str()))
                        .into_response()
                })
        }
        _ => return Err(AppError::not_found()),
    };
    match r {
        Ok(resp) => Ok(resp),
        Err(Failure::Refused(e)) => Ok(Redirect::to(&format!(
            "/staff/acceptance/{}?error={}",
            no.as_str(),
            urlencode(&e.message(lang))
        ))
        .into_response()),
        Err(other) => Err(AppError::from(other)),
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|x| x.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// The acceptance the officer chose; an unknown class or site is refused, never defaulted (an
/// expedited application must not silently become normal).
fn acceptance_from(f: &ActionFields) -> Result<Acceptance, BadValue> {
    let class = TimeLimitClass::ALL
        .into_iter()
        .find(|c| c.code() == f.get("class"))
        .ok_or_else(|| BadValue::new("办理时限", "Time limit", f.get("class")))?;
    let delivery = if f.get("delivery") == "express" {
        Delivery::Express {
            recipient: f.get("recipient").into(),
            phone: f.get("express_phone").into(),
            address: f.get("express_address").into(),
        }
    } else {
        Delivery::Pickup {
            site_id: f
                .get("pickup_site")
                .parse()
                .map_err(|_| BadValue::new("领证地点", "Where to collect", f.get("pickup_site")))?,
        }
    };
    Ok(Acceptance {
        class,
        emergency_reason: Some(f.get("emergency_reason").to_string()).filter(|s| !s.is_empty()),
        emergency_proof: Some(f.get("emergency_proof").to_string()).filter(|s| !s.is_empty()),
        delivery,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "notice.html")]
struct NoticePage {
    page: Page,
    d: Dossier,
    site: Site,
    kind: &'static str,
    items: Vec<String>,
    basis: String,
    at: String,
    officer: String,
}

async fn notice_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(no): Path<String>,
) -> AppResult<NoticePage> {
    let d = officer_view(&state, &actor, &no, "notice").await?;
    let (at, officer, missing) = store::latest_notice(state.db.reader(), d.row.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut conn = state.db.reader().acquire().await?;
    let officer = crate::auth::account_by_id(&mut conn, officer)
        .await?
        .map(|s| format!("{} ({})", s.display_name, s.badge_no))
        .unwrap_or_default();
    Ok(NoticePage {
        items: material_names(&state, &missing, page.lang),
        site: site_of(&state, d.row.site_id).await?,
        kind: "notice",
        basis: String::new(),
        at: crate::clock::format_local(at),
        officer,
        d,
        page,
    })
}

async fn refusal_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(no): Path<String>,
) -> AppResult<NoticePage> {
    let d = officer_view(&state, &actor, &no, "refusal").await?;
    let refusal: super::Refusal = d
        .row
        .refusal
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(AppError::not_found)?;
    Ok(NoticePage {
        items: refusal.reasons,
        site: site_of(&state, d.row.site_id).await?,
        kind: "refusal",
        basis: refusal.basis,
        at: crate::clock::format_local(refusal.at),
        officer: refusal.officer,
        d,
        page,
    })
}

// ---- watch list and alerts ------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "admin/watch_list.html")]
struct WatchPage {
    page: Page,
    count: i64,
    message: Option<String>,
    error: Option<String>,
}

async fn watch_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<WatchPage> {
    actor.any_admin().ok_or_else(AppError::forbidden)?;
    Ok(WatchPage {
        count: store::watch_count(state.db.reader()).await?,
        page,
        message: None,
        error: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WatchForm {
    csv: String,
}

async fn watch_import(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<WatchForm>,
) -> AppResult<WatchPage> {
    let admin = actor.any_admin().ok_or_else(AppError::forbidden)?;
    let lang = page.lang;
    let (message, error) =
        match super::import_watch_list(&state.applications(), admin, &f.csv).await {
            Ok(n) => (
                Some(format!(
                    "{}{n}",
                    lang.pick("已导入记录数：", "Entries imported: ")
                )),
                None,
            ),
            Err(Failure::Refused(e)) => (None, Some(e.message(lang))),
            Err(other) => return Err(AppError::from(other)),
        };
    Ok(WatchPage {
        count: store::watch_count(state.db.reader()).await?,
        page,
        message,
        error,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/alerts.html")]
struct AlertsPage {
    page: Page,
    alerts: Vec<(String, store::Alert)>,
}

async fn alerts_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<AlertsPage> {
    let mut alerts = Vec::new();
    for site in crate::sites::list_sites(state.db.reader(), true).await? {
        if actor.may::<Lead>(site.id) {
            for a in store::open_alerts(state.db.reader(), site.id).await? {
                alerts.push((site.name(page.lang).to_string(), a));
            }
        }
    }
    if actor.grant::<Lead>().is_none() {
        return Err(AppError::forbidden());
    }
    Ok(AlertsPage { page, alerts })
}

#[cfg(test)]
mod tests {
    use super::code128_svg;

    #[test]
    fn barcodes_draw_in_browsers_and_digits_pack_densely() {
        let number = code128_svg("202611250001000011").expect("digits");
        assert!(number.contains("xmlns=\"http://www.w3.org/2000/svg\""));
        let waybill = code128_svg("EA123456789CN").expect("letters");
        // 18 digits in set C take 9 symbols; 13 characters in set B take 13.
        let width = |svg: &str| svg.matches("<rect").count();
        assert!(
            width(&number) < width(&waybill),
            "{} vs {}",
            width(&number),
            width(&waybill)
        );
        // An odd count of digits still encodes (set B).
        assert!(code128_svg("12345").is_ok());
    }
}
