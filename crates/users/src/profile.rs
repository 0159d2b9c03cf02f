//! A member's profile: the fields they edit (checked newtypes), the view
//! the API answers (Sngine's names where the member set none, contacts
//! masked) and its strong entity tag.
//!
//! ```text
//!   PUT body ──parse──▶ OwnFields ──seal──▶ users.profiles.sealed (version n+1)
//!                                                 │
//!   Sngine names ─┐                               ▼
//!   contacts ─────┼──────────────▶ ProfileView::assemble ──▶ JSON ──▶ ETag = H(JSON)
//!   timestamps ───┘
//! ```
//!
//! A `PUT` must name the current representation's tag in `If-Match`; the
//! write itself is conditional on the version read, so two writers racing
//! on one tag cannot both win.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use unicode_normalization::UnicodeNormalization as _;
use vottery_validate::{Email, PhoneE164, ValidationError};

/// The longest name field, in characters after normalisation.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest language tag accepted (RFC 5646 §4.4.1 advises 35).
pub const MAX_LANGUAGE_TAG: usize = 35;

/// A person's name or display name: NFC, trimmed, 1 to
/// [`MAX_NAME_CHARS`] characters, no control, format or line-separating
/// characters (which could reorder or hide text around it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let normalized: String = raw.nfc().collect();
        let trimmed = normalized.trim();
        let invalid = |why: &str| ValidationError::InvalidField(format!("`{field}` {why}"));
        if trimmed.is_empty() {
            return Err(invalid("is empty"));
        }
        if trimmed.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(&format!("is longer than {MAX_NAME_CHARS} characters")));
        }
        if trimmed.chars().any(forbidden_in_names) {
            return Err(invalid("contains a control or formatting character"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters, bidirectional controls, zero-width characters and
/// line or paragraph separators.
fn forbidden_in_names(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// A BCP 47 language tag (`en-GB`, `zh-Hant-TW`), kept in its canonical
/// case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::InvalidField("`language` is not a BCP 47 language tag".into());
        if raw.is_empty() || raw.len() > MAX_LANGUAGE_TAG {
            return Err(invalid());
        }
        let locale = icu_locale_core::Locale::try_from_str(raw).map_err(|_| invalid())?;
        Ok(Self(locale.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone name (`Europe/London`) that the bundled time zone
/// database knows, in the database's own spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::InvalidField("`time_zone` is not an IANA time zone name".into());
        if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid());
        }
        let zone = jiff::tz::TimeZone::get(raw).map_err(|_| invalid())?;
        let name = zone.iana_name().ok_or_else(invalid)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The body of `PUT /api/users/profile` as sent: every field may be
/// `null` or left out, which clears it (names then fall back to Sngine's).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// What the member set themselves; stored sealed, as this JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnFields {
    pub display_name: Option<Name>,
    pub first_name: Option<Name>,
    pub last_name: Option<Name>,
    pub language: Option<LanguageTag>,
    pub time_zone: Option<TimeZoneName>,
}

impl OwnFields {
    /// Every field checked; the first that fails is the error.
    pub fn parse(body: ProfileBody) -> Result<Self, ValidationError> {
        let name = |field, raw: Option<String>| raw.map(|r| Name::parse(field, &r)).transpose();
        Ok(Self {
            display_name: name("display_name", body.display_name)?,
            first_name: name("first_name", body.first_name)?,
            last_name: name("last_name", body.last_name)?,
            language: body.language.map(|r| LanguageTag::parse(&r)).transpose()?,
            time_zone: body.time_zone.map(|r| TimeZoneName::parse(&r)).transpose()?,
        })
    }

    /// The names of the fields that differ from `before` (for the audit
    /// row: which fields, never their values).
    pub fn changed_from(&self, before: &OwnFields) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.display_name != before.display_name {
            changed.push("display_name");
        }
        if self.first_name != before.first_name {
            changed.push("first_name");
        }
        if self.last_name != before.last_name {
            changed.push("last_name");
        }
        if self.language != before.language {
            changed.push("language");
        }
        if self.time_zone != before.time_zone {
            changed.push("time_zone");
        }
        changed
    }
}

/// The names the linked Sngine account holds (empty strings are none).
#[derive(Debug, Clone, Default)]
pub struct SngineNames {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Where a shown name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Member,
    Sngine,
    None,
}

#[derive(Debug, Serialize)]
pub struct NameSources {
    pub display_name: Source,
    pub first_name: Source,
    pub last_name: Source,
}

/// `GET /api/users/profile`'s answer.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    pub user_id: String,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub name_sources: NameSources,
    pub email: String,
    pub phone: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The timestamps of the representation (RFC 3339, UTC).
#[derive(Debug, Clone)]
pub struct Times {
    pub created_at: String,
    pub updated_at: String,
}

impl ProfileView {
    pub fn assemble(
        user_id: &str,
        own: &OwnFields,
        sngine: &SngineNames,
        contacts: (&Email, &PhoneE164),
        times: Times,
    ) -> Self {
        let clean = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let pick = |mine: &Option<Name>, theirs: Option<String>| match (mine, theirs) {
            (Some(name), _) => (Some(name.as_str().to_owned()), Source::Member),
            (None, Some(name)) => (Some(name), Source::Sngine),
            (None, None) => (None, Source::None),
        };
        let (first_name, first_source) = pick(&own.first_name, clean(&sngine.first_name));
        let (last_name, last_source) = pick(&own.last_name, clean(&sngine.last_name));
        let sngine_display = match (clean(&sngine.first_name), clean(&sngine.last_name)) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => clean(&sngine.username),
        };
        let (display_name, display_source) = pick(&own.display_name, sngine_display);
        Self {
            user_id: user_id.to_owned(),
            display_name,
            first_name,
            last_name,
            language: own.language.as_ref().map(|l| l.as_str().to_owned()),
            time_zone: own.time_zone.as_ref().map(|t| t.as_str().to_owned()),
            name_sources: NameSources {
                display_name: display_source,
                first_name: first_source,
                last_name: last_source,
            },
            email: mask_email(contacts.0),
            phone: mask_phone(contacts.1),
            created_at: times.created_at,
            updated_at: times.updated_at,
        }
    }
}

/// `alice@example.com` as `a***@example.com`: the first character of the
/// local part and the domain.
pub fn mask_email(email: &Email) -> String {
    let (local, domain) = email.as_str().rsplit_once('@').unwrap_or((email.as_str(), ""));
    let first: String = local.chars().take(1).collect();
    format!("{first}***@{domain}")
}

/// `+447700900678` as `+44 ****** 678`: the calling code, the national
/// number's last three digits, a star for each digit between.
pub fn mask_phone(phone: &PhoneE164) -> String {
    let national = phone.national();
    let shown = national.len().saturating_sub(3);
    let tail = national.get(shown..).unwrap_or_default();
    format!("+{} {} {tail}", phone.country_code(), "*".repeat(shown))
}

/// The strong entity tag of a representation: its SHA-256, base64url,
/// quoted.
pub fn etag(representation: &[u8]) -> String {
    let digest = sha2::Sha256::digest(representation);
    format!("\"{}\"", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..18]))
}

