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
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../static/form.js"),
    )
        .into_response()
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

// ---- the form --------------------------------------------------------------------------------

/// The form's fields as posted by the page (flat, one set per document type).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct FormFields {
    pub site: String,
    pub channel: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub ethnicity: String,
    pub from_card: String,
    pub state_personnel: String,
    pub unit_consent: String,
    pub work_unit: String,
    pub guardian_name: String,
    pub guardian_id: String,
    pub guardian_relation: String,
    pub guardian_entrusted: String,
    pub passport: String,
    pub passport_category: String,
    pub passport_old_number: String,
    pub passport_old_document: String,
    pub passport_annotations: String,
    pub hk_macao_permit: String,
    pub hk_macao_permit_category: String,
    pub hk_macao_permit_old_number: String,
    pub hk_macao_permit_old_document: String,
    pub hk_macao_permit_endorsement_1: String,
    pub hk_macao_permit_endorsement_2: String,
    pub taiwan_permit: String,
    pub taiwan_permit_category: String,
    pub taiwan_permit_old_number: String,
    pub taiwan_permit_old_document: String,
    pub taiwan_permit_endorsement_1: String,
    pub taiwan_permit_endorsement_2: String,
}

fn on(v: &str) -> bool {
    matches!(v, "on" | "1" | "true" | "yes")
}

/// A field the applicant must correct, with the message in their language.
struct FieldError(String);

impl FormFields {
    fn document(&self, d: DocumentType) -> Option<[&str; 6]> {
        let f: [&str; 6] = match d {
            DocumentType::Passport => [
                self.passport.as_str(),
                self.passport_category.as_str(),
                self.passport_old_number.as_str(),
                self.passport_old_document.as_str(),
                self.passport_annotations.as_str(),
                "",
            ],
            DocumentType::HkMacaoPermit => [
                self.hk_macao_permit.as_str(),
                self.hk_macao_permit_category.as_str(),
                self.hk_macao_permit_old_number.as_str(),
                self.hk_macao_permit_old_document.as_str(),
                self.hk_macao_permit_endorsement_1.as_str(),
                self.hk_macao_permit_endorsement_2.as_str(),
            ],
            DocumentType::TaiwanPermit => [
                self.taiwan_permit.as_str(),
                self.taiwan_permit_category.as_str(),
                self.taiwan_permit_old_number.as_str(),
                self.taiwan_permit_old_document.as_str(),
                self.taiwan_permit_endorsement_1.as_str(),
                self.taiwan_permit_endorsement_2.as_str(),
            ],
        };
        on(f[0]).then_some(f)
    }

