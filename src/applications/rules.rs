//! The one-form rules (R4, R5, R8), pure: which document/category/endorsement combinations the
//! catalog allows for an applicant, the materials each needs, the fee in force on a date, and
//! the promised date from the working-day calendar. No I/O, so every rule is unit-tested.

use jiff::civil::Date;

use crate::catalog::{
    ApplicantSituation, ApplicationCategory, Catalog, DayUnit, DocumentType, FeeRule, Material,
    ServiceItem, TimeLimitClass,
};
use crate::domain::calendar::{CountingRules, HolidayCalendar, Reckoned};
use crate::domain::document_number::{DocumentKind, DocumentNumber};
use crate::domain::id_number::IdNumber;
use crate::i18n::{Lang, UserMessage};

/// Age from which an applicant applies without a guardian (exit-entry.md §2.3).
pub const GUARDIAN_BELOW_AGE: i16 = 16;
/// A guardian is an adult.
const ADULT_AGE: i16 = 18;
/// Stickers of one passport annotation application (护照加注, 20 元/枚, exit-entry.md §3).
const MAX_ANNOTATIONS: u8 = 5;

/// What became of the document the applicant held before (decides 换发/补发 materials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OldDocument {
    /// Still held and handed in (换发, 加注, 签注).
    Held,
    Lost,
    Stolen,
    Damaged,
    /// Expired and brought along (失效重新申领).
    Expired,
}

impl OldDocument {
    pub const ALL: [OldDocument; 5] = [
        OldDocument::Held,
        OldDocument::Lost,
        OldDocument::Stolen,
        OldDocument::Damaged,
        OldDocument::Expired,
    ];
    pub fn code(self) -> &'static str {
        match self {
            OldDocument::Held => "held",
            OldDocument::Lost => "lost",
            OldDocument::Stolen => "stolen",
            OldDocument::Damaged => "damaged",
            OldDocument::Expired => "expired",
        }
    }
    pub fn parse(s: &str) -> Option<OldDocument> {
        OldDocument::ALL.into_iter().find(|o| o.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            OldDocument::Held => lang.pick("持有原证件", "Holds the current document"),
            OldDocument::Lost => lang.pick("遗失", "Lost"),
            OldDocument::Stolen => lang.pick("被盗", "Stolen"),
            OldDocument::Damaged => lang.pick("损毁", "Damaged"),
            OldDocument::Expired => lang.pick("已过期（携带）", "Expired (brought along)"),
        }
    }
}

/// One document applied for on the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRequest {
    pub document: DocumentType,
    pub category: ApplicationCategory,
    /// Number of the current document when the item needs it (换发, 加注, 签注).
    pub old_number: Option<DocumentNumber>,
    pub old_document: Option<OldDocument>,
    /// Endorsement option ids (permits only).
    pub endorsements: Vec<String>,
    /// Annotation stickers (加注 only).
    pub annotations: u8,
}

/// The guardian of an under-16 applicant (exit-entry.md §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardian {
    pub name: String,
    pub id_number: IdNumber,
    pub relation: String,
    /// The guardian cannot come and entrusts an accompanying person (委托书).
    pub entrusted: bool,
}

/// The facts about the applicant the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub id_number: IdNumber,
    pub registered_state_personnel: bool,
    /// The applicant confirms the work unit's consent letter (同意办理出入境证件的意见).
    pub unit_consent: bool,
    pub work_unit: Option<String>,
    pub guardian: Option<Guardian>,
}

/// Why a form cannot be taken as filled in. Each says what to change, in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("no document")]
    NoDocument,
    #[error("document twice")]
    DocumentTwice(DocumentType),
    #[error("category not offered")]
    CategoryNotOffered(DocumentType, ApplicationCategory),
    #[error("old number needed")]
    OldNumberNeeded(DocumentType),
    #[error("old number of another document")]
    OldNumberWrongKind(DocumentType),
    #[error("loss reason needed")]
    LossReasonNeeded(DocumentType),
    #[error("endorsement needed")]
    EndorsementNeeded(DocumentType),
    #[error("endorsements not allowed")]
    EndorsementsNotAllowed(DocumentType),
    #[error("unknown endorsement option")]
    UnknownEndorsement(String),
    #[error("endorsement not on this permit")]
    EndorsementOtherPermit(String),
    #[error("endorsement type twice")]
    EndorsementTypeTwice(String),
    #[error("endorsement not available")]
    EndorsementUnavailable(String),
    #[error("annotations out of range")]
    Annotations,
    #[error("{0}")]
    NotCitizenId(crate::domain::id_number::NotCitizenId),
    #[error("guardian needed")]
    GuardianNeeded,
    #[error("guardian not adult")]
    GuardianNotAdult,
    #[error("unit consent needed")]
    UnitConsentNeeded,
}

