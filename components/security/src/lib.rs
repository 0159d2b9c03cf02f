//! The `security` service: keys (by purpose, version and state, private
//! halves wrapped by the master key), the JWKS, and the crypto operations
//! other services and administrators may ask for.
//!
//! Routes under `/internal/` are reachable only through service chaining
//! (`http://security.spin.internal/internal/...`): no public trigger of
//! `spin.toml` routes such a path here, so a request on one comes from a
//! component allowed to chain to `security`.

use serde_json::json;
use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Params, Route, Router, contracts::security as contracts};
use vottery_security_core::{Caller, Operation, SecurityError};

mod crypto;
mod ops;
mod store;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    Encrypt,
    Decrypt,
    Sign,
    Verify,
    Keys,
    Rotate,
    Retire,
    Destroy,
    Rewrap,
    Jwks,
    SignToken,
    VerifyToken,
    NewDataKey,
    UnwrapDataKey,
    BlindIndex,
    Checkpoint,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/security/health", Endpoint::Health),
    Route::new(Post, "/api/security/encrypt", Endpoint::Encrypt),
    Route::new(Post, "/api/security/decrypt", Endpoint::Decrypt),
    Route::new(Post, "/api/security/sign", Endpoint::Sign),
    Route::new(Post, "/api/security/verify", Endpoint::Verify),
    Route::new(Get, "/api/security/keys", Endpoint::Keys),
    Route::new(Post, "/api/security/keys/rotate", Endpoint::Rotate),
    Route::new(Post, "/api/security/keys/rewrap", Endpoint::Rewrap),
    Route::new(Post, "/api/security/keys/:kid/retire", Endpoint::Retire),
    Route::new(Post, "/api/security/keys/:kid/destroy", Endpoint::Destroy),
    Route::new(Get, "/.well-known/jwks.json", Endpoint::Jwks),
    Route::new(Post, "/internal/tokens", Endpoint::SignToken),
    Route::new(Post, "/internal/tokens/verify", Endpoint::VerifyToken),
    Route::new(Post, "/internal/data-keys", Endpoint::NewDataKey),
    Route::new(Post, "/internal/data-keys/unwrap", Endpoint::UnwrapDataKey),
    Route::new(Post, "/internal/blind-index", Endpoint::BlindIndex),
    Route::new(Post, "/internal/decrypt", Endpoint::Decrypt),
    Route::new(Post, "/internal/sign", Endpoint::Sign),
    Route::new(Post, "/internal/audit/checkpoint", Endpoint::Checkpoint),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let router = Router::new(ROUTES);
    let (endpoint, params) = match kit::route(&router, &request) {
        Ok((endpoint, params)) => (endpoint, owned(&params)),
        Err(response) => return response,
    };
    if let Endpoint::Health = endpoint {
        return kit::health("security").await;
    }
    let id = kit::request_id(&request);
    kit::respond("security", &id, dispatch(endpoint, params, request).await)
}

fn owned(params: &Params<'_>) -> Option<String> {
    params.get("kid").map(str::to_owned)
}

async fn dispatch(endpoint: Endpoint, kid: Option<String>, request: Request) -> Result<kit::Response, SecurityError> {
    use Endpoint::*;
    let operation = match endpoint {
        Encrypt => Operation::Encrypt,
        Verify => Operation::Verify,
        Keys | Jwks | Health => Operation::ListKeys,
        Decrypt => Operation::Decrypt,
        Sign => Operation::Sign,
        SignToken | VerifyToken => Operation::SignToken,
        NewDataKey | UnwrapDataKey => Operation::DataKey,
        BlindIndex => Operation::BlindIndex,
        Checkpoint => Operation::Checkpoint,
        Rotate | Retire | Destroy | Rewrap => Operation::ManageKeys,
    };
    if let Some(name) = ops::chained_caller(&request) {
        vottery_security_core::authorize(operation, &Caller::Service(name))?;
        if let BlindIndex = endpoint {
            return ops::blind_index(kit::json_body(request, kit::MAX_JSON_BODY).await?).await;
        }
    }
    let service = ops::Service::open().await?;
    let caller = match operation {
        Operation::Encrypt | Operation::Verify | Operation::ListKeys => Caller::Public,
        _ => service.caller(&request).await?,
    };
    vottery_security_core::authorize(operation, &caller)?;
    let kid = kid.unwrap_or_default();
    match endpoint {
        Health => Ok(kit::json(200, &json!({}))),
        Encrypt => service.encrypt(kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        Decrypt => service.decrypt(&caller, kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        Sign => service.sign(&caller, kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        Verify => service.verify(kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        Keys => service.list().await,
        Jwks => service.jwks().await,
        Rotate => service.rotate(&caller, kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        Retire => service.retire(&caller, &kid).await,
        Destroy => service.destroy(&caller, &kid).await,
        Rewrap => service.rewrap(&caller).await,
        SignToken => service.sign_token(kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        VerifyToken => service.verify_typed_token(kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        NewDataKey => service.new_data_key().await,
        UnwrapDataKey => service.unwrap_data_key(kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        BlindIndex => ops::blind_index(kit::json_body(request, kit::MAX_JSON_BODY).await?).await,
        Checkpoint => {
            kit::json_body::<contracts::Checkpoint>(request, kit::MAX_JSON_BODY).await?;
            service.checkpoint().await
        }
    }
}
