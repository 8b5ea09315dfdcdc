//! Applications a kiosk accepts by itself (self-service endorsement, R11, issue 14 §4): one
//! number like any other, accepted on the spot with no officer, the fee fixed at choice and the
//! promised date today; or stopped by the control-list checks, with an alert the kiosk raises.

use super::rules::{self, Applicant, DocumentRequest, OldDocument};
use super::{Ctx, Refusal, Result, store};
use crate::audit::{self, AuditEntry};
use crate::auth::Failure;
use crate::catalog::{ApplicationCategory, DocumentType, TimeLimitClass};
use crate::domain::application_no::ApplicationNo;
use crate::domain::document_number::DocumentNumber;
use crate::domain::id_number::{IdNumber, Sex};
use crate::domain::phone::PhoneNumber;
use crate::i18n::Lang;
use crate::sites::Site;

/// The holder as the kiosk knows them: from the permit's chip and the typed phone.
pub struct KioskApplicant<'a> {
    pub name: &'a str,
    pub id_number: &'a IdNumber,
    pub phone: Option<&'a PhoneNumber>,
    pub lang: Lang,
}

/// What the kiosk is about to issue.
pub struct KioskEndorsement<'a> {
    pub document: DocumentType,
    pub permit_number: &'a DocumentNumber,
    pub option_id: &'a str,
    pub device_id: i64,
    pub device_name: &'a str,
}

/// The accepted application of a self-service endorsement.
#[derive(Debug, Clone)]
pub struct KioskAccepted {
    pub application_id: i64,
    pub application_no: ApplicationNo,
    pub fee_fen: i64,
}

async fn insert_kiosk_application(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::AnyConnection,
    site: &Site,
    who: &KioskApplicant<'_>,
) -> Result<(i64, ApplicationNo, String)> {
    let today = ctx.clock.today();
    let site_code: u16 = site
        .code
        .parse()
        .map_err(|_| Failure::Internal(format!("site code {} is not numeric", site.code)))?;
    let date = today.to_string();
    let seq = store::next_in_series(tx, site.id, &date, "application").await?;
    let seq = u32::try_from(seq).map_err(|_| Failure::Internal("sequence overflow".into()))?;
    let number = ApplicationNo::new(today, site_code, seq)
        .map_err(|e| Failure::Internal(format!("application number: {e:?}")))?;
    let token = crate::crypto::random_token()[..24].to_string();
    let id = store::insert_application(
        tx,
        &store::NewApplication {
            application_no: number.as_str(),
            token: &token,
            site_id: site.id,
            form_date: &date,
            channel: super::Channel::Kiosk.code(),
            id_index: ctx.cipher.blind_index(who.id_number.as_str()).newest(),
            id_sealed: ctx.cipher.seal(who.id_number.as_str()),
            name_sealed: ctx.cipher.seal(who.name),
            phone_sealed: ctx
                .cipher
                .seal(who.phone.map(|p| p.as_str()).unwrap_or_default()),
            // The kiosk does not ask for an address: nothing is sent anywhere.
            address_sealed: ctx.cipher.seal(""),
            sex: match who.id_number.sex() {
                Sex::Male => "male",
                Sex::Female => "female",
            },
            birth_date: &who.id_number.birth_date().to_string(),
            ethnicity: "",
            id_source: "card_reader",
            state_personnel: false,
            unit_consent: false,
            work_unit: None,
            guardian_name_sealed: None,
            guardian_id_sealed: None,
            guardian_relation: None,
            guardian_entrusted: false,
            lang: who.lang.code(),
            now: ctx.clock.now_ms(),
        },
    )
    .await?;
    store::mark_self_service(tx, id).await?;
    Ok((id, number, token))
}

