//! Loading `data/catalog/*.toml` and validating every record once, so the queries never meet bad data.

use super::*;

// ---------------------------------------------------------------------------------------------
// Loading and validation
// ---------------------------------------------------------------------------------------------

/// A record with the file it came from.
pub(super) struct Tagged<T> {
    pub(super) file: String,
    pub(super) record: T,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaterialSet {
    pub(super) id: String,
    #[serde(default, rename = "material")]
    pub(super) materials: Vec<RequiredMaterial>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTimeLimitProfile {
    pub(super) id: String,
    #[serde(default, rename = "limit")]
    pub(super) limits: Vec<TimeLimit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlow {
    pub(super) id: String,
    #[serde(default)]
    pub(super) steps: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawItem {
    pub(super) id: String,
    pub(super) document_type: DocumentType,
    pub(super) category: ApplicationCategory,
    pub(super) name: Text,
    #[serde(default)]
    pub(super) basis: Vec<String>,
    #[serde(default)]
    pub(super) conditions: Vec<Text>,
    #[serde(default)]
    pub(super) material_sets: Vec<String>,
    #[serde(default, rename = "material")]
    pub(super) materials: Vec<RequiredMaterial>,
    pub(super) flow: String,
    pub(super) time_limits: String,
    pub(super) bookable: bool,
    pub(super) emergency_eligible: bool,
    pub(super) needs_old_document_number: bool,
    #[serde(default)]
    pub(super) endorsements_allowed: bool,
    pub(super) fee: FeeRule,
    #[serde(default)]
    pub(super) note: Option<Text>,
}

#[derive(Default)]
pub(super) struct RawCatalog {
    pub(super) fee_schedules: Vec<Tagged<FeeSchedule>>,
    pub(super) documents: Vec<Tagged<DocumentSpec>>,
    pub(super) materials: Vec<Tagged<Material>>,
    pub(super) material_sets: Vec<Tagged<RawMaterialSet>>,
    pub(super) profiles: Vec<Tagged<RawTimeLimitProfile>>,
    pub(super) flows: Vec<Tagged<RawFlow>>,
    pub(super) endorsements: Vec<Tagged<EndorsementSpec>>,
    pub(super) items: Vec<Tagged<RawItem>>,
    pub(super) emergency_reasons: Vec<Tagged<EmergencyReason>>,
    pub(super) citations: Vec<Tagged<RawCitation>>,
}

/// A citation's English rendering (data/catalog/citations.toml).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCitation {
    pub(super) zh: String,
    pub(super) en: String,
}

pub(super) fn invalid(file: &str, kind: RecordKind, id: &str, problem: Problem) -> CatalogError {
    CatalogError::Invalid {
        file: file.to_owned(),
        kind,
        id: id.to_owned(),
        problem,
    }
}

/// Deserializes each element of a `[[section]]` array on its own, so that a shape error
/// names the record's id as well as the file.
pub(super) fn records<T: DeserializeOwned>(
    file: &str,
    kind: RecordKind,
    id_key: &str,
    value: toml::Value,
) -> Result<Vec<Tagged<T>>, CatalogError> {
    let toml::Value::Array(elements) = value else {
        return Err(invalid(
            file,
            kind,
            "-",
            Problem::Malformed("expected an array of tables `[[…]]`".to_owned()),
        ));
    };
    elements
        .into_iter()
        .enumerate()
        .map(|(index, element)| {
            let id = element
                .get(id_key)
                .and_then(toml::Value::as_str)
                .map_or_else(|| format!("#{}", index + 1), str::to_owned);
            T::deserialize(element)
                .map(|record| Tagged {
                    file: file.to_owned(),
                    record,
                })
                .map_err(|error| {
                    invalid(
                        file,
                        kind,
                        &id,
                        Problem::Malformed(one_line(&error.to_string())),
                    )
                })
        })
        .collect()
}

/// serde's messages end with "\nin `field`"; keep them on one line for logs and pages.
pub(super) fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(super) fn check_text(text: &Text, field: &str) -> Result<(), Problem> {
    if text.zh.trim().is_empty() {
        return Err(Problem::MissingText {
            field: field.to_owned(),
            lang: Lang::ZhCn,
        });
    }
    if text.en.trim().is_empty() {
        return Err(Problem::MissingText {
            field: field.to_owned(),
            lang: Lang::En,
        });
    }
    Ok(())
}

pub(super) fn check_note(note: Option<&Text>, field: &str) -> Result<(), Problem> {
    note.map_or(Ok(()), |text| check_text(text, field))
}

pub(super) fn check_texts(texts: &[Text], field: &str) -> Result<(), Problem> {
    if texts.is_empty() {
        return Err(Problem::Empty {
            field: field.to_owned(),
        });
    }
    texts
        .iter()
        .enumerate()
        .try_for_each(|(index, text)| check_text(text, &format!("{field}[{}]", index + 1)))
}

pub(super) fn check_nonempty(text: &str, field: &str) -> Result<(), Problem> {
    if text.trim().is_empty() {
        Err(Problem::Empty {
            field: field.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// Registers `id` from `file`, failing on a duplicate.
pub(super) fn register(
    seen: &mut HashMap<String, String>,
    id: &str,
    file: &str,
) -> Result<(), Problem> {
    if let Some(first_file) = seen.get(id) {
        return Err(Problem::DuplicateId {
            first_file: first_file.clone(),
        });
    }
    seen.insert(id.to_owned(), file.to_owned());
    Ok(())
}

/// What a condition may refer to, checked at load.
pub(super) struct ConditionScope<'a> {
    /// The permit the condition is about (endorsement references must fit it).
    pub(super) document: DocumentType,
    pub(super) endorsements: &'a HashSet<EndorsementType>,
    pub(super) options: &'a HashMap<String, (usize, usize)>,
    pub(super) option_types: &'a [EndorsementType],
}

pub(super) fn check_condition(
    condition: &Condition,
    scope: &ConditionScope<'_>,
) -> Result<(), Problem> {
    match condition {
        Condition::Endorsement(kind) => check_endorsement_ref(*kind, scope),
        Condition::EndorsementOption(id) => {
            let &(spec, _) = scope
                .options
                .get(id)
                .ok_or_else(|| Problem::UnknownEndorsementOption(id.clone()))?;
            let kind = scope.option_types[spec];
            check_endorsement_ref(kind, scope)
        }
        Condition::All(parts) | Condition::Any(parts) => {
            if parts.is_empty() {
                return Err(Problem::Empty {
                    field: "when".to_owned(),
                });
            }
            parts
                .iter()
                .try_for_each(|part| check_condition(part, scope))
        }
        Condition::Not(inner) => check_condition(inner, scope),
        _ => Ok(()),
    }
}

pub(super) fn check_endorsement_ref(
    kind: EndorsementType,
    scope: &ConditionScope<'_>,
) -> Result<(), Problem> {
    if kind.document() != scope.document {
        return Err(Problem::EndorsementOfOtherDocument { endorsement: kind });
    }
    if !scope.endorsements.contains(&kind) {
        return Err(Problem::UnknownEndorsementType(kind));
    }
    Ok(())
}

pub(super) fn check_time_limits(limits: &[TimeLimit]) -> Result<(), Problem> {
    let mut classes = HashSet::new();
    for (index, limit) in limits.iter().enumerate() {
        if !classes.insert(limit.class) {
            return Err(Problem::DuplicateTimeLimitClass { class: limit.class });
        }
        if limit.days == 0 {
            return Err(Problem::ZeroTimeLimit { class: limit.class });
        }
        check_nonempty(&limit.basis, &format!("limit[{}].basis", index + 1))?;
        check_note(limit.note.as_ref(), &format!("limit[{}].note", index + 1))?;
    }
    if !classes.contains(&TimeLimitClass::Normal) {
        return Err(Problem::MissingNormalTimeLimit);
    }
    Ok(())
}

pub(super) fn check_fee_schedule(schedule: &FeeSchedule) -> Result<(), Problem> {
    check_text(&schedule.name, "name")?;
    check_text(&schedule.unit, "unit")?;
    if schedule.entries.is_empty() {
        return Err(Problem::EmptyFeeSchedule);
    }
    let mut previous: Option<Date> = None;
    for (index, entry) in schedule.entries.iter().enumerate() {
        if entry.fee_fen <= 0 {
            return Err(Problem::NonPositiveFee {
                fee_fen: entry.fee_fen,
            });
        }
        if previous.is_some_and(|previous| previous >= entry.effective_from) {
            return Err(Problem::FeeScheduleNotSorted {
                date: entry.effective_from,
            });
        }
        previous = Some(entry.effective_from);
        check_nonempty(&entry.basis, &format!("entry[{}].basis", index + 1))?;
        check_note(entry.note.as_ref(), &format!("entry[{}].note", index + 1))?;
    }
    Ok(())
}

pub(super) fn check_age_bands(bands: &[AgeValidity]) -> Result<(), Problem> {
    let mut next_from = Some(0u8);
    for (index, band) in bands.iter().enumerate() {
        if band.years == 0 {
            return Err(Problem::ZeroValue {
                field: format!("validity[{}].years", index + 1),
            });
        }
        if Some(band.from_age) != next_from
            || band.below_age.is_some_and(|below| below <= band.from_age)
        {
            return Err(Problem::AgeBands);
        }
        next_from = band.below_age;
    }
    if next_from.is_some() {
        // Empty list, or the last band has an upper bound.
        return Err(Problem::AgeBands);
    }
    Ok(())
}

pub(super) fn expected_fee_rule(category: ApplicationCategory, fee: &FeeRule) -> bool {
    match category {
        ApplicationCategory::Annotation => matches!(fee, FeeRule::PerAnnotation(_)),
        ApplicationCategory::Endorsement => matches!(fee, FeeRule::PerEndorsementOption),
        _ => matches!(fee, FeeRule::Document),
    }
}

impl RawCatalog {
    pub(super) fn parse_file(&mut self, file: &str, text: &str) -> Result<(), CatalogError> {
        let table: toml::Table = toml::from_str(text).map_err(|error| CatalogError::Syntax {
            file: file.to_owned(),
            reason: error.to_string(),
        })?;
        for (section, value) in table {
            match section.as_str() {
                "fee_schedule" => {
                    self.fee_schedules
                        .extend(records(file, RecordKind::FeeSchedule, "id", value)?)
                }
                "document" => {
                    self.documents
                        .extend(records(file, RecordKind::Document, "type", value)?)
                }
                "material" => {
                    self.materials
                        .extend(records(file, RecordKind::Material, "id", value)?)
                }
                "material_set" => {
                    self.material_sets
                        .extend(records(file, RecordKind::MaterialSet, "id", value)?)
                }
                "time_limit_profile" => {
                    self.profiles
                        .extend(records(file, RecordKind::TimeLimitProfile, "id", value)?)
                }
                "flow" => self
                    .flows
                    .extend(records(file, RecordKind::Flow, "id", value)?),
                "endorsement" => {
                    self.endorsements
                        .extend(records(file, RecordKind::Endorsement, "type", value)?)
                }
                "item" => self
                    .items
                    .extend(records(file, RecordKind::Item, "id", value)?),
                "citation" => {
                    self.citations
                        .extend(records(file, RecordKind::Citation, "zh", value)?)
                }
                "emergency_reason" => self.emergency_reasons.extend(records(
                    file,
                    RecordKind::EmergencyReason,
                    "code",
                    value,
                )?),
                _ => {
                    return Err(CatalogError::UnknownSection {
                        file: file.to_owned(),
                        section,
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn build(self) -> Result<Catalog, CatalogError> {
        // Fee schedules (exit-entry.md §3): non-empty, strictly increasing dates, fee > 0.
        let mut fee_seen = HashMap::new();
        let mut fee_index = HashMap::new();
        let mut fee_schedules = Vec::new();
        for Tagged { file, record } in self.fee_schedules {
            let kind = RecordKind::FeeSchedule;
            let at = |problem| invalid(&file, kind, &record.id, problem);
            if !is_slug(&record.id) {
                return Err(at(Problem::BadId));
            }
            register(&mut fee_seen, &record.id, &file).map_err(at)?;
            check_fee_schedule(&record).map_err(at)?;
            fee_index.insert(record.id.clone(), fee_schedules.len());
            fee_schedules.push(record);
        }
        let known_fee = |id: &str| -> Result<(), Problem> {
            if fee_index.contains_key(id) {
                Ok(())
            } else {
                Err(Problem::UnknownFeeSchedule(id.to_owned()))
            }
        };

        // Documents (exit-entry.md §1.1).
        let mut doc_seen = HashMap::new();
        let mut documents = Vec::new();
        for Tagged { file, record } in self.documents {
            let at = |problem| {
                invalid(
                    &file,
                    RecordKind::Document,
                    record.document_type.code(),
                    problem,
                )
            };
            register(&mut doc_seen, record.document_type.code(), &file).map_err(at)?;
            check_text(&record.name, "name").map_err(at)?;
            known_fee(&record.fee_schedule).map_err(at)?;
            check_age_bands(&record.validity).map_err(at)?;
            check_nonempty(&record.validity_basis, "validity_basis").map_err(at)?;
            check_note(record.note.as_ref(), "note").map_err(at)?;
            documents.push(record);
        }

        // Materials.
        let mut material_seen = HashMap::new();
        let mut material_index = HashMap::new();
        let mut materials = Vec::new();
        for Tagged { file, record } in self.materials {
            let at = |problem| invalid(&file, RecordKind::Material, &record.id, problem);
            if !is_slug(&record.id) {
                return Err(at(Problem::BadId));
            }
            register(&mut material_seen, &record.id, &file).map_err(at)?;
            check_text(&record.name, "name").map_err(at)?;
            check_note(record.note.as_ref(), "note").map_err(at)?;
            material_index.insert(record.id.clone(), materials.len());
            materials.push(record);
        }
        let known_material = |id: &str| -> Result<(), Problem> {
            if material_index.contains_key(id) {
                Ok(())
            } else {
                Err(Problem::UnknownMaterial(id.to_owned()))
            }
        };

        // Endorsement types and their options (exit-entry.md §1.2, §1.3, §2.4, §3).
        let mut endorsement_seen = HashMap::new();
        let mut option_seen: HashMap<String, String> = HashMap::new();
        let mut option_index = HashMap::new();
        let mut endorsements: Vec<EndorsementSpec> = Vec::new();
        let mut endorsement_files = Vec::new();
        for Tagged { file, record } in self.endorsements {
            let kind = record.endorsement_type;
            let at = |problem| invalid(&file, RecordKind::Endorsement, kind.code(), problem);
            register(&mut endorsement_seen, kind.code(), &file).map_err(at)?;
            check_text(&record.name, "name").map_err(at)?;
            check_texts(&record.eligibility, "eligibility").map_err(at)?;
            check_nonempty(&record.basis, "basis").map_err(at)?;
            check_note(record.note.as_ref(), "note").map_err(at)?;
            if record.options.is_empty() {
                return Err(at(Problem::Empty {
                    field: "option".to_owned(),
                }));
            }
            for (position, option) in record.options.iter().enumerate() {
                let field = |name: &str| format!("option `{}` {name}", option.id);
                if !is_slug(&option.id) {
                    return Err(at(Problem::BadId));
                }
                register(&mut option_seen, &option.id, &file).map_err(at)?;
                check_text(&option.name, &field("name")).map_err(at)?;
                check_note(option.who.as_ref(), &field("who")).map_err(at)?;
                check_note(option.note.as_ref(), &field("note")).map_err(at)?;
                known_fee(&option.fee_schedule).map_err(at)?;
                if option.validity == Validity::Months(0) {
                    return Err(at(Problem::ZeroValue {
                        field: field("validity"),
                    }));
                }
                if option.max_stay == MaxStay::Days(0) {
                    return Err(at(Problem::ZeroValue {
                        field: field("max_stay"),
                    }));
                }
                if option.destinations.is_empty() {
                    return Err(at(Problem::Empty {
                        field: field("destinations"),
                    }));
                }
                if let Some(&destination) = option
                    .destinations
                    .iter()
                    .find(|destination| !destination.fits(kind.document()))
                {
                    return Err(at(Problem::WrongDestination { destination }));
                }
                option_index.insert(option.id.clone(), (endorsements.len(), position));
            }
            endorsement_files.push(file);
            endorsements.push(record);
        }
        let endorsement_set: HashSet<EndorsementType> = endorsements
            .iter()
            .map(|spec| spec.endorsement_type)
            .collect();
        let option_types: Vec<EndorsementType> = endorsements
            .iter()
            .map(|spec| spec.endorsement_type)
            .collect();
        let scope_for = |document| ConditionScope {
            document,
            endorsements: &endorsement_set,
            options: &option_index,
            option_types: &option_types,
        };
        let check_required = |required: &[RequiredMaterial], document| -> Result<(), Problem> {
            let scope = scope_for(document);
            required.iter().try_for_each(|entry| {
                known_material(&entry.material)?;
                check_condition(&entry.when, &scope)
            })
        };
        for (spec, file) in endorsements.iter().zip(&endorsement_files) {
            let kind = spec.endorsement_type;
            check_required(&spec.materials, kind.document())
                .map_err(|problem| invalid(file, RecordKind::Endorsement, kind.code(), problem))?;
        }

        // Material sets. Conditions in a set are checked against each item that uses it.
        let mut set_seen = HashMap::new();
        let mut sets: HashMap<String, Vec<RequiredMaterial>> = HashMap::new();
        for Tagged { file, record } in self.material_sets {
            let at = |problem| invalid(&file, RecordKind::MaterialSet, &record.id, problem);
            if !is_slug(&record.id) {
                return Err(at(Problem::BadId));
            }
            register(&mut set_seen, &record.id, &file).map_err(at)?;
            if record.materials.is_empty() {
                return Err(at(Problem::Empty {
                    field: "material".to_owned(),
                }));
            }
            record
                .materials
                .iter()
                .try_for_each(|entry| known_material(&entry.material))
                .map_err(at)?;
            sets.insert(record.id, record.materials);
        }

        // Time-limit profiles (exit-entry.md §4): no zero, no duplicate class, `normal` present.
        let mut profile_seen = HashMap::new();
        let mut profiles: HashMap<String, Vec<TimeLimit>> = HashMap::new();
        for Tagged { file, record } in self.profiles {
            let at = |problem| invalid(&file, RecordKind::TimeLimitProfile, &record.id, problem);
            if !is_slug(&record.id) {
                return Err(at(Problem::BadId));
            }
            register(&mut profile_seen, &record.id, &file).map_err(at)?;
            check_time_limits(&record.limits).map_err(at)?;
            profiles.insert(record.id, record.limits);
        }

        // Flows.
        let mut flow_seen = HashMap::new();
        let mut flows: HashMap<String, Vec<Text>> = HashMap::new();
        for Tagged { file, record } in self.flows {
            let at = |problem| invalid(&file, RecordKind::Flow, &record.id, problem);
            if !is_slug(&record.id) {
                return Err(at(Problem::BadId));
            }
            register(&mut flow_seen, &record.id, &file).map_err(at)?;
            check_texts(&record.steps, "steps").map_err(at)?;
            flows.insert(record.id, record.steps);
        }

        // Service items (R1).
        let mut item_seen = HashMap::new();
        let mut item_index = HashMap::new();
        let mut pairs: HashMap<(DocumentType, ApplicationCategory), String> = HashMap::new();
        let mut items = Vec::new();
        for Tagged { file, record } in self.items {
            let at = |problem| invalid(&file, RecordKind::Item, &record.id, problem);
            if !is_slug(&record.id) {
                return Err(at(Problem::BadId));
            }
            register(&mut item_seen, &record.id, &file).map_err(at)?;
            let document = record.document_type;
            let category = record.category;
            if !doc_seen.contains_key(document.code()) {
                return Err(at(Problem::UnknownDocumentType(document)));
            }
            if !category.applies_to(document) {
                return Err(at(Problem::CategoryNotForDocument { category }));
            }
            if let Some(other_id) = pairs.get(&(document, category)) {
                return Err(at(Problem::DuplicateItem {
                    other_id: other_id.clone(),
                }));
            }
            pairs.insert((document, category), record.id.clone());
            check_text(&record.name, "name").map_err(at)?;
            if record.basis.is_empty() {
                return Err(at(Problem::Empty {
                    field: "basis".to_owned(),
                }));
            }
            for (index, basis) in record.basis.iter().enumerate() {
                check_nonempty(basis, &format!("basis[{}]", index + 1)).map_err(at)?;
            }
            check_texts(&record.conditions, "conditions").map_err(at)?;
            check_note(record.note.as_ref(), "note").map_err(at)?;
            if !expected_fee_rule(category, &record.fee) {
                return Err(at(Problem::FeeRuleMismatch { category }));
            }
            if let FeeRule::PerAnnotation(schedule) = &record.fee {
                known_fee(schedule).map_err(at)?;
            }
            let endorsements_ok = match (document, category) {
                (DocumentType::Passport, _) => !record.endorsements_allowed,
                (_, ApplicationCategory::Endorsement) => record.endorsements_allowed,
                _ => true,
            };
            if !endorsements_ok {
                return Err(at(Problem::EndorsementsAllowedMismatch));
            }

            let mut required = Vec::new();
            for set in &record.material_sets {
                let entries = sets
                    .get(set)
                    .ok_or_else(|| at(Problem::UnknownMaterialSet(set.clone())))?;
                required.extend(entries.iter().cloned());
            }
            required.extend(record.materials.iter().cloned());
            if required.is_empty() {
                return Err(at(Problem::NoMaterials));
            }
            check_required(&required, document).map_err(at)?;

            let flow = flows
                .get(&record.flow)
                .ok_or_else(|| at(Problem::UnknownFlow(record.flow.clone())))?
                .clone();
            let time_limits = profiles
                .get(&record.time_limits)
                .ok_or_else(|| at(Problem::UnknownTimeLimitProfile(record.time_limits.clone())))?
                .clone();

            item_index.insert(record.id.clone(), items.len());
            items.push(ServiceItem {
                id: record.id,
                document_type: document,
                category,
                name: record.name,
                basis: record.basis,
                conditions: record.conditions,
                materials: required,
                flow,
                time_limits,
                bookable: record.bookable,
                emergency_eligible: record.emergency_eligible,
                needs_old_document_number: record.needs_old_document_number,
                endorsements_allowed: record.endorsements_allowed,
                fee: record.fee,
                note: record.note,
            });
        }

        // Green-channel reasons (exit-entry.md §4.1).
        let mut reason_seen = HashMap::new();
        let mut emergency_reasons = Vec::new();
        for Tagged { file, record } in self.emergency_reasons {
            let at = |problem| invalid(&file, RecordKind::EmergencyReason, &record.code, problem);
            if !is_slug(&record.code) {
                return Err(at(Problem::BadId));
            }
            register(&mut reason_seen, &record.code, &file).map_err(at)?;
            check_text(&record.name, "name").map_err(at)?;
            check_nonempty(&record.basis, "basis").map_err(at)?;
            check_note(record.note.as_ref(), "note").map_err(at)?;
            if record.supporting_documents.is_empty() {
                return Err(at(Problem::Empty {
                    field: "supporting_documents".to_owned(),
                }));
            }
            record
                .supporting_documents
                .iter()
                .try_for_each(|id| known_material(id))
                .map_err(at)?;
            emergency_reasons.push(record);
        }

        // English renderings of citations: one per Chinese text, neither empty.
        let mut citation_seen = HashMap::new();
        let mut citations = HashMap::new();
        for Tagged { file, record } in self.citations {
            let at = |problem| invalid(&file, RecordKind::Citation, &record.zh, problem);
            register(&mut citation_seen, &record.zh, &file).map_err(at)?;
            check_nonempty(&record.zh, "zh").map_err(at)?;
            check_nonempty(&record.en, "en").map_err(at)?;
            citations.insert(record.zh, record.en);
        }

        Ok(Catalog {
            citations,
            fee_schedules,
            documents,
            materials,
            endorsements,
            items,
            emergency_reasons,
            fee_index,
            material_index,
            item_index,
            option_index,
        })
    }
}