    fn to_input(&self, lang: Lang, today: jiff::civil::Date) -> Result<FormInput, FieldError> {
        let id_number =
            IdNumber::parse_on(&self.id_number, today).map_err(|e| FieldError(e.message(lang)))?;
        id_number
            .require_citizen()
            .map_err(|e| FieldError(e.message(lang)))?;
        let phone = PhoneNumber::parse(&self.phone).map_err(|e| FieldError(e.message(lang)))?;
        let guardian = if self.guardian_name.trim().is_empty() && self.guardian_id.trim().is_empty()
        {
            None
        } else {
            Some(Guardian {
                name: self.guardian_name.trim().into(),
                id_number: IdNumber::parse_on(&self.guardian_id, today).map_err(|e| {
                    FieldError(format!(
                        "{}{}",
                        lang.pick("监护人：", "Guardian: "),
                        e.message(lang)
                    ))
                })?,
                relation: self.guardian_relation.trim().into(),
                entrusted: on(&self.guardian_entrusted),
            })
        };
        let mut documents = Vec::new();
        for d in DocumentType::ALL {
            let Some([_, category, old_number, old_document, extra1, extra2]) = self.document(d)
            else {
                continue;
            };
            let category = ApplicationCategory::ALL
                .into_iter()
                .find(|c| c.code() == category)
                .ok_or_else(|| {
                    FieldError(
                        BadValue::new("申请类别", "Kind of application", category).message(lang),
                    )
                })?;
            let old_number = match old_number.trim() {
                "" => None,
                n => Some(
                    DocumentNumber::parse(super::rules::document_kind(d), n)
                        .map_err(|e| FieldError(e.message(lang)))?,
                ),
            };
            let (endorsements, annotations) = if d == DocumentType::Passport {
                let annotations = match extra1.trim() {
                    "" => 0,
                    n => n.parse().map_err(|_| {
                        FieldError(BadValue::new("加注项数", "Annotations", n).message(lang))
                    })?,
                };
                (Vec::new(), annotations)
            } else {
                (
                    [extra1, extra2]
                        .into_iter()
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .map(String::from)
                        .collect(),
                    0,
                )
            };
            documents.push(DocumentRequest {
                document: d,
                category,
                old_number,
                old_document: match old_document.trim() {
                    "" => None,
                    o => Some(OldDocument::parse(o).ok_or_else(|| {
                        FieldError(
                            BadValue::new("原证件情况", "The current document", o).message(lang),
                        )
                    })?),
                },
                endorsements,
                annotations,
            });
        }
        Ok(FormInput {
            name: self.name.clone(),
            id_number,
            phone,
            address: self.address.clone(),
            ethnicity: self.ethnicity.clone(),
            from_card_reader: on(&self.from_card),
            registered_state_personnel: on(&self.state_personnel),
            unit_consent: on(&self.unit_consent),
            work_unit: Some(self.work_unit.clone()).filter(|w| !w.trim().is_empty()),
            guardian,
            documents,
            lang,
        })
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

pub struct DocumentBlock {
    pub code: &'static str,
    pub name: String,
    pub categories: Vec<Choice>,
    /// `(type name, options)` groups.
    pub endorsements: Vec<(String, Vec<Choice>)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "form.html")]
struct FormPage {
    page: Page,
    kiosk: bool,
    site: Option<Site>,
    sites: Vec<Site>,
    blocks: Vec<DocumentBlock>,
    old_states: Vec<Choice>,
    f: FormFields,
    error: Option<String>,
}

fn blocks(state: &AppState, lang: Lang) -> Vec<DocumentBlock> {
    let today = state.clock.today();
    DocumentType::ALL
        .into_iter()
        .map(|d| DocumentBlock {
            code: d.code(),
            name: d.name(lang).to_string(),
            categories: ApplicationCategory::ALL
                .into_iter()
                .filter(|c| c.applies_to(d) && state.catalog.item_for(d, *c).is_some())
                .map(|c| Choice {
                    value: c.code().into(),
                    label: c.name(lang).into(),
                })
                .collect(),
            endorsements: state
                .catalog
                .endorsement_types(d)
                .into_iter()
                .filter(|spec| !spec.is_suspended_on(today))
                .map(|spec| {
                    (
                        spec.name.get(lang).to_string(),
                        spec.options
                            .iter()
                            .filter(|o| o.is_available_on(today))
                            .map(|o| Choice {
                                value: o.id.clone(),
                                label: o.name.get(lang).to_string(),
                            })
                            .collect(),
                    )
                })
                .collect(),
        })
        .collect()
}

fn old_states(lang: Lang) -> Vec<Choice> {
    OldDocument::ALL
        .into_iter()
        .map(|o| Choice {
            value: o.code().into(),
            label: o.name(lang).into(),
        })
        .collect()
}

async fn form_page(
    state: &AppState,
    page: Page,
    kiosk: bool,
    site: Option<Site>,
    f: FormFields,
    error: Option<String>,
) -> AppResult<FormPage> {
    let sites = crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| s.kind != SiteKind::KioskPoint)
        .collect();
    Ok(FormPage {
        blocks: blocks(state, page.lang),
        old_states: old_states(page.lang),
        page,
        kiosk,
        site,
        sites,
        f,
        error,
    })
}

async fn active_site(state: &AppState, code: &str) -> AppResult<Site> {
    crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)
}

