//! Pages and API of approval, production, custody, pickup and progress: the approver's and
//! producer's queues, the custodian's cabinet (check-in, move, inventory audit), the pickup
//! window, the duty leader's page, and the citizen's progress page.

use crate::auth::grant::{HandOver, Keep, Lead, OverseeCustody, Produce, Review};
use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::flow::Stage;
use super::store::{self, DocRow};
use super::{DocumentError, DueWatch, Inventory, PickupInput, Progress, Recipient};
use crate::auth::{Actor, Duty, Failure};
use crate::devices::VerifyMethod;
use crate::domain::application_no::ApplicationNo;
use crate::domain::id_number::IdNumber;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, UserMessage};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Form, Json, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/progress", get(progress_form).post(progress_page))
        .route(
            "/progress/decline-callbacks",
            post(progress_decline_callbacks),
        )
        .route(
            "/kiosk/{site}/progress",
            get(kiosk_progress_form).post(kiosk_progress_page),
        )
        .route(
            "/kiosk/{site}/progress/decline-callbacks",
            post(kiosk_progress_decline_callbacks),
        )
        .route("/staff/review", get(review_page))
        .route("/staff/review/{id}", get(review_detail))
        .route("/staff/review/{id}/dossier", get(review_dossier))
        .route("/staff/applications/{no}/photo", get(acceptance_photo))
        .route("/staff/pickup/{no}/camera", get(pickup_camera))
        .route("/staff/production", get(production_page))
        .route("/staff/custody", get(custody_page))
        .route(
            "/staff/custody/uncollected",
            get(uncollected_page).post(uncollected_apply),
        )
        .route("/staff/pickup", get(pickup_page))
        .route("/staff/leader", get(leader_page))
        .route("/staff/documents/{action}", post(document_action))
        .route("/staff/documents/label/{label}", get(label_page))
        .route(
            "/staff/documents/label/{label}/barcode.svg",
            get(label_barcode),
        )
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_progress))
        .routes(routes!(api_decline_callbacks))
        .routes(routes!(api_due))
        .routes(routes!(api_inventory))
        .routes(routes!(api_document_action))
        .routes(routes!(api_start_batch))
        .routes(routes!(api_finish_batch))
        .routes(routes!(api_custody_check_in))
        .routes(routes!(api_custody_move))
        .routes(routes!(api_issue))
}

