//! `TestApp::spawn`: the whole app (the project's `spin.toml` with the
//! probe) on one or more hosts over one fresh database, one Redis
//! namespace, one set of secrets and one outbox standing in for Twilio and
//! the mail API, as replicas of one deployment share them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use vottery_outbox::{Credentials, Outbox};
use vottery_passkeys_core::soft::{Format, SoftAuthenticator};

use crate::support::*;

pub const RP: &str = "vottery.test";
pub const ORIGIN: &str = "https://vottery.test";
pub const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

pub struct TestApp {
    pub hosts: Vec<Host>,
    pub outbox: Arc<Outbox>,
    pub db: Database,
    manifest: PathBuf,
    mode: Mode,
    env: Vec<(String, String)>,
}

impl TestApp {
    /// `replicas` hosts of the app in `mode`.
    pub fn spawn(replicas: usize, mode: Mode) -> TestApp {
        Self::spawn_with(replicas, mode, |_| Vec::new())
    }

    /// As `spawn`, with settings added (or replaced) by `more`, which is
    /// given the outbox's address.
    pub fn spawn_with(replicas: usize, mode: Mode, more: impl FnOnce(&str) -> Vec<(String, String)>) -> TestApp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let (outbox_base, outbox) = vottery_outbox::spawn(Credentials::default());
        let db = Database::migrated();
        let namespace = format!("test-app-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let credentials = Credentials::default();
        let mut env: Vec<(String, String)> = [
            ("SPIN_VARIABLE_MASTER_KEY", "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"),
            ("SPIN_VARIABLE_CONTACT_PEPPER", "a-test-pepper-of-at-least-32-bytes!"),
            ("SPIN_VARIABLE_OTP_KEY", "an-otp-key-of-at-least-thirty-two-bytes"),
            ("SPIN_VARIABLE_FINGERPRINT_KEY", "a-fingerprint-key-of-at-least-32-bytes"),
            ("SPIN_VARIABLE_PG_DATABASE", db.name.as_str()),
            ("SPIN_VARIABLE_REDIS_NAMESPACE", namespace.as_str()),
            ("SPIN_VARIABLE_TWILIO_API_BASE", outbox_base.as_str()),
            ("SPIN_VARIABLE_TWILIO_ACCOUNT_SID", credentials.twilio_account_sid.as_str()),
            ("SPIN_VARIABLE_TWILIO_AUTH_TOKEN", credentials.twilio_auth_token.as_str()),
            ("SPIN_VARIABLE_TWILIO_FROM", "+15005550006"),
            ("SPIN_VARIABLE_MAIL_API_BASE", outbox_base.as_str()),
            ("SPIN_VARIABLE_MAIL_API_KEY", credentials.sendgrid_key.as_str()),
            ("SPIN_VARIABLE_PASSKEY_RP_ID", RP),
            ("SPIN_VARIABLE_PASSKEY_ORIGINS", ORIGIN),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        env.extend(more(&outbox_base));
        let mut app = TestApp { hosts: Vec::new(), outbox, db, manifest: app_with_probe("devices"), mode, env };
        app.hosts = (0..replicas).map(|_| app.start_replica()).collect();
        app
    }

    /// One more host of the app, with the same settings.
    pub fn start_replica(&self) -> Host {
        let rc = self.manifest.with_file_name("runtime-config.toml");
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Host::start(&self.manifest, Some(&rc), self.mode, &env)
    }

    /// A POST to replica `on`, from an iPhone.
    pub fn post(&self, on: usize, path: &str, body: &Value) -> Reply {
        self.hosts[on].send_with("POST", path, Some(&body.to_string()), &[("user-agent", IPHONE)])
    }

    /// A request with an access token to replica `on`.
    pub fn as_member(&self, on: usize, access: &str, method: &str, path: &str) -> Reply {
        self.hosts[on].send_with(method, path, None, &[("authorization", &format!("Bearer {access}"))])
    }

    /// The last code the outbox delivered to `to`.
    pub fn code(&self, to: &str) -> String {
        let messages = self.outbox.messages();
        messages.iter().rev().find(|m| m.to == to).unwrap().code.clone().unwrap()
    }

    /// Registration options on `options_on`, the authenticator's answer on
    /// `create_on` (a native app: the refresh token in the body).
    pub fn enrol(
        &self,
        (options_on, create_on): (usize, usize),
        token: &str,
        device: &str,
        auth: &mut SoftAuthenticator,
    ) -> Reply {
        let options = self.post(
            options_on,
            "/api/auth/capture-biometric/options",
            &json!({ "enrolment_token": token, "device_id": device }),
        );
        assert_eq!(options.status, 200, "{}", options.body);
        let credential = auth.register(&options.json()["publicKey"], Format::None);
        let body = json!({ "credential": credential, "device": { "native_app": true } });
        self.post(create_on, "/api/auth/capture-biometric", &body)
    }

    /// A returning member's sign-in: options on `options_on`, assertion on `assert_on`.
    pub fn sign_in(
        &self,
        (options_on, assert_on): (usize, usize),
        device: &str,
        auth: &mut SoftAuthenticator,
        user: &[u8],
    ) -> Reply {
        let options = self.post(options_on, "/api/auth/assert-biometric/options", &json!({ "device_id": device }));
        assert_eq!(options.status, 200, "{}", options.body);
        let credential = auth.assert(&options.json()["publicKey"], user);
        self.post(assert_on, "/api/auth/assert-biometric", &json!({ "device_id": device, "credential": credential }))
    }

    pub fn refresh(&self, on: usize, device: &str, token: &str) -> Reply {
        self.post(on, "/api/auth/refresh-token", &json!({ "device_id": device, "refresh_token": token }))
    }

    /// One number the database answers.
    pub fn count(&self, sql: &str) -> i64 {
        self.db.query(sql)[0][0].as_deref().unwrap().parse().unwrap()
    }
}

/// The WebAuthn user handle of a user id.
pub fn user_handle(user_id: &str) -> Vec<u8> {
    let hex: String = user_id.chars().filter(|c| *c != '-').collect();
    (0..16).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}
