//! Steps 1-2 through the host with the project's own `spin.toml`: real
//! PostgreSQL (a fresh database each), Redis (a namespace each) and the
//! outbox standing in for Twilio and the mail API.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;
use crate::support::*;

const ADA: (&str, &str) = ("ada@example.com", "+447912345678");
const GRACE: (&str, &str) = ("grace@example.com", "+16502530000");
const BANNED: (&str, &str) = ("alan@example.com", "+447400123456");
const INACTIVE: (&str, &str) = ("edsger@example.com", "+31612345678");

/// The project's `spin.toml` (no probe) with the code policy `policy` and
/// the settings `extra` (`{outbox}`: the outbox's address).
fn start_with(mode: Mode, policy: &str, extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn(Options::new().app().mode(mode).env("SPIN_VARIABLE_OTP_POLICY", policy).envs(extra))
}

fn start(policy: &str) -> TestApp {
    start_with(Mode::Reuse, policy, &[])
}

/// Steps 1 and 2 as a browser's script sends them.
trait CodeSteps {
    fn send(&self, contacts: (&str, &str)) -> Reply;
    fn verify(&self, flow: &str, codes: Value) -> Reply;
    fn audit(&self) -> Vec<Vec<Option<String>>>;
}

impl CodeSteps for TestApp {
    fn send(&self, (email, phone): (&str, &str)) -> Reply {
        self.post_json("/api/auth/send-otp", &json!({ "email": email, "phone": phone }))
    }

    fn verify(&self, flow: &str, codes: Value) -> Reply {
        let mut body = codes;
        body["flow_id"] = Value::from(flow);
        self.post_json("/api/auth/verify-otp", &body)
    }

    fn audit(&self) -> Vec<Vec<Option<String>>> {
        self.db
            .query("SELECT action, outcome, detail::text, subject FROM audit.events WHERE service = 'auth' ORDER BY id")
    }
}

/// Every other code, so a wrong code is never the right one by chance.
fn wrong(code: &str) -> String {
    code.chars().map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10)).collect()
}

#[test]
fn steps_one_and_two_end_to_end_in_both_instance_modes() {
    for mode in MODES {
        let app = start_with(mode, "", &[]);
        let mut events = subscribe(&format!("{}:events", app.namespace));

        let sent = app.send(ADA);
        assert_eq!(sent.status, 202, "{mode:?} {}", sent.body);
        let flow = sent.json()["flow_id"].as_str().unwrap().to_owned();
        assert_eq!(sent.json()["step"], "codes");
        let (email_code, sms_code) = (app.code(ADA.0), app.code(ADA.1));
        assert_ne!(email_code, sms_code);
        // A Vottery user exists only once both contacts are proved.
        assert!(app.db.query("SELECT id FROM users.accounts").is_empty());
        let sms = app.outbox.messages().into_iter().find(|m| m.to == ADA.1).unwrap();
        assert_eq!((sms.provider, sms.from.as_str()), ("twilio", "+15005550006"));

        let one = app.verify(&flow, json!({ "email_code": email_code }));
        assert_eq!(one.status, 200, "{}", one.body);
        assert_eq!(one.json()["channels"]["email"]["verified"], true);
        assert_eq!(one.json()["step"], "codes");
        assert!(one.json().get("enrolment_token").is_none());
        let status = app.host().get(&format!("/api/auth/status?flow_id={flow}"));
        assert_eq!((status.status, status.json()["step"].as_str()), (200, Some("codes")));

        let both = app.verify(&flow, json!({ "sms_code": sms_code }));
        assert_eq!(both.status, 200, "{}", both.body);
        assert_eq!(both.json()["step"], "biometric");
        let token = both.json()["enrolment_token"].as_str().unwrap().to_owned();
        let claims = claims(&token);
        let user = app.db.query("SELECT id::text, encode(email_sealed, 'escape'), sngine_user_id FROM users.accounts");
        assert_eq!(user.len(), 1);
        assert_eq!(claims["sub"].as_str(), user[0][0].as_deref());
        assert_eq!((claims["aud"].as_str(), claims["jti"].as_str()), (Some("vottery-enrolment"), Some(flow.as_str())));
        assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() == 300);
        assert!(!user[0][1].as_deref().unwrap().contains("ada@"), "the email is sealed");
        assert_eq!(user[0][2].as_deref(), Some("1"));
        let status = app.host().get(&format!("/api/auth/status?flow_id={flow}"));
        assert_eq!(status.json()["step"], "biometric");

        // Single use: neither code works again.
        app.verify(&flow, json!({ "sms_code": sms_code })).assert_problem(409, "code_used");

        // Nothing stored or recorded holds a code or a clear contact.
        let audit = format!("{:?}", app.audit());
        let stored: Option<String> = redis::cmd("GET")
            .arg(format!("{}:auth:flow:{flow}", app.namespace))
            .query(&mut redis::Client::open("redis://127.0.0.1:6379").unwrap().get_connection().unwrap())
            .unwrap();
        let events = published(&mut events);
        let published_text = format!("{events:?}");
        for secret in [email_code.as_str(), sms_code.as_str(), ADA.0, ADA.1, "447912345678"] {
            assert!(!audit.contains(secret), "audit holds {secret}: {audit}");
            assert!(!stored.as_deref().unwrap().contains(secret), "redis holds {secret}");
            assert!(!published_text.contains(secret), "events hold {secret}");
        }
        assert!(audit.contains("otp.send") && audit.contains("completed"), "{audit}");
        let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
        for kind in ["contact.matched", "otp.sent", "otp.verified"] {
            assert!(kinds.contains(&kind), "{kinds:?}");
        }
        let chain = app.db.query("SELECT audit.first_broken_link()");
        assert_eq!(chain[0][0], None);
    }
}

