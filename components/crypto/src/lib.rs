//! The `crypto` component: implements `vottery:crypto` with no capability
//! at all. It is plugged into the services as a component dependency that
//! inherits no configuration.

use sha2::{Digest, Sha256};

wit_bindgen::generate!({
    path: "../../wit",
    world: "vottery:crypto/provider",
});

struct Crypto;

impl exports::vottery::crypto::digest::Guest for Crypto {
    fn sha256(data: Vec<u8>) -> Vec<u8> {
        Sha256::digest(&data).to_vec()
    }
}

export!(Crypto);
