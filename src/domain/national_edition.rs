//! Editions of the 自治体DX推進計画: each edition's 重点取組事項 in force and, for each item, what it is
//! to the previous entered edition's (the same item, renamed, or added; the previous items no
//! item continues were dropped). Pure: `db::national_editions` stores them, an import (JSON body or
//! CLI) goes through [`check_new_edition`].
//!
//! Only editions a source states are entered; an edition between two entered ones is not guessed,
//! so "previous" means the previous *entered* edition.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::plan_reference::check_issued;
use crate::error::FieldError;

/// An edition as an import states it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEdition {
    /// Short key of the edition, unique (`2.3`)
    #[schema(example = "2.3", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub code: String,
    #[schema(example = "自治体デジタル・トランスフォーメーション(DX)推進計画【第2.3版】", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    /// Publication date as precisely as the source states it (YYYY, YYYY-MM or YYYY-MM-DD);
    /// `null` when no source states it (then `reading_note` says so)
    #[schema(example = "2024-02-05", max_length = 10)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub issued: Option<String>,
    /// Where the item list and the date come from
    #[schema(max_length = 2000)]
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub source: String,
    /// How the source is read where it is silent or inferred (an unstated date, an inferred rename)
    #[schema(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
    /// The 重点取組事項 in force, numbered 1, 2, … as the edition numbers them
    #[schema(max_items = 100)]
    #[serde(deserialize_with = "crate::domain::limits::list")]
    pub items: Vec<NewEditionItem>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEditionItem {
    #[schema(example = 4, minimum = 1, maximum = 100)]
    pub number: i32,
    #[schema(example = "マイナンバーカードの普及促進・利用の推進", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    /// The number of the item of the previous entered edition this one continues (same or
    /// renamed); `null`: a new item
    #[schema(example = 2)]
    #[serde(default)]
    pub continues: Option<i32>,
}

/// What an item is to the previous entered edition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ItemChange {
    /// No earlier edition is entered, so there is nothing to compare with
    FirstEntered,
    /// Continues the previous edition's item under the same name
    Same { previous_number: i32 },
    /// Continues the previous edition's item under a new name
    Renamed { previous_number: i32, previous_name: String },
    /// Not in the previous edition
    Added,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EditionItem {
    #[schema(example = 4)]
    pub number: i32,
    #[schema(example = "マイナンバーカードの普及促進・利用の推進")]
    pub name: String,
    #[serde(flatten)]
    pub change: ItemChange,
}

/// An item of the previous entered edition that no item of this edition continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DroppedItem {
    #[schema(example = 3)]
    pub previous_number: i32,
    #[schema(example = "自治体の行政手続きのオンライン化")]
    pub previous_name: String,
}

/// An item as stored: number, name and the previous edition's item it continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    pub number: i32,
    pub name: String,
    pub continues: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NationalEdition {
    pub id: i32,
    #[schema(example = "2.3")]
    pub code: String,
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    #[schema(example = "2024-02-05")]
    pub issued: Option<String>,
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub source: String,
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub reading_note: Option<String>,
    /// The code of the previous entered edition; `null` for the first entered
    pub previous_edition: Option<String>,
    pub items: Vec<EditionItem>,
    pub dropped: Vec<DroppedItem>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

/// The items of an edition as history against the previous entered edition's items (`None`: it is
/// the first entered), and the previous items none continues.
pub fn item_history(previous: Option<&[StoredItem]>, items: &[StoredItem]) -> (Vec<EditionItem>, Vec<DroppedItem>) {
    let Some(previous) = previous else {
        let listed = items
            .iter()
            .map(|i| EditionItem { number: i.number, name: i.name.clone(), change: ItemChange::FirstEntered })
            .collect();
        return (listed, Vec::new());
    };
    let change = |item: &StoredItem| match item.continues.and_then(|n| previous.iter().find(|p| p.number == n)) {
        None => ItemChange::Added,
        Some(p) if p.name == item.name => ItemChange::Same { previous_number: p.number },
        Some(p) => ItemChange::Renamed { previous_number: p.number, previous_name: p.name.clone() },
    };
    let listed =
        items.iter().map(|i| EditionItem { number: i.number, name: i.name.clone(), change: change(i) }).collect();
    let dropped = previous
        .iter()
        .filter(|p| !items.iter().any(|i| i.continues == Some(p.number)))
        .map(|p| DroppedItem { previous_number: p.number, previous_name: p.name.clone() })
        .collect();
    (listed, dropped)
}

/// The latest entered edition, as a new one is checked against it.
pub struct LatestEdition<'a> {
    pub issued: Option<&'a str>,
    pub items: &'a [StoredItem],
}