/// The answer with what differs per flow (id, times) blanked out.
fn shape(reply: &Reply) -> (u16, Vec<String>, String) {
    let mut body = reply.json();
    body["flow_id"] = Value::from("x");
    body["expires_at"] = Value::from(0);
    for c in ["email", "sms"] {
        body["channels"][c]["resend_available_at"] = Value::from(0);
    }
    let mut headers: Vec<String> =
        reply.headers.keys().map(|k| k.as_str().to_owned()).filter(|k| k != "x-request-id" && k != "date").collect();
    headers.sort();
    (reply.status, headers, body.to_string())
}

#[test]
fn matched_and_unmatched_contacts_get_the_same_answer() {
    let app = start("");
    let matched = app.send(ADA);
    let others = [
        ("nobody@example.com", "+447912345678"),
        (ADA.0, GRACE.1), // email of one account, phone of another
        BANNED,
        INACTIVE,
    ];
    for pair in others {
        let before = app.outbox.messages().len();
        let decoy = app.send(pair);
        assert_eq!(shape(&decoy), shape(&matched), "{pair:?}");
        let flow = decoy.json()["flow_id"].as_str().unwrap().to_owned();
        assert_eq!(app.outbox.messages().len(), before, "nothing is sent for {pair:?}");
        // A decoy flow behaves like a real one: it takes codes and refuses them.
        let check = app.verify(&flow, json!({ "email_code": "123456", "sms_code": "654321" }));
        check.assert_problem(422, "code_invalid");
        let status = app.host().get(&format!("/api/auth/status?flow_id={flow}"));
        assert_eq!(status.json()["step"], "codes");
    }
    let reasons = app
        .db
        .query("SELECT detail->>'reason' FROM audit.events WHERE service = 'auth' AND action = 'otp.send' ORDER BY id");
    let reasons: Vec<_> = reasons.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(reasons, ["matched", "no_account", "phone_mismatch", "banned", "inactive"]);

    let plain = start_with(Mode::Reuse, "", &[("SPIN_VARIABLE_OTP_REVEAL_UNMATCHED", "true")]);
    plain.send(BANNED).assert_problem(404, "contact_not_matched");
    assert_eq!(plain.send(ADA).status, 202);
}

