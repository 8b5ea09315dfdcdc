//! Express delivery (R10): documents of applications that chose delivery are shipped together,
//! one waybill per application, through the courier adapter; tracking arrives by signed
//! webhook and shows in the citizen's progress; two-way express for endorsements — the
//! applicant sends the permit in under an inbound waybill, it is endorsed and sent back.
//!
//! A webhook is acted on only if its signature verifies and its event is new; a forged or
//! repeated one is recorded and changes nothing.

pub mod courier;
mod store;
pub mod web;

pub use store::Shipment;

use crate::auth::grant::Keep;
use serde::Serialize;

use crate::applications::{self, Delivery};
use crate::audit::{self, AuditEntry};
use crate::auth::{Actor, Failure, Grant};
use crate::documents::flow::Stage;
use crate::domain::application_no::ApplicationNo;
use crate::i18n::{Lang, UserMessage};
use crate::notify;
use courier::{Courier, TrackingStatus, WaybillRequest};

pub use crate::applications::Ctx;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpressError {
    #[error("not your role here")]
    NotYourRole,
    #[error("no such application")]
    NoSuchApplication,
    #[error("not express")]
    NotExpress,
    #[error("only endorsements go two-way")]
    NotEndorsementOnly,
    #[error("courier: {0}")]
    Courier(String),
}

impl UserMessage for ExpressError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            ExpressError::NotYourRole => axum::http::StatusCode::FORBIDDEN,
            ExpressError::NoSuchApplication => axum::http::StatusCode::NOT_FOUND,
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            ExpressError::NotYourRole => "express.not_your_role",
            ExpressError::NoSuchApplication => "express.no_such_application",
            ExpressError::NotExpress => "express.not_express",
            ExpressError::NotEndorsementOnly => "express.not_endorsement_only",
            ExpressError::Courier(_) => "express.courier",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match self {
            ExpressError::NotYourRole => lang
                .pick(
                    "您在该办证点没有此岗位权限。",
                    "You do not hold this role at that site.",
                )
                .into(),
            ExpressError::NoSuchApplication => lang
                .pick("没有这个申请编号。", "There is no such application.")
                .into(),
            ExpressError::NotExpress => lang
                .pick(
                    "该申请未选择邮寄。",
                    "This application did not choose express delivery.",
                )
                .into(),
            ExpressError::NotEndorsementOnly => lang
                .pick(
                    "只有仅申请签注的申请可以双向速递。",
                    "Only endorsement-only applications can go two-way by express.",
                )
                .into(),
            ExpressError::Courier(e) => match lang {
                Lang::ZhCn => format!("快递接口暂时不可用：{e}"),
                Lang::En => format!("The courier could not be reached: {e}"),
            },
        }
    }
}

type Result<T> = std::result::Result<T, Failure<ExpressError>>;

fn refused<T>(e: ExpressError) -> Result<T> {
    Err(Failure::Refused(e))
}

/// The site's latest shipments (at most 100), newest first.
pub async fn recent_shipments(
    ctx: &Ctx<'_>,
    site: i64,
) -> std::result::Result<Vec<Shipment>, sqlx::Error> {
    store::recent_shipments(ctx.db.reader(), site).await
}

/// The shipment under a waybill number, if any.
pub async fn shipment_by_waybill(
    ctx: &Ctx<'_>,
    waybill: &str,
) -> std::result::Result<Option<Shipment>, sqlx::Error> {
    store::shipment_by_waybill(ctx.db.reader(), waybill).await
}

/// The sealed recipient of a shipment, for its label.
pub async fn recipient_sealed(
    ctx: &Ctx<'_>,
    shipment: i64,
) -> std::result::Result<Vec<u8>, sqlx::Error> {
    store::recipient_sealed(ctx.db.reader(), shipment).await
}

/// The actor's grant to dispatch express documents; "not your role" when the actor has none.
pub fn dispatcher(actor: &Actor) -> Result<Grant<'_, Keep>> {
    actor.grant_or(ExpressError::NotYourRole)
}

