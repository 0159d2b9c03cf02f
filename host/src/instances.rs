//! Instance reuse, with Spin 4.1's settings and defaults: an instance
//! serves up to `max_reuse` requests, at most `max_concurrent` at a time,
//! and is dropped after `idle_timeout` without work. Both counts at 1 give
//! a fresh instance per request.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wasmtime::StoreContextMut;
use wasmtime::component::GuestTaskId;
use wasmtime_wasi_http::handler::{ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus};

use crate::state::StoreData;

#[derive(Debug, Clone, Copy)]
pub struct InstanceSettings {
    pub max_reuse: usize,
    pub max_concurrent: usize,
    pub idle_timeout: Duration,
    pub request_timeout: Option<Duration>,
}

impl Default for InstanceSettings {
    fn default() -> Self {
        Self { max_reuse: 128, max_concurrent: 16, idle_timeout: Duration::from_secs(1), request_timeout: None }
    }
}

pub struct WorkerLimits {
    settings: InstanceSettings,
    component: String,
    /// Whether the instance has served a request (the next one reuses it).
    used: AtomicBool,
}

impl WorkerLimits {
    pub fn new(settings: InstanceSettings, component: String) -> Self {
        Self { settings, component, used: AtomicBool::new(false) }
    }
}

impl WorkerState for WorkerLimits {
    type StoreData = StoreData;
    type RequestId = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.settings.max_reuse {
            ShouldAccept::Never
        } else if concurrent >= self.settings.max_concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, StoreData>,
        _id: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        let outcome = if self.used.swap(true, Ordering::Relaxed) { "reused" } else { "created" };
        let labels = crate::metrics::InstanceLabels { component: self.component.clone(), outcome };
        crate::metrics::metrics().instances.get_or_create(&labels).inc();
        match self.settings.request_timeout {
            Some(timeout) => Box::pin(tokio::time::sleep(timeout)),
            None => Box::pin(std::future::pending()),
        }
    }

    fn drop(&self, _store: wasmtime::Store<StoreData>, result: Result<(), wasmtime::Error>) {
        if let Err(error) = result {
            tracing::error!(component = %self.component, "instance failed: {error:?}");
        }
    }
}

/// Drops an idle instance after the idle timeout, and a busy one after the
/// request timeout.
pub struct Expiration {
    idle: Duration,
    request: Option<Duration>,
    timer: Option<(Instant, Pin<Box<tokio::time::Sleep>>)>,
}

impl Expiration {
    pub fn new(idle: Duration, request: Option<Duration>) -> Self {
        Self { idle, request, timer: None }
    }
}

impl WorkerExpiration for Expiration {
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>, status: WorkerStatus, start: Instant) -> Poll<()> {
        let this = self.get_mut();
        let limit = match status {
            WorkerStatus::Idle => Some(this.idle),
            WorkerStatus::Requests | WorkerStatus::PostReturn => this.request,
        };
        let Some(limit) = limit else {
            this.timer = None;
            return Poll::Pending;
        };
        let deadline = start + limit;
        match &mut this.timer {
            Some((at, sleep)) if *at == deadline => sleep.as_mut().poll(cx),
            _ => {
                let mut sleep = Box::pin(tokio::time::sleep_until(deadline.into()));
                let poll = sleep.as_mut().poll(cx);
                this.timer = Some((deadline, sleep));
                poll
            }
        }
    }
}
