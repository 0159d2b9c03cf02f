//! The audit log's signed checkpoints.
//!
//! The log (`audit.events`) is a fixed number of streams, each its own hash
//! chain (row n links to row n-1 of its stream), plus the single chain of
//! the rows written before the streams (the legacy chain). A checkpoint
//! takes the last row of each ([`Heads`]), hashes them into a Merkle tree
//! ([`merkle_root`], as RFC 9162 builds its trees: leaves and nodes hashed
//! with distinct prefixes, the left subtree the largest power of two), and
//! the security service signs a statement naming the time and the root
//! with its `log-signing` key.
//!
//! ```text
//!   rows appended ──▶ stream heads ──▶ Merkle root ──▶ signed statement ──▶ checkpoint row
//!                                                                             │
//!   verify: every chain links and hashes ◀── each checkpointed head still in place ◀┘
//! ```
//!
//! A checkpointed row cannot then be altered (its hash, and every later
//! link of its stream, would change) or removed (the head would be gone or
//! its chain broken) without the verification naming it; forging a
//! checkpoint needs the private key, which only the security service can
//! unwrap.

use serde::{Deserialize, Serialize};

/// The last row of the legacy chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyHead {
    pub id: i64,
    /// Hex.
    pub hash: String,
}

/// The last row of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamHead {
    pub stream: i32,
    pub seq: i64,
    /// Hex.
    pub hash: String,
}

/// What a checkpoint covers, as `audit.heads()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heads {
    pub legacy: Option<LegacyHead>,
    pub streams: Vec<StreamHead>,
}

impl Heads {
    /// The tree's leaves, in order: the legacy head, then each stream's.
    pub fn leaves(&self) -> Vec<Vec<u8>> {
        let legacy = self.legacy.iter().map(|h| format!("legacy\n{}\n{}", h.id, h.hash));
        let streams = self.streams.iter().map(|h| format!("stream\n{}\n{}\n{}", h.stream, h.seq, h.hash));
        legacy.chain(streams).map(String::into_bytes).collect()
    }
}

/// The Merkle root over `leaves` with `sha256`; the hash of nothing for none.
pub fn merkle_root(leaves: &[Vec<u8>], sha256: &dyn Fn(&[u8]) -> [u8; 32]) -> [u8; 32] {
    match leaves {
        [] => sha256(&[]),
        [leaf] => sha256(&[&[0u8][..], leaf].concat()),
        _ => {
            let split = leaves.len().next_power_of_two() / 2;
            let (left, right) = leaves.split_at(split);
            let (left, right) = (merkle_root(left, sha256), merkle_root(right, sha256));
            sha256(&[&[1u8][..], &left, &right].concat())
        }
    }
}

/// What the log-signing key signs: the checkpoint's time (Unix seconds)
/// and root.
pub fn statement(at: i64, root: &[u8; 32]) -> Vec<u8> {
    let hex: String = root.iter().map(|b| format!("{b:02x}")).collect();
    format!("vottery-audit-checkpoint/v1\n{at}\n{hex}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256(data: &[u8]) -> [u8; 32] {
        vottery_crypto_core::digest::sha256(data)
    }

    fn heads(n: i32) -> Heads {
        Heads {
            legacy: Some(LegacyHead { id: 41, hash: "aa".into() }),
            streams: (0..n).map(|stream| StreamHead { stream, seq: 7, hash: format!("{stream:02x}") }).collect(),
        }
    }

    #[test]
    fn the_root_follows_rfc_9162_for_a_small_tree() {
        let leaves = heads(2).leaves();
        let leaf = |i: usize| sha256(&[&[0u8][..], &leaves[i]].concat());
        let node = |a: [u8; 32], b: [u8; 32]| sha256(&[&[1u8][..], &a, &b].concat());
        assert_eq!(merkle_root(&leaves, &sha256), node(node(leaf(0), leaf(1)), leaf(2)));
    }

    #[test]
    fn changing_any_head_changes_the_root() {
        let original = merkle_root(&heads(32).leaves(), &sha256);
        let mut moved = heads(32);
        moved.streams[17].seq += 1;
        assert_ne!(merkle_root(&moved.leaves(), &sha256), original);
        let mut dropped = heads(32);
        dropped.streams.pop();
        assert_ne!(merkle_root(&dropped.leaves(), &sha256), original);
        let mut sealed = heads(32);
        sealed.legacy = None;
        assert_ne!(merkle_root(&sealed.leaves(), &sha256), original);
    }

    #[test]
    fn the_statement_names_the_time_and_the_root() {
        let statement = statement(1_700_000_000, &[0xab; 32]);
        assert_eq!(
            String::from_utf8(statement).unwrap(),
            format!("vottery-audit-checkpoint/v1\n1700000000\n{}", "ab".repeat(32))
        );
    }

    #[test]
    fn heads_read_as_the_database_writes_them() {
        let raw = r#"{"legacy": null, "streams": [{"stream": 3, "seq": 12, "hash": "ff"}]}"#;
        let parsed: Heads = serde_json::from_str(raw).unwrap();
        assert_eq!(parsed.streams[0], StreamHead { stream: 3, seq: 12, hash: "ff".into() });
        assert_eq!(parsed.leaves(), vec![b"stream\n3\n12\nff".to_vec()]);
    }
}
