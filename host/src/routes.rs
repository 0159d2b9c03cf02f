//! Spin's HTTP route syntax and precedence.
//!
//! A route is an exact path (`/api/users/profile`), a path with `:name`
//! segments (`/api/devices/:id`), either of them ending in the wildcard
//! `/...`, or `/...` alone. Leading and trailing `/` are ignored on both
//! sides. Segments are compared left to right, exact before `:name` before
//! the wildcard; when all shared segments tie, the shorter route wins, so
//! the longest wildcard prefix wins whatever the declaration order. The
//! last of two identical routes wins.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Exact(String),
    Param(String),
}

/// One public route, bound to a component.
#[derive(Debug, Clone)]
pub struct Route {
    /// The route as written in the manifest.
    pub raw: String,
    /// `/` in front, one trailing `/` removed.
    pub based: String,
    segments: Vec<Segment>,
    wildcard: bool,
    pub component: usize,
}

/// The outcome of matching a path.
#[derive(Debug)]
pub struct RouteMatch<'r> {
    pub route: &'r Route,
    /// `:name` captures, in route order.
    pub params: Vec<(String, String)>,
    /// What the wildcard matched (`spin-path-info`), empty without one.
    pub path_info: String,
}

impl Route {
    pub fn parse(raw: &str, component: usize) -> anyhow::Result<Self> {
        let mut based = if raw.starts_with('/') { raw.to_owned() } else { format!("/{raw}") };
        if based.len() > 1 && based.ends_with('/') {
            based.pop();
        }
        let (body, wildcard) = match based.strip_suffix("/...").or_else(|| based.strip_suffix("/*")) {
            Some(body) => (body, true),
            None => (based.as_str(), false),
        };
        let mut segments = Vec::new();
        for segment in body.split('/').filter(|s| !s.is_empty()) {
            if segment == "..." || segment == "*" {
                anyhow::bail!("route {raw:?}: a wildcard is allowed only at the end");
            }
            segments.push(match segment.strip_prefix(':') {
                Some("") => anyhow::bail!("route {raw:?}: a parameter needs a name"),
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Exact(segment.to_owned()),
            });
        }
        Ok(Self { raw: raw.to_owned(), based, segments, wildcard, component })
    }

    /// `spin-component-route`: the raw route without a trailing `/...`.
    pub fn component_route(&self) -> &str {
        self.raw.strip_suffix("/...").unwrap_or(&self.raw)
    }

    fn matches(&self, path: &str) -> Option<(Vec<(String, String)>, String)> {
        let mut rest = path.strip_prefix('/').unwrap_or(path);
        let mut separated = false;
        let mut params = Vec::new();
        for segment in &self.segments {
            if rest.is_empty() {
                return None;
            }
            let (head, tail, slash) = match rest.split_once('/') {
                Some((head, tail)) => (head, tail, true),
                None => (rest, "", false),
            };
            match segment {
                Segment::Exact(want) if want == head => {}
                Segment::Param(name) if !head.is_empty() => params.push((name.clone(), head.to_owned())),
                _ => return None,
            }
            rest = tail;
            separated = slash;
        }
        if self.wildcard {
            let info = if separated || (self.segments.is_empty() && !rest.is_empty()) {
                format!("/{rest}")
            } else {
                String::new()
            };
            Some((params, info))
        } else if rest.is_empty() {
            Some((params, String::new()))
        } else {
            None
        }
    }

    /// Exact > param > wildcard, segment by segment; then shorter first.
    fn specificity(&self, other: &Self) -> Ordering {
        let rank = |s: Option<&Segment>, wildcard: bool| match s {
            Some(Segment::Exact(_)) => 3,
            Some(Segment::Param(_)) => 2,
            None if wildcard => 1,
            None => 0,
        };
        let len = self.segments.len().max(other.segments.len());
        for i in 0..len {
            let a = rank(self.segments.get(i), self.wildcard);
            let b = rank(other.segments.get(i), other.wildcard);
            if a != b {
                return a.cmp(&b);
            }
        }
        let a_len = self.segments.len() + usize::from(self.wildcard);
        let b_len = other.segments.len() + usize::from(other.wildcard);
        b_len.cmp(&a_len)
    }
}

