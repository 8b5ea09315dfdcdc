//! The payment-provider adapter (R6) and its simulator. The trait has the shape Alipay and
//! WeChat Pay share: create an order (the citizen scans its QR), receive a signed asynchronous
//! notification when it is paid, query an order whose notification is late, refund, and fetch
//! the statement reconciliation compares against. A real provider drops in behind the trait.
//!
//! The simulator keeps its own books (`sim_provider_orders`, `sim_provider_refunds`), separate
//! from onetrip's payments, so reconciliation compares two independent records; it signs its
//! notifications with HMAC-SHA256 as the real providers sign theirs (with RSA).

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sqlx::Row;

use crate::crypto;
use crate::db::Db;

/// What a gateway call returns: boxed so gateways can be chosen at run time.
pub type GatewayFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, GatewayError>> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("signature does not verify")]
    BadSignature,
    #[error("malformed notification: {0}")]
    Malformed(String),
    #[error("no such order")]
    NoSuchOrder,
    #[error("refund exceeds what was paid")]
    RefundTooLarge,
    #[error("provider unavailable: {0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for GatewayError {
    fn from(e: sqlx::Error) -> Self {
        GatewayError::Unavailable(e.to_string())
    }
}

/// An order to create at the provider.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    pub order_no: String,
    /// `alipay` or `wechat`.
    pub method: String,
    pub amount_fen: i64,
}

/// The provider's answer: what the citizen's phone opens (shown as a QR code).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderOrder {
    pub pay_url: String,
}

/// A verified notification: the provider says this order was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Unique per notification sent (a resent notification keeps its id).
    pub notify_id: String,
    pub order_no: String,
    pub txn_id: String,
    pub amount_fen: i64,
    /// Epoch ms.
    pub paid_at: i64,
}

/// What a query says about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderState {
    Pending,
    Paid(Notification),
    Closed,
}

/// One line of the provider's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub order_no: String,
    pub method: String,
    /// Positive for a payment, negative for a refund.
    pub amount_fen: i64,
}

pub trait PaymentGateway: Send + Sync {
    fn create_order<'a>(
        &'a self,
        db: &'a Db,
        order: &'a OrderRequest,
        now: i64,
    ) -> GatewayFuture<'a, ProviderOrder>;
    /// Checks the signature over the exact body received and parses it.
    fn verify(&self, body: &str, signature: &str) -> Result<Notification, GatewayError>;
    fn query<'a>(&'a self, db: &'a Db, order_no: &'a str) -> GatewayFuture<'a, OrderState>;
    fn refund<'a>(
        &'a self,
        db: &'a Db,
        order_no: &'a str,
        refund_ref: &'a str,
        amount_fen: i64,
        now: i64,
    ) -> GatewayFuture<'a, ()>;
    /// Payments and refunds the provider booked in `[from_ms, to_ms)`.
    fn statement<'a>(
        &'a self,
        db: &'a Db,
        from_ms: i64,
        to_ms: i64,
    ) -> GatewayFuture<'a, Vec<StatementLine>>;
}

/// The simulator. `customer_pays` is what the citizen's wallet app does.
pub struct SimulatedGateway {
    key: [u8; 32],
}

impl SimulatedGateway {
    pub fn new(key: [u8; 32]) -> SimulatedGateway {
        SimulatedGateway { key }
    }

    /// Signs a notification body (also used by tests that play the provider).
    pub fn sign(&self, body: &str) -> String {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(body.as_bytes());
        crypto::hex(&mac.finalize().into_bytes())
    }

    /// The citizen confirms payment in the wallet: the provider books it (once) and returns
    /// the signed notification it will send, as `(body, signature)`. Paying an order again
    /// returns the same notification, as providers resend until acknowledged.
    pub async fn customer_pays(
        &self,
        db: &Db,
        order_no: &str,
        now: i64,
    ) -> Result<(String, String), GatewayError> {
        let txn = format!("SIM{}", &crypto::random_token()[..20]);
        let mut tx = db.begin().await?;
        sqlx::query(
            r#"UPDATE sim_provider_orders SET status = 'paid', txn_id = $1, paid_at = $2
             WHERE order_no = $3 AND status = 'pending'"#,
        )
        .bind(&txn)
        .bind(now)
        .bind(order_no)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        match self.read(db, order_no).await? {
            Some(OrderState::Paid(n)) => {
                let body = serde_json::to_string(&n)
                    .map_err(|e| GatewayError::Malformed(e.to_string()))?;
                let signature = self.sign(&body);
                Ok((body, signature))
            }
            Some(_) => Err(GatewayError::Malformed("order not payable".into())),
            None => Err(GatewayError::NoSuchOrder),
        }
    }

    /// The amount of a simulated order (for the wallet page).
    pub async fn order_amount(&self, db: &Db, order_no: &str) -> Result<Option<i64>, GatewayError> {
        let row = sqlx::query("SELECT amount_fen FROM sim_provider_orders WHERE order_no = $1")
            .bind(order_no)
            .fetch_optional(db.reader())
            .await?;
        Ok(row.map(|r| r.try_get("amount_fen")).transpose()?)
    }

