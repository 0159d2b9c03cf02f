//! The association files native apps need before they may use this RP's
//! passkeys, built from the `android_apps` and `apple_app_ids` settings.

use vottery_component_kit as kit;
use vottery_passkeys_core::apps::{
    apple_app_site_association, asset_links as links, parse_android_apps, parse_apple_app_ids,
};

use crate::session::Fault;

/// `GET /.well-known/assetlinks.json`.
pub async fn asset_links() -> Result<kit::Response, Fault> {
    let apps = parse_android_apps(&kit::variable("android_apps").await.unwrap_or_default())?;
    Ok(kit::json(200, &links(&apps)))
}

/// `GET /.well-known/apple-app-site-association` (served as JSON, no extension).
pub async fn apple_association() -> Result<kit::Response, Fault> {
    let ids = parse_apple_app_ids(&kit::variable("apple_app_ids").await.unwrap_or_default())?;
    Ok(kit::json(200, &apple_app_site_association(&ids)))
}
