//! SQL for applications, their documents, acceptance steps, notices and the watch list.

use sqlx::{Any, AnyConnection, Executor, Row};

use crate::privacy::BlindIndex;

use super::rules::DocumentRequest;
use crate::catalog::{ApplicationCategory, DocumentType};
use crate::devices::CaptureKind;
use crate::domain::calendar::Reckoned;

/// Next number of a per-site daily series (`application`, `receipt`, `refund`), inside the
/// caller's transaction so a rolled-back record does not use up a number.
pub async fn next_in_series(
    conn: &mut AnyConnection,
    site_id: i64,
    date: &str,
    series: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO daily_counters (site_id, date, series, next) VALUES ($1, $2, $3, 1)
         ON CONFLICT (site_id, date, series) DO UPDATE SET next = daily_counters.next + 1 RETURNING next"#,
    )
    .bind(site_id)
    .bind(date)
    .bind(series)
    .fetch_one(conn)
    .await?
    .try_get("next")
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApplicationRow {
    pub id: i64,
    pub application_no: String,
    pub token: String,
    pub site_id: i64,
    pub form_date: String,
    pub channel: String,
    #[sqlx(try_from = "String")]
    pub status: super::Status,
    pub id_index: String,
    pub id_sealed: Vec<u8>,
    pub name_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub address_sealed: Vec<u8>,
    pub sex: String,
    pub birth_date: String,
    pub ethnicity: String,
    pub id_source: String,
    pub state_personnel: i64,
    pub unit_consent: i64,
    pub work_unit: Option<String>,
    pub guardian_name_sealed: Option<Vec<u8>>,
    pub guardian_id_sealed: Option<Vec<u8>>,
    pub guardian_relation: Option<String>,
    pub guardian_entrusted: i64,
    #[sqlx(try_from = "String")]
    pub lang: crate::i18n::Lang,
    pub created_at: i64,
    pub ticket_id: Option<i64>,
    pub window_id: Option<i64>,
    pub officer_id: Option<i64>,
    pub acceptance_started_at: Option<i64>,
    pub materials_checked: Option<String>,
    pub photo_ref: Option<String>,
    pub photo_quality: Option<i64>,
    pub fingerprint_ref: Option<String>,
    pub fingerprint_quality: Option<i64>,
    pub fingerprint_exempt: Option<String>,
    pub face_verified_at: Option<i64>,
    pub checks_at: Option<i64>,
    pub checks_clear: Option<i64>,
    pub time_limit_class: Option<String>,
    pub emergency_reason: Option<String>,
    pub emergency_proof: Option<String>,
    pub delivery: Option<String>,
    pub pickup_site_id: Option<i64>,
    pub express_sealed: Option<Vec<u8>>,
    pub fee_fen: Option<i64>,
    pub fee_date: Option<String>,
    pub promised_date: Option<String>,
    /// 1 when the promised date was counted on a year without the State Council's notice.
    pub promised_provisional: i64,
    pub accepted_at: Option<i64>,
    pub refused_at: Option<i64>,
    pub refusal: Option<String>,
    pub version: i64,
}

pub struct NewApplication<'a> {
    pub application_no: &'a str,
    pub token: &'a str,
    pub site_id: i64,
    pub form_date: &'a str,
    pub channel: &'a str,
    pub id_index: &'a str,
    pub id_sealed: Vec<u8>,
    pub name_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub address_sealed: Vec<u8>,
    pub sex: &'a str,
    pub birth_date: &'a str,
    pub ethnicity: &'a str,
    pub id_source: &'a str,
    pub state_personnel: bool,
    pub unit_consent: bool,
    pub work_unit: Option<&'a str>,
    pub guardian_name_sealed: Option<Vec<u8>>,
    pub guardian_id_sealed: Option<Vec<u8>>,
    pub guardian_relation: Option<String>,
    pub guardian_entrusted: bool,
    pub lang: &'a str,
    pub now: i64,
}

