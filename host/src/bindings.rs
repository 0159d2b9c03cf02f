//! Host-side bindings of the Spin platform interfaces (`host/wit`).

wasmtime::component::bindgen!({
    path: "wit",
    world: "vottery:host/spin-platform",
    imports: { default: async | trappable },
    with: {
        "spin:postgres/postgres.connection": crate::postgres::Connection,
        "spin:postgres/postgres.connection-builder": crate::postgres::ConnectionBuilder,
        "spin:redis/redis.connection": crate::redis::Connection,
        "spin:key-value/key-value.store": crate::kv::Store,
    },
});

pub use spin::key_value::key_value;
pub use spin::postgres::postgres;
pub use spin::redis::redis;
pub use spin::variables::variables;
