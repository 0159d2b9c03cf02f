//! What the frontend reports of a member's use of the dashboard
//! (`POST /api/users/activity`): a type from the allowlist the operator
//! sets (`activity_types`), when it happened and a small JSON object of
//! details. The clock is passed in.
//!
//! ```text
//!   {type, at?, details?} ──parse──▶ Activity { kind ∈ allowlist,
//!                                               now − 24 h ≤ at ≤ now + 5 min,
//!                                               details: object ≤ 1 KiB }
//!                                      │
//!                                      ▼
//!                              users.activity (one INSERT) ──▶ 202
//! ```

use serde::Deserialize;
use serde_json::{Map, Value};
use vottery_validate::ValidationError;

use crate::UsersError;

/// The largest `details` object, serialised, in bytes.
pub const MAX_DETAILS: usize = 1024;
/// How far back a report may date an event.
pub const MAX_PAST_SECONDS: i64 = 24 * 3600;
/// How far ahead of the service's clock a client's clock may run.
pub const MAX_FUTURE_SECONDS: i64 = 300;
/// The most types an allowlist holds.
pub const MAX_TYPES: usize = 64;

/// The body of `POST /api/users/activity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityBody {
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339; the time of the request when absent.
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub details: Option<Map<String, Value>>,
}

/// An activity type: 1 to 64 of `a-z`, `0-9`, `_`, `.`, starting with a
/// letter (`dashboard.viewed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityType(String);

impl ActivityType {
    fn parse(raw: &str) -> Option<Self> {
        let mut bytes = raw.bytes();
        let first = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
        let rest = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        (first && rest && raw.len() <= 64).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The types the frontend may report, from the `activity_types` setting
/// (comma-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTypes(Vec<ActivityType>);

impl ActivityTypes {
    pub fn parse(setting: &str) -> Result<Self, String> {
        let mut types = Vec::new();
        for entry in setting.split([',', ' ', '\n']).filter(|e| !e.is_empty()) {
            let kind = ActivityType::parse(entry)
                .ok_or_else(|| format!("activity_types: `{entry}` is not a type (a-z, 0-9, `_`, `.`)"))?;
            types.push(kind);
        }
        if types.is_empty() || types.len() > MAX_TYPES {
            return Err(format!("activity_types: 1 to {MAX_TYPES} types, comma-separated"));
        }
        Ok(Self(types))
    }

    fn get(&self, raw: &str) -> Option<ActivityType> {
        self.0.iter().find(|t| t.0 == raw).cloned()
    }
}

/// A report, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub kind: ActivityType,
    /// Seconds since the Unix epoch, as the client said; `None`: when it
    /// is received (the database's clock, to the microsecond).
    pub at: Option<i64>,
    /// A JSON object of at most [`MAX_DETAILS`] bytes.
    pub details: String,
}

impl Activity {
    pub fn parse(body: ActivityBody, types: &ActivityTypes, now: i64) -> Result<Self, UsersError> {
        let kind = types.get(&body.kind).ok_or_else(|| UsersError::ActivityTypeUnknown(truncated(&body.kind)))?;
        let at = match body.at.as_deref() {
            None => None,
            Some(text) => Some(
                text.parse::<jiff::Timestamp>()
                    .map_err(|_| ValidationError::InvalidField("`at` is not an RFC 3339 time".into()))?
                    .as_second(),
            ),
        };
        if at.is_some_and(|at| at < now - MAX_PAST_SECONDS || at > now + MAX_FUTURE_SECONDS) {
            return Err(UsersError::ActivityTimeOutOfRange);
        }
        let details = Value::Object(body.details.unwrap_or_default());
        if !storable(&details) {
            return Err(ValidationError::InvalidField(
                "`details` holds a NUL character or a number beyond ±1e15 (not kept as written)".into(),
            )
            .into());
        }
        let details = details.to_string();
        if details.len() > MAX_DETAILS {
            return Err(UsersError::ActivityDetailsTooLarge(details.len()));
        }
        Ok(Self { kind, at, details })
    }
}

/// Whether PostgreSQL's `jsonb` keeps the value as sent and about as long:
/// it refuses `\u0000`, and writes a number such as `1e300` out in full.
fn storable(value: &Value) -> bool {
    const LARGEST: f64 = 1e15;
    match value {
        Value::String(s) => !s.contains('\0'),
        Value::Number(n) => n.as_f64().is_some_and(|f| f.abs() < LARGEST) && !n.to_string().contains(['e', 'E']),
        Value::Array(items) => items.iter().all(storable),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && storable(v)),
        Value::Null | Value::Bool(_) => true,
    }
}

