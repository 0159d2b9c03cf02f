//! `POST /internal/devices` (from `auth`, during step 3): registers or
//! refreshes a member's device: classified from its user-agent, client
//! hints and report, located by the geolocation API, fingerprinted with a
//! keyed hash of its stable attributes.

use futures::future::{Either, select};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::wasip3::clocks::monotonic_clock;
use vottery_component_kit::contracts::devices::{
    ClientHints, PlaceOf, RegisterDevice, RegisteredDevice, Sighting, Software,
};
use vottery_component_kit::crypto::digest;
use vottery_component_kit::{self as kit};
use vottery_devices_core::{DeviceError, Report, classify, fingerprint_material};
use vottery_sessions_core::DeviceId;
use vottery_validate::{UserId, ValidationError};

use crate::member::{Member, named_user};
use crate::store::{self, Db};

/// How long the geolocation API may take before the device is registered
/// without a location.
const GEO_TIMEOUT_NS: u64 = 2_000_000_000;

/// Country, region and city of a public address, or nothing (private
/// address, API down or slow, unknown address).
async fn locate(ip: std::net::IpAddr) -> Option<Value> {
    let private = match ip {
        std::net::IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    };
    if private {
        return None;
    }
    let base = kit::variable("geo_api_base").await?;
    let lookup = async move {
        let response = spin_sdk::http::get(format!("{}/{ip}/json", base.trim_end_matches('/'))).await.ok()?;
        if response.status() != 200 {
            return None;
        }
        let body = response.into_body().collect().await.ok()?.to_bytes();
        serde_json::from_slice::<Value>(&body).ok().filter(|v| v["bogon"] != true)
    };
    match select(Box::pin(lookup), Box::pin(monotonic_clock::wait_for(GEO_TIMEOUT_NS))).await {
        Either::Left((found, _)) => found,
        Either::Right(_) => None,
    }
}

/// A device as a request shows it: classified, fingerprinted and located.
pub struct Observed {
    kind: Value,
    device: vottery_devices_core::Device,
    fingerprint: Vec<u8>,
    ip: std::net::IpAddr,
    place: Value,
}

impl Observed {
    /// What a sighting of the device writes.
    pub fn seen(&self) -> store::Seen<'_> {
        let d = &self.device;
        store::Seen {
            kind: self.kind.as_str(),
            os: d.os.as_ref().map(|o| o.name),
            os_version: d.os.as_ref().and_then(|o| o.version.as_deref()),
            browser: d.browser.as_ref().map(|b| b.name),
            browser_version: d.browser.as_ref().and_then(|b| b.version.as_deref()),
            model: d.model.as_deref(),
            fingerprint: &self.fingerprint,
            ip: self.ip,
            country: self.place["country"].as_str(),
            region: self.place["region"].as_str(),
            city: self.place["city"].as_str(),
        }
    }
}

/// Classifies, fingerprints and locates the device a request shows.
pub async fn observe(seen: &Sighting) -> Result<Observed, DeviceError> {
    let ip: std::net::IpAddr =
        seen.ip.parse().map_err(|_| ValidationError::InvalidField("`ip` is not an address".into()))?;
    if seen.user_agent.len() > 1024 {
        return Err(ValidationError::InvalidField("`user_agent` is too long".into()).into());
    }
    let key = kit::variable("fingerprint_key").await.unwrap_or_default();
    if key.len() < 32 {
        return Err(DeviceError::Misconfigured("fingerprint_key must be at least 32 bytes".into()));
    }
    let h = &seen.client_hints;
    let hints = vottery_devices_core::ClientHints {
        platform: h.platform.as_deref(),
        platform_version: h.platform_version.as_deref(),
        mobile: h.mobile.as_deref(),
        model: h.model.as_deref(),
        full_version_list: h.full_version_list.as_deref(),
    };
    let device = classify(&seen.user_agent, &hints, &seen.report);
    let fingerprint = digest::hmac_sha256(key.as_bytes(), fingerprint_material(&device, hints.platform).as_bytes());
    let kind = serde_json::to_value(device.kind).unwrap_or(Value::Null);
    let place = locate(ip).await.unwrap_or(Value::Null);
    Ok(Observed { kind, device, fingerprint, ip, place })
}

/// `POST /internal/devices`: the device `auth` saw in step 3, registered
/// to the member.
pub async fn register(body: RegisterDevice) -> Result<kit::Response, DeviceError> {
    let (user_id, device_id, seen) = body.into_parts();
    let device = DeviceId::parse(&device_id)?;
    register_seen(&named_user(&user_id)?, &device, &seen).await
}

/// Registers the device, or updates it if it is already the member's.
async fn register_seen(user: &UserId, device: &DeviceId, seen: &Sighting) -> Result<kit::Response, DeviceError> {
    let observed = observe(seen).await?;
    let db = store::open().await?;
    let now = kit::now();
    let registered =
        store::register_device(&db, device, user, &observed.seen(), now).await?.ok_or(DeviceError::OtherMember)?;
    if registered.created {
        announce(&db, user, device, &observed).await?;
    }
    let status = if registered.created { 201 } else { 200 };
    Ok(kit::json(status, &answer(device, observed, registered, now)))
}

