//! One member's whole flow spread over three replicas (hosts on their own
//! ports over one PostgreSQL and one Redis namespace), request by request,
//! against the same flow on one host: every step works on whichever
//! replica it lands, and what is stored is the same.

use std::collections::BTreeMap;

use serde_json::json;
use vottery_passkeys_core::soft::{Algorithm, Format, SoftAuthenticator};

use crate::harness::*;

const ADA: (&str, &str) = ("ada@example.com", "+447912345678");
const DEVICE: &str = "ios-7d1e5a20-4c3b";

/// What the flow leaves behind, replica-independent.
type Summary = BTreeMap<String, i64>;

/// Step `i` of the flow goes to replica `i % replicas`.
fn flow(app: &TestApp) -> Summary {
    let on = |step: usize| step % app.hosts.len();
    // Steps 1 and 2: send on one replica, each code checked on another.
    let sent = app.post_on(on(0), "/api/auth/send-otp", &json!({ "email": ADA.0, "phone": ADA.1 }));
    assert_eq!(sent.status, 202, "{}", sent.body);
    let flow = sent.json()["flow_id"].as_str().unwrap().to_owned();
    let email = app.post_on(on(1), "/api/auth/verify-otp", &json!({ "flow_id": flow, "email_code": app.code(ADA.0) }));
    assert_eq!(email.status, 200, "{}", email.body);
    let sms = app.post_on(on(2), "/api/auth/verify-otp", &json!({ "flow_id": flow, "sms_code": app.code(ADA.1) }));
    assert_eq!(sms.status, 200, "{}", sms.body);
    let token = sms.json()["enrolment_token"].as_str().unwrap().to_owned();

    // Step 3: the ceremony begun on one replica, finished on the next.
    let mut auth = SoftAuthenticator::new(Algorithm::Es256, [9; 32], RP, ORIGIN);
    let enrolled = app.enrol_on((on(3), on(4)), &token, DEVICE, &mut auth, Format::None);
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    let first = enrolled.json();
    let access = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.as_member_on(on(5), &access, "GET", "/api/sessions/current", None).status, 200);

    // Refreshes alternating over the replicas.
    let mut refresh = first["refresh_token"].as_str().unwrap().to_owned();
    for step in 6..9 {
        let rotated = app.refresh_on(on(step), DEVICE, &refresh);
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        refresh = rotated.json()["refresh_token"].as_str().unwrap().to_owned();
    }
    // Two tabs refresh the same token at once, each on its own replica:
    // within the grace window both keep the member signed in.
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| app.refresh_on(on(9), DEVICE, &refresh));
        let b = scope.spawn(|| app.refresh_on(on(10), DEVICE, &refresh));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!((a.status, b.status), (200, 200), "{} / {}", a.body, b.body);
    let sibling = b.json()["refresh_token"].as_str().unwrap().to_owned();

    // The returning member's passkey, options and assertion on two replicas.
    let user = user_handle(first["user_id"].as_str().unwrap());
    let back = app.sign_in_on((on(11), on(12)), DEVICE, &mut auth, &user);
    assert_eq!(back.status, 201, "{}", back.body);
    let second = back.json()["access_token"].as_str().unwrap().to_owned();

    // Logout on one replica: the session's token is refused on every other.
    let logout = app.post_on(on(13), "/api/auth/logout", &json!({ "device_id": DEVICE, "refresh_token": sibling }));
    assert_eq!(logout.status, 200, "{}", logout.body);
    for step in 14..17 {
        app.as_member_on(on(step), &access, "GET", "/api/sessions/current", None)
            .assert_problem(401, "session_revoked");
        assert_eq!(app.as_member_on(on(step), &second, "GET", "/api/sessions/current", None).status, 200);
    }

    let mut summary = Summary::new();
    for row in app.db.query("SELECT service || ' ' || action || ' ' || outcome, count(*) FROM audit.events GROUP BY 1")
    {
        summary.insert(row[0].clone().unwrap(), row[1].as_deref().unwrap().parse().unwrap());
    }
    for (name, sql) in [
        ("accounts", "SELECT count(*) FROM users.accounts"),
        ("passkeys", "SELECT count(*) FROM auth.passkeys WHERE sign_count = 2"),
        ("devices", "SELECT count(*) FROM devices.devices"),
        ("sessions", "SELECT count(*) FROM devices.sessions"),
        ("sessions revoked", "SELECT count(*) FROM devices.sessions WHERE revoked_at IS NOT NULL"),
        ("refresh tokens", "SELECT count(*) FROM devices.refresh_tokens"),
        ("refresh tokens rotated", "SELECT count(*) FROM devices.refresh_tokens WHERE rotated_at IS NOT NULL"),
        ("broken audit links", "SELECT count(audit.first_broken_link())"),
    ] {
        summary.insert(name.to_owned(), app.count(sql));
    }
    summary
}

#[test]
fn a_members_flow_spread_over_three_replicas_ends_as_on_one_host() {
    let one = TestApp::spawn(Options::new().replicas(1));
    let expected = flow(&one);
    drop(one);

    let three = TestApp::spawn(Options::new().replicas(3));
    let spread = flow(&three);

    assert_eq!(spread, expected);
    assert_eq!((spread["sessions"], spread["sessions revoked"], spread["broken audit links"]), (2, 1, 0));
    // Three hosts stay well inside PostgreSQL's default 100 connections:
    // at most 6 per database role per host.
    let open = three.count(&format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        three.db.name
    ));
    assert!(open <= 3 * 4 * 6, "{open} connections");
}
