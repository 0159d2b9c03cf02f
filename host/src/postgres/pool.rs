//! The connection pools behind `spin:postgres`: one per address and guest
//! root certificate, bounded, idle connections reaped, and the lent
//! connection's transaction tracked so one the guest left open is rolled
//! back (and no round trip is spent when it left none).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio_postgres::config::Host;

use super::{Connection, tls};
use crate::bindings::postgres::Error;

/// A pooled connection lent to a guest, and whether the guest may have
/// left a transaction open on it (then it is rolled back before the
/// connection goes back to the pool; otherwise that round trip is saved).
pub struct Session {
    pub(super) client: deadpool_postgres::Object,
    pub(super) transaction: AtomicBool,
}

impl Session {
    /// Notes what `statement` does to the connection's transaction, before
    /// it runs.
    pub(super) fn note(&self, statement: &str) {
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

    pub(super) async fn connect(
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
