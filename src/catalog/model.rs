//! Service catalog (R1, 办事指南): document types, fee schedules, endorsement types, materials,
//! service items (事项) and green-channel reasons, loaded from `data/catalog/*.toml` and
//! validated once at load, then answered by pure queries.
//!
//! R1: "every service item is data". Nothing here hard-codes a fee, a time limit or a material;
//! the facts live in the TOML files, each with the text of its legal basis (`basis = "…"`).
//! The facts come from `shared/domain/exit-entry.md` (§1 documents and endorsements, §2
//! categories and materials, §3 fees, §4 time limits and §4.1 emergency reasons). Facts that
//! the reference marks unverified carry `confirmed = false` and a bilingual `note`.
//!
//! Shape of the data (any section may appear in any file; files are read in name order):
//! `[[fee_schedule]]`, `[[document]]`, `[[material]]`, `[[material_set]]`,
//! `[[time_limit_profile]]`, `[[flow]]`, `[[endorsement]]`, `[[item]]`, `[[emergency_reason]]`.
//! Items refer to material sets, a flow and a time-limit profile by id; the loader resolves
//! those references, so a [`ServiceItem`] carries its full material list, flow and time limits.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::i18n::{Lang, UserMessage};
mod errors;
pub use errors::*;
mod loader;
use loader::*;

// ---------------------------------------------------------------------------------------------
// Texts and closed enumerations
// ---------------------------------------------------------------------------------------------

/// A human-readable text in both languages the system speaks (R1: Chinese and English
/// everywhere). Both halves are required; the loader rejects an empty one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    /// The text in the given language.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// Picks the zh-CN or English half of a pair of static strings.
fn pick(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

/// The documents the hall issues to mainland residents (exit-entry.md §1.1).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    /// 普通护照.
    Passport,
    /// 往来港澳通行证 (EEP).
    HkMacaoPermit,
    /// 往来台湾通行证.
    TaiwanPermit,
}

impl DocumentType {
    pub const ALL: [DocumentType; 3] = [
        DocumentType::Passport,
        DocumentType::HkMacaoPermit,
        DocumentType::TaiwanPermit,
    ];

    /// Stable code, the same string the TOML uses.
    pub fn code(self) -> &'static str {
        match self {
            DocumentType::Passport => "passport",
            DocumentType::HkMacaoPermit => "hk_macao_permit",
            DocumentType::TaiwanPermit => "taiwan_permit",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            DocumentType::Passport => pick(lang, "普通护照", "Passport"),
            DocumentType::HkMacaoPermit => pick(lang, "往来港澳通行证", "HK/Macao permit"),
            DocumentType::TaiwanPermit => pick(lang, "往来台湾通行证", "Taiwan permit"),
        }
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Application categories (exit-entry.md §2.1; glossary `ApplicationCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationCategory {
    /// 首次申领.
    FirstIssue,
    /// 换发.
    Renewal,
    /// 补发.
    Replacement,
    /// 失效重新申领.
    ReissueAfterExpiry,
    /// 加注 (passport only).
    Annotation,
    /// 签注 (permits only).
    Endorsement,
}

impl ApplicationCategory {
    pub const ALL: [ApplicationCategory; 6] = [
        ApplicationCategory::FirstIssue,
        ApplicationCategory::Renewal,
        ApplicationCategory::Replacement,
        ApplicationCategory::ReissueAfterExpiry,
        ApplicationCategory::Annotation,
        ApplicationCategory::Endorsement,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ApplicationCategory::FirstIssue => "first_issue",
            ApplicationCategory::Renewal => "renewal",
            ApplicationCategory::Replacement => "replacement",
            ApplicationCategory::ReissueAfterExpiry => "reissue_after_expiry",
            ApplicationCategory::Annotation => "annotation",
            ApplicationCategory::Endorsement => "endorsement",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            ApplicationCategory::FirstIssue => pick(lang, "首次申领", "First issue"),
            ApplicationCategory::Renewal => pick(lang, "换发", "Renewal"),
            ApplicationCategory::Replacement => pick(lang, "补发", "Replacement"),
            ApplicationCategory::ReissueAfterExpiry => {
                pick(lang, "失效重新申领", "Reissue after expiry")
            }
            ApplicationCategory::Annotation => pick(lang, "加注", "Annotation"),
            ApplicationCategory::Endorsement => pick(lang, "签注", "Endorsement"),
        }
    }

    /// Whether the category exists for the document type: 加注 is for passports only, 签注
    /// for the two permits only (exit-entry.md §2.1).
    pub fn applies_to(self, document: DocumentType) -> bool {
        match self {
            ApplicationCategory::Annotation => document == DocumentType::Passport,
            ApplicationCategory::Endorsement => document != DocumentType::Passport,
            _ => true,
        }
    }
}

impl fmt::Display for ApplicationCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Time-limit classes of R5 (exit-entry.md §4).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TimeLimitClass {
    /// Application at the household-registration place (户籍地).
    Normal,
    /// Cross-province application (跨省异地).
    CrossProvince,
    /// Expedited / green channel (加急, 急事急办).
    Expedited,
}

impl TimeLimitClass {
    pub const ALL: [TimeLimitClass; 3] = [
        TimeLimitClass::Normal,
        TimeLimitClass::CrossProvince,
        TimeLimitClass::Expedited,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TimeLimitClass::Normal => "normal",
            TimeLimitClass::CrossProvince => "cross_province",
            TimeLimitClass::Expedited => "expedited",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            TimeLimitClass::Normal => {
                pick(lang, "户籍地办理", "At the household-registration place")
            }
            TimeLimitClass::CrossProvince => pick(lang, "跨省异地办理", "Cross-province"),
            TimeLimitClass::Expedited => {
                pick(lang, "加急（急事急办）", "Expedited (green channel)")
            }
        }
    }
}

impl fmt::Display for TimeLimitClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The unit a time limit counts in. Stored explicitly because the sources disagree
/// (exit-entry.md §4: cross-province "20日" vs "20个工作日").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    WorkingDays,
    CalendarDays,
}

impl DayUnit {
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            DayUnit::WorkingDays => pick(lang, "个工作日", "working days"),
            DayUnit::CalendarDays => pick(lang, "日（自然日）", "calendar days"),
        }
    }
}

/// Endorsement types: HK/Macao T S L G Q D (exit-entry.md §1.2) and Taiwan
/// L G T D Y F X C Q (§1.3). The same letter means different things on the two permits
/// (D is 逗留 for HK/Macao but 定居 for Taiwan), so each variant names its permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndorsementType {
    HkMacaoT,
    HkMacaoS,
    HkMacaoL,
    HkMacaoG,
    HkMacaoQ,
    HkMacaoD,
    TaiwanL,
    TaiwanG,
    TaiwanT,
    TaiwanD,
    TaiwanY,
    TaiwanF,
    TaiwanX,
    TaiwanC,
    TaiwanQ,
}

impl EndorsementType {
    pub const ALL: [EndorsementType; 15] = [
        EndorsementType::HkMacaoT,
        EndorsementType::HkMacaoS,
        EndorsementType::HkMacaoL,
        EndorsementType::HkMacaoG,
        EndorsementType::HkMacaoQ,
        EndorsementType::HkMacaoD,
        EndorsementType::TaiwanL,
        EndorsementType::TaiwanG,
        EndorsementType::TaiwanT,
        EndorsementType::TaiwanD,
        EndorsementType::TaiwanY,
        EndorsementType::TaiwanF,
        EndorsementType::TaiwanX,
        EndorsementType::TaiwanC,
        EndorsementType::TaiwanQ,
    ];

    /// The permit the endorsement goes on.
    pub fn document(self) -> DocumentType {
        use EndorsementType::*;
        match self {
            HkMacaoT | HkMacaoS | HkMacaoL | HkMacaoG | HkMacaoQ | HkMacaoD => {
                DocumentType::HkMacaoPermit
            }
            TaiwanL | TaiwanG | TaiwanT | TaiwanD | TaiwanY | TaiwanF | TaiwanX | TaiwanC
            | TaiwanQ => DocumentType::TaiwanPermit,
        }
    }

    /// The letter printed on the permit.
    pub fn letter(self) -> char {
        use EndorsementType::*;
        match self {
            HkMacaoT | TaiwanT => 'T',
            HkMacaoS => 'S',
            HkMacaoL | TaiwanL => 'L',
            HkMacaoG | TaiwanG => 'G',
            HkMacaoQ | TaiwanQ => 'Q',
            HkMacaoD | TaiwanD => 'D',
            TaiwanY => 'Y',
            TaiwanF => 'F',
            TaiwanX => 'X',
            TaiwanC => 'C',
        }
    }

    /// Stable code, the same string the TOML uses (e.g. `hk_macao_t`).
    pub fn code(self) -> &'static str {
        use EndorsementType::*;
        match self {
            HkMacaoT => "hk_macao_t",
            HkMacaoS => "hk_macao_s",
            HkMacaoL => "hk_macao_l",
            HkMacaoG => "hk_macao_g",
            HkMacaoQ => "hk_macao_q",
            HkMacaoD => "hk_macao_d",
            TaiwanL => "taiwan_l",
            TaiwanG => "taiwan_g",
            TaiwanT => "taiwan_t",
            TaiwanD => "taiwan_d",
            TaiwanY => "taiwan_y",
            TaiwanF => "taiwan_f",
            TaiwanX => "taiwan_x",
            TaiwanC => "taiwan_c",
            TaiwanQ => "taiwan_q",
        }
    }

    /// Short name of the purpose (the catalog's [`EndorsementSpec::name`] is the published one).
    pub fn name(self, lang: Lang) -> &'static str {
        use EndorsementType::*;
        match self {
            HkMacaoT | TaiwanT => pick(lang, "探亲", "Family visit"),
            HkMacaoS => pick(lang, "商务", "Business"),
            HkMacaoL | TaiwanL => pick(lang, "团队旅游", "Group tour"),
            HkMacaoG | TaiwanG => pick(lang, "个人旅游", "Individual visit"),
            HkMacaoQ | TaiwanQ => pick(lang, "其他", "Other"),
            HkMacaoD => pick(lang, "逗留", "Stay"),
            TaiwanD => pick(lang, "定居", "Settlement"),
            TaiwanY => pick(lang, "应邀", "Invited exchange"),
            TaiwanF => pick(lang, "商务", "Business"),
            TaiwanX => pick(lang, "学习", "Study"),
            TaiwanC => pick(lang, "乘务", "Crew"),
        }
    }
}

impl fmt::Display for EndorsementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Number of entries an endorsement allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entries {
    /// 一次.
    One,
    /// 二次.
    Two,
    /// 多次.
    Multiple,
}

impl Entries {
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Entries::One => pick(lang, "一次", "single entry"),
            Entries::Two => pick(lang, "二次", "two entries"),
            Entries::Multiple => pick(lang, "多次", "multiple entries"),
        }
    }
}

/// Validity of an endorsement option: a fixed number of months, or set by the approving
/// authority (HK/Macao stay permit for D, study period, Taiwan entry permit …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// TOML: `validity = { months = 3 }`.
    Months(u32),
    /// TOML: `validity = "by_approval"`.
    ByApproval,
}

/// Longest stay per visit under an endorsement option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxStay {
    /// TOML: `max_stay = { days = 14 }`.
    Days(u32),
    /// Set by the destination's authority or the approval document. TOML: `"by_approval"`.
    ByApproval,
}

/// Where an endorsement option lets the holder go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    HongKong,
    Macao,
    Taiwan,
}

impl Destination {
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Destination::HongKong => pick(lang, "香港", "Hong Kong"),
            Destination::Macao => pick(lang, "澳门", "Macao"),
            Destination::Taiwan => pick(lang, "台湾", "Taiwan"),
        }
    }

    fn fits(self, document: DocumentType) -> bool {
        match self {
            Destination::HongKong | Destination::Macao => document == DocumentType::HkMacaoPermit,
            Destination::Taiwan => document == DocumentType::TaiwanPermit,
        }
    }
}

/// When a required material applies: a small closed set of typed conditions, checked at
/// load and evaluated against an [`ApplicantSituation`] (R1: materials "with the conditions
/// under which each applies"). TOML: `when = "under_16"`,
/// `when = { endorsement = "hk_macao_t" }`, `when = { all = ["under_16", "proxy_applicant"] }`,
/// `when = { not = "proxy_applicant" }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Every applicant.
    #[default]
    Always,
    /// Applicant under 16 at application (exit-entry.md §2.3).
    #[serde(rename = "under_16")]
    Under16,
    /// Applicant 16 or over.
    #[serde(rename = "age_16_or_over")]
    Age16OrOver,
    /// 登记备案的国家工作人员 (§2.3).
    RegisteredStatePersonnel,
    /// 现役军人 (§2.3).
    ActiveMilitary,
    /// The application is made through an entrusted person (a guardian's delegate for an
    /// under-16 applicant, or a proxy for an S endorsement, §2.3–§2.4).
    ProxyApplicant,
    /// The applicant still holds the previous document.
    HasOldDocument,
    /// The previous document was lost or stolen.
    DocumentLost,
    /// The previous document is damaged.
    DocumentDamaged,
    /// An endorsement of this type is applied for.
    Endorsement(EndorsementType),
    /// This endorsement option (by id) is applied for.
    EndorsementOption(String),
    /// Every inner condition holds.
    All(Vec<Condition>),
    /// At least one inner condition holds.
    Any(Vec<Condition>),
    /// The inner condition does not hold.
    Not(Box<Condition>),
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// One fee in a schedule, in force from `effective_from` until the next entry's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeEntry {
    /// Fee in fen (1 元 = 100 fen).
    pub fee_fen: i64,
    pub effective_from: Date,
    /// Legal basis, e.g. `发改价格〔2019〕914号`.
    pub basis: String,
    /// False where the reference marks the amount or date unverified.
    #[serde(default = "yes")]
    pub confirmed: bool,
    #[serde(default)]
    pub note: Option<Text>,
}

/// A fee schedule: the history of one fee item (exit-entry.md §3). Sorted by date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSchedule {
    pub id: String,
    pub name: Text,
    /// Unit of charge, e.g. 元/本, 元/项.
    pub unit: Text,
    #[serde(default, rename(deserialize = "entry"))]
    pub entries: Vec<FeeEntry>,
}

