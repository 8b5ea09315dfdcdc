//! Payment (R6): the fee fixed at acceptance, paid at the window (cash, bank card/POS) or by
//! Alipay / WeChat Pay through the provider adapter at the window or the kiosk; one receipt
//! number per payment; refunds with a reason; a daily reconciliation per site and method that
//! balances to the fen against the provider's statement.
//!
//! An application is paid once: a partial unique index (`payments_one_paid`) makes a second
//! `paid` row impossible whichever window, kiosk or notification gets there first. A
//! notification is acted on only if its signature verifies, its order is ours and pending and
//! its amount matches; anything else is recorded and changes nothing.

pub mod gateway;
mod store;
pub mod web;

/// The fee-settled SQL expression other capabilities' queries embed (decision 012).
pub(crate) use store::fee_settled_sql;
/// What other capabilities may read or record through payments's store (the store itself is private).
pub use store::{fee_settled, notification_outcomes, paid_payment, payment_by_order, refunds_of};

use crate::auth::grant::Collect;
use serde::{Deserialize, Serialize};

use crate::applications::{self, Status};
use crate::audit::{self, AuditEntry};
use crate::auth::{Actor, Failure, Grant};
use crate::clock::Clock;
use crate::db::{Db, is_unique_violation};
use crate::devices::Devices;
use crate::domain::application_no::ApplicationNo;
use crate::i18n::{Lang, UserMessage};
use gateway::{GatewayError, Notification, OrderRequest, OrderState};

#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub devices: &'a Devices,
}

/// A payment's state: an order waiting for the provider, paid (with its receipt), or closed
/// unpaid. The database checks the same three (`payments.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Closed,
}

impl TryFrom<String> for PaymentStatus {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        match s.as_str() {
            "pending" => Ok(PaymentStatus::Pending),
            "paid" => Ok(PaymentStatus::Paid),
            "closed" => Ok(PaymentStatus::Closed),
            _ => Err(format!("payment status {s}")),
        }
    }
}

/// Where a fee was taken: at a cashier's window or at a kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayChannel {
    Window,
    Kiosk,
}

impl PayChannel {
    pub fn code(self) -> &'static str {
        match self {
            PayChannel::Window => "window",
            PayChannel::Kiosk => "kiosk",
        }
    }
}

impl TryFrom<String> for PayChannel {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        match s.as_str() {
            "window" => Ok(PayChannel::Window),
            "kiosk" => Ok(PayChannel::Kiosk),
            _ => Err(format!("payment channel {s}")),
        }
    }
}

impl TryFrom<String> for Method {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        Method::parse(&s).ok_or_else(|| format!("payment method {s}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Cash,
    Card,
    Alipay,
    Wechat,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Cash, Method::Card, Method::Alipay, Method::Wechat];
    pub fn code(self) -> &'static str {
        match self {
            Method::Cash => "cash",
            Method::Card => "card",
            Method::Alipay => "alipay",
            Method::Wechat => "wechat",
        }
    }
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Method::Cash => lang.pick("现金", "Cash"),
            Method::Card => lang.pick("银行卡（POS）", "Bank card (POS)"),
            Method::Alipay => lang.pick("支付宝", "Alipay"),
            Method::Wechat => lang.pick("微信支付", "WeChat Pay"),
        }
    }
    /// Paid through the provider adapter (an order and a notification).
    pub fn online(self) -> bool {
        matches!(self, Method::Alipay | Method::Wechat)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("no such application")]
    NoSuchApplication,
    #[error("not accepted")]
    NotAccepted,
    #[error("already paid")]
    AlreadyPaid,
    #[error("not a cashier here")]
    OtherSite,
    #[error("POS reference needed")]
    PosRefNeeded,
    #[error("method needs the provider")]
    WrongMethod,
    #[error("no such payment")]
    NoSuchPayment,
    #[error("refund too large")]
    RefundTooLarge,
    #[error("reason needed")]
    ReasonNeeded,
    #[error("provider: {0}")]
    Provider(String),
}