async fn kiosk_form(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<FormPage> {
    let site = active_site(&state, &code).await?;
    let f = FormFields {
        site: site.code.clone(),
        channel: "kiosk".into(),
        ..FormFields::default()
    };
    form_page(&state, page, true, Some(site), f, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SiteQuery {
    site: String,
}

async fn mobile_form(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<SiteQuery>,
) -> AppResult<FormPage> {
    let f = FormFields {
        site: q.site,
        channel: "mobile".into(),
        ..FormFields::default()
    };
    form_page(&state, page, false, None, f, None).await
}

async fn submit_form_page(
    State(state): State<AppState>,
    page: Page,
    Form(f): Form<FormFields>,
) -> AppResult<Response> {
    let lang = page.lang;
    let kiosk = f.channel == "kiosk";
    let site = match crate::sites::site_by_code(state.db.reader(), f.site.trim()).await? {
        Some(s) if s.active => s,
        _ => {
            let msg = lang.pick("请选择办证点。", "Choose a site.").to_string();
            return Ok(form_page(&state, page, kiosk, None, f, Some(msg))
                .await?
                .into_response());
        }
    };
    let channel = if kiosk {
        Channel::Kiosk
    } else {
        Channel::Mobile
    };
    let input = match f.to_input(lang, state.clock.today()) {
        Ok(i) => i,
        Err(FieldError(msg)) => {
            let s = kiosk.then(|| site.clone());
            return Ok(form_page(&state, page, kiosk, s, f, Some(msg))
                .await?
                .into_response());
        }
    };
    match super::submit_form(&state.applications(), &site, channel, input).await {
        Ok(row) => Ok(Redirect::to(&format!("/forms/{}", row.token)).into_response()),
        Err(Failure::Refused(e)) => {
            let s = kiosk.then(|| site.clone());
            Ok(form_page(&state, page, kiosk, s, f, Some(e.message(lang)))
                .await?
                .into_response())
        }
        Err(other) => Err(AppError::from(other)),
    }
}

/// One document as printed.
pub struct DocumentLine {
    pub name: String,
    pub category: String,
    pub old_number: Option<String>,
    pub endorsements: Vec<String>,
    pub fee: Option<String>,
    pub promised: Option<String>,
}

fn document_lines(state: &AppState, d: &Dossier, lang: Lang, masked: bool) -> Vec<DocumentLine> {
    let terms = d
        .row
        .time_limit_class
        .as_deref()
        .and_then(|c| TimeLimitClass::ALL.into_iter().find(|t| t.code() == c))
        .zip(d.row.fee_date.as_deref().and_then(|x| x.parse().ok()))
        .and_then(|(class, date)| super::terms(&state.applications(), d, class, date).ok());
    d.documents
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let fee_of = |endorsement: Option<&str>| {
                terms.as_ref().and_then(|t| {
                    t.fee_lines
                        .iter()
                        .find(|l| {
                            l.document == doc.document && l.endorsement.as_deref() == endorsement
                        })
                        .map(|l| yuan(l.fen))
                })
            };
            DocumentLine {
                name: doc.document.name(lang).to_string(),
                category: doc.category.name(lang).to_string(),
                old_number: doc.old_number.as_ref().map(|n| {
                    if masked {
                        n.masked()
                    } else {
                        n.as_str().to_string()
                    }
                }),
                endorsements: doc
                    .endorsements
                    .iter()
                    .map(|o| {
                        let label = state
                            .catalog
                            .endorsement_option(o)
                            .map(|(spec, opt)| {
                                format!("{} · {}", spec.name.get(lang), opt.name.get(lang))
                            })
                            .unwrap_or_else(|| o.clone());
                        match fee_of(Some(o)) {
                            Some(fee) => format!("{label} — ¥{fee}"),
                            None => label,
                        }
                    })
                    .collect(),
                fee: fee_of(None),
                promised: terms
                    .as_ref()
                    .and_then(|t| t.promised.get(i))
                    .map(|p| p.describe(lang)),
            }
        })
        .collect()
}

pub fn yuan(fen: i64) -> String {
    Money::from_fen(fen)
        .map(|m| m.display_yuan())
        .unwrap_or_default()
}

#[derive(Template, WebTemplate)]
#[template(path = "form_print.html")]
struct PrintedForm {
    page: Page,
    d: Dossier,
    site: Site,
    documents: Vec<DocumentLine>,
    materials: Vec<String>,
    sex: String,
    estimate: String,
    kiosk: bool,
}

async fn site_of(state: &AppState, id: i64) -> AppResult<Site> {
    crate::sites::site(state.db.reader(), id)
        .await?
        .ok_or_else(AppError::not_found)
}

async fn printed_form(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> AppResult<PrintedForm> {
    let ctx = state.applications();
    let d = super::dossier_by_token(&ctx, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let lang = page.lang;
    let site = site_of(&state, d.row.site_id).await?;
    let materials = d
        .materials(&state.catalog)
        .iter()
        .map(|m| m.name.get(lang).to_string())
        .collect();
    // What the fees would be if accepted today (the window fixes them at acceptance).
    let estimate = super::terms(&ctx, &d, TimeLimitClass::Normal, state.clock.today())
        .map(|t| yuan(t.fee_fen))
        .unwrap_or_default();
    Ok(PrintedForm {
        documents: document_lines(&state, &d, lang, false),
        sex: sex_name(&d.row.sex, lang),
        kiosk: d.row.channel == "kiosk",
        materials,
        estimate,
        site,
        d,
        page,
    })
}

fn sex_name(code: &str, lang: Lang) -> String {
    match code {
        "male" => lang.pick("男", "Male"),
        _ => lang.pick("女", "Female"),
    }
    .to_string()
}

async fn barcode(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    let row = store::application_by_token(state.db.reader(), &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(crate::queue::web::svg_response(code128_svg(
        &row.application_no,
    )?))
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
    Ok(ReceiptPage {
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
    let estimate = super::terms(
        &state.applications(),
        &d,
        TimeLimitClass::Normal,
        state.clock.today(),
    )
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
    Ok(Workstation {
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
        open: matches!(
            d.status,
            Status::Submitted | Status::InAcceptance | Status::AwaitingMaterials
        ),
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

// ---- JSON API ------------------------------------------------------------------------------

/// One document on a JSON form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DocumentJson {
    #[schema(value_type = String, example = "passport")]
    pub document: DocumentType,
    #[schema(value_type = String, example = "first_issue")]
    pub category: ApplicationCategory,
    #[serde(default)]
    pub old_number: Option<String>,
    /// `held`, `lost`, `stolen`, `damaged` or `expired`.
    #[serde(default)]
    pub old_document: Option<String>,
    #[serde(default)]
    pub endorsements: Vec<String>,
    #[serde(default)]
    pub annotations: u8,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GuardianJson {
    pub name: String,
    pub id_number: crate::web::fields::IdNumberText,
    pub relation: String,
    #[serde(default)]
    pub entrusted: bool,
}

/// The one form as JSON (kiosk clients).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FormJson {
    /// Site code, e.g. `0001`.
    pub site: crate::web::fields::SiteCodeText,
    /// Where the form was filled; a kiosk when left out.
    #[serde(default)]
    pub channel: Option<SubmitChannel>,
    pub name: String,
    pub id_number: crate::web::fields::IdNumberText,
    pub phone: crate::web::fields::PhoneText,
    pub address: String,
    #[serde(default)]
    pub ethnicity: String,
    #[serde(default)]
    pub from_card_reader: bool,
    #[serde(default)]
    pub registered_state_personnel: bool,
    #[serde(default)]
    pub unit_consent: bool,
    #[serde(default)]
    pub work_unit: Option<String>,
    #[serde(default)]
    pub guardian: Option<GuardianJson>,
    pub documents: Vec<DocumentJson>,
}

/// Where a form sent through the JSON API was filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubmitChannel {
    Kiosk,
    Mobile,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Submitted {
    pub application_no: String,
    /// Opens the printed form (`/forms/{token}`) and later the receipt (`/r/{token}`).
    pub token: String,
}

fn invalid_text(msg: String) -> AppError {
    AppError::invalid(crate::error::CommonError::BadRequest(msg))
}

/// Submits the one form; returns the application number.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    request_body = FormJson,
    responses((status = 201, body = Submitted), (status = 422, body = crate::error::ErrorBody)))]
async fn api_submit(
    State(state): State<AppState>,
    lang: Lang,
    Json(f): Json<FormJson>,
) -> AppResult<(StatusCode, axum::Json<Submitted>)> {
    let today = state.clock.today();
    let site = crate::sites::site_by_code(state.db.reader(), f.site.trim())
        .await?
        .filter(|s| s.active)
        .ok_or_else(|| AppError::invalid(crate::i18n::BadValue::new("办证点", "Site", &f.site)))?;
    let id_number = IdNumber::parse_on(&f.id_number, today).map_err(AppError::invalid)?;
    let phone = PhoneNumber::parse(&f.phone).map_err(AppError::invalid)?;
    let guardian = match f.guardian {
        Some(g) => Some(Guardian {
            name: g.name,
            id_number: IdNumber::parse_on(&g.id_number, today).map_err(AppError::invalid)?,
            relation: g.relation,
            entrusted: g.entrusted,
        }),
        None => None,
    };
    let mut documents = Vec::new();
    for d in f.documents {
        let old_number = match d.old_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(
                DocumentNumber::parse(super::rules::document_kind(d.document), n)
                    .map_err(AppError::invalid)?,
            ),
        };
        let old_document = match d.old_document.as_deref() {
            None | Some("") => None,
            Some(o) => Some(
                OldDocument::parse(o).ok_or_else(|| invalid_text(format!("old_document: {o}")))?,
            ),
        };
        documents.push(DocumentRequest {
            document: d.document,
            category: d.category,
            old_number,
            old_document,
            endorsements: d.endorsements,
            annotations: d.annotations,
        });
    }
    let channel = match f.channel {
        Some(SubmitChannel::Mobile) => Channel::Mobile,
        Some(SubmitChannel::Kiosk) | None => Channel::Kiosk,
    };
    let input = FormInput {
        name: f.name,
        id_number,
        phone,
        address: f.address,
        ethnicity: f.ethnicity,
        from_card_reader: f.from_card_reader,
        registered_state_personnel: f.registered_state_personnel,
        unit_consent: f.unit_consent,
        work_unit: f.work_unit,
        guardian,
        documents,
        lang,
    };
    let row = super::submit_form(&state.applications(), &site, channel, input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Submitted {
            application_no: row.application_no,
            token: row.token,
        }),
    ))
}

/// The ID-card reader simulator: answers as the kiosk's local reader service does
/// (`GET http://127.0.0.1:19196/card`, docs/DEVICES.md), with the test card.
#[utoipa::path(get, path = "/api/v1/devices/id-reader/card", tag = "devices",
    responses((status = 200, body = crate::devices::IdCardRead)))]
async fn api_simulated_card() -> axum::Json<crate::devices::IdCardRead> {
    axum::Json(crate::devices::simulated_card())
}

/// An application as the officer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationJson {
    pub application_no: String,
    pub status: Status,
    pub site_id: i64,
    pub name: String,
    pub id_number_masked: String,
    pub documents: Vec<String>,
    pub materials: Vec<String>,
    pub materials_present: Vec<String>,
    pub fee_fen: Option<i64>,
    #[schema(format = Date)]
    pub promised_date: Option<String>,
    pub time_limit_class: Option<String>,
    pub created_at: i64,
    pub acceptance_started_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub ticket_issued_at: Option<i64>,
    pub events: Vec<store::EventRow>,
}

