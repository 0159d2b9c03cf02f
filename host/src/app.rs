//! Loading an app: manifest and runtime config are read and checked, each
//! HTTP-triggered component is composed with its dependencies and
//! middleware, compiled once (cached on disk by content hash), linked
//! against the host interfaces and pre-instantiated. Requests then reach a
//! component through its `ProxyHandler`, which reuses instances within the
//! configured limits.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi_http::handler::{self, HandlerState, ProxyHandler, ProxyPre, ViewFn};
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::compose::{self, Dependency, Piece};
use crate::instances::{Expiration, InstanceSettings, WorkerLimits};
use crate::manifest::{Inherit, Manifest, RouteSpec};
use crate::outbound::{AllowedHosts, ChainedBody, ChainedResponse, Chaining};
use crate::routes::{Route, Router};
use crate::runtime_config::RuntimeConfig;
use crate::state::StoreData;
use crate::variables::{AppVariables, ComponentVariables};

/// What every component's host interfaces share: connection pools, stores
/// and where chained requests are served.
pub struct Services {
    chaining: OnceLock<Weak<dyn Chaining>>,
    pub postgres: Arc<crate::postgres::Pools>,
    pub redis: crate::redis::Clients,
    pub kv: crate::kv::Stores,
}

impl Services {
    /// `None` once the app is gone (the host is shutting down).
    pub fn chaining(&self) -> Option<Arc<dyn Chaining>> {
        self.chaining.get().and_then(Weak::upgrade)
    }
}

/// One component's configuration, as its host interfaces see it.
pub struct ComponentConfig {
    pub id: String,
    pub allowed: AllowedHosts,
    pub variables: ComponentVariables,
    pub key_value_stores: Vec<String>,
    pub environment: Vec<(String, String)>,
    pub services: Arc<Services>,
}

struct Handler {
    engine: Engine,
    pre: ServicePre<StoreData>,
    config: Arc<ComponentConfig>,
    settings: InstanceSettings,
}

impl HandlerState for Handler {
    type StoreData = StoreData;
    type WorkerExpiration = Expiration;
    type WorkerState = WorkerLimits;

    async fn instantiate(&self) -> Result<handler::Instance<StoreData, Expiration, WorkerLimits>, wasmtime::Error> {
        let started = std::time::Instant::now();
        let mut store = Store::new(&self.engine, StoreData::new(self.config.clone()));
        let proxy = ProxyPre::P3(self.pre.clone()).instantiate_async(&mut store).await?;
        let component = crate::metrics::ComponentLabels { component: self.config.id.clone() };
        crate::metrics::metrics().instantiation.get_or_create(&component).observe(started.elapsed().as_secs_f64());
        Ok(handler::Instance {
            store,
            proxy,
            view: ViewFn::P3(StoreData::http_view),
            expiration: Expiration::new(self.settings.idle_timeout, self.settings.request_timeout),
            state: WorkerLimits::new(self.settings, self.config.id.clone()),
        })
    }
}

/// A component reachable over HTTP.
pub struct Runtime {
    pub id: String,
    /// The manifest's component (the runtime of a trigger with middleware
    /// is that component composed for the trigger).
    pub component: String,
    handler: ProxyHandler<Handler>,
}

pub struct App {
    pub name: String,
    pub router: Router,
    runtimes: Vec<Runtime>,
    index: HashMap<String, usize>,
    /// Routes that lost to a later identical route.
    pub shadowed: Vec<String>,
}

pub type IncomingBody = UnsyncBoxBody<Bytes, handler::ErrorCode>;
pub type OutgoingBody = UnsyncBoxBody<Bytes, wasmtime::Error>;

pub struct LoadOptions<'a> {
    pub manifest: &'a Path,
    pub runtime_config: Option<&'a Path>,
    pub settings: InstanceSettings,
    pub postgres: crate::postgres::PoolSettings,
    pub cache_dir: Option<PathBuf>,
}

