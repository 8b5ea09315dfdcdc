//! From acceptance to the citizen's hands (R7, R9): review and approval, production in
//! batches, custody in cabinet slots with every move recorded, inventory audits, pickup with
//! identity verification (in person, proxy, guardian), data errors sent back to production,
//! time limits watched, and the citizen's progress timeline.
//!
//! Every change goes through [`store::step`], a conditional update from the stage the caller
//! read: a transition [`flow::allowed`] refuses never reaches the database, and two people
//! acting on one document at once cannot both succeed.

pub mod flow;
mod store;
pub mod web;

/// What other capabilities may read or record through documents's store (the store itself is private).
pub use store::{DocRow, docs_at_stage, docs_of_application, slot_of, step as move_stage, steps};

use crate::auth::grant::{HandOver, Keep, OverseeCustody, Produce, Review};
use jiff::civil::Date;
use serde::Serialize;

use crate::applications::{self, Dossier};
use crate::audit::{self, AuditEntry};
use crate::auth::{Actor, Duty, Failure, Grant};
use crate::devices::{MATCH_THRESHOLD, VerifyMethod};
use crate::domain::application_no::ApplicationNo;
use crate::domain::document_number::DocumentNumber;
use crate::domain::id_number::IdNumber;
use crate::i18n::{Lang, UserMessage};
use crate::notify;
use flow::Stage;

pub use crate::applications::Ctx;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("no such document")]
    NoSuchDocument,
    #[error("not allowed: {0:?} to {1:?}")]
    IllegalTransition(Stage, Stage),
    #[error("not your role here")]
    NotYourRole,
    #[error("reasons needed")]
    ReasonsNeeded,
    #[error("issued number invalid")]
    IssuedNumber(String),
    #[error("slot taken")]
    SlotTaken,
    #[error("slot needed")]
    SlotNeeded,
    #[error("not for pickup here")]
    NotForPickupHere,
    #[error("nothing in custody")]
    NotInCustody,
    #[error("identity mismatch")]
    IdentityMismatch,
    #[error("proxy needs their own ID")]
    ProxyIdNeeded,
    #[error("proxy needs the receipt")]
    ReceiptNeeded,
    #[error("under 16 through a guardian")]
    GuardianNeeded,
    #[error("verification failed")]
    VerificationFailed,
    #[error("device: {0}")]
    Device(String),
    #[error("empty batch")]
    EmptyBatch,
    #[error("batch already produced")]
    BatchFinished,
    /// The application's fee is not paid: nothing is produced, issued or shipped (decision 012).
    #[error("application {0} is not paid")]
    Unpaid(String),
}

impl UserMessage for DocumentError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            DocumentError::NoSuchDocument => axum::http::StatusCode::NOT_FOUND,
            DocumentError::NotYourRole => axum::http::StatusCode::FORBIDDEN,
            DocumentError::IllegalTransition(..) | DocumentError::SlotTaken => {
                axum::http::StatusCode::CONFLICT
            }
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        use DocumentError::*;
        match self {
            NoSuchDocument => "document.not_found",
            IllegalTransition(..) => "document.illegal_transition",
            NotYourRole => "document.not_your_role",
            ReasonsNeeded => "document.reasons_needed",
            IssuedNumber(_) => "document.issued_number",
            SlotTaken => "custody.slot_taken",
            SlotNeeded => "custody.slot_needed",
            NotForPickupHere => "custody.not_for_pickup_here",
            NotInCustody => "pickup.not_in_custody",
            IdentityMismatch => "pickup.identity_mismatch",
            ProxyIdNeeded => "pickup.proxy_id_needed",
            ReceiptNeeded => "pickup.receipt_needed",
            GuardianNeeded => "pickup.guardian_needed",
            VerificationFailed => "pickup.verification_failed",
            Device(_) => "pickup.device",
            EmptyBatch => "production.empty_batch",
            BatchFinished => "production.batch_finished",
            Unpaid(_) => "document.unpaid",
        }
    }
    fn message(&self, lang: Lang) -> String {
        use DocumentError::*;
        let zh = lang == Lang::ZhCn;
        match self {
            Unpaid(no) => {
                if zh {
                    format!(
                        "申请{no}的证件费用尚未缴纳：缴费后才能制证、领取或寄递。请申请人先到收费窗口或自助机缴费。"
                    )
                } else {
                    format!(
                        "The fee of application {no} is not paid: documents are produced, collected or shipped only once paid. Send the applicant to the cashier or a kiosk first."
                    )
                }
            }
            NoSuchDocument => lang
                .pick(
                    "没有这份证件，请核对条码。",
                    "There is no such document; check the barcode.",
                )
                .into(),
            IllegalTransition(from, to) => {
                if zh {
                    format!(
                        "证件当前为“{}”，不能变更为“{}”。",
                        from.name(lang),
                        to.name(lang)
                    )
                } else {
                    format!(
                        "The document is “{}”; it cannot become “{}”.",
                        from.name(lang),
                        to.name(lang)
                    )
                }
            }
            NotYourRole => lang
                .pick(
                    "您在该办证点没有此岗位权限。",
                    "You do not hold this role at that site.",
                )
                .into(),
            ReasonsNeeded => lang
                .pick("不予批准须写明理由。", "A rejection needs its reasons.")
                .into(),
            IssuedNumber(d) => {
                if zh {
                    format!("证件号码不正确：{d}")
                } else {
                    format!("The document number is not valid: {d}")
                }
            }
            SlotTaken => lang
                .pick(
                    "该格口已有证件，请换一个格口。",
                    "That slot already holds a document; use another.",
                )
                .into(),
            SlotNeeded => lang
                .pick("请填写柜号和格口。", "Enter the cabinet and the slot.")
                .into(),
            NotForPickupHere => lang
                .pick(
                    "该证件不在本办证点领取（或选择了邮寄）。",
                    "This document is not collected at this site (or goes by express).",
                )
                .into(),
            NotInCustody => lang
                .pick(
                    "该申请没有在本办证点保管、可领取的证件。",
                    "This application has no document in custody here ready to collect.",
                )
                .into(),
            IdentityMismatch => lang
                .pick(
                    "身份核验不一致，不能发证。",
                    "The identity does not match; the document cannot be issued.",
                )
                .into(),
            ProxyIdNeeded => lang
                .pick(
                    "代领须核验代领人本人的身份证。",
                    "A proxy must show their own ID card.",
                )
                .into(),
            ReceiptNeeded => lang
                .pick(
                    "代领须交回受理回执；回执遗失的须申请人本人领取。",
                    "A proxy must hand in the receipt; without it only the applicant may collect.",
                )
                .into(),
            GuardianNeeded => lang
                .pick(
                    "未满16周岁申请人的证件须由监护人领取。",
                    "Documents of applicants under 16 are collected by their guardian.",
                )
                .into(),
            VerificationFailed => lang
                .pick(
                    "指纹或人像比对未通过，不能发证。",
                    "The fingerprint or face comparison failed; the document cannot be issued.",
                )
                .into(),
            Device(d) => {
                if zh {
                    format!("设备未响应：{d}")
                } else {
                    format!("The device did not answer: {d}")
                }
            }
            EmptyBatch => lang
                .pick(
                    "请至少选择一份待制证件。",
                    "Choose at least one document to produce.",
                )
                .into(),
            BatchFinished => lang
                .pick("该批次已制证完成。", "This batch is already produced.")
                .into(),
        }
    }
}

