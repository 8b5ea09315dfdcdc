//! What can be wrong in catalog data (each problem named, with the file and record), and the catalog's user-facing error.

use super::*;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The kind of record a validation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    FeeSchedule,
    Document,
    Material,
    MaterialSet,
    TimeLimitProfile,
    Flow,
    Endorsement,
    Item,
    EmergencyReason,
    Citation,
}

impl RecordKind {
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            RecordKind::FeeSchedule => pick(lang, "收费标准", "fee schedule"),
            RecordKind::Document => pick(lang, "证件类型", "document"),
            RecordKind::Material => pick(lang, "材料", "material"),
            RecordKind::MaterialSet => pick(lang, "材料组", "material set"),
            RecordKind::TimeLimitProfile => pick(lang, "时限方案", "time-limit profile"),
            RecordKind::Flow => pick(lang, "办理流程", "flow"),
            RecordKind::Endorsement => pick(lang, "签注种类", "endorsement"),
            RecordKind::Item => pick(lang, "事项", "item"),
            RecordKind::EmergencyReason => pick(lang, "紧急事由", "emergency reason"),
            RecordKind::Citation => pick(lang, "依据译名", "citation"),
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name(Lang::En))
    }
}

/// What is wrong with a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The record does not match the expected shape (serde's message).
    Malformed(String),
    /// An id or code is not a lowercase slug (`a-z`, `0-9`, `-`).
    BadId,
    DuplicateId {
        first_file: String,
    },
    /// A second item for the same document type and category.
    DuplicateItem {
        other_id: String,
    },
    MissingText {
        field: String,
        lang: Lang,
    },
    Empty {
        field: String,
    },
    UnknownMaterial(String),
    UnknownMaterialSet(String),
    UnknownFeeSchedule(String),
    UnknownTimeLimitProfile(String),
    UnknownFlow(String),
    UnknownDocumentType(DocumentType),
    UnknownEndorsementType(EndorsementType),
    UnknownEndorsementOption(String),
    EndorsementOfOtherDocument {
        endorsement: EndorsementType,
    },
    EmptyFeeSchedule,
    FeeScheduleNotSorted {
        date: Date,
    },
    NonPositiveFee {
        fee_fen: i64,
    },
    NoMaterials,
    ZeroTimeLimit {
        class: TimeLimitClass,
    },
    DuplicateTimeLimitClass {
        class: TimeLimitClass,
    },
    MissingNormalTimeLimit,
    ZeroValue {
        field: String,
    },
    AgeBands,
    CategoryNotForDocument {
        category: ApplicationCategory,
    },
    FeeRuleMismatch {
        category: ApplicationCategory,
    },
    EndorsementsAllowedMismatch,
    WrongDestination {
        destination: Destination,
    },
}

