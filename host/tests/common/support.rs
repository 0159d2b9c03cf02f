//! Running the host as a separate process against test manifests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A cargo command in the workspace with the environment of a shell, not
/// of this test: cargo gives a test `CARGO_MANIFEST_DIR`, `CARGO_PKG_*` and
/// the like, and build scripts that watch those (ring's) would otherwise
/// run again here and once more at the next build from a shell.
pub fn cargo() -> Command {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(workspace());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_tests =
            ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_PRIMARY_", "CARGO_TARGET_TMPDIR"]
                .iter()
                .any(|prefix| name.starts_with(prefix));
        if set_for_tests || name == "OUT_DIR" {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd
}

/// Rate limits no test reaches unless it means to.
pub const GENEROUS_RATE_LIMITS: &str = "otp-send=100000/1,otp-verify=100000/1,passkey=100000/1,refresh=100000/1,admin=100000/1,activity=100000/1,read=100000/1,write=100000/1";

/// Builds the app's components and the test fixtures once per run.
pub fn wasm(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut cmd = cargo();
        cmd.args(["build", "--release", "--target", "wasm32-wasip2"]);
        for p in [
            "fixture-probe",
            "fixture-mw-probe",
            "fixture-leaky-dep",
            "fixture-crypto-probe",
            "fixture-hello",
            "fixture-crypto-bench",
        ] {
            cmd.args(["-p", p]);
        }
        for c in ["gateway", "crypto", "auth", "users", "security", "devices", "static"] {
            cmd.args(["-p", &format!("vottery-{c}")]);
        }
        let status = cmd.status().expect("cargo runs");
        assert!(status.success(), "building the components failed");
    });
    let path = workspace().join("target/wasm32-wasip2/release").join(format!("{name}.wasm"));
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// How the host reuses instances.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Spin 4.1's defaults: 128 requests per instance, 16 at a time.
    Reuse,
    /// A fresh instance for every request.
    PerRequest,
}

pub const MODES: [Mode; 2] = [Mode::Reuse, Mode::PerRequest];

impl Mode {
    fn args(self) -> Vec<String> {
        match self {
            Mode::Reuse => vec![],
            Mode::PerRequest => {
                vec!["--max-instance-reuse-count=1".into(), "--max-instance-concurrent-reuse-count=1".into()]
            }
        }
    }
}

/// A temporary directory for one test's manifest and files.
pub fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vottery-host-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct Host {
    child: Child,
    pub base: String,
}

/// The addresses of hosts serving the app (a manifest with the gateway):
/// every answer they give a test is checked against the public contract.
fn app_bases() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static BASES: OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> = OnceLock::new();
    BASES.get_or_init(Default::default)
}

fn serves_app(base: &str) -> bool {
    app_bases().lock().unwrap_or_else(|poisoned| poisoned.into_inner()).contains(base)
}

fn register(manifest: &Path, base: &str) {
    let text = std::fs::read_to_string(manifest).unwrap_or_default();
    // The app's own manifest (and the variants tests write of it) serve the
    // description; fixture apps with a gateway in front of probes do not.
    // A port is reused by later hosts: a base is the app's only while this
    // host serves it.
    let mut bases = app_bases().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if text.contains("[component.static]") {
        bases.insert(base.to_owned());
    } else {
        bases.remove(base);
    }
}

