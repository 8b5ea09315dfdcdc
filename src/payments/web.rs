//! Pages and API of payment: the cashier's window (cash, card, QR orders, query, refund),
//! paying at the kiosk by QR, the provider's notification endpoint, the simulator's wallet
//! page, and the daily reconciliation (page, CSV and JSON).

use crate::auth::grant::{Collect, Reconcile};
use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{PaymentRow, RefundRow};
use super::{
    Bill, BillView, Method, OnlineOrder, Payment, PaymentStatus, Reconciliation, Settlement,
};
use crate::applications::web::yuan;
use crate::auth::{Actor, Failure};
use crate::domain::application_no::ApplicationNo;
use crate::domain::money::Money;
use crate::error::{AppError, AppResult};
use crate::i18n::BadValue;
use crate::i18n::{Lang, UserMessage};
use crate::sites::Site;
use crate::web::AppState;
use crate::web::extract::{Form, Json, Query, Staff};
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/staff/cashier", get(cashier_page))
        .route("/staff/cashier/{no}/pay", post(cashier_pay))
        .route("/staff/cashier/{no}/order", post(cashier_order))
        .route("/staff/cashier/order/{order}", get(cashier_order_page))
        .route("/staff/cashier/order/{order}/query", post(cashier_query))
        .route("/staff/cashier/refund", post(cashier_refund))
        .route("/staff/reconciliation", get(reconciliation_page))
        .route("/payments/{order}/qr.svg", get(order_qr))
        .route(
            "/kiosk/{site}/pay",
            get(kiosk_pay_page).post(kiosk_pay_start),
        )
        .route("/kiosk/{site}/pay/{order}", get(kiosk_order_page))
        .route("/sim/pay/{order}", get(wallet_page).post(wallet_confirm))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_bill))
        .routes(routes!(api_pay))
        .routes(routes!(api_order))
        .routes(routes!(api_notify))
        .routes(routes!(api_query))
        .routes(routes!(api_refund))
        .routes(routes!(api_reconciliation))
}

/// Who may see an application's bill or open an order on it: an enrolled kiosk (of any site:
/// any site accepts, R12), signed-in staff, or someone claiming to be the applicant with their
/// ID number in `X-Applicant-Id-Number` (checked against the application, limited like the
/// progress look-up). Nobody else: an application number alone opens nothing (issue 14 §3).
/// An extractor, so a caller with none of them is told 401 before anything else is read.
enum MoneyCaller {
    Trusted { device: Option<i64> },
    Applicant(String),
}

impl axum::extract::FromRequestParts<AppState> for MoneyCaller {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, AppError> {
        let device = crate::device_registry::web::MaybeDevice::from_request_parts(parts, state)
            .await?
            .0
            .filter(|d| d.kind == crate::device_registry::Kind::Kiosk);
        if let Some(d) = device {
            return Ok(MoneyCaller::Trusted { device: Some(d.id) });
        }
        if crate::web::extract::MaybeStaff::from_request_parts(parts, state)
            .await?
            .0
            .is_some()
        {
            return Ok(MoneyCaller::Trusted { device: None });
        }
        match parts
            .headers
            .get("x-applicant-id-number")
            .and_then(|v| v.to_str().ok())
        {
            Some(claimed) => Ok(MoneyCaller::Applicant(claimed.to_string())),
            None => Err(AppError::new(
                StatusCode::UNAUTHORIZED,
                crate::device_registry::web::NotADevice,
            )),
        }
    }
}