impl Problem {
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Malformed(_) => "catalog.malformed",
            Problem::BadId => "catalog.bad_id",
            Problem::DuplicateId { .. } => "catalog.duplicate_id",
            Problem::DuplicateItem { .. } => "catalog.duplicate_item",
            Problem::MissingText { .. } => "catalog.missing_text",
            Problem::Empty { .. } => "catalog.empty",
            Problem::UnknownMaterial(_) => "catalog.unknown_material",
            Problem::UnknownMaterialSet(_) => "catalog.unknown_material_set",
            Problem::UnknownFeeSchedule(_) => "catalog.unknown_fee_schedule",
            Problem::UnknownTimeLimitProfile(_) => "catalog.unknown_time_limit_profile",
            Problem::UnknownFlow(_) => "catalog.unknown_flow",
            Problem::UnknownDocumentType(_) => "catalog.unknown_document_type",
            Problem::UnknownEndorsementType(_) => "catalog.unknown_endorsement_type",
            Problem::UnknownEndorsementOption(_) => "catalog.unknown_endorsement_option",
            Problem::EndorsementOfOtherDocument { .. } => "catalog.endorsement_of_other_document",
            Problem::EmptyFeeSchedule => "catalog.empty_fee_schedule",
            Problem::FeeScheduleNotSorted { .. } => "catalog.fee_schedule_not_sorted",
            Problem::NonPositiveFee { .. } => "catalog.non_positive_fee",
            Problem::NoMaterials => "catalog.no_materials",
            Problem::ZeroTimeLimit { .. } => "catalog.zero_time_limit",
            Problem::DuplicateTimeLimitClass { .. } => "catalog.duplicate_time_limit_class",
            Problem::MissingNormalTimeLimit => "catalog.missing_normal_time_limit",
            Problem::ZeroValue { .. } => "catalog.zero_value",
            Problem::AgeBands => "catalog.age_bands",
            Problem::CategoryNotForDocument { .. } => "catalog.category_not_for_document",
            Problem::FeeRuleMismatch { .. } => "catalog.fee_rule_mismatch",
            Problem::EndorsementsAllowedMismatch => "catalog.endorsements_allowed_mismatch",
            Problem::WrongDestination { .. } => "catalog.wrong_destination",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            Problem::Malformed(detail) if zh => format!("格式错误：{detail}"),
            Problem::Malformed(detail) => format!("malformed: {detail}"),
            Problem::BadId if zh => "标识只能由小写字母、数字和连字符组成".to_owned(),
            Problem::BadId => "the id must be a lowercase slug (a-z, 0-9, -)".to_owned(),
            Problem::DuplicateId { first_file } if zh => {
                format!("标识重复，已在 {first_file} 中定义")
            }
            Problem::DuplicateId { first_file } => {
                format!("duplicate id, already defined in {first_file}")
            }
            Problem::DuplicateItem { other_id } if zh => {
                format!("与事项“{other_id}”的证件类型和申请类别相同")
            }
            Problem::DuplicateItem { other_id } => {
                format!("same document type and category as item `{other_id}`")
            }
            Problem::MissingText {
                field,
                lang: missing,
            } if zh => {
                let which = if *missing == Lang::ZhCn {
                    "中文"
                } else {
                    "英文"
                };
                format!("字段 {field} 缺少{which}文本")
            }
            Problem::MissingText {
                field,
                lang: missing,
            } => {
                let which = if *missing == Lang::ZhCn {
                    "Chinese"
                } else {
                    "English"
                };
                format!("{field}: missing {which} text")
            }
            Problem::Empty { field } if zh => format!("字段 {field} 不能为空"),
            Problem::Empty { field } => format!("{field} must not be empty"),
            Problem::UnknownMaterial(id) if zh => format!("引用了不存在的材料“{id}”"),
            Problem::UnknownMaterial(id) => format!("unknown material `{id}`"),
            Problem::UnknownMaterialSet(id) if zh => format!("引用了不存在的材料组“{id}”"),
            Problem::UnknownMaterialSet(id) => format!("unknown material set `{id}`"),
            Problem::UnknownFeeSchedule(id) if zh => format!("引用了不存在的收费标准“{id}”"),
            Problem::UnknownFeeSchedule(id) => format!("unknown fee schedule `{id}`"),
            Problem::UnknownTimeLimitProfile(id) if zh => {
                format!("引用了不存在的时限方案“{id}”")
            }
            Problem::UnknownTimeLimitProfile(id) => format!("unknown time-limit profile `{id}`"),
            Problem::UnknownFlow(id) if zh => format!("引用了不存在的办理流程“{id}”"),
            Problem::UnknownFlow(id) => format!("unknown flow `{id}`"),
            Problem::UnknownDocumentType(doc) if zh => {
                format!("证件类型“{}”没有定义", doc.name(Lang::ZhCn))
            }
            Problem::UnknownDocumentType(doc) => format!("document type `{doc}` is not defined"),
            Problem::UnknownEndorsementType(kind) if zh => {
                format!("签注种类“{kind}”没有定义")
            }
            Problem::UnknownEndorsementType(kind) => {
                format!("endorsement type `{kind}` is not defined")
            }
            Problem::UnknownEndorsementOption(id) if zh => {
                format!("引用了不存在的签注选项“{id}”")
            }
            Problem::UnknownEndorsementOption(id) => format!("unknown endorsement option `{id}`"),
            Problem::EndorsementOfOtherDocument { endorsement } if zh => {
                format!("签注“{endorsement}”不属于本证件")
            }
            Problem::EndorsementOfOtherDocument { endorsement } => {
                format!("endorsement `{endorsement}` belongs to another document type")
            }
            Problem::EmptyFeeSchedule if zh => "收费标准没有任何收费条目".to_owned(),
            Problem::EmptyFeeSchedule => "the fee schedule has no entry".to_owned(),
            Problem::FeeScheduleNotSorted { date } if zh => {
                format!("收费条目未按生效日期严格递增排列（{date}）")
            }
            Problem::FeeScheduleNotSorted { date } => {
                format!("fee entries are not in strictly increasing date order (at {date})")
            }
            Problem::NonPositiveFee { fee_fen } if zh => {
                format!("收费金额必须为正数（{fee_fen} 分）")
            }
            Problem::NonPositiveFee { fee_fen } => {
                format!("fee must be positive (got {fee_fen} fen)")
            }
            Problem::NoMaterials if zh => "事项没有任何申请材料".to_owned(),
            Problem::NoMaterials => "the item has no materials".to_owned(),
            Problem::ZeroTimeLimit { class } if zh => {
                format!("时限“{}”不能为零", class.name(Lang::ZhCn))
            }
            Problem::ZeroTimeLimit { class } => format!("time limit `{class}` must not be zero"),
            Problem::DuplicateTimeLimitClass { class } if zh => {
                format!("时限“{}”重复", class.name(Lang::ZhCn))
            }
            Problem::DuplicateTimeLimitClass { class } => {
                format!("time limit `{class}` is given twice")
            }
            Problem::MissingNormalTimeLimit if zh => "缺少户籍地办理时限".to_owned(),
            Problem::MissingNormalTimeLimit => "the `normal` time limit is missing".to_owned(),
            Problem::ZeroValue { field } if zh => format!("字段 {field} 不能为零"),
            Problem::ZeroValue { field } => format!("{field} must not be zero"),
            Problem::AgeBands if zh => {
                "有效期年龄段须从0岁起连续覆盖所有年龄，且最后一段不设上限".to_owned()
            }
            Problem::AgeBands => {
                "validity age bands must start at 0, be contiguous and end open".to_owned()
            }
            Problem::CategoryNotForDocument { category } if zh => {
                format!("本证件没有“{}”类别", category.name(Lang::ZhCn))
            }
            Problem::CategoryNotForDocument { category } => {
                format!("category `{category}` does not exist for this document type")
            }
            Problem::FeeRuleMismatch { category } if zh => {
                format!("收费规则与申请类别“{}”不符", category.name(Lang::ZhCn))
            }
            Problem::FeeRuleMismatch { category } => {
                format!("the fee rule does not fit category `{category}`")
            }
            Problem::EndorsementsAllowedMismatch if zh => {
                "签注事项必须允许签注，护照事项不能允许签注".to_owned()
            }
            Problem::EndorsementsAllowedMismatch => {
                "endorsements_allowed must be true for endorsement items and false for passports"
                    .to_owned()
            }
            Problem::WrongDestination { destination } if zh => {
                format!("目的地“{}”与证件不符", destination.name(Lang::ZhCn))
            }
            Problem::WrongDestination { destination } => format!(
                "destination `{}` does not fit the permit",
                destination.name(Lang::En)
            ),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

/// Why the catalog could not be loaded. Every variant names the file; validation errors
/// also name the record (item id, material id …) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read catalog directory {dir}: {reason}")]
    ReadDir { dir: String, reason: String },
    #[error("catalog directory {dir} holds no .toml file")]
    NoFiles { dir: String },
    #[error("cannot read catalog file {file}: {reason}")]
    ReadFile { file: String, reason: String },
    #[error("catalog file {file} is not valid TOML: {reason}")]
    Syntax { file: String, reason: String },
    #[error("catalog file {file}: unknown section `{section}`")]
    UnknownSection { file: String, section: String },
    #[error("catalog file {file}, {kind} `{id}`: {problem}")]
    Invalid {
        file: String,
        kind: RecordKind,
        id: String,
        problem: Problem,
    },
}

