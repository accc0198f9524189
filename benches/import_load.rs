//! Benchmark of bulk import: the largest allowed file (`MAX_IMPORT_ROWS` actuals) read, checked
//! and applied, then corrected, with the time of each step and the time the write transaction
//! holds the database; and the peak memory of reading hostile files.
//!
//! ```sh
//! cargo bench --bench import_load -- --backend sqlite
//! cargo bench --bench import_load -- --backend postgres
//! cargo bench --bench import_load -- --case far-corner   # or bomb, shared-string, csv-rows
//! cargo bench --bench import_load --profile dev -- --backend sqlite   # without a release build
//! ```
//!
//! Each run is one case in a fresh process, so the peak resident memory it prints (`VmHWM` from
//! /proc/self/status) belongs to that case alone. The import case loads a synthetic plan of
//! 20 000 count indicators over FY2016–2020 (one department owns every measure) and imports one
//! actual per indicator and year as that department: 100 000 rows.

use std::io::Write;
use std::time::Instant;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use municipal_kpi::auth::Caller;
use municipal_kpi::db::audit::Actor;
use municipal_kpi::db::{Database, departments, indicators, plans, users};
use municipal_kpi::domain::ids::PlanId;
use municipal_kpi::domain::role::Role;
use municipal_kpi::error::AppError;
use municipal_kpi::plan_document::{self, PlanDocument};
use municipal_kpi::spreadsheet::{self, import::MAX_IMPORT_ROWS};
use municipal_kpi::submission_cycle;

const MEASURES: usize = 400;
const INDICATORS_PER_MEASURE: usize = 50;
const YEARS: std::ops::RangeInclusive<i32> = 2016..=2020;

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn plan_toml() -> String {
    let mut toml = String::from(
        "[municipality]\ncode = \"131199\"\nname = \"板橋区\"\n\n[plan]\ncode = \"import-bench\"\nname = \"取込負荷試験\"\n\
         start_fiscal_year = 2016\nend_fiscal_year = 2020\nstatus = \"active\"\nbaseline_fiscal_year = 2015\ndescription = \"\"\n\n\
         [[departments]]\ncode = \"bench\"\nname = \"負荷試験課\"\n\n[[goals]]\nnumber = 1\nname = \"目標\"\n\n",
    );
    for measure in 1..=MEASURES {
        toml.push_str(&format!(
            "[[measures]]\nnumber = {measure}\nname = \"施策{measure}\"\nreview_category = \"継続\"\nmain_goal = 1\n\
             owners = [\"bench\"]\nstatus = \"active\"\nsummary = \"\"\n\n"
        ));
        for indicator in 1..=INDICATORS_PER_MEASURE {
            toml.push_str(&format!(
                "[[measures.indicators]]\nnumber = {indicator}\nname = \"指標{measure}-{indicator}\"\nkind = \"count\"\n\
                 direction = \"increase\"\nunit = \"件\"\nbaseline = {{ fiscal_year = 2015, value = \"100\" }}\n\n\
                 [[measures.indicators.targets]]\nvalue = \"200\"\ntarget_fiscal_year = 2020\neffective_from_fiscal_year = 2016\n\
                 reason = \"当初計画\"\n\n"
            ));
        }
    }
    toml
}

