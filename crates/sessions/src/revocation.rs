//! The revocation cache: PostgreSQL holds which sessions are revoked
//! (`devices.sessions.revoked_at`); Redis holds, for the gateway, an entry
//! per session revoked within the last `REVOCATION_WINDOW` seconds, so a
//! revoked session's access tokens are refused on the next request rather
//! than at their expiry.
//!
//! Redis keeps nothing on disk. A restart, a flush or a failover to an
//! empty replica loses the entries, and a missing entry would then let a
//! revoked session's token through. So a *marker* key says the cache is
//! warm; it exists only after a rebuild from PostgreSQL, whatever empties
//! Redis removes it too, and it lives `MARKER_TTL`, so the cache is rebuilt
//! at least that often and a partial loss (a failover to a replica that
//! lagged, an eviction) is repaired within it. Redis must not evict keys
//! (`maxmemory-policy noeviction`): an evicted entry under a live marker
//! is a miss the gateway trusts until the next rebuild.
//!
//! ```text
//!   (cold: no marker) ──gateway: a token's session has no entry──▶ claim the rebuild (a nonce, NX)
//!        ▲                   │ read every session revoked within REVOCATION_WINDOW (PostgreSQL)
//!        │                   │ write their entries; write the marker only if the claim
//!        │                   │ is still there (Redis was not emptied meanwhile)
//!   emptied, or a minute     ▼
//!        └─────────────── (warm: marker) ── a miss means "not revoked"
//! ```
//!
//! Revocations keep writing their entry after their row commits, warm or
//! cold, so a cache rebuilt while one commits still ends up with it.

/// The longest an access token may live (`session_policy`'s `access_ttl`).
pub const MAX_ACCESS_TTL: i64 = 3600;

/// Seconds the gateway accepts a token after its `exp` (clock skew).
pub const TOKEN_LEEWAY: i64 = 60;

/// How long after its revocation a session's access token may still be
/// presented: the entries a rebuild writes cover this much of the past.
pub const REVOCATION_WINDOW: i64 = MAX_ACCESS_TTL + TOKEN_LEEWAY;

/// Seconds a rebuild's claim lasts (a rebuild that dies is retried after).
pub const REBUILD_CLAIM_TTL: i64 = 30;

/// Seconds a warm marker lasts: the longest a partial loss goes unrepaired.
pub const MARKER_TTL: i64 = 60;

/// The entry of a revoked session.
pub fn entry_key(namespace: &str, session: &str) -> String {
    format!("{namespace}:revoked:{session}")
}

/// The marker of a warm cache.
pub fn marker_key(namespace: &str) -> String {
    format!("{namespace}:revocations:warm")
}

/// The claim of a rebuild in progress.
pub fn claim_key(namespace: &str) -> String {
    format!("{namespace}:revocations:rebuilding")
}

/// Seconds an entry written `age` seconds after its revocation must live,
/// or `None` when it has outlived every token of its session.
pub fn entry_ttl(age: i64) -> Option<i64> {
    let left = REVOCATION_WINDOW - age.max(0);
    (left > 0).then_some(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_until_the_last_token_of_its_session_has_expired() {
        assert_eq!(entry_ttl(0), Some(REVOCATION_WINDOW));
        assert_eq!(entry_ttl(-5), Some(REVOCATION_WINDOW));
        assert_eq!(entry_ttl(REVOCATION_WINDOW - 1), Some(1));
        assert_eq!(entry_ttl(REVOCATION_WINDOW), None);
    }

    #[test]
    fn the_marker_and_the_claim_never_collide_with_a_session_entry() {
        let session = "revocations:warm";
        assert_ne!(entry_key("v", session), marker_key("v"));
        assert!(marker_key("v").starts_with("v:"));
        assert_ne!(marker_key("v"), claim_key("v"));
    }
}
