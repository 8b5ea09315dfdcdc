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

/// A field the applicant must correct: its name on the form (empty when the problem is the
/// form as a whole) and what to change, in their language.
pub struct FieldError {
    pub field: String,
    pub message: String,
    /// Put right by ticking the field's document (an endorsement without its permit): the
    /// page's script takes the message away when the permit is ticked.
    pub fixed_by_ticking: bool,
}

impl FieldError {
    fn at(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
            fixed_by_ticking: false,
        }
    }

    /// The id of the input the summary at the top links to.
    pub fn input_id(&self) -> String {
        input_id(&self.field)
    }
}

/// The id of a form input: `f-` and its name (the ID number keeps the `f-id` the kiosk's
/// script and the card reader fill).
pub fn input_id(field: &str) -> String {
    match field {
        "id_number" => "f-id".into(),
        "documents" => "f-documents".into(),
        f => format!("f-{f}"),
    }
}

/// Every problem found in one pass, each shown at its field and listed at the top, so the
/// applicant corrects them all at once rather than one submission at a time.
#[derive(Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> FieldErrors {
        FieldErrors(vec![FieldError::at(field, message)])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The message for `field`, if it has one.
    pub fn at(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| !field.is_empty() && e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether the message of `field` goes once its document is ticked.
    pub fn fixed_by_ticking(&self, field: &str) -> bool {
        self.0
            .iter()
            .any(|e| e.field == field && e.fixed_by_ticking)
    }

    /// The attributes that tie an input to its message (empty when the field is fine). Field
    /// names come from the templates, never from what was posted.
    pub fn aria(&self, field: &str) -> String {
        if self.at(field).is_some() {
            format!(" aria-invalid=\"true\" aria-describedby=\"{field}-error\"")
        } else {
            String::new()
        }
    }

    /// Every message in one line, for a page that shows only a summary.
    pub fn summary(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

impl FormFields {
    /// The six fields of document `d` when it is ticked.
    pub(super) fn document(&self, d: DocumentType) -> Option<[&str; 6]> {
        let f = self.document_values(d);
        on(f[0]).then_some(f)
    }

    /// The six fields of document `d` as posted, ticked or not.
    pub(super) fn document_values(&self, d: DocumentType) -> [&str; 6] {
        match d {
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
        }
    }

    /// The endorsement fields of a permit (`None` for the passport).
    fn endorsement_fields(&self, d: DocumentType) -> Option<[&str; 2]> {
        match d {
            DocumentType::Passport => None,
            DocumentType::HkMacaoPermit => Some([
                self.hk_macao_permit_endorsement_1.as_str(),
                self.hk_macao_permit_endorsement_2.as_str(),
            ]),
            DocumentType::TaiwanPermit => Some([
                self.taiwan_permit_endorsement_1.as_str(),
                self.taiwan_permit_endorsement_2.as_str(),
            ]),
        }
    }

    /// Whether the applicant ticked the document `d`.
    fn ticked(&self, d: DocumentType) -> bool {
        on(match d {
            DocumentType::Passport => &self.passport,
            DocumentType::HkMacaoPermit => &self.hk_macao_permit,
            DocumentType::TaiwanPermit => &self.taiwan_permit,
        })
    }

    /// The field holding the endorsement option `option` on the permit `d` (the later one when
    /// both hold it, as the second choice is the one to change).
    fn endorsement_field_of(&self, option: &str) -> String {
        for d in [DocumentType::HkMacaoPermit, DocumentType::TaiwanPermit] {
            if let Some(values) = self.endorsement_fields(d)
                && let Some(n) = values.iter().rposition(|v| v.trim() == option)
            {
                return format!("{}_endorsement_{}", d.code(), n + 1);
            }
        }
        String::new()
    }

    /// The field a refusal of the whole form is about, so its message shows there too.
    pub(super) fn field_of(&self, e: &ApplicationError) -> String {
        use crate::applications::rules::FormError as E;
        let doc = |d: DocumentType, field: &str| format!("{}_{field}", d.code());
        match e {
            ApplicationError::NameNeeded => "name".into(),
            ApplicationError::AddressNeeded => "address".into(),
            ApplicationError::Form(f) => match f {
                E::NoDocument => "documents".into(),
                E::NotCitizenId(_) => "id_number".into(),
                E::DocumentTwice(d) => d.code().into(),
                E::CategoryNotOffered(d, _) => doc(*d, "category"),
                E::OldNumberNeeded(d) | E::OldNumberWrongKind(d) => doc(*d, "old_number"),
                E::LossReasonNeeded(d) => doc(*d, "old_document"),
                E::EndorsementNeeded(d) | E::EndorsementsNotAllowed(d) => doc(*d, "endorsement_1"),
                E::UnknownEndorsement(o)
                | E::EndorsementOtherPermit(o)
                | E::EndorsementTypeTwice(o)
                | E::EndorsementUnavailable(o) => self.endorsement_field_of(o),
                E::Annotations => "passport_annotations".into(),
                E::GuardianNeeded => [
                    ("guardian_name", &self.guardian_name),
                    ("guardian_id", &self.guardian_id),
                    ("guardian_relation", &self.guardian_relation),
                ]
                .into_iter()
                .find(|(_, v)| v.trim().is_empty())
                .map_or("guardian_name", |(f, _)| f)
                .into(),
                E::GuardianNotAdult => "guardian_id".into(),
                E::UnitConsentNeeded => if self.work_unit.trim().is_empty() {
                    "work_unit"
                } else {
                    "unit_consent"
                }
                .into(),
            },
            _ => String::new(),
        }
    }

    /// The form as the rules take it, or every field the applicant must correct first.
    pub(super) fn to_input(
        &self,
        catalog: &crate::catalog::Catalog,
        lang: Lang,
        today: jiff::civil::Date,
    ) -> Result<FormInput, FieldErrors> {
        let mut errors = Vec::new();
        let mut check = |field: &str, r: Result<(), String>| {
            if let Err(message) = r {
                errors.push(FieldError::at(field, message));
            }
        };
        let mut without_permit = Vec::new();
        if self.name.trim().is_empty() {
            check("name", Err(ApplicationError::NameNeeded.message(lang)));
        }
        let id_number = IdNumber::parse_on(&self.id_number, today)
            .map_err(|e| e.message(lang))
            .and_then(|id| match id.require_citizen() {
                Ok(_) => Ok(id),
                Err(e) => Err(e.message(lang)),
            });
        check(
            "id_number",
            id_number.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        let phone = PhoneNumber::parse(&self.phone).map_err(|e| e.message(lang));
        check("phone", phone.as_ref().map(|_| ()).map_err(Clone::clone));
        if self.address.trim().is_empty() {
            check(
                "address",
                Err(ApplicationError::AddressNeeded.message(lang)),
            );
        }
        let guardian = if self.guardian_name.trim().is_empty() && self.guardian_id.trim().is_empty()
        {
            None
        } else {
            match IdNumber::parse_on(&self.guardian_id, today) {
                Ok(id_number) => Some(Guardian {
                    name: self.guardian_name.trim().into(),
                    id_number,
                    relation: self.guardian_relation.trim().into(),
                    entrusted: on(&self.guardian_entrusted),
                }),
                Err(e) => {
                    check(
                        "guardian_id",
                        Err(format!(
                            "{}{}",
                            lang.pick("监护人：", "Guardian: "),
                            e.message(lang)
                        )),
                    );
                    None
                }
            }
        };
        let mut documents = Vec::new();
        for d in DocumentType::ALL {
            let field = |name: &str| format!("{}_{name}", d.code());
            // An endorsement goes on its permit: chosen without the permit, it would be
            // dropped without a word, so it is refused where it was chosen.
            if !self.ticked(d)
                && let Some(values) = self.endorsement_fields(d)
                && let Some(n) = values.iter().position(|v| !v.trim().is_empty())
            {
                let option = values[n].trim();
                let label = catalog
                    .endorsement_option(option)
                    .map(|(spec, o)| format!("{} · {}", spec.name.get(lang), o.name.get(lang)))
                    .unwrap_or_else(|| option.to_string());
                let permit = d.name(lang);
                without_permit.push(FieldError {
                    field: field(&format!("endorsement_{}", n + 1)),
                    fixed_by_ticking: true,
                    message: match lang {
                        Lang::ZhCn => format!(
                            "签注随通行证一并申请：已选择签注“{label}”，但没有勾选“{permit}”。请勾选{permit}（只办签注请在“申请类别”中选“签注”），或把签注改为“不申请”。"
                        ),
                        Lang::En => format!(
                            "An endorsement goes with its permit: “{label}” is chosen but the {permit} is not ticked. Tick the {permit} (for an endorsement alone choose the category Endorsement), or set the endorsement to None."
                        ),
                    },
                });
            }
            let Some([_, category, old_number, old_document, extra1, extra2]) = self.document(d)
            else {
                continue;
            };
            let category = ApplicationCategory::ALL
                .into_iter()
                .find(|c| c.code() == category)
                .ok_or_else(|| {
                    BadValue::new("申请类别", "Kind of application", category).message(lang)
                });
            check(
                &field("category"),
                category.as_ref().map(|_| ()).map_err(Clone::clone),
            );
            let old_number = match old_number.trim() {
                "" => Ok(None),
                n => DocumentNumber::parse(crate::applications::rules::document_kind(d), n)
                    .map(Some)
                    .map_err(|e| e.message(lang)),
            };
            check(
                &field("old_number"),
                old_number.as_ref().map(|_| ()).map_err(Clone::clone),
            );
            let old_document = match old_document.trim() {
                "" => Ok(None),
                o => OldDocument::parse(o).map(Some).ok_or_else(|| {
                    BadValue::new("原证件情况", "The current document", o).message(lang)
                }),
            };
            check(
                &field("old_document"),
                old_document.as_ref().map(|_| ()).map_err(Clone::clone),
            );
            let (endorsements, annotations) = if d == DocumentType::Passport {
                let annotations = match extra1.trim() {
                    "" => Ok(0),
                    n => n
                        .parse()
                        .map_err(|_| BadValue::new("加注项数", "Annotations", n).message(lang)),
                };
                check(
                    "passport_annotations",
                    annotations.as_ref().map(|_| ()).map_err(Clone::clone),
                );
                (Vec::new(), annotations.unwrap_or(0))
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
            if let (Ok(category), Ok(old_number), Ok(old_document)) =
                (category, old_number, old_document)
            {
                documents.push(DocumentRequest {
                    document: d,
                    category,
                    old_number,
                    old_document,
                    endorsements,
                    annotations,
                });
            }
        }
        errors.extend(without_permit);
        let (Ok(id_number), Ok(phone), true) = (id_number, phone, errors.is_empty()) else {
            return Err(FieldErrors(errors));
        };
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

/// One document's section of the form, with what the applicant chose in it so far.
pub struct DocumentBlock {
    pub code: &'static str,
    pub name: String,
    pub categories: Vec<Choice>,
    /// `(type name, options)` groups; each option names its type too, so the choice shown
    /// once the list closes still says which endorsement it is.
    pub endorsements: Vec<(String, Vec<Choice>)>,
    pub checked: bool,
    pub category: String,
    pub old_document: String,
    pub old_number: String,
    pub annotations: String,
    pub endorsement: [String; 2],
    /// Shown although not ticked: something was chosen in it (an endorsement without its
    /// permit) or it has a field to correct.
    pub open: bool,
}

impl DocumentBlock {
    /// The name of one of its fields, e.g. `hk_macao_permit_category`.
    pub fn field(&self, name: &str) -> String {
        format!("{}_{name}", self.code)
    }

    /// The name of endorsement field `n` (1 or 2).
    pub fn endorsement_field(&self, n: &str) -> String {
        self.field(&format!("endorsement_{n}"))
    }

    /// The option chosen in endorsement field `n` (1 or 2).
    pub fn endorsement_chosen(&self, n: &str) -> &str {
        match n {
            "2" => &self.endorsement[1],
            _ => &self.endorsement[0],
        }
    }
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
    pub(super) errors: FieldErrors,
}

/// The catalog's sections of the form for `lang`, holding what `f` says; `line` (a booked
/// business line) chooses the category a section starts on.
pub(super) fn blocks(
    state: &AppState,
    lang: Lang,
    f: &FormFields,
    line: Option<&crate::catalog::lines::BusinessLine>,
    errors: &FieldErrors,
) -> Vec<DocumentBlock> {
    let today = state.clock.today();
    DocumentType::ALL
        .into_iter()
        .map(|d| {
            let values = f.document_values(d);
            let booked_category = line.and_then(|l| {
                l.items
                    .iter()
                    .filter_map(|id| state.catalog.item(id))
                    .find(|i| i.document_type == d)
                    .map(|i| i.category.code().to_string())
            });
            let code = d.code();
            let has_error = errors
                .iter()
                .any(|e| e.field == code || e.field.starts_with(&format!("{code}_")));
            let checked = on(values[0]);
            DocumentBlock {
                code,
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
                        let kind = spec.name.get(lang);
                        let letter = spec.endorsement_type.letter();
                        (
                            match lang {
                                Lang::ZhCn => format!("{kind}（{letter}）"),
                                Lang::En => format!("{kind} ({letter})"),
                            },
                            spec.options
                                .iter()
                                .filter(|o| o.is_available_on(today))
                                .map(|o| Choice {
                                    value: o.id.clone(),
                                    label: format!("{kind} · {}", o.name.get(lang)),
                                })
                                .collect(),
                        )
                    })
                    .collect(),
                checked,
                category: Some(values[1])
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .or(booked_category)
                    .unwrap_or_default(),
                old_number: values[2].to_string(),
                old_document: values[3].to_string(),
                annotations: if d == DocumentType::Passport {
                    values[4].to_string()
                } else {
                    String::new()
                },
                endorsement: if d == DocumentType::Passport {
                    Default::default()
                } else {
                    [values[4].trim().to_string(), values[5].trim().to_string()]
                },
                open: has_error
                    || (!checked
                        && d != DocumentType::Passport
                        && (!values[4].trim().is_empty() || !values[5].trim().is_empty())),
            }
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
    pub(super) errors: FieldErrors,
    /// The messages in one line, as the kiosk's page shows them above its steps.
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
    errors: FieldErrors,
) -> AppResult<FormView> {
    let blocks = blocks(state, page.lang, &f, None, &errors);
    form_page_with(state, page, kiosk, site, f, blocks, errors).await
}

async fn form_page_with(
    state: &AppState,
    page: Page,
    kiosk: bool,
    site: Option<Site>,
    f: FormFields,
    blocks: Vec<DocumentBlock>,
    errors: FieldErrors,
) -> AppResult<FormView> {
    let old_states = old_states(page.lang);
    if kiosk && let Some(site) = site {
        return Ok(FormView::Kiosk(Box::new(KioskFormPage {
            page,
            kiosk,
            site,
            blocks,
            old_states,
            f,
            error: errors.summary(),
            errors,
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
        errors,
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
    form_page(&state, page, true, Some(site), f, FieldErrors::default()).await
}

/// Where the phone form was opened from: a booking's confirmation names its site and line.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SiteQuery {
    pub(super) site: String,
    pub(super) line: String,
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
    let errors = FieldErrors::default();
    let blocks = blocks(&state, page.lang, &f, state.lines.get(&q.line), &errors);
    form_page_with(&state, page, false, None, f, blocks, errors).await
}

pub(super) async fn submit_form_page(
    State(state): State<AppState>,
    page: Page,
    Form(f): Form<FormFields>,
) -> AppResult<Response> {
    let lang = page.lang;
    let kiosk = f.channel == "kiosk";
    let refused = |view: FormView| (StatusCode::UNPROCESSABLE_ENTITY, view).into_response();
    let site = match crate::sites::site_by_code(state.db.reader(), f.site.trim()).await? {
        Some(s) if s.active => s,
        _ => {
            let msg = lang.pick("请选择办证点。", "Choose a site.");
            let errors = FieldErrors::one("site", msg);
            return Ok(refused(
                form_page(&state, page, kiosk, None, f, errors).await?,
            ));
        }
    };
    let channel = if kiosk {
        Channel::Kiosk
    } else {
        Channel::Mobile
    };
    let input = match f.to_input(&state.catalog, lang, state.clock.today()) {
        Ok(i) => i,
        Err(errors) => {
            let s = kiosk.then(|| site.clone());
            return Ok(refused(form_page(&state, page, kiosk, s, f, errors).await?));
        }
    };
    match crate::applications::submit_form(&state.applications(), &site, channel, input).await {
        Ok(row) => Ok(Redirect::to(&format!("/forms/{}", row.token)).into_response()),
        Err(Failure::Refused(e)) => {
            let s = kiosk.then(|| site.clone());
            let errors = FieldErrors::one(f.field_of(&e), e.message(lang));
            Ok(refused(form_page(&state, page, kiosk, s, f, errors).await?))
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
