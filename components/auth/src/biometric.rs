//! Step 3 over HTTP: the passkey ceremonies of `vottery-passkeys-core`, in
//! the order of `vottery_passkeys_core::step3` (its diagram runs from the
//! enrolment token to the first session and a returning member's sign-in).
//!
//! Enrolment, after both codes: `POST /api/auth/capture-biometric/options`
//! `{enrolment_token, device_id, device?}` then `POST
//! /api/auth/capture-biometric` `{credential, device?}`. A returning member
//! on a known device: `POST /api/auth/assert-biometric/options`
//! `{device_id}` then `POST /api/auth/assert-biometric` `{device_id,
//! credential, device?}`. What is kept lives in `store::ceremonies` (Redis)
//! and `store::passkeys` (PostgreSQL).

use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::Request;
use vottery_auth_core::AuthError;
use vottery_component_kit::contracts::auth::{
    ErasePasskeys, ExportPasskeys, ExportedPasskeys, RemovePasskeys, RemovedPasskeys,
};
use vottery_component_kit::contracts::devices::{self, ClientHints, OpenSession, RegisterDevice, Sighting};
use vottery_component_kit::contracts::security::{ENROLMENT_AUDIENCE, EnrolmentClaims, TokenType, VerifyToken};
use vottery_component_kit::{self as kit};
use vottery_passkeys_core::apps::{android_origins, parse_android_apps};
use vottery_passkeys_core::step3::{CEREMONY_TTL, Ceremony, CeremonyKind, ClaimFate, Enrolment, user_handle};
use vottery_passkeys_core::{
    AssertionResponse, NewPasskey, PasskeyError, RegistrationResponse, RelyingParty, StoredPasskey,
    finish_authentication, finish_registration, start_authentication, start_registration,
};
use vottery_sessions_core::{Amr, DeviceId};
use vottery_validate::{UserId, ValidationError, encode_base64url};

use crate::session::{self, Fault, Opened};
use crate::store::ceremonies::Ceremonies;
use crate::store::passkeys::Passkeys;

/// Attestations with certificate chains run to a few kilobytes.
const MAX_CEREMONY_BODY: usize = 60 * 1024;

/// What the frontend reports of the device (all optional).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeviceReport {
    #[serde(default)]
    form_factor: Option<String>,
    #[serde(default)]
    max_touch_points: Option<u32>,
    #[serde(default)]
    native_app: Option<bool>,
    /// `PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable()`.
    #[serde(default)]
    platform_authenticator: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolOptionsBody {
    #[serde(default)]
    enrolment_token: Option<String>,
    device_id: String,
    #[serde(default)]
    device: DeviceReport,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    credential: Value,
    #[serde(default)]
    device: DeviceReport,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertOptionsBody {
    device_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertBody {
    device_id: String,
    credential: Value,
    #[serde(default)]
    device: DeviceReport,
}

struct Context {
    ceremonies: Ceremonies,
    rp: RelyingParty,
}

impl Context {
    async fn open() -> Result<Self, Fault> {
        Ok(Self { ceremonies: Ceremonies::open().await?, rp: relying_party().await? })
    }
}

/// The RP from the settings: `passkey_rp_id`, the web origins in
/// `passkey_origins` (default `https://<rp id>`) and the origins of the
/// Android apps in `android_apps`.
async fn relying_party() -> Result<RelyingParty, Fault> {
    let rp_id = kit::variable("passkey_rp_id").await.filter(|v| !v.is_empty()).unwrap_or_else(|| "localhost".into());
    let mut origins: Vec<String> = kit::variable("passkey_origins")
        .await
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    if origins.is_empty() {
        origins.push(format!("https://{rp_id}"));
    }
    origins.extend(android_origins(&parse_android_apps(&kit::variable("android_apps").await.unwrap_or_default())?));
    Ok(RelyingParty::new(&rp_id, &origins)?)
}

fn member(user_id: &str) -> Result<UserId, Fault> {
    UserId::parse(user_id).ok_or_else(|| ValidationError::InvalidField("`user_id` is not a user id".into()).into())
}

fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim_matches('"').to_owned())
}

/// What `devices` is told of the device: its address, user agent, client
/// hints and the frontend's report.
struct Seen {
    ip: String,
    user_agent: String,
    hints: ClientHints,
}

