//! `spin:postgres/postgres@4.2.0` over tokio-postgres, with one connection
//! pool per address and guest root certificate. A connection is checked
//! against the component's `allowed_outbound_hosts` before it is opened, and
//! uses TLS unless its address says `sslmode=disable` (see [`tls`]); every
//! parameter and column type of the interface is converted both ways.

// The interface's error type is what every conversion here returns.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use postgres_types::ToSql;
use tokio_postgres::config::Host;
use wasmtime::component::{Accessor, FutureReader, HasSelf, Resource, StreamReader};

use crate::bindings::postgres::{
    Column, DbError, Error, HostConnection, HostConnectionBuilder, HostConnectionBuilderWithStore,
    HostConnectionWithStore, ParameterValue, QueryError, Row, RowSet,
};
use crate::state::StoreData;

mod tls;
mod values;

use values::{Param, convert_row, data_type};

pub struct Connection {
    client: Arc<Session>,
}

/// A pooled connection lent to a guest, and whether the guest may have
/// left a transaction open on it (then it is rolled back before the
/// connection goes back to the pool; otherwise that round trip is saved).
pub struct Session {
    client: deadpool_postgres::Object,
    transaction: AtomicBool,
}

impl Session {
    /// Notes what `statement` does to the connection's transaction, before
    /// it runs.
    fn note(&self, statement: &str) {
        if let Some(open) = transaction_effect(statement) {
            self.transaction.store(open, Ordering::Relaxed);
        }
    }
}

/// Whether a statement opens (`Some(true)`) or ends (`Some(false)`) a
/// transaction, from its first keyword; `None` for every other statement.
/// `CALL` counts as opening one: a procedure may commit and begin anew.
fn transaction_effect(statement: &str) -> Option<bool> {
    let mut rest = statement;
    loop {
        rest = rest.trim_start();
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    let mut words = rest.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty());
    let first = words.next()?.to_ascii_lowercase();
    match first.as_str() {
        "begin" | "start" | "call" => Some(true),
        "commit" | "end" => Some(false),
        "rollback" | "abort" => match words.next() {
            Some(next) if next.eq_ignore_ascii_case("to") => None,
            _ => Some(false),
        },
        _ => None,
    }
}

pub struct ConnectionBuilder {
    address: String,
    root_ca: Option<tls::RootCa>,
}

/// A pool's key: the address and the digest of the guest's root certificate.
type PoolKey = (String, Option<String>);

/// How many connections a pool may hold, and how long one may sit idle
/// before it is closed.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_size: usize,
    pub idle_timeout: std::time::Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_size: 6, idle_timeout: std::time::Duration::from_secs(60) }
    }
}

/// Connection pools by address and root certificate, shared by every
/// component of the app: one per database role, each of at most
/// `max_size` connections, idle ones closed after `idle_timeout`.
pub struct Pools {
    pools: Mutex<HashMap<PoolKey, deadpool_postgres::Pool>>,
    settings: PoolSettings,
}

impl Pools {
    pub fn new(settings: PoolSettings) -> Self {
        Self { pools: Mutex::default(), settings }
    }

    /// Closes the connections idle for longer than the settings allow;
    /// the count closed.
    pub fn reap(&self) -> usize {
        let Ok(pools) = self.locked() else { return 0 };
        let idle = self.settings.idle_timeout;
        pools.values().map(|pool| pool.retain(|_, metrics| metrics.last_used() < idle).removed.len()).sum()
    }

    /// Runs `reap` every half `idle_timeout` for as long as `pools` lives.
    pub fn reap_in_background(pools: &Arc<Self>) {
        let period = (pools.settings.idle_timeout / 2).max(std::time::Duration::from_millis(100));
        let weak = Arc::downgrade(pools);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(pools) = weak.upgrade() else { break };
                let closed = pools.reap();
                if closed > 0 {
                    tracing::debug!(closed, "idle PostgreSQL connections closed");
                }
            }
        });
    }

    fn locked(&self) -> Result<std::sync::MutexGuard<'_, HashMap<PoolKey, deadpool_postgres::Pool>>, Error> {
        self.pools.lock().map_err(|_| Error::Other("pool lock poisoned".into()))
    }

    async fn connect(
        &self,
        address: &str,
        config: tokio_postgres::Config,
        root_ca: Option<tls::RootCa>,
    ) -> Result<Connection, Error> {
        let key = (address.to_owned(), root_ca.as_ref().map(|ca| ca.hash().to_owned()));
        let server = server_of(&config);
        let existing = self.locked()?.get(&key).cloned();
        let pool = match existing {
            Some(pool) => pool,
            None => {
                // Reading the system's root store blocks: off the executor.
                let manager = tokio::task::spawn_blocking(move || tls::manager(config, root_ca.as_ref()))
                    .await
                    .map_err(|e| Error::Other(format!("building the connection pool: {e}")))?
                    .map_err(|e| failed(&server, e))?;
                let pool = deadpool_postgres::Pool::builder(manager)
                    .max_size(self.settings.max_size)
                    // A request that finds every connection lent waits this
                    // long for one, then fails as unreachable (never hangs).
                    .wait_timeout(Some(std::time::Duration::from_secs(10)))
                    .runtime(deadpool_postgres::Runtime::Tokio1)
                    .build()
                    .map_err(|e| failed(&server, e.to_string()))?;
                self.locked()?.entry(key).or_insert(pool).clone()
            }
        };
        let client = pool.get().await.map_err(|e| failed(&server, error_chain(&e)))?;
        Ok(Connection { client: Arc::new(Session { client, transaction: AtomicBool::new(false) }) })
    }
}