async fn application_json(state: &AppState, d: Dossier) -> AppResult<ApplicationJson> {
    let ticket_issued_at = match d.row.ticket_id {
        Some(t) => store::ticket_issued_at(state.db.reader(), t).await?,
        None => None,
    };
    Ok(ApplicationJson {
        application_no: d.no.as_str().into(),
        status: d.status,
        site_id: d.row.site_id,
        name: d.name.clone(),
        id_number_masked: d.id_number.masked(),
        documents: d
            .documents
            .iter()
            .map(|x| format!("{}:{}", x.document.code(), x.category.code()))
            .collect(),
        materials: d
            .materials(&state.catalog)
            .iter()
            .map(|m| m.id.clone())
            .collect(),
        materials_present: d.materials_present(),
        fee_fen: d.row.fee_fen,
        promised_date: d.row.promised_date.clone(),
        time_limit_class: d.row.time_limit_class.clone(),
        created_at: d.row.created_at,
        acceptance_started_at: d.row.acceptance_started_at,
        accepted_at: d.row.accepted_at,
        ticket_issued_at,
        events: store::events(state.db.reader(), d.row.id).await?,
    })
}

/// An application by its number (officers, cashiers and the duty leader of its site).
#[utoipa::path(get, path = "/api/v1/applications/{no}", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    responses((status = 200, body = ApplicationJson), (status = 404, body = crate::error::ErrorBody)))]
async fn api_application(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
) -> AppResult<axum::Json<ApplicationJson>> {
    let d = officer_view(&state, &actor, &no, "api.application").await?;
    Ok(axum::Json(application_json(&state, d).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema, Default)]
pub struct StartJson {
    #[serde(default)]
    pub window_id: Option<i64>,
}

/// Starts acceptance (scan of the form barcode at a window).
#[utoipa::path(post, path = "/api/v1/applications/{no}/acceptance", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = StartJson,
    responses((status = 200, body = ApplicationJson)))]
