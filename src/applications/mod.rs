//! One form, one number, acceptance at one window (R4, R5, R8): the applicant fills one form
//! for any mix of passport and permits, gets one application number (barcoded, "一号到底"),
//! and one officer at one window checks materials, captures photo and fingerprints, verifies
//! face to face, runs the restricted-exit and dual-registration checks, sets the time-limit
//! class and delivery, and accepts (or refuses in writing). The fee is fixed at acceptance.
//!
//! Order of acceptance steps is not forced, but `accept` refuses until every one is done, so
//! nothing is skipped whatever the order an officer works in.

pub mod at_kiosk;
pub mod rules;
mod store;
pub mod web;

/// What other capabilities may read or record through applications's store (the store itself is private).
pub use store::{
    ApplicationRow, application, application_by_no, application_of_ticket, documents,
    event as record_event, events, form_awaiting, latest_notice, next_in_series, open_alerts,
    ticket_issued_at, watch_count,
};

use crate::auth::grant::Intake;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry};
use crate::auth::{Actor, Failure, Grant};
use crate::catalog::{Catalog, DocumentType, TimeLimitClass};
use crate::clock::Clock;
use crate::db::Db;
use crate::devices::{CaptureKind, Devices};
use crate::domain::application_no::ApplicationNo;
use crate::domain::calendar::{CountingRules, Reckoned};
use crate::domain::id_number::{IdNumber, Sex};
use crate::domain::phone::PhoneNumber;
use crate::i18n::{Lang, UserMessage};
use crate::notify::{self, wording};
use crate::privacy::Cipher;
use crate::sites::Site;
use rules::{Applicant, DocumentRequest, FormError, Guardian};

#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub cipher: &'a Cipher,
    pub catalog: &'a Catalog,
    pub calendar: &'a crate::calendar::CalendarHandle,
    pub counting: CountingRules,
    pub devices: &'a Devices,
}

impl TryFrom<String> for Status {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        Status::parse(&s).ok_or_else(|| format!("application status {s}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ApplicationStatus)]
pub enum Status {
    Submitted,
    InAcceptance,
    AwaitingMaterials,
    Accepted,
    Refused,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::InAcceptance => "in_acceptance",
            Status::AwaitingMaterials => "awaiting_materials",
            Status::Accepted => "accepted",
            Status::Refused => "refused",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Submitted,
            Status::InAcceptance,
            Status::AwaitingMaterials,
            Status::Accepted,
            Status::Refused,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Status::Submitted => lang.pick("已填表，待受理", "Form filled, awaiting acceptance"),
            Status::InAcceptance => lang.pick("受理中", "Being accepted"),
            Status::AwaitingMaterials => lang.pick("待补齐材料", "Waiting for materials"),
            Status::Accepted => lang.pick("已受理", "Accepted"),
            Status::Refused => lang.pick("不予受理", "Not accepted"),
        }
    }
    /// Acceptance steps can still be recorded.
    fn open(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::InAcceptance | Status::AwaitingMaterials
        )
    }
}

/// Where the applicant fills the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = FormChannel)]
pub enum Channel {
    Kiosk,
    Mobile,
    Window,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Kiosk => "kiosk",
            Channel::Mobile => "mobile",
            Channel::Window => "window",
        }
    }
}

/// How the finished documents reach the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    Pickup {
        site_id: i64,
    },
    Express {
        recipient: String,
        phone: String,
        address: String,
    },
}

/// A filled form before it is stored.
#[derive(Debug, Clone)]
pub struct FormInput {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: PhoneNumber,
    pub address: String,
    pub ethnicity: String,
    /// The identity data came from the ID-card reader (not typed).
    pub from_card_reader: bool,
    pub registered_state_personnel: bool,
    pub unit_consent: bool,
    pub work_unit: Option<String>,
    pub guardian: Option<Guardian>,
    pub documents: Vec<DocumentRequest>,
    pub lang: Lang,
}

/// What the officer chooses when accepting.
#[derive(Debug, Clone)]
pub struct Acceptance {
    pub class: TimeLimitClass,
    /// Green-channel reason code from the catalog (expedited only).
    pub emergency_reason: Option<String>,
    /// The supporting document seen (e.g. "death certificate no. …").
    pub emergency_proof: Option<String>,
    pub delivery: Delivery,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationError {
    #[error("form: {0}")]
    Form(#[from] FormError),
    #[error("{0}")]
    BadValue(crate::i18n::BadValue),
    #[error("no such window")]
    NoSuchWindow,
    #[error("name needed")]
    NameNeeded,
    #[error("address needed")]
    AddressNeeded,
    #[error("no such application")]
    NoSuchApplication,
    #[error("not an officer at this site")]
    OtherSite,
    #[error("application already {0:?}")]
    Closed(Status),
    #[error("materials incomplete")]
    MaterialsIncomplete,
    #[error("unknown material")]
    UnknownMaterial(String),
    #[error("capture missing")]
    CaptureMissing(CaptureKind),
    #[error("fingerprint exemption only under 16")]
    ExemptionNotAllowed,
    #[error("face not verified")]
    FaceNotVerified,
    #[error("checks not run")]
    ChecksNotRun,
    #[error("cannot be accepted at this window")]
    CannotAcceptHere,
    #[error("emergency reason needed")]
    EmergencyReasonNeeded,
    #[error("not eligible for the green channel")]
    NotEmergencyEligible(DocumentType),
    #[error("express address needed")]
    ExpressAddressNeeded,
    #[error("no such pickup site")]
    NoSuchPickupSite,
    #[error("reasons needed")]
    ReasonsNeeded,
    #[error("device: {0}")]
    Device(String),
    #[error("no promised date: {0}")]
    NoPromisedDate(String),
}

impl UserMessage for ApplicationError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            ApplicationError::NoSuchApplication => axum::http::StatusCode::NOT_FOUND,
            ApplicationError::OtherSite => axum::http::StatusCode::FORBIDDEN,
            ApplicationError::Closed(_) => axum::http::StatusCode::CONFLICT,
            _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    fn code(&self) -> &'static str {
        use ApplicationError::*;
        match self {
            Form(e) => e.code(),
            BadValue(e) => e.code(),
            NoSuchWindow => "application.no_such_window",
            NameNeeded => "application.name_needed",
            AddressNeeded => "application.address_needed",
            NoSuchApplication => "application.not_found",
            OtherSite => "application.other_site",
            Closed(_) => "application.closed",
            MaterialsIncomplete => "application.materials_incomplete",
            UnknownMaterial(_) => "application.unknown_material",
            CaptureMissing(_) => "application.capture_missing",
            ExemptionNotAllowed => "application.exemption_not_allowed",
            FaceNotVerified => "application.face_not_verified",
            ChecksNotRun => "application.checks_not_run",
            CannotAcceptHere => "application.cannot_accept_here",
            EmergencyReasonNeeded => "application.emergency_reason_needed",
            NotEmergencyEligible(_) => "application.not_emergency_eligible",
            ExpressAddressNeeded => "application.express_address_needed",
            NoSuchPickupSite => "application.no_such_pickup_site",
            ReasonsNeeded => "application.reasons_needed",
            Device(_) => "application.device",
            NoPromisedDate(_) => "application.no_promised_date",
        }
    }

