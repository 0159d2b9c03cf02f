//! Who may ask for what. `encrypt`, `verify` and the key listings are
//! public; `decrypt` and `sign` are never a public oracle: only another
//! service (over a private route) or an administrator may ask, and each
//! call is audited. Minting tokens, data keys and blind indexes is for the
//! services alone; managing keys for administrators alone.

use vottery_contracts::Actor;

use crate::SecurityError;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A request from outside, without an administrator's token.
    Public,
    /// Another service of the app, through service chaining to a private
    /// route (the name it gives for the audit log).
    Service(String),
    /// A holder of a verified access token with the `security_admin` role.
    Admin { subject: String },
    /// A holder of a verified access token without that role.
    Member { subject: String },
}

impl Caller {
    /// The actor recorded in the audit log.
    pub fn actor(&self) -> Actor {
        match self {
            Self::Public => Actor::Visitor,
            Self::Service(name) => Actor::Service(name.clone()),
            Self::Admin { subject } => Actor::Admin(subject.clone()),
            Self::Member { subject } => Actor::Member(subject.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Encrypt,
    Verify,
    ListKeys,
    Decrypt,
    Sign,
    SignToken,
    DataKey,
    BlindIndex,
    ManageKeys,
    Checkpoint,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Encrypt => "encryption",
            Self::Verify => "verification",
            Self::ListKeys => "listing keys",
            Self::Decrypt => "decryption",
            Self::Sign => "signing",
            Self::SignToken => "token signing",
            Self::DataKey => "data-key wrapping",
            Self::BlindIndex => "blind indexing",
            Self::ManageKeys => "key management",
            Self::Checkpoint => "audit checkpoints",
        }
    }
}

pub fn authorize(operation: Operation, caller: &Caller) -> Result<(), SecurityError> {
    use Operation::*;
    let allowed = match operation {
        Encrypt | Verify | ListKeys => true,
        Decrypt | Sign => matches!(caller, Caller::Service(_) | Caller::Admin { .. }),
        SignToken | DataKey | BlindIndex | Checkpoint => matches!(caller, Caller::Service(_)),
        ManageKeys => matches!(caller, Caller::Admin { .. }),
    };
    match (allowed, caller) {
        (true, _) => Ok(()),
        (false, Caller::Public) => {
            Err(SecurityError::Unauthenticated(format!("{} needs an administrator's access token", operation.as_str())))
        }
        (false, _) => Err(SecurityError::Forbidden(operation.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decrypt_and_sign_are_never_public() {
        let public = Caller::Public;
        let service = Caller::Service("auth".into());
        let admin = Caller::Admin { subject: "u1".into() };
        for op in [Operation::Encrypt, Operation::Verify, Operation::ListKeys] {
            assert!(authorize(op, &public).is_ok());
        }
        for op in [Operation::Decrypt, Operation::Sign] {
            assert_eq!(authorize(op, &public).unwrap_err().code(), "unauthenticated");
            assert!(authorize(op, &service).is_ok());
            assert!(authorize(op, &admin).is_ok());
        }
        for op in [Operation::SignToken, Operation::DataKey, Operation::BlindIndex] {
            assert_eq!(authorize(op, &public).unwrap_err().code(), "unauthenticated");
            assert_eq!(authorize(op, &admin).unwrap_err().code(), "forbidden");
            assert!(authorize(op, &service).is_ok());
        }
        assert_eq!(authorize(Operation::ManageKeys, &service).unwrap_err().code(), "forbidden");
        assert_eq!(authorize(Operation::ManageKeys, &public).unwrap_err().code(), "unauthenticated");
        assert!(authorize(Operation::ManageKeys, &admin).is_ok());
        let member = Caller::Member { subject: "u2".into() };
        assert!(authorize(Operation::Encrypt, &member).is_ok());
        for op in [Operation::Decrypt, Operation::Sign, Operation::ManageKeys, Operation::SignToken] {
            assert_eq!(authorize(op, &member).unwrap_err().code(), "forbidden");
        }
        assert_eq!(admin.actor().to_string(), "admin:u1");
        assert_eq!(service.actor().to_string(), "service:auth");
    }
}
