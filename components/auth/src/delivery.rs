//! Sending a provider request: each attempt bounded by the policy's
//! timeout, transient failures (timeouts, 408/425/429, 5xx) retried with a
//! doubling backoff, refusals (other 4xx) not retried.

use futures::future::{Either, select};
use http_body_util::BodyExt;
use spin_sdk::wasip3::clocks::monotonic_clock;
use vottery_auth_core::{Delivery, Outgoing, Policy, classify};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// The provider refused the request (this status).
    Rejected(u16),
    /// No attempt succeeded: timeouts, unreachable, or transient errors.
    Unavailable,
}

pub async fn sleep_ms(ms: u64) {
    sleep_us(ms.saturating_mul(1000)).await;
}

pub async fn sleep_us(us: u64) {
    monotonic_clock::wait_for(us.saturating_mul(1000)).await;
}

async fn attempt(out: &Outgoing, timeout_ms: u64) -> Option<(u16, bytes::Bytes)> {
    let mut request = http::Request::builder().method(out.method).uri(&out.url);
    for (name, value) in &out.headers {
        request = request.header(*name, value);
    }
    let request = request.body(http_body_util::Full::new(bytes::Bytes::from(out.body.clone()))).ok()?;
    let exchange = async move {
        let response = spin_sdk::http::send(request).await.ok()?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.ok()?.to_bytes();
        Some((status, body))
    };
    match select(Box::pin(exchange), Box::pin(sleep_ms(timeout_ms))).await {
        Either::Left((status, _)) => status,
        Either::Right(_) => None,
    }
}

pub async fn deliver(out: &Outgoing, p: &Policy) -> Outcome {
    match exchange(out, p).await {
        Ok(_) => Outcome::Delivered,
        Err(outcome) => outcome,
    }
}

/// The body of the provider's 2xx answer, or what went wrong.
pub async fn exchange(out: &Outgoing, p: &Policy) -> Result<bytes::Bytes, Outcome> {
    let mut backoff = p.retry_backoff_ms;
    for n in 0..=p.provider_retries {
        if n > 0 {
            sleep_ms(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
        if let Some((status, body)) = attempt(out, p.provider_timeout_ms).await {
            match classify(status) {
                Delivery::Accepted => return Ok(body),
                Delivery::Rejected => return Err(Outcome::Rejected(status)),
                Delivery::Retry => {}
            }
        }
    }
    Err(Outcome::Unavailable)
}
