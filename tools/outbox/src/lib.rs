//! A local outbox standing in for the providers the `auth` service sends
//! codes through. Each API is checked the way the real one checks it
//! (credentials, content type, required fields and their formats) and
//! answers in its own error shape, so a request that passes here has the
//! shape the provider expects. Accepted messages are recorded and shown at
//! `GET /` (a page) and `GET /messages` (JSON, `?to=` to filter).
//!
//! Tests can inject faults: `POST /faults` with
//! `{"provider": "twilio", "status": 503, "delay_ms": 0, "count": 2}` makes
//! the next `count` requests to that provider (`*` for any) wait `delay_ms`
//! and then answer `status` (0 to answer normally after the wait).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

mod mail;
mod twilio;

use mail::{mailgun, postmark, resend, sendgrid};
use twilio::{twilio, verification, verification_check};

/// The credentials each stand-in accepts (the real values' shapes).
#[derive(Debug, Clone, clap::Args)]
pub struct Credentials {
    #[arg(long, env = "OUTBOX_TWILIO_ACCOUNT_SID", default_value = "AC00000000000000000000000000000000")]
    pub twilio_account_sid: String,
    #[arg(long, env = "OUTBOX_TWILIO_AUTH_TOKEN", default_value = "outbox-twilio-token")]
    pub twilio_auth_token: String,
    #[arg(long, env = "OUTBOX_TWILIO_VERIFY_SERVICE_SID", default_value = "VA00000000000000000000000000000000")]
    pub twilio_verify_service_sid: String,
    #[arg(long, env = "OUTBOX_SENDGRID_KEY", default_value = "SG.outbox-key")]
    pub sendgrid_key: String,
    #[arg(long, env = "OUTBOX_POSTMARK_TOKEN", default_value = "outbox-postmark-token")]
    pub postmark_token: String,
    #[arg(long, env = "OUTBOX_MAILGUN_KEY", default_value = "outbox-mailgun-key")]
    pub mailgun_key: String,
    #[arg(long, env = "OUTBOX_MAILGUN_DOMAIN", default_value = "mg.vottery.test")]
    pub mailgun_domain: String,
    #[arg(long, env = "OUTBOX_RESEND_KEY", default_value = "re_outbox_key")]
    pub resend_key: String,
    /// A MaxMind City database for the geolocation stand-in (`GET /<ip>/json`,
    /// ipinfo's shape); without one every address is unknown.
    #[arg(long, env = "OUTBOX_GEOIP")]
    pub geoip: Option<std::path::PathBuf>,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            twilio_account_sid: "AC00000000000000000000000000000000".into(),
            twilio_auth_token: "outbox-twilio-token".into(),
            twilio_verify_service_sid: "VA00000000000000000000000000000000".into(),
            sendgrid_key: "SG.outbox-key".into(),
            postmark_token: "outbox-postmark-token".into(),
            mailgun_key: "outbox-mailgun-key".into(),
            mailgun_domain: "mg.vottery.test".into(),
            resend_key: "re_outbox_key".into(),
            geoip: None,
        }
    }
}

/// A message a provider accepted.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    pub provider: &'static str,
    pub channel: &'static str,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    /// The first run of 6 to 10 digits in the text.
    pub code: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fault {
    provider: String,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

/// The outbox's state.
pub struct Outbox {
    credentials: Credentials,
    messages: Mutex<VecDeque<Message>>,
    faults: Mutex<Vec<Fault>>,
    /// Twilio Verify: the pending code of each number and its wrong checks.
    verifications: Mutex<std::collections::HashMap<String, (String, u32)>>,
    geoip: Option<maxminddb::Reader<Vec<u8>>>,
}

/// The most messages kept (oldest dropped first).
const KEPT: usize = 100_000;
const MAX_BODY: usize = 256 * 1024;

impl Outbox {
    pub fn new(credentials: Credentials) -> Arc<Self> {
        let geoip = credentials.geoip.as_ref().and_then(|path| maxminddb::Reader::open_readfile(path).ok());
        Arc::new(Self {
            geoip,
            credentials,
            messages: Mutex::new(VecDeque::new()),
            faults: Mutex::new(Vec::new()),
            verifications: Mutex::new(std::collections::HashMap::new()),
        })
    }

    pub fn messages(&self) -> Vec<Message> {
        self.messages.lock().map(|m| m.iter().cloned().collect()).unwrap_or_default()
    }

    fn record(&self, mut message: Message) -> Message {
        message.code = code_in(&message.text);
        if let Ok(mut all) = self.messages.lock() {
            if all.len() == KEPT {
                all.pop_front();
            }
            all.push_back(message.clone());
        }
        message
    }

    fn take_fault(&self, provider: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().ok()?;
        let i = faults.iter().position(|f| f.provider == provider || f.provider == "*")?;
        let fault = faults[i].clone();
        faults[i].count -= 1;
        if faults[i].count == 0 {
            faults.remove(i);
        }
        Some(fault)
    }
}

fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).find(|run| (6..=10).contains(&run.len())).map(str::to_owned)
}

