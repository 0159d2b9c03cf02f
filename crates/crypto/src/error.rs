/// Why a cryptographic operation refused; each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    #[error("the ciphertext or its associated data was altered, or the key is wrong")]
    Tampered,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
}

impl CryptoError {
    /// The stable code clients and logs see.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidKey(_) => "invalid_key",
            Self::Tampered => "tampered",
            Self::BadSignature => "bad_signature",
            Self::InvalidInput(_) => "invalid_input",
        }
    }
}
