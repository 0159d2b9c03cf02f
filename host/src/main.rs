//! `vottery-host`: runs the Vottery Spin application on wasmtime with
//! Spin's semantics, for local runs, integration tests and benchmarks.

mod app;
mod bindings;
mod compose;
mod headers;
mod instances;
mod kv;
mod manifest;
mod metrics;
mod outbound;
mod postgres;
mod redis;
mod routes;
mod runtime_config;
mod server;
mod state;
mod variables;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

/// Serves a Spin application (manifest version 2).
#[derive(Debug, Parser)]
#[command(name = "vottery-host", version)]
struct Cli {
    /// The application manifest.
    #[arg(long, short = 'f', default_value = "spin.toml")]
    from: PathBuf,
    /// The runtime configuration file.
    #[arg(long = "runtime-config-file")]
    runtime_config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Requests one instance may serve before it is dropped.
    #[arg(long, default_value_t = 128)]
    max_instance_reuse_count: usize,
    /// Requests one instance may serve at the same time.
    #[arg(long, default_value_t = 16)]
    max_instance_concurrent_reuse_count: usize,
    /// Seconds an idle instance is kept.
    #[arg(long, default_value_t = 1.0)]
    idle_instance_timeout: f64,
    /// Seconds a request may take before its instance is dropped.
    #[arg(long)]
    request_timeout: Option<f64>,
    /// Seconds a client has to send a whole request head (and that an idle
    /// keep-alive connection is kept) before the connection is dropped.
    #[arg(long, env = "VOTTERY_HEADER_READ_TIMEOUT", default_value_t = 10.0)]
    header_read_timeout: f64,
    /// Connections served at once; more are answered 503 and closed.
    #[arg(long, env = "VOTTERY_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Fields in a request head; more are answered 431.
    #[arg(long, env = "VOTTERY_MAX_HEADER_COUNT", default_value_t = 100)]
    max_header_count: usize,
    /// Bytes of a request target; longer ones are answered 414.
    #[arg(long, env = "VOTTERY_MAX_URI_BYTES", default_value_t = 8192)]
    max_uri_bytes: usize,
    /// Address of the Prometheus listener (`GET /metrics`); none when unset.
    /// Keep it off the public network.
    #[arg(long, env = "VOTTERY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Connections each PostgreSQL pool (one per address, so per database
    /// role) may hold.
    #[arg(long, env = "VOTTERY_PG_POOL_SIZE", default_value_t = 6)]
    pg_pool_size: usize,
    /// Seconds a pooled PostgreSQL connection may sit idle before it is closed.
    #[arg(long, env = "VOTTERY_PG_IDLE_TIMEOUT", default_value_t = 60.0)]
    pg_idle_timeout: f64,
    /// Where compiled components are cached.
    #[arg(long, env = "VOTTERY_COMPILE_CACHE")]
    cache_dir: Option<PathBuf>,
    /// `text` (plain, coloured only on a terminal) or `json` (one object a line).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Instead of serving, time this many instantiations of each component
    /// and print the figures (benchmarking).
    #[arg(long, hide = true)]
    measure_instantiation: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs go to stderr at `VOTTERY_LOG` (default `info`: start-up, warnings,
/// failures; one line per request only at `debug`).
fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOTTERY_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.max_instance_reuse_count == 0 || cli.max_instance_concurrent_reuse_count == 0 {
        anyhow::bail!("instance reuse counts must be at least 1");
    }
    if cli.max_connections == 0
        || cli.max_header_count == 0
        || cli.header_read_timeout.is_nan()
        || cli.header_read_timeout <= 0.0
        || cli.pg_pool_size == 0
        || !cli.pg_idle_timeout.is_finite()
        || cli.pg_idle_timeout <= 0.0
    {
        anyhow::bail!(
            "--max-connections, --max-header-count, --header-read-timeout, --pg-pool-size and --pg-idle-timeout must be above 0"
        );
    }
    let settings = instances::InstanceSettings {
        max_reuse: cli.max_instance_reuse_count,
        max_concurrent: cli.max_instance_concurrent_reuse_count,
        idle_timeout: Duration::from_secs_f64(cli.idle_instance_timeout),
        request_timeout: cli.request_timeout.map(Duration::from_secs_f64),
    };
    let app = app::App::load(app::LoadOptions {
        manifest: &cli.from,
        runtime_config: cli.runtime_config.as_deref(),
        settings,
        postgres: postgres::PoolSettings {
            max_size: cli.pg_pool_size,
            idle_timeout: Duration::try_from_secs_f64(cli.pg_idle_timeout).context("--pg-idle-timeout")?,
        },
        cache_dir: cli.cache_dir,
    })
    .await?;
    if let Some(n) = cli.measure_instantiation {
        for (index, runtime) in app.runtimes().iter().enumerate() {
            let micros = app.instantiation_micros(index, n).await?;
            let at = |q: f64| micros[((micros.len() as f64 - 1.0) * q) as usize];
            let mean = micros.iter().sum::<f64>() / micros.len() as f64;
            println!("{}: mean {mean:.1} us, p50 {:.1} us, p99 {:.1} us ({n} runs)", runtime.id, at(0.5), at(0.99));
        }
        return Ok(());
    }
    for shadowed in &app.shadowed {
        tracing::warn!("route {shadowed} is a duplicate and will never be used");
    }
    let listener =
        tokio::net::TcpListener::bind(cli.listen).await.with_context(|| format!("cannot listen on {}", cli.listen))?;
    let address = listener.local_addr()?;
    for route in app.router.routes() {
        println!("  http://{address}{}  ->  {}", route.raw, app.runtime(route.component).id);
    }
    if let Some(at) = cli.metrics_listen {
        let bound = metrics::listen(at).await.with_context(|| format!("cannot listen on {at} for metrics"))?;
        println!("Metrics at http://{bound}/metrics");
    }
    println!("Serving http://{address}");
    let limits = server::Limits {
        header_read_timeout: Duration::from_secs_f64(cli.header_read_timeout),
        max_connections: cli.max_connections,
        max_header_count: cli.max_header_count,
        max_uri_bytes: cli.max_uri_bytes,
    };
    server::serve(app, listener, limits).await
}