impl UserMessage for PaymentError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            PaymentError::NoSuchApplication | PaymentError::NoSuchPayment => {
                axum::http::StatusCode::NOT_FOUND
            }
            PaymentError::OtherSite => axum::http::StatusCode::FORBIDDEN,
            PaymentError::AlreadyPaid => axum::http::StatusCode::CONFLICT,
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            PaymentError::NoSuchApplication => "payment.no_such_application",
            PaymentError::NotAccepted => "payment.not_accepted",
            PaymentError::AlreadyPaid => "payment.already_paid",
            PaymentError::OtherSite => "payment.other_site",
            PaymentError::PosRefNeeded => "payment.pos_ref_needed",
            PaymentError::WrongMethod => "payment.wrong_method",
            PaymentError::NoSuchPayment => "payment.no_such_payment",
            PaymentError::RefundTooLarge => "payment.refund_too_large",
            PaymentError::ReasonNeeded => "payment.reason_needed",
            PaymentError::Provider(_) => "payment.provider",
        }
    }
    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            PaymentError::NoSuchApplication => lang
                .pick(
                    "没有这个申请编号，请核对。",
                    "There is no application with that number; please check it.",
                )
                .into(),
            PaymentError::NotAccepted => lang
                .pick(
                    "申请尚未受理，受理后才能缴费。",
                    "The application is not accepted yet; it can be paid after acceptance.",
                )
                .into(),
            PaymentError::AlreadyPaid => lang
                .pick(
                    "该申请已缴费，无需重复缴费。",
                    "This application is already paid; nothing more is due.",
                )
                .into(),
            PaymentError::OtherSite => lang
                .pick(
                    "您在该办证点没有收费权限。",
                    "You are not a cashier at this site.",
                )
                .into(),
            PaymentError::PosRefNeeded => lang
                .pick(
                    "刷卡缴费请填写POS凭条参考号。",
                    "Enter the POS slip reference for a card payment.",
                )
                .into(),
            PaymentError::WrongMethod => lang
                .pick(
                    "该支付方式不适用于此操作。",
                    "That payment method cannot be used here.",
                )
                .into(),
            PaymentError::NoSuchPayment => lang
                .pick("没有这笔缴费记录。", "There is no such payment.")
                .into(),
            PaymentError::RefundTooLarge => lang
                .pick(
                    "退款金额不能超过实缴金额减去已退金额。",
                    "A refund cannot exceed what was paid less what was refunded.",
                )
                .into(),
            PaymentError::ReasonNeeded => lang
                .pick("退款须写明原因。", "A refund needs a reason.")
                .into(),
            PaymentError::Provider(e) => {
                if zh {
                    format!("支付渠道暂时无法处理：{e}。请改用其他方式或稍后再试。")
                } else {
                    format!(
                        "The payment provider could not handle it: {e}. Use another method or try again later."
                    )
                }
            }
        }
    }
}

type Result<T> = std::result::Result<T, Failure<PaymentError>>;

fn refused<T>(e: PaymentError) -> Result<T> {
    Err(Failure::Refused(e))
}

impl From<GatewayError> for Failure<PaymentError> {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::RefundTooLarge => Failure::Refused(PaymentError::RefundTooLarge),
            other => Failure::Refused(PaymentError::Provider(other.to_string())),
        }
    }
}

/// A payment as the API shows it: what was paid, how and when, with its receipt; not who took
/// it, the POS slip or the provider's transaction (those stay on the staff pages).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub order_no: String,
    pub receipt_no: Option<String>,
    pub method: Method,
    pub channel: PayChannel,
    pub status: PaymentStatus,
    pub amount_fen: i64,
    pub refunded_fen: i64,
    /// Epoch milliseconds.
    pub paid_at: Option<i64>,
    #[schema(format = Date)]
    pub business_date: Option<String>,
}

impl From<&store::PaymentRow> for Payment {
    fn from(p: &store::PaymentRow) -> Payment {
        Payment {
            order_no: p.order_no.clone(),
            receipt_no: p.receipt_no.clone(),
            method: p.method,
            channel: p.channel,
            status: p.status,
            amount_fen: p.amount_fen,
            refunded_fen: p.refunded_fen,
            paid_at: p.paid_at,
            business_date: p.business_date.clone(),
        }
    }
}

