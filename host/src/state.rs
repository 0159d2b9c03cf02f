//! Per-instance store data: WASI contexts, the resource table, and the
//! component's configuration (allow-list, variables, stores), which every
//! host interface consults before granting anything.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{TrappableError, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p3::{RequestOptions, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::app::ComponentConfig;
use crate::metrics::OutboundLabels;

pub struct StoreData {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: Outbound,
    pub component: Arc<ComponentConfig>,
}

impl StoreData {
    pub fn new(component: Arc<ComponentConfig>) -> Self {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdout().inherit_stderr();
        for (k, v) in &component.environment {
            wasi.env(k, v);
        }
        Self {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            outbound: Outbound { component: component.clone() },
            component,
        }
    }

    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    pub fn http_view(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for StoreData {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.http_view()
    }
}

type Body = UnsyncBoxBody<Bytes, ErrorCode>;
type SendResult =
    Result<(http::Response<Body>, Box<dyn Future<Output = Result<(), ErrorCode>> + Send>), TrappableError<ErrorCode>>;

/// Outbound HTTP: the allow-list, then either service chaining to
/// `<component>.spin.internal` or a real request.
struct Outbound {
    component: Arc<ComponentConfig>,
}

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<Body>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), ErrorCode>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let component = self.component.clone();
        Box::new(async move {
            let uri = request.uri();
            let scheme = uri.scheme_str().unwrap_or("http").to_owned();
            let Some(host) = uri.host().map(str::to_ascii_lowercase) else {
                return Err(ErrorCode::HttpRequestUriInvalid.into());
            };
            let port = uri.port_u16();
            let count = |outcome| {
                let labels = OutboundLabels { component: component.id.clone(), host: host.clone(), outcome };
                crate::metrics::metrics().outbound.get_or_create(&labels).inc();
            };
            if !component.allowed.allows(&scheme, &host, port) {
                tracing::warn!(component = %component.id, "outbound destination not allowed: {scheme}://{host}");
                count("denied");
                return Err(ErrorCode::HttpRequestDenied.into());
            }
            if let Some(target) = host.strip_suffix(".spin.internal") {
                let Some(chaining) = component.services.chaining() else {
                    return Err(ErrorCode::InternalError(Some("the app is shutting down".into())).into());
                };
                let Some(response) = chaining.chain(target, request) else {
                    return Err(TrappableError::trap(wasmtime::format_err!("unknown routing destination '{target}'")));
                };
                let response = response.await;
                count("ok");
                let response =
                    response.map(|body| body.map_err(|e| ErrorCode::InternalError(Some(e.to_string()))).boxed_unsync());
                return Ok((response, Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>));
            }
            let sent = wasmtime_wasi_http::p3::default_send_request(request, options).await;
            count(if sent.is_ok() { "ok" } else { "error" });
            let (mut response, io) = sent?;
            // The guest reads these fields and may forward them: nothing
            // about the upstream connection may come along.
            crate::headers::strip_hop_by_hop(response.headers_mut());
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}