/// A header of an answer by name.
type HeaderOf<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Holds an answer of the app to the contract (the probe fixture's
/// `/probe/...` routes are the tests' own, not the app's).
fn hold_to_contract(base: &str, method: &str, target: &str, sent: &[(&str, &str)], reply: (u16, HeaderOf<'_>, &str)) {
    if !serves_app(base) || target.starts_with("/probe/") {
        return;
    }
    let (status, header, body) = reply;
    crate::contract::check(&crate::contract::Answer { method, target, request_headers: sent, status, header, body });
}

impl Drop for Host {
    fn drop(&mut self) {
        app_bases().lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&self.base);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn command(manifest: &Path, runtime_config: Option<&Path>, mode: Mode, env: &[(&str, &str)]) -> (Command, u16) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vottery-host"));
    cmd.arg("--from").arg(manifest).arg("--listen").arg(format!("127.0.0.1:{port}"));
    cmd.arg("--cache-dir").arg(workspace().join("target/vottery-compile-cache"));
    if let Some(rc) = runtime_config {
        cmd.arg("--runtime-config-file").arg(rc);
    }
    cmd.args(mode.args());
    cmd.env("VOTTERY_LOG", "warn");
    // Tests send far more from one address than a person would; the tests
    // of the limits set their own.
    cmd.env("SPIN_VARIABLE_RATE_LIMITS", GENEROUS_RATE_LIMITS);
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd, port)
}

impl Host {
    /// Starts the host on `manifest` and waits until it serves.
    pub fn start(manifest: &Path, runtime_config: Option<&Path>, mode: Mode, env: &[(&str, &str)]) -> Host {
        match Self::try_start(manifest, runtime_config, mode, env) {
            Ok(host) => host,
            Err(stderr) => panic!("the host did not start:\n{stderr}"),
        }
    }

    /// Starts the host, or returns what it printed when it exited.
    pub fn try_start(
        manifest: &Path,
        runtime_config: Option<&Path>,
        mode: Mode,
        env: &[(&str, &str)],
    ) -> Result<Host, String> {
        let (mut cmd, port) = command(manifest, runtime_config, mode, env);
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            let _ = tx.send(text);
        });
        let host = Host { child, base: format!("http://127.0.0.1:{port}") };
        register(manifest, &host.base);
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut host = host;
        loop {
            if let Ok(Some(_)) = host.child.try_wait() {
                return Err(rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default());
            }
            if let Ok(r) = agent().get(&format!("{}/.well-known/spin/health", host.base)).call()
                && r.status() == 200
            {
                return Ok(host);
            }
            assert!(Instant::now() < deadline, "the host did not start in time");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the host with its log (stderr) written to `log`, and waits
    /// until it serves.
    pub fn start_logging(manifest: &Path, mode: Mode, env: &[(&str, &str)], log: &Path) -> Host {
        let (mut cmd, port) = command(manifest, None, mode, env);
        let file = std::fs::File::create(log).unwrap();
        let child = cmd.stdout(Stdio::null()).stderr(file).spawn().unwrap();
        let mut host = Host { child, base: format!("http://127.0.0.1:{port}") };
        register(manifest, &host.base);
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Ok(Some(_)) = host.child.try_wait() {
                panic!("the host did not start:\n{}", std::fs::read_to_string(log).unwrap_or_default());
            }
            if let Ok(r) = agent().get(&format!("{}/.well-known/spin/health", host.base)).call()
                && r.status() == 200
            {
                return host;
            }
            assert!(Instant::now() < deadline, "the host did not start in time");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs the host to its exit and returns its status and stderr.
    pub fn run_to_exit(manifest: &Path, runtime_config: Option<&Path>, env: &[(&str, &str)]) -> (bool, String) {
        let (mut cmd, _) = command(manifest, runtime_config, Mode::Reuse, env);
        let out = cmd.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    pub fn send(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        self.send_with(method, path, body, &[])
    }

    /// Sends with extra request headers.
    pub fn send_with(&self, method: &str, path: &str, body: Option<&str>, headers: &[(&str, &str)]) -> Reply {
        send_to(&self.base, method, path, body, headers).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Kills the host at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a request to the host at `base`; a connection that fails or is
/// cut is the error. Answers of the app are held to the contract.
pub fn send_to(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Reply, String> {
    let url = format!("{base}{path}");
    let mut request = http::Request::builder().method(method).uri(&url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(b) => request.header("content-type", "application/json").body(b.to_owned()),
        None => request.body(String::new()),
    }
    .map_err(|e| e.to_string())?;
    let response = agent().run(request).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let received = response.headers().clone();
    let body = response.into_body().read_to_string().map_err(|e| e.to_string())?;
    let reply = Reply { status, headers: received, body };
    let header = |name: &str| reply.header(name).map(str::to_owned);
    hold_to_contract(base, method, path, headers, (reply.status, &header, &reply.body));
    Ok(reply)
}

/// An HTTP client that answers every status as a reply and gives up on a
/// request after a minute (a hung host fails its test instead of hanging it).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.body);
        let body = self.json();
        assert_eq!(body["code"], code, "{}", self.body);
        assert_eq!(body["status"], status);
    }
}

/// Writes a manifest (and optional runtime config) into a scratch dir.
pub fn write_app(manifest: &str, runtime_config: Option<&str>) -> (PathBuf, Option<PathBuf>) {
    let dir = scratch();
    let m = dir.join("spin.toml");
    std::fs::write(&m, manifest).unwrap();
    let rc = runtime_config.map(|text| {
        let p = dir.join("runtime-config.toml");
        std::fs::write(&p, text).unwrap();
        p
    });
    (m, rc)
}

/// A plain HTTP/1.1 server on loopback answering `200 ok` to anything, for
/// outbound tests. Returns its port; it lives until the test process ends.
pub fn upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    port
}

/// A database of its own for one test; dropped when the guard goes.
pub struct Database {
    pub name: String,
}

fn admin() -> (tokio::runtime::Runtime, tokio_postgres::Client) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = rt.block_on(async {
        let (client, conn) =
            tokio_postgres::connect("host=127.0.0.1 user=postgres dbname=postgres", tokio_postgres::NoTls)
                .await
                .expect("PostgreSQL on 127.0.0.1:5432");
        tokio::spawn(conn);
        client
    });
    (rt, client)
}

impl Database {
    pub fn fresh() -> Database {
        let name = format!("host_test_{}", scratch().file_name().unwrap().to_string_lossy().replace('-', "_"));
        let (rt, client) = admin();
        rt.block_on(client.batch_execute(&format!("CREATE DATABASE {name}"))).unwrap();
        Database { name }
    }

    /// Runs `sql` as the superuser; each row's columns as text.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&self.address(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let messages = client.simple_query(sql).await.unwrap();
            messages
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => {
                        Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
                    }
                    _ => None,
                })
                .collect()
        })
    }

    pub fn address(&self) -> String {
        // Plain text, as spin.toml's default: without `sslmode` the host (as
        // Spin) would offer TLS and refuse the local server's certificate.
        format!("host=127.0.0.1 port=5432 user=postgres dbname={} sslmode=disable", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (rt, client) = admin();
        let _ = rt.block_on(client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)));
    }
}

