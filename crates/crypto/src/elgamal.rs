//! ElGamal over Ristretto255 for ballots, on `elastic-elgamal`: election
//! key pairs, a single-choice ballot encrypted with zero-knowledge proofs
//! (each option encrypts 0 or 1, and they sum to 1), homomorphic tallying,
//! and decryption with a proof anyone can check. Ballots, ciphertexts and
//! proofs travel as JSON (base64url inside).

use elastic_elgamal::app::{ChoiceParams, EncryptedChoice, SingleChoice};
use elastic_elgamal::group::{Ristretto, ScalarOps};
use elastic_elgamal::sharing;
use elastic_elgamal::{
    CandidateDecryption, Ciphertext, DiscreteLogTable, Keypair, LogEqualityProof, PublicKey, SecretKey,
    VerifiableDecryption,
};
use merlin::Transcript;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::CryptoError;

const DECRYPTION_TRANSCRIPT: &[u8] = b"vottery.tally-decryption";

pub struct ElectionKeys {
    pub secret: Zeroizing<Vec<u8>>,
    pub public: Vec<u8>,
}

pub fn generate<R: CryptoRng>(rng: &mut R) -> ElectionKeys {
    let keys = Keypair::<Ristretto>::generate(rng);
    let mut secret = Zeroizing::new(vec![0; Ristretto::SCALAR_SIZE]);
    Ristretto::serialize_scalar(keys.secret().expose_scalar(), &mut secret);
    ElectionKeys { secret, public: keys.public().as_bytes().to_vec() }
}

fn public_key(bytes: &[u8]) -> Result<PublicKey<Ristretto>, CryptoError> {
    PublicKey::from_bytes(bytes).map_err(|_| CryptoError::InvalidKey("not a Ristretto255 public key"))
}

fn keypair(secret: &[u8]) -> Result<Keypair<Ristretto>, CryptoError> {
    let secret =
        SecretKey::<Ristretto>::from_bytes(secret).ok_or(CryptoError::InvalidKey("not a Ristretto255 scalar"))?;
    Ok(Keypair::from(secret))
}

fn params(public: &[u8], options: u32) -> Result<ChoiceParams<Ristretto, SingleChoice>, CryptoError> {
    if !(1..=64).contains(&options) {
        return Err(CryptoError::InvalidInput("a ballot has 1 to 64 options"));
    }
    Ok(ChoiceParams::single(public_key(public)?, options as usize))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CryptoError> {
    serde_json::to_string(value).map_err(|_| CryptoError::InvalidInput("cannot encode"))
}

fn from_json<'a, T: serde::Deserialize<'a>>(text: &'a str, what: &'static str) -> Result<T, CryptoError> {
    serde_json::from_str(text).map_err(|_| CryptoError::InvalidInput(what))
}

/// Encrypts a vote for option `choice` of `options`, with its proofs.
pub fn encrypt_ballot<R: CryptoRng>(
    rng: &mut R,
    public: &[u8],
    options: u32,
    choice: u32,
) -> Result<String, CryptoError> {
    if choice >= options {
        return Err(CryptoError::InvalidInput("the choice is not one of the options"));
    }
    let ballot = EncryptedChoice::single(&params(public, options)?, choice as usize, rng);
    to_json(&ballot)
}

/// Checks a ballot's proofs; returns its per-option ciphertexts (JSON).
pub fn verify_ballot(public: &[u8], options: u32, ballot: &str) -> Result<String, CryptoError> {
    let ballot: EncryptedChoice<Ristretto, SingleChoice> = from_json(ballot, "not a ballot")?;
    let choices = ballot.verify(&params(public, options)?).map_err(|_| CryptoError::BadSignature)?;
    to_json(&choices.to_vec())
}

/// Adds verified ballots option by option (homomorphically).
pub fn tally(verified: &[String]) -> Result<String, CryptoError> {
    let mut total: Option<Vec<Ciphertext<Ristretto>>> = None;
    for ballot in verified {
        let choices: Vec<Ciphertext<Ristretto>> = from_json(ballot, "not a verified ballot")?;
        total = Some(match total {
            None => choices,
            Some(sum) if sum.len() == choices.len() => sum.into_iter().zip(choices).map(|(a, b)| a + b).collect(),
            Some(_) => return Err(CryptoError::InvalidInput("ballots have different option counts")),
        });
    }
    to_json(&total.ok_or(CryptoError::InvalidInput("no ballots"))?)
}

/// A decrypted count with the proof that it is the decryption.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProvenCount {
    pub count: u64,
    pub decryption: Vec<u8>,
    pub proof: LogEqualityProof<Ristretto>,
}