/// Ships every produced document of the site's express applications: one waybill per
/// application (its documents travel together), each document a recorded step, the applicant
/// told the tracking number.
pub async fn ship_ready(
    ctx: &Ctx<'_>,
    courier: &dyn Courier,
    grant: &Grant<'_, Keep>,
    site: i64,
) -> Result<Vec<Shipment>> {
    let actor = grant.actor();
    if !grant.covers(site) {
        return refused(ExpressError::NotYourRole);
    }
    let produced: Vec<crate::documents::DocRow> =
        crate::documents::docs_at_stage(ctx.db.reader(), Stage::Produced, Some(site), None, false)
            .await?
            .into_iter()
            .filter(|d| d.delivery.as_deref() == Some("express"))
            .collect();
    let mut by_app: Vec<(i64, Vec<crate::documents::DocRow>)> = Vec::new();
    for d in produced {
        match by_app.iter_mut().find(|(a, _)| *a == d.application_id) {
            Some((_, v)) => v.push(d),
            None => by_app.push((d.application_id, vec![d])),
        }
    }
    let mut out = Vec::new();
    for (application_id, docs) in by_app {
        // Decision 012: an unpaid application is not shipped (its documents wait, marked
        // unpaid on the desk; production already waits for payment, so this is a guard).
        if docs.iter().any(|d| !d.fee_settled) {
            tracing::warn!(
                application_id,
                "produced documents of an unpaid application held back from shipping"
            );
            continue;
        }
        let Some(row) = applications::application(ctx.db.reader(), application_id).await? else {
            continue;
        };
        let Some(sealed) = row.express_sealed.clone() else {
            continue;
        };
        let delivery: Delivery = ctx
            .cipher
            .open(&sealed)
            .ok()
            .and_then(|j| serde_json::from_str(&j).ok())
            .ok_or_else(|| Failure::Internal("express address".into()))?;
        let Delivery::Express {
            recipient,
            phone,
            address,
        } = delivery
        else {
            continue;
        };
        let waybill = courier
            .create_waybill(&WaybillRequest {
                reference: row.application_no.clone(),
                recipient: recipient.clone(),
                phone: phone.clone(),
                address: address.clone(),
            })
            .map_err(|e| Failure::Refused(ExpressError::Courier(e.to_string())))?;
        let now = ctx.clock.now_ms();
        let mut tx = ctx.db.begin().await?;
        let id = store::insert_shipment(
            &mut tx,
            "outbound",
            application_id,
            site,
            courier.name(),
            &waybill,
            sealed,
            Some(actor.staff_id),
            now,
        )
        .await?;
        for d in &docs {
            store::add_item(&mut tx, id, d.id).await?;
            if !crate::documents::move_stage(
                &mut tx,
                d.id,
                Stage::Produced,
                Stage::Shipped,
                Some(actor.staff_id),
                now,
                &serde_json::json!({"waybill": waybill}),
            )
            .await?
            {
                // Moved meanwhile: ship nothing of this application now.
                return Err(Failure::Internal(format!(
                    "document {} moved while shipping",
                    d.id
                )));
            }
            applications::record_event(
                &mut tx,
                application_id,
                now,
                "document_shipped",
                Some(actor.staff_id),
                serde_json::json!({"waybill": waybill}),
            )
            .await?;
        }
        audit::record(
            &mut tx,
            AuditEntry::by(
                actor,
                "express.ship",
                "application",
                &row.application_no,
                now,
            )
            .site(site)
            .detail(serde_json::json!({"waybill": waybill})),
        )
        .await?;
        if let Ok(phone) = crate::domain::phone::PhoneNumber::parse(&phone) {
            let lang = row.lang;
            let body = message_shipped(lang, &row.application_no, &waybill);
            notify::enqueue(
                &mut tx,
                ctx.cipher,
                notify::Outgoing {
                    kind: "express.shipped",
                    reference: &row.application_no,
                    phone: &phone,
                    body: &body,
                    due_at: now,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        if let Some(s) = shipment_by_waybill(ctx, &waybill).await? {
            out.push(s);
        }
    }
    Ok(out)
}

/// The text telling the applicant their documents are on their way by EMS.
pub fn message_shipped(lang: Lang, no: &str, waybill: &str) -> String {
    match lang {
        Lang::ZhCn => format!(
            "【出入境】您的证件（受理编号{no}）已交邮政速递（EMS）寄出，运单号{waybill}，邮费到付。"
        ),
        Lang::En => format!(
            "[Exit-Entry] Your documents (application {no}) have been sent by EMS, waybill number {waybill}. Postage is paid on delivery."
        ),
    }
}

/// Two-way express (R10): the applicant sends the permit in under this waybill; it is
/// endorsed and shipped back. Only for applications of endorsements alone.
pub async fn create_inbound(
    ctx: &Ctx<'_>,
    courier: &dyn Courier,
    no: &ApplicationNo,
) -> Result<Shipment> {
    let Some(row) = applications::application_by_no(ctx.db.reader(), no.as_str()).await? else {
        return refused(ExpressError::NoSuchApplication);
    };
    let docs = applications::documents(ctx.db.reader(), row.id).await?;
    if docs.is_empty()
        || docs
            .iter()
            .any(|d| d.category != crate::catalog::ApplicationCategory::Endorsement)
    {
        return refused(ExpressError::NotEndorsementOnly);
    }
    if let Some(existing) = store::shipments_of(ctx.db.reader(), row.id)
        .await?
        .into_iter()
        .find(|s| s.direction == "inbound")
    {
        return Ok(existing);
    }
    let site = crate::sites::site(ctx.db.reader(), row.site_id)
        .await?
        .ok_or(Failure::Refused(ExpressError::NoSuchApplication))?;
    let to = format!("{} · {}", site.name_zh, site.address_zh);
    let waybill = courier
        .create_waybill(&WaybillRequest {
            reference: row.application_no.clone(),
            recipient: site.name_zh.clone(),
            phone: site.phone.clone(),
            address: site.address_zh.clone(),
        })
        .map_err(|e| Failure::Refused(ExpressError::Courier(e.to_string())))?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::insert_shipment(
        &mut tx,
        "inbound",
        row.id,
        row.site_id,
        courier.name(),
        &waybill,
        ctx.cipher.seal(&to),
        None,
        now,
    )
    .await?;
    applications::record_event(
        &mut tx,
        row.id,
        now,
        "inbound_waybill",
        None,
        serde_json::json!({"waybill": waybill}),
    )
    .await?;
    tx.commit().await?;
    shipment_by_waybill(ctx, &waybill)
        .await?
        .ok_or_else(|| Failure::Internal("shipment vanished".into()))
}

/// What became of a tracking webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    Applied,
    Duplicate,
    Forged,
    UnknownWaybill,
}

/// Handles a courier webhook: the raw body and its signature, exactly as received.
pub async fn handle_webhook(
    ctx: &Ctx<'_>,
    courier: &dyn Courier,
    body: &str,
    signature: &str,
) -> Result<WebhookOutcome> {
    let now = ctx.clock.now_ms();
    let record = |outcome: &'static str| async move {
        let mut tx = ctx.db.begin().await?;
        store::record_webhook(&mut tx, now, outcome, body).await?;
        tx.commit().await
    };
    let update = match courier.verify(body, signature) {
        Ok(u) => u,
        Err(_) => {
            record("forged").await?;
            tracing::warn!("courier webhook with a bad signature");
            return Ok(WebhookOutcome::Forged);
        }
    };
    let Some(s) = store::shipment_by_waybill(ctx.db.reader(), &update.waybill_no).await? else {
        record("unknown_waybill").await?;
        return Ok(WebhookOutcome::UnknownWaybill);
    };
    let mut tx = ctx.db.begin().await?;
    let fresh = store::insert_event(
        &mut tx,
        s.id,
        &update.event_id,
        update.status.code(),
        &update.location,
        update.at,
    )
    .await?;
    if !fresh {
        drop(tx);
        record("duplicate").await?;
        return Ok(WebhookOutcome::Duplicate);
    }
    store::set_status(&mut tx, s.id, update.status.code(), now).await?;
    if s.direction == "outbound" {
        let items = store::items_of(&mut tx, s.id).await?;
        let to = match update.status {
            TrackingStatus::Delivered => Some(Stage::Delivered),
            _ => None,
        };
        if let Some(to) = to {
            for id in items {
                crate::documents::move_stage(
                    &mut tx,
                    id,
                    Stage::Shipped,
                    to,
                    None,
                    now,
                    &serde_json::json!({"waybill": s.waybill_no}),
                )
                .await?;
            }
        }
    }
    applications::record_event(
        &mut tx,
        s.application_id,
        now,
        &format!("{}_{}", s.direction, update.status.code()),
        None,
        serde_json::json!({"waybill": s.waybill_no, "location": update.location}),
    )
    .await?;
    tx.commit().await?;
    record("applied").await?;
    if update.status == TrackingStatus::Returned {
        ctx.db.publish(
            "leader.alert",
            serde_json::json!({"site": s.site_id, "returned": s.waybill_no}),
        );
    }
    Ok(WebhookOutcome::Applied)
}

/// Whether the permit of a two-way express application has arrived.
pub async fn permit_received(
    ctx: &Ctx<'_>,
    application_id: i64,
) -> std::result::Result<bool, sqlx::Error> {
    Ok(store::shipments_of(ctx.db.reader(), application_id)
        .await?
        .iter()
        .any(|s| s.direction == "inbound" && s.status == "delivered"))
}

/// Shipments of an application with their events, for the progress page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tracking {
    pub direction: String,
    pub waybill_no: String,
    pub status: String,
    pub events: Vec<TrackingEvent>,
}

