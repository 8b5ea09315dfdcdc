//! SQL for document stages and steps, production batches, cabinet slots, custody moves,
//! pickups and data errors.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::flow::Stage;

/// A document with what the workflow pages show about it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DocRow {
    pub id: i64,
    pub application_id: i64,
    pub application_no: String,
    pub site_id: i64,
    pub position: i64,
    pub document_type: String,
    pub category: String,
    pub item_id: String,
    pub stage: Stage,
    pub stage_at: Option<i64>,
    pub label: Option<String>,
    #[schema(format = Date)]
    pub promised_date: Option<String>,
    /// Counted on a year without the State Council's notice (issue 11).
    pub promised_provisional: bool,
    pub time_limit_class: Option<String>,
    pub delivery: Option<String>,
    pub pickup_site_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub custody_site_id: Option<i64>,
    pub rejection: Option<String>,
    /// `cabinet-slot` while the document sits in a cabinet slot.
    pub slot: Option<String>,
    /// The application owes nothing (no fee, or paid): production, pickup and express wait for
    /// it (decision 012).
    pub fee_settled: bool,
}

macro_rules! select_doc {
    ($tail:literal) => {
        concat!(
            r#"SELECT d.id, d.application_id, a.application_no, a.site_id, d.position, d.document_type, d.category,
             d.item_id, d.status, d.stage_at, d.label, d.promised_date, d.promised_provisional, a.time_limit_class, a.delivery,
             a.pickup_site_id, d.batch_id, d.custody_site_id, d.rejection, s.cabinet, s.slot, "#,
            crate::payments::fee_settled_sql!(),
            r#" AS fee_settled
             FROM application_documents d JOIN applications a ON a.id = d.application_id
             LEFT JOIN cabinet_slots s ON s.document_id = d.id "#,
            $tail
        )
    };
}

fn doc_row(r: &sqlx::any::AnyRow) -> Result<DocRow, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(DocRow {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        application_no: r.try_get("application_no")?,
        site_id: r.try_get("site_id")?,
        position: r.try_get("position")?,
        document_type: r.try_get("document_type")?,
        category: r.try_get("category")?,
        item_id: r.try_get("item_id")?,
        stage: Stage::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("stage {status}").into()))?,
        stage_at: r.try_get("stage_at")?,
        label: r.try_get("label")?,
        promised_date: r.try_get("promised_date")?,
        promised_provisional: r.try_get::<i64, _>("promised_provisional")? != 0,
        time_limit_class: r.try_get("time_limit_class")?,
        delivery: r.try_get("delivery")?,
        pickup_site_id: r.try_get("pickup_site_id")?,
        batch_id: r.try_get("batch_id")?,
        custody_site_id: r.try_get("custody_site_id")?,
        rejection: r.try_get("rejection")?,
        slot: match (
            r.try_get::<Option<String>, _>("cabinet")?,
            r.try_get::<Option<String>, _>("slot")?,
        ) {
            (Some(c), Some(s)) => Some(format!("{c}-{s}")),
            _ => None,
        },
        fee_settled: r.try_get::<i64, _>("fee_settled")? == 1,
    })
}