#[test]
fn every_code_policy_number_at_its_edge() {
    let app = start("resend_cooldown=2,max_sends=2,lockout_failures=8");
    let flow = app.send(ADA).json()["flow_id"].as_str().unwrap().to_owned();
    let sent_at = std::time::Instant::now();
    let sms = app.code(ADA.1);
    // Whole seconds: a 2 s cooldown holds for at least one second of real time.
    let resend = json!({ "flow_id": flow, "channel": "sms" });
    let too_soon = app.post_json("/api/auth/resend-otp", &resend);
    too_soon.assert_problem(429, "resend_too_soon");
    assert!(matches!(too_soon.header("retry-after"), Some("1" | "2")), "{:?}", too_soon.header("retry-after"));
    for remaining in (0..5).rev() {
        let reply = app.verify(&flow, json!({ "sms_code": wrong(&sms) }));
        reply.assert_problem(422, "code_invalid");
        assert_eq!(reply.json()["remaining_attempts"], remaining);
    }
    // The 6th try finds the code burnt, even the right one.
    app.verify(&flow, json!({ "sms_code": sms })).assert_problem(429, "code_attempts_exhausted");

    // A new code (after the cooldown) works; the send count is per channel.
    std::thread::sleep(Duration::from_millis(2100).saturating_sub(sent_at.elapsed()));
    let again = app.post_json("/api/auth/resend-otp", &resend);
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.json()["channels"]["sms"]["sends_left"], 0);
    let new_sms = app.code(ADA.1);
    assert_ne!(new_sms, sms);
    std::thread::sleep(Duration::from_millis(2100));
    app.post_json("/api/auth/resend-otp", &resend).assert_problem(429, "send_limit_reached");
    let ok = app.verify(&flow, json!({ "sms_code": new_sms, "email_code": app.code(ADA.0) }));
    assert_eq!(ok.json()["step"], "biometric", "{}", ok.body);
}

#[test]
fn repeated_failures_lock_the_contact_out() {
    let app = start("lockout_failures=3,lockout_seconds=60");
    let flow = app.send(GRACE).json()["flow_id"].as_str().unwrap().to_owned();
    let code = app.code(GRACE.0);
    for _ in 0..3 {
        app.verify(&flow, json!({ "email_code": wrong(&code) })).assert_problem(422, "code_invalid");
    }
    let locked = app.verify(&flow, json!({ "email_code": code }));
    locked.assert_problem(429, "locked_out");
    assert!(locked.header("retry-after").unwrap().parse::<u32>().unwrap() <= 60);
    app.send(GRACE).assert_problem(429, "locked_out");
    let audit = format!("{:?}", app.audit());
    assert!(audit.contains("otp.lockout"), "{audit}");
}

#[test]
fn send_limits_per_contact_and_per_address() {
    let app = start("email_sends=2,ip_sends=3");
    assert_eq!(app.send(ADA).status, 202);
    assert_eq!(app.send(ADA).status, 202);
    let third = app.send(ADA);
    third.assert_problem(429, "rate_limited");
    assert!(third.json()["detail"].as_str().unwrap().contains("email"));
    assert!(third.header("retry-after").is_some());
    // The address's own limit (3 per window) is now spent as well.
    app.send(GRACE).assert_problem(429, "rate_limited");
    assert_eq!(app.sent_to(ADA.0), 2);
}

