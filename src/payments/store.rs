//! SQL for payments, refunds, provider notifications and the daily totals.

use sqlx::{Any, AnyConnection, Executor, Row};

/// SQL that is 1 when the application `a` of the query owes nothing (no fee, or a paid payment
/// not refunded in full) and 0 when it does: what production, pickup and express wait for
/// (decision 012). One expression for the workflow's guard and the queues' mark.
macro_rules! fee_settled_sql {
    () => {
        r#"CAST(CASE WHEN COALESCE(a.fee_fen, 0) = 0 OR EXISTS (SELECT 1 FROM payments p
         WHERE p.application_id = a.id AND p.status = 'paid' AND p.refunded_fen < p.amount_fen)
         THEN 1 ELSE 0 END AS BIGINT)"#
    };
}
pub(crate) use fee_settled_sql;

/// Whether application `application_id` owes nothing (see [`fee_settled_sql`]).
pub async fn fee_settled<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<bool, sqlx::Error> {
    let settled: i64 = sqlx::query(concat!(
        "SELECT ",
        fee_settled_sql!(),
        " AS settled FROM applications a WHERE a.id = $1"
    ))
    .bind(application_id)
    .fetch_one(ex)
    .await?
    .try_get("settled")?;
    Ok(settled == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: i64,
    pub application_id: i64,
    pub site_id: i64,
    #[sqlx(try_from = "String")]
    pub method: super::Method,
    #[sqlx(try_from = "String")]
    pub channel: super::PayChannel,
    pub amount_fen: i64,
    pub order_no: String,
    #[sqlx(try_from = "String")]
    pub status: super::PaymentStatus,
    pub receipt_no: Option<String>,
    pub provider_txn: Option<String>,
    pub pos_ref: Option<String>,
    pub created_at: i64,
    pub created_by: Option<i64>,
    pub paid_at: Option<i64>,
    pub business_date: Option<String>,
    pub refunded_fen: i64,
}

pub struct NewPayment<'a> {
    pub application_id: i64,
    pub site_id: i64,
    pub method: &'a str,
    pub channel: &'a str,
    pub amount_fen: i64,
    pub order_no: &'a str,
    pub pos_ref: Option<&'a str>,
    pub created_by: Option<i64>,
    pub now: i64,
}

pub async fn insert_payment(
    conn: &mut AnyConnection,
    p: &NewPayment<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO payments (application_id, site_id, method, channel, amount_fen, order_no, status, pos_ref, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9) RETURNING id"#,
    )
    .bind(p.application_id)
    .bind(p.site_id)
    .bind(p.method)
    .bind(p.channel)
    .bind(p.amount_fen)
    .bind(p.order_no)
    .bind(p.pos_ref)
    .bind(p.now)
    .bind(p.created_by)
    .fetch_one(conn)
    .await?
    .try_get("id")
}

/// Pending → paid with its receipt number; false if it was not pending. Fails with a unique
/// violation if the application already has a paid payment.
pub async fn mark_paid(
    conn: &mut AnyConnection,
    id: i64,
    receipt: &str,
    txn: Option<&str>,
    now: i64,
    business_date: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        r#"UPDATE payments SET status = 'paid', receipt_no = $1, provider_txn = $2, paid_at = $3, business_date = $4
         WHERE id = $5 AND status = 'pending'"#,
    )
    .bind(receipt)
    .bind(txn)
    .bind(now)
    .bind(business_date)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// An order paid after the application was paid another way: booked as received and
/// refunded in full, so both movements show in the day's totals.
pub async fn close_with_refund(
    conn: &mut AnyConnection,
    id: i64,
    txn: &str,
    now: i64,
    business_date: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        r#"UPDATE payments SET status = 'closed', provider_txn = $1, paid_at = $2, business_date = $3,
         refunded_fen = amount_fen WHERE id = $4 AND status = 'pending'"#,
    )
    .bind(txn)
    .bind(now)
    .bind(business_date)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

macro_rules! select_payment {
    ($tail:literal) => {
        concat!(
            r#"SELECT id, application_id, site_id, method, channel, amount_fen, order_no, status, receipt_no,
             provider_txn, pos_ref, created_at, created_by, paid_at, business_date, refunded_fen FROM payments "#,
            $tail
        )
    };
}

pub async fn payment<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    sqlx::query_as(select_payment!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await
}

pub async fn payment_by_order<'e>(
    ex: impl Executor<'e, Database = Any>,
    order_no: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    sqlx::query_as(select_payment!("WHERE order_no = $1"))
        .bind(order_no)
        .fetch_optional(ex)
        .await
}

pub async fn payment_by_receipt<'e>(
    ex: impl Executor<'e, Database = Any>,
    receipt: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    sqlx::query_as(select_payment!("WHERE receipt_no = $1"))
        .bind(receipt)
        .fetch_optional(ex)
        .await
}

pub async fn paid_payment<'e>(
    ex: impl Executor<'e, Database = Any>,
    application_id: i64,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    sqlx::query_as(select_payment!(
        "WHERE application_id = $1 AND status = 'paid'"
    ))
    .bind(application_id)
    .fetch_optional(ex)
    .await
}

/// Adds to a payment's refunded amount unless that would exceed what was paid.
pub async fn add_refunded(
    conn: &mut AnyConnection,
    id: i64,
    amount_fen: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        r#"UPDATE payments SET refunded_fen = refunded_fen + $1
         WHERE id = $2 AND status = 'paid' AND refunded_fen + $1 <= amount_fen"#,
    )
    .bind(amount_fen)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RefundRow {
    pub id: i64,
    pub refund_no: String,
    pub payment_id: i64,
    pub site_id: i64,
    pub method: String,
    pub amount_fen: i64,
    pub reason: String,
    pub staff_id: Option<i64>,
    pub at: i64,
    #[schema(format = Date)]
    pub business_date: String,
}