impl UserMessage for FormError {
    fn code(&self) -> &'static str {
        match self {
            FormError::NoDocument => "form.no_document",
            FormError::NotCitizenId(e) => e.code(),
            FormError::DocumentTwice(_) => "form.document_twice",
            FormError::CategoryNotOffered(..) => "form.category_not_offered",
            FormError::OldNumberNeeded(_) => "form.old_number_needed",
            FormError::OldNumberWrongKind(_) => "form.old_number_wrong_kind",
            FormError::LossReasonNeeded(_) => "form.loss_reason_needed",
            FormError::EndorsementNeeded(_) => "form.endorsement_needed",
            FormError::EndorsementsNotAllowed(_) => "form.endorsements_not_allowed",
            FormError::UnknownEndorsement(_) => "form.unknown_endorsement",
            FormError::EndorsementOtherPermit(_) => "form.endorsement_other_permit",
            FormError::EndorsementTypeTwice(_) => "form.endorsement_type_twice",
            FormError::EndorsementUnavailable(_) => "form.endorsement_unavailable",
            FormError::Annotations => "form.annotations",
            FormError::GuardianNeeded => "form.guardian_needed",
            FormError::GuardianNotAdult => "form.guardian_not_adult",
            FormError::UnitConsentNeeded => "form.unit_consent_needed",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            FormError::NotCitizenId(e) => e.message(lang),
            FormError::NoDocument => lang
                .pick(
                    "请至少选择一种证件。",
                    "Choose at least one document to apply for.",
                )
                .into(),
            FormError::DocumentTwice(d) => {
                if zh {
                    format!("{}只能申请一次。", d.name(lang))
                } else {
                    format!("The {} can be applied for only once.", d.name(lang))
                }
            }
            FormError::CategoryNotOffered(d, c) => {
                if zh {
                    format!("{}没有“{}”这项业务。", d.name(lang), c.name(lang))
                } else {
                    format!(
                        "“{}” is not offered for the {}.",
                        c.name(lang),
                        d.name(lang)
                    )
                }
            }
            FormError::OldNumberNeeded(d) => {
                if zh {
                    format!("请填写现持{}的证件号码。", d.name(lang))
                } else {
                    format!("Enter the number of your current {}.", d.name(lang))
                }
            }
            FormError::OldNumberWrongKind(d) => {
                if zh {
                    format!("填写的号码不是{}号码，请核对。", d.name(lang))
                } else {
                    format!("That is not a {} number; please check it.", d.name(lang))
                }
            }
            FormError::LossReasonNeeded(d) => {
                if zh {
                    format!("补发{}请选择原证件遗失、被盗还是损毁。", d.name(lang))
                } else {
                    format!(
                        "For a replacement {} say whether the old one was lost, stolen or damaged.",
                        d.name(lang)
                    )
                }
            }
            FormError::EndorsementNeeded(d) => {
                if zh {
                    format!("申请{}签注请至少选择一种签注。", d.name(lang))
                } else {
                    format!("Choose at least one endorsement for the {}.", d.name(lang))
                }
            }
            FormError::EndorsementsNotAllowed(d) => {
                if zh {
                    format!("{}不能同时申请签注。", d.name(lang))
                } else {
                    format!(
                        "Endorsements cannot be applied for with the {}.",
                        d.name(lang)
                    )
                }
            }
            FormError::UnknownEndorsement(o) => {
                if zh {
                    format!("没有这种签注：{o}。")
                } else {
                    format!("There is no such endorsement: {o}.")
                }
            }
            FormError::EndorsementOtherPermit(o) => {
                if zh {
                    format!("签注 {o} 不属于所选通行证。")
                } else {
                    format!("Endorsement {o} belongs to the other permit.")
                }
            }
            FormError::EndorsementTypeTwice(o) => {
                if zh {
                    format!("同一种签注只能选一项（{o}）。")
                } else {
                    format!("Choose one option per endorsement type ({o}).")
                }
            }
            FormError::EndorsementUnavailable(o) => {
                if zh {
                    format!("签注 {o} 目前不予受理。")
                } else {
                    format!("Endorsement {o} is not issued at present.")
                }
            }
            FormError::Annotations => {
                if zh {
                    format!("加注项数应为 1 至 {MAX_ANNOTATIONS} 项。")
                } else {
                    format!("Annotations must number 1 to {MAX_ANNOTATIONS}.")
                }
            }
            FormError::GuardianNeeded => lang
                .pick(
                    "未满16周岁的申请人须填写监护人姓名、身份证号码和关系，并由监护人陪同。",
                    "Applicants under 16 must name their guardian (name, ID number, relation) and come with them.",
                )
                .into(),
            FormError::GuardianNotAdult => lang
                .pick(
                    "监护人须年满18周岁，且不能是申请人本人。",
                    "The guardian must be 18 or over and not the applicant.",
                )
                .into(),
            FormError::UnitConsentNeeded => lang
                .pick(
                    "登记备案的国家工作人员须填写工作单位并确认已取得单位同意办理的意见。",
                    "Registered state personnel must give their work unit and confirm its consent letter.",
                )
                .into(),
        }
    }
}

