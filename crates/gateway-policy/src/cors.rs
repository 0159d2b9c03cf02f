//! Cross-origin requests: which browser origins may call the API with
//! credentials, the preflight answer, the headers every answer to an
//! allowed origin carries, and the origin check that guards the routes
//! whose credential is the refresh cookie (CSRF).
//!
//! ```text
//!  OPTIONS + Origin + Access-Control-Request-Method
//!     ├─ origin allowed, method and headers used by the API ──▶ 204 with the CORS headers
//!     ├─ origin allowed, a method or header the API does not use ──▶ 403 cors_preflight_refused
//!     └─ origin not allowed (or `null`, malformed, several) ──▶ 403 cors_origin_refused
//!  any other request from an allowed origin ──▶ its answer + Access-Control-Allow-Origin (errors too)
//!  any other request from another origin ──▶ its answer, no CORS headers (the browser hides it)
//! ```

use vottery_http::Problem;

/// Methods the API answers to.
pub const ALLOWED_METHODS: &str = "GET, POST, PUT, DELETE";
/// Request headers a browser may send beyond the CORS-safelisted ones.
pub const ALLOWED_HEADERS: &str = "authorization, content-type, if-match, if-none-match, x-request-id";
/// Response headers a page may read beyond the safelisted ones.
pub const EXPOSED_HEADERS: &str = "etag, retry-after, ratelimit, ratelimit-policy, www-authenticate, x-request-id";
/// Seconds a browser may keep a preflight answer.
pub const MAX_AGE: &str = "600";

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cors {
    origins: Vec<String>,
    any: bool,
}

impl Cors {
    /// `origins`: exact `scheme://host[:port]` entries separated by commas
    /// or spaces. `unsafe_any_origin`: `true` echoes every origin back (any
    /// site may then call the API with the member's credentials), so it is a
    /// separate setting with a name that says so.
    pub fn parse(origins: &str, unsafe_any_origin: &str) -> Result<Self, String> {
        let any = match unsafe_any_origin.trim() {
            "" | "false" => false,
            "true" => true,
            _ => return Err("cors_unsafe_any_origin must be `true` or `false`".into()),
        };
        let origins = origins
            .split([',', ' ', '\n'])
            .filter(|o| !o.is_empty())
            .map(|o| match canonical_origin(o) {
                Some(c) => Ok(c),
                None => Err(format!("cors_origins: `{o}` is not an origin (scheme://host[:port], nothing else)")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { origins, any })
    }

    /// The allowed origin a request's `Origin` fields name, if any: exactly
    /// one field, a real origin (never `null`), and on the list.
    pub fn allowed<'a>(&self, mut origin_fields: impl Iterator<Item = &'a str>) -> Option<String> {
        let origin = origin_fields.next()?;
        if origin_fields.next().is_some() {
            return None;
        }
        let canonical = canonical_origin(origin)?;
        (self.any || self.origins.contains(&canonical)).then(|| origin.to_owned())
    }

    /// The answer to a preflight from `origin` (already allowed) for
    /// `method` with `headers` (the `Access-Control-Request-Headers`).
    pub fn preflight(&self, origin: &str, method: &str, headers: &str) -> Result<Vec<(&'static str, String)>, Problem> {
        let method_ok = ALLOWED_METHODS.split(", ").any(|m| m == method);
        let unknown = headers
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .find(|h| !h.is_empty() && !ALLOWED_HEADERS.split(", ").any(|a| a == h));
        if !method_ok || unknown.is_some() {
            let what =
                if method_ok { format!("the header `{}`", unknown.unwrap_or_default()) } else { format!("`{method}`") };
            return Err(Problem::new(403, "cors_preflight_refused", "Forbidden")
                .with_detail(format!("the API does not accept {what} from another origin")));
        }
        let mut answer = Self::response_headers(origin);
        answer.push(("access-control-allow-methods", ALLOWED_METHODS.to_owned()));
        answer.push(("access-control-allow-headers", ALLOWED_HEADERS.to_owned()));
        answer.push(("access-control-max-age", MAX_AGE.to_owned()));
        Ok(answer)
    }

    /// The headers every answer to an allowed origin carries.
    pub fn response_headers(origin: &str) -> Vec<(&'static str, String)> {
        vec![
            ("access-control-allow-origin", origin.to_owned()),
            ("access-control-allow-credentials", "true".to_owned()),
            ("access-control-expose-headers", EXPOSED_HEADERS.to_owned()),
        ]
    }

    /// Whether a request whose credential is a cookie came from a page the
    /// API trusts: its `Origin` is allowed, or is the API's own (the host
    /// the request was sent to, `own_authority`), or, when a browser sent no
    /// `Origin`, `Sec-Fetch-Site` says `same-origin`. Anything else (another
    /// site's form or script, `null`, no sign at all) is refused before the
    /// cookie is used.
    pub fn trusts_cookie_request<'a>(
        &self,
        mut origin_fields: impl Iterator<Item = &'a str>,
        own_authority: Option<&str>,
        sec_fetch_site: Option<&str>,
    ) -> bool {
        match (origin_fields.next(), origin_fields.next()) {
            (None, _) => sec_fetch_site == Some("same-origin"),
            (Some(origin), None) => {
                let own = |origin: &str| {
                    let scheme = origin.split_once("://").map(|(s, _)| s)?;
                    let canonical = canonical_origin(origin)?;
                    Some(canonical_origin(&format!("{scheme}://{}", own_authority?))? == canonical)
                };
                self.allowed(std::iter::once(origin)).is_some() || own(origin) == Some(true)
            }
            (Some(_), Some(_)) => false,
        }
    }
}