fn doc_name(code: &str, lang: Lang) -> String {
    crate::catalog::DocumentType::ALL
        .into_iter()
        .find(|d| d.code() == code)
        .map(|d| d.name(lang).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// A document as a row of a staff list.
pub struct DocLine {
    pub id: i64,
    pub application_no: String,
    pub label: String,
    pub document: String,
    pub stage: String,
    pub promised: String,
    pub expedited: bool,
    pub slot: Option<String>,
    /// The fee is not paid yet: it cannot be produced, collected or shipped (decision 012).
    pub unpaid: bool,
}

fn lines(docs: Vec<DocRow>, lang: Lang) -> Vec<DocLine> {
    docs.into_iter()
        .map(|d| DocLine {
            id: d.id,
            document: doc_name(&d.document_type, lang),
            stage: d.stage.name(lang).to_string(),
            promised: d.promised_date.clone().unwrap_or_default(),
            expedited: d.time_limit_class.as_deref() == Some("expedited"),
            unpaid: !d.fee_settled,
            label: d.label.unwrap_or_default(),
            slot: d.slot,
            application_no: d.application_no,
        })
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    site: String,
    document: String,
    expedited: String,
    no: String,
    ok: String,
    error: String,
}

fn notes(q: &ListQuery) -> (Option<String>, Option<String>) {
    (
        Some(q.ok.clone()).filter(|s| !s.is_empty()),
        Some(q.error.clone()).filter(|s| !s.is_empty()),
    )
}

async fn chosen_site<D: Duty>(state: &AppState, actor: &Actor, code: &str) -> AppResult<Site> {
    Ok(crate::sites::web::duty_sites::<D>(state, actor, code)
        .await?
        .1)
}

// ---- approver ------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "staff/review.html")]
struct ReviewPage {
    page: Page,
    site: Site,
    waiting: Vec<DocLine>,
    reviewing: Vec<DocLine>,
    expedited_only: bool,
    message: Option<String>,
    error: Option<String>,
}

async fn review_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<ReviewPage> {
    let site = chosen_site::<Review>(&state, &actor, &q.site).await?;
    let expedited_only = q.expedited == "1";
    let doc = Some(q.document.as_str()).filter(|d| !d.is_empty());
    let lang = page.lang;
    let waiting = store::docs_at_stage(
        state.db.reader(),
        Stage::Accepted,
        Some(site.id),
        doc,
        expedited_only,
    )
    .await?;
    let reviewing = store::docs_at_stage(
        state.db.reader(),
        Stage::UnderReview,
        Some(site.id),
        doc,
        expedited_only,
    )
    .await?;
    let (message, error) = notes(&q);
    Ok(ReviewPage {
        waiting: lines(waiting, lang),
        reviewing: lines(reviewing, lang),
        site,
        expedited_only,
        message,
        error,
        page,
    })
}

/// One application as its approver needs it (issue 18 item 2): who (age, masked identity, the
/// photo taken at acceptance), what was asked for, what the window checked (materials and the
/// one-time notice, captures, face, the control-list check), the green-channel reason and
/// proof, the payment and the accepting officer; the full dossier one audited click away.
#[derive(Template, WebTemplate)]
#[template(path = "staff/review_detail.html")]
struct ReviewDetail {
    page: Page,
    doc: DocRow,
    document: String,
    category: String,
    stage: String,
    expedited: bool,
    /// The full dossier (its opening audited), or the masked view.
    full: bool,
    no: String,
    name: String,
    id_text: String,
    sex: String,
    age: i16,
    contact: Option<(String, String)>,
    photo: bool,
    fingerprint: String,
    face: String,
    documents: Vec<crate::applications::web::DocumentLine>,
    materials: Vec<(String, bool)>,
    notice: Option<Vec<String>>,
    checks: (bool, String),
    green: Option<(String, String)>,
    payment: (bool, String),
    officer: String,
    accepted: String,
    reasons: Vec<(&'static str, &'static str)>,
    message: Option<String>,
    error: Option<String>,
}

async fn review_view(
    state: &AppState,
    page: Page,
    actor: &Actor,
    id: i64,
    q: &ListQuery,
    full: bool,
) -> AppResult<ReviewDetail> {
    let lang = page.lang;
    let doc = store::doc(state.db.reader(), id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !actor.may::<Review>(doc.site_id) {
        return Err(AppError::forbidden());
    }
    let no = ApplicationNo::parse(&doc.application_no).map_err(AppError::invalid)?;
    let d = crate::applications::dossier(&state.applications(), &no)
        .await?
        .ok_or_else(AppError::not_found)?;
    // Even masked, the approver reads personal data: each view is on the record.
    crate::audit::personal_data_read(
        &state.db,
        actor,
        "application",
        no.as_str(),
        Some(d.row.site_id),
        if full { "review_dossier" } else { "review" },
        state.clock.now_ms(),
    )
    .await?;
    let r = &d.row;
    let present = d.materials_present();
    let materials = d
        .materials(&state.catalog)
        .iter()
        .map(|m| (m.name.get(lang).to_string(), present.contains(&m.id)))
        .collect();
    let material_name = |id: &String| {
        state
            .catalog
            .material(id)
            .map(|m| m.name.get(lang).to_string())
            .unwrap_or_else(|| id.clone())
    };
    let notice = crate::applications::latest_notice(state.db.reader(), r.id)
        .await?
        .map(|(_, _, missing)| missing.iter().map(material_name).collect());
    let checks = match (r.checks_at, r.checks_clear) {
        (Some(_), Some(1)) => (
            true,
            lang.pick("未命中管控名单，核查通过", "Clear of the control lists")
                .to_string(),
        ),
        (Some(_), _) => (
            false,
            lang.pick(
                "核查命中，已通知带班领导",
                "A control-list hit: the duty leader was alerted",
            )
            .to_string(),
        ),
        _ => (false, lang.pick("未核查", "Not checked").to_string()),
    };
    let green = r.emergency_reason.as_deref().map(|code| {
        (
            state
                .catalog
                .emergency_reason(code)
                .map(|x| x.name.get(lang).to_string())
                .unwrap_or_else(|| code.to_string()),
            r.emergency_proof.clone().unwrap_or_default(),
        )
    });
    let yuan = |fen: i64| format!("¥{}.{:02}", fen / 100, fen % 100);
    let payment = match crate::payments::paid_payment(state.db.reader(), r.id).await? {
        Some(p) => (
            true,
            format!(
                "{} {} · {} {}",
                lang.pick("已缴费", "Paid"),
                yuan(p.amount_fen),
                p.method.name(lang),
                p.receipt_no.unwrap_or_default()
            ),
        ),
        None => (
            r.fee_fen == Some(0),
            match r.fee_fen {
                Some(0) => lang.pick("免费", "No fee").to_string(),
                Some(f) => format!(
                    "{} {}",
                    lang.pick("未缴费，应缴", "Not paid; owes"),
                    yuan(f)
                ),
                None => lang.pick("未计费", "No fee set").to_string(),
            },
        ),
    };
    let officer = match r.officer_id {
        Some(sid) => crate::supervision::card(&state.db, sid)
            .await?
            .map(|c| format!("{} · {}", c.name, c.badge))
            .unwrap_or_default(),
        None => String::new(),
    };
    let age = d.age_on(state.clock.today());
    Ok(ReviewDetail {
        document: doc_name(&doc.document_type, lang),
        stage: doc.stage.name(lang).to_string(),
        category: crate::catalog::ApplicationCategory::ALL
            .into_iter()
            .find(|c| c.code() == doc.category)
            .map(|c| c.name(lang).to_string())
            .unwrap_or_else(|| doc.category.clone()),
        expedited: doc.time_limit_class.as_deref() == Some("expedited"),
        full,
        no: no.as_str().to_string(),
        name: if full {
            d.name.clone()
        } else {
            crate::domain::masking::mask_name(&d.name)
        },
        id_text: if full {
            d.id_number.as_str().to_string()
        } else {
            d.id_number.masked()
        },
        sex: crate::applications::web::sex_name(&r.sex, lang),
        age,
        contact: full.then(|| (d.phone.as_str().to_string(), d.address.clone())),
        photo: r.photo_ref.is_some(),
        fingerprint: match (&r.fingerprint_exempt, r.fingerprint_quality) {
            (Some(why), _) => format!("{}：{why}", lang.pick("免采", "Exempt")),
            (None, Some(q)) => format!("{} · {q}", lang.pick("已采集，质量", "Captured, quality")),
            _ => lang.pick("未采集", "Not captured").to_string(),
        },
        face: match r.face_verified_at {
            Some(at) => format!(
                "{} {}",
                lang.pick("人证核验一致", "Face matched the ID"),
                crate::clock::format_local(at)
            ),
            None => lang.pick("未核验", "Not verified").to_string(),
        },
        documents: crate::applications::web::document_lines(state, &d, lang, !full),
        materials,
        notice,
        checks,
        green,
        payment,
        officer,
        accepted: r
            .accepted_at
            .map(crate::clock::format_local)
            .unwrap_or_default(),
        reasons: super::REJECTION_REASONS
            .iter()
            .map(|(c, zh, en)| (*c, lang.pick(zh, en)))
            .collect(),
        message: Some(q.ok.clone()).filter(|s| !s.is_empty()),
        error: Some(q.error.clone()).filter(|s| !s.is_empty()),
        doc,
        page,
    })
}

async fn review_detail(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> AppResult<ReviewDetail> {
    review_view(&state, page, &actor, id, &q, false).await
}

async fn review_dossier(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> AppResult<ReviewDetail> {
    review_view(&state, page, &actor, id, &q, true).await
}

/// The photo taken at acceptance, read from the capture system for the approver and the
/// pickup officer of the application's site; never cached.
async fn acceptance_photo(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<String>,
) -> AppResult<Response> {
    let no = ApplicationNo::parse(&no).map_err(AppError::invalid)?;
    let row = crate::applications::application_by_no(state.db.reader(), no.as_str())
        .await?
        .ok_or_else(AppError::not_found)?;
    let site = row.site_id;
    if !(actor.may::<Review>(site)
        || actor.may::<crate::auth::grant::ReadDossier>(site)
        || hands_over(&state, &actor, &row).await?)
    {
        return Err(AppError::forbidden());
    }
    let reference = row.photo_ref.ok_or_else(AppError::not_found)?;
    image_response(state.devices.station.image(&reference))
}

/// The pickup window's face camera, now: shown beside the photo taken at acceptance.
async fn pickup_camera(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<String>,
) -> AppResult<Response> {
    let no = ApplicationNo::parse(&no).map_err(AppError::invalid)?;
    let row = crate::applications::application_by_no(state.db.reader(), no.as_str())
        .await?
        .ok_or_else(AppError::not_found)?;
    if row.photo_ref.is_none() || !hands_over(&state, &actor, &row).await? {
        return Err(AppError::forbidden());
    }
    image_response(state.devices.station.live_frame(no.as_str()))
}

/// Whether `actor` is a pickup officer where the application's documents are handed over:
/// the site applied at, the pickup site chosen, or a site keeping one of its documents (they
/// may be sent elsewhere). Others guessing application numbers see no face.
async fn hands_over(
    state: &AppState,
    actor: &Actor,
    row: &crate::applications::ApplicationRow,
) -> AppResult<bool> {
    if actor.may::<HandOver>(row.site_id)
        || row.pickup_site_id.is_some_and(|s| actor.may::<HandOver>(s))
    {
        return Ok(true);
    }
    Ok(store::docs_of_application(state.db.reader(), row.id)
        .await?
        .iter()
        .any(|d| d.custody_site_id.is_some_and(|s| actor.may::<HandOver>(s))))
}

fn image_response(
    image: Result<Option<(&'static str, Vec<u8>)>, crate::devices::DeviceError>,
) -> AppResult<Response> {
    match image {
        Ok(Some((content_type, bytes))) => Ok((
            [
                (axum::http::header::CONTENT_TYPE, content_type),
                (axum::http::header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response()),
        Ok(None) => Err(AppError::not_found()),
        Err(e) => Err(AppError::internal(format!("capture system: {e}"))),
    }
}

// ---- producer ------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "staff/production.html")]
struct ProductionPage {
    page: Page,
    approved: Vec<DocLine>,
    /// `(batch id, its documents in production)`.
    batches: Vec<(i64, Vec<DocLine>)>,
    message: Option<String>,
    error: Option<String>,
}

async fn production_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<ProductionPage> {
    if actor.grant::<Produce>().is_none() {
        return Err(AppError::forbidden());
    }
    let lang = page.lang;
    let visible = |d: &DocRow| actor.may::<Produce>(d.site_id);
    let approved: Vec<DocRow> =
        store::docs_at_stage(state.db.reader(), Stage::Approved, None, None, false)
            .await?
            .into_iter()
            .filter(visible)
            .collect();
    let producing: Vec<DocRow> =
        store::docs_at_stage(state.db.reader(), Stage::InProduction, None, None, false)
            .await?
            .into_iter()
            .filter(visible)
            .collect();
    let mut batches: Vec<(i64, Vec<DocRow>)> = Vec::new();
    for d in producing {
        let b = d.batch_id.unwrap_or_default();
        match batches.iter_mut().find(|(id, _)| *id == b) {
            Some((_, v)) => v.push(d),
            None => batches.push((b, vec![d])),
        }
    }
    let mut batch_lines = Vec::new();
    for (id, docs) in batches {
        batch_lines.push((id, lines(docs, lang)));
    }
    let (message, error) = notes(&q);
    Ok(ProductionPage {
        approved: lines(approved, lang),
        batches: batch_lines,
        message,
        error,
        page,
    })
}

// ---- custodian -----------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "staff/custody.html")]
struct CustodyPage {
    page: Page,
    site: Site,
    produced: Vec<DocLine>,
    held: Vec<(String, String, String, String)>,
    /// The other sites a document can be sent to: (code, name).
    destinations: Vec<(String, String)>,
    message: Option<String>,
    error: Option<String>,
}

async fn custody_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<CustodyPage> {
    let site = chosen_site::<Keep>(&state, &actor, &q.site).await?;
    let lang = page.lang;
    let produced: Vec<DocRow> =
        store::docs_at_stage(state.db.reader(), Stage::Produced, None, None, false)
            .await?
            .into_iter()
            .filter(|d| {
                d.delivery.as_deref() == Some("pickup") && d.pickup_site_id == Some(site.id)
            })
            .collect();
    let held = store::custody_of_site(state.db.reader(), site.id)
        .await?
        .into_iter()
        .map(|(label, cabinet, slot, since)| {
            (label, cabinet, slot, crate::clock::format_local(since))
        })
        .collect();
    let (message, error) = notes(&q);
    let destinations = crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| s.id != site.id && s.kind != crate::sites::SiteKind::KioskPoint)
        .map(|s| (s.code.clone(), format!("{} {}", s.code, s.name(lang))))
        .collect();
    Ok(CustodyPage {
        produced: lines(produced, lang),
        held,
        destinations,
        site,
        message,
        error,
        page,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/uncollected.html")]
struct UncollectedPage {
    page: Page,
    site: Site,
    docs: Vec<DocLine>,
    days: i64,
    action: String,
    message: Option<String>,
}

fn action_name(a: crate::config::ExpiryAction, lang: Lang) -> &'static str {
    match a {
        crate::config::ExpiryAction::Remind => lang.pick("短信再次提醒", "text a reminder"),
        crate::config::ExpiryAction::Return => {
            lang.pick("退回制证中心", "return to the production centre")
        }
        crate::config::ExpiryAction::Void => lang.pick("作废", "void"),
    }
}

async fn uncollected_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<UncollectedPage> {
    let site = chosen_site::<OverseeCustody>(&state, &actor, &q.site).await?;
    let days = state.config.custody_retention_days;
    let docs =
        super::uncollected(&state.applications(), site.id, state.clock.today(), days).await?;
    Ok(UncollectedPage {
        docs: lines(docs, page.lang),
        action: action_name(state.config.custody_expiry_action, page.lang).to_string(),
        days,
        site,
        message: Some(q.ok).filter(|m| !m.is_empty()),
        page,
    })
}

async fn uncollected_apply(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<ActionFields>,
) -> AppResult<Response> {
    let site = chosen_site::<OverseeCustody>(&state, &actor, f.get("site")).await?;
    let handled = super::apply_expiry(
        &state.applications(),
        &super::duty(&actor)?,
        site.id,
        state.clock.today(),
        state.config.custody_retention_days,
        state.config.custody_expiry_action,
    )
    .await?;
    let msg = format!(
        "{}{}",
        page.lang.pick("已处理：", "Handled: "),
        handled.len()
    );
    Ok(back(
        &format!("/staff/custody/uncollected?site={}", site.code),
        "ok",
        &msg,
    ))
}

// ---- pickup --------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "staff/pickup.html")]
struct PickupPage {
    page: Page,
    site: Site,
    number: String,
    applicant: Option<String>,
    /// The application has a photo from acceptance to compare with the live camera.
    photo: bool,
    under_16: bool,
    docs: Vec<DocLine>,
    /// Something is in custody here to issue now.
    collectable: bool,
    message: Option<String>,
    error: Option<String>,
}

async fn pickup_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<PickupPage> {
    let site = chosen_site::<HandOver>(&state, &actor, &q.site).await?;
    let lang = page.lang;
    let (message, mut error) = notes(&q);
    let mut applicant = None;
    let mut photo = false;
    let mut under_16 = false;
    let mut docs = Vec::new();
    if !q.no.trim().is_empty() {
        match ApplicationNo::parse(&q.no) {
            Ok(no) => match crate::applications::dossier(&state.applications(), &no).await {
                Ok(Some(d)) => {
                    applicant = Some(format!(
                        "{} · {}",
                        crate::domain::masking::mask_name(&d.name),
                        d.id_number.masked()
                    ));
                    photo = d.row.photo_ref.is_some();
                    under_16 = d.age_on(state.clock.today())
                        < crate::applications::rules::GUARDIAN_BELOW_AGE;
                    let rows = store::docs_of_application(state.db.reader(), d.row.id).await?;
                    docs = lines(rows, lang);
                    let mut tx = state.db.begin().await?;
                    crate::audit::record(
                        &mut tx,
                        crate::audit::AuditEntry::by(
                            &actor,
                            "application.open",
                            "application",
                            no.as_str(),
                            state.clock.now_ms(),
                        )
                        .site(site.id),
                    )
                    .await?;
                    tx.commit().await?;
                }
                Ok(None) => error = Some(DocumentError::NoSuchDocument.message(lang)),
                Err(e) => return Err(AppError::from(e)),
            },
            Err(e) => error = Some(e.message(lang)),
        }
    }
    let collectable = docs.iter().any(|d| d.slot.is_some());
    Ok(PickupPage {
        collectable,
        number: q.no.trim().to_string(),
        site,
        applicant,
        photo,
        under_16,
        docs,
        message,
        error,
        page,
    })
}

// ---- one action handler for the staff pages ------------------------------------------------

#[derive(Deserialize, Default)]
struct ActionFields {
    #[serde(flatten)]
    f: std::collections::HashMap<String, String>,
}

impl ActionFields {
    fn get(&self, k: &str) -> &str {
        self.f.get(k).map(String::as_str).unwrap_or("").trim()
    }
}

fn back(to: &str, key: &str, value: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    let q = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
    Redirect::to(&format!("{to}{sep}{q}")).into_response()
}

async fn document_action(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(action): Path<String>,
    Form(f): Form<ActionFields>,
) -> AppResult<Response> {
    let lang = page.lang;
    let ctx = state.applications();
    let id: i64 = f.get("id").parse().unwrap_or(0);
    let return_to = match f.get("return") {
        r if r.starts_with("/staff/") => r.to_string(),
        _ => "/staff".to_string(),
    };
    let done = |s: &str| Ok::<String, Failure<DocumentError>>(s.to_string());
    let result: Result<String, Failure<DocumentError>> = match action.as_str() {
        "review" => super::start_review(&ctx, &super::duty(&actor)?, id)
            .await
            .and_then(|_| done(lang.pick("已开始审批。", "Review started."))),
        "approve" => super::approve(&ctx, &super::duty(&actor)?, id)
            .await
            .and_then(|_| done(lang.pick("已审批通过。", "Approved."))),
        "reject" => {
            // The review page asks for a reason from the list plus words; a script may still
            // send its reasons as text alone.
            let reasons = if f.get("reason_code").is_empty() && !f.get("reasons").is_empty() {
                Some(f.get("reasons").to_string())
            } else {
                super::rejection_text(f.get("reason_code"), f.get("reasons"))
            };
            match reasons {
                None => Err(Failure::Refused(DocumentError::ReasonsNeeded)),
                Some(reasons) => super::reject(
                    &ctx,
                    &super::duty(&actor)?,
                    id,
                    &reasons,
                    f.get("acceptance_error") == "yes",
                )
                .await
                .and_then(|_| done(lang.pick("已不予批准。", "Rejected."))),
            }
        }
        "batch" => {
            let ids: Vec<i64> =
                f.f.iter()
                    .filter(|(k, v)| k.starts_with("d:") && matches!(v.as_str(), "on" | "1"))
                    .filter_map(|(k, _)| k[2..].parse().ok())
                    .collect();
            super::start_batch(&ctx, &super::duty(&actor)?, &ids)
                .await
                .map(|b| match lang {
                    Lang::ZhCn => format!("已建制证批次 {b}。"),
                    Lang::En => format!("Production batch {b} started."),
                })
        }
        "finish" => {
            let batch: i64 = f.get("batch").parse().unwrap_or(0);
            let numbers: Vec<(i64, String)> =
                f.f.iter()
                    .filter(|(k, _)| k.starts_with("n:"))
                    .filter_map(|(k, v)| Some((k[2..].parse().ok()?, v.trim().to_string())))
                    .collect();
            super::finish_batch(&ctx, &super::duty(&actor)?, batch, &numbers)
                .await
                .and_then(|_| done(lang.pick("批次制证完成。", "Batch produced.")))
        }
        "check-in" | "move" => {
            let site = crate::sites::site_by_code(state.db.reader(), f.get("site"))
                .await?
                .ok_or_else(AppError::not_found)?;
            if action == "check-in" {
                super::check_in(
                    &ctx,
                    &super::duty(&actor)?,
                    f.get("label"),
                    &site,
                    f.get("cabinet"),
                    f.get("slot"),
                )
                .await
                .map(|s| {
                    format!(
                        "{} {}-{}",
                        lang.pick("已入柜", "Checked in at"),
                        s.cabinet,
                        s.slot
                    )
                })
            } else {
                super::move_document(
                    &ctx,
                    &super::duty(&actor)?,
                    f.get("label"),
                    f.get("cabinet"),
                    f.get("slot"),
                    f.get("reason"),
                )
                .await
                .map(|s| {
                    format!(
                        "{} {}-{}",
                        lang.pick("已移至", "Moved to"),
                        s.cabinet,
                        s.slot
                    )
                })
            }
        }
        "transfer" => {
            let to = crate::sites::site_by_code(state.db.reader(), f.get("to_site"))
                .await?
                .filter(|s| s.active);
            match to {
                Some(to) => super::transfer_site(
                    &ctx,
                    &super::duty(&actor)?,
                    f.get("label"),
                    &to,
                    f.get("reason"),
                )
                .await
                .map(|_| format!("{}{}", lang.pick("已转出至 ", "Sent to "), to.name(lang))),
                None => Err(Failure::Refused(DocumentError::NotForPickupHere)),
            }
        }
        "inventory" => {
            let site = crate::sites::site_by_code(state.db.reader(), f.get("site"))
                .await?
                .ok_or_else(AppError::not_found)?;
            let scanned: Vec<String> = f
                .get("scanned")
                .split_whitespace()
                .map(String::from)
                .collect();
            super::inventory_audit(&ctx, &super::duty(&actor)?, site.id, &scanned)
                .await
                .map(|i| inventory_text(&i, lang))
        }
        "report-error" => {
            super::report_error(&ctx, &super::duty(&actor)?, f.get("label"), f.get("note"))
                .await
                .and_then(|_| {
                    done(lang.pick(
                        "已退回制证并报告带班领导。",
                        "Sent back to production; the duty leader is told.",
                    ))
                })
        }
        "issue" => {
            let site = crate::sites::site_by_code(state.db.reader(), f.get("site"))
                .await?
                .ok_or_else(AppError::not_found)?;
            let no = ApplicationNo::parse(f.get("no")).map_err(AppError::invalid)?;
            if f.get("data_ok") != "on" {
                Err(Failure::Refused(DocumentError::IllegalTransition(
                    Stage::InCustody,
                    Stage::Issued,
                )))
            } else {
                match pickup_input(&f, lang) {
                    Ok(input) => {
                        match super::issue_documents(
                            &ctx,
                            &super::duty(&actor)?,
                            &no,
                            site.id,
                            input,
                        )
                        .await
                        {
                            Ok(i) => Ok(issued_text(&state, &no, &i.labels, lang).await?),
                            Err(e) => Err(e),
                        }
                    }
                    Err(msg) => return Ok(back(&return_to, "error", &msg)),
                }
            }
        }
        _ => return Err(AppError::not_found()),
    };
    match result {
        Ok(msg) => Ok(back(&return_to, "ok", &msg)),
        Err(Failure::Refused(e)) => Ok(back(&return_to, "error", &e.message(lang))),
        Err(other) => Err(AppError::from(other)),
    }
}

/// What the pickup officer is told was handed over: each document by name and its number
/// (masked: the message travels in the page's address), never the internal label.
async fn issued_text(
    state: &AppState,
    no: &ApplicationNo,
    labels: &[String],
    lang: Lang,
) -> AppResult<String> {
    let row = crate::applications::application_by_no(state.db.reader(), no.as_str())
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut handed = Vec::new();
    for (label, kind, sealed) in store::issued_numbers(state.db.reader(), row.id).await? {
        if !label.as_ref().is_some_and(|l| labels.contains(l)) {
            continue;
        }
        let number = match sealed {
            Some(s) => state
                .cipher
                .open(&s)
                .map(|n| crate::domain::masking::mask_middle(&n, 2, 3))
                .map_err(|e| AppError::internal(format!("issued number: {e}")))?,
            None => String::new(),
        };
        handed.push(
            format!("{} {number}", doc_name(&kind, lang))
                .trim()
                .to_string(),
        );
    }
    Ok(format!(
        "{}{}",
        lang.pick("已发证：", "Issued: "),
        handed.join(lang.pick("、", ", "))
    ))
}

fn inventory_text(i: &Inventory, lang: Lang) -> String {
    format!(
        "{} {} · {} {} · {} {}",
        lang.pick("相符", "Matched"),
        i.matched,
        lang.pick("缺失（系统有、柜内无）", "Missing (on record, not found)"),
        if i.missing.is_empty() {
            "—".to_string()
        } else {
            i.missing.join(", ")
        },
        lang.pick("多出（柜内有、系统无）", "Extra (found, not on record)"),
        if i.extra.is_empty() {
            "—".to_string()
        } else {
            i.extra.join(", ")
        },
    )
}

fn pickup_input(f: &ActionFields, lang: Lang) -> Result<PickupInput, String> {
    let id =
        |v: &str, who: &str| IdNumber::parse(v).map_err(|e| format!("{who}{}", e.message(lang)));
    let recipient = match f.get("recipient") {
        "proxy" => Recipient::Proxy {
            id_number: id(f.get("proxy_id"), lang.pick("代领人：", "Proxy: "))?,
            name: f.get("proxy_name").to_string(),
        },
        "guardian" => Recipient::Guardian {
            id_number: id(f.get("guardian_id"), lang.pick("监护人：", "Guardian: "))?,
        },
        _ => Recipient::Applicant,
    };
    Ok(PickupInput {
        applicant_id: f.get("applicant_id").to_string(),
        recipient,
        receipt_presented: f.get("receipt") == "on",
        method: if f.get("method") == "face" {
            VerifyMethod::Face
        } else {
            VerifyMethod::Fingerprint
        },
    })
}

// ---- duty leader ---------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "staff/leader.html")]
struct LeaderPage {
    page: Page,
    today: String,
    overdue: Vec<DocLine>,
    near_due: Vec<DocLine>,
    errors: Vec<(String, String, String)>,
    alerts: usize,
    digest: String,
    /// Per site: (site name, site code, complaints overdue, complaints repeated, bad-rating
    /// cases overdue) — R13's alerts.
    service: Vec<(String, String, i64, i64, i64)>,
    /// Devices that need someone (offline or with a fault): (site, device, what).
    devices: Vec<(String, String, String)>,
}

async fn leader_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
) -> AppResult<LeaderPage> {
    if actor.grant::<Lead>().is_none() {
        return Err(AppError::forbidden());
    }
    let lang = page.lang;
    let w = super::due_watch(&state.applications(), state.clock.today()).await?;
    let mine = |d: &DocRow| actor.may::<Lead>(d.site_id);
    let mut errors = Vec::new();
    let mut alerts = 0;
    let mut service = Vec::new();
    let mut devices = Vec::new();
    let lead = actor.grant::<Lead>().ok_or_else(AppError::forbidden)?;
    // Every device once, not a query per site.
    let all_devices = crate::device_registry::states(&state.db, &state.clock, None).await?;
    for site in crate::sites::list_sites(state.db.reader(), true).await? {
        if actor.may::<Lead>(site.id) {
            let c = crate::complaints::alerts(&state.complaints(), &lead, site.id).await?;
            let overdue_cases = crate::ratings::cases(&state.ratings(), &lead, site.id)
                .await?
                .iter()
                .filter(|v| v.overdue)
                .count() as i64;
            for d in all_devices
                .iter()
                .filter(|d| d.site_id == site.id && d.alerting())
            {
                let faults = d
                    .faults
                    .iter()
                    .map(|f| f.name(lang))
                    .collect::<Vec<_>>()
                    .join(lang.pick("、", ", "));
                let what = if faults.is_empty() {
                    d.state_name(lang).to_string()
                } else {
                    format!("{} · {faults}", d.state_name(lang))
                };
                devices.push((site.name(lang).to_string(), d.name.clone(), what));
            }
            service.push((
                site.name(lang).to_string(),
                site.code.clone(),
                c.overdue,
                c.repeated,
                overdue_cases,
            ));
            for (label, note, at) in store::open_data_errors(state.db.reader(), site.id).await? {
                errors.push((label, note, crate::clock::format_local(at)));
            }
            alerts += crate::applications::open_alerts(state.db.reader(), site.id)
                .await?
                .len();
        }
    }
    let digest = super::daily_digest(&state.applications(), state.clock.today())
        .await?
        .text
        + &state.leader_digest_extra().await?;
    Ok(LeaderPage {
        digest,
        service,
        devices,
        today: w.today.clone(),
        overdue: lines(w.overdue.into_iter().filter(mine).collect(), lang),
        near_due: lines(w.near_due.into_iter().filter(mine).collect(), lang),
        errors,
        alerts,
        page,
    })
}

// ---- labels --------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "staff/label.html")]
struct LabelPage {
    page: Page,
    d: DocLine,
}

async fn label_page(
    State(state): State<AppState>,
    page: Page,
    Staff(_actor): Staff,
    Path(label): Path<String>,
) -> AppResult<LabelPage> {
    let doc = store::doc_by_label(state.db.reader(), &label)
        .await?
        .ok_or_else(AppError::not_found)?;
    let d = lines(vec![doc], page.lang)
        .pop()
        .ok_or_else(AppError::not_found)?;
    Ok(LabelPage { page, d })
}

async fn label_barcode(Staff(_actor): Staff, Path(label): Path<String>) -> AppResult<Response> {
    if label.len() != 20 || !label.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::not_found());
    }
    Ok(crate::queue::web::svg_response(
        crate::applications::web::code128_svg(&label)?,
    ))
}

// ---- citizen progress ----------------------------------------------------------------------

/// What the citizen's progress page shows, public or at the kiosk.
struct ProgressView {
    number: String,
    progress: Option<Progress>,
    error: Option<String>,
    /// Echoed into the "no callbacks" form (the citizen typed it on this request).
    id_number: String,
    /// The citizen has declined the daily callbacks (每日回访).
    callbacks_declined: bool,
    /// Declined on this request.
    declined_now: bool,
}

impl ProgressView {
    fn empty(number: String) -> ProgressView {
        ProgressView {
            number,
            progress: None,
            error: None,
            id_number: String::new(),
            callbacks_declined: false,
            declined_now: false,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "progress.html")]
struct ProgressPage {
    page: Page,
    v: ProgressView,
}

/// The same look-up in the kiosk's shell (issue 14 §1), only on an enrolled kiosk of the site.
#[derive(Template, WebTemplate)]
#[template(path = "kiosk_progress.html")]
struct KioskProgressPage {
    page: Page,
    site: Site,
    v: ProgressView,
    /// Where the "no callbacks" form posts (the kiosk's own address).
    decline_action: String,
}

impl KioskProgressPage {
    fn new(page: Page, site: Site, v: ProgressView) -> KioskProgressPage {
        KioskProgressPage {
            page,
            decline_action: format!("/kiosk/{}/progress/decline-callbacks", site.code),
            site,
            v,
        }
    }
}

async fn progress_form(page: Page, Query(q): Query<ListQuery>) -> ProgressPage {
    ProgressPage {
        page,
        v: ProgressView::empty(q.no),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProgressForm {
    no: String,
    id_number: String,
}

async fn lookup(
    state: &AppState,
    no: &str,
    id: &str,
    lang: Lang,
    ip: &str,
) -> AppResult<Result<Progress, String>> {
    let not_found = || {
        lang.pick(
            "没有查到：请核对申请编号和身份证号码。",
            "Nothing found: check the application number and the ID number.",
        )
        .to_string()
    };
    // Per-address and per-ID limits stop guessing, on counters of their own (a citizen who
    // booked today still looks up their progress); malformed tries count too.
    let parsed = (ApplicationNo::parse(no), IdNumber::parse(id));
    let id_key = parsed
        .1
        .as_ref()
        .ok()
        .map(|id| state.cipher.blind_index(id.as_str()));
    state
        .limits
        .check(
            crate::web::limits::Scope::Progress,
            ip,
            id_key.as_ref().map(|k| k.newest()),
        )
        .await
        .map_err(AppError::rate_limited)?;
    let (Ok(no), Ok(id)) = parsed else {
        return Ok(Err(not_found()));
    };
    let Some(mut p) = super::progress(&state.applications(), &no, &id, lang).await? else {
        return Ok(Err(not_found()));
    };
    p.tracking = crate::express::tracking(&state.applications(), p.application_id, lang).await?;
    Ok(Ok(p))
}

async fn progress_page(
    State(state): State<AppState>,
    page: Page,
    crate::web::extract::Meta(meta): crate::web::extract::Meta,
    Form(f): Form<ProgressForm>,
) -> AppResult<ProgressPage> {
    let v = progress_view(&state, page.lang, &meta.ip, f, false).await?;
    Ok(ProgressPage { page, v })
}

/// Looks the application up and, when `decline` and it matches, records that the citizen
/// declines callbacks; the same page either way.
async fn progress_view(
    state: &AppState,
    lang: Lang,
    ip: &str,
    f: ProgressForm,
    decline: bool,
) -> AppResult<ProgressView> {
    let (progress, error) = match lookup(state, &f.no, &f.id_number, lang, ip).await? {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e)),
    };
    let mut callbacks_declined = false;
    if let Some(p) = &progress {
        let person = applicant_index(state, p.application_id).await?;
        let ctx = state.callbacks();
        if decline {
            crate::callbacks::decline_contact(&ctx, &person).await?;
        }
        callbacks_declined = crate::callbacks::declined(&ctx, &person).await?;
    }
    Ok(ProgressView {
        number: f.no,
        id_number: if progress.is_some() {
            f.id_number
        } else {
            String::new()
        },
        declined_now: decline && progress.is_some(),
        progress,
        error,
        callbacks_declined,
    })
}

/// "No callbacks, please": the citizen, with their application number and ID number, asks not
/// to be drawn for the daily callbacks again.
async fn progress_decline_callbacks(
    State(state): State<AppState>,
    page: Page,
    crate::web::extract::Meta(meta): crate::web::extract::Meta,
    Form(f): Form<ProgressForm>,
) -> AppResult<ProgressPage> {
    let v = progress_view(&state, page.lang, &meta.ip, f, true).await?;
    Ok(ProgressPage { page, v })
}

/// The active site `code` whose enrolled kiosk is asking (403 for any other browser).
async fn kiosk_site(
    state: &AppState,
    device: &crate::device_registry::web::MaybeDevice,
    code: &str,
) -> AppResult<Site> {
    let site = crate::sites::site_by_code(state.db.reader(), code)
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)?;
    crate::device_registry::web::kiosk_of(device, site.id)?;
    Ok(site)
}

async fn kiosk_progress_form(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    Path(code): Path<String>,
) -> AppResult<KioskProgressPage> {
    let site = kiosk_site(&state, &device, &code).await?;
    Ok(KioskProgressPage::new(
        page,
        site,
        ProgressView::empty(String::new()),
    ))
}

async fn kiosk_progress_page(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    crate::web::extract::Meta(meta): crate::web::extract::Meta,
    Path(code): Path<String>,
    Form(f): Form<ProgressForm>,
) -> AppResult<KioskProgressPage> {
    let site = kiosk_site(&state, &device, &code).await?;
    let v = progress_view(&state, page.lang, &meta.ip, f, false).await?;
    Ok(KioskProgressPage::new(page, site, v))
}

async fn kiosk_progress_decline_callbacks(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    crate::web::extract::Meta(meta): crate::web::extract::Meta,
    Path(code): Path<String>,
    Form(f): Form<ProgressForm>,
) -> AppResult<KioskProgressPage> {
    let site = kiosk_site(&state, &device, &code).await?;
    let v = progress_view(&state, page.lang, &meta.ip, f, true).await?;
    Ok(KioskProgressPage::new(page, site, v))
}

/// Declines the daily callbacks for the applicant (by application number and ID number).
#[utoipa::path(post, path = "/api/v1/progress/decline-callbacks", tag = "progress",
    request_body = ProgressQuery,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
async fn api_decline_callbacks(
    State(state): State<AppState>,
    lang: Lang,
    crate::web::extract::Meta(meta): crate::web::extract::Meta,
    Json(q): Json<ProgressQuery>,
) -> AppResult<axum::http::StatusCode> {
    let p = match lookup(&state, &q.application_no, &q.id_number, lang, &meta.ip).await? {
        Ok(p) => p,
        Err(_) => return Err(AppError::not_found()),
    };
    let person = applicant_index(&state, p.application_id).await?;
    crate::callbacks::decline_contact(&state.callbacks(), &person).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The applicant's blind index, from the sealed ID number (every form a rotation may have left).
async fn applicant_index(
    state: &AppState,
    application_id: i64,
) -> AppResult<crate::privacy::BlindIndex> {
    let app = crate::applications::application(state.db.reader(), application_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    state
        .cipher
        .blind_index_of_sealed(&app.id_sealed)
        .map_err(|e| AppError::internal(format!("application {}: {e}", app.application_no)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProgressQuery {
    pub application_no: crate::web::fields::ApplicationNoText,
    pub id_number: crate::web::fields::IdNumberText,
}

/// The progress of an application, for whoever knows its number and the applicant's ID number.
#[utoipa::path(post, path = "/api/v1/progress", tag = "progress",
    request_body = ProgressQuery,
    responses((status = 200, body = Progress), (status = 404, body = crate::error::ErrorBody)))]
async fn api_progress(
    State(state): State<AppState>,
    lang: Lang,
    crate::web::extract::Meta(meta): crate::web::extract::Meta,
    Json(q): Json<ProgressQuery>,
) -> AppResult<axum::Json<Progress>> {
    match lookup(&state, &q.application_no, &q.id_number, lang, &meta.ip).await? {
        Ok(p) => Ok(axum::Json(p)),
        Err(_) => Err(AppError::not_found()),
    }
}

/// Overdue and near-due documents (duty leader).
#[utoipa::path(get, path = "/api/v1/documents/due", tag = "documents",
    responses((status = 200, body = DueWatch)))]
async fn api_due(
    State(state): State<AppState>,
    Staff(actor): Staff,
) -> AppResult<axum::Json<DueWatch>> {
    if actor.grant::<Lead>().is_none() {
        return Err(AppError::forbidden());
    }
    let mut w = super::due_watch(&state.applications(), state.clock.today()).await?;
    w.overdue.retain(|d| actor.may::<Lead>(d.site_id));
    w.near_due.retain(|d| actor.may::<Lead>(d.site_id));
    Ok(axum::Json(w))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InventoryJson {
    /// Site code.
    pub site: crate::web::fields::SiteCodeText,
    /// Every label scanned in the cabinets.
    pub scanned: Vec<String>,
}

/// Compares the records with a scan of the cabinets.
#[utoipa::path(post, path = "/api/v1/custody/inventory", tag = "documents",
    request_body = InventoryJson,
    responses((status = 200, body = Inventory)))]
async fn api_inventory(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Json(b): Json<InventoryJson>,
) -> AppResult<axum::Json<Inventory>> {
    let site = crate::sites::site_by_code(state.db.reader(), &b.site)
        .await?
        .ok_or_else(AppError::not_found)?;
    super::inventory_audit(
        &state.applications(),
        &super::duty(&actor)?,
        site.id,
        &b.scanned,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
}

// ---- the workflow as JSON (issue 12 item 12) -------------------------------------------------

/// The approver's step on one document.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DocumentAction {
    /// Take it for review.
    Review,
    Approve,
    /// Not approved, with the reasons the applicant is told.
    Reject {
        reasons: String,
        /// The application should not have been accepted as it was (受理差错): counts against
        /// the accepting officer's error rate.
        #[serde(default)]
        acceptance_error: bool,
    },
}

/// Reviews, approves or rejects a document (approvers of its site).
#[utoipa::path(post, path = "/api/v1/documents/{id}/actions", tag = "documents",
    params(("id" = i64, Path, description = "Document id")), request_body = DocumentAction,
    responses((status = 200, body = DocRow)))]
async fn api_document_action(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Json(action): Json<DocumentAction>,
) -> AppResult<axum::Json<DocRow>> {
    let ctx = state.applications();
    match action {
        DocumentAction::Review => super::start_review(&ctx, &super::duty(&actor)?, id).await,
        DocumentAction::Approve => super::approve(&ctx, &super::duty(&actor)?, id).await,
        DocumentAction::Reject {
            reasons,
            acceptance_error,
        } => super::reject(&ctx, &super::duty(&actor)?, id, &reasons, acceptance_error).await,
    }
    .map(axum::Json)
    .map_err(AppError::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchJson {
    /// Ids of approved documents; all or none go into the batch.
    pub documents: Vec<i64>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BatchStarted {
    pub batch: i64,
}

/// Starts a production batch (producers; every document approved and paid).
#[utoipa::path(post, path = "/api/v1/production/batches", tag = "documents",
    request_body = BatchJson, responses((status = 201, body = BatchStarted)))]
async fn api_start_batch(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Json(b): Json<BatchJson>,
) -> AppResult<(StatusCode, axum::Json<BatchStarted>)> {
    let batch =
        super::start_batch(&state.applications(), &super::duty(&actor)?, &b.documents).await?;
    Ok((StatusCode::CREATED, axum::Json(BatchStarted { batch })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PrintedNumber {
    pub document: i64,
    /// The number printed on the document (checked against its kind).
    pub number: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FinishJson {
    pub numbers: Vec<PrintedNumber>,
}

/// Finishes a batch: each document gets its printed number and is produced.
#[utoipa::path(post, path = "/api/v1/production/batches/{id}/finish", tag = "documents",
    params(("id" = i64, Path, description = "Batch id")), request_body = FinishJson,
    responses((status = 200, body = Vec<DocRow>)))]
async fn api_finish_batch(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<i64>,
    Json(f): Json<FinishJson>,
) -> AppResult<axum::Json<Vec<DocRow>>> {
    let numbers: Vec<(i64, String)> = f
        .numbers
        .into_iter()
        .map(|n| (n.document, n.number))
        .collect();
    super::finish_batch(&state.applications(), &super::duty(&actor)?, id, &numbers)
        .await
        .map(axum::Json)
        .map_err(AppError::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CheckInJson {
    /// The document's label barcode.
    pub label: String,
    /// Site code of the custody room.
    pub site: crate::web::fields::SiteCodeText,
    pub cabinet: String,
    pub slot: String,
}

/// Checks a produced document into a cabinet slot (custodians); the applicant is told.
#[utoipa::path(post, path = "/api/v1/custody/check-in", tag = "documents",
    request_body = CheckInJson, responses((status = 200, body = store::SlotRow)))]
async fn api_custody_check_in(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Json(b): Json<CheckInJson>,
) -> AppResult<axum::Json<store::SlotRow>> {
    let site = crate::sites::site_by_code(state.db.reader(), b.site.trim())
        .await?
        .ok_or_else(|| AppError::invalid(crate::i18n::BadValue::new("办证点", "Site", &b.site)))?;
    super::check_in(
        &state.applications(),
        &super::duty(&actor)?,
        &b.label,
        &site,
        &b.cabinet,
        &b.slot,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
}

/// Who collects, as the pickup window records it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecipientJson {
    Applicant,
    /// Someone else with their own ID and the receipt.
    Proxy {
        id_number: String,
        name: String,
    },
    /// The guardian of an applicant under 16.
    Guardian {
        id_number: String,
    },
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct IssueJson {
    /// Site code of the pickup window.
    pub site: crate::web::fields::SiteCodeText,
    /// The applicant's ID number as typed or read at the window.
    pub applicant_id: String,
    pub recipient: RecipientJson,
    pub receipt_presented: bool,
    pub method: VerifyMethod,
}

/// Issues every ready document of the application at this site after the identity checks
/// (custodians and officers), exactly as the pickup window does.
#[utoipa::path(post, path = "/api/v1/applications/{no}/issue", tag = "documents",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")), request_body = IssueJson,
    responses((status = 200, body = super::Issued)))]
async fn api_issue(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<IssueJson>,
) -> AppResult<axum::Json<super::Issued>> {
    let no = ApplicationNo::parse(&no).map_err(AppError::invalid)?;
    let site = crate::sites::site_by_code(state.db.reader(), b.site.trim())
        .await?
        .ok_or_else(|| AppError::invalid(crate::i18n::BadValue::new("办证点", "Site", &b.site)))?;
    let id = |v: &str| IdNumber::parse(v).map_err(AppError::invalid);
    let recipient = match b.recipient {
        RecipientJson::Applicant => Recipient::Applicant,
        RecipientJson::Proxy { id_number, name } => Recipient::Proxy {
            id_number: id(&id_number)?,
            name,
        },
        RecipientJson::Guardian { id_number } => Recipient::Guardian {
            id_number: id(&id_number)?,
        },
    };
    let input = PickupInput {
        applicant_id: b.applicant_id,
        recipient,
        receipt_presented: b.receipt_presented,
        method: b.method,
    };
    super::issue_documents(
        &state.applications(),
        &super::duty(&actor)?,
        &no,
        site.id,
        input,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MoveJson {
    pub label: String,
    pub cabinet: String,
    pub slot: String,
    /// Why it moves (recorded).
    pub reason: String,
}

/// Moves a document in custody to another slot of its site (custodians), on record.
#[utoipa::path(post, path = "/api/v1/custody/move", tag = "documents",
    request_body = MoveJson, responses((status = 200, body = store::SlotRow)))]
async fn api_custody_move(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Json(b): Json<MoveJson>,
) -> AppResult<axum::Json<store::SlotRow>> {
    super::move_document(
        &state.applications(),
        &super::duty(&actor)?,
        &b.label,
        &b.cabinet,
        &b.slot,
        &b.reason,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
}