/// Decrypts each option's total (at most `max_count`) with proofs.
pub fn decrypt_tally<R: CryptoRng>(
    rng: &mut R,
    secret: &[u8],
    totals: &str,
    max_count: u64,
) -> Result<Vec<ProvenCount>, CryptoError> {
    let keys = keypair(secret)?;
    let totals: Vec<Ciphertext<Ristretto>> = from_json(totals, "not a tally")?;
    let table = DiscreteLogTable::<Ristretto>::new(0..=max_count);
    totals
        .into_iter()
        .map(|ciphertext| {
            let (decryption, proof) =
                VerifiableDecryption::new(ciphertext, &keys, &mut Transcript::new(DECRYPTION_TRANSCRIPT), rng);
            let count =
                decryption.decrypt(ciphertext, &table).ok_or(CryptoError::InvalidInput("count out of range"))?;
            Ok(ProvenCount { count, decryption: decryption.to_bytes(), proof })
        })
        .collect()
}

/// Checks that `counts` are the decryptions of `totals` under `public`.
pub fn verify_counts(public: &[u8], totals: &str, counts: &[ProvenCount], max_count: u64) -> Result<(), CryptoError> {
    let key = public_key(public)?;
    let totals: Vec<Ciphertext<Ristretto>> = from_json(totals, "not a tally")?;
    if totals.len() != counts.len() {
        return Err(CryptoError::InvalidInput("one count per option"));
    }
    let table = DiscreteLogTable::<Ristretto>::new(0..=max_count);
    for (ciphertext, count) in totals.into_iter().zip(counts) {
        let candidate =
            CandidateDecryption::<Ristretto>::from_bytes(&count.decryption).ok_or(CryptoError::BadSignature)?;
        let decryption = candidate
            .verify(ciphertext, &key, &count.proof, &mut Transcript::new(DECRYPTION_TRANSCRIPT))
            .map_err(|_| CryptoError::BadSignature)?;
        if decryption.decrypt(ciphertext, &table) != Some(count.count) {
            return Err(CryptoError::BadSignature);
        }
    }
    Ok(())
}

// ---- trustees: threshold decryption ------------------------------------

/// Election keys split among `n` trustees so that any `t` of them decrypt
/// together and fewer learn nothing (Feldman VSS, verifiable shares).
pub struct Trustees {
    /// The public key set (JSON): the shared public key and each trustee's.
    pub key_set: String,
    /// Each trustee's secret share (a Ristretto255 scalar), by index.
    pub shares: Vec<Zeroizing<Vec<u8>>>,
}

fn check_threshold(n: u32, t: u32) -> Result<sharing::Params, CryptoError> {
    if n == 0 || n > 64 || t == 0 || t > n {
        return Err(CryptoError::InvalidInput("trustees: 1 <= threshold <= count <= 64"));
    }
    Ok(sharing::Params::new(n as usize, t as usize))
}

pub fn deal_trustees<R: CryptoRng>(rng: &mut R, n: u32, t: u32) -> Result<Trustees, CryptoError> {
    let params = check_threshold(n, t)?;
    let dealer = sharing::Dealer::<Ristretto>::new(params, rng);
    let (polynomial, proof) = dealer.public_info();
    let key_set = sharing::PublicKeySet::new(params, polynomial, proof)
        .map_err(|_| CryptoError::InvalidInput("the dealt key set does not verify"))?;
    let shares = (0..n as usize)
        .map(|i| {
            let mut bytes = Zeroizing::new(vec![0; Ristretto::SCALAR_SIZE]);
            Ristretto::serialize_scalar(dealer.secret_share_for_participant(i).expose_scalar(), &mut bytes);
            bytes
        })
        .collect();
    Ok(Trustees { key_set: to_json(&key_set)?, shares })
}

