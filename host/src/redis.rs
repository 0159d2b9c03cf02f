//! `spin:redis/redis@3.0.0` over the `redis` crate: one multiplexed,
//! self-reconnecting connection per address, shared by every instance; the address is
//! checked against the component's `allowed_outbound_hosts` first.

use std::collections::HashMap;

use redis::aio::ConnectionManager;
use redis::{FromRedisValue, Value};
use tokio::sync::Mutex;
use wasmtime::component::{Accessor, HasSelf, Resource};

use crate::bindings::redis::{Error, HostConnection, HostConnectionWithStore, Payload, RedisParameter, RedisResult};
use crate::state::StoreData;

pub struct Connection {
    conn: ConnectionManager,
}

/// Connections by address.
#[derive(Default)]
pub struct Clients {
    connections: Mutex<HashMap<String, ConnectionManager>>,
}

impl Clients {
    async fn connect(&self, address: &str) -> Result<ConnectionManager, Error> {
        let mut connections = self.connections.lock().await;
        if let Some(conn) = connections.get(address) {
            return Ok(conn.clone());
        }
        let client = redis::Client::open(address).map_err(|_| Error::InvalidAddress)?;
        let conn = client.get_connection_manager_with_config(crate::redis::manager_config()).await.map_err(other)?;
        connections.insert(address.to_owned(), conn.clone());
        Ok(conn)
    }
}

/// Fail fast while Redis is down (a guest gets an error within seconds,
/// never a hang) and reconnect in the background once it is back.
pub fn manager_config() -> redis::aio::ConnectionManagerConfig {
    redis::aio::ConnectionManagerConfig::new()
        .set_number_of_retries(2)
        .set_min_delay(std::time::Duration::from_millis(50))
        .set_max_delay(std::time::Duration::from_millis(500))
        .set_connection_timeout(Some(std::time::Duration::from_secs(1)))
        .set_response_timeout(Some(std::time::Duration::from_secs(2)))
}

fn other(e: redis::RedisError) -> Error {
    match e.kind() {
        redis::ErrorKind::UnexpectedReturnType => Error::TypeError,
        _ => Error::Other(e.to_string()),
    }
}

fn permitted(data: &StoreData, address: &str) -> bool {
    let Ok(info) = redis::IntoConnectionInfo::into_connection_info(address) else {
        return false;
    };
    match info.addr() {
        redis::ConnectionAddr::Tcp(host, port) => data.component.allowed.allows("redis", host, Some(*port)),
        redis::ConnectionAddr::TcpTls { host, port, .. } => data.component.allowed.allows("rediss", host, Some(*port)),
        _ => false,
    }
}

fn conn_of<T: Send>(
    accessor: &Accessor<T, HasSelf<StoreData>>,
    connection: &Resource<Connection>,
) -> wasmtime::Result<ConnectionManager> {
    accessor.with(|mut access| Ok(access.get().table().get(connection)?.conn.clone()))
}

async fn run<V: FromRedisValue>(mut conn: ConnectionManager, cmd: redis::Cmd) -> wasmtime::Result<Result<V, Error>> {
    let result = cmd.query_async::<V>(&mut conn).await.map_err(other);
    crate::metrics::metrics().redis.get_or_create(&crate::metrics::outcome(&result)).inc();
    Ok(result)
}

impl<T: Send> HostConnectionWithStore<T> for HasSelf<StoreData> {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let (allowed, services) = accessor.with(|mut access| {
            let data = access.get();
            (permitted(data, &address), data.component.services.clone())
        });
        if !allowed {
            tracing::warn!("redis destination not allowed: {address}");
            return Ok(Err(Error::InvalidAddress));
        }
        let conn = match services.redis.connect(&address).await {
            Ok(conn) => conn,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(accessor.with(|mut access| access.get().table().push(Connection { conn }))?))
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        channel: String,
        payload: Payload,
    ) -> wasmtime::Result<Result<(), Error>> {
        let cmd = redis::cmd("PUBLISH").arg(channel).arg(payload).to_owned();
        run::<i64>(conn_of(accessor, &c)?, cmd).await.map(|r| r.map(|_| ()))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Payload>, Error>> {
        run(conn_of(accessor, &c)?, redis::cmd("GET").arg(key).to_owned()).await
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        value: Payload,
    ) -> wasmtime::Result<Result<(), Error>> {
        run(conn_of(accessor, &c)?, redis::cmd("SET").arg(key).arg(value).to_owned()).await
    }

    async fn incr(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, Error>> {
        run(conn_of(accessor, &c)?, redis::cmd("INCR").arg(key).to_owned()).await
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        run(conn_of(accessor, &c)?, redis::cmd("DEL").arg(keys).to_owned()).await
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        run(conn_of(accessor, &c)?, redis::cmd("SADD").arg(key).arg(values).to_owned()).await
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        run(conn_of(accessor, &c)?, redis::cmd("SMEMBERS").arg(key).to_owned()).await
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        run(conn_of(accessor, &c)?, redis::cmd("SREM").arg(key).arg(values).to_owned()).await
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        c: Resource<Connection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(v) => cmd.arg(v),
                RedisParameter::Binary(v) => cmd.arg(v),
            };
        }
        let value: Result<Value, Error> = run(conn_of(accessor, &c)?, cmd).await?;
        Ok(value.map(|v| match v {
            Value::Array(items) | Value::Set(items) => items.into_iter().map(result).collect(),
            single => vec![result(single)],
        }))
    }
}

fn result(value: Value) -> RedisResult {
    match value {
        Value::Nil => RedisResult::Nil,
        Value::Int(i) => RedisResult::Int64(i),
        Value::BulkString(bytes) => RedisResult::Binary(bytes),
        Value::SimpleString(s) => RedisResult::Status(s),
        Value::Okay => RedisResult::Status("OK".into()),
        Value::Double(d) => RedisResult::Binary(d.to_string().into_bytes()),
        Value::Boolean(b) => RedisResult::Int64(i64::from(b)),
        Value::VerbatimString { text, .. } => RedisResult::Binary(text.into_bytes()),
        Value::BigNumber(n) => RedisResult::Binary(format!("{n:?}").into_bytes()),
        other => RedisResult::Binary(format!("{other:?}").into_bytes()),
    }
}

impl HostConnection for StoreData {
    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table().delete(connection)?;
        Ok(())
    }
}

impl crate::bindings::redis::Host for StoreData {}
