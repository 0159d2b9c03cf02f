//! One-time numeric codes, uniform over `0..10^digits`, from random
//! 64-bit candidates (rejection sampling: candidates past the largest
//! multiple of `10^digits` are skipped, so no code is likelier).

use crate::CryptoError;

/// Draws a `digits`-long code from `candidates`.
pub fn numeric_code(digits: u32, candidates: impl IntoIterator<Item = u64>) -> Result<String, CryptoError> {
    if !(6..=10).contains(&digits) {
        return Err(CryptoError::InvalidInput("codes have 6 to 10 digits"));
    }
    let modulus = 10u64.pow(digits);
    let limit = u64::MAX - (u64::MAX % modulus);
    candidates
        .into_iter()
        .find(|c| *c < limit)
        .map(|c| format!("{:0width$}", c % modulus, width = digits as usize))
        .ok_or(CryptoError::InvalidInput("not enough randomness"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_reduces() {
        assert_eq!(numeric_code(6, [42]).unwrap(), "000042");
        assert_eq!(numeric_code(6, [1_234_567]).unwrap(), "234567");
        assert_eq!(numeric_code(8, [99_999_999]).unwrap(), "99999999");
    }

    #[test]
    fn skips_biased_candidates() {
        assert_eq!(numeric_code(6, [u64::MAX, u64::MAX - 1, 7]).unwrap(), "000007");
        assert!(numeric_code(6, [u64::MAX]).is_err());
    }

    #[test]
    fn refuses_short_or_long_codes() {
        assert_eq!(numeric_code(4, [1]).unwrap_err().code(), "invalid_input");
        assert_eq!(numeric_code(11, [1]).unwrap_err().code(), "invalid_input");
    }
}
