//! Both ceremonies against the software authenticator, and what each bad
//! answer gets.

#![allow(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use serde_json::Value;
use vottery_passkeys_core::soft::{Algorithm, Format, SoftAuthenticator};
use vottery_passkeys_core::{
    AssertionResponse, Known, NewPasskey, PasskeyError, RegistrationResponse, RelyingParty, StoredPasskey,
    finish_authentication, finish_registration, start_authentication, start_registration,
};

const RP: &str = "vottery.test";
const ORIGIN: &str = "https://vottery.test";
const USER: [u8; 16] = *b"0123456789abcdef";

fn rp() -> RelyingParty {
    RelyingParty::new(RP, &[ORIGIN.to_owned(), "android:apk-key-hash:abc123".to_owned()]).unwrap()
}

fn authenticator(alg: Algorithm) -> SoftAuthenticator {
    SoftAuthenticator::new(alg, [7; 32], RP, ORIGIN)
}

fn register_with(auth: &mut SoftAuthenticator, format: Format) -> Result<NewPasskey, PasskeyError> {
    let started = start_registration(&rp(), USER, "member", "Member", &[]).unwrap();
    let answer = auth.register(&started.options, format);
    let response = RegistrationResponse::parse(answer.to_string().as_bytes())?;
    assert_eq!(response.challenge()?, started.challenge);
    finish_registration(&rp(), &started.state, &response)
}

fn stored(p: &NewPasskey) -> StoredPasskey {
    StoredPasskey { id: p.id.clone(), user: p.user, public_key: p.public_key.clone(), state: p.state.clone() }
}

fn known(p: &NewPasskey) -> Known {
    Known { id: p.id.clone(), transports: p.transports.clone() }
}

fn assert_with(
    auth: &mut SoftAuthenticator,
    p: &StoredPasskey,
) -> Result<vottery_passkeys_core::Assertion, PasskeyError> {
    let started = start_authentication(&rp(), &[Known { id: p.id.clone(), transports: vec![] }]).unwrap();
    let answer = auth.assert(&started.options, &USER);
    let response = AssertionResponse::parse(answer.to_string().as_bytes())?;
    assert_eq!(response.challenge()?, started.challenge);
    finish_authentication(&rp(), &started.state, &response, p)
}

#[test]
fn es256_none_then_assertions() {
    let mut auth = authenticator(Algorithm::Es256);
    let passkey = register_with(&mut auth, Format::None).unwrap();
    assert_eq!((passkey.algorithm, passkey.attestation), ("ES256", "none"));
    assert_eq!(passkey.id, auth.credential_id);
    assert_eq!(passkey.user, USER);
    assert_eq!(passkey.sign_count, 1);
    assert_eq!(passkey.aaguid, "766f74746572792d736f66742d617574"); // "vottery-soft-aut"
    assert_eq!(passkey.transports, vec!["hybrid".to_owned(), "internal".to_owned()]);
    assert!(!passkey.backup_eligible && !passkey.backed_up);

    let mut current = stored(&passkey);
    for expected in 2..5 {
        let assertion = assert_with(&mut auth, &current).unwrap();
        assert_eq!(assertion.sign_count, expected);
        current.state = assertion.state;
    }
}

#[test]
fn eddsa_packed_self_attestation() {
    let mut auth = authenticator(Algorithm::EdDsa);
    let passkey = register_with(&mut auth, Format::Packed).unwrap();
    assert_eq!((passkey.algorithm, passkey.attestation), ("EdDSA", "packed-self"));
    let assertion = assert_with(&mut auth, &stored(&passkey)).unwrap();
    assert_eq!(assertion.sign_count, 2);
}

#[test]
fn es256_packed_and_eddsa_none() {
    let mut a = authenticator(Algorithm::Es256);
    assert_eq!(register_with(&mut a, Format::Packed).unwrap().attestation, "packed-self");
    let mut b = authenticator(Algorithm::EdDsa);
    assert_eq!(register_with(&mut b, Format::None).unwrap().algorithm, "EdDSA");
}

