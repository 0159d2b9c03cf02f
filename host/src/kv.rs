//! `spin:key-value/key-value@3.0.0`: the stores the runtime config names
//! (Redis backed, keys under `spin-kv:<label>:`), plus an in-memory
//! `default` store when the runtime config does not name one. A component
//! opens only the labels its `key_value_stores` lists.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;
use wasmtime::component::{Accessor, FutureReader, HasSelf, Resource, StreamReader};

use crate::bindings::key_value::{Error, HostStore, HostStoreWithStore};
use crate::runtime_config::KeyValueStore;
use crate::state::StoreData;

type Memory = Arc<Mutex<HashMap<String, Vec<u8>>>>;

enum Backend {
    Redis { url: String, conn: Arc<OnceCell<ConnectionManager>> },
    Memory(Memory),
}

/// An open store, as the guest holds it.
#[derive(Clone)]
pub enum Store {
    Redis { conn: ConnectionManager, prefix: String },
    Memory(Memory),
}

pub struct Stores {
    backends: HashMap<String, Backend>,
}

impl Stores {
    pub fn new(config: &BTreeMap<String, KeyValueStore>) -> Self {
        let mut backends: HashMap<String, Backend> = config
            .iter()
            .map(|(label, KeyValueStore::Redis { url })| {
                (label.clone(), Backend::Redis { url: url.clone(), conn: Arc::new(OnceCell::new()) })
            })
            .collect();
        backends.entry("default".to_owned()).or_insert_with(|| Backend::Memory(Memory::default()));
        Self { backends }
    }

    pub fn has(&self, label: &str) -> bool {
        self.backends.contains_key(label)
    }

    async fn open(&self, label: &str) -> Result<Store, Error> {
        match self.backends.get(label) {
            None => Err(Error::NoSuchStore),
            Some(Backend::Memory(memory)) => Ok(Store::Memory(memory.clone())),
            Some(Backend::Redis { url, conn }) => {
                let conn = conn
                    .get_or_try_init(|| async {
                        let client = redis::Client::open(url.as_str())?;
                        client.get_connection_manager_with_config(crate::redis::manager_config()).await
                    })
                    .await
                    .map_err(|e| Error::Other(format!("store {label:?} is unavailable: {e}")))?;
                Ok(Store::Redis { conn: conn.clone(), prefix: format!("spin-kv:{label}:") })
            }
        }
    }
}

fn failed(e: redis::RedisError) -> Error {
    Error::Other(e.to_string())
}

fn store_of<T: Send>(accessor: &Accessor<T, HasSelf<StoreData>>, store: &Resource<Store>) -> wasmtime::Result<Store> {
    accessor.with(|mut access| Ok(access.get().table().get(store)?.clone()))
}

fn lock(memory: &Memory) -> Result<std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>>, Error> {
    memory.lock().map_err(|_| Error::Other("store lock poisoned".into()))
}

impl<T: Send> HostStoreWithStore<T> for HasSelf<StoreData> {
    async fn open(accessor: &Accessor<T, Self>, label: String) -> wasmtime::Result<Result<Resource<Store>, Error>> {
        let (allowed, services) = accessor.with(|mut access| {
            let data = access.get();
            (data.component.key_value_stores.contains(&label), data.component.services.clone())
        });
        if !allowed {
            return Ok(Err(Error::AccessDenied));
        }
        let store = match services.kv.open(&label).await {
            Ok(store) => store,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(accessor.with(|mut access| access.get().table().push(store))?))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(match store_of(accessor, &store)? {
            Store::Redis { mut conn, prefix } => conn.get(format!("{prefix}{key}")).await.map_err(failed),
            Store::Memory(memory) => lock(&memory).map(|m| m.get(&key).cloned()),
        })
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        store: Resource<Store>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(match store_of(accessor, &store)? {
            Store::Redis { mut conn, prefix } => conn.set(format!("{prefix}{key}"), value).await.map_err(failed),
            Store::Memory(memory) => lock(&memory).map(|mut m| {
                m.insert(key, value);
            }),
        })
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(match store_of(accessor, &store)? {
            Store::Redis { mut conn, prefix } => {
                conn.del::<_, i64>(format!("{prefix}{key}")).await.map(|_| ()).map_err(failed)
            }
            Store::Memory(memory) => lock(&memory).map(|mut m| {
                m.remove(&key);
            }),
        })
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(match store_of(accessor, &store)? {
            Store::Redis { mut conn, prefix } => conn.exists(format!("{prefix}{key}")).await.map_err(failed),
            Store::Memory(memory) => lock(&memory).map(|m| m.contains_key(&key)),
        })
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        store: Resource<Store>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), Error>>)> {
        let keys: Result<Vec<String>, Error> = match store_of(accessor, &store)? {
            Store::Redis { mut conn, prefix } => {
                let pattern = format!("{prefix}*");
                match conn.scan_match::<_, String>(&pattern).await {
                    Ok(iter) => {
                        use futures::StreamExt;
                        let found: Vec<String> = iter.filter_map(|k| async move { k.ok() }).collect().await;
                        Ok(found.into_iter().filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned)).collect())
                    }
                    Err(e) => Err(failed(e)),
                }
            }
            Store::Memory(memory) => lock(&memory).map(|m| m.keys().cloned().collect()),
        };
        accessor.with(|mut access| {
            let (keys, outcome) = match keys {
                Ok(keys) => (keys, Ok(())),
                Err(e) => (Vec::new(), Err(e)),
            };
            let stream = StreamReader::new(&mut access, keys)?;
            let done = FutureReader::new(&mut access, std::future::ready(Ok::<_, wasmtime::Error>(outcome)))?;
            Ok((stream, done))
        })
    }
}

impl HostStore for StoreData {
    async fn drop(&mut self, store: Resource<Store>) -> wasmtime::Result<()> {
        self.table().delete(store)?;
        Ok(())
    }
}

impl crate::bindings::key_value::Host for StoreData {}
