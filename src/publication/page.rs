//! The public HTML page of a published plan-year: a banner naming the version, its date and
//! licence, with links to the other versions and the data files, then the published content.

use std::fmt::Write;

use chrono::{FixedOffset, NaiveDateTime};

use super::PublishedYear;
use super::snapshot::YearSnapshot;

/// The page's policy: it loads nothing, its one stylesheet is inline.
pub const PAGE_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE: &str = "body{font-family:sans-serif;margin:1.5rem;max-width:70rem;color:#222}\
    .banner{border:1px solid #888;padding:.5rem 1rem;background:#f4f6f8}\
    .sample{border:2px solid #b00;color:#b00;padding:.5rem 1rem;font-weight:bold}\
    table{border-collapse:collapse;margin-top:1rem}th,td{border:1px solid #aaa;padding:.25rem .5rem}\
    td.n{text-align:right}";

/// Text made safe for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A publication date as a clerk reads it, in Japan time: 2026年12月5日 18:30 (JST).
fn japan_time(at: &NaiveDateTime) -> String {
    let jst = FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset");
    at.and_utc().with_timezone(&jst).format("%Y年%-m月%-d日 %H:%M (JST)").to_string()
}

/// The whole page.
pub fn render(year: &PublishedYear, snapshot: &YearSnapshot) -> String {
    let mut html = String::new();
    let title = escape(&year.title);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{title}（第{}版）</title>\
         <style>{STYLE}</style></head><body><h1>{title}</h1>",
        year.version
    );
    html.push_str(&banner(year));
    html.push_str(&content(snapshot));
    html.push_str("</body></html>");
    html
}

/// Which version this is, when and under which licence it was published, and the other versions.
fn banner(year: &PublishedYear) -> String {
    let mut html = String::from("<section class=\"banner\">");
    let latest = if year.version == year.latest_version {
        "最新版".to_owned()
    } else {
        format!("最新版は第{}版です", year.latest_version)
    };
    let _ = write!(
        html,
        "<p>第{}版（{}）　公表日 {}　発行 {}</p>",
        year.version,
        latest,
        japan_time(&year.published_at),
        escape(&year.publisher)
    );
    if let Some(note) = &year.correction_note {
        let _ = write!(html, "<p>訂正理由: {}</p>", escape(note));
    }
    let _ = write!(
        html,
        "<p>ライセンス: <a rel=\"license\" href=\"{}\">{}</a> ({})</p>",
        escape(year.licence.url),
        escape(year.licence.title),
        escape(year.licence.id)
    );
    let files = &year.distributions;
    let _ = write!(
        html,
        "<p>データ: <a href=\"{}\">JSON</a> ・ <a href=\"{}\">CSV</a></p><p>版: ",
        escape(&files.json),
        escape(&files.csv)
    );
    for (index, version) in year.versions.iter().enumerate() {
        if index > 0 {
            html.push_str(" ・ ");
        }
        let label = format!("第{}版 {}", version.version, japan_time(&version.published_at));
        if version.version == year.version {
            let _ = write!(html, "<strong>{label}</strong>");
        } else {
            let _ = write!(html, "<a href=\"{}\">{label}</a>", escape(&version.html_url));
        }
    }
    html.push_str("</p></section>");
    if year.contains_sample {
        html.push_str(
            "<p class=\"sample\">サンプル: この公表には生成されたサンプルデータが含まれます。実際の数値ではありません。\
             サンプルの値はCSV（オープンデータ）には含まれません。</p>",
        );
    }
    html
}

/// The published figures.
fn content(snapshot: &YearSnapshot) -> String {
    let mut html = format!(
        "<h2>{} {} 指標の実績</h2><table><thead><tr><th>施策</th><th>指標</th><th>実績</th><th>単位</th>\
         <th>承認日</th></tr></thead><tbody>",
        escape(&snapshot.plan_name),
        escape(&snapshot.fiscal_year_label)
    );
    for row in &snapshot.rows {
        let figure = row
            .rate
            .or(row.value)
            .map(|n| n.normalize().to_string())
            .or_else(|| row.stage_name.clone())
            .unwrap_or_default();
        let unit = if row.rate.is_some() { "%".to_owned() } else { row.unit.clone() };
        let sample = if row.is_sample { "（サンプル）" } else { "" };
        let _ = write!(
            html,
            "<tr><td>No.{} {}</td><td>{}</td><td class=\"n\">{}{sample}</td><td>{}</td><td>{}</td></tr>",
            row.measure_number,
            escape(&row.measure_name),
            escape(&row.indicator_name),
            escape(&figure),
            escape(&unit),
            japan_time(&row.approved_at)
        );
    }
    html.push_str("</tbody></table>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_shown_as_text() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn dates_read_in_japan_time() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap().and_hms_opt(15, 30, 0).unwrap();
        assert_eq!(japan_time(&at), "2026年4月1日 00:30 (JST)");
    }
}
