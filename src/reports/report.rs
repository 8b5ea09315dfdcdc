//! A report: the figures of a range of days at a site next to the period before, as tables
//! (the page, the CSV and the spreadsheet all show these same cells) and a daily series for
//! the charts.

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::Row;

use super::read::{self, Totals};
use super::{Dim, Measure};
use crate::i18n::Lang;

/// One cell of a report table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A share in per cent, a duration in minutes or a sum of yuan, to one decimal.
    Real(f64),
    /// No figure (nothing to measure).
    Empty,
}

impl Cell {
    fn share(part: i64, whole: i64) -> Cell {
        if whole == 0 {
            Cell::Empty
        } else {
            Cell::Real(round1(part as f64 * 100.0 / whole as f64))
        }
    }
    fn minutes(m: Option<i64>) -> Cell {
        m.map(Cell::Int).unwrap_or(Cell::Empty)
    }
    /// How the page shows it.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Real(x) => format!("{x:.1}"),
            Cell::Empty => "—".into(),
        }
    }
    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Real(_))
    }
    fn number(&self) -> Option<f64> {
        match self {
            Cell::Int(n) => Some(*n as f64),
            Cell::Real(x) => Some(*x),
            _ => None,
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A titled table with its column headings.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Table {
    /// Stable name, used by the exports (`?table=`).
    pub id: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One day of the daily series.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DayPoint {
    #[schema(format = Date)]
    pub date: String,
    pub issued: i64,
    pub served: i64,
    pub accepted: i64,
    pub wait_median_minutes: Option<i64>,
    pub wait_p90_minutes: Option<i64>,
    /// Share of journeys within 16 minutes, per cent.
    pub journey_within_share: Option<f64>,
}

/// A site's report for a range.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub site: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    /// The period of equal length just before, compared with.
    #[schema(format = Date)]
    pub previous_from: String,
    #[schema(format = Date)]
    pub previous_to: String,
    /// The headline: first HK/Macao applications from arrival to receipt within 16 minutes, per
    /// cent (`None`: none in the range).
    pub headline_within_share: Option<f64>,
    pub headline_count: i64,
    pub tables: Vec<Table>,
    pub daily: Vec<DayPoint>,
}

/// The longest range a report covers (a year and a bit, for a leap year's comparison).
pub const MAX_DAYS: i64 = 400;

/// A valid range of days: `from` ≤ `to`, at most `MAX_DAYS` long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: Date,
    pub to: Date,
    previous_from: Date,
    previous_to: Date,
}

impl Range {
    /// A range whose comparison period exists too: a range reaching back to the calendar's
    /// first days is refused rather than compared with itself.
    pub fn new(from: Date, to: Date) -> Result<Range, RangeError> {
        if from > to {
            return Err(RangeError::Reversed);
        }
        if (to - from).get_days() as i64 >= MAX_DAYS {
            return Err(RangeError::TooLong);
        }
        let days = (to - from).get_days() as i64 + 1;
        let previous_to = from.yesterday().map_err(|_| RangeError::BadDate("from"))?;
        let previous_from = previous_to
            .checked_sub((days - 1).days())
            .map_err(|_| RangeError::BadDate("from"))?;
        Ok(Range {
            from,
            to,
            previous_from,
            previous_to,
        })
    }
    /// The period of the same length just before: (first day, last day).
    pub fn previous(&self) -> (Date, Date) {
        (self.previous_from, self.previous_to)
    }
}

/// Why a report cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("{0}: dates look like 2026-12-03")]
    BadDate(&'static str),
    #[error("the range ends before it starts")]
    Reversed,
    #[error("a report covers at most 400 days")]
    TooLong,
    #[error("no table {0:?} in the report")]
    UnknownTable(String),
    #[error("exports are csv or xlsx")]
    UnknownFormat,
}

impl crate::i18n::UserMessage for RangeError {
    fn code(&self) -> &'static str {
        match self {
            RangeError::BadDate(_) => "report.bad_date",
            RangeError::Reversed => "report.range_reversed",
            RangeError::TooLong => "report.range_too_long",
            RangeError::UnknownTable(_) => "report.unknown_table",
            RangeError::UnknownFormat => "report.unknown_format",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match self {
            RangeError::BadDate(field) => match lang {
                Lang::ZhCn => format!(
                    "{}日期格式应为 2026-12-03。",
                    if *field == "from" { "开始" } else { "结束" }
                ),
                Lang::En => format!("{field}: dates look like 2026-12-03."),
            },
            RangeError::Reversed => lang
                .pick("结束日期早于开始日期。", "The range ends before it starts.")
                .into(),
            RangeError::TooLong => lang
                .pick(
                    "一份报表最多覆盖 400 天。",
                    "A report covers at most 400 days.",
                )
                .into(),
            RangeError::UnknownTable(t) => match lang {
                Lang::ZhCn => format!("报表中没有“{t}”这张表。"),
                Lang::En => format!("The report has no table “{t}”."),
            },
            RangeError::UnknownFormat => lang
                .pick("导出格式只能是 csv 或 xlsx。", "Exports are csv or xlsx.")
                .into(),
        }
    }
}

/// Names of what the keys stand for, in the page's language.
pub struct Names {
    pub lang: Lang,
    pub lines: BTreeMap<String, String>,
    pub officers: BTreeMap<String, String>,
    pub windows: BTreeMap<String, String>,
    pub green_reasons: BTreeMap<String, String>,
}

impl Names {
    pub async fn load(
        state: &crate::web::AppState,
        site_id: i64,
        lang: Lang,
    ) -> Result<Names, sqlx::Error> {
        let reader = state.db.reader();
        let officers = sqlx::query("SELECT id, display_name, badge_no FROM staff")
            .fetch_all(reader)
            .await?
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let name: String = r.try_get("display_name")?;
                let badge: String = r.try_get("badge_no")?;
                Ok((id.to_string(), format!("{name} ({badge})")))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        let windows = sqlx::query("SELECT id, number FROM windows WHERE site_id = $1")
            .bind(site_id)
            .fetch_all(reader)
            .await?
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let number: i64 = r.try_get("number")?;
                Ok((
                    id.to_string(),
                    format!("{} {number}", lang.pick("窗口", "Window")),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Names {
            lang,
            lines: state
                .lines
                .all()
                .iter()
                .map(|l| (l.code.clone(), l.name(lang).to_string()))
                .collect(),
            officers,
            windows,
            green_reasons: state
                .catalog
                .emergency_reasons()
                .iter()
                .map(|r| (r.code.clone(), r.name.get(lang).to_string()))
                .collect(),
        })
    }

    fn pick(&self, zh: &str, en: &str) -> String {
        self.lang.pick(zh, en).to_string()
    }

    fn key(&self, dim: Dim, key: &str) -> String {
        let found = match dim {
            Dim::Site => None,
            Dim::Line => self.lines.get(key).cloned(),
            Dim::Officer => self.officers.get(key).cloned(),
            Dim::Window => self.windows.get(key).cloned(),
            Dim::Item => key.split_once('.').and_then(|(doc, cat)| {
                let doc = crate::catalog::DocumentType::ALL
                    .into_iter()
                    .find(|d| d.code() == doc)?;
                let cat = crate::catalog::ApplicationCategory::ALL
                    .into_iter()
                    .find(|c| c.code() == cat)?;
                Some(format!("{} · {}", doc.name(self.lang), cat.name(self.lang)))
            }),
        };
        found.unwrap_or_else(|| key.to_string())
    }
}

fn percent(t: &Totals, key: &str, part: &str, whole: &str) -> Cell {
    Cell::share(t.count(key, part), t.count(key, whole))
}

fn satisfied(t: &Totals, key: &str) -> (i64, i64) {
    let levels = t.with_prefix(key, "rating.");
    let all: i64 = levels.values().sum();
    let good = levels.get("very_satisfied").copied().unwrap_or(0)
        + levels.get("satisfied").copied().unwrap_or(0);
    (good, all)
}

/// The summary figures: (id, zh, en, cell) for a period's site totals.
fn summary_cells(t: &Totals) -> Vec<(&'static str, &'static str, &'static str, Cell)> {
    let s = "";
    let wait = t.minutes(s, Measure::Wait);
    let service = t.minutes(s, Measure::Service);
    let journey = t.minutes(s, Measure::Journey);
    let headline = t.minutes(s, Measure::Headline);
    let (good, rated) = satisfied(t, s);
    let bookings = t.with_prefix(s, "booking.");
    let booked_with = |status: &str| -> i64 {
        bookings
            .iter()
            .filter(|(k, _)| k.ends_with(&format!(".{status}")))
            .map(|(_, n)| n)
            .sum()
    };
    let limits = t.with_prefix(s, "limit.");
    let limit = |k: &str| limits.get(k).copied().unwrap_or(0);
    let due = limit("on_time") + limit("late") + limit("overdue");
    let payments = t.with_prefix(s, "pay.");
    let fen: i64 = payments
        .iter()
        .filter(|(k, _)| k.ends_with(".fen"))
        .map(|(_, n)| n)
        .sum();
    vec![
        (
            "headline_within",
            "首次申请港澳通行证 16 分钟内办结（%）",
            "First HK/Macao applications within 16 min (%)",
            percent(t, s, "headline.within", "headline.n"),
        ),
        (
            "headline_median",
            "首次港澳通行证全程时长中位数（分钟）",
            "First HK/Macao journey, median (min)",
            Cell::minutes(headline.quantile(0.5)),
        ),
        (
            "journey_within",
            "到达至受理回执 16 分钟内（%）",
            "Arrival to receipt within 16 min (%)",
            percent(t, s, "journey.within", "journey.n"),
        ),
        (
            "journey_median",
            "全程时长中位数（分钟）",
            "Journey, median (min)",
            Cell::minutes(journey.quantile(0.5)),
        ),
        (
            "journey_p90",
            "全程时长 90 分位（分钟）",
            "Journey, 90th percentile (min)",
            Cell::minutes(journey.quantile(0.9)),
        ),
        (
            "issued",
            "取号",
            "Tickets issued",
            Cell::Int(t.count(s, "issued")),
        ),
        (
            "served",
            "办结",
            "Tickets served",
            Cell::Int(t.count(s, "served")),
        ),
        (
            "missed",
            "过号",
            "Tickets missed",
            Cell::Int(t.count(s, "missed")),
        ),
        (
            "wait_median",
            "等候时长中位数（分钟）",
            "Wait, median (min)",
            Cell::minutes(wait.quantile(0.5)),
        ),
        (
            "wait_p90",
            "等候时长 90 分位（分钟）",
            "Wait, 90th percentile (min)",
            Cell::minutes(wait.quantile(0.9)),
        ),
        (
            "service_median",
            "办理时长中位数（分钟）",
            "Service, median (min)",
            Cell::minutes(service.quantile(0.5)),
        ),
        (
            "service_p90",
            "办理时长 90 分位（分钟）",
            "Service, 90th percentile (min)",
            Cell::minutes(service.quantile(0.9)),
        ),
        (
            "accepted",
            "受理",
            "Applications accepted",
            Cell::Int(t.count(s, "accepted")),
        ),
        (
            "refused",
            "不予受理",
            "Applications refused",
            Cell::Int(t.count(s, "refused")),
        ),
        (
            "expedited",
            "加急",
            "Expedited",
            Cell::Int(t.count(s, "expedited")),
        ),
        (
            "self_service",
            "自助签注占比（%）",
            "Self-service share (%)",
            percent(t, s, "self_service", "accepted"),
        ),
        (
            "green",
            "绿色通道",
            "Green channel",
            Cell::Int(t.count(s, "class.green")),
        ),
        (
            "booked",
            "预约",
            "Appointments booked",
            Cell::Int(bookings.values().sum()),
        ),
        (
            "arrived",
            "预约到场",
            "Appointments kept",
            Cell::Int(booked_with("arrived")),
        ),
        (
            "no_show",
            "预约爽约",
            "Appointment no-shows",
            Cell::Int(booked_with("no_show")),
        ),
        (
            "on_time",
            "按承诺时限制证（%）",
            "Documents ready by the promised date (%)",
            Cell::share(limit("on_time"), due),
        ),
        (
            "overdue",
            "超期未制证",
            "Documents overdue",
            Cell::Int(limit("overdue")),
        ),
        (
            "paid_yuan",
            "收费（元）",
            "Fees taken (yuan)",
            Cell::Real(round1(fen as f64 / 100.0)),
        ),
        (
            "satisfied",
            "满意率（%）",
            "Satisfaction (%)",
            Cell::share(good, rated),
        ),
        ("rated", "评价数", "Ratings", Cell::Int(rated)),
        (
            "complaints",
            "投诉",
            "Complaints",
            Cell::Int(t.count(s, "complaints")),
        ),
        (
            "error_rate",
            "差错率（‰）",
            "Error rate (‰)",
            if t.count(s, "accepted") == 0 {
                Cell::Empty
            } else {
                Cell::Real(round1(
                    t.count(s, "errors") as f64 * 1000.0 / t.count(s, "accepted") as f64,
                ))
            },
        ),
    ]
}

fn summary_table(now: &Totals, before: &Totals, names: &Names) -> Table {
    let rows = summary_cells(now)
        .into_iter()
        .zip(summary_cells(before))
        .map(|((id, zh, en, cur), (_, _, _, prev))| {
            // A period with nothing recorded (before the hall used onetrip) compares with nothing.
            let prev = if before.counts.is_empty() {
                Cell::Empty
            } else {
                prev
            };
            let change = match (&cur, &prev) {
                (Cell::Int(c), Cell::Int(p)) => Cell::Int(c - p),
                (c, p) => match (c.number(), p.number()) {
                    (Some(c), Some(p)) => Cell::Real(round1(c - p)),
                    _ => Cell::Empty,
                },
            };
            vec![
                Cell::Text(id.into()),
                Cell::Text(names.pick(zh, en)),
                cur,
                prev,
                change,
            ]
        })
        .collect();
    Table {
        id: "summary".into(),
        title: names.pick("总览", "Summary"),
        columns: vec![
            names.pick("指标代码", "Code"),
            names.pick("指标", "Figure"),
            names.pick("本期", "This period"),
            names.pick("上期", "Previous period"),
            names.pick("变化", "Change"),
        ],
        rows,
    }
}

fn breakdown_table(dim: Dim, t: &Totals, names: &Names) -> Table {
    let (id, zh, en) = match dim {
        Dim::Line => ("by_line", "按业务线", "By line"),
        Dim::Officer => ("by_officer", "按民警", "By officer"),
        Dim::Window => ("by_window", "按窗口", "By window"),
        Dim::Item | Dim::Site => ("by_item", "按证件和申请类别", "By document and category"),
    };
    let mut columns = vec![names.pick("项目", "Item")];
    let rows: Vec<Vec<Cell>> = if dim == Dim::Item {
        columns.extend([
            names.pick("受理", "Accepted"),
            names.pick("全程中位数（分钟）", "Journey median (min)"),
            names.pick("16 分钟内（%）", "Within 16 min (%)"),
        ]);
        t.keys()
            .iter()
            .map(|k| {
                vec![
                    Cell::Text(names.key(dim, k)),
                    Cell::Int(t.count(k, "accepted")),
                    Cell::minutes(t.minutes(k, Measure::Journey).quantile(0.5)),
                    percent(t, k, "journey.within", "journey.n"),
                ]
            })
            .collect()
    } else {
        // Tickets are issued to a line, not to an officer or a window: the column is the
        // line table's only.
        if dim == Dim::Line {
            columns.push(names.pick("取号", "Issued"));
        }
        columns.extend([
            names.pick("办结", "Served"),
            names.pick("过号", "Missed"),
            names.pick("等候中位数（分钟）", "Wait median (min)"),
            names.pick("等候 90 分位", "Wait p90"),
            names.pick("办理中位数（分钟）", "Service median (min)"),
            names.pick("办理 90 分位", "Service p90"),
            names.pick("受理", "Accepted"),
            names.pick("16 分钟内（%）", "Within 16 min (%)"),
            names.pick("满意率（%）", "Satisfaction (%)"),
        ]);
        t.keys()
            .iter()
            .map(|k| {
                let wait = t.minutes(k, Measure::Wait);
                let service = t.minutes(k, Measure::Service);
                let (good, rated) = satisfied(t, k);
                let mut row = vec![Cell::Text(names.key(dim, k))];
                if dim == Dim::Line {
                    row.push(Cell::Int(t.count(k, "issued")));
                }
                row.extend([
                    Cell::Int(t.count(k, "served")),
                    Cell::Int(t.count(k, "missed")),
                    Cell::minutes(wait.quantile(0.5)),
                    Cell::minutes(wait.quantile(0.9)),
                    Cell::minutes(service.quantile(0.5)),
                    Cell::minutes(service.quantile(0.9)),
                    Cell::Int(t.count(k, "accepted")),
                    percent(t, k, "journey.within", "journey.n"),
                    Cell::share(good, rated),
                ]);
                row
            })
            .collect()
    };
    Table {
        id: id.into(),
        title: names.pick(zh, en),
        columns,
        rows,
    }
}

fn appointments_table(t: &Totals, names: &Names) -> Table {
    let bookings = t.with_prefix("", "booking.");
    let mut channels: Vec<String> = bookings
        .keys()
        .filter_map(|k| k.split_once('.').map(|(c, _)| c.to_string()))
        .collect();
    channels.dedup();
    let get = |c: &str, s: &str| bookings.get(&format!("{c}.{s}")).copied().unwrap_or(0);
    let rows = channels
        .iter()
        .map(|c| {
            let label = crate::booking::Channel::parse(c)
                .map(|ch| ch.name(names.lang).to_string())
                .unwrap_or_else(|| c.clone());
            let total = ["booked", "arrived", "no_show", "cancelled"]
                .iter()
                .map(|s| get(c, s))
                .sum();
            vec![
                Cell::Text(label),
                Cell::Int(total),
                Cell::Int(get(c, "arrived")),
                Cell::Int(get(c, "no_show")),
                Cell::Int(get(c, "cancelled")),
                Cell::Int(get(c, "booked")),
            ]
        })
        .collect();
    Table {
        id: "appointments".into(),
        title: names.pick("预约（按渠道）", "Appointments by channel"),
        columns: vec![
            names.pick("渠道", "Channel"),
            names.pick("预约", "Booked"),
            names.pick("到场", "Arrived"),
            names.pick("爽约", "No-show"),
            names.pick("取消", "Cancelled"),
            names.pick("待到场", "Still due"),
        ],
        rows,
    }
}

fn green_table(t: &Totals, names: &Names) -> Table {
    let rows = t
        .with_prefix("", "green.")
        .into_iter()
        .map(|(reason, n)| {
            let label = names
                .green_reasons
                .get(&reason)
                .cloned()
                .unwrap_or_else(|| {
                    if reason == "other" {
                        names.pick("其他", "Other")
                    } else {
                        reason
                    }
                });
            vec![Cell::Text(label), Cell::Int(n)]
        })
        .collect();
    Table {
        id: "green_channel".into(),
        title: names.pick("绿色通道（按事由）", "Green channel by reason"),
        columns: vec![names.pick("事由", "Reason"), names.pick("人次", "Cases")],
        rows,
    }
}

fn payments_table(t: &Totals, names: &Names) -> Table {
    let pay = t.with_prefix("", "pay.");
    let rows = crate::payments::Method::ALL
        .into_iter()
        .filter(|m| pay.contains_key(&format!("{}.n", m.code())))
        .map(|m| {
            let get = |what: &str| {
                pay.get(&format!("{}.{what}", m.code()))
                    .copied()
                    .unwrap_or(0)
            };
            vec![
                Cell::Text(m.name(names.lang).to_string()),
                Cell::Int(get("n")),
                Cell::Real(round1(get("fen") as f64 / 100.0)),
                Cell::Real(round1(get("refunded") as f64 / 100.0)),
            ]
        })
        .collect();
    Table {
        id: "payments".into(),
        title: names.pick("收费（按方式）", "Payments by method"),
        columns: vec![
            names.pick("方式", "Method"),
            names.pick("笔数", "Payments"),
            names.pick("金额（元）", "Amount (yuan)"),
            names.pick("已退（元）", "Refunded (yuan)"),
        ],
        rows,
    }
}

fn satisfaction_table(t: &Totals, names: &Names) -> Table {
    let levels = t.with_prefix("", "rating.");
    let complaints = t.with_prefix("", "complaint.");
    let mut rows: Vec<Vec<Cell>> = crate::ratings::Level::ALL
        .into_iter()
        .map(|l| {
            vec![
                Cell::Text(names.pick("评价", "Rating")),
                Cell::Text(l.name(names.lang).to_string()),
                Cell::Int(levels.get(l.code()).copied().unwrap_or(0)),
            ]
        })
        .collect();
    rows.extend(complaints.into_iter().map(|(c, n)| {
        let label = crate::complaints::Category::parse(&c)
            .map(|x| x.name(names.lang).to_string())
            .unwrap_or(c);
        vec![
            Cell::Text(names.pick("投诉", "Complaint")),
            Cell::Text(label),
            Cell::Int(n),
        ]
    }));
    Table {
        id: "satisfaction".into(),
        title: names.pick("评价与投诉", "Ratings and complaints"),
        columns: vec![
            names.pick("类别", "Kind"),
            names.pick("项目", "Item"),
            names.pick("数量", "Count"),
        ],
        rows,
    }
}

fn daily_points(days: &BTreeMap<String, Totals>, range: Range) -> Vec<DayPoint> {
    let mut out = Vec::new();
    let mut d = range.from;
    while d <= range.to {
        let key = d.to_string();
        let t = days.get(&key).cloned().unwrap_or_default();
        let wait = t.minutes("", Measure::Wait);
        let within = percent(&t, "", "journey.within", "journey.n");
        out.push(DayPoint {
            date: key,
            issued: t.count("", "issued"),
            served: t.count("", "served"),
            accepted: t.count("", "accepted"),
            wait_median_minutes: wait.quantile(0.5),
            wait_p90_minutes: wait.quantile(0.9),
            journey_within_share: within.number(),
        });
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    out
}

fn daily_table(points: &[DayPoint], names: &Names) -> Table {
    let opt = |m: Option<i64>| m.map(Cell::Int).unwrap_or(Cell::Empty);
    Table {
        id: "daily".into(),
        title: names.pick("逐日", "Day by day"),
        columns: vec![
            names.pick("日期", "Date"),
            names.pick("取号", "Issued"),
            names.pick("办结", "Served"),
            names.pick("受理", "Accepted"),
            names.pick("等候中位数（分钟）", "Wait median (min)"),
            names.pick("等候 90 分位", "Wait p90"),
            names.pick("16 分钟内（%）", "Within 16 min (%)"),
        ],
        rows: points
            .iter()
            .map(|p| {
                vec![
                    Cell::Text(p.date.clone()),
                    Cell::Int(p.issued),
                    Cell::Int(p.served),
                    Cell::Int(p.accepted),
                    opt(p.wait_median_minutes),
                    opt(p.wait_p90_minutes),
                    p.journey_within_share
                        .map(Cell::Real)
                        .unwrap_or(Cell::Empty),
                ]
            })
            .collect(),
    }
}

/// Builds the report of `range` at a site from the aggregates (which the caller refreshed).
pub async fn build(
    reader: &sqlx::AnyPool,
    site_code: &str,
    site_id: i64,
    range: Range,
    names: &Names,
) -> Result<Report, sqlx::Error> {
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let (previous_from, previous_to) = range.previous();
    let now = read::totals(reader, site_id, Dim::Site, &from, &to).await?;
    let before = read::totals(
        reader,
        site_id,
        Dim::Site,
        &previous_from.to_string(),
        &previous_to.to_string(),
    )
    .await?;
    let mut tables = vec![summary_table(&now, &before, names)];
    for dim in Dim::BREAKDOWNS {
        let t = read::totals(reader, site_id, dim, &from, &to).await?;
        tables.push(breakdown_table(dim, &t, names));
    }
    tables.push(appointments_table(&now, names));
    tables.push(green_table(&now, names));
    tables.push(payments_table(&now, names));
    tables.push(satisfaction_table(&now, names));
    let daily = daily_points(&read::by_day(reader, site_id, &from, &to).await?, range);
    tables.push(daily_table(&daily, names));
    Ok(Report {
        site: site_code.to_string(),
        from,
        to,
        previous_from: previous_from.to_string(),
        previous_to: previous_to.to_string(),
        headline_within_share: percent(&now, "", "headline.within", "headline.n").number(),
        headline_count: now.count("", "headline.n"),
        tables,
        daily,
    })
}
