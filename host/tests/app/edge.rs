//! The app as clients and attackers speak HTTP to it: the bytes on the
//! wire, not a library's idea of a request. Browsers' and tools' exact
//! header sets, hop-by-hop fields, HTTP/1.0, chunked bodies, oversized
//! heads, and hostile `Host` values and request targets aimed at the
//! private routes.

use std::io::{Read, Write};

use crate::support::*;

const PRIVATE: [&str; 15] = [
    "/internal/tokens",
    "/internal/tokens/verify",
    "/internal/data-keys",
    "/internal/data-keys/unwrap",
    "/internal/blind-index",
    "/internal/decrypt",
    "/internal/sign",
    "/internal/match",
    "/internal/link",
    "/internal/passkeys/remove",
    "/internal/sessions",
    "/internal/sessions/refresh",
    "/internal/sessions/revoke",
    "/internal/devices",
    "/internal/",
];

/// Public routes of each component, to carry a hostile `Host` to it.
const CARRIERS: [&str; 6] = [
    "/api/security/keys",
    "/api/auth/send-otp",
    "/api/users/profile",
    "/api/devices/register",
    "/api/sessions/current",
    "/.well-known/jwks.json",
];

fn start(mode: Mode, db: &Database) -> Host {
    wasm("vottery_gateway");
    let root = workspace();
    Host::start(
        &root.join("spin.toml"),
        Some(&root.join("runtime-config.toml")),
        mode,
        &[
            ("SPIN_VARIABLE_MASTER_KEY", "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"),
            ("SPIN_VARIABLE_CONTACT_PEPPER", "a-test-pepper-of-at-least-32-bytes!"),
            ("SPIN_VARIABLE_OTP_KEY", "an-otp-key-of-at-least-thirty-two-bytes"),
            ("SPIN_VARIABLE_PG_DATABASE", &db.name),
            ("SPIN_VARIABLE_CORS_ORIGINS", "https://app.vottery.example, http://localhost:5173"),
        ],
    )
}

fn post(target: &str, host: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What a private route would answer to be reached: a token minted, a
/// plaintext, a match. None of it may ever come back.
fn assert_not_reached(reply: &RawReply, what: &str) {
    assert!(!(200..300).contains(&reply.status), "{what}: {} {}", reply.status, reply.body);
    assert!(!reply.body.contains("\"token\""), "{what}: {}", reply.body);
    assert!(!reply.body.contains("\"matched\""), "{what}: {}", reply.body);
}

#[test]
fn no_private_route_is_reached_through_any_host_value_or_request_target() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    let token_request = r#"{"typ":"at+jwt","claims":{"sub":"x","roles":["security_admin"]}}"#;
    for private in PRIVATE {
        let direct = raw(&host.base, &post(private, "localhost", token_request));
        assert_eq!((direct.status, direct.code().as_deref()), (404, Some("route_not_found")), "{private}");
        for carrier in CARRIERS {
            let hosts = [
                format!("h{private}?"),
                format!("h{private}"),
                format!("h:80{private}?"),
                format!("h/..{private}?"),
                format!("user@h{private}?"),
                format!("h@h{private}"),
                format!("[::1]{private}?"),
                format!("h%2F{}", &private[1..]),
                format!("h {private}"),
                "security.spin.internal".to_owned(),
                "users.spin.internal:80".to_owned(),
                "AUTH.SPIN.INTERNAL.".to_owned(),
            ];
            for hostile in &hosts {
                let reply = raw(&host.base, &post(carrier, hostile, token_request));
                let what = format!("{carrier} with Host {hostile:?}");
                assert_not_reached(&reply, &what);
                assert_eq!(
                    (reply.status, reply.code().as_deref()),
                    (400, Some("invalid_host")),
                    "{what}: {}",
                    reply.body
                );
            }
            for target in [
                format!("http://h{private}"),
                format!("http://security.spin.internal{private}"),
                format!("http://localhost{carrier}"),
            ] {
                let reply = raw(&host.base, &post(&target, "h", token_request));
                let what = format!("absolute target {target}");
                assert_not_reached(&reply, &what);
                assert!(matches!(reply.status, 400 | 404), "{what}: {} {}", reply.status, reply.body);
            }
        }
    }
    // Two Host fields, or none at all in HTTP/1.1.
    let two = b"GET /api/auth/health HTTP/1.1\r\nHost: localhost\r\nHost: h/internal/tokens?\r\n\r\n";
    assert_eq!(raw(&host.base, two).code().as_deref(), Some("invalid_host"));
    let none = b"GET /api/auth/health HTTP/1.1\r\nConnection: close\r\n\r\n";
    assert_eq!(raw(&host.base, none).code().as_deref(), Some("invalid_host"));
}