fn key_set(json: &str) -> Result<sharing::PublicKeySet<Ristretto>, CryptoError> {
    from_json(json, "not a trustee key set")
}

/// The shared public key ballots are encrypted to.
pub fn shared_public_key(key_set_json: &str) -> Result<Vec<u8>, CryptoError> {
    Ok(key_set(key_set_json)?.shared_key().as_bytes().to_vec())
}

/// One trustee's decryption share of each option total, with proofs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DecryptionShare {
    pub index: u32,
    pub parts: Vec<(Vec<u8>, LogEqualityProof<Ristretto>)>,
}

pub fn decryption_share<R: CryptoRng>(
    rng: &mut R,
    key_set_json: &str,
    index: u32,
    secret_share: &[u8],
    totals: &str,
) -> Result<DecryptionShare, CryptoError> {
    let key_set = key_set(key_set_json)?;
    if index as usize >= key_set.params().shares {
        return Err(CryptoError::InvalidInput("no trustee with that index"));
    }
    let secret =
        SecretKey::<Ristretto>::from_bytes(secret_share).ok_or(CryptoError::InvalidKey("not a Ristretto255 scalar"))?;
    let participant = sharing::ActiveParticipant::new(key_set, index as usize, secret)
        .map_err(|_| CryptoError::InvalidKey("the share does not belong to this trustee"))?;
    let totals: Vec<Ciphertext<Ristretto>> = from_json(totals, "not a tally")?;
    let parts = totals
        .into_iter()
        .map(|ciphertext| {
            let (share, proof) = participant.decrypt_share(ciphertext, rng);
            (share.to_bytes(), proof)
        })
        .collect();
    Ok(DecryptionShare { index, parts })
}

