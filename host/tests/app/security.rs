//! The `security` service in the project's own `spin.toml`, with a probe
//! component allowed to chain to it (standing in for the other services).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::support::*;

const MK1: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
const MK2: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
const PEPPER: &str = "a-test-pepper-of-at-least-32-bytes!";
const ISSUER: &str = "https://id.vottery.invalid";

fn manifest() -> PathBuf {
    app_with_probe("security")
}

struct App {
    host: Host,
}

fn start(mode: Mode, db: &Database, master: &str, previous: &str) -> App {
    let manifest = manifest();
    let rc = manifest.with_file_name("runtime-config.toml");
    let host = Host::start(
        &manifest,
        Some(&rc),
        mode,
        &[
            ("SPIN_VARIABLE_MASTER_KEY", master),
            ("SPIN_VARIABLE_MASTER_KEY_PREVIOUS", previous),
            ("SPIN_VARIABLE_CONTACT_PEPPER", PEPPER),
            ("SPIN_VARIABLE_PG_DATABASE", &db.name),
        ],
    );
    App { host }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl App {
    /// A chained call from the probe, as service `test-service`.
    fn internal(&self, path: &str, body: &Value) -> Reply {
        let url = format!("/probe/forward?url=http://security.spin.internal{path}");
        self.host.send_with("POST", &url, Some(&body.to_string()), &[("vottery-caller", "test-service")])
    }

    fn token(&self, claims: Value) -> String {
        let reply = self.internal("/internal/tokens", &json!({ "typ": "at+jwt", "claims": claims }));
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["token"].as_str().unwrap().to_owned()
    }

    fn admin_token(&self) -> String {
        self.token(
            json!({ "sub": "admin-1", "aud": "vottery-dashboard", "exp": now() + 600, "roles": ["security_admin"] }),
        )
    }

    fn as_bearer(&self, method: &str, path: &str, body: Option<&Value>, token: &str) -> Reply {
        let body = body.map(Value::to_string);
        self.host.send_with(method, path, body.as_deref(), &[("authorization", &format!("Bearer {token}"))])
    }

    fn post(&self, path: &str, body: &Value) -> Reply {
        self.host.send("POST", path, Some(&body.to_string()))
    }
}

fn audit(db: &Database) -> Vec<(String, String, String, String)> {
    db.query("SELECT service, actor, action, outcome FROM audit.events ORDER BY id")
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap(), r[2].clone().unwrap(), r[3].clone().unwrap()))
        .collect()
}

fn chain_holds(db: &Database) -> bool {
    db.query("SELECT audit.first_broken_link()")[0][0].is_none()
}