pub async fn doc<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<DocRow>, sqlx::Error> {
    sqlx::query(select_doc!("WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| doc_row(&r))
        .transpose()
}

pub async fn doc_by_label<'e>(
    ex: impl Executor<'e, Database = Any>,
    label: &str,
) -> Result<Option<DocRow>, sqlx::Error> {
    sqlx::query(select_doc!("WHERE d.label = $1"))
        .bind(label)
        .fetch_optional(ex)
        .await?
        .map(|r| doc_row(&r))
        .transpose()
}

pub async fn docs_of_application<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<Vec<DocRow>, sqlx::Error> {
    sqlx::query(select_doc!(
        "WHERE d.application_id = $1 ORDER BY d.position"
    ))
    .bind(application_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(doc_row)
    .collect()
}

/// Documents at a stage, the most urgent first (expedited, then the earliest promised date).
pub async fn docs_at_stage<'e>(
    ex: impl Executor<'e, Database = Any>,
    stage: Stage,
    site_id: Option<i64>,
    document_type: Option<&str>,
    expedited_only: bool,
) -> Result<Vec<DocRow>, sqlx::Error> {
    sqlx::query(select_doc!(
        r#"WHERE d.status = $1 AND (CAST($2 AS BIGINT) IS NULL OR a.site_id = $2)
         AND (CAST($3 AS TEXT) IS NULL OR d.document_type = $3)
         AND ($4 = 0 OR a.time_limit_class = 'expedited')
         ORDER BY CASE WHEN a.time_limit_class = 'expedited' THEN 0 ELSE 1 END, d.promised_date, d.id LIMIT 500"#
    ))
    .bind(stage.code())
    .bind(site_id)
    .bind(document_type)
    .bind(i64::from(expedited_only))
    .fetch_all(ex)
    .await?
    .iter()
    .map(doc_row)
    .collect()
}

/// Documents in custody at a site since before `before_ms` (uncollected), oldest first.
pub async fn in_custody_since<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
    before_ms: i64,
) -> Result<Vec<DocRow>, sqlx::Error> {
    sqlx::query(select_doc!(
        "WHERE d.status = 'in_custody' AND d.custody_site_id = $1 AND d.stage_at < $2 ORDER BY d.stage_at, d.id"
    ))
    .bind(site_id)
    .bind(before_ms)
    .fetch_all(ex)
    .await?
    .iter()
    .map(doc_row)
    .collect()
}

/// Documents still owed whose promised date is on or before `by` (overdue and near-due).
pub async fn due_by<'e>(
    ex: impl Executor<'e, Database = Any>,
    by: &str,
) -> Result<Vec<DocRow>, sqlx::Error> {
    sqlx::query(select_doc!(
        r#"WHERE d.status IN ('accepted', 'under_review', 'approved', 'in_production', 'produced')
         AND d.promised_date <= $1 ORDER BY d.promised_date, d.id"#
    ))
    .bind(by)
    .fetch_all(ex)
    .await?
    .iter()
    .map(doc_row)
    .collect()
}

/// Moves a document from one stage to another if it is still at `from` (false otherwise), and
/// records the step.
#[allow(clippy::too_many_arguments)]
pub async fn step(
    conn: &mut AnyConnection,
    id: i64,
    from: Stage,
    to: Stage,
    staff: Option<i64>,
    now: i64,
    detail: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE application_documents SET status = $1, stage_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(to.code())
    .bind(now)
    .bind(id)
    .bind(from.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO document_steps (document_id, from_stage, to_stage, at, staff_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(from.code())
    .bind(to.code())
    .bind(now)
    .bind(staff)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(true)
}

/// One step of a document, for the timeline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StepRow {
    pub from_stage: String,
    pub to_stage: String,
    pub at: i64,
    pub staff_id: Option<i64>,
    pub detail: String,
}

pub async fn steps<'e>(
    ex: impl Executor<'e, Database = Any>,
    document_id: i64,
) -> Result<Vec<StepRow>, sqlx::Error> {
    sqlx::query(
        "SELECT from_stage, to_stage, at, staff_id, detail FROM document_steps WHERE document_id = $1 ORDER BY id",
    )
    .bind(document_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(StepRow {
            from_stage: r.try_get("from_stage")?,
            to_stage: r.try_get("to_stage")?,
            at: r.try_get("at")?,
            staff_id: r.try_get("staff_id")?,
            detail: r.try_get("detail")?,
        })
    })
    .collect()
}

