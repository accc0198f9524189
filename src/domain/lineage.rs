//! Successive plans: an indicator continued from one plan to the next links to its predecessor,
//! and the links make one series (FY2016–2020 in the 2020 plan, FY2021–2025 in its successor).
//! Which indicator, and so which plan, speaks for each fiscal year of the series.

use std::collections::BTreeSet;

/// Longest chain of plans followed; a longer (or circular) chain is refused when linked.
pub const MAX_CHAIN_LENGTH: usize = 20;

/// One indicator of a series with the period of its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub indicator_id: i32,
    pub predecessor_id: Option<i32>,
    pub start_fiscal_year: i32,
    pub end_fiscal_year: i32,
}

/// The chain through `start`, oldest first: predecessors back from it, then successors forward
/// (where two indicators claim the same predecessor, the one whose plan starts first, then the
/// lower id). Each indicator appears once, however the links loop; at most [`MAX_CHAIN_LENGTH`].
pub fn chain(links: &[Link], start: i32) -> Vec<Link> {
    let find = |id: i32| links.iter().find(|l| l.indicator_id == id).copied();
    let Some(first) = find(start) else { return Vec::new() };
    let mut seen = BTreeSet::from([start]);
    let mut earlier = Vec::new();
    let mut cursor = first.predecessor_id;
    while let Some(link) =
        cursor.and_then(find).filter(|l| seen.len() < MAX_CHAIN_LENGTH && seen.insert(l.indicator_id))
    {
        earlier.push(link);
        cursor = link.predecessor_id;
    }
    earlier.reverse();
    earlier.push(first);
    let mut current = first.indicator_id;
    while seen.len() < MAX_CHAIN_LENGTH {
        let next = links
            .iter()
            .filter(|l| l.predecessor_id == Some(current) && !seen.contains(&l.indicator_id))
            .min_by_key(|l| (l.start_fiscal_year, l.indicator_id));
        let Some(next) = next else { break };
        seen.insert(next.indicator_id);
        earlier.push(*next);
        current = next.indicator_id;
    }
    earlier
}

/// Every fiscal year the chain covers with the indicator that speaks for it: its own plan's years;
/// where plans overlap, the later plan (the successor took over).
pub fn years(chain: &[Link]) -> Vec<(i32, Link)> {
    let mut result: Vec<(i32, Link)> = Vec::new();
    for link in chain {
        result.retain(|(year, _)| *year < link.start_fiscal_year);
        result.extend((link.start_fiscal_year..=link.end_fiscal_year).map(|year| (year, *link)));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(indicator_id: i32, predecessor_id: Option<i32>, start: i32, end: i32) -> Link {
        Link { indicator_id, predecessor_id, start_fiscal_year: start, end_fiscal_year: end }
    }

    /// マイナンバーカード交付率: 2020 plan (FY2016–2020) → 2025 plan (FY2021–2025).
    fn itabashi() -> Vec<Link> {
        vec![link(25, Some(7), 2021, 2025), link(7, None, 2016, 2020), link(99, None, 2021, 2025)]
    }

    #[test]
    fn the_chain_is_the_same_from_either_end_oldest_first() {
        let from_new: Vec<i32> = chain(&itabashi(), 25).iter().map(|l| l.indicator_id).collect();
        let from_old: Vec<i32> = chain(&itabashi(), 7).iter().map(|l| l.indicator_id).collect();
        assert_eq!(from_new, vec![7, 25]);
        assert_eq!(from_old, vec![7, 25]);
    }

    #[test]
    fn a_continued_indicator_covers_fy2016_to_2025_each_year_once() {
        let covered = years(&chain(&itabashi(), 25));
        let fiscal_years: Vec<i32> = covered.iter().map(|(year, _)| *year).collect();
        assert_eq!(fiscal_years, (2016..=2025).collect::<Vec<_>>());
        assert_eq!(covered[4].1.indicator_id, 7, "FY2020 belongs to the 2020 plan");
        assert_eq!(covered[5].1.indicator_id, 25, "FY2021 to the 2025 plan");
    }

    #[test]
    fn where_plans_overlap_the_later_plan_speaks_for_the_shared_years() {
        let links = [link(1, None, 2016, 2020), link(2, Some(1), 2019, 2021)];
        let covered: Vec<(i32, i32)> = years(&chain(&links, 1)).iter().map(|(y, l)| (*y, l.indicator_id)).collect();
        assert_eq!(covered, vec![(2016, 1), (2017, 1), (2018, 1), (2019, 2), (2020, 2), (2021, 2)]);
    }

    #[test]
    fn an_unlinked_indicator_is_a_chain_of_one_and_an_unknown_one_none() {
        assert_eq!(chain(&itabashi(), 99), vec![link(99, None, 2021, 2025)]);
        assert!(chain(&itabashi(), 12345).is_empty());
    }

    #[test]
    fn a_loop_of_links_ends_with_each_indicator_once() {
        let links = [link(1, Some(2), 2016, 2020), link(2, Some(1), 2021, 2025)];
        let ids: Vec<i32> = chain(&links, 1).iter().map(|l| l.indicator_id).collect();
        assert_eq!(ids, vec![2, 1]);
    }
}
