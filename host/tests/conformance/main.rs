//! Host conformance tests: the host runs real components (the app's and
//! small fixtures) with Spin's semantics, in both instance modes.

mod app;
mod audit;
mod auth;
mod composition;
mod contract;
mod crypto;
mod devices;
mod edge;
mod faults;
mod harness;
mod outbound;
mod passkeys;
mod postgres_tls;
mod proxy;
mod replicas;
mod routing;
mod security;
mod sessions;
mod startup;
mod storage;
mod support;
mod users;
mod variables;
