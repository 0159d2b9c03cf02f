//! The private routes between the services, as types.
//!
//! Every `/internal/*` route has one request type here, implementing
//! [`Call`]: the service that serves it, its path and the type of its 2xx
//! answer. The caller sends the request with `kit::call` (which refuses an
//! answer that does not parse as [`Call::Answer`]); the callee parses the
//! same type strictly and answers with the answer type. A refusal is a
//! problem+json body, read as [`Refusal`].
//!
//! | route | served by | called by | request | answer |
//! |---|---|---|---|---|
//! | `POST /internal/match` | `users` | `auth` (send-otp) | [`users::Match`] | [`users::Matched`] |
//! | `POST /internal/link` | `users` | `auth` (verify-otp) | [`users::Link`] | [`users::Linked`] |
//! | `POST /internal/roles` | `users` | `auth` (every access token) | [`users::RolesOf`] | [`users::Roles`] |
//! | `POST /internal/tokens` | `security` | `auth` | [`security::SignToken`] | [`security::SignedToken`] |
//! | `POST /internal/tokens/verify` | `security` | `auth` (step 3) | [`security::VerifyToken`] | [`security::VerifiedToken`] |
//! | `POST /internal/data-keys` | `security` | `users` (link) | [`security::NewDataKey`] | [`security::DataKey`] |
//! | `POST /internal/data-keys/unwrap` | `security` | `users` (profile) | [`security::UnwrapDataKey`] | [`security::UnwrappedDataKey`] |
//! | `POST /internal/blind-index` | `security` | `users` (link) | [`security::BlindIndex`] | [`security::Indexed`] |
//! | `POST /internal/decrypt` | `security` | services holding sealed data | [`security::Decrypt`] | [`security::Decrypted`] |
//! | `POST /internal/sign` | `security` | services signing receipts | [`security::Sign`] | [`security::Signed`] |
//! | `POST /internal/devices` | `devices` | `auth` (enrolment) | [`devices::RegisterDevice`] | [`devices::RegisteredDevice`] |
//! | `POST /internal/devices/place` | `devices` | `users` (demographics) | [`devices::PlaceOf`] | [`devices::Place`] |
//! | `POST /internal/sessions` | `devices` | `auth` (enrolment, sign-in) | [`devices::OpenSession`] | [`devices::OpenedSession`] |
//! | `POST /internal/sessions/refresh` | `devices` | `auth` (refresh-token) | [`devices::RefreshSession`] | [`devices::RefreshedSession`] |
//! | `POST /internal/sessions/revoke` | `devices` | `auth` (logout) | [`devices::RevokeSession`] | [`devices::RevokedSession`] |
//! | `POST /internal/passkeys/remove` | `auth` | `devices` (device removal) | [`auth::RemovePasskeys`] | [`auth::RemovedPasskeys`] |
#![forbid(unsafe_code)]

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A request to a private route: where it goes and what a 2xx answers.
pub trait Call: Serialize + DeserializeOwned {
    /// The component serving the route (`http://<SERVICE>.spin.internal`).
    const SERVICE: &'static str;
    /// The route's path.
    const PATH: &'static str;
    /// The body of a 2xx answer.
    type Answer: Serialize + DeserializeOwned;
}

/// Who did what an audit row records: one vocabulary for every service.
/// A statement that appends its audit row in SQL writes the same forms
/// (`'member:' || user_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Someone not signed in (steps 1 and 2, public routes).
    Visitor,
    /// The platform itself (lockouts, key creation, the operator's tools).
    System,
    /// A member, by Vottery user id.
    Member(String),
    /// A service of the app, by component name.
    Service(String),
    /// A member acting with an administrator's role, by user id.
    Admin(String),
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Visitor => f.write_str("visitor"),
            Self::System => f.write_str("system"),
            Self::Member(id) => write!(f, "member:{id}"),
            Self::Service(name) => write!(f, "service:{name}"),
            Self::Admin(id) => write!(f, "admin:{id}"),
        }
    }
}

/// What a refused call answered: the problem's status and stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The `users` service's private routes.
pub mod users {
    use super::*;

    /// Whether a contact pair belongs to one active Sngine account.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Match {
        pub email: String,
        /// E.164, already checked by the caller against its country plan.
        pub phone: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Matched {
        pub matched: bool,
        /// Why not (`no_account`, `phone_mismatch`, ...), or `matched`.
        pub reason: String,
        pub sngine_user_id: Option<i64>,
    }

