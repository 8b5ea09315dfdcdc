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
