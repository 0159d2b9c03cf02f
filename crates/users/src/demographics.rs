//! A member's demographic record: derived and coarse (an age band, never
//! the birth date; gender as Sngine records it; country and region of the
//! member's latest located device; their language), and the k-anonymous
//! summary over consenting members that later milestones' turnout
//! statistics use. The clock is passed in.
//!
//! ```text
//!   (no consent) ──PUT consent true──▶ (consenting: record kept, refreshed on read)
//!        ▲                                   │
//!        └────────PUT consent false──────────┘ (record deleted)
//!
//!   summary = count(*) GROUP BY (age_band, gender, country) over consenting
//!             members; a cell under k is suppressed; all under k: refused
//! ```

use serde::Serialize;

/// The default minimum cell size of the summary.
pub const DEFAULT_K: u32 = 10;

/// An age band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AgeBand {
    #[serde(rename = "under_18")]
    Under18,
    #[serde(rename = "18-24")]
    From18To24,
    #[serde(rename = "25-34")]
    From25To34,
    #[serde(rename = "35-44")]
    From35To44,
    #[serde(rename = "45-54")]
    From45To54,
    #[serde(rename = "55-64")]
    From55To64,
    #[serde(rename = "65+")]
    From65,
}

impl AgeBand {
    /// The band of someone born on `birth` on the day `today` (both
    /// `YYYY-MM-DD`); `None` without a birth date or with one in the future.
    pub fn of(birth: Option<&str>, today: &str) -> Option<Self> {
        let birth: jiff::civil::Date = birth?.parse().ok()?;
        let today: jiff::civil::Date = today.parse().ok()?;
        if birth > today {
            return None;
        }
        let had_birthday = (today.month(), today.day()) >= (birth.month(), birth.day());
        let age = today.year() - birth.year() - i16::from(!had_birthday);
        Some(match age {
            ..18 => Self::Under18,
            18..=24 => Self::From18To24,
            25..=34 => Self::From25To34,
            35..=44 => Self::From35To44,
            45..=54 => Self::From45To54,
            55..=64 => Self::From55To64,
            _ => Self::From65,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Under18 => "under_18",
            Self::From18To24 => "18-24",
            Self::From25To34 => "25-34",
            Self::From35To44 => "35-44",
            Self::From45To54 => "45-54",
            Self::From55To64 => "55-64",
            Self::From65 => "65+",
        }
    }
}

/// The UTC calendar date (`YYYY-MM-DD`) of `now` (seconds since the epoch).
pub fn utc_date(now: i64) -> Option<String> {
    let at = jiff::Timestamp::from_second(now).ok()?;
    Some(jiff::tz::Offset::UTC.to_datetime(at).date().to_string())
}

/// Gender as Sngine records it, trimmed and lower-cased; `None` when empty
/// or longer than 32 characters.
pub fn gender(recorded: Option<&str>) -> Option<String> {
    let text = recorded?.trim();
    let lower = text.to_lowercase();
    (!lower.is_empty() && lower.chars().count() <= 32 && !lower.chars().any(char::is_control)).then_some(lower)
}

/// The minimum cell size, from the `demographics_k` setting (empty: the
/// default); at least 2, or no cell protects anyone.
pub fn parse_k(setting: &str) -> Result<u32, String> {
    if setting.trim().is_empty() {
        return Ok(DEFAULT_K);
    }
    setting
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|k| *k >= 2)
        .ok_or_else(|| "demographics_k: a whole number of 2 or more".into())
}

/// One cell of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub age_band: Option<String>,
    pub gender: Option<String>,
    pub country: Option<String>,
    pub members: u64,
}

/// The summary as answered: only cells of at least `k` members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub k: u32,
    pub cells: Vec<Cell>,
    /// How many cells were left out (not how many members they held).
    pub suppressed_cells: usize,
}

/// Keeps the cells of at least `k` members; `None` when none is left.
pub fn suppress(cells: Vec<Cell>, k: u32) -> Option<Summary> {
    let total = cells.len();
    let kept: Vec<Cell> = cells.into_iter().filter(|c| c.members >= u64::from(k)).collect();
    (!kept.is_empty()).then(|| Summary { k, suppressed_cells: total - kept.len(), cells: kept })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_turns_on_the_birthday_itself() {
        assert_eq!(AgeBand::of(Some("2008-12-04"), "2026-12-03"), Some(AgeBand::Under18));
        assert_eq!(AgeBand::of(Some("2008-12-04"), "2026-12-04"), Some(AgeBand::From18To24));
        assert_eq!(AgeBand::of(Some("1992-01-01"), "2026-12-04"), Some(AgeBand::From25To34));
        assert_eq!(AgeBand::of(Some("1961-12-05"), "2026-12-04"), Some(AgeBand::From55To64));
        assert_eq!(AgeBand::of(Some("1961-12-04"), "2026-12-04"), Some(AgeBand::From65));
        assert_eq!(AgeBand::of(Some("2000-02-29"), "2018-02-28"), Some(AgeBand::Under18));
        assert_eq!(AgeBand::of(Some("2000-02-29"), "2018-03-01"), Some(AgeBand::From18To24));
    }

    #[test]
    fn the_date_of_a_moment_is_its_utc_date() {
        assert_eq!(utc_date(1_796_342_399).as_deref(), Some("2026-12-03"));
        assert_eq!(utc_date(1_796_342_400).as_deref(), Some("2026-12-04"));
    }

    #[test]
    fn no_band_without_a_birth_date_or_with_one_ahead() {
        assert_eq!(AgeBand::of(None, "2026-12-04"), None);
        assert_eq!(AgeBand::of(Some("2030-01-01"), "2026-12-04"), None);
        assert_eq!(AgeBand::of(Some("not a date"), "2026-12-04"), None);
    }

    #[test]
    fn gender_is_kept_as_recorded_but_trimmed_and_lower_cased() {
        assert_eq!(gender(Some(" Female ")), Some("female".into()));
        assert_eq!(gender(Some("")), None);
        assert_eq!(gender(Some(&"x".repeat(33))), None);
        assert_eq!(gender(None), None);
    }

    fn cell(band: &str, members: u64) -> Cell {
        Cell { age_band: Some(band.into()), gender: None, country: None, members }
    }

    #[test]
    fn cells_under_k_are_suppressed_and_cells_at_k_kept() {
        let summary = suppress(vec![cell("25-34", 9), cell("35-44", 10), cell("65+", 1)], 10);
        assert_eq!(summary, Some(Summary { k: 10, cells: vec![cell("35-44", 10)], suppressed_cells: 2 }));
    }

    #[test]
    fn a_summary_whose_cells_are_all_under_k_is_none() {
        assert_eq!(suppress(vec![cell("25-34", 9)], 10), None);
        assert_eq!(suppress(Vec::new(), 10), None);
    }

    #[test]
    fn k_is_two_or_more() {
        assert_eq!(parse_k(""), Ok(DEFAULT_K));
        assert_eq!(parse_k(" 5 "), Ok(5));
        assert!(parse_k("1").is_err() && parse_k("ten").is_err());
    }
}
