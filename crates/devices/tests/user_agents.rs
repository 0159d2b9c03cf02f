//! Real user-agent strings (with the client hints and frontend reports
//! that come with them) across the six device types.

use vottery_devices_core::{ClientHints, DeviceKind, Report, classify};

struct Case {
    ua: &'static str,
    hints: (Option<&'static str>, Option<&'static str>, Option<&'static str>),
    report: (Option<&'static str>, Option<u32>, Option<bool>),
    kind: DeviceKind,
    os: Option<(&'static str, Option<&'static str>)>,
    browser: Option<&'static str>,
    model: Option<&'static str>,
}

const NONE3: (Option<&str>, Option<&str>, Option<&str>) = (None, None, None);
const NO_REPORT: (Option<&str>, Option<u32>, Option<bool>) = (None, None, None);
const MAC_SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15";
const MAC_CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const WIN_CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const WIN_EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";
const LINUX_FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

use DeviceKind::*;

fn cases() -> Vec<Case> {
    let c = |ua, hints, report, kind, os, browser, model| Case { ua, hints, report, kind, os, browser, model };
    vec![
        // iOS (iPhone, iPod)
        c(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
            NONE3,
            NO_REPORT,
            Ios,
            Some(("iOS", Some("17.1.2"))),
            Some("Safari"),
            Some("iPhone"),
        ),
        c(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
            NONE3,
            NO_REPORT,
            Ios,
            Some(("iOS", Some("17.2"))),
            Some("Chrome"),
            Some("iPhone"),
        ),
        c(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/120.0 Mobile/15E148 Safari/605.1.15",
            NONE3,
            NO_REPORT,
            Ios,
            Some(("iOS", Some("16.6"))),
            Some("Firefox"),
            Some("iPhone"),
        ),
        c(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.0.2210.116 Mobile/15E148 Safari/605.1.15",
            NONE3,
            NO_REPORT,
            Ios,
            Some(("iOS", Some("17.0"))),
            Some("Edge"),
            Some("iPhone"),
        ),
        c(
            "Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
            NONE3,
            NO_REPORT,
            Ios,
            Some(("iOS", Some("12.5.7"))),
            Some("Safari"),
            Some("iPod"),
        ),
        c(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/19E241 [FBAN/FBIOS;FBAV/361.0.0.27.105;FBBV/370012546]",
            NONE3,
            NO_REPORT,
            Ios,
            Some(("iOS", Some("15.4"))),
            Some("Safari"),
            Some("iPhone"),
        ),
        c(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
            NONE3,
            (Some("phone"), Some(5), None),
            Ios,
            Some(("iOS", Some("18.0"))),
            Some("Safari"),
            Some("iPhone"),
        ),
        // Android phones
        c(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
            NONE3,
            NO_REPORT,
            Android,
            Some(("Android", Some("14"))),
            Some("Chrome"),
            Some("Pixel 8"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Mobile Safari/537.36",
            (Some("\"14.0.0\""), Some("?1"), Some("\"SM-S918B\"")),
            NO_REPORT,
            Android,
            Some(("Android", Some("14.0.0"))),
            Some("Chrome"),
            Some("SM-S918B"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            NONE3,
            NO_REPORT,
            Android,
            Some(("Android", Some("13"))),
            Some("Samsung Internet"),
            Some("SM-S911B"),
        ),
        c(
            "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
            NONE3,
            NO_REPORT,
            Android,
            Some(("Android", Some("14"))),
            Some("Firefox"),
            None,
        ),
        c(
            "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 OPR/79.0.4195.76505",
            NONE3,
            NO_REPORT,
            Android,
            Some(("Android", Some("13"))),
            Some("Opera"),
            Some("SM-A536B"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
            NONE3,
            NO_REPORT,
            Android,
            Some(("Android", Some("14"))),
            Some("Edge"),
            Some("Pixel 7"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 12; SM-G991B Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36",
            NONE3,
            NO_REPORT,
            Android,
            Some(("Android", Some("12"))),
            Some("Chrome"),
            Some("SM-G991B"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 13; 2211133G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            NONE3,
            NO_REPORT,
            Android,
            Some(("Android", Some("13"))),
            Some("Chrome"),
            Some("2211133G"),
        ),
        c(
            "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
            NONE3,
            NO_REPORT,
            Android,
            Some(("Android", Some("4.0.3"))),
            Some("Safari"),
            Some("LG-L160L"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 11; moto g(30)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36",
            NONE3,
            (Some("phone"), Some(5), Some(true)),
            Android,
            Some(("Android", Some("11"))),
            Some("Chrome"),
            Some("moto g(30)"),
        ),
        // Tablets
        c(
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            NONE3,
            NO_REPORT,
            Tablet,
            Some(("iPadOS", Some("16.6"))),
            Some("Safari"),
            Some("iPad"),
        ),
        c(
            "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
            NONE3,
            NO_REPORT,
            Tablet,
            Some(("iPadOS", Some("17.2"))),
            Some("Chrome"),
            Some("iPad"),
        ),
        c(MAC_SAFARI, NONE3, (None, Some(5), None), Tablet, Some(("iPadOS", None)), Some("Safari"), Some("iPad")),
        c(MAC_CHROME, NONE3, (None, Some(5), None), Tablet, Some(("iPadOS", None)), Some("Chrome"), Some("iPad")),
        c(
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            NONE3,
            NO_REPORT,
            Tablet,
            Some(("Android", Some("13"))),
            Some("Chrome"),
            Some("SM-X700"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            (Some("\"14.0.0\""), Some("?0"), Some("\"Pixel Tablet\"")),
            NO_REPORT,
            Tablet,
            Some(("Android", Some("14.0.0"))),
            Some("Chrome"),
            Some("Pixel Tablet"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.4.1 like Chrome/120.0.6099.71 Safari/537.36",
            NONE3,
            NO_REPORT,
            Tablet,
            Some(("Android", Some("9"))),
            Some("Chrome"),
            Some("KFTRWI"),
        ),
        c(
            "Mozilla/5.0 (Linux; Android 12; SM-T870) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/22.0 Chrome/111.0.5563.116 Safari/537.36",
            NONE3,
            NO_REPORT,
            Tablet,
            Some(("Android", Some("12"))),
            Some("Samsung Internet"),
            Some("SM-T870"),
        ),
        c(
            "Mozilla/5.0 (Android 13; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0",
            NONE3,
            NO_REPORT,
            Tablet,
            Some(("Android", Some("13"))),
            Some("Firefox"),
            None,
        ),
        c(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            NONE3,
            (Some("tablet"), Some(10), None),
            Tablet,
            Some(("Android", Some("14"))),
            Some("Chrome"),
            Some("Pixel 8"),
        ),
        c(WIN_EDGE, NONE3, (Some("tablet"), Some(10), None), Tablet, Some(("Windows 10", None)), Some("Edge"), None),
        // Web: computers' browsers that did not say more
        c(WIN_CHROME, NONE3, NO_REPORT, Web, Some(("Windows 10", None)), Some("Chrome"), None),
        c(
            WIN_CHROME,
            (Some("\"15.0.0\""), Some("?0"), Some("\"\"")),
            NO_REPORT,
            Web,
            Some(("Windows 11", None)),
            Some("Chrome"),
            None,
        ),
        c(WIN_EDGE, NONE3, NO_REPORT, Web, Some(("Windows 10", None)), Some("Edge"), None),
        c(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
            NONE3,
            NO_REPORT,
            Web,
            Some(("Windows 10", None)),
            Some("Firefox"),
            None,
        ),
        c(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            NONE3,
            (None, Some(0), None),
            Web,
            Some(("macOS", Some("10.15.7"))),
            Some("Safari"),
            None,
        ),
        c(
            MAC_CHROME,
            (Some("\"14.2.1\""), Some("?0"), None),
            NO_REPORT,
            Web,
            Some(("macOS", Some("14.2.1"))),
            Some("Chrome"),
            None,
        ),
        c(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
            NONE3,
            NO_REPORT,
            Web,
            Some(("macOS", Some("14.2"))),
            Some("Firefox"),
            None,
        ),
        c(LINUX_FIREFOX, NONE3, NO_REPORT, Web, Some(("Linux", None)), Some("Firefox"), None),
        c(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            NONE3,
            NO_REPORT,
            Web,
            Some(("Linux", None)),
            Some("Chrome"),
            None,
        ),
        c(
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            NONE3,
            NO_REPORT,
            Web,
            Some(("ChromeOS", None)),
            Some("Chrome"),
            None,
        ),
        c(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
            NONE3,
            NO_REPORT,
            Web,
            Some(("Windows 10", None)),
            Some("Opera"),
            None,
        ),
        c(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.5993.732 YaBrowser/23.11.1.732 Yowser/2.5 Safari/537.36",
            NONE3,
            NO_REPORT,
            Web,
            Some(("Windows 10", None)),
            Some("Yandex"),
            None,
        ),
        c(
            "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
            NONE3,
            NO_REPORT,
            Web,
            Some(("Windows", None)),
            Some("Chrome"),
            None,
        ),
        c("curl/8.4.0", NONE3, NO_REPORT, Web, None, None, None),
        c("", NONE3, NO_REPORT, Web, None, None, None),
        // Laptops and desktops, as the client reports them
        c(
            MAC_CHROME,
            NONE3,
            (Some("laptop"), Some(0), None),
            Laptop,
            Some(("macOS", Some("10.15.7"))),
            Some("Chrome"),
            None,
        ),
        c(LINUX_FIREFOX, NONE3, (Some("laptop"), None, None), Laptop, Some(("Linux", None)), Some("Firefox"), None),
        c(
            WIN_EDGE,
            (Some("\"15.0.0\""), Some("?0"), None),
            (Some("laptop"), Some(10), None),
            Laptop,
            Some(("Windows 11", None)),
            Some("Edge"),
            None,
        ),
        c(WIN_EDGE, NONE3, (Some("desktop"), None, None), Desktop, Some(("Windows 10", None)), Some("Edge"), None),
        c(
            MAC_SAFARI,
            NONE3,
            (Some("desktop"), Some(0), None),
            Desktop,
            Some(("macOS", Some("10.15.7"))),
            Some("Safari"),
            None,
        ),
        c(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Vottery/1.0.0 Chrome/120.0.6099.56 Electron/28.0.0 Safari/537.36",
            NONE3,
            (None, None, Some(true)),
            Desktop,
            Some(("Windows 10", None)),
            Some("Chrome"),
            None,
        ),
    ]
}

#[test]
fn real_user_agents_across_the_six_device_types() {
    let cases = cases();
    assert!(cases.len() >= 40);
    for kind in [Web, Desktop, Laptop, Tablet, Ios, Android] {
        assert!(cases.iter().filter(|c| c.kind == kind).count() >= 3, "{kind:?}");
    }
    for case in &cases {
        let hints = ClientHints {
            platform_version: case.hints.0,
            mobile: case.hints.1,
            model: case.hints.2,
            ..ClientHints::default()
        };
        let report = Report {
            form_factor: case.report.0.map(str::to_owned),
            max_touch_points: case.report.1,
            native_app: case.report.2,
        };
        let device = classify(case.ua, &hints, &report);
        assert_eq!(device.kind, case.kind, "{}", case.ua);
        let os = device.os.as_ref().map(|o| (o.name, o.version.as_deref()));
        assert_eq!(os, case.os, "{}", case.ua);
        assert_eq!(device.browser.as_ref().map(|b| b.name), case.browser, "{}", case.ua);
        assert_eq!(device.model.as_deref(), case.model, "{}", case.ua);
    }
}

#[test]
fn reports_are_strict_json() {
    let report: Report = serde_json::from_str(r#"{"form_factor": "laptop", "max_touch_points": 0}"#).unwrap();
    assert_eq!(report.form_factor.as_deref(), Some("laptop"));
    assert!(serde_json::from_str::<Report>(r#"{"gpu": "x"}"#).is_err());
}

#[test]
fn the_fingerprint_keeps_to_stable_attributes() {
    use vottery_devices_core::fingerprint_material;
    let none = ClientHints::default();
    let ua = |safari: &str| {
        format!(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} Mobile/15E148 Safari/604.1"
        )
    };
    let material = |ua: &str| fingerprint_material(&classify(ua, &none, &Report::default()), None);
    assert_eq!(material(&ua("17.1.2")), material(&ua("17.2")), "a browser update keeps the fingerprint");
    assert_ne!(material(&ua("17.1.2")), material(MAC_SAFARI), "another device does not share it");
    let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
    assert_ne!(material(android), material(&android.replace("Pixel 8", "Pixel 7")));
}

const ANDROID_CHROME_FROZEN: &str =
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

fn os_version(ua: &str, platform_version: Option<&str>) -> Option<(&'static str, Option<String>)> {
    let hints = ClientHints { platform_version, ..ClientHints::default() };
    classify(ua, &hints, &Report::default()).os.map(|os| (os.name, os.version))
}

#[test]
fn android_version_comes_from_the_platform_version_hint() {
    // Chrome's user-agent always says Android 10; the hint says which.
    assert_eq!(os_version(ANDROID_CHROME_FROZEN, Some("\"14.0.0\"")), Some(("Android", Some("14.0.0".to_owned()))));
    assert_eq!(os_version(ANDROID_CHROME_FROZEN, Some("15.0.0")), Some(("Android", Some("15.0.0".to_owned()))));
    // Without a hint (or an empty one) the user-agent is all there is.
    assert_eq!(os_version(ANDROID_CHROME_FROZEN, None), Some(("Android", Some("10".to_owned()))));
    assert_eq!(os_version(ANDROID_CHROME_FROZEN, Some("\"\"")), Some(("Android", Some("10".to_owned()))));
    // A hint that is not a version is not stored.
    assert_eq!(os_version(ANDROID_CHROME_FROZEN, Some("\"14.0.0<b>\"")), Some(("Android", Some("10".to_owned()))));
}

#[test]
fn the_platform_version_hint_outranks_the_user_agent_on_macos_and_windows() {
    assert_eq!(os_version(MAC_CHROME, Some("\"15.1.0\"")), Some(("macOS", Some("15.1.0".to_owned()))));
    assert_eq!(os_version(MAC_CHROME, None), Some(("macOS", Some("10.15.7".to_owned()))));
    // Windows 11 still says NT 10.0; its platform version is 13 or more.
    assert_eq!(os_version(WIN_CHROME, Some("\"15.0.0\"")), Some(("Windows 11", None)));
    assert_eq!(os_version(WIN_CHROME, Some("\"13.0.0\"")), Some(("Windows 11", None)));
    assert_eq!(os_version(WIN_CHROME, Some("\"10.0.0\"")), Some(("Windows 10", None)));
    assert_eq!(os_version(WIN_CHROME, None), Some(("Windows 10", None)));
}

fn browser(ua: &str, full_version_list: Option<&str>) -> Option<(&'static str, Option<String>)> {
    let hints = ClientHints { full_version_list, ..ClientHints::default() };
    classify(ua, &hints, &Report::default()).browser.map(|b| (b.name, b.version))
}

#[test]
fn the_full_browser_version_comes_from_the_full_version_list_hint() {
    let chrome =
        "\"Google Chrome\";v=\"131.0.6778.86\", \"Chromium\";v=\"131.0.6778.86\", \"Not_A Brand\";v=\"24.0.0.0\"";
    let full = |v: &str| Some(v.to_owned());
    assert_eq!(browser(ANDROID_CHROME_FROZEN, Some(chrome)), Some(("Chrome", full("131.0.6778.86"))));
    // GREASE brands come first as often as last, and are never a browser.
    let grease_first =
        "\"Not_A Brand\";v=\"8.0.0.0\", \"Chromium\";v=\"120.0.6099.130\", \"Google Chrome\";v=\"120.0.6099.130\"";
    assert_eq!(browser(WIN_CHROME, Some(grease_first)), Some(("Chrome", full("120.0.6099.130"))));
    // Edge names itself; Chromium's version is not Edge's.
    let edge =
        "\"Microsoft Edge\";v=\"120.0.2210.133\", \"Chromium\";v=\"120.0.6099.217\", \"Not?A_Brand\";v=\"99.0.0.0\"";
    assert_eq!(browser(WIN_EDGE, Some(edge)), Some(("Edge", full("120.0.2210.133"))));
    // A Chromium browser that does not name Google Chrome: Chromium's version.
    let chromium = "\"Chromium\";v=\"120.0.6099.130\", \"Not A(Brand\";v=\"99.0.0.0\"";
    assert_eq!(browser(WIN_CHROME, Some(chromium)), Some(("Chrome", full("120.0.6099.130"))));
    // The header as a forwarder that trimmed its outer quotes passes it.
    let trimmed = chrome.trim_matches('"');
    assert_eq!(browser(ANDROID_CHROME_FROZEN, Some(trimmed)), Some(("Chrome", full("131.0.6778.86"))));
    // No hint, only GREASE, another browser's brand, a version of another
    // major or a version that is not one: the user-agent's version.
    for list in [
        None,
        Some(""),
        Some("\"Not_A Brand\";v=\"24.0.0.0\""),
        Some("\"Microsoft Edge\";v=\"131.0.2903.70\""),
        Some("\"Google Chrome\";v=\"130.0.6723.117\""),
        Some("\"Google Chrome\";v=\"131.0.6778.86<script>\""),
        Some("\"Google Chrome\";v=\"\""),
        Some("garbage"),
    ] {
        assert_eq!(browser(ANDROID_CHROME_FROZEN, list), Some(("Chrome", full("131.0.0.0"))), "{list:?}");
    }
    // Browsers that send no client hints keep the user-agent's version.
    assert_eq!(browser(LINUX_FIREFOX, Some(chrome)), Some(("Firefox", full("121.0"))));
}
