//! Who a request is for: the member the gateway verified.

use vottery_validate::{SessionId, UserId};

/// The member's identity the gateway verified (`vottery-*` headers).
pub struct Member {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub device_id: String,
}

impl Member {
    /// `None` when a header is missing or does not hold an id.
    pub fn from_headers(request: &spin_sdk::http::Request) -> Option<Self> {
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
        Some(Self {
            user_id: UserId::parse(header("vottery-user")?)?,
            session_id: SessionId::parse(header("vottery-session")?)?,
            device_id: header("vottery-device")?.to_owned(),
        })
    }
}

/// The user id a private request names; a 400 `invalid_field` if it is not
/// one.
pub fn named_user(raw: &str) -> Result<UserId, vottery_validate::ValidationError> {
    UserId::parse(raw)
        .ok_or_else(|| vottery_validate::ValidationError::InvalidField("`user_id` is not a user id".into()))
}
