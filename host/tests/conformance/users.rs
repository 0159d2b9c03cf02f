//! The users service through the host with the project's `spin.toml`: a
//! probe stands in for step 3 (it links the Sngine account and opens the
//! session as `auth` would), then the member uses their access token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::support::*;

const DEVICE: &str = "web-5b1d7e20-aa3c";

struct Member {
    host: Host,
    db: Database,
    user_id: String,
    bearer: String,
}

fn as_auth(host: &Host, service_path: &str, body: &Value) -> Reply {
    host.send_with(
        "POST",
        &format!("/probe/forward?url=http://{service_path}"),
        Some(&body.to_string()),
        &[("vottery-caller", "auth")],
    )
}

/// Ada (of the development fixture) linked, her device registered and a
/// session opened on it; the access token her refresh returns.
fn ada(mode: Mode) -> Member {
    let db = Database::migrated();
    let namespace = format!("test-users-{}", db.name);
    let extra = [
        ("SPIN_VARIABLE_REDIS_NAMESPACE", namespace.as_str()),
        ("SPIN_VARIABLE_FINGERPRINT_KEY", "a-fingerprint-key-of-at-least-32-bytes"),
    ];
    let host = start_with_probe_in(mode, "users,devices", &db, &extra);
    let linked = as_auth(
        &host,
        "users.spin.internal/internal/link",
        &json!({ "email": "ada@example.com", "phone": "+447912345678" }),
    );
    assert_eq!(linked.status, 200, "{}", linked.body);
    let user_id = linked.json()["user_id"].as_str().unwrap().to_owned();
    let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let device = json!({ "user_id": user_id, "device_id": DEVICE, "ip": "10.0.0.7", "user_agent": ua });
    let registered = as_auth(&host, "devices.spin.internal/internal/devices", &device);
    assert!(registered.status == 200 || registered.status == 201, "{}", registered.body);
    let token = format!("vrt_{}", URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2)));
    let hash = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()));
    let session = json!({ "user_id": user_id, "device_id": DEVICE, "amr": ["email-otp", "sms-otp", "passkey-uv"], "token_hash": hash });
    let opened = as_auth(&host, "devices.spin.internal/internal/sessions", &session);
    assert_eq!(opened.status, 201, "{}", opened.body);
    let refreshed = host.send(
        "POST",
        "/api/auth/refresh-token",
        Some(&json!({ "device_id": DEVICE, "refresh_token": token }).to_string()),
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let bearer = format!("Bearer {}", refreshed.json()["access_token"].as_str().unwrap());
    Member { host, db, user_id, bearer }
}

impl Member {
    fn get(&self, extra: &[(&str, &str)]) -> Reply {
        let mut headers = vec![("authorization", self.bearer.as_str())];
        headers.extend_from_slice(extra);
        self.host.send_with("GET", "/api/users/profile", None, &headers)
    }

    fn put(&self, body: &Value, if_match: Option<&str>) -> Reply {
        let mut headers = vec![("authorization", self.bearer.as_str())];
        if let Some(tag) = if_match {
            headers.push(("if-match", tag));
        }
        self.host.send_with("PUT", "/api/users/profile", Some(&body.to_string()), &headers)
    }

    fn version(&self) -> Option<String> {
        let rows = self.db.query(&format!("SELECT version FROM users.profiles WHERE user_id = '{}'", self.user_id));
        rows.first().and_then(|r| r[0].clone())
    }

    fn audit_rows(&self, action: &str) -> Vec<Vec<Option<String>>> {
        self.db.query(&format!(
            "SELECT actor, subject, detail::text FROM audit.events WHERE action = '{action}' ORDER BY id"
        ))
    }
}

#[test]
fn a_member_reads_their_profile_with_sngines_names_and_their_contacts_masked() {
    for mode in MODES {
        // Arrange
        let ada = ada(mode);

        // Act
        let read = ada.get(&[]);

        // Assert
        assert_eq!(read.status, 200, "{}", read.body);
        let profile = read.json();
        assert_eq!(profile["user_id"], ada.user_id.as_str());
        assert_eq!(profile["display_name"], "Ada Lovelace");
        assert_eq!((profile["first_name"].as_str(), profile["last_name"].as_str()), (Some("Ada"), Some("Lovelace")));
        assert_eq!(
            profile["name_sources"],
            json!({ "display_name": "sngine", "first_name": "sngine", "last_name": "sngine" })
        );
        assert_eq!(profile["email"], "a***@example.com");
        assert_eq!(profile["phone"], "+44 ******* 678");
        assert_eq!((profile["language"].clone(), profile["time_zone"].clone()), (Value::Null, Value::Null));
        assert!(!read.body.contains("ada@example.com") && !read.body.contains("7912345678"));
        let tag = read.header("etag").unwrap().to_owned();
        assert!(tag.starts_with('"') && !tag.starts_with("W/"), "{tag}");
        assert_eq!(read.header("cache-control"), Some("private, no-cache"));
        let again = ada.get(&[("if-none-match", &tag)]);
        assert_eq!((again.status, again.body.as_str()), (304, ""));
        assert_eq!(again.header("etag"), Some(tag.as_str()));
        assert_eq!(ada.get(&[("if-none-match", "\"other\"")]).status, 200);
    }
}

