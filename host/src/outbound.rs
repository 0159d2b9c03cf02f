//! `allowed_outbound_hosts`: `<scheme>://<host>[:<port>]` entries, with
//! `*` for any scheme or host, `*.domain` for subdomains, `:*` or
//! `:a..b` (end exclusive) for ports, the scheme's default port when none
//! is given, and `{{ variable }}` templates resolved at start-up.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;

use anyhow::{Result, bail};
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode;

use crate::variables::{AppVariables, render};

/// A chained request's body, as the calling guest sends it.
pub type ChainedBody = UnsyncBoxBody<Bytes, ErrorCode>;
/// The callee's answer.
pub type ChainedResponse = http::Response<crate::app::OutgoingBody>;

/// Where service chaining (`http://<component>.spin.internal`) is served:
/// set once the app is loaded, consulted by a component's outbound HTTP.
pub trait Chaining: Send + Sync {
    /// The request served by the component `target`; `None` when no
    /// component has that id.
    fn chain(
        &self,
        target: &str,
        request: http::Request<ChainedBody>,
    ) -> Option<Pin<Box<dyn Future<Output = ChainedResponse> + Send + '_>>>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Any,
    Subdomains(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ports {
    Any,
    Range(Range<u16>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    scheme: Option<String>,
    host: Host,
    ports: Ports,
}

/// A component's outbound allow-list.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    entries: Vec<Allowed>,
}

pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" => 80,
        "https" => 443,
        "postgres" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mqtt" => 1883,
        _ => return None,
    })
}

impl AllowedHosts {
    /// Parses a component's entries, rendering templates first. An entry
    /// that renders to nothing (`""`, `http://`, `https://`) is skipped.
    pub fn parse(entries: &[String], variables: &AppVariables) -> Result<Self> {
        let mut parsed = Vec::new();
        for raw in entries {
            let entry = render(raw, variables).map_err(|e| anyhow::anyhow!("{raw:?}: {e:?}"))?;
            if matches!(entry.as_str(), "" | "http://" | "https://") {
                continue;
            }
            parsed.push(parse_entry(&entry).map_err(|e| anyhow::anyhow!("allowed_outbound_hosts {raw:?}: {e}"))?);
        }
        Ok(Self { entries: parsed })
    }

    /// Whether a connection to `scheme://host:port` is allowed.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let Some(port) = port.or_else(|| default_port(scheme)) else {
            return false;
        };
        self.entries.iter().any(|e| {
            e.scheme.as_deref().is_none_or(|s| s == scheme)
                && match &e.host {
                    Host::Any => true,
                    Host::Exact(h) => *h == host,
                    Host::Subdomains(domain) => {
                        host.len() > domain.len() + 1
                            && host.ends_with(domain.as_str())
                            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
                    }
                }
                && match &e.ports {
                    Ports::Any => true,
                    Ports::Range(r) => r.contains(&port),
                }
        })
    }

    /// Whether the component may chain to `component` through
    /// `http://<component>.spin.internal`.
    #[cfg(test)]
    pub fn allows_chaining(&self, component: &str) -> bool {
        self.allows("http", &format!("{component}.spin.internal"), Some(80))
    }
}

fn parse_entry(entry: &str) -> Result<Allowed> {
    if entry == "insecure:allow-all" {
        bail!("`insecure:allow-all` is not supported; use `*://*:*`");
    }
    let Some((scheme, rest)) = entry.split_once("://") else {
        bail!("{entry:?} does not contain a scheme (e.g., 'http://' or '*://')");
    };
    let scheme = match scheme {
        "*" => None,
        s if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()) => Some(s.to_ascii_lowercase()),
        _ => bail!("invalid scheme {scheme:?}"),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') {
        bail!("{entry:?} must not include a path");
    }
    let (host, port) = split_host_port(rest)?;
    let host = match host {
        "*" => Host::Any,
        h if h.starts_with("*.") && !h[2..].contains('*') => Host::Subdomains(h[2..].to_ascii_lowercase()),
        h if h.contains('*') => bail!("wildcards are allowed only as a `*.` prefix of the host"),
        "" => bail!("{entry:?} has no host"),
        h => Host::Exact(h.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()),
    };
    let ports = match port {
        Some("*") => Ports::Any,
        Some(p) => match p.split_once("..") {
            Some((a, b)) => Ports::Range(a.parse()?..b.parse()?),
            None => {
                let p: u16 = p.parse().map_err(|_| anyhow::anyhow!("invalid port {p:?}"))?;
                Ports::Range(p..p.saturating_add(1))
            }
        },
        None => {
            let Some(p) = scheme.as_deref().and_then(default_port) else {
                bail!("no port was provided and the scheme {:?} has no default port", scheme.as_deref().unwrap_or("*"));
            };
            Ports::Range(p..p + 1)
        }
    };
    Ok(Allowed { scheme, host, ports })
}

fn split_host_port(rest: &str) -> Result<(&str, Option<&str>)> {
    if rest.starts_with('[') {
        let Some(end) = rest.find(']') else {
            bail!("unclosed IPv6 literal in {rest:?}");
        };
        let port = rest[end + 1..].strip_prefix(':');
        return Ok((&rest[..=end], port));
    }
    Ok(match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::parse(&entries, &AppVariables::default()).unwrap()
    }

    #[test]
    fn default_ports_and_exact_hosts() {
        let h = hosts(&["https://api.twilio.com", "postgres://127.0.0.1", "redis://localhost:6380"]);
        assert!(h.allows("https", "api.twilio.com", None));
        assert!(h.allows("https", "API.twilio.com", Some(443)));
        assert!(!h.allows("https", "api.twilio.com", Some(8443)));
        assert!(!h.allows("http", "api.twilio.com", None));
        assert!(h.allows("postgres", "127.0.0.1", Some(5432)));
        assert!(h.allows("redis", "localhost", Some(6380)));
        assert!(!h.allows("redis", "localhost", None));
    }

    #[test]
    fn wildcards_and_ranges() {
        let h = hosts(&["*://*.example.com:*", "http://127.0.0.1:4000..4002"]);
        assert!(h.allows("https", "a.b.example.com", Some(1)));
        assert!(!h.allows("https", "example.com", None));
        assert!(!h.allows("https", "badexample.com", None));
        assert!(h.allows("http", "127.0.0.1", Some(4001)));
        assert!(!h.allows("http", "127.0.0.1", Some(4002)));
    }

    #[test]
    fn chaining_needs_an_entry() {
        let h = hosts(&["http://users.spin.internal"]);
        assert!(h.allows_chaining("users"));
        assert!(!h.allows_chaining("devices"));
        assert!(hosts(&["http://*.spin.internal"]).allows_chaining("devices"));
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in ["example.com", "ftp://x", "http://a/b", "http://a*b.com", "*://x"] {
            let entries = vec![bad.to_owned()];
            assert!(AllowedHosts::parse(&entries, &AppVariables::default()).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_render_and_empty_ones_are_skipped() {
        let m: crate::manifest::Manifest = toml::from_str(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n[variables]\nmail = { default = \"https://mail.test\" }\nnone = { default = \"\" }",
        )
        .unwrap();
        let vars = AppVariables::resolve(&m, &[], &|_| None);
        let h = AllowedHosts::parse(&["{{ mail }}".to_owned(), "{{ none }}".to_owned()], &vars).unwrap();
        assert!(h.allows("https", "mail.test", None));
        assert_eq!(h.entries.len(), 1);
    }
}
