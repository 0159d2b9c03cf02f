//! Host conformance tests: the host runs real components (the app's and
//! small fixtures) with Spin's semantics, in both instance modes.

mod app;
mod auth;
mod composition;
mod contract;
mod crypto;
mod devices;
mod edge;
mod outbound;
mod passkeys;
mod postgres_tls;
mod routing;
mod security;
mod sessions;
mod startup;
mod storage;
mod support;
mod users;
mod variables;
