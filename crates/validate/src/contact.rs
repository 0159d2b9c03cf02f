//! Contact details in one canonical form, so that the same person's email
//! or phone always gives the same blind index.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::{ValidationError, plans};

/// An email address: trimmed, Unicode NFC, domain in lower-case ASCII
/// (IDNA), local part lower-cased (Sngine and Vottery treat addresses
/// case-insensitively).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Characters that show nothing or reorder what is shown around them: an
/// address carrying one can look like another person's.
fn hidden(c: char) -> bool {
    matches!(
        c,
        // Direction embeddings, overrides, isolates and marks.
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        // Zero-width space, joiners, word joiner, invisible operators,
        // byte-order mark, soft hyphen, Mongolian vowel separator,
        // combining grapheme joiner, interlinear annotations and tags.
        | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
        | '\u{034F}' | '\u{FFF9}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}'
    )
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw: String = raw.trim().nfc().collect();
        if raw.len() > 254 {
            return Err(ValidationError::InvalidEmail("longer than 254 bytes"));
        }
        // IDNA would drop some of these from the domain without a word.
        if raw.chars().any(|c| c.is_control() || hidden(c)) {
            return Err(ValidationError::InvalidEmail("the address has invisible or control characters"));
        }
        let (local, domain) = raw.rsplit_once('@').ok_or(ValidationError::InvalidEmail("no @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(ValidationError::InvalidEmail("the part before @ must be 1 to 64 bytes"));
        }
        let allowed_local = |c: char| {
            c.is_alphanumeric()
                || "!#$%&'*+/=?^_`{|}~-.".contains(c)
                || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
        };
        if !local.chars().all(allowed_local) || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(ValidationError::InvalidEmail("the part before @ has characters an address cannot have"));
        }
        let domain =
            idna::domain_to_ascii(domain).map_err(|_| ValidationError::InvalidEmail("the domain is not valid"))?;
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(ValidationError::InvalidEmail("the domain is not valid"));
        }
        // A domain may come already in Punycode: what it decodes to counts.
        if domain.contains("xn--") && idna::domain_to_unicode(&domain).0.chars().any(|c| c.is_control() || hidden(c)) {
            return Err(ValidationError::InvalidEmail("the address has invisible or control characters"));
        }
        Ok(Self(format!("{}@{domain}", local.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    // Contacts are personal data: debug output shows only the domain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.rsplit_once('@').map_or("", |(_, d)| d);
        write!(f, "Email(…@{domain})")
    }
}

/// A phone number in E.164 (`+` and up to 15 digits), checked against the
/// numbering plan of its country by libphonenumber's metadata.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneE164 {
    e164: String,
    country_code: u16,
}

impl PhoneE164 {
    /// Parses a number written internationally (`+44 7700 900001`), or
    /// nationally when `region` (ISO 3166 alpha-2) says where.
    pub fn parse(raw: &str, region: Option<&str>) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.len() > 32 {
            return Err(ValidationError::InvalidPhone("too long"));
        }
        let code = match (raw.starts_with('+'), region) {
            (true, _) => plans::code_of_international(raw),
            (false, Some(r)) => Some(plans::code_of_region(r).ok_or(ValidationError::InvalidPhone("unknown region"))?),
            (false, None) => None,
        };
        let region = match region {
            Some(r) => Some(
                r.parse::<phonenumber::country::Id>().map_err(|_| ValidationError::InvalidPhone("unknown region"))?,
            ),
            None => None,
        };
        let plan = code.and_then(plans::database).ok_or(ValidationError::InvalidPhone("not a phone number"))?;
        let number = phonenumber::parse_with(&plan, region, raw)
            .map_err(|_| ValidationError::InvalidPhone("not a phone number"))?;
        if !phonenumber::is_valid_with(&plan, &number) {
            return Err(ValidationError::InvalidPhone("not a valid number in its country's numbering plan"));
        }
        // E.164 is `+`, the calling code and the national significant number;
        // the formatter would also compile every display pattern of the
        // country (~80 ms for the UK) to print nothing more.
        let e164 = format!("+{}{}", number.code().value(), number.national());
        Ok(Self { e164, country_code: number.code().value() })
    }

    /// A number another service already checked with [`PhoneE164::parse`]
    /// and passed on as E.164: only its form (`+`, 8 to 15 digits, a known
    /// calling code) is checked, not the numbering plan, so no plan is
    /// loaded. For chained requests between services, never for input.
    pub fn from_checked_e164(e164: &str) -> Result<Self, ValidationError> {
        let digits = e164.strip_prefix('+').ok_or(ValidationError::InvalidPhone("not E.164"))?;
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return Err(ValidationError::InvalidPhone("not E.164"));
        }
        let country_code = plans::code_of_international(e164).ok_or(ValidationError::InvalidPhone("not E.164"))?;
        Ok(Self { e164: e164.to_owned(), country_code })
    }

    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// The country calling code (`44` for the UK), for per-prefix limits.
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The national significant number (E.164 after `+` and the calling code).
    pub fn national(&self) -> &str {
        let skip = 1 + self.country_code.to_string().len();
        self.e164.get(skip..).unwrap_or_default()
    }
}

