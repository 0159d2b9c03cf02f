//! `spin:postgres`, `spin:redis` and `spin:key-value` against the real
//! PostgreSQL and Redis on this machine.

use serde_json::{Value, json};

use crate::support::*;

fn manifest(allowed: &str, stores: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"storage\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"probe\"\n\
         [component.probe]\nsource = \"{}\"\nallowed_outbound_hosts = [{allowed}]\nkey_value_stores = [{stores}]\n",
        wasm("fixture_probe").display()
    )
}

fn pg(host: &Host, spec: Value) -> Value {
    host.send("POST", "/pg", Some(&spec.to_string())).json()
}

#[test]
fn every_postgres_type_round_trips() {
    let db = Database::fresh();
    let (m, _) = write_app(&manifest("\"postgres://127.0.0.1:5432\"", ""), None);
    for mode in MODES {
        let host = Host::start(&m, None, mode, &[]);
        let reply = pg(
            &host,
            json!({
                "address": db.address(),
                "statement": "SELECT $1::bool, $2::\"char\", $3::int2, $4::int4, $5::int8, $6::float4, $7::float8, $8::text, \
                    $9::bytea, $10::date, $11::time, $12::timestamp, $13::timestamptz, $14::uuid, $15::jsonb, $16::numeric, \
                    $17::int4range, $18::int8range, $19::numrange, $20::int4[], $21::int8[], $22::numeric[], $23::text[], \
                    $24::interval, $25::text, $26::int8",
                "params": [
                    ["boolean", true], ["int8", -7], ["int16", -300], ["int32", 70000], ["int64", 5000000000i64],
                    ["floating32", 1.5], ["floating64", -2.25], ["str", "héllo"], ["binary", [0, 255, 7]],
                    ["date", [2024, 2, 29]], ["time", [23, 59, 58, 123000000]], ["datetime", [2024, 2, 29, 12, 30, 0, 0]],
                    ["datetime", [1999, 12, 31, 23, 0, 0, 0]], ["uuid", "67e55044-10b1-426f-9247-bb680e5fe0c8"],
                    ["jsonb", {"a": [1, 2]}], ["decimal", "12345.678"],
                    ["range-int32", [{"inclusive": true, "value": 1}, {"inclusive": false, "value": 10}]],
                    ["range-int64", [{"inclusive": true, "value": 5}, null]],
                    ["range-decimal", [{"inclusive": true, "value": "1.5"}, {"inclusive": false, "value": "2.5"}]],
                    ["array-int32", [1, null, 3]], ["array-int64", [9000000000i64]], ["array-decimal", ["1.25", null]],
                    ["array-str", ["x", null]], ["interval", [1500000, 2, 3]], ["null", null], ["timestamp", 1700000000]
                ]
            }),
        );
        let row: Vec<String> = serde_json::from_value(reply["rows"][0].clone()).unwrap_or_else(|_| panic!("{reply}"));
        let expected = [
            "Boolean(true)",
            "Int8(-7)",
            "Int16(-300)",
            "Int32(70000)",
            "Int64(5000000000)",
            "Floating32(1.5)",
            "Floating64(-2.25)",
            "Str(\"héllo\")",
            "Binary([0, 255, 7])",
            "Date((2024, 2, 29))",
            "Time((23, 59, 58, 123000000))",
            "Datetime((2024, 2, 29, 12, 30, 0, 0))",
            "Datetime((1999, 12, 31, 23, 0, 0, 0))",
            "Uuid(\"67e55044-10b1-426f-9247-bb680e5fe0c8\")",
            "Jsonb([123, 34, 97, 34, 58, 91, 49, 44, 50, 93, 125])",
            "Decimal(\"12345.678\")",
            "RangeInt32((Some((1, RangeBoundKind::Inclusive)), Some((10, RangeBoundKind::Exclusive))))",
            "RangeInt64((Some((5, RangeBoundKind::Inclusive)), None))",
            "RangeDecimal((Some((\"1.5\", RangeBoundKind::Inclusive)), Some((\"2.5\", RangeBoundKind::Exclusive))))",
            "ArrayInt32([Some(1), None, Some(3)])",
            "ArrayInt64([Some(9000000000)])",
            "ArrayDecimal([Some(\"1.25\"), None])",
            "ArrayStr([Some(\"x\"), None])",
            "Interval(Interval { micros: 1500000, days: 2, months: 3 })",
            "DbNull",
            "Int64(1700000000)",
        ];
        assert_eq!(row.len(), expected.len(), "{reply}");
        for (got, want) in row.iter().zip(expected) {
            assert!(got.ends_with(want), "{mode:?}: got {got}, want {want}");
        }
        let types: Vec<String> =
            reply["columns"].as_array().unwrap().iter().map(|c| c[1].as_str().unwrap().to_owned()).collect();
        assert!(
            types[0].ends_with("Boolean") && types[16].ends_with("RangeInt32") && types[23].ends_with("Interval"),
            "{types:?}"
        );
    }
}

