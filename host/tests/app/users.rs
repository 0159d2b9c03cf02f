//! The users service through the host with the project's `spin.toml`: a
//! probe stands in for step 3 (it links the Sngine account and opens the
//! session as `auth` would), then the member uses their access token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::harness::*;
use crate::support::*;

const DEVICE: &str = "web-5b1d7e20-aa3c";

struct Member {
    app: TestApp,
    user_id: String,
    bearer: String,
    refresh: String,
}

/// A member of the fixture linked, their device registered and a session
/// opened on it as `auth` would: their user id, the access token a refresh
/// returns (as a bearer) and the refresh token after it.
fn sign_in(app: &TestApp, email: &str, phone: &str, device_id: &str) -> (String, String, String) {
    let linked = app.as_auth("users.spin.internal/internal/link", &json!({ "email": email, "phone": phone }));
    assert_eq!(linked.status, 200, "{}", linked.body);
    let user_id = linked.json()["user_id"].as_str().unwrap().to_owned();
    let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let device = json!({ "user_id": user_id, "device_id": device_id, "ip": "10.0.0.7", "user_agent": ua });
    let registered = app.as_auth("devices.spin.internal/internal/devices", &device);
    assert!(registered.status == 200 || registered.status == 201, "{}", registered.body);
    let token = format!("vrt_{}", URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2)));
    let hash = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()));
    let session = json!({ "user_id": user_id, "device_id": device_id, "amr": ["email-otp", "sms-otp", "passkey-uv"], "token_hash": hash });
    let opened = app.as_auth("devices.spin.internal/internal/sessions", &session);
    assert_eq!(opened.status, 201, "{}", opened.body);
    let (bearer, refresh) = refresh(app, device_id, &token);
    (user_id, bearer, refresh)
}

