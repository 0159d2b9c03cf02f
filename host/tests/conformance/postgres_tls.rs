//! TLS to PostgreSQL with Spin's semantics, against a private PostgreSQL
//! (its own cluster, port and test CA): `sslmode=disable` is plain text;
//! `prefer` (the default) and `require` verify the chain and the host name
//! against the host's roots (`SSL_CERT_FILE`) plus the guest's
//! `set-ca-root`; `prefer` is plain only when the server refuses TLS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::support::*;

/// Runs a command and panics with its output if it fails.
fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} did not run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl` in `dir` with these space-separated arguments.
fn openssl(dir: &Path, args: &str) {
    run(Command::new("openssl").current_dir(dir).args(args.split_whitespace()));
}

/// As user `postgres` (PostgreSQL refuses to run as root).
fn as_postgres(bin: &Path, program: &str) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--"]).arg(bin.join(program));
    cmd
}

/// The newest installed PostgreSQL's binaries.
fn postgres_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed under /usr/lib/postgresql")
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("postgres").exists())
        .collect();
    found.sort();
    found.pop().expect("a PostgreSQL server in /usr/lib/postgresql/*/bin").1
}

/// What the private server presents.
enum Tls {
    /// `ssl = off`.
    Off,
    /// A certificate from the test CA for these subjectAltNames.
    For(&'static str),
}

/// A private PostgreSQL cluster on a free port, stopped and removed on drop
/// (whatever way the test ends).
struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.dir.join("data/postmaster.pid").exists() {
            let _ = as_postgres(&self.bin, "pg_ctl")
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["stop", "-m", "immediate", "-w"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl PgServer {
    fn start(tls: Tls) -> PgServer {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir =
            PathBuf::from(format!("/tmp/vottery-pg-tls-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // The guard exists before anything runs, so every later failure
        // still stops the server and removes the directory.
        let server = PgServer { dir, bin: postgres_bin(), port };
        let dir = &server.dir;

        let ssl = match tls {
            Tls::Off => "ssl = off\n".to_owned(),
            Tls::For(names) => {
                let key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
                openssl(dir, &format!("req -x509 {key} -keyout ca.key -out ca.pem -days 2 -subj /CN=vottery-test-ca"));
                openssl(
                    dir,
                    &format!("req -new {key} -keyout server.key -out server.csr -subj /CN=vottery-test-server"),
                );
                std::fs::write(
                    dir.join("server.ext"),
                    format!(
                        "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n\
                         extendedKeyUsage = serverAuth\nsubjectAltName = {names}\n"
                    ),
                )
                .unwrap();
                openssl(
                    dir,
                    "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
                     -extfile server.ext -out server.pem",
                );
                format!("ssl = on\nssl_cert_file = '{0}/server.pem'\nssl_key_file = '{0}/server.key'\n", dir.display())
            }
        };
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir));
        if dir.join("server.key").exists() {
            run(Command::new("chmod").arg("600").arg(dir.join("server.key")));
        }

        let data = dir.join("data");
        let initdb = "-U postgres -A trust -E UTF8 --locale=C --no-sync --no-instructions";
        run(as_postgres(&server.bin, "initdb").arg("-D").arg(&data).args(initdb.split_whitespace()));
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 trust\n\
             hostnossl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        conf.push_str(&format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n{ssl}",
            server.port,
            dir.display()
        ));
        std::fs::write(data.join("postgresql.conf"), conf).unwrap();
        let log = dir.join("server.log");
        let started = as_postgres(&server.bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "start"])
            .output()
            .unwrap();
        assert!(
            started.status.success(),
            "the private PostgreSQL did not start:\n{}{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        server
    }

    fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn ca_text(&self) -> String {
        std::fs::read_to_string(self.ca()).unwrap()
    }

    /// An address on this server with these extra settings.
    fn address(&self, extra: &str) -> String {
        format!("host=127.0.0.1 port={} user=postgres dbname=postgres {extra}", self.port)
    }
}

/// The probe, allowed to reach the private server.
fn manifest(server: &PgServer) -> PathBuf {
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"pg-tls\"\n[[trigger.http]]\nroute = \"/...\"\n\
         component = \"probe\"\n[component.probe]\nsource = \"{}\"\n\
         allowed_outbound_hosts = [\"postgres://127.0.0.1:{}\"]\n",
        wasm("fixture_probe").display(),
        server.port
    );
    write_app(&text, None).0
}

/// Whether the session the guest got is encrypted, as the server sees it
/// (or the guest's error).
fn ssl_in_use(host: &Host, address: &str, ca_root: Option<&str>) -> Value {
    let mut spec = json!({
        "address": address,
        "statement": "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    });
    if let Some(pem) = ca_root {
        spec["ca_root"] = json!(pem);
    }
    host.send("POST", "/pg", Some(&spec.to_string())).json()
}

fn assert_encrypted(reply: &Value, encrypted: bool) {
    let cell = reply["rows"][0][0].as_str().unwrap_or_else(|| panic!("no row: {reply}"));
    assert!(cell.ends_with(&format!("Boolean({encrypted})")), "{reply}");
}

fn assert_connection_failed(reply: &Value, cause: &str) {
    let error = reply["error"].as_str().unwrap_or_else(|| panic!("not an error: {reply}"));
    assert!(error.contains("ConnectionFailed") && error.contains(cause), "{reply}");
}

#[test]
fn tls_is_verified_against_the_guest_root_certificate() {
    let server = PgServer::start(Tls::For("DNS:localhost, IP:127.0.0.1"));
    let log = server.dir.join("host.log");
    let host = Host::start_logging(&manifest(&server), Mode::Reuse, &[], &log);

    // (a) sslmode=disable: plain text, no certificate involved.
    assert_encrypted(&ssl_in_use(&host, &server.address("sslmode=disable"), None), false);

    // (b) require with a CA the host does not know: refused, and logged.
    let unknown = ssl_in_use(&host, &server.address("sslmode=require"), None);
    assert_connection_failed(&unknown, "invalid peer certificate: UnknownIssuer");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("PostgreSQL connection failed")
            && logged.contains(&format!("127.0.0.1:{}", server.port))
            && logged.contains("UnknownIssuer"),
        "{logged}"
    );
    // No sslmode is tokio-postgres's `prefer`: TLS is offered and verified
    // too, so an unknown CA fails here as well (as on Spin).
    assert_connection_failed(&ssl_in_use(&host, &server.address(""), None), "UnknownIssuer");

    // (d) the guest's set-ca-root: verified TLS, for require and prefer.
    let ca = server.ca_text();
    assert_encrypted(&ssl_in_use(&host, &server.address("sslmode=require"), Some(&ca)), true);
    assert_encrypted(&ssl_in_use(&host, &server.address(""), Some(&ca)), true);
    // A pool is keyed by the root certificate too: without it, still refused.
    assert_connection_failed(&ssl_in_use(&host, &server.address("sslmode=require"), None), "UnknownIssuer");

    // A root certificate that is not one: Spin's `other` error.
    let bad = ssl_in_use(&host, &server.address("sslmode=require"), Some("-----BEGIN CERTIFICATE-----\nAAAA\n"));
    let error = bad["error"].as_str().unwrap_or_else(|| panic!("not an error: {bad}"));
    assert!(error.contains("Other(\"invalid root certificate"), "{bad}");
}

#[test]
fn ssl_cert_file_gives_the_host_its_roots() {
    let server = PgServer::start(Tls::For("DNS:localhost, IP:127.0.0.1"));
    let ca = server.ca();
    let host = Host::start(&manifest(&server), None, Mode::Reuse, &[("SSL_CERT_FILE", ca.to_str().unwrap())]);
    // (c) the CA is in the host's store: require and prefer verify.
    assert_encrypted(&ssl_in_use(&host, &server.address("sslmode=require"), None), true);
    assert_encrypted(&ssl_in_use(&host, &server.address(""), None), true);
    assert_encrypted(&ssl_in_use(&host, &server.address("sslmode=disable"), None), false);
}

#[test]
fn a_certificate_for_another_host_name_is_refused() {
    let server = PgServer::start(Tls::For("DNS:db.example.org"));
    let log = server.dir.join("host.log");
    let ca = server.ca();
    let host = Host::start_logging(&manifest(&server), Mode::Reuse, &[("SSL_CERT_FILE", ca.to_str().unwrap())], &log);
    // (e) the chain is trusted (the host's store, or the guest's root),
    // but the certificate names another host.
    let expected = "certificate not valid for name \\\"127.0.0.1\\\"";
    assert_connection_failed(&ssl_in_use(&host, &server.address("sslmode=require"), None), expected);
    let with_root = ssl_in_use(&host, &server.address("sslmode=require"), Some(&server.ca_text()));
    assert_connection_failed(&with_root, expected);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("not valid for name"), "{logged}");
    assert_encrypted(&ssl_in_use(&host, &server.address("sslmode=disable"), None), false);
}

#[test]
fn prefer_is_plain_text_only_when_the_server_refuses_tls() {
    let server = PgServer::start(Tls::Off);
    let host = Host::start(&manifest(&server), None, Mode::Reuse, &[]);
    assert_encrypted(&ssl_in_use(&host, &server.address(""), None), false);
    assert_encrypted(&ssl_in_use(&host, &server.address("sslmode=prefer"), None), false);
    assert_connection_failed(
        &ssl_in_use(&host, &server.address("sslmode=require"), None),
        "server does not support TLS",
    );
}
