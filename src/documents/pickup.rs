//! Pickup: handing documents over with identity checks, and data errors found at the counter (R9).

use super::*;

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
            recipient_id_index: ctx.cipher.blind_index(recipient_id.as_str()).newest(),
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