/// At most 64 characters of what a client sent, for an error's detail.
fn truncated(raw: &str) -> String {
    raw.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    fn types() -> Result<ActivityTypes, String> {
        ActivityTypes::parse("dashboard.viewed, profile.viewed,help_opened")
    }

    fn body(kind: &str, at: Option<&str>, details: Option<Value>) -> ActivityBody {
        let details = details.and_then(|d| d.as_object().cloned());
        ActivityBody { kind: kind.to_owned(), at: at.map(str::to_owned), details }
    }

    #[test]
    fn a_report_of_an_allowed_type_without_a_time_happened_now() -> Result<(), Box<dyn std::error::Error>> {
        let activity = Activity::parse(body("profile.viewed", None, None), &types()?, NOW)?;
        assert_eq!((activity.kind.as_str(), activity.at, activity.details.as_str()), ("profile.viewed", None, "{}"));
        Ok(())
    }

    #[test]
    fn a_type_outside_the_allowlist_is_refused() -> Result<(), String> {
        let refused = Activity::parse(body("admin.promoted", None, None), &types()?, NOW);
        assert!(matches!(refused, Err(UsersError::ActivityTypeUnknown(t)) if t == "admin.promoted"));
        Ok(())
    }

    #[test]
    fn times_are_accepted_from_a_day_ago_to_five_minutes_ahead() -> Result<(), Box<dyn std::error::Error>> {
        let at = |s: i64| jiff::Timestamp::from_second(s).map(|t| t.to_string());
        let types = types()?;
        for (offset, accepted) in [(-MAX_PAST_SECONDS, true), (-MAX_PAST_SECONDS - 1, false), (300, true), (301, false)]
        {
            let text = at(NOW + offset)?;
            let outcome = Activity::parse(body("help_opened", Some(&text), None), &types, NOW);
            assert_eq!(outcome.is_ok(), accepted, "{offset}");
            if !accepted {
                assert!(matches!(outcome, Err(UsersError::ActivityTimeOutOfRange)));
            }
        }
        Ok(())
    }

    #[test]
    fn a_time_that_is_not_rfc_3339_is_an_invalid_field() -> Result<(), String> {
        let refused = Activity::parse(body("help_opened", Some("yesterday"), None), &types()?, NOW);
        assert!(matches!(refused, Err(UsersError::Invalid(ValidationError::InvalidField(_)))));
        Ok(())
    }

    #[test]
    fn details_over_a_kibibyte_are_refused_and_up_to_it_accepted() -> Result<(), String> {
        let types = types()?;
        // {"k":"…"} is 8 bytes around the value.
        let fits = serde_json::json!({ "k": "x".repeat(MAX_DETAILS - 8) });
        let over = serde_json::json!({ "k": "x".repeat(MAX_DETAILS - 7) });
        assert!(Activity::parse(body("help_opened", None, Some(fits)), &types, NOW).is_ok());
        let refused = Activity::parse(body("help_opened", None, Some(over)), &types, NOW);
        assert!(matches!(refused, Err(UsersError::ActivityDetailsTooLarge(n)) if n == MAX_DETAILS + 1));
        Ok(())
    }

    #[test]
    fn details_postgresql_would_not_keep_as_written_are_an_invalid_field() -> Result<(), String> {
        let types = types()?;
        for bad in [
            serde_json::json!({ "n": 1e300 }),
            serde_json::json!({ "n": [1, 2e15] }),
            serde_json::json!({ "s": "a\u{0}b" }),
            serde_json::json!({ "k\u{0}": 1 }),
        ] {
            let refused = Activity::parse(body("help_opened", None, Some(bad.clone())), &types, NOW);
            assert!(matches!(refused, Err(UsersError::Invalid(ValidationError::InvalidField(_)))), "{bad}");
        }
        let fine = serde_json::json!({ "n": 12.5, "m": -3, "list": [true, null, "x"] });
        assert!(Activity::parse(body("help_opened", None, Some(fine)), &types, NOW).is_ok());
        Ok(())
    }

    #[test]
    fn an_allowlist_that_does_not_parse_names_the_setting() {
        for bad in ["", "Dashboard", "1st", "a b,c-d", "x;drop"] {
            let error = ActivityTypes::parse(bad).err().unwrap_or_default();
            assert!(error.starts_with("activity_types:"), "{bad}: {error}");
        }
    }
}