/// What is due on an application, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BillView {
    pub application_no: String,
    pub amount_fen: i64,
    pub paid: Option<Payment>,
}

impl From<&Bill> for BillView {
    fn from(b: &Bill) -> BillView {
        BillView {
            application_no: b.application_no.clone(),
            amount_fen: b.amount_fen,
            paid: b.paid.as_ref().map(Payment::from),
        }
    }
}

/// What is due on an application.
#[derive(Debug, Clone)]
pub struct Bill {
    pub application_no: String,
    pub application_id: i64,
    pub site_id: i64,
    pub amount_fen: i64,
    pub paid: Option<store::PaymentRow>,
}

pub async fn bill(ctx: &Ctx<'_>, no: &ApplicationNo) -> Result<Bill> {
    let Some(app) = applications::application_by_no(ctx.db.reader(), no.as_str()).await? else {
        return refused(PaymentError::NoSuchApplication);
    };
    if app.status != Status::Accepted {
        return refused(PaymentError::NotAccepted);
    }
    Ok(Bill {
        application_no: app.application_no.clone(),
        application_id: app.id,
        site_id: app.site_id,
        amount_fen: app.fee_fen.unwrap_or_default(),
        paid: store::paid_payment(ctx.db.reader(), app.id).await?,
    })
}

/// The actor's grant to take fees; "other site" when the actor has none.
pub fn collect(actor: &Actor) -> Result<Grant<'_, Collect>> {
    actor.grant_or(PaymentError::OtherSite)
}

fn require_cashier(grant: &Grant<'_, Collect>, site_id: i64) -> Result<()> {
    if grant.covers(site_id) {
        Ok(())
    } else {
        refused(PaymentError::OtherSite)
    }
}

fn order_no(now: i64) -> String {
    format!("OT{now}{}", &crate::crypto::random_token()[..10])
}

/// Cash or card at the window: the cashier takes the money and the receipt is issued at once.
pub async fn pay_at_window(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Collect>,
    no: &ApplicationNo,
    method: Method,
    pos_ref: Option<&str>,
) -> Result<store::PaymentRow> {
    let actor = grant.actor();
    if method.online() {
        return refused(PaymentError::WrongMethod);
    }
    let pos_ref = pos_ref.map(str::trim).filter(|r| !r.is_empty());
    if method == Method::Card && pos_ref.is_none() {
        return refused(PaymentError::PosRefNeeded);
    }
    let bill = bill(ctx, no).await?;
    require_cashier(grant, bill.site_id)?;
    if bill.paid.is_some() {
        return refused(PaymentError::AlreadyPaid);
    }
    let now = ctx.clock.now_ms();
    let today = ctx.clock.today().to_string();
    let order = order_no(now);
    let mut tx = ctx.db.begin().await?;
    let id = store::insert_payment(
        &mut tx,
        &store::NewPayment {
            application_id: bill.application_id,
            site_id: bill.site_id,
            method: method.code(),
            channel: "window",
            amount_fen: bill.amount_fen,
            order_no: &order,
            pos_ref,
            created_by: Some(actor.staff_id),
            now,
        },
    )
    .await?;
    let receipt = next_receipt_no(&mut tx, bill.site_id, &today, "receipt").await?;
    // The partial unique index refuses a second paid row for the application: a concurrent
    // payment that got there first makes this one fail and roll back.
    match store::mark_paid(&mut tx, id, &receipt, None, now, &today).await {
        Ok(true) => {}
        Ok(false) => return refused(PaymentError::AlreadyPaid),
        Err(e) if is_unique_violation(&e) => return refused(PaymentError::AlreadyPaid),
        Err(e) => return Err(e.into()),
    }
    paid_event(
        &mut tx,
        bill.application_id,
        &receipt,
        method,
        Some(actor.staff_id),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "payment.window", "application", no.as_str(), now)
            .site(bill.site_id)
            .detail(serde_json::json!({"method": method.code(), "amount_fen": bill.amount_fen, "receipt": receipt})),
    )
    .await?;
    tx.commit().await?;
    store::payment(ctx.db.reader(), id)
        .await?
        .ok_or_else(|| Failure::Internal("payment vanished".into()))
}