/// A connection that could not be made: the guest gets the cause as
/// `connection-failed`, and the host's log has it too.
fn failed(server: &str, cause: String) -> Error {
    tracing::warn!(server, "PostgreSQL connection failed: {cause}");
    Error::ConnectionFailed(cause)
}

/// The servers an address names, as `host:port` (for the log: no credentials).
fn server_of(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let servers: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or_else(|| ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => path.display().to_string(),
            }
        })
        .collect();
    servers.join(",")
}

/// An error and its causes, each once (a cause whose text the message
/// already carries is not repeated).
fn error_chain(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// Parses the address and checks every host it names against the allow-list.
fn permitted(data: &StoreData, address: &str) -> Result<tokio_postgres::Config, Error> {
    let config: tokio_postgres::Config =
        address.parse().map_err(|e| Error::ConnectionFailed(format!("invalid address: {e}")))?;
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or_else(|| ports.first()).copied().unwrap_or(5432);
        match host {
            Host::Tcp(name) => {
                if !data.component.allowed.allows("postgres", name, Some(port)) {
                    return Err(Error::ConnectionFailed(format!("address postgres://{name}:{port} is not permitted")));
                }
            }
            #[cfg(unix)]
            Host::Unix(_) => {
                return Err(Error::ConnectionFailed("Unix sockets are not supported on WebAssembly".into()));
            }
        }
    }
    Ok(config)
}

async fn open(
    accessor: &Accessor<impl Send, HasSelf<StoreData>>,
    address: String,
    root_ca: Option<tls::RootCa>,
) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
    let checked = accessor.with(|mut access| {
        let data = access.get();
        permitted(data, &address).map(|config| (config, data.component.services.clone()))
    });
    let (config, services) = match checked {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let connection = match services.postgres.connect(&address, config, root_ca).await {
        Ok(connection) => connection,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(accessor.with(|mut access| access.get().table().push(connection))?))
}

/// `open` and `build` without `-async`: the guest waits for the answer.
async fn open_blocking(
    data: &mut StoreData,
    address: String,
    root_ca: Option<tls::RootCa>,
) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
    let config = match permitted(data, &address) {
        Ok(config) => config,
        Err(e) => return Ok(Err(e)),
    };
    let services = data.component.services.clone();
    match services.postgres.connect(&address, config, root_ca).await {
        Ok(connection) => Ok(Ok(data.table().push(connection)?)),
        Err(e) => Ok(Err(e)),
    }
}

fn client_of(data: &mut StoreData, connection: &Resource<Connection>) -> wasmtime::Result<Arc<Session>> {
    Ok(data.table().get(connection)?.client.clone())
}

async fn run_query(
    session: &Session,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<(Vec<Column>, Vec<Row>), Error> {
    let result = query_rows(session, statement, params).await;
    crate::metrics::metrics().postgres.get_or_create(&crate::metrics::outcome(&result)).inc();
    result
}

async fn query_rows(
    session: &Session,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<(Vec<Column>, Vec<Row>), Error> {
    session.note(statement);
    let client = &session.client;
    let params = params.into_iter().map(Param::try_from).collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let prepared = client.prepare_cached(statement).await.map_err(query_error)?;
    let columns: Vec<Column> = prepared
        .columns()
        .iter()
        .map(|c| Column { name: c.name().to_owned(), data_type: data_type(c.type_()) })
        .collect();
    let rows = client.query(&prepared, &refs).await.map_err(query_error)?;
    let rows = rows.iter().map(convert_row).collect::<Result<Vec<_>, _>>()?;
    Ok((columns, rows))
}

async fn run_execute(session: &Session, statement: &str, params: Vec<ParameterValue>) -> Result<u64, Error> {
    let result = execute_statement(session, statement, params).await;
    crate::metrics::metrics().postgres.get_or_create(&crate::metrics::outcome(&result)).inc();
    result
}

async fn execute_statement(session: &Session, statement: &str, params: Vec<ParameterValue>) -> Result<u64, Error> {
    session.note(statement);
    let client = &session.client;
    let params = params.into_iter().map(Param::try_from).collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let prepared = client.prepare_cached(statement).await.map_err(query_error)?;
    client.execute(&prepared, &refs).await.map_err(query_error)
}

impl<T: Send> HostConnectionWithStore<T> for HasSelf<StoreData> {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        open(accessor, address, None).await
    }

    async fn query_async(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<(Vec<Column>, StreamReader<Row>, FutureReader<Result<(), Error>>), Error>> {
        let client = accessor.with(|mut access| client_of(access.get(), &connection))?;
        let (columns, rows) = match run_query(&client, &statement, params).await {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, rows)?;
            let done = FutureReader::new(&mut access, std::future::ready(Ok::<_, wasmtime::Error>(Ok(()))))?;
            Ok(Ok((columns, rows, done)))
        })
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let client = accessor.with(|mut access| client_of(access.get(), &connection))?;
        Ok(run_execute(&client, &statement, params).await)
    }
}

