//! Server-side SVG charts for the dashboard: no JavaScript, no external assets, only std.
//!
//! Every chart is an `<svg class="chart" role="img">` labelled by its own `<title>` and a
//! `<desc>` listing every value, so a screen reader gets the numbers; each bar or point has a
//! `<title>` child (label and formatted value) that browsers show on hover. Sizes come from the
//! `viewBox` (the `chart` class makes it 100% wide); colors come from the `chart-*` classes of
//! `style.css`, with inline defaults so a chart still reads without CSS. Values that are
//! negative, NaN or infinite count as 0 (and are capped at 1e15), so no NaN reaches the SVG;
//! when nothing is above 0 the chart says "No data yet". Coordinates have at most 1 decimal.

use std::fmt::Write as _;

/// Default colors (matching `style.css`) for `chart-bar` / `chart-line`, the 2nd, the 3rd.
const COLORS: [&str; 3] = ["#2455d6", "#12b76a", "#f79009"];
const LABEL: &str = "#475467";
const AXIS: &str = "#98a2b3";
const NO_DATA: &str = "No data yet";

/// One bar: `display` is the preformatted value ("$1,200.00", "12").
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub label: String,
    pub value: f64,
    pub display: String,
}

/// One point of a [`Series`]: `display` is the preformatted value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    pub label: String,
    pub value: f64,
    pub display: String,
}

/// A named line of a [`line_chart`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// The smallest number of the form m × 10^n with m in {1, 2, 2.5, 5} that is >= `v`, e.g.
/// 0.3 → 0.5, 7 → 10, 12 → 20, 22 → 25, 99 → 100, 101 → 200, 2400 → 2500. Values that are
/// not above 0 (0, negatives, NaN) and infinities give 1.
pub(crate) fn nice_max(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * p).find(|c| *c >= v * (1.0 - 1e-12)).unwrap_or(v)
}

