use crate::support::*;

fn manifest() -> String {
    let probe = wasm("fixture_probe");
    format!(
        r#"spin_manifest_version = 2
[application]
name = "routing"

[[trigger.http]]
route = "/api/users/..."
component = "wild"

[[trigger.http]]
route = "/api/users/exact"
component = "exact"

[[trigger.http]]
route = "/api/devices/:id"
component = "param"

[[trigger.http]]
route = {{ private = true }}
component = "hidden"

[component.wild]
source = "{probe}"
[component.exact]
source = "{probe}"
[component.param]
source = "{probe}"
[component.hidden]
source = "{probe}"
"#,
        probe = probe.display()
    )
}

#[test]
fn wildcard_route_gets_spin_headers() {
    let (m, _) = write_app(&manifest(), None);
    for mode in MODES {
        let host = Host::start(&m, None, mode, &[]);
        let reply = host.get("/api/users/profile?x=1");
        assert_eq!(reply.status, 200, "{mode:?}");
        let h = &reply.json()["headers"];
        assert_eq!(h["spin-path-info"], "/profile");
        assert_eq!(h["spin-full-url"], format!("{}/api/users/profile?x=1", host.base));
        assert_eq!(h["spin-matched-route"], "/api/users/...");
        assert_eq!(h["spin-raw-component-route"], "/api/users/...");
        assert_eq!(h["spin-component-route"], "/api/users");
        assert_eq!(h["spin-base-path"], "/");
        assert!(h["spin-client-addr"].as_str().unwrap().starts_with("127.0.0.1:"));
    }
}

#[test]
fn parameters_become_path_match_headers() {
    let (m, _) = write_app(&manifest(), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let h = host.get("/api/devices/abc").json()["headers"].clone();
    assert_eq!(h["spin-path-match-id"], "abc");
    assert_eq!(h["spin-path-info"], "");
    assert_eq!(h["spin-component-route"], "/api/devices/:id");
}

#[test]
fn exact_route_beats_wildcard() {
    let (m, _) = write_app(&manifest(), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    assert_eq!(host.get("/api/users/exact").json()["headers"]["spin-matched-route"], "/api/users/exact");
    assert_eq!(host.get("/api/users/exact/more").json()["headers"]["spin-matched-route"], "/api/users/...");
}

#[test]
fn unmatched_paths_are_problem_404() {
    let (m, _) = write_app(&manifest(), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    host.get("/nowhere").assert_problem(404, "route_not_found");
    host.get("/api/usersX").assert_problem(404, "route_not_found");
    host.get("/api/devices/").assert_problem(404, "route_not_found");
}