/// The document kind of a catalog document type (for old-number parsing).
pub fn document_kind(document: DocumentType) -> DocumentKind {
    match document {
        DocumentType::Passport => DocumentKind::Passport,
        DocumentType::HkMacaoPermit => DocumentKind::HkMacaoPermit,
        DocumentType::TaiwanPermit => DocumentKind::TaiwanPermit,
    }
}

/// Checks the whole form against the catalog as of `date`; on success returns the catalog
/// item of each document, in form order.
pub fn check_form<'c>(
    catalog: &'c Catalog,
    date: Date,
    applicant: &Applicant,
    documents: &[DocumentRequest],
) -> Result<Vec<&'c ServiceItem>, FormError> {
    applicant
        .id_number
        .require_citizen()
        .map_err(FormError::NotCitizenId)?;
    if documents.is_empty() {
        return Err(FormError::NoDocument);
    }
    let age = applicant.id_number.age_on(date);
    if age < GUARDIAN_BELOW_AGE {
        let guardian = applicant
            .guardian
            .as_ref()
            .filter(|g| !g.name.trim().is_empty() && !g.relation.trim().is_empty())
            .ok_or(FormError::GuardianNeeded)?;
        if guardian.id_number.age_on(date) < ADULT_AGE || guardian.id_number == applicant.id_number
        {
            return Err(FormError::GuardianNotAdult);
        }
    }
    if applicant.registered_state_personnel
        && (!applicant.unit_consent
            || applicant
                .work_unit
                .as_deref()
                .is_none_or(|u| u.trim().is_empty()))
    {
        return Err(FormError::UnitConsentNeeded);
    }
    let mut items = Vec::with_capacity(documents.len());
    for (i, request) in documents.iter().enumerate() {
        if documents[..i]
            .iter()
            .any(|d| d.document == request.document)
        {
            return Err(FormError::DocumentTwice(request.document));
        }
        items.push(check_document(catalog, date, request)?);
    }
    Ok(items)
}

fn check_document<'c>(
    catalog: &'c Catalog,
    date: Date,
    request: &DocumentRequest,
) -> Result<&'c ServiceItem, FormError> {
    let document = request.document;
    let item = request
        .category
        .applies_to(document)
        .then(|| catalog.item_for(document, request.category))
        .flatten()
        .ok_or(FormError::CategoryNotOffered(document, request.category))?;
    if item.needs_old_document_number {
        let number = request
            .old_number
            .as_ref()
            .ok_or(FormError::OldNumberNeeded(document))?;
        if number.kind() != document_kind(document) {
            return Err(FormError::OldNumberWrongKind(document));
        }
    }
    if request.category == ApplicationCategory::Replacement
        && !matches!(
            request.old_document,
            Some(OldDocument::Lost | OldDocument::Stolen | OldDocument::Damaged)
        )
    {
        return Err(FormError::LossReasonNeeded(document));
    }
    if request.category == ApplicationCategory::Annotation
        && !(1..=MAX_ANNOTATIONS).contains(&request.annotations)
    {
        return Err(FormError::Annotations);
    }
    let endorsement_item = request.category == ApplicationCategory::Endorsement;
    let may_endorse = item.endorsements_allowed || endorsement_item;
    if !request.endorsements.is_empty() && !may_endorse {
        return Err(FormError::EndorsementsNotAllowed(document));
    }
    if endorsement_item && request.endorsements.is_empty() {
        return Err(FormError::EndorsementNeeded(document));
    }
    let mut types = Vec::new();
    for option_id in &request.endorsements {
        let (spec, option) = catalog
            .endorsement_option(option_id)
            .ok_or_else(|| FormError::UnknownEndorsement(option_id.clone()))?;
        if spec.endorsement_type.document() != document {
            return Err(FormError::EndorsementOtherPermit(option_id.clone()));
        }
        if types.contains(&spec.endorsement_type) {
            return Err(FormError::EndorsementTypeTwice(option_id.clone()));
        }
        if spec.is_suspended_on(date) || !option.is_available_on(date) {
            return Err(FormError::EndorsementUnavailable(option_id.clone()));
        }
        types.push(spec.endorsement_type);
    }
    Ok(item)
}