#[test]
fn plain_hosts_ip_literals_and_ports_are_served() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    for good in ["localhost", "localhost:3000", "127.0.0.1", "[::1]:3000", "id.vottery.example", "ID.Vottery.Example."]
    {
        let request = format!("GET /api/auth/health HTTP/1.1\r\nHost: {good}\r\nConnection: close\r\n\r\n");
        let reply = raw(&host.base, request.as_bytes());
        assert_eq!(reply.status, 200, "{good}: {}", reply.body);
    }
}

#[test]
fn hop_by_hop_fields_never_reach_a_guest() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    for fields in [
        "Connection: keep-alive\r\n",
        "Connection: close\r\n",
        "Connection: Keep-Alive\r\nKeep-Alive: timeout=5, max=100\r\n",
        "Proxy-Connection: keep-alive\r\n",
        "Connection: upgrade\r\nUpgrade: websocket\r\n",
        "Upgrade: h2c\r\n",
        "TE: trailers\r\n",
        "Trailer: x-checksum\r\n",
        "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n",
        "Connection: keep-alive, x-private\r\nx-private: 1\r\n",
        "Connection: x-private\r\nx-private: 1\r\n",
    ] {
        for (method, path, body) in [
            ("GET", "/api/auth/health", ""),
            ("POST", "/api/security/verify", "{}"),
            ("GET", "/api/devices/health", ""),
        ] {
            let request = format!(
                "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{fields}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let reply = raw(&host.base, request.as_bytes());
            let expected = if method == "GET" { 200 } else { 400 };
            assert_eq!(reply.status, expected, "{method} {path} with {fields:?}: {}", reply.body);
        }
    }
    // HTTP/1.0, with and without Host.
    for request in [
        "GET /api/auth/health HTTP/1.0\r\n\r\n",
        "GET /api/auth/health HTTP/1.0\r\nHost: localhost\r\n\r\n",
        "GET /api/auth/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ] {
        assert_eq!(raw(&host.base, request.as_bytes()).status, 200, "{request:?}");
    }
}

