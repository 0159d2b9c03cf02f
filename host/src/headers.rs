//! What the host does to a request's head before a guest sees it, as Spin's
//! HTTP trigger does: the authority is checked (a host name or IP literal
//! with an optional port, never a service-chaining name), the guest's URI is
//! built from that authority and the path that was routed, hop-by-hop fields
//! are removed (WASI HTTP refuses them in a guest's fields), and the `spin-*`
//! headers are appended after whatever the client sent under those names.

use std::net::{Ipv6Addr, SocketAddr};

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Uri, Version};
pub use vottery_gateway_policy::strip_hop_by_hop;

/// Largest request head (names and values of every field, before the host's
/// own `spin-*` fields) handed to a guest; WASI HTTP's limit for a guest's
/// fields is 128 KiB, and a guest copies the head it forwards.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Why a request's head was refused before routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// 400 `invalid_host`: no, several, or a malformed `Host`, or one that
    /// disagrees with an absolute-form target.
    InvalidHost(&'static str),
    /// 400 `invalid_host`: a service-chaining name from outside.
    ChainingHost,
    /// 431 `request_header_fields_too_large`.
    TooLarge,
}

impl HeadError {
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidHost(_) | Self::ChainingHost => 400,
            Self::TooLarge => 431,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidHost(_) | Self::ChainingHost => "invalid_host",
            Self::TooLarge => "request_header_fields_too_large",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::InvalidHost(_) | Self::ChainingHost => "Invalid Host",
            Self::TooLarge => "Request header fields too large",
        }
    }

    pub fn detail(self) -> String {
        match self {
            Self::InvalidHost(why) => format!("the request's authority is not acceptable: {why}"),
            Self::ChainingHost => "service-chaining host names are not served to the outside".to_owned(),
            Self::TooLarge => format!("the request's header fields exceed {MAX_HEAD_BYTES} bytes"),
        }
    }
}

/// The size of a head as the guest's fields count it.
pub fn head_size(headers: &HeaderMap) -> usize {
    headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum()
}

/// The request's authority: the `Host` field, or the authority of an
/// absolute-form target (which must then agree with `Host`, as Spin
/// requires), or for an HTTP/1.0 request without either, the address the
/// connection came in on.
pub fn authority(uri: &Uri, headers: &HeaderMap, version: Version, local: SocketAddr) -> Result<Authority, HeadError> {
    let mut hosts = headers.get_all(http::header::HOST).iter();
    let header = match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => return Err(HeadError::InvalidHost("more than one Host field")),
        (Some(value), None) => Some(value.to_str().map_err(|_| HeadError::InvalidHost("Host is not visible ASCII"))?),
        (None, _) => None,
    };
    let target = uri.authority().map(Authority::as_str);
    let chosen = match (header, target) {
        (Some(h), Some(t)) if !h.eq_ignore_ascii_case(t) => {
            return Err(HeadError::InvalidHost("Host disagrees with the request target"));
        }
        (Some(h), _) => h.to_owned(),
        (None, Some(t)) => t.to_owned(),
        (None, None) if version <= Version::HTTP_10 => local.to_string(),
        (None, None) => return Err(HeadError::InvalidHost("HTTP/1.1 needs a Host field")),
    };
    let host = checked_host(&chosen)?;
    if is_chaining_host(host) {
        return Err(HeadError::ChainingHost);
    }
    chosen.parse().map_err(|_| HeadError::InvalidHost("not an authority"))
}

/// `host[:port]` where host is a DNS name, an IPv4 address or a bracketed
/// IPv6 literal; returns the host part.
fn checked_host(authority: &str) -> Result<&str, HeadError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (literal, after) = rest.split_once(']').ok_or(HeadError::InvalidHost("unclosed IPv6 literal"))?;
        literal.parse::<Ipv6Addr>().map_err(|_| HeadError::InvalidHost("not an IPv6 literal"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(HeadError::InvalidHost("junk after the IPv6 literal"))?),
        };
        (&authority[..literal.len() + 2], port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty()
            || port.len() > 5
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err())
    {
        return Err(HeadError::InvalidHost("the port is not a number from 0 to 65535"));
    }
    if !host.starts_with('[') {
        let name = host.strip_suffix('.').unwrap_or(host);
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
            return Err(HeadError::InvalidHost("the host is not a DNS name or IP address"));
        }
    }
    Ok(host)
}

/// Whether `host` names a component by service chaining.
pub fn is_chaining_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "spin.internal" || host.ends_with(".spin.internal")
}

/// The URI the guest sees: scheme, the checked authority, and the path and
/// query that were routed (never re-parsed from a string with client input).
pub fn guest_uri(authority: Authority, routed: &Uri) -> Uri {
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(authority);
    parts.path_and_query = Some(routed.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/")));
    // Scheme, a parsed authority and a parsed path always make a URI.
    Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("http://localhost/"))
}

/// What Spin tells a guest about the route it was reached by.
pub struct SpinHeaders<'a> {
    pub full_url: &'a str,
    pub matched_route: &'a str,
    pub raw_route: &'a str,
    pub component_route: &'a str,
    pub path_info: &'a str,
    pub client_addr: &'a str,
    pub params: &'a [(String, String)],
}