impl FeeSchedule {
    /// The entry in force on `date`: the last one whose `effective_from` is not after it.
    /// Pass the acceptance date: applications accepted before a change keep the old fee
    /// (exit-entry.md §3, stated for the 2019-07-01 change).
    pub fn entry_on(&self, date: Date) -> Option<&FeeEntry> {
        self.entries
            .iter()
            .rev()
            .find(|entry| entry.effective_from <= date)
    }
}

/// Validity of a document for an age band: `from_age <= age < below_age`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeValidity {
    pub from_age: u8,
    /// Exclusive upper bound; absent on the last band.
    #[serde(default)]
    pub below_age: Option<u8>,
    pub years: u8,
}

/// A document type as the hall publishes it (exit-entry.md §1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSpec {
    #[serde(rename = "type")]
    pub document_type: DocumentType,
    pub name: Text,
    /// Id of the [`FeeSchedule`] charged per document issued.
    pub fee_schedule: String,
    /// Validity by age at application, covering every age exactly once.
    #[serde(default)]
    pub validity: Vec<AgeValidity>,
    pub validity_basis: String,
    #[serde(default)]
    pub note: Option<Text>,
}

impl DocumentSpec {
    /// Years of validity for an applicant of this age at application.
    pub fn validity_years(&self, age: u8) -> Option<u8> {
        self.validity
            .iter()
            .find(|band| band.from_age <= age && band.below_age.is_none_or(|below| age < below))
            .map(|band| band.years)
    }
}

/// A material an applicant may have to bring or provide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub id: String,
    pub name: Text,
    #[serde(default)]
    pub note: Option<Text>,
    /// Provided at the window free of charge (photo, form), so the one-time notice need not
    /// ask the applicant to bring it.
    #[serde(default)]
    pub provided_at_window: bool,
}

/// A material reference with the condition under which it is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredMaterial {
    /// Id of a [`Material`].
    pub material: String,
    #[serde(default)]
    pub when: Condition,
}

/// A statutory or promised time limit for one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeLimit {
    pub class: TimeLimitClass,
    pub days: u32,
    pub unit: DayUnit,
    pub basis: String,
    #[serde(default = "yes")]
    pub confirmed: bool,
    #[serde(default)]
    pub note: Option<Text>,
}

/// One validity/entry option of an endorsement type, with its fee band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementOption {
    /// Stable slug, unique over the whole catalog, e.g. `hk-macao-t-3m-once`.
    pub id: String,
    /// Published label, e.g. 3个月一次.
    pub name: Text,
    pub entries: Entries,
    pub validity: Validity,
    pub max_stay: MaxStay,
    #[serde(default)]
    pub destinations: Vec<Destination>,
    /// Id of the [`FeeSchedule`] (fee band of exit-entry.md §3) charged for this option.
    pub fee_schedule: String,
    /// Who may choose this option.
    #[serde(default)]
    pub who: Option<Text>,
    /// Overrides the type's [`EndorsementSpec::kiosk_eligible`] for this option (e.g. only
    /// multi-entry S goes on kiosks, exit-entry.md §6).
    #[serde(default)]
    pub kiosk_eligible: Option<bool>,
    /// Only residents of these places may choose the option (region-code prefixes of the
    /// household registration, e.g. `4403` Shenzhen): the Shenzhen and Zhuhai variants of G
    /// (exit-entry.md §1.2). Empty: anyone the type allows.
    #[serde(default)]
    pub residents_of: Vec<String>,
    /// First day the option can be issued, when it was introduced later than the type.
    #[serde(default)]
    pub available_from: Option<Date>,
    #[serde(default = "yes")]
    pub confirmed: bool,
    #[serde(default)]
    pub note: Option<Text>,
}

