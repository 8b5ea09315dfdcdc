//! Hall devices behind traits (R4, R5): the ID-card reader's data format, the photo and
//! fingerprint capture stations, and the restricted-exit / dual-registration check. Each has a
//! simulator so the hall runs end to end without hardware; a real adapter implements the trait.
//!
//! What is stored from a capture is the device's reference and its quality result, never the
//! raw image or fingerprint (GB/T 35273-2020 6.3, exit-entry.md §9.2): the images stay in the
//! capture system the reference points into.

use serde::{Deserialize, Serialize};

use crate::crypto;

/// What an ID-card reader hands the kiosk page, by the local API documented in
/// `docs/DEVICES.md` (`GET http://127.0.0.1:19196/card` on a real kiosk). Field names follow
/// the card's printed fields.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdCardRead {
    pub name: String,
    /// `男` or `女`, as printed.
    pub sex: String,
    pub ethnicity: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub birth_date: String,
    pub address: String,
    pub id_number: String,
    pub issuing_authority: String,
    #[schema(format = Date)]
    pub valid_from: String,
    #[schema(format = Date)]
    pub valid_until: String,
}

/// The simulator's test card: a synthetic person (not one of the public fixture numbers, which
/// may belong to real people, exit-entry.md §7.2), valid checksum.
pub fn simulated_card() -> IdCardRead {
    IdCardRead {
        name: "林晓测".into(),
        sex: "女".into(),
        ethnicity: "汉".into(),
        birth_date: "1992-04-18".into(),
        address: "示范市人民路 88 号 3 栋 2 单元 501 室".into(),
        // 110101 + 19920418 + 060 (even: female) + check digit 4 (GB 11643-1999 MOD 11-2).
        id_number: "110101199204180604".into(),
        issuing_authority: "示范市公安局人民路分局".into(),
        valid_from: "2020-05-06".into(),
        valid_until: "2040-05-06".into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaptureKind {
    Photo,
    Fingerprint,
}

impl CaptureKind {
    pub fn code(self) -> &'static str {
        match self {
            CaptureKind::Photo => "photo",
            CaptureKind::Fingerprint => "fingerprint",
        }
    }
    pub fn parse(s: &str) -> Option<CaptureKind> {
        [CaptureKind::Photo, CaptureKind::Fingerprint]
            .into_iter()
            .find(|k| k.code() == s)
    }
}

/// The result of one capture: where the capture system keeps it, and its quality score
/// (0–100; the station refuses below its own threshold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capture {
    pub reference: String,
    pub quality: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("device not answering: {0}")]
    Unavailable(String),
    #[error("capture quality too low")]
    LowQuality,
}

/// A capture station at a window (photo camera, fingerprint scanner).
pub trait CaptureStation: Send + Sync {
    fn capture(&self, kind: CaptureKind, application_no: &str) -> Result<Capture, DeviceError>;
    /// Compares the person at the window with the record (fingerprint or face, R9 pickup):
    /// the reference of the comparison and its score, 0–100.
    fn verify(&self, method: VerifyMethod, application_no: &str) -> Result<Capture, DeviceError>;
    /// The recipient's signature on the signature pad (or the on-screen pad): its reference.
    fn signature(&self, application_no: &str) -> Result<String, DeviceError>;
    /// The image a photo or face-comparison reference points to, read from the capture system
    /// for an officer's screen (the approver's check, the comparison at pickup) and never
    /// stored here: its content type and bytes; `None` when the system has no such image.
    fn image(&self, reference: &str) -> Result<Option<(&'static str, Vec<u8>)>, DeviceError>;
    /// The face camera's current frame at the pickup window, shown beside the photo taken at
    /// acceptance so the officer compares the two before handing a document over; `None`
    /// where the window has no such camera.
    /// (`application_no` is whose document is being handed over: a camera system may use it
    /// to frame or log the comparison.)
    fn live_frame(
        &self,
        application_no: &str,
    ) -> Result<Option<(&'static str, Vec<u8>)>, DeviceError> {
        let _ = application_no;
        Ok(None)
    }
}

/// How a recipient's identity is compared at pickup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifyMethod {
    Fingerprint,
    Face,
}

/// Score from which a comparison counts as a match.
pub const MATCH_THRESHOLD: i64 = 80;

/// A station that answers at once with a good-quality capture and a unique reference.
pub struct SimulatedStation;

impl CaptureStation for SimulatedStation {
    fn capture(&self, kind: CaptureKind, application_no: &str) -> Result<Capture, DeviceError> {
        let nonce = &crypto::random_token()[..12];
        Ok(Capture {
            reference: format!("sim-{}-{application_no}-{nonce}", kind.code()),
            quality: match kind {
                CaptureKind::Photo => 92,
                CaptureKind::Fingerprint => 88,
            },
        })
    }

    fn verify(&self, method: VerifyMethod, application_no: &str) -> Result<Capture, DeviceError> {
        let nonce = &crypto::random_token()[..12];
        let kind = match method {
            VerifyMethod::Fingerprint => "fingerprint-match",
            VerifyMethod::Face => "face-match",
        };
        Ok(Capture {
            reference: format!("sim-{kind}-{application_no}-{nonce}"),
            quality: 95,
        })
    }

