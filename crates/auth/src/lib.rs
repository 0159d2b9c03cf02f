//! The auth service's logic for steps 1 and 2, free of any platform: the
//! verification flow, the one-time code policy, send limits, the texts
//! sent, the provider requests that carry them, and the errors.
//!
//! # The verification flow
//!
//! ```text
//!  send-otp ──▶ codes ──(email and SMS codes both verified)──▶ biometric ──▶ (step 3, WebAuthn)
//!                 │  ▲
//!                 │  └─ resend-otp (per channel: cooldown, at most `max_sends`)
//!                 └──(flow_ttl elapses)──▶ expired
//! ```
//!
//! Step 3 (the enrolment token, the ceremony, its single use, the first
//! session) goes on in `vottery_passkeys_core::step3`.
//!
//! `send-otp` always opens a flow, whether or not the contacts matched a
//! Sngine account, so the answer is the same either way. A flow for
//! contacts that did not match is a *decoy*: it holds a code hash nobody was
//! sent, so it can never advance, and it goes through the same checks,
//! counters and storage as a real one.
//!
//! # One-time code lifecycle (per channel)
//!
//! ```text
//!  issued ──(provider accepted)──▶ delivered ──(right code, in time)──▶ verified (single use)
//!    │                               │ └──(wrong code: attempts + 1; at max_attempts the code is burnt)
//!    └──(provider failed: not counted as sent, no cooldown)    └──(code_ttl elapses)──▶ expired
//! ```
//!
//! Codes are stored only as keyed hashes over the flow id, the channel and
//! the code, so a code of another flow or channel never matches, and they
//! are compared in constant time. The clock and the random codes are passed
//! in, so every window is testable to the second.
#![forbid(unsafe_code)]

mod code;
mod error;
mod flow;
mod limits;
mod messages;
mod policy;
mod providers;

pub use code::{Channel, CodeHasher, OtpCode};
pub use error::AuthError;
pub use flow::{ChannelState, Flow, FlowId, Step};
pub use limits::{LockState, SendCounts, SendScope, check_lockout, lock_schedule, phone_prefix};
pub use messages::{Language, Message, Messages};
pub use policy::Policy;
pub use providers::{Delivery, MailProvider, Outgoing, Sender, SmsProvider, SmsSettings, approved, classify};
