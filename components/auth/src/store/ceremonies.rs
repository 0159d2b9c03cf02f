//! Step 3's ceremonies, kept under their challenge between their two
//! requests, and the enrolment tokens' claims (`<namespace>:auth:`).

use serde_json::Value;
use spin_sdk::redis::{RedisParameter, RedisResult};
use vottery_auth_core::AuthError;
use vottery_component_kit::redis::Namespaced;
use vottery_passkeys_core::PasskeyError;
use vottery_passkeys_core::step3::{CEREMONY_TTL, CLAIM_TTL, Ceremony, CeremonyKind, Claim};

use crate::session::Fault;

fn storage(e: impl std::fmt::Debug) -> Fault {
    AuthError::Storage(format!("redis: {e:?}")).into()
}

fn bytes(text: String) -> RedisParameter {
    RedisParameter::Binary(text.into_bytes())
}

pub struct Ceremonies {
    redis: Namespaced,
}

impl Ceremonies {
    pub async fn open() -> Result<Self, Fault> {
        Ok(Self { redis: Namespaced::open().await.map_err(AuthError::Storage)? })
    }

    fn key(&self, rest: &str) -> String {
        self.redis.key(&format!("auth:{rest}"))
    }

    pub async fn keep(&self, challenge: &str, ceremony: &Ceremony) -> Result<(), Fault> {
        let args = vec![
            bytes(self.key(&format!("webauthn:{challenge}"))),
            RedisParameter::Binary(ceremony.to_bytes()?),
            RedisParameter::Binary(b"EX".to_vec()),
            RedisParameter::Int64(CEREMONY_TTL),
        ];
        self.redis.conn.execute("SET", args).await.map(|_| ()).map_err(storage)
    }

    /// The ceremony of `challenge`, taken so nobody else can finish it.
    pub async fn take(&self, challenge: &str, kind: CeremonyKind) -> Result<Ceremony, Fault> {
        let key = bytes(self.key(&format!("webauthn:{challenge}")));
        let found = self.redis.conn.execute("GETDEL", vec![key]).await.map_err(storage)?;
        let Some(RedisResult::Binary(raw)) = found.into_iter().next() else {
            return Err(PasskeyError::CeremonyUnknown.into());
        };
        Ok(Ceremony::take(&raw, kind)?)
    }

    pub async fn is_claimed(&self, claim: &Claim) -> Result<bool, Fault> {
        let found = self.redis.conn.execute("EXISTS", vec![bytes(self.key(&claim.key()))]).await.map_err(storage)?;
        Ok(matches!(found.first(), Some(RedisResult::Int64(n)) if *n > 0))
    }

    /// Claims the token's single use; false when it was already claimed.
    pub async fn claim(&self, claim: &Claim) -> Result<bool, Fault> {
        let args = vec![
            bytes(self.key(&claim.key())),
            RedisParameter::Binary(b"1".to_vec()),
            RedisParameter::Binary(b"NX".to_vec()),
            RedisParameter::Binary(b"EX".to_vec()),
            RedisParameter::Int64(CLAIM_TTL),
        ];
        let claimed = self.redis.conn.execute("SET", args).await.map_err(storage)?;
        Ok(!matches!(claimed.first(), None | Some(RedisResult::Nil)))
    }

    /// Gives the token back after a failed enrolment, so it can try again.
    pub async fn release(&self, claim: &Claim) {
        let _ = self.redis.conn.execute("DEL", vec![bytes(self.key(&claim.key()))]).await;
    }

    pub async fn publish(&self, kind: &str, detail: Value) {
        self.redis.publish("auth", kind, detail).await;
    }
}
