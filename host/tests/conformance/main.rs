//! Host conformance tests: the host runs small fixture components (and the
//! project's `spin.toml` where a test needs a real app) with Spin's
//! semantics, in both instance modes. The app's own end-to-end tests are the
//! `app` target (`tests/app/`).

// Shared with the `app` target; not every helper is used here.
#[allow(dead_code)]
#[path = "../common/contract.rs"]
mod contract;
#[allow(dead_code)]
#[path = "../common/support.rs"]
mod support;

mod composition;
mod outbound;
mod postgres_tls;
mod routing;
mod startup;
mod storage;
mod variables;