/// The access token (as a bearer) and the next refresh token of a refresh.
fn refresh(app: &TestApp, device_id: &str, token: &str) -> (String, String) {
    let body = json!({ "device_id": device_id, "refresh_token": token });
    let refreshed = app.post_json("/api/auth/refresh-token", &body);
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let answer = refreshed.json();
    (
        format!("Bearer {}", answer["access_token"].as_str().unwrap()),
        answer["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// Ada (of the development fixture) linked, her device registered and a
/// session opened on it; the access token her refresh returns.
fn ada(mode: Mode) -> Member {
    ada_with(mode, &[])
}

fn ada_with(mode: Mode, settings: &[(&str, &str)]) -> Member {
    let app = TestApp::spawn(Options::new().mode(mode).probe("users,devices").envs(settings));
    let (user_id, bearer, refresh) = sign_in(&app, "ada@example.com", "+447912345678", DEVICE);
    Member { app, user_id, bearer, refresh }
}

impl Member {
    fn get(&self, extra: &[(&str, &str)]) -> Reply {
        let mut headers = vec![("authorization", self.bearer.as_str())];
        headers.extend_from_slice(extra);
        self.app.host().send_with("GET", "/api/users/profile", None, &headers)
    }

    fn put(&self, body: &Value, if_match: Option<&str>) -> Reply {
        let mut headers = vec![("authorization", self.bearer.as_str())];
        if let Some(tag) = if_match {
            headers.push(("if-match", tag));
        }
        self.app.host().send_with("PUT", "/api/users/profile", Some(&body.to_string()), &headers)
    }

    fn report(&self, body: &Value) -> Reply {
        let headers = [("authorization", self.bearer.as_str())];
        self.app.host().send_with("POST", "/api/users/activity", Some(&body.to_string()), &headers)
    }

    fn activity_rows(&self) -> Vec<Vec<Option<String>>> {
        self.app.db.query(&format!(
            "SELECT id::text, kind, extract(epoch FROM occurred_at)::bigint::text, device_id, details::text \
             FROM users.activity WHERE user_id = '{}' ORDER BY id",
            self.user_id
        ))
    }

    fn version(&self) -> Option<String> {
        let rows = self.app.db.query(&format!("SELECT version FROM users.profiles WHERE user_id = '{}'", self.user_id));
        rows.first().and_then(|r| r[0].clone())
    }

    fn audit_rows(&self, action: &str) -> Vec<Vec<Option<String>>> {
        self.app.db.query(&format!(
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
    let stored = ada
        .app
        .db
        .query(&format!("SELECT encode(sealed, 'escape') FROM users.profiles WHERE user_id = '{}'", ada.user_id));
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
    let chain = ada.app.db.query("SELECT audit.first_broken_link()");
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
    let malformed = ada.app.host().send_with(
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
    ada.app.db.query(&format!("DELETE FROM users.accounts WHERE id = '{}'", ada.user_id));

    // Act
    let read = ada.get(&[]);

    // Assert
    read.assert_problem(404, "user_not_found");
}

#[test]
fn a_member_reports_activity_and_it_is_recorded_with_the_device_of_their_session() {
    for mode in MODES {
        // Arrange
        let ada = ada(mode);
        let hour_ago = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
        let at = jiff::Timestamp::from_second(hour_ago as i64).unwrap().to_string();

        // Act
        let now = ada.report(&json!({ "type": "profile.viewed", "details": { "tab": "security" } }));
        let earlier = ada.report(&json!({ "type": "help.opened", "at": at }));

        // Assert
        assert_eq!(now.status, 202, "{}", now.body);
        assert_eq!(now.json()["type"], "profile.viewed");
        let rows = ada.activity_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0].as_deref(), now.json()["id"].as_str());
        assert_eq!(rows[0][1].as_deref(), Some("profile.viewed"));
        assert_eq!(rows[0][3].as_deref(), Some(DEVICE));
        assert_eq!(rows[0][4].as_deref(), Some(r#"{"tab": "security"}"#));
        assert_eq!(earlier.status, 202, "{}", earlier.body);
        assert_eq!(earlier.json()["at"], at.as_str());
        assert_eq!(rows[1][2].as_deref(), Some(hour_ago.to_string().as_str()));
        assert_eq!(rows[1][4].as_deref(), Some("{}"));
    }
}

#[test]
fn a_report_of_an_unknown_type_a_far_time_large_details_or_unknown_fields_is_refused_and_nothing_is_written() {
    // Arrange
    let ada = ada(Mode::Reuse);
    let cases = [
        (json!({ "type": "admin.promoted" }), "activity_type_unknown"),
        (json!({ "type": "help.opened", "at": "2020-01-01T00:00:00Z" }), "activity_time_out_of_range"),
        (json!({ "type": "help.opened", "at": "tomorrow" }), "invalid_field"),
        (json!({ "type": "help.opened", "details": { "k": "x".repeat(1100) } }), "activity_details_too_large"),
        (json!({ "type": "help.opened", "details": ["not", "an", "object"] }), "invalid_field"),
        (json!({ "type": "help.opened", "details": { "n": 1e300 } }), "invalid_field"),
        (json!({ "type": "help.opened", "details": { "s": "a\u{0}b" } }), "invalid_field"),
        (json!({ "type": "help.opened", "user_id": "someone-else" }), "unknown_field"),
        (json!(["help.opened"]), "invalid_field"),
        (json!({}), "missing_field"),
    ];

    for (body, code) in cases {
        // Act
        let refused = ada.report(&body);

        // Assert
        assert_eq!(refused.status, 400, "{body}: {}", refused.body);
        assert_eq!(refused.header("content-type"), Some("application/problem+json"));
        assert_eq!(refused.json()["code"], code, "{body}");
    }
    assert!(ada.activity_rows().is_empty());
    let anonymous = ada.app.host().send("POST", "/api/users/activity", Some(r#"{"type":"help.opened"}"#));
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
}

#[test]
fn a_member_who_reports_too_often_is_told_when_to_retry() {
    // Arrange
    let limits = GENEROUS_RATE_LIMITS.replace("activity=100000/1", "activity=3/60");
    let ada = ada_with(Mode::Reuse, &[("SPIN_VARIABLE_RATE_LIMITS", limits.as_str())]);

    // Act
    let answers: Vec<Reply> = (0..4).map(|_| ada.report(&json!({ "type": "dashboard.viewed" }))).collect();

    // Assert
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [202, 202, 202, 429]);
    assert_eq!(answers[3].json()["code"], "rate_limited");
    let retry: u64 = answers[3].header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(ada.activity_rows().len(), 3);
}

/// Runs the operator's `vottery-admin` against the member's database.
fn admin_tool(db: &Database, args: &[&str]) -> std::process::Output {
    std::process::Command::new(workspace().join("target/release/vottery-admin"))
        .args(args)
        .env("VOTTERY_DATABASE_URL", format!("host=127.0.0.1 user=postgres dbname={}", db.name))
        .env("SPIN_VARIABLE_CONTACT_PEPPER", "a-test-pepper-of-at-least-32-bytes!")
        .output()
        .unwrap()
}

fn roles_call(host: &Host, bearer: &str, method: &str, path: &str) -> Reply {
    host.send_with(method, path, None, &[("authorization", bearer)])
}

#[test]
fn the_operator_names_the_first_administrator_whose_grants_reach_the_next_access_token_and_are_checked_live() {
    // Arrange
    let mut ada = ada(Mode::Reuse);
    let (grace_id, grace_bearer, grace_refresh) =
        sign_in(&ada.app, "grace@example.com", "+16502530000", "web-grace-01");
    let grace_roles = format!("/api/users/{grace_id}/roles");
    let before = roles_call(ada.app.host(), &ada.bearer, "GET", &grace_roles);

    // Act
    let granted = admin_tool(&ada.app.db, &["grant", "--email", "ada@example.com", "--role", "user_admin"]);

    // Assert: refused before, allowed at once after (the grant is read live)
    assert_eq!((before.status, before.json()["code"].as_str()), (403, Some("forbidden")), "{}", before.body);
    assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
    assert!(
        String::from_utf8_lossy(&granted.stdout).contains(&format!("granted user_admin for member {}", ada.user_id))
    );
    let listing = roles_call(ada.app.host(), &ada.bearer, "GET", &grace_roles);
    assert_eq!(listing.status, 200, "{}", listing.body);
    assert_eq!(listing.json(), json!({ "user_id": grace_id, "roles": [] }));
    let bootstrap =
        ada.app.db.query("SELECT actor, subject, detail::text FROM audit.events WHERE action = 'role.granted'");
    assert_eq!(bootstrap.len(), 1);
    assert_eq!(bootstrap[0][0].as_deref(), Some("system"));
    assert_eq!(bootstrap[0][1].as_deref(), Some(ada.user_id.as_str()));
    assert!(bootstrap[0][2].as_deref().unwrap().contains("vottery-admin"));
    assert_eq!(claims(&ada.bearer)["roles"], json!(["member"]));
    (ada.bearer, ada.refresh) = refresh(&ada.app, DEVICE, &ada.refresh);
    assert_eq!(claims(&ada.bearer)["roles"], json!(["member", "user_admin"]));

    // Act: Ada grants Grace what she holds, and tries what she does not
    let given = roles_call(ada.app.host(), &ada.bearer, "PUT", &format!("{grace_roles}/user_admin"));
    let not_held = roles_call(ada.app.host(), &ada.bearer, "PUT", &format!("{grace_roles}/auditor"));
    let unknown = roles_call(ada.app.host(), &ada.bearer, "PUT", &format!("{grace_roles}/root"));
    let member = roles_call(ada.app.host(), &ada.bearer, "PUT", &format!("{grace_roles}/member"));

    // Assert
    assert_eq!(given.status, 200, "{}", given.body);
    assert_eq!(given.json()["roles"][0]["role"], "user_admin");
    assert_eq!(given.json()["roles"][0]["granted_by"], ada.user_id.as_str());
    assert_eq!((not_held.status, not_held.json()["code"].as_str()), (403, Some("role_not_held")));
    assert_eq!((unknown.status, unknown.json()["code"].as_str()), (404, Some("role_unknown")));
    assert_eq!((member.status, member.json()["code"].as_str()), (400, Some("role_not_grantable")));
    let (grace_bearer_now, _) = refresh(&ada.app, "web-grace-01", &grace_refresh);
    assert_eq!(claims(&grace_bearer_now)["roles"], json!(["member", "user_admin"]));
    assert_eq!(claims(&grace_bearer)["roles"], json!(["member"]));

    // Act: Ada revokes Grace's role; Grace's token still claims it
    let revoked = roles_call(ada.app.host(), &ada.bearer, "DELETE", &format!("{grace_roles}/user_admin"));
    let ada_roles = format!("/api/users/{}/roles", ada.user_id);
    let by_grace = roles_call(ada.app.host(), &grace_bearer_now, "PUT", &format!("{ada_roles}/user_admin"));
    let again = roles_call(ada.app.host(), &ada.bearer, "DELETE", &format!("{grace_roles}/user_admin"));
    let last = roles_call(ada.app.host(), &ada.bearer, "DELETE", &format!("{ada_roles}/user_admin"));
    let tool_last = admin_tool(&ada.app.db, &["revoke", "--email", "ada@example.com", "--role", "user_admin"]);

    // Assert
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.json()["roles"], json!([]));
    assert_eq!((by_grace.status, by_grace.json()["code"].as_str()), (403, Some("forbidden")), "{}", by_grace.body);
    assert_eq!((again.status, again.json()["code"].as_str()), (404, Some("grant_not_found")));
    assert_eq!((last.status, last.json()["code"].as_str()), (409, Some("last_user_admin")));
    assert!(!tool_last.status.success());
    let trail = ada.app.db.query(
        "SELECT action, actor, subject FROM audit.events WHERE action IN ('role.granted', 'role.revoked') ORDER BY id",
    );
    let trail: Vec<Vec<Option<String>>> = trail;
    assert_eq!(trail.len(), 3);
    assert_eq!(trail[1][1].as_deref(), Some(format!("member:{}", ada.user_id).as_str()));
    assert_eq!((trail[2][0].as_deref(), trail[2][2].as_deref()), (Some("role.revoked"), Some(grace_id.as_str())));
    let live = ada.app.db.query("SELECT count(*) FROM users.role_grants WHERE revoked_at IS NULL");
    assert_eq!(live[0][0].as_deref(), Some("1"));
}

#[test]
fn two_administrators_revoking_each_other_at_once_leave_one_user_admin() {
    // Arrange
    let ada = ada(Mode::Reuse);
    let (grace_id, grace_bearer, _) = sign_in(&ada.app, "grace@example.com", "+16502530000", "web-grace-01");
    for email in ["ada@example.com", "grace@example.com"] {
        assert!(admin_tool(&ada.app.db, &["grant", "--email", email, "--role", "user_admin"]).status.success());
    }
    let barrier = std::sync::Barrier::new(2);

    // Act
    let revoke = |bearer: &str, target: &str| {
        barrier.wait();
        roles_call(ada.app.host(), bearer, "DELETE", &format!("/api/users/{target}/roles/user_admin")).status
    };
    let (by_ada, by_grace) = std::thread::scope(|scope| {
        let first = scope.spawn(|| revoke(&ada.bearer, &grace_id));
        let second = scope.spawn(|| revoke(&grace_bearer, &ada.user_id));
        (first.join().unwrap(), second.join().unwrap())
    });

    // Assert
    let mut statuses = [by_ada, by_grace];
    statuses.sort_unstable();
    assert!(statuses == [200, 403] || statuses == [200, 409], "{statuses:?}");
    let live =
        ada.app.db.query("SELECT count(*) FROM users.role_grants WHERE role = 'user_admin' AND revoked_at IS NULL");
    assert_eq!(live[0][0].as_deref(), Some("1"));
}

impl Member {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let body = body.map(Value::to_string);
        self.app.host().send_with(method, path, body.as_deref(), &[("authorization", self.bearer.as_str())])
    }

    fn demographic_records(&self) -> Vec<Vec<Option<String>>> {
        self.app.db.query("SELECT user_id::text, age_band, gender, country, language FROM users.demographic_records")
    }
}

#[test]
fn a_member_sees_their_coarse_demographics_and_consents_or_withdraws_with_an_audit_row() {
    for mode in MODES {
        // Arrange
        let ada = ada(mode);
        let tag = ada.get(&[]).header("etag").unwrap().to_owned();
        assert_eq!(ada.put(&json!({ "language": "en-GB" }), Some(&tag)).status, 200);

        // Act
        let read = ada.call("GET", "/api/users/demographics", None);
        let consented = ada.call("PUT", "/api/users/demographics/consent", Some(&json!({ "demographic_use": true })));
        let kept = ada.demographic_records();
        let withdrawn = ada.call("PUT", "/api/users/demographics/consent", Some(&json!({ "demographic_use": false })));

        // Assert: derived, coarse, and the birth date nowhere
        assert_eq!(read.status, 200, "{}", read.body);
        let record = read.json();
        assert_eq!(record["age_band"], "35-44");
        assert_eq!(record["gender"], "female");
        assert_eq!((record["country"].clone(), record["region"].clone()), (Value::Null, Value::Null));
        assert_eq!(record["language"], "en-GB");
        assert_eq!(record["consent"], json!({ "demographic_use": false, "consented_at": null }));
        assert!(!read.body.contains("1988"));
        assert_eq!(consented.status, 200, "{}", consented.body);
        assert_eq!(consented.json()["consent"]["demographic_use"], true);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0][1..], [Some("35-44".into()), Some("female".into()), None, Some("en-GB".into())]);
        assert_eq!(withdrawn.json()["consent"]["demographic_use"], false);
        assert!(ada.demographic_records().is_empty());
        let trail = ada.audit_rows("demographics.consented").len() + ada.audit_rows("demographics.withdrawn").len();
        assert_eq!(trail, 2);
    }
}

#[test]
fn a_consent_that_is_not_a_boolean_is_refused_and_nothing_is_written() {
    // Arrange
    let ada = ada(Mode::Reuse);
    let cases = [
        (json!({ "demographic_use": "yes" }), "invalid_field"),
        (json!({}), "missing_field"),
        (json!({ "demographic_use": true, "share_with": "partners" }), "unknown_field"),
    ];

    for (body, code) in cases {
        // Act
        let refused = ada.call("PUT", "/api/users/demographics/consent", Some(&body));

        // Assert
        assert_eq!((refused.status, refused.json()["code"].as_str()), (400, Some(code)), "{body}");
    }
    assert!(ada.demographic_records().is_empty());
    assert!(ada.audit_rows("demographics.consented").is_empty());
}

/// Ada and Grace consent (same band and gender, no located device: one
/// cell of two); Ada is an auditor; the summary with minimum cell size `k`.
fn summary_with_k(k: &str) -> (Member, Reply, Reply) {
    let ada = ada_with(Mode::Reuse, &[("SPIN_VARIABLE_DEMOGRAPHICS_K", k)]);
    let (_, grace_bearer, _) = sign_in(&ada.app, "grace@example.com", "+16502530000", "web-grace-01");
    let consent = json!({ "demographic_use": true }).to_string();
    for bearer in [ada.bearer.as_str(), grace_bearer.as_str()] {
        let given = ada.app.host().send_with(
            "PUT",
            "/api/users/demographics/consent",
            Some(&consent),
            &[("authorization", bearer)],
        );
        assert_eq!(given.status, 200, "{}", given.body);
    }
    let as_member = ada.call("GET", "/api/users/demographics/summary", None);
    assert!(admin_tool(&ada.app.db, &["grant", "--email", "ada@example.com", "--role", "auditor"]).status.success());
    let as_auditor = ada.call("GET", "/api/users/demographics/summary", None);
    (ada, as_member, as_auditor)
}

#[test]
fn the_summary_shows_a_cell_of_k_consenting_members_to_an_auditor_only() {
    // Arrange, Act
    let (_ada, as_member, as_auditor) = summary_with_k("2");

    // Assert
    assert_eq!((as_member.status, as_member.json()["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(as_auditor.status, 200, "{}", as_auditor.body);
    assert_eq!(
        as_auditor.json(),
        json!({ "k": 2, "suppressed_cells": 0,
                "cells": [{ "age_band": "35-44", "gender": "female", "country": null, "members": 2 }] })
    );
}

#[test]
fn a_summary_whose_every_cell_is_under_k_is_refused() {
    // Arrange, Act: one cell of two members, k = 3
    let (_ada, _, as_auditor) = summary_with_k("3");

    // Assert
    assert_eq!(as_auditor.status, 422, "{}", as_auditor.body);
    assert_eq!(as_auditor.json()["code"], "demographics_too_few");
    assert!(!as_auditor.body.contains("\"members\""));
}

#[test]
fn an_administrator_finds_members_by_exact_contact_or_pages_through_them_and_never_sees_a_contact() {
    // Arrange
    let ada = ada(Mode::Reuse);
    let (grace_id, grace_bearer, _) = sign_in(&ada.app, "grace@example.com", "+16502530000", "web-grace-01");
    assert!(admin_tool(&ada.app.db, &["grant", "--email", "ada@example.com", "--role", "user_admin"]).status.success());
    let mut ids = [ada.user_id.clone(), grace_id.clone()];
    ids.sort();

    // Act
    let by_email = ada.call("GET", "/api/users?email=Grace%40Example.com", None);
    let by_phone = ada.call("GET", "/api/users?phone=%2B16502530000", None);
    let nobody = ada.call("GET", "/api/users?email=nobody%40example.com", None);
    let first = ada.call("GET", "/api/users?limit=1", None);
    let cursor = first.json()["next_cursor"].as_str().unwrap().to_owned();
    let second = ada.call("GET", &format!("/api/users?limit=1&cursor={cursor}"), None);
    let one = ada.call("GET", &format!("/api/users/{grace_id}"), None);
    let unknown = ada.call("GET", "/api/users/00000000-0000-4000-8000-000000000000", None);
    let as_member = ada.app.host().send_with("GET", "/api/users", None, &[("authorization", grace_bearer.as_str())]);

    // Assert
    for found in [&by_email, &by_phone] {
        assert_eq!(found.status, 200, "{}", found.body);
        assert_eq!(found.json()["members"].as_array().unwrap().len(), 1);
        assert_eq!(found.json()["members"][0]["user_id"], grace_id.as_str());
        assert_eq!(found.json()["members"][0]["username"], "grace");
    }
    assert_eq!(nobody.json(), json!({ "members": [], "next_cursor": null }));
    assert_eq!(first.json()["members"][0]["user_id"], ids[0].as_str());
    assert_eq!(second.json()["members"][0]["user_id"], ids[1].as_str());
    assert_eq!(second.json()["next_cursor"], Value::Null);
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json()["roles"], json!([]));
    assert_eq!((unknown.status, unknown.json()["code"].as_str()), (404, Some("user_not_found")));
    assert_eq!((as_member.status, as_member.json()["code"].as_str()), (403, Some("forbidden")));
    for reply in [&by_email, &by_phone, &first, &second, &one] {
        assert!(!reply.body.contains("@example.com") && !reply.body.contains("6502530000"), "{}", reply.body);
    }
}

#[test]
fn a_directory_query_that_mixes_repeats_or_tampers_is_refused() {
    // Arrange
    let ada = ada(Mode::Reuse);
    assert!(admin_tool(&ada.app.db, &["grant", "--email", "ada@example.com", "--role", "user_admin"]).status.success());
    let cases = [
        ("/api/users?cursor=bm90LWEtdXVpZA", "cursor_invalid"),
        ("/api/users?email=a%40b.c&phone=%2B447912345678", "invalid_field"),
        ("/api/users?limit=1000", "invalid_field"),
        ("/api/users?limit=5&limit=6", "invalid_field"),
        ("/api/users?email=not-an-address", "invalid_field"),
        ("/api/users?role=user_admin", "unknown_field"),
    ];

    for (path, code) in cases {
        // Act
        let refused = ada.call("GET", path, None);

        // Assert
        assert_eq!((refused.status, refused.json()["code"].as_str()), (400, Some(code)), "{path}: {}", refused.body);
    }
    let lapsing = json!({ "expires_at": "2099-01-01T00:00:00Z" });
    let expiring_admin = ada.call("PUT", &format!("/api/users/{}/roles/user_admin", ada.user_id), Some(&lapsing));
    assert_eq!((expiring_admin.status, expiring_admin.json()["code"].as_str()), (400, Some("invalid_field")));
    let live = ada.app.db.query("SELECT count(*) FROM users.role_grants WHERE expires_at IS NOT NULL");
    assert_eq!(live[0][0].as_deref(), Some("0"));
}

#[test]
fn a_members_history_merges_their_reports_with_their_security_events_newest_first_a_page_at_a_time() {
    for mode in MODES {
        // Arrange: the sign-in wrote device.registered and session.opened;
        // three reports follow, and a profile edit (profile.updated).
        let ada = ada(mode);
        for kind in ["dashboard.viewed", "profile.viewed", "help.opened"] {
            assert_eq!(ada.report(&json!({ "type": kind })).status, 202);
        }
        let tag = ada.get(&[]).header("etag").unwrap().to_owned();
        assert_eq!(ada.put(&json!({ "display_name": "Ada" }), Some(&tag)).status, 200);

        // Act: pages of two
        let mut pages = Vec::new();
        let mut path = "/api/users/activity?limit=2".to_owned();
        loop {
            let page = ada.call("GET", &path, None);
            assert_eq!(page.status, 200, "{}", page.body);
            let body = page.json();
            pages.push(body.clone());
            match body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/users/activity?limit=2&cursor={cursor}"),
                None => break,
            }
            assert!(pages.len() < 10, "the cursor does not advance");
        }

        // Assert
        let entries: Vec<Value> = pages.iter().flat_map(|p| p["entries"].as_array().unwrap().clone()).collect();
        let kinds: Vec<&str> = entries.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert!(pages.iter().all(|p| p["entries"].as_array().unwrap().len() <= 2));
        assert_eq!(kinds.iter().filter(|k| k.contains('.')).count(), kinds.len());
        for expected in [
            "profile.updated",
            "help.opened",
            "profile.viewed",
            "dashboard.viewed",
            "session.opened",
            "device.registered",
        ] {
            assert_eq!(kinds.iter().filter(|k| **k == expected).count(), 1, "{expected} in {kinds:?}");
        }
        let position = |kind: &str| kinds.iter().position(|k| *k == kind).unwrap();
        assert!(position("profile.updated") < position("help.opened"));
        assert!(position("help.opened") < position("profile.viewed"));
        assert!(position("dashboard.viewed") < position("session.opened"));
        let report = &entries[position("help.opened")];
        assert_eq!((report["source"].as_str(), report["device_id"].as_str()), (Some("frontend"), Some(DEVICE)));
        let event = &entries[position("session.opened")];
        assert_eq!((event["source"].as_str(), event["details"]["outcome"].as_str()), (Some("security"), Some("ok")));
        let times: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    }
}

#[test]
fn a_history_cursor_that_was_tampered_with_is_refused_and_another_members_events_never_show() {
    // Arrange
    let ada = ada(Mode::Reuse);
    let (_, grace_bearer, _) = sign_in(&ada.app, "grace@example.com", "+16502530000", "web-grace-01");
    assert_eq!(ada.report(&json!({ "type": "dashboard.viewed" })).status, 202);

    // Act
    let tampered = ada.call("GET", "/api/users/activity?cursor=MS45LjM", None);
    let too_many = ada.call("GET", "/api/users/activity?limit=500", None);
    let grace =
        ada.app.host().send_with("GET", "/api/users/activity", None, &[("authorization", grace_bearer.as_str())]);

    // Assert
    assert_eq!((tampered.status, tampered.json()["code"].as_str()), (400, Some("cursor_invalid")));
    assert_eq!((too_many.status, too_many.json()["code"].as_str()), (400, Some("invalid_field")));
    assert_eq!(grace.status, 200, "{}", grace.body);
    let kinds: Vec<String> =
        grace.json()["entries"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect();
    assert!(!kinds.iter().any(|k| k == "dashboard.viewed"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "session.opened"), "{kinds:?}");
}

#[test]
fn the_retention_command_deletes_reports_received_before_the_period_and_keeps_the_rest() {
    // Arrange: reports received 180 days and a minute ago, and 180 days
    // less a minute ago
    let ada = ada(Mode::Reuse);
    for _ in 0..2 {
        assert_eq!(ada.report(&json!({ "type": "dashboard.viewed" })).status, 202);
    }
    let ids: Vec<String> = ada.activity_rows().into_iter().map(|r| r[0].clone().unwrap()).collect();
    ada.app.db.query(&format!(
        "UPDATE users.activity SET received_at = now() - interval '180 days 1 minute' WHERE id = {}",
        ids[0]
    ));
    ada.app.db.query(&format!(
        "UPDATE users.activity SET received_at = now() - interval '179 days 23 hours 59 minutes' WHERE id = {}",
        ids[1]
    ));

    // Act
    let pruned = admin_tool(&ada.app.db, &["prune-activity", "--days", "180"]);

    // Assert
    assert!(pruned.status.success(), "{}", String::from_utf8_lossy(&pruned.stderr));
    assert!(String::from_utf8_lossy(&pruned.stdout).contains("deleted 1 activity report"));
    let left: Vec<String> = ada.activity_rows().into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(left, [ids[1].clone()]);
    assert_eq!(ada.audit_rows("activity.pruned").len(), 1);
}

#[test]
fn the_access_token_says_when_the_passkey_opened_the_session_and_a_refresh_keeps_it() {
    // Arrange
    let mut ada = ada(Mode::Reuse);
    let first = claims(&ada.bearer);
    let opened = ada.app.db.query(&format!(
        "SELECT extract(epoch FROM created_at)::bigint FROM devices.sessions WHERE user_id = '{}'",
        ada.user_id
    ));
    std::thread::sleep(std::time::Duration::from_millis(1100));

    // Act
    (ada.bearer, ada.refresh) = refresh(&ada.app, DEVICE, &ada.refresh);

    // Assert
    let second = claims(&ada.bearer);
    let opened: i64 = opened[0][0].as_deref().unwrap().parse().unwrap();
    assert_eq!(first["auth_time"].as_i64(), Some(opened));
    assert_eq!(second["auth_time"].as_i64(), Some(opened));
    assert!(second["iat"].as_i64().unwrap() > opened, "{second}");
}

impl Member {
    /// A passkey of the member's on their device, as `auth` keeps one.
    fn with_passkey(&self) {
        self.app.db.query(&format!(
            "INSERT INTO auth.passkeys (credential_id, user_id, device_id, public_key, state, algorithm, attestation, \
             aaguid, transports, sign_count, backup_eligible, backed_up, created_at, last_used_at) \
             VALUES ('\\x0a0b0c0d', '{}', '{DEVICE}', '\\x01', '\\x02', 'ES256', 'none', \
             '00000000-0000-0000-0000-000000000000', ARRAY['internal', 'hybrid'], 0, true, false, now(), now())",
            self.user_id
        ));
    }

    /// Rows of the member's in each table that can hold them.
    fn held_rows(&self) -> Vec<(&'static str, usize)> {
        let tables = [
            ("users.accounts", "id"),
            ("users.profiles", "user_id"),
            ("users.activity", "user_id"),
            ("users.role_grants", "user_id"),
            ("users.demographic_records", "user_id"),
            ("auth.passkeys", "user_id"),
            ("devices.devices", "user_id"),
        ];
        tables
            .iter()
            .map(|(table, column)| {
                let rows = self.app.db.query(&format!("SELECT 1 FROM {table} WHERE {column} = '{}'", self.user_id));
                (*table, rows.len())
            })
            .collect()
    }

    /// The access token of a session whose passkey ceremony was `seconds` ago.
    fn signed_in_ago(&mut self, seconds: i64) {
        self.app.db.query(&format!(
            "UPDATE devices.sessions SET created_at = now() - interval '{seconds} seconds' WHERE user_id = '{}'",
            self.user_id
        ));
        (self.bearer, self.refresh) = refresh(&self.app, DEVICE, &self.refresh);
    }
}

#[test]
fn a_member_with_a_recent_passkey_exports_everything_held_about_them() {
    for mode in MODES {
        // Arrange
        let ada = ada(mode);
        let tag = ada.get(&[]).header("etag").unwrap().to_owned();
        assert_eq!(ada.put(&json!({ "display_name": "Countess" }), Some(&tag)).status, 200);
        assert_eq!(
            ada.call("PUT", "/api/users/demographics/consent", Some(&json!({ "demographic_use": true }))).status,
            200
        );
        assert_eq!(ada.report(&json!({ "type": "dashboard.viewed", "details": { "tab": "home" } })).status, 202);
        ada.with_passkey();

        // Act
        let export = ada.call("GET", "/api/users/profile/export", None);

        // Assert
        assert_eq!(export.status, 200, "{}", export.body);
        assert_eq!(export.header("content-disposition"), Some("attachment; filename=\"vottery-export.json\""));
        assert_eq!(export.header("cache-control"), Some("no-store"));
        let held = export.json();
        assert_eq!(held["user_id"], ada.user_id.as_str());
        assert_eq!((held["email"].as_str(), held["phone"].as_str()), (Some("ada@example.com"), Some("+447912345678")));
        assert_eq!(held["profile"]["display_name"], "Countess");
        assert_eq!(held["demographics"]["age_band"], "35-44");
        assert_eq!(held["roles"], json!([]));
        assert_eq!(held["devices"].as_array().unwrap().len(), 1);
        assert_eq!(held["devices"][0]["device_id"], DEVICE);
        assert_eq!(held["devices"][0]["last_ip"], "10.0.0.7");
        assert_eq!(held["sessions"].as_array().unwrap().len(), 1);
        assert_eq!(held["passkeys"][0]["credential_id"], "CgsMDQ");
        assert_eq!(held["passkeys"][0]["transports"], json!(["internal", "hybrid"]));
        assert!(held["passkeys"][0].get("public_key").is_none());
        assert_eq!(held["activity"][0]["type"], "dashboard.viewed");
        let events: Vec<&str> =
            held["security_events"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
        assert!(events.contains(&"profile.updated") && events.contains(&"demographics.consented"), "{events:?}");
        assert_eq!(held["complete"], true);
    }
}

#[test]
fn an_export_or_erasure_with_a_passkey_sign_in_older_than_five_minutes_asks_for_a_new_one_and_changes_nothing() {
    // Arrange
    let mut ada = ada(Mode::Reuse);
    ada.signed_in_ago(330);
    let before = ada.held_rows();

    // Act
    let export = ada.call("GET", "/api/users/profile/export", None);
    let erase = ada.call("DELETE", "/api/users/profile", None);

    // Assert
    for refused in [&export, &erase] {
        refused.assert_problem(401, "insufficient_user_authentication");
        assert_eq!(refused.json()["max_age"], 300);
        assert_eq!(
            refused.header("www-authenticate"),
            Some("Bearer error=\"insufficient_user_authentication\", max_age=300")
        );
    }
    assert_eq!(ada.held_rows(), before);
    assert_eq!(ada.get(&[]).status, 200);
}

#[test]
fn an_erased_member_is_gone_their_sealed_data_cannot_be_opened_their_tokens_are_refused_and_sngine_starts_them_anew() {
    for mode in MODES {
        // Arrange
        let ada = ada(mode);
        let tag = ada.get(&[]).header("etag").unwrap().to_owned();
        assert_eq!(ada.put(&json!({ "first_name": "Augusta" }), Some(&tag)).status, 200);
        ada.with_passkey();
        let wrapped = ada
            .app
            .db
            .query(&format!("SELECT encode(data_key_wrapped, 'hex') FROM users.accounts WHERE id = '{}'", ada.user_id))
            [0][0]
            .clone()
            .unwrap();

        // Act
        let erased = ada.call("DELETE", "/api/users/profile", None);

        // Assert: every row that held the member is gone, the wrapped data
        // key with it, and the access and refresh tokens are refused
        assert_eq!(erased.status, 200, "{}", erased.body);
        assert_eq!(
            erased.json(),
            json!({ "erased": true, "passkeys_removed": 1, "sessions_revoked": 1, "devices_removed": 1 })
        );
        assert_eq!(erased.header("clear-site-data"), Some("\"cookies\", \"storage\""));
        assert!(ada.held_rows().iter().all(|(_, n)| *n == 0), "{:?}", ada.held_rows());
        let keys = ada
            .app
            .db
            .query(&format!("SELECT 1 FROM users.accounts WHERE encode(data_key_wrapped, 'hex') = '{wrapped}'"));
        assert!(keys.is_empty());
        let open = ada.app.db.query(&format!(
            "SELECT count(*) FROM devices.sessions WHERE user_id = '{}' AND revoked_at IS NULL",
            ada.user_id
        ));
        assert_eq!(open[0][0].as_deref(), Some("0"));
        ada.get(&[]).assert_problem(401, "session_revoked");
        let body = json!({ "device_id": DEVICE, "refresh_token": ada.refresh }).to_string();
        assert_eq!(ada.app.host().send("POST", "/api/auth/refresh-token", Some(&body)).status, 401);
        let trail =
            ada.app.db.query("SELECT service, actor, detail::text FROM audit.events WHERE action = 'member.erased'");
        assert_eq!(trail.len(), 2, "{trail:?}");
        assert!(trail.iter().all(|r| r[1].as_deref() == Some(format!("member:{}", ada.user_id).as_str())));
        let all = ada.app.db.query("SELECT string_agg(detail::text || subject, ' ') FROM audit.events");
        assert!(!all[0][0].clone().unwrap_or_default().contains("ada@example.com"));
        let again = ada.app.as_auth(
            "users.spin.internal/internal/link",
            &json!({ "email": "ada@example.com", "phone": "+447912345678" }),
        );
        assert_eq!(again.status, 200, "{}", again.body);
        assert_ne!(again.json()["user_id"].as_str(), Some(ada.user_id.as_str()));
    }
}

#[test]
fn an_erasure_that_failed_half_way_completes_when_sent_again() {
    // Arrange: auth cannot delete passkeys, so the erasure stops after the account
    let mut ada = ada(Mode::Reuse);
    ada.with_passkey();
    ada.app.db.query("REVOKE DELETE ON auth.passkeys FROM vottery_auth");

    // Act: the retry comes later, with the same session (its passkey
    // ceremony no longer recent)
    let failed = ada.call("DELETE", "/api/users/profile", None);
    let between = ada.held_rows();
    ada.app.db.query("GRANT DELETE ON auth.passkeys TO vottery_auth");
    ada.signed_in_ago(330);
    let retried = ada.call("DELETE", "/api/users/profile", None);

    // Assert
    failed.assert_problem(503, "dependency_unavailable");
    assert!(between.contains(&("users.accounts", 0)) && between.contains(&("auth.passkeys", 1)), "{between:?}");
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(retried.json()["passkeys_removed"], 1);
    assert_eq!(retried.json()["sessions_revoked"], 1);
    assert!(ada.held_rows().iter().all(|(_, n)| *n == 0), "{:?}", ada.held_rows());
    ada.get(&[]).assert_problem(401, "session_revoked");
}

#[test]
fn the_last_user_admin_cannot_erase_themselves_and_nothing_is_erased() {
    // Arrange
    let ada = ada(Mode::Reuse);
    let granted = admin_tool(&ada.app.db, &["grant", "--email", "ada@example.com", "--role", "user_admin"]);
    assert!(granted.status.success(), "{}", String::from_utf8_lossy(&granted.stderr));
    let before = ada.held_rows();

    // Act
    let refused = ada.call("DELETE", "/api/users/profile", None);

    // Assert
    refused.assert_problem(409, "last_user_admin");
    assert_eq!(ada.held_rows(), before);
    assert!(ada.audit_rows("member.erased").is_empty());
}

/// The value of one series in a Prometheus text exposition.
fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn the_metrics_listener_counts_the_requests_instances_and_store_calls_of_a_scripted_flow() {
    // Arrange: a fresh instance per request, so every request is one instance
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let ada = ada_with(Mode::PerRequest, &[("VOTTERY_METRICS_LISTEN", listen.as_str())]);
    let scrape =
        || agent().get(&format!("http://{listen}/metrics")).call().unwrap().into_body().read_to_string().unwrap();
    let before = scrape();
    let read = |text: &str, series_name: &str| series(text, series_name).unwrap_or(0.0);

    // Act
    for _ in 0..3 {
        assert_eq!(ada.get(&[]).status, 200);
    }
    ada.put(&json!({}), None).assert_problem(428, "precondition_required");
    let after = scrape();

    // Assert
    let ok = r#"vottery_http_requests_total{trigger="/api/users/...",component="users",method="GET",status="200"}"#;
    let refused =
        r#"vottery_http_requests_total{trigger="/api/users/...",component="users",method="PUT",status="428"}"#;
    assert_eq!(read(&after, ok) - read(&before, ok), 3.0, "{after}");
    assert_eq!(read(&after, refused) - read(&before, refused), 1.0);
    let created = r#"vottery_instances_total{component="users",outcome="created"}"#;
    let reused = r#"vottery_instances_total{component="users",outcome="reused"}"#;
    let chained = r#"vottery_http_requests_total{trigger="chained",component="users",method="POST",status="200"}"#;
    assert_eq!(read(&after, created) - read(&before, created), 4.0, "{after}");
    assert_eq!(read(&after, reused), 0.0);
    assert!(read(&after, chained) >= 1.0, "the probe's link and the refresh's roles are chained: {after}");
    assert!(read(&after, r#"vottery_postgres_calls_total{outcome="ok"}"#) >= 3.0);
    assert!(read(&after, r#"vottery_redis_calls_total{outcome="ok"}"#) >= 3.0);
    assert!(after.contains("vottery_instantiation_duration_seconds_bucket{"), "{after}");
    assert!(after.contains(r#"vottery_http_request_duration_seconds_count{component="users"}"#));
    assert_eq!(read(&after, "vottery_connections_refused_total"), 0.0);
    assert!(after.ends_with("# EOF\n"));
    ada.app.host().send("GET", "/metrics", None).assert_problem(404, "route_not_found");
}