impl App {
    pub async fn load(options: LoadOptions<'_>) -> Result<Arc<App>> {
        let manifest = Manifest::load(options.manifest)?;
        let runtime_config = RuntimeConfig::load(options.runtime_config)?;
        let root = options.manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        let variables =
            AppVariables::resolve(&manifest, &runtime_config.variables_provider, &|k| std::env::var(k).ok());
        let postgres = Arc::new(crate::postgres::Pools::new(options.postgres));
        crate::postgres::Pools::reap_in_background(&postgres);
        let services = Arc::new(Services {
            chaining: OnceLock::new(),
            postgres,
            redis: crate::redis::Clients::default(),
            kv: crate::kv::Stores::new(&runtime_config.key_value_store),
        });
        let engine = engine()?;
        let linker = linker(&engine)?;
        let cache = options.cache_dir.unwrap_or_else(|| root.join(".vottery/cache"));

        let mut router = Router::default();
        let mut shadowed = Vec::new();
        let mut runtimes = Vec::new();
        let mut index = HashMap::new();
        let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
        for trigger in &manifest.trigger.http {
            *uses.entry(trigger.component.as_str()).or_default() += 1;
        }
        for (n, trigger) in manifest.trigger.http.iter().enumerate() {
            let component_id = trigger.component.as_str();
            let has_mw = !trigger.dependencies.middleware.is_empty();
            let runtime_id = if has_mw && uses[component_id] > 1 {
                let trigger_id = trigger.id.clone().unwrap_or_else(|| format!("http-trigger{n}"));
                format!("{component_id}-for-{trigger_id}")
            } else {
                component_id.to_owned()
            };
            let slot = match index.get(&runtime_id) {
                Some(&slot) => slot,
                None => {
                    let runtime = build_runtime(
                        &manifest,
                        &root,
                        &runtime_id,
                        component_id,
                        &trigger.dependencies.middleware,
                        &variables,
                        &services,
                        &engine,
                        &linker,
                        &cache,
                        options.settings,
                    )
                    .await
                    .with_context(|| format!("component {component_id:?} (trigger.http[{n}])"))?;
                    runtimes.push(runtime);
                    index.insert(runtime_id.clone(), runtimes.len() - 1);
                    runtimes.len() - 1
                }
            };
            if let RouteSpec::Path(raw) = &trigger.route {
                let route = Route::parse(raw, slot).with_context(|| format!("trigger.http[{n}].route"))?;
                if let Some(old) = router.add(route) {
                    shadowed.push(format!("{} ({})", old.raw, runtimes[old.component].id));
                }
            }
        }
        let app = Arc::new(App { name: manifest.application.name.clone(), router, runtimes, index, shadowed });
        let chaining: Weak<dyn Chaining> = Arc::downgrade(&app) as Weak<dyn Chaining>;
        let _ = services.chaining.set(chaining);
        Ok(app)
    }

    pub fn component_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn runtime(&self, index: usize) -> &Runtime {
        &self.runtimes[index]
    }

    /// Times `n` instantiations (a new store and instance, as a request
    /// without reuse pays) of a component, in microseconds, sorted.
    pub async fn instantiation_micros(&self, index: usize, n: usize) -> Result<Vec<f64>> {
        let mut micros = Vec::with_capacity(n);
        for _ in 0..n {
            let started = std::time::Instant::now();
            let instance = self.runtimes[index].handler.state().instantiate().await?;
            micros.push(started.elapsed().as_secs_f64() * 1e6);
            drop(instance);
        }
        micros.sort_by(f64::total_cmp);
        Ok(micros)
    }

    pub fn runtimes(&self) -> &[Runtime] {
        &self.runtimes
    }

    /// Runs a request through a component.
    pub async fn handle(
        &self,
        index: usize,
        request: http::Request<IncomingBody>,
    ) -> Result<http::Response<OutgoingBody>, wasmtime::Error> {
        self.runtimes[index].handler.handle((), request).await
    }