async fn api_start(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<StartJson>,
) -> AppResult<axum::Json<ApplicationJson>> {
    let no = parse_no(&no)?;
    let d = super::start_acceptance(
        &state.applications(),
        &super::intake(&actor)?,
        &no,
        b.window_id,
    )
    .await?;
    Ok(axum::Json(application_json(&state, d).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MaterialsJson {
    /// Material ids the applicant has brought.
    pub present: Vec<String>,
}

/// Records the material check; a one-time notice lists every missing item.
#[utoipa::path(post, path = "/api/v1/applications/{no}/materials", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = MaterialsJson,
    responses((status = 200, body = super::MaterialCheck)))]
async fn api_materials(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<MaterialsJson>,
) -> AppResult<axum::Json<super::MaterialCheck>> {
    let no = parse_no(&no)?;
    super::check_materials(
        &state.applications(),
        &super::intake(&actor)?,
        &no,
        &b.present,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptureJson {
    pub reference: String,
    pub quality: i64,
}

/// Captures the photo or the fingerprints through the window's station (`photo`,
/// `fingerprint`); only the reference and quality are kept.
#[utoipa::path(post, path = "/api/v1/applications/{no}/captures/{kind}", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number"), ("kind" = String, Path, description = "photo or fingerprint")),
    responses((status = 200, body = CaptureJson)))]
async fn api_capture(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path((no, kind)): Path<(crate::web::fields::ApplicationNoText, String)>,
) -> AppResult<axum::Json<CaptureJson>> {
    let no = parse_no(&no)?;
    let kind = CaptureKind::parse(&kind).ok_or_else(AppError::not_found)?;
    let c = super::capture(&state.applications(), &super::intake(&actor)?, &no, kind).await?;
    Ok(axum::Json(CaptureJson {
        reference: c.reference,
        quality: c.quality,
    }))
}

/// Records the face-to-face verification.
#[utoipa::path(post, path = "/api/v1/applications/{no}/face", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    responses((status = 204)))]
async fn api_face(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
) -> AppResult<StatusCode> {
    let no = parse_no(&no)?;
    super::verify_face(&state.applications(), &super::intake(&actor)?, &no).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChecksJson {
    pub outcome: CheckOutcome,
}

/// Runs the restricted-exit and dual-registration checks.
#[utoipa::path(post, path = "/api/v1/applications/{no}/checks", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    responses((status = 200, body = ChecksJson)))]
async fn api_checks(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
) -> AppResult<axum::Json<ChecksJson>> {
    let no = parse_no(&no)?;
    let outcome = super::run_checks(&state.applications(), &super::intake(&actor)?, &no).await?;
    Ok(axum::Json(ChecksJson { outcome }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcceptJson {
    pub class: TimeLimitClass,
    #[serde(default)]
    pub emergency_reason: Option<String>,
    #[serde(default)]
    pub emergency_proof: Option<String>,
    pub delivery: Delivery,
}

/// Accepts the application; the fee and promised date are fixed.
#[utoipa::path(post, path = "/api/v1/applications/{no}/accept", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = AcceptJson,
    responses((status = 200, body = ApplicationJson), (status = 422, body = crate::error::ErrorBody)))]
async fn api_accept(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<AcceptJson>,
) -> AppResult<axum::Json<ApplicationJson>> {
    let no = parse_no(&no)?;
    let d = super::accept(
        &state.applications(),
        &super::intake(&actor)?,
        &no,
        Acceptance {
            class: b.class,
            emergency_reason: b.emergency_reason,
            emergency_proof: b.emergency_proof,
            delivery: b.delivery,
        },
    )
    .await?;
    Ok(axum::Json(application_json(&state, d).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefuseJson {
    pub reasons: Vec<String>,
    pub basis: String,
}

/// Refuses to accept, with reasons and basis in writing.
#[utoipa::path(post, path = "/api/v1/applications/{no}/refuse", tag = "applications",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = RefuseJson,
    responses((status = 200, body = super::Refusal)))]
async fn api_refuse(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<RefuseJson>,
) -> AppResult<axum::Json<super::Refusal>> {
    let no = parse_no(&no)?;
    super::refuse(
        &state.applications(),
        &super::intake(&actor)?,
        &no,
        b.reasons,
        &b.basis,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
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