pub async fn insert_application(
    conn: &mut AnyConnection,
    a: &NewApplication<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO applications (application_no, token, site_id, form_date, channel, status, id_index,
         id_sealed, name_sealed, phone_sealed, address_sealed, sex, birth_date, ethnicity, id_source,
         state_personnel, unit_consent, work_unit, guardian_name_sealed, guardian_id_sealed,
         guardian_relation, guardian_entrusted, lang, created_at)
         VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
         RETURNING id"#,
    )
    .bind(a.application_no)
    .bind(a.token)
    .bind(a.site_id)
    .bind(a.form_date)
    .bind(a.channel)
    .bind(a.id_index)
    .bind(a.id_sealed.clone())
    .bind(a.name_sealed.clone())
    .bind(a.phone_sealed.clone())
    .bind(a.address_sealed.clone())
    .bind(a.sex)
    .bind(a.birth_date)
    .bind(a.ethnicity)
    .bind(a.id_source)
    .bind(i64::from(a.state_personnel))
    .bind(i64::from(a.unit_consent))
    .bind(a.work_unit)
    .bind(a.guardian_name_sealed.clone())
    .bind(a.guardian_id_sealed.clone())
    .bind(a.guardian_relation.clone())
    .bind(i64::from(a.guardian_entrusted))
    .bind(a.lang)
    .bind(a.now)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn insert_document(
    conn: &mut AnyConnection,
    application_id: i64,
    position: i64,
    d: &DocumentRequest,
    item_id: &str,
    old_number_sealed: Option<Vec<u8>>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO application_documents (application_id, position, document_type, category, item_id,
         old_number_sealed, old_state, annotations, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'applied') RETURNING id"#,
    )
    .bind(application_id)
    .bind(position)
    .bind(d.document.code())
    .bind(d.category.code())
    .bind(item_id)
    .bind(old_number_sealed)
    .bind(d.old_document.map(|o| o.code()))
    .bind(i64::from(d.annotations))
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn insert_endorsement(
    conn: &mut AnyConnection,
    document_id: i64,
    option_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO application_endorsements (document_id, option_id) VALUES ($1, $2)")
        .bind(document_id)
        .bind(option_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn event(
    conn: &mut AnyConnection,
    application_id: i64,
    at: i64,
    kind: &str,
    staff_id: Option<i64>,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO application_events (application_id, at, kind, staff_id, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(application_id)
    .bind(at)
    .bind(kind)
    .bind(staff_id)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// One step of an application's timeline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EventRow {
    pub at: i64,
    pub kind: String,
    pub staff_id: Option<i64>,
    pub detail: String,
}

pub async fn events<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query(
        "SELECT at, kind, staff_id, detail FROM application_events WHERE application_id = $1 ORDER BY id",
    )
    .bind(application_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(EventRow {
            at: r.try_get("at")?,
            kind: r.try_get("kind")?,
            staff_id: r.try_get("staff_id")?,
            detail: r.try_get("detail")?,
        })
    })
    .collect()
}

macro_rules! select_application {
    ($tail:literal) => {
        concat!("SELECT * FROM applications ", $tail)
    };
}

pub async fn application<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(select_application!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await
}

pub async fn application_by_no<'e>(
    ex: impl Executor<'e, Database = Any>,
    no: &str,
) -> Result<Option<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(select_application!("WHERE application_no = $1"))
        .bind(no)
        .fetch_optional(ex)
        .await
}

pub async fn application_by_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    token: &str,
) -> Result<Option<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(select_application!("WHERE token = $1"))
        .bind(token)
        .fetch_optional(ex)
        .await
}

pub struct DocumentRow {
    pub id: i64,
    pub document_type: DocumentType,
    pub category: ApplicationCategory,
    pub item_id: String,
    pub old_number_sealed: Option<Vec<u8>>,
    pub old_state: Option<String>,
    pub annotations: i64,
    pub fee_fen: Option<i64>,
    pub promised_date: Option<String>,
    pub promised_provisional: bool,
    pub status: String,
}

