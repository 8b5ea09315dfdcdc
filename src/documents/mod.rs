//! From acceptance to the citizen's hands (R7, R9): review and approval, production in
//! batches, custody in cabinet slots with every move recorded, inventory audits, pickup with
//! identity verification (in person, proxy, guardian), data errors sent back to production,
//! time limits watched, and the citizen's progress timeline.
//!
//! Every change goes through [`store::step`], a conditional update from the stage the caller
//! read: a transition [`flow::allowed`] refuses never reaches the database, and two people
//! acting on one document at once cannot both succeed.

pub mod flow;
mod review;
mod store;
pub mod web;
pub use review::*;
mod custody;
pub use custody::*;
mod pickup;
pub use pickup::*;
mod progress;
pub use progress::*;
mod watch;
pub use watch::*;

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
    let lang = row.lang;
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
        .map_or(lang.pick("证件", "document"), |d| text_name(d, lang))
}

/// A document's name as a text says it inside a sentence: "your passport", not "your
/// Passport" (the catalogue's English names are headings).
pub fn text_name(document: crate::catalog::DocumentType, lang: Lang) -> &'static str {
    match (document, lang) {
        (crate::catalog::DocumentType::Passport, Lang::En) => "passport",
        (d, lang) => d.name(lang),
    }
}
