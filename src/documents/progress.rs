//! Progress for citizens: where each document of an application stands, in their language (R6).

use super::*;

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

/// What the citizen does next (issue 18 item 6), in their language: a headline and sentences
/// saying where, when and what to bring.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextStep {
    /// `come_to_window`, `bring_materials`, `pay`, `wait`, `collect`, `await_delivery` or
    /// `done`.
    pub code: String,
    pub title: String,
    pub lines: Vec<String>,
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
    /// What to do next; none after a refusal (its reasons say it).
    pub next: Option<NextStep>,
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
    if !ctx
        .cipher
        .blind_index(id_number.as_str())
        .matches(&row.id_index)
    {
        return Ok(None);
    }
    let expedited = row.time_limit_class.as_deref() == Some("expedited");
    let status = row.status;
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
    // The payment is a step of every document's way: nothing is produced before it.
    let paid = crate::payments::paid_payment(ctx.db.reader(), row.id).await?;
    if let Some(p) = &paid {
        first_steps.push(ProgressStep {
            at: p.paid_at.unwrap_or(p.created_at),
            code: "paid".into(),
            text: format!(
                "{} {}",
                lang.pick("已缴费", "Fee paid:"),
                crate::notify::wording::yuan(lang, p.amount_fen)
            ),
        });
    }
    let docs = store::docs_of_application(ctx.db.reader(), row.id).await?;
    let next = next_step(ctx, &row, &docs, paid.is_some(), lang).await?;
    let mut documents = Vec::new();
    for doc in docs {
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
        steps.sort_by_key(|s| s.at);
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
        next,
        tracking: Vec::new(),
        application_id: row.id,
    }))
}

