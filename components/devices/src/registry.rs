//! `POST /internal/devices` (from `auth`, during step 3): registers or
//! refreshes a member's device: classified from its user-agent, client
//! hints and report, located by the geolocation API, fingerprinted with a
//! keyed hash of its stable attributes.

use futures::future::{Either, select};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::pg::{Connection, DbValue, Decode, ParameterValue};
use spin_sdk::wasip3::clocks::monotonic_clock;
use vottery_component_kit::contracts::devices::{
    ClientHints, Place, PlaceOf, RegisterDevice, RegisteredDevice, Sighting, Software,
};
use vottery_component_kit::crypto::digest;
use vottery_component_kit::{self as kit};
use vottery_devices_core::{DeviceError, Report, classify, fingerprint_material};
use vottery_sessions_core::DeviceId;
use vottery_validate::ValidationError;

use crate::member::Member;

/// How long the geolocation API may take before the device is registered
/// without a location.
const GEO_TIMEOUT_NS: u64 = 2_000_000_000;

fn storage(e: impl std::fmt::Debug) -> DeviceError {
    DeviceError::Storage(format!("{e:?}"))
}

fn column<T: Decode>(row: &[DbValue], i: usize) -> Result<T, DeviceError> {
    vottery_component_kit::pg::column(row, i).map_err(DeviceError::Storage)
}

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
    /// kind, os, os_version, browser, browser_version, model, fingerprint,
    /// last_ip, country, region, city: the columns a sighting writes.
    pub fn columns(&self) -> Vec<ParameterValue> {
        let text = |v: &Value| v.as_str().map_or(ParameterValue::DbNull, |s| ParameterValue::Str(s.to_owned()));
        let opt = |v: Option<&str>| v.map_or(ParameterValue::DbNull, |s| ParameterValue::Str(s.to_owned()));
        let d = &self.device;
        vec![
            text(&self.kind),
            opt(d.os.as_ref().map(|o| o.name)),
            opt(d.os.as_ref().and_then(|o| o.version.as_deref())),
            opt(d.browser.as_ref().map(|b| b.name)),
            opt(d.browser.as_ref().and_then(|b| b.version.as_deref())),
            opt(d.model.as_deref()),
            ParameterValue::Binary(self.fingerprint.clone()),
            ParameterValue::Str(self.ip.to_string()),
            text(&self.place["country"]),
            text(&self.place["region"]),
            text(&self.place["city"]),
        ]
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

pub async fn register(body: RegisterDevice) -> Result<kit::Response, DeviceError> {
    let (user_id, device_id, seen) = body.into_parts();
    register_seen(&user_id, &device_id, &seen).await
}

/// Registers the device, or updates it if it is already the member's.
async fn register_seen(user_id: &str, device_id: &str, seen: &Sighting) -> Result<kit::Response, DeviceError> {
    let device_id = DeviceId::parse(device_id)?;
    if !crate::member::valid_user(user_id) {
        return Err(ValidationError::InvalidField("`user_id` is not a user id".into()).into());
    }
    let observed = observe(seen).await?;
    let db = member_db().await?;
    let now = kit::now();
    let mut params = vec![ParameterValue::Str(device_id.as_str().to_owned()), ParameterValue::Str(user_id.to_owned())];
    params.extend(observed.columns());
    params.push(ParameterValue::Int64(now));
    let rows = kit::pg::rows(
        &db,
        "INSERT INTO devices.devices (device_id, user_id, kind, os, os_version, browser, browser_version, model, \
             fingerprint, last_ip, country, region, city, first_seen_at, last_seen_at) \
             VALUES ($1, $2::text::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, to_timestamp($14::bigint), \
             to_timestamp($14::bigint)) \
             ON CONFLICT (device_id) DO UPDATE SET kind = EXCLUDED.kind, os = EXCLUDED.os, \
             os_version = EXCLUDED.os_version, browser = EXCLUDED.browser, \
             browser_version = EXCLUDED.browser_version, model = EXCLUDED.model, \
             fingerprint = EXCLUDED.fingerprint, last_ip = EXCLUDED.last_ip, country = EXCLUDED.country, \
             region = EXCLUDED.region, city = EXCLUDED.city, last_seen_at = EXCLUDED.last_seen_at \
             WHERE devices.devices.user_id = EXCLUDED.user_id \
             RETURNING (xmax = 0), extract(epoch FROM first_seen_at)::bigint, trusted, name",
        params,
    )
    .await
    .map_err(storage)?;
    let row = rows.first().ok_or(DeviceError::OtherMember)?;
    let (created, first_seen): (bool, i64) = (column(row, 0)?, column(row, 1)?);
    let (trusted, name): (bool, Option<String>) = (column(row, 2)?, column(row, 3)?);
    let Observed { kind, device, fingerprint, place, .. } = observed;
    if created {
        let detail = json!({ "kind": kind, "country": place["country"] });
        kit::pg::audit(
            &db,
            &kit::Actor::Member(user_id.to_owned()),
            "device.registered",
            device_id.as_str(),
            "ok",
            &detail,
        )
        .await
        .map_err(storage)?;
        let event = json!({ "device_id": device_id.as_str(), "kind": kind, "country": place["country"] });
        crate::cache::publish("device.registered", event).await;
    }
    let software = |s: vottery_devices_core::Software| Software { name: s.name.to_owned(), version: s.version };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let answer = RegisteredDevice {
        device_id: device_id.as_str().to_owned(),
        kind: text(&kind).unwrap_or_default(),
        os: device.os.map(software),
        browser: device.browser.map(software),
        model: device.model,
        country: text(&place["country"]),
        region: text(&place["region"]),
        city: text(&place["city"]),
        fingerprint: vottery_validate::encode_base64url(&fingerprint),
        first_seen_at: first_seen,
        last_seen_at: now,
        trusted,
        name,
    };
    Ok(kit::json(if created { 201 } else { 200 }, &answer))
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
    register_seen(&member.user_id, &member.device_id, &seen).await
}

async fn member_db() -> Result<Connection, DeviceError> {
    kit::pg::open().await.map_err(DeviceError::Storage)
}

/// `GET /api/devices/list`: the member's devices, last seen first.
pub async fn list(member: &Member) -> Result<kit::Response, DeviceError> {
    let db = member_db().await?;
    let found = kit::pg::rows(
        &db,
        "SELECT device_id, kind, os, os_version, browser, browser_version, model, country, region, city, name, \
         trusted, extract(epoch FROM first_seen_at)::bigint, extract(epoch FROM last_seen_at)::bigint \
         FROM devices.devices WHERE user_id = $1::text::uuid ORDER BY last_seen_at DESC",
        vec![ParameterValue::Str(member.user_id.clone())],
    )
    .await
    .map_err(storage)?;
    let devices = found
        .iter()
        .map(|r| {
            let text = |i| column::<Option<String>>(r, i);
            let id: String = column(r, 0)?;
            Ok(json!({
                "device_id": id, "current": id == member.device_id, "kind": column::<String>(r, 1)?,
                "os": text(2)?, "os_version": text(3)?, "browser": text(4)?, "browser_version": text(5)?,
                "model": text(6)?, "country": text(7)?, "region": text(8)?, "city": text(9)?, "name": text(10)?,
                "trusted": column::<bool>(r, 11)?, "first_seen_at": column::<i64>(r, 12)?,
                "last_seen_at": column::<i64>(r, 13)?,
            }))
        })
        .collect::<Result<Vec<_>, DeviceError>>()?;
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
    let db = member_db().await?;
    let updated = kit::pg::rows(
        &db,
        "UPDATE devices.devices SET name = coalesce($3, name), trusted = coalesce($4, trusted) \
         WHERE device_id = $1 AND user_id = $2::text::uuid RETURNING name, trusted",
        vec![
            ParameterValue::Str(device_id.as_str().to_owned()),
            ParameterValue::Str(member.user_id.clone()),
            body.name.as_ref().map_or(ParameterValue::DbNull, |n| ParameterValue::Str(n.trim().to_owned())),
            body.trusted.map_or(ParameterValue::DbNull, ParameterValue::Boolean),
        ],
    )
    .await
    .map_err(storage)?;
    let row = updated.first().ok_or(DeviceError::NotFound)?;
    let (name, trusted): (Option<String>, bool) = (column(row, 0)?, column(row, 1)?);
    let detail = json!({ "name": body.name.is_some(), "trusted": body.trusted });
    kit::pg::audit(
        &db,
        &kit::Actor::Member(member.user_id.clone()),
        "device.updated",
        device_id.as_str(),
        "ok",
        &detail,
    )
    .await
    .map_err(storage)?;
    Ok(kit::json(200, &json!({ "device_id": device_id.as_str(), "name": name, "trusted": trusted })))
}

/// `POST /internal/devices/place` (from `users`, for demographics): the
/// country and region of the member's most recently seen located device.
pub async fn place(body: PlaceOf) -> Result<kit::Response, DeviceError> {
    if !crate::member::valid_user(&body.user_id) {
        return Err(ValidationError::InvalidField("`user_id` is not a user id".into()).into());
    }
    let rows = kit::pg::rows(
        &member_db().await?,
        "SELECT country, region FROM devices.devices WHERE user_id = $1::text::uuid AND country IS NOT NULL \
         ORDER BY last_seen_at DESC LIMIT 1",
        vec![ParameterValue::Str(body.user_id)],
    )
    .await
    .map_err(storage)?;
    let place = match rows.first() {
        Some(row) => Place { country: column(row, 0)?, region: column(row, 1)? },
        None => Place::default(),
    };
    Ok(kit::json(200, &place))
}