/// Vertical bars scaled to the largest value, the value above each bar and the category below
/// (cut to 14 characters; labels are slanted when they would not fit side by side).
pub(crate) fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> String {
    let id = clean_id(id);
    let values: Vec<f64> = bars.iter().map(|b| clean(b.value)).collect();
    let max = values.iter().copied().fold(0.0, f64::max);
    if max <= 0.0 {
        return no_data(&id, title);
    }
    let count = bars.len() as f64;
    let slot = (560.0 / count).max(64.0);
    let longest = bars.iter().map(|b| short(&b.label).chars().count()).max().unwrap_or(0) as f64;
    let slanted = longest * 6.5 > slot - 4.0;
    let (top, plot_h) = (24.0, 180.0);
    let base = top + plot_h;
    let (w, h) = (slot * count + 40.0, base + if slanted { 84.0 } else { 28.0 });
    let mut out = open(&id, title, &describe_bars(bars), w, h);
    let (b, x2) = (num(base), num(w - 20.0));
    let _ = write!(out, r##"<line class="chart-axis" x1="20" y1="{b}" x2="{x2}" y2="{b}" stroke="{AXIS}"/>"##);
    for (i, (bar, v)) in bars.iter().zip(&values).enumerate() {
        let (bw, bh) = ((slot * 0.7).min(72.0), v / max * plot_h);
        let x = 20.0 + slot * i as f64 + (slot - bw) / 2.0;
        let (cx, value) = (x + bw / 2.0, shown(&bar.display, bar.value));
        let (label, c) = (esc(&bar.label), COLORS[0]);
        let (x, y, bw, bh_s) = (num(x), num(base - bh), num(bw), num(bh));
        let _ = write!(out, r#"<g><rect class="chart-bar" x="{x}" y="{y}" width="{bw}" height="{bh_s}" fill="{c}">"#);
        let _ = write!(out, "<title>{label}: {}</title></rect>", esc(&value));
        out += &text(cx, base - bh - 6.0, "middle", "", &value);
        out += &if slanted {
            let turn = format!(r#" transform="rotate(-40 {} {})""#, num(cx), num(base + 14.0));
            text(cx, base + 14.0, "end", &turn, &short(&bar.label))
        } else {
            text(cx, base + 18.0, "middle", "", &short(&bar.label))
        };
        out += "</g>";
    }
    out + "</svg>"
}

/// Horizontal bars (one row each): label on the left, `display` on the right. With `max`
/// (e.g. `Some(100.0)` for a score) bars are scaled to it, values above it fill the row, a
/// track shows the full scale, and zeros are drawn as such (0 is a real score); without it
/// bars are scaled to the largest value and all-zero data says "No data yet".
pub(crate) fn hbar_chart(id: &str, title: &str, bars: &[Bar], max: Option<f64>) -> String {
    let id = clean_id(id);
    let values: Vec<f64> = bars.iter().map(|b| clean(b.value)).collect();
    let fixed = max.map(clean).filter(|m| *m > 0.0);
    let scale = fixed.unwrap_or_else(|| values.iter().copied().fold(0.0, f64::max));
    if bars.is_empty() || scale <= 0.0 {
        return no_data(&id, title);
    }
    let (row, x0, plot_w) = (28.0, 136.0, 374.0);
    let mut out = open(&id, title, &describe_bars(bars), 600.0, row * bars.len() as f64 + 16.0);
    for (i, (bar, v)) in bars.iter().zip(&values).enumerate() {
        let y = 8.0 + row * i as f64;
        let (by, bw, c) = (num(y + 5.0), num(v.min(scale) / scale * plot_w), COLORS[1]);
        let value = shown(&bar.display, bar.value);
        out += "<g>";
        if fixed.is_some() {
            let _ = write!(
                out,
                r##"<rect class="chart-grid" x="{x0}" y="{by}" width="{plot_w}" height="18" fill="#f2f4f7"/>"##
            );
        }
        let _ = write!(out, r#"<rect class="chart-bar-2" x="{x0}" y="{by}" width="{bw}" height="18" fill="{c}">"#);
        let _ = write!(out, "<title>{}: {}</title></rect>", esc(&bar.label), esc(&value));
        out += &text(128.0, y + 18.0, "end", "", &short(&bar.label));
        out += &text(596.0, y + 18.0, "end", "", &value);
        out += "</g>";
    }
    out + "</svg>"
}

/// Lines (the first 3 series are drawn) over a y-axis from 0 with 4 gridlines: the tick step is
/// `nice_max(max / 4)`, so ticks are multiples of a 1/2/2.5/5 × 10^n step. X labels come from
/// the first series' points, at most 8 of them (every k-th). A legend names the series.
pub(crate) fn line_chart(id: &str, title: &str, series: &[Series]) -> String {
    let id = clean_id(id);
    let series = &series[..series.len().min(3)];
    let n = series.iter().map(|s| s.points.len()).max().unwrap_or(0);
    let max = series.iter().flat_map(|s| &s.points).map(|p| clean(p.value)).fold(0.0, f64::max);
    if n == 0 || max <= 0.0 {
        return no_data(&id, title);
    }
    let step = nice_max(max / 4.0);
    let (h, left, top, plot_w, plot_h) = (280.0, 52.0, 32.0, 572.0, 220.0);
    let x_at = |i: usize| if n == 1 { left + plot_w / 2.0 } else { left + plot_w * i as f64 / (n - 1) as f64 };
    let y_at = |v: f64| top + plot_h - v / (step * 4.0) * plot_h;
    let desc: Vec<String> =
        series.iter().map(|s| describe(&s.name, s.points.iter().map(|p| (&p.label, &p.display, p.value)))).collect();
    let mut out = open(&id, title, &format!("Line chart. {}", desc.join(" ")), 640.0, h);
    let (base, right) = (num(top + plot_h), num(left + plot_w));
    for k in 0..=4 {
        let tick = step * f64::from(k);
        let y = num(y_at(tick));
        if k > 0 {
            let _ = write!(
                out,
                r##"<line class="chart-grid" x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#e4e7ec"/>"##
            );
        }
        out += &text(left - 6.0, y_at(tick) + 4.0, "end", "", &tick_label(tick));
    }
    let _ =
        write!(out, r#"<g class="chart-axis" stroke="{AXIS}"><line x1="{left}" y1="{top}" x2="{left}" y2="{base}"/>"#);
    let _ = write!(out, r#"<line x1="{left}" y1="{base}" x2="{right}" y2="{base}"/></g>"#);
    for i in (0..n).step_by(n.div_ceil(8)) {
        let label = series[0].points.get(i).map(|p| short(&p.label)).unwrap_or_default();
        out += &text(x_at(i), h - 8.0, "middle", "", &label);
    }
    let mut lx = left;
    for (si, s) in series.iter().enumerate() {
        let (class, c, x1, x2) = (line_class(si), COLORS[si], num(lx), num(lx + 16.0));
        let _ = write!(
            out,
            r#"<g><line class="{class}" x1="{x1}" y1="14" x2="{x2}" y2="14" stroke="{c}" stroke-width="3"/>"#
        );
        out += &text(lx + 22.0, 18.0, "start", "", &s.name);
        out += "</g>";
        lx += 40.0 + 7.0 * s.name.chars().count() as f64;
    }
    for (si, s) in series.iter().enumerate() {
        let xy: Vec<(String, String)> =
            (0..s.points.len()).map(|i| (num(x_at(i)), num(y_at(clean(s.points[i].value))))).collect();
        let (class, c, name) = (line_class(si), COLORS[si], esc(&s.name));
        out += "<g>";
        if !xy.is_empty() {
            let d: Vec<String> = xy.iter().map(|(x, y)| format!("{x},{y}")).collect();
            let d = d.join(" L");
            let _ = write!(
                out,
                r#"<path class="{class}" d="M{d}" fill="none" stroke="{c}" stroke-width="2" stroke-linejoin="round">"#
            );
            let _ = write!(out, "<title>{name}</title></path>");
        }
        for ((cx, cy), p) in xy.iter().zip(&s.points) {
            let _ = write!(out, r##"<circle class="chart-dot" cx="{cx}" cy="{cy}" r="3.5" fill="{c}" stroke="#fff">"##);
            let _ =
                write!(out, "<title>{} · {name}: {}</title></circle>", esc(&p.label), esc(&shown(&p.display, p.value)));
        }
        out += "</g>";
    }
    out + "</svg>"
}

/// `chart-line`, `chart-line-2`, `chart-line-3` (only the first is styled by `style.css`).
fn line_class(i: usize) -> String {
    if i == 0 { "chart-line".to_owned() } else { format!("chart-line-{}", i + 1) }
}

/// A `chart-label` text (escaped); `extra` holds further attributes.
fn text(x: f64, y: f64, anchor: &str, extra: &str, content: &str) -> String {
    let (x, y, content) = (num(x), num(y), esc(content));
    format!(
        r#"<text class="chart-label" x="{x}" y="{y}" text-anchor="{anchor}"{extra} fill="{LABEL}">{content}</text>"#
    )
}

fn open(id: &str, title: &str, desc: &str, w: f64, h: f64) -> String {
    let (w, h, title, desc) = (num(w), num(h), esc(title), esc(desc));
    format!(
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="system-ui, sans-serif" font-size="11"><title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>"#
    )
}

fn no_data(id: &str, title: &str) -> String {
    open(id, title, NO_DATA, 600.0, 120.0) + &text(300.0, 64.0, "middle", "", NO_DATA) + "</svg>"
}

fn describe_bars(bars: &[Bar]) -> String {
    describe("Bar chart", bars.iter().map(|b| (&b.label, &b.display, b.value)))
}

/// "Bar chart: A 12; B 3." (unescaped; [`open`] escapes it).
fn describe<'a>(what: &str, items: impl Iterator<Item = (&'a String, &'a String, f64)>) -> String {
    let items: Vec<String> = items.map(|(label, display, v)| format!("{label} {}", shown(display, v))).collect();
    format!("{what}: {}.", items.join("; "))
}

/// The value text: `display`, or the number when `display` is blank.
fn shown(display: &str, v: f64) -> String {
    if display.trim().is_empty() { num(clean(v)) } else { display.to_owned() }
}

/// A value as drawn: finite, not below 0, at most 1e15 (so axis arithmetic cannot overflow).
fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v.min(1e15) } else { 0.0 }
}

/// A coordinate with at most 1 decimal ("12", "12.5"); never NaN, inf or "-0".
fn num(v: f64) -> String {
    let s = if v.is_finite() { format!("{v:.1}") } else { "0.0".to_owned() };
    match s.strip_suffix(".0").unwrap_or(&s) {
        "-0" => "0".to_owned(),
        t => t.to_owned(),
    }
}

/// An axis tick: 2500 → "2.5k", 3000000 → "3M", 0.25 → "0.25".
fn tick_label(v: f64) -> String {
    let (v, unit) = [(1e6, "M"), (1e3, "k")].into_iter().find(|(u, _)| v >= *u).map_or((v, ""), |(u, s)| (v / u, s));
    let s = format!("{v:.3}");
    format!("{}{unit}", s.trim_end_matches('0').trim_end_matches('.'))
}

/// A label cut to 14 characters (13 and an ellipsis).
fn short(s: &str) -> String {
    if s.chars().count() > 14 { s.chars().take(13).chain(['…']).collect() } else { s.to_owned() }
}

/// Element ids: lowercase [a-z0-9-], anything else becomes '-'; empty gives "chart".
fn clean_id(id: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' { c } else { '-' })
        .collect();
    if id.is_empty() { "chart".to_owned() } else { id }
}

/// XML text and attribute escaping (& < > " '); control characters XML forbids become spaces.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert('x')</script>&\"";

    /// Non-finite values get a blank display, which falls back to the clamped number.
    fn show(unit: &str, v: f64) -> String {
        if v.is_finite() { format!("{unit}{v}") } else { String::new() }
    }

    fn bar(label: &str, value: f64) -> Bar {
        Bar { label: label.into(), value, display: show("", value) }
    }

    fn series(name: &str, values: &[f64]) -> Series {
        let point = |(i, v): (usize, &f64)| Point { label: format!("M{i}"), value: *v, display: show("$", *v) };
        Series { name: name.into(), points: values.iter().enumerate().map(point).collect() }
    }

    /// The values of `attr` on every tag starting with `tag` (e.g. `<rect class="chart-bar"`).
    fn attrs(svg: &str, tag: &str, attr: &str) -> Vec<f64> {
        let needle = format!(" {attr}=\"");
        svg.match_indices(tag)
            .map(|(i, _)| {
                let el = &svg[i..i + svg[i..].find('>').unwrap()];
                let at = el.find(&needle).unwrap() + needle.len();
                el[at..at + el[at..].find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    fn assert_well_formed(svg: &str, title: &str) {
        assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("<g>").count() + svg.matches("<g ").count(), svg.matches("</g>").count(), "{svg}");
        assert_eq!(svg.matches("<title").count(), svg.matches("</title>").count());
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert!(svg.contains(&format!(">{}</title>", esc(title))), "{svg}");
        assert!(svg.contains(r#"role="img" aria-labelledby="t-title t-desc""#), "{svg}");
        assert!(svg.contains(r#"<desc id="t-desc">"#));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        // Coordinates (and every number not preformatted by a caller) have at most 1 decimal.
        for run in svg.split(|c: char| !c.is_ascii_digit() && c != '.') {
            if let Some((_, decimals)) = run.trim_end_matches('.').split_once('.') {
                assert!(decimals.len() <= 1, "{run} in {svg}");
            }
        }
    }

    fn all_charts(title: &str, bars: &[Bar], lines: &[Series]) -> [String; 4] {
        [
            bar_chart("t", title, bars),
            hbar_chart("t", title, bars, None),
            hbar_chart("t", title, bars, Some(100.0)),
            line_chart("t", title, lines),
        ]
    }

    #[test]
    fn charts_are_well_formed_and_accessible() {
        let bars = [bar("Alpha", 3.0), bar("Beta", 7.0), bar("Gamma", 0.0)];
        let lines = [series("Revenue", &[1.0, 5.0, 12.0]), series("Commissions", &[0.0, 1.0, 2.0])];
        for svg in all_charts("Sales & more", &bars, &lines) {
            assert_well_formed(&svg, "Sales & more");
            assert!(svg.contains("Sales &amp; more"));
        }
        assert!(bar_chart("t", "x", &bars).contains("<title>Beta: 7</title>"));
        let line = line_chart("t", "x", &[series("Revenue", &[1.0, 5.0])]);
        assert!(line.contains("<title>M1 · Revenue: $5</title>"), "{line}");
        assert!(line.contains(r#"<desc id="t-desc">Line chart. Revenue: M0 $1; M1 $5.</desc>"#), "{line}");
    }

    #[test]
    fn hostile_text_is_escaped() {
        let bars = [bar(HOSTILE, 1.0)];
        let point = Point { label: HOSTILE.into(), value: 1.0, display: HOSTILE.into() };
        let lines = [Series { name: HOSTILE.into(), points: vec![point] }];
        for svg in all_charts(HOSTILE, &bars, &lines) {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)"), "{svg}");
        }
        let svg = bar_chart(HOSTILE, "x", &[bar("a\u{0}b", 1.0)]);
        assert!(svg.contains(r#"id="-script-alert--x----script----title""#), "{svg}");
        assert!(!svg.contains('\u{0}'));
        assert!(bar_chart("Rev Chart_1", "x", &bars).contains(r#"id="rev-chart-1-title""#));
        assert!(bar_chart("", "x", &bars).contains(r#"id="chart-desc""#));
    }

    #[test]
    fn one_bar_per_item_with_proportional_sizes() {
        let bars = [bar("a", 1.0), bar("b", 2.0), bar("c", 4.0)];
        let svg = bar_chart("t", "x", &bars);
        assert_eq!(svg.matches(r#"<rect class="chart-bar"#).count(), 3);
        let heights = attrs(&svg, r#"<rect class="chart-bar""#, "height");
        assert_eq!(heights, vec![45.0, 90.0, 180.0]);
        let widths = attrs(&hbar_chart("t", "x", &bars, None), r#"<rect class="chart-bar-2""#, "width");
        assert_eq!(widths.len(), 3);
        assert!((widths[2] - 2.0 * widths[1]).abs() < 0.2 && (widths[1] - 2.0 * widths[0]).abs() < 0.2, "{widths:?}");
        let scores = hbar_chart("t", "x", &[bar("a", 50.0), bar("b", 150.0)], Some(100.0));
        assert_eq!(attrs(&scores, r#"<rect class="chart-bar-2""#, "width"), vec![187.0, 374.0]);
        assert_eq!(scores.matches(r#"<rect class="chart-bar"#).count(), 2);
    }

    #[test]
    fn empty_or_zero_data_says_no_data_yet() {
        let zeros = [bar("a", 0.0), bar("b", -3.0), bar("c", f64::NAN)];
        for svg in [
            bar_chart("t", "x", &[]),
            bar_chart("t", "x", &zeros),
            hbar_chart("t", "x", &[], Some(100.0)),
            hbar_chart("t", "x", &zeros, None),
            line_chart("t", "x", &[]),
            line_chart("t", "x", &[series("Revenue", &[])]),
            line_chart("t", "x", &[series("Revenue", &[0.0, 0.0]), series("Fees", &[-1.0])]),
        ] {
            assert_well_formed(&svg, "x");
            assert!(svg.contains(">No data yet</text>"), "{svg}");
            assert!(!svg.contains("<rect") && !svg.contains("<path"), "{svg}");
        }
        // With a fixed scale a zero is a real value (a score of 0): the rows are drawn.
        let svg = hbar_chart("t", "x", &zeros, Some(100.0));
        assert!(!svg.contains("No data yet"));
        assert_eq!(attrs(&svg, r#"<rect class="chart-bar-2""#, "width"), vec![0.0; 3]);
    }

    #[test]
    fn negative_and_non_finite_values_are_clamped_to_zero() {
        let bars = [bar("a", -5.0), bar("b", 10.0), bar("c", f64::INFINITY), bar("d", f64::NAN)];
        let svg = bar_chart("t", "x", &bars);
        assert_well_formed(&svg, "x");
        assert_eq!(attrs(&svg, r#"<rect class="chart-bar""#, "height"), vec![0.0, 180.0, 0.0, 0.0]);
        let svg = line_chart("t", "x", &[series("a", &[-5.0, 8.0, f64::NEG_INFINITY])]);
        assert_well_formed(&svg, "x");
        assert_eq!(attrs(&svg, "<circle", "cy"), vec![252.0, 32.0, 252.0]); // 8 is the top, 0 the base
    }

    #[test]
    fn labels_are_shortened_but_titles_keep_them() {
        let svg = bar_chart("t", "x", &[bar("A very long listing name", 1.0)]);
        assert!(svg.contains(">A very long l…</text>"), "{svg}");
        assert!(svg.contains("<title>A very long listing name: 1</title>"));
        assert!(bar_chart("t", "x", &[bar("Exactly 14 chr", 1.0)]).contains(">Exactly 14 chr</text>"));
    }

    #[test]
    fn line_chart_axis_legend_and_labels() {
        let revenue = series("Revenue", &(0..24).map(f64::from).map(|i| i / 2.0).collect::<Vec<_>>());
        let lines = [revenue, series("Commissions", &[1.0, 2.0]), series("Fees", &[1.0]), series("Ignored", &[1.0])];
        let svg = line_chart("t", "x", &lines);
        assert_well_formed(&svg, "x");
        assert_eq!(svg.matches(r#"<line class="chart-grid""#).count(), 4);
        // The largest value is 11.5: the step is nice_max(11.5 / 4) = 5, the top 20.
        for tick in ["0", "5", "10", "15", "20"] {
            assert!(svg.contains(&format!("end\" fill=\"{LABEL}\">{tick}</text>")), "{tick} {svg}");
        }
        assert_eq!(svg.matches("<circle").count(), 24 + 2 + 1);
        let x_labels = svg.matches(r#"text-anchor="middle""#).count();
        assert_eq!(x_labels, 8); // 24 points: every 3rd
        assert!(svg.contains(">M0</text>") && !svg.contains(">M1</text>") && svg.contains(">M3</text>"));
        for name in ["Revenue", "Commissions", "Fees"] {
            assert!(svg.contains(&format!(">{name}</text>")));
        }
        assert!(!svg.contains("Ignored"));
        assert!(svg.contains(r#"<path class="chart-line""#) && svg.contains(r#"<path class="chart-line-3""#));
    }

    #[test]
    fn nice_max_uses_1_2_2_5_5_steps() {
        let inputs = [0.0, -3.0, f64::NAN, f64::INFINITY, 0.3, 0.2, 1.0, 2.2, 3.0, 7.0, 12.0, 22.0, 99.0, 100.0, 101.0];
        let wants = [1.0, 1.0, 1.0, 1.0, 0.5, 0.2, 1.0, 2.5, 5.0, 10.0, 20.0, 25.0, 100.0, 100.0, 200.0];
        let cases = inputs.into_iter().zip(wants).chain([(1000.0, 1000.0), (2400.0, 2500.0), (2600.0, 5000.0)]);
        for (v, want) in cases {
            assert!((nice_max(v) - want).abs() < 1e-9 * want, "nice_max({v}) = {} != {want}", nice_max(v));
        }
        assert_eq!(tick_label(2500.0), "2.5k");
        assert_eq!(tick_label(3e6), "3M");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!([num(12.04), num(-0.01), num(f64::NAN), num(3.26)], ["12", "0", "0", "3.3"]);
    }
}
