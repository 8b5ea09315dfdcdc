//! The monthly error rate per accepting officer (R13; seed 003 一: 差错率 in the window's
//! targets, 一月一评, the zero-error contest): of the applications an officer accepted in the
//! month, those with a data error reported at pickup (sent back to production), a document not
//! approved because of an acceptance mistake, or a refund for an officer's mistake, each with
//! the list behind the number. The goal line is zero.

pub mod web;

use serde::Serialize;
use sqlx::Row;

use crate::auth::grant::Lead;
use crate::auth::{Failure, Grant};
use crate::db::Db;
use crate::i18n::{Lang, UserMessage};

/// A kind of error traced to the accepting officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A data error found at pickup; the document was made again (更正).
    Correction,
    /// A document not approved because the application should not have been accepted as it was.
    Returned,
    /// A refund for an officer's mistake.
    Refund,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Correction => "correction",
            ErrorKind::Returned => "returned",
            ErrorKind::Refund => "refund",
        }
    }
    fn parse(s: &str) -> Option<ErrorKind> {
        [
            ErrorKind::Correction,
            ErrorKind::Returned,
            ErrorKind::Refund,
        ]
        .into_iter()
        .find(|k| k.code() == s)
    }
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            ErrorKind::Correction => {
                lang.pick("发证时发现差错（重新制证）", "Data error found at pickup")
            }
            ErrorKind::Returned => lang.pick(
                "受理差错被退回（不予批准）",
                "Not approved: acceptance mistake",
            ),
            ErrorKind::Refund => lang.pick("差错退费", "Refund for a mistake"),
        }
    }
}

/// One error behind a number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorItem {
    pub kind: ErrorKind,
    pub officer_id: i64,
    pub application_no: String,
    /// When the application was accepted (epoch milliseconds).
    pub accepted_at: i64,
    /// When the error was recorded (epoch milliseconds).
    pub at: i64,
    /// The note, reasons or refund reason recorded with it.
    pub detail: String,
}

/// One officer's month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfficerMonth {
    pub officer_id: i64,
    pub name: String,
    pub badge: String,
    pub accepted: i64,
    pub corrections: i64,
    pub returned: i64,
    pub refunds: i64,
    /// Accepted applications with at least one error.
    pub with_errors: i64,
    /// `with_errors / accepted` in basis points (1/100 of a percent); 0 is the goal.
    pub rate_bp: i64,
}

impl OfficerMonth {
    /// The rate as people read it: `0.00 %`, `12.50 %`.
    pub fn rate_text(&self) -> String {
        format!("{}.{:02} %", self.rate_bp / 100, self.rate_bp % 100)
    }
}

/// A site's month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthReport {
    /// `YYYY-MM`.
    pub month: String,
    pub officers: Vec<OfficerMonth>,
    /// The whole site, as one line (officer id 0).
    pub total: OfficerMonth,
    /// Every error behind the numbers, oldest first.
    pub items: Vec<ErrorItem>,
}

/// Why the report could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorRateError {
    #[error("month")]
    Month,
    #[error("other site")]
    OtherSite,
    #[error("not your role")]
    NotYourRole,
}

impl UserMessage for ErrorRateError {
    fn status(&self) -> axum::http::StatusCode {
        match self {
            ErrorRateError::Month => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            _ => axum::http::StatusCode::FORBIDDEN,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            ErrorRateError::Month => "error_rate.month",
            ErrorRateError::OtherSite => "error_rate.other_site",
            ErrorRateError::NotYourRole => "error_rate.not_your_role",
        }
    }
    fn message(&self, lang: Lang) -> String {
        match self {
            ErrorRateError::Month => lang.pick(
                "月份格式应为 YYYY-MM，例如 2026-11。",
                "The month is written YYYY-MM, e.g. 2026-11.",
            ),
            ErrorRateError::OtherSite => lang.pick(
                "您不能查看该办证点的差错率。",
                "You cannot see this site's error rate.",
            ),
            ErrorRateError::NotYourRole => lang.pick(
                "差错率由带班领导查看。",
                "The error rate is for the duty leader.",
            ),
        }
        .into()
    }
}

type Result<T> = std::result::Result<T, Failure<ErrorRateError>>;

/// The duty leader's grant.
pub fn leader(actor: &crate::auth::Actor) -> Result<Grant<'_, Lead>> {
    actor.grant_or(ErrorRateError::NotYourRole)
}

/// Parses `YYYY-MM` into the month's first day.
pub fn parse_month(s: &str) -> std::result::Result<jiff::civil::Date, ErrorRateError> {
    let s = s.trim();
    let (y, m) = s.split_once('-').ok_or(ErrorRateError::Month)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(ErrorRateError::Month);
    }
    let y: i16 = y.parse().map_err(|_| ErrorRateError::Month)?;
    let m: i8 = m.parse().map_err(|_| ErrorRateError::Month)?;
    if !(2000..=2100).contains(&y) {
        return Err(ErrorRateError::Month);
    }
    jiff::civil::Date::new(y, m, 1).map_err(|_| ErrorRateError::Month)
}

