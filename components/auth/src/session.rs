//! `POST /api/auth/refresh-token`: rotates the refresh token (in `devices`,
//! which never sees clear tokens) and issues a new access token (signed by
//! `security`). Browsers carry the refresh token in an `HttpOnly; Secure;
//! SameSite=Strict` cookie; native apps in the body.

use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::Request;
use vottery_auth_core::AuthError;
use vottery_component_kit::contracts::devices::{RefreshSession, RevokeSession};
use vottery_component_kit::contracts::security::{SignToken, TokenType};
use vottery_component_kit::contracts::users::RolesOf;
use vottery_component_kit::crypto::{digest, random};
use vottery_component_kit::{self as kit, ChainError};
use vottery_gateway_policy::Cors;
use vottery_passkeys_core::PasskeyError;
use vottery_sessions_core::{
    AccessClaims, Amr, DeviceId, Policy, RefreshToken, SessionError, clear_refresh_cookie, refresh_cookie,
    refresh_from_cookies,
};
use vottery_validate::{ValidationError, encode_base64url};

/// Why a refresh failed.
pub enum Fault {
    Session(SessionError),
    Auth(AuthError),
    Passkey(PasskeyError),
}

impl From<PasskeyError> for Fault {
    fn from(e: PasskeyError) -> Self {
        Self::Passkey(e)
    }
}

impl From<SessionError> for Fault {
    fn from(e: SessionError) -> Self {
        Self::Session(e)
    }
}

impl From<AuthError> for Fault {
    fn from(e: AuthError) -> Self {
        Self::Auth(e)
    }
}

impl From<ValidationError> for Fault {
    fn from(e: ValidationError) -> Self {
        Self::Session(e.into())
    }
}

/// The full cause, for the log (the answer keeps it out).
impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Session(e) => e.fmt(f),
            Self::Auth(e) => e.fmt(f),
            Self::Passkey(e) => e.fmt(f),
        }
    }
}