    /// Service chaining: the full path is passed, with the headers Spin
    /// sets for a chained request; the callee's failure is a 500.
    async fn chain_to(&self, index: usize, request: http::Request<ChainedBody>) -> ChainedResponse {
        let (mut parts, body) = request.into_parts();
        parts.headers.remove(http::header::HOST);
        crate::headers::strip_hop_by_hop(&mut parts.headers);
        let path = parts.uri.path().to_owned();
        let full = format!("http://localhost{}", parts.uri.path_and_query().map_or("/", |p| p.as_str()));
        crate::headers::SpinHeaders {
            full_url: &full,
            matched_route: "/...",
            raw_route: "/...",
            component_route: "",
            path_info: &path,
            client_addr: "0.0.0.0:0",
            params: &[],
        }
        .append_to(&mut parts.headers);
        let method = crate::metrics::method_label(&parts.method);
        let request = http::Request::from_parts(parts, body.map_err(handler::ErrorCode::from).boxed_unsync());
        let component = self.runtimes[index].component.clone();
        let started = std::time::Instant::now();
        let response = match self.handle(index, request).await {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(component = %component, "chained request failed: {error:?}");
                crate::server::problem_response(500, "internal_error", "Internal error", "the component failed")
            }
        };
        let metrics = crate::metrics::metrics();
        let labels = crate::metrics::ComponentLabels { component: component.clone() };
        metrics.request_duration.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
        let status = response.status().as_u16();
        let labels = crate::metrics::RequestLabels { trigger: "chained".into(), component, method, status };
        metrics.requests.get_or_create(&labels).inc();
        response
    }
}

impl Chaining for App {
    fn chain(
        &self,
        target: &str,
        request: http::Request<ChainedBody>,
    ) -> Option<Pin<Box<dyn Future<Output = ChainedResponse> + Send + '_>>> {
        let index = self.component_index(target)?;
        Some(Box::pin(self.chain_to(index, request)))
    }
}

fn inherit_of(source: &crate::manifest::DependencySource, component_default: Option<bool>) -> Inherit {
    source.inherit_configuration.clone().unwrap_or(Inherit::All(component_default.unwrap_or(false)))
}

#[allow(clippy::too_many_arguments)]
async fn build_runtime(
    manifest: &Manifest,
    root: &Path,
    runtime_id: &str,
    component_id: &str,
    middleware: &[crate::manifest::DependencySource],
    variables: &AppVariables,
    services: &Arc<Services>,
    engine: &Engine,
    linker: &Linker<StoreData>,
    cache: &Path,
    settings: InstanceSettings,
) -> Result<Runtime> {
    let spec = &manifest.component[component_id];
    let read = |path: PathBuf| std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()));
    let primary = read(root.join(&spec.source))?;
    let mut deps = Vec::new();
    for (key, source) in &spec.dependencies {
        deps.push(Dependency {
            key,
            export: source.export.as_deref(),
            piece: Piece {
                name: key,
                bytes: read(source.wasm_path(manifest, root))?,
                inherit: inherit_of(source, spec.dependencies_inherit_configuration),
            },
        });
    }
    let mut pieces = Vec::new();
    for source in middleware {
        pieces.push(Piece {
            name: source.component.as_deref().or(source.path.as_deref()).unwrap_or("middleware"),
            bytes: read(source.wasm_path(manifest, root))?,
            inherit: inherit_of(source, None),
        });
    }
    let bytes = compose::compose(primary, deps, pieces)?;
    let component = compile(engine, &bytes, cache)?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(anyhow::Error::from)
        .context("cannot link the component against the host")?;
    let pre = ServicePre::new(pre)
        .map_err(anyhow::Error::from)
        .context("the component does not export wasi:http/handler@0.3.0")?;

    for label in &spec.key_value_stores {
        if !services.kv.has(label) {
            bail!("unknown key_value_stores label {label:?}");
        }
    }
    let config = Arc::new(ComponentConfig {
        id: component_id.to_owned(),
        allowed: AllowedHosts::parse(&spec.allowed_outbound_hosts, variables)?,
        variables: ComponentVariables::render(component_id, &spec.variables, variables),
        key_value_stores: spec.key_value_stores.clone(),
        environment: spec.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        services: services.clone(),
    });
    let handler = ProxyHandler::new(Handler { engine: engine.clone(), pre, config, settings });
    Ok(Runtime { id: runtime_id.to_owned(), component: component_id.to_owned(), handler })
}

/// A pooling-allocator setting: Spin's environment variable when set (the
/// same names spin-core reads), else the host's default.
fn pool_setting<T: std::str::FromStr>(name: &str, default: T) -> Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(value) => value.parse().with_context(|| format!("{name}={value} is not a count of bytes or items")),
        Err(_) => Ok(default),
    }
}