    fn message(&self, lang: Lang) -> String {
        use ApplicationError::*;
        let zh = lang == Lang::ZhCn;
        match self {
            Form(e) => e.message(lang),
            BadValue(e) => e.message(lang),
            NoSuchWindow => lang
                .pick(
                    "本办证点没有这个窗口，请核对窗口号。",
                    "There is no such window at this site; check the window number.",
                )
                .into(),
            NameNeeded => lang.pick("请填写姓名。", "Enter the name.").into(),
            AddressNeeded => lang
                .pick("请填写户籍地址。", "Enter the household-registration address.")
                .into(),
            NoSuchApplication => lang
                .pick("没有这个申请编号，请核对。", "There is no application with that number; please check it.")
                .into(),
            OtherSite => lang
                .pick("您在该申请所在办证点没有受理权限。", "You are not an acceptance officer at this application's site.")
                .into(),
            Closed(s) => {
                if zh {
                    format!("该申请{}，不能再修改。", s.name(lang))
                } else {
                    format!("This application is already {}; it cannot be changed.", s.name(lang).to_lowercase())
                }
            }
            MaterialsIncomplete => lang
                .pick("材料尚未核对齐全，请先核对材料（缺件请出具一次性告知书）。", "The materials are not all checked; check them first (issue a one-time notice for what is missing).")
                .into(),
            UnknownMaterial(m) => {
                if zh { format!("没有这项材料：{m}。") } else { format!("There is no such material: {m}.") }
            }
            CaptureMissing(CaptureKind::Photo) => lang
                .pick("请先采集证件照片。", "Capture the document photo first.")
                .into(),
            CaptureMissing(CaptureKind::Fingerprint) => lang
                .pick("请先采集指纹（未满16周岁可由监护人决定免采）。", "Capture the fingerprints first (under 16 the guardian may decline).")
                .into(),
            ExemptionNotAllowed => lang
                .pick("年满16周岁的申请人须采集指纹。", "Fingerprints are required from age 16.")
                .into(),
            FaceNotVerified => lang
                .pick("请先完成人证当面核验。", "Verify the applicant face to face first.")
                .into(),
            ChecksNotRun => lang
                .pick("请先完成出境管控和双重户籍核查。", "Run the restricted-exit and dual-registration checks first.")
                .into(),
            CannotAcceptHere => lang
                .pick("该申请无法在本窗口受理，请稍候，工作人员将为您说明。", "This application cannot be accepted at this window. Please wait; a member of staff will explain.")
                .into(),
            EmergencyReasonNeeded => lang
                .pick("加急（绿色通道）须选择紧急事由并登记证明材料。", "Expedited handling needs an emergency reason and its proof.")
                .into(),
            NotEmergencyEligible(d) => {
                if zh { format!("{}的此项业务不适用绿色通道。", d.name(lang)) } else { format!("This {} application cannot use the green channel.", d.name(lang)) }
            }
            ExpressAddressNeeded => lang
                .pick("邮寄须填写收件人、电话和地址。", "Express delivery needs a recipient, a phone number and an address.")
                .into(),
            NoSuchPickupSite => lang
                .pick("请选择可领证的办证点。", "Choose a site where documents can be collected.")
                .into(),
            ReasonsNeeded => lang
                .pick("不予受理须写明理由和依据。", "A refusal needs its reasons and basis.")
                .into(),
            Device(d) => {
                if zh { format!("采集设备未响应：{d}。请重试或更换设备。") } else { format!("The capture device did not answer: {d}. Try again or use another device.") }
            }
            NoPromisedDate(d) => {
                if zh { format!("无法计算承诺办结日期（{d}），请联系管理员更新节假日数据。") } else { format!("The promised date cannot be computed ({d}); ask an administrator to update the holiday data.") }
            }
        }
    }
}

type Result<T> = std::result::Result<T, Failure<ApplicationError>>;

fn refused<T>(e: ApplicationError) -> Result<T> {
    Err(Failure::Refused(e))
}

