//! The users service's logic, free of any platform: whether a visitor's
//! email and phone belong to one active Sngine account, and members'
//! profiles ([`profile`]), the activity they report ([`activity`]) and
//! their demographics ([`demographics`]).
//!
//! Sngine stores phones as its members typed them (`+44 7912 345678`,
//! `0044...`, `07912 345678`); the visitor's number is checked E.164, so a
//! stored number matches when its digits are the visitor's in any of those
//! forms.
#![forbid(unsafe_code)]

use vottery_validate::PhoneE164;

pub use vottery_validate::UserId;

/// An account of Sngine's with the visitor's email (from the view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub sngine_user_id: i64,
    pub phone: Option<String>,
    pub activated: bool,
    pub banned: bool,
}

/// The outcome of a contact match. Only [`MatchOutcome::Matched`] lets a
/// flow send codes; the others are recorded (never shown to the visitor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOutcome {
    Matched(i64),
    NoAccount,
    PhoneMismatch,
    Banned,
    Inactive,
}

impl MatchOutcome {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Matched(_) => "matched",
            Self::NoAccount => "no_account",
            Self::PhoneMismatch => "phone_mismatch",
            Self::Banned => "banned",
            Self::Inactive => "inactive",
        }
    }
}

/// Matches `phone` against the accounts that have the visitor's email.
pub fn match_account(phone: &PhoneE164, candidates: &[Candidate]) -> MatchOutcome {
    if candidates.is_empty() {
        return MatchOutcome::NoAccount;
    }
    let same: Vec<&Candidate> =
        candidates.iter().filter(|c| c.phone.as_deref().is_some_and(|p| same_phone(phone, p))).collect();
    if let Some(ok) = same.iter().find(|c| c.activated && !c.banned) {
        return MatchOutcome::Matched(ok.sngine_user_id);
    }
    match same.first() {
        Some(c) if c.banned => MatchOutcome::Banned,
        Some(_) => MatchOutcome::Inactive,
        None => MatchOutcome::PhoneMismatch,
    }
}

/// Whether a phone as Sngine stored it is the visitor's number.
pub fn same_phone(visitor: &PhoneE164, stored: &str) -> bool {
    let stored = stored.trim();
    let digits: String = stored.chars().filter(char::is_ascii_digit).collect();
    let international = &visitor.as_str()[1..];
    if digits.is_empty() || digits.len() > 17 {
        return false;
    }
    if stored.starts_with('+') {
        return digits == international;
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return rest == international;
    }
    digits == international || digits.trim_start_matches('0') == visitor.national()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uk() -> PhoneE164 {
        PhoneE164::parse("+447912345678", None).unwrap()
    }

    fn account(id: i64, phone: &str, activated: bool, banned: bool) -> Candidate {
        Candidate { sngine_user_id: id, phone: Some(phone.into()), activated, banned }
    }

    #[test]
    fn stored_phones_in_the_forms_members_type_them() {
        for same in ["+447912345678", "+44 7912 345678", "0044 7912 345678", "07912 345678", "447912345678"] {
            assert!(same_phone(&uk(), same), "{same}");
        }
        for other in ["+447912345679", "+33 7912 345678", "", "7912 34567", "+1 7912345678"] {
            assert!(!same_phone(&uk(), other), "{other}");
        }
    }

    #[test]
    fn outcomes() {
        assert_eq!(match_account(&uk(), &[]), MatchOutcome::NoAccount);
        assert_eq!(match_account(&uk(), &[account(1, "+447912345678", true, false)]), MatchOutcome::Matched(1));
        assert_eq!(match_account(&uk(), &[account(1, "+447000000000", true, false)]), MatchOutcome::PhoneMismatch);
        assert_eq!(match_account(&uk(), &[account(1, "+447912345678", true, true)]), MatchOutcome::Banned);
        assert_eq!(match_account(&uk(), &[account(1, "+447912345678", false, false)]), MatchOutcome::Inactive);
        let none = Candidate { sngine_user_id: 3, phone: None, activated: true, banned: false };
        assert_eq!(match_account(&uk(), &[none]), MatchOutcome::PhoneMismatch);
        let two = [account(1, "+447912345678", true, true), account(2, "07912 345678", true, false)];
        assert_eq!(match_account(&uk(), &two), MatchOutcome::Matched(2));
    }
}

pub mod activity;
pub mod demographics;
pub mod directory;
mod error;
pub mod history;
pub mod profile;
pub mod rights;
pub use error::UsersError;
