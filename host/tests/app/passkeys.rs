//! Step 3 end to end through the host with the project's `spin.toml`: steps
//! 1-2 with the outbox, then a passkey made by the software authenticator
//! of `vottery-passkeys-core` (real attestation and assertion objects),
//! the device registered, a session opened and its tokens used.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use vottery_passkeys_core::soft::{Algorithm, Format, SoftAuthenticator};

use crate::harness::*;
use crate::support::*;

const ADA: (&str, &str) = ("ada@example.com", "+447912345678");
const GRACE: (&str, &str) = ("grace@example.com", "+16502530000");
const FP: &str = "FA:C6:17:45:DC:09:03:78:6F:B9:ED:E6:2A:96:2B:39:9F:73:48:F0:BB:6F:89:9B:83:32:66:75:91:03:3B:9C";

/// The app with the probe, the code policy `policy`, and the native apps'
/// associations.
fn start_with(mode: Mode, policy: &str) -> TestApp {
    let android = format!(r#"[{{"package_name":"app.vottery","sha256_cert_fingerprints":["{FP}"]}}]"#);
    TestApp::spawn(
        Options::new()
            .mode(mode)
            .env("SPIN_VARIABLE_OTP_POLICY", policy)
            .env("SPIN_VARIABLE_ANDROID_APPS", &android)
            .env("SPIN_VARIABLE_APPLE_APP_IDS", "ABCDE12345.app.vottery"),
    )
}

fn start() -> TestApp {
    start_with(Mode::Reuse, "")
}

#[test]
fn step_three_enrols_a_passkey_then_the_member_returns_with_it() {
    for (mode, algorithm, format) in
        [(Mode::Reuse, Algorithm::Es256, Format::None), (Mode::PerRequest, Algorithm::EdDsa, Format::Packed)]
    {
        let app = start_with(mode, "");
        let mut events = subscribe(&format!("{}:events", app.namespace));
        let token = app.enrolment_token(ADA);
        let device = "ios-7d1e5a20-4c3b";

        let options = app.enrol_options(&token, device);
        assert_eq!(options.status, 200, "{}", options.body);
        let public_key = &options.json()["publicKey"];
        assert_eq!(public_key["rp"]["id"], RP);
        assert_eq!(public_key["authenticatorSelection"]["userVerification"], "required");
        assert_eq!(public_key["attestation"], "none");
        let mut auth = SoftAuthenticator::new(algorithm, [3; 32], RP, ORIGIN);
        let credential = auth.register(public_key, format);
        let enrolled = app.post(
            "/api/auth/capture-biometric",
            &json!({ "credential": credential, "device": { "native_app": true } }),
        );
        assert_eq!(enrolled.status, 201, "{mode:?} {}", enrolled.body);
        let answer = enrolled.json();
        let access = answer["access_token"].as_str().unwrap();
        let granted = claims(access);
        assert_eq!(granted["amr"], json!(["email-otp", "sms-otp", "passkey-uv"]));
        assert_eq!(granted["did"].as_str(), Some(device));
        assert_eq!((&granted["sid"], &granted["sub"]), (&answer["session_id"], &answer["user_id"]));
        let expected = if algorithm == Algorithm::Es256 { "ES256" } else { "EdDSA" };
        assert_eq!(answer["passkey"]["algorithm"], expected);
        assert_eq!(answer["passkey"]["credential_id"], auth.credential_id_b64());

        // The access token opens the member's routes; the refresh token rotates.
        let current = app.host().send_with(
            "GET",
            "/api/sessions/current",
            None,
            &[("authorization", &format!("Bearer {access}"))],
        );
        assert_eq!(current.status, 200, "{}", current.body);
        let refreshed = app
            .post("/api/auth/refresh-token", &json!({ "device_id": device, "refresh_token": answer["refresh_token"] }));
        assert_eq!(refreshed.status, 200, "{}", refreshed.body);

        // The member's current device, seen again.
        let seen = app.host().send_with(
            "POST",
            "/api/devices/register",
            Some(r#"{"device": {"max_touch_points": 5}}"#),
            &[("authorization", &format!("Bearer {access}")), ("user-agent", IPHONE)],
        );
        assert_eq!((seen.status, seen.json()["device_id"].as_str()), (200, Some(device)), "{}", seen.body);

        // Stored: the credential (no biometric), the device, the session.
        let stored = app.db.query(
            "SELECT algorithm, attestation, sign_count::text, device_id, array_to_string(transports, ','), aaguid \
             FROM auth.passkeys",
        );
        let attestation = if format == Format::None { "none" } else { "packed-self" };
        assert_eq!(stored[0][0].as_deref(), Some(expected));
        assert_eq!(stored[0][1].as_deref(), Some(attestation));
        assert_eq!((stored[0][2].as_deref(), stored[0][3].as_deref()), (Some("1"), Some(device)));
        assert_eq!(stored[0][4].as_deref(), Some("hybrid,internal"));
        let registered = app.db.query("SELECT kind, os FROM devices.devices");
        assert_eq!((registered[0][0].as_deref(), registered[0][1].as_deref()), (Some("ios"), Some("iOS")));

        // Returning on the known device: the passkey alone.
        let user = user_handle(answer["user_id"].as_str().unwrap());
        let back = app.sign_in(device, &mut auth, &user);
        assert_eq!(back.status, 201, "{}", back.body);
        assert_eq!(claims(back.json()["access_token"].as_str().unwrap())["amr"], json!(["passkey-uv"]));
        assert_eq!(app.db.query("SELECT sign_count::text FROM auth.passkeys")[0][0].as_deref(), Some("2"));
        // The sign-in's sighting of the device went with its session.
        let sessions = app.db.query(
            "SELECT count(*)::text, (SELECT last_seen_at >= max(s.created_at) FROM devices.devices)::text \
             FROM devices.sessions s",
        );
        assert_eq!((sessions[0][0].as_deref(), sessions[0][1].as_deref()), (Some("2"), Some("true")));

        let audit = format!("{:?}", app.db.query("SELECT action FROM audit.events ORDER BY id"));
        for action in ["passkey.enrolled", "passkey.asserted", "device.registered", "session.opened"] {
            assert!(audit.contains(action), "{action} not in {audit}");
        }
        assert_eq!(app.db.query("SELECT audit.first_broken_link()")[0][0], None);
        let kinds: Vec<String> =
            published(&mut events).iter().filter_map(|e| e["type"].as_str().map(str::to_owned)).collect();
        for kind in ["passkey.enrolled", "passkey.asserted", "device.registered", "session.opened"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} not in {kinds:?}");
        }
    }
}

#[test]
fn browsers_get_the_refresh_token_in_a_cookie() {
    let app = start();
    let token = app.enrolment_token(ADA);
    let options = app.enrol_options(&token, "web-9a8b7c6d-5e4f");
    let mut auth = SoftAuthenticator::new(Algorithm::Es256, [4; 32], RP, ORIGIN);
    let credential = auth.register(&options.json()["publicKey"], Format::None);
    let reply = app.post("/api/auth/capture-biometric", &json!({ "credential": credential }));
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.json().get("refresh_token").is_none());
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-vottery-refresh=vrt_") && cookie.contains("HttpOnly"), "{cookie}");
}

