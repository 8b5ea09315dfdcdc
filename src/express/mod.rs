//! Express delivery (R10): documents of applications that chose delivery are shipped together,
//! one waybill per application, through the courier adapter; tracking arrives by signed
//! webhook and shows in the citizen's progress; two-way express for endorsements — the
//! applicant sends the permit in under an inbound waybill, it is endorsed and sent back.
//!
//! A webhook is acted on only if its signature verifies and its event is new; a forged or
//! repeated one is recorded and changes nothing.

pub mod courier;
pub mod web;

use crate::auth::grant::Keep;
use serde::Serialize;
use sqlx::Row;

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

/// A shipment as the pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Shipment {
    pub id: i64,
    pub direction: String,
    pub application_id: i64,
    pub site_id: i64,
    pub courier: String,
    pub waybill_no: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn shipment_row(r: &sqlx::any::AnyRow) -> std::result::Result<Shipment, sqlx::Error> {
    Ok(Shipment {
        id: r.try_get("id")?,
        direction: r.try_get("direction")?,
        application_id: r.try_get("application_id")?,
        site_id: r.try_get("site_id")?,
        courier: r.try_get("courier")?,
        waybill_no: r.try_get("waybill_no")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

macro_rules! select_shipment {
    ($tail:literal) => {
        concat!(
            "SELECT id, direction, application_id, site_id, courier, waybill_no, status, created_at, updated_at FROM shipments ",
            $tail
        )
    };
}

pub async fn shipments_of(
    ctx: &Ctx<'_>,
    application_id: i64,
) -> std::result::Result<Vec<Shipment>, sqlx::Error> {
    sqlx::query(select_shipment!("WHERE application_id = $1 ORDER BY id"))
        .bind(application_id)
        .fetch_all(ctx.db.reader())
        .await?
        .iter()
        .map(shipment_row)
        .collect()
}

pub async fn shipment_by_waybill(
    ctx: &Ctx<'_>,
    waybill: &str,
) -> std::result::Result<Option<Shipment>, sqlx::Error> {
    sqlx::query(select_shipment!("WHERE waybill_no = $1"))
        .bind(waybill)
        .fetch_optional(ctx.db.reader())
        .await?
        .map(|r| shipment_row(&r))
        .transpose()
}

pub async fn recent_shipments(
    ctx: &Ctx<'_>,
    site: i64,
) -> std::result::Result<Vec<Shipment>, sqlx::Error> {
    sqlx::query(select_shipment!(
        "WHERE site_id = $1 ORDER BY id DESC LIMIT 100"
    ))
    .bind(site)
    .fetch_all(ctx.db.reader())
    .await?
    .iter()
    .map(shipment_row)
    .collect()
}

/// `(local time, status, location)` of a shipment's events, oldest first.
pub async fn events_of(
    ctx: &Ctx<'_>,
    shipment: i64,
) -> std::result::Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT at, status, location FROM shipment_events WHERE shipment_id = $1 ORDER BY at, id",
    )
    .bind(shipment)
    .fetch_all(ctx.db.reader())
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("at")?,
            r.try_get("status")?,
            r.try_get("location")?,
        ))
    })
    .collect()
}

#[allow(clippy::too_many_arguments)]
async fn insert_shipment(
    conn: &mut sqlx::AnyConnection,
    direction: &str,
    application_id: i64,
    site_id: i64,
    courier: &str,
    waybill: &str,
    recipient_sealed: Vec<u8>,
    by: Option<i64>,
    now: i64,
) -> std::result::Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO shipments (direction, application_id, site_id, courier, waybill_no, status, recipient_sealed, created_at, created_by, updated_at) 
         VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, $8, $7) RETURNING id"#,
    )
    .bind(direction)
    .bind(application_id)
    .bind(site_id)
    .bind(courier)
    .bind(waybill)
    .bind(recipient_sealed)
    .bind(now)
    .bind(by)
    .fetch_one(conn)
    .await?
    .try_get("id")
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
        let id = insert_shipment(
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
            sqlx::query("INSERT INTO shipment_items (shipment_id, document_id) VALUES ($1, $2)")
                .bind(id)
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
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
            let lang = Lang::from_code(&row.lang).unwrap_or_default();
            let body = match lang {
                Lang::ZhCn => format!(
                    "【出入境】您的证件（受理编号{}）已交邮政速递寄出，运单号{waybill}，邮费到付。",
                    row.application_no
                ),
                Lang::En => format!(
                    "[Exit-Entry] Your documents (application {}) are shipped by EMS, waybill {waybill}; postage is paid on delivery.",
                    row.application_no
                ),
            };
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
    if let Some(existing) = shipments_of(ctx, row.id)
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
    insert_shipment(
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
        sqlx::query(
            "INSERT INTO courier_webhooks (received_at, outcome, body) VALUES ($1, $2, $3)",
        )
        .bind(now)
        .bind(outcome)
        .bind(body.chars().take(4000).collect::<String>())
        .execute(&mut *tx)
        .await?;
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
    let Some(s) = shipment_by_waybill(ctx, &update.waybill_no).await? else {
        record("unknown_waybill").await?;
        return Ok(WebhookOutcome::UnknownWaybill);
    };
    let mut tx = ctx.db.begin().await?;
    let fresh = sqlx::query(
        r#"INSERT INTO shipment_events (shipment_id, event_id, status, location, at) VALUES ($1, $2, $3, $4, $5) 
         ON CONFLICT (event_id) DO NOTHING"#,
    )
    .bind(s.id)
    .bind(&update.event_id)
    .bind(update.status.code())
    .bind(&update.location)
    .bind(update.at)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        drop(tx);
        record("duplicate").await?;
        return Ok(WebhookOutcome::Duplicate);
    }
    sqlx::query("UPDATE shipments SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(update.status.code())
        .bind(now)
        .bind(s.id)
        .execute(&mut *tx)
        .await?;
    if s.direction == "outbound" {
        let items: Vec<i64> =
            sqlx::query("SELECT document_id FROM shipment_items WHERE shipment_id = $1")
                .bind(s.id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("document_id"))
                .collect::<std::result::Result<_, _>>()?;
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
    Ok(shipments_of(ctx, application_id)
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
    for s in shipments_of(ctx, application_id).await? {
        let events = events_of(ctx, s.id)
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