#[test]
fn android_app_origin_is_accepted_and_others_are_not() {
    let mut auth = authenticator(Algorithm::Es256);
    auth.origin = "android:apk-key-hash:abc123".into();
    assert!(register_with(&mut auth, Format::None).is_ok());
    auth.origin = "https://evil.test".into();
    assert_eq!(register_with(&mut auth, Format::None), Err(PasskeyError::OriginNotAllowed));
    auth.origin = "android:apk-key-hash:other".into();
    assert_eq!(register_with(&mut auth, Format::None), Err(PasskeyError::OriginNotAllowed));
}

#[test]
fn registration_refusals() {
    let mut auth = authenticator(Algorithm::Es256);
    auth.user_verified = false;
    assert_eq!(register_with(&mut auth, Format::None), Err(PasskeyError::UserNotVerified));

    let mut auth = authenticator(Algorithm::Es256);
    auth.rp_id = "evil.test".into();
    assert_eq!(register_with(&mut auth, Format::None), Err(PasskeyError::RpIdMismatch));

    let mut auth = authenticator(Algorithm::Es256);
    auth.client_type = Some("webauthn.get".into());
    let refusal = register_with(&mut auth, Format::None).unwrap_err();
    assert_eq!(refusal.code(), "client_data_type", "{refusal:?}");

    let mut auth = authenticator(Algorithm::Es256);
    auth.claimed_alg = Some(-36);
    let refusal = register_with(&mut auth, Format::None).unwrap_err();
    assert_eq!(refusal.code(), "algorithm_not_supported", "{refusal:?}");

    let mut auth = authenticator(Algorithm::Es256);
    auth.user_present = false;
    let refusal = register_with(&mut auth, Format::None).unwrap_err();
    assert_eq!(refusal.code(), "user_not_present", "{refusal:?}");
}

#[test]
fn answer_to_another_ceremony_is_refused() {
    let mut auth = authenticator(Algorithm::Es256);
    let first = start_registration(&rp(), USER, "member", "Member", &[]).unwrap();
    let second = start_registration(&rp(), USER, "member", "Member", &[]).unwrap();
    let answer = auth.register(&first.options, Format::None);
    let response = RegistrationResponse::parse(answer.to_string().as_bytes()).unwrap();
    assert_eq!(finish_registration(&rp(), &second.state, &response), Err(PasskeyError::ChallengeMismatch));
}

#[test]
fn tampered_packed_signature_is_refused() {
    let mut auth = authenticator(Algorithm::Es256);
    let started = start_registration(&rp(), USER, "member", "Member", &[]).unwrap();
    let mut answer = auth.register(&started.options, Format::Packed);
    // Other bytes for the same client data after signing (a space after a comma).
    let cd = answer["response"]["clientDataJSON"].as_str().unwrap().to_owned();
    let text = String::from_utf8(base64_decode(&cd)).unwrap().replacen(",\"origin\"", ", \"origin\"", 1);
    answer["response"]["clientDataJSON"] = Value::String(base64_encode(text.as_bytes()));
    let response = RegistrationResponse::parse(answer.to_string().as_bytes()).unwrap();
    let refusal = finish_registration(&rp(), &started.state, &response).unwrap_err();
    assert_eq!(refusal, PasskeyError::BadSignature);
}