impl SpinHeaders<'_> {
    /// Appends the fields after any the client sent under the same names,
    /// as Spin does: a guest must read the last value.
    pub fn append_to(&self, headers: &mut HeaderMap) {
        let mut add = |name: &str, value: &str| {
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                headers.append(name, value);
            }
        };
        add("spin-path-info", self.path_info);
        add("spin-full-url", self.full_url);
        add("spin-matched-route", self.matched_route);
        add("spin-base-path", "/");
        add("spin-raw-component-route", self.raw_route);
        add("spin-component-route", self.component_route);
        add("spin-client-addr", self.client_addr);
        for (name, value) in self.params {
            add(&format!("spin-path-match-{}", name.to_ascii_lowercase().replace('_', "-")), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> SocketAddr {
        "127.0.0.1:3000".parse().unwrap()
    }

    fn host_only(value: &str) -> Result<Authority, HeadError> {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, HeaderValue::from_str(value).unwrap());
        authority(&Uri::from_static("/api/auth/health"), &headers, Version::HTTP_11, local())
    }

    #[test]
    fn plain_host_names_addresses_and_ports_are_accepted() {
        for good in [
            "localhost",
            "localhost:3000",
            "id.vottery.example",
            "id.vottery.example.",
            "127.0.0.1:80",
            "[::1]:3000",
            "[2001:db8::1]",
            "a_b.example",
        ] {
            assert_eq!(host_only(good).map(|a| a.to_string()), Ok(good.to_owned()), "{good}");
        }
    }

    #[test]
    fn hosts_carrying_paths_users_spaces_or_junk_are_refused() {
        for bad in [
            "h/internal/tokens?",
            "h/internal/tokens",
            "user@h",
            "h@evil",
            "h h",
            "h?x",
            "h#x",
            "%68",
            "h:",
            "h:99999",
            "h:80:80",
            "[::1",
            "[zz::1]",
            "[::1]x",
            "",
            "-.",
            "h..example",
        ] {
            assert!(matches!(host_only(bad), Err(HeadError::InvalidHost(_))), "{bad:?}");
        }
    }

    #[test]
    fn service_chaining_names_are_never_honoured_from_outside() {
        for bad in ["security.spin.internal", "SECURITY.Spin.Internal:80", "auth.spin.internal.", "spin.internal"] {
            assert_eq!(host_only(bad), Err(HeadError::ChainingHost), "{bad}");
        }
    }

    #[test]
    fn an_absolute_target_must_agree_with_host() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, HeaderValue::from_static("localhost:3000"));
        let agrees = Uri::from_static("http://localhost:3000/api/auth/health");
        assert!(authority(&agrees, &headers, Version::HTTP_11, local()).is_ok());
        let differs = Uri::from_static("http://evil.example/internal/tokens");
        assert!(authority(&differs, &headers, Version::HTTP_11, local()).is_err());
        let chaining = Uri::from_static("http://security.spin.internal/internal/tokens");
        assert_eq!(authority(&chaining, &HeaderMap::new(), Version::HTTP_11, local()), Err(HeadError::ChainingHost));
    }

    #[test]
    fn only_http_1_0_may_omit_host() {
        let uri = Uri::from_static("/api/auth/health");
        assert_eq!(authority(&uri, &HeaderMap::new(), Version::HTTP_10, local()).unwrap().as_str(), "127.0.0.1:3000");
        assert!(authority(&uri, &HeaderMap::new(), Version::HTTP_11, local()).is_err());
        let mut two = HeaderMap::new();
        two.append(http::header::HOST, HeaderValue::from_static("a"));
        two.append(http::header::HOST, HeaderValue::from_static("b"));
        assert!(authority(&uri, &two, Version::HTTP_11, local()).is_err());
    }

    #[test]
    fn the_guest_uri_keeps_the_routed_path_whatever_the_host_said() {
        let routed = Uri::from_static("/api/security/keys?x=1");
        let uri = guest_uri("h:1".parse().unwrap(), &routed);
        assert_eq!(uri.to_string(), "http://h:1/api/security/keys?x=1");
        assert_eq!(uri.path(), "/api/security/keys");
    }

    #[test]
    fn hop_by_hop_fields_and_those_connection_names_are_removed() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-private"),
            ("connection", "close"),
            ("keep-alive", "timeout=5"),
            ("x-private", "1"),
            ("proxy-connection", "keep-alive"),
            ("upgrade", "websocket"),
            ("transfer-encoding", "chunked"),
            ("te", "trailers"),
            ("trailer", "x-sum"),
            ("proxy-authorization", "Basic eA=="),
            ("accept", "*/*"),
        ] {
            headers.append(name, HeaderValue::from_static(value));
        }
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.keys().map(HeaderName::as_str).collect::<Vec<_>>(), ["accept"]);
    }

    #[test]
    fn spin_headers_come_after_the_clients_copies() {
        let mut headers = HeaderMap::new();
        headers.append("spin-client-addr", HeaderValue::from_static("198.51.100.7:4444"));
        SpinHeaders {
            full_url: "http://h/x",
            matched_route: "/x",
            raw_route: "/x",
            component_route: "/x",
            path_info: "",
            client_addr: "127.0.0.1:5555",
            params: &[],
        }
        .append_to(&mut headers);
        let values: Vec<_> = headers.get_all("spin-client-addr").iter().collect();
        assert_eq!(values.last().unwrap().to_str().unwrap(), "127.0.0.1:5555");
    }
}
