//! The catalogue of everything published, as DCAT in JSON-LD: what CKAN's ckanext-dcat harvester
//! (and other data portals) read. One dcat:Dataset per published plan-year (its latest version),
//! one dcat:Distribution per format. Paged the way ckanext-dcat follows pages
//! (hydra:PagedCollection with hydra:nextPage).

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::Distributions;
use crate::db::publications::CatalogueEntry;
use crate::domain::publication::Licence;
use crate::domain::timestamp::to_rfc3339_utc;
use crate::error::AppError;

/// The media type of the catalogue.
pub const JSON_LD_MEDIA_TYPE: &str = "application/ld+json";

/// Where the catalogue is, relative to the server.
pub const CATALOGUE_PATH: &str = "/api/v1/public/catalog";

fn japanese(text: &str) -> Value {
    json!({"@value": text, "@language": "ja"})
}

fn date_time(at: &NaiveDateTime) -> Value {
    json!({"@value": to_rfc3339_utc(at), "@type": "xsd:dateTime"})
}

fn link(base: &str, path: &str) -> Value {
    json!({"@id": format!("{base}{path}")})
}

/// One page of the catalogue. `base` is the server's own origin (`https://kpi.example.jp`), which
/// every identifier and URL starts with.
pub fn catalogue(
    base: &str,
    entries: &[CatalogueEntry],
    total: i64,
    limit: i64,
    offset: i64,
) -> Result<Value, AppError> {
    let datasets = entries.iter().map(|entry| dataset(base, entry)).collect::<Result<Vec<_>, _>>()?;
    let page_url = |offset: i64| format!("{base}{CATALOGUE_PATH}?limit={limit}&offset={offset}");
    let last_offset = if total == 0 { 0 } else { (total - 1) / limit * limit };
    let mut paging = json!({
        "@id": page_url(offset),
        "@type": "hydra:PagedCollection",
        "hydra:totalItems": total,
        "hydra:itemsPerPage": limit,
        "hydra:firstPage": page_url(0),
        "hydra:lastPage": page_url(last_offset),
    });
    if offset + limit < total {
        paging["hydra:nextPage"] = json!(page_url(offset + limit));
    }
    if offset > 0 {
        paging["hydra:previousPage"] = json!(page_url((offset - limit).max(0)));
    }
    Ok(json!({
        "@context": {
            "adms": "http://www.w3.org/ns/adms#",
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "owl": "http://www.w3.org/2002/07/owl#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "hydra": "http://www.w3.org/ns/hydra/core#",
        },
        "@graph": [
            {
                "@id": format!("{base}{CATALOGUE_PATH}"),
                "@type": "dcat:Catalog",
                "dct:title": japanese("自治体ICT・DX計画 進捗状況 公表データ"),
                "dct:description": japanese("各自治体が公表した計画年度ごとの指標の実績（公表版のみ）"),
                "dct:language": {"@id": "http://id.loc.gov/vocabulary/iso639-1/ja"},
                "dcat:dataset": datasets,
            },
            paging,
        ],
    }))
}

fn dataset(base: &str, entry: &CatalogueEntry) -> Result<Value, AppError> {
    let latest = &entry.latest;
    let licence = Licence::stored(&latest.licence)?;
    let files = Distributions::of(&entry.municipality_code, latest.plan_id, latest.fiscal_year, None);
    let distribution = |format: &str, media_type: &str, path: &str, what: &str| {
        json!({
            "@id": format!("{base}{path}#distribution"),
            "@type": "dcat:Distribution",
            "dct:title": japanese(&format!("{} ({what})", latest.title)),
            "dct:format": format,
            "dcat:mediaType": media_type,
            "dcat:accessURL": link(base, path),
            "dcat:downloadURL": link(base, path),
            "dct:license": {"@id": licence.url},
            "dct:issued": date_time(&entry.first_published_at),
            "dct:modified": date_time(&latest.published_at),
        })
    };
    let mut dataset = json!({
        "@id": format!("{base}{}", files.json),
        "@type": "dcat:Dataset",
        "dct:identifier": format!("{}-{}-{}", entry.municipality_code, latest.plan_id, latest.fiscal_year),
        "dct:title": japanese(&latest.title),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": japanese(&latest.publisher)},
        "dct:issued": date_time(&entry.first_published_at),
        "dct:modified": date_time(&latest.published_at),
        "dct:license": {"@id": licence.url},
        "owl:versionInfo": latest.version.to_string(),
        "dcat:landingPage": link(base, &files.html),
        "dcat:distribution": [
            distribution("JSON", "application/json", &files.json, "JSON"),
            distribution("CSV", "text/csv", &files.csv, "CSV オープンデータ"),
            distribution("HTML", "text/html", &files.html, "公表ページ"),
        ],
    });
    if let Some(note) = &latest.correction_note {
        dataset["adms:versionNotes"] = japanese(note);
    }
    Ok(dataset)
}