    impl Call for Match {
        const SERVICE: &'static str = "users";
        const PATH: &'static str = "/internal/match";
        type Answer = Matched;
    }

    /// Vottery's user for a proved contact pair, created or refreshed.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Link {
        pub email: String,
        pub phone: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Linked {
        pub user_id: String,
        pub sngine_user_id: i64,
    }

    impl Call for Link {
        const SERVICE: &'static str = "users";
        const PATH: &'static str = "/internal/link";
        type Answer = Linked;
    }

    /// The member's live roles, for an access token being issued.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RolesOf {
        pub user_id: String,
    }

    /// `member` first, then each unrevoked, unexpired grant.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Roles {
        pub roles: Vec<String>,
    }

    impl Call for RolesOf {
        const SERVICE: &'static str = "users";
        const PATH: &'static str = "/internal/roles";
        type Answer = Roles;
    }
}

/// The `security` service's private routes.
pub mod security {
    use super::*;
    use std::marker::PhantomData;

    /// The token types `security` signs for other services.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub enum TokenType {
        /// Step 3's enrolment token.
        #[serde(rename = "enrol+jwt")]
        Enrolment,
        /// A session's access token (RFC 9068).
        #[serde(rename = "at+jwt")]
        Access,
    }

    impl TokenType {
        pub fn as_str(self) -> &'static str {
            match self {
                Self::Enrolment => "enrol+jwt",
                Self::Access => "at+jwt",
            }
        }
    }

    /// Signs `claims` (which must hold `exp`, within 24 hours) with the
    /// active token-signing key; `security` adds `iss`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SignToken<C> {
        pub typ: TokenType,
        pub claims: C,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SignedToken {
        pub token: String,
        pub kid: String,
    }

    impl<C: Serialize + DeserializeOwned> Call for SignToken<C> {
        const SERVICE: &'static str = "security";
        const PATH: &'static str = "/internal/tokens";
        type Answer = SignedToken;
    }

    /// Checks a token of this issuer, of type `typ` and for `audience`;
    /// answers its claims as `C`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct VerifyToken<C> {
        pub token: String,
        pub typ: TokenType,
        pub audience: String,
        #[serde(skip)]
        claims: PhantomData<fn() -> C>,
    }

    impl<C> VerifyToken<C> {
        pub fn new(token: impl Into<String>, typ: TokenType, audience: impl Into<String>) -> Self {
            Self { token: token.into(), typ, audience: audience.into(), claims: PhantomData }
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct VerifiedToken<C> {
        pub claims: C,
    }

    impl<C: Serialize + DeserializeOwned> Call for VerifyToken<C> {
        const SERVICE: &'static str = "security";
        const PATH: &'static str = "/internal/tokens/verify";
        type Answer = VerifiedToken<C>;
    }

    /// The audience of step 3's enrolment token.
    pub const ENROLMENT_AUDIENCE: &str = "vottery-enrolment";

    /// The claims of step 3's enrolment token.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct EnrolmentClaims {
        /// Vottery's user id.
        pub sub: String,
        pub aud: String,
        pub iat: i64,
        pub nbf: i64,
        pub exp: i64,
        /// The verification flow: the token is single-use by it.
        pub jti: String,
        pub amr: Vec<String>,
        /// Set by `security` when it signs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub iss: Option<String>,
    }

    /// A fresh data key, and the same key wrapped under the active
    /// PII-wrapping key.
    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct NewDataKey {}

    /// Base64url, unpadded.
    #[derive(Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct DataKey {
        pub kid: String,
        pub data_key: String,
        pub wrapped_key: String,
    }

    impl Call for NewDataKey {
        const SERVICE: &'static str = "security";
        const PATH: &'static str = "/internal/data-keys";
        type Answer = DataKey;
    }

    /// A wrapped data key opened again (base64url, unpadded).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct UnwrapDataKey {
        pub kid: String,
        pub wrapped_key: String,
    }

    #[derive(Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct UnwrappedDataKey {
        pub kid: String,
        pub data_key: String,
    }

    impl Call for UnwrapDataKey {
        const SERVICE: &'static str = "security";
        const PATH: &'static str = "/internal/data-keys/unwrap";
        type Answer = UnwrappedDataKey;
    }

    /// What a blind index is computed over.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ContactDomain {
        Email,
        Phone,
        /// Any other name: refused by `security` as `invalid_input`.
        #[serde(other)]
        Unknown,
    }

    impl ContactDomain {
        pub fn as_str(self) -> &'static str {
            match self {
                Self::Email => "email",
                Self::Phone => "phone",
                Self::Unknown => "unknown",
            }
        }
    }

    /// The keyed index of a contact, normalised by `security`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct BlindIndex {
        pub domain: ContactDomain,
        pub value: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Indexed {
        pub domain: ContactDomain,
        pub normalised: String,
        /// Base64url, unpadded.
        pub index: String,
    }

    impl Call for BlindIndex {
        const SERVICE: &'static str = "security";
        const PATH: &'static str = "/internal/blind-index";
        type Answer = Indexed;
    }

    /// Opens a ciphertext sealed under a key of the service.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Decrypt {
        pub kid: String,
        pub ciphertext: String,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Decrypted {
        pub kid: String,
        pub plaintext: String,
    }

    impl Call for Decrypt {
        const SERVICE: &'static str = "security";
        const PATH: &'static str = "/internal/decrypt";
        type Answer = Decrypted;
    }

    /// Signs a message with the active signing key.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Sign {
        pub message: String,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Signed {
        pub kid: String,
        pub alg: String,
        pub signature: String,
    }

    impl Call for Sign {
        const SERVICE: &'static str = "security";
        const PATH: &'static str = "/internal/sign";
        type Answer = Signed;
    }

    /// Writes a signed checkpoint of the audit log (every stream's head).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Checkpoint {}

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Checkpointed {
        pub checkpoint_id: i64,
        pub kid: String,
        /// The Merkle root over the heads, hex.
        pub root: String,
        pub streams: usize,
    }

    impl Call for Checkpoint {
        const SERVICE: &'static str = "security";
        const PATH: &'static str = "/internal/audit/checkpoint";
        type Answer = Checkpointed;
    }
}