async fn seen(request: &Request) -> Result<Seen, Fault> {
    let ip = crate::ops::visitor_ip(request).await?;
    Ok(Seen {
        ip,
        user_agent: header(request, "user-agent").unwrap_or_default(),
        hints: ClientHints {
            platform: header(request, "sec-ch-ua-platform"),
            platform_version: header(request, "sec-ch-ua-platform-version"),
            mobile: header(request, "sec-ch-ua-mobile"),
            model: header(request, "sec-ch-ua-model"),
            full_version_list: request
                .headers()
                .get("sec-ch-ua-full-version-list")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        },
    })
}

/// The device as `devices` is told of it.
fn sighting(seen: &Seen, report: &DeviceReport) -> Sighting {
    Sighting {
        ip: seen.ip.clone(),
        user_agent: seen.user_agent.clone(),
        client_hints: seen.hints.clone(),
        report: devices::DeviceReport {
            form_factor: report.form_factor.clone(),
            max_touch_points: report.max_touch_points,
            native_app: report.native_app,
        },
    }
}

async fn register_device(user: &UserId, device: &DeviceId, seen: &Seen, report: &DeviceReport) -> Result<(), Fault> {
    let request = RegisterDevice::new(user.as_str(), device.as_str(), sighting(seen, report));
    match kit::call("auth", &request).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.refusal(), Some((409, _))) => Err(PasskeyError::DeviceTaken.into()),
        Err(e) => Err(AuthError::Dependency(format!("devices {e}")).into()),
    }
}

/// Opens a session in `devices` and hands it to the client. With `seen`,
/// `devices` records the device's sighting in the same statement (a
/// returning member's device, registered at enrolment).
async fn open_session(
    user: &UserId,
    device: &DeviceId,
    amr: Vec<Amr>,
    report: &DeviceReport,
    seen: Option<&Seen>,
    extra: Value,
) -> Result<kit::Response, Fault> {
    let (refresh, hash) = session::new_refresh_token()?;
    let request = OpenSession {
        user_id: user.as_str().to_owned(),
        device_id: device.as_str().to_owned(),
        amr: amr.iter().map(|a| a.as_str().to_owned()).collect(),
        token_hash: hash,
        seen: seen.map(|seen| sighting(seen, report)),
    };
    let opened = match kit::call("auth", &request).await {
        Ok(opened) => opened,
        Err(e) if matches!(e.refusal(), Some((409, _))) => return Err(PasskeyError::UnknownCredential.into()),
        Err(e) => return Err(session::chained("devices", e)),
    };
    let opened = Opened {
        user_id: user.as_str().to_owned(),
        session_id: opened.session_id,
        device_id: device.as_str().to_owned(),
        amr,
        auth_time: kit::now(),
    };
    let in_cookie = report.native_app != Some(true);
    session::issue(&opened, &refresh, in_cookie, 201, extra).await
}

/// The enrolment token verify-otp issued: its signature, type and audience
/// checked by `security`, the rest by `Enrolment::check`.
async fn enrolment(token: Option<&str>) -> Result<Enrolment, Fault> {
    let token = token.filter(|t| !t.is_empty()).ok_or(PasskeyError::EnrolmentMissing)?;
    let request = VerifyToken::<EnrolmentClaims>::new(token, TokenType::Enrolment, ENROLMENT_AUDIENCE);
    let claims = match kit::call("auth", &request).await {
        Ok(verified) => verified.claims,
        Err(e) => {
            return Err(match e.refusal() {
                Some((status, "token_expired")) if status < 500 => PasskeyError::EnrolmentExpired.into(),
                Some((status, _)) if status < 500 => PasskeyError::EnrolmentInvalid.into(),
                _ => session::chained("security", e),
            });
        }
    };
    Ok(Enrolment::check(&claims.sub, &claims.jti, &claims.amr, claims.exp, kit::now())?)
}

fn options(started: &vottery_passkeys_core::Started) -> kit::Response {
    kit::json(200, &json!({ "publicKey": started.options, "expires_in": CEREMONY_TTL }))
}

