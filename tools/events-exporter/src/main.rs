//! `vottery-events-exporter`: Prometheus metrics from the event channel.

#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use clap::Parser;
use vottery_events_exporter::Config;

/// Counts the domain events published on `<namespace>:events` and the
/// gateway's rate-limit refusals, and serves them at `GET /metrics`.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[arg(long, env = "VOTTERY_REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// The services' `redis_namespace`.
    #[arg(long, env = "SPIN_VARIABLE_REDIS_NAMESPACE", default_value = "vottery")]
    namespace: String,
    #[arg(long, env = "EVENTS_EXPORTER_LISTEN", default_value = "127.0.0.1:9465")]
    listen: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let listener =
        tokio::net::TcpListener::bind(&cli.listen).await.with_context(|| format!("cannot listen on {}", cli.listen))?;
    println!("events exporter: {}:events -> http://{}/metrics", cli.namespace, listener.local_addr()?);
    let config = Config { redis_url: cli.redis_url, namespace: cli.namespace };
    tokio::select! {
        served = vottery_events_exporter::run(listener, &config) => served,
        () = stopped() => Ok(()),
    }
}

/// Ctrl-C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}