#[test]
fn bad_input_gets_clear_problems() {
    let app = start("sms_countries=GB|NL");
    let send = |body: &str| app.host().send("POST", "/api/auth/send-otp", Some(body));
    send(r#"{"email": "not-an-email", "phone": "+447912345678"}"#).assert_problem(400, "invalid_email");
    send(r#"{"email": "ada@example.com", "phone": "+44 12"}"#).assert_problem(400, "invalid_phone");
    send(r#"{"email": "ada@example.com", "phone": "07912345678"}"#).assert_problem(400, "invalid_phone");
    send(r#"{"email": "ada@example.com", "phone": "+16502530000"}"#).assert_problem(422, "phone_country_not_allowed");
    send(r#"{"email": "ada@example.com", "phone": "+447912345678", "admin": true}"#)
        .assert_problem(400, "unknown_field");
    send(r#"{"email": "ada@example.com"}"#).assert_problem(400, "missing_field");
    send(r#"{"email": "ada@example.com", "#).assert_problem(400, "malformed_json");
    let big =
        format!(r#"{{"email": "ada@example.com", "phone": "+447912345678", "language": "{}"}}"#, "x".repeat(70_000));
    send(&big).assert_problem(413, "payload_too_large");
    app.host().send("GET", "/api/auth/send-otp", None).assert_problem(405, "method_not_allowed");

    let a = app.send(ADA).json()["flow_id"].as_str().unwrap().to_owned();
    let b = app.send(INACTIVE).json()["flow_id"].as_str().unwrap().to_owned();
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    app.verify(unknown, json!({ "email_code": "123456" })).assert_problem(404, "flow_not_found");
    app.verify("../../x", json!({ "email_code": "123456" })).assert_problem(400, "invalid_field");
    app.verify(&a, json!({})).assert_problem(400, "missing_field");
    app.verify(&a, json!({ "email_code": "12345" })).assert_problem(400, "invalid_field");
    app.verify(&a, json!({ "email_code": "12a456" })).assert_problem(400, "invalid_field");
    // A code of flow `a` presented for flow `b`.
    app.verify(&b, json!({ "email_code": app.code(ADA.0) })).assert_problem(422, "code_invalid");
    app.host().get("/api/auth/status").assert_problem(400, "missing_field");
    app.host().get(&format!("/api/auth/status?flow_id={unknown}")).assert_problem(404, "flow_not_found");
    let resend = |body: Value| app.post_json("/api/auth/resend-otp", &body);
    resend(json!({ "flow_id": a, "channel": "fax" })).assert_problem(400, "invalid_field");
    resend(json!({ "flow_id": unknown, "channel": "sms" })).assert_problem(404, "flow_not_found");
}

#[test]
fn provider_faults_are_retried_then_reported_and_the_flow_survives() {
    let app = start("provider_timeout_ms=300,provider_retries=1,retry_backoff_ms=10,resend_cooldown=1");
    // Twilio fails twice (first try and the retry): the visitor is told, the
    // email still went, and the SMS can be resent on the same flow.
    app.fault(json!({ "provider": "twilio", "status": 503, "count": 2 }));
    let failed = app.send(ADA);
    failed.assert_problem(503, "provider_unavailable");
    let flow = failed.json()["flow_id"].as_str().unwrap().to_owned();
    assert_eq!(failed.json()["channel"], "sms");
    assert_eq!((app.sent_to(ADA.0), app.sent_to(ADA.1)), (1, 0));
    let status = app.host().get(&format!("/api/auth/status?flow_id={flow}")).json();
    assert_eq!(status["channels"]["sms"]["sends_left"], 5, "an undelivered code is not counted: {status}");
    app.verify(&flow, json!({ "sms_code": "123456" })).assert_problem(409, "code_not_delivered");
    let resent = app.post_json("/api/auth/resend-otp", &json!({ "flow_id": flow, "channel": "sms" }));
    assert_eq!(resent.status, 202, "{}", resent.body);
    let done = app.verify(&flow, json!({ "email_code": app.code(ADA.0), "sms_code": app.code(ADA.1) }));
    assert_eq!(done.json()["step"], "biometric", "{}", done.body);

    // One transient failure is absorbed by the retry.
    app.fault(json!({ "provider": "sendgrid", "status": 500, "count": 1 }));
    assert_eq!(app.send(GRACE).status, 202);

    // A refusal (4xx) is not retried: 502.
    app.fault(json!({ "provider": "sendgrid", "status": 400, "count": 1 }));
    let rejected = app.send(ADA);
    rejected.assert_problem(502, "provider_rejected");

    // A provider that does not answer in time.
    app.fault(json!({ "provider": "*", "delay_ms": 1500, "status": 0, "count": 4 }));
    let started = std::time::Instant::now();
    app.send(ADA).assert_problem(503, "provider_unavailable");
    assert!(started.elapsed() < Duration::from_millis(1400), "the timeout bounds the wait");
}

#[test]
fn wrong_provider_credentials_are_refused_by_the_outbox() {
    let app = start_with(Mode::Reuse, "provider_retries=0", &[("SPIN_VARIABLE_TWILIO_AUTH_TOKEN", "wrong")]);
    app.send(ADA).assert_problem(502, "provider_rejected");
    assert_eq!(app.sent_to(ADA.1), 0);
    let postmark = start_with(
        Mode::Reuse,
        "",
        &[("SPIN_VARIABLE_MAIL_PROVIDER", "postmark"), ("SPIN_VARIABLE_MAIL_API_KEY", "outbox-postmark-token")],
    );
    assert_eq!(postmark.send(ADA).status, 202);
    assert_eq!(postmark.outbox.messages().iter().find(|m| m.to == ADA.0).unwrap().provider, "postmark");
    for (provider, key, domain) in
        [("mailgun", "outbox-mailgun-key", "mg.vottery.test"), ("resend", "re_outbox_key", "")]
    {
        let app = start_with(
            Mode::Reuse,
            "",
            &[
                ("SPIN_VARIABLE_MAIL_PROVIDER", provider),
                ("SPIN_VARIABLE_MAIL_API_KEY", key),
                ("SPIN_VARIABLE_MAIL_DOMAIN", domain),
            ],
        );
        assert_eq!(app.send(ADA).status, 202, "{provider}");
        assert_eq!(app.outbox.messages().iter().find(|m| m.to == ADA.0).unwrap().provider, provider);
    }
}

#[test]
fn twilio_verify_makes_and_checks_the_sms_code() {
    let app = start_with(
        Mode::Reuse,
        "",
        &[
            ("SPIN_VARIABLE_SMS_PROVIDER", "twilio-verify"),
            ("SPIN_VARIABLE_TWILIO_VERIFY_BASE", "{outbox}"),
            ("SPIN_VARIABLE_TWILIO_VERIFY_SERVICE_SID", "VA00000000000000000000000000000000"),
        ],
    );
    let sent = app.send(ADA);
    assert_eq!(sent.status, 202, "{}", sent.body);
    let flow = sent.json()["flow_id"].as_str().unwrap().to_owned();
    let sms = app.outbox.messages().into_iter().find(|m| m.to == ADA.1).unwrap();
    assert_eq!(sms.provider, "twilio-verify");
    let code = sms.code.unwrap();
    let wrong_try = app.verify(&flow, json!({ "sms_code": wrong(&code) }));
    wrong_try.assert_problem(422, "code_invalid");
    assert_eq!(wrong_try.json()["remaining_attempts"], 4);
    let done = app.verify(&flow, json!({ "sms_code": code, "email_code": app.code(ADA.0) }));
    assert_eq!(done.json()["step"], "biometric", "{}", done.body);
    // A decoy never reaches the provider.
    let before = app.outbox.messages().len();
    let decoy = app.send(BANNED);
    assert_eq!((decoy.status, app.outbox.messages().len()), (202, before));
}

#[test]
fn storage_faults_fail_closed() {
    // PostgreSQL refusing the audit row: no code is accepted, the flow does
    // not advance, and the same code works once the database is back.
    let app = start("");
    let flow = app.send(ADA).json()["flow_id"].as_str().unwrap().to_owned();
    app.db.query("REVOKE EXECUTE ON FUNCTION audit.append(text, text, text, text, jsonb) FROM vottery_auth");
    let codes = json!({ "email_code": app.code(ADA.0), "sms_code": app.code(ADA.1) });
    app.verify(&flow, codes.clone()).assert_problem(503, "storage_unavailable");
    let status = app.host().get(&format!("/api/auth/status?flow_id={flow}")).json();
    assert_eq!(status["channels"]["email"]["verified"], false);
    app.send(GRACE).assert_problem(503, "storage_unavailable");
    app.db.query("GRANT EXECUTE ON FUNCTION audit.append(text, text, text, text, jsonb) TO vottery_auth");
    assert_eq!(app.verify(&flow, codes).json()["step"], "biometric");

    // Redis gone: 503, nothing sent. The gateway's rate limiter, which needs
    // the same Redis, refuses before the service runs.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut redis = redis_server(port);
    let url = format!("redis://127.0.0.1:{port}");
    let app = start_with(Mode::Reuse, "", &[("SPIN_VARIABLE_REDIS_URL", &url)]);
    let flow = app.send(ADA).json()["flow_id"].as_str().unwrap().to_owned();
    redis.kill().unwrap();
    redis.wait().unwrap();
    let codes = json!({ "email_code": app.code(ADA.0), "sms_code": app.code(ADA.1) });
    app.verify(&flow, codes).assert_problem(503, "gateway_unavailable");
    app.send(GRACE).assert_problem(503, "gateway_unavailable");
    assert_eq!(app.sent_to(GRACE.0), 0);
}

#[test]
fn forwarded_addresses_count_only_behind_trusted_proxies() {
    let app = start_with(Mode::Reuse, "ip_sends=1", &[("SPIN_VARIABLE_TRUSTED_PROXIES", "127.0.0.1/32")]);
    let send = |pair: (&str, &str), from: &str| {
        let body = json!({ "email": pair.0, "phone": pair.1 }).to_string();
        app.host().send_with("POST", "/api/auth/send-otp", Some(&body), &[("x-forwarded-for", from)])
    };
    assert_eq!(send(ADA, "81.2.69.160").status, 202);
    send(GRACE, "81.2.69.160").assert_problem(429, "rate_limited");
    assert_eq!(send(GRACE, "6.6.6.6, 81.2.69.161").status, 202, "the last untrusted hop is the client");
    let audit = app.db.query("SELECT detail->>'ip' FROM audit.events WHERE action = 'otp.send' ORDER BY id");
    assert_eq!(audit.iter().map(|r| r[0].clone().unwrap()).collect::<Vec<_>>(), ["81.2.69.160", "81.2.69.161"]);

    // Without trusted proxies the header is ignored: every send is 127.0.0.1's.
    let plain = start("ip_sends=1");
    let body = json!({ "email": ADA.0, "phone": ADA.1 }).to_string();
    let first = plain.host().send_with("POST", "/api/auth/send-otp", Some(&body), &[("x-forwarded-for", "1.1.1.1")]);
    assert_eq!(first.status, 202);
    let second = plain.host().send_with("POST", "/api/auth/send-otp", Some(&body), &[("x-forwarded-for", "2.2.2.2")]);
    second.assert_problem(429, "rate_limited");
}

#[test]
fn a_cross_site_simple_request_sends_no_code() {
    let app = start("");
    let body = json!({ "email": ADA.0, "phone": ADA.1 }).to_string();
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let request = format!(
            "POST /api/auth/send-otp HTTP/1.1\r\nHost: localhost\r\nOrigin: https://evil.example\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let reply = raw(&app.host().base, request.as_bytes());
        assert_eq!((reply.status, reply.code().as_deref()), (415, Some("unsupported_media_type")), "{content_type}");
    }
    // A body with no Content-Type at all (a Blob without a type).
    let untyped =
        format!("POST /api/auth/send-otp HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    assert_eq!(raw(&app.host().base, untyped.as_bytes()).status, 415);
    assert_eq!(app.sent_to(ADA.0) + app.sent_to(ADA.1), 0);
    assert!(app.audit().is_empty(), "nothing recorded: {:?}", app.audit());
    assert_eq!(app.send(ADA).status, 202, "JSON still works");
}

#[test]
fn a_client_sent_spin_client_addr_is_not_the_address_counted() {
    let app = start("ip_sends=1");
    let spoofed = |pair: (&str, &str), addr: &str| {
        let body = json!({ "email": pair.0, "phone": pair.1 }).to_string();
        app.host().send_with("POST", "/api/auth/send-otp", Some(&body), &[("spin-client-addr", addr)])
    };
    assert_eq!(spoofed(ADA, "198.51.100.1:4444").status, 202);
    // The host's own address was counted, whatever the client claimed.
    spoofed(GRACE, "198.51.100.2:4444").assert_problem(429, "rate_limited");
    spoofed(INACTIVE, "198.51.100.3:4444").assert_problem(429, "rate_limited");
    let sends = app.db.query("SELECT detail->>'ip' FROM audit.events WHERE action = 'otp.send'");
    assert_eq!(sends, [[Some("127.0.0.1".to_owned())]]);
}

#[test]
fn concurrent_wrong_guesses_never_spend_more_tries_than_the_limit() {
    let app = start("lockout_failures=10,max_attempts=100");
    let flows: Vec<String> = (0..8).map(|_| app.send(GRACE).json()["flow_id"].as_str().unwrap().to_owned()).collect();
    let code = app.code(GRACE.0);
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..80)
            .map(|i| {
                let (app, flow, guess) = (&app, &flows[i % flows.len()], wrong(&code));
                scope.spawn(move || app.verify(flow, json!({ "email_code": guess })).status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // A guess is compared and answered 422, or compared and then lost to a
    // concurrent change of the flow too often (503, still a spent try).
    let judged = answers.iter().filter(|&&s| s == 422 || s == 503).count();
    let locked = answers.iter().filter(|&&s| s == 429).count();
    assert_eq!(judged, 10, "exactly the limit was compared: {answers:?}");
    assert_eq!(judged + locked, 80, "{answers:?}");
    app.send(GRACE).assert_problem(429, "locked_out");
}

#[test]
fn wrong_guesses_on_a_decoy_never_lock_the_member_out() {
    let app = start("lockout_failures=3");
    // Ada's email with a phone that is not hers: a decoy flow.
    let decoy = app.send((ADA.0, "+447911123456")).json()["flow_id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        app.verify(&decoy, json!({ "email_code": "000000" })).assert_problem(422, "code_invalid");
    }
    app.verify(&decoy, json!({ "email_code": "000000" })).assert_problem(429, "locked_out");
    // Ada herself is untouched.
    let real = app.send(ADA);
    assert_eq!(real.status, 202, "{}", real.body);
    let flow = real.json()["flow_id"].as_str().unwrap().to_owned();
    let ok = app.verify(&flow, json!({ "email_code": app.code(ADA.0), "sms_code": app.code(ADA.1) }));
    assert_eq!(ok.json()["step"], "biometric", "{}", ok.body);
}

#[test]
fn lockouts_escalate_and_consecutive_failures_are_capped() {
    let app = start("lockout_failures=2,lockout_seconds=1,lockout_max_seconds=4,failure_cap=5,max_attempts=100");
    let flow = app.send(GRACE).json()["flow_id"].as_str().unwrap().to_owned();
    let guess = wrong(&app.code(GRACE.0));
    let fail_until_locked = || {
        app.verify(&flow, json!({ "email_code": guess })).assert_problem(422, "code_invalid");
        app.verify(&flow, json!({ "email_code": guess })).assert_problem(422, "code_invalid");
        let locked = app.verify(&flow, json!({ "email_code": guess }));
        locked.assert_problem(429, "locked_out");
        locked.header("retry-after").unwrap().parse::<u64>().unwrap()
    };
    assert_eq!(fail_until_locked(), 1);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(fail_until_locked(), 2, "the second lockout lasts twice the first");
    std::thread::sleep(Duration::from_millis(2100));
    // Four consecutive failures so far; the fifth reaches the cap.
    app.verify(&flow, json!({ "email_code": guess })).assert_problem(422, "code_invalid");
    let capped = app.verify(&flow, json!({ "email_code": app.code(GRACE.0) }));
    capped.assert_problem(429, "locked_out");
    assert!(capped.header("retry-after").unwrap().parse::<u64>().unwrap() > 4, "held until the memory passes");
    app.send(GRACE).assert_problem(429, "locked_out");
}