impl EndorsementOption {
    /// Whether the option can be issued on `date` (ignores the type's suspension).
    pub fn is_available_on(&self, date: Date) -> bool {
        self.available_from.is_none_or(|from| from <= date)
    }
}

/// An endorsement type as the hall publishes it (exit-entry.md §1.2, §1.3, §2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementSpec {
    #[serde(rename = "type")]
    pub endorsement_type: EndorsementType,
    pub name: Text,
    /// Who may apply and under which conditions.
    #[serde(default)]
    pub eligibility: Vec<Text>,
    pub basis: String,
    /// Can be issued on a self-service kiosk (R11).
    #[serde(default)]
    pub kiosk_eligible: bool,
    /// A kiosk may issue a holder's first endorsement of this type (L: anyone, §6). Otherwise
    /// the first one is applied for at a window, and the kiosk only re-endorses (Shenzhen's rule
    /// for first endorsements, §6; first business or study endorsements need papers).
    #[serde(default)]
    pub kiosk_first_time: bool,
    /// Issuance suspended from this date (Taiwan G since 2019-08-01).
    #[serde(default)]
    pub suspended_since: Option<Date>,
    /// Accepted at any window nationwide (全国通办) from this date.
    #[serde(default)]
    pub nationwide_since: Option<Date>,
    #[serde(default = "yes")]
    pub confirmed: bool,
    #[serde(default)]
    pub note: Option<Text>,
    #[serde(default, rename(deserialize = "option"))]
    pub options: Vec<EndorsementOption>,
    /// Endorsement-specific materials, added to an item's list when this type is applied for.
    #[serde(default, rename(deserialize = "material"))]
    pub materials: Vec<RequiredMaterial>,
}

impl EndorsementSpec {
    pub fn is_suspended_on(&self, date: Date) -> bool {
        self.suspended_since.is_some_and(|since| since <= date)
    }

    pub fn is_nationwide_on(&self, date: Date) -> bool {
        self.nationwide_since.is_some_and(|since| since <= date)
    }

    /// Whether this option can be issued on a self-service kiosk (R11).
    pub fn option_kiosk_eligible(&self, option: &EndorsementOption) -> bool {
        option.kiosk_eligible.unwrap_or(self.kiosk_eligible)
    }

    pub fn option(&self, id: &str) -> Option<&EndorsementOption> {
        self.options.iter().find(|option| option.id == id)
    }
}

/// How an item is charged (exit-entry.md §3). TOML: `fee = "document"`,
/// `fee = { per_annotation = "passport-annotation" }`, `fee = "per_endorsement_option"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeRule {
    /// The document type's fee schedule, once per document ([`Catalog::fee_on`]).
    Document,
    /// The named schedule, once per annotation item (护照加注 20 元/枚).
    PerAnnotation(String),
    /// The chosen option's fee band, once per endorsement ([`Catalog::endorsement_fee`]).
    PerEndorsementOption,
}

/// A service item (事项): one per document type and application category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceItem {
    /// Stable slug, e.g. `passport-first-issue`.
    pub id: String,
    pub document_type: DocumentType,
    pub category: ApplicationCategory,
    pub name: Text,
    /// Legal basis texts.
    pub basis: Vec<String>,
    /// Conditions for applying under this item.
    pub conditions: Vec<Text>,
    /// Every material with its condition, the referenced material sets first, in order.
    pub materials: Vec<RequiredMaterial>,
    /// Flow steps.
    pub flow: Vec<Text>,
    /// One limit per class that applies; always has [`TimeLimitClass::Normal`].
    pub time_limits: Vec<TimeLimit>,
    pub bookable: bool,
    pub emergency_eligible: bool,
    /// The officer needs the number of the applicant's current document.
    pub needs_old_document_number: bool,
    /// Endorsements can be applied for together with this item (permits only).
    pub endorsements_allowed: bool,
    pub fee: FeeRule,
    pub note: Option<Text>,
}

impl ServiceItem {
    pub fn time_limit(&self, class: TimeLimitClass) -> Option<&TimeLimit> {
        self.time_limits.iter().find(|limit| limit.class == class)
    }
}

/// A green-channel (急事急办) reason (exit-entry.md §4.1), configurable as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyReason {
    /// Stable slug, e.g. `funeral`.
    pub code: String,
    pub name: Text,
    /// Material ids of the supporting documents accepted for this reason.
    #[serde(default)]
    pub supporting_documents: Vec<String>,
    pub basis: String,
    #[serde(default = "yes")]
    pub confirmed: bool,
    #[serde(default)]
    pub note: Option<Text>,
}

/// The facts about an applicant that decide which materials apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicantSituation {
    /// Age in full years at application.
    pub age: u8,
    pub registered_state_personnel: bool,
    pub active_military: bool,
    /// Applying through an entrusted person (see [`Condition::ProxyApplicant`]).
    pub proxy: bool,
    pub has_old_document: bool,
    pub document_lost: bool,
    pub document_damaged: bool,
    /// Endorsement types applied for.
    pub endorsement_types: Vec<EndorsementType>,
    /// Endorsement option ids applied for; their types count as applied for too.
    pub endorsement_options: Vec<String>,
}

fn yes() -> bool {
    true
}