fn engine() -> Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(pool_setting("SPIN_WASMTIME_INSTANCE_COUNT", 1000)?)
        .total_core_instances(pool_setting("SPIN_WASMTIME_TOTAL_CORE_INSTANCES", 4000)?)
        .total_memories(pool_setting("SPIN_WASMTIME_TOTAL_MEMORIES", 2000)?)
        .total_tables(pool_setting("SPIN_WASMTIME_TOTAL_TABLES", 2000)?)
        .max_memory_size(256 << 20)
        .max_memories_per_component(8)
        .max_tables_per_component(8)
        .max_core_instances_per_component(64)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(1 << 20)
        // A memory slot keeps up to this much resident after an instance
        // ends (Spin's 2 MiB); the rest goes back to the kernel. With
        // Linux's PAGEMAP_SCAN (6.7 and later) only the pages the instance
        // dirtied are reset, in place: the next instance takes no page
        // faults there, and none of the copy-on-write breaks whose TLB
        // flushes interrupt the other cores (per request 2,226 to 3,258
        // req/s under bench/sessions, peak unchanged). Without it the whole
        // 2 MiB of every slot ever used was memset and kept (583 MB peak
        // under bench/sessions per request), so older kernels keep none.
        .linear_memory_keep_resident(pool_setting(
            "SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT",
            if kernel_has_pagemap_scan() { 2 << 20 } else { 0 },
        )?)
        .table_keep_resident(pool_setting("SPIN_WASMTIME_TABLE_KEEP_RESIDENT", 1 << 16)?)
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut config = wasmtime::Config::new();
    config.wasm_component_model_async(true).allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // `VOTTERY_PROFILER=perfmap` names the guests' compiled functions for
    // `perf` (in /tmp/perf-<pid>.map), for profiling a benchmark.
    if std::env::var("VOTTERY_PROFILER").is_ok_and(|v| v == "perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Ok(Engine::new(&config)?)
}

/// Whether the running Linux kernel is 6.7 or later (`PAGEMAP_SCAN`).
fn kernel_has_pagemap_scan() -> bool {
    release_has_pagemap_scan(&std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default())
}

fn release_has_pagemap_scan(release: &str) -> bool {
    let mut parts = release.trim().split(['.', '-']).map(|part| part.parse::<u32>().ok());
    matches!((parts.next().flatten(), parts.next().flatten()), (Some(major), Some(minor)) if (major, minor) >= (6, 7))
}

fn linker(engine: &Engine) -> Result<Linker<StoreData>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    crate::bindings::SpinPlatform::add_to_linker::<_, HasSelf<StoreData>>(&mut linker, |data| data)?;
    Ok(linker)
}

/// Compiles a component, or loads the machine code a previous run left in
/// `cache` for the same bytes and engine settings.
fn compile(engine: &Engine, bytes: &[u8], cache: &Path) -> Result<Component> {
    use std::hash::{Hash, Hasher};
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut engine_hash);
    let mut digest = Sha256::new();
    digest.update(engine_hash.finish().to_le_bytes());
    digest.update(bytes);
    let key: String = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let path = cache.join(format!("{key}.cwasm"));
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration (the key covers it) into the host's own cache.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok(component);
        }
    }
    let component =
        Component::new(engine, bytes).map_err(anyhow::Error::from).context("cannot compile the component")?;
    if std::fs::create_dir_all(cache).is_ok() {
        let tmp = cache.join(format!("{key}.tmp{}", std::process::id()));
        if let Ok(serialized) = component.serialize()
            && std::fs::write(&tmp, serialized).is_ok()
        {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    Ok(component)
}

#[cfg(test)]
mod tests {
    use super::release_has_pagemap_scan;

    #[test]
    fn pagemap_scan_is_expected_from_linux_6_7_on() {
        assert!(release_has_pagemap_scan("6.18.44-fc-v1147\n"));
        assert!(release_has_pagemap_scan("6.7.0"));
        assert!(release_has_pagemap_scan("7.0.1-generic"));
        assert!(!release_has_pagemap_scan("6.6.30-amd64"));
        assert!(!release_has_pagemap_scan("5.15.0-105-generic"));
        assert!(!release_has_pagemap_scan(""), "unknown: keep nothing resident");
    }
}