#[test]
fn assertion_refusals() {
    let mut auth = authenticator(Algorithm::Es256);
    let passkey = stored(&register_with(&mut auth, Format::None).unwrap());

    auth.user_verified = false;
    assert_eq!(assert_with(&mut auth, &passkey).unwrap_err(), PasskeyError::UserNotVerified);
    auth.user_verified = true;

    // Another key under the same credential id: the signature fails.
    let mut impostor = authenticator(Algorithm::EdDsa);
    impostor.credential_id = auth.credential_id.clone();
    assert_eq!(assert_with(&mut impostor, &passkey).unwrap_err(), PasskeyError::BadSignature);

    // A counter that does not grow: a clone.
    let ok = assert_with(&mut auth, &passkey).unwrap();
    let advanced = StoredPasskey { state: ok.state, ..passkey.clone() };
    auth.counter = 0;
    assert_eq!(assert_with(&mut auth, &advanced).unwrap_err(), PasskeyError::Cloned);

    // A credential that was not offered.
    let mut other = SoftAuthenticator::new(Algorithm::Es256, [9; 32], RP, ORIGIN);
    let started = start_authentication(&rp(), &[known_of(&passkey)]).unwrap();
    let answer = other.assert(&started.options, &USER);
    let response = AssertionResponse::parse(answer.to_string().as_bytes()).unwrap();
    assert_eq!(response.credential_id(), other.credential_id);
    let refusal = finish_authentication(&rp(), &started.state, &response, &passkey).unwrap_err();
    assert_eq!(refusal, PasskeyError::UnknownCredential);
}

#[test]
fn replayed_assertion_fails_on_the_counter() {
    let mut auth = authenticator(Algorithm::EdDsa);
    let passkey = stored(&register_with(&mut auth, Format::None).unwrap());
    let started = start_authentication(&rp(), &[known_of(&passkey)]).unwrap();
    let answer = auth.assert(&started.options, &USER);
    let response = AssertionResponse::parse(answer.to_string().as_bytes()).unwrap();
    let ok = finish_authentication(&rp(), &started.state, &response, &passkey).unwrap();
    let after = StoredPasskey { state: ok.state, ..passkey };
    // Even with the ceremony state kept (the store makes it single use), the counter refuses it.
    assert_eq!(finish_authentication(&rp(), &started.state, &response, &after), Err(PasskeyError::Cloned));
}

#[test]
fn malformed_input() {
    for body in [&b"{"[..], b"{}", b"[]", br#"{"id":"!!","rawId":"!!","type":"public-key","response":{}}"#] {
        assert!(matches!(RegistrationResponse::parse(body), Err(PasskeyError::Malformed(_))));
        assert!(matches!(AssertionResponse::parse(body), Err(PasskeyError::Malformed(_))));
    }
    let mut auth = authenticator(Algorithm::Es256);
    let started = start_registration(&rp(), USER, "member", "Member", &[]).unwrap();
    let mut answer = auth.register(&started.options, Format::None);
    answer["response"]["attestationObject"] = Value::String(base64_encode(b"\xa3not cbor"));
    let parsed = RegistrationResponse::parse(answer.to_string().as_bytes());
    let refusal = match parsed {
        Ok(r) => finish_registration(&rp(), &started.state, &r).unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(refusal.code(), "malformed_credential", "{refusal:?}");
    assert_eq!(
        finish_registration(
            &rp(),
            b"garbage",
            &RegistrationResponse::parse(auth.register(&started.options, Format::None).to_string().as_bytes()).unwrap()
        ),
        Err(PasskeyError::CeremonyUnknown)
    );
}

#[test]
fn excluded_and_offered_credentials_appear_in_the_options() {
    let mut auth = authenticator(Algorithm::Es256);
    let passkey = register_with(&mut auth, Format::None).unwrap();
    let again = start_registration(&rp(), USER, "member", "Member", &[known(&passkey)]).unwrap();
    assert_eq!(again.options["excludeCredentials"][0]["id"], auth.credential_id_b64());
    assert_eq!(again.options["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(again.options["extensions"]["credentialProtectionPolicy"], "userVerificationRequired");
    assert_eq!(again.options["extensions"]["enforceCredentialProtectionPolicy"], false);
    let get = start_authentication(&rp(), &[known(&passkey)]).unwrap();
    assert_eq!(get.options["allowCredentials"][0]["id"], auth.credential_id_b64());
    assert_eq!(get.options["userVerification"], "required");
    assert_eq!(get.options["rpId"], RP);
    assert_eq!(start_authentication(&rp(), &[]).unwrap_err(), PasskeyError::NoCredential);
}

fn known_of(p: &StoredPasskey) -> Known {
    Known { id: p.id.clone(), transports: vec!["internal".into()] }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