/// Why a conditional write is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`: 428.
    Missing,
    /// `If-Match` names another representation: 412.
    Failed,
}

/// RFC 9110 §13.1.1: `If-Match` holds when it is `*` or lists the current
/// tag, compared strongly (a weak tag never matches).
pub fn check_if_match(fields: &[&[u8]], current: &str) -> Result<(), Precondition> {
    if fields.is_empty() {
        return Err(Precondition::Missing);
    }
    let listed = fields
        .iter()
        .filter_map(|f| std::str::from_utf8(f).ok())
        .flat_map(|f| f.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current);
    if listed { Ok(()) } else { Err(Precondition::Failed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contacts() -> (Email, PhoneE164) {
        (Email::parse("alice@example.com").unwrap(), PhoneE164::parse("+447912345678", None).unwrap())
    }

    fn times() -> Times {
        Times { created_at: "2026-01-01T00:00:00Z".into(), updated_at: "2026-01-02T00:00:00Z".into() }
    }

    #[test]
    fn names_are_normalised_trimmed_and_bounded() {
        assert_eq!(Name::parse("n", "  Ade\u{301}le ").unwrap().as_str(), "Ad\u{e9}le");
        assert_eq!(Name::parse("n", &"é".repeat(64)).unwrap().as_str().chars().count(), 64);
        for bad in ["", "   ", &"a".repeat(65), "Eve\u{0}", "Bob\nSmith", "Mallory\u{202e}gnp", "zero\u{200b}width"] {
            let error = Name::parse("first_name", bad).unwrap_err();
            assert_eq!(error.code(), "invalid_field", "{bad:?}");
            assert!(error.to_string().contains("first_name"));
        }
    }

    #[test]
    fn language_tags_are_bcp_47_in_canonical_case() {
        assert_eq!(LanguageTag::parse("en-gb").unwrap().as_str(), "en-GB");
        assert_eq!(LanguageTag::parse("zh-hant-tw").unwrap().as_str(), "zh-Hant-TW");
        assert_eq!(LanguageTag::parse("de").unwrap().as_str(), "de");
        for bad in ["", "english", "en_GB!", "e", "en-GB-", &"a".repeat(36), "12"] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn time_zones_are_iana_names_the_database_knows() {
        assert_eq!(TimeZoneName::parse("Europe/London").unwrap().as_str(), "Europe/London");
        assert_eq!(TimeZoneName::parse("america/new_york").unwrap().as_str(), "America/New_York");
        assert_eq!(TimeZoneName::parse("UTC").unwrap().as_str(), "UTC");
        for bad in ["", "Mars/Olympus_Mons", "Europe/London ", "../etc/passwd", "+01:00", "Europe/Lon\u{0}don"] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_body_is_parsed_field_by_field_and_nulls_clear() {
        let body: ProfileBody =
            serde_json::from_str(r#"{"display_name":" Al ","language":"fr-ca","time_zone":null}"#).unwrap();
        let own = OwnFields::parse(body).unwrap();
        assert_eq!(own.display_name.as_ref().unwrap().as_str(), "Al");
        assert_eq!(own.language.as_ref().unwrap().as_str(), "fr-CA");
        assert_eq!((own.first_name, own.time_zone), (None, None));
        assert!(serde_json::from_str::<ProfileBody>(r#"{"nickname":"x"}"#).is_err());
        let bad: ProfileBody = serde_json::from_str(r#"{"time_zone":"Nowhere/Town"}"#).unwrap();
        assert_eq!(OwnFields::parse(bad).unwrap_err().code(), "invalid_field");
    }

    #[test]
    fn the_view_takes_the_members_names_first_then_sngines() {
        let (email, phone) = contacts();
        let sngine = SngineNames {
            username: Some("alice77".into()),
            first_name: Some("Alice".into()),
            last_name: Some(" ".into()),
        };
        let view = ProfileView::assemble("u1", &OwnFields::default(), &sngine, (&email, &phone), times());
        assert_eq!(view.display_name.as_deref(), Some("Alice"));
        assert_eq!((view.first_name.as_deref(), view.last_name.as_deref()), (Some("Alice"), None));
        assert_eq!(view.name_sources.last_name, Source::None);
        let own = OwnFields { last_name: Some(Name::parse("l", "Liddell").unwrap()), ..OwnFields::default() };
        let view = ProfileView::assemble("u1", &own, &sngine, (&email, &phone), times());
        assert_eq!(view.last_name.as_deref(), Some("Liddell"));
        assert_eq!(view.name_sources.last_name, Source::Member);
        assert_eq!(view.name_sources.first_name, Source::Sngine);
        let nameless = SngineNames { username: Some("alice77".into()), ..SngineNames::default() };
        let view = ProfileView::assemble("u1", &OwnFields::default(), &nameless, (&email, &phone), times());
        assert_eq!(view.display_name.as_deref(), Some("alice77"));
    }

    #[test]
    fn contacts_are_shown_masked() {
        let (email, phone) = contacts();
        assert_eq!(mask_email(&email), "a***@example.com");
        assert_eq!(mask_phone(&phone), "+44 ******* 678");
        let us = PhoneE164::parse("+12025550173", None).unwrap();
        assert_eq!(mask_phone(&us), "+1 ******* 173");
    }

    #[test]
    fn if_match_compares_strongly() {
        let tag = etag(b"{}");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 26);
        assert_ne!(tag, etag(b"{ }"));
        assert_eq!(check_if_match(&[], &tag), Err(Precondition::Missing));
        assert_eq!(check_if_match(&[tag.as_bytes()], &tag), Ok(()));
        assert_eq!(check_if_match(&[b"\"x\", ".as_slice(), tag.as_bytes()], &tag), Ok(()));
        assert_eq!(check_if_match(&[b"*"], &tag), Ok(()));
        let weak = format!("W/{tag}");
        assert_eq!(check_if_match(&[weak.as_bytes()], &tag), Err(Precondition::Failed));
        assert_eq!(check_if_match(&[b"\"stale\""], &tag), Err(Precondition::Failed));
    }

    #[test]
    fn only_changed_fields_are_named() {
        let before = OwnFields::default();
        let after = OwnFields { language: Some(LanguageTag::parse("en").unwrap()), ..OwnFields::default() };
        assert_eq!(after.changed_from(&before), vec!["language"]);
        assert!(after.changed_from(&after).is_empty());
    }
}
