//! Report charts drawn on the server as SVG with plotters: readable without JavaScript, printed
//! as they are shown, and sized by the page (the SVG has a viewBox and scales to its column).
//!
//! Above each plot: the title, then the unit standing level over the value axis (turned
//! Chinese reads badly) with the legend beside it, so the legend never hides a line. Days are marked on Mondays (or on the
//! first of each month for long ranges), every mark labelled.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::report::DayPoint;
use crate::i18n::Lang;

const WIDTH: u32 = 880;
const HEIGHT: u32 = 340;
/// The band above the plot that holds the title.
const HEADER: u32 = 36;
/// Space around the drawing, in viewBox units.
const MARGIN: i32 = 16;
/// plotters writes `font-size` as the size given divided by 1.24: these are the sizes asked
/// for, so that the SVG says 18 px for the title and 14.5 px for the labels (before scaling).
const TITLE_SIZE: f64 = 18.0 * 1.24;
const LABEL_SIZE: f64 = 14.5 * 1.24;
/// The page's typeface (app.css sets it on the chart text too; this is for the SVG alone).
const FONT: &str = "sans-serif";
/// Our palette: the hall's blue, a muted red for the tail, green for what went well, greys.
const BLUE: RGBColor = RGBColor(0x1d, 0x4e, 0x89);
const RED: RGBColor = RGBColor(0xb4, 0x3c, 0x2c);
const GREEN: RGBColor = RGBColor(0x2e, 0x7d, 0x32);
const INK: RGBColor = RGBColor(0x1f, 0x29, 0x37);
const MUTED: RGBColor = RGBColor(0x5b, 0x65, 0x72);
const AXIS: RGBColor = RGBColor(0x9a, 0xa4, 0xb1);
const GRID: RGBColor = RGBColor(0xe4, 0xe8, 0xee);

/// One line of a chart: its legend and its value per day (`None`: nothing measured that day).
struct Series<'a> {
    legend: &'a str,
    colour: RGBColor,
    values: Vec<Option<f64>>,
}

/// What a chart shows besides its lines.
struct Frame<'a> {
    title: &'a str,
    /// The unit of the value axis, written above it.
    unit: &'a str,
    /// Said in the middle of the plot when no series has a value.
    empty: &'a str,
    /// A fixed top of the value axis (shares: 100), else one from the values.
    top: Option<f64>,
}

fn line_chart(frame: &Frame<'_>, dates: &[String], series: &[Series<'_>]) -> String {
    let mut svg = String::new();
    let drawn = draw(&mut svg, frame, dates, series);
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
            html_escape(frame.title)
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

/// A generous width of `text` at font size `px`: SVG text is measured only by the browser, so
/// the legend is laid out from this (CJK characters a full em, others a little over half).
fn text_width(text: &str, px: f64) -> i32 {
    let ems: f64 = text
        .chars()
        .map(|c| if c.is_ascii() { 0.58 } else { 1.0 })
        .sum();
    (ems * px).ceil() as i32
}

/// The days that get a mark on the time axis: each day of a short range, Mondays within three
/// months, the first of each month beyond.
fn day_marks(dates: &[String]) -> Vec<usize> {
    let days: Vec<Option<jiff::civil::Date>> = dates.iter().map(|d| d.parse().ok()).collect();
    let n = days.len();
    let marks: Vec<usize> = if n <= 14 {
        (0..n).collect()
    } else if n <= 92 {
        (0..n)
            .filter(|i| days[*i].is_some_and(|d| d.weekday() == jiff::civil::Weekday::Monday))
            .collect()
    } else {
        (0..n)
            .filter(|i| days[*i].is_some_and(|d| d.day() == 1))
            .collect()
    };
    if marks.is_empty() { vec![0] } else { marks }
}

/// A value-axis label: whole numbers without a decimal.
fn value_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A top for the value axis a little above the highest value, on a round number.
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 10.0;
    }
    let raw = max * 1.1;
    let step = 10f64.powf(raw.log10().floor()) / 2.0;
    (raw / step).ceil() * step
}

