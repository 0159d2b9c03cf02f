//! The public contract's own tests: the description covers exactly the
//! routes the components serve, and the checker (`common/contract.rs`,
//! which holds every answer of the app in these tests to the description)
//! catches an answer the description does not allow.

use crate::contract::{Answer, conforms, document, internal_operations, served_routes};

#[test]
fn every_route_a_component_serves_is_described_and_every_description_is_served() {
    let served = served_routes();
    let mut described = internal_operations();
    for (path, item) in document()["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch"] {
            // The host answers /.well-known/spin/* itself, before any component.
            if item.get(method).is_some() && !path.starts_with("/.well-known/spin/") {
                described.insert(format!("{} {path}", method.to_ascii_uppercase()));
            }
        }
    }
    let undescribed: Vec<&String> = served.difference(&described).collect();
    let unserved: Vec<&String> = described.difference(&served).collect();
    assert!(undescribed.is_empty(), "served but not in openapi/openapi.yaml or internal.yaml: {undescribed:?}");
    assert!(unserved.is_empty(), "described but served by no component: {unserved:?}");
    assert!(served.contains("POST /api/auth/send-otp") && served.contains("POST /internal/tokens"), "{served:?}");
}

#[test]
fn an_answer_the_description_does_not_allow_is_caught() {
    let header = |name: &str| (name == "content-type").then(|| "application/problem+json".to_owned());
    let answer = |status, body| Answer {
        method: "GET",
        target: "/api/auth/status?flow_id=x",
        request_headers: &[],
        status,
        header: &header,
        body,
    };
    let listed =
        r#"{"type":"urn:vottery:problem:flow_not_found","title":"Not found","status":404,"code":"flow_not_found"}"#;
    assert!(conforms(&answer(404, listed)).is_ok());
    let wrong_code = listed.replace("\"code\":\"flow_not_found\"", "\"code\":\"route_not_found\"");
    assert!(conforms(&answer(404, &wrong_code)).unwrap_err().contains("fails"));
    assert!(conforms(&answer(409, listed)).unwrap_err().contains("not listed"));
    let header = |_: &str| Some("application/json".to_owned());
    let untyped = Answer { header: &header, ..answer(404, listed) };
    assert!(conforms(&untyped).unwrap_err().contains("content type"));
}