/// The citations of a `basis` text: split at each "；" that is not inside brackets.
fn split_citations(basis: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in basis.char_indices() {
        match c {
            '（' | '(' | '〔' | '《' => depth += 1,
            '）' | ')' | '〕' | '》' => depth -= 1,
            '；' if depth == 0 => {
                out.push(basis[start..i].trim());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(basis[start..].trim());
    out.retain(|p| !p.is_empty());
    out
}

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

/// The validated service catalog. Build it with [`Catalog::load_dir`] or
/// [`Catalog::from_files`]; all queries are pure.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// English renderings of citations, by their Chinese text.
    citations: HashMap<String, String>,
    fee_schedules: Vec<FeeSchedule>,
    documents: Vec<DocumentSpec>,
    materials: Vec<Material>,
    endorsements: Vec<EndorsementSpec>,
    items: Vec<ServiceItem>,
    emergency_reasons: Vec<EmergencyReason>,
    fee_index: HashMap<String, usize>,
    material_index: HashMap<String, usize>,
    item_index: HashMap<String, usize>,
    /// Option id → (endorsement index, option index).
    option_index: HashMap<String, (usize, usize)>,
}

impl Catalog {
    /// Loads every `*.toml` file of `dir` (in file-name order) and validates the whole.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Catalog, CatalogError> {
        let dir = dir.as_ref();
        let dir_text = dir.display().to_string();
        let read_dir_error = |error: std::io::Error| CatalogError::ReadDir {
            dir: dir_text.clone(),
            reason: error.to_string(),
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_dir_error)? {
            let path = entry.map_err(read_dir_error)?.path();
            if path.is_file() && path.extension().is_some_and(|ext| ext == "toml") {
                paths.push(path);
            }
        }
        paths.sort();
        if paths.is_empty() {
            return Err(CatalogError::NoFiles { dir: dir_text });
        }
        let mut files = Vec::with_capacity(paths.len());
        for path in &paths {
            let text = std::fs::read_to_string(path).map_err(|error| CatalogError::ReadFile {
                file: path.display().to_string(),
                reason: error.to_string(),
            })?;
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            files.push((name, text));
        }
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        Catalog::from_files(&borrowed)
    }

    /// Builds the catalog from `(file name, TOML text)` pairs, in the given order.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
        let mut raw = RawCatalog::default();
        for (file, text) in files {
            raw.parse_file(file, text)?;
        }
        raw.build()
    }

    pub fn documents(&self) -> &[DocumentSpec] {
        &self.documents
    }

    pub fn document(&self, document: DocumentType) -> Option<&DocumentSpec> {
        self.documents
            .iter()
            .find(|spec| spec.document_type == document)
    }

    pub fn fee_schedules(&self) -> &[FeeSchedule] {
        &self.fee_schedules
    }

    pub fn fee_schedule(&self, id: &str) -> Option<&FeeSchedule> {
        self.fee_index
            .get(id)
            .map(|&index| &self.fee_schedules[index])
    }

    /// Fee in fen of one document of this type on `date` (the acceptance date), or `None`
    /// when no fee was in force yet.
    pub fn fee_on(&self, document: DocumentType, date: Date) -> Option<i64> {
        self.document_fee_entry_on(document, date)
            .map(|entry| entry.fee_fen)
    }

    /// Like [`Catalog::fee_on`], with the entry's basis and notes.
    pub fn document_fee_entry_on(&self, document: DocumentType, date: Date) -> Option<&FeeEntry> {
        let spec = self.document(document)?;
        self.fee_schedule(&spec.fee_schedule)?.entry_on(date)
    }

    /// Fee in fen of the named schedule on `date` (e.g. `passport-annotation`, per item).
    pub fn schedule_fee_on(&self, schedule: &str, date: Date) -> Option<i64> {
        self.fee_schedule(schedule)?
            .entry_on(date)
            .map(|entry| entry.fee_fen)
    }

    /// Fee in fen of one endorsement with this option on `date`.
    pub fn endorsement_fee(&self, option: &str, date: Date) -> Option<i64> {
        let (_, option) = self.endorsement_option(option)?;
        self.schedule_fee_on(&option.fee_schedule, date)
    }

    pub fn materials(&self) -> &[Material] {
        &self.materials
    }

    pub fn material(&self, id: &str) -> Option<&Material> {
        self.material_index
            .get(id)
            .map(|&index| &self.materials[index])
    }

    pub fn items(&self) -> &[ServiceItem] {
        &self.items
    }

    pub fn item(&self, id: &str) -> Option<&ServiceItem> {
        self.item_index.get(id).map(|&index| &self.items[index])
    }

    /// The items of one document type, in catalog order.
    pub fn items_for(&self, document: DocumentType) -> Vec<&ServiceItem> {
        self.items
            .iter()
            .filter(|item| item.document_type == document)
            .collect()
    }

    /// The item for a document type and category, if it exists.
    pub fn item_for(
        &self,
        document: DocumentType,
        category: ApplicationCategory,
    ) -> Option<&ServiceItem> {
        self.items
            .iter()
            .find(|item| item.document_type == document && item.category == category)
    }

    /// Every endorsement type defined for the permit, in catalog order.
    pub fn endorsement_types(&self, document: DocumentType) -> Vec<&EndorsementSpec> {
        self.endorsements
            .iter()
            .filter(|spec| spec.endorsement_type.document() == document)
            .collect()
    }

    pub fn endorsement(&self, endorsement: EndorsementType) -> Option<&EndorsementSpec> {
        self.endorsements
            .iter()
            .find(|spec| spec.endorsement_type == endorsement)
    }

    /// An endorsement option by id, with the type it belongs to.
    pub fn endorsement_option(&self, id: &str) -> Option<(&EndorsementSpec, &EndorsementOption)> {
        let &(spec, option) = self.option_index.get(id)?;
        let spec = &self.endorsements[spec];
        Some((spec, &spec.options[option]))
    }

    /// A `basis` text for a reader of `lang`: each citation in it (separated by a "；" outside
    /// brackets) rendered in English where the catalog has it; `None` when an English reader
    /// would see Chinese only (then the page shows the Chinese, labelled so).
    pub fn basis_in(&self, basis: &str, lang: Lang) -> Option<String> {
        if lang == Lang::ZhCn {
            return Some(basis.to_owned());
        }
        let parts = split_citations(basis);
        let english: Option<Vec<&str>> = parts
            .iter()
            .map(|p| self.citations.get(*p).map(String::as_str))
            .collect();
        english.map(|e| e.join("; "))
    }

    pub fn emergency_reasons(&self) -> &[EmergencyReason] {
        &self.emergency_reasons
    }

    pub fn emergency_reason(&self, code: &str) -> Option<&EmergencyReason> {
        self.emergency_reasons
            .iter()
            .find(|reason| reason.code == code)
    }

    /// Exactly the materials whose condition holds for this applicant: the item's list,
    /// then, on items that allow endorsements, the materials of every endorsement type of
    /// this permit the applicant applies for. Each material appears once, in first-seen order.
    pub fn materials_for(
        &self,
        item: &ServiceItem,
        situation: &ApplicantSituation,
    ) -> Vec<&Material> {
        let applied = self.applied_endorsements(situation);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut take = |required: &RequiredMaterial| {
            if holds(&required.when, situation, &applied)
                && seen.insert(required.material.clone())
                && let Some(material) = self.material(&required.material)
            {
                out.push(material);
            }
        };
        item.materials.iter().for_each(&mut take);
        if item.endorsements_allowed {
            for spec in &self.endorsements {
                let kind = spec.endorsement_type;
                if kind.document() == item.document_type && applied.contains(&kind) {
                    spec.materials.iter().for_each(&mut take);
                }
            }
        }
        out
    }

    /// Whether a condition holds for the applicant (options count as their types).
    pub fn condition_holds(&self, condition: &Condition, situation: &ApplicantSituation) -> bool {
        holds(condition, situation, &self.applied_endorsements(situation))
    }

    /// The condition as a phrase for the public guide and the one-time notice.
    pub fn describe_condition(&self, condition: &Condition, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        let join = |parts: &[Condition], zh_sep: &str, en_sep: &str| {
            parts
                .iter()
                .map(|part| self.describe_condition(part, lang))
                .collect::<Vec<_>>()
                .join(if zh { zh_sep } else { en_sep })
        };
        match condition {
            Condition::Always => pick(lang, "所有申请人", "all applicants").to_owned(),
            Condition::Under16 => pick(lang, "未满16周岁", "under 16").to_owned(),
            Condition::Age16OrOver => pick(lang, "年满16周岁", "16 or over").to_owned(),
            Condition::RegisteredStatePersonnel => {
                pick(lang, "登记备案的国家工作人员", "registered state personnel").to_owned()
            }
            Condition::ActiveMilitary => pick(lang, "现役军人", "active military").to_owned(),
            Condition::ProxyApplicant => pick(
                lang,
                "由受委托人代为办理或陪同",
                "through an entrusted person",
            )
            .to_owned(),
            Condition::HasOldDocument => {
                pick(lang, "持有原证件", "holds the old document").to_owned()
            }
            Condition::DocumentLost => {
                pick(lang, "证件遗失或被盗", "document lost or stolen").to_owned()
            }
            Condition::DocumentDamaged => pick(lang, "证件损毁", "document damaged").to_owned(),
            Condition::Endorsement(kind) => {
                let name = self
                    .endorsement(*kind)
                    .map_or(kind.name(lang), |spec| spec.name.get(lang));
                if zh {
                    format!("申请{name}（{}）签注", kind.letter())
                } else {
                    format!("applying for a {name} ({}) endorsement", kind.letter())
                }
            }
            Condition::EndorsementOption(id) => match self.endorsement_option(id) {
                Some((spec, option)) if zh => {
                    format!("申请{}{}签注", spec.name.zh, option.name.zh)
                }
                Some((spec, option)) => format!("applying for {} {}", spec.name.en, option.name.en),
                None => id.clone(),
            },
            Condition::All(parts) => join(parts, "且", " and "),
            Condition::Any(parts) => join(parts, "或", " or "),
            Condition::Not(inner) => {
                let inner = self.describe_condition(inner, lang);
                if zh {
                    format!("非（{inner}）")
                } else {
                    format!("not ({inner})")
                }
            }
        }
    }

    /// Endorsement types applied for: those named directly plus those of the chosen options.
    fn applied_endorsements(&self, situation: &ApplicantSituation) -> HashSet<EndorsementType> {
        let mut applied: HashSet<EndorsementType> =
            situation.endorsement_types.iter().copied().collect();
        for id in &situation.endorsement_options {
            if let Some((spec, _)) = self.endorsement_option(id) {
                applied.insert(spec.endorsement_type);
            }
        }
        applied
    }
}