type Result<T> = std::result::Result<T, Failure<DocumentError>>;

fn refused<T>(e: DocumentError) -> Result<T> {
    Err(Failure::Refused(e))
}

async fn load(ctx: &Ctx<'_>, id: i64) -> Result<DocRow> {
    store::doc(ctx.db.reader(), id)
        .await?
        .ok_or(Failure::Refused(DocumentError::NoSuchDocument))
}

/// The actor's grant for a documents duty; "not your role" when the actor has none.
pub fn duty<D: Duty>(actor: &Actor) -> Result<Grant<'_, D>> {
    actor.grant_or(DocumentError::NotYourRole)
}

fn require<D: Duty>(grant: &Grant<'_, D>, site: i64) -> Result<()> {
    if grant.covers(site) {
        Ok(())
    } else {
        refused(DocumentError::NotYourRole)
    }
}

/// One audited, recorded step of one document inside the caller's transaction.
async fn step(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    doc: &DocRow,
    to: Stage,
    now: i64,
    detail: serde_json::Value,
) -> Result<()> {
    if !flow::allowed(doc.stage, to) {
        return refused(DocumentError::IllegalTransition(doc.stage, to));
    }
    // Decision 012: nothing unpaid is produced or handed over (read in this transaction, so a
    // refund committed before cannot slip through).
    if to.needs_payment() && !crate::payments::fee_settled(&mut *tx, doc.application_id).await? {
        return refused(DocumentError::Unpaid(doc.application_no.clone()));
    }
    if !store::step(
        tx,
        doc.id,
        doc.stage,
        to,
        Some(actor.staff_id),
        now,
        &detail,
    )
    .await?
    {
        // Someone moved it since it was read.
        return refused(DocumentError::IllegalTransition(doc.stage, to));
    }
    applications::record_event(
        tx,
        doc.application_id,
        now,
        &format!("document_{}", to.code()),
        Some(actor.staff_id),
        serde_json::json!({"document": doc.document_type, "detail": detail}),
    )
    .await?;
    audit::record(
        tx,
        AuditEntry::by(
            actor,
            &format!("document.{}", to.code()),
            "document",
            doc.label.as_deref().unwrap_or_default(),
            now,
        )
        .site(doc.site_id)
        .detail(detail),
    )
    .await?;
    Ok(())
}

/// Sends the applicant a message about their application in the same transaction.
async fn tell_applicant(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::AnyConnection,
    application_id: i64,
    kind: &str,
    body: impl Fn(Lang, &str) -> String,
    now: i64,
) -> Result<()> {
    let Some(row) = applications::application(&mut *tx, application_id).await? else {
        return Ok(());
    };
    let phone = ctx
        .cipher
        .open(&row.phone_sealed)
        .ok()
        .and_then(|p| crate::domain::phone::PhoneNumber::parse(&p).ok());
    let Some(phone) = phone else { return Ok(()) };
    let lang = Lang::from_code(&row.lang).unwrap_or_default();
    let text = body(lang, &row.application_no);
    notify::enqueue(
        tx,
        ctx.cipher,
        notify::Outgoing {
            kind,
            reference: &row.application_no,
            phone: &phone,
            body: &text,
            due_at: now,
        },
        now,
    )
    .await?;
    Ok(())
}

fn document_name(doc: &DocRow, lang: Lang) -> &'static str {
    crate::catalog::DocumentType::ALL
        .into_iter()
        .find(|d| d.code() == doc.document_type)
        .map(|d| d.name(lang))
        .unwrap_or("")
}

// ---- review ----------------------------------------------------------------------------------

/// The approver takes a document for review.
pub async fn start_review(ctx: &Ctx<'_>, grant: &Grant<'_, Review>, id: i64) -> Result<DocRow> {
    let actor = grant.actor();
    let doc = load(ctx, id).await?;
    require(grant, doc.site_id)?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    step(
        &mut tx,
        actor,
        &doc,
        Stage::UnderReview,
        now,
        serde_json::json!({}),
    )
    .await?;
    store::set_reviewer(&mut tx, id, actor.staff_id).await?;
    tx.commit().await?;
    load(ctx, id).await
}

