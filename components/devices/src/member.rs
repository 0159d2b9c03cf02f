//! Who a request is for: the member the gateway verified, and the shape of
//! a user id in a private request.

/// The member's identity the gateway verified (`vottery-*` headers).
pub struct Member {
    pub user_id: String,
    pub session_id: String,
    pub device_id: String,
}

impl Member {
    pub fn from_headers(request: &spin_sdk::http::Request) -> Option<Self> {
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Some(Self {
            user_id: header("vottery-user")?,
            session_id: header("vottery-session")?,
            device_id: header("vottery-device")?,
        })
    }
}

/// Whether `user_id` has the shape of a user id (a UUID).
pub fn valid_user(user_id: &str) -> bool {
    user_id.len() == 36 && user_id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}
