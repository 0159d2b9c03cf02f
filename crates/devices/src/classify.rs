use serde::{Deserialize, Serialize};

/// The six kinds of device Vottery tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// A browser on a computer that did not say whether it is a desktop or a laptop.
    Web,
    Desktop,
    Laptop,
    Tablet,
    Ios,
    Android,
}

/// What the frontend reports of the device (all optional): the wire type
/// `auth` sends in `/internal/devices` and `/internal/sessions`.
pub use vottery_contracts::devices::DeviceReport as Report;

/// The client hints a Chromium browser sent (header values as they came).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHints<'a> {
    /// `Sec-CH-UA-Platform`, e.g. `"Windows"`.
    pub platform: Option<&'a str>,
    /// `Sec-CH-UA-Platform-Version`, e.g. `"15.0.0"`.
    pub platform_version: Option<&'a str>,
    /// `Sec-CH-UA-Mobile`: `?1` or `?0`.
    pub mobile: Option<&'a str>,
    /// `Sec-CH-UA-Model`, e.g. `"Pixel 8"`.
    pub model: Option<&'a str>,
    /// `Sec-CH-UA-Full-Version-List`, e.g.
    /// `"Google Chrome";v="131.0.6778.86", "Chromium";v="131.0.6778.86", "Not_A Brand";v="24.0.0.0"`.
    pub full_version_list: Option<&'a str>,
}

/// A name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Software {
    pub name: &'static str,
    pub version: Option<String>,
}

/// What a device is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub kind: DeviceKind,
    pub os: Option<Software>,
    pub browser: Option<Software>,
    pub model: Option<String>,
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// The version after `token` in `ua` (up to the next space, `;` or `)`),
/// with `_` written as `.`.
fn version_after(ua: &str, token: &str) -> Option<String> {
    let start = ua.find(token)? + token.len();
    let rest = &ua[start..];
    let end = rest.find([' ', ';', ')']).unwrap_or(rest.len());
    let v = rest[..end].replace('_', ".");
    (!v.is_empty() && v.starts_with(|c: char| c.is_ascii_digit())).then_some(v)
}

fn major(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// Digits and dots, as a version a client sent should be.
fn version_shaped(v: &str) -> bool {
    (1..=32).contains(&v.len()) && v.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// The brands a browser gives itself in `Sec-CH-UA-Full-Version-List`,
/// in the order they are preferred (a Chromium browser that is not Google
/// Chrome says Chromium, whose version its user-agent shows).
fn brands_of(browser: &str) -> &'static [&'static str] {
    match browser {
        "Chrome" => &["Google Chrome", "Chromium"],
        "Edge" => &["Microsoft Edge"],
        "Opera" => &["Opera", "Opera GX"],
        "Samsung Internet" => &["Samsung Internet"],
        "Yandex" => &["YaBrowser", "Yandex"],
        _ => &[],
    }
}

/// The full version `browser` gives itself in a `Sec-CH-UA-Full-Version-List`
/// (`"Google Chrome";v="131.0.6778.86", "Chromium";v="131.0.6778.86",
/// "Not_A Brand";v="24.0.0.0"`), if it agrees with the user-agent's major
/// version. Only known brands are read, so the made-up ("GREASE") brands
/// browsers add, which may hold `;` and `=` but never `,`, are passed over;
/// a list whose outer quotes were trimmed reads the same.
fn full_version(list: &str, browser: &str, reduced: Option<&str>) -> Option<String> {
    let entries: Vec<(&str, &str)> = list
        .split(',')
        .filter_map(|entry| {
            let (brand, params) = entry.split_once(';')?;
            let version = params.split(';').find_map(|p| p.trim().strip_prefix("v="))?;
            Some((brand.trim().trim_matches('"'), version.trim().trim_matches('"')))
        })
        .collect();
    let version = brands_of(browser)
        .iter()
        .find_map(|wanted| entries.iter().find(|(brand, _)| brand == wanted).map(|(_, v)| *v))
        .filter(|v| version_shaped(v))?;
    match reduced.and_then(major) {
        Some(m) if major(version) != Some(m) => None,
        _ => Some(version.to_owned()),
    }
}

fn os_of(ua: &str, hints: &ClientHints<'_>) -> Option<Software> {
    let platform_version = hints.platform_version.map(unquote).filter(|v| version_shaped(v));
    let os = |name, version: Option<String>| Some(Software { name, version });
    if ua.contains("iPhone") || ua.contains("iPod") {
        return os("iOS", version_after(ua, "iPhone OS ").or_else(|| version_after(ua, "CPU OS ")));
    }
    if ua.contains("iPad") {
        return os("iPadOS", version_after(ua, "CPU OS ").or_else(|| version_after(ua, "iPhone OS ")));
    }
    if ua.contains("Android") {
        // Chrome's reduced user-agent says Android 10 whatever the version.
        return os("Android", platform_version.map(str::to_owned).or_else(|| version_after(ua, "Android ")));
    }
    if ua.contains("CrOS") {
        return os("ChromeOS", None);
    }
    if ua.contains("Windows") {
        // Windows 11 still says NT 10.0; its hint says 13 or more.
        let name = match platform_version.and_then(major) {
            Some(v) if v >= 13 => "Windows 11",
            _ if ua.contains("Windows NT 10.0") => "Windows 10",
            _ => "Windows",
        };
        return os(name, None);
    }
    if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        return os("macOS", platform_version.map(str::to_owned).or_else(|| version_after(ua, "Mac OS X ")));
    }
    if ua.contains("Linux") || hints.platform.map(unquote) == Some("Linux") {
        return os("Linux", None);
    }
    None
}

