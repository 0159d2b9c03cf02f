//! `vottery-events-exporter`: subscribes to `<ns>:events`, counts the domain
//! events the services publish, reads the gateway's rate-limit refusals
//! from `<ns>:metrics:rate_limited` at scrape time, and serves it all at
//! `GET /metrics` for Prometheus. Needs nothing from the host, so it works
//! on Spin and SpinKube as well.

#![forbid(unsafe_code)]

pub mod events;
pub mod metrics;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use futures::StreamExt as _;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::{sleep, timeout};

pub use metrics::Metrics;

const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// A subscription that answers no ping for this long is dropped and made again.
const PING_EVERY: Duration = Duration::from_secs(15);

/// Where the events are.
#[derive(Debug, Clone)]
pub struct Config {
    pub redis_url: String,
    pub namespace: String,
}

/// Subscribes in the background and serves `listener` until the process ends.
pub async fn run(listener: tokio::net::TcpListener, config: &Config) -> anyhow::Result<()> {
    let client = redis::Client::open(config.redis_url.as_str()).context("invalid redis URL")?;
    let metrics = Arc::new(Metrics::new());
    tokio::spawn(subscribe(client.clone(), format!("{}:events", config.namespace), metrics.clone()));
    let options = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(REDIS_TIMEOUT))
        .set_number_of_retries(1);
    let redis = ConnectionManager::new_lazy_with_config(client, options).context("redis connection")?;
    let state =
        Arc::new(State { metrics, redis, rate_limited_key: format!("{}:metrics:rate_limited", config.namespace) });
    serve(listener, state).await
}

/// Keeps a subscription to `channel`, making it again with growing pauses
/// whenever it cannot be made or is lost.
async fn subscribe(client: redis::Client, channel: String, metrics: Arc<Metrics>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let mut subscribed = false;
        let error = listen(&client, &channel, &metrics, &mut subscribed).await;
        metrics.set_subscribed(false);
        if subscribed {
            backoff = MIN_BACKOFF;
        }
        eprintln!("events-exporter: {channel}: {error:#}; subscribing again in {backoff:?}");
        sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        metrics.reconnecting();
    }
}

/// Counts the messages on `channel` until the connection fails.
async fn listen(client: &redis::Client, channel: &str, metrics: &Metrics, subscribed: &mut bool) -> anyhow::Error {
    let connect = async {
        let (mut sink, stream) = client.get_async_pubsub().await?.split();
        sink.subscribe(channel).await?;
        Ok::<_, redis::RedisError>((sink, stream))
    };
    let (mut sink, mut stream) = match timeout(REDIS_TIMEOUT, connect).await {
        Ok(Ok(connected)) => connected,
        Ok(Err(e)) => return anyhow::Error::new(e).context("cannot subscribe"),
        Err(_) => return anyhow::anyhow!("cannot subscribe: timed out"),
    };
    *subscribed = true;
    metrics.set_subscribed(true);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(message) => metrics.record(message.get_payload_bytes()),
                None => return anyhow::anyhow!("connection closed"),
            },
            _ = ping.tick() => match timeout(REDIS_TIMEOUT, sink.ping::<redis::Value>()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return anyhow::Error::new(e).context("ping"),
                Err(_) => return anyhow::anyhow!("ping timed out"),
            },
        }
    }
}

struct State {
    metrics: Arc<Metrics>,
    redis: ConnectionManager,
    rate_limited_key: String,
}

impl State {
    /// Reads the gateway's refusal counts (one HGETALL); on failure the
    /// last counts read stay.
    async fn read_rate_limited(&self) {
        let mut redis = self.redis.clone();
        match timeout(REDIS_TIMEOUT, redis.hgetall::<_, HashMap<String, String>>(&self.rate_limited_key)).await {
            Ok(Ok(hash)) => self.metrics.set_rate_limited(&hash),
            Ok(Err(e)) => eprintln!("events-exporter: cannot read {}: {e}", self.rate_limited_key),
            Err(_) => eprintln!("events-exporter: cannot read {}: timed out", self.rate_limited_key),
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, state: Arc<State>) -> anyhow::Result<()> {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => {
            state.read_rate_limited().await;
            match state.metrics.encode() {
                Ok(text) => reply(StatusCode::OK, metrics::CONTENT_TYPE, text),
                Err(_) => reply(StatusCode::INTERNAL_SERVER_ERROR, TEXT, "cannot encode the metrics\n"),
            }
        }
        (&Method::GET, "/healthz") => reply(StatusCode::OK, TEXT, "ok\n"),
        _ => reply(StatusCode::NOT_FOUND, TEXT, "not found: GET /metrics or /healthz\n"),
    }
}

const TEXT: &str = "text/plain; charset=utf-8";

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    response
}