/// The public routes of an app.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Adds a route; a later identical route replaces an earlier one.
    pub fn add(&mut self, route: Route) -> Option<Route> {
        let old = self.routes.iter().position(|r| r.based == route.based).map(|i| self.routes.remove(i));
        self.routes.push(route);
        old
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The most specific route for `path` (no query string).
    pub fn find(&self, path: &str) -> Option<RouteMatch<'_>> {
        let mut best: Option<RouteMatch<'_>> = None;
        for route in &self.routes {
            let Some((params, path_info)) = route.matches(path) else {
                continue;
            };
            if best.as_ref().is_none_or(|b| route.specificity(b.route) == Ordering::Greater) {
                best = Some(RouteMatch { route, params, path_info });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router {
        let mut r = Router::default();
        for (i, raw) in routes.iter().enumerate() {
            r.add(Route::parse(raw, i).unwrap());
        }
        r
    }

    fn found(r: &Router, path: &str) -> Option<(String, String)> {
        r.find(path).map(|m| (m.route.raw.clone(), m.path_info))
    }

    #[test]
    fn wildcard_matches_prefix_and_reports_path_info() {
        let r = router(&["/api/users/..."]);
        assert_eq!(found(&r, "/api/users"), Some(("/api/users/...".into(), "".into())));
        assert_eq!(found(&r, "/api/users/"), Some(("/api/users/...".into(), "/".into())));
        assert_eq!(found(&r, "/api/users/profile"), Some(("/api/users/...".into(), "/profile".into())));
        assert_eq!(found(&r, "/api/users/a/b/"), Some(("/api/users/...".into(), "/a/b/".into())));
        assert_eq!(found(&r, "/api/usersX"), None);
        assert_eq!(found(&r, "/api"), None);
    }

    #[test]
    fn exact_routes_ignore_one_trailing_slash() {
        let r = router(&["/health"]);
        assert!(r.find("/health").is_some());
        assert!(r.find("/health/").is_some());
        assert!(r.find("/health/x").is_none());
    }

    #[test]
    fn catch_all_matches_root() {
        let r = router(&["/..."]);
        assert_eq!(found(&r, "/"), Some(("/...".into(), "".into())));
        assert_eq!(found(&r, "/x/y"), Some(("/...".into(), "/x/y".into())));
    }

    #[test]
    fn params_capture_one_segment() {
        let r = router(&["/api/devices/:id"]);
        let m = r.find("/api/devices/abc").unwrap();
        assert_eq!(m.params, vec![("id".to_owned(), "abc".to_owned())]);
        assert!(r.find("/api/devices/").is_none());
        assert!(r.find("/api/devices/a/b").is_none());
    }

    #[test]
    fn precedence_exact_then_param_then_longest_wildcard() {
        let r = router(&["/...", "/api/:svc/...", "/api/users/...", "/api/users/profile", "/api/users"]);
        assert_eq!(found(&r, "/api/users/profile").unwrap().0, "/api/users/profile");
        assert_eq!(found(&r, "/api/users/other").unwrap().0, "/api/users/...");
        assert_eq!(found(&r, "/api/users").unwrap().0, "/api/users");
        assert_eq!(found(&r, "/api/auth/x").unwrap().0, "/api/:svc/...");
        assert_eq!(found(&r, "/elsewhere").unwrap().0, "/...");
    }

    #[test]
    fn later_duplicate_wins() {
        let mut r = router(&["/a"]);
        let old = r.add(Route::parse("/a/", 7).unwrap());
        assert_eq!(old.unwrap().component, 0);
        assert_eq!(r.find("/a").unwrap().route.component, 7);
    }

    #[test]
    fn component_route_drops_the_wildcard() {
        assert_eq!(Route::parse("/api/users/...", 0).unwrap().component_route(), "/api/users");
        assert_eq!(Route::parse("/api/devices/:id", 0).unwrap().component_route(), "/api/devices/:id");
        assert!(Route::parse("/a/.../b", 0).is_err());
    }
}
