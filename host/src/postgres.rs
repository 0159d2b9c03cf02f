//! `spin:postgres/postgres@4.2.0` over tokio-postgres, with one connection
//! pool per address and guest root certificate. A connection is checked
//! against the component's `allowed_outbound_hosts` before it is opened, and
//! uses TLS unless its address says `sslmode=disable` (see [`tls`]); every
//! parameter and column type of the interface is converted both ways.

// The interface's error type is what every conversion here returns.
#![allow(clippy::result_large_err)]

use std::error::Error as StdError;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use postgres_types::ToSql;
use tokio_postgres::config::Host;
use wasmtime::component::{Accessor, FutureReader, HasSelf, Resource, StreamReader};

use crate::bindings::postgres::{
    Column, DbError, Error, HostConnection, HostConnectionBuilder, HostConnectionBuilderWithStore,
    HostConnectionWithStore, ParameterValue, QueryError, Row, RowSet,
};
use crate::state::StoreData;

mod pool;
mod tls;
mod values;

use pool::Session;
pub use pool::{PoolSettings, Pools};
use values::{Param, convert_row, data_type};

pub struct Connection {
    client: Arc<Session>,
}

pub struct ConnectionBuilder {
    address: String,
    root_ca: Option<tls::RootCa>,
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
