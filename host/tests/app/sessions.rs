//! Sessions through the host with the project's `spin.toml`: a probe
//! component stands in for step 3 and opens sessions by chaining to
//! `devices`; the member's client refreshes through `auth`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::harness::*;
use crate::support::*;

const USER: &str = "6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11";
const DEVICE: &str = "web-3f2a9c1e-0b7d";

fn start(policy: &str) -> TestApp {
    TestApp::spawn(Options::new().env("SPIN_VARIABLE_SESSION_POLICY", policy))
}

fn new_token() -> String {
    let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(31).wrapping_add(rand_byte()));
    format!("vrt_{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn rand_byte() -> u8 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    h.finish() as u8
}

fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Sessions opened as step 3 will, and the member's client refreshing.
trait SessionSteps {
    fn open(&self) -> (String, String);
    fn open_on(&self, device: &str) -> (String, String);
    fn revoked(&self, session: &str) -> (Option<String>, i64);
    fn rotate(&self, token: &str) -> Reply;
    fn rotate_on(&self, device: &str, token: &str) -> Reply;
    fn signed_in(&self, device: &str) -> (String, String);
}

impl SessionSteps for TestApp {
    /// Opens a session as step 3 will: returns its id and first token.
    fn open(&self) -> (String, String) {
        self.open_on(DEVICE)
    }

    fn open_on(&self, device: &str) -> (String, String) {
        let token = new_token();
        let body = json!({ "user_id": USER, "device_id": device, "amr": ["email-otp", "sms-otp", "passkey-uv"], "token_hash": hash(&token) });
        let reply = self.as_auth("devices.spin.internal/internal/sessions", &body);
        assert_eq!(reply.status, 201, "{}", reply.body);
        (reply.json()["session_id"].as_str().unwrap().to_owned(), token)
    }

    /// The revocation cache's entry for `session` and its time to live.
    fn revoked(&self, session: &str) -> (Option<String>, i64) {
        let mut redis = redis::Client::open("redis://127.0.0.1:6379").unwrap().get_connection().unwrap();
        let key = format!("{}:revoked:{session}", self.namespace);
        let value: Option<String> = redis::cmd("GET").arg(&key).query(&mut redis).unwrap();
        let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut redis).unwrap();
        (value, ttl)
    }

    /// A refresh of `token` on the session's device.
    fn rotate(&self, token: &str) -> Reply {
        self.rotate_on(DEVICE, token)
    }

    fn rotate_on(&self, device: &str, token: &str) -> Reply {
        let body = json!({ "device_id": device, "refresh_token": token });
        self.post_json("/api/auth/refresh-token", &body)
    }

    /// An access token for a new session on `device` (registered too).
    fn signed_in(&self, device: &str) -> (String, String) {
        let (session, token) = self.open_on(device);
        let ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
        let register = json!({ "user_id": USER, "device_id": device, "ip": "10.0.0.9", "user_agent": ua });
        let reply = self.as_auth("devices.spin.internal/internal/devices", &register);
        assert!(reply.status == 201 || reply.status == 200, "{}", reply.body);
        let access = self.rotate_on(device, &token).json()["access_token"].as_str().unwrap().to_owned();
        (session, format!("Bearer {access}"))
    }
}

