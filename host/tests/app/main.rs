//! The app's end-to-end tests: the project's `spin.toml` on the host
//! (`TestApp`, in `tests/common/harness.rs`) against real PostgreSQL and
//! Redis, with the outbox standing in for the SMS and mail providers; every
//! answer held to the public contract. The host's Spin-semantics tests are
//! the `conformance` target (`tests/conformance/`).

// Shared with the `conformance` target; not every helper is used here.
#[allow(dead_code)]
#[path = "../common/contract.rs"]
mod contract;
#[allow(dead_code)]
#[path = "../common/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../common/proxy.rs"]
mod proxy;
#[allow(dead_code)]
#[path = "../common/support.rs"]
mod support;

mod app;
mod audit;
mod auth;
mod crypto;
mod description;
mod devices;
mod edge;
mod faults;
mod passkeys;
mod replicas;
mod security;
mod sessions;
mod users;
