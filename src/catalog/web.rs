//! The service guide (办事指南) as public pages and JSON, generated from the catalog data so the
//! two can never disagree (R1: "kept current from the same data").

use crate::web::extract::Path;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Catalog, DocumentType, FeeRule, ServiceItem};
use crate::domain::money::Money;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::sites::SiteKind;
use crate::web::AppState;
use crate::web::layout::Page;

pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/guide", get(guide_index))
        .route("/guide/{id}", get(guide_item))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_items))
        .routes(routes!(api_item))
        .routes(routes!(api_emergency_reasons))
}

/// A service item in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemSummary {
    pub id: String,
    /// `passport`, `hk_macao_permit` or `taiwan_permit`.
    pub document_type: String,
    pub document_name: String,
    /// Application category name (首次申领, 换发, …).
    pub category: String,
    pub name: String,
    pub bookable: bool,
    pub emergency_eligible: bool,
}

/// A material with the situation it applies to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaterialView {
    pub name: String,
    pub note: Option<String>,
    /// Empty when every applicant needs it.
    pub applies_when: String,
    /// Provided free at the window (photo, the form): nothing to bring.
    pub provided_at_window: bool,
}

/// A legal or policy citation as the reader gets it (issue 18 item 9).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cited {
    /// In the request's language where the catalog has a rendering; else the Chinese.
    pub text: String,
    /// The Chinese original beside a rendering (the Chinese is the authority).
    pub original: Option<String>,
    /// No rendering in the request's language: `text` is the Chinese original.
    pub chinese_only: bool,
}