#[test]
fn postgres_writes_and_errors() {
    let db = Database::fresh();
    let (m, _) = write_app(&manifest("\"postgres://127.0.0.1:5432\", \"postgres://127.0.0.1:1\"", ""), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let run = |statement: &str, params: Value, execute: bool| {
        pg(&host, json!({ "address": db.address(), "statement": statement, "params": params, "execute": execute }))
    };
    assert_eq!(run("CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)", json!([]), true)["affected"], 0);
    assert_eq!(
        run(
            "INSERT INTO t VALUES ($1, $2), ($3, $4)",
            json!([["int32", 1], ["str", "a"], ["int32", 2], ["str", "b"]]),
            true
        )["affected"],
        2
    );
    let rows = run("SELECT name FROM t ORDER BY id", json!([]), false);
    assert_eq!(rows["rows"].as_array().unwrap().len(), 2, "{rows}");
    assert_eq!(run("SELECT * FROM t WHERE false", json!([]), false)["columns"].as_array().unwrap().len(), 2);

    let duplicate = run("INSERT INTO t VALUES ($1, $2)", json!([["int32", 1], ["str", "again"]]), true);
    let text = duplicate["error"].as_str().unwrap();
    assert!(text.contains("QueryFailed") && text.contains("23505"), "{duplicate}");
    let syntax = run("SELEC 1", json!([]), false);
    assert!(syntax["error"].as_str().unwrap().contains("42601"), "{syntax}");
    let wrong_type = run("SELECT name FROM t WHERE id = $1", json!([["str", "one"]]), false);
    assert!(wrong_type["error"].as_str().unwrap().contains("BadParameter"), "{wrong_type}");
    let bad_uuid = run("SELECT $1::uuid", json!([["uuid", "not-a-uuid"]]), false);
    assert!(bad_uuid["error"].as_str().unwrap().contains("BadParameter"), "{bad_uuid}");

    let denied = pg(&host, json!({ "address": "host=127.0.0.2 user=postgres dbname=x", "statement": "SELECT 1" }));
    let text = denied["error"].as_str().unwrap();
    assert!(
        text.contains("ConnectionFailed") && text.contains("postgres://127.0.0.2:5432 is not permitted"),
        "{denied}"
    );
    let down = pg(&host, json!({ "address": "host=127.0.0.1 port=1 user=postgres dbname=x", "statement": "SELECT 1" }));
    assert!(down["error"].as_str().unwrap().contains("ConnectionFailed"), "{down}");
}

#[test]
fn a_transaction_left_open_does_not_leak_into_the_next_request() {
    let db = Database::fresh();
    let (m, _) = write_app(&manifest("\"postgres://127.0.0.1:5432\"", ""), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let run = |statements: Value| pg(&host, json!({ "address": db.address(), "statements": statements }));
    run(json!(["CREATE TABLE t (id int)"]));
    let open = run(json!(["BEGIN", "INSERT INTO t VALUES (1)"]));
    assert_eq!(open["results"], json!(["Ok(0)", "Ok(1)"]), "{open}");
    let count = pg(&host, json!({ "address": db.address(), "statement": "SELECT count(*)::int4 FROM t" }));
    assert!(count["rows"][0][0].as_str().unwrap().ends_with("Int32(0)"), "{count}");
}

#[test]
fn postgres_pools_are_bounded_and_idle_connections_are_closed() {
    let db = Database::fresh();
    let (m, _) = write_app(&manifest("\"postgres://127.0.0.1:5432\"", ""), None);
    let env = [("VOTTERY_PG_POOL_SIZE", "2"), ("VOTTERY_PG_IDLE_TIMEOUT", "1")];
    let host = Host::start(&m, None, Mode::Reuse, &env);
    let open = || {
        let sql =
            format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()", db.name);
        db.query(&sql)[0][0].clone().unwrap().parse::<usize>().unwrap()
    };
    let (answers, most) = std::thread::scope(|scope| {
        let sleepers: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| pg(&host, json!({ "address": db.address(), "statement": "SELECT pg_sleep(0.3)::text" })))
            })
            .collect();
        let mut most = 0;
        while sleepers.iter().any(|s| !s.is_finished()) {
            most = most.max(open());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        (sleepers.into_iter().map(|s| s.join().unwrap()).collect::<Vec<_>>(), most)
    });
    assert!(answers.iter().all(|a| a["rows"].is_array()), "every request waits its turn: {answers:?}");
    assert_eq!(most, 2, "six concurrent requests share the pool's two connections");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(open(), 0, "idle connections are closed after the idle timeout");
}