/// Stores the form and gives it its number. Nothing is stored unless every rule holds.
pub async fn submit_form(
    ctx: &Ctx<'_>,
    site: &Site,
    channel: Channel,
    input: FormInput,
) -> Result<store::ApplicationRow> {
    let today = ctx.clock.today();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return refused(ApplicationError::NameNeeded);
    }
    let address = input.address.trim().to_string();
    if address.is_empty() {
        return refused(ApplicationError::AddressNeeded);
    }
    let applicant = applicant_of(&input);
    let items = rules::check_form(ctx.catalog, today, &applicant, &input.documents)
        .map_err(|e| Failure::Refused(e.into()))?;
    let site_code: u16 = site
        .code
        .parse()
        .map_err(|_| Failure::Internal(format!("site code {} is not numeric", site.code)))?;
    let now = ctx.clock.now_ms();
    let date = today.to_string();
    let mut tx = ctx.db.begin().await?;
    let seq = store::next_in_series(&mut tx, site.id, &date, "application").await?;
    let seq = u32::try_from(seq).map_err(|_| Failure::Internal("sequence overflow".into()))?;
    let number = ApplicationNo::new(today, site_code, seq)
        .map_err(|e| Failure::Internal(format!("application number: {e:?}")))?;
    let token = crate::crypto::random_token()[..24].to_string();
    let sex = match input.id_number.sex() {
        Sex::Male => "male",
        Sex::Female => "female",
    };
    let guardian = input.guardian.as_ref();
    let id = store::insert_application(
        &mut tx,
        &store::NewApplication {
            application_no: number.as_str(),
            token: &token,
            site_id: site.id,
            form_date: &date,
            channel: channel.code(),
            id_index: ctx.cipher.blind_index(input.id_number.as_str()).newest(),
            id_sealed: ctx.cipher.seal(input.id_number.as_str()),
            name_sealed: ctx.cipher.seal(&name),
            phone_sealed: ctx.cipher.seal(input.phone.as_str()),
            address_sealed: ctx.cipher.seal(&address),
            sex,
            birth_date: &input.id_number.birth_date().to_string(),
            ethnicity: input.ethnicity.trim(),
            id_source: if input.from_card_reader {
                "card_reader"
            } else {
                "typed"
            },
            state_personnel: input.registered_state_personnel,
            unit_consent: input.unit_consent,
            work_unit: input.work_unit.as_deref().map(str::trim),
            guardian_name_sealed: guardian.map(|g| ctx.cipher.seal(g.name.trim())),
            guardian_id_sealed: guardian.map(|g| ctx.cipher.seal(g.id_number.as_str())),
            guardian_relation: guardian.map(|g| g.relation.trim().to_string()),
            guardian_entrusted: guardian.is_some_and(|g| g.entrusted),
            lang: input.lang.code(),
            now,
        },
    )
    .await?;
    for (position, (request, item)) in input.documents.iter().zip(&items).enumerate() {
        let doc_id = store::insert_document(
            &mut tx,
            id,
            position as i64,
            request,
            &item.id,
            request
                .old_number
                .as_ref()
                .map(|n| ctx.cipher.seal(n.as_str())),
        )
        .await?;
        for option in &request.endorsements {
            store::insert_endorsement(&mut tx, doc_id, option).await?;
        }
    }
    store::event(
        &mut tx,
        id,
        now,
        "form_submitted",
        None,
        serde_json::json!({"channel": channel.code()}),
    )
    .await?;
    tx.commit().await?;
    store::application(ctx.db.reader(), id)
        .await?
        .ok_or_else(|| Failure::Internal("application vanished".into()))
}

fn applicant_of(input: &FormInput) -> Applicant {
    Applicant {
        id_number: input.id_number.clone(),
        registered_state_personnel: input.registered_state_personnel,
        unit_consent: input.unit_consent,
        work_unit: input.work_unit.clone(),
        guardian: input.guardian.clone(),
    }
}

/// An application with its personal data opened and its documents, for the officer, the
/// printed form and the receipt.
#[derive(Debug, Clone)]
pub struct Dossier {
    pub row: store::ApplicationRow,
    pub no: ApplicationNo,
    pub status: Status,
    pub name: String,
    pub id_number: IdNumber,
    pub phone: PhoneNumber,
    pub address: String,
    pub guardian: Option<Guardian>,
    pub documents: Vec<DocumentRequest>,
    pub items: Vec<String>,
    /// Delivery chosen at acceptance.
    pub delivery: Option<Delivery>,
}

impl Dossier {
    pub fn applicant(&self) -> Applicant {
        Applicant {
            id_number: self.id_number.clone(),
            registered_state_personnel: self.row.state_personnel != 0,
            unit_consent: self.row.unit_consent != 0,
            work_unit: self.row.work_unit.clone(),
            guardian: self.guardian.clone(),
        }
    }

    /// Every material this application needs (the window's checklist), as of the form date.
    pub fn materials<'c>(&self, catalog: &'c Catalog) -> Vec<&'c crate::catalog::Material> {
        let date = self.no.date();
        let items: Vec<_> = self.items.iter().filter_map(|i| catalog.item(i)).collect();
        rules::materials(catalog, date, &self.applicant(), &self.documents, &items)
    }

    /// Material ids the officer ticked as present.
    pub fn materials_present(&self) -> Vec<String> {
        self.row
            .materials_checked
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }

    pub fn age_on(&self, date: Date) -> i16 {
        self.id_number.age_on(date)
    }
}

/// Loads and opens an application by its number (`None` if there is none).
pub async fn dossier(ctx: &Ctx<'_>, no: &ApplicationNo) -> Result<Option<Dossier>> {
    match store::application_by_no(ctx.db.reader(), no.as_str()).await? {
        Some(row) => Ok(Some(open_dossier(ctx, row).await?)),
        None => Ok(None),
    }
}

/// Loads and opens an application by its form token (the printed form's and receipt's QR).
pub async fn dossier_by_token(ctx: &Ctx<'_>, token: &str) -> Result<Option<Dossier>> {
    match store::application_by_token(ctx.db.reader(), token).await? {
        Some(row) => Ok(Some(open_dossier(ctx, row).await?)),
        None => Ok(None),
    }
}