    fn signature(&self, application_no: &str) -> Result<String, DeviceError> {
        Ok(format!(
            "sim-signature-{application_no}-{}",
            &crypto::random_token()[..12]
        ))
    }

    /// A drawn head-and-shoulders portrait standing in for the camera's picture: the same
    /// reference always gives the same one, and the acceptance photo and the live face at pickup
    /// are told apart by their caption.
    fn image(&self, reference: &str) -> Result<Option<(&'static str, Vec<u8>)>, DeviceError> {
        let (rest, caption) = if let Some(rest) = reference.strip_prefix("sim-photo-") {
            (rest, "ACCEPTANCE PHOTO · SIMULATED")
        } else if let Some(rest) = reference.strip_prefix("sim-face-match-") {
            (rest, "LIVE CAPTURE · SIMULATED")
        } else {
            return Ok(None);
        };
        // The simulated person is the applicant: drawn from the application number, so the
        // photo and the live camera show the same face.
        let person = rest.rsplit_once('-').map_or(rest, |(no, _)| no);
        Ok(Some(portrait(person, caption)))
    }

    fn live_frame(
        &self,
        application_no: &str,
    ) -> Result<Option<(&'static str, Vec<u8>)>, DeviceError> {
        Ok(Some(portrait(application_no, "LIVE CAMERA · SIMULATED")))
    }
}

/// The simulator's drawn portrait of the person `seed` stands for, captioned.
fn portrait(seed: &str, caption: &str) -> (&'static str, Vec<u8>) {
    let h = crypto::sha256_hex(seed);
    let hue = u32::from_str_radix(h.get(..4).unwrap_or("0"), 16).unwrap_or(0) % 360;
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 330 480" width="330" height="480"><rect width="330" height="480" fill="#e8eef6"/><circle cx="165" cy="190" r="82" fill="hsl({hue},35%,72%)"/><path d="M40 480 C40 350 110 300 165 300 C220 300 290 350 290 480 Z" fill="hsl({hue},30%,45%)"/><text x="165" y="455" font-family="sans-serif" font-size="15" text-anchor="middle" fill="#1b2430">{caption}</text></svg>"##
    );
    ("image/svg+xml", svg.into_bytes())
}

/// The adapters a server runs with.
pub struct Devices {
    pub station: Box<dyn CaptureStation>,
    pub payments: std::sync::Arc<dyn crate::payments::gateway::PaymentGateway>,
    /// The payment simulator when it is the provider (its wallet page is served then).
    pub payment_simulator: Option<std::sync::Arc<crate::payments::gateway::SimulatedGateway>>,
    pub courier: std::sync::Arc<dyn crate::express::courier::Courier>,
    /// The courier simulator when it is the courier (its tracking console is served then).
    pub courier_simulator: Option<std::sync::Arc<crate::express::courier::SimulatedCourier>>,
    /// The kiosks' permit reader, face camera and card writer (self-service endorsement).
    pub self_service: std::sync::Arc<dyn crate::self_service::station::SelfServiceStation>,
    /// The station simulator when it is the station (test permits can be placed then).
    pub self_service_simulator:
        Option<std::sync::Arc<crate::self_service::station::SimulatedStation>>,
}

impl Devices {
    /// Every device simulated, the payment simulator's signing key derived from the
    /// personal-data key (version 1, so a rotation does not change it) so every node of a
    /// deployment shares it.
    pub fn simulated_for(cipher: &crate::privacy::Cipher) -> Devices {
        use sha2::Digest;
        let key: [u8; 32] =
            sha2::Sha256::digest(cipher.stable_secret("onetrip payment simulator").as_bytes())
                .into();
        Devices::simulated(key)
    }

    /// Every device simulated; `key` signs the payment simulator's notifications.
    pub fn simulated(key: [u8; 32]) -> Devices {
        let sim = std::sync::Arc::new(crate::payments::gateway::SimulatedGateway::new(key));
        // The courier signs with a key of its own, derived so the two simulators never share one.
        let mut courier_key = key;
        courier_key[0] ^= 0x5a;
        let courier =
            std::sync::Arc::new(crate::express::courier::SimulatedCourier::new(courier_key));
        let kiosks = std::sync::Arc::new(crate::self_service::station::SimulatedStation::default());
        Devices {
            station: Box::new(SimulatedStation),
            payments: sim.clone(),
            payment_simulator: Some(sim),
            courier: courier.clone(),
            courier_simulator: Some(courier),
            self_service: kiosks.clone(),
            self_service_simulator: Some(kiosks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::id_number::IdNumber;

    #[test]
    fn the_test_card_carries_a_valid_id_number_matching_its_birth_date() {
        let card = simulated_card();
        let id = IdNumber::parse(&card.id_number).expect("valid");
        assert_eq!(id.birth_date().to_string(), card.birth_date);
    }

    #[test]
    fn simulated_captures_are_unique_references() {
        let a = SimulatedStation
            .capture(CaptureKind::Photo, "1")
            .expect("photo");
        let b = SimulatedStation
            .capture(CaptureKind::Photo, "1")
            .expect("photo");
        assert_ne!(a.reference, b.reference);
    }
}