pub async fn set_rejection(
    conn: &mut AnyConnection,
    id: i64,
    reasons: &str,
    acceptance_error: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE application_documents SET rejection = $1, acceptance_error = $2 WHERE id = $3",
    )
    .bind(reasons)
    .bind(i64::from(acceptance_error))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_reviewer(
    conn: &mut AnyConnection,
    id: i64,
    staff: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE application_documents SET reviewer_id = $1 WHERE id = $2")
        .bind(staff)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_batch(
    conn: &mut AnyConnection,
    staff: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO production_batches (created_at, created_by) VALUES ($1, $2) RETURNING id",
    )
    .bind(now)
    .bind(staff)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn set_batch(conn: &mut AnyConnection, doc: i64, batch: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE application_documents SET batch_id = $1 WHERE id = $2")
        .bind(batch)
        .bind(doc)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn batch_docs<'e>(
    ex: impl Executor<'e, Database = Any>,
    batch: i64,
) -> Result<Vec<DocRow>, sqlx::Error> {
    sqlx::query(select_doc!("WHERE d.batch_id = $1 ORDER BY d.id"))
        .bind(batch)
        .fetch_all(ex)
        .await?
        .iter()
        .map(doc_row)
        .collect()
}

pub async fn finish_batch(
    conn: &mut AnyConnection,
    batch: i64,
    staff: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE production_batches SET produced_at = $1, produced_by = $2 WHERE id = $3 AND produced_at IS NULL",
    )
    .bind(now)
    .bind(staff)
    .bind(batch)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The numbers given to an application's documents at production, sealed, by label.
pub async fn issued_numbers<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<Vec<(Option<String>, String, Option<Vec<u8>>)>, sqlx::Error> {
    sqlx::query(
        "SELECT label, document_type, issued_number_sealed FROM application_documents WHERE application_id = $1 ORDER BY position",
    )
    .bind(application_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("label")?,
            r.try_get("document_type")?,
            r.try_get("issued_number_sealed")?,
        ))
    })
    .collect()
}

pub async fn set_issued_number(
    conn: &mut AnyConnection,
    doc: i64,
    sealed: Vec<u8>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE application_documents SET issued_number_sealed = $1 WHERE id = $2")
        .bind(sealed)
        .bind(doc)
        .execute(conn)
        .await?;
    Ok(())
}

/// A cabinet slot and what is in it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SlotRow {
    pub id: i64,
    pub site_id: i64,
    pub cabinet: String,
    pub slot: String,
    pub document_id: Option<i64>,
}

fn slot_row(r: &sqlx::any::AnyRow) -> Result<SlotRow, sqlx::Error> {
    Ok(SlotRow {
        id: r.try_get("id")?,
        site_id: r.try_get("site_id")?,
        cabinet: r.try_get("cabinet")?,
        slot: r.try_get("slot")?,
        document_id: r.try_get("document_id")?,
    })
}

/// The slot `(cabinet, slot)` at a site, created on first use.
pub async fn slot_at(
    conn: &mut AnyConnection,
    site: i64,
    cabinet: &str,
    slot: &str,
) -> Result<SlotRow, sqlx::Error> {
    sqlx::query(
        "INSERT INTO cabinet_slots (site_id, cabinet, slot) VALUES ($1, $2, $3) ON CONFLICT (site_id, cabinet, slot) DO NOTHING",
    )
    .bind(site)
    .bind(cabinet)
    .bind(slot)
    .execute(&mut *conn)
    .await?;
    let r = sqlx::query("SELECT id, site_id, cabinet, slot, document_id FROM cabinet_slots WHERE site_id = $1 AND cabinet = $2 AND slot = $3")
        .bind(site)
        .bind(cabinet)
        .bind(slot)
        .fetch_one(conn)
        .await?;
    slot_row(&r)
}

pub async fn slot_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    document: i64,
) -> Result<Option<SlotRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id, site_id, cabinet, slot, document_id FROM cabinet_slots WHERE document_id = $1",
    )
    .bind(document)
    .fetch_optional(ex)
    .await?
    .map(|r| slot_row(&r))
    .transpose()
}