fn browser_of(ua: &str, hints: &ClientHints<'_>) -> Option<Software> {
    // Order matters: most browsers also claim to be Chrome and Safari.
    const BROWSERS: &[(&str, &str)] = &[
        ("EdgA/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("YaBrowser/", "Yandex"),
        ("FxiOS/", "Firefox"),
        ("Firefox/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
    ];
    for (token, name) in BROWSERS {
        if ua.contains(token) {
            // Chromium's reduced user-agent gives the major version only.
            let reduced = version_after(ua, token);
            let full = hints.full_version_list.and_then(|list| full_version(list, name, reduced.as_deref()));
            return Some(Software { name, version: full.or(reduced) });
        }
    }
    if ua.contains("Safari/") || ua.contains("AppleWebKit/") {
        return Some(Software { name: "Safari", version: version_after(ua, "Version/") });
    }
    None
}

fn model_of(ua: &str, hints: &ClientHints<'_>) -> Option<String> {
    if let Some(model) = hints.model.map(unquote).filter(|m| !m.is_empty()) {
        return Some(model.to_owned());
    }
    for apple in ["iPod", "iPad", "iPhone"] {
        if ua.contains(apple) {
            return Some(apple.to_owned());
        }
    }
    // `(Linux; Android 14; Pixel 8 Build/...)`; reduced user-agents say `K`,
    // Firefox says `Mobile` or `Tablet`, old ones put a locale first.
    let inside = &ua[ua.find("Android ")?..];
    let mut depth = 1_u32;
    let end = inside.char_indices().find_map(|(i, c)| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(i)
    })?;
    let inside = &inside[..end];
    let is_locale =
        |s: &str| s.len() == 5 && s.as_bytes()[2] == b'-' && s.bytes().all(|b| b == b'-' || b.is_ascii_lowercase());
    inside
        .split(';')
        .skip(1)
        .map(|part| part.trim().split(" Build/").next().unwrap_or_default().trim())
        .find(|m| {
            !m.is_empty()
                && !matches!(*m, "K" | "Mobile" | "Tablet" | "U" | "wv")
                && !m.starts_with("rv:")
                && !is_locale(m)
        })
        .map(str::to_owned)
}

/// Classifies a device.
pub fn classify(user_agent: &str, hints: &ClientHints<'_>, report: &Report) -> Device {
    let ua = user_agent;
    let os = os_of(ua, hints);
    let touch = report.max_touch_points.unwrap_or(0);
    let reported = report.form_factor.as_deref();
    let os_name = os.as_ref().map(|o| o.name);
    let mobile_hint = hints.mobile.map(str::trim);
    let kind = match os_name {
        Some("iOS") => DeviceKind::Ios,
        Some("iPadOS") => DeviceKind::Tablet,
        // An iPad asking for desktop sites: a "Mac" with a touch screen.
        Some("macOS") if touch > 1 => DeviceKind::Tablet,
        Some("Android") if reported == Some("tablet") => DeviceKind::Tablet,
        Some("Android") if mobile_hint == Some("?0") || (!ua.contains("Mobile") && mobile_hint.is_none()) => {
            DeviceKind::Tablet
        }
        Some("Android") => DeviceKind::Android,
        _ => match reported {
            Some("tablet") => DeviceKind::Tablet,
            Some("laptop") => DeviceKind::Laptop,
            Some("desktop") => DeviceKind::Desktop,
            _ if report.native_app == Some(true) => DeviceKind::Desktop,
            _ => DeviceKind::Web,
        },
    };
    let os = match (kind, os) {
        (DeviceKind::Tablet, Some(Software { name: "macOS", .. })) => Some(Software { name: "iPadOS", version: None }),
        (_, os) => os,
    };
    let model = match (kind, model_of(ua, hints)) {
        (DeviceKind::Tablet, None) if os.as_ref().is_some_and(|o| o.name == "iPadOS") => Some("iPad".to_owned()),
        (_, model) => model,
    };
    Device { kind, os, browser: browser_of(ua, hints), model }
}