async fn next_receipt_no(
    conn: &mut sqlx::AnyConnection,
    site_id: i64,
    date: &str,
    series: &str,
) -> std::result::Result<String, sqlx::Error> {
    let seq = applications::next_in_series(conn, site_id, date, series).await?;
    let code = crate::sites::site(&mut *conn, site_id)
        .await?
        .map(|s| s.code)
        .unwrap_or_else(|| format!("{site_id:04}"));
    // Receipt 20261125-0001-000012; refunds carry an R.
    let prefix = if series == "refund" { "R" } else { "" };
    Ok(format!("{prefix}{}-{code}-{seq:06}", date.replace('-', "")))
}

async fn paid_event(
    conn: &mut sqlx::AnyConnection,
    application_id: i64,
    receipt: &str,
    method: Method,
    staff: Option<i64>,
    now: i64,
) -> std::result::Result<(), sqlx::Error> {
    applications::record_event(
        conn,
        application_id,
        now,
        "paid",
        staff,
        serde_json::json!({"receipt": receipt, "method": method.code()}),
    )
    .await
}

/// An order with the provider for Alipay or WeChat Pay (window or kiosk): the citizen scans
/// the returned address as a QR code; the notification settles it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnlineOrder {
    pub order_no: String,
    pub amount_fen: i64,
    pub pay_url: String,
}

pub async fn create_order(
    ctx: &Ctx<'_>,
    grant: Option<&Grant<'_, Collect>>,
    no: &ApplicationNo,
    method: Method,
    channel: &str,
) -> Result<OnlineOrder> {
    if !method.online() {
        return refused(PaymentError::WrongMethod);
    }
    let bill = bill(ctx, no).await?;
    if let Some(grant) = grant {
        require_cashier(grant, bill.site_id)?;
    }
    if bill.paid.is_some() {
        return refused(PaymentError::AlreadyPaid);
    }
    let now = ctx.clock.now_ms();
    let order = order_no(now);
    let mut tx = ctx.db.begin().await?;
    store::insert_payment(
        &mut tx,
        &store::NewPayment {
            application_id: bill.application_id,
            site_id: bill.site_id,
            method: method.code(),
            channel,
            amount_fen: bill.amount_fen,
            order_no: &order,
            pos_ref: None,
            created_by: grant.map(|g| g.actor().staff_id),
            now,
        },
    )
    .await?;
    tx.commit().await?;
    // The provider is asked after our record exists, so a notification can never arrive for
    // an order we do not know.
    let provider = ctx
        .devices
        .payments
        .create_order(
            ctx.db,
            &OrderRequest {
                order_no: order.clone(),
                method: method.code().into(),
                amount_fen: bill.amount_fen,
            },
            now,
        )
        .await?;
    Ok(OnlineOrder {
        order_no: order,
        amount_fen: bill.amount_fen,
        pay_url: provider.pay_url,
    })
}

/// What became of a notification or a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    /// The payment is now paid, with a receipt.
    Paid,
    /// It was already paid by this order: nothing changed.
    Duplicate,
    /// The signature did not verify: nothing changed.
    Forged,
    /// Not one of our orders, or the amount differs: nothing changed.
    Mismatch,
    /// The application was paid another way first; the order is refunded automatically.
    PaidTwiceRefunded,
    /// The provider says it is not paid yet.
    Pending,
}

/// Handles a provider notification: the raw body and its signature, exactly as received.
pub async fn handle_notification(
    ctx: &Ctx<'_>,
    provider: &str,
    body: &str,
    signature: &str,
) -> Result<Settlement> {
    let now = ctx.clock.now_ms();
    let notification = match ctx.devices.payments.verify(body, signature) {
        Ok(n) => n,
        Err(_) => {
            let order = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("order_no").and_then(|o| o.as_str()).map(String::from))
                .unwrap_or_default();
            store::record_notification(ctx.db, provider, &order, "", now, "forged", body).await?;
            tracing::warn!(provider, order, "payment notification with a bad signature");
            return Ok(Settlement::Forged);
        }
    };
    let outcome = settle(ctx, &notification, None).await?;
    store::record_notification(
        ctx.db,
        provider,
        &notification.order_no,
        &notification.notify_id,
        now,
        outcome_code(outcome),
        body,
    )
    .await?;
    Ok(outcome)
}

