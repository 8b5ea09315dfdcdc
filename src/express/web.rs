//! Pages and API of express delivery: the express desk (ship what is ready, waybill labels),
//! the courier's signed webhook, the inbound waybill of two-way express, and the courier
//! simulator's console for the demo.

use crate::auth::grant::Keep;
use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::courier::TrackingStatus;
use super::{Shipment, WebhookOutcome};
use crate::auth::Failure;
use crate::domain::application_no::ApplicationNo;
use crate::error::{AppError, AppResult};
use crate::i18n::UserMessage;
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Form, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/staff/express", get(desk).post(ship))
        .route("/staff/express/{waybill}/label", get(label))
        .route("/staff/express/{waybill}/barcode.svg", get(barcode))
        .route("/sim/courier/{waybill}", post(simulate_move))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_webhook))
        .routes(routes!(api_inbound))
        .routes(routes!(api_ship))
}

pub struct ShipmentLine {
    pub s: Shipment,
    pub application_no: String,
    pub status: String,
    pub created: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/express.html")]
struct Desk {
    page: Page,
    site: Site,
    ready: usize,
    shipments: Vec<ShipmentLine>,
    simulator: bool,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeskQuery {
    site: String,
    ok: String,
    error: String,
}

async fn desk_site(state: &AppState, actor: &crate::auth::Actor, code: &str) -> AppResult<Site> {
    let sites = crate::sites::list_sites(state.db.reader(), true).await?;
    let site = if code.is_empty() {
        sites.into_iter().find(|s| actor.may::<Keep>(s.id))
    } else {
        sites.into_iter().find(|s| s.code == code)
    };
    site.filter(|s| actor.may::<Keep>(s.id))
        .ok_or_else(AppError::forbidden)
}

async fn desk(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<DeskQuery>,
) -> AppResult<Desk> {
    let site = desk_site(&state, &actor, &q.site).await?;
    let ctx = state.applications();
    let lang = page.lang;
    let ready = crate::documents::docs_at_stage(
        state.db.reader(),
        crate::documents::flow::Stage::Produced,
        Some(site.id),
        None,
        false,
    )
    .await?
    .iter()
    .filter(|d| d.delivery.as_deref() == Some("express"))
    .count();
    let mut shipments = Vec::new();
    for s in super::recent_shipments(&ctx, site.id).await? {
        let application_no = crate::applications::application(state.db.reader(), s.application_id)
            .await?
            .map(|a| a.application_no)
            .unwrap_or_default();
        shipments.push(ShipmentLine {
            status: TrackingStatus::parse(&s.status)
                .map(|t| t.name(lang).to_string())
                .unwrap_or_else(|| lang.pick("已生成运单", "Waybill created").to_string()),
            created: crate::clock::format_local(s.created_at),
            application_no,
            s,
        });
    }
    Ok(Desk {
        site,
        ready,
        shipments,
        simulator: state.devices.courier_simulator.is_some(),
        message: Some(q.ok).filter(|m| !m.is_empty()),
        error: Some(q.error).filter(|m| !m.is_empty()),
        page,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ShipForm {
    site: String,
}

async fn ship(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<ShipForm>,
) -> AppResult<Response> {
    let site = desk_site(&state, &actor, &f.site).await?;
    let lang = page.lang;
    let back = |k: &str, v: &str| {
        let q =
            serde_urlencoded::to_string([("site", site.code.as_str()), (k, v)]).unwrap_or_default();
        Redirect::to(&format!("/staff/express?{q}")).into_response()
    };
    match super::ship_ready(
        &state.applications(),
        state.devices.courier.as_ref(),
        &super::dispatcher(&actor)?,
        site.id,
    )
    .await
    {
        Ok(s) => Ok(back(
            "ok",
            &format!(
                "{}{}",
                lang.pick("已交寄运单数：", "Waybills created: "),
                s.len()
            ),
        )),
        Err(Failure::Refused(e)) => Ok(back("error", &e.message(lang))),
        Err(other) => Err(AppError::from(other)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/waybill.html")]
struct Label {
    page: Page,
    s: Shipment,
    to: String,
    from: Site,
    application_no: String,
}

async fn label(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(waybill): Path<String>,
) -> AppResult<Label> {
    let ctx = state.applications();
    let s = super::shipment_by_waybill(&ctx, &waybill)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !actor.may::<Keep>(s.site_id) {
        return Err(AppError::forbidden());
    }
    let sealed = super::recipient_sealed(&ctx, s.id).await?;
    let to = match state
        .cipher
        .open(&sealed)
        .ok()
        .and_then(|j| serde_json::from_str::<crate::applications::Delivery>(&j).ok())
    {
        Some(crate::applications::Delivery::Express {
            recipient,
            phone,
            address,
        }) => format!("{recipient} · {phone} · {address}"),
        // Erased after the retention period: the label of an old parcel has no recipient.
        _ if crate::privacy::is_erased(&sealed) => crate::privacy::ERASED_SHOWN.to_string(),
        // Our own sealed address that does not open: a fault, not a blank label.
        _ => {
            return Err(AppError::internal(format!(
                "shipment {}: the recipient does not open",
                s.id
            )));
        }
    };
    let from = crate::sites::site(state.db.reader(), s.site_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let application_no = crate::applications::application(state.db.reader(), s.application_id)
        .await?
        .map(|a| a.application_no)
        .ok_or_else(|| AppError::internal(format!("shipment {} without its application", s.id)))?;
    let mut tx = state.db.begin().await?;
    crate::audit::record(
        &mut tx,
        crate::audit::AuditEntry::by(
            &actor,
            "express.label",
            "shipment",
            &s.waybill_no,
            state.clock.now_ms(),
        )
        .site(s.site_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Label {
        page,
        s,
        to,
        from,
        application_no,
    })
}

async fn barcode(Staff(_actor): Staff, Path(waybill): Path<String>) -> AppResult<Response> {
    if waybill.len() > 20 || !waybill.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(AppError::not_found());
    }
    Ok(crate::queue::web::svg_response(
        crate::applications::web::code128_svg(&waybill)?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MoveForm {
    status: String,
    location: String,
    site: String,
}

/// The courier simulator's console: a custodian moves a demo parcel; the simulator signs the
/// webhook and delivers it through the same handler as the HTTP endpoint.
async fn simulate_move(
    State(state): State<AppState>,
    Staff(_actor): Staff,
    Path(waybill): Path<String>,
    Form(f): Form<MoveForm>,
) -> AppResult<Response> {
    let sim = state
        .devices
        .courier_simulator
        .clone()
        .ok_or_else(AppError::not_found)?;
    let status = TrackingStatus::parse(&f.status).ok_or_else(AppError::not_found)?;
    let (body, signature) =
        sim.sign_update(&waybill, status, f.location.trim(), state.clock.now_ms());
    super::handle_webhook(&state.applications(), sim.as_ref(), &body, &signature).await?;
    Ok(Redirect::to(&format!("/staff/express?site={}", f.site)).into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookJson {
    pub outcome: WebhookOutcome,
}

/// The courier's signed tracking webhook (signature in `X-Signature`). Forged ones are answered
/// 400 and change nothing; repeated events change nothing.
#[utoipa::path(post, path = "/api/v1/express/webhook", tag = "express",
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = WebhookJson), (status = 400, body = WebhookJson)))]
async fn api_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    // Bytes that are not UTF-8 cannot carry a valid signature: they are verified (and refused,
    // recorded as forged) like any other, and the answer keeps its documented shape.
    let body = String::from_utf8_lossy(&body);
    let signature = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let outcome = super::handle_webhook(
        &state.applications(),
        state.devices.courier.as_ref(),
        &body,
        signature,
    )
    .await?;
    let status = if outcome == WebhookOutcome::Forged {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(WebhookJson { outcome })).into_response())
}

/// Two-way express: the waybill under which the applicant sends the permit in.
#[utoipa::path(post, path = "/api/v1/applications/{no}/inbound", tag = "express",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    responses((status = 200, body = Shipment), (status = 422, body = crate::error::ErrorBody)))]
async fn api_inbound(
    State(state): State<AppState>,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
) -> AppResult<axum::Json<Shipment>> {
    let no = ApplicationNo::parse(&no).map_err(AppError::invalid)?;
    super::create_inbound(&state.applications(), state.devices.courier.as_ref(), &no)
        .await
        .map(axum::Json)
        .map_err(AppError::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ShipJson {
    /// Site code of the express desk.
    site: crate::web::fields::SiteCodeText,
}

/// Ships every produced document of the site's express applications, one waybill per paid
/// application (custodians): the express desk as JSON (issue 12 item 12).
#[utoipa::path(post, path = "/api/v1/express/ship", tag = "express",
    request_body = ShipJson, responses((status = 200, body = Vec<Shipment>)))]
async fn api_ship(
    State(state): State<AppState>,
    crate::web::extract::Staff(actor): crate::web::extract::Staff,
    crate::web::extract::Json(b): crate::web::extract::Json<ShipJson>,
) -> AppResult<axum::Json<Vec<Shipment>>> {
    let site = crate::sites::site_by_code(state.db.reader(), b.site.trim())
        .await?
        .ok_or_else(|| AppError::invalid(crate::i18n::BadValue::new("办证点", "Site", &b.site)))?;
    let courier = state.devices.courier.clone();
    super::ship_ready(
        &state.applications(),
        courier.as_ref(),
        &super::dispatcher(&actor)?,
        site.id,
    )
    .await
    .map(axum::Json)
    .map_err(AppError::from)
}
