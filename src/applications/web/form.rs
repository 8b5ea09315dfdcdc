//! The one form as a page (kiosk, phone, web): fields, validation, the printed form with its barcode (R4).

use super::*;

// ---- the form --------------------------------------------------------------------------------

/// The form's fields as posted by the page (flat, one set per document type).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct FormFields {
    pub site: String,
    pub channel: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub ethnicity: String,
    pub from_card: String,
    pub state_personnel: String,
    pub unit_consent: String,
    pub work_unit: String,
    pub guardian_name: String,
    pub guardian_id: String,
    pub guardian_relation: String,
    pub guardian_entrusted: String,
    pub passport: String,
    pub passport_category: String,
    pub passport_old_number: String,
    pub passport_old_document: String,
    pub passport_annotations: String,
    pub hk_macao_permit: String,
    pub hk_macao_permit_category: String,
    pub hk_macao_permit_old_number: String,
    pub hk_macao_permit_old_document: String,
    pub hk_macao_permit_endorsement_1: String,
    pub hk_macao_permit_endorsement_2: String,
    pub taiwan_permit: String,
    pub taiwan_permit_category: String,
    pub taiwan_permit_old_number: String,
    pub taiwan_permit_old_document: String,
    pub taiwan_permit_endorsement_1: String,
    pub taiwan_permit_endorsement_2: String,
}

pub(super) fn on(v: &str) -> bool {
    matches!(v, "on" | "1" | "true" | "yes")
}

/// A field the applicant must correct, with the message in their language.
pub(super) struct FieldError(String);

impl FormFields {
    pub(super) fn document(&self, d: DocumentType) -> Option<[&str; 6]> {
        let f: [&str; 6] = match d {
            DocumentType::Passport => [
                self.passport.as_str(),
                self.passport_category.as_str(),
                self.passport_old_number.as_str(),
                self.passport_old_document.as_str(),
                self.passport_annotations.as_str(),
                "",
            ],
            DocumentType::HkMacaoPermit => [
                self.hk_macao_permit.as_str(),
                self.hk_macao_permit_category.as_str(),
                self.hk_macao_permit_old_number.as_str(),
                self.hk_macao_permit_old_document.as_str(),
                self.hk_macao_permit_endorsement_1.as_str(),
                self.hk_macao_permit_endorsement_2.as_str(),
            ],
            DocumentType::TaiwanPermit => [
                self.taiwan_permit.as_str(),
                self.taiwan_permit_category.as_str(),
                self.taiwan_permit_old_number.as_str(),
                self.taiwan_permit_old_document.as_str(),
                self.taiwan_permit_endorsement_1.as_str(),
                self.taiwan_permit_endorsement_2.as_str(),
            ],
        };
        on(f[0]).then_some(f)
    }

