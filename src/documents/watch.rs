//! Time limits, uncollected documents and the duty leader's daily digest (R7, R9).

use super::*;

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
                    |lang, no| message_uncollected(lang, name(lang), no),
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
    let listed: Vec<(&str, &str, &str)> = w
        .overdue
        .iter()
        .map(|d| {
            (
                d.application_no.as_str(),
                document_name(d, Lang::ZhCn),
                d.promised_date.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let text = digest_text(today, w.overdue.len(), w.near_due.len(), expedited, &listed);
    Ok(Digest {
        date: today.to_string(),
        overdue: w.overdue.len(),
        near_due: w.near_due.len(),
        expedited,
        text,
    })
}

/// How many overdue documents the digest names one by one (a text, not a report).
const DIGEST_LISTS: usize = 5;

/// The duty leader's digest (in Chinese: it goes to staff): the day's counts, then the first
/// overdue documents — `(application number, document, promised date)` — by name.
pub fn digest_text(
    today: Date,
    overdue: usize,
    near_due: usize,
    expedited: usize,
    overdue_docs: &[(&str, &str, &str)],
) -> String {
    let mut text = format!(
        "【出入境·带班摘要】{}：超期{overdue}件，临近到期{near_due}件",
        notify::wording::date(Lang::ZhCn, today)
    );
    if expedited > 0 {
        text.push_str(&format!("，其中加急{expedited}件"));
    }
    text.push('。');
    if !overdue_docs.is_empty() {
        let named: Vec<String> = overdue_docs
            .iter()
            .take(DIGEST_LISTS)
            .map(|(no, document, promised)| {
                format!(
                    "{no}（{document}，承诺{}）",
                    notify::wording::stored_date(Lang::ZhCn, promised)
                )
            })
            .collect();
        let which = if overdue_docs.len() > DIGEST_LISTS {
            format!("（前{DIGEST_LISTS}件，共{}件）", overdue_docs.len())
        } else {
            String::new()
        };
        text.push_str(&format!("超期明细{which}：{}。", named.join("；")));
    }
    text
}

/// The reminder to collect a document that has waited long in custody.
pub fn message_uncollected(lang: Lang, document: &str, no: &str) -> String {
    match lang {
        Lang::ZhCn => format!(
            "【出入境】您的{document}（受理编号{no}）已制作完成多日，至今尚未领取，请尽快携带受理回执和身份证领取。"
        ),
        Lang::En => format!(
            "[Exit-Entry] Your {document} (application {no}) has been ready for some time and is still waiting for you. Please collect it soon; bring your receipt and ID card."
        ),
    }
}

/// Queues the digest for the duty leader once per day (the outbox reference is the date, so a
/// restart or a second node does not send it twice), `extra` (the complaints' and ratings'
/// lines) after the documents'. True when it was queued now.
pub async fn send_digest_once(
    ctx: &Ctx<'_>,
    phone: &crate::domain::phone::PhoneNumber,
    today: Date,
    extra: &str,
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
    let body = format!("{}{extra}", digest.text);
    let now = ctx.clock.now_ms();
    notify::enqueue(
        &mut tx,
        ctx.cipher,
        notify::Outgoing {
            kind: "leader.digest",
            reference: &reference,
            phone,
            body: &body,
            due_at: now,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