/// The next thing the citizen does, from where the application and its documents stand.
async fn next_step(
    ctx: &Ctx<'_>,
    row: &applications::ApplicationRow,
    docs: &[DocRow],
    paid: bool,
    lang: Lang,
) -> Result<Option<NextStep>> {
    use applications::Status;
    let step = |code: &str, title: &str, lines: Vec<String>| NextStep {
        code: code.into(),
        title: title.into(),
        lines,
    };
    let site_of = |id: i64| async move { crate::sites::site(ctx.db.reader(), id).await };
    Ok(Some(match row.status {
        Status::Refused => return Ok(None),
        Status::Submitted | Status::InAcceptance => {
            let mut lines = vec![match lang {
                Lang::ZhCn => format!(
                    "请携带申请编号 {}、本人居民身份证和所需材料到窗口办理受理。",
                    row.application_no
                ),
                Lang::En => format!(
                    "Bring the application number {}, your ID card and the materials to a window to be accepted.",
                    row.application_no
                ),
            }];
            if let Some(site) = site_of(row.site_id).await? {
                lines.extend(where_and_when(ctx, &site, lang)?);
            }
            step(
                "come_to_window",
                lang.pick("已填表，尚未受理", "Form filled, not accepted yet"),
                lines,
            )
        }
        Status::AwaitingMaterials => {
            let missing: Vec<String> = applications::latest_notice(ctx.db.reader(), row.id)
                .await?
                .map(|(_, _, m)| {
                    m.iter()
                        .map(|id| {
                            ctx.catalog
                                .material(id)
                                .map(|x| x.name.get(lang).to_string())
                                .unwrap_or_else(|| id.clone())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let list = crate::notify::wording::list(lang, &missing);
            // A notice without its list (never written so) still says what to do, not "：。".
            let mut lines = vec![match (lang, missing.is_empty()) {
                (Lang::ZhCn, false) => format!("请补齐以下材料后再到窗口：{list}。"),
                (Lang::En, false) => format!("Come back to a window with: {list}."),
                (Lang::ZhCn, true) => "请按一次性告知书补齐材料后再到窗口。".to_string(),
                (Lang::En, true) => {
                    "Come back to a window with the materials the one-time notice lists."
                        .to_string()
                }
            }];
            if let Some(site) = site_of(row.site_id).await? {
                lines.extend(where_and_when(ctx, &site, lang)?);
            }
            step(
                "bring_materials",
                lang.pick("待补齐材料", "Materials to bring"),
                lines,
            )
        }
        Status::Accepted => {
            let owed = row.fee_fen.unwrap_or(0);
            if !paid && owed > 0 {
                step(
                    "pay",
                    lang.pick("待缴费", "Fee to pay"),
                    vec![match lang {
                        Lang::ZhCn => format!(
                            "请缴纳证件费 {}：可在窗口、自助缴费机或手机上缴纳。缴费后开始制证。",
                            crate::notify::wording::yuan(lang, owed)
                        ),
                        Lang::En => format!(
                            "Pay the fee of {} at a window, a payment kiosk or on your phone. Production starts once it is paid.",
                            crate::notify::wording::yuan(lang, owed)
                        ),
                    }],
                )
            } else if let Some(d) = docs.iter().find(|d| d.stage == Stage::InCustody) {
                let mut lines = Vec::new();
                if let Some(site) = site_of(d.custody_site_id.unwrap_or(row.site_id)).await? {
                    lines.extend(where_and_when(ctx, &site, lang)?);
                }
                lines.extend(what_to_bring(lang));
                step("collect", lang.pick("可领取", "Ready to collect"), lines)
            } else if docs.iter().any(|d| d.stage == Stage::Shipped) {
                step(
                    "await_delivery",
                    lang.pick("已寄出", "On its way"),
                    vec![lang
                        .pick(
                            "证件已交邮政速递寄出，请留意下方运单；签收时请交回受理回执。",
                            "Your document is with the courier: follow the waybill below, and hand back the acceptance receipt when you sign for it.",
                        )
                        .to_string()],
                )
            } else if !docs.is_empty()
                && docs
                    .iter()
                    .all(|d| matches!(d.stage, Stage::Issued | Stage::Delivered))
            {
                step(
                    "done",
                    lang.pick("已办结", "Done"),
                    vec![lang
                        .pick("证件已领取或寄达，本次申请已办结。", "Your documents are collected or delivered: this application is complete.")
                        .to_string()],
                )
            } else {
                let promised = docs
                    .iter()
                    .filter_map(|d| d.promised_date.as_deref())
                    .max()
                    .map(|d| crate::notify::wording::stored_date(lang, d));
                step(
                    "wait",
                    lang.pick("审批制证中", "Being approved and produced"),
                    vec![match (lang, promised) {
                        (Lang::ZhCn, Some(p)) => format!("正在审批制证，承诺于{p}前办结。可领取时我们会短信通知您，无需再来询问。"),
                        (Lang::En, Some(p)) => format!("Your application is being approved and produced, promised by {p}. We will text you when it is ready: no need to come and ask."),
                        (Lang::ZhCn, None) => "正在审批制证。可领取时我们会短信通知您。".to_string(),
                        (Lang::En, None) => "Your application is being approved and produced. We will text you when it is ready.".to_string(),
                    }],
                )
            }
        }
    }))
}

/// Where a site is and when it next opens, as two sentences.
fn where_and_when(ctx: &Ctx<'_>, site: &crate::sites::Site, lang: Lang) -> Result<Vec<String>> {
    let mut lines = vec![match lang {
        Lang::ZhCn => format!("地点：{}（{}）。", site.name(lang), site.address(lang)),
        Lang::En => format!("Where: {}, {}.", site.name(lang), site.address(lang)),
    }];
    if let Some(when) = next_opening(ctx, site, lang) {
        lines.push(match lang {
            Lang::ZhCn => format!("时间：{when}。"),
            Lang::En => format!("When: {when}."),
        });
    }
    Ok(lines)
}

/// The next opening of a site from now: today's hours while it is still open today, else the
/// next open day's (within four weeks; beyond the calendar, none).
fn next_opening(ctx: &Ctx<'_>, site: &crate::sites::Site, lang: Lang) -> Option<String> {
    use crate::notify::wording;
    let calendar = ctx.calendar.current();
    let now = ctx.clock.now_ms();
    let today = ctx.clock.today();
    let mut d = today;
    for _ in 0..28 {
        let opening =
            crate::domain::opening::openings_on(&site.opening_rules, &calendar, d).ok()?;
        let periods: Vec<_> = opening
            .periods()
            .iter()
            .filter(|p| {
                d != today
                    || crate::clock::local_ms(
                        d,
                        i64::from(p.end.hour()) * 60 + i64::from(p.end.minute()),
                    )
                    .is_some_and(|end| end > now)
            })
            .collect();
        if !periods.is_empty() {
            let day = if d == today {
                lang.pick("今天", "today").to_string()
            } else if Some(d) == today.tomorrow().ok() {
                lang.pick("明天", "tomorrow").to_string()
            } else {
                wording::date_with_weekday(lang, d)
            };
            return Some(match lang {
                Lang::ZhCn => format!("{day} {}", wording::hours(lang, &periods)),
                Lang::En => format!("{day}, {}", wording::hours(lang, &periods)),
            });
        }
        d = d.tomorrow().ok()?;
    }
    None
}

/// What to bring to collect (exit-entry.md §5): the applicant, a proxy, a guardian, a lost
/// receipt.
fn what_to_bring(lang: Lang) -> Vec<String> {
    [
        (
            "本人领取：请携带受理回执和本人居民身份证。",
            "In person: bring the acceptance receipt and your ID card.",
        ),
        (
            "他人代领：代领人须携带受理回执、代领人和申请人的居民身份证。",
            "Someone collecting for you brings the receipt, their own ID card and yours.",
        ),
        (
            "未满16周岁的，由监护人携带回执、本人身份证和监护关系证明领取。",
            "For a child under 16, a guardian collects with the receipt, their ID card and proof of guardianship.",
        ),
        (
            "回执遗失的，须本人携带身份证领取并书面说明。",
            "Receipt lost: collect in person with your ID card and a written statement.",
        ),
    ]
    .iter()
    .map(|(zh, en)| lang.pick(zh, en).to_string())
    .collect()
}
