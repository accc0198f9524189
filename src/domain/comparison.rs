//! Comparing one national indicator across municipalities for one fiscal year: which reported,
//! their rank, and the totals. Pure: the figures come in, the comparison goes out.
//!
//! - Only approved figures count; a municipality whose submission awaits review is `pending`, one
//!   with nothing is `missing`.
//! - Rank 1 is the best value in the indicator's direction; equal values share a rank and the next
//!   rank skips (1, 2, 2, 4).
//! - The pooled rate is `Σ numerator ÷ Σ denominator × 100` over the reported ratios (never the
//!   mean of their percents, see [`achievement::pooled_rate`]); the mean of the reported values is
//!   given beside it, as what it is.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::achievement::{self, Direction};

/// One municipality's figures for the year, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The approved value: a count, a percent, or a ratio's percent. `None` when nothing is approved.
    pub value: Option<Decimal>,
    /// The approved ratio's parts.
    pub parts: Option<(Decimal, Decimal)>,
    /// A submission waits for review or was returned (and nothing is approved yet).
    pub in_review: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// An approved value counts.
    Reported,
    /// Submitted or returned, not approved yet: not counted.
    Pending,
    /// Nothing recorded for the year.
    Missing,
}

impl Figures {
    pub fn state(&self) -> ReportState {
        match (self.value, self.in_review) {
            (Some(_), _) => ReportState::Reported,
            (None, true) => ReportState::Pending,
            (None, false) => ReportState::Missing,
        }
    }
}

/// Competition ranks ("1224") of the values in the direction's order; `None` for rows without a
/// value, and for every row of a direction that ranks nothing (milestones).
pub fn ranks(values: &[Option<Decimal>], direction: Direction) -> Vec<Option<usize>> {
    if direction == Direction::Milestone {
        return vec![None; values.len()];
    }
    let better = |a: Decimal, b: Decimal| if direction.higher_is_better() { a > b } else { a < b };
    // Best first: a value's rank is one more than the values before its first equal. Sorting once
    // keeps a comparison across all 1,741 municipalities at n log n, not n² (3 million comparisons).
    let mut best_first: Vec<Decimal> = values.iter().flatten().copied().collect();
    if direction.higher_is_better() {
        best_first.sort_unstable_by(|a, b| b.cmp(a));
    } else {
        best_first.sort_unstable();
    }
    values
        .iter()
        .map(|value| value.map(|value| 1 + best_first.partition_point(|other| better(*other, value))))
        .collect()
}

/// The totals of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ComparisonSummary {
    /// Municipalities with an indicator implementing the definition in a plan covering the year
    pub participating: usize,
    pub reported: usize,
    pub pending: usize,
    pub missing: usize,
    /// Municipalities registered but with no indicator implementing the definition for the year
    pub not_participating: usize,
    /// Σ numerator of the reported ratios
    #[schema(value_type = Option<f64>, example = 590)]
    pub numerator_total: Option<Decimal>,
    /// Σ denominator of the reported ratios
    #[schema(value_type = Option<f64>, example = 1340)]
    pub denominator_total: Option<Decimal>,
    /// Σ numerator ÷ Σ denominator × 100, rounded to one decimal (ratios only)
    #[schema(value_type = Option<f64>, example = 44.0)]
    pub pooled_rate: Option<Decimal>,
    /// The mean of the reported values, rounded to one decimal (each municipality weighs the same)
    #[schema(value_type = Option<f64>, example = 35.0)]
    pub mean: Option<Decimal>,
}