#[test]
fn refresh_rotates_and_issues_an_access_token_for_the_session() {
    let app = start("");
    let (session, first) = app.open();
    let reply = app.rotate(&first);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!((body["token_type"].as_str(), body["expires_in"].as_i64()), (Some("Bearer"), Some(600)));
    let access = body["access_token"].as_str().unwrap();
    let c = claims(access);
    assert_eq!(
        (c["sub"].as_str(), c["sid"].as_str(), c["did"].as_str()),
        (Some(USER), Some(session.as_str()), Some(DEVICE))
    );
    assert_eq!(c["amr"], json!(["email-otp", "sms-otp", "passkey-uv"]));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(access.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    let verified = app.host().send("POST", "/api/security/verify", Some(&json!({ "token": access }).to_string()));
    assert_eq!(verified.status, 200, "{}", verified.body);

    // The new token rotates in turn; only hashes are stored.
    assert_eq!(app.rotate(&second).status, 200);
    let stored = app.db.query("SELECT encode(hash, 'base64') FROM devices.refresh_tokens");
    assert_eq!(stored.len(), 3);
    assert!(!format!("{stored:?}").contains(&first[4..]));
}

#[test]
fn concurrent_refreshes_within_the_grace_window_both_succeed() {
    let app = start("");
    let (_, first) = app.open();
    // Two tabs at the same moment, then one a little later (still in grace).
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| app.rotate(&first));
        let b = s.spawn(|| app.rotate(&first));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    let c = app.rotate(&first);
    assert_eq!(c.status, 200, "{}", c.body);
    let children = app.db.query("SELECT count(*) FROM devices.refresh_tokens WHERE parent_hash IS NOT NULL");
    assert_eq!(children[0][0].as_deref(), Some("3"));
    // Both tabs keep working.
    assert_eq!(app.rotate(a.json()["refresh_token"].as_str().unwrap()).status, 200);
    assert_eq!(app.rotate(b.json()["refresh_token"].as_str().unwrap()).status, 200);
}

#[test]
fn reuse_after_the_grace_window_revokes_the_whole_family() {
    let app = start("grace=1");
    let mut events = subscribe(&format!("{}:events", app.namespace));
    let (session, first) = app.open();
    let second = app.rotate(&first).json()["refresh_token"].as_str().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    app.rotate(&first).assert_problem(401, "refresh_token_reused");
    // The thief's replay ended the session: the member's current token too.
    app.rotate(&second).assert_problem(401, "session_revoked");
    let row = app.db.query(&format!("SELECT revoke_reason FROM devices.sessions WHERE id = '{session}'"));
    assert_eq!(row[0][0].as_deref(), Some("refresh_reuse"));
    let (reason, ttl) = app.revoked(&session);
    assert_eq!(reason.as_deref(), Some("refresh_reuse"));
    assert!((601..=660).contains(&ttl), "the token lifetime and the gateway's leeway: {ttl}");
    let kinds: Vec<String> =
        published(&mut events).iter().filter_map(|e| e["type"].as_str().map(str::to_owned)).collect();
    assert_eq!(kinds, ["session.opened", "session.refreshed", "refresh.reused", "session.revoked"]);
    let audit = app.db.query("SELECT action, outcome FROM audit.events WHERE service = 'devices' ORDER BY id");
    assert!(format!("{audit:?}").contains("refresh_reuse"), "{audit:?}");
}

#[test]
fn bad_refreshes_get_clear_problems() {
    let app = start("");
    let (_, first) = app.open();
    app.rotate(&new_token()).assert_problem(401, "refresh_token_unknown");
    app.rotate("vrt_forged").assert_problem(400, "invalid_field");
    let other_device = json!({ "device_id": "ios-other-device", "refresh_token": first });
    app.host()
        .send("POST", "/api/auth/refresh-token", Some(&other_device.to_string()))
        .assert_problem(401, "device_mismatch");
    // Neither a cookie nor a token in the body: nobody is signed in here.
    let none = json!({ "device_id": DEVICE });
    let anonymous = app.host().send("POST", "/api/auth/refresh-token", Some(&none.to_string()));
    anonymous.assert_problem(401, "refresh_token_missing");
    app.host().send("POST", "/api/auth/logout", Some(&none.to_string())).assert_problem(401, "refresh_token_missing");
    let extra = json!({ "device_id": DEVICE, "refresh_token": first, "admin": true });
    app.host().send("POST", "/api/auth/refresh-token", Some(&extra.to_string())).assert_problem(400, "unknown_field");
    // The refused attempts changed nothing: the token still rotates.
    assert_eq!(app.rotate(&first).status, 200);
}

