use crate::support::*;

fn manifest() -> String {
    let probe = wasm("fixture_probe");
    format!(
        r#"spin_manifest_version = 2
[application]
name = "variables"

[variables]
greeting = {{ default = "hello" }}
api_key = {{ required = true, secret = true }}
unset = {{ required = true }}

[[trigger.http]]
route = "/..."
component = "probe"

[component.probe]
source = "{probe}"
[component.probe.variables]
greeting = "{{{{ greeting }}}}, world"
key = "{{{{ api_key }}}}"
unset = "{{{{ unset }}}}"
"#,
        probe = probe.display()
    )
}

#[test]
fn defaults_env_providers_and_errors() {
    let (m, _) = write_app(&manifest(), None);
    for mode in MODES {
        let host = Host::start(&m, None, mode, &[("SPIN_VARIABLE_API_KEY", "s3cret")]);
        assert_eq!(host.get("/variable?name=greeting").json()["value"], "hello, world");
        assert_eq!(host.get("/variable?name=key").json()["value"], "s3cret");
        let undefined = host.get("/variable?name=nope").json();
        assert!(undefined["error"].as_str().unwrap().contains("Undefined"), "{undefined}");
        let unresolved = host.get("/variable?name=unset").json();
        assert!(unresolved["error"].as_str().unwrap().contains("Provider"), "{unresolved}");
        let invalid = host.get("/variable?name=BAD").json();
        assert!(invalid["error"].as_str().unwrap().contains("InvalidName"), "{invalid}");
    }
}

#[test]
fn runtime_config_providers_come_before_the_default_env_provider() {
    let (m, rc) =
        write_app(&manifest(), Some("[[variables_provider]]\ntype = \"static\"\nvalues = { greeting = \"hi\" }\n"));
    let host = Host::start(&m, rc.as_deref(), Mode::Reuse, &[("SPIN_VARIABLE_GREETING", "env")]);
    assert_eq!(host.get("/variable?name=greeting").json()["value"], "hi, world");
}
