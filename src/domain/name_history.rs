//! Which name a plan, measure or indicator bore for a fiscal year, as recorded at a moment.
//!
//! A rename is a revision: the new name, the fiscal year it takes effect (`None`: every year, as for
//! a correction) and when it was recorded. The first revision of an entity is the name it was
//! created with. Evaluations of an earlier year, or `as_of` a moment before the rename, show the
//! name in force then (板橋区ICT推進・活用計画2025 became 板橋区DX推進計画2025 in 2023).

use chrono::NaiveDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRevision {
    pub name: String,
    pub effective_from_fiscal_year: Option<i32>,
    pub recorded_at: NaiveDateTime,
}

/// The name in force in `year` (any year when `None`) among the revisions recorded by `as_of`
/// (all when `None`): the one effective latest by then, the later recorded one on a tie. With no
/// revisions the entity was never renamed and `current` is its name; `as_of` before every
/// revision gives the first name.
pub fn name_in_force<'a>(
    current: &'a str,
    revisions: &'a [NameRevision],
    year: Option<i32>,
    as_of: Option<NaiveDateTime>,
) -> &'a str {
    let known = || revisions.iter().filter(|r| as_of.is_none_or(|t| r.recorded_at <= t));
    let in_force = known()
        .filter(|r| match (r.effective_from_fiscal_year, year) {
            (Some(from), Some(year)) => from <= year,
            _ => true,
        })
        .max_by_key(|r| (r.effective_from_fiscal_year.unwrap_or(i32::MIN), r.recorded_at));
    match in_force {
        Some(revision) => &revision.name,
        None => revisions.iter().min_by_key(|r| r.recorded_at).map_or(current, |first| first.name.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn at(year: i32, month: u32, day: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(year, month, day).unwrap().and_hms_opt(9, 0, 0).unwrap()
    }

    fn revision(name: &str, effective: Option<i32>, recorded_at: NaiveDateTime) -> NameRevision {
        NameRevision { name: name.into(), effective_from_fiscal_year: effective, recorded_at }
    }

    /// Created 2021-04-01; renamed in February 2024 with effect from FY2023.
    fn itabashi() -> Vec<NameRevision> {
        vec![
            revision("板橋区ICT推進・活用計画2025", None, at(2021, 4, 1)),
            revision("板橋区DX推進計画2025", Some(2023), at(2024, 2, 20)),
        ]
    }

    #[test]
    fn a_never_renamed_entity_keeps_its_current_name() {
        assert_eq!(
            name_in_force("文京区官民データ活用推進計画", &[], Some(2019), None),
            "文京区官民データ活用推進計画"
        );
    }

    #[test]
    fn a_year_before_the_rename_shows_the_old_name_and_later_years_the_new() {
        let revisions = itabashi();
        assert_eq!(name_in_force("板橋区DX推進計画2025", &revisions, Some(2022), None), "板橋区ICT推進・活用計画2025");
        assert_eq!(name_in_force("板橋区DX推進計画2025", &revisions, Some(2023), None), "板橋区DX推進計画2025");
        assert_eq!(name_in_force("板橋区DX推進計画2025", &revisions, Some(2025), None), "板橋区DX推進計画2025");
        assert_eq!(name_in_force("板橋区DX推進計画2025", &revisions, None, None), "板橋区DX推進計画2025");
    }

    #[test]
    fn as_of_before_the_rename_shows_the_name_recorded_then_even_for_a_later_year() {
        let revisions = itabashi();
        assert_eq!(
            name_in_force("板橋区DX推進計画2025", &revisions, Some(2023), Some(at(2024, 1, 31))),
            "板橋区ICT推進・活用計画2025"
        );
        assert_eq!(
            name_in_force("板橋区DX推進計画2025", &revisions, Some(2023), Some(at(2024, 2, 20))),
            "板橋区DX推進計画2025"
        );
    }

    #[test]
    fn a_rename_without_an_effective_year_applies_to_every_year_once_recorded() {
        let revisions = vec![
            revision("社会保障・税番号制度への対応", None, at(2016, 4, 1)),
            revision("マイナンバー制度への対応", None, at(2018, 4, 1)),
        ];
        assert_eq!(name_in_force("マイナンバー制度への対応", &revisions, Some(2016), None), "マイナンバー制度への対応");
        assert_eq!(
            name_in_force("マイナンバー制度への対応", &revisions, Some(2016), Some(at(2017, 3, 31))),
            "社会保障・税番号制度への対応"
        );
    }

    #[test]
    fn as_of_before_the_first_revision_gives_the_first_name() {
        let revisions = itabashi();
        assert_eq!(
            name_in_force("板橋区DX推進計画2025", &revisions, Some(2021), Some(at(2020, 1, 1))),
            "板橋区ICT推進・活用計画2025"
        );
    }
}