/// `POST /api/auth/capture-biometric/options`.
pub async fn enrol_options(request: Request) -> Result<kit::Response, Fault> {
    let body: EnrolOptionsBody = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    if body.device.platform_authenticator == Some(false) {
        return Err(PasskeyError::NoPlatformAuthenticator.into());
    }
    let enrolment = enrolment(body.enrolment_token.as_deref()).await?;
    let context = Context::open().await?;
    if context.ceremonies.is_claimed(&enrolment.claim).await? {
        return Err(PasskeyError::EnrolmentUsed.into());
    }
    let existing = Passkeys::open().await?.of_member(&enrolment.user).await?;
    let name = format!("vottery-{}", &enrolment.user.as_str()[..8]);
    let started = start_registration(&context.rp, user_handle(&enrolment.user), &name, "Vottery member", &existing)?;
    let ceremony = Ceremony::registration(enrolment, device, started.state.clone());
    context.ceremonies.keep(&started.challenge, &ceremony).await?;
    Ok(options(&started))
}

/// `POST /api/auth/capture-biometric`.
pub async fn enrol(request: Request) -> Result<kit::Response, Fault> {
    let seen = seen(&request).await?;
    let body: EnrolBody = kit::json_body(request, MAX_CEREMONY_BODY).await?;
    let response = RegistrationResponse::parse(body.credential.to_string().as_bytes())?;
    let context = Context::open().await?;
    let ceremony = context.ceremonies.take(&response.challenge()?, CeremonyKind::Register).await?;
    let passkey = finish_registration(&context.rp, &ceremony.state, &response)?;
    let claim = ceremony.claim.clone().ok_or(PasskeyError::EnrolmentInvalid)?;
    if !context.ceremonies.claim(&claim).await? {
        return Err(PasskeyError::EnrolmentUsed.into());
    }
    let outcome = complete_enrolment(&context, &ceremony, &passkey, &seen, &body.device).await;
    if claim.after(&outcome) == ClaimFate::Released {
        context.ceremonies.release(&claim).await;
    }
    outcome
}

/// After the claim: the device registered, the passkey stored, the first
/// session opened.
async fn complete_enrolment(
    context: &Context,
    ceremony: &Ceremony,
    passkey: &NewPasskey,
    seen: &Seen,
    report: &DeviceReport,
) -> Result<kit::Response, Fault> {
    let (user, device) = (&ceremony.user, &ceremony.device);
    register_device(user, device, seen, report).await?;
    let credential_id = encode_base64url(&passkey.id);
    let detail = json!({
        "device_id": device.as_str(), "algorithm": passkey.algorithm, "attestation": passkey.attestation,
        "aaguid": passkey.aaguid, "backup_eligible": passkey.backup_eligible, "ip": seen.ip,
    });
    if !Passkeys::open().await?.enrol(user, device, passkey, kit::now(), &detail).await? {
        return Err(PasskeyError::AlreadyRegistered.into());
    }
    let extra = json!({
        "user_id": user.as_str(), "device_id": device.as_str(),
        "passkey": {
            "credential_id": credential_id, "algorithm": passkey.algorithm, "attestation": passkey.attestation,
            "backup_eligible": passkey.backup_eligible, "backed_up": passkey.backed_up,
        },
    });
    let answer = open_session(user, device, ceremony.session_amr(), report, None, extra).await?;
    let event = json!({ "user_id": user.as_str(), "device_id": device.as_str(), "credential_id": credential_id });
    context.ceremonies.publish("passkey.enrolled", event).await;
    Ok(answer)
}

/// `POST /api/auth/assert-biometric/options`.
pub async fn assert_options(request: Request) -> Result<kit::Response, Fault> {
    let body: AssertOptionsBody = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    let on_device = Passkeys::open().await?.on_device(&device).await?.ok_or(PasskeyError::NoCredential)?;
    let context = Context::open().await?;
    let started = start_authentication(&context.rp, &on_device.known)?;
    let ceremony = Ceremony::assertion(on_device.user, device, started.state.clone());
    context.ceremonies.keep(&started.challenge, &ceremony).await?;
    Ok(options(&started))
}