#[test]
fn the_header_sets_real_clients_send_are_served() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    let clients = [
        (
            "chromium",
            "Host: localhost:3000\r\nConnection: keep-alive\r\nsec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\nsec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Linux\"\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\nAccept: */*\r\nOrigin: http://localhost:3000\r\nSec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Dest: empty\r\nReferer: http://localhost:3000/\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-GB,en;q=0.9\r\n",
        ),
        (
            "firefox",
            "Host: localhost:3000\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nReferer: http://localhost:3000/\r\nOrigin: http://localhost:3000\r\nConnection: keep-alive\r\nSec-Fetch-Dest: empty\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: same-origin\r\nPriority: u=0\r\nTE: trailers\r\n",
        ),
        (
            "safari",
            "Host: localhost:3000\r\nAccept: */*\r\nSec-Fetch-Site: same-origin\r\nAccept-Language: en-GB,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\nSec-Fetch-Mode: cors\r\nOrigin: http://localhost:3000\r\nUser-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15\r\nReferer: http://localhost:3000/\r\nSec-Fetch-Dest: empty\r\nConnection: keep-alive\r\n",
        ),
        ("curl", "Host: localhost:3000\r\nUser-Agent: curl/8.11.0\r\nAccept: */*\r\n"),
        (
            "node",
            "host: localhost:3000\r\nconnection: keep-alive\r\naccept: */*\r\naccept-language: *\r\nsec-fetch-mode: cors\r\nuser-agent: node\r\naccept-encoding: gzip, deflate\r\n",
        ),
        (
            "nginx upstream",
            "Host: localhost:3000\r\nX-Real-IP: 203.0.113.9\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\nUser-Agent: curl/8.11.0\r\nAccept: */*\r\n",
        ),
    ];
    for (client, fields) in clients {
        let get = format!("GET /api/auth/health HTTP/1.1\r\n{fields}\r\n");
        let reply = raw(&host.base, get.as_bytes());
        assert_eq!(reply.status, 200, "{client} GET: {}", reply.body);
        let body = "{}";
        let post = format!(
            "POST /api/security/verify HTTP/1.1\r\n{fields}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let reply = raw(&host.base, post.as_bytes());
        assert_eq!(
            (reply.status, reply.code().as_deref()),
            (400, Some("invalid_input")),
            "{client} POST: {}",
            reply.body
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{client}");
    }
}

#[test]
fn chunked_bodies_are_read_and_bounded() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    let head = "POST /api/security/verify HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let small = raw(&host.base, &chunked(head, b"{\"unknown_field_here\": 1}", 5));
    assert_eq!((small.status, small.code().as_deref()), (400, Some("unknown_field")), "{}", small.body);
    let big = format!("{{\"data\": \"{}\"}}", "x".repeat(70_000));
    let over = raw(&host.base, &chunked(head, big.as_bytes(), 4096));
    assert_eq!((over.status, over.code().as_deref()), (413, Some("payload_too_large")), "{}", over.body);
}

#[test]
fn oversized_heads_are_refused_with_431() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    let large = format!("GET /api/auth/health HTTP/1.1\r\nHost: localhost\r\nX-Large: {}\r\n\r\n", "a".repeat(100_000));
    let reply = raw(&host.base, large.as_bytes());
    assert_eq!((reply.status, reply.code().as_deref()), (431, Some("request_header_fields_too_large")));
    let many: String = (0..40).map(|i| format!("X-Field-{i}: {}\r\n", "b".repeat(2000))).collect();
    let reply = raw(&host.base, format!("GET /api/auth/health HTTP/1.1\r\nHost: localhost\r\n{many}\r\n").as_bytes());
    assert_eq!(reply.status, 431, "{}", reply.body);
    // The host still serves.
    assert_eq!(host.get("/api/auth/health").status, 200);
}

fn preflight(host: &Host, origin: &str, method: &str, headers: &str) -> RawReply {
    let request = format!(
        "OPTIONS /api/users/profile HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: {method}\r\nAccess-Control-Request-Headers: {headers}\r\n\r\n"
    );
    raw(&host.base, request.as_bytes())
}

#[test]
fn the_gateway_answers_preflights_for_allowed_origins_only() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    let ok = preflight(&host, "https://app.vottery.example", "PUT", "authorization, content-type, if-match");
    assert_eq!(ok.status, 204, "{}", ok.body);
    assert_eq!(ok.header("access-control-allow-origin"), Some("https://app.vottery.example"));
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(ok.header("access-control-allow-methods"), Some("GET, POST, PUT, DELETE"));
    assert!(ok.header("access-control-allow-headers").unwrap().contains("if-match"));
    assert_eq!(ok.header("access-control-max-age"), Some("600"));
    assert!(ok.header("vary").unwrap().contains("Origin"));
    for (origin, method, headers, code) in [
        ("https://evil.example", "GET", "", "cors_origin_refused"),
        ("null", "POST", "content-type", "cors_origin_refused"),
        ("https://app.vottery.example.evil.example", "GET", "", "cors_origin_refused"),
        ("not an origin", "GET", "", "cors_origin_refused"),
        ("https://app.vottery.example", "PATCH", "", "cors_preflight_refused"),
        ("https://app.vottery.example", "POST", "x-admin", "cors_preflight_refused"),
    ] {
        let refused = preflight(&host, origin, method, headers);
        assert_eq!((refused.status, refused.code().as_deref()), (403, Some(code)), "{origin} {method} {headers}");
        if code == "cors_origin_refused" {
            assert_eq!(refused.header("access-control-allow-origin"), None, "{origin}");
        } else {
            assert_eq!(refused.header("access-control-allow-methods"), None, "{method} {headers}");
        }
    }
    let twice = "OPTIONS /api/users/profile HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.vottery.example\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\n\r\n";
    assert_eq!(raw(&host.base, twice.as_bytes()).code().as_deref(), Some("cors_origin_refused"));
}