/// Serves `outbox` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, outbox: Arc<Outbox>) -> anyhow::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => continue,
        };
        let _ = stream.set_nodelay(true);
        let outbox = outbox.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let outbox = outbox.clone();
                async move { Ok::<_, Infallible>(handle(&outbox, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Starts an outbox on a free loopback port in a thread of its own (for
/// tests); returns its base URL and its state.
pub fn spawn(credentials: Credentials) -> (String, Arc<Outbox>) {
    let outbox = Outbox::new(credentials);
    let (tx, rx) = std::sync::mpsc::channel();
    let state = outbox.clone();
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() else {
            return;
        };
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else { return };
            let _ = tx.send(listener.local_addr().map(|a| a.to_string()).unwrap_or_default());
            let _ = serve(listener, state).await;
        });
    });
    let address = rx.recv().unwrap_or_default();
    (format!("http://{address}"), outbox)
}

type Reply = Response<Full<Bytes>>;

fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn json_reply(status: u16, value: &Value) -> Reply {
    reply(status, "application/json; charset=utf-8", value.to_string())
}

async fn handle(outbox: &Outbox, request: Request<Incoming>) -> Reply {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return json_reply(413, &json!({ "message": "request body too large" })),
    };
    let path = parts.uri.path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let provider = match (&parts.method, segments.as_slice()) {
        (&Method::POST, ["2010-04-01", "Accounts", _, "Messages.json"]) => "twilio",
        (&Method::POST, ["v3", "mail", "send"]) => "sendgrid",
        (&Method::POST, ["email"]) => "postmark",
        (&Method::POST, ["v3", _, "messages"]) => "mailgun",
        (&Method::POST, ["emails"]) => "resend",
        (&Method::POST, ["v2", "Services", _, "Verifications"]) => "twilio-verify",
        (&Method::POST, ["v2", "Services", _, "VerificationCheck"]) => "twilio-verify-check",
        _ => return control(outbox, &parts, &body),
    };
    if let Some(fault) = outbox.take_fault(provider) {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        if fault.status != 0 {
            return json_reply(
                fault.status,
                &json!({ "message": "fault injected by the outbox", "status": fault.status }),
            );
        }
    }
    let request = Call { headers: &parts.headers, body: &body, segments: &segments };
    if provider == "twilio-verify-check" {
        return verification_check(outbox, &request);
    }
    let checked = match provider {
        "twilio-verify" => verification(outbox, &request),
        "twilio" => twilio(&outbox.credentials, &request),
        "sendgrid" => sendgrid(&outbox.credentials, &request),
        "postmark" => postmark(&outbox.credentials, &request),
        "mailgun" => mailgun(&outbox.credentials, &request),
        _ => resend(&outbox.credentials, &request),
    };
    match checked {
        Ok((message, answer)) => answer(&outbox.record(message)),
        Err(refusal) => *refusal,
    }
}

/// The page, the JSON list and the fault switch.
fn control(outbox: &Outbox, parts: &http::request::Parts, body: &[u8]) -> Reply {
    let query = parts.uri.query().unwrap_or_default();
    let to = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "to").map(|(_, v)| v.into_owned());
    match (&parts.method, parts.uri.path()) {
        (&Method::GET, "/messages") => {
            let list: Vec<Message> =
                outbox.messages().into_iter().filter(|m| to.as_ref().is_none_or(|t| &m.to == t)).collect();
            json_reply(200, &json!({ "messages": list }))
        }
        (&Method::DELETE, "/messages") => {
            if let Ok(mut m) = outbox.messages.lock() {
                m.clear();
            }
            reply(204, "text/plain", "")
        }
        (&Method::POST, "/faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(fault) if fault.count > 0 => {
                if let Ok(mut f) = outbox.faults.lock() {
                    f.push(fault);
                }
                reply(204, "text/plain", "")
            }
            _ => json_reply(400, &json!({ "message": "expected {provider, status, delay_ms, count}" })),
        },
        (&Method::DELETE, "/faults") => {
            if let Ok(mut f) = outbox.faults.lock() {
                f.clear();
            }
            reply(204, "text/plain", "")
        }
        (&Method::GET, "/") => reply(200, "text/html; charset=utf-8", page(&outbox.messages())),
        (&Method::GET, "/health") => reply(200, "text/plain", "ok"),
        (&Method::GET, path) if path.ends_with("/json") => geolocate(outbox, &path[1..path.len() - 5]),
        _ => json_reply(404, &json!({ "message": "The requested resource was not found" })),
    }
}

