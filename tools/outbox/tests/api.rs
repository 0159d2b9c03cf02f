//! The outbox checks requests as the real APIs do: credentials, content
//! type, required fields; and records only what it accepted.
#![allow(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use serde_json::{Value, json};
use vottery_outbox::Credentials;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn post(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    let mut request = agent().post(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut response = request.send(body).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("content-type", "application/json");

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

#[test]
fn twilio_messages_are_checked_like_twilio() {
    let (base, outbox) = vottery_outbox::spawn(Credentials::default());
    let c = Credentials::default();
    let url = format!("{base}/2010-04-01/Accounts/{}/Messages.json", c.twilio_account_sid);
    let auth = basic(&c.twilio_account_sid, &c.twilio_auth_token);
    let send = |auth: &str, body: &str| post(&url, &[("authorization", auth), FORM], body);

    let (status, body) = send(&basic(&c.twilio_account_sid, "wrong"), "To=%2B447912345678&From=%2B15005550006&Body=hi");
    assert_eq!((status, body["code"].as_u64()), (401, Some(20003)));
    for (form, code) in [
        ("From=%2B15005550006&Body=hi", 21604),
        ("To=07912345678&From=%2B15005550006&Body=hi", 21211),
        ("To=%2B447912345678&Body=hi", 21603),
        ("To=%2B447912345678&MessagingServiceSid=MG1&Body=hi", 21701),
        ("To=%2B447912345678&From=%2B15005550006", 21602),
    ] {
        let (status, body) = send(&auth, form);
        assert_eq!((status, body["code"].as_u64()), (400, Some(code)), "{form}");
    }
    let (status, body) = post(&url, &[("authorization", &auth), JSON], "{}");
    assert_eq!(status, 400, "{body}");
    assert!(outbox.messages().is_empty());

    let (status, body) = send(&auth, "To=%2B447912345678&From=%2B15005550006&Body=Your+code+is+042917");
    assert_eq!((status, body["status"].as_str()), (201, Some("queued")));
    assert!(body["sid"].as_str().unwrap().starts_with("SM"));
    let recorded = outbox.messages();
    assert_eq!((recorded.len(), recorded[0].code.as_deref()), (1, Some("042917")));
}

#[test]
fn mail_apis_are_checked_like_theirs() {
    let (base, outbox) = vottery_outbox::spawn(Credentials::default());
    let c = Credentials::default();
    let grid = format!("{base}/v3/mail/send");
    let good = json!({
        "personalizations": [{"to": [{"email": "ada@example.com"}]}], "from": {"email": "no-reply@vottery.test"},
        "subject": "S", "content": [{"type": "text/plain", "value": "code 123456"}],
    });
    let bearer = format!("Bearer {}", c.sendgrid_key);
    assert_eq!(post(&grid, &[("authorization", "Bearer nope"), JSON], &good.to_string()).0, 401);
    let mut no_from = good.clone();
    no_from.as_object_mut().unwrap().remove("from");
    let (status, body) = post(&grid, &[("authorization", &bearer), JSON], &no_from.to_string());
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("from")));
    assert_eq!(post(&grid, &[("authorization", &bearer), JSON], &good.to_string()).0, 202);

    let mark = format!("{base}/email");
    let token = ("x-postmark-server-token", c.postmark_token.as_str());
    let accept = ("accept", "application/json");
    let email = json!({"From": "a@vottery.test", "To": "ada@example.com", "Subject": "S", "TextBody": "123456"});
    assert_eq!(post(&mark, &[("x-postmark-server-token", "x"), JSON, accept], &email.to_string()).1["ErrorCode"], 10);
    let (status, body) =
        post(&mark, &[token, JSON, accept], &json!({"From": "a@vottery.test", "To": "b@x.io"}).to_string());
    assert_eq!((status, body["ErrorCode"].as_u64()), (422, Some(300)));
    assert_eq!(post(&mark, &[token, JSON, accept], &email.to_string()).1["Message"], "OK");

    let gun = format!("{base}/v3/{}/messages", c.mailgun_domain);
    let key = basic("api", &c.mailgun_key);
    assert_eq!(post(&gun, &[("authorization", &basic("api", "x")), FORM], "from=a").0, 401);
    assert_eq!(
        post(&gun, &[("authorization", &key), FORM], "from=a%40x.io&to=b%40x.io&text=1").1["message"],
        "'subject' parameter is missing"
    );
    let other = format!("{base}/v3/other.domain/messages");
    assert_eq!(post(&other, &[("authorization", &key), FORM], "from=a").0, 404);
    let (status, body) =
        post(&gun, &[("authorization", &key), FORM], "from=a%40x.io&to=b%40x.io&subject=S&text=654321");
    assert_eq!((status, body["message"].as_str()), (200, Some("Queued. Thank you.")));

    let resend = format!("{base}/emails");
    let key = format!("Bearer {}", c.resend_key);
    assert_eq!(post(&resend, &[JSON], "{}").0, 401);
    assert_eq!(post(&resend, &[("authorization", "Bearer re_x"), JSON], "{}").0, 403);
    let (status, body) =
        post(&resend, &[("authorization", &key), JSON], &json!({"from": "a@x.io", "to": ["b@x.io"]}).to_string());
    assert_eq!((status, body["name"].as_str()), (422, Some("missing_required_field")));
    let ok = json!({"from": "a@x.io", "to": ["b@x.io"], "subject": "S", "text": "111222"});
    assert_eq!(post(&resend, &[("authorization", &key), JSON], &ok.to_string()).0, 200);

    let codes: Vec<_> = outbox.messages().into_iter().filter_map(|m| m.code).collect();
    assert_eq!(codes, ["123456", "123456", "654321", "111222"]);
}

#[test]
fn faults_delay_or_replace_answers_then_wear_off() {
    let (base, _outbox) = vottery_outbox::spawn(Credentials::default());
    let (status, _) = post(&format!("{base}/faults"), &[JSON], r#"{"provider": "resend", "status": 503, "count": 1}"#);
    assert_eq!(status, 204);
    let key = format!("Bearer {}", Credentials::default().resend_key);
    let ok = json!({"from": "a@x.io", "to": ["b@x.io"], "subject": "S", "text": "111222"}).to_string();
    assert_eq!(post(&format!("{base}/emails"), &[("authorization", &key), JSON], &ok).0, 503);
    assert_eq!(post(&format!("{base}/emails"), &[("authorization", &key), JSON], &ok).0, 200);
}

#[test]
fn geolocation_answers_from_the_maxmind_test_database() {
    let database =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/geoip/GeoIP2-City-Test.mmdb");
    let (base, _) = vottery_outbox::spawn(Credentials { geoip: Some(database), ..Credentials::default() });
    let get =
        |path: &str| -> Value { agent().get(&format!("{base}{path}")).call().unwrap().body_mut().read_json().unwrap() };
    let london = get("/81.2.69.160/json");
    assert_eq!((london["country"].as_str(), london["city"].as_str()), (Some("GB"), Some("London")), "{london}");
    assert_eq!(london["region"], "England");
    assert_eq!(get("/127.0.0.1/json")["bogon"], true);
}
