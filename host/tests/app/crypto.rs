//! The `crypto` component: what it computes inside the sandbox, and that it
//! has no capability to reach anything.

use wasmtime::component::Component;

use crate::support::*;

#[test]
fn crypto_works_when_composed_into_a_service() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"c\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"p\"\n\
         [component.p]\nsource = \"{}\"\n[component.p.dependencies]\n\"vottery:crypto\" = {{ component = \"crypto\" }}\n\
         [component.crypto]\nsource = \"{}\"\n",
        wasm("fixture_crypto_probe").display(),
        wasm("vottery_crypto").display()
    );
    let (m, _) = write_app(&manifest, None);
    for mode in MODES {
        let host = Host::start(&m, None, mode, &[]);
        let r = host.get("/").json();
        assert_eq!(r["sha256_abc"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "{r}");
        assert_eq!(r["blind_index_len"], 32);
        assert_eq!(r["open"], "Ok(Ok(\"secret\"))");
        assert_eq!(r["open_tampered"], "Err(CryptoError::Tampered)");
        assert_eq!(r["open_wrong_aad"], "Err(CryptoError::Tampered)");
        assert!(r["short_key"].as_str().unwrap().starts_with("Err(CryptoError::InvalidKey"), "{r}");
        assert_eq!(r["envelope"], "Ok(Ok(\"pii\"))");
        assert_eq!(r["rewrapped"], "Ok(Ok(\"pii\"))");
        for alg in ["ed25519", "es256"] {
            assert_eq!(r["signatures"][alg]["verifies"], true, "{r}");
            assert_eq!(r["signatures"][alg]["other_message"], "Err(CryptoError::BadSignature)");
        }
        let code = r["code"].as_str().unwrap();
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        assert!(r["code_too_short"].as_str().unwrap().starts_with("Err(CryptoError::InvalidInput"));
        assert_eq!(r["nonces_differ"], true);
        assert_eq!(r["signatures"]["token_valid"], "Ok(true)", "{r}");
        assert_eq!(r["signatures"]["token_expired"], "Err(TokenError::Expired)");
        assert_eq!(r["signatures"]["token_none"], "Err(TokenError::UnsupportedAlgorithm)");
        assert_eq!(r["signatures"]["rsa_oaep"], "Ok(Ok(\"ballot key\"))", "{r}");
        assert_eq!(r["signatures"]["rsa_oaep_tampered"], "Err(CryptoError::Tampered)");
        assert_eq!(r["signatures"]["rsa_pss"], "Ok(())");
        assert_eq!(r["signatures"]["elgamal_counts"], serde_json::json!([1, 2]), "{r}");
        assert_eq!(r["signatures"]["elgamal_counts_verify"], "Ok(())");
        assert_eq!(r["signatures"]["threshold_two"], "Ok([1, 2])", "{r}");
        assert!(r["signatures"]["threshold_one"].as_str().unwrap().starts_with("Err(CryptoError::InvalidInput"), "{r}");
        assert_eq!(r["signatures"]["rsa_pss_other"], "Err(CryptoError::BadSignature)");
    }
}

#[test]
fn crypto_imports_nothing_that_reaches_the_network_a_variable_or_storage() {
    let engine = wasmtime::Engine::default();
    let component = Component::from_file(&engine, wasm("vottery_crypto")).unwrap();
    let ty = component.component_type();
    let imports: Vec<String> = ty.imports(&engine).map(|(name, _)| name.to_owned()).collect();
    assert!(!imports.is_empty());
    for name in &imports {
        let forbidden =
            ["spin:", "fermyon:", "wasi:http", "wasi:sockets", "wasi:keyvalue", "wasi:config", "wasi:filesystem"];
        assert!(!forbidden.iter().any(|f| name.starts_with(f)), "crypto imports {name}: {imports:?}");
    }
    let exports: Vec<String> = ty.exports(&engine).map(|(name, _)| name.to_owned()).collect();
    for interface in ["digest", "aead", "signatures", "rsa", "elgamal", "tokens", "random"] {
        assert!(exports.contains(&format!("vottery:crypto/{interface}@0.1.0")), "{exports:?}");
    }
}