impl kit::ApiError for Fault {
    fn problem(&self) -> kit::Problem {
        match self {
            Self::Session(e) => e.problem(),
            Self::Auth(e) => e.problem(),
            Self::Passkey(e) => e.problem(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    device_id: String,
    /// Native apps; browsers send the cookie instead.
    #[serde(default)]
    refresh_token: Option<String>,
}

pub fn crypto(e: impl std::fmt::Debug) -> Fault {
    Fault::Auth(AuthError::Internal(format!("crypto: {e:?}")))
}

pub async fn variable(name: &str) -> Result<String, Fault> {
    kit::variable(name).await.ok_or_else(|| AuthError::Misconfigured(format!("variable {name} is not set")).into())
}

pub fn chained(service: &str, e: ChainError) -> Fault {
    match e {
        ChainError::Refused(refusal) => match SessionError::from_code(&refusal.code) {
            Some(known) => known.into(),
            None => AuthError::Dependency(format!("{service} answered {}: {}", refusal.status, refusal.code)).into(),
        },
        ChainError::Unreachable(cause) | ChainError::Malformed(cause) => {
            AuthError::Dependency(format!("{service} {cause}")).into()
        }
    }
}

/// The device and the refresh token of a request (from the body, else the
/// cookie), and whether it came in the cookie.
async fn presented(request: Request) -> Result<(DeviceId, RefreshToken, bool), Fault> {
    let cookies = request.headers().get("cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let from_trusted_page = trusted_page(&request).await?;
    let body: RefreshBody = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    Ok(match &body.refresh_token {
        Some(raw) => (device, RefreshToken::parse(raw)?, false),
        None => {
            let token = refresh_from_cookies(&cookies).ok_or(SessionError::RefreshMissing)?;
            if !from_trusted_page {
                return Err(SessionError::CsrfOriginRefused.into());
            }
            (device, token, true)
        }
    })
}

/// Whether the request comes from a page that may use the refresh cookie:
/// an allowed origin (`cors_origins`), the API's own, or a same-origin
/// fetch that sent no `Origin` (CSRF; `SameSite=Strict` is the other half).
async fn trusted_page(request: &Request) -> Result<bool, Fault> {
    let origins = kit::variable("cors_origins").await.unwrap_or_default();
    let any = kit::variable("cors_unsafe_any_origin").await.unwrap_or_default();
    let cors = Cors::parse(&origins, &any).map_err(AuthError::Misconfigured)?;
    let headers = request.headers();
    let origin = headers.get_all(http::header::ORIGIN).iter().filter_map(|v| v.to_str().ok());
    let own = request.uri().authority().map(|a| a.as_str());
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    Ok(cors.trusts_cookie_request(origin, own, site))
}

/// `POST /api/auth/logout`: ends the session of the presented refresh
/// token; its access tokens stop working at the next request.
pub async fn logout(request: Request) -> Result<kit::Response, Fault> {
    let (device, token, _) = presented(request).await?;
    let revoke = RevokeSession {
        token_hash: encode_base64url(&digest::sha256(token.as_str().as_bytes())),
        device_id: device.as_str().to_owned(),
    };
    let revoked = kit::call("auth", &revoke).await.map_err(|e| chained("devices", e))?;
    let mut response = kit::json(200, &revoked);
    if let Ok(cookie) = http::HeaderValue::from_str(&clear_refresh_cookie()) {
        response.headers_mut().insert(http::header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn refresh(request: Request) -> Result<kit::Response, Fault> {
    let (device, token, in_cookie) = presented(request).await?;
    let (next, next_hash) = new_refresh_token()?;
    let rotate = RefreshSession {
        token_hash: encode_base64url(&digest::sha256(token.as_str().as_bytes())),
        new_token_hash: next_hash,
        device_id: device.as_str().to_owned(),
    };
    let session = kit::call("auth", &rotate).await.map_err(|e| chained("devices", e))?;
    let amr = session.amr.iter().map(|a| Amr::parse(a)).collect::<Option<Vec<_>>>();
    let amr = amr.ok_or_else(|| AuthError::Dependency("devices answered an unknown amr".into()))?;
    let opened = Opened {
        user_id: session.user_id,
        session_id: session.session_id,
        device_id: session.device_id,
        amr,
        auth_time: session.auth_time,
    };
    issue(&opened, &next, in_cookie, 200, Value::Null).await
}

/// A session `devices` opened or refreshed.
pub struct Opened {
    pub user_id: String,
    pub session_id: String,
    pub device_id: String,
    pub amr: Vec<Amr>,
    /// When the passkey ceremony that opened the session took place.
    pub auth_time: i64,
}

/// A fresh refresh token and its SHA-256 (what `devices` stores).
pub fn new_refresh_token() -> Result<(RefreshToken, String), Fault> {
    let token = RefreshToken::from_random(random::bytes(32).map_err(crypto)?.try_into().map_err(crypto)?);
    let hash = encode_base64url(&digest::sha256(token.as_str().as_bytes()));
    Ok((token, hash))
}

/// The answer that hands a session to the client: an access token signed
/// by `security` and the refresh token (in the body for native apps, in the
/// cookie for browsers); `extra` fields are merged into the body.
pub async fn issue(
    session: &Opened,
    refresh: &RefreshToken,
    in_cookie: bool,
    status: u16,
    extra: Value,
) -> Result<kit::Response, Fault> {
    let policy = Policy::parse(&variable("session_policy").await?).map_err(AuthError::Misconfigured)?;
    let access_token = sign_access_token(session, &policy).await?;
    let mut answer = json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": policy.access_ttl,
        "session_id": session.session_id,
    });
    if !in_cookie {
        answer["refresh_token"] = Value::from(refresh.as_str());
    }
    if let (Value::Object(extra), Some(body)) = (extra, answer.as_object_mut()) {
        body.extend(extra);
    }
    let mut response = kit::json(status, &answer);
    if in_cookie && let Ok(cookie) = http::HeaderValue::from_str(&refresh_cookie(refresh, policy.refresh_idle)) {
        response.headers_mut().insert(http::header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The session's access token, signed by `security`, with the member's
/// live grants: read at every issue, so a revoked role is gone from the
/// next access token.
async fn sign_access_token(session: &Opened, policy: &Policy) -> Result<String, Fault> {
    let roles =
        kit::call("auth", &RolesOf { user_id: session.user_id.clone() }).await.map_err(|e| chained("users", e))?;
    let claims = AccessClaims {
        user_id: session.user_id.clone(),
        session_id: session.session_id.clone(),
        device_id: session.device_id.clone(),
        amr: session.amr.clone(),
        roles: roles.roles,
        auth_time: session.auth_time,
    };
    let jti = encode_base64url(&random::bytes(16).map_err(crypto)?);
    let request = SignToken {
        typ: TokenType::Access,
        claims: claims.to_json(&variable("token_audience").await?, &jti, kit::now(), policy.access_ttl),
    };
    Ok(kit::call("auth", &request).await.map_err(|e| chained("security", e))?.token)
}