pub async fn documents<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<Vec<DocumentRow>, sqlx::Error> {
    let rows = sqlx::query(
        r#"SELECT id, document_type, category, item_id, old_number_sealed, old_state, annotations, fee_fen,
         promised_date, promised_provisional, status FROM application_documents WHERE application_id = $1
         ORDER BY position"#,
    )
    .bind(application_id)
    .fetch_all(ex)
    .await?;
    let decode = |what: &str, v: String| sqlx::Error::Decode(format!("{what} {v}").into());
    rows.iter()
        .map(|r| {
            let document: String = r.try_get("document_type")?;
            let category: String = r.try_get("category")?;
            Ok(DocumentRow {
                id: r.try_get("id")?,
                document_type: DocumentType::ALL
                    .into_iter()
                    .find(|d| d.code() == document)
                    .ok_or_else(|| decode("document", document.clone()))?,
                category: ApplicationCategory::ALL
                    .into_iter()
                    .find(|c| c.code() == category)
                    .ok_or_else(|| decode("category", category.clone()))?,
                item_id: r.try_get("item_id")?,
                old_number_sealed: r.try_get("old_number_sealed")?,
                old_state: r.try_get("old_state")?,
                annotations: r.try_get("annotations")?,
                fee_fen: r.try_get("fee_fen")?,
                promised_date: r.try_get("promised_date")?,
                promised_provisional: r.try_get::<i64, _>("promised_provisional")? != 0,
                status: r.try_get("status")?,
            })
        })
        .collect()
}

/// `(option id, fee fixed at acceptance)` of one document.
pub async fn endorsements<'e>(
    ex: impl Executor<'e, Database = Any>,
    document_id: i64,
) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
    sqlx::query("SELECT option_id, fee_fen FROM application_endorsements WHERE document_id = $1 ORDER BY id")
        .bind(document_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("option_id")?, r.try_get("fee_fen")?)))
        .collect()
}

/// Moves a form nobody has started on to the site that takes it up; false if it was started
/// (or moved) meanwhile.
pub async fn move_site(
    conn: &mut AnyConnection,
    id: i64,
    from: i64,
    to: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        r#"UPDATE applications SET site_id = $1, version = version + 1
         WHERE id = $2 AND site_id = $3 AND acceptance_started_at IS NULL"#,
    )
    .bind(to)
    .bind(id)
    .bind(from)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn start(
    conn: &mut AnyConnection,
    id: i64,
    officer: i64,
    window: Option<i64>,
    ticket: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"UPDATE applications SET status = 'in_acceptance', officer_id = $1, window_id = $2,
         ticket_id = COALESCE(ticket_id, $3), acceptance_started_at = $4, version = version + 1
         WHERE id = $5 AND acceptance_started_at IS NULL"#,
    )
    .bind(officer)
    .bind(window)
    .bind(ticket)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The condition of an application whose acceptance steps can still be recorded.
macro_rules! open_application {
    () => {
        "status IN ('submitted', 'in_acceptance', 'awaiting_materials')"
    };
}

pub async fn set_materials(
    conn: &mut AnyConnection,
    id: i64,
    present_json: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "UPDATE applications SET materials_checked = $1, status = $2, version = version + 1 WHERE id = $3 AND ", open_application!()
    ))
    .bind(present_json)
    .bind(status)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_notice(
    conn: &mut AnyConnection,
    application_id: i64,
    officer: i64,
    missing: &[String],
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO one_time_notices (application_id, issued_at, officer_id, missing) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(application_id)
    .bind(now)
    .bind(officer)
    .bind(serde_json::to_string(missing).unwrap_or_else(|_| "[]".into()))
    .fetch_one(conn)
    .await?
    .try_get("id")
}

/// The latest one-time notice: `(issued_at, officer_id, missing ids)`.
pub async fn latest_notice<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<Option<(i64, i64, Vec<String>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT issued_at, officer_id, missing FROM one_time_notices WHERE application_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(application_id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        let missing: String = r.try_get("missing")?;
        Ok((
            r.try_get("issued_at")?,
            r.try_get("officer_id")?,
            serde_json::from_str(&missing).unwrap_or_default(),
        ))
    })
    .transpose()
}