fn cite(catalog: &Catalog, basis: &str, lang: Lang) -> Cited {
    match catalog.basis_in(basis, lang) {
        Some(text) if lang == Lang::ZhCn => Cited {
            text,
            original: None,
            chinese_only: false,
        },
        Some(text) => Cited {
            text,
            original: Some(basis.to_owned()),
            chinese_only: false,
        },
        None => Cited {
            text: basis.to_owned(),
            original: None,
            chinese_only: true,
        },
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimeLimitView {
    /// `normal`, `cross_province` or `expedited`.
    pub class: String,
    pub class_name: String,
    pub days: u32,
    /// "7 个工作日" / "7 working days".
    pub text: String,
    pub basis: Cited,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OptionView {
    pub id: String,
    pub name: String,
    /// Fee in force today, in fen.
    pub fee_fen: Option<i64>,
    pub fee_text: String,
    pub kiosk_eligible: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndorsementView {
    /// e.g. `hk_macao_t`.
    pub code: String,
    pub letter: String,
    pub name: String,
    pub eligibility: Vec<String>,
    pub suspended: bool,
    pub options: Vec<OptionView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SiteRef {
    pub code: String,
    pub name: String,
    pub address: String,
}

/// Everything the public guide says about one service item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub summary: ItemSummary,
    pub basis: Vec<Cited>,
    pub conditions: Vec<String>,
    pub materials: Vec<MaterialView>,
    pub flow: Vec<String>,
    pub time_limits: Vec<TimeLimitView>,
    /// Fee in force today, in fen, when the item has one fee.
    pub fee_fen: Option<i64>,
    pub fee_text: String,
    pub endorsements: Vec<EndorsementView>,
    pub note: Option<String>,
    /// Sites that accept this item (any site accepts any resident's application, R12).
    pub sites: Vec<SiteRef>,
    pub complaint_phone: String,
}

fn summary(item: &ServiceItem, lang: Lang) -> ItemSummary {
    ItemSummary {
        id: item.id.clone(),
        document_type: item.document_type.code().into(),
        document_name: item.document_type.name(lang).into(),
        category: item.category.name(lang).into(),
        name: item.name.get(lang).into(),
        bookable: item.bookable,
        emergency_eligible: item.emergency_eligible,
    }
}

fn money_text(fen: Option<i64>, lang: Lang) -> String {
    match fen.map(Money::from_fen) {
        Some(Ok(m)) if m.fen() == 0 => crate::i18n::t(lang, "guide.free").to_string(),
        Some(Ok(m)) => m.to_string(),
        _ => "-".into(),
    }
}

/// Builds the public view of one item for `date` (fees in force that day).
pub fn item_detail(
    catalog: &Catalog,
    item: &ServiceItem,
    date: jiff::civil::Date,
    lang: Lang,
) -> ItemDetail {
    let materials = item
        .materials
        .iter()
        .filter_map(|req| {
            let m = catalog.material(&req.material)?;
            Some(MaterialView {
                name: m.name.get(lang).into(),
                note: m.note.as_ref().map(|n| n.get(lang).to_string()),
                applies_when: if req.when == super::Condition::Always {
                    String::new()
                } else {
                    catalog.describe_condition(&req.when, lang)
                },
                provided_at_window: m.provided_at_window,
            })
        })
        .collect();
    let time_limits = item
        .time_limits
        .iter()
        .map(|tl| TimeLimitView {
            class: tl.class.code().into(),
            class_name: tl.class.name(lang).into(),
            days: tl.days,
            text: format!("{} {}", tl.days, tl.unit.name(lang)),
            basis: cite(catalog, &tl.basis, lang),
        })
        .collect();
    let (fee_fen, fee_text) = match &item.fee {
        FeeRule::Document => {
            let fen = catalog.fee_on(item.document_type, date);
            let unit = catalog
                .document(item.document_type)
                .and_then(|d| catalog.fee_schedule(&d.fee_schedule))
                .map(|s| s.unit.get(lang).to_string())
                .unwrap_or_default();
            (
                fen,
                format!("{} {}", money_text(fen, lang), unit)
                    .trim()
                    .to_string(),
            )
        }
        FeeRule::PerAnnotation(schedule) => {
            let fen = catalog.schedule_fee_on(schedule, date);
            (
                fen,
                format!(
                    "{} / {}",
                    money_text(fen, lang),
                    crate::i18n::t(lang, "guide.per_item")
                ),
            )
        }
        FeeRule::PerEndorsementOption => (
            None,
            lang.pick(
                "按所申请的签注种类和有效次数收费，见下表",
                "Charged per endorsement by validity and entries; see the table below",
            )
            .to_string(),
        ),
    };
    let endorsements = if item.endorsements_allowed {
        catalog
            .endorsement_types(item.document_type)
            .into_iter()
            .map(|spec| EndorsementView {
                code: spec.endorsement_type.code().into(),
                letter: spec.endorsement_type.letter().to_string(),
                name: spec.name.get(lang).into(),
                eligibility: spec
                    .eligibility
                    .iter()
                    .map(|t| t.get(lang).to_string())
                    .collect(),
                suspended: spec.is_suspended_on(date),
                options: spec
                    .options
                    .iter()
                    .filter(|o| o.is_available_on(date))
                    .map(|o| {
                        let fen = catalog.endorsement_fee(&o.id, date);
                        OptionView {
                            id: o.id.clone(),
                            name: o.name.get(lang).into(),
                            fee_fen: fen,
                            fee_text: money_text(fen, lang),
                            kiosk_eligible: spec.option_kiosk_eligible(o),
                        }
                    })
                    .collect(),
            })
            .collect()
    } else {
        Vec::new()
    };
    ItemDetail {
        summary: summary(item, lang),
        basis: item.basis.iter().map(|b| cite(catalog, b, lang)).collect(),
        conditions: item
            .conditions
            .iter()
            .map(|t| t.get(lang).to_string())
            .collect(),
        materials,
        flow: item.flow.iter().map(|t| t.get(lang).to_string()).collect(),
        time_limits,
        fee_fen,
        fee_text,
        endorsements,
        note: item.note.as_ref().map(|n| n.get(lang).to_string()),
        sites: Vec::new(),
        complaint_phone: String::new(),
    }
}

async fn accepting_sites(
    state: &AppState,
    item: &ServiceItem,
    lang: Lang,
) -> AppResult<Vec<SiteRef>> {
    let endorsement = item.category == super::ApplicationCategory::Endorsement;
    Ok(crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| s.kind != SiteKind::KioskPoint || endorsement)
        .map(|s| SiteRef {
            code: s.code.clone(),
            name: s.name(lang).into(),
            address: s.address(lang).into(),
        })
        .collect())
}

async fn full_detail(state: &AppState, id: &str, lang: Lang) -> AppResult<ItemDetail> {
    let item = state.catalog.item(id).ok_or_else(AppError::not_found)?;
    let mut detail = item_detail(&state.catalog, item, state.clock.today(), lang);
    detail.sites = accepting_sites(state, item, lang).await?;
    detail.complaint_phone = state.config.bureau.complaint_phone.clone();
    Ok(detail)
}

pub struct DocumentGroup {
    pub name: String,
    pub items: Vec<ItemSummary>,
}

/// Items grouped by document type, in catalog order.
pub fn groups(catalog: &Catalog, lang: Lang) -> Vec<DocumentGroup> {
    DocumentType::ALL
        .iter()
        .map(|d| DocumentGroup {
            name: d.name(lang).into(),
            items: catalog
                .items_for(*d)
                .into_iter()
                .map(|i| summary(i, lang))
                .collect(),
        })
        .filter(|g| !g.items.is_empty())
        .collect()
}

/// Where the 预约 button of a service item leads: the booking page on the business line that
/// serves it, that line chosen (`None` when the item cannot be booked).
fn booking_href(state: &AppState, item: &ItemSummary) -> Option<String> {
    if !item.bookable {
        return None;
    }
    state
        .lines
        .bookable()
        .find(|l| l.items.contains(&item.id))
        .map(|l| format!("/appointments?line={}", l.code))
}

#[derive(Template, WebTemplate)]
#[template(path = "guide.html")]
struct GuideIndex {
    page: Page,
    groups: Vec<DocumentGroup>,
    reasons: Vec<String>,
    /// Item id → where its 预约 button leads.
    book: std::collections::HashMap<String, String>,
}

impl GuideIndex {
    fn book_href(&self, item: &str) -> Option<&str> {
        self.book.get(item).map(String::as_str)
    }
}

async fn guide_index(State(state): State<AppState>, page: Page) -> GuideIndex {
    let lang = page.lang;
    let groups = groups(&state.catalog, lang);
    let book = groups
        .iter()
        .flat_map(|g| &g.items)
        .filter_map(|i| Some((i.id.clone(), booking_href(&state, i)?)))
        .collect();
    GuideIndex {
        book,
        groups,
        reasons: state
            .catalog
            .emergency_reasons()
            .iter()
            .map(|r| r.name.get(lang).to_string())
            .collect(),
        page,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "guide_item.html")]
struct GuideItem {
    page: Page,
    item: ItemDetail,
    /// Where its 预约 button leads, when it can be booked.
    book_href: Option<String>,
}

async fn guide_item(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> AppResult<GuideItem> {
    let item = full_detail(&state, &id, page.lang).await?;
    let book_href = booking_href(&state, &item.summary);
    Ok(GuideItem {
        page,
        item,
        book_href,
    })
}

/// Every service item, grouped by nothing, in catalog order.
#[utoipa::path(get, path = "/api/v1/catalog/items", tag = "public", responses((status = 200, body = Vec<ItemSummary>)))]
async fn api_items(State(state): State<AppState>, lang: Lang) -> axum::Json<Vec<ItemSummary>> {
    axum::Json(
        state
            .catalog
            .items()
            .iter()
            .map(|i| summary(i, lang))
            .collect(),
    )
}

/// The service guide of one item: basis, conditions, materials, flow, time limits, fees, sites.
#[utoipa::path(get, path = "/api/v1/catalog/items/{id}", tag = "public",
    params(("id" = String, Path, description = "Item id, e.g. passport-first-issue")),
    responses((status = 200, body = ItemDetail), (status = 404, body = crate::error::ErrorBody)))]
async fn api_item(
    State(state): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
) -> AppResult<axum::Json<ItemDetail>> {
    Ok(axum::Json(full_detail(&state, &id, lang).await?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmergencyReasonView {
    pub code: String,
    pub name: String,
    pub supporting_documents: Vec<String>,
}

/// The green-channel reasons and the supporting documents each accepts (R8).
#[utoipa::path(get, path = "/api/v1/catalog/emergency-reasons", tag = "public",
    responses((status = 200, body = Vec<EmergencyReasonView>)))]
async fn api_emergency_reasons(
    State(state): State<AppState>,
    lang: Lang,
) -> axum::Json<Vec<EmergencyReasonView>> {
    axum::Json(
        state
            .catalog
            .emergency_reasons()
            .iter()
            .map(|r| EmergencyReasonView {
                code: r.code.clone(),
                name: r.name.get(lang).into(),
                supporting_documents: r
                    .supporting_documents
                    .iter()
                    .filter_map(|m| {
                        state
                            .catalog
                            .material(m)
                            .map(|m| m.name.get(lang).to_string())
                    })
                    .collect(),
            })
            .collect(),
    )
}
