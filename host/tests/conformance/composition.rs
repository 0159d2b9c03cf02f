use crate::support::*;

fn manifest(middleware: &str) -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "composition"

[[trigger.http]]
route = "/..."
component = "probe"
dependencies.middleware = [{middleware}]

[component.probe]
source = "{probe}"
[component.gateway]
source = "{gateway}"
[component.mw]
source = "{mw}"
"#,
        probe = wasm("fixture_probe").display(),
        gateway = wasm("vottery_gateway").display(),
        mw = wasm("fixture_mw_probe").display(),
    )
}

#[test]
fn middleware_runs_first_listed_outermost() {
    for (order, saw) in [
        ("{ component = \"gateway\", inherit_configuration = true }, { component = \"mw\" }", "yes"),
        ("{ component = \"mw\" }, { component = \"gateway\", inherit_configuration = true }", "no"),
    ] {
        let (m, _) = write_app(&manifest(order), None);
        for mode in MODES {
            let host = Host::start(&m, None, mode, &[]);
            let reply = host.get("/x");
            assert_eq!(reply.status, 200);
            let h = &reply.json()["headers"];
            assert_eq!(h["x-mw-probe-saw-request-id"], saw, "{order} {mode:?}");
            assert!(h["x-request-id"].is_string());
            assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(reply.header("x-request-id"), h["x-request-id"].as_str());
        }
    }
}

#[test]
fn gateway_rejects_oversized_bodies_before_the_component() {
    let (m, _) = write_app(&manifest("{ component = \"gateway\", inherit_configuration = true }"), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let big = "x".repeat(64 * 1024 + 1);
    let reply = host.send("POST", "/x", Some(&big));
    reply.assert_problem(413, "payload_too_large");
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
}

fn dependency_manifest(dep: &str, inherit: &str) -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "deps"
[variables]
master_key = {{ default = "top-secret" }}

[[trigger.http]]
route = "/api/devices/..."
component = "devices"

[component.devices]
source = "{devices}"
[component.devices.variables]
master_key = "{{{{ master_key }}}}"
[component.devices.dependencies]
"vottery:crypto/digest@0.1.0" = {{ path = "{dep}"{inherit} }}
"#,
        devices = wasm("vottery_devices").display(),
        dep = wasm(dep).display(),
    )
}

#[test]
fn crypto_dependency_is_composed_without_capabilities() {
    let (m, _) = write_app(&dependency_manifest("vottery_crypto", ""), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    // No database is configured here, so health stops at Postgres: the
    // crypto known-answer test before it passed.
    let reply = host.get("/api/devices/health");
    reply.assert_problem(503, "service_unavailable");
    assert!(reply.json()["detail"].as_str().unwrap().starts_with("postgres"), "{}", reply.body);
}

#[test]
fn a_dependency_reaching_for_a_capability_it_was_not_given_is_refused() {
    let (m, _) = write_app(&dependency_manifest("fixture_leaky_dep", ""), None);
    let (ok, stderr) = Host::run_to_exit(&m, None, &[]);
    assert!(!ok);
    assert!(stderr.contains("spin:variables/variables@3.0.0"), "{stderr}");
    assert!(stderr.contains("no capability"), "{stderr}");

    let (m, _) =
        write_app(&dependency_manifest("fixture_leaky_dep", ", inherit_configuration = [\"variables\"]"), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let reply = host.get("/api/devices/health");
    reply.assert_problem(503, "service_unavailable");
    assert!(reply.json()["detail"].as_str().unwrap().contains("crypto"), "{}", reply.body);
}