pub async fn set_capture(
    conn: &mut AnyConnection,
    id: i64,
    kind: CaptureKind,
    reference: &str,
    quality: i64,
) -> Result<(), sqlx::Error> {
    let sql = match kind {
        CaptureKind::Photo => {
            "UPDATE applications SET photo_ref = $1, photo_quality = $2, version = version + 1 WHERE id = $3"
        }
        CaptureKind::Fingerprint => {
            "UPDATE applications SET fingerprint_ref = $1, fingerprint_quality = $2, fingerprint_exempt = NULL, version = version + 1 WHERE id = $3"
        }
    };
    sqlx::query(sql)
        .bind(reference)
        .bind(quality)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_fingerprint_exempt(
    conn: &mut AnyConnection,
    id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE applications SET fingerprint_exempt = $1, version = version + 1 WHERE id = $2",
    )
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_face_verified(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE applications SET face_verified_at = $1, version = version + 1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_checks(
    conn: &mut AnyConnection,
    id: i64,
    clear: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE applications SET checks_clear = $1, checks_at = $2, version = version + 1 WHERE id = $3")
        .bind(i64::from(clear))
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Watch-list kinds the blind index is on.
pub async fn watch_hits<'e>(
    ex: impl Executor<'e, Database = Any>,
    person: &BlindIndex,
) -> Result<Vec<String>, sqlx::Error> {
    let [newest, previous] = person.forms();
    // DISTINCT: while a rotation's rebuild runs, a kind may be listed under both forms.
    sqlx::query("SELECT DISTINCT kind FROM watch_list WHERE id_index IN ($1, $2) ORDER BY kind")
        .bind(newest)
        .bind(previous)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| r.try_get("kind"))
        .collect()
}

pub async fn upsert_watch(
    conn: &mut AnyConnection,
    id_index: &str,
    kind: &str,
    note: &str,
    by: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO watch_list (id_index, kind, note, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id_index, kind) DO UPDATE SET note = excluded.note, imported_at = excluded.imported_at, imported_by = excluded.imported_by"#,
    )
    .bind(id_index)
    .bind(kind)
    .bind(note)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn watch_count<'e>(ex: impl Executor<'e, Database = Any>) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM watch_list")
        .fetch_one(ex)
        .await?
        .try_get("n")
}

/// Marks an application as a kiosk's own (self-service endorsement), for statistics.
pub async fn mark_self_service(conn: &mut AnyConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE applications SET self_service = 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A control-list alert raised by a kiosk (no officer).
pub async fn insert_device_alert(
    conn: &mut AnyConnection,
    application_id: i64,
    site_id: i64,
    kind: &str,
    device_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO watch_alerts (application_id, site_id, kind, at, device_id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(application_id)
    .bind(site_id)
    .bind(kind)
    .bind(now)
    .bind(device_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Not accepted by a kiosk: the refusal written, no officer.
pub async fn refuse_by_device(
    conn: &mut AnyConnection,
    id: i64,
    refusal_json: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE applications SET status = 'refused', refusal = $1, refused_at = $2, version = version + 1 WHERE id = $3",
    )
    .bind(refusal_json)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_alert(
    conn: &mut AnyConnection,
    application_id: i64,
    site_id: i64,
    kind: &str,
    officer: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO watch_alerts (application_id, site_id, kind, at, officer_id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(application_id)
    .bind(site_id)
    .bind(kind)
    .bind(now)
    .bind(officer)
    .execute(conn)
    .await?;
    Ok(())
}

/// An alert for the duty leader.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: i64,
    pub application_no: String,
    pub kind: String,
    pub at: i64,
    /// `None` when a kiosk raised it (`device_id`).
    pub officer_id: Option<i64>,
    pub device_id: Option<i64>,
    pub handled_at: Option<i64>,
}

pub async fn open_alerts<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
) -> Result<Vec<Alert>, sqlx::Error> {
    sqlx::query(
        r#"SELECT w.id, a.application_no, w.kind, w.at, w.officer_id, w.device_id, w.handled_at FROM watch_alerts w
         JOIN applications a ON a.id = w.application_id WHERE w.site_id = $1 AND w.handled_at IS NULL ORDER BY w.id"#,
    )
    .bind(site_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(Alert {
            id: r.try_get("id")?,
            application_no: r.try_get("application_no")?,
            kind: r.try_get("kind")?,
            at: r.try_get("at")?,
            officer_id: r.try_get("officer_id")?,
            device_id: r.try_get("device_id")?,
            handled_at: r.try_get("handled_at")?,
        })
    })
    .collect()
}

pub struct Accepted<'a> {
    pub id: i64,
    pub version: i64,
    pub class: &'a str,
    pub emergency_reason: Option<&'a str>,
    pub emergency_proof: Option<&'a str>,
    pub delivery: &'a str,
    pub pickup_site_id: Option<i64>,
    pub express_sealed: Option<Vec<u8>>,
    pub fee_fen: i64,
    pub fee_date: &'a str,
    pub promised_date: &'a str,
    pub promised_provisional: bool,
    /// `None`: accepted by a kiosk (self-service endorsement).
    pub officer_id: Option<i64>,
    pub now: i64,
}

/// Accepts if nothing changed since the caller read `version` (false otherwise).
pub async fn accept(conn: &mut AnyConnection, a: &Accepted<'_>) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(concat!(
        r#"UPDATE applications SET status = 'accepted', time_limit_class = $1, emergency_reason = $2,
         emergency_proof = $3, delivery = $4, pickup_site_id = $5, express_sealed = $6, fee_fen = $7,
         fee_date = $8, promised_date = $9, officer_id = $10, accepted_at = $11, version = version + 1,
         promised_provisional = $14
         WHERE id = $12 AND version = $13 AND "#, open_application!()
    ))
    .bind(a.class)
    .bind(a.emergency_reason)
    .bind(a.emergency_proof)
    .bind(a.delivery)
    .bind(a.pickup_site_id)
    .bind(a.express_sealed.clone())
    .bind(a.fee_fen)
    .bind(a.fee_date)
    .bind(a.promised_date)
    .bind(a.officer_id)
    .bind(a.now)
    .bind(a.id)
    .bind(a.version)
    .bind(i64::from(a.promised_provisional))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The label code on a finished document (scanned into custody and at pickup): the application
