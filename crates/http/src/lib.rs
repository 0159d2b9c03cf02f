//! Transport-neutral HTTP pieces shared by every Vottery service.
//!
//! Nothing here depends on `spin-sdk`: components translate [`Problem`] and
//! [`Route`] outcomes into their own response types, so the logic is tested
//! natively.
#![forbid(unsafe_code)]

pub mod etag;
mod fault;
mod problem;
mod router;

pub use fault::{ApiError, answer, fault_line};
pub use problem::{PROBLEM_JSON, Problem};
pub use router::{Match, Method, Params, Route, Router};
