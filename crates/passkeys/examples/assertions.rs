//! Material for the passkey benchmark (`bench/passkeys`), made with the
//! software authenticator:
//!
//! - `sql N RP ORIGIN`: SQL inserting N passkeys, one per device
//!   `bench-pk-<i>` and member, registered as step 3 would store them,
//!   and their devices;
//! - `bodies BASE N RP ORIGIN`: for each device, authentication options from
//!   the app at BASE and the authenticator's answer, one request body per
//!   line (each usable once).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark tool that stops on any failure")]

use serde_json::json;
use vottery_passkeys_core::soft::{Algorithm, Format, SoftAuthenticator};
use vottery_passkeys_core::{RegistrationResponse, RelyingParty, finish_registration, start_registration};

fn user(i: usize) -> (String, [u8; 16]) {
    let id = format!("00000000-0000-4000-8000-{i:012x}");
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let bytes = std::array::from_fn(|k| u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).unwrap());
    (id, bytes)
}

fn authenticator(i: usize, rp: &str, origin: &str) -> SoftAuthenticator {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    let algorithm = if i.is_multiple_of(2) { Algorithm::Es256 } else { Algorithm::EdDsa };
    SoftAuthenticator::new(algorithm, seed, rp, origin)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("sql") => {
            let (n, rp_id, origin) = (args[2].parse::<usize>().unwrap(), &args[3], &args[4]);
            let rp = RelyingParty::new(rp_id, std::slice::from_ref(origin)).unwrap();
            println!(
                "INSERT INTO auth.passkeys (credential_id, user_id, device_id, public_key, state, algorithm, attestation, aaguid, transports, sign_count, backup_eligible, backed_up, created_at, last_used_at) VALUES"
            );
            for i in 0..n {
                let (id, bytes) = user(i);
                let started = start_registration(&rp, bytes, "bench", "Bench", &[]).unwrap();
                let answer = authenticator(i, rp_id, origin).register(&started.options, Format::None);
                let response = RegistrationResponse::parse(answer.to_string().as_bytes()).unwrap();
                let p = finish_registration(&rp, &started.state, &response).unwrap();
                let end = if i + 1 == n { ";" } else { "," };
                println!(
                    "(decode('{}','hex'), '{id}', 'bench-pk-{i}', decode('{}','hex'), decode('{}','hex'), '{}', 'none', '{}', '{{internal}}', 1, false, false, now(), now()){end}",
                    hex(&p.id),
                    hex(&p.public_key),
                    hex(&p.state),
                    p.algorithm,
                    p.aaguid
                );
            }
            println!(
                "INSERT INTO devices.devices (device_id, user_id, kind, fingerprint, last_ip, first_seen_at, last_seen_at) \
                 SELECT 'bench-pk-' || i, ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'web', \
                 '\\x00', '127.0.0.1', now(), now() FROM generate_series(0, {}) i;",
                n - 1
            );
        }
        Some("bodies") => {
            let (base, n, rp_id, origin) = (&args[2], args[3].parse::<usize>().unwrap(), &args[4], &args[5]);
            let agent = ureq::Agent::new_with_defaults();
            for i in 0..n {
                let device = format!("bench-pk-{i}");
                let mut reply = agent
                    .post(&format!("{base}/api/auth/assert-biometric/options"))
                    .send_json(json!({ "device_id": device }))
                    .unwrap();
                let options: serde_json::Value = reply.body_mut().read_json().unwrap();
                let mut auth = authenticator(i, rp_id, origin);
                auth.counter = 1;
                let credential = auth.assert(&options["publicKey"], &user(i).1);
                println!(
                    "{}",
                    json!({ "device_id": device, "credential": credential, "device": { "native_app": true } })
                );
            }
        }
        _ => eprintln!("usage: assertions sql N RP ORIGIN | bodies BASE N RP ORIGIN"),
    }
}