#[test]
fn enrolment_tokens_are_required_checked_and_single_use() {
    let app = start();
    let device = "android-1b2c3d4e5f";
    app.post("/api/auth/capture-biometric/options", &json!({ "device_id": device }))
        .assert_problem(401, "enrolment_token_missing");
    app.enrol_options("not.a.token", device).assert_problem(401, "enrolment_token_invalid");
    app.enrol_options("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln", device)
        .assert_problem(401, "enrolment_token_invalid");
    let token = app.enrolment_token(ADA);
    app.enrol_options(&token, "x").assert_problem(400, "invalid_field");
    app.post(
        "/api/auth/capture-biometric/options",
        &json!({ "enrolment_token": token, "device_id": device, "device": { "platform_authenticator": false } }),
    )
    .assert_problem(422, "platform_authenticator_unavailable");

    let mut auth = SoftAuthenticator::new(Algorithm::Es256, [5; 32], RP, ORIGIN);
    let enrolled = app.enrol(&token, device, &mut auth, Format::None);
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    // An access token is not an enrolment token.
    let access = enrolled.json()["access_token"].as_str().unwrap().to_owned();
    app.enrol_options(&access, device).assert_problem(401, "enrolment_token_invalid");
    // Used once, refused after.
    app.enrol_options(&token, device).assert_problem(401, "enrolment_token_used");
    assert_eq!(app.count("SELECT count(*) FROM auth.passkeys"), 1);
}

#[test]
fn an_expired_enrolment_token_is_refused() {
    let app = start_with(Mode::Reuse, "enrolment_ttl=30");
    let token = app.enrolment_token(ADA);
    std::thread::sleep(std::time::Duration::from_secs(31));
    app.enrol_options(&token, "web-0a1b2c3d4e").assert_problem(401, "enrolment_token_expired");
}