/// Verifies each trustee's shares and, with at least the threshold of
/// valid ones, decrypts every option total (at most `max_count`).
pub fn combine_shares(
    key_set_json: &str,
    totals: &str,
    shares: &[DecryptionShare],
    max_count: u64,
) -> Result<Vec<u64>, CryptoError> {
    let key_set = key_set(key_set_json)?;
    let params = key_set.params();
    let totals: Vec<Ciphertext<Ristretto>> = from_json(totals, "not a tally")?;
    let table = DiscreteLogTable::<Ristretto>::new(0..=max_count);
    let mut counts = Vec::with_capacity(totals.len());
    for (option, ciphertext) in totals.into_iter().enumerate() {
        let mut verified = Vec::new();
        for share in shares {
            let index = share.index as usize;
            if index >= params.shares || verified.iter().any(|(i, _)| *i == index) {
                return Err(CryptoError::InvalidInput("a share names no trustee, or one twice"));
            }
            let (bytes, proof) =
                share.parts.get(option).ok_or(CryptoError::InvalidInput("a share misses an option"))?;
            let candidate = CandidateDecryption::<Ristretto>::from_bytes(bytes).ok_or(CryptoError::BadSignature)?;
            let valid =
                key_set.verify_share(candidate, ciphertext, index, proof).map_err(|_| CryptoError::BadSignature)?;
            verified.push((index, valid));
        }
        if verified.len() < params.threshold {
            return Err(CryptoError::InvalidInput("fewer shares than the threshold"));
        }
        let combined =
            params.combine_shares(verified).ok_or(CryptoError::InvalidInput("fewer shares than the threshold"))?;
        counts.push(combined.decrypt(ciphertext, &table).ok_or(CryptoError::InvalidInput("count out of range"))?);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use rand_core::UnwrapErr;

    use super::*;

    #[test]
    fn an_election_from_ballots_to_proven_counts() {
        let mut rng = UnwrapErr(getrandom::SysRng);
        let keys = generate(&mut rng);
        let votes = [0, 2, 2, 1, 2];
        let verified: Vec<String> = votes
            .iter()
            .map(|&v| {
                let ballot = encrypt_ballot(&mut rng, &keys.public, 3, v).unwrap();
                verify_ballot(&keys.public, 3, &ballot).unwrap()
            })
            .collect();
        let totals = tally(&verified).unwrap();
        let counts = decrypt_tally(&mut rng, &keys.secret, &totals, 100).unwrap();
        assert_eq!(counts.iter().map(|c| c.count).collect::<Vec<_>>(), [1, 1, 3]);
        assert_eq!(verify_counts(&keys.public, &totals, &counts, 100), Ok(()));

        let mut forged = counts.clone();
        forged[0].count = 2;
        assert_eq!(verify_counts(&keys.public, &totals, &forged, 100), Err(CryptoError::BadSignature));
        let other = generate(&mut rng);
        assert_eq!(verify_counts(&other.public, &totals, &counts, 100), Err(CryptoError::BadSignature));
    }

    #[test]
    fn two_of_three_trustees_decrypt_and_one_cannot() {
        let mut rng = UnwrapErr(getrandom::SysRng);
        let trustees = deal_trustees(&mut rng, 3, 2).unwrap();
        let public = shared_public_key(&trustees.key_set).unwrap();
        let verified: Vec<String> = [1, 1, 0]
            .iter()
            .map(|&v| verify_ballot(&public, 2, &encrypt_ballot(&mut rng, &public, 2, v).unwrap()).unwrap())
            .collect();
        let totals = tally(&verified).unwrap();
        let share = |i: u32| {
            decryption_share(
                &mut UnwrapErr(getrandom::SysRng),
                &trustees.key_set,
                i,
                &trustees.shares[i as usize],
                &totals,
            )
            .unwrap()
        };
        let (s0, s2) = (share(0), share(2));
        assert_eq!(combine_shares(&trustees.key_set, &totals, &[s0.clone(), s2.clone()], 10), Ok(vec![1, 2]));
        assert_eq!(
            combine_shares(&trustees.key_set, &totals, std::slice::from_ref(&s0), 10).unwrap_err().code(),
            "invalid_input"
        );
        assert_eq!(
            combine_shares(&trustees.key_set, &totals, &[s0.clone(), s0.clone()], 10).unwrap_err().code(),
            "invalid_input"
        );
        let mut forged = s2.clone();
        forged.index = 1;
        assert_eq!(combine_shares(&trustees.key_set, &totals, &[s0, forged], 10), Err(CryptoError::BadSignature));
        assert_eq!(
            decryption_share(&mut rng, &trustees.key_set, 1, &trustees.shares[0], &totals).unwrap_err().code(),
            "invalid_key"
        );
        assert!(deal_trustees(&mut rng, 2, 3).is_err());
        assert!(decryption_share(&mut rng, &trustees.key_set, 9, &trustees.shares[0], &totals).is_err());
    }

    #[test]
    fn ballots_with_bad_proofs_or_keys_are_refused() {
        let mut rng = UnwrapErr(getrandom::SysRng);
        let keys = generate(&mut rng);
        let ballot = encrypt_ballot(&mut rng, &keys.public, 3, 1).unwrap();
        let other = generate(&mut rng);
        assert_eq!(verify_ballot(&other.public, 3, &ballot), Err(CryptoError::BadSignature));
        assert!(verify_ballot(&keys.public, 4, &ballot).is_err());
        assert_eq!(verify_ballot(&keys.public, 3, "{}").unwrap_err().code(), "invalid_input");
        assert_eq!(encrypt_ballot(&mut rng, &keys.public, 3, 3).unwrap_err().code(), "invalid_input");
        assert_eq!(encrypt_ballot(&mut rng, b"junk", 3, 0).unwrap_err().code(), "invalid_key");

        // A ballot whose proof is for another ciphertext: swap two options.
        let mut value: serde_json::Value = serde_json::from_str(&ballot).unwrap();
        let text = value.to_string();
        let choices = value.get_mut("choices").and_then(|c| c.as_array_mut());
        if let Some(choices) = choices {
            choices.swap(0, 1);
            assert_ne!(value.to_string(), text);
            assert_eq!(verify_ballot(&keys.public, 3, &value.to_string()), Err(CryptoError::BadSignature));
        } else {
            panic!("unexpected ballot encoding: {text}");
        }
    }
}