/// Whether a date stated as YYYY, YYYY-MM or YYYY-MM-DD is certainly before another: compared at
/// the precision both state (`2024` is not before `2024-02-05`, nor after it).
fn certainly_before(earlier: &str, later: &str) -> bool {
    let precision = earlier.len().min(later.len());
    earlier[..precision] < later[..precision]
}

/// Checks a new edition against the latest entered one: its date as stated (or a note saying why
/// none is), not before the latest's; items numbered 1, 2, … with distinct non-empty names; each
/// `continues` naming an item of the latest edition, at most once.
pub fn check_new_edition(edition: &NewEdition, latest: Option<LatestEdition<'_>>) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let blank = |text: &str| text.trim().is_empty();
    for (field, text) in [("code", &edition.code), ("name", &edition.name), ("source", &edition.source)] {
        if blank(text) {
            errors.push(FieldError::new(field, "入力してください (must not be empty)"));
        }
    }
    match (&edition.issued, &latest) {
        (Some(issued), _) if check_issued(issued).is_err() => {
            errors.push(FieldError::new("issued", check_issued(issued).unwrap_err()));
        }
        (Some(issued), Some(LatestEdition { issued: Some(previous), .. })) if certainly_before(issued, previous) => {
            errors.push(FieldError::new(
                "issued",
                format!(
                    "発行日は登録済みの最新の版({previous})より後にしてください (must not precede the latest edition)"
                ),
            ));
        }
        (None, _) if edition.reading_note.as_deref().is_none_or(blank) => errors.push(FieldError::new(
            "reading_note",
            "発行日を記さない場合は、その理由を読み方の注記に書いてください (say why the date is not stated)",
        )),
        _ => {}
    }
    if edition.items.is_empty() {
        errors.push(FieldError::new("items", "重点取組事項を1つ以上指定してください (list at least one item)"));
    }
    let previous = latest.as_ref().map(|l| l.items).unwrap_or_default();
    for (index, item) in edition.items.iter().enumerate() {
        let field = |name: &str| format!("items[{index}].{name}");
        if usize::try_from(item.number).ok() != Some(index + 1) {
            errors.push(FieldError::new(
                field("number"),
                format!("項目番号は1から順に付けてください (expected {})", index + 1),
            ));
        }
        if blank(&item.name) {
            errors.push(FieldError::new(field("name"), "入力してください (must not be empty)"));
        } else if edition.items[..index].iter().any(|other| other.name == item.name) {
            errors.push(FieldError::new(field("name"), "同じ名称の項目があります (names must be distinct)"));
        }
        let Some(continued) = item.continues else { continue };
        if !previous.iter().any(|p| p.number == continued) {
            errors.push(FieldError::new(
                field("continues"),
                format!("登録済みの最新の版に項目{continued}はありません (no such item in the latest edition)"),
            ));
        } else if edition.items[..index].iter().any(|other| other.continues == Some(continued)) {
            errors.push(FieldError::new(
                field("continues"),
                format!("項目{continued}を引き継ぐ項目は1つだけです (an item is continued at most once)"),
            ));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(number: i32, name: &str, continues: Option<i32>) -> StoredItem {
        StoredItem { number, name: name.into(), continues }
    }

    fn first_edition() -> Vec<StoredItem> {
        vec![
            stored(1, "標準化・共通化", None),
            stored(2, "マイナンバーカードの普及促進", None),
            stored(3, "行政手続きのオンライン化", None),
        ]
    }

    fn new_edition(issued: Option<&str>, items: &[(i32, &str, Option<i32>)]) -> NewEdition {
        NewEdition {
            code: "2.3".into(),
            name: "第2.3版".into(),
            issued: issued.map(str::to_owned),
            source: "issue 22".into(),
            reading_note: None,
            items: items
                .iter()
                .map(|&(number, name, continues)| NewEditionItem { number, name: name.into(), continues })
                .collect(),
        }
    }

    fn fields(result: Result<(), Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn history_says_same_renamed_added_and_dropped() {
        let items = [
            stored(1, "フロントヤード改革", None),
            stored(2, "標準化・共通化", Some(1)),
            stored(3, "マイナンバーカードの普及促進・利用の推進", Some(2)),
        ];
        let (listed, dropped) = item_history(Some(&first_edition()), &items);
        assert_eq!(listed[0].change, ItemChange::Added);
        assert_eq!(listed[1].change, ItemChange::Same { previous_number: 1 });
        assert_eq!(
            listed[2].change,
            ItemChange::Renamed {
                previous_number: 2, previous_name: "マイナンバーカードの普及促進".into()
            }
        );
        assert_eq!(dropped, [DroppedItem { previous_number: 3, previous_name: "行政手続きのオンライン化".into() }]);
    }

    #[test]
    fn the_first_entered_edition_compares_with_nothing() {
        let (listed, dropped) = item_history(None, &first_edition());
        assert!(listed.iter().all(|i| i.change == ItemChange::FirstEntered));
        assert!(dropped.is_empty());
    }

    #[test]
    fn a_well_formed_edition_passes() {
        let latest = LatestEdition { issued: Some("2022-09"), items: &first_edition() };
        let edition = new_edition(Some("2024-02-05"), &[(1, "新しい項目", None), (2, "標準化・共通化", Some(1))]);
        assert_eq!(check_new_edition(&edition, Some(latest)), Ok(()));
    }

    #[test]
    fn dates_must_not_go_back_at_the_precision_both_state() {
        let items = first_edition();
        let edition = new_edition(Some("2024-01-31"), &[(1, "項目", None)]);
        let latest = || Some(LatestEdition { issued: Some("2024-02"), items: &items });
        assert_eq!(fields(check_new_edition(&edition, latest())), ["issued"]);
        // 2024 says nothing about which month: not certainly before 2024-02.
        assert_eq!(check_new_edition(&new_edition(Some("2024"), &[(1, "項目", None)]), latest()), Ok(()));
        assert_eq!(
            fields(check_new_edition(&new_edition(Some("2024-13"), &[(1, "項目", None)]), latest())),
            ["issued"]
        );
    }

    #[test]
    fn an_unstated_date_needs_a_note() {
        let mut edition = new_edition(None, &[(1, "項目", None)]);
        assert_eq!(fields(check_new_edition(&edition, None)), ["reading_note"]);
        edition.reading_note = Some("出典は発行日を記していない".into());
        assert_eq!(check_new_edition(&edition, None), Ok(()));
    }

    #[test]
    fn items_are_numbered_from_one_with_distinct_names() {
        let edition = new_edition(Some("2024"), &[(1, "項目", None), (3, "項目", None), (3, " ", None)]);
        assert_eq!(fields(check_new_edition(&edition, None)), ["items[1].number", "items[1].name", "items[2].name"]);
        assert_eq!(fields(check_new_edition(&new_edition(Some("2024"), &[]), None)), ["items"]);
    }

    #[test]
    fn continues_names_an_item_of_the_latest_edition_once() {
        let items = first_edition();
        let edition = new_edition(Some("2024"), &[(1, "甲", Some(2)), (2, "乙", Some(2)), (3, "丙", Some(9))]);
        let latest = Some(LatestEdition { issued: None, items: &items });
        assert_eq!(fields(check_new_edition(&edition, latest)), ["items[1].continues", "items[2].continues"]);
        // Nothing entered yet: nothing to continue.
        let alone = new_edition(Some("2024"), &[(1, "甲", Some(1))]);
        assert_eq!(fields(check_new_edition(&alone, None)), ["items[0].continues"]);
    }
}
