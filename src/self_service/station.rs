//! The self-service endorsement station behind a trait (issue 14 §4, docs/DEVICES.md): the
//! permit's chip reader, the face camera and the card writer of a kiosk. The simulator keeps
//! one test permit "on the reader" per kiosk, chosen on the kiosk's screen in the demo, and
//! writes endorsements idempotently by request, as a real writer must.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::civil::{Date, date};
use serde::{Deserialize, Serialize};

use crate::catalog::{DocumentType, EndorsementType};
use crate::devices::{Capture, DeviceError};

/// An endorsement already on the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipEndorsement {
    pub endorsement: EndorsementType,
    pub valid_until: Date,
    /// Entries left; `None` for multiple entries.
    pub entries_left: Option<u32>,
}

/// What the station reads from a card-type permit (the chip) and the permit back end: the
/// holder's citizen ID number and household registration come from the latter, as on the
/// vendors' machines, so the kiosk can run the control-list checks and the residence rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermitChip {
    pub document: DocumentType,
    pub number: String,
    pub name: String,
    pub holder_id_number: String,
    pub valid_until: Date,
    /// Region code of the household registration (6 digits).
    pub hukou_region: String,
    /// 登记备案的国家工作人员: endorsements need the unit's approval, never at a kiosk (§6).
    pub state_personnel: bool,
    pub endorsements: Vec<ChipEndorsement>,
}

/// What the kiosk asks the writer to put on the card. `request_id` makes a retry of the same
/// write a no-op on the card: the writer answers with the reference of the first write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndorsementWrite {
    pub request_id: String,
    pub permit_number: String,
    pub endorsement: EndorsementType,
    pub option_id: String,
    pub valid_from: Date,
    pub valid_until: Date,
    /// `None` for multiple entries.
    pub entries: Option<u32>,
}

/// A kiosk's permit reader, face camera and card writer.
pub trait SelfServiceStation: Send + Sync {
    /// Reads the permit on the kiosk's reader.
    fn read_permit(&self, device_id: i64) -> Result<PermitChip, DeviceError>;
    /// Compares the face in front of the kiosk with the permit's photo: reference and score.
    fn compare_face(&self, device_id: i64, permit_number: &str) -> Result<Capture, DeviceError>;
    /// Writes (prints) the endorsement on the card; the reference of the write.
    fn write_endorsement(
        &self,
        device_id: i64,
        write: &EndorsementWrite,
    ) -> Result<String, DeviceError>;
}

/// The simulator's test permits, each one case of the rules (synthetic people: valid
/// checksums, not the public fixture numbers of exit-entry.md §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestPermit {
    /// Held G and L before, valid till 2034: G and L on offer.
    Eligible,
    /// Ends on 2027-02-28: too soon for any endorsement.
    Expiring,
    /// A Shenzhen resident who held the Shenzhen multi-entry G.
    Shenzhen,
    /// The demo's control-list entry.
    Watched,
    /// Eligible, but the card writer fails on it.
    WriteFails,
    /// Registered state personnel.
    StatePersonnel,
    /// Someone else in front of the camera.
    FaceMismatch,
}

impl TestPermit {
    pub const ALL: [TestPermit; 7] = [
        TestPermit::Eligible,
        TestPermit::Expiring,
        TestPermit::Shenzhen,
        TestPermit::Watched,
        TestPermit::WriteFails,
        TestPermit::StatePersonnel,
        TestPermit::FaceMismatch,
    ];
    pub fn code(self) -> &'static str {
        match self {
            TestPermit::Eligible => "eligible",
            TestPermit::Expiring => "expiring",
            TestPermit::Shenzhen => "shenzhen",
            TestPermit::Watched => "watched",
            TestPermit::WriteFails => "write_fails",
            TestPermit::StatePersonnel => "state_personnel",
            TestPermit::FaceMismatch => "face_mismatch",
        }
    }
    pub fn parse(s: &str) -> Option<TestPermit> {
        TestPermit::ALL.into_iter().find(|t| t.code() == s)
    }
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            TestPermit::Eligible => lang.pick("可自助签注", "Eligible"),
            TestPermit::Expiring => lang.pick("证件即将到期", "Permit about to expire"),
            TestPermit::Shenzhen => lang.pick("深圳居民", "Shenzhen resident"),
            TestPermit::Watched => lang.pick("核查命中", "Control-list hit"),
            TestPermit::WriteFails => lang.pick("写卡失败", "Card write fails"),
            TestPermit::StatePersonnel => lang.pick("登记备案人员", "State personnel"),
            TestPermit::FaceMismatch => lang.pick("人像不符", "Face does not match"),
        }
    }

    /// The ID number of the test permit's holder.
    pub fn holder_id_number(self) -> &'static str {
        // GB 11643-1999 MOD 11-2 check digits, computed for these synthetic people.
        match self {
            TestPermit::Eligible | TestPermit::FaceMismatch => "110101198503120711",
            TestPermit::Expiring => "110102199007250825",
            TestPermit::Shenzhen => "440304198801090537",
            TestPermit::Watched => "110105197911300640",
            TestPermit::WriteFails => "110106199302140157",
            TestPermit::StatePersonnel => "110108198706060266",
        }
    }

    pub fn chip(self) -> PermitChip {
        let d = |y: i16, m: i8, day: i8| date(y, m, day);
        let used = |endorsement, until| ChipEndorsement {
            endorsement,
            valid_until: until,
            entries_left: Some(0),
        };
        let (number, name, valid_until, hukou) = match self {
            TestPermit::Eligible => ("C60418297", "周自助", d(2034, 5, 1), "110101"),
            TestPermit::FaceMismatch => ("C60418297", "周自助", d(2034, 5, 1), "110101"),
            TestPermit::Expiring => ("C71529036", "吴将到", d(2027, 2, 28), "110102"),
            TestPermit::Shenzhen => ("C82640147", "郑深圳", d(2033, 9, 30), "440304"),
            TestPermit::Watched => ("C93751258", "王核查", d(2032, 1, 15), "110105"),
            TestPermit::WriteFails => ("C04862369", "冯写卡", d(2035, 3, 1), "110106"),
            TestPermit::StatePersonnel => ("C15973470", "陈在编", d(2031, 7, 1), "110108"),
        };
        let endorsements = match self {
            TestPermit::Shenzhen => vec![used(EndorsementType::HkMacaoG, d(2025, 12, 31))],
            _ => vec![
                used(EndorsementType::HkMacaoG, d(2026, 6, 1)),
                used(EndorsementType::HkMacaoL, d(2025, 10, 1)),
            ],
        };
        PermitChip {
            document: DocumentType::HkMacaoPermit,
            number: number.into(),
            name: name.into(),
            holder_id_number: self.holder_id_number().into(),
            valid_until,
            hukou_region: hukou.into(),
            state_personnel: self == TestPermit::StatePersonnel,
            endorsements,
        }
    }
}

