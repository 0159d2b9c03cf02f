//! Native apps that may use the passkeys of this RP: Android apps by
//! package and signing-certificate SHA-256 (Digital Asset Links, and the
//! `android:apk-key-hash:` origins their credentials report), iOS apps by
//! `TEAMID.bundle.id` (the `webcredentials` associated domain; they report
//! the web origin).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::PasskeyError;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AndroidApp {
    pub package_name: String,
    /// `AB:CD:…`, 32 bytes in hex with colons, as `keytool` prints them.
    pub sha256_cert_fingerprints: Vec<String>,
}

/// The `android_apps` setting: a JSON array of apps (empty: none).
pub fn parse_android_apps(setting: &str) -> Result<Vec<AndroidApp>, PasskeyError> {
    if setting.trim().is_empty() {
        return Ok(Vec::new());
    }
    let apps: Vec<AndroidApp> = serde_json::from_str(setting).map_err(|_| PasskeyError::Settings("android_apps"))?;
    for app in &apps {
        for fingerprint in &app.sha256_cert_fingerprints {
            fingerprint_bytes(fingerprint)?;
        }
    }
    Ok(apps)
}

/// The `apple_app_ids` setting: `TEAMID.bundle.id`, comma-separated.
pub fn parse_apple_app_ids(setting: &str) -> Result<Vec<String>, PasskeyError> {
    let ids: Vec<String> = setting.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let valid = |id: &String| {
        id.split_once('.').is_some_and(|(team, bundle)| {
            team.len() == 10 && team.bytes().all(|b| b.is_ascii_alphanumeric()) && !bundle.is_empty()
        })
    };
    if ids.iter().all(valid) { Ok(ids) } else { Err(PasskeyError::Settings("apple_app_ids")) }
}

fn fingerprint_bytes(fingerprint: &str) -> Result<Vec<u8>, PasskeyError> {
    let bytes = fingerprint
        .split(':')
        .map(|pair| u8::from_str_radix(pair, 16).map_err(|_| PasskeyError::Settings("android_apps")))
        .collect::<Result<Vec<u8>, _>>()?;
    if bytes.len() == 32 { Ok(bytes) } else { Err(PasskeyError::Settings("android_apps")) }
}

/// The origins the apps' credentials report.
pub fn android_origins(apps: &[AndroidApp]) -> Vec<String> {
    apps.iter()
        .flat_map(|app| &app.sha256_cert_fingerprints)
        .filter_map(|f| fingerprint_bytes(f).ok())
        .map(|bytes| format!("android:apk-key-hash:{}", B64.encode(bytes)))
        .collect()
}

/// `/.well-known/assetlinks.json`.
pub fn asset_links(apps: &[AndroidApp]) -> Value {
    Value::Array(
        apps.iter()
            .map(|app| {
                json!({
                    "relation": ["delegate_permission/common.handle_all_urls", "delegate_permission/common.get_login_creds"],
                    "target": {
                        "namespace": "android_app",
                        "package_name": app.package_name,
                        "sha256_cert_fingerprints": app.sha256_cert_fingerprints,
                    },
                })
            })
            .collect(),
    )
}

/// `/.well-known/apple-app-site-association`.
pub fn apple_app_site_association(ids: &[String]) -> Value {
    json!({ "webcredentials": { "apps": ids } })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "FA:C6:17:45:DC:09:03:78:6F:B9:ED:E6:2A:96:2B:39:9F:73:48:F0:BB:6F:89:9B:83:32:66:75:91:03:3B:9C";

    #[test]
    fn android_apps_give_asset_links_and_origins() {
        let setting = format!(r#"[{{"package_name":"app.vottery","sha256_cert_fingerprints":["{FP}"]}}]"#);
        let apps = parse_android_apps(&setting).unwrap();
        let links = asset_links(&apps);
        assert_eq!(links[0]["target"]["package_name"], "app.vottery");
        assert_eq!(links[0]["target"]["sha256_cert_fingerprints"][0], FP);
        assert_eq!(links[0]["relation"][1], "delegate_permission/common.get_login_creds");
        assert_eq!(android_origins(&apps), vec!["android:apk-key-hash:-sYXRdwJA3hvue3mKpYrOZ9zSPC7b4mbgzJmdZEDO5w"]);
        assert_eq!(parse_android_apps("").unwrap(), vec![]);
        for bad in ["{", r#"[{"package_name":"a","sha256_cert_fingerprints":["AB:CD"]}]"#, r#"[{"package":"a"}]"#] {
            assert_eq!(parse_android_apps(bad), Err(PasskeyError::Settings("android_apps")));
        }
    }

    #[test]
    fn apple_app_ids_give_webcredentials() {
        let ids = parse_apple_app_ids("ABCDE12345.app.vottery, ABCDE12345.app.vottery.beta").unwrap();
        assert_eq!(apple_app_site_association(&ids)["webcredentials"]["apps"][1], "ABCDE12345.app.vottery.beta");
        assert_eq!(parse_apple_app_ids("").unwrap(), Vec::<String>::new());
        assert_eq!(parse_apple_app_ids("vottery"), Err(PasskeyError::Settings("apple_app_ids")));
    }
}
