//! The project's own `spin.toml`, served whole.

use crate::support::*;

fn start_with(mode: Mode, db: &Database, pg_port: &str) -> Host {
    wasm("vottery_gateway");
    let root = workspace();
    Host::start(
        &root.join("spin.toml"),
        Some(&root.join("runtime-config.toml")),
        mode,
        &[
            ("SPIN_VARIABLE_MASTER_KEY", "test-master"),
            ("SPIN_VARIABLE_CONTACT_PEPPER", "test-pepper"),
            ("SPIN_VARIABLE_PG_DATABASE", &db.name),
            ("SPIN_VARIABLE_PG_PORT", pg_port),
        ],
    )
}

fn start(mode: Mode, db: &Database) -> Host {
    start_with(mode, db, "5432")
}

#[test]
fn every_service_answers_health_behind_the_gateway() {
    let db = Database::migrated();
    for mode in MODES {
        let host = start(mode, &db);
        for service in ["auth", "users", "security", "devices"] {
            let reply = host.get(&format!("/api/{service}/health"));
            assert_eq!(reply.status, 200, "{service} {mode:?}: {}", reply.body);
            assert_eq!(reply.json()["service"], service);
            assert_eq!(reply.json()["crypto"], "ok");
            assert_eq!(reply.json()["postgres"], "ok");
            assert_eq!(reply.header("strict-transport-security"), Some("max-age=63072000; includeSubDomains"));
            assert_eq!(reply.header("x-request-id").map(str::len), Some(32));
        }
    }
}

#[test]
fn an_unreachable_database_is_a_503_problem_at_request_time() {
    let db = Database::migrated();
    let host = start_with(Mode::Reuse, &db, "1");
    for service in ["auth", "users", "security", "devices"] {
        let reply = host.get(&format!("/api/{service}/health"));
        reply.assert_problem(503, "service_unavailable");
        let detail = reply.json()["detail"].as_str().unwrap().to_owned();
        assert_eq!(detail, "postgres: unreachable");
    }
}

#[test]
fn each_service_connects_as_its_own_least_privileged_role() {
    // The health check connects as vottery_<service>; without the
    // migrations those roles cannot reach the database's schemas.
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    assert_eq!(host.get("/api/users/health").status, 200);
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "vottery_auth",
            "-d",
            &db.name,
            "-tAc",
            "SELECT count(*) FROM users.sngine_accounts",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("permission denied"));
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "vottery_users",
            "-d",
            &db.name,
            "-tAc",
            "SELECT count(*) FROM users.sngine_accounts WHERE NOT banned",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
    // Sngine's table is read, never written, through the view.
    for write in [
        "UPDATE users.sngine_accounts SET email = 'taken@example.com'",
        "DELETE FROM users.sngine_accounts",
        "INSERT INTO users.sngine_accounts (username, email) VALUES ('x', 'x@example.com')",
    ] {
        let out = std::process::Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "vottery_users", "-d", &db.name, "-tAc", write])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{write}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("permission denied"), "{write}");
    }
}

#[test]
fn routing_errors_are_problems_and_member_routes_need_a_token() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    let biometric = host.send("POST", "/api/auth/capture-biometric", Some("{}"));
    biometric.assert_problem(400, "missing_field");
    assert!(biometric.json()["detail"].as_str().unwrap().contains("credential"));
    // The members' own routes need an access token before anything else.
    for (method, path) in [
        ("GET", "/api/users/profile"),
        ("PUT", "/api/users/profile"),
        ("GET", "/api/users/demographics"),
        ("POST", "/api/users/activity"),
        ("POST", "/api/devices/register"),
        ("GET", "/api/devices/list"),
        ("PUT", "/api/devices/update"),
        ("DELETE", "/api/devices/abc"),
        ("GET", "/api/sessions"),
    ] {
        let reply = host.send(method, path, Some("{}"));
        reply.assert_problem(401, "token_missing");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{path}");
    }
    let wrong = host.send("DELETE", "/api/auth/send-otp", None);
    wrong.assert_problem(405, "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("POST"));
    host.get("/api/auth/nothing-here").assert_problem(404, "route_not_found");
    host.get("/elsewhere").assert_problem(404, "route_not_found");
}

#[test]
fn instances_are_reused_or_fresh_as_configured() {
    let probe = wasm("fixture_probe");
    let (m, _) = write_app(
        &format!(
            "spin_manifest_version = 2\n[application]\nname = \"n\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"p\"\n[component.p]\nsource = \"{}\"\n",
            probe.display()
        ),
        None,
    );
    let fresh = Host::start(&m, None, Mode::PerRequest, &[]);
    let counts: Vec<u64> = (0..5).map(|_| fresh.get("/counter").json()["served"].as_u64().unwrap()).collect();
    assert_eq!(counts, [1, 1, 1, 1, 1]);
    let reused = Host::start(&m, None, Mode::Reuse, &[]);
    let counts: Vec<u64> = (0..5).map(|_| reused.get("/counter").json()["served"].as_u64().unwrap()).collect();
    assert_eq!(counts, [1, 2, 3, 4, 5]);
}