impl Database {
    /// A fresh database with the project's migrations applied.
    pub fn migrated() -> Database {
        let db = Database::fresh();
        db.migrate(None);
        db
    }

    /// Applies the migrations up to `target` (all when `None`).
    pub fn migrate(&self, target: Option<u32>) {
        let migrate = workspace().join("target/release/vottery-migrate");
        // Built once per run (a no-op when fresh), so new migrations are in;
        // with the arguments of scripts/lib.sh's build, so the features are
        // the same and nothing is compiled a second way.
        static BUILT: OnceLock<()> = OnceLock::new();
        BUILT.get_or_init(|| {
            let status = cargo().args(["build", "--release", "--all-targets"]).status().unwrap();
            assert!(status.success());
        });
        // One at a time: the roles are cluster-wide, and two first runs on a
        // fresh cluster would both try to create them.
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut command = Command::new(migrate);
        command.args([
            "--database-url",
            &format!("host=127.0.0.1 user=postgres dbname={}", self.name),
            "--dev-fixtures",
        ]);
        if let Some(version) = target {
            command.args(["--target", &version.to_string()]);
        }
        let out = command.output().unwrap();
        drop(guard);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// `vottery-admin audit verify` on `db`: whether the log holds, and what
/// the tool printed.
pub fn audit_verify(db: &Database) -> (bool, String) {
    let out = Command::new(workspace().join("target/release/vottery-admin"))
        .args(["audit", "verify"])
        .env("VOTTERY_DATABASE_URL", format!("host=127.0.0.1 user=postgres dbname={}", db.name))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A private `redis-server` on `port` (for tests that stop it).
pub fn redis_server(port: u16) -> std::process::Child {
    let dir = scratch();
    let mut child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server runs");
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
    for _ in 0..100 {
        if client.get_connection().is_ok() {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server on port {port} did not start");
}

/// The app's own `spin.toml` (sources made absolute) plus the probe fixture
/// on `/probe/...`, allowed to chain to `service` (or each of a
/// comma-separated list) as another service would; with the app's runtime
/// config beside it.
pub fn app_with_probe(service: &str) -> PathBuf {
    let root = workspace();
    let text = std::fs::read_to_string(root.join("spin.toml"))
        .unwrap()
        .replace("source = \"target/", &format!("source = \"{}/target/", root.display()));
    let probe = format!(
        "{text}\n[[trigger.http]]\nroute = \"/probe/...\"\ncomponent = \"probe\"\n\
         [component.probe]\nsource = \"{}\"\nallowed_outbound_hosts = [{}]\n",
        wasm("fixture_probe").display(),
        service.split(',').map(|s| format!("\"http://{s}.spin.internal\"")).collect::<Vec<_>>().join(", ")
    );
    let rc = std::fs::read_to_string(root.join("runtime-config.toml")).unwrap();
    write_app(&probe, Some(&rc)).0
}

/// Subscribes to the event channel with a raw RESP connection.
pub fn subscribe(channel: &str) -> BufReader<std::net::TcpStream> {
    let mut stream = std::net::TcpStream::connect("127.0.0.1:6379").unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    write!(stream, "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{channel}\r\n", channel.len()).unwrap();
    BufReader::new(stream)
}

/// The JSON payloads published so far (read until the channel is quiet).
pub fn published(reader: &mut BufReader<std::net::TcpStream>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return out,
            Ok(_) => {
                if let Ok(v) = serde_json::from_str::<Value>(line.trim_end()) {
                    out.push(v);
                }
            }
        }
    }
}

/// An answer read off the wire by [`raw`].
#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The problem code of a problem+json answer, if it is one.
    pub fn code(&self) -> Option<String> {
        if self.header("content-type") != Some("application/problem+json") {
            return None;
        }
        serde_json::from_str::<Value>(&self.body).ok()?["code"].as_str().map(str::to_owned)
    }
}

/// Sends `request` byte for byte on a new connection to `base` (exactly as
/// written: request line, fields, framing) and reads one response, framed
/// by Content-Length, chunked encoding or the connection's close.
pub fn raw(base: &str, request: &[u8]) -> RawReply {
    let address = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 =
        line.split_whitespace().nth(1).unwrap_or_else(|| panic!("no status line: {line:?}")).parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':').unwrap();
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(length) = find("content-length") {
        body.resize(length.parse().unwrap(), 0);
        reader.read_exact(&mut body).unwrap();
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let _ = reader.read_to_end(&mut body);
    }
    let reply = RawReply { status, headers, body: String::from_utf8_lossy(&body).into_owned() };
    check_raw(base, request, &reply);
    reply
}

/// [`hold_to_contract`] for a request written by hand: its request line
/// and fields as sent (one that is not HTTP/1.x is not checked).
fn check_raw(base: &str, request: &[u8], reply: &RawReply) {
    let head = String::from_utf8_lossy(request);
    let head = head.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return;
    };
    let target = target.strip_prefix("http://").map_or(target, |rest| &rest[rest.find('/').unwrap_or(rest.len())..]);
    let sent: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim(), v.trim())).collect();
    let header = |name: &str| reply.header(name).map(str::to_owned);
    hold_to_contract(base, method, target, &sent, (reply.status, &header, &reply.body));
}

/// A request in chunked encoding: `body` split into chunks of `size` bytes.
pub fn chunked(head: &str, body: &[u8], size: usize) -> Vec<u8> {
    let mut out = head.as_bytes().to_vec();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}
