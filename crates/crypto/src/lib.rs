//! Vottery's cryptography, on RustCrypto crates only (no primitive is
//! written here): digests and HMAC with keyed blind indexes, AES-256-GCM
//! with associated data and key-wrapping envelopes, Ed25519 and ECDSA
//! P-256 signatures, RSA-OAEP and RSA-PSS (rsa 0.10, constant time), compact JWTs (jsonwebtoken) with pinned algorithms
//! and claim checks, and uniform numeric codes.
//!
//! Randomness is passed in (nonces, seeds, candidate numbers), never drawn
//! here, so every function is deterministic and tested to the byte; the
//! `crypto` component draws it from the platform CSPRNG.
#![forbid(unsafe_code)]

pub mod aead;
#[cfg(feature = "bench")]
pub mod bench;
pub mod codes;
pub mod digest;
pub mod elgamal;
mod error;
pub mod rsa;
pub mod sign;
pub mod tokens;

pub use error::CryptoError;
