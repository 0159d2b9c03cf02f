//! Entity tags in conditional requests (RFC 9110 §13.1).

/// Whether an `If-None-Match` field matches `etag` (a quoted strong tag):
/// `*`, or a comma-separated list of entity tags compared weakly (`W/"x"`
/// matches `"x"`). A field that is not UTF-8 matches nothing.
pub fn none_match(field: &[u8], etag: &str) -> bool {
    let Ok(field) = std::str::from_utf8(field) else {
        return false;
    };
    field.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::none_match;

    #[test]
    fn if_none_match_lists_are_compared_weakly() {
        let etag = "\"abc\"";
        assert!(none_match(b"\"abc\"", etag));
        assert!(none_match(b"\"x\", W/\"abc\"", etag));
        assert!(none_match(b"*", etag));
    }

    #[test]
    fn other_tags_unquoted_tags_and_bad_bytes_match_nothing() {
        let etag = "\"abc\"";
        assert!(!none_match(b"\"abcd\"", etag));
        assert!(!none_match(b"abc", etag));
        assert!(!none_match(b"", etag));
        assert!(!none_match(&[0xff, 0x22], etag));
    }
}