/// The application number, once the caller may see its money.
async fn may_see_money(
    state: &AppState,
    caller: &MoneyCaller,
    ip: &str,
    no: &str,
) -> AppResult<ApplicationNo> {
    let no = parse_no(no)?;
    let MoneyCaller::Applicant(claimed) = caller else {
        return Ok(no);
    };
    let id = crate::domain::id_number::IdNumber::parse(claimed).ok();
    let key = id.as_ref().map(|i| state.cipher.blind_index(i.as_str()));
    state
        .limits
        .check(
            crate::web::limits::Scope::Progress,
            ip,
            key.as_ref().map(|k| k.newest()),
        )
        .await
        .map_err(AppError::rate_limited)?;
    let row = crate::applications::application_by_no(state.db.reader(), no.as_str()).await?;
    match (row, key) {
        (Some(r), Some(k)) if k.matches(&r.id_index) => Ok(no),
        // Not theirs, or no such application: the same answer.
        _ => Err(AppError::not_found()),
    }
}

fn parse_no(input: &str) -> AppResult<ApplicationNo> {
    ApplicationNo::parse(input).map_err(AppError::invalid)
}

fn settlement_text(s: Settlement, lang: Lang) -> &'static str {
    match s {
        Settlement::Paid | Settlement::Duplicate => lang.pick("已支付", "Paid"),
        Settlement::Pending => lang.pick("等待支付…", "Waiting for payment…"),
        Settlement::Forged | Settlement::Mismatch => {
            lang.pick("支付结果无法确认", "The payment could not be confirmed")
        }
        Settlement::PaidTwiceRefunded => lang.pick(
            "该申请已用其他方式缴费，本笔已原路退回",
            "Already paid another way; this payment was refunded",
        ),
    }
}

// ---- cashier -------------------------------------------------------------------------------

