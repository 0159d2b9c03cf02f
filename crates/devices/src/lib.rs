//! The devices service's logic, free of any platform.
//!
//! Classification reads the user-agent, the client hints (`Sec-CH-UA-*`)
//! and what the frontend reports of itself, by scanning for known tokens:
//! no regular expression and no table is built, so a fresh instance pays
//! nothing before its first request.
#![forbid(unsafe_code)]

mod classify;

pub use classify::{ClientHints, Device, DeviceKind, Report, Software, classify};
