//! Sessions and their tokens, free of any platform: when a refresh token may
//! be rotated, when its presentation means theft, what an access token
//! claims, and how the refresh token travels to a browser.
//!
//! # Refresh-token rotation
//!
//! A session is opened on a verified biometric with a first refresh token.
//! Every use rotates it: the presented token becomes *rotated* and a new one
//! is issued as its child. The tokens of one session form its *family*.
//!
//! ```text
//!   active ──refresh──▶ rotated ──(presented again after `grace`)──▶ family revoked (reuse = theft)
//!     │                    └──(presented again within `grace`, its child still active)──▶ a sibling is issued
//!     └──(idle expiry, absolute expiry, logout, revocation)──▶ refused
//! ```
//!
//! The grace window (10 s by default) lets two tabs that refresh at the same
//! moment both keep the member signed in: the second presentation of the
//! same parent gets a sibling of the first child. Outside it, or for an
//! older ancestor, a rotated token is a stolen or leaked one, and the whole
//! session is revoked.
//!
//! Tokens are 256 random bits, shown once and stored only as their SHA-256
//! (the caller hashes: the crypto lives in the crypto component); the clock
//! is passed in.
#![forbid(unsafe_code)]

mod claims;
mod cookie;
mod error;
pub mod revocation;
mod rotation;

pub use claims::{AccessClaims, Amr};
pub use cookie::{REFRESH_COOKIE, clear_refresh_cookie, refresh_cookie, refresh_from_cookies};
pub use error::SessionError;
pub use rotation::{Decision, DeviceId, Policy, RefreshToken, SessionState, TokenState, decide};
