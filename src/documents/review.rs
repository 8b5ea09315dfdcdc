//! Review and production: the approver's decision and the producer's batches (R7).

use super::*;

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
        |lang, no| message_approved(lang, name(lang), no),
        now,
    )
    .await?;
    tx.commit().await?;
    load(ctx, id).await
}

/// Rejects a document under review with written reasons; the applicant is told.
/// `acceptance_error`: the approver finds the application should not have been accepted as it
/// was (受理差错); it counts against the accepting officer's error rate (R13).
/// Why an approver refuses a document (issue 18 item 2): one of these, plus their own words.
/// (code, 中文, English); the record keeps the Chinese label and the words.
pub const REJECTION_REASONS: [(&str, &str, &str); 6] = [
    (
        "materials",
        "申请材料不真实或不完整",
        "Materials untrue or incomplete",
    ),
    (
        "not_eligible",
        "不符合申请条件",
        "Not eligible for the document",
    ),
    (
        "photo",
        "照片不符合标准",
        "Photo does not meet the standard",
    ),
    (
        "fingerprint",
        "指纹不清晰或无法比对",
        "Fingerprints unusable",
    ),
    (
        "barred",
        "属于不准出境情形",
        "Barred from leaving the country",
    ),
    ("other", "其他", "Other"),
];

/// The reasons recorded for a rejection chosen from [`REJECTION_REASONS`] with the approver's
/// own words; `None` when the code is not one of them or the words are missing.
pub fn rejection_text(code: &str, words: &str) -> Option<String> {
    let words = words.trim();
    let (_, zh, _) = REJECTION_REASONS.iter().find(|(c, _, _)| *c == code)?;
    (!words.is_empty()).then(|| format!("{zh}：{words}"))
}

pub async fn reject(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Review>,
    id: i64,
    reasons: &str,
    acceptance_error: bool,
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
        serde_json::json!({"reasons": reasons, "acceptance_error": acceptance_error}),
    )
    .await?;
    store::set_rejection(&mut tx, id, reasons, acceptance_error).await?;
    let name = |lang| document_name(&doc, lang);
    tell_applicant(
        ctx,
        &mut tx,
        doc.application_id,
        "document.rejected",
        |lang, no| message_rejected(lang, name(lang), no, reasons),
        now,
    )
    .await?;
    tx.commit().await?;
    load(ctx, id).await
}

/// The text telling the applicant a document was approved and is being made.
pub fn message_approved(lang: Lang, document: &str, no: &str) -> String {
    match lang {
        Lang::ZhCn => {
            format!("【出入境】您申请的{document}（受理编号{no}）已审批通过，正在制作证件。")
        }
        Lang::En => format!(
            "[Exit-Entry] Your {document} (application {no}) has been approved and is now being made."
        ),
    }
}

/// The text telling the applicant a document was not approved, with the approver's reasons.
pub fn message_rejected(lang: Lang, document: &str, no: &str, reasons: &str) -> String {
    match lang {
        Lang::ZhCn => format!(
            "【出入境】您申请的{document}（受理编号{no}）不予批准，原因：{}。可凭受理编号查询详情。",
            notify::wording::quoted(reasons)
        ),
        Lang::En => format!(
            "[Exit-Entry] Your {document} (application {no}) was not approved. Reason: {}. You can see the details with your application number.",
            notify::wording::quoted_capitalised(reasons)
        ),
    }
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