fn outcome_code(s: Settlement) -> &'static str {
    match s {
        Settlement::Paid => "paid",
        Settlement::Duplicate => "duplicate",
        Settlement::Forged => "forged",
        Settlement::Mismatch => "mismatch",
        Settlement::PaidTwiceRefunded => "paid_twice_refunded",
        Settlement::Pending => "pending",
    }
}

/// Marks a verified payment paid (once), or explains why nothing changed.
async fn settle(ctx: &Ctx<'_>, n: &Notification, staff: Option<i64>) -> Result<Settlement> {
    let Some(p) = store::payment_by_order(ctx.db.reader(), &n.order_no).await? else {
        return Ok(Settlement::Mismatch);
    };
    if p.amount_fen != n.amount_fen {
        return Ok(Settlement::Mismatch);
    }
    if p.status == PaymentStatus::Paid {
        return Ok(Settlement::Duplicate);
    }
    let now = ctx.clock.now_ms();
    let today = ctx.clock.today().to_string();
    let method = p.method;
    let mut tx = ctx.db.begin().await?;
    let receipt = next_receipt_no(&mut tx, p.site_id, &today, "receipt").await?;
    match store::mark_paid(&mut tx, p.id, &receipt, Some(&n.txn_id), now, &today).await {
        Ok(true) => {
            paid_event(&mut tx, p.application_id, &receipt, method, staff, now).await?;
            tx.commit().await?;
            ctx.db.publish(
                "payment.paid",
                serde_json::json!({"site": p.site_id, "order": p.order_no}),
            );
            Ok(Settlement::Paid)
        }
        // Settled concurrently by the same notification: a duplicate.
        Ok(false) => Ok(Settlement::Duplicate),
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            // The citizen paid this order after paying another way: give the money back.
            if refund_paid_twice(ctx, &p, n, now, &today).await? {
                Ok(Settlement::PaidTwiceRefunded)
            } else {
                Ok(Settlement::Duplicate)
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn refund_paid_twice(
    ctx: &Ctx<'_>,
    p: &store::PaymentRow,
    n: &Notification,
    now: i64,
    today: &str,
) -> Result<bool> {
    let mut tx = ctx.db.begin().await?;
    let refund_no = next_receipt_no(&mut tx, p.site_id, today, "refund").await?;
    // Closed, not paid: the money came in and goes straight back, both visible to
    // reconciliation as a payment and a refund of the same order.
    if !store::close_with_refund(&mut tx, p.id, &n.txn_id, now, today).await? {
        // Another copy of the notification got here first and refunded it.
        return Ok(false);
    }
    store::insert_refund(
        &mut tx,
        &store::NewRefund {
            refund_no: &refund_no,
            payment_id: p.id,
            site_id: p.site_id,
            method: p.method.code(),
            amount_fen: p.amount_fen,
            reason: "paid twice: automatic refund",
            officer_error: false,
            staff_id: None,
            now,
            business_date: today,
        },
    )
    .await?;
    tx.commit().await?;
    ctx.devices
        .payments
        .refund(ctx.db, &p.order_no, &refund_no, p.amount_fen, now)
        .await?;
    Ok(true)
}

/// Asks the provider about an order whose notification has not arrived (the cashier's
/// "query" button, or the kiosk polling).
pub async fn query_order(ctx: &Ctx<'_>, order_no: &str) -> Result<Settlement> {
    match ctx.devices.payments.query(ctx.db, order_no).await {
        Ok(OrderState::Paid(n)) => settle(ctx, &n, None).await,
        Ok(OrderState::Pending) => Ok(Settlement::Pending),
        Ok(OrderState::Closed) => Ok(Settlement::Mismatch),
        Err(GatewayError::NoSuchOrder) => refused(PaymentError::NoSuchPayment),
        Err(e) => Err(e.into()),
    }
}

/// Refunds part or all of a payment, with a reason (audited); online payments are refunded
/// through the provider first, so a refund we record is one the provider made.
/// `officer_error`: refunded because of an officer's mistake (a wrong fee, a wrong item), which
/// counts against the accepting officer's error rate (R13).
pub async fn refund(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Collect>,
    receipt_no: &str,
    amount_fen: i64,
    reason: &str,
    officer_error: bool,
) -> Result<store::RefundRow> {
    let actor = grant.actor();
    let reason = reason.trim();
    if reason.is_empty() {
        return refused(PaymentError::ReasonNeeded);
    }
    let Some(p) = store::payment_by_receipt(ctx.db.reader(), receipt_no.trim()).await? else {
        return refused(PaymentError::NoSuchPayment);
    };
    require_cashier(grant, p.site_id)?;
    refund_payment(ctx, &p, amount_fen, reason, officer_error, Some(actor)).await
}

/// Refunds in full, with no cashier, the paid payment of an application whose document could
/// not be delivered (a self-service endorsement the card writer could not write): nobody is
/// charged for what they did not get. `None` when nothing was paid or it is refunded already.
pub async fn refund_undelivered(
    ctx: &Ctx<'_>,
    application_id: i64,
    reason: &str,
) -> Result<Option<store::RefundRow>> {
    let Some(p) = store::paid_payment(ctx.db.reader(), application_id).await? else {
        return Ok(None);
    };
    let left = p.amount_fen - p.refunded_fen;
    if left <= 0 {
        return Ok(None);
    }
    refund_payment(ctx, &p, left, reason, false, None)
        .await
        .map(Some)
}

/// Refunds `amount_fen` of a paid payment: by a cashier (`by`) or by the system.
async fn refund_payment(
    ctx: &Ctx<'_>,
    p: &store::PaymentRow,
    amount_fen: i64,
    reason: &str,
    officer_error: bool,
    by: Option<&Actor>,
) -> Result<store::RefundRow> {
    if amount_fen <= 0 || p.refunded_fen + amount_fen > p.amount_fen {
        return refused(PaymentError::RefundTooLarge);
    }
    let now = ctx.clock.now_ms();
    let today = ctx.clock.today().to_string();
    let method = p.method;
    // The refund number is taken first so the provider's record and ours carry the same one.
    let receipt_no = p.receipt_no.clone().unwrap_or_default();
    let mut tx = ctx.db.begin().await?;
    let refund_no = next_receipt_no(&mut tx, p.site_id, &today, "refund").await?;
    tx.commit().await?;
    if method.online() {
        // The provider refunds first (it refuses more than was paid on its own books): a refund
        // we record is always one the provider made. Should our write below fail after this,
        // reconciliation shows the order as a difference, never silently.
        ctx.devices
            .payments
            .refund(ctx.db, &p.order_no, &refund_no, amount_fen, now)
            .await?;
    }
    let mut tx = ctx.db.begin().await?;
    if !store::add_refunded(&mut tx, p.id, amount_fen).await? {
        return refused(PaymentError::RefundTooLarge);
    }
    let id = store::insert_refund(
        &mut tx,
        &store::NewRefund {
            refund_no: &refund_no,
            payment_id: p.id,
            site_id: p.site_id,
            method: p.method.code(),
            amount_fen,
            reason,
            officer_error,
            staff_id: by.map(|a| a.staff_id),
            now,
            business_date: &today,
        },
    )
    .await?;
    applications::record_event(
        &mut tx,
        p.application_id,
        now,
        "refunded",
        by.map(|a| a.staff_id),
        serde_json::json!({"refund": refund_no, "amount_fen": amount_fen, "reason": reason, "officer_error": officer_error}),
    )
    .await?;
    audit::record(
        &mut tx,
        match by {
            Some(actor) => AuditEntry::by(actor, "payment.refund", "payment", &receipt_no, now),
            None => AuditEntry::by_system("payment.refund", "payment", &receipt_no, now),
        }
            .site(p.site_id)
            .detail(serde_json::json!({"amount_fen": amount_fen, "reason": reason, "officer_error": officer_error})),
    )
    .await?;
    tx.commit().await?;
    store::refund_row(ctx.db.reader(), id)
        .await?
        .ok_or_else(|| Failure::Internal("refund vanished".into()))
}

/// One method's line of the daily reconciliation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReconLine {
    pub method: Method,
    pub payments: i64,
    pub paid_fen: i64,
    pub refunds: i64,
    pub refunded_fen: i64,
    pub net_fen: i64,
    /// The provider's statement net for the day (online methods only).
    pub provider_net_fen: Option<i64>,
    pub balanced: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub site_id: i64,
    #[schema(format = Date)]
    pub date: String,
    pub lines: Vec<ReconLine>,
    pub total_net_fen: i64,
    /// Orders on one side only or with different amounts.
    pub differences: Vec<String>,
    pub balanced: bool,
}

/// The day's takings per method at a site, checked against the provider's statement.
pub async fn reconcile(
    ctx: &Ctx<'_>,
    site_id: i64,
    date: jiff::civil::Date,
) -> Result<Reconciliation> {
    let day = date.to_string();
    let ours = store::day_totals(ctx.db.reader(), site_id, &day).await?;
    let (from, to) = crate::clock::day_bounds_ms(date)
        .ok_or_else(|| Failure::Internal(format!("no local day {date}")))?;
    let statement = ctx.devices.payments.statement(ctx.db, from, to).await?;
    let our_orders = store::online_day_orders(ctx.db.reader(), site_id, &day).await?;
    let mut differences = Vec::new();
    // The statement covers every site; only this site's orders are compared.
    let mut provider_by_order: std::collections::BTreeMap<String, (String, i64)> =
        std::collections::BTreeMap::new();
    let site_orders = store::site_order_nos(ctx.db.reader(), site_id).await?;
    for line in statement
        .iter()
        .filter(|l| site_orders.contains(&l.order_no))
    {
        let e = provider_by_order
            .entry(line.order_no.clone())
            .or_insert((line.method.clone(), 0));
        e.1 += line.amount_fen;
    }
    for (order, ours_net) in &our_orders {
        let theirs = provider_by_order.get(order).map_or(0, |e| e.1);
        if theirs != *ours_net {
            differences.push(format!("{order}: {ours_net} / {theirs}"));
        }
    }
    for (order, (_, theirs)) in &provider_by_order {
        if !our_orders.iter().any(|(o, _)| o == order) && *theirs != 0 {
            differences.push(format!("{order}: 0 / {theirs}"));
        }
    }
    let lines: Vec<ReconLine> = Method::ALL
        .into_iter()
        .map(|method| {
            let t = ours.iter().find(|t| t.method == method.code());
            let (payments, paid, refunds, refunded) = t.map_or((0, 0, 0, 0), |t| {
                (t.payments, t.paid_fen, t.refunds, t.refunded_fen)
            });
            let net = paid - refunded;
            let provider_net = method.online().then(|| {
                provider_by_order
                    .values()
                    .filter(|(m, _)| m == method.code())
                    .map(|(_, v)| *v)
                    .sum::<i64>()
            });
            ReconLine {
                method,
                payments,
                paid_fen: paid,
                refunds,
                refunded_fen: refunded,
                net_fen: net,
                provider_net_fen: provider_net,
                balanced: provider_net.is_none_or(|p| p == net),
            }
        })
        .collect();
    let balanced = differences.is_empty() && lines.iter().all(|l| l.balanced);
    Ok(Reconciliation {
        site_id,
        date: day,
        total_net_fen: lines.iter().map(|l| l.net_fen).sum(),
        lines,
        differences,
        balanced,
    })
}

/// The wallet side of the simulator: the citizen confirms, the provider books it and sends its
/// signed notification a moment later, as a real provider does.
pub async fn simulate_customer_payment(ctx: &Ctx<'_>, order_no: &str) -> Result<Settlement> {
    let Some(sim) = &ctx.devices.payment_simulator else {
        return refused(PaymentError::WrongMethod);
    };
    let (body, signature) = sim
        .customer_pays(ctx.db, order_no, ctx.clock.now_ms())
        .await?;
    handle_notification(ctx, "simulator", &body, &signature).await
}
