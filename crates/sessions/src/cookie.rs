//! The refresh token's cookie for browsers (native apps get it in the body).

use crate::rotation::RefreshToken;

/// The cookie's name; `__Host-` binds it to this origin, `Secure` and `/`.
pub const REFRESH_COOKIE: &str = "__Host-vottery-refresh";

/// `Set-Cookie` for a refresh token living `max_age` seconds.
pub fn refresh_cookie(token: &RefreshToken, max_age: i64) -> String {
    format!("{REFRESH_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict", token.as_str())
}

/// `Set-Cookie` that removes it (logout).
pub fn clear_refresh_cookie() -> String {
    format!("{REFRESH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// The refresh token in a `Cookie` header, if there is a well-formed one.
pub fn refresh_from_cookies(header: &str) -> Option<RefreshToken> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .and_then(|(_, value)| RefreshToken::parse(value.trim()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_read_back() {
        let token = RefreshToken::from_random([1; 32]);
        let set = refresh_cookie(&token, 3600);
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=3600"] {
            assert!(set.contains(attribute), "{set}");
        }
        let header = format!("theme=dark; {REFRESH_COOKIE}={}; other=1", token.as_str());
        assert_eq!(refresh_from_cookies(&header), Some(token));
        assert_eq!(refresh_from_cookies(&format!("{REFRESH_COOKIE}=vrt_forged")), None);
        assert_eq!(refresh_from_cookies("theme=dark"), None);
        assert!(clear_refresh_cookie().contains("Max-Age=0"));
    }
}