/// `POST /api/auth/assert-biometric`.
pub async fn assert(request: Request) -> Result<kit::Response, Fault> {
    let seen = seen(&request).await?;
    let body: AssertBody = kit::json_body(request, MAX_CEREMONY_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    let response = AssertionResponse::parse(body.credential.to_string().as_bytes())?;
    let context = Context::open().await?;
    let ceremony = context.ceremonies.take(&response.challenge()?, CeremonyKind::Assert).await?;
    if ceremony.device != device {
        return Err(PasskeyError::CeremonyUnknown.into());
    }
    let passkeys = Passkeys::open().await?;
    let id = response.credential_id();
    let held = passkeys.held(&id, &device).await?.ok_or(PasskeyError::UnknownCredential)?;
    if held.clone_suspected {
        return Err(PasskeyError::Cloned.into());
    }
    let stored = StoredPasskey { id, user: user_handle(&held.user), public_key: held.public_key, state: held.state };
    let assertion = match finish_authentication(&context.rp, &ceremony.state, &response, &stored) {
        Err(PasskeyError::Cloned) => return Err(suspect_clone(&context, &passkeys, &stored.id, &device, &seen).await),
        verified => verified?,
    };
    let detail = json!({ "device_id": device.as_str(), "sign_count": assertion.sign_count, "ip": seen.ip });
    if !passkeys.asserted(&stored.id, &stored.state, &assertion, kit::now(), &detail).await? {
        return Err(PasskeyError::Replayed.into());
    }
    let extra = json!({ "user_id": held.user.as_str(), "device_id": device.as_str() });
    let answer = open_session(&held.user, &device, vec![Amr::PasskeyUv], &body.device, Some(&seen), extra).await?;
    let event = json!({ "user_id": held.user.as_str(), "device_id": device.as_str(), "credential_id": encode_base64url(&stored.id) });
    context.ceremonies.publish("passkey.asserted", event).await;
    Ok(answer)
}

/// A counter that went back: the passkey is flagged and refused from now on.
async fn suspect_clone(context: &Context, passkeys: &Passkeys, id: &[u8], device: &DeviceId, seen: &Seen) -> Fault {
    let detail = json!({ "device_id": device.as_str(), "ip": seen.ip });
    if let Err(e) = passkeys.suspect_clone(id, kit::now(), &detail).await {
        return e.into();
    }
    let event = json!({ "device_id": device.as_str(), "credential_id": encode_base64url(id) });
    context.ceremonies.publish("passkey.clone_suspected", event).await;
    PasskeyError::Cloned.into()
}

/// `POST /internal/passkeys/remove` (from `devices`, removing a device):
/// the member's passkeys on that device, each removal audited.
pub async fn remove(request: Request) -> Result<kit::Response, Fault> {
    let body: RemovePasskeys = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    let user = member(&body.user_id)?;
    let removed = Passkeys::open().await?.remove_on_device(&device, &user).await?;
    if removed > 0
        && let Ok(ceremonies) = Ceremonies::open().await
    {
        ceremonies.publish("passkey.removed", json!({ "device_id": device.as_str(), "count": removed })).await;
    }
    Ok(kit::json(200, &RemovedPasskeys { removed }))
}

/// `POST /internal/passkeys/erase` (from `users`, erasing a member): every
/// passkey of the member goes, each with its audit row, in one statement.
/// Idempotent: a retry finds none left and answers `removed: 0`.
pub async fn erase(request: Request) -> Result<kit::Response, Fault> {
    let body: ErasePasskeys = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let user = member(&body.user_id)?;
    let removed = Passkeys::open().await?.erase_member(&user).await?;
    if removed > 0
        && let Ok(ceremonies) = Ceremonies::open().await
    {
        ceremonies.publish("passkey.removed", json!({ "count": removed, "reason": "member_erased" })).await;
    }
    Ok(kit::json(200, &RemovedPasskeys { removed }))
}

/// `POST /internal/passkeys/export` (from `users`, the member's export):
/// their passkeys' metadata, never the public key or its state.
pub async fn export(request: Request) -> Result<kit::Response, Fault> {
    let body: ExportPasskeys = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let user = member(&body.user_id)?;
    let passkeys = Passkeys::open().await?.export_member(&user).await?;
    Ok(kit::json(200, &ExportedPasskeys { passkeys }))
}

/// A ceremony's outcome, with `passkey.refused` published (its stable
/// code) when the passkey itself was refused.
pub async fn published(ceremony: &str, outcome: Result<kit::Response, Fault>) -> Result<kit::Response, Fault> {
    if let Err(Fault::Passkey(e)) = &outcome
        && let Ok(ceremonies) = Ceremonies::open().await
    {
        ceremonies.publish("passkey.refused", json!({ "ceremony": ceremony, "code": e.code() })).await;
    }
    outcome
}
