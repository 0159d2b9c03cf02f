//! Device registration through the host with the project's `spin.toml`: a
//! probe stands in for `auth` in step 3 and chains to `devices`; the outbox
//! answers geolocation from the MaxMind test database.

use serde_json::{Value, json};
use vottery_outbox::Credentials;

use crate::harness::*;
use crate::support::*;

const USER: &str = "6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11";
const OTHER: &str = "0b7e3d2a-1c4f-4e5a-9b8c-7d6e5f4a3b2c";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1";
const LONDON: &str = "81.2.69.160";

/// The app with the probe, geolocation at `geo` and the fingerprint key
/// `fingerprint_key`.
fn start(geo: &str, fingerprint_key: &str) -> TestApp {
    TestApp::spawn(
        Options::new().envs(&[("SPIN_VARIABLE_GEO_API_BASE", geo), ("SPIN_VARIABLE_FINGERPRINT_KEY", fingerprint_key)]),
    )
}

fn geo() -> String {
    let database = workspace().join("../shared/testdata/geoip/GeoIP2-City-Test.mmdb");
    assert!(database.exists(), "{} is missing", database.display());
    vottery_outbox::spawn(Credentials { geoip: Some(database), ..Credentials::default() }).0
}

const KEY: &str = "a-fingerprint-key-of-at-least-32-bytes";

/// A device registered as `auth` does in step 3.
trait Register {
    fn register(&self, body: &Value) -> Reply;
}

impl Register for TestApp {
    fn register(&self, body: &Value) -> Reply {
        self.as_auth("devices.spin.internal/internal/devices", body)
    }
}

fn iphone(user: &str, device: &str, ip: &str) -> Value {
    json!({ "user_id": user, "device_id": device, "ip": ip, "user_agent": IPHONE, "report": { "max_touch_points": 5 } })
}

#[test]
fn a_device_is_classified_located_fingerprinted_and_kept_to_its_member() {
    let app = start(&geo(), KEY);
    let mut events = subscribe(&format!("{}:events", app.namespace));
    let first = app.register(&iphone(USER, "ios-device-0001", LONDON));
    assert_eq!(first.status, 201, "{}", first.body);
    let d = first.json();
    assert_eq!(
        (d["kind"].as_str(), d["os"]["name"].as_str(), d["os"]["version"].as_str()),
        (Some("ios"), Some("iOS"), Some("17.1.2"))
    );
    assert_eq!((d["browser"]["name"].as_str(), d["model"].as_str()), (Some("Safari"), Some("iPhone")));
    assert_eq!(
        (d["country"].as_str(), d["region"].as_str(), d["city"].as_str()),
        (Some("GB"), Some("England"), Some("London"))
    );
    assert_eq!(d["trusted"], false);

    // Seen again (a newer Safari): same fingerprint, first seen kept.
    let newer = IPHONE.replace("Version/17.1.2", "Version/17.2");
    let mut again = iphone(USER, "ios-device-0001", "10.0.0.7");
    again["user_agent"] = Value::from(newer);
    let second = app.register(&again);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.json()["fingerprint"], d["fingerprint"]);
    assert_eq!(second.json()["first_seen_at"], d["first_seen_at"]);
    assert_eq!(second.json()["country"], Value::Null, "a private address is not located");

    // The same device id for another member.
    app.register(&iphone(OTHER, "ios-device-0001", LONDON)).assert_problem(409, "device_of_another_member");
    let owner = app.db.query("SELECT user_id::text, last_ip FROM devices.devices");
    assert_eq!(owner, vec![vec![Some(USER.to_owned()), Some("10.0.0.7".to_owned())]]);
    let registered: Vec<Value> = published(&mut events)
        .into_iter()
        .filter(|e| e["type"] == "device.registered" && e["device_id"] == "ios-device-0001")
        .collect();
    assert_eq!(registered.len(), 1, "{registered:?}");
    assert_eq!((registered[0]["kind"].as_str(), registered[0]["country"].as_str()), (Some("ios"), Some("GB")));
    let audit = app.db.query("SELECT count(*) FROM audit.events WHERE action = 'device.registered'");
    assert_eq!(audit[0][0].as_deref(), Some("1"));
}

#[test]
fn registration_survives_a_geolocation_outage_and_refuses_bad_input() {
    // Nothing listens on this port: no location, still registered.
    let dead = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let app = start(&dead, KEY);
    let reply = app.register(&iphone(USER, "ios-device-0002", LONDON));
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["country"], Value::Null);

    app.register(&iphone(USER, "bad id!", LONDON)).assert_problem(400, "invalid_field");
    app.register(&iphone("not-a-user", "ios-device-0003", LONDON)).assert_problem(400, "invalid_field");
    app.register(&iphone(USER, "ios-device-0003", "999.1.1.1")).assert_problem(400, "invalid_field");
    let mut extra = iphone(USER, "ios-device-0003", LONDON);
    extra["gpu"] = Value::from("x");
    app.register(&extra).assert_problem(400, "unknown_field");

    let unkeyed = start(&dead, "");
    unkeyed.register(&iphone(USER, "ios-device-0004", LONDON)).assert_problem(503, "misconfigured");
}

#[test]
fn a_sign_in_records_the_sighting_with_its_session_on_the_members_device_only() {
    let app = start(&geo(), KEY);
    assert_eq!(app.register(&iphone(USER, "ios-device-0003", "10.0.0.7")).status, 201);
    let open = |user: &str, device: &str, hash: &str| {
        let newer = IPHONE.replace("OS 17_1_2", "OS 17_4");
        let seen = json!({ "ip": LONDON, "user_agent": newer, "report": { "max_touch_points": 5 } });
        let body =
            json!({ "user_id": user, "device_id": device, "amr": ["passkey-uv"], "token_hash": hash, "seen": seen });
        app.as_auth("devices.spin.internal/internal/sessions", &body)
    };
    let written = "SELECT (SELECT count(*) FROM devices.sessions) || '/' || (SELECT count(*) FROM devices.refresh_tokens) \
                   || '/' || (SELECT count(*) FROM audit.events WHERE action = 'session.opened')";

    // The member's registered device: seen again and a session, together.
    let opened = open(USER, "ios-device-0003", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
    assert_eq!(opened.status, 201, "{}", opened.body);
    let device = app.db.query("SELECT os_version, last_ip, country, city FROM devices.devices");
    assert_eq!(
        device[0].iter().map(|c| c.as_deref()).collect::<Vec<_>>(),
        [Some("17.4"), Some(LONDON), Some("GB"), Some("London")]
    );
    assert_eq!(app.db.query(written)[0][0].as_deref(), Some("1/1/1"));

    // Another member's device, or one never registered: nothing written.
    open(OTHER, "ios-device-0003", "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8")
        .assert_problem(409, "device_not_registered");
    open(USER, "ios-device-9999", "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8")
        .assert_problem(409, "device_not_registered");
    assert_eq!(app.db.query(written)[0][0].as_deref(), Some("1/1/1"));
    assert_eq!(app.db.query("SELECT user_id::text, last_ip FROM devices.devices")[0][1].as_deref(), Some(LONDON));
    assert_eq!(app.db.query("SELECT audit.first_broken_link()")[0][0], None);
}