async fn open_dossier(ctx: &Ctx<'_>, row: store::ApplicationRow) -> Result<Dossier> {
    // Erased after its retention period (src/retention): nothing of the person is left to open.
    if crate::privacy::is_erased(&row.id_sealed) {
        return Err(Failure::Refused(ApplicationError::NoSuchApplication));
    }
    let open = |b: &[u8]| {
        ctx.cipher
            .open(b)
            .map_err(|e| Failure::Internal(format!("sealed data: {e:?}")))
    };
    let bad = |what: &str| Failure::Internal(format!("stored {what} does not parse"));
    let no = ApplicationNo::parse(&row.application_no).map_err(|_| bad("number"))?;
    let id_number = IdNumber::parse(&open(&row.id_sealed)?).map_err(|_| bad("ID number"))?;
    let phone = PhoneNumber::parse(&open(&row.phone_sealed)?).map_err(|_| bad("phone"))?;
    let guardian = match (&row.guardian_name_sealed, &row.guardian_id_sealed) {
        (Some(n), Some(i)) => Some(Guardian {
            name: open(n)?,
            id_number: IdNumber::parse(&open(i)?).map_err(|_| bad("guardian ID"))?,
            relation: row.guardian_relation.clone().unwrap_or_default(),
            entrusted: row.guardian_entrusted != 0,
        }),
        _ => None,
    };
    let mut documents = Vec::new();
    let mut items = Vec::new();
    for d in store::documents(ctx.db.reader(), row.id).await? {
        let old_number = match &d.old_number_sealed {
            Some(s) => Some(
                crate::domain::document_number::DocumentNumber::parse(
                    rules::document_kind(d.document_type),
                    &open(s)?,
                )
                .map_err(|_| bad("document number"))?,
            ),
            None => None,
        };
        items.push(d.item_id.clone());
        documents.push(DocumentRequest {
            document: d.document_type,
            category: d.category,
            old_number,
            old_document: d.old_state.as_deref().and_then(rules::OldDocument::parse),
            endorsements: store::endorsements(ctx.db.reader(), d.id)
                .await?
                .into_iter()
                .map(|e| e.0)
                .collect(),
            annotations: u8::try_from(d.annotations).unwrap_or(0),
        });
    }
    let delivery = match row.delivery.as_deref() {
        Some("pickup") => row
            .pickup_site_id
            .map(|site_id| Delivery::Pickup { site_id }),
        Some("express") => match &row.express_sealed {
            Some(s) => serde_json::from_str(&open(s)?).ok(),
            None => None,
        },
        _ => None,
    };
    Ok(Dossier {
        status: row.status,
        name: open(&row.name_sealed)?,
        address: open(&row.address_sealed)?,
        no,
        id_number,
        phone,
        guardian,
        documents,
        items,
        delivery,
        row,
    })
}

/// The officer opens an application (scan or typed number) and starts acceptance; the read is
/// audited, the start time recorded, and the ticket the window is serving linked, so the time
/// from ticket to receipt can be measured (R5 item 6).
pub async fn start_acceptance(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
    window_id: Option<i64>,
) -> Result<Dossier> {
    let actor = grant.actor();
    let d = reload(ctx, no).await?;
    let fresh = d.status.open() && d.row.acceptance_started_at.is_none();
    // R12 (issue 14 §5): any site accepts. A form nobody has started on moves to the site of
    // the officer who takes it up: the window they are at, or their only site.
    let site_id = if grant.covers(d.row.site_id) {
        d.row.site_id
    } else if !fresh {
        return refused(ApplicationError::OtherSite);
    } else {
        match (window_id, grant.sites()) {
            (Some(w), _) => match crate::sites::window(ctx.db.reader(), w).await? {
                Some(window) if grant.covers(window.site_id) => window.site_id,
                _ => return refused(ApplicationError::NoSuchWindow),
            },
            (None, Some([only])) => *only,
            _ => return refused(ApplicationError::OtherSite),
        }
    };
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "application.open", "application", no.as_str(), now).site(site_id),
    )
    .await?;
    // The window the officer says they are at must be one of this site's (issue 12 item 11).
    if let Some(w) = window_id {
        match crate::sites::window(&mut *tx, w).await? {
            Some(window) if window.site_id == site_id => {}
            _ => return refused(ApplicationError::NoSuchWindow),
        }
    }
    if site_id != d.row.site_id {
        if !store::move_site(&mut tx, d.row.id, d.row.site_id, site_id).await? {
            return refused(ApplicationError::OtherSite);
        }
        let detail = serde_json::json!({"from": d.row.site_id, "to": site_id});
        store::event(
            &mut tx,
            d.row.id,
            now,
            "site_moved",
            Some(actor.staff_id),
            detail.clone(),
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEntry::by(
                actor,
                "application.site_moved",
                "application",
                no.as_str(),
                now,
            )
            .site(site_id)
            .detail(detail),
        )
        .await?;
    }
    if d.status.open() && d.row.acceptance_started_at.is_none() {
        let ticket = match window_id {
            Some(w) => crate::queue::current_at_window(&mut *tx, w, &ctx.clock.today().to_string())
                .await?
                .map(|t| t.id),
            None => None,
        };
        store::start(&mut tx, d.row.id, actor.staff_id, window_id, ticket, now).await?;
        store::event(
            &mut tx,
            d.row.id,
            now,
            "acceptance_started",
            Some(actor.staff_id),
            serde_json::json!({"window": window_id, "ticket": ticket}),
        )
        .await?;
    }
    tx.commit().await?;
    reload(ctx, no).await
}

async fn reload(ctx: &Ctx<'_>, no: &ApplicationNo) -> Result<Dossier> {
    dossier(ctx, no)
        .await?
        .ok_or(Failure::Refused(ApplicationError::NoSuchApplication))
}

async fn officer_dossier(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
) -> Result<Dossier> {
    let d = reload(ctx, no).await?;
    if !grant.covers(d.row.site_id) {
        return refused(ApplicationError::OtherSite);
    }
    Ok(d)
}

async fn open_dossier_for_step(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
) -> Result<Dossier> {
    let d = officer_dossier(ctx, grant, no).await?;
    if !d.status.open() {
        return refused(ApplicationError::Closed(d.status));
    }
    Ok(d)
}

/// What a material check found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaterialCheck {
    pub complete: bool,
    /// Material ids still missing; when not empty a one-time notice was issued for all of them.
    pub missing: Vec<String>,
    pub notice_id: Option<i64>,
}

/// The actor's grant to take in applications; "other site" when the actor has none.
pub fn intake(actor: &Actor) -> Result<Grant<'_, Intake>> {
    actor.grant_or(ApplicationError::OtherSite)
}