impl fmt::Debug for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneE164(+{}…)", self.country_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_e164_numbers_keep_their_parts() {
        let full = PhoneE164::parse("+44 7912 345678", None).unwrap();
        let quick = PhoneE164::from_checked_e164(full.as_str()).unwrap();
        assert_eq!(quick, full);
        assert_eq!((quick.country_code(), quick.national()), (44, "7912345678"));
        for bad in ["447912345678", "+44 7912 345678", "+4479", "+0447912345678", "+99912345678"] {
            assert!(PhoneE164::from_checked_e164(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_normalise() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        assert_eq!(Email::parse("jose\u{301}@bücher.de").unwrap().as_str(), "josé@xn--bcher-kva.de");
        assert_eq!(Email::parse("a+tag@sub.example.org").unwrap().as_str(), "a+tag@sub.example.org");
        assert_eq!(Email::parse("JOSÉ@x.io").unwrap(), Email::parse("jose\u{301}@X.IO").unwrap());
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert_eq!(Email::parse(bad).unwrap_err().code(), "invalid_email", "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(Email::parse(&format!("a@{}.com", "b".repeat(250))).is_err());
    }

    /// Characters that change the order text is shown in, or show nothing.
    const HIDDEN: [char; 18] = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', // embeddings and overrides
        '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', // isolates
        '\u{200E}', '\u{200F}', '\u{061C}', // direction marks
        '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', // zero-width, soft hyphen
    ];

    #[test]
    fn emails_with_direction_changing_or_invisible_characters_are_refused() {
        for c in HIDDEN {
            for bad in [
                format!("ad{c}a@example.com"),
                format!("{c}ada@example.com"),
                format!("ada{c}@example.com"),
                format!("jos{c}é@example.com"),
                format!("ada@exa{c}mple.com"),
                format!("ada@{c}example.com"),
                format!("ada@example.com{c}"),
                format!("ada@bü{c}cher.de"),
            ] {
                let refused = Email::parse(&bad).map(|e| e.as_str().to_owned());
                assert_eq!(refused.map_err(|e| e.code()), Err("invalid_email"), "{bad:?}");
            }
        }
        // A domain that comes already in Punycode is looked at as it decodes:
        // Devanagari may carry a joiner after a virama, and IDNA lets it through.
        let joined = idna::domain_to_ascii("\u{915}\u{94D}\u{200D}\u{937}.example").unwrap();
        assert!(joined.starts_with("xn--"), "{joined}");
        assert_eq!(Email::parse(&format!("ada@{joined}")).unwrap_err().code(), "invalid_email", "{joined}");
        // Visible neighbours still pass.
        assert_eq!(
            Email::parse("\u{915}\u{94D}\u{937}@example.com").unwrap().as_str(),
            "\u{915}\u{94D}\u{937}@example.com"
        );
        assert!(Email::parse("ada@\u{915}\u{94D}\u{937}.example").is_ok());
    }

    #[test]
    fn emails_with_control_characters_are_refused() {
        let controls = ['\0', '\u{7}', '\t', '\n', '\r', '\u{1B}', '\u{7F}', '\u{80}', '\u{85}', '\u{9F}'];
        for c in controls {
            for bad in [format!("ad{c}a@example.com"), format!("ada@exa{c}mple.com"), format!("ada@example{c}.com")] {
                assert_eq!(Email::parse(&bad).unwrap_err().code(), "invalid_email", "{bad:?}");
            }
        }
        for bad in ["ada@example.com\0", "\u{1B}ada@example.com", "ada@example.com\u{7F}", "ada@example.com\u{9F}"] {
            assert_eq!(Email::parse(bad).unwrap_err().code(), "invalid_email", "{bad:?}");
        }
    }

    #[test]
    fn phones_become_e164() {
        let uk = PhoneE164::parse("+44 7912 345678", None).unwrap();
        assert_eq!(uk.as_str(), "+447912345678");
        assert_eq!(uk.country_code(), 44);
        assert_eq!(PhoneE164::parse("07912 345678", Some("GB")).unwrap(), uk);
        assert_eq!(PhoneE164::parse("(650) 253-0000", Some("US")).unwrap().as_str(), "+16502530000");
        assert_eq!(PhoneE164::parse("+31 6 12345678", None).unwrap().country_code(), 31);
    }

    #[test]
    fn bad_phones_are_refused() {
        for (bad, region) in [
            ("", None),
            ("hello", None),
            ("+44 12", None),
            ("07912 345678", None),
            ("123", Some("US")),
            ("+999 1234567", None),
        ] {
            assert_eq!(PhoneE164::parse(bad, region).unwrap_err().code(), "invalid_phone", "{bad:?}");
        }
        assert_eq!(PhoneE164::parse("0770", Some("ZZ")).unwrap_err(), ValidationError::InvalidPhone("unknown region"));
    }

    #[test]
    fn per_country_plans_agree_with_the_whole_plan() {
        // Every territory's example numbers, through the split plans and
        // through libphonenumber's whole database.
        let whole = &*phonenumber::metadata::DATABASE;
        let mut checked = 0;
        for (region, code) in plans::regions() {
            let Some(meta) = whole.by_id(region) else { continue };
            let examples = [meta.descriptors().mobile(), meta.descriptors().fixed_line()];
            for example in examples.into_iter().flatten().filter_map(|d| d.example()) {
                let raw = format!("+{code} {example}");
                let expected = phonenumber::parse(None, &raw)
                    .ok()
                    .filter(phonenumber::is_valid)
                    .map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
                assert_eq!(PhoneE164::parse(&raw, None).ok().map(|p| p.e164), expected, "{region} {raw}");
                if region.len() == 2 {
                    let national = PhoneE164::parse(example, Some(region)).map(|p| p.e164).ok();
                    let whole = phonenumber::parse(region.parse().ok(), example)
                        .ok()
                        .filter(phonenumber::is_valid)
                        .map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
                    assert_eq!(national, whole, "{region} {example}");
                }
                checked += 1;
            }
        }
        assert!(checked > 400, "{checked}");
    }

    #[test]
    fn debug_output_hides_the_person() {
        assert_eq!(format!("{:?}", Email::parse("ada@example.com").unwrap()), "Email(…@example.com)");
        assert_eq!(format!("{:?}", PhoneE164::parse("+447912345678", None).unwrap()), "PhoneE164(+44…)");
    }
}