/// number and the document's place on the form, 20 digits, so Code 128 set C prints it compactly.
pub fn label_of(application_no: &str, position: usize) -> String {
    format!("{application_no}{:02}", position + 1)
}

/// Writes each document's fee and promised date, and each endorsement's fee.
pub async fn fix_document_terms(
    conn: &mut AnyConnection,
    application_id: i64,
    application_no: &str,
    terms: &super::Terms,
    now: i64,
) -> Result<(), sqlx::Error> {
    let docs = documents(&mut *conn, application_id).await?;
    for (position, (doc, promised)) in docs.iter().zip(&terms.promised).enumerate() {
        let own: i64 = terms
            .fee_lines
            .iter()
            .filter(|l| l.document == doc.document_type && l.endorsement.is_none())
            .map(|l| l.fen)
            .sum();
        sqlx::query(
            r#"UPDATE application_documents SET fee_fen = $1, promised_date = $2, status = 'accepted',
             label = $3, stage_at = $4, promised_provisional = $6 WHERE id = $5"#,
        )
        .bind(own)
        .bind(promised.date.to_string())
        .bind(label_of(application_no, position))
        .bind(now)
        .bind(doc.id)
        .bind(i64::from(promised.provisional))
        .execute(&mut *conn)
        .await?;
        for line in terms
            .fee_lines
            .iter()
            .filter(|l| l.document == doc.document_type)
        {
            if let Some(option) = &line.endorsement {
                sqlx::query(
                    "UPDATE application_endorsements SET fee_fen = $1 WHERE document_id = $2 AND option_id = $3",
                )
                .bind(line.fen)
                .bind(doc.id)
                .bind(option)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

pub async fn refuse(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    refusal_json: &str,
    officer: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(concat!(
        r#"UPDATE applications SET status = 'refused', refusal = $1, officer_id = $2, refused_at = $3,
         version = version + 1 WHERE id = $4 AND version = $5 AND "#, open_application!()
    ))
    .bind(refusal_json)
    .bind(officer)
    .bind(now)
    .bind(id)
    .bind(version)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Whether the permit of a two-way express application has arrived by its inbound waybill.
pub async fn inbound_permit_received<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM shipments WHERE application_id = $1 AND direction = 'inbound' AND status = 'delivered'",
    )
    .bind(application_id)
    .fetch_one(ex)
    .await?
    .try_get("n")?;
    Ok(n > 0)
}

/// The application accepted under a ticket, if any (a rating belongs to it too).
pub async fn application_of_ticket<'e>(
    ex: impl Executor<'e, Database = Any>,
    ticket_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT id FROM applications WHERE ticket_id = $1 ORDER BY id LIMIT 1")
        .bind(ticket_id)
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()
}

/// The number of a person's latest form filled in advance and not yet taken up (by the blind
/// index of their ID number), so the window that calls them can take it up in one step.
pub async fn form_awaiting<'e>(
    ex: impl Executor<'e, Database = Any>,
    person: &BlindIndex,
) -> Result<Option<String>, sqlx::Error> {
    let [newest, previous] = person.forms();
    sqlx::query(
        "SELECT application_no FROM applications WHERE id_index IN ($1, $2) AND status = 'submitted' ORDER BY id DESC LIMIT 1",
    )
    .bind(newest)
    .bind(previous)
    .fetch_optional(ex)
    .await?
    .map(|r| r.try_get("application_no"))
    .transpose()
}

/// Issue time of the ticket an application was served under (for ticket-to-receipt time).
pub async fn ticket_issued_at<'e>(
    ex: impl Executor<'e, Database = Any>,
    ticket_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT issued_at FROM tickets WHERE id = $1")
        .bind(ticket_id)
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("issued_at"))
        .transpose()
}