impl UserMessage for CatalogError {
    fn code(&self) -> &'static str {
        match self {
            CatalogError::ReadDir { .. } => "catalog.read_dir",
            CatalogError::NoFiles { .. } => "catalog.no_files",
            CatalogError::ReadFile { .. } => "catalog.read_file",
            CatalogError::Syntax { .. } => "catalog.syntax",
            CatalogError::UnknownSection { .. } => "catalog.unknown_section",
            CatalogError::Invalid { problem, .. } => problem.code(),
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                CatalogError::ReadDir { dir, reason } => {
                    format!("无法读取服务目录文件夹 {dir}：{reason}")
                }
                CatalogError::NoFiles { dir } => format!("服务目录文件夹 {dir} 中没有 .toml 文件"),
                CatalogError::ReadFile { file, reason } => {
                    format!("无法读取服务目录文件 {file}：{reason}")
                }
                CatalogError::Syntax { file, reason } => {
                    format!("服务目录文件 {file} 不是有效的 TOML：{reason}")
                }
                CatalogError::UnknownSection { file, section } => {
                    format!("服务目录文件 {file}：未知的部分“{section}”")
                }
                CatalogError::Invalid {
                    file,
                    kind,
                    id,
                    problem,
                } => format!(
                    "服务目录文件 {file}，{}“{id}”：{}",
                    kind.name(Lang::ZhCn),
                    problem.message(Lang::ZhCn)
                ),
            },
        }
    }
}