fn holds(
    condition: &Condition,
    situation: &ApplicantSituation,
    applied: &HashSet<EndorsementType>,
) -> bool {
    match condition {
        Condition::Always => true,
        // The 16-year line is statutory (护照法 Art. 5 for validity; guardianship, §2.3).
        Condition::Under16 => situation.age < 16,
        Condition::Age16OrOver => situation.age >= 16,
        Condition::RegisteredStatePersonnel => situation.registered_state_personnel,
        Condition::ActiveMilitary => situation.active_military,
        Condition::ProxyApplicant => situation.proxy,
        Condition::HasOldDocument => situation.has_old_document,
        Condition::DocumentLost => situation.document_lost,
        Condition::DocumentDamaged => situation.document_damaged,
        Condition::Endorsement(kind) => applied.contains(kind),
        Condition::EndorsementOption(id) => situation.endorsement_options.iter().any(|o| o == id),
        Condition::All(parts) => parts.iter().all(|part| holds(part, situation, applied)),
        Condition::Any(parts) => parts.iter().any(|part| holds(part, situation, applied)),
        Condition::Not(inner) => !holds(inner, situation, applied),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Catalog {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog");
        match Catalog::load_dir(dir) {
            Ok(catalog) => catalog,
            Err(error) => panic!("shipped catalog does not load: {error}"),
        }
    }

    fn date(text: &str) -> Date {
        text.parse().expect("test date")
    }

    fn ids<'a>(materials: &[&'a Material]) -> Vec<&'a str> {
        materials.iter().map(|m| m.id.as_str()).collect()
    }

    fn adult() -> ApplicantSituation {
        ApplicantSituation {
            age: 30,
            ..ApplicantSituation::default()
        }
    }

    // --- The shipped data ---------------------------------------------------------------------

    #[test]
    fn shipped_data_holds_every_item() {
        use ApplicationCategory::*;
        use DocumentType::*;
        let catalog = shipped();
        let expected = [
            ("passport-first-issue", Passport, FirstIssue),
            ("passport-renewal", Passport, Renewal),
            ("passport-replacement", Passport, Replacement),
            (
                "passport-reissue-after-expiry",
                Passport,
                ReissueAfterExpiry,
            ),
            ("passport-annotation", Passport, Annotation),
            ("hk-macao-permit-first-issue", HkMacaoPermit, FirstIssue),
            ("hk-macao-permit-renewal", HkMacaoPermit, Renewal),
            ("hk-macao-permit-replacement", HkMacaoPermit, Replacement),
            (
                "hk-macao-permit-reissue-after-expiry",
                HkMacaoPermit,
                ReissueAfterExpiry,
            ),
            ("hk-macao-permit-endorsement", HkMacaoPermit, Endorsement),
            ("taiwan-permit-first-issue", TaiwanPermit, FirstIssue),
            ("taiwan-permit-renewal", TaiwanPermit, Renewal),
            ("taiwan-permit-replacement", TaiwanPermit, Replacement),
            (
                "taiwan-permit-reissue-after-expiry",
                TaiwanPermit,
                ReissueAfterExpiry,
            ),
            ("taiwan-permit-endorsement", TaiwanPermit, Endorsement),
        ];
        assert_eq!(catalog.items().len(), expected.len());
        for (id, document, category) in expected {
            let item = catalog
                .item(id)
                .unwrap_or_else(|| panic!("missing item {id}"));
            assert_eq!((item.document_type, item.category), (document, category));
            assert_eq!(
                catalog.item_for(document, category).map(|i| &i.id),
                Some(&item.id)
            );
            // 换发, 加注, 签注 need the old document number (brief; §2.1).
            let needs_old = matches!(category, Renewal | Annotation | Endorsement);
            assert_eq!(item.needs_old_document_number, needs_old, "{id}");
            assert!(item.bookable, "{id}");
            assert_eq!(item.emergency_eligible, category != Annotation, "{id}");
            assert!(item.time_limit(TimeLimitClass::Normal).is_some(), "{id}");
            assert!(!item.flow.is_empty() && !item.conditions.is_empty(), "{id}");
        }
        for document in DocumentType::ALL {
            assert_eq!(catalog.items_for(document).len(), 5);
            assert!(catalog.document(document).is_some());
        }
        assert_eq!(catalog.item("passport-endorsement"), None);
    }

    #[test]
    fn document_validity_by_age() {
        let catalog = shipped();
        for document in DocumentType::ALL {
            let spec = catalog.document(document).expect("document");
            assert_eq!(spec.validity_years(0), Some(5));
            assert_eq!(spec.validity_years(15), Some(5));
            assert_eq!(spec.validity_years(16), Some(10));
            assert_eq!(spec.validity_years(90), Some(10));
        }
    }

    #[test]
    fn document_fees_change_on_2019_07_01() {
        let catalog = shipped();
        let before = date("2019-06-30");
        let after = date("2019-07-01");
        assert_eq!(catalog.fee_on(DocumentType::Passport, before), Some(16000));
        assert_eq!(catalog.fee_on(DocumentType::Passport, after), Some(12000));
        assert_eq!(
            catalog.fee_on(DocumentType::HkMacaoPermit, before),
            Some(8000)
        );
        assert_eq!(
            catalog.fee_on(DocumentType::HkMacaoPermit, after),
            Some(6000)
        );
        assert_eq!(
            catalog.fee_on(DocumentType::TaiwanPermit, date("2026-03-01")),
            Some(6000)
        );
        // No fee is known before the first schedule entry.
        assert_eq!(
            catalog.fee_on(DocumentType::Passport, date("2017-06-30")),
            None
        );
        let entry = catalog
            .document_fee_entry_on(DocumentType::Passport, after)
            .expect("entry");
        assert_eq!(entry.basis, "发改价格〔2019〕914号");
        // 护照加注 20 元 per annotation.
        let annotation = catalog.item("passport-annotation").expect("item");
        let FeeRule::PerAnnotation(schedule) = &annotation.fee else {
            panic!("annotation fee rule: {:?}", annotation.fee);
        };
        assert_eq!(
            catalog.schedule_fee_on(schedule, date("2026-03-01")),
            Some(2000)
        );
    }

    #[test]
    fn endorsement_fee_bands() {
        let catalog = shipped();
        let day = date("2026-03-01");
        let fee = |option: &str| catalog.endorsement_fee(option, day);
        assert_eq!(fee("hk-macao-t-3m-once"), Some(1500));
        assert_eq!(fee("hk-macao-l-3m-twice"), Some(3000));
        assert_eq!(fee("hk-macao-t-3m-multi"), Some(8000));
        assert_eq!(fee("hk-macao-t-1y-multi"), Some(8000));
        assert_eq!(fee("hk-macao-d-multi-2y"), Some(12000));
        assert_eq!(fee("hk-macao-d-multi-under-3y"), Some(16000));
        assert_eq!(fee("hk-macao-d-multi-3y-plus"), Some(24000));
        assert_eq!(fee("taiwan-t-6m-once"), Some(1500));
        assert_eq!(fee("taiwan-t-3y-multi"), Some(8000));
        assert_eq!(fee("no-such-option"), None);
        assert_eq!(
            catalog.endorsement_fee("hk-macao-t-3m-once", date("2017-06-30")),
            None
        );
        // Every option's band fits its entries and validity (§3).
        for document in [DocumentType::HkMacaoPermit, DocumentType::TaiwanPermit] {
            for spec in catalog.endorsement_types(document) {
                for option in &spec.options {
                    let got = fee(&option.id);
                    let want = match (document, option.entries, option.validity) {
                        (DocumentType::TaiwanPermit, Entries::One, _) => Some(1500),
                        (DocumentType::TaiwanPermit, _, _) => Some(8000),
                        (_, Entries::One, _) => Some(1500),
                        (_, Entries::Two, _) => Some(3000),
                        (_, Entries::Multiple, Validity::Months(m)) if m <= 12 => Some(8000),
                        (_, Entries::Multiple, _) => got, // D: band chosen by its option
                    };
                    assert_eq!(got, want, "{}", option.id);
                }
            }
        }
    }

    #[test]
    fn endorsement_types_per_permit() {
        let catalog = shipped();
        let letters = |document| {
            catalog
                .endorsement_types(document)
                .iter()
                .map(|spec| spec.endorsement_type.letter())
                .collect::<String>()
        };
        assert_eq!(letters(DocumentType::HkMacaoPermit), "TSLGQD");
        assert_eq!(letters(DocumentType::TaiwanPermit), "LGTDYFXCQ");
        assert!(catalog.endorsement_types(DocumentType::Passport).is_empty());
        let taiwan_g = catalog.endorsement(EndorsementType::TaiwanG).expect("G");
        assert!(taiwan_g.is_suspended_on(date("2019-08-01")));
        assert!(!taiwan_g.is_suspended_on(date("2019-07-31")));
        let s = catalog.endorsement(EndorsementType::HkMacaoS).expect("S");
        assert!(s.is_nationwide_on(date("2024-05-06")));
        let once = s.option("hk-macao-s-3m-once").expect("option");
        let multi = s.option("hk-macao-s-1y-multi").expect("option");
        assert!(!s.option_kiosk_eligible(once));
        assert!(s.option_kiosk_eligible(multi));
        let (spec, option) = catalog
            .endorsement_option("hk-macao-g-shenzhen-1y-multi")
            .expect("option");
        assert_eq!(spec.endorsement_type, EndorsementType::HkMacaoG);
        assert!(!option.is_available_on(date("2024-11-30")));
        assert!(option.is_available_on(date("2024-12-01")));
    }

    #[test]
    fn time_limits_store_their_unit() {
        let catalog = shipped();
        let item = catalog.item("passport-first-issue").expect("item");
        let limit = |class| item.time_limit(class).map(|l| (l.days, l.unit));
        assert_eq!(
            limit(TimeLimitClass::Normal),
            Some((7, DayUnit::WorkingDays))
        );
        assert_eq!(
            limit(TimeLimitClass::CrossProvince),
            Some((20, DayUnit::CalendarDays))
        );
        assert_eq!(
            limit(TimeLimitClass::Expedited),
            Some((5, DayUnit::WorkingDays))
        );
        let endorsement = catalog.item("hk-macao-permit-endorsement").expect("item");
        let normal = endorsement
            .time_limit(TimeLimitClass::Normal)
            .expect("limit");
        assert_eq!((normal.days, normal.unit), (5, DayUnit::WorkingDays));
    }

    #[test]
    fn emergency_reasons_are_the_eight_of_4_1() {
        let catalog = shipped();
        let codes: Vec<&str> = catalog
            .emergency_reasons()
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(
            codes,
            [
                "funeral",
                "urgent-medical-treatment",
                "visiting-critically-ill",
                "study-enrolment",
                "urgent-meeting",
                "incident-abroad",
                "contract-signing",
                "document-lost-before-trip",
            ]
        );
        for reason in catalog.emergency_reasons() {
            for id in &reason.supporting_documents {
                assert!(catalog.material(id).is_some(), "{id}");
            }
        }
        assert!(catalog.emergency_reason("funeral").is_some());
    }

    // --- Materials for a situation ----------------------------------------------------------

    #[test]
    fn under_16_needs_guardianship_proof_and_16_does_not() {
        let catalog = shipped();
        let item = catalog.item("passport-first-issue").expect("item");
        let child = ApplicantSituation {
            age: 15,
            ..ApplicantSituation::default()
        };
        let got = ids(&catalog.materials_for(item, &child));
        assert_eq!(
            got,
            [
                "photo",
                "application-form",
                "id-card",
                "guardianship-proof",
                "guardian-id"
            ]
        );
        let sixteen = ApplicantSituation {
            age: 16,
            ..ApplicantSituation::default()
        };
        assert_eq!(
            ids(&catalog.materials_for(item, &sixteen)),
            ["photo", "application-form", "id-card"]
        );
        // Guardian cannot come: entrustment + accompanying person's ID instead of guardian's ID.
        let accompanied = ApplicantSituation {
            proxy: true,
            ..child
        };
        let got = ids(&catalog.materials_for(item, &accompanied));
        assert!(got.contains(&"guardianship-proof"));
        assert!(got.contains(&"guardian-entrustment"));
        assert!(got.contains(&"accompanying-person-id"));
        assert!(!got.contains(&"guardian-id"));
    }

    #[test]
    fn state_personnel_and_military() {
        let catalog = shipped();
        let item = catalog.item("hk-macao-permit-first-issue").expect("item");
        let official = ApplicantSituation {
            registered_state_personnel: true,
            ..adult()
        };
        assert!(ids(&catalog.materials_for(item, &official)).contains(&"unit-consent-letter"));
        assert!(!ids(&catalog.materials_for(item, &adult())).contains(&"unit-consent-letter"));
        let soldier = ApplicantSituation {
            active_military: true,
            ..adult()
        };
        let got = ids(&catalog.materials_for(item, &soldier));
        assert!(got.contains(&"military-approval") && got.contains(&"military-identity-proof"));
    }

    #[test]
    fn renewal_needs_the_original_document() {
        let catalog = shipped();
        for id in [
            "passport-renewal",
            "hk-macao-permit-renewal",
            "taiwan-permit-renewal",
        ] {
            let item = catalog.item(id).expect("item");
            assert!(ids(&catalog.materials_for(item, &adult())).contains(&"original-document"));
        }
        let first = catalog.item("passport-first-issue").expect("item");
        assert!(!ids(&catalog.materials_for(first, &adult())).contains(&"original-document"));
    }

    #[test]
    fn replacement_after_loss_or_damage() {
        let catalog = shipped();
        let item = catalog.item("passport-replacement").expect("item");
        let lost = ApplicantSituation {
            document_lost: true,
            ..adult()
        };
        let got = ids(&catalog.materials_for(item, &lost));
        assert!(got.contains(&"loss-statement"));
        assert!(!got.contains(&"damaged-document"));
        let damaged = ApplicantSituation {
            document_damaged: true,
            ..adult()
        };
        let got = ids(&catalog.materials_for(item, &damaged));
        assert!(got.contains(&"loss-statement") && got.contains(&"damaged-document"));
    }

    #[test]
    fn endorsement_materials_follow_the_types_applied_for() {
        let catalog = shipped();
        let item = catalog.item("hk-macao-permit-endorsement").expect("item");
        let base = ids(&catalog.materials_for(item, &adult()));
        assert_eq!(base, ["application-form", "id-card", "valid-permit"]);
        let family = ApplicantSituation {
            endorsement_types: vec![EndorsementType::HkMacaoT, EndorsementType::TaiwanT],
            ..adult()
        };
        let got = ids(&catalog.materials_for(item, &family));
        assert!(got.contains(&"relative-residence-proof") && got.contains(&"relationship-proof"));
        assert!(
            !got.contains(&"taiwan-entry-permit"),
            "Taiwan T is not for this permit"
        );
        // First issue with an endorsement takes its materials too; passports never do.
        let first = catalog.item("hk-macao-permit-first-issue").expect("item");
        assert!(ids(&catalog.materials_for(first, &family)).contains(&"relationship-proof"));
        let passport = catalog.item("passport-first-issue").expect("item");
        assert!(!ids(&catalog.materials_for(passport, &family)).contains(&"relationship-proof"));
        // Options count as their type; multi-entry S needs six months of social insurance.
        let business_multi = ApplicantSituation {
            endorsement_options: vec!["hk-macao-s-1y-multi".to_owned()],
            proxy: true,
            ..adult()
        };
        let got = ids(&catalog.materials_for(item, &business_multi));
        assert!(got.contains(&"business-licence"));
        assert!(got.contains(&"social-insurance-proof-6-months"));
        assert!(!got.contains(&"social-insurance-proof"));
        assert!(got.contains(&"proxy-entrustment") && got.contains(&"proxy-id"));
        let business_once = ApplicantSituation {
            endorsement_options: vec!["hk-macao-s-3m-once".to_owned()],
            ..adult()
        };
        let got = ids(&catalog.materials_for(item, &business_once));
        assert!(got.contains(&"social-insurance-proof"));
        assert!(!got.contains(&"social-insurance-proof-6-months"));
        assert!(!got.contains(&"proxy-id"));
    }

    #[test]
    fn conditions_are_described_in_both_languages() {
        let catalog = shipped();
        let condition = Condition::All(vec![
            Condition::Under16,
            Condition::Not(Box::new(Condition::ProxyApplicant)),
        ]);
        assert_eq!(
            catalog.describe_condition(&condition, Lang::ZhCn),
            "未满16周岁且非（由受委托人代为办理或陪同）"
        );
        assert_eq!(
            catalog.describe_condition(&condition, Lang::En),
            "under 16 and not (through an entrusted person)"
        );
        let option = Condition::EndorsementOption("hk-macao-t-3m-once".to_owned());
        assert_eq!(
            catalog.describe_condition(&option, Lang::ZhCn),
            "申请探亲3个月一次签注"
        );
    }

    /// Every text in the shipped data has Chinese and English, and the English half holds
    /// no Chinese characters (catches a Chinese text pasted into `en`).
    #[test]
    fn every_text_has_both_languages() {
        let catalog = shipped();
        let mut texts: Vec<(String, &Text)> = Vec::new();
        for spec in catalog.documents() {
            texts.push((format!("document {}", spec.document_type), &spec.name));
            texts.extend(spec.note.iter().map(|t| ("document note".to_owned(), t)));
        }
        for schedule in catalog.fee_schedules() {
            texts.push((format!("fee {}", schedule.id), &schedule.name));
            texts.push((format!("fee {} unit", schedule.id), &schedule.unit));
            for entry in &schedule.entries {
                texts.extend(
                    entry
                        .note
                        .iter()
                        .map(|t| (format!("fee {}", schedule.id), t)),
                );
            }
        }
        for material in catalog.materials() {
            texts.push((format!("material {}", material.id), &material.name));
            texts.extend(material.note.iter().map(|t| (material.id.clone(), t)));
        }
        for document in DocumentType::ALL {
            for spec in catalog.endorsement_types(document) {
                let at = format!("endorsement {}", spec.endorsement_type);
                texts.push((at.clone(), &spec.name));
                texts.extend(spec.eligibility.iter().map(|t| (at.clone(), t)));
                texts.extend(spec.note.iter().map(|t| (at.clone(), t)));
                for option in &spec.options {
                    texts.push((option.id.clone(), &option.name));
                    texts.extend(option.who.iter().map(|t| (option.id.clone(), t)));
                    texts.extend(option.note.iter().map(|t| (option.id.clone(), t)));
                }
            }
        }
        for item in catalog.items() {
            texts.push((item.id.clone(), &item.name));
            texts.extend(item.conditions.iter().map(|t| (item.id.clone(), t)));
            texts.extend(item.flow.iter().map(|t| (item.id.clone(), t)));
            texts.extend(item.note.iter().map(|t| (item.id.clone(), t)));
            for limit in &item.time_limits {
                texts.extend(limit.note.iter().map(|t| (item.id.clone(), t)));
            }
        }
        for reason in catalog.emergency_reasons() {
            texts.push((reason.code.clone(), &reason.name));
            texts.extend(reason.note.iter().map(|t| (reason.code.clone(), t)));
        }
        assert!(texts.len() > 200, "walked {} texts", texts.len());
        let is_han = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
        for (at, text) in texts {
            assert!(
                text.zh.chars().any(is_han),
                "{at}: no Chinese in {:?}",
                text.zh
            );
            assert!(!text.en.trim().is_empty(), "{at}: empty English");
            assert!(
                !text.en.chars().any(is_han),
                "{at}: Chinese in English {:?}",
                text.en
            );
        }
        // And every enum name.
        for lang in [Lang::ZhCn, Lang::En] {
            for d in DocumentType::ALL {
                assert!(!d.name(lang).is_empty());
            }
            for c in ApplicationCategory::ALL {
                assert!(!c.name(lang).is_empty());
            }
            for t in TimeLimitClass::ALL {
                assert!(!t.name(lang).is_empty());
            }
            for e in EndorsementType::ALL {
                assert!(!e.name(lang).is_empty());
            }
        }
    }

    // --- Validation errors from small bad snippets -------------------------------------------

    const BASE: &str = r#"