/// The facts the catalog's material conditions look at, for one document of the form.
pub fn situation(
    applicant: &Applicant,
    request: &DocumentRequest,
    date: Date,
) -> ApplicantSituation {
    let age = applicant
        .id_number
        .age_on(date)
        .clamp(0, i16::from(u8::MAX));
    ApplicantSituation {
        age: u8::try_from(age).unwrap_or(u8::MAX),
        registered_state_personnel: applicant.registered_state_personnel,
        active_military: false,
        proxy: applicant.guardian.as_ref().is_some_and(|g| g.entrusted),
        has_old_document: matches!(
            request.old_document,
            Some(OldDocument::Held | OldDocument::Expired | OldDocument::Damaged)
        ),
        document_lost: matches!(
            request.old_document,
            Some(OldDocument::Lost | OldDocument::Stolen)
        ),
        document_damaged: request.old_document == Some(OldDocument::Damaged),
        endorsement_types: Vec::new(),
        endorsement_options: request.endorsements.clone(),
    }
}

/// Every material the whole application needs, once each, in first-seen order (the checklist
/// at the window and the content of a one-time notice).
pub fn materials<'c>(
    catalog: &'c Catalog,
    date: Date,
    applicant: &Applicant,
    documents: &[DocumentRequest],
    items: &[&ServiceItem],
) -> Vec<&'c Material> {
    let mut out: Vec<&Material> = Vec::new();
    for (request, item) in documents.iter().zip(items) {
        for material in catalog.materials_for(item, &situation(applicant, request, date)) {
            if !out.iter().any(|m| m.id == material.id) {
                out.push(material);
            }
        }
    }
    out
}

/// One line of the bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeLine {
    pub document: DocumentType,
    /// `None` for the document itself, else the endorsement option id.
    pub endorsement: Option<String>,
    pub fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no fee in force for {what} on {date}")]
pub struct MissingFee {
    pub what: String,
    pub date: Date,
}

/// The bill of the form under the fees in force on `date` (exit-entry.md §3: the fee of the
/// acceptance date is kept even if the fee changes later; expedited handling costs nothing
/// extra).
pub fn fee_lines(
    catalog: &Catalog,
    date: Date,
    documents: &[DocumentRequest],
    items: &[&ServiceItem],
) -> Result<Vec<FeeLine>, MissingFee> {
    let missing = |what: &str| MissingFee {
        what: what.to_string(),
        date,
    };
    let mut lines = Vec::new();
    for (request, item) in documents.iter().zip(items) {
        let own = match &item.fee {
            FeeRule::Document => Some(
                catalog
                    .fee_on(request.document, date)
                    .ok_or_else(|| missing(request.document.code()))?,
            ),
            FeeRule::PerAnnotation(schedule) => Some(
                catalog
                    .schedule_fee_on(schedule, date)
                    .ok_or_else(|| missing(schedule))?
                    * i64::from(request.annotations),
            ),
            FeeRule::PerEndorsementOption => None,
        };
        if let Some(fen) = own {
            lines.push(FeeLine {
                document: request.document,
                endorsement: None,
                fen,
            });
        }
        for option in &request.endorsements {
            lines.push(FeeLine {
                document: request.document,
                endorsement: Some(option.clone()),
                fen: catalog
                    .endorsement_fee(option, date)
                    .ok_or_else(|| missing(option))?,
            });
        }
    }
    Ok(lines)
}

