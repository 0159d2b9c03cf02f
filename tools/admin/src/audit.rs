//! `vottery-admin audit verify`: the audit log checked from its rows, not
//! from the database's own functions. Every hash is recomputed here, every
//! link and position followed, every checkpoint's root recomputed from its
//! heads and its signature checked with the log-signing key's public half,
//! and every checkpointed head found in place (see
//! `vottery_security_core::audit` for what a checkpoint is).

use std::collections::HashMap;

use anyhow::{Context, Result};
use futures::{StreamExt, pin_mut};
use tokio_postgres::Client;
use vottery_crypto_core::{digest::sha256, sign};
use vottery_security_core::audit::{self, Heads};

/// What the verification found: the counts, and the first bad row or
/// checkpoint in words (none when the log holds).
#[derive(Debug, Default)]
pub struct Report {
    pub rows: u64,
    pub streams: usize,
    pub checkpoints: usize,
    pub first_fault: Option<String>,
}

/// The hashed text of a row, in the order `audit.event_hash` and
/// `audit.stream_event_hash` join it (the database's own text for the
/// time and the detail).
const ROWS: &str = "SELECT id, stream::int4, seq, prev_hash, hash, concat_ws(E'\\n', extract(epoch FROM at)::text, \
     service, actor, action, coalesce(subject, ''), outcome, detail::text) \
     FROM audit.events ORDER BY stream NULLS FIRST, seq, id";

const CHECKPOINTS: &str = "SELECT c.id, extract(epoch FROM c.at)::bigint, c.heads::text, c.root, c.kid, c.signature, \
     k.public_key, k.algorithm FROM audit.checkpoints c LEFT JOIN security.keys k \
     ON k.kid = c.kid AND k.purpose = 'log-signing' ORDER BY c.id";

struct Checkpoint {
    id: i64,
    heads: Heads,
}

/// Where one chain stands while its rows are read.
struct Chain {
    stream: Option<i32>,
    last_hash: Vec<u8>,
    last_position: i64,
}

impl Chain {
    fn start(stream: Option<i32>) -> Self {
        let last_hash = match stream {
            Some(s) => sha256(format!("vottery-audit-stream:{s}").as_bytes()).to_vec(),
            None => vec![0; 32],
        };
        Self { stream, last_hash, last_position: 0 }
    }
}

pub async fn verify(client: &Client) -> Result<Report> {
    let mut report = Report::default();
    let checkpoints = checkpoints(client, &mut report).await?;
    let mut wanted: HashMap<(Option<i32>, i64), Option<Vec<u8>>> = HashMap::new();
    for checkpoint in &checkpoints {
        wanted.extend(checkpoint.heads.legacy.iter().map(|h| ((None, h.id), None)));
        wanted.extend(checkpoint.heads.streams.iter().map(|h| ((Some(h.stream), h.seq), None)));
    }

    let rows = client.query_raw(ROWS, std::iter::empty::<i64>()).await.context("reading the audit log")?;
    pin_mut!(rows);
    let mut chain: Option<Chain> = None;
    while let Some(row) = rows.next().await {
        let row = row.context("reading the audit log")?;
        let (id, stream, seq): (i64, Option<i32>, Option<i64>) = (row.get(0), row.get(1), row.get(2));
        let (prev, hash, text): (Vec<u8>, Vec<u8>, String) = (row.get(3), row.get(4), row.get(5));
        report.rows += 1;
        let current = match chain.take() {
            Some(c) if c.stream == stream => c,
            _ => {
                report.streams += usize::from(stream.is_some());
                Chain::start(stream)
            }
        };
        let (position, hashed) = match (stream, seq) {
            (Some(s), Some(q)) => (q, format!("{s}\n{q}\n{id}\n{text}")),
            _ => (id, format!("{id}\n{text}")),
        };
        let name = match stream {
            Some(s) => format!("row {id} (stream {s}, position {position})"),
            None => format!("row {id} (before the streams)"),
        };
        let fault = if position != current.last_position + 1 {
            Some(format!("{name}: expected position {}, a row is missing or moved", current.last_position + 1))
        } else if prev != current.last_hash {
            Some(format!("{name}: does not link to the row before it"))
        } else if sha256(&[prev.as_slice(), hashed.as_bytes()].concat()).as_slice() != hash.as_slice() {
            Some(format!("{name}: its hash does not match its contents (altered)"))
        } else {
            None
        };
        if let Some(fault) = fault {
            report.first_fault.get_or_insert(fault);
        }
        if let Some(slot) = wanted.get_mut(&(stream, position)) {
            *slot = Some(hash.clone());
        }
        chain = Some(Chain { stream, last_hash: hash, last_position: position });
    }

    for checkpoint in &checkpoints {
        let legacy = checkpoint.heads.legacy.iter().map(|h| ((None, h.id), &h.hash, format!("row {}", h.id)));
        let streams = checkpoint
            .heads
            .streams
            .iter()
            .map(|h| ((Some(h.stream), h.seq), &h.hash, format!("stream {} position {}", h.stream, h.seq)));
        for (at, expected, name) in legacy.chain(streams) {
            let held = wanted.get(&at).cloned().flatten().map(hex);
            if held.as_ref() != Some(expected) {
                let what = if held.is_some() { "altered" } else { "removed" };
                report.first_fault.get_or_insert(format!("checkpoint {}: its head {name} was {what}", checkpoint.id));
            }
        }
    }
    Ok(report)
}

/// Reads every checkpoint and checks its root and signature.
async fn checkpoints(client: &Client, report: &mut Report) -> Result<Vec<Checkpoint>> {
    let mut found = Vec::new();
    for row in client.query(CHECKPOINTS, &[]).await.context("reading the checkpoints")? {
        let (id, at, heads, root, kid): (i64, i64, String, Vec<u8>, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        let (signature, public, algorithm): (Vec<u8>, Option<Vec<u8>>, Option<String>) =
            (row.get(5), row.get(6), row.get(7));
        report.checkpoints += 1;
        let heads: Heads = serde_json::from_str(&heads).with_context(|| format!("checkpoint {id}: its heads"))?;
        let computed = audit::merkle_root(&heads.leaves(), &sha256);
        let fault = if computed.as_slice() != root.as_slice() {
            Some(format!("checkpoint {id}: its root does not match its heads"))
        } else if algorithm.as_deref() != Some("EdDSA") {
            Some(format!("checkpoint {id}: signed by {kid}, not a log-signing key"))
        } else if public.is_none_or(|public| {
            sign::verify(sign::Algorithm::Ed25519, &public, &audit::statement(at, &computed), &signature).is_err()
        }) {
            Some(format!("checkpoint {id}: its signature does not verify with {kid}"))
        } else {
            None
        };
        if let Some(fault) = fault {
            report.first_fault.get_or_insert(fault);
        }
        found.push(Checkpoint { id, heads });
    }
    Ok(found)
}

fn hex(bytes: Vec<u8>) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