pub struct RefundLine {
    pub refund_no: String,
    pub amount: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/cashier.html")]
struct CashierPage {
    page: Page,
    number: String,
    bill: Option<Bill>,
    amount: String,
    paid: Option<PaymentRow>,
    paid_method: String,
    paid_at: String,
    refunds: Vec<RefundLine>,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CashierQuery {
    no: String,
    ok: String,
    error: String,
}

async fn cashier_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<CashierQuery>,
) -> AppResult<CashierPage> {
    let lang = page.lang;
    if actor.grant::<Collect>().is_none() {
        return Err(AppError::forbidden());
    }
    let mut error = Some(q.error.clone()).filter(|e| !e.is_empty());
    let bill = if q.no.trim().is_empty() {
        None
    } else {
        match ApplicationNo::parse(&q.no) {
            Ok(no) => match super::bill(&state.payments(), &no).await {
                Ok(b) => Some(b),
                Err(Failure::Refused(e)) => {
                    error = Some(e.message(lang));
                    None
                }
                Err(other) => return Err(AppError::from(other)),
            },
            Err(e) => {
                error = Some(e.message(lang));
                None
            }
        }
    };
    let paid = bill.as_ref().and_then(|b| b.paid.clone());
    let refunds = match &paid {
        Some(p) => super::store::refunds_of(state.db.reader(), p.id)
            .await?
            .into_iter()
            .map(|r| RefundLine {
                refund_no: r.refund_no,
                amount: yuan(r.amount_fen),
                reason: r.reason,
            })
            .collect(),
        None => Vec::new(),
    };
    let message = match q.ok.as_str() {
        "paid" => Some(
            lang.pick("缴费成功，已出具收费票据。", "Paid; the receipt is issued.")
                .to_string(),
        ),
        "refunded" => Some(lang.pick("退款已办理。", "Refund made.").to_string()),
        _ => None,
    };
    Ok(CashierPage {
        number: q.no.trim().to_string(),
        amount: bill
            .as_ref()
            .map(|b| yuan(b.amount_fen))
            .unwrap_or_default(),
        paid_method: paid
            .as_ref()
            .map(|p| p.method.name(lang).to_string())
            .unwrap_or_default(),
        paid_at: paid
            .as_ref()
            .and_then(|p| p.paid_at)
            .map(crate::clock::format_local)
            .unwrap_or_default(),
        paid,
        refunds,
        bill,
        message,
        error,
        page,
    })
}

fn cashier_back(no: &str, key: &str, value: &str) -> Response {
    let q = serde_urlencoded::to_string([("no", no), (key, value)]).unwrap_or_default();
    Redirect::to(&format!("/staff/cashier?{q}")).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PayForm {
    method: String,
    pos_ref: String,
}

async fn cashier_pay(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(no): Path<String>,
    Form(f): Form<PayForm>,
) -> AppResult<Response> {
    let number = parse_no(&no)?;
    let Some(method) = Method::parse(&f.method) else {
        let e = BadValue::new("缴费方式", "Payment method", &f.method);
        return Ok(cashier_back(&no, "error", &e.message(page.lang)));
    };
    match super::pay_at_window(
        &state.payments(),
        &super::collect(&actor)?,
        &number,
        method,
        Some(&f.pos_ref),
    )
    .await
    {
        Ok(_) => Ok(cashier_back(&no, "ok", "paid")),
        Err(Failure::Refused(e)) => Ok(cashier_back(&no, "error", &e.message(page.lang))),
        Err(other) => Err(AppError::from(other)),
    }
}

async fn cashier_order(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Path(no): Path<String>,
    Form(f): Form<PayForm>,
) -> AppResult<Response> {
    let number = parse_no(&no)?;
    let Some(method) = Method::parse(&f.method) else {
        let e = BadValue::new("缴费方式", "Payment method", &f.method);
        return Ok(cashier_back(&no, "error", &e.message(page.lang)));
    };
    match super::create_order(
        &state.payments(),
        Some(&super::collect(&actor)?),
        &number,
        method,
        "window",
    )
    .await
    {
        Ok(o) => Ok(Redirect::to(&format!("/staff/cashier/order/{}", o.order_no)).into_response()),
        Err(Failure::Refused(e)) => Ok(cashier_back(&no, "error", &e.message(page.lang))),
        Err(other) => Err(AppError::from(other)),
    }
}

/// A payment order as the cashier's window and the kiosk show it.
struct OrderView {
    order: PaymentRow,
    application_no: String,
    method: String,
    amount: String,
    status: String,
    paid: bool,
    receipt_token: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pay_order.html")]
struct OrderPage {
    page: Page,
    o: OrderView,
    staff: bool,
    back: String,
}

async fn order_view(state: &AppState, lang: Lang, order_no: &str) -> AppResult<OrderView> {
    let order = super::store::payment_by_order(state.db.reader(), order_no)
        .await?
        .ok_or_else(AppError::not_found)?;
    let app = crate::applications::application(state.db.reader(), order.application_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let paid = order.status == PaymentStatus::Paid;
    let status = match order.status {
        PaymentStatus::Paid => settlement_text(Settlement::Paid, lang),
        PaymentStatus::Closed => settlement_text(Settlement::PaidTwiceRefunded, lang),
        PaymentStatus::Pending => settlement_text(Settlement::Pending, lang),
    }
    .to_string();
    Ok(OrderView {
        application_no: app.application_no,
        method: order.method.name(lang).to_string(),
        amount: yuan(order.amount_fen),
        status,
        paid,
        receipt_token: paid.then_some(app.token),
        order,
    })
}

async fn order_page(
    state: &AppState,
    page: Page,
    order_no: &str,
    staff: bool,
    back: String,
) -> AppResult<OrderPage> {
    Ok(OrderPage {
        o: order_view(state, page.lang, order_no).await?,
        staff,
        back,
        page,
    })
}

async fn cashier_order_page(
    State(state): State<AppState>,
    page: Page,
    Staff(_actor): Staff,
    Path(order): Path<String>,
) -> AppResult<OrderPage> {
    let p = super::store::payment_by_order(state.db.reader(), &order)
        .await?
        .ok_or_else(AppError::not_found)?;
    let app = crate::applications::application(state.db.reader(), p.application_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    order_page(
        &state,
        page,
        &order,
        true,
        format!("/staff/cashier?no={}", app.application_no),
    )
    .await
}

async fn cashier_query(
    State(state): State<AppState>,
    Staff(_actor): Staff,
    Path(order): Path<String>,
) -> AppResult<Response> {
    super::query_order(&state.payments(), &order).await?;
    Ok(Redirect::to(&format!("/staff/cashier/order/{order}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RefundForm {
    no: String,
    receipt_no: String,
    amount: String,
    reason: String,
    #[serde(default)]
    officer_error: String,
}

async fn cashier_refund(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Form(f): Form<RefundForm>,
) -> AppResult<Response> {
    let lang = page.lang;
    let amount = match Money::parse(&f.amount) {
        Ok(m) => m.fen(),
        Err(e) => return Ok(cashier_back(&f.no, "error", &e.message(lang))),
    };
    match super::refund(
        &state.payments(),
        &super::collect(&actor)?,
        &f.receipt_no,
        amount,
        &f.reason,
        f.officer_error == "yes",
    )
    .await
    {
        Ok(_) => Ok(cashier_back(&f.no, "ok", "refunded")),
        Err(Failure::Refused(e)) => Ok(cashier_back(&f.no, "error", &e.message(lang))),
        Err(other) => Err(AppError::from(other)),
    }
}

async fn order_qr(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(order): Path<String>,
) -> AppResult<Response> {
    super::store::payment_by_order(state.db.reader(), &order)
        .await?
        .ok_or_else(AppError::not_found)?;
    let base = crate::queue::web::public_base(&state.config, &headers);
    crate::queue::web::qr_svg(&format!("{base}/sim/pay/{order}"), 220)
}

// ---- kiosk ---------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "kiosk_pay.html")]
struct KioskPay {
    page: Page,
    site: Site,
    number: String,
    error: Option<String>,
}

async fn kiosk_site(state: &AppState, code: &str) -> AppResult<Site> {
    crate::sites::site_by_code(state.db.reader(), code)
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)
}

async fn kiosk_pay_page(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    Path(code): Path<String>,
) -> AppResult<KioskPay> {
    let site = kiosk_site(&state, &code).await?;
    crate::device_registry::web::kiosk_of(&device, site.id)?;
    Ok(KioskPay {
        site,
        page,
        number: String::new(),
        error: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KioskPayForm {
    number: String,
    method: String,
}

async fn kiosk_pay_start(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    Path(code): Path<String>,
    Form(f): Form<KioskPayForm>,
) -> AppResult<Response> {
    let site = kiosk_site(&state, &code).await?;
    crate::device_registry::web::kiosk_of(&device, site.id)?;
    let lang = page.lang;
    let method = Method::parse(&f.method)
        .filter(|m| m.online())
        .unwrap_or(Method::Alipay);
    let error = match ApplicationNo::parse(&f.number) {
        Ok(no) => match super::create_order(&state.payments(), None, &no, method, "kiosk").await {
            Ok(o) => {
                return Ok(
                    Redirect::to(&format!("/kiosk/{}/pay/{}", site.code, o.order_no))
                        .into_response(),
                );
            }
            Err(Failure::Refused(e)) => e.message(lang),
            Err(other) => return Err(AppError::from(other)),
        },
        Err(e) => e.message(lang),
    };
    Ok(KioskPay {
        site,
        page,
        number: f.number,
        error: Some(error),
    }
    .into_response())
}

/// The order's QR code on the kiosk, in the kiosk's shell: the page looks again every few
/// seconds until the citizen has paid, then says so with the way home.
#[derive(Template, WebTemplate)]
#[template(path = "kiosk_pay_order.html")]
struct KioskOrderPage {
    page: Page,
    site: Site,
    o: OrderView,
}

async fn kiosk_order_page(
    State(state): State<AppState>,
    page: Page,
    device: crate::device_registry::web::MaybeDevice,
    Path((code, order)): Path<(String, String)>,
) -> AppResult<KioskOrderPage> {
    let site = kiosk_site(&state, &code).await?;
    crate::device_registry::web::kiosk_of(&device, site.id)?;
    Ok(KioskOrderPage {
        o: order_view(&state, page.lang, &order).await?,
        site,
        page,
    })
}

// ---- simulator wallet ----------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "sim_wallet.html")]
struct WalletPage {
    page: Page,
    order: String,
    amount: String,
    done: Option<String>,
}

async fn wallet_page(
    State(state): State<AppState>,
    page: Page,
    Path(order): Path<String>,
) -> AppResult<WalletPage> {
    let sim = state
        .devices
        .payment_simulator
        .as_ref()
        .ok_or_else(AppError::not_found)?;
    let amount = sim
        .order_amount(&state.db, &order)
        .await
        .map_err(AppError::internal)?
        .ok_or_else(AppError::not_found)?;
    Ok(WalletPage {
        page,
        order,
        amount: yuan(amount),
        done: None,
    })
}

async fn wallet_confirm(
    State(state): State<AppState>,
    page: Page,
    Path(order): Path<String>,
) -> AppResult<WalletPage> {
    let outcome = super::simulate_customer_payment(&state.payments(), &order).await?;
    let amount = super::store::payment_by_order(state.db.reader(), &order)
        .await?
        .map(|p| yuan(p.amount_fen))
        .unwrap_or_default();
    Ok(WalletPage {
        done: Some(settlement_text(outcome, page.lang).to_string()),
        page,
        order,
        amount,
    })
}

// ---- reconciliation ------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReconQuery {
    site: String,
    date: String,
    format: String,
}

/// The reconciliation query as the JSON API takes it.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ApiReconQuery {
    /// Site code; the first site the account reconciles when left out.
    site: Option<crate::web::fields::SiteCodeText>,
    /// `YYYY-MM-DD`; today when left out.
    #[param(format = Date)]
    date: Option<String>,
}

async fn reconciliation_for(
    state: &AppState,
    actor: &Actor,
    q: &ReconQuery,
) -> AppResult<(Site, Reconciliation)> {
    let site = if q.site.is_empty() {
        crate::sites::list_sites(state.db.reader(), true)
            .await?
            .into_iter()
            .find(|s| reconciles(actor, s.id))
            .ok_or_else(AppError::forbidden)?
    } else {
        kiosk_site(state, &q.site).await?
    };
    if !reconciles(actor, site.id) {
        return Err(AppError::forbidden());
    }
    let date = if q.date.is_empty() {
        state.clock.today()
    } else {
        q.date.parse().map_err(|_| {
            AppError::invalid(crate::error::CommonError::BadRequest(format!(
                "date {}",
                q.date
            )))
        })?
    };
    let r = super::reconcile(&state.payments(), site.id, date).await?;
    Ok((site, r))
}

fn reconciles(actor: &Actor, site: i64) -> bool {
    actor.may::<Reconcile>(site)
}

pub struct ReconRow {
    pub method: String,
    pub payments: i64,
    pub paid: String,
    pub refunds: i64,
    pub refunded: String,
    pub net: String,
    pub provider: String,
    pub balanced: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/reconciliation.html")]
struct ReconPage {
    page: Page,
    site: Site,
    r: Reconciliation,
    rows: Vec<ReconRow>,
    total: String,
    sites: Vec<Site>,
}

async fn reconciliation_page(
    State(state): State<AppState>,
    page: Page,
    Staff(actor): Staff,
    Query(q): Query<ReconQuery>,
) -> AppResult<Response> {
    let (site, r) = reconciliation_for(&state, &actor, &q).await?;
    let lang = page.lang;
    if q.format == "csv" {
        let mut csv = String::from(
            "site,date,method,payments,paid_yuan,refunds,refunded_yuan,net_yuan,provider_net_yuan,balanced\n",
        );
        for l in &r.lines {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                site.code,
                r.date,
                l.method.code(),
                l.payments,
                yuan(l.paid_fen),
                l.refunds,
                yuan(l.refunded_fen),
                signed_yuan(l.net_fen),
                l.provider_net_fen.map(signed_yuan).unwrap_or_default(),
                l.balanced
            ));
        }
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"reconciliation-{}-{}.csv\"",
                        site.code, r.date
                    ),
                ),
            ],
            csv,
        )
            .into_response());
    }
    let rows = r
        .lines
        .iter()
        .map(|l| ReconRow {
            method: l.method.name(lang).to_string(),
            payments: l.payments,
            paid: yuan(l.paid_fen),
            refunds: l.refunds,
            refunded: yuan(l.refunded_fen),
            net: signed_yuan(l.net_fen),
            provider: l
                .provider_net_fen
                .map(signed_yuan)
                .unwrap_or_else(|| "—".into()),
            balanced: l.balanced,
        })
        .collect();
    let sites = crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| reconciles(&actor, s.id))
        .collect();
    Ok(ReconPage {
        total: signed_yuan(r.total_net_fen),
        rows,
        site,
        r,
        sites,
        page,
    }
    .into_response())
}

fn signed_yuan(fen: i64) -> String {
    if fen < 0 {
        format!("-{}", yuan(-fen))
    } else {
        yuan(fen)
    }
}

// ---- JSON API ------------------------------------------------------------------------------

/// What is due on an accepted application.
#[utoipa::path(get, path = "/api/v1/applications/{no}/bill", tag = "payments",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    responses((status = 200, body = BillView), (status = 422, body = crate::error::ErrorBody)))]
async fn api_bill(
    State(state): State<AppState>,
    caller: MoneyCaller,
    crate::web::extract::Meta(meta): crate::web::extract::Meta,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
) -> AppResult<axum::Json<BillView>> {
    let no = may_see_money(&state, &caller, &meta.ip, &no).await?;
    // What is due; who paid how is for staff (BillView leaves it out).
    let bill = super::bill(&state.payments(), &no).await?;
    Ok(axum::Json(BillView::from(&bill)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PayJson {
    /// `cash` or `card` at the window (the online methods go through an order).
    pub method: Method,
    /// The POS slip reference for a card payment.
    #[serde(default)]
    pub pos_ref: Option<String>,
}

/// Cash or card at the window: paid at once, with its receipt number.
#[utoipa::path(post, path = "/api/v1/applications/{no}/payments", tag = "payments",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = PayJson,
    responses((status = 201, body = Payment), (status = 409, body = crate::error::ErrorBody)))]
async fn api_pay(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<PayJson>,
) -> AppResult<(StatusCode, axum::Json<Payment>)> {
    let no = parse_no(&no)?;
    let p = super::pay_at_window(
        &state.payments(),
        &super::collect(&actor)?,
        &no,
        b.method,
        b.pos_ref.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(Payment::from(&p))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OrderJson {
    /// `alipay` or `wechat`.
    pub method: Method,
    /// Where the citizen scans the code (default `kiosk`).
    #[serde(default)]
    pub channel: Option<OrderChannel>,
}

/// Where an online order is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderChannel {
    Window,
    Kiosk,
}

/// Creates an Alipay / WeChat Pay order; the citizen scans `pay_url`.
#[utoipa::path(post, path = "/api/v1/applications/{no}/orders", tag = "payments",
    params(("no" = crate::web::fields::ApplicationNoText, Path, description = "Application number")),
    request_body = OrderJson,
    responses((status = 201, body = OnlineOrder)))]
async fn api_order(
    State(state): State<AppState>,
    caller: MoneyCaller,
    crate::web::extract::Meta(meta): crate::web::extract::Meta,
    Path(no): Path<crate::web::fields::ApplicationNoText>,
    Json(b): Json<OrderJson>,
) -> AppResult<(StatusCode, axum::Json<OnlineOrder>)> {
    let no = may_see_money(&state, &caller, &meta.ip, &no).await?;
    // A kiosk is limited as itself, anyone else by address: scripts cannot pile up orders.
    let limit_key = match caller {
        MoneyCaller::Trusted { device: Some(id) } => format!("device-{id}"),
        _ => meta.ip.clone(),
    };
    state
        .limits
        .check(crate::web::limits::Scope::Orders, &limit_key, None)
        .await
        .map_err(AppError::rate_limited)?;
    let channel = match b.channel {
        Some(OrderChannel::Window) => "window",
        Some(OrderChannel::Kiosk) | None => "kiosk",
    };
    let o = super::create_order(&state.payments(), None, &no, b.method, channel).await?;
    Ok((StatusCode::CREATED, axum::Json(o)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettlementJson {
    pub outcome: Settlement,
}

/// The provider's asynchronous notification: the raw body, signed in `X-Signature`. Forged,
/// duplicated or mismatched notifications are recorded and change nothing; the answer is
/// 200 either way so the provider stops resending, except a forged one (400).
#[utoipa::path(post, path = "/api/v1/payments/notify/{provider}", tag = "payments",
    params(("provider" = String, Path, description = "Provider name")),
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = SettlementJson), (status = 400, body = SettlementJson)))]
async fn api_notify(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    // Bytes that are not UTF-8 cannot carry a valid signature: verified (and refused as
    // forged) like any other, so the answer keeps its documented shape.
    let body = String::from_utf8_lossy(&body);
    let signature = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let outcome =
        super::handle_notification(&state.payments(), &provider, &body, signature).await?;
    let status = if outcome == Settlement::Forged {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(SettlementJson { outcome })).into_response())
}