/// The geolocation stand-in: ipinfo's `GET /<ip>/json` answer from the
/// MaxMind database.
fn geolocate(outbox: &Outbox, raw: &str) -> Reply {
    let Ok(ip) = raw.parse::<std::net::IpAddr>() else {
        return json_reply(
            400,
            &json!({ "status": 400, "error": { "title": "Wrong ip", "message": "Please provide a valid IP address" } }),
        );
    };
    let found: Option<Value> = outbox
        .geoip
        .as_ref()
        .and_then(|reader| reader.lookup(ip).ok())
        .and_then(|result| result.decode::<Value>().ok().flatten());
    let Some(record) = found else {
        return json_reply(200, &json!({ "ip": raw, "bogon": true }));
    };
    let name = |v: &Value| v["names"]["en"].as_str().map(str::to_owned);
    let location = &record["location"];
    let loc = match (location["latitude"].as_f64(), location["longitude"].as_f64()) {
        (Some(lat), Some(lon)) => Some(format!("{lat:.4},{lon:.4}")),
        _ => None,
    };
    json_reply(
        200,
        &json!({
            "ip": raw, "city": name(&record["city"]), "region": name(&record["subdivisions"][0]),
            "country": record["country"]["iso_code"], "loc": loc, "timezone": location["time_zone"],
        }),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(messages: &[Message]) -> String {
    let rows: String = messages
        .iter()
        .rev()
        .map(|m| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=code>{}</td><td><b>{}</b><pre>{}</pre></td></tr>",
                escape(&m.at),
                m.provider,
                escape(&m.to),
                escape(&m.from),
                escape(m.code.as_deref().unwrap_or("")),
                escape(&m.subject),
                escape(&m.text)
            )
        })
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=utf-8><meta http-equiv=refresh content=2>\
         <title>Vottery outbox</title><style>body{{font-family:system-ui;margin:2rem}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.4rem;vertical-align:top}}.code{{font:bold 1.4rem monospace}}\
         pre{{white-space:pre-wrap;margin:.3rem 0 0}}</style></head><body><h1>Vottery outbox</h1>\
         <p>{} message(s), newest first. JSON at <a href=/messages>/messages</a>.</p><table><tr><th>at</th>\
         <th>provider</th><th>to</th><th>from</th><th>code</th><th>message</th></tr>{rows}</table></body></html>",
        messages.len()
    )
}

struct Call<'a> {
    headers: &'a http::HeaderMap,
    body: &'a [u8],
    segments: &'a [&'a str],
}

impl Call<'_> {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn content_type_is(&self, expected: &str) -> bool {
        self.header("content-type").split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case(expected))
    }

    fn basic(&self) -> Option<(String, String)> {
        let encoded = self.header("authorization").strip_prefix("Basic ")?;
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }

    fn bearer(&self) -> &str {
        self.header("authorization").strip_prefix("Bearer ").unwrap_or_default()
    }

    fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.body).into_owned().collect()
    }
}

type Answer = fn(&Message) -> Reply;
type Checked = Result<(Message, Answer), Box<Reply>>;

fn refuse(reply: Reply) -> Checked {
    Err(Box::new(reply))
}

fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn message(
    provider: &'static str,
    channel: &'static str,
    id: String,
    to: &str,
    from: &str,
    subject: &str,
    text: &str,
) -> Message {
    Message {
        id,
        provider,
        channel,
        to: to.to_owned(),
        from: from.to_owned(),
        subject: subject.to_owned(),
        text: text.to_owned(),
        code: None,
        at: now().to_rfc3339(),
    }
}

fn hex32() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'))
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_found_in_texts() {
        assert_eq!(code_in("Your code is 042917. It expires in 10 minutes."), Some("042917".into()));
        assert_eq!(code_in("no code 12345 here"), None);
    }

    #[test]
    fn numbers_and_sids() {
        assert!(is_e164("+447912345678") && !is_e164("07912345678") && !is_e164("+0123456789"));
        assert!(is_sid("MG0123456789abcdef0123456789abcdef", "MG") && !is_sid("MG1", "MG"));
    }
}
