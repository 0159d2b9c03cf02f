//! `TestApp::spawn(options)`: the whole app (the project's `spin.toml`,
//! with or without the probe fixture) on one or more hosts over one fresh
//! database, one Redis namespace, one set of secrets and one outbox
//! standing in for Twilio and the mail API, as replicas of one deployment
//! share them.
//!
//! ```ignore
//! let app = TestApp::spawn(Options::new().mode(Mode::PerRequest).env("SPIN_VARIABLE_OTP_POLICY", "max_sends=2"));
//! let token = app.enrolment_token(("ada@example.com", "+447912345678"));
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use vottery_outbox::{Credentials, Outbox};
use vottery_passkeys_core::soft::{Format, SoftAuthenticator};

use crate::support::*;

pub const RP: &str = "vottery.test";
pub const ORIGIN: &str = "https://vottery.test";
pub const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

/// The app's secrets in every test.
pub const MASTER_KEY: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
pub const CONTACT_PEPPER: &str = "a-test-pepper-of-at-least-32-bytes!";
pub const OTP_KEY: &str = "an-otp-key-of-at-least-thirty-two-bytes";
pub const FINGERPRINT_KEY: &str = "a-fingerprint-key-of-at-least-32-bytes";

/// What the hosts serve.
#[derive(Debug, Clone)]
pub enum Manifest {
    /// The project's `spin.toml` (sources made absolute) with its runtime
    /// config.
    App,
    /// The same plus the probe fixture on `/probe/...`, allowed to chain to
    /// these services (comma-separated), see [`app_with_probe`].
    WithProbe(String),
}

/// Given the outbox's address, the providers' address the app is given.
pub type Providers<'a> = Box<dyn FnOnce(&str) -> String + 'a>;

/// How [`TestApp::spawn`] sets the app up. `Options::default()`: one host
/// in `Mode::Reuse`, the app with the probe chaining to `devices`, the
/// settings of [`TestApp::spawn`].
pub struct Options<'a> {
    pub replicas: usize,
    pub mode: Mode,
    pub manifest: Manifest,
    /// Settings added to (or replacing) the app's; `{outbox}` in a value is
    /// the providers' address.
    pub env: Vec<(String, String)>,
    /// Given the outbox's address, the address the app is to use for the
    /// providers (a proxy in front of the outbox, say).
    pub providers: Option<Providers<'a>>,
    /// A database made ready by the test (else a fresh one, migrated).
    pub database: Option<Database>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            replicas: 1,
            mode: Mode::Reuse,
            manifest: Manifest::WithProbe("devices".into()),
            env: Vec::new(),
            providers: None,
            database: None,
        }
    }
}

impl<'a> Options<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas;
        self
    }

    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    pub fn manifest(mut self, manifest: Manifest) -> Self {
        self.manifest = manifest;
        self
    }

    /// The project's `spin.toml` alone, without the probe.
    pub fn app(self) -> Self {
        self.manifest(Manifest::App)
    }

    /// The probe chaining to `services` (comma-separated).
    pub fn probe(self, services: &str) -> Self {
        self.manifest(Manifest::WithProbe(services.into()))
    }

    /// One setting added or replaced (`{outbox}`: the providers' address).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Several, as [`Options::env`].
    pub fn envs(self, settings: &[(&str, &str)]) -> Self {
        settings.iter().fold(self, |options, (name, value)| options.env(name, value))
    }

    /// The providers reached at the address `via` gives for the outbox's.
    pub fn providers_via(mut self, via: impl FnOnce(&str) -> String + 'a) -> Self {
        self.providers = Some(Box::new(via));
        self
    }

    /// The app on `database` (made ready by the test) instead of a fresh one.
    pub fn database(mut self, database: Database) -> Self {
        self.database = Some(database);
        self
    }
}

pub struct TestApp {
    /// Declared first: the hosts stop before the database goes.
    pub hosts: Vec<Host>,
    pub outbox: Arc<Outbox>,
    /// The outbox's own address (its `/faults` and the like).
    pub outbox_base: String,
    pub db: Database,
    pub namespace: String,
    manifest: PathBuf,
    mode: Mode,
    env: Vec<(String, String)>,
}