fn draw(
    svg: &mut String,
    frame: &Frame<'_>,
    dates: &[String],
    series: &[Series<'_>],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (header, body) = root.split_vertically(HEADER);

    // The title, alone on its line.
    let title_style = TextStyle::from((FONT, TITLE_SIZE).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    header.draw_text(frame.title, &title_style, (MARGIN, HEADER as i32 / 2))?;

    // The plot.
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0_f64, |a, b| a.max(*b));
    let top = frame.top.unwrap_or_else(|| nice_top(max));
    let n = dates.len().max(1);
    let last = (n - 1).max(1);
    let y_area = 52;
    let mut chart = ChartBuilder::on(&body)
        .margin_top(36)
        .margin_left(MARGIN as u32)
        .margin_right(28)
        .margin_bottom(6)
        .x_label_area_size(34)
        .y_label_area_size(y_area)
        .build_cartesian_2d((0..last).with_key_points(day_marks(dates)), 0.0..top)?;
    let label_style = TextStyle::from((FONT, LABEL_SIZE).into_font()).color(&MUTED);
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .y_labels(6)
        .y_label_formatter(&value_label)
        .x_label_formatter(&|i| {
            dates
                .get(*i)
                .map(|d| d.get(5..).unwrap_or(d).to_string())
                .unwrap_or_default()
        })
        .label_style(label_style)
        .draw()?;
    // The unit, level, above the value labels.
    let unit_style = TextStyle::from((FONT, LABEL_SIZE).into_font())
        .color(&MUTED)
        .pos(Pos::new(HPos::Right, VPos::Top));
    body.draw_text(frame.unit, &unit_style, (MARGIN + y_area - 6, 4))?;
    // The legend on the same line, from the left edge of the plot: above the lines, never over
    // them, and in sight on a phone, where the chart scrolls sideways.
    let legend_style = TextStyle::from((FONT, LABEL_SIZE).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let (swatch, gap, line) = (20, 20, 13);
    let mut x = MARGIN + y_area + 10;
    for s in series {
        body.draw(&PathElement::new(
            vec![(x, line), (x + swatch, line)],
            s.colour.stroke_width(3),
        ))?;
        body.draw_text(s.legend, &legend_style, (x + swatch + 6, line))?;
        x += swatch + 6 + text_width(s.legend, LABEL_SIZE / 1.24) + gap;
    }

    let mut any = false;
    let markers = n <= 62;
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
        for run in runs {
            any = true;
            let style = ShapeStyle::from(&s.colour).stroke_width(2);
            chart.draw_series(LineSeries::new(run.clone(), style))?;
            // A lone day has no line: its marker shows it, whatever the length of the range.
            if markers || run.len() == 1 {
                chart.draw_series(run.iter().map(|p| Circle::new(*p, 3, s.colour.filled())))?;
            }
        }
    }
    if !any {
        let empty_style = TextStyle::from((FONT, TITLE_SIZE).into_font())
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Center));
        // In backend pixels, which are the root's own.
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let centre = ((xs.start + xs.end) / 2, (ys.start + ys.end) / 2);
        root.draw_text(frame.empty, &empty_style, centre)?;
    }
    root.present()?;
    Ok(())
}

fn nothing(lang: Lang) -> &'static str {
    lang.pick("本期无数据", "Nothing in this period")
}

/// Tickets issued and served, and applications accepted, per day.
pub fn volume(points: &[DayPoint], lang: Lang) -> String {
    let dates: Vec<String> = points.iter().map(|p| p.date.clone()).collect();
    let open = |p: &DayPoint, v: i64| (p.issued > 0 || p.accepted > 0).then_some(v as f64);
    line_chart(
        &Frame {
            title: lang.pick("每日取号、办结与受理", "Tickets and acceptances per day"),
            unit: lang.pick("人次", "count"),
            empty: nothing(lang),
            top: None,
        },
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
        &Frame {
            title: lang.pick("每日等候时长", "Wait per day"),
            unit: lang.pick("分钟", "min"),
            empty: nothing(lang),
            top: None,
        },
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
        &Frame {
            title: lang.pick(
                "每日到达至受理回执 16 分钟内占比",
                "Journeys within 16 minutes per day",
            ),
            unit: "%",
            empty: nothing(lang),
            top: Some(100.0),
        },
        &dates,
        &[Series {
            legend: lang.pick("16 分钟内", "within 16 min"),
            colour: GREEN,
            values: points.iter().map(|p| p.journey_within_share).collect(),
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_fall_on_mondays_within_a_month_and_on_firsts_within_a_year() {
        let days = |from: &str, n: usize| -> Vec<String> {
            let d: jiff::civil::Date = from.parse().unwrap();
            (0..n)
                .map(|i| {
                    d.checked_add(jiff::Span::new().days(i as i64))
                        .unwrap()
                        .to_string()
                })
                .collect()
        };
        assert_eq!(day_marks(&days("2026-11-01", 30)), vec![1, 8, 15, 22, 29]);
        assert_eq!(day_marks(&days("2026-11-01", 3)), vec![0, 1, 2]);
        assert_eq!(day_marks(&days("2026-01-01", 365)).len(), 12);
        assert_eq!(value_label(&20.0), "20");
        assert_eq!(value_label(&2.5), "2.5");
        assert_eq!(nice_top(60.0), 70.0);
        assert_eq!(nice_top(1.0), 1.5);
    }

    #[test]
    fn a_period_without_figures_says_so_in_the_chart() {
        let svg = journey(&[], Lang::En);
        assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 880 340\""));
        assert!(svg.contains("Nothing in this period"), "{svg}");
        let one = DayPoint {
            date: "2026-11-02".into(),
            issued: 40,
            served: 35,
            accepted: 3,
            wait_median_minutes: Some(12),
            wait_p90_minutes: Some(30),
            journey_within_share: Some(66.7),
        };
        let svg = waits(std::slice::from_ref(&one), Lang::ZhCn);
        assert!(
            !svg.contains("本期无数据") && svg.contains("<circle"),
            "{svg}"
        );
    }
}