/// Simulated stations: one test permit per kiosk (the eligible one until another is placed),
/// a face score of 95 (40 for the mismatch card), and a writer that remembers every request.
#[derive(Default)]
pub struct SimulatedStation {
    placed: Mutex<HashMap<i64, TestPermit>>,
    /// request id → (reference, permit number).
    writes: Mutex<HashMap<String, (String, String)>>,
    /// Physical writes per permit number: what tests count to prove "written once".
    written: Mutex<HashMap<String, u32>>,
}

impl SimulatedStation {
    /// Puts a test permit on a kiosk's reader.
    pub fn place(&self, device_id: i64, permit: TestPermit) {
        if let Ok(mut placed) = self.placed.lock() {
            placed.insert(device_id, permit);
        }
    }

    pub fn placed(&self, device_id: i64) -> TestPermit {
        self.placed
            .lock()
            .ok()
            .and_then(|p| p.get(&device_id).copied())
            .unwrap_or(TestPermit::Eligible)
    }

    /// How many endorsements were written on this permit.
    pub fn writes_on(&self, permit_number: &str) -> u32 {
        self.written
            .lock()
            .ok()
            .and_then(|w| w.get(permit_number).copied())
            .unwrap_or(0)
    }
}

fn poisoned() -> DeviceError {
    DeviceError::Unavailable("simulator state".into())
}

impl SelfServiceStation for SimulatedStation {
    fn read_permit(&self, device_id: i64) -> Result<PermitChip, DeviceError> {
        Ok(self.placed(device_id).chip())
    }

    fn compare_face(&self, device_id: i64, permit_number: &str) -> Result<Capture, DeviceError> {
        let score = if self.placed(device_id) == TestPermit::FaceMismatch {
            40
        } else {
            95
        };
        Ok(Capture {
            reference: format!(
                "sim-face-{permit_number}-{}",
                &crate::crypto::random_token()[..12]
            ),
            quality: score,
        })
    }

    fn write_endorsement(
        &self,
        _device_id: i64,
        write: &EndorsementWrite,
    ) -> Result<String, DeviceError> {
        if write.permit_number == TestPermit::WriteFails.chip().number {
            return Err(DeviceError::Unavailable(
                "card writer: write not verified".into(),
            ));
        }
        let mut writes = self.writes.lock().map_err(|_| poisoned())?;
        if let Some((reference, _)) = writes.get(&write.request_id) {
            return Ok(reference.clone());
        }
        let reference = format!("sim-write-{}", &crate::crypto::random_token()[..16]);
        writes.insert(
            write.request_id.clone(),
            (reference.clone(), write.permit_number.clone()),
        );
        let mut written = self.written.lock().map_err(|_| poisoned())?;
        *written.entry(write.permit_number.clone()).or_default() += 1;
        Ok(reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::id_number::IdNumber;

    #[test]
    fn every_test_holder_has_a_valid_id_number() {
        for t in TestPermit::ALL {
            assert!(IdNumber::parse(t.holder_id_number()).is_ok(), "{t:?}");
            assert_eq!(TestPermit::parse(t.code()), Some(t));
            assert!(t.chip().valid_until > Date::MIN);
        }
    }

    #[test]
    fn a_retried_write_is_written_once() {
        let sim = SimulatedStation::default();
        let chip = TestPermit::Eligible.chip();
        let write = EndorsementWrite {
            request_id: "r1".into(),
            permit_number: chip.number.clone(),
            endorsement: EndorsementType::HkMacaoL,
            option_id: "hk-macao-l-3m-once".into(),
            valid_from: chip.valid_until,
            valid_until: chip.valid_until,
            entries: Some(1),
        };
        let a = sim.write_endorsement(1, &write).expect("written");
        let b = sim.write_endorsement(1, &write).expect("retried");
        assert_eq!(a, b);
        assert_eq!(sim.writes_on(&chip.number), 1);
    }
}
