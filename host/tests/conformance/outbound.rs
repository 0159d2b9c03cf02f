use crate::support::*;

fn manifest(allowed: &str) -> String {
    let probe = wasm("fixture_probe");
    format!(
        r#"spin_manifest_version = 2
[application]
name = "outbound"

[[trigger.http]]
route = "/caller/..."
component = "caller"

[[trigger.http]]
route = {{ private = true }}
component = "backend"

[component.caller]
source = "{probe}"
allowed_outbound_hosts = [{allowed}]

[component.backend]
source = "{probe}"
"#,
        probe = probe.display()
    )
}

#[test]
fn outbound_http_only_to_allowed_hosts() {
    let port = upstream();
    let (m, _) = write_app(&manifest(&format!("\"http://127.0.0.1:{port}\"")), None);
    for mode in MODES {
        let host = Host::start(&m, None, mode, &[]);
        let ok = host.get(&format!("/caller/outbound?url=http://127.0.0.1:{port}/x")).json();
        assert_eq!(ok["status"], 200, "{mode:?}: {ok}");
        let other = upstream();
        let denied = host.get(&format!("/caller/outbound?url=http://127.0.0.1:{other}/x")).json();
        assert!(denied["error"].as_str().unwrap().contains("HttpRequestDenied"), "{denied}");
    }
}

#[test]
fn chaining_reaches_private_routes_only_where_allowed() {
    let (m, _) = write_app(&manifest("\"http://backend.spin.internal\""), None);
    for mode in MODES {
        let host = Host::start(&m, None, mode, &[]);
        let chained = host.get("/caller/outbound?url=http://backend.spin.internal/anything").json();
        assert_eq!(chained["status"], 200, "{mode:?}: {chained}");
        let self_chain = host.get("/caller/outbound?url=http://caller.spin.internal/x").json();
        assert!(self_chain["error"].as_str().unwrap().contains("HttpRequestDenied"), "{self_chain}");
    }
}

#[test]
fn chained_requests_carry_spin_headers_of_a_synthetic_route() {
    // The backend reports its headers to the caller, which returns them.
    let (m, _) = write_app(&manifest("\"http://*.spin.internal\""), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let reply = host.get("/caller/outbound?url=http://backend.spin.internal/deep/path?q=1").json();
    assert_eq!(reply["status"], 200, "{reply}");
    let seen: serde_json::Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
    assert_eq!(seen["path"], "/deep/path");
    let h = &seen["headers"];
    assert_eq!(h["spin-path-info"], "/deep/path");
    assert_eq!(h["spin-matched-route"], "/...");
    assert_eq!(h["spin-component-route"], "");
    assert_eq!(h["spin-client-addr"], "0.0.0.0:0");
    assert_eq!(h["spin-full-url"], "http://localhost/deep/path?q=1");
}

#[test]
fn private_routes_are_unreachable_from_outside() {
    let (m, _) = write_app(&manifest("\"http://backend.spin.internal\""), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    host.get("/backend").assert_problem(404, "route_not_found");
    host.get("/").assert_problem(404, "route_not_found");
}