    async fn read(&self, db: &Db, order_no: &str) -> Result<Option<OrderState>, GatewayError> {
        let row = sqlx::query(
            "SELECT status, txn_id, amount_fen, paid_at FROM sim_provider_orders WHERE order_no = $1",
        )
        .bind(order_no)
        .fetch_optional(db.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row.try_get("status")?;
        Ok(Some(match status.as_str() {
            "paid" => {
                let txn_id: Option<String> = row.try_get("txn_id")?;
                let txn_id = txn_id.unwrap_or_default();
                Notification {
                    // A resend keeps the id: it is derived from the transaction.
                    notify_id: format!("N{}", &crypto::sha256_hex(&txn_id)[..20]),
                    order_no: order_no.to_string(),
                    amount_fen: row.try_get("amount_fen")?,
                    paid_at: row
                        .try_get::<Option<i64>, _>("paid_at")?
                        .unwrap_or_default(),
                    txn_id,
                }
                .into()
            }
            "closed" => OrderState::Closed,
            _ => OrderState::Pending,
        }))
    }
}

impl From<Notification> for OrderState {
    fn from(n: Notification) -> Self {
        OrderState::Paid(n)
    }
}

impl PaymentGateway for SimulatedGateway {
    fn create_order<'a>(
        &'a self,
        db: &'a Db,
        order: &'a OrderRequest,
        now: i64,
    ) -> GatewayFuture<'a, ProviderOrder> {
        Box::pin(async move {
            let mut tx = db.begin().await?;
            sqlx::query(
                r#"INSERT INTO sim_provider_orders (order_no, method, amount_fen, status, created_at)
                 VALUES ($1, $2, $3, 'pending', $4)"#,
            )
            .bind(&order.order_no)
            .bind(&order.method)
            .bind(order.amount_fen)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(ProviderOrder {
                pay_url: format!("/sim/pay/{}", order.order_no),
            })
        })
    }

    fn verify(&self, body: &str, signature: &str) -> Result<Notification, GatewayError> {
        if !crypto::constant_time_eq(&self.sign(body), signature.trim()) {
            return Err(GatewayError::BadSignature);
        }
        serde_json::from_str(body).map_err(|e| GatewayError::Malformed(e.to_string()))
    }

    fn query<'a>(&'a self, db: &'a Db, order_no: &'a str) -> GatewayFuture<'a, OrderState> {
        Box::pin(async move {
            self.read(db, order_no)
                .await?
                .ok_or(GatewayError::NoSuchOrder)
        })
    }

    fn refund<'a>(
        &'a self,
        db: &'a Db,
        order_no: &'a str,
        refund_ref: &'a str,
        amount_fen: i64,
        now: i64,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = db.begin().await?;
            let done = sqlx::query(
                r#"UPDATE sim_provider_orders SET refunded_fen = refunded_fen + $1
                 WHERE order_no = $2 AND status = 'paid' AND refunded_fen + $1 <= amount_fen"#,
            )
            .bind(amount_fen)
            .bind(order_no)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done != 1 {
                return Err(GatewayError::RefundTooLarge);
            }
            sqlx::query(
                "INSERT INTO sim_provider_refunds (refund_ref, order_no, amount_fen, at) VALUES ($1, $2, $3, $4)",
            )
            .bind(refund_ref)
            .bind(order_no)
            .bind(amount_fen)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn statement<'a>(
        &'a self,
        db: &'a Db,
        from_ms: i64,
        to_ms: i64,
    ) -> GatewayFuture<'a, Vec<StatementLine>> {
        Box::pin(async move {
            let rows = sqlx::query(
                r#"SELECT order_no, method, amount_fen FROM sim_provider_orders
                 WHERE status = 'paid' AND paid_at >= $1 AND paid_at < $2
                 UNION ALL
                 SELECT r.order_no, o.method, -r.amount_fen AS amount_fen FROM sim_provider_refunds r
                 JOIN sim_provider_orders o ON o.order_no = r.order_no WHERE r.at >= $1 AND r.at < $2"#,
            )
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(db.reader())
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(StatementLine {
                        order_no: r.try_get("order_no")?,
                        method: r.try_get("method")?,
                        amount_fen: r.try_get("amount_fen")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(GatewayError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_verifies_only_with_its_own_signature() {
        let g = SimulatedGateway::new([7; 32]);
        let n = Notification {
            notify_id: "N1".into(),
            order_no: "O1".into(),
            txn_id: "T1".into(),
            amount_fen: 18_000,
            paid_at: 1,
        };
        let body = serde_json::to_string(&n).expect("json");
        let sig = g.sign(&body);
        assert_eq!(g.verify(&body, &sig), Ok(n));
        // Same body, another key: forged.
        let other = SimulatedGateway::new([8; 32]).sign(&body);
        assert_eq!(g.verify(&body, &other), Err(GatewayError::BadSignature));
        // A changed amount under the old signature: forged.
        let tampered = body.replace("18000", "1");
        assert_eq!(g.verify(&tampered, &sig), Err(GatewayError::BadSignature));
    }
}
