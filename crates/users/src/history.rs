//! A member's history (`GET /api/users/activity`): what the frontend
//! reported and the security events of the audit log that name the member,
//! merged newest first and paged with an opaque cursor.
//!
//! Every entry has a position `(at, source, id)`, ordered descending
//! (`at` in microseconds; `security` before `frontend` at the same
//! microsecond; then the id within its source). A page holds the `limit`
//! newest entries strictly after the cursor's position; the cursor of the
//! next page is the position of the page's last entry.
//!
//! ```text
//!   frontend ──(≤ limit after cursor)──┐
//!                                      ├──merge desc──▶ first `limit` ──▶ page, cursor = last's position
//!   security ──(≤ limit after cursor)──┘
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use vottery_validate::ValidationError;

use crate::UsersError;

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Frontend = 0,
    Security = 1,
}

/// An entry's place in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Microseconds since the epoch.
    pub at: i64,
    pub source: Source,
    pub id: i64,
}

impl Position {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}.{}", self.at, self.source as u8, self.id))
    }

    fn decode(text: &str) -> Result<Self, UsersError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| UsersError::CursorInvalid)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| UsersError::CursorInvalid)?;
        let mut parts = text.split('.');
        let mut next = || parts.next().and_then(|p| p.parse::<i64>().ok()).ok_or(UsersError::CursorInvalid);
        let (at, source, id) = (next()?, next()?, next()?);
        let source = match source {
            0 => Source::Frontend,
            1 => Source::Security,
            _ => return Err(UsersError::CursorInvalid),
        };
        if parts.next().is_some() || id < 0 {
            return Err(UsersError::CursorInvalid);
        }
        Ok(Self { at, source, id })
    }

    /// The bound a source's query uses: entries with `at < bound.0`, or
    /// `at = bound.0` and `id < bound.1`, are after this position.
    pub fn bound_for(self, source: Source) -> (i64, i64) {
        let id = match source.cmp(&self.source) {
            std::cmp::Ordering::Less => i64::MAX,
            std::cmp::Ordering::Equal => self.id,
            std::cmp::Ordering::Greater => i64::MIN,
        };
        (self.at, id)
    }
}

/// The query string of `GET /api/users/activity`: `cursor` and `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    pub after: Option<Position>,
    pub limit: i64,
}

impl PageQuery {
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, UsersError> {
        let (mut cursor, mut limit) = (None, None);
        for (name, value) in pairs {
            let slot = match name {
                "cursor" => &mut cursor,
                "limit" => &mut limit,
                other => return Err(ValidationError::UnknownField(other.chars().take(32).collect()).into()),
            };
            if slot.replace(value).is_some() {
                return Err(ValidationError::InvalidField(format!("`{name}` is given twice")).into());
            }
        }
        let after = cursor.map(Position::decode).transpose()?;
        Ok(Self { after, limit: crate::directory::page_limit(limit)? })
    }
}

/// One entry of either source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    #[serde(skip)]
    pub position: Position,
    pub source: Source,
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub device_id: Option<String>,
    pub details: serde_json::Value,
}

/// The page of the `limit` newest entries of both sources (each read with
/// up to `limit + 1` entries after the cursor), and the cursor of the next
/// page when an entry was left over.
pub fn merge(frontend: Vec<Entry>, security: Vec<Entry>, limit: i64) -> (Vec<Entry>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or_default();
    let mut all: Vec<Entry> = frontend.into_iter().chain(security).collect();
    all.sort_by_key(|e| std::cmp::Reverse(e.position));
    let more = all.len() > limit;
    all.truncate(limit);
    let next = if more { all.last().map(|e| e.position.encode()) } else { None };
    (all, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: i64, source: Source, id: i64) -> Entry {
        Entry {
            position: Position { at, source, id },
            source,
            kind: format!("{source:?}-{id}"),
            at: at.to_string(),
            device_id: None,
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn entries_of_both_sources_are_merged_newest_first() {
        let frontend = vec![entry(30, Source::Frontend, 3), entry(10, Source::Frontend, 1)];
        let security = vec![entry(30, Source::Security, 9), entry(20, Source::Security, 8)];
        let (page, next) = merge(frontend, security, 3);
        let order: Vec<(i64, Source)> = page.iter().map(|e| (e.position.at, e.source)).collect();
        assert_eq!(order, [(30, Source::Security), (30, Source::Frontend), (20, Source::Security)]);
        assert_eq!(next, Some(Position { at: 20, source: Source::Security, id: 8 }.encode()));
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let (page, next) = merge(vec![entry(10, Source::Frontend, 1)], Vec::new(), 5);
        assert_eq!((page.len(), next), (1, None));
    }

    #[test]
    fn a_cursor_round_trips_and_bounds_each_source() -> Result<(), UsersError> {
        let at = Position { at: 1_700_000_000_000_000, source: Source::Frontend, id: 42 };
        let query = PageQuery::parse([("cursor", at.encode().as_str()), ("limit", "10")])?;
        assert_eq!(query, PageQuery { after: Some(at), limit: 10 });
        assert_eq!(at.bound_for(Source::Frontend), (at.at, 42));
        assert_eq!(at.bound_for(Source::Security), (at.at, i64::MIN));
        let security = Position { source: Source::Security, ..at };
        assert_eq!(security.bound_for(Source::Frontend), (at.at, i64::MAX));
        Ok(())
    }

    #[test]
    fn a_tampered_cursor_or_a_bad_limit_is_refused() {
        for bad in ["%", "MS4y", "MS4yLjM", "MS45LjM", "MS4xLi0z", "MS4xLjMuNA", ""] {
            assert_eq!(PageQuery::parse([("cursor", bad)]), Err(UsersError::CursorInvalid), "{bad}");
        }
        assert!(PageQuery::parse([("limit", "0")]).is_err());
        assert!(PageQuery::parse([("type", "x")]).is_err());
    }
}
