//! The public contract, held to: every answer the app gives these tests is
//! checked against `openapi/openapi.json` (the JSON form of
//! `openapi/openapi.yaml`), and a test that receives an answer the
//! description does not allow fails.
//!
//! For each answer: the operation of its method and path (or, for a path or
//! method no operation has, the description's shared `RouteNotFound`,
//! `MethodNotAllowed`, `AccessTokenRefused` and CORS preflight answers), a
//! response listed for its status, its content type among that response's,
//! its body against the schema, and every header the response marks
//! `required` present and valid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

use crate::support::workspace;

const BASE: &str = "https://vottery.invalid/openapi.json";

/// An answer as the contract sees it.
pub struct Answer<'a> {
    pub method: &'a str,
    /// The request target: path and query.
    pub target: &'a str,
    pub request_headers: &'a [(&'a str, &'a str)],
    pub status: u16,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a str,
}

/// Panics, naming the operation and what differs, unless `answer` is one
/// the description allows.
pub fn check(answer: &Answer<'_>) {
    if let Err(why) = conforms(answer) {
        panic!(
            "the answer to {} {} does not conform to openapi/openapi.yaml: {why}\n{} {}",
            answer.method, answer.target, answer.status, answer.body
        );
    }
}

pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = std::fs::read_to_string(workspace().join("openapi/openapi.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

fn registry() -> &'static Registry<'static> {
    static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let resource = Draft::Draft202012.create_resource(document().clone());
        Registry::new().add(BASE, resource).unwrap().prepare().unwrap()
    })
}

/// The validator of the schema at `pointer` in the document (built once).
fn validator(pointer: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(pointer.to_owned())
        .or_insert_with(|| {
            let schema = json!({ "$ref": format!("{BASE}#{}", fragment(pointer)) });
            let built = jsonschema::options().with_draft(Draft::Draft202012).with_registry(registry()).build(&schema);
            Arc::new(built.unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}")))
        })
        .clone()
}

/// A JSON pointer as a URI fragment (RFC 6901, section 6): `{id}` and the
/// like percent-encoded.
fn fragment(pointer: &str) -> String {
    pointer
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' | b'@' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Follows a `$ref` into `components`, keeping the pointer of what it
/// lands on.
fn resolve(pointer: String, node: &Value) -> (String, &Value) {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let target = reference.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {reference}"));
            let found = document().pointer(target).unwrap_or_else(|| panic!("dangling $ref {reference}"));
            resolve(target.to_owned(), found)
        }
        None => (pointer, node),
    }
}

/// The description's path template that `path` falls under: literal
/// segments beat parameters (`/api/devices/list` before `/api/devices/{id}`).
pub fn template(path: &str) -> Option<&'static str> {
    let path = if path.len() > 1 { path.strip_suffix('/').unwrap_or(path) } else { path };
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    paths
        .keys()
        .filter(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()))
        })
        .min_by_key(|t| t.matches('{').count())
        .map(String::as_str)
}

pub fn conforms(answer: &Answer<'_>) -> Result<(), String> {
    let path = answer.target.split('?').next().unwrap_or_default();
    let method = answer.method.to_ascii_lowercase();
    let shared = |name: &str| format!("/components/responses/{name}");
    // What the host and the gateway answer before any operation is chosen.
    let before_routing = |status| match status {
        400 => Some("InvalidHost"),
        413 => Some("PayloadTooLarge"),
        414 => Some("UriTooLong"),
        431 => Some("RequestHeaderFieldsTooLarge"),
        500 => Some("InternalError"),
        503 => Some("ServiceUnavailable"),
        _ => None,
    };
    let Some(template) = template(path) else {
        let name = match answer.status {
            401 => "AccessTokenRefused",
            404 => "RouteNotFound",
            other => before_routing(other).ok_or_else(|| format!("{other} to a path no operation has"))?,
        };
        return response(answer, shared(name));
    };
    let path_pointer = format!("/paths/{}", escape(template));
    let operation = &document()["paths"][template][&method];
    if !operation.is_object() {
        let preflight = method == "options"
            && ["origin", "access-control-request-method"]
                .iter()
                .all(|n| answer.request_headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n)));
        let name = match (preflight, answer.status) {
            (true, 204) => "CorsPreflight",
            (true, 403) => "CorsRefused",
            (_, 401) => "AccessTokenRefused",
            (_, 405) => "MethodNotAllowed",
            (_, other) => {
                before_routing(other).ok_or_else(|| format!("{other} to a method {template} does not have"))?
            }
        };
        return response(answer, shared(name));
    }
    let responses = &operation["responses"];
    let status = answer.status.to_string();
    let class = format!("{}XX", answer.status / 100);
    let key = [status.as_str(), class.as_str(), "default"]
        .into_iter()
        .find(|k| responses.get(*k).is_some())
        .ok_or_else(|| format!("status {} is not listed for {} {template}", answer.status, answer.method))?;
    response(answer, format!("{path_pointer}/{method}/responses/{key}"))
}