#[test]
fn browsers_refresh_with_an_http_only_strict_cookie() {
    let app = start("");
    let (_, first) = app.open();
    let cookie = format!("__Host-vottery-refresh={first}");
    let body = json!({ "device_id": DEVICE }).to_string();
    // Another site's page, or a request that shows no origin at all, may
    // not use the cookie; nothing changes.
    for refused in [
        vec![("cookie", cookie.as_str()), ("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")],
        vec![("cookie", cookie.as_str()), ("origin", "null")],
        vec![("cookie", cookie.as_str())],
    ] {
        let reply = app.host().send_with("POST", "/api/auth/refresh-token", Some(&body), &refused);
        reply.assert_problem(403, "csrf_origin_refused");
        app.host()
            .send_with("POST", "/api/auth/logout", Some(&body), &refused)
            .assert_problem(403, "csrf_origin_refused");
    }
    let same_origin = [("cookie", cookie.as_str()), ("sec-fetch-site", "same-origin")];
    let reply = app.host().send_with("POST", "/api/auth/refresh-token", Some(&body), &same_origin);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.json().get("refresh_token").is_none(), "a browser never sees the token");
    let set = reply.header("set-cookie").unwrap().to_owned();
    for attribute in ["__Host-vottery-refresh=vrt_", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    let next = set.split(';').next().unwrap().to_owned();
    let own_origin = app.host().base.clone();
    let again = app.host().send_with(
        "POST",
        "/api/auth/refresh-token",
        Some(&body),
        &[("cookie", &next), ("origin", &own_origin)],
    );
    assert_eq!(again.status, 200, "{}", again.body);
}

#[test]
fn logout_ends_the_session_at_once_and_is_idempotent() {
    let app = start("");
    let (session, first) = app.open();
    let current = app.rotate(&first).json()["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(app.revoked(&session).0, None);
    let logout = |device: &str| {
        let body = json!({ "device_id": device, "refresh_token": current });
        app.host().send("POST", "/api/auth/logout", Some(&body.to_string()))
    };
    logout("ios-other-device").assert_problem(401, "device_mismatch");
    let out = logout(DEVICE);
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let (reason, ttl) = app.revoked(&session);
    assert_eq!(reason.as_deref(), Some("logout"));
    assert!((601..=660).contains(&ttl), "the token lifetime and the gateway's leeway: {ttl}");
    app.rotate(&current).assert_problem(401, "session_revoked");
    assert_eq!(logout(DEVICE).status, 200, "a second logout answers the same");
    let revocations = app.db.query("SELECT count(*) FROM audit.events WHERE action = 'session.revoked'");
    assert_eq!(revocations[0][0].as_deref(), Some("1"));
}

#[test]
fn the_gateway_admits_live_sessions_only_and_passes_the_identity_on() {
    let app = start("");
    let (session, first) = app.open();
    let refreshed = app.rotate(&first).json();
    let access = refreshed["access_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {access}");
    let get = |path: &str, headers: &[(&str, &str)]| app.host().send_with("GET", path, None, headers);

    let me = get("/api/sessions/current", &[("authorization", &bearer), ("vottery-user", "someone-else")]);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json(),
        json!({ "user_id": USER, "session_id": session, "device_id": DEVICE }),
        "a client cannot set the identity"
    );
    let list = get("/api/sessions", &[("authorization", &bearer)]).json();
    assert_eq!(list["sessions"][0]["session_id"], session.as_str());
    assert_eq!(list["sessions"][0]["current"], true);

    let missing = get(
        "/api/sessions/current",
        &[("vottery-user", USER), ("vottery-session", &session), ("vottery-device", DEVICE)],
    );
    missing.assert_problem(401, "token_missing");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    let mut tampered = access.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    get("/api/sessions/current", &[("authorization", &format!("Bearer {tampered}"))])
        .assert_problem(401, "token_invalid");
    get("/api/sessions/current", &[("authorization", "Bearer not.a.token")]).assert_problem(401, "token_invalid");
    assert_eq!(get("/api/devices/health", &[]).status, 200, "health needs no token");

    // Logout: the same access token is refused on the next request.
    let body = json!({ "device_id": DEVICE, "refresh_token": refreshed["refresh_token"] });
    assert_eq!(app.host().send("POST", "/api/auth/logout", Some(&body.to_string())).status, 200);
    get("/api/sessions/current", &[("authorization", &bearer)]).assert_problem(401, "session_revoked");
}