fn postgres_admin_url() -> String {
    std::env::var("MUNICIPAL_KPI_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of the benchmark's own: a SQLite file or a PostgreSQL database, dropped at the end.
struct BenchDatabase {
    url: String,
    postgres_name: Option<String>,
}

impl BenchDatabase {
    fn create(backend: &str) -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        if backend == "sqlite" {
            let path = std::env::temp_dir().join(format!("municipal-kpi-import-bench-{unique}.db"));
            return Self { url: format!("sqlite://{}", path.display()), postgres_name: None };
        }
        let name = format!("mkpi_import_bench_{unique}");
        let mut admin = diesel::PgConnection::establish(&postgres_admin_url()).expect("reach PostgreSQL");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the benchmark database");
        let admin_url = postgres_admin_url();
        let server = admin_url.rsplit_once('/').map(|(server, _)| server).expect("URL ending in /DATABASE");
        Self { url: format!("{server}/{name}"), postgres_name: Some(name) }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        match &self.postgres_name {
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            Some(name) => {
                if let Ok(mut admin) = diesel::PgConnection::establish(&postgres_admin_url()) {
                    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

fn import_case(backend: &str) -> Result<(), AppError> {
    let database = BenchDatabase::create(backend);
    let db = Database::connect(&database.url, 4)?;
    db.migrate()?;
    let toml = plan_toml();
    let started = Instant::now();
    let document = PlanDocument::from_toml(&toml)?;
    let read = started.elapsed();
    let loaded = db.write_blocking(municipal_kpi::db::WriteScope::Installation, move |conn| {
        plan_document::load(conn, &Actor::system("bench"), &document)
    })?;
    let plan_id = loaded.plan_id;
    println!(
        "plan of {} indicators ({} KiB TOML) imported in {:.1} s: read {:.1} s, write transaction {:.1} s (peak RSS so far {})",
        loaded.indicators,
        toml.len() / 1024,
        started.elapsed().as_secs_f64(),
        read.as_secs_f64(),
        (started.elapsed() - read).as_secs_f64(),
        peak_memory()
    );
    let caller = db.write_blocking(municipal_kpi::db::WriteScope::Installation, move |conn| {
        let municipality_id = plans::get(conn, PlanId::new(plan_id))?.municipality_id;
        let department = departments::find_by_code_or_name(conn, municipality_id, "bench")?
            .ok_or_else(|| AppError::Internal("bench department missing".into()))?;
        let user = users::create(
            conn,
            &Actor::system("bench"),
            &users::NewUser {
                username: "bench-department",
                display_name: "bench",
                password_hash: "not-a-login",
                role: Role::Department,
                department_id: Some(department.id),
                municipality_id: None,
                email: None,
            },
        )?;
        Ok::<_, AppError>(Caller {
            user_id: user.id,
            username: user.username,
            role: Role::Department,
            department_id: Some(department.id),
            municipality_id: user.municipality_id,
        })
    })?;
    let ids: Vec<i32> = db.read_blocking(|conn| {
        plans::get(conn, PlanId::new(plan_id))?;
        Ok::<_, AppError>(indicators::list_for_plan(conn, PlanId::new(plan_id))?.into_iter().map(|i| i.id).collect())
    })?;
    for (pass, version) in [("create", ""), ("correct", "1")] {
        let mut csv = String::from("指標ID,年度,実績,備考,版\r\n");
        for id in &ids {
            for year in YEARS {
                csv.push_str(&format!("{id},{year},{},{pass},{version}\r\n", 100 + id % 100));
            }
        }
        let rows = ids.len() * YEARS.count();
        assert_eq!(rows, MAX_IMPORT_ROWS);
        let t0 = Instant::now();
        let file = spreadsheet::read_csv(csv.as_bytes())?;
        let t1 = Instant::now();
        let checker = caller.clone();
        let checked = db.read_blocking(move |conn| {
            submission_cycle::check_import(conn, &checker, PlanId::new(plan_id), file, false)
        })?;
        let t2 = Instant::now();
        assert!(checked.can_apply(), "{:?}", checked.report.errors.first());
        let applier = caller.clone();
        let report = db.write_blocking(municipal_kpi::db::WriteScope::Installation, move |conn| {
            submission_cycle::apply_import(conn, &applier, PlanId::new(plan_id), checked)
        })?;
        let t3 = Instant::now();
        println!(
            "{backend} {pass}: {rows} rows ({} KiB CSV): read {:.2} s, check {:.2} s, write transaction {:.2} s, \
             total {:.2} s; applied {} ({:?}); peak RSS {}",
            csv.len() / 1024,
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t3 - t0).as_secs_f64(),
            report.applied,
            report.counts,
            peak_memory()
        );
    }
    Ok(())
}

/// Writes one zip entry's content (streamed, so a huge entry costs no memory).
type EntryWriter<'a> = dyn Fn(&mut dyn Write) + 'a;

fn zip_with(parts: &[(&str, &EntryWriter<'_>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_level(Some(1)).large_file(true);
    for (name, write) in parts {
        zip.start_file(*name, options).expect("zip entry");
        write(&mut zip);
    }
    zip.finish().expect("zip").into_inner()
}

fn write_str(text: &'static str) -> impl Fn(&mut dyn Write) {
    move |out| out.write_all(text.as_bytes()).expect("write")
}

const PACKAGE_RELATIONSHIPS: &str = r#"<Relationships><Relationship Id="rId1" Type="x/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<workbook xmlns:r="r"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const RELATIONSHIPS: &str = r#"<Relationships><Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="x/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

fn hostile_case(case: &str) {
    let repeated = |byte: u8, megabytes: usize| {
        move |out: &mut dyn Write| {
            let chunk = vec![byte; 1 << 20];
            for _ in 0..megabytes {
                out.write_all(&chunk).expect("write");
            }
        }
    };
    let (content_type, bytes) = match case {
        "far-corner" => (
            "xlsx",
            zip_with(&[
                ("_rels/.rels", &write_str(PACKAGE_RELATIONSHIPS)),
                ("xl/workbook.xml", &write_str(WORKBOOK)),
                ("xl/_rels/workbook.xml.rels", &write_str(RELATIONSHIPS)),
                (
                    "xl/worksheets/sheet1.xml",
                    &write_str(
                        r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>指標ID</t></is></c><c r="B1" t="inlineStr"><is><t>年度</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#,
                    ),
                ),
            ]),
        ),
        "bomb" => ("xlsx", zip_with(&[("xl/worksheets/sheet1.xml", &repeated(b'a', 300))])),
        "shared-string" => (
            "xlsx",
            zip_with(&[
                ("_rels/.rels", &write_str(PACKAGE_RELATIONSHIPS)),
                ("xl/workbook.xml", &write_str(WORKBOOK)),
                ("xl/_rels/workbook.xml.rels", &write_str(RELATIONSHIPS)),
                ("xl/worksheets/sheet1.xml", &write_str("<worksheet><sheetData/></worksheet>")),
                ("xl/sharedStrings.xml", &|out: &mut dyn Write| {
                    out.write_all(b"<sst><si><t>").expect("write");
                    repeated(b'x', 50)(out);
                    out.write_all(b"</t></si></sst>").expect("write");
                }),
            ]),
        ),
        "csv-rows" => {
            let mut csv = String::from("指標ID,年度,実績\r\n");
            for row in 0..=MAX_IMPORT_ROWS {
                csv.push_str(&format!("{row},2020,{row}\r\n"));
            }
            ("csv", csv.into_bytes())
        }
        other => panic!("unknown case {other}: far-corner, bomb, shared-string, csv-rows"),
    };
    let before = peak_memory();
    let started = Instant::now();
    let outcome = if content_type == "csv" { spreadsheet::read_csv(&bytes) } else { spreadsheet::read_xlsx(&bytes) };
    let message = match outcome {
        Err(error) => error.to_problem().detail,
        Ok(file) => format!("read {} rows", file.rows.len()),
    };
    println!(
        "{case}: {} KiB file, refused in {:.3} s: {message}; peak RSS before reading {before}, after {}",
        bytes.len() / 1024,
        started.elapsed().as_secs_f64(),
        peak_memory()
    );
}

fn main() -> Result<(), AppError> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    match (value("--backend"), value("--case")) {
        (_, Some(case)) if case != "import" => hostile_case(&case),
        (backend, _) => import_case(backend.as_deref().unwrap_or("sqlite"))?,
    }
    Ok(())
}
