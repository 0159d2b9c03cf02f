use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use vottery_validate::ValidationError;

use crate::error::SessionError;

/// The lifetimes, each a setting with this default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Seconds an access token is valid.
    pub access_ttl: i64,
    /// Seconds a refresh token may go unused.
    pub refresh_idle: i64,
    /// Seconds a session lives however often it is refreshed.
    pub session_absolute: i64,
    /// Seconds a rotated token may be presented again by a concurrent tab.
    pub grace: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self { access_ttl: 600, refresh_idle: 14 * 86_400, session_absolute: 30 * 86_400, grace: 10 }
    }
}

/// An opaque refresh token: `vrt_` and 256 random bits, unpadded base64url.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

const PREFIX: &str = "vrt_";

impl RefreshToken {
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let body = raw.strip_prefix(PREFIX).unwrap_or_default();
        let valid = body.len() == 43 && URL_SAFE_NO_PAD.decode(body).is_ok_and(|b| b.len() == 32);
        if valid { Ok(Self(raw.to_owned())) } else { Err(ValidationError::InvalidField("not a refresh token".into())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(vrt_…)")
    }
}

/// What the store knows of the session a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The device the session (and so every token of it) is bound to.
    pub device_id: String,
}

/// What the store knows of the presented token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    pub issued_at: i64,
    /// When it was rotated; `None` while it is the active one.
    pub rotated_at: Option<i64>,
    /// Whether a token it was rotated into is still active (so it is the
    /// immediate parent of an active token).
    pub child_active: bool,
}

/// What to do with a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Rotate: mark it rotated and issue its child.
    Rotate,
    /// A concurrent refresh within the grace window: issue a sibling of its
    /// child (it is already rotated).
    Sibling,
    /// A rotated token presented again: revoke the whole session, refuse.
    RevokeFamily,
}

/// Decides a refresh. `token` is `None` when no stored token has the
/// presented hash. `device_id` is the device the request comes from.
pub fn decide(
    session: &SessionState,
    token: Option<&TokenState>,
    device_id: &str,
    now: i64,
    p: &Policy,
) -> Result<Decision, SessionError> {
    let token = token.ok_or(SessionError::RefreshUnknown)?;
    if session.revoked_at.is_some() {
        return Err(SessionError::SessionRevoked);
    }
    if now >= session.created_at + p.session_absolute {
        return Err(SessionError::SessionExpired);
    }
    if device_id != session.device_id {
        return Err(SessionError::DeviceMismatch);
    }
    match token.rotated_at {
        None if now >= token.issued_at + p.refresh_idle => Err(SessionError::RefreshExpired),
        None => Ok(Decision::Rotate),
        Some(at) if now < at + p.grace && token.child_active => Ok(Decision::Sibling),
        Some(_) => Ok(Decision::RevokeFamily),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    fn session() -> SessionState {
        SessionState { created_at: T0, revoked_at: None, device_id: "dev-1".into() }
    }

    fn active(issued_at: i64) -> TokenState {
        TokenState { issued_at, rotated_at: None, child_active: false }
    }

    fn rotated(at: i64, child_active: bool) -> TokenState {
        TokenState { issued_at: T0, rotated_at: Some(at), child_active }
    }

    #[test]
    fn an_active_token_rotates_until_idle_expiry() {
        let p = Policy::default();
        assert_eq!(decide(&session(), Some(&active(T0)), "dev-1", T0 + p.refresh_idle - 1, &p), Ok(Decision::Rotate));
        let idle = decide(&session(), Some(&active(T0)), "dev-1", T0 + p.refresh_idle, &p);
        assert_eq!(idle, Err(SessionError::RefreshExpired));
    }

    #[test]
    fn the_immediate_parent_within_grace_gets_a_sibling_and_reuse_after_revokes() {
        let p = Policy::default();
        let t = T0 + 100;
        assert_eq!(decide(&session(), Some(&rotated(t, true)), "dev-1", t + 9, &p), Ok(Decision::Sibling));
        assert_eq!(decide(&session(), Some(&rotated(t, true)), "dev-1", t + 10, &p), Ok(Decision::RevokeFamily));
        // An older ancestor (its child rotated too) is reuse even within grace.
        assert_eq!(decide(&session(), Some(&rotated(t, false)), "dev-1", t + 1, &p), Ok(Decision::RevokeFamily));
    }

    #[test]
    fn sessions_end_absolutely_and_by_revocation_and_bind_their_device() {
        let p = Policy::default();
        let end = T0 + p.session_absolute;
        assert_eq!(decide(&session(), Some(&active(end - 5)), "dev-1", end - 1, &p), Ok(Decision::Rotate));
        assert_eq!(decide(&session(), Some(&active(end - 5)), "dev-1", end, &p), Err(SessionError::SessionExpired));
        let revoked = SessionState { revoked_at: Some(T0 + 1), ..session() };
        assert_eq!(decide(&revoked, Some(&active(T0)), "dev-1", T0 + 2, &p), Err(SessionError::SessionRevoked));
        assert_eq!(decide(&session(), Some(&active(T0)), "dev-2", T0 + 2, &p), Err(SessionError::DeviceMismatch));
        assert_eq!(decide(&session(), None, "dev-1", T0 + 2, &p), Err(SessionError::RefreshUnknown));
    }

    #[test]
    fn tokens_are_256_bits_behind_a_prefix() {
        let token = RefreshToken::from_random([7; 32]);
        assert_eq!(RefreshToken::parse(token.as_str()), Ok(token.clone()));
        assert_eq!(token.as_str().len(), 47);
        assert!(!format!("{token:?}").contains(&token.as_str()[4..]));
        for bad in ["", "vrt_", "vrt_short", &token.as_str()[4..], &format!("{}A", token.as_str()), "vrt_+++"] {
            assert!(RefreshToken::parse(bad).is_err(), "{bad}");
        }
    }
}
