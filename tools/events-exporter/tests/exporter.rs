//! The built exporter against the Redis at 127.0.0.1:6379, each test on a
//! namespace of its own: events published on the channel and the gateway's
//! refusal hash come out of `/metrics` with exact counts.

use std::error::Error;
use std::io::{BufRead as _, BufReader};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

type Outcome<T = ()> = Result<T, Box<dyn Error>>;

const REDIS: &str = "redis://127.0.0.1:6379";

/// A namespace no other test or run uses; its keys go when it is dropped.
struct Namespace(String);

impl Namespace {
    fn new(test: &str) -> Outcome<Self> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        Ok(Self(format!("vottery-exporter-test-{test}-{}-{nanos}", std::process::id())))
    }

    fn channel(&self) -> String {
        format!("{}:events", self.0)
    }

    fn rate_limited(&self) -> String {
        format!("{}:metrics:rate_limited", self.0)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Ok(mut redis) = redis() {
            let _: Result<(), _> = redis::cmd("DEL").arg(self.rate_limited()).query(&mut redis);
        }
    }
}

fn redis() -> redis::RedisResult<redis::Connection> {
    redis::Client::open(REDIS)?.get_connection()
}

/// The exporter binary on a port of its choosing; killed when dropped.
struct Exporter {
    child: Child,
    base: String,
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Exporter {
    fn start(redis_url: &str, namespace: &Namespace) -> Outcome<Self> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vottery-events-exporter"))
            .args(["--redis-url", redis_url, "--namespace", &namespace.0, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut banner = String::new();
        let mut stdout = child.stdout.take().map(BufReader::new);
        if let Some(stdout) = &mut stdout {
            stdout.read_line(&mut banner)?;
        }
        let address = banner.split("http://").nth(1).and_then(|rest| rest.strip_suffix("/metrics\n"));
        let Some(address) = address else {
            let _ = child.kill();
            return Err(format!("unexpected banner {banner:?}").into());
        };
        Ok(Self { base: format!("http://{address}"), child, _stdout: stdout })
    }

    fn get(&self, path: &str) -> Outcome<(u16, String, String)> {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut response = agent.get(format!("{}{path}", self.base)).call()?;
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        Ok((response.status().as_u16(), content_type, response.body_mut().read_to_string()?))
    }

    fn metrics(&self) -> Outcome<String> {
        Ok(self.get("/metrics")?.2)
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of one series (name and labels exactly as encoded).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Polls `probe` until it yields, for at most 10 s.
fn eventually<T>(what: &str, mut probe: impl FnMut() -> Outcome<Option<T>>) -> Outcome<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = probe()? {
            return Ok(found);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn subscribers(redis: &mut redis::Connection, channel: &str) -> Outcome<u64> {
    let (_, count): (String, u64) = redis::cmd("PUBSUB").arg("NUMSUB").arg(channel).query(redis)?;
    Ok(count)
}

fn publish(redis: &mut redis::Connection, channel: &str, message: &str) -> Outcome {
    let _: u64 = redis::cmd("PUBLISH").arg(channel).arg(message).query(redis)?;
    Ok(())
}

/// Publishes a marker event and waits until the exporter counted it: every
/// message published before it has been counted too.
fn settle(exporter: &Exporter, redis: &mut redis::Connection, channel: &str, expected: u32) -> Outcome {
    publish(redis, channel, r#"{"type":"test.marker","service":"test"}"#)?;
    let series = r#"vottery_events_total{type="test.marker",service="test"}"#;
    eventually("the marker event", || {
        Ok((sample(&exporter.metrics()?, series) == Some(f64::from(expected))).then_some(()))
    })
}

fn auth(kind: &str, extra: Value) -> String {
    let mut event = json!({ "type": kind, "service": "auth", "at": 1_767_225_600, "flow_id": "f1" });
    if let (Some(map), Value::Object(more)) = (event.as_object_mut(), extra) {
        map.extend(more);
    }
    event.to_string()
}

fn devices(kind: &str, extra: Value) -> String {
    let mut event = json!({ "type": kind, "service": "devices", "at": 1_767_225_600 });
    if let (Some(map), Value::Object(more)) = (event.as_object_mut(), extra) {
        map.extend(more);
    }
    event.to_string()
}

#[test]
fn a_scripted_run_of_events_and_refusals_is_exported_with_exact_counts() -> Outcome {
    let namespace = Namespace::new("scripted")?;
    let mut redis = redis()?;
    let exporter = Exporter::start(REDIS, &namespace)?;
    let channel = namespace.channel();
    eventually("the subscription", || Ok((subscribers(&mut redis, &channel)? == 1).then_some(())))?;
    let mut messages = vec![
        auth("contact.matched", json!({ "reason": "matched" })),
        auth(
            "otp.sent",
            json!({ "matched": true, "reason": "matched", "ip": "192.0.2.1", "email": "delivered", "sms": "delivered" }),
        ),
        auth("contact.matched", json!({ "reason": "matched" })),
        auth("otp.send_failed", json!({ "email": "delivered", "sms": "rejected" })),
        auth("contact.not_matched", json!({ "reason": "no_account" })),
        auth("otp.resent", json!({ "channel": "sms", "delivery": "delivered", "ip": "192.0.2.1" })),
        auth("otp.resent", json!({ "channel": "email", "delivery": "not_sent", "ip": "192.0.2.1" })),
        auth("otp.failed", json!({ "ip": "192.0.2.1", "email": false, "sms": false, "wrong": 2 })),
        auth("otp.verified", json!({ "ip": "192.0.2.1", "email": true, "sms": true, "wrong": 0 })),
        auth("otp.locked_out", json!({})),
        auth("passkey.enrolled", json!({ "user_id": "u1", "device_id": "d1", "credential_id": "c1" })),
        auth("passkey.asserted", json!({ "user_id": "u1", "device_id": "d1", "credential_id": "c1" })),
        auth("passkey.asserted", json!({ "user_id": "u1", "device_id": "d1", "credential_id": "c1" })),
        auth("passkey.refused", json!({ "code": "signature_invalid" })),
        auth("passkey.refused", json!({ "code": "a-code-nobody-defined" })),
        auth("passkey.clone_suspected", json!({ "device_id": "d1", "credential_id": "c1" })),
        auth("passkey.removed", json!({ "device_id": "d1", "count": 2 })),
        devices("device.registered", json!({ "device_id": "d1", "kind": "android", "country": "GB" })),
        devices("session.refreshed", json!({ "session_id": "s1", "rotation": "rotated" })),
        devices("session.refreshed", json!({ "session_id": "s1", "rotation": "rotated" })),
        devices("session.revoked", json!({ "session_id": "s1", "reason": "logout" })),
        devices("refresh.reused", json!({ "session_id": "s2", "device_id": "d1" })),
        devices("session.revoked", json!({ "session_id": "s2", "reason": "refresh_reuse" })),
        devices("device.removed", json!({ "device_id": "d1" })),
        json!({ "type": "ballot.cast", "service": "votes", "at": 1 }).to_string(),
        "not json at all".to_owned(),
        json!({ "service": "auth", "at": 1 }).to_string(),
    ];
    messages.extend((0..3).map(|_| devices("session.opened", json!({ "session_id": "s1", "device_id": "d1" }))));
    let hash = namespace.rate_limited();

    for message in &messages {
        publish(&mut redis, &channel, message)?;
    }
    let _: i64 = redis::cmd("HINCRBY").arg(&hash).arg("otp-send").arg(3).query(&mut redis)?;
    let _: i64 = redis::cmd("HINCRBY").arg(&hash).arg("read").arg(1).query(&mut redis)?;
    let _: i64 = redis::cmd("HSET").arg(&hash).arg("no-such-class").arg(2).query(&mut redis)?;
    settle(&exporter, &mut redis, &channel, 1)?;
    let (status, content_type, text) = exporter.get("/metrics")?;

    assert_eq!((status, content_type.as_str()), (200, "application/openmetrics-text; version=1.0.0; charset=utf-8"));
    let expected = [
        (r#"vottery_events_total{type="contact.matched",service="auth"}"#, 2.0),
        (r#"vottery_events_total{type="otp.resent",service="auth"}"#, 2.0),
        (r#"vottery_events_total{type="session.opened",service="devices"}"#, 3.0),
        (r#"vottery_events_total{type="ballot.cast",service="votes"}"#, 1.0),
        ("vottery_events_malformed_total", 2.0),
        (r#"vottery_contact_matches_total{outcome="matched",reason="matched"}"#, 2.0),
        (r#"vottery_contact_matches_total{outcome="not_matched",reason="no_account"}"#, 1.0),
        ("vottery_otp_decoy_flows_total", 1.0),
        (r#"vottery_otp_codes_sent_total{channel="email"}"#, 2.0),
        (r#"vottery_otp_codes_sent_total{channel="sms"}"#, 1.0),
        (r#"vottery_otp_send_failures_total{channel="sms",outcome="rejected"}"#, 1.0),
        (r#"vottery_otp_codes_resent_total{channel="sms"}"#, 1.0),
        (r#"vottery_otp_codes_resent_total{channel="email"}"#, 0.0),
        (r#"vottery_otp_decoy_resends_total{channel="email"}"#, 1.0),
        (r#"vottery_otp_codes_failed_total{channel="unknown"}"#, 2.0),
        (r#"vottery_otp_codes_verified_total{channel="unknown"}"#, 1.0),
        ("vottery_otp_lockouts_total", 1.0),
        ("vottery_passkeys_enrolled_total", 1.0),
        ("vottery_passkeys_asserted_total", 2.0),
        (r#"vottery_passkeys_refused_total{reason="signature_invalid"}"#, 1.0),
        (r#"vottery_passkeys_refused_total{reason="other"}"#, 1.0),
        ("vottery_passkeys_clone_suspected_total", 1.0),
        (r#"vottery_passkeys_removed_total{reason="device_removed"}"#, 2.0),
        ("vottery_sessions_opened_total", 3.0),
        (r#"vottery_sessions_refreshed_total{rotation="rotated"}"#, 2.0),
        (r#"vottery_sessions_revoked_total{reason="logout"}"#, 1.0),
        (r#"vottery_sessions_revoked_total{reason="refresh_reuse"}"#, 1.0),
        ("vottery_refresh_reuse_total", 1.0),
        (r#"vottery_devices_registered_total{kind="android"}"#, 1.0),
        ("vottery_devices_removed_total", 1.0),
        (r#"vottery_rate_limited_total{class="otp-send"}"#, 3.0),
        (r#"vottery_rate_limited_total{class="read"}"#, 1.0),
        (r#"vottery_rate_limited_total{class="other"}"#, 2.0),
        (r#"vottery_rate_limited_total{class="otp-verify"}"#, 0.0),
        ("vottery_events_exporter_subscribed", 1.0),
        ("vottery_events_exporter_reconnects_total", 0.0),
    ];
    let wrong: Vec<_> = expected.iter().filter(|(series, value)| sample(&text, series) != Some(*value)).collect();
    assert!(wrong.is_empty(), "series not as expected: {wrong:?}\n{text}");
    assert!(text.ends_with("# EOF\n"));
    Ok(())
}

#[test]
fn health_answers_and_other_paths_are_not_found() -> Outcome {
    let namespace = Namespace::new("paths")?;
    let exporter = Exporter::start(REDIS, &namespace)?;

    let health = exporter.get("/healthz")?;
    let missing = exporter.get("/metrics/extra")?;

    assert_eq!((health.0, health.2.as_str()), (200, "ok\n"));
    assert_eq!(missing.0, 404);
    Ok(())
}

/// A TCP relay to Redis that can cut every connection through it.
struct Relay {
    address: String,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: &'static str) -> Outcome<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let open = Arc::new(Mutex::new(Vec::new()));
        let streams = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let (Ok(client), Ok(server)) = (client, TcpStream::connect(upstream)) else { continue };
                let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) =
                    (client.try_clone(), server.try_clone(), client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                if let Ok(mut open) = streams.lock() {
                    open.extend([c3, s3]);
                }
                let (mut c_read, mut s_write, mut s_read, mut c_write) = (client, server, s2, c2);
                std::thread::spawn(move || std::io::copy(&mut c_read, &mut s_write));
                std::thread::spawn(move || std::io::copy(&mut s_read, &mut c_write));
            }
        });
        Ok(Self { address, open })
    }

    fn cut(&self) -> Outcome {
        let mut open = self.open.lock().map_err(|_| "relay lock poisoned")?;
        for stream in open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        Ok(())
    }
}

#[test]
fn after_redis_drops_the_connection_the_exporter_subscribes_again_and_counts_on() -> Outcome {
    let namespace = Namespace::new("reconnect")?;
    let relay = Relay::start("127.0.0.1:6379")?;
    let mut redis = redis()?;
    let exporter = Exporter::start(&format!("redis://{}", relay.address), &namespace)?;
    let channel = namespace.channel();
    eventually("the subscription", || Ok((subscribers(&mut redis, &channel)? == 1).then_some(())))?;
    publish(&mut redis, &channel, &devices("session.opened", json!({})))?;
    settle(&exporter, &mut redis, &channel, 1)?;

    relay.cut()?;
    eventually("the new subscription", || {
        let text = exporter.metrics()?;
        let back = sample(&text, "vottery_events_exporter_reconnects_total").is_some_and(|n| n >= 1.0)
            && sample(&text, "vottery_events_exporter_subscribed") == Some(1.0);
        Ok(back.then_some(()))
    })?;
    publish(&mut redis, &channel, &devices("session.opened", json!({})))?;
    settle(&exporter, &mut redis, &channel, 2)?;

    assert_eq!(sample(&exporter.metrics()?, "vottery_sessions_opened_total"), Some(2.0));
    Ok(())
}

#[test]
fn without_redis_the_exporter_still_serves_and_keeps_trying() -> Outcome {
    let namespace = Namespace::new("no-redis")?;
    let closed = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let exporter = Exporter::start(&format!("redis://{closed}"), &namespace)?;

    let retried = eventually("a second attempt", || {
        let text = exporter.metrics()?;
        Ok(sample(&text, "vottery_events_exporter_reconnects_total").filter(|n| *n >= 2.0).map(|_| text))
    })?;
    let health = exporter.get("/healthz")?;

    assert_eq!(sample(&retried, "vottery_events_exporter_subscribed"), Some(0.0));
    assert_eq!(sample(&retried, r#"vottery_rate_limited_total{class="otp-send"}"#), Some(0.0));
    assert_eq!(health.0, 200);
    Ok(())
}