/// What steps 1-3 leave a member with.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub session_id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    /// The app as `options` say, with its own database (unless given one:
    /// fresh, migrated, with the development fixture), Redis namespace and outbox, and these settings
    /// unless `options.env` replaces them: the secrets above, the database
    /// and namespace, Twilio and SendGrid at the outbox, and the passkeys'
    /// relying party [`RP`] at [`ORIGIN`].
    pub fn spawn(options: Options<'_>) -> TestApp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let (outbox_base, outbox) = vottery_outbox::spawn(Credentials::default());
        let providers = match options.providers {
            Some(via) => via(&outbox_base),
            None => outbox_base.clone(),
        };
        let db = options.database.unwrap_or_else(Database::migrated);
        let namespace = format!("test-app-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let credentials = Credentials::default();
        let mut env: Vec<(String, String)> = [
            ("SPIN_VARIABLE_MASTER_KEY", MASTER_KEY),
            ("SPIN_VARIABLE_CONTACT_PEPPER", CONTACT_PEPPER),
            ("SPIN_VARIABLE_OTP_KEY", OTP_KEY),
            ("SPIN_VARIABLE_FINGERPRINT_KEY", FINGERPRINT_KEY),
            ("SPIN_VARIABLE_PG_DATABASE", db.name.as_str()),
            ("SPIN_VARIABLE_REDIS_NAMESPACE", namespace.as_str()),
            ("SPIN_VARIABLE_TWILIO_API_BASE", providers.as_str()),
            ("SPIN_VARIABLE_TWILIO_ACCOUNT_SID", credentials.twilio_account_sid.as_str()),
            ("SPIN_VARIABLE_TWILIO_AUTH_TOKEN", credentials.twilio_auth_token.as_str()),
            ("SPIN_VARIABLE_TWILIO_FROM", "+15005550006"),
            ("SPIN_VARIABLE_MAIL_PROVIDER", "sendgrid"),
            ("SPIN_VARIABLE_MAIL_API_BASE", providers.as_str()),
            ("SPIN_VARIABLE_MAIL_API_KEY", credentials.sendgrid_key.as_str()),
            ("SPIN_VARIABLE_PASSKEY_RP_ID", RP),
            ("SPIN_VARIABLE_PASSKEY_ORIGINS", ORIGIN),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (name, value) in options.env {
            env.retain(|(k, _)| *k != name);
            env.push((name, value.replace("{outbox}", &providers)));
        }
        let manifest = match &options.manifest {
            Manifest::App => app_manifest(),
            Manifest::WithProbe(services) => app_with_probe(services),
        };
        let mut app =
            TestApp { hosts: Vec::new(), outbox, outbox_base, db, namespace, manifest, mode: options.mode, env };
        app.hosts = (0..options.replicas).map(|_| app.start_replica()).collect();
        app
    }

    /// One more host of the app, with the same settings.
    pub fn start_replica(&self) -> Host {
        let rc = self.manifest.with_file_name("runtime-config.toml");
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Host::start(&self.manifest, Some(&rc), self.mode, &env)
    }

    /// The value of a setting the hosts are given.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Replica 0.
    pub fn host(&self) -> &Host {
        &self.hosts[0]
    }

    /// A POST of `body` to replica 0, with no other header.
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.host().send("POST", path, Some(&body.to_string()))
    }

    /// A POST to replica 0, from an iPhone.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_on(0, path, body)
    }

    /// A POST to replica `on`, from an iPhone.
    pub fn post_on(&self, on: usize, path: &str, body: &Value) -> Reply {
        self.hosts[on].send_with("POST", path, Some(&body.to_string()), &[("user-agent", IPHONE)])
    }

    /// A request to replica 0 with an access token (`Bearer ` before it or not).
    pub fn as_member(&self, token: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.as_member_on(0, token, method, path, body)
    }

    /// [`TestApp::as_member`] on replica `on`.
    pub fn as_member_on(&self, on: usize, token: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let bearer = if token.starts_with("Bearer ") { token.to_owned() } else { format!("Bearer {token}") };
        let body = body.map(Value::to_string);
        self.hosts[on].send_with(method, path, body.as_deref(), &[("authorization", &bearer)])
    }

    /// A POST to an internal route (`users.spin.internal/internal/link`, say)
    /// through the probe, as `auth` would make it.
    pub fn as_auth(&self, service_path: &str, body: &Value) -> Reply {
        self.host().send_with(
            "POST",
            &format!("/probe/forward?url=http://{service_path}"),
            Some(&body.to_string()),
            &[("vottery-caller", "auth")],
        )
    }

    /// The last code the outbox delivered to `to`.
    pub fn code(&self, to: &str) -> String {
        let messages = self.outbox.messages();
        let last = messages.iter().rev().find(|m| m.to == to).unwrap_or_else(|| panic!("nothing sent to {to}"));
        last.code.clone().unwrap()
    }

    /// How many messages the outbox delivered to `to`.
    pub fn sent_to(&self, to: &str) -> usize {
        self.outbox.messages().iter().filter(|m| m.to == to).count()
    }

    /// Has the outbox fail as `fault` says (its `/faults`).
    pub fn fault(&self, fault: Value) {
        let response = ureq::post(&format!("{}/faults", self.outbox_base)).send_json(&fault).unwrap();
        assert_eq!(response.status(), 204);
    }

    /// One number the database answers.
    pub fn count(&self, sql: &str) -> i64 {
        self.db.query(sql)[0][0].as_deref().unwrap().parse().unwrap()
    }

    /// Steps 1 and 2 for `contacts` on replica 0, from an iPhone: the
    /// enrolment token.
    pub fn enrolment_token(&self, contacts: (&str, &str)) -> String {
        let sent = self.post("/api/auth/send-otp", &json!({ "email": contacts.0, "phone": contacts.1 }));
        assert_eq!(sent.status, 202, "{}", sent.body);
        let flow = sent.json()["flow_id"].as_str().unwrap().to_owned();
        let codes = json!({ "flow_id": flow, "email_code": self.code(contacts.0), "sms_code": self.code(contacts.1) });
        let verified = self.post("/api/auth/verify-otp", &codes);
        assert_eq!(verified.status, 200, "{}", verified.body);
        verified.json()["enrolment_token"].as_str().unwrap().to_owned()
    }

    /// Registration options on replica 0.
    pub fn enrol_options(&self, token: &str, device: &str) -> Reply {
        self.enrol_options_on(0, token, device)
    }

    fn enrol_options_on(&self, on: usize, token: &str, device: &str) -> Reply {
        self.post_on(
            on,
            "/api/auth/capture-biometric/options",
            &json!({ "enrolment_token": token, "device_id": device }),
        )
    }

    /// Registration options then the authenticator's answer, on replica 0
    /// (a native app: the refresh token in the body).
    pub fn enrol(&self, token: &str, device: &str, auth: &mut SoftAuthenticator, format: Format) -> Reply {
        self.enrol_on((0, 0), token, device, auth, format)
    }

    /// Registration options on `options_on`, the authenticator's answer on
    /// `create_on`.
    pub fn enrol_on(
        &self,
        (options_on, create_on): (usize, usize),
        token: &str,
        device: &str,
        auth: &mut SoftAuthenticator,
        format: Format,
    ) -> Reply {
        let options = self.enrol_options_on(options_on, token, device);
        assert_eq!(options.status, 200, "{}", options.body);
        let credential = auth.register(&options.json()["publicKey"], format);
        let body = json!({ "credential": credential, "device": { "native_app": true } });
        self.post_on(create_on, "/api/auth/capture-biometric", &body)
    }

    /// A member's steps 1-3 on replica 0 (codes, then a passkey of `auth`
    /// on `device`): their tokens.
    pub fn open_session(&self, contacts: (&str, &str), device: &str, auth: &mut SoftAuthenticator) -> Session {
        let token = self.enrolment_token(contacts);
        let enrolled = self.enrol(&token, device, auth, Format::None);
        assert_eq!(enrolled.status, 201, "{}", enrolled.body);
        let answer = enrolled.json();
        let text = |name: &str| answer[name].as_str().unwrap().to_owned();
        Session {
            user_id: text("user_id"),
            session_id: text("session_id"),
            access: text("access_token"),
            refresh: text("refresh_token"),
        }
    }

    /// A returning member's sign-in on replica 0.
    pub fn sign_in(&self, device: &str, auth: &mut SoftAuthenticator, user: &[u8]) -> Reply {
        self.sign_in_on((0, 0), device, auth, user)
    }

    /// A returning member's sign-in: options on `options_on`, assertion on `assert_on`.
    pub fn sign_in_on(
        &self,
        (options_on, assert_on): (usize, usize),
        device: &str,
        auth: &mut SoftAuthenticator,
        user: &[u8],
    ) -> Reply {
        let options = self.post_on(options_on, "/api/auth/assert-biometric/options", &json!({ "device_id": device }));
        assert_eq!(options.status, 200, "{}", options.body);
        let credential = auth.assert(&options.json()["publicKey"], user);
        self.post_on(assert_on, "/api/auth/assert-biometric", &json!({ "device_id": device, "credential": credential }))
    }

    /// A refresh on replica 0, from an iPhone.
    pub fn refresh(&self, device: &str, token: &str) -> Reply {
        self.refresh_on(0, device, token)
    }

    /// A refresh on replica `on`, from an iPhone.
    pub fn refresh_on(&self, on: usize, device: &str, token: &str) -> Reply {
        self.post_on(on, "/api/auth/refresh-token", &json!({ "device_id": device, "refresh_token": token }))
    }
}

/// The project's `spin.toml` (sources made absolute) and runtime config in
/// a scratch directory, the components built.
pub fn app_manifest() -> PathBuf {
    wasm("vottery_auth");
    let root = workspace();
    let text = std::fs::read_to_string(root.join("spin.toml"))
        .unwrap()
        .replace("source = \"target/", &format!("source = \"{}/target/", root.display()));
    let rc = std::fs::read_to_string(root.join("runtime-config.toml")).unwrap();
    write_app(&text, Some(&rc)).0
}

/// The claims of a token (`Bearer ` before it or not).
pub fn claims(token: &str) -> Value {
    let payload = token.trim_start_matches("Bearer ").split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The WebAuthn user handle of a user id.
pub fn user_handle(user_id: &str) -> Vec<u8> {
    let hex: String = user_id.chars().filter(|c| *c != '-').collect();
    (0..16).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}
