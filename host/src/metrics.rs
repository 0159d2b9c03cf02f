//! The host's Prometheus metrics, served on a listener of their own
//! (`--metrics-listen`), never on the app's port: requests by trigger,
//! component, method and status with their latency, instances created and
//! reused with the instantiation time, outbound requests by host and
//! outcome, PostgreSQL and Redis calls and errors, connections open and
//! refused. The domain's counters (codes, passkeys, sessions) come from
//! the services' events (`tools/events-exporter`), so they work on real
//! Spin too.

use std::net::SocketAddr;
use std::sync::LazyLock;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The trigger's route as written in the manifest; `chained` for service
    /// chaining, `none` when no route matched.
    pub trigger: String,
    pub component: String,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ComponentLabels {
    pub component: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InstanceLabels {
    pub component: String,
    /// `created` or `reused`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutboundLabels {
    pub component: String,
    pub host: String,
    /// `ok` (an answer came, whatever its status), `error` or `denied`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok` or `error`.
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: Family<ComponentLabels, Histogram>,
    pub instances: Family<InstanceLabels, Counter>,
    pub instantiation: Family<ComponentLabels, Histogram>,
    pub outbound: Family<OutboundLabels, Counter>,
    pub postgres: Family<OutcomeLabels, Counter>,
    pub redis: Family<OutcomeLabels, Counter>,
    pub connections_open: Gauge,
    pub connections_refused: Counter,
}

fn latency() -> Histogram {
    // 100 us to about 3.3 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

fn instantiation() -> Histogram {
    // 10 us to about 82 ms.
    Histogram::new(exponential_buckets(0.00001, 2.0, 14))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("vottery");
        let requests = Family::default();
        registry.register(
            "http_requests",
            "Requests answered, by trigger, component, method and status",
            requests.clone(),
        );
        let request_duration = Family::<ComponentLabels, Histogram>::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's head to its answer's head",
            request_duration.clone(),
        );
        let instances = Family::default();
        registry.register(
            "instances",
            "Requests served by a new instance (created) or a used one (reused)",
            instances.clone(),
        );
        let instantiation =
            Family::<ComponentLabels, Histogram>::new_with_constructor(instantiation as fn() -> Histogram);
        registry.register("instantiation_duration_seconds", "Time to instantiate a component", instantiation.clone());
        let outbound = Family::default();
        registry.register("outbound_requests", "Outbound HTTP requests (service chaining included)", outbound.clone());
        let postgres = Family::default();
        registry.register("postgres_calls", "PostgreSQL statements run, by outcome", postgres.clone());
        let redis = Family::default();
        registry.register("redis_calls", "Redis commands run, by outcome", redis.clone());
        let connections_open = Gauge::default();
        registry.register("connections_open", "Client connections being served", connections_open.clone());
        let connections_refused = Counter::default();
        registry.register(
            "connections_refused",
            "Client connections answered 503 at the connection limit",
            connections_refused.clone(),
        );
        Self {
            registry,
            requests,
            request_duration,
            instances,
            instantiation,
            outbound,
            postgres,
            redis,
            connections_open,
            connections_refused,
        }
    }

    /// The metrics in Prometheus' text format (OpenMetrics 1.0).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        match prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            Ok(()) => text,
            Err(_) => String::from("# EOF\n"),
        }
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// A method as a bounded label value.
pub fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::PATCH => "PATCH",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub fn outcome<T, E>(result: &Result<T, E>) -> OutcomeLabels {
    OutcomeLabels { outcome: if result.is_ok() { "ok" } else { "error" } }
}

/// Serves `GET /metrics` on `listener` until the process ends.
pub async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(async move {
            let service = service_fn(|request: http::Request<hyper::body::Incoming>| async move {
                Ok::<_, std::convert::Infallible>(answer(request.method(), request.uri().path()))
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

fn answer(method: &http::Method, path: &str) -> http::Response<Full<Bytes>> {
    let (status, content_type, body) = match (method, path) {
        (&http::Method::GET, "/metrics") => {
            (200, "application/openmetrics-text; version=1.0.0; charset=utf-8", metrics().encode())
        }
        _ => (404, "text/plain", String::from("not found\n")),
    };
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::NOT_FOUND);
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    response
}

/// Binds the metrics listener.
pub async fn listen(address: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(serve(listener));
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_by_prometheus_conventions() {
        let metrics = Metrics::new();
        let labels =
            RequestLabels { trigger: "/api/users/...".into(), component: "users".into(), method: "GET", status: 200 };
        metrics.requests.get_or_create(&labels).inc();
        metrics.connections_refused.inc();
        let text = metrics.encode();
        assert!(text.contains(
            "vottery_http_requests_total{trigger=\"/api/users/...\",component=\"users\",method=\"GET\",status=\"200\"} 1"
        ));
        assert!(text.contains("vottery_connections_refused_total 1"));
        assert!(text.ends_with("# EOF\n"));
    }
}
