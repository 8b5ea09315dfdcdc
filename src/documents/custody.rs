//! Custody: documents checked into cabinet slots, moved, transferred between sites and audited against a scan (R9).

use super::*;

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
    tell_applicant(
        ctx,
        &mut tx,
        doc.application_id,
        "document.ready",
        |lang, no| {
            ready_text(
                Arrived::Produced,
                lang,
                name(lang),
                no,
                (site.name(lang), site.address(lang)),
                &from,
            )
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
pub(super) async fn receive_transfer(
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
    tell_applicant(
        ctx,
        &mut tx,
        doc.application_id,
        "document.ready",
        |lang, no| {
            ready_text(
                Arrived::Transferred,
                lang,
                name(lang),
                no,
                (site.name(lang), site.address(lang)),
                &from,
            )
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

/// From when and in which hours a document waiting at `site` can be collected: the site's
/// first open day from `date`, and its working-day hours (a text cannot list every day's).
pub(super) fn ready_from(ctx: &Ctx<'_>, site: &crate::sites::Site, date: Date) -> ReadyFrom {
    let first_open = crate::domain::opening::next_openings(
        &site.opening_rules,
        &ctx.calendar.current(),
        date,
        14,
    )
    .ok()
    .and_then(|days| days.into_iter().find(|(_, o)| o.is_open()))
    .map_or(date, |(d, _)| d);
    ReadyFrom {
        date: first_open,
        hours: site
            .opening_rules
            .working_day
            .iter()
            .map(|p| p.to_string())
            .collect(),
    }
}

/// The first day a document can be collected, and the site's hours on working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyFrom {
    pub date: Date,
    /// `08:30–12:00` per period; empty when the site has no working-day hours.
    pub hours: Vec<String>,
}

/// How a document came to be waiting for its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrived {
    Produced,
    Transferred,
}

/// The text telling the holder their document can be collected: where (name and address),
/// from when and in which hours, and what to bring.
pub fn ready_text(
    how: Arrived,
    lang: Lang,
    document: &str,
    no: &str,
    (site, address): (&str, &str),
    from: &ReadyFrom,
) -> String {
    let date = notify::wording::date(lang, from.date);
    let hours = notify::wording::hours(lang, &from.hours);
    match (how, lang) {
        (Arrived::Produced, Lang::ZhCn) => format!(
            "【出入境】您的{document}（受理编号{no}）已制作完成，请自{date}起，{}到{site}（{address}）领取，请携带受理回执和身份证。",
            zh_hours(&hours)
        ),
        (Arrived::Transferred, Lang::ZhCn) => format!(
            "【出入境】您的{document}（受理编号{no}）已转至{site}（{address}），请自{date}起，{}前往领取，请携带受理回执和身份证。",
            zh_hours(&hours)
        ),
        (Arrived::Produced, Lang::En) => format!(
            "[Exit-Entry] Your {document} (application {no}) is ready. Please collect it at {site} ({address}) from {date}{}. Bring your receipt and ID card.",
            en_hours(&hours)
        ),
        (Arrived::Transferred, Lang::En) => format!(
            "[Exit-Entry] Your {document} (application {no}) is now at {site} ({address}). Please collect it there from {date}{}. Bring your receipt and ID card.",
            en_hours(&hours)
        ),
    }
}

/// `在工作日08:30–12:00、13:30–17:30`, or nothing for a site without working-day hours.
fn zh_hours(hours: &str) -> String {
    if hours.is_empty() {
        String::new()
    } else {
        format!("在工作日{hours}")
    }
}

/// `, on working days 08:30–12:00 and 13:30–17:30`, or nothing.
fn en_hours(hours: &str) -> String {
    if hours.is_empty() {
        String::new()
    } else {
        format!(", on working days {hours}")
    }
}

#[cfg(test)]
mod ready_tests {
    use super::*;

    #[test]
    fn the_ready_text_reads_as_a_sentence() {
        let from = ReadyFrom {
            date: jiff::civil::date(2026, 12, 2),
            hours: vec!["08:30–12:00".into(), "13:30–17:30".into()],
        };
        let hall = (
            "示范市公安局出入境接待大厅",
            "示范市人民路 88 号市民服务中心一楼",
        );
        assert_eq!(
            ready_text(
                Arrived::Produced,
                Lang::ZhCn,
                "往来港澳通行证",
                "202611250001000011",
                hall,
                &from
            ),
            "【出入境】您的往来港澳通行证（受理编号202611250001000011）已制作完成，请自2026年12月2日起，在工作日08:30–12:00、13:30–17:30到示范市公安局出入境接待大厅（示范市人民路 88 号市民服务中心一楼）领取，请携带受理回执和身份证。"
        );
        assert_eq!(
            ready_text(
                Arrived::Transferred,
                Lang::En,
                "passport",
                "202611250001000011",
                ("Demo City Hall", "88 Renmin Road"),
                &from
            ),
            "[Exit-Entry] Your passport (application 202611250001000011) is now at Demo City Hall (88 Renmin Road). Please collect it there from 2 December 2026, on working days 08:30–12:00 and 13:30–17:30. Bring your receipt and ID card."
        );
    }
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
