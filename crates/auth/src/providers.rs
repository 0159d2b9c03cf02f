//! The provider requests that carry codes, as plain data (the component
//! sends them): Twilio Programmable Messaging, or Twilio Verify (which makes
//! and checks the code itself), for SMS; SendGrid v3, Postmark, Mailgun or
//! Resend for email.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use vottery_validate::{Email, PhoneE164};

use crate::messages::Message;

/// An HTTP request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// What a provider's answer means for delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Accepted,
    /// Worth another try after a pause (throttled or a server fault).
    Retry,
    /// The request itself was refused; trying again will not help.
    Rejected,
}

pub fn classify(status: u16) -> Delivery {
    match status {
        200..=299 => Delivery::Accepted,
        408 | 425 | 429 | 500..=599 => Delivery::Retry,
        _ => Delivery::Rejected,
    }
}

/// Who an SMS comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A Twilio phone number or alphanumeric sender id (`From`).
    From(String),
    /// A Messaging Service (`MessagingServiceSid`), which picks the number.
    MessagingService(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsProvider {
    TwilioMessaging { base: String, account_sid: String, auth_token: String, sender: Sender },
    TwilioVerify { base: String, account_sid: String, auth_token: String, service_sid: String },
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    out.finish().into_bytes()
}

fn base_url(base: &str) -> Result<String, String> {
    let base = base.trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 10 {
        return Err(format!("`{base}` is not an http(s) base URL"));
    }
    Ok(base.to_owned())
}

/// The settings of the SMS provider, as the variables hold them.
#[derive(Debug, Clone, Default)]
pub struct SmsSettings<'a> {
    /// `twilio` (Programmable Messaging) or `twilio-verify`.
    pub provider: &'a str,
    pub api_base: &'a str,
    pub verify_base: &'a str,
    pub account_sid: &'a str,
    pub auth_token: &'a str,
    pub messaging_service_sid: &'a str,
    pub from: &'a str,
    pub verify_service_sid: &'a str,
}

fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34 && value.starts_with(prefix) && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl SmsProvider {
    /// `twilio` with either a Messaging Service SID (preferred when both are
    /// set) or a From number; or `twilio-verify` with a Verify service SID.
    pub fn configure(s: &SmsSettings<'_>) -> Result<Self, String> {
        if !is_sid(s.account_sid, "AC") || s.auth_token.is_empty() {
            return Err("twilio_account_sid (AC + 32 hex) and twilio_auth_token are required".into());
        }
        let (account_sid, auth_token) = (s.account_sid.to_owned(), s.auth_token.to_owned());
        if s.provider == "twilio-verify" {
            if !is_sid(s.verify_service_sid, "VA") {
                return Err("twilio_verify_service_sid (VA + 32 hex) is required for twilio-verify".into());
            }
            let service_sid = s.verify_service_sid.to_owned();
            return Ok(Self::TwilioVerify { base: base_url(s.verify_base)?, account_sid, auth_token, service_sid });
        }
        if s.provider != "twilio" {
            return Err(format!("sms_provider `{}` is not twilio or twilio-verify", s.provider));
        }
        let sender = match (s.messaging_service_sid.trim(), s.from.trim()) {
            (sid, _) if !sid.is_empty() => Sender::MessagingService(sid.to_owned()),
            (_, from) if !from.is_empty() => Sender::From(from.to_owned()),
            _ => return Err("twilio_messaging_service_sid or twilio_from is required".into()),
        };
        Ok(Self::TwilioMessaging { base: base_url(s.api_base)?, account_sid, auth_token, sender })
    }

    /// Whether the provider makes and checks the codes itself.
    pub fn checks_codes(&self) -> bool {
        matches!(self, Self::TwilioVerify { .. })
    }

    /// The request that sends `text` to `to` (Verify composes its own text,
    /// in `language`).
    pub fn message(&self, to: &PhoneE164, text: &str, language: &str) -> Outgoing {
        match self {
            Self::TwilioMessaging { base, account_sid, auth_token, sender } => {
                let (field, value) = match sender {
                    Sender::From(v) => ("From", v.as_str()),
                    Sender::MessagingService(v) => ("MessagingServiceSid", v.as_str()),
                };
                twilio_form(
                    format!("{base}/2010-04-01/Accounts/{account_sid}/Messages.json"),
                    account_sid,
                    auth_token,
                    &[("To", to.as_str()), (field, value), ("Body", text)],
                )
            }
            Self::TwilioVerify { base, account_sid, auth_token, service_sid } => twilio_form(
                format!("{base}/v2/Services/{service_sid}/Verifications"),
                account_sid,
                auth_token,
                &[("To", to.as_str()), ("Channel", "sms"), ("Locale", language)],
            ),
        }
    }

    /// The request that asks the provider whether `code` is `to`'s (Verify
    /// only); [`approved`] reads its answer.
    pub fn check(&self, to: &PhoneE164, code: &str) -> Option<Outgoing> {
        match self {
            Self::TwilioMessaging { .. } => None,
            Self::TwilioVerify { base, account_sid, auth_token, service_sid } => Some(twilio_form(
                format!("{base}/v2/Services/{service_sid}/VerificationCheck"),
                account_sid,
                auth_token,
                &[("To", to.as_str()), ("Code", code)],
            )),
        }
    }
}

