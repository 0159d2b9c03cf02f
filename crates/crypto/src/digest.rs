//! Digests, HMAC and keyed blind indexes.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256, Sha512};

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn sha512(data: &[u8]) -> [u8; 64] {
    Sha512::digest(data).into()
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Checks an HMAC in constant time.
pub fn verify_hmac_sha256(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.verify_slice(tag).is_ok()
}

/// A keyed blind index of an already-normalised value: equal values in the
/// same domain (`email`, `phone`) index equally, and without the pepper the
/// index says nothing about the value. The domain is length-prefixed so
/// `("ab", "c")` and `("a", "bc")` differ.
pub fn blind_index(pepper: &[u8], domain: &str, value: &str) -> [u8; 32] {
    let mut message = Vec::with_capacity(8 + domain.len() + value.len());
    message.extend_from_slice(&(domain.len() as u64).to_be_bytes());
    message.extend_from_slice(domain.as_bytes());
    message.extend_from_slice(value.as_bytes());
    hmac_sha256(pepper, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha_known_answers() {
        assert_eq!(hex(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(hex(&sha512(b"abc")).starts_with("ddaf35a193617abacc417349ae204131"));
    }

    #[test]
    fn hmac_rfc4231_case_2() {
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&tag), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert!(verify_hmac_sha256(b"Jefe", b"what do ya want for nothing?", &tag));
        assert!(!verify_hmac_sha256(b"Jefe", b"what do ya want for nothing!", &tag));
        assert!(!verify_hmac_sha256(b"Jefe", b"what do ya want for nothing?", &tag[..31]));
    }

    #[test]
    fn blind_indexes_are_keyed_and_domain_separated() {
        let a = blind_index(b"pepper", "email", "ada@example.com");
        assert_eq!(a, blind_index(b"pepper", "email", "ada@example.com"));
        assert_ne!(a, blind_index(b"other", "email", "ada@example.com"));
        assert_ne!(a, blind_index(b"pepper", "phone", "ada@example.com"));
        assert_ne!(blind_index(b"p", "ab", "c"), blind_index(b"p", "a", "bc"));
    }
}