#[test]
fn members_manage_their_sessions_and_devices() {
    let app = start("");
    let (first, me) = app.signed_in(DEVICE);
    let (second, phone) = app.signed_in("android-device-02");

    let devices = app.as_member(&me, "GET", "/api/devices/list", None).json();
    assert_eq!(devices["devices"].as_array().unwrap().len(), 2, "{devices}");
    let update = json!({ "device_id": "android-device-02", "name": "Work phone", "trusted": true });
    let updated = app.as_member(&me, "PUT", "/api/devices/update", Some(&update));
    assert_eq!(updated.json(), json!({ "device_id": "android-device-02", "name": "Work phone", "trusted": true }));
    let nobody = json!({ "device_id": "nobodys-device-1", "trusted": true });
    app.as_member(&me, "PUT", "/api/devices/update", Some(&nobody)).assert_problem(404, "device_not_found");
    let bad = json!({ "device_id": "android-device-02", "name": "" });
    app.as_member(&me, "PUT", "/api/devices/update", Some(&bad)).assert_problem(400, "invalid_field");

    // One session ended from another: its access token stops at once.
    let ended = app.as_member(&me, "DELETE", &format!("/api/sessions/{second}"), None);
    assert_eq!(ended.status, 200, "{}", ended.body);
    app.as_member(&phone, "GET", "/api/sessions/current", None).assert_problem(401, "session_revoked");
    let stranger = "00000000-0000-4000-8000-000000000000";
    app.as_member(&me, "DELETE", &format!("/api/sessions/{stranger}"), None).assert_problem(404, "session_not_found");

    // Every other session ends; this one lives.
    let (third, tablet) = app.signed_in("tablet-device-03");
    let others = app.as_member(&me, "POST", "/api/sessions/revoke-others", None).json();
    assert_eq!(others["revoked"], json!([third]));
    app.as_member(&tablet, "GET", "/api/sessions/current", None).assert_problem(401, "session_revoked");
    assert_eq!(app.as_member(&me, "GET", "/api/sessions/current", None).status, 200);

    // Removing a device ends its sessions, this one included.
    let removed = app.as_member(&me, "DELETE", &format!("/api/devices/{DEVICE}"), None).json();
    assert_eq!(removed["revoked_sessions"], json!([first]));
    app.as_member(&me, "GET", "/api/sessions/current", None).assert_problem(401, "session_revoked");
}

#[test]
fn members_are_rate_limited_per_address_and_per_member() {
    rate_limits_per_address_and_per_member(Mode::Reuse);
}

#[test]
fn fresh_instances_charge_the_member_of_a_token_verified_elsewhere() {
    rate_limits_per_address_and_per_member(Mode::PerRequest);
}

fn rate_limits_per_address_and_per_member(mode: Mode) {
    let app = TestApp::spawn(
        Options::new()
            .mode(mode)
            .envs(&[("SPIN_VARIABLE_RATE_LIMITS", "read=3/60"), ("SPIN_VARIABLE_TRUSTED_PROXIES", "127.0.0.1")]),
    );
    let (_, bearer) = app.signed_in("android-device-01");
    let read = |from: &str| {
        app.host().send_with(
            "GET",
            "/api/sessions/current",
            None,
            &[("authorization", &bearer), ("x-forwarded-for", from)],
        )
    };
    for left in (0..3).rev() {
        let reply = read("203.0.113.1");
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.header("ratelimit-policy"), Some("\"read\";q=3;w=60"));
        assert!(
            reply.header("ratelimit").unwrap().starts_with(&format!("\"read\";r={left};")),
            "{:?}",
            reply.header("ratelimit")
        );
    }
    let refused = read("203.0.113.1");
    refused.assert_problem(429, "rate_limited");
    assert!(refused.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Another address: its own bucket is full, but the member's is spent.
    read("198.51.100.2").assert_problem(429, "rate_limited");
    // Another member from that other address is served.
    let other = app.host().send_with("GET", "/api/sessions/current", None, &[("x-forwarded-for", "198.51.100.2")]);
    other.assert_problem(401, "token_missing");
    let mut redis = redis::Client::open("redis://127.0.0.1:6379").unwrap().get_connection().unwrap();
    let refusals: i64 = redis::cmd("HGET")
        .arg(format!("{}:metrics:rate_limited", app.namespace))
        .arg("read")
        .query(&mut redis)
        .unwrap();
    assert_eq!(refusals, 2);
}

