//! One error contract for every service: an error knows its problem answer
//! and, through `Display`, its full cause; a 5xx is logged as one line.

use serde::Serialize;

use crate::Problem;

/// A service's error: the problem+json it answers (causes of faults kept
/// out of it) and, as its `Display`, the cause the log gets.
pub trait ApiError: std::fmt::Display {
    fn problem(&self) -> Problem;
}

#[derive(Serialize)]
struct FaultLine<'a> {
    level: &'static str,
    service: &'a str,
    request_id: &'a str,
    status: u16,
    code: &'static str,
    cause: &'a str,
}

/// The structured log line of a 5xx answer: one JSON object, no newlines.
pub fn fault_line(service: &str, request_id: &str, problem: &Problem, cause: &str) -> String {
    let line = FaultLine { level: "error", service, request_id, status: problem.status(), code: problem.code(), cause };
    serde_json::to_string(&line).unwrap_or_else(|_| format!("{{\"level\":\"error\",\"service\":\"{service}\"}}"))
}

/// The answer for `error`, and the log line to write when it is a 5xx.
pub fn answer(service: &str, request_id: &str, error: &impl ApiError) -> (Problem, Option<String>) {
    let problem = error.problem();
    let line = (problem.status() >= 500).then(|| fault_line(service, request_id, &problem, &error.to_string()));
    (problem, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Down(&'static str);

    impl std::fmt::Display for Down {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "storage is unavailable: {}", self.0)
        }
    }

    impl ApiError for Down {
        fn problem(&self) -> Problem {
            Problem::new(503, "storage_unavailable", "Service unavailable").with_detail("storage is unavailable")
        }
    }

    struct Refused;

    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no such member")
        }
    }

    impl ApiError for Refused {
        fn problem(&self) -> Problem {
            Problem::new(404, "user_not_found", "Not found")
        }
    }

    #[test]
    fn a_server_error_is_logged_as_one_json_line_with_its_cause_and_request_id() -> Result<(), serde_json::Error> {
        let (problem, line) = answer("users", "req-1", &Down("connection refused\nby 10.0.0.5"));
        let line = line.unwrap_or_default();
        let logged: serde_json::Value = serde_json::from_str(&line)?;
        assert_eq!(problem.status(), 503);
        assert!(!line.contains('\n'));
        assert_eq!(logged["request_id"], "req-1");
        assert_eq!(logged["service"], "users");
        assert_eq!(logged["code"], "storage_unavailable");
        assert_eq!(logged["cause"], "storage is unavailable: connection refused\nby 10.0.0.5");
        Ok(())
    }

    #[test]
    fn the_cause_of_a_server_error_stays_out_of_the_answer() {
        let (problem, _) = answer("users", "req-1", &Down("10.0.0.5:5432"));
        assert!(!problem.to_json().contains("10.0.0.5"));
    }

    #[test]
    fn a_client_error_is_not_logged() {
        let (problem, line) = answer("users", "req-2", &Refused);
        assert_eq!((problem.status(), line), (404, None));
    }
}