#[test]
fn every_answer_to_an_allowed_origin_carries_the_cors_headers_errors_included() {
    let db = Database::migrated();
    let host = start(Mode::Reuse, &db);
    let big = "x".repeat(70_000);
    let requests = [
        ("GET /api/sessions/current", String::new(), 401),
        ("GET /api/auth/health", String::new(), 200),
        ("GET /api/auth/nothing-here", String::new(), 404),
        ("POST /api/security/verify", big, 413),
    ];
    for origin in ["https://app.vottery.example", "https://evil.example"] {
        for (line, body, status) in &requests {
            let request = format!(
                "{line} HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let reply = raw(&host.base, request.as_bytes());
            assert_eq!(reply.status, *status, "{line} from {origin}: {}", reply.body);
            assert!(reply.header("vary").is_some_and(|v| v.contains("Origin")), "{line}");
            if origin == "https://evil.example" {
                assert_eq!(reply.header("access-control-allow-origin"), None, "{line}");
                continue;
            }
            assert_eq!(reply.header("access-control-allow-origin"), Some(origin), "{line}");
            assert_eq!(reply.header("access-control-allow-credentials"), Some("true"), "{line}");
            let exposed = reply.header("access-control-expose-headers").unwrap();
            for name in ["x-request-id", "retry-after", "etag", "www-authenticate"] {
                assert!(exposed.contains(name), "{line}: {exposed}");
            }
        }
    }
}

fn start_limited(db: &Database, env: &[(&str, &str)]) -> Host {
    wasm("vottery_gateway");
    let root = workspace();
    let mut all = vec![
        ("SPIN_VARIABLE_MASTER_KEY", "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"),
        ("SPIN_VARIABLE_CONTACT_PEPPER", "a-test-pepper-of-at-least-32-bytes!"),
        ("SPIN_VARIABLE_PG_DATABASE", db.name.as_str()),
    ];
    all.extend_from_slice(env);
    Host::start(&root.join("spin.toml"), Some(&root.join("runtime-config.toml")), Mode::Reuse, &all)
}

#[test]
fn slow_clients_are_dropped_and_health_answers_while_they_hang_on() {
    let db = Database::migrated();
    let host = start_limited(&db, &[("VOTTERY_HEADER_READ_TIMEOUT", "2")]);
    let address = host.base.strip_prefix("http://").unwrap().to_owned();
    let slow: Vec<std::net::TcpStream> = (0..200)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&address).unwrap();
            s.write_all(b"GET /api/auth/health HTTP/1.1\r\nHost: local").unwrap();
            s
        })
        .collect();
    let started = std::time::Instant::now();
    assert_eq!(host.get("/api/auth/health").status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "health took {:?}", started.elapsed());
    // After the timeout every slow client has been dropped.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    for mut s in slow {
        s.set_read_timeout(Some(std::time::Duration::from_secs(3))).unwrap();
        let mut rest = Vec::new();
        match s.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) => assert!(
                !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
                "a slow client was still connected"
            ),
        }
    }
}