pub struct NewRefund<'a> {
    pub refund_no: &'a str,
    pub payment_id: i64,
    pub site_id: i64,
    pub method: &'a str,
    pub amount_fen: i64,
    pub reason: &'a str,
    /// A refund for an officer's mistake (R13 error rate, traced to the accepting officer).
    pub officer_error: bool,
    pub staff_id: Option<i64>,
    pub now: i64,
    pub business_date: &'a str,
}

pub async fn insert_refund(
    conn: &mut AnyConnection,
    r: &NewRefund<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO refunds (refund_no, payment_id, site_id, method, amount_fen, reason, staff_id, at, business_date, officer_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"#,
    )
    .bind(r.refund_no)
    .bind(r.payment_id)
    .bind(r.site_id)
    .bind(r.method)
    .bind(r.amount_fen)
    .bind(r.reason)
    .bind(r.staff_id)
    .bind(r.now)
    .bind(r.business_date)
    .bind(i64::from(r.officer_error))
    .fetch_one(conn)
    .await?
    .try_get("id")
}

pub async fn refund_row<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<RefundRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, refund_no, payment_id, site_id, method, amount_fen, reason, staff_id, at, business_date FROM refunds WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await
}

pub async fn refunds_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    payment_id: i64,
) -> Result<Vec<RefundRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, refund_no, payment_id, site_id, method, amount_fen, reason, staff_id, at, business_date FROM refunds WHERE payment_id = $1 ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(ex)
    .await
}

pub async fn record_notification(
    db: &crate::db::Db,
    provider: &str,
    order_no: &str,
    notify_id: &str,
    now: i64,
    outcome: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO payment_notifications (provider, order_no, notify_id, received_at, outcome, body) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(provider)
    .bind(order_no)
    .bind(notify_id)
    .bind(now)
    .bind(outcome)
    .bind(body.chars().take(4000).collect::<String>())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Outcomes of the notifications received for an order, oldest first.
pub async fn notification_outcomes<'e>(
    ex: impl Executor<'e, Database = Any>,
    order_no: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT outcome FROM payment_notifications WHERE order_no = $1 ORDER BY id")
        .bind(order_no)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| r.try_get("outcome"))
        .collect()
}

pub struct DayTotal {
    pub method: String,
    pub payments: i64,
    pub paid_fen: i64,
    pub refunds: i64,
    pub refunded_fen: i64,
}

/// Money in (payments booked that day, including ones refunded because paid twice) and out
/// (refunds made that day) per method at a site.
pub async fn day_totals<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    site_id: i64,
    date: &str,
) -> Result<Vec<DayTotal>, sqlx::Error> {
    let paid = sqlx::query(
        r#"SELECT method, COUNT(*) AS n, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS fen FROM payments
         WHERE site_id = $1 AND business_date = $2 AND status IN ('paid', 'closed') GROUP BY method"#,
    )
    .bind(site_id)
    .bind(date)
    .fetch_all(ex)
    .await?;
    let refunded = sqlx::query(
        r#"SELECT method, COUNT(*) AS n, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS fen FROM refunds
         WHERE site_id = $1 AND business_date = $2 GROUP BY method"#,
    )
    .bind(site_id)
    .bind(date)
    .fetch_all(ex)
    .await?;
    let mut out: Vec<DayTotal> = Vec::new();
    for r in &paid {
        out.push(DayTotal {
            method: r.try_get("method")?,
            payments: r.try_get("n")?,
            paid_fen: r.try_get("fen")?,
            refunds: 0,
            refunded_fen: 0,
        });
    }
    for r in &refunded {
        let method: String = r.try_get("method")?;
        let (n, fen): (i64, i64) = (r.try_get("n")?, r.try_get("fen")?);
        match out.iter_mut().find(|t| t.method == method) {
            Some(t) => {
                t.refunds = n;
                t.refunded_fen = fen;
            }
            None => out.push(DayTotal {
                method,
                payments: 0,
                paid_fen: 0,
                refunds: n,
                refunded_fen: fen,
            }),
        }
    }
    Ok(out)
}

/// Net per online order for the day at a site: payments booked that day minus refunds made
/// that day, as the provider's statement should show them.
pub async fn online_day_orders<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    site_id: i64,
    date: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        r#"SELECT order_no, amount_fen AS fen FROM payments WHERE site_id = $1 AND business_date = $2
         AND status IN ('paid', 'closed') AND method IN ('alipay', 'wechat')
         UNION ALL
         SELECT p.order_no, -r.amount_fen AS fen FROM refunds r JOIN payments p ON p.id = r.payment_id
         WHERE r.site_id = $1 AND r.business_date = $2 AND r.method IN ('alipay', 'wechat')"#,
    )
    .bind(site_id)
    .bind(date)
    .fetch_all(ex)
    .await?;
    let mut out: Vec<(String, i64)> = Vec::new();
    for r in &rows {
        let order: String = r.try_get("order_no")?;
        let fen: i64 = r.try_get("fen")?;
        match out.iter_mut().find(|(o, _)| *o == order) {
            Some(e) => e.1 += fen,
            None => out.push((order, fen)),
        }
    }
    Ok(out)
}

/// Every online order number ever created at a site (to pick this site's statement lines).
pub async fn site_order_nos<'e>(
    ex: impl Executor<'e, Database = Any>,
    site_id: i64,
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    sqlx::query(
        "SELECT order_no FROM payments WHERE site_id = $1 AND method IN ('alipay', 'wechat')",
    )
    .bind(site_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| r.try_get("order_no"))
    .collect()
}
