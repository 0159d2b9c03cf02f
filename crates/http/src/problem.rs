//! RFC 9457 problem details with a stable, machine-readable `code`.

use serde::Serialize;

/// Media type of every error body the services return.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer: an HTTP status, a stable code clients can switch on, and
/// a human-readable title and detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allow: Vec<&'static str>,
    /// Members particular to this problem (`flow_id`, `retry_after`, ...).
    #[serde(flatten)]
    extensions: Box<serde_json::Map<String, serde_json::Value>>,
}

impl Problem {
    /// A problem with the given status, stable code and title.
    pub fn new(status: u16, code: &'static str, title: &'static str) -> Self {
        Self {
            kind: format!("urn:vottery:problem:{code}"),
            title,
            status,
            code,
            detail: None,
            allow: Vec::new(),
            extensions: Box::default(),
        }
    }

    /// Adds a detail sentence for this occurrence.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// No route matches the path.
    pub fn not_found(path: &str) -> Self {
        Self::new(404, "route_not_found", "No such route").with_detail(format!("no route for {path}"))
    }

    /// The path exists but not for this method.
    pub fn method_not_allowed(method: &str, allow: Vec<&'static str>) -> Self {
        let mut problem = Self::new(405, "method_not_allowed", "Method not allowed")
            .with_detail(format!("{method} is not allowed here; use {}", allow.join(", ")));
        problem.allow = allow;
        problem
    }

    /// The route exists but its capability is delivered by later work.
    pub fn not_implemented(capability: &'static str) -> Self {
        Self::new(501, "not_implemented", "Not implemented yet")
            .with_detail(format!("the {capability} capability is not implemented yet"))
    }

    /// A dependency (database, cache, another service) is unavailable.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, "service_unavailable", "Service unavailable").with_detail(detail)
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Methods to list in an `Allow` header (405 only).
    pub fn allow(&self) -> &[&'static str] {
        &self.allow
    }

    /// Adds a member to the body (RFC 9457 extension members). The standard
    /// members cannot be overwritten this way.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        if !matches!(name, "type" | "title" | "status" | "code" | "detail" | "allow") {
            self.extensions.insert(name.to_owned(), value.into());
        }
        self
    }

    /// Seconds after which a retry may succeed (`retry_after`), for the
    /// `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        self.extensions.get("retry_after").and_then(serde_json::Value::as_u64)
    }

    /// The `WWW-Authenticate` challenge of a step-up refusal (RFC 9470): a
    /// 401 whose `max_age` member says how recent the authentication must be.
    pub fn step_up_challenge(&self) -> Option<String> {
        let max_age = self.extensions.get("max_age").and_then(serde_json::Value::as_u64)?;
        (self.status == 401).then(|| format!("Bearer error=\"{}\", max_age={max_age}", self.code))
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_carries_type_code_status_and_detail() {
        let body: serde_json::Value = serde_json::from_str(&Problem::not_implemented("webauthn").to_json()).unwrap();
        assert_eq!(body["type"], "urn:vottery:problem:not_implemented");
        assert_eq!(body["status"], 501);
        assert_eq!(body["code"], "not_implemented");
        assert!(body["detail"].as_str().unwrap().contains("webauthn"));
        assert!(body.get("allow").is_none());
    }

    #[test]
    fn extensions_are_members_of_the_body_but_never_replace_standard_ones() {
        let problem = Problem::new(429, "resend_too_soon", "Too soon")
            .with("retry_after", 42)
            .with("flow_id", "f1")
            .with("code", "hijacked");
        let body: serde_json::Value = serde_json::from_str(&problem.to_json()).unwrap();
        assert_eq!(body["retry_after"], 42);
        assert_eq!(body["flow_id"], "f1");
        assert_eq!(body["code"], "resend_too_soon");
        assert_eq!(problem.retry_after(), Some(42));
    }

    #[test]
    fn a_step_up_refusal_carries_its_challenge_and_others_none() {
        let step_up = Problem::new(401, "insufficient_user_authentication", "Unauthorized").with("max_age", 300);
        assert_eq!(
            step_up.step_up_challenge().as_deref(),
            Some("Bearer error=\"insufficient_user_authentication\", max_age=300")
        );
        assert_eq!(Problem::new(401, "token_missing", "Unauthorized").step_up_challenge(), None);
        assert_eq!(Problem::new(403, "forbidden", "Forbidden").with("max_age", 300).step_up_challenge(), None);
    }

    #[test]
    fn method_not_allowed_lists_allowed_methods() {
        let problem = Problem::method_not_allowed("DELETE", vec!["GET", "PUT"]);
        assert_eq!(problem.status(), 405);
        assert_eq!(problem.allow(), ["GET", "PUT"]);
        let body: serde_json::Value = serde_json::from_str(&problem.to_json()).unwrap();
        assert_eq!(body["allow"], serde_json::json!(["GET", "PUT"]));
    }
}