/// Accepts a self-service endorsement in the caller's transaction: the application, its one
/// document and endorsement, the fee in force today, promised today, accepted by the kiosk.
pub async fn accept_at_kiosk(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::AnyConnection,
    site: &Site,
    who: &KioskApplicant<'_>,
    what: &KioskEndorsement<'_>,
) -> Result<KioskAccepted> {
    let today = ctx.clock.today();
    let now = ctx.clock.now_ms();
    let request = DocumentRequest {
        document: what.document,
        category: ApplicationCategory::Endorsement,
        old_number: Some(what.permit_number.clone()),
        old_document: Some(OldDocument::Held),
        endorsements: vec![what.option_id.to_string()],
        annotations: 0,
    };
    let applicant = Applicant {
        id_number: who.id_number.clone(),
        registered_state_personnel: false,
        unit_consent: false,
        work_unit: None,
        guardian: None,
    };
    let items = rules::check_form(
        ctx.catalog,
        today,
        &applicant,
        std::slice::from_ref(&request),
    )
    .map_err(|e| Failure::Refused(e.into()))?;
    let fee_lines = rules::fee_lines(ctx.catalog, today, std::slice::from_ref(&request), &items)
        .map_err(|e| Failure::Refused(super::ApplicationError::NoPromisedDate(e.to_string())))?;
    let fee_fen: i64 = fee_lines.iter().map(|l| l.fen).sum();
    let (id, number, _) = insert_kiosk_application(ctx, tx, site, who).await?;
    let item = items
        .first()
        .ok_or_else(|| Failure::Internal("endorsement item".into()))?;
    let doc_id = store::insert_document(
        tx,
        id,
        0,
        &request,
        &item.id,
        Some(ctx.cipher.seal(what.permit_number.as_str())),
    )
    .await?;
    store::insert_endorsement(tx, doc_id, what.option_id).await?;
    let promised = crate::domain::calendar::Reckoned {
        date: today,
        provisional: false,
    };
    let terms = super::Terms {
        fee_lines,
        fee_fen,
        promised: vec![promised],
        promised_date: promised,
    };
    let today_s = today.to_string();
    let done = store::accept(
        tx,
        &store::Accepted {
            id,
            version: 0,
            class: TimeLimitClass::Normal.code(),
            emergency_reason: None,
            emergency_proof: None,
            delivery: "pickup",
            pickup_site_id: Some(site.id),
            express_sealed: None,
            fee_fen,
            fee_date: &today_s,
            promised_date: &today_s,
            promised_provisional: false,
            officer_id: None,
            now,
        },
    )
    .await?;
    if !done {
        return Err(Failure::Internal(
            "a new kiosk application changed under us".into(),
        ));
    }
    store::set_checks(tx, id, true, now).await?;
    store::fix_document_terms(tx, id, number.as_str(), &terms, now).await?;
    store::event(
        tx,
        id,
        now,
        "accepted",
        None,
        serde_json::json!({
            "self_service": true,
            "device": what.device_id,
            "option": what.option_id,
            "fee_fen": fee_fen,
            "promised_date": today_s,
        }),
    )
    .await?;
    audit::record(
        tx,
        AuditEntry::by_device(
            what.device_name,
            "application.accept_at_kiosk",
            "application",
            number.as_str(),
            now,
        )
        .site(site.id)
        .detail(serde_json::json!({"device": what.device_id, "option": what.option_id})),
    )
    .await?;
    Ok(KioskAccepted {
        application_id: id,
        application_no: number,
        fee_fen,
    })
}

/// A control-list hit at a kiosk: the application is recorded as not accepted there and the
/// duty leader's alert raised by the device, in the caller's transaction. The citizen is only
/// asked to go to a window.
pub async fn stop_at_kiosk(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::AnyConnection,
    site: &Site,
    who: &KioskApplicant<'_>,
    device: (i64, &str),
    hits: &[String],
) -> Result<ApplicationNo> {
    let now = ctx.clock.now_ms();
    let (id, number, _) = insert_kiosk_application(ctx, tx, site, who).await?;
    store::set_checks(tx, id, false, now).await?;
    for kind in hits {
        store::insert_device_alert(tx, id, site.id, kind, device.0, now).await?;
    }
    let refusal = Refusal {
        reasons: vec!["自助签注核查未通过，须到窗口办理".into()],
        basis: "出境管控与双重户籍核查".into(),
        officer: format!("自助机 {}", device.1),
        at: now,
    };
    let json = serde_json::to_string(&refusal).map_err(|e| Failure::Internal(e.to_string()))?;
    store::refuse_by_device(tx, id, &json, now).await?;
    store::event(
        tx,
        id,
        now,
        "checks_stopped",
        None,
        serde_json::json!({"self_service": true, "device": device.0}),
    )
    .await?;
    audit::record(
        tx,
        AuditEntry::by_device(
            device.1,
            "application.checks",
            "application",
            number.as_str(),
            now,
        )
        .site(site.id)
        .detail(serde_json::json!({"hits": hits, "device": device.0})),
    )
    .await?;
    Ok(number)
}

/// The control-list kinds an ID number is on (restricted exit, dual registration).
pub async fn watch_hits(ctx: &Ctx<'_>, id_number: &IdNumber) -> Result<Vec<String>> {
    Ok(store::watch_hits(ctx.db.reader(), &ctx.cipher.blind_index(id_number.as_str())).await?)
}