/// The `devices` service's private routes.
pub mod devices {
    use super::*;

    /// The client hints a browser sent (`Sec-CH-UA-*`), as received.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ClientHints {
        #[serde(default)]
        pub platform: Option<String>,
        #[serde(default)]
        pub platform_version: Option<String>,
        #[serde(default)]
        pub mobile: Option<String>,
        #[serde(default)]
        pub model: Option<String>,
        #[serde(default)]
        pub full_version_list: Option<String>,
    }

    /// What the client says of its device.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct DeviceReport {
        /// `desktop`, `laptop`, `tablet` or `phone`, where the client knows it
        /// (a native app, or a browser that asked the operating system).
        #[serde(default)]
        pub form_factor: Option<String>,
        /// `navigator.maxTouchPoints`: an iPad asking for desktop sites says it
        /// is a Mac, but a Mac has no touch screen.
        #[serde(default)]
        pub max_touch_points: Option<u32>,
        /// `true` for the project's native apps.
        #[serde(default)]
        pub native_app: Option<bool>,
    }

    /// A device as one request shows it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Sighting {
        pub ip: String,
        pub user_agent: String,
        #[serde(default)]
        pub client_hints: ClientHints,
        #[serde(default)]
        pub report: DeviceReport,
    }

    /// Registers a device to a member (or updates it if it is theirs);
    /// `409 device_taken` if it is another member's.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RegisterDevice {
        pub user_id: String,
        pub device_id: String,
        pub ip: String,
        pub user_agent: String,
        #[serde(default)]
        pub client_hints: ClientHints,
        #[serde(default)]
        pub report: DeviceReport,
    }

    impl RegisterDevice {
        pub fn new(user_id: impl Into<String>, device_id: impl Into<String>, seen: Sighting) -> Self {
            let Sighting { ip, user_agent, client_hints, report } = seen;
            Self { user_id: user_id.into(), device_id: device_id.into(), ip, user_agent, client_hints, report }
        }

        /// The request's sighting of the device, apart from whose it is.
        pub fn into_parts(self) -> (String, String, Sighting) {
            let Self { user_id, device_id, ip, user_agent, client_hints, report } = self;
            (user_id, device_id, Sighting { ip, user_agent, client_hints, report })
        }
    }

    /// An operating system or browser, and its version.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Software {
        pub name: String,
        pub version: Option<String>,
    }

    /// A device as `devices` knows it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RegisteredDevice {
        pub device_id: String,
        pub kind: String,
        pub os: Option<Software>,
        pub browser: Option<Software>,
        pub model: Option<String>,
        pub country: Option<String>,
        pub region: Option<String>,
        pub city: Option<String>,
        /// Base64url, unpadded.
        pub fingerprint: String,
        pub first_seen_at: i64,
        pub last_seen_at: i64,
        pub trusted: bool,
        pub name: Option<String>,
    }

    impl Call for RegisterDevice {
        const SERVICE: &'static str = "devices";
        const PATH: &'static str = "/internal/devices";
        type Answer = RegisteredDevice;
    }

    /// Where a member's devices were last seen: the country and region of
    /// the most recently seen device that was located.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PlaceOf {
        pub user_id: String,
    }

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Place {
        pub country: Option<String>,
        pub region: Option<String>,
    }

    impl Call for PlaceOf {
        const SERVICE: &'static str = "devices";
        const PATH: &'static str = "/internal/devices/place";
        type Answer = Place;
    }

    /// Opens a session with its first refresh token (its SHA-256,
    /// base64url); with `seen`, the device's sighting in the same statement,
    /// which also requires the device to be the member's (`409` if not).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct OpenSession {
        pub user_id: String,
        pub device_id: String,
        pub amr: Vec<String>,
        pub token_hash: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub seen: Option<Sighting>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct OpenedSession {
        pub session_id: String,
    }

    impl Call for OpenSession {
        const SERVICE: &'static str = "devices";
        const PATH: &'static str = "/internal/sessions";
        type Answer = OpenedSession;
    }

    /// Rotates a refresh token (hashes as in [`OpenSession`]).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RefreshSession {
        pub token_hash: String,
        pub new_token_hash: String,
        pub device_id: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RefreshedSession {
        pub session_id: String,
        pub user_id: String,
        pub device_id: String,
        pub amr: Vec<String>,
        pub access_ttl: i64,
        pub refresh_ttl: i64,
        /// The session's creation (the passkey ceremony that opened it),
        /// seconds since the epoch.
        pub auth_time: i64,
    }

    impl Call for RefreshSession {
        const SERVICE: &'static str = "devices";
        const PATH: &'static str = "/internal/sessions/refresh";
        type Answer = RefreshedSession;
    }

    /// Ends the session of a refresh token (logout); idempotent.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RevokeSession {
        pub token_hash: String,
        pub device_id: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RevokedSession {
        pub session_id: String,
        pub revoked: bool,
    }

    impl Call for RevokeSession {
        const SERVICE: &'static str = "devices";
        const PATH: &'static str = "/internal/sessions/revoke";
        type Answer = RevokedSession;
    }

    /// Everything `devices` holds about a member, for their export.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ExportMember {
        pub user_id: String,
    }

    /// A registered device as kept, times in RFC 3339.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct HeldDevice {
        pub device_id: String,
        pub kind: String,
        pub os: Option<Software>,
        pub browser: Option<Software>,
        pub model: Option<String>,
        pub last_ip: String,
        pub country: Option<String>,
        pub region: Option<String>,
        pub city: Option<String>,
        pub name: Option<String>,
        pub trusted: bool,
        pub first_seen_at: String,
        pub last_seen_at: String,
    }

    /// A session as kept (refresh tokens are kept as hashes only and are
    /// not exported).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct HeldSession {
        pub session_id: String,
        pub device_id: String,
        pub amr: Vec<String>,
        pub created_at: String,
        pub last_used_at: String,
        pub revoked_at: Option<String>,
        pub revoke_reason: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ExportedMember {
        pub devices: Vec<HeldDevice>,
        pub sessions: Vec<HeldSession>,
    }

    impl Call for ExportMember {
        const SERVICE: &'static str = "devices";
        const PATH: &'static str = "/internal/members/export";
        type Answer = ExportedMember;
    }

    /// A member's erasure, `devices`' part: every session revoked (and in
    /// the revocation cache), every device deleted. Idempotent: a retry
    /// writes the cache entries of sessions revoked within an access
    /// token's lifetime again.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct EraseMember {
        pub user_id: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ErasedMember {
        pub sessions_revoked: usize,
        pub devices_removed: usize,
    }

    impl Call for EraseMember {
        const SERVICE: &'static str = "devices";
        const PATH: &'static str = "/internal/members/erase";
        type Answer = ErasedMember;
    }
}