/// Checks `answer` against the response object at `pointer`.
fn response(answer: &Answer<'_>, pointer: String) -> Result<(), String> {
    let node = document().pointer(&pointer).ok_or_else(|| format!("{pointer} is not in the description"))?;
    let (pointer, node) = resolve(pointer, node);
    content(answer, &pointer, node)?;
    headers(answer, &pointer, node)
}

fn content(answer: &Answer<'_>, pointer: &str, node: &Value) -> Result<(), String> {
    let Some(media) = node.get("content").and_then(Value::as_object) else {
        return match answer.body.is_empty() {
            true => Ok(()),
            false => Err(format!("{pointer} has no content, but a body came")),
        };
    };
    let received = (answer.header)("content-type").unwrap_or_default();
    let essence = received.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let Some(entry) = media.get(&essence) else {
        let listed: Vec<&String> = media.keys().collect();
        return Err(format!("content type {received:?} is not among {listed:?} of {pointer}"));
    };
    let Some(schema) = entry.get("schema") else {
        return Ok(());
    };
    let body: Value = if essence == "application/json" || essence.ends_with("+json") {
        serde_json::from_str(answer.body).map_err(|e| format!("the body is not JSON: {e}"))?
    } else {
        Value::String(answer.body.to_owned())
    };
    let schema_pointer = format!("{pointer}/content/{}/schema", escape(&essence));
    let (schema_pointer, _) = resolve(schema_pointer, schema);
    let errors: Vec<String> =
        validator(&schema_pointer).iter_errors(&body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    match errors.is_empty() {
        true => Ok(()),
        false => Err(format!("the body fails {schema_pointer}: {}", errors.join("; "))),
    }
}

fn headers(answer: &Answer<'_>, pointer: &str, node: &Value) -> Result<(), String> {
    let Some(listed) = node.get("headers").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, header) in listed {
        let header_pointer = format!("{pointer}/headers/{}", escape(name));
        let (header_pointer, header) = resolve(header_pointer, header);
        let value = (answer.header)(name);
        let required = header.get("required").and_then(Value::as_bool).unwrap_or(false);
        let (Some(value), Some(schema)) = (value, header.get("schema")) else {
            if required && (answer.header)(name).is_none() {
                return Err(format!("the required header {name} is missing ({header_pointer})"));
            }
            continue;
        };
        let typed = match schema.get("type").and_then(Value::as_str) {
            Some("integer") => value.parse::<i64>().map(Value::from).map_err(|_| format!("{name}: {value:?}"))?,
            _ => Value::String(value),
        };
        let schema_pointer = format!("{header_pointer}/schema");
        let (schema_pointer, _) = resolve(schema_pointer, schema);
        if let Some(error) = validator(&schema_pointer).iter_errors(&typed).next() {
            return Err(format!("header {name} fails {schema_pointer}: {error}"));
        }
    }
    Ok(())
}

/// The Rust files under `dir`, in its subdirectories too.
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Every `Route::new(Method, "/path", ...)` of the components' route tables,
/// as `METHOD /path` with `{name}` for a `:name` capture.
pub fn served_routes() -> std::collections::BTreeSet<String> {
    let mut routes = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(workspace().join("components")).unwrap() {
        for file in rust_files(&entry.unwrap().path().join("src")) {
            let text = std::fs::read_to_string(file).unwrap();
            for call in text.split("Route::new(").skip(1) {
                let (method, rest) = call.split_once(',').unwrap();
                let path = rest.split('"').nth(1).unwrap();
                let path: Vec<String> = path
                    .split('/')
                    .map(|s| s.strip_prefix(':').map_or(s.to_owned(), |name| format!("{{{name}}}")))
                    .collect();
                routes.insert(format!("{} {}", method.trim().to_ascii_uppercase(), path.join("/")));
            }
        }
    }
    routes
}

/// The operations of `openapi/internal.yaml`, read off its layout (paths
/// at two spaces, methods at four).
pub fn internal_operations() -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(workspace().join("openapi/internal.yaml")).unwrap();
    let mut operations = std::collections::BTreeSet::new();
    let mut path = None;
    for line in text
        .lines()
        .skip_while(|l| *l != "paths:")
        .skip(1)
        .take_while(|l| !l.starts_with(|c: char| c.is_ascii_alphabetic()))
    {
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = Some(format!("/{p}"));
        } else if let (Some(p), Some(m)) = (&path, line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')))
            && ["get", "put", "post", "delete", "patch"].contains(&m)
        {
            operations.insert(format!("{} {p}", m.to_ascii_uppercase()));
        }
    }
    operations
}