/// `scheme://host[:port]` in lower case, with the default port dropped;
/// `None` for anything else (`null`, paths, user info, other schemes).
pub fn canonical_origin(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let rest = rest.to_ascii_lowercase();
    let (host, port) = if rest.starts_with('[') {
        let end = rest.find(']')?;
        let (host, after) = rest.split_at(end + 1);
        host[1..end].parse::<std::net::Ipv6Addr>().ok()?;
        match after {
            "" => (host, None),
            after => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        let (host, port) = match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest.as_str(), None),
        };
        let plain = host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if host.is_empty() || !plain {
            return None;
        }
        (host, port)
    };
    let port = match port {
        None => None,
        Some(p)
            if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok() =>
        {
            (p != default).then_some(p)
        }
        Some(_) => return None,
    };
    Some(match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> Cors {
        Cors::parse("https://app.vottery.example, http://localhost:5173", "").unwrap()
    }

    #[test]
    fn only_listed_origins_are_allowed_exactly_once() {
        let c = cors();
        assert_eq!(c.allowed(["https://app.vottery.example"].into_iter()), Some("https://app.vottery.example".into()));
        assert!(c.allowed(["https://APP.vottery.example:443"].into_iter()).is_some());
        assert!(c.allowed(["http://localhost:5173"].into_iter()).is_some());
        for refused in [
            "https://evil.example",
            "http://app.vottery.example",
            "https://app.vottery.example.evil.example",
            "null",
            "https://app.vottery.example/path",
            "https://user@app.vottery.example",
            "",
            "http://localhost:5174",
        ] {
            assert_eq!(c.allowed([refused].into_iter()), None, "{refused}");
        }
        let two = ["https://app.vottery.example", "https://app.vottery.example"];
        assert_eq!(c.allowed(two.into_iter()), None, "duplicate Origin fields");
        assert_eq!(c.allowed(std::iter::empty()), None);
    }

    #[test]
    fn any_origin_only_through_its_own_loud_setting() {
        let any = Cors::parse("", "true").unwrap();
        assert_eq!(any.allowed(["https://whoever.example"].into_iter()).as_deref(), Some("https://whoever.example"));
        assert_eq!(any.allowed(["null"].into_iter()), None);
        assert!(Cors::parse("*", "").is_err(), "a wildcard is not an origin");
        assert!(Cors::parse("https://a.example/", "").is_err());
        assert!(Cors::parse("", "yes").is_err());
        assert!(Cors::parse("", "").unwrap().allowed(["https://a.example"].into_iter()).is_none());
    }

    #[test]
    fn preflights_allow_what_the_api_uses_and_nothing_else() {
        let c = cors();
        let ok = c.preflight("http://localhost:5173", "PUT", "Content-Type, If-Match, authorization").unwrap();
        let get = |name: &str| ok.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("access-control-allow-origin"), Some("http://localhost:5173"));
        assert_eq!(get("access-control-allow-credentials"), Some("true"));
        assert_eq!(get("access-control-allow-methods"), Some(ALLOWED_METHODS));
        assert_eq!(get("access-control-max-age"), Some("600"));
        assert!(get("access-control-expose-headers").unwrap().contains("x-request-id"));
        assert_eq!(c.preflight("http://localhost:5173", "PATCH", "").unwrap_err().code(), "cors_preflight_refused");
        assert_eq!(c.preflight("http://localhost:5173", "POST", "x-admin").unwrap_err().status(), 403);
        assert!(c.preflight("http://localhost:5173", "POST", "").is_ok());
    }

    #[test]
    fn cookie_requests_must_come_from_a_trusted_page() {
        let c = cors();
        let own = Some("localhost:3000");
        assert!(c.trusts_cookie_request(["https://app.vottery.example"].into_iter(), own, None));
        assert!(c.trusts_cookie_request(["http://localhost:3000"].into_iter(), own, Some("same-origin")));
        assert!(c.trusts_cookie_request(std::iter::empty(), own, Some("same-origin")));
        assert!(!c.trusts_cookie_request(["http://localhost:3000"].into_iter(), None, None));
        for (origins, site) in [
            (vec!["https://evil.example"], Some("cross-site")),
            (vec!["null"], None),
            (vec![], None),
            (vec![], Some("cross-site")),
            (vec!["https://app.vottery.example", "https://evil.example"], None),
        ] {
            assert!(!c.trusts_cookie_request(origins.clone().into_iter(), own, site), "{origins:?} {site:?}");
        }
    }

    #[test]
    fn origins_are_compared_in_canonical_form() {
        assert_eq!(canonical_origin("HTTPS://Example.COM:443").as_deref(), Some("https://example.com"));
        assert_eq!(canonical_origin("http://[::1]:3000").as_deref(), Some("http://[::1]:3000"));
        for bad in ["null", "file:///x", "https://", "https://a:b", "https://a:99999", "https://a b", "https://[zz]"] {
            assert_eq!(canonical_origin(bad), None, "{bad}");
        }
    }
}
