//! The audit log's streams and signed checkpoints, and `vottery-admin audit
//! verify`, with the project's `spin.toml` (security and devices) and a
//! probe that chains to `security` as the other services do.

use crate::harness::*;
use crate::support::*;

/// The app with the probe chaining to `security`, on `db` (made ready by
/// the test) or a fresh one, with `extra` settings.
fn start(db: Option<Database>, extra: &[(&str, &str)]) -> TestApp {
    let options = Options::new().probe("security").envs(extra);
    TestApp::spawn(match db {
        Some(db) => options.database(db),
        None => options,
    })
}

fn checkpoint(host: &Host) -> Reply {
    let url = "/probe/forward?url=http://security.spin.internal/internal/audit/checkpoint";
    host.send_with("POST", url, Some("{}"), &[("vottery-caller", "test-service")])
}

fn append(db: &Database, action: &str) {
    db.query(&format!("SELECT audit.append('system', '{action}', 'subject', 'ok', '{{\"n\": 1}}')"));
}

fn one(db: &Database, sql: &str) -> String {
    db.query(sql)[0][0].clone().unwrap()
}

#[test]
fn rows_before_the_streams_are_sealed_and_every_fault_is_named() {
    // Arrange: three rows on the single chain, then the streams' migration.
    let db = Database::fresh();
    db.migrate(Some(17));
    for _ in 0..3 {
        append(&db, "test.before");
    }
    db.migrate(None);
    for _ in 0..5 {
        append(&db, "test.after");
    }
    let app = start(Some(db), &[]);
    let (host, db) = (app.host(), &app.db);

    // Act: a checkpoint over the old chain's head and every stream's.
    let made = checkpoint(host);

    // Assert
    assert_eq!(made.status, 201, "{}", made.body);
    assert!(made.json()["kid"].as_str().unwrap().starts_with("log-"), "{}", made.body);
    let heads: serde_json::Value = serde_json::from_str(&one(db, "SELECT heads::text FROM audit.checkpoints")).unwrap();
    let last_before = one(db, "SELECT max(id)::text FROM audit.events WHERE stream IS NULL");
    assert_eq!(heads["legacy"]["id"].to_string(), last_before, "{heads}");
    assert!(heads["streams"].as_array().is_some_and(|s| !s.is_empty()), "{heads}");
    let (ok, text) = audit_verify(db);
    let rows = one(db, "SELECT count(*)::text FROM audit.events");
    assert!(
        ok && text.contains(&format!("{rows} rows")) && text.contains("1 checkpoints") && text.contains("holds"),
        "{text}"
    );
    assert_eq!(db.query("SELECT audit.first_broken_link()")[0][0], None);

    // A stream row altered: named by its id, stream and position.
    let id = one(db, "SELECT min(id)::text FROM audit.events WHERE stream IS NOT NULL");
    let original = one(db, &format!("SELECT detail::text FROM audit.events WHERE id = {id}"));
    db.query(&format!("UPDATE audit.events SET detail = '{{\"n\": 2}}' WHERE id = {id}"));
    let (ok, text) = audit_verify(db);
    assert!(!ok && text.contains(&format!("row {id} (stream")) && text.contains("altered"), "{text}");
    assert_eq!(db.query("SELECT audit.first_broken_link()::text")[0][0].as_deref(), Some(id.as_str()));
    db.query(&format!("UPDATE audit.events SET detail = '{original}' WHERE id = {id}"));
    assert!(audit_verify(db).0, "restored: {}", audit_verify(db).1);

    // The sealed old chain's last row removed: its chain still links, but
    // the checkpoint's head is gone.
    let removed = db.query(&format!(
        "DELETE FROM audit.events WHERE id = {last_before} \
         RETURNING id, at::text, service, actor, action, subject, outcome, detail::text, prev_hash::text, hash::text"
    ));
    let (ok, text) = audit_verify(db);
    assert!(!ok && text.contains(&format!("checkpoint 1: its head row {last_before} was removed")), "{text}");
    let r = &removed[0];
    let value = |i: usize| r[i].clone().map_or("NULL".to_owned(), |v| format!("'{}'", v.replace('\'', "''")));
    db.query(&format!(
        "INSERT INTO audit.events (id, at, service, actor, action, subject, outcome, detail, prev_hash, hash) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}::bytea, {}::bytea)",
        value(0),
        value(1),
        value(2),
        value(3),
        value(4),
        value(5),
        value(6),
        value(7),
        value(8),
        value(9)
    ));
    assert!(audit_verify(db).0, "restored: {}", audit_verify(db).1);

    // A checkpoint whose root was replaced, then one signed by another key.
    db.query("UPDATE audit.checkpoints SET root = sha256(root)");
    let (ok, text) = audit_verify(db);
    assert!(!ok && text.contains("checkpoint 1: its root does not match its heads"), "{text}");
    db.query("TRUNCATE audit.checkpoints");
    assert_eq!(checkpoint(host).status, 201);
    db.query("UPDATE audit.checkpoints SET signature = set_byte(signature, 0, get_byte(signature, 0) # 1)");
    let (ok, text) = audit_verify(db);
    assert!(!ok && text.contains("its signature does not verify"), "{text}");
}

#[test]
fn concurrent_appends_spread_over_streams_and_every_chain_holds() {
    let db = Database::migrated();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let sql = "BEGIN; SELECT audit.append('system', 'test.concurrent', 's', 'ok', '{}'); \
                           SELECT pg_sleep(0.05); SELECT audit.append('system', 'test.concurrent', 's', 'ok', '{}'); COMMIT";
                for _ in 0..5 {
                    db.query(sql);
                }
            });
        }
    });
    let streams: i64 =
        one(&db, "SELECT count(DISTINCT stream) FROM audit.events WHERE action = 'test.concurrent'").parse().unwrap();
    assert!(streams >= 2, "eight writers holding their stream for 50 ms used {streams} stream(s)");
    let (ok, text) = audit_verify(&db);
    assert!(ok, "{text}");
    assert_eq!(one(&db, "SELECT count(*)::text FROM audit.events WHERE action = 'test.concurrent'"), "80");
    let same_transaction = one(
        &db,
        "SELECT count(*) FROM (SELECT xmin::text, count(DISTINCT stream) AS n FROM audit.events \
         WHERE action = 'test.concurrent' GROUP BY 1) t WHERE n > 1",
    );
    assert_eq!(same_transaction, "0", "a transaction's rows stay on the stream it holds");
}

#[test]
fn the_gateway_asks_for_a_checkpoint_once_per_interval() {
    let app = start(None, &[("SPIN_VARIABLE_AUDIT_CHECKPOINT_INTERVAL", "2")]);
    let (host, db) = (app.host(), &app.db);
    let count = || one(db, "SELECT count(*) FROM audit.checkpoints").parse::<i64>().unwrap();
    for _ in 0..5 {
        host.get("/api/sessions/current").assert_problem(401, "token_missing");
    }
    assert_eq!(count(), 1, "five requests within the interval take one turn");
    std::thread::sleep(std::time::Duration::from_millis(2200));
    host.get("/api/sessions/current").assert_problem(401, "token_missing");
    assert_eq!(count(), 2);
    let (ok, text) = audit_verify(db);
    assert!(ok, "{text}");
}
