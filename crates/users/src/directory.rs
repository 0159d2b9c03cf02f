//! The administrators' directory of members (`users:read`): a query names
//! one member by exact email or phone (matched through its blind index, so
//! no contact is read in clear), or pages through every member in id order
//! with an opaque cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use vottery_validate::ValidationError;

use crate::{UserId, UsersError};

/// The default and the largest page.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// Who is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Email(String),
    Phone(String),
    /// Every member, after the cursor's.
    Page {
        after: Option<UserId>,
        limit: i64,
    },
}

/// The query string of `GET /api/users`, checked: at most one of `email`
/// and `phone`; `cursor` and `limit` only without them; nothing else.
pub fn parse_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Lookup, UsersError> {
    let (mut email, mut phone, mut cursor, mut limit) = (None, None, None, None);
    for (name, value) in pairs {
        let slot = match name {
            "email" => &mut email,
            "phone" => &mut phone,
            "cursor" => &mut cursor,
            "limit" => &mut limit,
            other => return Err(ValidationError::UnknownField(other.chars().take(32).collect()).into()),
        };
        if slot.replace(value).is_some() {
            return Err(ValidationError::InvalidField(format!("`{name}` is given twice")).into());
        }
    }
    match (email, phone, cursor, limit) {
        (Some(email), None, None, None) => Ok(Lookup::Email(email.to_owned())),
        (None, Some(phone), None, None) => Ok(Lookup::Phone(phone.to_owned())),
        (None, None, cursor, limit) => {
            let after = cursor.map(decode_cursor).transpose()?;
            Ok(Lookup::Page { after, limit: page_limit(limit)? })
        }
        _ => {
            Err(ValidationError::InvalidField("ask by `email` or by `phone`, or page with `cursor` and `limit`".into())
                .into())
        }
    }
}

/// A page's `limit` parameter: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when
/// absent.
pub fn page_limit(text: Option<&str>) -> Result<i64, UsersError> {
    let Some(text) = text else { return Ok(DEFAULT_LIMIT) };
    let limit = text.parse::<i64>().ok().filter(|l| (1..=MAX_LIMIT).contains(l));
    Ok(limit
        .ok_or_else(|| ValidationError::InvalidField(format!("`limit` is a whole number from 1 to {MAX_LIMIT}")))?)
}

/// The cursor after a page's last member.
pub fn encode_cursor(last: &UserId) -> String {
    URL_SAFE_NO_PAD.encode(last.as_str())
}

fn decode_cursor(text: &str) -> Result<UserId, UsersError> {
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| UsersError::CursorInvalid)?;
    std::str::from_utf8(&bytes).ok().and_then(UserId::parse).ok_or(UsersError::CursorInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b6d7c1e-2f1a-4c53-9d3e-5a1b2c3d4e5f";

    #[test]
    fn a_lookup_is_by_email_or_by_phone_or_a_page() -> Result<(), UsersError> {
        assert_eq!(parse_query([("email", "a@b.c")])?, Lookup::Email("a@b.c".into()));
        assert_eq!(parse_query([("phone", "+44")])?, Lookup::Phone("+44".into()));
        assert_eq!(parse_query([])?, Lookup::Page { after: None, limit: DEFAULT_LIMIT });
        let cursor = encode_cursor(&UserId::parse(ID).ok_or(UsersError::CursorInvalid)?);
        assert_eq!(
            parse_query([("cursor", cursor.as_str()), ("limit", "5")])?,
            Lookup::Page { after: UserId::parse(ID), limit: 5 }
        );
        Ok(())
    }

    #[test]
    fn mixed_repeated_or_unknown_parameters_are_refused() {
        for bad in [
            vec![("email", "a@b.c"), ("phone", "+44")],
            vec![("email", "a@b.c"), ("limit", "5")],
            vec![("limit", "0")],
            vec![("limit", "101")],
            vec![("limit", "5"), ("limit", "6")],
        ] {
            assert!(
                matches!(parse_query(bad.clone()), Err(UsersError::Invalid(ValidationError::InvalidField(_)))),
                "{bad:?}"
            );
        }
        assert!(matches!(parse_query([("role", "x")]), Err(UsersError::Invalid(ValidationError::UnknownField(_)))));
    }

    #[test]
    fn a_tampered_cursor_is_refused() {
        for bad in ["%%%", "bm90LWEtdXVpZA", ""] {
            assert_eq!(parse_query([("cursor", bad)]), Err(UsersError::CursorInvalid), "{bad}");
        }
    }
}