/// A document whose promised date a newly entered holiday notice may move.
pub struct OpenPromise {
    pub document_id: i64,
    pub application_id: i64,
    pub application_no: String,
    pub item_id: String,
    pub time_limit_class: Option<String>,
    pub fee_date: Option<String>,
    pub promised_date: Option<String>,
    pub promised_provisional: bool,
    pub app_promised_date: Option<String>,
    pub phone_sealed: Vec<u8>,
    pub lang: String,
}

/// Documents still owed (before production ends) whose promised date is provisional or falls
/// in `[year_start, …)` after an acceptance on or before `year_end`: the ones a notice for that
/// year may move.
pub async fn open_promises<'e>(
    ex: impl Executor<'e, Database = Any>,
    year_start: &str,
    year_end: &str,
) -> Result<Vec<OpenPromise>, sqlx::Error> {
    sqlx::query(
        r#"
SELECT d.id, d.application_id, a.application_no, d.item_id, a.time_limit_class, a.fee_date,
       d.promised_date, d.promised_provisional, a.promised_date AS app_promised_date,
       a.phone_sealed, a.lang
FROM application_documents d
JOIN applications a ON a.id = d.application_id
WHERE a.status = 'accepted'
  AND d.status IN ('accepted', 'under_review', 'approved', 'in_production')
  AND (d.promised_provisional = 1 OR (d.promised_date >= $1 AND a.fee_date <= $2))
ORDER BY d.application_id, d.id
"#,
    )
    .bind(year_start)
    .bind(year_end)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok(OpenPromise {
            document_id: r.try_get("id")?,
            application_id: r.try_get("application_id")?,
            application_no: r.try_get("application_no")?,
            item_id: r.try_get("item_id")?,
            time_limit_class: r.try_get("time_limit_class")?,
            fee_date: r.try_get("fee_date")?,
            promised_date: r.try_get("promised_date")?,
            promised_provisional: r.try_get::<i64, _>("promised_provisional")? != 0,
            app_promised_date: r.try_get("app_promised_date")?,
            phone_sealed: r.try_get("phone_sealed")?,
            lang: r.try_get("lang")?,
        })
    })
    .collect()
}

pub async fn set_document_promise(
    conn: &mut AnyConnection,
    document_id: i64,
    promised: &Reckoned,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE application_documents SET promised_date = $1, promised_provisional = $2 WHERE id = $3",
    )
    .bind(promised.date.to_string())
    .bind(i64::from(promised.provisional))
    .bind(document_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_application_promise(
    conn: &mut AnyConnection,
    application_id: i64,
    promised: &Reckoned,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE applications SET promised_date = $1, promised_provisional = $2 WHERE id = $3",
    )
    .bind(promised.date.to_string())
    .bind(i64::from(promised.provisional))
    .bind(application_id)
    .execute(conn)
    .await?;
    Ok(())
}