#[test]
fn a_profile_edit_needs_the_current_etag_and_is_stored_sealed_with_an_audit_row() {
    // Arrange
    let ada = ada(Mode::Reuse);
    let first = ada.get(&[]).header("etag").unwrap().to_owned();
    let edit = json!({
        "display_name": "  Countess\u{20}Ada ",
        "last_name": "King-Noe\u{308}l",
        "language": "en-gb",
        "time_zone": "europe/london"
    });

    // Act
    let without = ada.put(&edit, None);
    let stale = ada.put(&edit, Some("\"not-the-current-tag\""));
    let weak = ada.put(&edit, Some(&format!("W/{first}")));
    let written = ada.put(&edit, Some(&first));

    // Assert
    without.assert_problem(428, "precondition_required");
    stale.assert_problem(412, "precondition_failed");
    weak.assert_problem(412, "precondition_failed");
    assert_eq!(written.status, 200, "{}", written.body);
    let profile = written.json();
    assert_eq!(profile["display_name"], "Countess Ada");
    assert_eq!(profile["last_name"], "King-No\u{eb}l");
    assert_eq!(profile["first_name"], "Ada");
    assert_eq!(profile["language"], "en-GB");
    assert_eq!(profile["time_zone"], "Europe/London");
    assert_eq!(
        profile["name_sources"],
        json!({ "display_name": "member", "first_name": "sngine", "last_name": "member" })
    );
    let second = written.header("etag").unwrap().to_owned();
    assert_ne!(second, first);
    let read = ada.get(&[]);
    assert_eq!(read.header("etag"), Some(second.as_str()));
    assert_eq!(read.json(), profile);

    // Stored sealed: neither the names nor the zone are in the row.
    let stored =
        ada.db.query(&format!("SELECT encode(sealed, 'escape') FROM users.profiles WHERE user_id = '{}'", ada.user_id));
    let sealed = stored[0][0].clone().unwrap();
    for clear in ["Countess", "King", "Europe/London", "en-GB"] {
        assert!(!sealed.contains(clear), "{clear} is stored in clear");
    }
    assert_eq!(ada.version().as_deref(), Some("1"));
    let audit = ada.audit_rows("profile.updated");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0][0].as_deref(), Some(format!("member:{}", ada.user_id).as_str()));
    assert_eq!(audit[0][1].as_deref(), Some(ada.user_id.as_str()));
    let detail: Value = serde_json::from_str(audit[0][2].as_deref().unwrap()).unwrap();
    assert_eq!(detail["fields"], json!(["display_name", "last_name", "language", "time_zone"]));

    // The first tag is stale now; clearing a field falls back to Sngine's.
    ada.put(&json!({}), Some(&first)).assert_problem(412, "precondition_failed");
    assert_eq!(ada.version().as_deref(), Some("1"));
    let cleared = ada.put(&json!({ "display_name": null }), Some(&second));
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.json()["display_name"], "Ada Lovelace");
    assert_eq!(cleared.json()["last_name"], "Lovelace");
    assert_eq!(ada.version().as_deref(), Some("2"));
    assert_eq!(ada.audit_rows("profile.updated").len(), 2);
    let chain = ada.db.query("SELECT audit.first_broken_link()");
    assert_eq!(chain[0][0], None, "the audit chain is intact");
}

#[test]
fn bad_profile_edits_get_clear_problems_and_write_nothing() {
    // Arrange
    let ada = ada(Mode::PerRequest);
    let tag = ada.get(&[]).header("etag").unwrap().to_owned();
    let cases = [
        (json!({ "nickname": "Ada" }), 400, "unknown_field"),
        (json!({ "display_name": "" }), 400, "invalid_field"),
        (json!({ "display_name": "   " }), 400, "invalid_field"),
        (json!({ "first_name": "a".repeat(65) }), 400, "invalid_field"),
        (json!({ "first_name": "Ada\u{0}" }), 400, "invalid_field"),
        (json!({ "last_name": "Love\u{202e}lace" }), 400, "invalid_field"),
        (json!({ "language": "english please" }), 400, "invalid_field"),
        (json!({ "time_zone": "Mars/Olympus_Mons" }), 400, "invalid_field"),
        (json!({ "time_zone": 3 }), 400, "invalid_field"),
        (json!(["display_name"]), 400, "invalid_field"),
        (json!({ "display_name": "x".repeat(5000) }), 413, "payload_too_large"),
    ];

    for (body, status, code) in cases {
        // Act
        let reply = ada.put(&body, Some(&tag));

        // Assert
        assert_eq!((reply.status, reply.json()["code"].as_str()), (status, Some(code)), "{body}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    }
    let malformed = ada.host.send_with(
        "PUT",
        "/api/users/profile",
        Some("{\"display_name\":"),
        &[("authorization", &ada.bearer), ("if-match", &tag)],
    );
    malformed.assert_problem(400, "malformed_json");
    assert_eq!(ada.version(), None, "nothing was written");
    assert!(ada.audit_rows("profile.updated").is_empty());
    assert_eq!(ada.get(&[]).header("etag"), Some(tag.as_str()));
}

#[test]
fn an_erased_or_unknown_member_gets_user_not_found() {
    // Arrange
    let ada = ada(Mode::Reuse);
    ada.db.query(&format!("DELETE FROM users.accounts WHERE id = '{}'", ada.user_id));

    // Act
    let read = ada.get(&[]);

    // Assert
    read.assert_problem(404, "user_not_found");
}