#[test]
fn connections_over_the_limit_are_refused_at_once_with_a_problem() {
    let db = Database::migrated();
    let host = start_limited(&db, &[("VOTTERY_MAX_CONNECTIONS", "4"), ("VOTTERY_MAX_URI_BYTES", "2048")]);
    let address = host.base.strip_prefix("http://").unwrap().to_owned();
    // Four connections the host has taken (no answer waiting on them): the
    // start-up's health checks may still hold a slot for a moment, and a
    // connection refused meanwhile is opened again.
    let mut held = Vec::new();
    for _ in 0..100 {
        if held.len() == 4 {
            break;
        }
        let s = std::net::TcpStream::connect(&address).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_millis(200))).unwrap();
        match s.peek(&mut [0u8; 1]) {
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => held.push(s),
            _ => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    assert_eq!(held.len(), 4, "the host did not keep four connections");
    let refused = raw(&host.base, b"GET /api/auth/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!((refused.status, refused.code().as_deref()), (503, Some("too_many_connections")));
    assert_eq!(refused.header("x-content-type-options"), Some("nosniff"));
    drop(held);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let long = format!("GET /api/auth/health?{} HTTP/1.1\r\nHost: localhost\r\n\r\n", "q".repeat(3000));
    let too_long = raw(&host.base, long.as_bytes());
    assert_eq!((too_long.status, too_long.code().as_deref()), (414, Some("uri_too_long")));
    let many: String = (0..120).map(|i| format!("X-F{i}: 1\r\n")).collect();
    let crowded = raw(&host.base, format!("GET /api/auth/health HTTP/1.1\r\nHost: localhost\r\n{many}\r\n").as_bytes());
    assert_eq!((crowded.status, crowded.code().as_deref()), (431, Some("request_header_fields_too_large")));
    // The host's own answers carry the security headers.
    let missing = host.get("/nowhere");
    assert_eq!(missing.status, 404);
    for name in ["strict-transport-security", "content-security-policy", "x-content-type-options"] {
        assert!(missing.header(name).is_some(), "{name}");
    }
}

#[test]
fn each_class_admits_its_limit_per_address_then_answers_429() {
    let db = Database::migrated();
    let namespace = format!("test-edge-{}", db.name);
    let host = start_limited(
        &db,
        &[
            ("SPIN_VARIABLE_RATE_LIMITS", "otp-verify=3/60,write=2/60"),
            ("SPIN_VARIABLE_REDIS_NAMESPACE", &namespace),
            ("SPIN_VARIABLE_OTP_KEY", "an-otp-key-of-at-least-thirty-two-bytes"),
            ("SPIN_VARIABLE_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    );
    let verify = |from: &str| {
        let body = r#"{"flow_id": "AAAAAAAAAAAAAAAAAAAAAA", "email_code": "123456"}"#;
        host.send_with("POST", "/api/auth/verify-otp", Some(body), &[("x-forwarded-for", from)])
    };
    for _ in 0..3 {
        verify("203.0.113.5").assert_problem(404, "flow_not_found");
    }
    let refused = verify("203.0.113.5");
    refused.assert_problem(429, "rate_limited");
    assert_eq!(refused.header("ratelimit-policy"), Some("\"otp-verify\";q=3;w=60"));
    assert!(refused.header("ratelimit").unwrap().starts_with("\"otp-verify\";r=0;"));
    assert!((1..=60).contains(&refused.header("retry-after").unwrap().parse::<u64>().unwrap()));
    // Another address behind the trusted proxy has its own bucket.
    verify("203.0.113.6").assert_problem(404, "flow_not_found");
    // The classes are separate buckets.
    let write = || host.send_with("POST", "/api/security/verify", Some("{}"), &[("x-forwarded-for", "203.0.113.5")]);
    write().assert_problem(400, "invalid_input");
    write().assert_problem(400, "invalid_input");
    write().assert_problem(429, "rate_limited");
}

#[test]
fn a_limit_setting_that_does_not_parse_is_named_and_redis_down_fails_closed_but_for_reads() {
    let db = Database::migrated();
    let host = start_limited(&db, &[("SPIN_VARIABLE_RATE_LIMITS", "otp-send=lots")]);
    let reply = host.send("POST", "/api/auth/send-otp", Some("{}"));
    reply.assert_problem(500, "gateway_misconfigured");
    assert!(reply.json()["detail"].as_str().unwrap().contains("rate_limits"));

    let down = start_limited(&db, &[("SPIN_VARIABLE_REDIS_URL", "redis://127.0.0.1:1")]);
    down.send("POST", "/api/auth/verify-otp", Some("{}")).assert_problem(503, "gateway_unavailable");
    down.send("POST", "/api/security/verify", Some("{}")).assert_problem(503, "gateway_unavailable");
    assert_eq!(down.get("/api/auth/health").status, 200, "reads are served without the limiter");
}