#[test]
fn bad_ceremonies_get_clear_problems_and_store_nothing() {
    let app = start();
    let token = app.enrolment_token(ADA);
    let device = "web-5f4e3d2c1b";
    let attempt = |tamper: &dyn Fn(&mut SoftAuthenticator), edit: &dyn Fn(&mut Value)| {
        let options = app.enrol_options(&token, device);
        assert_eq!(options.status, 200, "{}", options.body);
        let mut auth = SoftAuthenticator::new(Algorithm::Es256, [6; 32], RP, ORIGIN);
        tamper(&mut auth);
        let mut credential = auth.register(&options.json()["publicKey"], Format::Packed);
        edit(&mut credential);
        app.post("/api/auth/capture-biometric", &json!({ "credential": credential }))
    };
    let keep = |_: &mut Value| {};
    attempt(&|a| a.origin = "https://evil.test".into(), &keep).assert_problem(401, "origin_not_allowed");
    attempt(&|a| a.rp_id = "evil.test".into(), &keep).assert_problem(401, "rp_id_mismatch");
    attempt(&|a| a.user_verified = false, &keep).assert_problem(401, "user_not_verified");
    attempt(&|a| a.client_type = Some("webauthn.get".into()), &keep).assert_problem(400, "client_data_type");
    attempt(&|a| a.claimed_alg = Some(-36), &keep).assert_problem(400, "algorithm_not_supported");
    attempt(&|_| {}, &|c| c["response"]["attestationObject"] = json!("%%%not-base64url%%%"))
        .assert_problem(400, "malformed_credential");
    attempt(&|_| {}, &|c| c["response"]["attestationObject"] = json!(URL_SAFE_NO_PAD.encode(b"\xa3not cbor")))
        .assert_problem(400, "malformed_credential");
    // A challenge nobody issued.
    let mut auth = SoftAuthenticator::new(Algorithm::Es256, [6; 32], RP, ORIGIN);
    let forged = auth.register(&json!({ "challenge": URL_SAFE_NO_PAD.encode([9u8; 16]) }), Format::None);
    app.post("/api/auth/capture-biometric", &json!({ "credential": forged })).assert_problem(401, "challenge_unknown");
    app.post("/api/auth/capture-biometric", &json!({ "credential": "x" })).assert_problem(400, "malformed_credential");
    app.post("/api/auth/capture-biometric", &json!({ "credential": {}, "extra": 1 }))
        .assert_problem(400, "unknown_field");

    // Nothing was stored, and the same enrolment token still works.
    assert_eq!(app.count("SELECT count(*) FROM auth.passkeys"), 0);
    assert_eq!(app.count("SELECT count(*) FROM devices.sessions"), 0);
    let good = attempt(&|_| {}, &keep);
    assert_eq!(good.status, 201, "{}", good.body);
    // The answer to a finished ceremony is not taken twice.
    let options = app.enrol_options(&app.enrolment_token(ADA), device);
    let mut again = SoftAuthenticator::new(Algorithm::EdDsa, [8; 32], RP, ORIGIN);
    let credential = again.register(&options.json()["publicKey"], Format::None);
    assert_eq!(app.post("/api/auth/capture-biometric", &json!({ "credential": credential })).status, 201);
    app.post("/api/auth/capture-biometric", &json!({ "credential": credential }))
        .assert_problem(401, "challenge_unknown");
}

#[test]
fn partial_failures_leave_no_session_and_a_retry_succeeds() {
    let app = start();
    let ada = app.enrolment_token(ADA);
    let mut ada_key = SoftAuthenticator::new(Algorithm::Es256, [10; 32], RP, ORIGIN);
    assert_eq!(app.enrol(&ada, "ios-aaaabbbbcccc", &mut ada_key, Format::None).status, 201);

    // Another member's device: refused, and the token stays usable.
    let grace = app.enrolment_token(GRACE);
    let mut grace_key = SoftAuthenticator::new(Algorithm::EdDsa, [11; 32], RP, ORIGIN);
    app.enrol(&grace, "ios-aaaabbbbcccc", &mut grace_key, Format::None).assert_problem(409, "device_of_another_member");
    assert_eq!(app.count("SELECT count(*) FROM auth.passkeys"), 1);

    // Sessions cannot be opened: the passkey may be stored, but no session
    // nor token exists; the same enrolment token works once they can.
    app.db.query("REVOKE INSERT ON devices.sessions FROM vottery_devices");
    let failed = app.enrol(&grace, "android-ddddeeeeffff", &mut grace_key, Format::None);
    assert_eq!(failed.status, 503, "{}", failed.body);
    assert!(failed.json().get("access_token").is_none());
    assert_eq!(app.count("SELECT count(*) FROM devices.sessions WHERE device_id = 'android-ddddeeeeffff'"), 0);
    app.db.query("GRANT INSERT ON devices.sessions TO vottery_devices");
    let retried = app.enrol(&grace, "android-ddddeeeeffff", &mut grace_key, Format::None);
    assert_eq!(retried.status, 201, "{}", retried.body);
    assert_eq!(app.count("SELECT count(*) FROM auth.passkeys"), 2);
}