/// Why no promised date can be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DueError {
    #[error("{0} has no {1} time limit")]
    NoLimit(String, TimeLimitClass),
    #[error("calendar: {0}")]
    Calendar(String),
}

/// The promised date of one document: the item's time limit for the class, counted from the
/// acceptance day (not counted) in working or calendar days (exit-entry.md §4); a period in
/// calendar days (the 20-day cross-province limit) that ends on a rest day ends on the next
/// working day (民法典 第二百零三条). An item without a cross-province limit (endorsements are
/// the same everywhere since 全国通办, §4.2) uses its normal limit. Provisional when a day it
/// counts lies in a year without the State Council's notice (issue 11).
pub fn promised_date(
    calendar: &HolidayCalendar,
    rules: &CountingRules,
    item: &ServiceItem,
    class: TimeLimitClass,
    accepted_on: Date,
) -> Result<Reckoned, DueError> {
    let limit = item
        .time_limit(class)
        .or_else(|| {
            (class == TimeLimitClass::CrossProvince)
                .then(|| item.time_limit(TimeLimitClass::Normal))
                .flatten()
        })
        .ok_or_else(|| DueError::NoLimit(item.id.clone(), class))?;
    match limit.unit {
        DayUnit::WorkingDays => calendar.add_working_days(accepted_on, limit.days, rules),
        DayUnit::CalendarDays => calendar.add_calendar_days(accepted_on, limit.days),
    }
    .map_err(|e| DueError::Calendar(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::EndorsementType;

    fn catalog() -> Catalog {
        Catalog::load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog")).expect("catalog")
    }

    fn calendar() -> HolidayCalendar {
        HolidayCalendar::load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/calendar"))
            .expect("calendar")
    }

    fn d(s: &str) -> Date {
        s.parse().expect("date")
    }

    fn adult() -> Applicant {
        Applicant {
            id_number: IdNumber::parse("110101199003078670").expect("id"),
            registered_state_personnel: false,
            unit_consent: false,
            work_unit: None,
            guardian: None,
        }
    }

    fn child() -> Applicant {
        // Synthetic: 110101 + 2015-06-01 + 123 + check digit.
        let first17 = "11010120150601123";
        let check = IdNumber::check_digit_for(first17).expect("check");
        Applicant {
            id_number: IdNumber::parse(&format!("{first17}{check}")).expect("id"),
            ..adult()
        }
    }

    fn request(document: DocumentType, category: ApplicationCategory) -> DocumentRequest {
        DocumentRequest {
            document,
            category,
            old_number: None,
            old_document: None,
            endorsements: vec![],
            annotations: 0,
        }
    }

    fn ids(materials: &[&Material]) -> Vec<String> {
        materials.iter().map(|m| m.id.clone()).collect()
    }

    fn materials_of(applicant: &Applicant, documents: &[DocumentRequest]) -> Vec<String> {
        let catalog = catalog();
        let date = d("2026-11-25");
        let items = check_form(&catalog, date, applicant, documents).expect("form");
        ids(&materials(&catalog, date, applicant, documents, &items))
    }

    #[test]
    fn under_16_needs_a_guardian_and_brings_guardianship_proof() {
        let catalog = catalog();
        let date = d("2026-11-25");
        let docs = [request(
            DocumentType::Passport,
            ApplicationCategory::FirstIssue,
        )];
        assert_eq!(
            check_form(&catalog, date, &child(), &docs),
            Err(FormError::GuardianNeeded)
        );
        let mut with_child_guardian = child();
        with_child_guardian.guardian = Some(Guardian {
            name: "王五".into(),
            id_number: child().id_number,
            relation: "父亲".into(),
            entrusted: false,
        });
        assert_eq!(
            check_form(&catalog, date, &with_child_guardian, &docs),
            Err(FormError::GuardianNotAdult)
        );
        let mut ok = child();
        ok.guardian = Some(Guardian {
            name: "王五".into(),
            id_number: adult().id_number,
            relation: "父亲".into(),
            entrusted: false,
        });
        let m = materials_of(&ok, &docs);
        assert!(m.contains(&"guardianship-proof".to_string()), "{m:?}");
        assert!(m.contains(&"guardian-id".to_string()), "{m:?}");
        assert!(!m.contains(&"guardian-entrustment".to_string()), "{m:?}");
        // An adult needs none of them.
        let m = materials_of(&adult(), &docs);
        assert!(!m.contains(&"guardianship-proof".to_string()), "{m:?}");
        // The guardian who cannot come entrusts someone: the entrustment letter is added.
        ok.guardian.as_mut().expect("guardian").entrusted = true;
        let m = materials_of(&ok, &docs);
        assert!(m.contains(&"guardian-entrustment".to_string()), "{m:?}");
    }

    #[test]
    fn state_personnel_confirm_unit_consent_and_bring_the_letter() {
        let catalog = catalog();
        let date = d("2026-11-25");
        let docs = [request(
            DocumentType::Passport,
            ApplicationCategory::FirstIssue,
        )];
        let mut a = adult();
        a.registered_state_personnel = true;
        assert_eq!(
            check_form(&catalog, date, &a, &docs),
            Err(FormError::UnitConsentNeeded)
        );
        a.unit_consent = true;
        a.work_unit = Some("示范市财政局".into());
        let m = materials_of(&a, &docs);
        assert!(m.contains(&"unit-consent-letter".to_string()), "{m:?}");
        assert!(!materials_of(&adult(), &docs).contains(&"unit-consent-letter".to_string()));
    }

    #[test]
    fn renewal_needs_the_old_document_number_of_the_same_document() {
        let catalog = catalog();
        let date = d("2026-11-25");
        let mut r = request(DocumentType::Passport, ApplicationCategory::Renewal);
        assert_eq!(
            check_form(&catalog, date, &adult(), std::slice::from_ref(&r)),
            Err(FormError::OldNumberNeeded(DocumentType::Passport))
        );
        r.old_number = Some(
            DocumentNumber::parse(DocumentKind::HkMacaoPermit, "CA1234567").expect("permit no"),
        );
        assert_eq!(
            check_form(&catalog, date, &adult(), std::slice::from_ref(&r)),
            Err(FormError::OldNumberWrongKind(DocumentType::Passport))
        );
        r.old_number =
            Some(DocumentNumber::parse(DocumentKind::Passport, "E12345678").expect("passport no"));
        r.old_document = Some(OldDocument::Held);
        let m = materials_of(&adult(), &[r]);
        assert!(m.contains(&"original-document".to_string()), "{m:?}");
    }

    #[test]
    fn replacement_after_a_loss_needs_the_loss_statement_not_the_damaged_document() {
        let catalog = catalog();
        let date = d("2026-11-25");
        let mut r = request(DocumentType::Passport, ApplicationCategory::Replacement);
        assert_eq!(
            check_form(&catalog, date, &adult(), std::slice::from_ref(&r)),
            Err(FormError::LossReasonNeeded(DocumentType::Passport))
        );
        r.old_document = Some(OldDocument::Lost);
        let m = materials_of(&adult(), std::slice::from_ref(&r));
        assert!(m.contains(&"loss-statement".to_string()), "{m:?}");
        assert!(!m.contains(&"damaged-document".to_string()), "{m:?}");
        r.old_document = Some(OldDocument::Damaged);
        let m = materials_of(&adult(), &[r]);
        assert!(m.contains(&"damaged-document".to_string()), "{m:?}");
    }

    #[test]
    fn endorsements_belong_to_their_permit_and_come_once_per_type() {
        let catalog = catalog();
        let date = d("2026-11-25");
        let mut r = request(DocumentType::HkMacaoPermit, ApplicationCategory::FirstIssue);
        r.endorsements = vec!["hk-macao-t-3m-once".into()];
        assert!(check_form(&catalog, date, &adult(), std::slice::from_ref(&r)).is_ok());
        r.endorsements.push("hk-macao-t-1y-multi".into());
        assert_eq!(
            check_form(&catalog, date, &adult(), std::slice::from_ref(&r)),
            Err(FormError::EndorsementTypeTwice(
                "hk-macao-t-1y-multi".into()
            ))
        );
        let mut p = request(DocumentType::Passport, ApplicationCategory::FirstIssue);
        p.endorsements = vec!["hk-macao-t-3m-once".into()];
        assert_eq!(
            check_form(&catalog, date, &adult(), &[p]),
            Err(FormError::EndorsementsNotAllowed(DocumentType::Passport))
        );
        let taiwan = catalog
            .endorsement_types(DocumentType::TaiwanPermit)
            .first()
            .and_then(|s| s.options.first())
            .map(|o| o.id.clone())
            .expect("a Taiwan option");
        let mut t = request(
            DocumentType::HkMacaoPermit,
            ApplicationCategory::Endorsement,
        );
        t.old_number =
            Some(DocumentNumber::parse(DocumentKind::HkMacaoPermit, "CA1234567").expect("no"));
        assert_eq!(
            check_form(&catalog, date, &adult(), std::slice::from_ref(&t)),
            Err(FormError::EndorsementNeeded(DocumentType::HkMacaoPermit))
        );
        t.endorsements = vec![taiwan.clone()];
        assert_eq!(
            check_form(&catalog, date, &adult(), &[t]),
            Err(FormError::EndorsementOtherPermit(taiwan))
        );
        // Annotation is a passport-only category (exit-entry.md §2.1).
        let a = request(DocumentType::TaiwanPermit, ApplicationCategory::Annotation);
        assert_eq!(
            check_form(&catalog, date, &adult(), &[a]),
            Err(FormError::CategoryNotOffered(
                DocumentType::TaiwanPermit,
                ApplicationCategory::Annotation
            ))
        );
        let twice = [
            request(DocumentType::Passport, ApplicationCategory::FirstIssue),
            request(DocumentType::Passport, ApplicationCategory::FirstIssue),
        ];
        assert_eq!(
            check_form(&catalog, date, &adult(), &twice),
            Err(FormError::DocumentTwice(DocumentType::Passport))
        );
        assert_eq!(
            check_form(&catalog, date, &adult(), &[]),
            Err(FormError::NoDocument)
        );
    }

    #[test]
    fn suspended_taiwan_g_is_refused() {
        let catalog = catalog();
        let spec = catalog
            .endorsement(EndorsementType::TaiwanG)
            .expect("Taiwan G");
        let option = spec.options.first().expect("option").id.clone();
        let mut r = request(DocumentType::TaiwanPermit, ApplicationCategory::Endorsement);
        r.old_number =
            Some(DocumentNumber::parse(DocumentKind::TaiwanPermit, "T12345678").expect("no"));
        r.endorsements = vec![option.clone()];
        assert_eq!(
            check_form(&catalog, d("2026-11-25"), &adult(), &[r]),
            Err(FormError::EndorsementUnavailable(option))
        );
    }

    #[test]
    fn endorsement_materials_join_the_permit_list() {
        let mut r = request(DocumentType::HkMacaoPermit, ApplicationCategory::FirstIssue);
        r.endorsements = vec!["hk-macao-t-3m-once".into()];
        let m = materials_of(&adult(), &[r]);
        assert!(m.contains(&"relative-residence-proof".to_string()), "{m:?}");
        assert!(m.contains(&"relationship-proof".to_string()), "{m:?}");
    }

    fn bill(date: &str, documents: &[DocumentRequest]) -> i64 {
        let catalog = catalog();
        let date = d(date);
        let items = check_form(&catalog, date, &adult(), documents).expect("form");
        fee_lines(&catalog, date, documents, &items)
            .expect("fees")
            .iter()
            .map(|l| l.fen)
            .sum()
    }

    #[test]
    fn fees_of_a_mixed_application_add_up() {
        // Passport 120 + EEP 60 + HK T once 15 + Taiwan permit 60 (exit-entry.md §3).
        let mut hk = request(DocumentType::HkMacaoPermit, ApplicationCategory::FirstIssue);
        hk.endorsements = vec!["hk-macao-t-3m-once".into()];
        let docs = [
            request(DocumentType::Passport, ApplicationCategory::FirstIssue),
            hk,
            request(DocumentType::TaiwanPermit, ApplicationCategory::FirstIssue),
        ];
        assert_eq!(bill("2026-11-25", &docs), 12_000 + 6_000 + 1_500 + 6_000);
        // An endorsement-only application costs the endorsement alone; 加注 is 20 per sticker.
        let mut e = request(
            DocumentType::HkMacaoPermit,
            ApplicationCategory::Endorsement,
        );
        e.old_number =
            Some(DocumentNumber::parse(DocumentKind::HkMacaoPermit, "CA1234567").expect("no"));
        e.endorsements = vec!["hk-macao-t-1y-multi".into()];
        assert_eq!(bill("2026-11-25", &[e]), 8_000);
        let mut a = request(DocumentType::Passport, ApplicationCategory::Annotation);
        a.old_number =
            Some(DocumentNumber::parse(DocumentKind::Passport, "E12345678").expect("no"));
        a.annotations = 2;
        assert_eq!(bill("2026-11-25", &[a]), 4_000);
    }

    #[test]
    fn the_fee_is_the_one_in_force_on_the_acceptance_date() {
        // 2019-07-01: passport 160 → 120, EEP 80 → 60 (发改价格〔2019〕914号, exit-entry.md §3).
        let docs = [
            request(DocumentType::Passport, ApplicationCategory::FirstIssue),
            request(DocumentType::HkMacaoPermit, ApplicationCategory::FirstIssue),
        ];
        assert_eq!(bill("2019-06-30", &docs), 16_000 + 8_000);
        assert_eq!(bill("2019-07-01", &docs), 12_000 + 6_000);
    }

    fn due(item: &str, class: TimeLimitClass, accepted: &str) -> Date {
        let catalog = catalog();
        promised_date(
            &calendar(),
            &CountingRules::default(),
            catalog.item(item).expect("item"),
            class,
            d(accepted),
        )
        .expect("due")
        .date
    }

    #[test]
    fn promised_dates_follow_the_class_and_the_holidays() {
        // Normal, 7 working days: 2026-02-12 (Thu) + 7 = 2026-02-28, the 调休 Saturday
        // (exit-entry.md §4 worked example).
        assert_eq!(
            due("passport-first-issue", TimeLimitClass::Normal, "2026-02-12"),
            d("2026-02-28")
        );
        // Across National Day 2026 (Oct 1–7 off, Sep 20 and Oct 10 worked, §8.2):
        // accepted Wed 2026-09-30 → Oct 8, 9, 10 (Sat, 调休), 12, 13, 14, 15.
        assert_eq!(
            due("passport-first-issue", TimeLimitClass::Normal, "2026-09-30"),
            d("2026-10-15")
        );
        // Cross-province: 20 calendar days, holidays included (§4).
        assert_eq!(
            due(
                "hk-macao-permit-first-issue",
                TimeLimitClass::CrossProvince,
                "2026-09-30"
            ),
            d("2026-10-20")
        );
        // Expedited: 5 working days: Oct 8, 9, 10 (调休), 12, 13.
        assert_eq!(
            due(
                "passport-first-issue",
                TimeLimitClass::Expedited,
                "2026-09-30"
            ),
            d("2026-10-13")
        );
        // An endorsement has no cross-province limit of its own: the normal one applies.
        assert_eq!(
            due(
                "hk-macao-permit-endorsement",
                TimeLimitClass::CrossProvince,
                "2026-11-25"
            ),
            due(
                "hk-macao-permit-endorsement",
                TimeLimitClass::Normal,
                "2026-11-25"
            )
        );
    }

    #[test]
    fn a_calendar_day_limit_ending_on_a_rest_day_moves_to_the_next_working_day() {
        // 民法典 第二百零三条: 2026-09-15 + 20 = Mon 10-05, inside National Day → Thu 10-08.
        assert_eq!(
            due(
                "hk-macao-permit-first-issue",
                TimeLimitClass::CrossProvince,
                "2026-09-15"
            ),
            d("2026-10-08")
        );
        // 2026-11-29 + 20 = Sat 12-19 → Mon 12-21.
        assert_eq!(
            due(
                "passport-first-issue",
                TimeLimitClass::CrossProvince,
                "2026-11-29"
            ),
            d("2026-12-21")
        );
        // Counted into 2027 (no notice shipped): a date, marked provisional.
        let catalog = catalog();
        let late = promised_date(
            &calendar(),
            &CountingRules::default(),
            catalog.item("passport-first-issue").expect("item"),
            TimeLimitClass::CrossProvince,
            d("2026-12-22"),
        )
        .expect("provisional, not refused");
        assert_eq!(late.date, d("2027-01-11"));
        assert!(late.provisional);
        let inside = promised_date(
            &calendar(),
            &CountingRules::default(),
            catalog.item("passport-first-issue").expect("item"),
            TimeLimitClass::Normal,
            d("2026-12-02"),
        )
        .expect("official");
        assert!(!inside.provisional);
    }
}