#[test]
fn tokens_signed_before_a_rotation_verify_until_the_old_key_retires() {
    let db = Database::migrated();
    for mode in MODES {
        db.query("TRUNCATE security.keys");
        let app = start(mode, &db, MK1, "");

        // Arrange: the first token key is created on first use and published.
        let jwks = app.host.get("/.well-known/jwks.json");
        assert_eq!(jwks.status, 200, "{}", jwks.body);
        assert_eq!(jwks.header("cache-control"), Some("public, max-age=60"));
        let keys = jwks.json()["keys"].as_array().unwrap().clone();
        assert_eq!(keys.len(), 1);
        let (kid1, admin1) = (keys[0]["kid"].as_str().unwrap().to_owned(), app.admin_token());
        assert_eq!((keys[0]["kty"].as_str(), keys[0]["alg"].as_str()), (Some("OKP"), Some("EdDSA")));
        let verified = app.post("/api/security/verify", &json!({ "token": admin1 }));
        assert_eq!(verified.status, 200, "{}", verified.body);
        assert_eq!(verified.json()["claims"]["iss"], ISSUER);

        // Act: rotate.
        let rotated =
            app.as_bearer("POST", "/api/security/keys/rotate", Some(&json!({ "purpose": "token-signing" })), &admin1);
        assert_eq!(rotated.status, 201, "{}", rotated.body);
        assert_eq!(rotated.json()["version"], 2);
        let kid2 = rotated.json()["kid"].as_str().unwrap().to_owned();

        // Assert: both keys published; the old token still verifies; new tokens use the new key.
        let published: Vec<Value> = app.host.get("/.well-known/jwks.json").json()["keys"].as_array().unwrap().clone();
        assert_eq!(published.iter().map(|k| k["kid"].as_str().unwrap()).collect::<Vec<_>>(), [kid1.as_str(), &kid2]);
        assert_eq!(app.post("/api/security/verify", &json!({ "token": admin1 })).status, 200);
        let admin2 = app.admin_token();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(admin2.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!((header["kid"].as_str(), header["typ"].as_str()), (Some(kid2.as_str()), Some("at+jwt")));

        // Retire the old key: its tokens stop verifying and it leaves the JWKS.
        let retired = app.as_bearer("POST", &format!("/api/security/keys/{kid1}/retire"), None, &admin2);
        assert_eq!((retired.status, retired.json()["state"].as_str()), (200, Some("retired")), "{}", retired.body);
        app.post("/api/security/verify", &json!({ "token": admin1 })).assert_problem(422, "token_key_unknown");
        assert_eq!(app.host.get("/.well-known/jwks.json").json()["keys"].as_array().unwrap().len(), 1);

        // Destroy it: the wrapped private key is gone from the database.
        let destroyed = app.as_bearer("POST", &format!("/api/security/keys/{kid1}/destroy"), None, &admin2);
        assert_eq!(destroyed.json()["state"], "destroyed", "{}", destroyed.body);
        let row = db.query(&format!("SELECT state, wrapped_private IS NULL FROM security.keys WHERE kid = '{kid1}'"));
        assert_eq!(row, [[Some("destroyed".into()), Some("t".into())]]);
        let listing = app.host.get("/api/security/keys");
        assert_eq!(listing.header("cache-control"), Some("no-store"));
        let listed = listing.json();
        let states: Vec<(&str, &str)> = listed["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| (k["kid"].as_str().unwrap(), k["state"].as_str().unwrap()))
            .collect();
        assert_eq!(states, [(kid1.as_str(), "destroyed"), (kid2.as_str(), "active")]);
        assert!(!listed.to_string().contains("wrapped"));
    }
    let actions: Vec<String> = audit(&db).into_iter().filter(|e| e.1 == "admin:admin-1").map(|e| e.2).collect();
    assert_eq!(actions, ["key.rotated", "key.retired", "key.destroyed"].repeat(2));
    assert!(chain_holds(&db));
    db.query("UPDATE audit.events SET outcome = 'refused' WHERE id = 2");
    assert!(!chain_holds(&db), "an altered audit row must break the chain");
}

#[test]
fn decrypt_and_sign_are_never_a_public_oracle() {
    let db = Database::migrated();
    let app = start(Mode::Reuse, &db, MK1, "");
    let secret = b64(b"ballot secret");

    // encrypt is public; decrypt is not.
    let sealed = app.post("/api/security/encrypt", &json!({ "plaintext": secret }));
    assert_eq!(sealed.status, 200, "{}", sealed.body);
    assert_eq!(sealed.json()["alg"], "RSA-OAEP-256");
    let decrypt = json!({ "kid": sealed.json()["kid"], "ciphertext": sealed.json()["ciphertext"] });
    app.post("/api/security/decrypt", &decrypt).assert_problem(401, "unauthenticated");
    let member = app.token(json!({ "sub": "member-1", "aud": "vottery-dashboard", "exp": now() + 600 }));
    app.as_bearer("POST", "/api/security/decrypt", Some(&decrypt), &member).assert_problem(403, "forbidden");
    app.as_bearer("POST", "/api/security/decrypt", Some(&decrypt), "not.a.token")
        .assert_problem(401, "unauthenticated");

    // A service (through chaining) and an administrator may decrypt.
    let opened = app.internal("/internal/decrypt", &decrypt);
    assert_eq!(opened.json()["plaintext"], secret, "{}", opened.body);
    let opened = app.as_bearer("POST", "/api/security/decrypt", Some(&decrypt), &app.admin_token());
    assert_eq!(opened.json()["plaintext"], secret, "{}", opened.body);
    let mut tampered = URL_SAFE_NO_PAD.decode(sealed.json()["ciphertext"].as_str().unwrap()).unwrap();
    tampered[10] ^= 1;
    let bad = json!({ "kid": sealed.json()["kid"], "ciphertext": b64(&tampered) });
    let refused = app.internal("/internal/decrypt", &bad);
    assert_eq!(refused.status / 100, 4, "{}", refused.body);

    // sign: never public; verify: public, and only the right message verifies.
    let message = b64(b"tally: 42");
    app.post("/api/security/sign", &json!({ "message": message })).assert_problem(401, "unauthenticated");
    let signed = app.internal("/internal/sign", &json!({ "message": message }));
    assert_eq!((signed.status, signed.json()["alg"].as_str()), (200, Some("ES256")), "{}", signed.body);
    let (kid, signature) = (signed.json()["kid"].clone(), signed.json()["signature"].clone());
    let ok = app.post("/api/security/verify", &json!({ "kid": kid, "message": message, "signature": signature }));
    assert_eq!((ok.status, ok.json()["valid"].as_bool()), (200, Some(true)), "{}", ok.body);
    let other = json!({ "kid": kid, "message": b64(b"tally: 43"), "signature": signature });
    app.post("/api/security/verify", &other).assert_problem(422, "signature_invalid");
    let unknown = json!({ "kid": "sig-9-00000000", "message": message, "signature": signature });
    app.post("/api/security/verify", &unknown).assert_problem(404, "key_not_found");
    // A data-signing key never verifies as a token key and vice versa.
    let token_kid = app.host.get("/.well-known/jwks.json").json()["keys"][0]["kid"].clone();
    let crossed = json!({ "kid": token_kid, "message": message, "signature": signature });
    app.post("/api/security/verify", &crossed).assert_problem(422, "key_purpose_mismatch");

    // The internal routes cannot be reached from outside.
    app.host.send("POST", "/internal/tokens", Some("{}")).assert_problem(404, "route_not_found");
    app.host.send("POST", "/api/security/../internal/tokens", Some("{}")).assert_problem(404, "route_not_found");

    let events = audit(&db);
    let audited: Vec<(&str, &str, &str)> = events
        .iter()
        .filter(|e| e.2 == "decrypt" || e.2 == "sign")
        .map(|e| (e.1.as_str(), e.2.as_str(), e.3.as_str()))
        .collect();
    assert_eq!(
        audited,
        [
            ("service:test-service", "decrypt", "ok"),
            ("admin:admin-1", "decrypt", "ok"),
            ("service:test-service", "decrypt", "refused"),
            ("service:test-service", "sign", "ok"),
        ]
    );
    assert!(events.iter().all(|e| e.0 == "security"));
    assert!(chain_holds(&db));
}

#[test]
fn bad_input_gets_a_problem_with_a_stable_code() {
    let db = Database::migrated();
    let app = start(Mode::Reuse, &db, MK1, "");
    let admin = app.admin_token();

    app.post("/api/security/encrypt", &json!({ "plaintext": "aGk", "mode": "ecb" }))
        .assert_problem(400, "unknown_field");
    app.post("/api/security/encrypt", &json!({ "plaintext": "aGk=" })).assert_problem(400, "invalid_base64");
    app.post("/api/security/encrypt", &json!({})).assert_problem(400, "missing_field");
    app.host.send("POST", "/api/security/encrypt", Some("{\"plaintext\":")).assert_problem(400, "malformed_json");
    let huge = json!({ "plaintext": "A".repeat(20_000) });
    app.post("/api/security/encrypt", &huge).assert_problem(413, "payload_too_large");
    app.post("/api/security/encrypt", &json!({ "plaintext": b64(&[7; 400]) })).assert_problem(400, "invalid_input");
    app.post("/api/security/verify", &json!({ "token": "a.b" })).assert_problem(422, "token_malformed");
    app.post("/api/security/verify", &json!({ "kid": "x" })).assert_problem(400, "invalid_input");

    // Tokens: wrong kid, `alg: none`, HMAC with the public key, wrong audience, not yet valid.
    let [head, claims, signature]: [&str; 3] = admin.split('.').collect::<Vec<_>>().try_into().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap();
    let forged =
        |header: Value, signature: &str| format!("{}.{claims}.{signature}", b64(header.to_string().as_bytes()));
    let verify = |token: String| app.post("/api/security/verify", &json!({ "token": token }));
    verify(forged(json!({ "alg": "EdDSA", "kid": "tok-9-00000000" }), signature))
        .assert_problem(422, "token_key_unknown");
    verify(forged(json!({ "alg": "none", "kid": header["kid"] }), ""))
        .assert_problem(422, "token_algorithm_unsupported");
    let hs256 = verify(forged(json!({ "alg": "HS256", "kid": header["kid"] }), signature));
    assert!(
        ["token_algorithm_unsupported", "token_algorithm_mismatch"].contains(&hs256.json()["code"].as_str().unwrap())
    );
    assert_eq!(hs256.status, 422);
    let mut altered = claims.to_owned();
    altered.replace_range(2..3, if &claims[2..3] == "A" { "B" } else { "A" });
    verify(format!("{head}.{altered}.{signature}")).assert_problem(422, "token_signature_invalid");
    let elsewhere = app.token(json!({ "sub": "u", "aud": "another-app", "exp": now() + 600 }));
    verify(elsewhere).assert_problem(422, "token_audience_invalid");
    let later = app.token(json!({ "sub": "u", "aud": "vottery-dashboard", "exp": now() + 7200, "nbf": now() + 3600 }));
    verify(later).assert_problem(422, "token_not_yet_valid");
    let long = app.internal("/internal/tokens", &json!({ "typ": "at+jwt", "claims": { "exp": now() + 90_000 } }));
    long.assert_problem(400, "invalid_input");

    // Key management.
    let rotate = |purpose: &str| {
        app.as_bearer("POST", "/api/security/keys/rotate", Some(&json!({ "purpose": purpose })), &admin)
    };
    rotate("door-keys").assert_problem(400, "unknown_purpose");
    let active = app.host.get("/.well-known/jwks.json").json()["keys"][0]["kid"].as_str().unwrap().to_owned();
    app.as_bearer("POST", &format!("/api/security/keys/{active}/retire"), None, &admin)
        .assert_problem(409, "key_transition_invalid");
    app.as_bearer("POST", &format!("/api/security/keys/{active}/destroy"), None, &admin)
        .assert_problem(409, "key_transition_invalid");
    app.as_bearer("POST", "/api/security/keys/tok-7-00000000/retire", None, &admin)
        .assert_problem(404, "key_not_found");
    app.host
        .send("POST", "/api/security/keys/rotate", Some("{\"purpose\":\"election\"}"))
        .assert_problem(401, "unauthenticated");
    assert_eq!(rotate("election").status, 201);
}

#[test]
fn services_get_data_keys_and_blind_indexes() {
    let db = Database::migrated();
    let app = start(Mode::PerRequest, &db, MK1, "");

    let fresh = app.internal("/internal/data-keys", &json!({}));
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    let (kid, data_key, wrapped) =
        (fresh.json()["kid"].clone(), fresh.json()["data_key"].clone(), fresh.json()["wrapped_key"].clone());
    assert_eq!(URL_SAFE_NO_PAD.decode(data_key.as_str().unwrap()).unwrap().len(), 32);
    let opened = app.internal("/internal/data-keys/unwrap", &json!({ "kid": kid, "wrapped_key": wrapped }));
    assert_eq!(opened.json()["data_key"], data_key, "{}", opened.body);
    let mut bad = URL_SAFE_NO_PAD.decode(wrapped.as_str().unwrap()).unwrap();
    bad[15] ^= 1;
    app.internal("/internal/data-keys/unwrap", &json!({ "kid": kid, "wrapped_key": b64(&bad) }))
        .assert_problem(422, "ciphertext_tampered");

    let index =
        |domain: &str, value: &str| app.internal("/internal/blind-index", &json!({ "domain": domain, "value": value }));
    let a = index("email", "  Ada.Lovelace@EXAMPLE.com ");
    let b = index("email", "ada.lovelace@example.com");
    assert_eq!(a.json()["normalised"], "ada.lovelace@example.com", "{}", a.body);
    assert_eq!(a.json()["index"], b.json()["index"]);
    let phone = index("phone", "+44 7912 345678");
    assert_eq!(phone.json()["normalised"], "+447912345678", "{}", phone.body);
    assert_ne!(phone.json()["index"], index("email", "ada@example.com").json()["index"]);
    index("email", "not-an-address").assert_problem(400, "invalid_email");
    index("phone", "12").assert_problem(400, "invalid_phone");
    index("name", "Ada").assert_problem(400, "invalid_input");
}

#[test]
fn master_key_rotation_rewraps_every_key_without_downtime() {
    let db = Database::migrated();
    let wrapped = {
        let app = start(Mode::Reuse, &db, MK1, "");
        let key = app.internal("/internal/data-keys", &json!({}));
        assert_eq!(app.host.get("/.well-known/jwks.json").status, 200);
        key.json()
    };
    let unwrap = |app: &App| {
        app.internal(
            "/internal/data-keys/unwrap",
            &json!({ "kid": wrapped["kid"], "wrapped_key": wrapped["wrapped_key"] }),
        )
    };

    // New master configured, old one kept as previous: everything works, then rewrap.
    let app = start(Mode::Reuse, &db, MK2, MK1);
    assert_eq!(unwrap(&app).json()["data_key"], wrapped["data_key"]);
    let admin = app.admin_token();
    let rewrap = app.as_bearer("POST", "/api/security/keys/rewrap", None, &admin);
    assert_eq!(rewrap.status, 200, "{}", rewrap.body);
    assert_eq!(rewrap.json()["rewrapped"], 2);
    assert_eq!(rewrap.json()["failed"], json!([]));
    drop(app);

    // Only the new master key: still everything.
    let app = start(Mode::Reuse, &db, MK2, "");
    assert_eq!(unwrap(&app).json()["data_key"], wrapped["data_key"]);
    app.admin_token();

    // The old master key alone no longer unwraps anything, and says why.
    let app = start(Mode::Reuse, &db, MK1, "");
    unwrap(&app).assert_problem(503, "master_key_unavailable");
    let app = start(Mode::Reuse, &db, "not-hex", "");
    unwrap(&app).assert_problem(503, "master_key_invalid");
    assert!(!unwrap(&app).body.contains("not-hex"));
}

#[test]
fn a_wrapped_key_altered_in_the_database_is_refused() {
    let db = Database::migrated();
    let app = start(Mode::Reuse, &db, MK1, "");
    app.admin_token();
    db.query(
        "UPDATE security.keys SET wrapped_private = set_byte(wrapped_private, 20, get_byte(wrapped_private, 20) # 1)",
    );
    let reply = app.internal("/internal/tokens", &json!({ "typ": "at+jwt", "claims": { "exp": now() + 60 } }));
    reply.assert_problem(500, "key_integrity");
}
