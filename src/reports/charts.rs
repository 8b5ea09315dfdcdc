//! Report charts drawn on the server as SVG with plotters: readable without JavaScript, printed
//! as they are shown, and sized by the page (the SVG has a viewBox and scales to its column).

use plotters::prelude::*;

use super::report::DayPoint;
use crate::i18n::Lang;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 320;
/// Our palette: the hall's blue, a muted red for the tail, grey for the grid.
const BLUE: RGBColor = RGBColor(0x1d, 0x4e, 0x89);
const RED: RGBColor = RGBColor(0xb4, 0x3c, 0x2c);
const GREEN: RGBColor = RGBColor(0x2e, 0x7d, 0x32);

/// One line of a chart: its legend and its value per day (`None`: nothing measured that day).
struct Series<'a> {
    legend: &'a str,
    colour: RGBColor,
    values: Vec<Option<f64>>,
}

fn line_chart(title: &str, y_label: &str, dates: &[String], series: &[Series<'_>]) -> String {
    let mut svg = String::new();
    let drawn = draw(&mut svg, title, y_label, dates, series);
    if let Err(e) = drawn {
        // A chart that cannot be drawn leaves the table beside it to speak.
        tracing::warn!(error = %e, "drawing a report chart failed");
        return String::new();
    }
    // plotters writes fixed pixel sizes; a viewBox lets the page scale the chart to its column.
    svg.replacen(
        &format!(r#"width="{WIDTH}" height="{HEIGHT}""#),
        &format!(
            r#"viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{}" class="chart""#,
            html_escape(title)
        ),
        1,
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn draw(
    svg: &mut String,
    title: &str,
    y_label: &str,
    dates: &[String],
    series: &[Series<'_>],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0_f64, |a, b| a.max(*b));
    let top = if max <= 0.0 { 1.0 } else { max * 1.1 };
    let n = dates.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0..n, 0.0..top)?;
    let label_every = n.div_ceil(10).max(1);
    chart
        .configure_mesh()
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .y_desc(y_label)
        .x_labels(n.min(12))
        .x_label_formatter(&|i| {
            if i % label_every == 0 {
                dates
                    .get(*i)
                    .map(|d| d.get(5..).unwrap_or(d).to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 13))
        .draw()?;
    for s in series {
        // A gap where nothing was measured (a closed day), not a fall to zero.
        let mut run: Vec<(usize, f64)> = Vec::new();
        let mut runs = Vec::new();
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => run.push((i, *v)),
                None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        let mut first = true;
        for run in runs {
            let style = ShapeStyle::from(&s.colour).stroke_width(2);
            let drawn = chart.draw_series(LineSeries::new(run.clone(), style))?;
            if first {
                let colour = s.colour;
                drawn.label(s.legend).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
                });
                first = false;
            }
            chart.draw_series(run.iter().map(|p| Circle::new(*p, 2, s.colour.filled())))?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(0xcc, 0xcc, 0xcc))
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Tickets issued and served, and applications accepted, per day.
pub fn volume(points: &[DayPoint], lang: Lang) -> String {
    let dates: Vec<String> = points.iter().map(|p| p.date.clone()).collect();
    let open = |p: &DayPoint, v: i64| (p.issued > 0 || p.accepted > 0).then_some(v as f64);
    line_chart(
        lang.pick("每日取号、办结与受理", "Tickets and acceptances per day"),
        lang.pick("人次", "count"),
        &dates,
        &[
            Series {
                legend: lang.pick("取号", "issued"),
                colour: BLUE,
                values: points.iter().map(|p| open(p, p.issued)).collect(),
            },
            Series {
                legend: lang.pick("办结", "served"),
                colour: GREEN,
                values: points.iter().map(|p| open(p, p.served)).collect(),
            },
            Series {
                legend: lang.pick("受理", "accepted"),
                colour: RED,
                values: points.iter().map(|p| open(p, p.accepted)).collect(),
            },
        ],
    )
}

/// The wait per day: median and 90th percentile.
pub fn waits(points: &[DayPoint], lang: Lang) -> String {
    let dates: Vec<String> = points.iter().map(|p| p.date.clone()).collect();
    line_chart(
        lang.pick("每日等候时长（分钟）", "Wait per day (minutes)"),
        lang.pick("分钟", "minutes"),
        &dates,
        &[
            Series {
                legend: lang.pick("中位数", "median"),
                colour: BLUE,
                values: points
                    .iter()
                    .map(|p| p.wait_median_minutes.map(|m| m as f64))
                    .collect(),
            },
            Series {
                legend: lang.pick("90 分位", "90th percentile"),
                colour: RED,
                values: points
                    .iter()
                    .map(|p| p.wait_p90_minutes.map(|m| m as f64))
                    .collect(),
            },
        ],
    )
}

/// The share of journeys from arrival to receipt within 16 minutes, per day.
pub fn journey(points: &[DayPoint], lang: Lang) -> String {
    let dates: Vec<String> = points.iter().map(|p| p.date.clone()).collect();
    line_chart(
        lang.pick(
            "每日 16 分钟内办结占比（%）",
            "Journeys within 16 minutes per day (%)",
        ),
        "%",
        &dates,
        &[Series {
            legend: lang.pick("16 分钟内", "within 16 min"),
            colour: GREEN,
            values: points.iter().map(|p| p.journey_within_share).collect(),
        }],
    )
}
