//! Reading the aggregates back: the totals of a range per dimension key, and the site's
//! figures day by day (for the charts and the daily table).

use std::collections::BTreeMap;

use sqlx::{Any, Executor, Row};

use super::{Dim, Measure, Minutes};

/// Counts and histograms over a range, for one dimension.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub counts: BTreeMap<(String, String), i64>,
    pub minutes: BTreeMap<(String, Measure), Minutes>,
}

impl Totals {
    pub fn count(&self, key: &str, metric: &str) -> i64 {
        self.counts
            .get(&(key.to_string(), metric.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Sums the metrics of `key` whose name starts with `prefix`, grouped by the rest of the
    /// name (`booking.` → `web.arrived` → n).
    pub fn with_prefix(&self, key: &str, prefix: &str) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for ((k, metric), n) in &self.counts {
            if k == key
                && let Some(rest) = metric.strip_prefix(prefix)
            {
                *out.entry(rest.to_string()).or_default() += n;
            }
        }
        out
    }

    pub fn minutes(&self, key: &str, measure: Measure) -> Minutes {
        self.minutes
            .get(&(key.to_string(), measure))
            .cloned()
            .unwrap_or_default()
    }

    /// The keys that have any figure, in order.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .counts
            .keys()
            .map(|(k, _)| k.clone())
            .chain(self.minutes.keys().map(|(k, _)| k.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

fn bad_row(what: String) -> sqlx::Error {
    sqlx::Error::Decode(format!("report_minutes: {what}").into())
}

/// The totals of `[from, to]` (inclusive dates) for one dimension at a site.
pub async fn totals<'e, E>(
    ex: E,
    site_id: i64,
    dim: Dim,
    from: &str,
    to: &str,
) -> Result<Totals, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut t = Totals::default();
    for r in sqlx::query(
        r#"SELECT dim_key, metric, CAST(SUM(value) AS BIGINT) AS n FROM report_counts
         WHERE site_id = $1 AND dim = $2 AND date >= $3 AND date <= $4
         GROUP BY dim_key, metric"#,
    )
    .bind(site_id)
    .bind(dim.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?
    {
        t.counts.insert(
            (r.try_get("dim_key")?, r.try_get("metric")?),
            r.try_get::<Option<i64>, _>("n")?.unwrap_or(0),
        );
    }
    for r in sqlx::query(
        r#"SELECT dim_key, measure, counts FROM report_minutes
         WHERE site_id = $1 AND dim = $2 AND date >= $3 AND date <= $4"#,
    )
    .bind(site_id)
    .bind(dim.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?
    {
        let measure: String = r.try_get("measure")?;
        let Some(measure) = Measure::parse(&measure) else {
            return Err(bad_row(format!("unknown measure {measure:?}")));
        };
        let counts: String = r.try_get("counts")?;
        t.minutes
            .entry((r.try_get("dim_key")?, measure))
            .or_default()
            .merge_encoded(&counts)
            .ok_or_else(|| bad_row(format!("a histogram that is not one: {counts:?}")))?;
    }
    Ok(t)
}

/// The site's figures per day of `[from, to]`: each day's counts and wait and journey
/// histograms, keyed by date.
pub async fn by_day<'e, E>(
    ex: E,
    site_id: i64,
    from: &str,
    to: &str,
) -> Result<BTreeMap<String, Totals>, sqlx::Error>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut days: BTreeMap<String, Totals> = BTreeMap::new();
    for r in sqlx::query(
        r#"SELECT date, metric, value FROM report_counts
         WHERE site_id = $1 AND dim = 'site' AND date >= $2 AND date <= $3
           AND metric IN ('issued', 'served', 'missed', 'accepted', 'journey.n', 'journey.within')"#,
    )
    .bind(site_id)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?
    {
        days.entry(r.try_get("date")?)
            .or_default()
            .counts
            .insert((String::new(), r.try_get("metric")?), r.try_get("value")?);
    }
    for r in sqlx::query(
        r#"SELECT date, counts FROM report_minutes
         WHERE site_id = $1 AND dim = 'site' AND date >= $2 AND date <= $3 AND measure = 'wait'"#,
    )
    .bind(site_id)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?
    {
        let counts: String = r.try_get("counts")?;
        days.entry(r.try_get("date")?)
            .or_default()
            .minutes
            .entry((String::new(), Measure::Wait))
            .or_default()
            .merge_encoded(&counts)
            .ok_or_else(|| bad_row(format!("a histogram that is not one: {counts:?}")))?;
    }
    Ok(days)
}
