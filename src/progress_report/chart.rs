//! An indicator's series as an inline SVG chart: approved actuals as bars, the target in force as
//! a dashed line and the on-schedule path as a line, each year labelled. Plain SVG, no script, no
//! external reference; text is escaped.

use std::fmt::Write;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::html::escape;
use crate::domain::progress_report::{ReportIndicator, SeriesPoint};

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 150.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 34.0;

/// The chart of one indicator, or `None` when no year has a number to draw.
pub fn indicator_chart(indicator: &ReportIndicator) -> Option<String> {
    let points = &indicator.series;
    let values: Vec<f64> = points
        .iter()
        .flat_map(|p| [p.target, p.expected, p.actual])
        .chain(std::iter::once(indicator.baseline_value))
        .flatten()
        .filter_map(|v| v.to_f64())
        .collect();
    if points.is_empty() || points.iter().all(|p| p.actual.is_none() && p.target.is_none() && p.expected.is_none()) {
        return None;
    }
    let scale = Scale::new(&values, points.len());
    let mut svg = String::new();
    let title = format!("{}の推移（実績・目標）", indicator.name);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}"><title>{label}</title>"#,
        label = escape(&title)
    );
    axes(&mut svg, &scale, points);
    bars(&mut svg, &scale, points);
    line(&mut svg, &scale, points, |p| p.expected, "expected");
    line(&mut svg, &scale, points, |p| p.target, "target");
    svg.push_str("</svg>");
    Some(svg)
}

/// Maps years (by position) and values to the drawing area.
struct Scale {
    low: f64,
    high: f64,
    slot: f64,
}

impl Scale {
    fn new(values: &[f64], slots: usize) -> Self {
        let low = values.iter().copied().fold(0.0_f64, f64::min);
        let mut high = values.iter().copied().fold(0.0_f64, f64::max);
        if high <= low {
            high = low + 1.0;
        }
        // Some air above the highest value, so a bar at the top stays readable.
        let high = high + (high - low) * 0.08;
        let slot = (WIDTH - LEFT - RIGHT) / f64::from(u32::try_from(slots.max(1)).unwrap_or(u32::MAX));
        Self { low, high, slot }
    }

    fn x_center(&self, index: usize) -> f64 {
        LEFT + self.slot * (f64::from(u32::try_from(index).unwrap_or(u32::MAX)) + 0.5)
    }

    fn y(&self, value: f64) -> f64 {
        let plot = HEIGHT - TOP - BOTTOM;
        TOP + plot * (1.0 - (value - self.low) / (self.high - self.low))
    }
}

fn axes(svg: &mut String, scale: &Scale, points: &[SeriesPoint]) {
    let base = HEIGHT - BOTTOM;
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}"/><line class="axis" x1="{LEFT}" y1="{base}" x2="{right}" y2="{base}"/>"#,
        right = WIDTH - RIGHT
    );
    for value in [scale.low, scale.high] {
        let _ = write!(
            svg,
            r#"<text class="tick" x="{x:.1}" y="{y:.1}" text-anchor="end">{label}</text>"#,
            x = LEFT - 4.0,
            y = scale.y(value) + 3.0,
            label = tick_label(value)
        );
    }
    for (index, point) in points.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text class="tick" x="{x:.1}" y="{y:.1}" text-anchor="middle">{label}</text>"#,
            x = scale.x_center(index),
            y = base + 12.0,
            label = escape(&point.short_label)
        );
    }
}

fn bars(svg: &mut String, scale: &Scale, points: &[SeriesPoint]) {
    let zero = scale.y(0.0_f64.clamp(scale.low, scale.high));
    for (index, point) in points.iter().enumerate() {
        let Some(actual) = point.actual.and_then(|v| v.to_f64()) else { continue };
        let top = scale.y(actual);
        let (y, height) = if top < zero { (top, zero - top) } else { (zero, top - zero) };
        let width = scale.slot * 0.5;
        let class = if point.actual_is_sample { "bar sample-bar" } else { "bar" };
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{height:.1}"><title>{label}: {value}</title></rect>"#,
            x = scale.x_center(index) - width / 2.0,
            height = height.max(0.5),
            label = escape(&point.short_label),
            value = decimal_label(point.actual),
        );
    }
}

fn line(
    svg: &mut String,
    scale: &Scale,
    points: &[SeriesPoint],
    value: impl Fn(&SeriesPoint) -> Option<Decimal>,
    class: &str,
) {
    let coordinates: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(index, point)| {
            value(point).and_then(|v| v.to_f64()).map(|v| format!("{:.1},{:.1}", scale.x_center(index), scale.y(v)))
        })
        .collect();
    match coordinates.as_slice() {
        [] => {}
        [single] => {
            let (x, y) = single.split_once(',').unwrap_or_default();
            let _ = write!(svg, r#"<circle class="{class}" cx="{x}" cy="{y}" r="2.5"/>"#);
        }
        _ => {
            let _ = write!(svg, r#"<polyline class="{class}" points="{}"/>"#, coordinates.join(" "));
        }
    }
}

fn tick_label(value: f64) -> String {
    if (value - value.round()).abs() < 0.05 { format!("{value:.0}") } else { format!("{value:.1}") }
}

fn decimal_label(value: Option<Decimal>) -> String {
    value.map(|v| v.normalize().to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::achievement::{Grade, Status};

    fn point(year: i32, target: Option<i64>, actual: Option<i64>) -> SeriesPoint {
        SeriesPoint {
            fiscal_year: year,
            short_label: crate::domain::progress_report::short_year_label(year),
            target: target.map(Decimal::from),
            expected: None,
            actual: actual.map(Decimal::from),
            actual_is_sample: false,
        }
    }

    fn indicator(series: Vec<SeriesPoint>) -> ReportIndicator {
        ReportIndicator {
            id: 1,
            number: Some(1),
            name: "<script>alert(1)</script>交付率".into(),
            unit: "%".into(),
            baseline: "10".into(),
            baseline_year_label: None,
            baseline_value: Some(Decimal::from(10)),
            target: "50".into(),
            target_year_label: None,
            actual: None,
            actual_is_sample: false,
            attainment_rate: None,
            progress_rate: None,
            status: Status::NoData,
            status_label: "実績なし".into(),
            grade: Grade::NotAssessable,
            series,
        }
    }

    #[test]
    fn a_chart_has_a_bar_per_actual_a_target_line_and_year_labels_and_escapes_the_name() {
        let svg = indicator_chart(&indicator(vec![
            point(2019, Some(50), Some(20)),
            point(2020, Some(50), None),
            point(2021, Some(50), Some(40)),
        ]))
        .unwrap();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(r#"<polyline class="target""#));
        assert!(svg.contains(">R1<") && svg.contains(">R2<") && svg.contains(">R3<"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn a_larger_actual_draws_a_taller_bar() {
        let scale = Scale::new(&[0.0, 100.0], 2);
        assert!(scale.y(80.0) < scale.y(20.0));
        assert!((scale.y(0.0) - (HEIGHT - BOTTOM)).abs() < 1e-9);
    }

    #[test]
    fn nothing_to_draw_gives_no_chart() {
        assert!(indicator_chart(&indicator(vec![point(2020, None, None)])).is_none());
        assert!(indicator_chart(&indicator(Vec::new())).is_none());
    }
}
