//! A static route table: `(method, pattern, handler id)` triples matched
//! without allocation at start-up, so a fresh component instance pays
//! nothing before the first request.
//!
//! Patterns are `/`-separated segments; a segment `:name` captures one
//! non-empty path segment. Exact segments win over captures when two
//! patterns could match the same path, whatever their order in the table.

/// HTTP methods the services route on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// Parses a request method; anything else is not routable.
    pub fn parse(method: &str) -> Option<Self> {
        Some(match method {
            "GET" => Self::Get,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// One row of a route table.
#[derive(Debug, Clone, Copy)]
pub struct Route<H: Copy> {
    pub method: Method,
    pub pattern: &'static str,
    pub handler: H,
}

impl<H: Copy> Route<H> {
    pub const fn new(method: Method, pattern: &'static str, handler: H) -> Self {
        Self { method, pattern, handler }
    }
}

/// Captured `:name` segments of a matched path.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params<'a>(Vec<(&'static str, &'a str)>);

impl<'a> Params<'a> {
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// What a path and method resolve to.
#[derive(Debug, PartialEq, Eq)]
pub enum Match<'a, H> {
    Found(H, Params<'a>),
    /// The path matched, but not for this method; the allowed methods.
    MethodNotAllowed(Vec<&'static str>),
    NotFound,
}

/// A borrowed, static route table.
#[derive(Debug, Clone, Copy)]
pub struct Router<H: 'static + Copy> {
    routes: &'static [Route<H>],
}

impl<H: Copy> Router<H> {
    pub const fn new(routes: &'static [Route<H>]) -> Self {
        Self { routes }
    }

    /// Resolves `method` and `path` (without query string).
    pub fn resolve<'a>(&self, method: &str, path: &'a str) -> Match<'a, H> {
        let method = Method::parse(method);
        let mut best: Option<(usize, H, Params<'a>)> = None;
        let mut allowed: Vec<&'static str> = Vec::new();
        for route in self.routes {
            let Some((score, params)) = match_pattern(route.pattern, path) else {
                continue;
            };
            if Some(route.method) != method {
                if !allowed.contains(&route.method.as_str()) {
                    allowed.push(route.method.as_str());
                }
                continue;
            }
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, route.handler, params));
            }
        }
        match best {
            Some((_, handler, params)) => Match::Found(handler, params),
            None if !allowed.is_empty() => Match::MethodNotAllowed(allowed),
            None => Match::NotFound,
        }
    }
}

/// Matches one pattern; the score counts exact segments so the most
/// specific pattern wins.
fn match_pattern<'a>(pattern: &'static str, path: &'a str) -> Option<(usize, Params<'a>)> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    let mut score = 0;
    let mut params = Params::default();
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some((score, params)),
            (Some(w), Some(g)) => {
                if let Some(name) = w.strip_prefix(':') {
                    if g.is_empty() {
                        return None;
                    }
                    params.0.push((name, g));
                } else if w == g {
                    score += 1;
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum H {
        List,
        Mine,
        One,
        Delete,
    }

    static ROUTES: &[Route<H>] = &[
        Route::new(Method::Get, "/api/devices/list", H::List),
        Route::new(Method::Get, "/api/devices/:id", H::One),
        Route::new(Method::Delete, "/api/devices/:id", H::Delete),
        Route::new(Method::Get, "/api/devices/mine", H::Mine),
    ];
    const ROUTER: Router<H> = Router::new(ROUTES);

    #[test]
    fn exact_segments_beat_captures_regardless_of_order() {
        assert_eq!(ROUTER.resolve("GET", "/api/devices/list"), Match::Found(H::List, Params::default()));
        assert_eq!(ROUTER.resolve("GET", "/api/devices/mine"), Match::Found(H::Mine, Params::default()));
    }

    #[test]
    fn captures_a_segment() {
        let Match::Found(H::Delete, params) = ROUTER.resolve("DELETE", "/api/devices/abc") else {
            panic!("expected a match");
        };
        assert_eq!(params.get("id"), Some("abc"));
        assert_eq!(params.get("other"), None);
    }

    #[test]
    fn wrong_method_lists_the_allowed_ones() {
        assert_eq!(ROUTER.resolve("POST", "/api/devices/abc"), Match::MethodNotAllowed(vec!["GET", "DELETE"]));
        assert_eq!(ROUTER.resolve("BREW", "/api/devices/list"), Match::MethodNotAllowed(vec!["GET", "DELETE"]));
    }

    #[test]
    fn unknown_paths_are_not_found() {
        assert_eq!(ROUTER.resolve("GET", "/api/devices"), Match::NotFound);
        assert_eq!(ROUTER.resolve("GET", "/api/devices//"), Match::NotFound);
        assert_eq!(ROUTER.resolve("GET", "/api/devices/a/b"), Match::NotFound);
    }

    #[test]
    fn one_trailing_slash_is_tolerated() {
        assert_eq!(ROUTER.resolve("GET", "/api/devices/list/"), Match::Found(H::List, Params::default()));
    }
}