/// The site's month: per accepting officer, applications accepted in the month and the errors
/// later found in them (whenever found), with the list behind each number.
pub async fn month_report(
    db: &Db,
    grant: &Grant<'_, Lead>,
    site_id: i64,
    first_day: jiff::civil::Date,
) -> Result<MonthReport> {
    if !grant.covers(site_id) {
        return Err(Failure::Refused(ErrorRateError::OtherSite));
    }
    let next = first_day
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| Failure::Refused(ErrorRateError::Month))?;
    let (Some((from, _)), Some((to, _))) = (
        crate::clock::day_bounds_ms(first_day),
        crate::clock::day_bounds_ms(next),
    ) else {
        return Err(Failure::Refused(ErrorRateError::Month));
    };
    let mut conn = db.reader().acquire().await?;
    let accepted = sqlx::query(
        r#"
        SELECT officer_id, COUNT(*) AS n FROM applications
        WHERE site_id = $1 AND accepted_at >= $2 AND accepted_at < $3 AND officer_id IS NOT NULL
        GROUP BY officer_id
        "#,
    )
    .bind(site_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let items = sqlx::query(
        r#"
        SELECT 'correction' AS kind, a.id AS application_id, a.officer_id, a.application_no,
               a.accepted_at, e.reported_at AS at, e.note AS detail
        FROM data_errors e
        JOIN application_documents d ON d.id = e.document_id
        JOIN applications a ON a.id = d.application_id
        WHERE a.site_id = $1 AND a.accepted_at >= $2 AND a.accepted_at < $3
          AND a.officer_id IS NOT NULL
        UNION ALL
        SELECT 'returned', a.id, a.officer_id, a.application_no, a.accepted_at,
               COALESCE(d.stage_at, a.accepted_at), COALESCE(d.rejection, '')
        FROM application_documents d
        JOIN applications a ON a.id = d.application_id
        WHERE d.acceptance_error = 1
          AND a.site_id = $1 AND a.accepted_at >= $2 AND a.accepted_at < $3
          AND a.officer_id IS NOT NULL
        UNION ALL
        SELECT 'refund', a.id, a.officer_id, a.application_no, a.accepted_at, r.at, r.reason
        FROM refunds r
        JOIN payments p ON p.id = r.payment_id
        JOIN applications a ON a.id = p.application_id
        WHERE r.officer_error = 1
          AND a.site_id = $1 AND a.accepted_at >= $2 AND a.accepted_at < $3
          AND a.officer_id IS NOT NULL
        "#,
    )
    .bind(site_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;

    let mut officers: Vec<OfficerMonth> = Vec::new();
    for r in accepted {
        let officer_id: i64 = r.try_get("officer_id")?;
        let (name, badge) = crate::auth::account_by_id(&mut conn, officer_id)
            .await?
            .map(|a| (a.display_name, a.badge_no))
            .unwrap_or_default();
        officers.push(OfficerMonth {
            officer_id,
            name,
            badge,
            accepted: r.try_get("n")?,
            corrections: 0,
            returned: 0,
            refunds: 0,
            with_errors: 0,
            rate_bp: 0,
        });
    }
    let mut list = Vec::new();
    let mut erroneous: std::collections::HashSet<(i64, i64)> = Default::default();
    for r in items {
        let kind: String = r.try_get("kind")?;
        let kind = ErrorKind::parse(&kind)
            .ok_or_else(|| Failure::Internal(format!("error kind {kind}")))?;
        let officer_id: i64 = r.try_get("officer_id")?;
        let application_id: i64 = r.try_get("application_id")?;
        if let Some(o) = officers.iter_mut().find(|o| o.officer_id == officer_id) {
            match kind {
                ErrorKind::Correction => o.corrections += 1,
                ErrorKind::Returned => o.returned += 1,
                ErrorKind::Refund => o.refunds += 1,
            }
            if erroneous.insert((officer_id, application_id)) {
                o.with_errors += 1;
            }
        }
        list.push(ErrorItem {
            kind,
            officer_id,
            application_no: r.try_get("application_no")?,
            accepted_at: r.try_get("accepted_at")?,
            at: r.try_get("at")?,
            detail: r.try_get("detail")?,
        });
    }
    list.sort_by_key(|i| (i.at, i.application_no.clone()));
    for o in &mut officers {
        o.rate_bp = rate_bp(o.with_errors, o.accepted);
    }
    // Worst first, then by name: the page leads with who needs attention.
    officers.sort_by(|a, b| b.rate_bp.cmp(&a.rate_bp).then(a.badge.cmp(&b.badge)));
    let sum = |f: fn(&OfficerMonth) -> i64| officers.iter().map(f).sum::<i64>();
    let mut total = OfficerMonth {
        officer_id: 0,
        name: String::new(),
        badge: String::new(),
        accepted: sum(|o| o.accepted),
        corrections: sum(|o| o.corrections),
        returned: sum(|o| o.returned),
        refunds: sum(|o| o.refunds),
        with_errors: sum(|o| o.with_errors),
        rate_bp: 0,
    };
    total.rate_bp = rate_bp(total.with_errors, total.accepted);
    Ok(MonthReport {
        month: first_day.strftime("%Y-%m").to_string(),
        officers,
        total,
        items: list,
    })
}

/// `part / whole` in basis points, rounded half up; 0 when nothing was accepted.
fn rate_bp(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        (part * 10_000 * 2 + whole) / (whole * 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly() {
        assert_eq!(
            parse_month("2026-11").map(|d| d.to_string()),
            Ok("2026-11-01".into())
        );
        for bad in [
            "2026-13", "2026-1", "26-11", "2026/11", "", "abcd-ef", "1900-01",
        ] {
            assert_eq!(parse_month(bad), Err(ErrorRateError::Month), "{bad}");
        }
    }

    #[test]
    fn rates_round_half_up() {
        assert_eq!(rate_bp(0, 0), 0);
        assert_eq!(rate_bp(0, 40), 0);
        assert_eq!(rate_bp(1, 8), 1250);
        assert_eq!(rate_bp(1, 3), 3333);
        assert_eq!(rate_bp(2, 3), 6667);
        assert_eq!(rate_bp(3, 3), 10_000);
    }
}