/// Records which required materials the applicant has; every missing one goes into one
/// one-time notice (一次性告知), sent by SMS too, and the application waits for them.
pub async fn check_materials(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
    present: &[String],
) -> Result<MaterialCheck> {
    let actor = grant.actor();
    let d = open_dossier_for_step(ctx, grant, no).await?;
    let required = d.materials(ctx.catalog);
    if let Some(unknown) = present
        .iter()
        .find(|p| !required.iter().any(|m| &m.id == *p))
    {
        return refused(ApplicationError::UnknownMaterial(unknown.clone()));
    }
    let missing: Vec<String> = required
        .iter()
        .filter(|m| !present.contains(&m.id))
        .map(|m| m.id.clone())
        .collect();
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let present_json = serde_json::to_string(present).unwrap_or_else(|_| "[]".into());
    let status = if missing.is_empty() {
        Status::InAcceptance
    } else {
        Status::AwaitingMaterials
    };
    store::set_materials(&mut tx, d.row.id, &present_json, status.code()).await?;
    let notice_id = if missing.is_empty() {
        None
    } else {
        let id = store::insert_notice(&mut tx, d.row.id, actor.staff_id, &missing, now).await?;
        let lang = d.row.lang;
        let names: Vec<&str> = missing
            .iter()
            .filter_map(|m| ctx.catalog.material(m))
            .map(|m| m.name.get(lang))
            .collect();
        let body = message_one_time_notice(lang, no.as_str(), &names);
        notify::enqueue(
            &mut tx,
            ctx.cipher,
            notify::Outgoing {
                kind: "application.one_time_notice",
                reference: no.as_str(),
                phone: &d.phone,
                body: &body,
                due_at: now,
            },
            now,
        )
        .await?;
        Some(id)
    };
    store::event(
        &mut tx,
        d.row.id,
        now,
        if missing.is_empty() {
            "materials_complete"
        } else {
            "one_time_notice"
        },
        Some(actor.staff_id),
        serde_json::json!({"missing": missing}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(
            actor,
            "application.materials",
            "application",
            no.as_str(),
            now,
        )
        .site(d.row.site_id)
        .detail(serde_json::json!({"missing": missing})),
    )
    .await?;
    tx.commit().await?;
    Ok(MaterialCheck {
        complete: missing.is_empty(),
        missing,
        notice_id,
    })
}

/// Captures the photo or the fingerprints through the window's station and keeps the
/// reference and quality (never the raw biometric).
pub async fn capture(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
    kind: CaptureKind,
) -> Result<crate::devices::Capture> {
    let actor = grant.actor();
    let d = open_dossier_for_step(ctx, grant, no).await?;
    let result = ctx
        .devices
        .station
        .capture(kind, no.as_str())
        .map_err(|e| Failure::Refused(ApplicationError::Device(e.to_string())))?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::set_capture(&mut tx, d.row.id, kind, &result.reference, result.quality).await?;
    store::event(
        &mut tx,
        d.row.id,
        now,
        &format!("{}_captured", kind.code()),
        Some(actor.staff_id),
        serde_json::json!({"reference": result.reference, "quality": result.quality}),
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

/// Under 16, the guardian may decline fingerprints (exit-entry.md §2.3); the reason is kept.
pub async fn exempt_fingerprints(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
    reason: &str,
) -> Result<()> {
    let actor = grant.actor();
    let d = open_dossier_for_step(ctx, grant, no).await?;
    if d.age_on(ctx.clock.today()) >= rules::GUARDIAN_BELOW_AGE {
        return refused(ApplicationError::ExemptionNotAllowed);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return refused(ApplicationError::ReasonsNeeded);
    }
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::set_fingerprint_exempt(&mut tx, d.row.id, reason).await?;
    store::event(
        &mut tx,
        d.row.id,
        now,
        "fingerprint_exempted",
        Some(actor.staff_id),
        serde_json::json!({"reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The officer confirms the person in front of them is the applicant (人证核验).
pub async fn verify_face(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
) -> Result<()> {
    let actor = grant.actor();
    let d = open_dossier_for_step(ctx, grant, no).await?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::set_face_verified(&mut tx, d.row.id, now).await?;
    store::event(
        &mut tx,
        d.row.id,
        now,
        "face_verified",
        Some(actor.staff_id),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Outcome of the restricted-exit and dual-registration checks, as the officer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Clear,
    /// Acceptance stops; the duty leader is alerted. The applicant is told only that the
    /// application cannot be accepted at this window.
    Stopped,
}

/// Runs the checks (R5, [003 一]) against the watch list by blind index. A hit stops
/// acceptance, raises an alert for the duty leader and is audited; the kind of hit is not
/// shown at the window.
pub async fn run_checks(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
) -> Result<CheckOutcome> {
    let actor = grant.actor();
    let d = open_dossier_for_step(ctx, grant, no).await?;
    // From the sealed number, not the stored index: while a key rotation's rebuild runs, the
    // watch list may hold the person under the form before the application's.
    let person = ctx
        .cipher
        .blind_index_of_sealed(&d.row.id_sealed)
        .map_err(|_| Failure::Internal("the applicant's ID number does not open".into()))?;
    let hits = store::watch_hits(ctx.db.reader(), &person).await?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::set_checks(&mut tx, d.row.id, hits.is_empty(), now).await?;
    for kind in &hits {
        store::insert_alert(&mut tx, d.row.id, d.row.site_id, kind, actor.staff_id, now).await?;
    }
    store::event(
        &mut tx,
        d.row.id,
        now,
        if hits.is_empty() {
            "checks_clear"
        } else {
            "checks_stopped"
        },
        Some(actor.staff_id),
        serde_json::json!({}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "application.checks", "application", no.as_str(), now)
            .site(d.row.site_id)
            .detail(serde_json::json!({"hits": hits})),
    )
    .await?;
    tx.commit().await?;
    if hits.is_empty() {
        Ok(CheckOutcome::Clear)
    } else {
        ctx.db.publish(
            "leader.alert",
            serde_json::json!({"site": d.row.site_id, "application": no.as_str()}),
        );
        Ok(CheckOutcome::Stopped)
    }
}

/// The bill and promised dates an acceptance on `date` would fix.
#[derive(Debug, Clone)]
pub struct Terms {
    pub fee_lines: Vec<rules::FeeLine>,
    pub fee_fen: i64,
    /// Per document, in form order.
    pub promised: Vec<Reckoned>,
    /// The latest: documents are handed over together. Provisional if any document's is.
    pub promised_date: Reckoned,
}

pub fn terms(
    ctx: &Ctx<'_>,
    d: &Dossier,
    class: TimeLimitClass,
    date: Date,
) -> std::result::Result<Terms, ApplicationError> {
    let items: Vec<_> = d.items.iter().filter_map(|i| ctx.catalog.item(i)).collect();
    let fee_lines = rules::fee_lines(ctx.catalog, date, &d.documents, &items)
        .map_err(|e| ApplicationError::NoPromisedDate(e.to_string()))?;
    let calendar = ctx.calendar.current();
    let promised = items
        .iter()
        .map(|item| {
            rules::promised_date(&calendar, &ctx.counting, item, class, date)
                .map_err(|e| ApplicationError::NoPromisedDate(e.to_string()))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let promised_date =
        latest(&promised).ok_or_else(|| ApplicationError::NoPromisedDate("no document".into()))?;
    Ok(Terms {
        fee_fen: fee_lines.iter().map(|l| l.fen).sum(),
        fee_lines,
        promised,
        promised_date,
    })
}

/// The application's promised date from its documents': the latest, provisional if any is.
pub fn latest(promised: &[Reckoned]) -> Option<Reckoned> {
    let date = promised.iter().map(|r| r.date).max()?;
    Some(Reckoned {
        date,
        provisional: promised.iter().any(|r| r.provisional),
    })
}

/// Accepts the application: every step must be done; the fee in force today and the promised
/// date are fixed on the application; the receipt SMS goes out with the same commit.
pub async fn accept(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
    acceptance: Acceptance,
) -> Result<Dossier> {
    let actor = grant.actor();
    let d = open_dossier_for_step(ctx, grant, no).await?;
    let r = &d.row;
    let missing = d
        .materials(ctx.catalog)
        .iter()
        .any(|m| !d.materials_present().contains(&m.id));
    if r.materials_checked.is_none() || missing {
        return refused(ApplicationError::MaterialsIncomplete);
    }
    // A re-endorsement changes nothing on the permit's data page, so it needs no new photo or
    // fingerprints (the kiosks issue it from the records, exit-entry.md §6); and a permit that
    // came in by two-way express (R10) was checked against its holder when it was issued.
    let endorsement_only = d
        .documents
        .iter()
        .all(|x| x.category == crate::catalog::ApplicationCategory::Endorsement);
    if r.photo_ref.is_none() && !endorsement_only {
        return refused(ApplicationError::CaptureMissing(CaptureKind::Photo));
    }
    if r.fingerprint_ref.is_none() && r.fingerprint_exempt.is_none() && !endorsement_only {
        return refused(ApplicationError::CaptureMissing(CaptureKind::Fingerprint));
    }
    let by_mail = endorsement_only && store::inbound_permit_received(ctx.db.reader(), r.id).await?;
    if r.face_verified_at.is_none() && !by_mail {
        return refused(ApplicationError::FaceNotVerified);
    }
    match r.checks_clear {
        None => return refused(ApplicationError::ChecksNotRun),
        Some(0) => return refused(ApplicationError::CannotAcceptHere),
        Some(_) => {}
    }
    let (reason, proof) = if acceptance.class == TimeLimitClass::Expedited {
        let reason = acceptance
            .emergency_reason
            .as_deref()
            .map(str::trim)
            .filter(|c| ctx.catalog.emergency_reason(c).is_some());
        let proof = acceptance
            .emergency_proof
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let (Some(reason), Some(proof)) = (reason, proof) else {
            return refused(ApplicationError::EmergencyReasonNeeded);
        };
        for (doc, item) in d.documents.iter().zip(&d.items) {
            if !ctx.catalog.item(item).is_some_and(|i| i.emergency_eligible) {
                return refused(ApplicationError::NotEmergencyEligible(doc.document));
            }
        }
        (Some(reason.to_string()), Some(proof.to_string()))
    } else {
        (None, None)
    };
    let (pickup_site, express) = match &acceptance.delivery {
        Delivery::Pickup { site_id } => {
            let site = crate::sites::site(ctx.db.reader(), *site_id).await?;
            match site {
                Some(s) if s.active && s.kind != crate::sites::SiteKind::KioskPoint => {
                    (Some(*site_id), None)
                }
                _ => return refused(ApplicationError::NoSuchPickupSite),
            }
        }
        Delivery::Express {
            recipient,
            phone,
            address,
        } => {
            let phone = PhoneNumber::parse(phone)
                .map_err(|_| Failure::Refused(ApplicationError::ExpressAddressNeeded))?;
            if recipient.trim().is_empty() || address.trim().is_empty() {
                return refused(ApplicationError::ExpressAddressNeeded);
            }
            let json = serde_json::to_string(&Delivery::Express {
                recipient: recipient.trim().into(),
                phone: phone.as_str().into(),
                address: address.trim().into(),
            })
            .map_err(|e| Failure::Internal(e.to_string()))?;
            (None, Some(ctx.cipher.seal(&json)))
        }
    };
    let today = ctx.clock.today();
    let terms = terms(ctx, &d, acceptance.class, today).map_err(Failure::Refused)?;
    let now = ctx.clock.now_ms();
    let mut tx = ctx.db.begin().await?;
    let done = store::accept(
        &mut tx,
        &store::Accepted {
            id: r.id,
            version: r.version,
            class: acceptance.class.code(),
            emergency_reason: reason.as_deref(),
            emergency_proof: proof.as_deref(),
            delivery: match acceptance.delivery {
                Delivery::Pickup { .. } => "pickup",
                Delivery::Express { .. } => "express",
            },
            pickup_site_id: pickup_site,
            express_sealed: express,
            fee_fen: terms.fee_fen,
            fee_date: &today.to_string(),
            promised_date: &terms.promised_date.date.to_string(),
            promised_provisional: terms.promised_date.provisional,
            officer_id: Some(actor.staff_id),
            now,
        },
    )
    .await?;
    if !done {
        // Someone else changed it since it was read: nothing is written.
        return refused(ApplicationError::Closed(Status::Accepted));
    }
    store::fix_document_terms(&mut tx, r.id, no.as_str(), &terms, now).await?;
    store::event(
        &mut tx,
        r.id,
        now,
        "accepted",
        Some(actor.staff_id),
        serde_json::json!({
            "class": acceptance.class.code(),
            "fee_fen": terms.fee_fen,
            "promised_date": terms.promised_date.date.to_string(),
            "promised_provisional": terms.promised_date.provisional,
            "emergency_reason": reason,
        }),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "application.accept", "application", no.as_str(), now)
            .site(r.site_id),
    )
    .await?;
    let lang = r.lang;
    let body = message_accepted(lang, no.as_str(), terms.fee_fen, &terms.promised_date);
    notify::enqueue(
        &mut tx,
        ctx.cipher,
        notify::Outgoing {
            kind: "application.accepted",
            reference: no.as_str(),
            phone: &d.phone,
            body: &body,
            due_at: now,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    ctx.db.publish(
        "application.accepted",
        serde_json::json!({"site": r.site_id, "application": no.as_str()}),
    );
    reload(ctx, no).await
}

/// A written refusal to accept (不予受理): reasons and their basis, printed for the applicant.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Refusal {
    pub reasons: Vec<String>,
    pub basis: String,
    pub officer: String,
    pub at: i64,
}

pub async fn refuse(
    ctx: &Ctx<'_>,
    grant: &Grant<'_, Intake>,
    no: &ApplicationNo,
    reasons: Vec<String>,
    basis: &str,
) -> Result<Refusal> {
    let actor = grant.actor();
    let d = open_dossier_for_step(ctx, grant, no).await?;
    let reasons: Vec<String> = reasons
        .into_iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    let basis = basis.trim();
    if reasons.is_empty() || basis.is_empty() {
        return refused(ApplicationError::ReasonsNeeded);
    }
    let now = ctx.clock.now_ms();
    let refusal = Refusal {
        reasons,
        basis: basis.to_string(),
        officer: format!("{} ({})", actor.display_name, actor.badge_no),
        at: now,
    };
    let json = serde_json::to_string(&refusal).map_err(|e| Failure::Internal(e.to_string()))?;
    let mut tx = ctx.db.begin().await?;
    if !store::refuse(&mut tx, d.row.id, d.row.version, &json, actor.staff_id, now).await? {
        return refused(ApplicationError::Closed(Status::Refused));
    }
    store::event(
        &mut tx,
        d.row.id,
        now,
        "refused",
        Some(actor.staff_id),
        serde_json::json!({"reasons": refusal.reasons, "basis": refusal.basis}),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "application.refuse", "application", no.as_str(), now)
            .site(d.row.site_id),
    )
    .await?;
    tx.commit().await?;
    Ok(refusal)
}

/// A watch-list line from the administrator's CSV: `id_number,kind,note`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("line {0}: the ID number does not pass its checksum")]
    IdNumber(usize),
    #[error("line {0}: kind must be restricted_exit or dual_registration")]
    Kind(usize),
    #[error("line {0}: expected id_number,kind,note")]
    Shape(usize),
}

impl UserMessage for ImportError {
    fn code(&self) -> &'static str {
        "watch_list.import"
    }
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ImportError::IdNumber(n), Lang::ZhCn) => {
                format!("第{n}行：身份证号码校验不通过。未导入任何记录。")
            }
            (ImportError::Kind(n), Lang::ZhCn) => {
                format!("第{n}行：类别须为 restricted_exit 或 dual_registration。未导入任何记录。")
            }
            (ImportError::Shape(n), Lang::ZhCn) => {
                format!("第{n}行：格式应为 身份证号码,类别,备注。未导入任何记录。")
            }
            (ImportError::IdNumber(n), Lang::En) => {
                format!("Line {n}: the ID number fails its checksum. Nothing was imported.")
            }
            (ImportError::Kind(n), Lang::En) => format!(
                "Line {n}: kind must be restricted_exit or dual_registration. Nothing was imported."
            ),
            (ImportError::Shape(n), Lang::En) => {
                format!("Line {n}: expected id_number,kind,note. Nothing was imported.")
            }
        }
    }
}

/// Imports the demo watch list from CSV, all or nothing (an administrator action, audited).
/// Lines starting with `#` and a header line starting `id_number` are skipped.
pub async fn import_watch_list(
    ctx: &Ctx<'_>,
    admin: crate::auth::AdminCap<'_>,
    csv: &str,
) -> std::result::Result<usize, Failure<ImportError>> {
    let mut entries = Vec::new();
    for (i, line) in csv.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("id_number") {
            continue;
        }
        let mut parts = line.splitn(3, ',');
        let (Some(id), Some(kind)) = (parts.next(), parts.next()) else {
            return Err(Failure::Refused(ImportError::Shape(n)));
        };
        let note = parts.next().unwrap_or("").trim();
        let id =
            IdNumber::parse(id.trim()).map_err(|_| Failure::Refused(ImportError::IdNumber(n)))?;
        let kind = kind.trim();
        if !matches!(kind, "restricted_exit" | "dual_registration") {
            return Err(Failure::Refused(ImportError::Kind(n)));
        }
        entries.push((
            ctx.cipher.blind_index(id.as_str()).newest().to_owned(),
            kind.to_string(),
            note.to_string(),
        ));
    }
    let now = ctx.clock.now_ms();
    let actor = admin.actor();
    let mut tx = ctx.db.begin().await?;
    for (index, kind, note) in &entries {
        store::upsert_watch(&mut tx, index, kind, note, actor.staff_id, now).await?;
    }
    audit::record(
        &mut tx,
        AuditEntry::by(actor, "watch_list.import", "watch_list", "", now)
            .detail(serde_json::json!({"entries": entries.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(entries.len())
}

/// A promised date moved (or confirmed) by a newly entered holiday notice (issue 11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PromisedChange {
    pub application_no: String,
    pub old: String,
    pub new: String,
    /// Still provisional after the change (counted into another year without a notice).
    pub provisional: bool,
    /// The citizen was sent a text (the date moved).
    pub texted: bool,
}

/// Recomputes, on `calendar`, the promised dates a notice for `year` may move: documents still
/// owed whose date is provisional or falls in that year. Each application in one transaction;
/// its citizen gets one text when the application's date moves. Returns the changes and how
/// many provisional dates were confirmed unchanged. Idempotent.
pub async fn recompute_promised_dates(
    ctx: &Ctx<'_>,
    calendar: &crate::domain::calendar::HolidayCalendar,
    year: i16,
) -> std::result::Result<(Vec<PromisedChange>, usize), sqlx::Error> {
    let rows = store::open_promises(
        ctx.db.reader(),
        &format!("{year:04}-01-01"),
        &format!("{year:04}-12-31"),
    )
    .await?;
    let mut changes = Vec::new();
    let mut confirmed = 0;
    let mut rest = rows.as_slice();
    while let Some(first) = rest.first() {
        let n = rest
            .iter()
            .take_while(|r| r.application_id == first.application_id)
            .count();
        let (docs, tail) = rest.split_at(n);
        rest = tail;
        let mut moved = Vec::new();
        for doc in docs {
            let recomputed = ctx.catalog.item(&doc.item_id).and_then(|item| {
                let class = TimeLimitClass::ALL
                    .into_iter()
                    .find(|c| Some(c.code()) == doc.time_limit_class.as_deref())?;
                let accepted: Date = doc.fee_date.as_deref()?.parse().ok()?;
                rules::promised_date(calendar, &ctx.counting, item, class, accepted).ok()
            });
            let Some(new) = recomputed else {
                // Our own data does not allow a recomputation: say so, leave the date.
                tracing::error!(document = doc.document_id, "promised date not recomputed");
                continue;
            };
            let old = doc.promised_date.as_deref().unwrap_or_default();
            if new.date.to_string() != old || new.provisional != doc.promised_provisional {
                if new.date.to_string() == old && !new.provisional {
                    confirmed += 1;
                }
                moved.push((doc.document_id, new));
            }
        }
        if moved.is_empty() {
            continue;
        }
        let now = ctx.clock.now_ms();
        let mut tx = ctx.db.begin().await?;
        for (id, new) in &moved {
            store::set_document_promise(&mut tx, *id, new).await?;
        }
        let all: Vec<Reckoned> = store::documents(&mut *tx, first.application_id)
            .await?
            .iter()
            .filter_map(|d| {
                Some(Reckoned {
                    date: d.promised_date.as_deref()?.parse().ok()?,
                    provisional: d.promised_provisional,
                })
            })
            .collect();
        let Some(app) = latest(&all) else {
            continue;
        };
        store::set_application_promise(&mut tx, first.application_id, &app).await?;
        let old = first.app_promised_date.clone().unwrap_or_default();
        let moves = app.date.to_string() != old;
        if moves {
            store::event(
                &mut tx,
                first.application_id,
                now,
                "promised_date_changed",
                None,
                serde_json::json!({"from": old, "to": app.date.to_string(), "provisional": app.provisional, "year": year}),
            )
            .await?;
            let lang = Lang::from_code(&first.lang).unwrap_or_default();
            let phone = ctx
                .cipher
                .open(&first.phone_sealed)
                .ok()
                .and_then(|p| PhoneNumber::parse(&p).ok());
            if let Some(phone) = phone {
                let body = message_promised_moved(lang, &first.application_no, year, &old, &app);
                notify::enqueue(
                    &mut tx,
                    ctx.cipher,
                    notify::Outgoing {
                        kind: "application.promised_changed",
                        reference: &first.application_no,
                        phone: &phone,
                        body: &body,
                        due_at: now,
                    },
                    now,
                )
                .await?;
            } else {
                tracing::error!(application = %first.application_no, "stored phone unreadable; change not texted");
            }
        }
        tx.commit().await?;
        if moves {
            changes.push(PromisedChange {
                application_no: first.application_no.clone(),
                old,
                new: app.date.to_string(),
                provisional: app.provisional,
                texted: true,
            });
        }
    }
    Ok((changes, confirmed))
}

/// The one-time notice (一次性告知) by text: every missing material, at once.
pub fn message_one_time_notice(lang: Lang, no: &str, missing: &[&str]) -> String {
    match lang {
        Lang::ZhCn => format!(
            "【出入境】一次性告知：您的申请（受理编号{no}）尚缺以下{}项材料：{}。请补齐后到任一窗口出示受理编号，即可继续办理。",
            missing.len(),
            missing.join("；")
        ),
        Lang::En => format!(
            "[Exit-Entry] One-time notice: your application {no} still lacks the following (this is the complete list): {}. Bring what is missing to any window and show this application number to continue.",
            missing.join("; ")
        ),
    }
}

/// The acceptance receipt by text: the application number, the fee and the promised date.
pub fn message_accepted(lang: Lang, no: &str, fee_fen: i64, promised: &Reckoned) -> String {
    let fee = wording::yuan(lang, fee_fen);
    let date = wording::date(lang, promised.date);
    let year = promised.date.year();
    let when = match (lang, promised.provisional) {
        (Lang::ZhCn, false) => format!("承诺于{date}前办结"),
        (Lang::ZhCn, true) => {
            format!("预计于{date}前办结（该日期待国务院公布{year}年节假日安排后确认）")
        }
        (Lang::En, false) => format!("We promise to finish it by {date}"),
        (Lang::En, true) => format!(
            "We expect to finish it by {date}; the date will be confirmed once the State Council publishes the {year} public holidays"
        ),
    };
    match lang {
        Lang::ZhCn => format!(
            "【出入境】您的申请已受理，受理编号{no}，应缴费用{fee}，{when}。凭受理编号和身份证号码可查询办理进度。"
        ),
        Lang::En => format!(
            "[Exit-Entry] Your application is accepted. Application number: {no}. Fee: {fee}. {when}. Track its progress with this number and your ID number."
        ),
    }
}

/// The text telling a citizen their promised date moved with the year's holiday notice.
pub fn message_promised_moved(
    lang: Lang,
    no: &str,
    year: i16,
    old: &str,
    new: &Reckoned,
) -> String {
    let old = wording::stored_date(lang, old);
    let date = wording::date(lang, new.date);
    let next = new.date.year();
    let new = match (lang, new.provisional) {
        (_, false) => date,
        (Lang::ZhCn, true) => {
            format!("预计{date}（待国务院公布{next}年节假日安排后确认）")
        }
        (Lang::En, true) => format!(
            "{date} (expected; to be confirmed once the State Council publishes the {next} public holidays)"
        ),
    };
    match lang {
        Lang::ZhCn => format!(
            "【出入境】国务院已公布{year}年节假日安排，您的申请（受理编号{no}）承诺办结日期由{old}调整为{new}。"
        ),
        Lang::En => format!(
            "[Exit-Entry] The State Council has published the {year} public holidays, so the promised date of your application {no} moves from {old} to {new}."
        ),
    }
}
