//! Faults injected end to end: two replicas serve a steady load of whole
//! member flows while PostgreSQL is slowed, then its connections cut (as a
//! restart does), Redis restarts empty, the providers are cut off and a replica is
//! killed with SIGKILL. Every step is retried as a client would; every flow
//! must finish or end on a clear problem answer, the app must serve again
//! within seconds of each dependency's return, and what is stored must
//! hold: the audit chains, sessions with their audit row and first refresh
//! token, no refresh family with two live tokens outside the grace window,
//! no Sngine account linked twice.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vottery_passkeys_core::soft::{Algorithm, Format, SoftAuthenticator};

use crate::harness::*;
use crate::proxy::Proxy;
use crate::support::*;

const MEMBERS: usize = 24;
const WORKERS: usize = 3;

fn member(i: usize) -> (String, String) {
    (format!("load{i}@example.com"), format!("+44791234{:04}", 5000 + i))
}

/// The replicas' addresses, replaced when one is restarted.
struct Cluster {
    bases: RwLock<Vec<String>>,
    next: AtomicUsize,
}

/// How a flow ended.
#[derive(Debug, Default)]
struct Tally {
    completed: AtomicUsize,
    refused: Mutex<Vec<String>>,
}

/// One request, sent to the next replica in turn and again (to the next)
/// while the connection fails or the answer is a 5xx, for up to 20 s.
fn step(cluster: &Cluster, path: &str, body: &Value, bearer: Option<&str>) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(20);
    let bearer = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("user-agent", IPHONE)];
    if let Some(b) = &bearer {
        headers.push(("authorization", b.as_str()));
    }
    loop {
        let base = {
            let bases = cluster.bases.read().unwrap();
            bases[cluster.next.fetch_add(1, Ordering::SeqCst) % bases.len()].clone()
        };
        let method = if body.is_null() { "GET" } else { "POST" };
        let text = body.to_string();
        let sent = send_to(&base, method, path, (!body.is_null()).then_some(text.as_str()), &headers);
        match sent {
            Ok(reply) if reply.status < 500 => return reply,
            Ok(reply) => {
                assert_eq!(reply.header("content-type"), Some("application/problem+json"), "a 5xx: {}", reply.body);
                eprintln!("{path}: {} {}", reply.status, reply.json()["code"]);
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
        assert!(Instant::now() < deadline, "{path} was not served again within 20 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A refusal must be a problem with a code; its code.
fn refusal(reply: &Reply) -> String {
    assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{}", reply.body);
    reply.json()["code"].as_str().unwrap().to_owned()
}

/// One member's whole flow; `Err` is the code of the clear refusal it ended on.
fn flow(app: &TestApp, cluster: &Cluster, i: usize, n: usize) -> Result<(), String> {
    let (email, phone) = member(i);
    let sent = step(cluster, "/api/auth/send-otp", &json!({ "email": email, "phone": phone }), None);
    if sent.status != 202 {
        return Err(refusal(&sent));
    }
    let flow = sent.json()["flow_id"].as_str().unwrap().to_owned();
    let codes = json!({ "flow_id": flow, "email_code": app.code(&email), "sms_code": app.code(&phone) });
    let verified = step(cluster, "/api/auth/verify-otp", &codes, None);
    if verified.status != 200 {
        return Err(refusal(&verified));
    }
    let token = verified.json()["enrolment_token"].as_str().unwrap().to_owned();
    let device = format!("ios-load-{i}-{n}");
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&((i * 1000 + n) as u64).to_le_bytes());
    let mut auth = SoftAuthenticator::new(Algorithm::Es256, seed, RP, ORIGIN);
    let options = step(
        cluster,
        "/api/auth/capture-biometric/options",
        &json!({ "enrolment_token": token, "device_id": device }),
        None,
    );
    if options.status != 200 {
        return Err(refusal(&options));
    }
    let credential = auth.register(&options.json()["publicKey"], Format::None);
    let body = json!({ "credential": credential, "device": { "native_app": true } });
    let enrolled = step(cluster, "/api/auth/capture-biometric", &body, None);
    if enrolled.status != 201 {
        return Err(refusal(&enrolled));
    }
    let session = enrolled.json();
    let mut refresh = session["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let body = json!({ "device_id": device, "refresh_token": refresh });
        let rotated = step(cluster, "/api/auth/refresh-token", &body, None);
        if rotated.status != 200 {
            return Err(refusal(&rotated));
        }
        refresh = rotated.json()["refresh_token"].as_str().unwrap().to_owned();
        let access = rotated.json()["access_token"].as_str().unwrap().to_owned();
        let current = step(cluster, "/api/sessions/current", &Value::Null, Some(&access));
        if current.status != 200 {
            return Err(refusal(&current));
        }
    }
    let user = user_handle(session["user_id"].as_str().unwrap());
    let options = step(cluster, "/api/auth/assert-biometric/options", &json!({ "device_id": device }), None);
    if options.status != 200 {
        return Err(refusal(&options));
    }
    let credential = auth.assert(&options.json()["publicKey"], &user);
    let back =
        step(cluster, "/api/auth/assert-biometric", &json!({ "device_id": device, "credential": credential }), None);
    if back.status != 201 {
        return Err(refusal(&back));
    }
    let logout = step(cluster, "/api/auth/logout", &json!({ "device_id": device, "refresh_token": refresh }), None);
    if logout.status != 200 {
        return Err(refusal(&logout));
    }
    Ok(())
}

/// Seconds until a send-otp is answered 202 again.
fn recovery(cluster: &Cluster) -> f64 {
    let started = Instant::now();
    let (email, phone) = member(0);
    loop {
        let reply = step(cluster, "/api/auth/send-otp", &json!({ "email": email, "phone": phone }), None);
        if reply.status == 202 {
            return started.elapsed().as_secs_f64();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "not served again: {}", reply.body);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn flows_survive_dependency_outages_and_a_killed_replica() {
    // Arrange: PostgreSQL and the providers behind proxies, a Redis of our own.
    let postgres = Proxy::start("127.0.0.1:5432".parse::<SocketAddr>().unwrap());
    let redis_port = free_port();
    let mut redis = redis_server(redis_port);
    let providers: Mutex<Option<Proxy>> = Mutex::new(None);
    let app = TestApp::spawn(
        Options::new()
            .replicas(0)
            .providers_via(|outbox| {
                let proxy = Proxy::start(outbox.trim_start_matches("http://").parse().unwrap());
                let base = format!("http://127.0.0.1:{}", proxy.port);
                *providers.lock().unwrap() = Some(proxy);
                base
            })
            .env("SPIN_VARIABLE_PG_PORT", &postgres.port.to_string())
            .env("SPIN_VARIABLE_REDIS_URL", &format!("redis://127.0.0.1:{redis_port}"))
            .env(
                "SPIN_VARIABLE_OTP_POLICY",
                "email_sends=1000000,phone_sends=1000000,ip_sends=1000000,prefix_sends=1000000",
            ),
    );
    let providers = providers.into_inner().unwrap().unwrap();
    let mut hosts: Vec<Host> = (0..2).map(|_| app.start_replica()).collect();
    app.db.query(&format!(
        "INSERT INTO public.users (user_name, user_email, user_phone) \
         SELECT 'load' || i, 'load' || i || '@example.com', '+44791234' || (5000 + i) FROM generate_series(0, {}) i",
        MEMBERS - 1
    ));
    let cluster =
        Cluster { bases: RwLock::new(hosts.iter().map(|h| h.base.clone()).collect()), next: AtomicUsize::new(0) };
    let tally = Tally::default();
    let stop = AtomicBool::new(false);

    // Act: the load runs while each fault comes and goes.
    let recoveries = std::thread::scope(|scope| {
        for worker in 0..WORKERS {
            let (app, cluster, tally, stop) = (&app, &cluster, &tally, &stop);
            scope.spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    match flow(app, cluster, worker + WORKERS * (n % (MEMBERS / WORKERS)), n) {
                        Ok(()) => tally.completed.fetch_add(1, Ordering::SeqCst),
                        Err(code) => {
                            tally.refused.lock().unwrap().push(code);
                            0
                        }
                    };
                }
            });
        }
        // However the faults below end, even in a failed assertion, the
        // load stops, so the scope can end and the failure be reported.
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _stop = StopOnDrop(&stop);
        let mut recoveries = Vec::new();
        let settle = || std::thread::sleep(Duration::from_secs(2));
        settle();
        // A slow database: every chunk each way waits 100 ms, for 2 s.
        postgres.set_latency(Duration::from_millis(100));
        settle();
        postgres.set_latency(Duration::ZERO);
        recoveries.push(("slow PostgreSQL", recovery(&cluster)));
        settle();
        postgres.outage(Duration::from_millis(1500));
        recoveries.push(("PostgreSQL", recovery(&cluster)));
        settle();
        redis.kill().unwrap();
        redis.wait().unwrap();
        std::thread::sleep(Duration::from_millis(1000));
        redis = redis_server(redis_port);
        recoveries.push(("Redis", recovery(&cluster)));
        settle();
        providers.outage(Duration::from_millis(1500));
        recoveries.push(("providers", recovery(&cluster)));
        settle();
        hosts[1].kill();
        hosts[1] = app.start_replica();
        cluster.bases.write().unwrap()[1] = hosts[1].base.clone();
        recoveries.push(("a killed replica", recovery(&cluster)));
        settle();
        recoveries
    });
    let _ = redis.kill();
    let _ = redis.wait();

    // Assert
    let refused = tally.refused.lock().unwrap().clone();
    let completed = tally.completed.load(Ordering::SeqCst);
    println!("flows completed: {completed}; ended on a refusal: {refused:?}; served again after {recoveries:?} s");
    assert!(completed >= WORKERS, "flows completed: {completed}");
    for (what, seconds) in &recoveries {
        assert!(*seconds < 10.0, "served again {seconds} s after {what} came back");
    }
    let (ok, text) = audit_verify(&app.db);
    assert!(ok, "{text}");
    assert_eq!(app.db.query("SELECT audit.first_broken_link()")[0][0], None);
    let orphans = app.count(
        "SELECT count(*) FROM devices.sessions s WHERE NOT EXISTS \
         (SELECT 1 FROM devices.refresh_tokens t WHERE t.session_id = s.id AND t.parent_hash IS NULL) \
         OR NOT EXISTS (SELECT 1 FROM audit.events e WHERE e.action = 'session.opened' AND e.subject = s.id::text)",
    );
    assert_eq!(orphans, 0, "sessions without their first refresh token or audit row");
    let live_twins = app.count(
        "SELECT count(*) FROM devices.refresh_tokens a JOIN devices.refresh_tokens b \
         ON a.session_id = b.session_id AND a.hash < b.hash \
         WHERE a.rotated_at IS NULL AND b.rotated_at IS NULL \
         AND abs(extract(epoch FROM a.issued_at - b.issued_at)) > 10",
    );
    assert_eq!(live_twins, 0, "two live refresh tokens of one family outside the grace window");
    let linked_twice =
        app.count("SELECT count(*) FROM (SELECT sngine_user_id FROM users.accounts GROUP BY 1 HAVING count(*) > 1) t");
    assert_eq!(linked_twice, 0);
}