/// Puts a document into an empty slot (false if the slot is taken).
pub async fn occupy(
    conn: &mut AnyConnection,
    slot: i64,
    document: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE cabinet_slots SET document_id = $1, since = $2 WHERE id = $3 AND document_id IS NULL")
        .bind(document)
        .bind(now)
        .bind(slot)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn vacate(conn: &mut AnyConnection, document: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cabinet_slots SET document_id = NULL, since = NULL WHERE document_id = $1")
        .bind(document)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_custody_site(
    conn: &mut AnyConnection,
    doc: i64,
    site: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE application_documents SET custody_site_id = $1 WHERE id = $2")
        .bind(site)
        .bind(doc)
        .execute(conn)
        .await?;
    Ok(())
}

/// The site an application's documents are collected at (after a transfer).
pub async fn set_pickup_site(
    conn: &mut AnyConnection,
    application_id: i64,
    site: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE applications SET pickup_site_id = $1 WHERE id = $2")
        .bind(site)
        .bind(application_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn record_move(
    conn: &mut AnyConnection,
    document: i64,
    from: Option<i64>,
    to: Option<i64>,
    staff: i64,
    now: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO custody_moves (document_id, from_slot, to_slot, at, staff_id, reason) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(document)
    .bind(from)
    .bind(to)
    .bind(now)
    .bind(staff)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(label, cabinet, slot, since)` of every document in custody at a site.
pub async fn custody_of_site<'e>(
    ex: impl Executor<'e, Database = Any>,
    site: i64,
) -> Result<Vec<(String, String, String, i64)>, sqlx::Error> {
    sqlx::query(
        r#"SELECT d.label, s.cabinet, s.slot, s.since FROM cabinet_slots s JOIN application_documents d ON d.id = s.document_id
         WHERE s.site_id = $1 ORDER BY s.cabinet, s.slot"#,
    )
    .bind(site)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<Option<String>, _>("label")?.unwrap_or_default(),
            r.try_get("cabinet")?,
            r.try_get("slot")?,
            r.try_get::<Option<i64>, _>("since")?.unwrap_or_default(),
        ))
    })
    .collect()
}

pub struct NewPickup<'a> {
    pub application_id: i64,
    pub site_id: i64,
    pub officer_id: i64,
    pub recipient: &'a str,
    pub recipient_id_index: &'a str,
    pub recipient_sealed: Vec<u8>,
    pub verification_ref: &'a str,
    pub verification_score: i64,
    pub photo_ref: &'a str,
    pub signature_ref: &'a str,
    pub now: i64,
}

pub async fn insert_pickup(
    conn: &mut AnyConnection,
    p: &NewPickup<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO pickups (application_id, site_id, at, officer_id, recipient, recipient_id_index, recipient_sealed,
         verification_ref, verification_score, photo_ref, signature_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"#,
    )
    .bind(p.application_id)
    .bind(p.site_id)
    .bind(p.now)
    .bind(p.officer_id)
    .bind(p.recipient)
    .bind(p.recipient_id_index)
    .bind(p.recipient_sealed.clone())
    .bind(p.verification_ref)
    .bind(p.verification_score)
    .bind(p.photo_ref)
    .bind(p.signature_ref)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn insert_data_error(
    conn: &mut AnyConnection,
    document: i64,
    site: i64,
    officer: i64,
    note: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO data_errors (document_id, site_id, reported_at, officer_id, note) VALUES ($1, $2, $3, $4, $5)")
        .bind(document)
        .bind(site)
        .bind(now)
        .bind(officer)
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// `(label, note, reported_at)` of unresolved data errors at a site.
pub async fn open_data_errors<'e>(
    ex: impl Executor<'e, Database = Any>,
    site: i64,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query(
        r#"SELECT d.label, e.note, e.reported_at FROM data_errors e JOIN application_documents d ON d.id = e.document_id
         WHERE e.site_id = $1 AND e.resolved_at IS NULL ORDER BY e.id"#,
    )
    .bind(site)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<Option<String>, _>("label")?.unwrap_or_default(),
            r.try_get("note")?,
            r.try_get("reported_at")?,
        ))
    })
    .collect()
}