/// Approves a document under review; the applicant is told.
pub async fn approve(ctx: &Ctx<'_>, grant: &Grant<'_, Review>, id: i64) -> Result<DocRow> {
    let actor = grant.actor();
    let doc = load(ctx, id).await?;
    require(grant, doc.site_id)?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    step(
        &mut tx,
        actor,
        &doc,
        Stage::Approved,
        now,
        serde_json::json!({}),
    )
    .await?;
    let name = |lang| document_name(&doc, lang);
    tell_applicant(
        ctx,
        &mut tx,
        doc.application_id,
        "document.approved",
        |lang, no| match lang {
            Lang::ZhCn => format!(
                "【出入境】您申请的{}（受理编号{no}）已审批通过，正在制证。",
                name(lang)
            ),
            Lang::En => format!(
                "[Exit-Entry] Your {} (application {no}) is approved and being produced.",
                name(lang)
            ),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    load(ctx, id).await
}

/// Rejects a document under review with written reasons; the applicant is told.
pub async fn reject(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Review>,
    id: i64,
    reasons: &str,
) -> Result<DocRow> {
    let actor = grant.actor();
    let reasons = reasons.trim();
    if reasons.is_empty() {
        return refused(DocumentError::ReasonsNeeded);
    }
    let doc = load(ctx, id).await?;
    require(grant, doc.site_id)?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    step(
        &mut tx,
        actor,
        &doc,
        Stage::Rejected,
        now,
        serde_json::json!({"reasons": reasons}),
    )
    .await?;
    store::set_rejection(&mut tx, id, reasons).await?;
    let name = |lang| document_name(&doc, lang);
    tell_applicant(
        ctx,
        &mut tx,
        doc.application_id,
        "document.rejected",
        |lang, no| match lang {
            Lang::ZhCn => format!(
                "【出入境】您申请的{}（受理编号{no}）不予批准：{reasons}。可凭编号查询详情。",
                name(lang)
            ),
            Lang::En => format!(
                "[Exit-Entry] Your {} (application {no}) was not approved: {reasons}.",
                name(lang)
            ),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    load(ctx, id).await
}

// ---- production ------------------------------------------------------------------------------

/// Starts a production batch of approved documents. All or nothing: if any document is no
/// longer approved, no batch is made.
pub async fn start_batch(ctx: &Ctx<'_>, grant: &Grant<'_, Produce>, ids: &[i64]) -> Result<i64> {
    let actor = grant.actor();
    if ids.is_empty() {
        return refused(DocumentError::EmptyBatch);
    }
    let mut docs = Vec::new();
    for id in ids {
        let d = load(ctx, *id).await?;
        require(grant, d.site_id)?;
        if !d.fee_settled {
            return refused(DocumentError::Unpaid(d.application_no));
        }
        docs.push(d);
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let batch = store::insert_batch(&mut tx, actor.staff_id, now).await?;
    for d in &docs {
        step(
            &mut tx,
            actor,
            d,
            Stage::InProduction,
            now,
            serde_json::json!({"batch": batch}),
        )
        .await?;
        store::set_batch(&mut tx, d.id, batch).await?;
    }
    tx.commit().await?;
    Ok(batch)
}

/// Finishes a batch: each document gets the number printed on it (sealed) and becomes
/// produced. `numbers` pairs document ids with their new numbers.
pub async fn finish_batch(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Produce>,
    batch: i64,
    numbers: &[(i64, String)],
) -> Result<Vec<DocRow>> {
    let actor = grant.actor();
    let docs = store::batch_docs(ctx.db.reader(), batch).await?;
    if docs.is_empty() {
        return refused(DocumentError::EmptyBatch);
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !store::finish_batch(&mut tx, batch, actor.staff_id, now).await? {
        return refused(DocumentError::BatchFinished);
    }
    for d in docs.iter().filter(|d| d.stage == Stage::InProduction) {
        require(grant, d.site_id)?;
        let kind = crate::catalog::DocumentType::ALL
            .into_iter()
            .find(|t| t.code() == d.document_type)
            .map(applications::rules::document_kind)
            .ok_or(Failure::Refused(DocumentError::NoSuchDocument))?;
        let number = numbers
            .iter()
            .find(|(id, _)| *id == d.id)
            .map(|(_, n)| n.as_str())
            .ok_or_else(|| {
                Failure::Refused(DocumentError::IssuedNumber(
                    d.label.clone().unwrap_or_default(),
                ))
            })?;
        let number = DocumentNumber::parse(kind, number)
            .map_err(|e| Failure::Refused(DocumentError::IssuedNumber(e.message(Lang::ZhCn))))?;
        store::set_issued_number(&mut tx, d.id, ctx.cipher.seal(number.as_str())).await?;
        step(
            &mut tx,
            actor,
            d,
            Stage::Produced,
            now,
            serde_json::json!({"batch": batch, "number": number.masked()}),
        )
        .await?;
    }
    tx.commit().await?;
    store::batch_docs(ctx.db.reader(), batch)
        .await
        .map_err(Into::into)
}

// ---- custody ---------------------------------------------------------------------------------

/// Checks a produced document into a cabinet slot at a site by its label barcode; the
/// applicant is told where and from when to collect it.
pub async fn check_in(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Keep>,
    label: &str,
    site: &crate::sites::Site,
    cabinet: &str,
    slot: &str,
) -> Result<store::SlotRow> {
    let actor = grant.actor();
    let (cabinet, slot) = (cabinet.trim(), slot.trim());
    if cabinet.is_empty() || slot.is_empty() {
        return refused(DocumentError::SlotNeeded);
    }
    let doc = store::doc_by_label(ctx.db.reader(), label.trim())
        .await?
        .ok_or(Failure::Refused(DocumentError::NoSuchDocument))?;
    require(grant, site.id)?;
    if doc.stage == Stage::InCustody && doc.custody_site_id == Some(site.id) && doc.slot.is_none() {
        return receive_transfer(ctx, actor, &doc, site, cabinet, slot).await;
    }
    let collected_here =
        doc.delivery.as_deref() == Some("pickup") && doc.pickup_site_id == Some(site.id);
    // A shipment the courier could not deliver comes back to the site that sent it.
    let returned_here = doc.stage == Stage::Shipped && doc.site_id == site.id;
    if !collected_here && !returned_here {
        return refused(DocumentError::NotForPickupHere);
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let target = store::slot_at(&mut tx, site.id, cabinet, slot).await?;
    step(
        &mut tx,
        actor,
        &doc,
        Stage::InCustody,
        now,
        serde_json::json!({"cabinet": cabinet, "slot": slot}),
    )
    .await?;
    if !store::occupy(&mut tx, target.id, doc.id, now).await? {
        return refused(DocumentError::SlotTaken);
    }
    store::set_custody_site(&mut tx, doc.id, Some(site.id)).await?;
    store::record_move(
        &mut tx,
        doc.id,
        None,
        Some(target.id),
        actor.staff_id,
        now,
        "check_in",
    )
    .await?;
    let from = ready_from(ctx, site, ctx.clock.today());
    let name = |lang| document_name(&doc, lang);
    let site_name = |lang: Lang| lang.pick(&site.name_zh, &site.name_en).to_string();
    tell_applicant(
        ctx,
        &mut tx,
        doc.application_id,
        "document.ready",
        |lang, no| match lang {
            Lang::ZhCn => format!(
                "【出入境】您的{}（受理编号{no}）已制证完成，请于{}起凭回执和身份证到{}领取。",
                name(lang), from, site_name(lang)
            ),
            Lang::En => format!(
                "[Exit-Entry] Your {} (application {no}) is ready to collect at {} from {}. Bring the receipt and your ID card.",
                name(lang), site_name(lang), from
            ),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(store::SlotRow {
        document_id: Some(doc.id),
        ..target
    })
}

/// A document transferred from another site arrives: it goes into a slot here (the move is
/// recorded) and the applicant is told where to collect it now.
async fn receive_transfer(
    ctx: &Ctx<'_>,
    actor: &Actor,
    doc: &DocRow,
    site: &crate::sites::Site,
    cabinet: &str,
    slot: &str,
) -> Result<store::SlotRow> {
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let target = store::slot_at(&mut tx, site.id, cabinet, slot).await?;
    if !store::occupy(&mut tx, target.id, doc.id, now).await? {
        return refused(DocumentError::SlotTaken);
    }
    store::record_move(
        &mut tx,
        doc.id,
        None,
        Some(target.id),
        actor.staff_id,
        now,
        "received_from_transfer",
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "custody.receive",
            "document",
            doc.label.as_deref().unwrap_or_default(),
            now,
        )
        .site(site.id),
    )
    .await?;
    let from = ready_from(ctx, site, ctx.clock.today());
    let name = |lang| document_name(doc, lang);
    let site_name = |lang: Lang| lang.pick(&site.name_zh, &site.name_en).to_string();
    tell_applicant(
        ctx,
        &mut tx,
        doc.application_id,
        "document.ready",
        |lang, no| match lang {
            Lang::ZhCn => format!(
                "【出入境】您的{}（受理编号{no}）已转至{}，请于{}起凭回执和身份证领取。",
                name(lang),
                site_name(lang),
                from
            ),
            Lang::En => format!(
                "[Exit-Entry] Your {} (application {no}) is now at {}, ready from {}.",
                name(lang),
                site_name(lang),
                from
            ),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(store::SlotRow {
        document_id: Some(doc.id),
        ..target
    })
}

/// Sends a document in custody to another site (the applicant asked to collect there): it
/// leaves its slot, is recorded as on its way, and is received into a slot there by check-in.
pub async fn transfer_site(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Keep>,
    label: &str,
    to: &crate::sites::Site,
    reason: &str,
) -> Result<DocRow> {
    let actor = grant.actor();
    let reason = reason.trim();
    if reason.is_empty() {
        return refused(DocumentError::ReasonsNeeded);
    }
    let doc = store::doc_by_label(ctx.db.reader(), label.trim())
        .await?
        .ok_or(Failure::Refused(DocumentError::NoSuchDocument))?;
    let Some(from) = doc
        .custody_site_id
        .filter(|_| doc.stage == Stage::InCustody)
    else {
        return refused(DocumentError::NotInCustody);
    };
    require(grant, from)?;
    if to.kind == crate::sites::SiteKind::KioskPoint || to.id == from {
        return refused(DocumentError::NotForPickupHere);
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let slot = store::slot_of(&mut *tx, doc.id).await?;
    store::vacate(&mut tx, doc.id).await?;
    store::set_custody_site(&mut tx, doc.id, Some(to.id)).await?;
    store::set_pickup_site(&mut tx, doc.application_id, to.id).await?;
    store::record_move(
        &mut tx,
        doc.id,
        slot.map(|s| s.id),
        None,
        actor.staff_id,
        now,
        &format!("transfer to site {}: {reason}", to.code),
    )
    .await?;
    applications::record_event(
        &mut tx,
        doc.application_id,
        now,
        "document_transferred",
        Some(actor.staff_id),
        serde_json::json!({"to": to.code, "label": doc.label}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "custody.transfer",
            "document",
            doc.label.as_deref().unwrap_or_default(),
            now,
        )
        .site(from)
        .detail(serde_json::json!({"to": to.code, "reason": reason})),
    )
    .await?;
    tx.commit().await?;
    load(ctx, doc.id).await
}

/// The first opening of the site from `date` ("from …" in the ready message).
fn ready_from(ctx: &Ctx<'_>, site: &crate::sites::Site, date: Date) -> String {
    crate::domain::opening::next_openings(&site.opening_rules, &ctx.calendar.current(), date, 14)
        .ok()
        .and_then(|days| days.into_iter().find(|(_, o)| o.is_open()))
        .map(|(d, o)| format!("{d} {}", o.describe(Lang::ZhCn)))
        .unwrap_or_else(|| date.to_string())
}

/// Moves a document in custody to another slot (the move is recorded).
pub async fn move_document(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Keep>,
    label: &str,
    cabinet: &str,
    slot: &str,
    reason: &str,
) -> Result<store::SlotRow> {
    let actor = grant.actor();
    let doc = store::doc_by_label(ctx.db.reader(), label.trim())
        .await?
        .ok_or(Failure::Refused(DocumentError::NoSuchDocument))?;
    let Some(site) = doc
        .custody_site_id
        .filter(|_| doc.stage == Stage::InCustody)
    else {
        return refused(DocumentError::NotInCustody);
    };
    require(grant, site)?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let from = store::slot_of(&mut *tx, doc.id).await?;
    let target = store::slot_at(&mut tx, site, cabinet.trim(), slot.trim()).await?;
    store::vacate(&mut tx, doc.id).await?;
    if !store::occupy(&mut tx, target.id, doc.id, now).await? {
        return refused(DocumentError::SlotTaken);
    }
    store::record_move(
        &mut tx,
        doc.id,
        from.map(|s| s.id),
        Some(target.id),
        actor.staff_id,
        now,
        reason.trim(),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "custody.move",
            "document",
            doc.label.as_deref().unwrap_or_default(),
            now,
        )
        .site(site),
    )
    .await?;
    tx.commit().await?;
    Ok(store::SlotRow {
        document_id: Some(doc.id),
        ..target
    })
}

/// What an inventory audit found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Inventory {
    /// In custody here by the records, not scanned in the cabinet.
    pub missing: Vec<String>,
    /// Scanned in the cabinet, not in custody here by the records.
    pub extra: Vec<String>,
    pub matched: usize,
}

/// Compares the records with a scan of the cabinets (the labels scanned, in any order).
pub async fn inventory_audit(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, OverseeCustody>,
    site: i64,
    scanned: &[String],
) -> Result<Inventory> {
    let actor = grant.actor();
    require(grant, site)?;
    let held: Vec<String> = store::custody_of_site(ctx.db.reader(), site)
        .await?
        .into_iter()
        .map(|(label, ..)| label)
        .collect();
    let scanned: std::collections::BTreeSet<String> = scanned
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let missing: Vec<String> = held
        .iter()
        .filter(|l| !scanned.contains(*l))
        .cloned()
        .collect();
    let extra: Vec<String> = scanned
        .iter()
        .filter(|l| !held.contains(l))
        .cloned()
        .collect();
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "custody.inventory", "site", &site.to_string(), now)
            .site(site)
            .detail(serde_json::json!({"missing": missing, "extra": extra})),
    )
    .await?;
    tx.commit().await?;
    Ok(Inventory {
        matched: held.len() - missing.len(),
        missing,
        extra,
    })
}

// ---- pickup ----------------------------------------------------------------------------------

/// Who collects.
#[derive(Debug, Clone)]
pub enum Recipient {
    Applicant,
    Proxy { id_number: IdNumber, name: String },
    Guardian { id_number: IdNumber },
}

/// What the officer records at the pickup window.
#[derive(Debug, Clone)]
pub struct PickupInput {
    /// The applicant's ID number as typed (or read) at the window.
    pub applicant_id: String,
    pub recipient: Recipient,
    pub receipt_presented: bool,
    pub method: VerifyMethod,
}

/// What was issued.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issued {
    pub labels: Vec<String>,
    /// Documents of the application not ready yet (issued later).
    pub still_pending: usize,
}

/// Issues every document of the application in custody at this site, together, after the
/// identity checks; the slots are freed and the signature kept.
pub async fn issue_documents(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, HandOver>,
    no: &ApplicationNo,
    site: i64,
    input: PickupInput,
) -> Result<Issued> {
    let actor = grant.actor();
    require(grant, site)?;
    let d: Dossier = applications::dossier(ctx, no)
        .await
        .map_err(|e| match e {
            Failure::Refused(_) => Failure::Refused(DocumentError::NoSuchDocument),
            Failure::Storage(s) => Failure::Storage(s),
            Failure::Internal(s) => Failure::Internal(s),
        })?
        .ok_or(Failure::Refused(DocumentError::NoSuchDocument))?;
    let docs = store::docs_of_application(ctx.db.reader(), d.row.id).await?;
    // In a slot here: a document on its way from another site is not at this window yet.
    let ready: Vec<&DocRow> = docs
        .iter()
        .filter(|x| {
            x.stage == Stage::InCustody && x.custody_site_id == Some(site) && x.slot.is_some()
        })
        .collect();
    if ready.is_empty() {
        return refused(DocumentError::NotInCustody);
    }
    // Before the identity checks: the citizen is sent to the cashier first (decision 012).
    if ready.iter().any(|x| !x.fee_settled) {
        return refused(DocumentError::Unpaid(d.row.application_no.clone()));
    }
    // The applicant's own ID number must match whoever collects (domain §5).
    let typed = IdNumber::parse(&input.applicant_id).ok();
    if typed.as_ref() != Some(&d.id_number) {
        return refused(DocumentError::IdentityMismatch);
    }
    let under_16 = d.age_on(ctx.clock.today()) < applications::rules::GUARDIAN_BELOW_AGE;
    let (kind, recipient_id, recipient_name) = match &input.recipient {
        Recipient::Applicant if under_16 => return refused(DocumentError::GuardianNeeded),
        Recipient::Applicant => ("applicant", d.id_number.clone(), d.name.clone()),
        Recipient::Proxy { id_number, name } => {
            if !input.receipt_presented {
                return refused(DocumentError::ReceiptNeeded);
            }
            if *id_number == d.id_number || name.trim().is_empty() {
                return refused(DocumentError::ProxyIdNeeded);
            }
            ("proxy", id_number.clone(), name.trim().to_string())
        }
        Recipient::Guardian { id_number } => match &d.guardian {
            Some(g) if g.id_number == *id_number => ("guardian", id_number.clone(), g.name.clone()),
            _ => return refused(DocumentError::IdentityMismatch),
        },
    };
    // The person at the window against the record: fingerprint or face.
    let check = ctx
        .devices
        .station
        .verify(input.method, no.as_str())
        .map_err(|e| Failure::Refused(DocumentError::Device(e.to_string())))?;
    if check.quality < MATCH_THRESHOLD {
        return refused(DocumentError::VerificationFailed);
    }
    let photo = ctx
        .devices
        .station
        .capture(crate::devices::CaptureKind::Photo, no.as_str())
        .map_err(|e| Failure::Refused(DocumentError::Device(e.to_string())))?;
    let signature = ctx
        .devices
        .station
        .signature(no.as_str())
        .map_err(|e| Failure::Refused(DocumentError::Device(e.to_string())))?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::insert_pickup(
        &mut tx,
        &store::NewPickup {
            application_id: d.row.id,
            site_id: site,
            officer_id: actor.staff_id,
            recipient: kind,
            recipient_id_index: &ctx.cipher.blind_index(recipient_id.as_str()),
            recipient_sealed: ctx
                .cipher
                .seal(&format!("{recipient_name} {}", recipient_id.as_str())),
            verification_ref: &check.reference,
            verification_score: check.quality,
            photo_ref: &photo.reference,
            signature_ref: &signature,
            now,
        },
    )
    .await?;
    let mut labels = Vec::new();
    for doc in &ready {
        step(
            &mut tx,
            actor,
            doc,
            Stage::Issued,
            now,
            serde_json::json!({"recipient": kind}),
        )
        .await?;
        store::vacate(&mut tx, doc.id).await?;
        store::record_move(&mut tx, doc.id, None, None, actor.staff_id, now, "issued").await?;
        labels.push(doc.label.clone().unwrap_or_default());
    }
    tx.commit().await?;
    Ok(Issued {
        labels,
        still_pending: docs
            .iter()
            .filter(|x| !x.stage.is_final() && x.stage != Stage::InCustody)
            .count(),
    })
}

/// The officer finds the document data wrong at pickup: it goes back to production, the duty
/// leader is alerted, nothing is issued.
pub async fn report_error(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, HandOver>,
    label: &str,
    note: &str,
) -> Result<DocRow> {
    let actor = grant.actor();
    let note = note.trim();
    if note.is_empty() {
        return refused(DocumentError::ReasonsNeeded);
    }
    let doc = store::doc_by_label(ctx.db.reader(), label.trim())
        .await?
        .ok_or(Failure::Refused(DocumentError::NoSuchDocument))?;
    let site = doc.custody_site_id.unwrap_or(doc.site_id);
    require(grant, site)?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    step(
        &mut tx,
        actor,
        &doc,
        Stage::InProduction,
        now,
        serde_json::json!({"data_error": note}),
    )
    .await?;
    store::vacate(&mut tx, doc.id).await?;
    store::record_move(
        &mut tx,
        doc.id,
        None,
        None,
        actor.staff_id,
        now,
        "data_error",
    )
    .await?;
    store::insert_data_error(&mut tx, doc.id, site, actor.staff_id, note, now).await?;
    tx.commit().await?;
    ctx.db.publish(
        "leader.alert",
        serde_json::json!({"site": site, "data_error": doc.label}),
    );
    load(ctx, doc.id).await
}

// ---- time limits -----------------------------------------------------------------------------

/// Documents still owed: overdue (promised date passed) and near-due (due by the next working
/// day), counted with the working-day calendar so a weekend or holiday does not hide them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueWatch {
    #[schema(format = Date)]
    pub today: String,
    pub overdue: Vec<DocRow>,
    pub near_due: Vec<DocRow>,
}

pub async fn due_watch(ctx: &Ctx<'_>, today: Date) -> Result<DueWatch> {
    // Near-due: promised on or before the next working day after today (on a provisional year
    // too; only a year the statute does not reach is refused, and then loudly).
    let horizon = ctx
        .calendar
        .current()
        .add_working_days(today, 1, &ctx.counting)
        .map_err(|e| Failure::Internal(e.to_string()))?
        .date;
    let docs = store::due_by(ctx.db.reader(), &horizon.to_string()).await?;
    let today_s = today.to_string();
    let (overdue, near_due) = docs.into_iter().partition(|d| {
        d.promised_date
            .as_deref()
            .is_some_and(|p| p < today_s.as_str())
    });
    Ok(DueWatch {
        today: today_s,
        overdue,
        near_due,
    })
}

// ---- progress for citizens -------------------------------------------------------------------

/// One document's timeline as the citizen reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentProgress {
    pub document_type: crate::catalog::DocumentType,
    /// The document's name in the request's language.
    pub document: String,
    pub stage: Stage,
    pub stage_name: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub promised_date: Option<String>,
    /// The date was counted on a year without the State Council's notice and may move.
    pub promised_provisional: bool,
    /// The promised date as the citizen reads it, in the request's language.
    pub promised_text: Option<String>,
    pub expedited: bool,
    /// What happened, oldest first.
    pub steps: Vec<ProgressStep>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub application_no: String,
    /// Where the application stands: `submitted`, `in_acceptance`, `awaiting_materials`,
    /// `accepted` or `refused`.
    pub status: applications::Status,
    /// The status as the citizen reads it, in the request's language.
    pub status_name: String,
    /// Why it was not accepted, and on what basis (a written refusal, 不予受理).
    pub refusal: Option<RefusalView>,
    /// When it was accepted: milliseconds since the Unix epoch (UTC), as every instant in the
    /// API.
    pub accepted_at: Option<i64>,
    pub documents: Vec<DocumentProgress>,
    /// Express shipments with their tracking (filled by the caller that has the courier data).
    pub tracking: Vec<crate::express::Tracking>,
    #[serde(skip)]
    pub application_id: i64,
}

/// One step of a document's timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgressStep {
    /// Milliseconds since the Unix epoch (UTC), as every instant in the API.
    pub at: i64,
    /// A stage code (`accepted`, `approved`, …) or `form_filled`, `refused`.
    pub code: String,
    /// What happened, in the request's language.
    pub text: String,
}

/// A written refusal as the citizen reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefusalView {
    pub reasons: Vec<String>,
    pub basis: String,
    /// When it was refused: milliseconds since the Unix epoch (UTC).
    pub at: i64,
}

impl ProgressStep {
    /// The hall's local time to the minute, for pages.
    pub fn local_time(&self) -> String {
        crate::clock::format_local_minute(self.at)
    }
}

impl RefusalView {
    /// The hall's local time to the minute, for pages.
    pub fn local_time(&self) -> String {
        crate::clock::format_local_minute(self.at)
    }
}

/// The progress of an application for whoever knows both its number and the applicant's ID
/// number; `None` when they do not belong together (the same answer as no such application,
/// so the page reveals nothing to a guesser).
pub async fn progress(
    ctx: &Ctx<'_>,
    no: &ApplicationNo,
    id_number: &IdNumber,
    lang: Lang,
) -> Result<Option<Progress>> {
    let Some(row) = applications::application_by_no(ctx.db.reader(), no.as_str()).await? else {
        return Ok(None);
    };
    if !crate::crypto::constant_time_eq(&row.id_index, &ctx.cipher.blind_index(id_number.as_str()))
    {
        return Ok(None);
    }
    let expedited = row.time_limit_class.as_deref() == Some("expedited");
    let status = applications::Status::parse(&row.status)
        .ok_or_else(|| Failure::Internal(format!("application status {}", row.status)))?;
    let refusal = match (&row.refusal, row.refused_at) {
        (Some(json), Some(at)) => {
            let r: applications::Refusal = serde_json::from_str(json)
                .map_err(|e| Failure::Internal(format!("stored refusal: {e}")))?;
            Some(RefusalView {
                reasons: r.reasons,
                basis: r.basis,
                at,
            })
        }
        _ => None,
    };
    // Before acceptance the timeline starts with the form; a refusal closes it.
    let mut first_steps = match row.accepted_at {
        Some(at) => vec![ProgressStep {
            at,
            code: Stage::Accepted.code().into(),
            text: Stage::Accepted.name(lang).to_string(),
        }],
        None => vec![ProgressStep {
            at: row.created_at,
            code: "form_filled".into(),
            text: lang.pick("已填写申请表", "Form filled in").to_string(),
        }],
    };
    if let Some(r) = &refusal {
        first_steps.push(ProgressStep {
            at: r.at,
            code: status.code().into(),
            text: status.name(lang).to_string(),
        });
    }
    let mut documents = Vec::new();
    for doc in store::docs_of_application(ctx.db.reader(), row.id).await? {
        let mut steps = first_steps.clone();
        for s in store::steps(ctx.db.reader(), doc.id).await? {
            let stage = Stage::parse(&s.to_stage).ok_or_else(|| {
                Failure::Internal(format!("document step to stage {}", s.to_stage))
            })?;
            let text = match stage {
                Stage::InCustody => {
                    let site = match doc.custody_site_id {
                        Some(id) => crate::sites::site(ctx.db.reader(), id).await?,
                        None => None,
                    };
                    match site {
                        Some(site) => format!("{} · {}", stage.name(lang), site.name(lang)),
                        None => stage.name(lang).to_string(),
                    }
                }
                _ => stage.name(lang).to_string(),
            };
            steps.push(ProgressStep {
                at: s.at,
                code: stage.code().into(),
                text,
            });
        }
        let document_type = crate::catalog::DocumentType::ALL
            .into_iter()
            .find(|d| d.code() == doc.document_type)
            .ok_or_else(|| Failure::Internal(format!("document type {}", doc.document_type)))?;
        documents.push(DocumentProgress {
            document_type,
            document: document_type.name(lang).to_string(),
            stage: doc.stage,
            stage_name: doc.stage.name(lang).to_string(),
            promised_text: doc
                .promised_date
                .as_deref()
                .map(|p| crate::domain::calendar::describe_date(p, doc.promised_provisional, lang)),
            promised_date: doc.promised_date.clone(),
            promised_provisional: doc.promised_provisional,
            expedited,
            steps,
            note: doc.rejection.clone(),
        });
    }
    Ok(Some(Progress {
        application_no: row.application_no,
        status_name: status.name(lang).to_string(),
        status,
        refusal,
        accepted_at: row.accepted_at,
        documents,
        tracking: Vec::new(),
        application_id: row.id,
    }))
}

// ---- uncollected documents -------------------------------------------------------------------

/// Documents in custody at a site since before `today - retention_days` (R9: "uncollected
/// documents age and are handled by rule").
pub async fn uncollected(
    ctx: &Ctx<'_>,
    site: i64,
    today: Date,
    retention_days: i64,
) -> Result<Vec<DocRow>> {
    let cutoff = today
        .checked_sub(jiff::Span::new().days(retention_days))
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let (cutoff_ms, _) = crate::clock::day_bounds_ms(cutoff)
        .ok_or_else(|| Failure::Internal(format!("no local day {cutoff}")))?;
    Ok(store::in_custody_since(ctx.db.reader(), site, cutoff_ms).await?)
}

/// Applies the configured action to every uncollected document at a site; each is a recorded,
/// audited step (a reminder too), so nothing disappears silently. Returns the labels handled.
pub async fn apply_expiry(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, OverseeCustody>,
    site: i64,
    today: Date,
    retention_days: i64,
    action: crate::config::ExpiryAction,
) -> Result<Vec<String>> {
    let actor = grant.actor();
    use crate::config::ExpiryAction;
    require(grant, site)?;
    let docs = uncollected(ctx, site, today, retention_days).await?;
    let now = ctx.clock.now_ms();
    let mut handled = Vec::new();
    for doc in &docs {
        let mut tx = ctx.db.begin().await?;
        match action {
            ExpiryAction::Remind => {
                let name = |lang| document_name(doc, lang);
                tell_applicant(
                    ctx,
                    &mut tx,
                    doc.application_id,
                    "document.uncollected",
                    |lang, no| match lang {
                        Lang::ZhCn => format!("【出入境】您的{}（受理编号{no}）制证完成已久仍未领取，请尽快凭回执和身份证领取。", name(lang)),
                        Lang::En => format!("[Exit-Entry] Your {} (application {no}) has waited a long time; please collect it soon.", name(lang)),
                    },
                    now,
                )
                .await?;
                applications::record_event(
                    &mut tx,
                    doc.application_id,
                    now,
                    "uncollected_reminder",
                    Some(actor.staff_id),
                    serde_json::json!({"label": doc.label}),
                )
                .await?;
                audit::record(
                    &mut tx,
                    AuditEntry::by(
                        actor,
                        "custody.remind",
                        "document",
                        doc.label.as_deref().unwrap_or_default(),
                        now,
                    )
                    .site(site),
                )
                .await?;
            }
            ExpiryAction::Return | ExpiryAction::Void => {
                let to = if action == ExpiryAction::Return {
                    Stage::Returned
                } else {
                    Stage::Voided
                };
                step(
                    &mut tx,
                    actor,
                    doc,
                    to,
                    now,
                    serde_json::json!({"rule": "retention", "days": retention_days}),
                )
                .await?;
                store::vacate(&mut tx, doc.id).await?;
                store::record_move(&mut tx, doc.id, None, None, actor.staff_id, now, to.code())
                    .await?;
            }
        }
        tx.commit().await?;
        handled.push(doc.label.clone().unwrap_or_default());
    }
    Ok(handled)
}

// ---- the duty leader's daily digest ----------------------------------------------------------

/// The day's time-limit digest (R7): overdue and near-due documents, expedited ones counted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Digest {
    pub date: String,
    pub overdue: usize,
    pub near_due: usize,
    pub expedited: usize,
    pub text: String,
}

pub async fn daily_digest(ctx: &Ctx<'_>, today: Date) -> Result<Digest> {
    let w = due_watch(ctx, today).await?;
    let expedited = w
        .overdue
        .iter()
        .chain(&w.near_due)
        .filter(|d| d.time_limit_class.as_deref() == Some("expedited"))
        .count();
    let mut text = format!(
        "【出入境·带班摘要】{today}：超期{}件，临近到期{}件（其中加急{}件）。",
        w.overdue.len(),
        w.near_due.len(),
        expedited
    );
    for d in w.overdue.iter().take(5) {
        text.push_str(&format!(
            "超期：{} {} 承诺{}；",
            d.application_no,
            document_name(d, Lang::ZhCn),
            d.promised_date.as_deref().unwrap_or("")
        ));
    }
    Ok(Digest {
        date: today.to_string(),
        overdue: w.overdue.len(),
        near_due: w.near_due.len(),
        expedited,
        text,
    })
}

/// Queues the digest for the duty leader once per day (the outbox reference is the date, so a
/// restart or a second node does not send it twice). True when it was queued now.
pub async fn send_digest_once(
    ctx: &Ctx<'_>,
    phone: &crate::domain::phone::PhoneNumber,
    today: Date,
) -> Result<bool> {
    let reference = format!("digest-{today}");
    let mut tx = ctx.db.begin().await?;
    let sent: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'leader.digest' AND ref = $1")
            .bind(&reference)
            .fetch_one(&mut *tx)
            .await?;
    if sent > 0 {
        return Ok(false);
    }
    let digest = daily_digest(ctx, today).await?;
    let now = ctx.clock.now_ms();
    notify::enqueue(
        &mut tx,
        ctx.cipher,
        notify::Outgoing {
            kind: "leader.digest",
            reference: &reference,
            phone,
            body: &digest.text,
            due_at: now,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