/// The totals over the participating municipalities' figures; `registered` counts every
/// municipality, participating or not.
pub fn summarise(figures: &[Figures], registered: usize) -> ComparisonSummary {
    let count = |state: ReportState| figures.iter().filter(|f| f.state() == state).count();
    let parts: Vec<(Decimal, Decimal)> = figures.iter().filter_map(|f| f.value.and(f.parts)).collect();
    let values: Vec<Decimal> = figures.iter().filter_map(|f| f.value).collect();
    let sum = |pick: fn(&(Decimal, Decimal)) -> Decimal| {
        (!parts.is_empty())
            .then(|| parts.iter().map(pick).try_fold(Decimal::ZERO, |acc, x| acc.checked_add(x)))
            .flatten()
    };
    let mean = (!values.is_empty())
        .then(|| {
            let total = values.iter().try_fold(Decimal::ZERO, |acc, x| acc.checked_add(*x))?;
            total.checked_div(Decimal::from(values.len()))
        })
        .flatten();
    ComparisonSummary {
        participating: figures.len(),
        reported: count(ReportState::Reported),
        pending: count(ReportState::Pending),
        missing: count(ReportState::Missing),
        not_participating: registered.saturating_sub(figures.len()),
        numerator_total: sum(|p| p.0),
        denominator_total: sum(|p| p.1),
        pooled_rate: (!parts.is_empty())
            .then(|| achievement::pooled_rate(&parts))
            .flatten()
            .map(achievement::round_for_output),
        mean: mean.map(achievement::round_for_output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn ratio(numerator: &str, denominator: &str) -> Figures {
        let (n, m) = (d(numerator), d(denominator));
        Figures { value: Some(n * Decimal::ONE_HUNDRED / m), parts: Some((n, m)), in_review: false }
    }

    #[test]
    fn the_pooled_rate_sums_parts_and_differs_from_the_mean_of_rates() {
        // A: 60/240 = 25 %, B: 30/100 = 30 %, C: 500/1000 = 50 %.
        // Pooled: 590 / 1340 = 44.029… % → 44.0; mean of rates: (25 + 30 + 50) / 3 = 35.
        let figures = [ratio("60", "240"), ratio("30", "100"), ratio("500", "1000")];
        let summary = summarise(&figures, 5);
        assert_eq!(summary.pooled_rate, Some(d("44.0")));
        assert_eq!(summary.mean, Some(d("35.0")));
        assert_eq!((summary.numerator_total, summary.denominator_total), (Some(d("590")), Some(d("1340"))));
        assert_eq!((summary.participating, summary.reported, summary.not_participating), (3, 3, 2));
    }

    #[test]
    fn pending_and_missing_municipalities_are_counted_but_not_pooled() {
        let pending = Figures { value: None, parts: None, in_review: true };
        let missing = Figures { value: None, parts: None, in_review: false };
        let figures = [ratio("1", "4"), pending, missing];
        let summary = summarise(&figures, 3);
        assert_eq!((summary.reported, summary.pending, summary.missing), (1, 1, 1));
        assert_eq!(summary.pooled_rate, Some(d("25.0")));
        assert_eq!(summary.mean, Some(d("25.0")));
    }

    #[test]
    fn counts_have_a_mean_but_no_pooled_rate() {
        let count = |v: &str| Figures { value: Some(d(v)), parts: None, in_review: false };
        let summary = summarise(&[count("9"), count("18"), count("4")], 3);
        assert_eq!(summary.pooled_rate, None);
        assert_eq!(summary.mean, Some(d("10.3")));
        assert_eq!(summary.numerator_total, None);
    }

    #[test]
    fn nothing_reported_has_no_totals() {
        let summary = summarise(&[], 4);
        assert_eq!((summary.pooled_rate, summary.mean, summary.not_participating), (None, None, 4));
    }

    #[test]
    fn equal_values_share_a_rank_and_the_next_rank_skips() {
        let values = [Some(d("30")), None, Some(d("50")), Some(d("30")), Some(d("10"))];
        assert_eq!(ranks(&values, Direction::Increase), [Some(2), None, Some(1), Some(2), Some(4)]);
        assert_eq!(ranks(&values, Direction::MaintainAtMost), [Some(2), None, Some(4), Some(2), Some(1)]);
        assert_eq!(ranks(&values, Direction::Milestone), [None; 5]);
        // Ties at the top and at the bottom, and more rows than a quick look checks.
        let many: Vec<Option<Decimal>> =
            [5, 5, 3, 9, 9, 9, 1, 1].iter().map(|v| Some(Decimal::from(*v))).chain([None]).collect();
        assert_eq!(
            ranks(&many, Direction::Increase),
            [Some(4), Some(4), Some(6), Some(1), Some(1), Some(1), Some(7), Some(7), None]
        );
        assert_eq!(
            ranks(&many, Direction::MaintainAtMost),
            [Some(4), Some(4), Some(3), Some(6), Some(6), Some(6), Some(1), Some(1), None]
        );
    }
}