/// A new device: its audit row and its event.
async fn announce(db: &Db, user: &UserId, device: &DeviceId, observed: &Observed) -> Result<(), DeviceError> {
    let (kind, country) = (&observed.kind, &observed.place["country"]);
    let actor = kit::Actor::Member(user.as_str().to_owned());
    let detail = json!({ "kind": kind, "country": country });
    store::audit(db, &actor, "device.registered", device.as_str(), "ok", &detail).await?;
    let event = json!({ "device_id": device.as_str(), "kind": kind, "country": country });
    crate::cache::publish("device.registered", event).await;
    Ok(())
}

/// The device as registered, for `auth` or the member.
fn answer(device: &DeviceId, observed: Observed, registered: store::Registered, now: i64) -> RegisteredDevice {
    let Observed { kind, device: seen, fingerprint, place, .. } = observed;
    let software = |s: vottery_devices_core::Software| Software { name: s.name.to_owned(), version: s.version };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    RegisteredDevice {
        device_id: device.as_str().to_owned(),
        kind: text(&kind).unwrap_or_default(),
        os: seen.os.map(software),
        browser: seen.browser.map(software),
        model: seen.model,
        country: text(&place["country"]),
        region: text(&place["region"]),
        city: text(&place["city"]),
        fingerprint: vottery_validate::encode_base64url(&fingerprint),
        first_seen_at: registered.first_seen_at,
        last_seen_at: now,
        trusted: registered.trusted,
        name: registered.name,
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CurrentBody {
    #[serde(default)]
    device: Report,
}

/// `POST /api/devices/register`: the member's current device (the one its
/// access token is bound to; new devices come in through step 3) seen again:
/// kind, versions, address, place and fingerprint brought up to date.
pub async fn register_current(member: &Member, request: spin_sdk::http::Request) -> Result<kit::Response, DeviceError> {
    let header =
        |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim_matches('"').to_owned());
    let client_hints = ClientHints {
        platform: header("sec-ch-ua-platform"),
        platform_version: header("sec-ch-ua-platform-version"),
        mobile: header("sec-ch-ua-mobile"),
        model: header("sec-ch-ua-model"),
        full_version_list: request
            .headers()
            .get("sec-ch-ua-full-version-list")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let user_agent = header("user-agent").unwrap_or_default();
    let proxies = kit::variable("trusted_proxies").await.unwrap_or_default();
    let forwarded = kit::forwarded_for(&request);
    let ip = vottery_devices_core::visitor_ip(&kit::client_ip(&request), forwarded.as_deref(), &proxies)
        .map_err(DeviceError::Misconfigured)?;
    let has_body = request.headers().get("content-length").is_some_and(|v| v != "0");
    let body: CurrentBody =
        if has_body { kit::json_body(request, kit::MAX_JSON_BODY).await? } else { CurrentBody::default() };
    let seen = Sighting { ip, user_agent, client_hints, report: body.device };
    register_seen(&member.user_id, &DeviceId::parse(&member.device_id)?, &seen).await
}

/// `GET /api/devices/list`: the member's devices, last seen first.
pub async fn list(member: &Member) -> Result<kit::Response, DeviceError> {
    let db = store::open().await?;
    let devices: Vec<Value> = store::devices_of(&db, &member.user_id)
        .await?
        .into_iter()
        .map(|d| {
            json!({
                "device_id": d.device_id, "current": d.device_id == member.device_id, "kind": d.kind,
                "os": d.os, "os_version": d.os_version, "browser": d.browser, "browser_version": d.browser_version,
                "model": d.model, "country": d.country, "region": d.region, "city": d.city, "name": d.name,
                "trusted": d.trusted, "first_seen_at": d.first_seen_at, "last_seen_at": d.last_seen_at,
            })
        })
        .collect();
    Ok(kit::json(200, &json!({ "devices": devices })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    device_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    trusted: Option<bool>,
}

/// `PUT /api/devices/update`: names a device of the member's, or sets its trust.
pub async fn update(member: &Member, body: UpdateBody) -> Result<kit::Response, DeviceError> {
    let device_id = DeviceId::parse(&body.device_id)?;
    if let Some(name) = &body.name
        && (name.trim().is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control))
    {
        return Err(ValidationError::InvalidField("`name` is 1 to 64 printable characters".into()).into());
    }
    if body.name.is_none() && body.trusted.is_none() {
        return Err(ValidationError::MissingField("name or trusted".into()).into());
    }
    let db = store::open().await?;
    let name = body.name.as_deref().map(str::trim);
    let labelled = store::label_device(&db, &device_id, &member.user_id, name, body.trusted).await?;
    let store::Labelled { name, trusted } = labelled.ok_or(DeviceError::NotFound)?;
    let detail = json!({ "name": body.name.is_some(), "trusted": body.trusted });
    let actor = kit::Actor::Member(member.user_id.as_str().to_owned());
    store::audit(&db, &actor, "device.updated", device_id.as_str(), "ok", &detail).await?;
    Ok(kit::json(200, &json!({ "device_id": device_id.as_str(), "name": name, "trusted": trusted })))
}

/// `POST /internal/devices/place` (from `users`, for demographics): the
/// country and region of the member's most recently seen located device.
pub async fn place(body: PlaceOf) -> Result<kit::Response, DeviceError> {
    let user = named_user(&body.user_id)?;
    let place = store::place_of(&store::open().await?, &user).await?.unwrap_or_default();
    Ok(kit::json(200, &place))
}