#[test]
fn bad_assertions_get_clear_problems_and_a_clone_is_flagged() {
    let app = start();
    let mut events = subscribe(&format!("{}:events", app.namespace));
    let device = "desktop-0f1e2d3c4b";
    let mut auth = SoftAuthenticator::new(Algorithm::Es256, [12; 32], RP, ORIGIN);
    let session = app.open_session(ADA, device, &mut auth);
    let user = user_handle(&session.user_id);

    app.post("/api/auth/assert-biometric/options", &json!({ "device_id": "web-unknown-device" }))
        .assert_problem(404, "no_passkey");
    // Without user verification; with another key; for another device.
    auth.user_verified = false;
    app.sign_in(device, &mut auth, &user).assert_problem(401, "user_not_verified");
    auth.user_verified = true;
    let mut impostor = SoftAuthenticator::new(Algorithm::Es256, [13; 32], RP, ORIGIN);
    impostor.credential_id = auth.credential_id.clone();
    app.sign_in(device, &mut impostor, &user).assert_problem(401, "signature_invalid");
    let options = app.post("/api/auth/assert-biometric/options", &json!({ "device_id": device }));
    let credential = auth.assert(&options.json()["publicKey"], &user);
    app.post("/api/auth/assert-biometric", &json!({ "device_id": "web-elsewhere-1", "credential": credential }))
        .assert_problem(401, "challenge_unknown");

    // A replayed assertion: its ceremony is gone.
    let options = app.post("/api/auth/assert-biometric/options", &json!({ "device_id": device }));
    let credential = auth.assert(&options.json()["publicKey"], &user);
    let body = json!({ "device_id": device, "credential": credential });
    assert_eq!(app.post("/api/auth/assert-biometric", &body).status, 201);
    app.post("/api/auth/assert-biometric", &body).assert_problem(401, "challenge_unknown");
    let sessions = app.count("SELECT count(*) FROM devices.sessions");

    // A counter that goes back: a clone, flagged and refused from then on.
    auth.counter = 1;
    app.sign_in(device, &mut auth, &user).assert_problem(401, "authenticator_cloned");
    auth.counter = 100;
    app.post("/api/auth/assert-biometric/options", &json!({ "device_id": device })).assert_problem(404, "no_passkey");
    assert_eq!(app.count("SELECT count(*) FROM auth.passkeys WHERE clone_suspected_at IS NOT NULL"), 1);
    assert_eq!(app.count("SELECT count(*) FROM devices.sessions"), sessions);
    let audit = format!("{:?}", app.db.query("SELECT action, outcome FROM audit.events"));
    assert!(audit.contains("passkey.clone_suspected"), "{audit}");
    let kinds = format!("{:?}", published(&mut events));
    assert!(kinds.contains("passkey.clone_suspected"), "{kinds}");
}

#[test]
fn removing_a_device_removes_its_passkey_and_sessions() {
    let app = start();
    let device = "android-9f8e7d6c5b";
    let token = app.enrolment_token(ADA);
    let mut auth = SoftAuthenticator::new(Algorithm::EdDsa, [14; 32], RP, ORIGIN);
    let enrolled = app.enrol(&token, device, &mut auth, Format::Packed);
    let bearer = format!("Bearer {}", enrolled.json()["access_token"].as_str().unwrap());
    let removed =
        app.host().send_with("DELETE", &format!("/api/devices/{device}"), None, &[("authorization", &bearer)]);
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.json()["removed_passkeys"], 1);
    assert_eq!(app.count("SELECT count(*) FROM auth.passkeys"), 0);
    app.post("/api/auth/assert-biometric/options", &json!({ "device_id": device })).assert_problem(404, "no_passkey");
    let after = app.host().send_with("GET", "/api/sessions/current", None, &[("authorization", &bearer)]);
    after.assert_problem(401, "session_revoked");
}

#[test]
fn native_apps_find_their_association_files() {
    let app = start();
    let links = app.host().get("/.well-known/assetlinks.json");
    assert_eq!(links.status, 200, "{}", links.body);
    assert_eq!(links.json()[0]["target"]["package_name"], "app.vottery");
    assert_eq!(links.json()[0]["target"]["sha256_cert_fingerprints"][0], FP);
    let apple = app.host().get("/.well-known/apple-app-site-association");
    assert_eq!(apple.json()["webcredentials"]["apps"][0], "ABCDE12345.app.vottery");
    assert!(apple.header("content-type").unwrap().starts_with("application/json"));

    // The Android app's origin is accepted for its credentials.
    let token = app.enrolment_token(ADA);
    let mut auth = SoftAuthenticator::new(
        Algorithm::Es256,
        [15; 32],
        RP,
        "android:apk-key-hash:-sYXRdwJA3hvue3mKpYrOZ9zSPC7b4mbgzJmdZEDO5w",
    );
    assert_eq!(app.enrol(&token, "android-app-12345678", &mut auth, Format::None).status, 201);
}
