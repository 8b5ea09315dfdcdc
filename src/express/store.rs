//! Express's SQL: shipments, their documents and tracking events, and the courier webhooks
//! received (one portable set for both engines).

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

/// A shipment as the pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Shipment {
    pub id: i64,
    pub direction: String,
    pub application_id: i64,
    pub site_id: i64,
    pub courier: String,
    pub waybill_no: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn shipment_row(r: &AnyRow) -> Result<Shipment, sqlx::Error> {
    Ok(Shipment {
        id: r.try_get("id")?,
        direction: r.try_get("direction")?,
        application_id: r.try_get("application_id")?,
        site_id: r.try_get("site_id")?,
        courier: r.try_get("courier")?,
        waybill_no: r.try_get("waybill_no")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

macro_rules! select_shipment {
    ($tail:literal) => {
        concat!(
            "SELECT id, direction, application_id, site_id, courier, waybill_no, status, created_at, updated_at FROM shipments ",
            $tail
        )
    };
}

pub async fn shipments_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<Vec<Shipment>, sqlx::Error> {
    sqlx::query(select_shipment!("WHERE application_id = $1 ORDER BY id"))
        .bind(application_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(shipment_row)
        .collect()
}

pub async fn shipment_by_waybill<'e>(
    ex: impl Executor<'e, Database = Any>,
    waybill: &str,
) -> Result<Option<Shipment>, sqlx::Error> {
    sqlx::query(select_shipment!("WHERE waybill_no = $1"))
        .bind(waybill)
        .fetch_optional(ex)
        .await?
        .map(|r| shipment_row(&r))
        .transpose()
}

pub async fn recent_shipments<'e>(
    ex: impl Executor<'e, Database = Any>,
    site: i64,
) -> Result<Vec<Shipment>, sqlx::Error> {
    sqlx::query(select_shipment!(
        "WHERE site_id = $1 ORDER BY id DESC LIMIT 100"
    ))
    .bind(site)
    .fetch_all(ex)
    .await?
    .iter()
    .map(shipment_row)
    .collect()
}

/// `(local time, status, location)` of a shipment's events, oldest first.
pub async fn events_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    shipment: i64,
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT at, status, location FROM shipment_events WHERE shipment_id = $1 ORDER BY at, id",
    )
    .bind(shipment)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("at")?,
            r.try_get("status")?,
            r.try_get("location")?,
        ))
    })
    .collect()
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_shipment(
    conn: &mut sqlx::AnyConnection,
    direction: &str,
    application_id: i64,
    site_id: i64,
    courier: &str,
    waybill: &str,
    recipient_sealed: Vec<u8>,
    by: Option<i64>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO shipments (direction, application_id, site_id, courier, waybill_no, status, recipient_sealed, created_at, created_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, $8, $7) RETURNING id"#,
    )
    .bind(direction)
    .bind(application_id)
    .bind(site_id)
    .bind(courier)
    .bind(waybill)
    .bind(recipient_sealed)
    .bind(now)
    .bind(by)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

/// Puts a document into a shipment.
pub async fn add_item(
    conn: &mut AnyConnection,
    shipment: i64,
    document: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO shipment_items (shipment_id, document_id) VALUES ($1, $2)")
        .bind(shipment)
        .bind(document)
        .execute(conn)
        .await?;
    Ok(())
}

/// The documents a shipment carries.
pub async fn items_of(conn: &mut AnyConnection, shipment: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query("SELECT document_id FROM shipment_items WHERE shipment_id = $1")
        .bind(shipment)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| r.try_get("document_id"))
        .collect()
}

/// Records a courier webhook as received (the body cut to 4,000 characters) and its outcome.
pub async fn record_webhook(
    conn: &mut AnyConnection,
    at: i64,
    outcome: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO courier_webhooks (received_at, outcome, body) VALUES ($1, $2, $3)")
        .bind(at)
        .bind(outcome)
        .bind(body.chars().take(4000).collect::<String>())
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a tracking event once: false when the courier's event id was seen before.
pub async fn insert_event(
    conn: &mut AnyConnection,
    shipment: i64,
    event_id: &str,
    status: &str,
    location: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        r#"
        INSERT INTO shipment_events (shipment_id, event_id, status, location, at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (event_id) DO NOTHING
        "#,
    )
    .bind(shipment)
    .bind(event_id)
    .bind(status)
    .bind(location)
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Sets a shipment's tracking status.
pub async fn set_status(
    conn: &mut AnyConnection,
    shipment: i64,
    status: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE shipments SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(now)
        .bind(shipment)
        .execute(conn)
        .await?;
    Ok(())
}

/// The sealed recipient (name, phone, address) of a shipment, for its label.
pub async fn recipient_sealed<'e>(
    ex: impl Executor<'e, Database = Any>,
    shipment: i64,
) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar("SELECT recipient_sealed FROM shipments WHERE id = $1")
        .bind(shipment)
        .fetch_one(ex)
        .await
}
