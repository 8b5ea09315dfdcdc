//! The courier adapter (R10) and its simulator: create a waybill, and receive signed tracking
//! webhooks. EMS and other couriers have this shape; a real adapter drops in behind the trait.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::crypto;

/// A shipment to create at the courier.
#[derive(Debug, Clone)]
pub struct WaybillRequest {
    pub reference: String,
    pub recipient: String,
    pub phone: String,
    pub address: String,
}

/// Tracking states the courier reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    PickedUp,
    InTransit,
    Delivered,
    /// Undeliverable; the courier brings it back to the sender.
    Returned,
}

impl TrackingStatus {
    pub fn code(self) -> &'static str {
        match self {
            TrackingStatus::PickedUp => "picked_up",
            TrackingStatus::InTransit => "in_transit",
            TrackingStatus::Delivered => "delivered",
            TrackingStatus::Returned => "returned",
        }
    }
    pub fn parse(s: &str) -> Option<TrackingStatus> {
        [
            TrackingStatus::PickedUp,
            TrackingStatus::InTransit,
            TrackingStatus::Delivered,
            TrackingStatus::Returned,
        ]
        .into_iter()
        .find(|t| t.code() == s)
    }
    pub fn name(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            TrackingStatus::PickedUp => lang.pick("快递已揽收", "Picked up by the courier"),
            TrackingStatus::InTransit => lang.pick("运输中", "In transit"),
            TrackingStatus::Delivered => lang.pick("已签收", "Delivered"),
            TrackingStatus::Returned => lang.pick("无法投递，已退回", "Undeliverable, returned"),
        }
    }
}

/// One verified tracking update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingUpdate {
    /// Unique per event; a resent webhook keeps it.
    pub event_id: String,
    pub waybill_no: String,
    pub status: TrackingStatus,
    pub location: String,
    /// Epoch ms.
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourierError {
    #[error("signature does not verify")]
    BadSignature,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("courier unavailable: {0}")]
    Unavailable(String),
}

pub trait Courier: Send + Sync {
    fn name(&self) -> &'static str;
    fn create_waybill(&self, request: &WaybillRequest) -> Result<String, CourierError>;
    fn verify(&self, body: &str, signature: &str) -> Result<TrackingUpdate, CourierError>;
}

/// The simulator: EMS-shaped waybill numbers (two letters, nine digits, `CN`), HMAC-SHA256
/// signed webhooks. `sign_update` is what the courier's system does when a parcel moves.
pub struct SimulatedCourier {
    key: [u8; 32],
}

impl SimulatedCourier {
    pub fn new(key: [u8; 32]) -> SimulatedCourier {
        SimulatedCourier { key }
    }

    pub fn sign(&self, body: &str) -> String {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(body.as_bytes());
        crypto::hex(&mac.finalize().into_bytes())
    }

    /// A signed webhook body for a parcel's move, as `(body, signature)`.
    pub fn sign_update(
        &self,
        waybill_no: &str,
        status: TrackingStatus,
        location: &str,
        at: i64,
    ) -> (String, String) {
        let update = TrackingUpdate {
            event_id: format!("E{}", &crypto::random_token()[..16]),
            waybill_no: waybill_no.to_string(),
            status,
            location: location.to_string(),
            at,
        };
        let body = serde_json::to_string(&update).unwrap_or_default();
        let signature = self.sign(&body);
        (body, signature)
    }
}

impl Courier for SimulatedCourier {
    fn name(&self) -> &'static str {
        "ems-simulator"
    }

    fn create_waybill(&self, _request: &WaybillRequest) -> Result<String, CourierError> {
        let digits: String = crypto::random_token()
            .bytes()
            .map(|b| char::from(b'0' + b % 10))
            .take(9)
            .collect();
        Ok(format!("EA{digits}CN"))
    }

    fn verify(&self, body: &str, signature: &str) -> Result<TrackingUpdate, CourierError> {
        if !crypto::constant_time_eq(&self.sign(body), signature.trim()) {
            return Err(CourierError::BadSignature);
        }
        serde_json::from_str(body).map_err(|e| CourierError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_couriers_signature_verifies() {
        let c = SimulatedCourier::new([3; 32]);
        let (body, sig) = c.sign_update("EA123456789CN", TrackingStatus::Delivered, "示范市", 5);
        assert_eq!(
            c.verify(&body, &sig).map(|u| u.status),
            Ok(TrackingStatus::Delivered)
        );
        let forged = body.replace("delivered", "returned");
        assert_eq!(c.verify(&forged, &sig), Err(CourierError::BadSignature));
        let other = SimulatedCourier::new([4; 32]).sign(&body);
        assert_eq!(c.verify(&body, &other), Err(CourierError::BadSignature));
    }

    #[test]
    fn waybills_look_like_ems() {
        let w = SimulatedCourier::new([1; 32])
            .create_waybill(&WaybillRequest {
                reference: "x".into(),
                recipient: "r".into(),
                phone: "p".into(),
                address: "a".into(),
            })
            .expect("waybill");
        assert_eq!(w.len(), 13);
        assert!(w.starts_with("EA") && w.ends_with("CN"));
    }
}