#[test]
fn a_valid_token_is_served_while_the_cached_key_set_is_being_refreshed() {
    let app = start("");
    let (_, bearer) = app.signed_in("android-device-01");
    // The key set's minute in Redis is over, and another instance has just
    // taken the turn to fetch it for an unknown `kid`.
    let mut redis = redis::Client::open("redis://127.0.0.1:6379").unwrap().get_connection().unwrap();
    let _: () = redis::cmd("DEL").arg(format!("{}:gateway:jwks", app.namespace)).query(&mut redis).unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!("{}:gateway:jwks-miss", app.namespace))
        .arg("1")
        .arg("EX")
        .arg(10)
        .query(&mut redis)
        .unwrap();
    let me = app.as_member(&bearer, "GET", "/api/sessions/current", None);
    assert_eq!(me.status, 200, "{}", me.body);
}

/// The verified-token entries a namespace holds, with their times to live.
fn verified_entries(app: &TestApp) -> Vec<(String, i64)> {
    let mut redis = redis::Client::open("redis://127.0.0.1:6379").unwrap().get_connection().unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}:gateway:verified:*", app.namespace)).query(&mut redis).unwrap();
    keys.into_iter()
        .map(|key| {
            let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut redis).unwrap();
            (key, ttl)
        })
        .collect()
}

/// A key set in Redis that lacks every key, and the turn to fetch another
/// taken: a token whose signature had to be checked now would be refused.
fn hide_the_key_set(app: &TestApp) {
    let mut redis = redis::Client::open("redis://127.0.0.1:6379").unwrap().get_connection().unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!("{}:gateway:jwks", app.namespace))
        .arg(r#"{"keys":[]}"#)
        .query(&mut redis)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!("{}:gateway:jwks-miss", app.namespace))
        .arg("1")
        .arg("EX")
        .arg(60)
        .query(&mut redis)
        .unwrap();
}

#[test]
fn a_token_verified_once_is_taken_from_its_entry_by_a_fresh_instance_until_it_expires() {
    let app = TestApp::spawn(Options::new().mode(Mode::PerRequest));
    let (_, bearer) = app.signed_in("android-device-01");
    let first = app.as_member(&bearer, "GET", "/api/sessions/current", None);
    assert_eq!(first.status, 200, "{}", first.body);
    let entries = verified_entries(&app);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let exp = claims(&bearer)["exp"].as_i64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let until = exp + 60 - now;
    assert!((until - 5..=until).contains(&entries[0].1), "lives until exp and the leeway: {entries:?}, {until}");

    hide_the_key_set(&app);
    let again = app.as_member(&bearer, "GET", "/api/sessions/current", None);

    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json(), first.json());
}

#[test]
fn an_altered_token_is_refused_by_a_fresh_instance_though_the_original_has_an_entry() {
    let app = TestApp::spawn(Options::new().mode(Mode::PerRequest));
    let (_, bearer) = app.signed_in("android-device-01");
    assert_eq!(app.as_member(&bearer, "GET", "/api/sessions/current", None).status, 200);
    let [head, claims, signature]: [&str; 3] = bearer.split('.').collect::<Vec<_>>().try_into().unwrap();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    payload["roles"] = json!(["admin"]);
    let forged = format!("{head}.{}.{signature}", URL_SAFE_NO_PAD.encode(payload.to_string()));
    let resigned = format!("{head}.{claims}.{}A", &signature[..signature.len() - 1]);

    let forged_reply = app.as_member(&forged, "GET", "/api/sessions/current", None);
    let resigned_reply = app.as_member(&resigned, "GET", "/api/sessions/current", None);

    forged_reply.assert_problem(401, "token_invalid");
    if resigned != bearer {
        resigned_reply.assert_problem(401, "token_invalid");
    }
    assert_eq!(verified_entries(&app).len(), 1, "only the genuine token has an entry");
}