    pub(super) fn to_input(
        &self,
        lang: Lang,
        today: jiff::civil::Date,
    ) -> Result<FormInput, FieldError> {
        let id_number =
            IdNumber::parse_on(&self.id_number, today).map_err(|e| FieldError(e.message(lang)))?;
        id_number
            .require_citizen()
            .map_err(|e| FieldError(e.message(lang)))?;
        let phone = PhoneNumber::parse(&self.phone).map_err(|e| FieldError(e.message(lang)))?;
        let guardian = if self.guardian_name.trim().is_empty() && self.guardian_id.trim().is_empty()
        {
            None
        } else {
            Some(Guardian {
                name: self.guardian_name.trim().into(),
                id_number: IdNumber::parse_on(&self.guardian_id, today).map_err(|e| {
                    FieldError(format!(
                        "{}{}",
                        lang.pick("监护人：", "Guardian: "),
                        e.message(lang)
                    ))
                })?,
                relation: self.guardian_relation.trim().into(),
                entrusted: on(&self.guardian_entrusted),
            })
        };
        let mut documents = Vec::new();
        for d in DocumentType::ALL {
            let Some([_, category, old_number, old_document, extra1, extra2]) = self.document(d)
            else {
                continue;
            };
            let category = ApplicationCategory::ALL
                .into_iter()
                .find(|c| c.code() == category)
                .ok_or_else(|| {
                    FieldError(
                        BadValue::new("申请类别", "Kind of application", category).message(lang),
                    )
                })?;
            let old_number = match old_number.trim() {
                "" => None,
                n => Some(
                    DocumentNumber::parse(crate::applications::rules::document_kind(d), n)
                        .map_err(|e| FieldError(e.message(lang)))?,
                ),
            };
            let (endorsements, annotations) = if d == DocumentType::Passport {
                let annotations = match extra1.trim() {
                    "" => 0,
                    n => n.parse().map_err(|_| {
                        FieldError(BadValue::new("加注项数", "Annotations", n).message(lang))
                    })?,
                };
                (Vec::new(), annotations)
            } else {
                (
                    [extra1, extra2]
                        .into_iter()
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .map(String::from)
                        .collect(),
                    0,
                )
            };
            documents.push(DocumentRequest {
                document: d,
                category,
                old_number,
                old_document: match old_document.trim() {
                    "" => None,
                    o => Some(OldDocument::parse(o).ok_or_else(|| {
                        FieldError(
                            BadValue::new("原证件情况", "The current document", o).message(lang),
                        )
                    })?),
                },
                endorsements,
                annotations,
            });
        }
        Ok(FormInput {
            name: self.name.clone(),
            id_number,
            phone,
            address: self.address.clone(),
            ethnicity: self.ethnicity.clone(),
            from_card_reader: on(&self.from_card),
            registered_state_personnel: on(&self.state_personnel),
            unit_consent: on(&self.unit_consent),
            work_unit: Some(self.work_unit.clone()).filter(|w| !w.trim().is_empty()),
            guardian,
            documents,
            lang,
        })
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

pub struct DocumentBlock {
    pub code: &'static str,
    pub name: String,
    pub categories: Vec<Choice>,
    /// `(type name, options)` groups.
    pub endorsements: Vec<(String, Vec<Choice>)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "form.html")]
pub(super) struct FormPage {
    pub(super) page: Page,
    pub(super) kiosk: bool,
    pub(super) site: Option<Site>,
    pub(super) sites: Vec<Site>,
    pub(super) blocks: Vec<DocumentBlock>,
    pub(super) old_states: Vec<Choice>,
    pub(super) f: FormFields,
    pub(super) error: Option<String>,
}

pub(super) fn blocks(state: &AppState, lang: Lang) -> Vec<DocumentBlock> {
    let today = state.clock.today();
    DocumentType::ALL
        .into_iter()
        .map(|d| DocumentBlock {
            code: d.code(),
            name: d.name(lang).to_string(),
            categories: ApplicationCategory::ALL
                .into_iter()
                .filter(|c| c.applies_to(d) && state.catalog.item_for(d, *c).is_some())
                .map(|c| Choice {
                    value: c.code().into(),
                    label: c.name(lang).into(),
                })
                .collect(),
            endorsements: state
                .catalog
                .endorsement_types(d)
                .into_iter()
                .filter(|spec| !spec.is_suspended_on(today))
                .map(|spec| {
                    (
                        spec.name.get(lang).to_string(),
                        spec.options
                            .iter()
                            .filter(|o| o.is_available_on(today))
                            .map(|o| Choice {
                                value: o.id.clone(),
                                label: o.name.get(lang).to_string(),
                            })
                            .collect(),
                    )
                })
                .collect(),
        })
        .collect()
}

pub(super) fn old_states(lang: Lang) -> Vec<Choice> {
    OldDocument::ALL
        .into_iter()
        .map(|o| Choice {
            value: o.code().into(),
            label: o.name(lang).into(),
        })
        .collect()
}

/// The one form in the kiosk's shell (issue 14 §1): the same sections as [`FormPage`], each a
/// step of its own, no site navigation.
#[derive(Template, WebTemplate)]
#[template(path = "kiosk_form.html")]
pub(super) struct KioskFormPage {
    pub(super) page: Page,
    pub(super) kiosk: bool,
    pub(super) site: Site,
    pub(super) blocks: Vec<DocumentBlock>,
    pub(super) old_states: Vec<Choice>,
    pub(super) f: FormFields,
    pub(super) error: Option<String>,
}

/// The form as the channel shows it: the kiosk's shell when filled at a kiosk of a known site,
/// the public page otherwise.
pub(super) enum FormView {
    Public(Box<FormPage>),
    Kiosk(Box<KioskFormPage>),
}

impl IntoResponse for FormView {
    fn into_response(self) -> Response {
        match self {
            FormView::Public(p) => p.into_response(),
            FormView::Kiosk(p) => p.into_response(),
        }
    }
}

pub(super) async fn form_page(
    state: &AppState,
    page: Page,
    kiosk: bool,
    site: Option<Site>,
    f: FormFields,
    error: Option<String>,
) -> AppResult<FormView> {
    let blocks = blocks(state, page.lang);
    let old_states = old_states(page.lang);
    if kiosk && let Some(site) = site {
        return Ok(FormView::Kiosk(Box::new(KioskFormPage {
            page,
            kiosk,
            site,
            blocks,
            old_states,
            f,
            error,
        })));
    }
    let sites = crate::sites::list_sites(state.db.reader(), true)
        .await?
        .into_iter()
        .filter(|s| s.kind != SiteKind::KioskPoint)
        .collect();
    Ok(FormView::Public(Box::new(FormPage {
        blocks,
        old_states,
        page,
        kiosk,
        site,
        sites,
        f,
        error,
    })))
}

pub(super) async fn active_site(state: &AppState, code: &str) -> AppResult<Site> {
    crate::sites::site_by_code(state.db.reader(), code.trim())
        .await?
        .filter(|s| s.active)
        .ok_or_else(AppError::not_found)
}

pub(super) async fn kiosk_form(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<FormView> {
    let site = active_site(&state, &code).await?;
    let f = FormFields {
        site: site.code.clone(),
        channel: "kiosk".into(),
        ..FormFields::default()
    };
    form_page(&state, page, true, Some(site), f, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SiteQuery {
    pub(super) site: String,
}

pub(super) async fn mobile_form(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<SiteQuery>,
) -> AppResult<FormView> {
    let f = FormFields {
        site: q.site,
        channel: "mobile".into(),
        ..FormFields::default()
    };
    form_page(&state, page, false, None, f, None).await
}

pub(super) async fn submit_form_page(
    State(state): State<AppState>,
    page: Page,
    Form(f): Form<FormFields>,
) -> AppResult<Response> {
    let lang = page.lang;
    let kiosk = f.channel == "kiosk";
    let site = match crate::sites::site_by_code(state.db.reader(), f.site.trim()).await? {
        Some(s) if s.active => s,
        _ => {
            let msg = lang.pick("请选择办证点。", "Choose a site.").to_string();
            return Ok(form_page(&state, page, kiosk, None, f, Some(msg))
                .await?
                .into_response());
        }
    };
    let channel = if kiosk {
        Channel::Kiosk
    } else {
        Channel::Mobile
    };
    let input = match f.to_input(lang, state.clock.today()) {
        Ok(i) => i,
        Err(FieldError(msg)) => {
            let s = kiosk.then(|| site.clone());
            return Ok(form_page(&state, page, kiosk, s, f, Some(msg))
                .await?
                .into_response());
        }
    };
    match crate::applications::submit_form(&state.applications(), &site, channel, input).await {
        Ok(row) => Ok(Redirect::to(&format!("/forms/{}", row.token)).into_response()),
        Err(Failure::Refused(e)) => {
            let s = kiosk.then(|| site.clone());
            Ok(form_page(&state, page, kiosk, s, f, Some(e.message(lang)))
                .await?
                .into_response())
        }
        Err(other) => Err(AppError::from(other)),
    }
}

/// One document as printed.
pub struct DocumentLine {
    pub name: String,
    pub category: String,
    pub old_number: Option<String>,
    pub endorsements: Vec<String>,
    pub fee: Option<String>,
    pub promised: Option<String>,
}

pub(crate) fn document_lines(
    state: &AppState,
    d: &Dossier,
    lang: Lang,
    masked: bool,
) -> Vec<DocumentLine> {
    let terms = d
        .row
        .time_limit_class
        .as_deref()
        .and_then(|c| TimeLimitClass::ALL.into_iter().find(|t| t.code() == c))
        .zip(d.row.fee_date.as_deref().and_then(|x| x.parse().ok()))
        .and_then(|(class, date)| {
            crate::applications::terms(&state.applications(), d, class, date).ok()
        });
    d.documents
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let fee_of = |endorsement: Option<&str>| {
                terms.as_ref().and_then(|t| {
                    t.fee_lines
                        .iter()
                        .find(|l| {
                            l.document == doc.document && l.endorsement.as_deref() == endorsement
                        })
                        .map(|l| yuan(l.fen))
                })
            };
            DocumentLine {
                name: doc.document.name(lang).to_string(),
                category: doc.category.name(lang).to_string(),
                old_number: doc.old_number.as_ref().map(|n| {
                    if masked {
                        n.masked()
                    } else {
                        n.as_str().to_string()
                    }
                }),
                endorsements: doc
                    .endorsements
                    .iter()
                    .map(|o| {
                        let label = state
                            .catalog
                            .endorsement_option(o)
                            .map(|(spec, opt)| {
                                format!("{} · {}", spec.name.get(lang), opt.name.get(lang))
                            })
                            .unwrap_or_else(|| o.clone());
                        match fee_of(Some(o)) {
                            Some(fee) => format!("{label} — ¥{fee}"),
                            None => label,
                        }
                    })
                    .collect(),
                fee: fee_of(None),
                promised: terms
                    .as_ref()
                    .and_then(|t| t.promised.get(i))
                    .map(|p| p.describe(lang)),
            }
        })
        .collect()
}

pub fn yuan(fen: i64) -> String {
    Money::from_fen(fen)
        .map(|m| m.display_yuan())
        .unwrap_or_default()
}

#[derive(Template, WebTemplate)]
#[template(path = "form_print.html")]
pub(super) struct PrintedForm {
    pub(super) page: Page,
    pub(super) d: Dossier,
    pub(super) site: Site,
    pub(super) documents: Vec<DocumentLine>,
    pub(super) materials: Vec<String>,
    pub(super) sex: String,
    pub(super) estimate: String,
}

/// The printed form in the kiosk's shell: a form filled at the kiosk is shown there right
/// after it is submitted.
#[derive(Template, WebTemplate)]
#[template(path = "kiosk_form_print.html")]
pub(super) struct KioskPrintedForm {
    pub(super) page: Page,
    pub(super) d: Dossier,
    pub(super) site: Site,
    pub(super) documents: Vec<DocumentLine>,
    pub(super) materials: Vec<String>,
    pub(super) sex: String,
    pub(super) estimate: String,
}

pub(super) async fn site_of(state: &AppState, id: i64) -> AppResult<Site> {
    crate::sites::site(state.db.reader(), id)
        .await?
        .ok_or_else(AppError::not_found)
}

pub(super) async fn printed_form(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let ctx = state.applications();
    let d = crate::applications::dossier_by_token(&ctx, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let lang = page.lang;
    let site = site_of(&state, d.row.site_id).await?;
    let materials = d
        .materials(&state.catalog)
        .iter()
        .map(|m| m.name.get(lang).to_string())
        .collect();
    // What the fees would be if accepted today (the window fixes them at acceptance).
    let estimate =
        crate::applications::terms(&ctx, &d, TimeLimitClass::Normal, state.clock.today())
            .map(|t| yuan(t.fee_fen))
            .unwrap_or_default();
    let documents = document_lines(&state, &d, lang, false);
    let sex = sex_name(&d.row.sex, lang);
    // Filled at the kiosk: shown there, in its shell (issue 14 §1).
    if d.row.channel == "kiosk" {
        return Ok(KioskPrintedForm {
            page,
            d,
            site,
            documents,
            materials,
            sex,
            estimate,
        }
        .into_response());
    }
    Ok(PrintedForm {
        documents,
        sex,
        materials,
        estimate,
        site,
        d,
        page,
    }
    .into_response())
}

pub(crate) fn sex_name(code: &str, lang: Lang) -> String {
    match code {
        "male" => lang.pick("男", "Male"),
        _ => lang.pick("女", "Female"),
    }
    .to_string()
}

pub(super) async fn barcode(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let row = store::application_by_token(state.db.reader(), &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(crate::queue::web::svg_response(code128_svg(
        &row.application_no,
    )?))
}