impl<T: Send> HostConnectionBuilderWithStore<T> for HasSelf<StoreData> {
    async fn build_async(
        accessor: &Accessor<T, Self>,
        builder: Resource<ConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let (address, root_ca) = accessor
            .with(|mut access| access.get().table().get(&builder).map(|b| (b.address.clone(), b.root_ca.clone())))?;
        open(accessor, address, root_ca).await
    }
}

impl HostConnection for StoreData {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        open_blocking(self, address, None).await
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let client = client_of(self, &connection)?;
        Ok(run_query(&client, &statement, params).await.map(|(columns, rows)| RowSet { columns, rows }))
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let client = client_of(self, &connection)?;
        Ok(run_execute(&client, &statement, params).await)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        let connection = self.table().delete(connection)?;
        // A transaction the guest may have left open is rolled back before
        // the connection goes back to the pool.
        if connection.client.transaction.load(Ordering::Relaxed) {
            tokio::spawn(async move {
                let _ = connection.client.client.batch_execute("ROLLBACK").await;
            });
        }
        Ok(())
    }
}

impl HostConnectionBuilder for StoreData {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<ConnectionBuilder>> {
        Ok(self.table().push(ConnectionBuilder { address, root_ca: None })?)
    }

    async fn set_ca_root(
        &mut self,
        builder: Resource<ConnectionBuilder>,
        certificate: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let Some(root_ca) = tls::RootCa::from_pem(&certificate) else {
            // Spin's text, word for word.
            return Ok(Err(Error::Other("invalid root certificate: invalid root certificate".into())));
        };
        self.table().get_mut(&builder)?.root_ca = Some(root_ca);
        Ok(Ok(()))
    }

    async fn build(
        &mut self,
        builder: Resource<ConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let builder = self.table().get(&builder)?;
        let (address, root_ca) = (builder.address.clone(), builder.root_ca.clone());
        open_blocking(self, address, root_ca).await
    }

    async fn drop(&mut self, builder: Resource<ConnectionBuilder>) -> wasmtime::Result<()> {
        self.table().delete(builder)?;
        Ok(())
    }
}

impl crate::bindings::postgres::Host for StoreData {}

fn query_error(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        return Error::QueryFailed(QueryError::DbError(DbError {
            as_text: db.to_string(),
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: [
                ("hint", db.hint()),
                ("table", db.table()),
                ("column", db.column()),
                ("constraint", db.constraint()),
                ("schema", db.schema()),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
            .collect(),
        }));
    }
    if e.is_closed() {
        return Error::ConnectionFailed(e.to_string());
    }
    let text = e.to_string();
    if text.contains("serializing parameter") {
        return Error::BadParameter(source_text(&e));
    }
    Error::QueryFailed(QueryError::Text(source_text(&e)))
}

pub(super) fn source_text(e: &dyn StdError) -> String {
    match e.source() {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

// ---- parameters ---------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::transaction_effect;

    #[test]
    fn statements_that_open_and_end_transactions_are_recognised() {
        for opens in [
            "BEGIN",
            "begin isolation level serializable",
            "  START TRANSACTION",
            "-- x\nBEGIN",
            "/* a */ begin;",
            "CALL p()",
        ] {
            assert_eq!(transaction_effect(opens), Some(true), "{opens}");
        }
        for ends in ["COMMIT", "end", "ROLLBACK", "rollback;", "ABORT"] {
            assert_eq!(transaction_effect(ends), Some(false), "{ends}");
        }
        for neither in [
            "SELECT 1",
            "ROLLBACK TO SAVEPOINT a",
            "rollback to a",
            "DO $$ BEGIN NULL; END $$",
            "",
            "-- BEGIN",
            "INSERT INTO t VALUES (1)",
        ] {
            assert_eq!(transaction_effect(neither), None, "{neither}");
        }
    }
}
