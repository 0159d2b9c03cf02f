//! The devices service's logic, free of any platform.
//!
//! Classification reads the user-agent, the client hints (`Sec-CH-UA-*`)
//! and what the frontend reports of itself, by scanning for known tokens:
//! no regular expression and no table is built, so a fresh instance pays
//! nothing before its first request.
#![forbid(unsafe_code)]

mod classify;
mod error;
mod network;

pub use classify::{ClientHints, Device, DeviceKind, Report, Software, classify};
pub use error::DeviceError;
pub use network::{Proxy, client_ip, visitor_ip};

/// What the fingerprint is a keyed hash of: the attributes of a device that
/// do not change from one visit to the next (no address, no versions but
/// the operating system's major one).
pub fn fingerprint_material(device: &Device, platform: Option<&str>) -> String {
    let os = device.os.as_ref();
    let major = os.and_then(|o| o.version.as_deref()).and_then(|v| v.split('.').next()).unwrap_or_default();
    format!(
        "vottery-device\0{:?}\0{}\0{major}\0{}\0{}\0{}",
        device.kind,
        os.map_or("", |o| o.name),
        device.browser.as_ref().map_or("", |b| b.name),
        device.model.as_deref().unwrap_or_default(),
        platform.unwrap_or_default().trim_matches('"'),
    )
}
