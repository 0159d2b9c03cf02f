//! The security service's logic, free of any platform: which keys exist,
//! which may be used for what, how their private halves are wrapped, and
//! who may ask for which operation.
//!
//! # Key lifecycle
//!
//! Every key has a purpose ([`Purpose`]) and a version within it; its id
//! (`kid`) names both. A key moves one way only:
//!
//! ```text
//!   active ──rotate──▶ retiring ──(retire_after elapses, or retire)──▶ retired ──destroy──▶ destroyed
//! ```
//!
//! - **active**: the one key of its purpose used for new signatures,
//!   encryptions and wrappings. Rotation creates version n+1 as active and
//!   turns version n into retiring in the same transaction.
//! - **retiring**: no new use, but still verifies and decrypts, and token
//!   keys stay in the JWKS, so tokens signed before a rotation keep
//!   verifying until they have expired anyway ([`Policy::retire_after`]).
//! - **retired**: out of the JWKS and no longer verifies; decryption and
//!   unwrapping still work, so data sealed under it can be read and
//!   re-sealed.
//! - **destroyed**: the wrapped private key is erased; only the public half
//!   and the record remain.
//!
//! The retiring → retired step is computed from the clock ([`KeyRecord::state_at`]),
//! so no job has to run for it; an explicit retire records it early.
//!
//! # Master key
//!
//! Private keys are stored only sealed (AES-256-GCM) under the master key
//! from a secret variable, with the key's id, purpose and the master key's
//! id as associated data, so a wrapped key cannot be moved to another row.
//! To rotate the master key the operator sets the new one as `master_key`
//! and the old one as `master_key_previous`; both unwrap, and a rewrap
//! moves every key to the new one, after which the previous can go.
#![forbid(unsafe_code)]

mod access;
pub mod audit;
mod error;
mod jwk;
mod keys;

pub use access::{Caller, Operation, authorize};
pub use error::SecurityError;
pub use jwk::{jwks, public_jwk};
pub use keys::{
    GeneratedKey, KeyAlgorithm, KeyCrypto, KeyRecord, KeyState, KeyUse, MasterKey, MasterKeys, Policy, Purpose,
    Rotation, new_key, plan_rotation,
};

#[cfg(test)]
mod testing;