fn redis_get(key: &str) -> Option<String> {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_connection().unwrap();
    redis::cmd("HGET").arg(key).arg("f").query(&mut conn).unwrap()
}

#[test]
fn redis_operations_reach_the_real_server() {
    let prefix = format!("vottery-test-{}", std::process::id());
    let (m, _) = write_app(&manifest("\"redis://127.0.0.1:6379\"", ""), None);
    for mode in MODES {
        let host = Host::start(&m, None, mode, &[]);
        let r = host.get(&format!("/redis?address=redis://127.0.0.1:6379&prefix={prefix}-{mode:?}")).json();
        assert_eq!(r["set"], "Ok(())", "{r}");
        assert_eq!(r["get"], "Ok(Some([118, 97, 108, 117, 101]))");
        assert_eq!(r["incr"], "Ok(1)");
        assert_eq!(r["incr_again"], "Ok(2)");
        assert!(r["incr_wrong_type"].as_str().unwrap().starts_with("Err("), "{r}");
        assert_eq!(r["sadd"], "Ok(3)");
        assert_eq!(r["srem"], "Ok(1)");
        assert_eq!(r["smembers"], "Ok([\"a\", \"c\"])");
        assert!(r["execute"].as_str().unwrap().contains("Int64(1)"), "{r}");
        assert!(r["execute_get"].as_str().unwrap().contains("Binary([55])"), "{r}");
        assert_eq!(r["publish"], "Ok(())");
        assert_eq!(r["del"], "Ok(2)");
        assert_eq!(r["get_after_del"], "Ok(None)");
        assert_eq!(redis_get(&format!("{prefix}-{mode:?}:hash")).as_deref(), Some("7"));
    }
}

#[test]
fn redis_denies_addresses_not_allowed() {
    let (m, _) = write_app(&manifest("\"redis://127.0.0.1:6379\"", ""), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let r = host.get("/redis?address=redis://127.0.0.1:6390&prefix=x").json();
    assert!(r["error"].as_str().unwrap().contains("InvalidAddress"), "{r}");
}

#[test]
fn key_value_stores_from_runtime_config() {
    let prefix = format!("vottery-test-{}", std::process::id());
    let rc = "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n\
              [key_value_store.other]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n";
    let (m, rc) = write_app(&manifest("", "\"default\""), Some(rc));
    for mode in MODES {
        let host = Host::start(&m, rc.as_deref(), mode, &[]);
        let kv = host.get(&format!("/kv?store=default&prefix={prefix}-{mode:?}")).json();
        assert_eq!(kv["set"], "Ok(())", "{kv}");
        assert_eq!(kv["get"], "Ok(Some([49]))");
        assert_eq!(kv["exists"], "Ok(true)");
        assert_eq!(kv["keys"], json!([format!("{prefix}-{mode:?}-a"), format!("{prefix}-{mode:?}-b")]));
        assert_eq!(kv["delete"], "Ok(())");
        assert_eq!(kv["exists_after"], "Ok(false)");
        let denied = host.get("/kv?store=other").json();
        assert!(denied["error"].as_str().unwrap().contains("AccessDenied"), "{denied}");
    }
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_connection().unwrap();
    let stored: Option<String> =
        redis::cmd("GET").arg(format!("spin-kv:default:{prefix}-Reuse-b")).query(&mut conn).unwrap();
    assert_eq!(stored.as_deref(), Some("2"));
}

#[test]
fn the_default_store_is_in_memory_without_runtime_config() {
    let (m, _) = write_app(&manifest("", "\"default\""), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let kv = host.get("/kv?store=default&prefix=mem").json();
    assert_eq!(kv["get"], "Ok(Some([49]))", "{kv}");
    let (m, _) = write_app(&manifest("", "\"missing\""), None);
    let (ok, stderr) = Host::run_to_exit(&m, None, &[]);
    assert!(!ok && stderr.contains("unknown key_value_stores label \"missing\""), "{stderr}");
}

#[test]
fn redis_connections_recover_after_the_server_restarts() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = redis_server(port);
    let (m, _) = write_app(&manifest(&format!("\"redis://127.0.0.1:{port}\""), ""), None);
    let host = Host::start(&m, None, Mode::Reuse, &[]);
    let path = format!("/redis?address=redis://127.0.0.1:{port}&prefix=restart");
    assert_eq!(host.get(&path).json()["set"], "Ok(())");

    server.kill().unwrap();
    server.wait().unwrap();
    let down = host.get(&path).json();
    assert!(down["set"].as_str().is_some_and(|s| s.starts_with("Err")) || down["error"].is_string(), "{down}");

    let mut server = redis_server(port);
    let recovered = (0..40).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        host.get(&path).json()["set"] == "Ok(())"
    });
    server.kill().unwrap();
    let _ = server.wait();
    assert!(recovered, "the host did not reconnect to the restarted Redis");
}