/// Whether a Verify check answer approves the code.
pub fn approved(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v["status"] == "approved")
}

fn twilio_form(url: String, account_sid: &str, auth_token: &str, fields: &[(&str, &str)]) -> Outgoing {
    Outgoing {
        method: "POST",
        url,
        headers: vec![
            ("authorization", basic(account_sid, auth_token)),
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("accept", "application/json".into()),
        ],
        body: form(fields),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailProvider {
    SendGrid { base: String, api_key: String },
    Postmark { base: String, server_token: String },
    Mailgun { base: String, domain: String, api_key: String },
    Resend { base: String, api_key: String },
}

/// `Name <address>` or a bare address, split.
fn mailbox(from: &str) -> (Option<&str>, &str) {
    match from.trim().rsplit_once('<') {
        Some((name, rest)) => {
            let name = name.trim().trim_matches('"').trim();
            ((!name.is_empty()).then_some(name), rest.trim_end_matches('>').trim())
        }
        None => (None, from.trim()),
    }
}

impl MailProvider {
    /// `provider` is `sendgrid`, `postmark`, `mailgun` (needs `domain`) or
    /// `resend`.
    pub fn configure(provider: &str, base: &str, api_key: &str, domain: &str) -> Result<Self, String> {
        if api_key.is_empty() {
            return Err("mail_api_key is required".into());
        }
        let (base, api_key) = (base_url(base)?, api_key.to_owned());
        Ok(match provider {
            "sendgrid" => Self::SendGrid { base, api_key },
            "postmark" => Self::Postmark { base, server_token: api_key },
            "mailgun" if !domain.is_empty() => Self::Mailgun { base, domain: domain.to_owned(), api_key },
            "mailgun" => return Err("mail_domain is required for mailgun".into()),
            "resend" => Self::Resend { base, api_key },
            other => return Err(format!("mail_provider `{other}` is not sendgrid, postmark, mailgun or resend")),
        })
    }

    pub fn message(&self, from: &str, to: &Email, message: &Message) -> Outgoing {
        let json_body = |v: serde_json::Value| v.to_string().into_bytes();
        let json_headers = |auth: (&'static str, String)| {
            vec![auth, ("content-type", "application/json".into()), ("accept", "application/json".into())]
        };
        match self {
            Self::SendGrid { base, api_key } => {
                let (name, address) = mailbox(from);
                let mut sender = json!({ "email": address });
                if let Some(name) = name {
                    sender["name"] = name.into();
                }
                Outgoing {
                    method: "POST",
                    url: format!("{base}/v3/mail/send"),
                    headers: json_headers(("authorization", format!("Bearer {api_key}"))),
                    body: json_body(json!({
                        "personalizations": [{ "to": [{ "email": to.as_str() }] }],
                        "from": sender,
                        "subject": message.subject,
                        "content": [{ "type": "text/plain", "value": message.text }],
                    })),
                }
            }
            Self::Postmark { base, server_token } => Outgoing {
                method: "POST",
                url: format!("{base}/email"),
                headers: json_headers(("x-postmark-server-token", server_token.clone())),
                body: json_body(json!({
                    "From": from, "To": to.as_str(), "Subject": message.subject,
                    "TextBody": message.text, "MessageStream": "outbound",
                })),
            },
            Self::Mailgun { base, domain, api_key } => Outgoing {
                method: "POST",
                url: format!("{base}/v3/{domain}/messages"),
                headers: vec![
                    ("authorization", basic("api", api_key)),
                    ("content-type", "application/x-www-form-urlencoded".into()),
                ],
                body: form(&[
                    ("from", from),
                    ("to", to.as_str()),
                    ("subject", &message.subject),
                    ("text", &message.text),
                ]),
            },
            Self::Resend { base, api_key } => Outgoing {
                method: "POST",
                url: format!("{base}/emails"),
                headers: json_headers(("authorization", format!("Bearer {api_key}"))),
                body: json_body(json!({
                    "from": from, "to": [to.as_str()], "subject": message.subject, "text": message.text,
                })),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    fn settings<'a>(provider: &'a str, from: &'a str, service: &'a str) -> SmsSettings<'a> {
        SmsSettings {
            provider,
            api_base: "https://api.twilio.com/",
            verify_base: "https://verify.twilio.com",
            account_sid: SID,
            auth_token: "tok",
            messaging_service_sid: service,
            from,
            verify_service_sid: "VA0123456789abcdef0123456789abcdef",
        }
    }

    #[test]
    fn twilio_messages_are_form_posts_with_basic_auth() {
        let sms = SmsProvider::configure(&settings("twilio", "+15005550006", "")).unwrap();
        let uk = PhoneE164::parse("+44 7912 345678", None).unwrap();
        let out = sms.message(&uk, "Code 1 & 2", "en");
        assert_eq!(out.url, format!("https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"));
        assert_eq!(out.headers[0].1, format!("Basic {}", STANDARD.encode(format!("{SID}:tok"))));
        assert_eq!(String::from_utf8(out.body).unwrap(), "To=%2B447912345678&From=%2B15005550006&Body=Code+1+%26+2");
        assert!(sms.check(&uk, "123456").is_none() && !sms.checks_codes());
        let service = SmsProvider::configure(&settings("twilio", "+1", "MG1")).unwrap();
        let body = String::from_utf8(service.message(&uk, "x", "en").body).unwrap();
        assert!(body.contains("MessagingServiceSid=MG1"));
        let mut bad = settings("twilio", "+1", "");
        bad.account_sid = "nope";
        assert!(SmsProvider::configure(&bad).is_err());
        assert!(SmsProvider::configure(&settings("twilio", "", "")).is_err());
        assert!(SmsProvider::configure(&settings("carrier-pigeon", "+1", "")).is_err());
    }

    #[test]
    fn twilio_verify_sends_and_checks() {
        let verify = SmsProvider::configure(&settings("twilio-verify", "", "")).unwrap();
        let uk = PhoneE164::parse("+447912345678", None).unwrap();
        let start = verify.message(&uk, "ignored", "fr");
        assert_eq!(start.url, "https://verify.twilio.com/v2/Services/VA0123456789abcdef0123456789abcdef/Verifications");
        assert_eq!(String::from_utf8(start.body).unwrap(), "To=%2B447912345678&Channel=sms&Locale=fr");
        let check = verify.check(&uk, "123456").unwrap();
        assert!(check.url.ends_with("/VerificationCheck"));
        assert_eq!(String::from_utf8(check.body).unwrap(), "To=%2B447912345678&Code=123456");
        assert!(approved(br#"{"status": "approved", "valid": true}"#));
        assert!(!approved(br#"{"status": "pending", "valid": false}"#) && !approved(b"nope"));
        let mut no_service = settings("twilio-verify", "", "");
        no_service.verify_service_sid = "";
        assert!(SmsProvider::configure(&no_service).is_err());
    }

    #[test]
    fn each_mail_api_gets_its_own_shape() {
        let to = Email::parse("ada@example.com").unwrap();
        let msg = Message { subject: "S".into(), text: "T 123456".into() };
        let from = "Vottery <no-reply@vottery.test>";
        let grid = MailProvider::configure("sendgrid", "https://api.sendgrid.com", "SG.k", "").unwrap();
        let body: serde_json::Value = serde_json::from_slice(&grid.message(from, &to, &msg).body).unwrap();
        assert_eq!(body["personalizations"][0]["to"][0]["email"], "ada@example.com");
        assert_eq!(
            (body["from"]["email"].as_str(), body["from"]["name"].as_str()),
            (Some("no-reply@vottery.test"), Some("Vottery"))
        );
        let mark = MailProvider::configure("postmark", "https://api.postmarkapp.com", "pm", "").unwrap();
        let out = mark.message(from, &to, &msg);
        assert_eq!(
            (out.url.as_str(), out.headers[0].0),
            ("https://api.postmarkapp.com/email", "x-postmark-server-token")
        );
        let gun = MailProvider::configure("mailgun", "https://api.mailgun.net", "key", "mg.vottery.test").unwrap();
        assert_eq!(gun.message(from, &to, &msg).url, "https://api.mailgun.net/v3/mg.vottery.test/messages");
        let resend = MailProvider::configure("resend", "https://api.resend.com", "re_k", "").unwrap();
        let body: serde_json::Value = serde_json::from_slice(&resend.message(from, &to, &msg).body).unwrap();
        assert_eq!(body["to"][0], "ada@example.com");
        for (name, domain) in [("mailgun", ""), ("smtp", "")] {
            assert!(MailProvider::configure(name, "https://x.example", "k", domain).is_err());
        }
        assert!(MailProvider::configure("sendgrid", "ftp://x", "k", "").is_err());
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(201), Delivery::Accepted);
        assert_eq!(classify(202), Delivery::Accepted);
        for s in [429, 500, 502, 503] {
            assert_eq!(classify(s), Delivery::Retry);
        }
        for s in [400, 401, 403, 404, 422] {
            assert_eq!(classify(s), Delivery::Rejected);
        }
    }
}