/// Asks the provider about an order whose notification has not arrived.
#[utoipa::path(post, path = "/api/v1/payments/orders/{order}/query", tag = "payments",
    params(("order" = String, Path, description = "Order number")),
    responses((status = 200, body = SettlementJson)))]
async fn api_query(
    State(state): State<AppState>,
    Path(order): Path<String>,
) -> AppResult<axum::Json<SettlementJson>> {
    let outcome = super::query_order(&state.payments(), &order).await?;
    Ok(axum::Json(SettlementJson { outcome }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefundJson {
    pub amount_fen: i64,
    pub reason: String,
    /// Refunded because of an officer's mistake: counts against the accepting officer's error
    /// rate.
    #[serde(default)]
    pub officer_error: bool,
}

/// Refunds part or all of a payment, with a reason.
#[utoipa::path(post, path = "/api/v1/payments/{receipt_no}/refunds", tag = "payments",
    params(("receipt_no" = String, Path, description = "Receipt number")),
    request_body = RefundJson,
    responses((status = 201, body = RefundRow)))]
async fn api_refund(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(receipt): Path<String>,
    Json(b): Json<RefundJson>,
) -> AppResult<(StatusCode, axum::Json<RefundRow>)> {
    let r = super::refund(
        &state.payments(),
        &super::collect(&actor)?,
        &receipt,
        b.amount_fen,
        &b.reason,
        b.officer_error,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(r)))
}

/// The daily reconciliation of a site (`site` code, `date` YYYY-MM-DD; default today).
#[utoipa::path(get, path = "/api/v1/payments/reconciliation", tag = "payments",
    params(ApiReconQuery),
    responses((status = 200, body = Reconciliation)))]
async fn api_reconciliation(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Query(q): Query<ApiReconQuery>,
) -> AppResult<axum::Json<Reconciliation>> {
    let q = ReconQuery {
        site: q.site.map(|s| s.to_string()).unwrap_or_default(),
        date: q.date.unwrap_or_default(),
        format: String::new(),
    };
    let (_, r) = reconciliation_for(&state, &actor, &q).await?;
    Ok(axum::Json(r))
}