#[test]
fn a_revoked_sessions_token_is_refused_by_a_fresh_instance_though_it_has_an_entry() {
    let app = TestApp::spawn(Options::new().mode(Mode::PerRequest));
    let (_, me) = app.signed_in(DEVICE);
    let (phone_session, phone) = app.signed_in("android-device-02");
    assert_eq!(app.as_member(&phone, "GET", "/api/sessions/current", None).status, 200);
    assert_eq!(verified_entries(&app).len(), 1);

    let ended = app.as_member(&me, "DELETE", &format!("/api/sessions/{phone_session}"), None);
    assert_eq!(ended.status, 200, "{}", ended.body);
    let after = app.as_member(&phone, "GET", "/api/sessions/current", None);

    after.assert_problem(401, "session_revoked");
}

#[test]
fn a_revoked_sessions_token_stays_refused_after_redis_loses_everything() {
    let port = free_port();
    let mut redis = redis_server(port);
    let url = format!("redis://127.0.0.1:{port}");
    let app = TestApp::spawn(Options::new().env("SPIN_VARIABLE_REDIS_URL", &url));
    let (_, me) = app.signed_in(DEVICE);
    let (phone_session, phone) = app.signed_in("android-device-02");
    let ended = app.as_member(&me, "DELETE", &format!("/api/sessions/{phone_session}"), None);
    assert_eq!(ended.status, 200, "{}", ended.body);
    let entry = format!("{}:revoked:{phone_session}", app.namespace);
    let marker = format!("{}:revocations:warm", app.namespace);

    // Redis restarts empty: the users service's gateway finds no marker and
    // rebuilds from PostgreSQL with the users role.
    redis.kill().unwrap();
    redis.wait().unwrap();
    redis = redis_server(port);
    // The host's pooled connections to the old server fail once (503).
    let mut first = app.as_member(&phone, "GET", "/api/users/profile", None);
    for _ in 0..40 {
        if first.status != 503 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        first = app.as_member(&phone, "GET", "/api/users/profile", None);
    }
    first.assert_problem(401, "session_revoked");
    let mut conn = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let rebuilt: Option<String> = redis::cmd("GET").arg(&entry).query(&mut conn).unwrap();
    let ttl: i64 = redis::cmd("TTL").arg(&entry).query(&mut conn).unwrap();
    let warm: i64 = redis::cmd("EXISTS").arg(&marker).query(&mut conn).unwrap();
    assert_eq!((rebuilt.as_deref(), warm), (Some("rebuilt"), 1));
    assert!((3600..=3660).contains(&ttl), "the entry outlives every token of the session: {ttl}");
    let live = app.as_member(&me, "GET", "/api/sessions/current", None);
    assert_eq!(live.status, 200, "{}", live.body);

    // Flushed: the devices service's gateway rebuilds with its own role.
    let _: () = redis::cmd("FLUSHALL").query(&mut conn).unwrap();
    app.as_member(&phone, "GET", "/api/sessions/current", None).assert_problem(401, "session_revoked");
    assert_eq!(app.as_member(&me, "GET", "/api/sessions/current", None).status, 200);

    // Flushed again with PostgreSQL refusing the read: a miss is not trusted.
    let _: () = redis::cmd("FLUSHALL").query(&mut conn).unwrap();
    app.db.query("REVOKE EXECUTE ON FUNCTION devices.recent_revocations(bigint) FROM vottery_devices");
    app.as_member(&me, "GET", "/api/sessions/current", None).assert_problem(503, "gateway_unavailable");
    app.db.query("GRANT EXECUTE ON FUNCTION devices.recent_revocations(bigint) TO vottery_devices");
    app.as_member(&phone, "GET", "/api/sessions/current", None).assert_problem(401, "session_revoked");
    let _ = redis.kill();
    let _ = redis.wait();
}