[[fee_schedule]]
id = "passport"
name = { zh = "普通护照", en = "Passport" }
unit = { zh = "元/本", en = "per booklet" }
[[fee_schedule.entry]]
fee_fen = 12000
effective_from = 2019-07-01
basis = "发改价格〔2019〕914号"

[[document]]
type = "passport"
name = { zh = "普通护照", en = "Passport" }
fee_schedule = "passport"
validity_basis = "护照法第五条"
validity = [{ from_age = 0, below_age = 16, years = 5 }, { from_age = 16, years = 10 }]

[[material]]
id = "photo"
name = { zh = "相片", en = "Photo" }

[[time_limit_profile]]
id = "std"
[[time_limit_profile.limit]]
class = "normal"
days = 7
unit = "working_days"
basis = "22项措施"

[[flow]]
id = "std"
steps = [{ zh = "受理", en = "Acceptance" }]
"#;

    /// A valid item; tests replace one line to break it.
    const ITEM: &str = r#"
[[item]]
id = "passport-first-issue"
document_type = "passport"
category = "first_issue"
name = { zh = "普通护照首次申领", en = "Passport: first issue" }
basis = ["护照法"]
conditions = [{ zh = "从未申领", en = "Never held one" }]
flow = "std"
time_limits = "std"
bookable = true
emergency_eligible = true
needs_old_document_number = false
fee = "document"
[[item.material]]
material = "photo"
"#;

    fn load(snippet: &str) -> Result<Catalog, CatalogError> {
        Catalog::from_files(&[("base.toml", BASE), ("bad.toml", snippet)])
    }

    /// Loads BASE + `snippet`, expects failure with `code`, and checks that both messages
    /// name the file and the record id.
    fn expect_error(snippet: &str, code: &str, id: &str) -> CatalogError {
        let error = match load(snippet) {
            Ok(_) => panic!("expected {code}, the catalog loaded"),
            Err(error) => error,
        };
        assert_eq!(error.code(), code, "{error}");
        for lang in [Lang::ZhCn, Lang::En] {
            let message = error.message(lang);
            assert!(message.contains("bad.toml"), "{message}");
            assert!(message.contains(id), "{message}");
        }
        error
    }

    fn item_with(from: &str, to: &str) -> String {
        assert!(ITEM.contains(from), "{from}");
        ITEM.replacen(from, to, 1)
    }

    #[test]
    fn the_base_snippet_loads() {
        let catalog = match load(ITEM) {
            Ok(catalog) => catalog,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(catalog.items().len(), 1);
        assert_eq!(
            catalog.fee_on(DocumentType::Passport, date("2020-01-01")),
            Some(12000)
        );
    }

    #[test]
    fn unknown_material() {
        let bad = item_with(r#"material = "photo""#, r#"material = "fingerprint-card""#);
        let error = expect_error(&bad, "catalog.unknown_material", "passport-first-issue");
        assert!(error.to_string().contains("fingerprint-card"));
        assert_eq!(
            error.to_string(),
            "catalog file bad.toml, item `passport-first-issue`: unknown material `fingerprint-card`"
        );
        assert_eq!(
            error.message(Lang::ZhCn),
            "服务目录文件 bad.toml，事项“passport-first-issue”：引用了不存在的材料“fingerprint-card”"
        );
    }

    #[test]
    fn unknown_endorsement_option() {
        let bad = format!("{ITEM}when = {{ endorsement_option = \"hk-macao-x-1y\" }}\n");
        expect_error(
            &bad,
            "catalog.unknown_endorsement_option",
            "passport-first-issue",
        );
    }

    #[test]
    fn endorsement_condition_on_a_passport() {
        let bad = format!("{ITEM}when = {{ endorsement = \"hk_macao_t\" }}\n");
        expect_error(
            &bad,
            "catalog.endorsement_of_other_document",
            "passport-first-issue",
        );
    }

    #[test]
    fn unknown_document_type() {
        let bad = item_with(
            r#"document_type = "passport""#,
            r#"document_type = "taiwan_permit""#,
        );
        expect_error(
            &bad,
            "catalog.unknown_document_type",
            "passport-first-issue",
        );
        let bad = item_with(r#"document_type = "passport""#, r#"document_type = "visa""#);
        let error = expect_error(&bad, "catalog.malformed", "passport-first-issue");
        assert!(error.to_string().contains("visa"), "{error}");
    }

    #[test]
    fn bad_condition_name_is_malformed() {
        let bad = format!("{ITEM}when = \"under_18\"\n");
        expect_error(&bad, "catalog.malformed", "passport-first-issue");
    }

    #[test]
    fn duplicate_ids() {
        let error =
            match Catalog::from_files(&[("base.toml", BASE), ("a.toml", ITEM), ("b.toml", ITEM)]) {
                Ok(_) => panic!("duplicate accepted"),
                Err(error) => error,
            };
        assert_eq!(error.code(), "catalog.duplicate_id");
        let message = error.to_string();
        assert!(
            message.contains("b.toml") && message.contains("a.toml"),
            "{message}"
        );
        assert!(message.contains("passport-first-issue"), "{message}");
        let dup_material =
            "[[material]]\nid = \"photo\"\nname = { zh = \"相片\", en = \"Photo\" }\n";
        expect_error(dup_material, "catalog.duplicate_id", "photo");
    }

    #[test]
    fn duplicate_item_for_the_same_document_and_category() {
        let second = ITEM.replacen("passport-first-issue", "passport-first-issue-2", 1);
        let bad = format!("{ITEM}{second}");
        expect_error(&bad, "catalog.duplicate_item", "passport-first-issue-2");
    }

    #[test]
    fn fee_schedule_problems() {
        let head = "[[fee_schedule]]\nid = \"permit\"\nname = { zh = \"通行证\", en = \"Permit\" }\nunit = { zh = \"元/证\", en = \"per permit\" }\n";
        expect_error(head, "catalog.empty_fee_schedule", "permit");
        let unsorted = format!(
            "{head}[[fee_schedule.entry]]\nfee_fen = 6000\neffective_from = 2019-07-01\nbasis = \"914号\"\n\
             [[fee_schedule.entry]]\nfee_fen = 8000\neffective_from = 2017-07-01\nbasis = \"1186号\"\n"
        );
        expect_error(&unsorted, "catalog.fee_schedule_not_sorted", "permit");
        let zero = format!(
            "{head}[[fee_schedule.entry]]\nfee_fen = 0\neffective_from = 2019-07-01\nbasis = \"914号\"\n"
        );
        expect_error(&zero, "catalog.non_positive_fee", "permit");
        let negative = zero.replace("fee_fen = 0", "fee_fen = -100");
        expect_error(&negative, "catalog.non_positive_fee", "permit");
        let document = "[[document]]\ntype = \"hk_macao_permit\"\nname = { zh = \"往来港澳通行证\", en = \"HK/Macao permit\" }\n\
             fee_schedule = \"hk-macao-permit\"\nvalidity_basis = \"x\"\nvalidity = [{ from_age = 0, years = 10 }]\n";
        expect_error(document, "catalog.unknown_fee_schedule", "hk_macao_permit");
    }

    #[test]
    fn item_without_materials() {
        let bad = item_with("[[item.material]]\nmaterial = \"photo\"\n", "");
        expect_error(&bad, "catalog.no_materials", "passport-first-issue");
    }

    #[test]
    fn missing_english_or_chinese_text() {
        let bad = item_with(r#"en = "Passport: first issue""#, r#"en = """#);
        let error = expect_error(&bad, "catalog.missing_text", "passport-first-issue");
        assert!(error.to_string().contains("missing English"), "{error}");
        let bad = item_with(r#"zh = "从未申领""#, r#"zh = "  ""#);
        let error = expect_error(&bad, "catalog.missing_text", "passport-first-issue");
        assert!(error.to_string().contains("conditions[1]"), "{error}");
        let no_en = "[[material]]\nid = \"form\"\nname = { zh = \"申请表\" }\n";
        expect_error(no_en, "catalog.malformed", "form");
    }

    #[test]
    fn time_limit_problems() {
        let profile = "[[time_limit_profile]]\nid = \"fast\"\n[[time_limit_profile.limit]]\nclass = \"normal\"\ndays = 0\nunit = \"working_days\"\nbasis = \"x\"\n";
        expect_error(profile, "catalog.zero_time_limit", "fast");
        let no_normal = profile
            .replace("class = \"normal\"", "class = \"expedited\"")
            .replace("days = 0", "days = 5");
        expect_error(&no_normal, "catalog.missing_normal_time_limit", "fast");
        let bad_unit = profile.replace("working_days", "weeks");
        expect_error(&bad_unit, "catalog.malformed", "fast");
        let unknown = item_with(r#"time_limits = "std""#, r#"time_limits = "slow""#);
        expect_error(
            &unknown,
            "catalog.unknown_time_limit_profile",
            "passport-first-issue",
        );
    }

    #[test]
    fn item_consistency() {
        let bad = item_with(r#"category = "first_issue""#, r#"category = "endorsement""#);
        expect_error(
            &bad,
            "catalog.category_not_for_document",
            "passport-first-issue",
        );
        let bad = item_with(r#"fee = "document""#, r#"fee = "per_endorsement_option""#);
        expect_error(&bad, "catalog.fee_rule_mismatch", "passport-first-issue");
        let bad = item_with(r#"id = "passport-first-issue""#, r#"id = "Passport First""#);
        expect_error(&bad, "catalog.bad_id", "Passport First");
        let bad = item_with(
            "flow = \"std\"",
            "flow = \"std\"\nmaterial_sets = [\"common\"]",
        );
        expect_error(&bad, "catalog.unknown_material_set", "passport-first-issue");
    }

    #[test]
    fn endorsement_problems() {
        let spec = |option_extra: &str, material: &str| {
            format!(
                "[[fee_schedule]]\nid = \"single\"\nname = {{ zh = \"一次\", en = \"Single\" }}\nunit = {{ zh = \"元/人\", en = \"each\" }}\n\
                 [[fee_schedule.entry]]\nfee_fen = 1500\neffective_from = 2017-07-01\nbasis = \"1186号\"\n\
                 [[endorsement]]\ntype = \"hk_macao_t\"\nname = {{ zh = \"探亲\", en = \"Family visit\" }}\n\
                 eligibility = [{{ zh = \"探亲\", en = \"Visiting relatives\" }}]\nbasis = \"暂行管理办法\"\n\
                 [[endorsement.option]]\nid = \"t-once\"\nname = {{ zh = \"3个月一次\", en = \"3 months, single\" }}\n\
                 entries = \"one\"\nvalidity = {{ months = 3 }}\nmax_stay = {{ days = 14 }}\n{option_extra}\n\
                 [[endorsement.material]]\nmaterial = \"{material}\"\n"
            )
        };
        let good = spec(
            "destinations = [\"hong_kong\"]\nfee_schedule = \"single\"",
            "photo",
        );
        assert!(load(&good).is_ok(), "{:?}", load(&good).err());
        expect_error(
            &spec(
                "destinations = [\"taiwan\"]\nfee_schedule = \"single\"",
                "photo",
            ),
            "catalog.wrong_destination",
            "hk_macao_t",
        );
        expect_error(
            &spec(
                "destinations = [\"macao\"]\nfee_schedule = \"double\"",
                "photo",
            ),
            "catalog.unknown_fee_schedule",
            "hk_macao_t",
        );
        expect_error(
            &spec(
                "destinations = [\"macao\"]\nfee_schedule = \"single\"",
                "relatives",
            ),
            "catalog.unknown_material",
            "hk_macao_t",
        );
        let zero = spec(
            "destinations = [\"macao\"]\nfee_schedule = \"single\"",
            "photo",
        )
        .replace("months = 3", "months = 0");
        expect_error(&zero, "catalog.zero_value", "hk_macao_t");
        let twice = good.replacen(
            "[[endorsement.material]]",
            "[[endorsement.option]]\nid = \"t-once\"\nname = { zh = \"一次\", en = \"Once\" }\n\
             entries = \"one\"\nvalidity = { months = 3 }\nmax_stay = { days = 14 }\n\
             destinations = [\"macao\"]\nfee_schedule = \"single\"\n[[endorsement.material]]",
            1,
        );
        expect_error(&twice, "catalog.duplicate_id", "hk_macao_t");
    }

    #[test]
    fn document_age_bands_must_cover_every_age() {
        let document = "[[document]]\ntype = \"taiwan_permit\"\nname = { zh = \"往来台湾通行证\", en = \"Taiwan permit\" }\n\
             fee_schedule = \"passport\"\nvalidity_basis = \"x\"\n";
        let gap = format!(
            "{document}validity = [{{ from_age = 0, below_age = 16, years = 5 }}, {{ from_age = 18, years = 10 }}]\n"
        );
        expect_error(&gap, "catalog.age_bands", "taiwan_permit");
        let closed =
            format!("{document}validity = [{{ from_age = 0, below_age = 16, years = 5 }}]\n");
        expect_error(&closed, "catalog.age_bands", "taiwan_permit");
        let dup = "[[document]]\ntype = \"passport\"\nname = { zh = \"护照\", en = \"Passport\" }\n\
             fee_schedule = \"passport\"\nvalidity_basis = \"x\"\nvalidity = [{ from_age = 0, years = 10 }]\n";
        expect_error(dup, "catalog.duplicate_id", "passport");
    }

    #[test]
    fn emergency_reason_with_unknown_document() {
        let reason = "[[emergency_reason]]\ncode = \"funeral\"\nname = { zh = \"奔丧\", en = \"Funeral\" }\n\
             supporting_documents = [\"death-proof\"]\nbasis = \"只跑一次\"\n";
        expect_error(reason, "catalog.unknown_material", "funeral");
        let empty = reason.replace("[\"death-proof\"]", "[]");
        expect_error(&empty, "catalog.empty", "funeral");
    }

    #[test]
    fn file_level_errors() {
        let error = load("[[item]\nid = 1").expect_err("syntax error");
        assert_eq!(error.code(), "catalog.syntax");
        assert!(error.message(Lang::ZhCn).contains("bad.toml"));
        let error = load("[[service]]\nid = \"x\"\n").expect_err("unknown section");
        assert_eq!(error.code(), "catalog.unknown_section");
        assert!(error.to_string().contains("bad.toml") && error.to_string().contains("service"));
        let unknown_field = item_with("bookable = true", "bookable = true\nbookabel = false");
        expect_error(&unknown_field, "catalog.malformed", "passport-first-issue");

        let missing = std::env::temp_dir().join("onetrip-catalog-does-not-exist");
        let error = Catalog::load_dir(&missing).expect_err("missing dir");
        assert_eq!(error.code(), "catalog.read_dir");
        let empty =
            std::env::temp_dir().join(format!("onetrip-catalog-empty-{}", std::process::id()));
        std::fs::create_dir_all(&empty).expect("temp dir");
        let error = Catalog::load_dir(&empty).expect_err("empty dir");
        assert_eq!(error.code(), "catalog.no_files");
        std::fs::remove_dir_all(&empty).expect("clean up");
    }
}