/// The `auth` service's private routes.
pub mod auth {
    use super::*;

    /// Removes a member's passkeys on one device (before the device goes).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RemovePasskeys {
        pub user_id: String,
        pub device_id: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RemovedPasskeys {
        pub removed: usize,
    }

    impl Call for RemovePasskeys {
        const SERVICE: &'static str = "auth";
        const PATH: &'static str = "/internal/passkeys/remove";
        type Answer = RemovedPasskeys;
    }

    /// Removes every passkey of a member (their erasure); idempotent.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ErasePasskeys {
        pub user_id: String,
    }

    impl Call for ErasePasskeys {
        const SERVICE: &'static str = "auth";
        const PATH: &'static str = "/internal/passkeys/erase";
        type Answer = RemovedPasskeys;
    }

    /// A member's passkeys' metadata, for their export.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ExportPasskeys {
        pub user_id: String,
    }

    /// A passkey as kept, without its public key and state; times in
    /// RFC 3339, the credential id base64url.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct HeldPasskey {
        pub credential_id: String,
        pub device_id: String,
        pub algorithm: String,
        pub attestation: String,
        pub aaguid: String,
        pub transports: Vec<String>,
        pub sign_count: i64,
        pub backup_eligible: bool,
        pub backed_up: bool,
        pub created_at: String,
        pub last_used_at: String,
        pub clone_suspected_at: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ExportedPasskeys {
        pub passkeys: Vec<HeldPasskey>,
    }

    impl Call for ExportPasskeys {
        const SERVICE: &'static str = "auth";
        const PATH: &'static str = "/internal/passkeys/export";
        type Answer = ExportedPasskeys;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_written_in_one_vocabulary() {
        let forms: Vec<String> = [
            Actor::Visitor,
            Actor::System,
            Actor::Member("u1".into()),
            Actor::Service("auth".into()),
            Actor::Admin("u2".into()),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(forms, ["visitor", "system", "member:u1", "service:auth", "admin:u2"]);
    }

    #[test]
    fn an_answer_missing_a_field_does_not_parse() {
        let answer = serde_json::from_str::<devices::OpenedSession>("{}");
        assert!(answer.is_err());
    }

    #[test]
    fn an_answer_with_an_unknown_field_does_not_parse() {
        let answer = serde_json::from_str::<users::Linked>(r#"{"user_id":"u","sngine_user_id":1,"extra":true}"#);
        assert!(answer.is_err());
    }

    #[test]
    fn token_types_are_sent_as_their_jose_names() -> Result<(), serde_json::Error> {
        let request = security::VerifyToken::<security::EnrolmentClaims>::new("t", security::TokenType::Enrolment, "a");
        let sent = serde_json::to_value(&request)?;
        assert_eq!(sent, serde_json::json!({ "token": "t", "typ": "enrol+jwt", "audience": "a" }));
        Ok(())
    }

    #[test]
    fn a_device_registration_splits_into_owner_device_and_sighting() {
        let seen = devices::Sighting {
            ip: "192.0.2.1".into(),
            user_agent: "ua".into(),
            client_hints: devices::ClientHints::default(),
            report: devices::DeviceReport { max_touch_points: Some(5), ..Default::default() },
        };
        let (user, device, back) = devices::RegisterDevice::new("u", "d", seen.clone()).into_parts();
        assert_eq!((user.as_str(), device.as_str(), back), ("u", "d", seen));
    }

    #[test]
    fn every_route_has_one_request_type() {
        let mut paths = vec![
            users::Match::PATH,
            users::Link::PATH,
            users::RolesOf::PATH,
            <security::SignToken<serde_json::Value>>::PATH,
            <security::VerifyToken<serde_json::Value>>::PATH,
            security::NewDataKey::PATH,
            security::UnwrapDataKey::PATH,
            security::BlindIndex::PATH,
            security::Decrypt::PATH,
            security::Sign::PATH,
            devices::RegisterDevice::PATH,
            devices::PlaceOf::PATH,
            devices::OpenSession::PATH,
            devices::RefreshSession::PATH,
            devices::RevokeSession::PATH,
            devices::ExportMember::PATH,
            devices::EraseMember::PATH,
            auth::RemovePasskeys::PATH,
            auth::ErasePasskeys::PATH,
            auth::ExportPasskeys::PATH,
        ];
        let count = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), count);
        assert!(paths.iter().all(|p| p.starts_with("/internal/")));
    }
}