/// One courier event as the citizen reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrackingEvent {
    /// Milliseconds since the Unix epoch (UTC), as every instant in the API.
    pub at: i64,
    /// The courier's status code (`collected`, `in_transit`, `delivered`, …).
    pub status: String,
    /// The status in the request's language.
    pub text: String,
    /// Where it happened.
    pub location: String,
}

impl TrackingEvent {
    /// The hall's local time to the minute, for pages.
    pub fn local_time(&self) -> String {
        crate::clock::format_local_minute(self.at)
    }
}

pub async fn tracking(
    ctx: &Ctx<'_>,
    application_id: i64,
    lang: Lang,
) -> std::result::Result<Vec<Tracking>, sqlx::Error> {
    let mut out = Vec::new();
    for s in store::shipments_of(ctx.db.reader(), application_id).await? {
        let events = store::events_of(ctx.db.reader(), s.id)
            .await?
            .into_iter()
            .map(|(at, status, location)| TrackingEvent {
                at,
                text: TrackingStatus::parse(&status)
                    .map(|t| t.name(lang).to_string())
                    .unwrap_or_else(|| status.clone()),
                status,
                location,
            })
            .collect();
        out.push(Tracking {
            direction: s.direction,
            waybill_no: s.waybill_no,
            status: s.status,
            events,
        });
    }
    Ok(out)
}
