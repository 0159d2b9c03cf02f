use crate::support::*;

fn assert_refused(manifest: &str, runtime_config: Option<&str>, expect: &[&str]) {
    let (m, rc) = write_app(manifest, runtime_config);
    let (ok, stderr) = Host::run_to_exit(&m, rc.as_deref(), &[]);
    assert!(!ok, "the host should refuse to start");
    for e in expect {
        assert!(stderr.contains(e), "expected {e:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

const HEAD: &str = "spin_manifest_version = 2\n[application]\nname = \"bad\"\n";

#[test]
fn malformed_manifests_name_the_file_and_key() {
    assert_refused("spin_manifest_version = 2\n[application\n", None, &["invalid manifest", "spin.toml"]);
    assert_refused(&format!("{HEAD}[component.a]\nsource = \"a.wasm\"\nsurprise = 1\n"), None, &["surprise"]);
    assert_refused(
        &format!("{HEAD}[[trigger.http]]\nroute = \"/\"\ncomponent = \"nope\"\n"),
        None,
        &["trigger.http[0]", "\"nope\""],
    );
    assert_refused(
        &format!("{HEAD}[component.a]\nsource = \"a.wasm\"\n[component.a.variables]\nx = \"{{{{ missing }}}}\"\n"),
        None,
        &["component.a.variables.x", "unknown variable \"missing\""],
    );
    assert_refused(&format!("{HEAD}[variables]\nv = {{ }}\n"), None, &["variables.v", "required"]);
    assert_refused(
        &format!(
            "{HEAD}[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n[component.a]\nsource = \"missing.wasm\"\n"
        ),
        None,
        &["missing.wasm"],
    );
}

#[test]
fn malformed_runtime_config_names_the_file_and_key() {
    assert_refused(HEAD, Some("[sqlite_database.x]\n"), &["runtime-config.toml", "sqlite_database"]);
    assert_refused(
        HEAD,
        Some("[key_value_store.cache]\ntype = \"redis\"\nurl = \"http://x\"\n"),
        &["key_value_store.cache.url"],
    );
}

#[test]
fn bad_outbound_hosts_are_refused_at_start() {
    let probe = wasm("fixture_probe");
    let manifest = format!(
        "{HEAD}[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n[component.a]\nsource = \"{}\"\nallowed_outbound_hosts = [\"example.com\"]\n",
        probe.display()
    );
    assert_refused(&manifest, None, &["allowed_outbound_hosts", "example.com", "scheme"]);
}
