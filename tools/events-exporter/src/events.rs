//! From one message on `<ns>:events` to the counters it bumps. Pure: no
//! I/O, no state. Every label value comes from a fixed set; a value outside
//! it becomes `other` and a missing one `unknown`, so whoever can publish on
//! the channel cannot grow the number of series.

use serde_json::Value;

/// The domain counters, each exported as `vottery_<name>_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Domain {
    ContactMatches,
    OtpDecoyFlows,
    OtpCodesSent,
    OtpSendFailures,
    OtpCodesResent,
    OtpDecoyResends,
    OtpCodesVerified,
    OtpCodesFailed,
    OtpLockouts,
    PasskeysEnrolled,
    PasskeysAsserted,
    PasskeysRefused,
    PasskeysCloneSuspected,
    PasskeysRemoved,
    SessionsOpened,
    SessionsRefreshed,
    SessionsRevoked,
    RefreshReuse,
    DevicesRegistered,
    DevicesRemoved,
}

impl Domain {
    pub const ALL: [Domain; 20] = [
        Domain::ContactMatches,
        Domain::OtpDecoyFlows,
        Domain::OtpCodesSent,
        Domain::OtpSendFailures,
        Domain::OtpCodesResent,
        Domain::OtpDecoyResends,
        Domain::OtpCodesVerified,
        Domain::OtpCodesFailed,
        Domain::OtpLockouts,
        Domain::PasskeysEnrolled,
        Domain::PasskeysAsserted,
        Domain::PasskeysRefused,
        Domain::PasskeysCloneSuspected,
        Domain::PasskeysRemoved,
        Domain::SessionsOpened,
        Domain::SessionsRefreshed,
        Domain::SessionsRevoked,
        Domain::RefreshReuse,
        Domain::DevicesRegistered,
        Domain::DevicesRemoved,
    ];

    /// The metric name without the `_total` the encoder adds, and its help.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Self::ContactMatches => {
                ("vottery_contact_matches", "Contact pairs checked by send-otp, by outcome and reason")
            }
            Self::OtpDecoyFlows => {
                ("vottery_otp_decoy_flows", "Flows opened for an unmatched pair: nothing sent, timing imitated")
            }
            Self::OtpCodesSent => {
                ("vottery_otp_codes_sent", "One-time codes delivered to the provider by send-otp, by channel")
            }
            Self::OtpSendFailures => {
                ("vottery_otp_send_failures", "Codes the provider rejected or could not take, by channel")
            }
            Self::OtpCodesResent => ("vottery_otp_codes_resent", "Codes delivered by resend-otp, by channel"),
            Self::OtpDecoyResends => ("vottery_otp_decoy_resends", "resend-otp calls on decoy flows, by channel"),
            Self::OtpCodesVerified => ("vottery_otp_codes_verified", "Codes accepted by verify-otp, by channel"),
            Self::OtpCodesFailed => ("vottery_otp_codes_failed", "Wrong codes presented to verify-otp, by channel"),
            Self::OtpLockouts => ("vottery_otp_lockouts", "Contact pairs locked out after too many wrong codes"),
            Self::PasskeysEnrolled => ("vottery_passkeys_enrolled", "Passkeys registered"),
            Self::PasskeysAsserted => ("vottery_passkeys_asserted", "Passkey sign-ins accepted"),
            Self::PasskeysRefused => ("vottery_passkeys_refused", "Passkey ceremonies refused, by error code"),
            Self::PasskeysCloneSuspected => ("vottery_passkeys_clone_suspected", "Passkeys flagged as cloned"),
            Self::PasskeysRemoved => ("vottery_passkeys_removed", "Passkeys removed, by reason"),
            Self::SessionsOpened => ("vottery_sessions_opened", "Sessions opened"),
            Self::SessionsRefreshed => ("vottery_sessions_refreshed", "Refresh tokens rotated, by rotation kind"),
            Self::SessionsRevoked => ("vottery_sessions_revoked", "Sessions revoked, by reason"),
            Self::RefreshReuse => {
                ("vottery_refresh_reuse", "Spent refresh tokens presented again (the session is revoked)")
            }
            Self::DevicesRegistered => ("vottery_devices_registered", "Devices registered, by kind"),
            Self::DevicesRemoved => ("vottery_devices_removed", "Devices removed"),
        }
    }

    /// The series exported at 0 before any event: one per channel for the
    /// code counters, the bare series for counters without labels.
    pub fn initial_series(self) -> Vec<Labels> {
        match self {
            Self::OtpCodesSent | Self::OtpCodesResent | Self::OtpCodesVerified | Self::OtpCodesFailed => {
                CHANNELS.iter().map(|channel| vec![("channel", *channel)]).collect()
            }
            Self::ContactMatches
            | Self::OtpSendFailures
            | Self::OtpDecoyResends
            | Self::PasskeysRefused
            | Self::PasskeysRemoved
            | Self::SessionsRefreshed
            | Self::SessionsRevoked
            | Self::DevicesRegistered => vec![],
            _ => vec![vec![]],
        }
    }
}

/// Label pairs of one series, every value from a fixed set.
pub type Labels = Vec<(&'static str, &'static str)>;

/// One counter to raise by `by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bump {
    pub counter: Domain,
    pub labels: Labels,
    pub by: u64,
}

/// A well-formed event: its `type` and `service` (checked for shape, not
/// against a list, so new types show in `vottery_events_total`) and the
/// domain counters it bumps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: String,
    pub service: String,
    pub bumps: Vec<Bump>,
}

pub const CHANNELS: &[&str] = &["email", "sms"];
pub const RATE_LIMIT_CLASSES: &[&str] =
    &["otp-send", "otp-verify", "passkey", "refresh", "admin", "activity", "read", "write"];
const SEND_FAILURES: &[&str] = &["rejected", "unavailable"];
const MATCH_REASONS: &[&str] = &["matched", "no_account", "phone_mismatch", "banned", "inactive"];
const ROTATIONS: &[&str] = &["rotated", "sibling"];
const REVOKE_REASONS: &[&str] = &["logout", "refresh_reuse", "revoked_by_member", "device_removed", "member_erased"];
const PASSKEY_REMOVALS: &[&str] = &["device_removed", "member_erased"];
const DEVICE_KINDS: &[&str] = &["web", "desktop", "laptop", "tablet", "ios", "android"];
/// The codes of `vottery_passkeys_core::PasskeyError::code`.
const PASSKEY_REFUSALS: &[&str] = &[
    "malformed_credential",
    "challenge_unknown",
    "challenge_mismatch",
    "origin_not_allowed",
    "rp_id_mismatch",
    "client_data_type",
    "user_not_present",
    "user_not_verified",
    "algorithm_not_supported",
    "attestation_not_supported",
    "signature_invalid",
    "authenticator_cloned",
    "credential_unknown",
    "no_passkey",
    "credential_exists",
    "credential_rejected",
    "enrolment_token_missing",
    "enrolment_token_invalid",
    "enrolment_token_expired",
    "enrolment_token_used",
    "device_of_another_member",
    "assertion_replayed",
    "platform_authenticator_unavailable",
    "internal_error",
];
/// A single event never stands for more than this many codes or passkeys.
const MAX_BY: u64 = 100;

/// `value` if it is one of `set`, else `other`; `unknown` when absent.
pub fn bounded(value: Option<&str>, set: &[&'static str]) -> &'static str {
    match value {
        None => "unknown",
        Some(v) => set.iter().copied().find(|s| *s == v).unwrap_or("other"),
    }
}

/// A `type` or `service` as a label: lowercase letters, digits, `.`, `_`,
/// `-`, at most 64 characters; anything else is `other`.
fn name_label(value: Option<&str>) -> String {
    match value {
        None => "unknown".to_owned(),
        Some(v)
            if !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)) =>
        {
            v.to_owned()
        }
        Some(_) => "other".to_owned(),
    }
}

/// Parses one message; `None` when it is not a JSON object with a string
/// `type`.
pub fn parse(payload: &[u8]) -> Option<Event> {
    let value: Value = serde_json::from_slice(payload).ok()?;
    let kind = value.get("type")?.as_str()?;
    Some(Event {
        kind: name_label(Some(kind)),
        service: name_label(value.get("service").and_then(Value::as_str)),
        bumps: bumps(kind, &value),
    })
}

/// The counters an event of type `kind` bumps.
pub fn bumps(kind: &str, event: &Value) -> Vec<Bump> {
    let text = |field: &str| event.get(field).and_then(Value::as_str);
    let one = |counter: Domain, labels: Labels| vec![Bump { counter, labels, by: 1 }];
    match kind {
        "contact.matched" | "contact.not_matched" => {
            let matched = kind == "contact.matched";
            let outcome = if matched { "matched" } else { "not_matched" };
            let mut out = one(
                Domain::ContactMatches,
                vec![("outcome", outcome), ("reason", bounded(text("reason"), MATCH_REASONS))],
            );
            if !matched {
                out.push(Bump { counter: Domain::OtpDecoyFlows, labels: vec![], by: 1 });
            }
            out
        }
        "otp.sent" | "otp.send_failed" => {
            CHANNELS.iter().filter_map(|channel| delivery(channel, text(channel), Domain::OtpCodesSent, None)).collect()
        }
        "otp.resent" => {
            let channel = bounded(text("channel"), CHANNELS);
            delivery(channel, text("delivery"), Domain::OtpCodesResent, Some(Domain::OtpDecoyResends))
                .into_iter()
                .collect()
        }
        "otp.verified" | "otp.failed" => verification(kind, event),
        "otp.locked_out" => one(Domain::OtpLockouts, vec![]),
        "passkey.enrolled" => one(Domain::PasskeysEnrolled, vec![]),
        "passkey.asserted" => one(Domain::PasskeysAsserted, vec![]),
        "passkey.refused" => one(Domain::PasskeysRefused, vec![("reason", bounded(text("code"), PASSKEY_REFUSALS))]),
        "passkey.clone_suspected" => one(Domain::PasskeysCloneSuspected, vec![]),
        "passkey.removed" => {
            let reason = match text("reason") {
                None if event.get("device_id").is_some() => "device_removed",
                reason => bounded(reason, PASSKEY_REMOVALS),
            };
            let by = event.get("count").and_then(Value::as_u64).unwrap_or(1).min(MAX_BY);
            vec![Bump { counter: Domain::PasskeysRemoved, labels: vec![("reason", reason)], by }]
        }
        "session.opened" => one(Domain::SessionsOpened, vec![]),
        "session.refreshed" => one(Domain::SessionsRefreshed, vec![("rotation", bounded(text("rotation"), ROTATIONS))]),
        "session.revoked" => one(Domain::SessionsRevoked, vec![("reason", bounded(text("reason"), REVOKE_REASONS))]),
        "refresh.reused" => one(Domain::RefreshReuse, vec![]),
        "device.registered" => one(Domain::DevicesRegistered, vec![("kind", bounded(text("kind"), DEVICE_KINDS))]),
        "device.removed" => one(Domain::DevicesRemoved, vec![]),
        _ => vec![],
    }
}

/// One channel's delivery outcome (`delivered`, `rejected`, `unavailable`,
/// or `not_sent` on a decoy flow): the success counter, a send failure, or
/// the decoy counter; nothing when the event does not name one.
fn delivery(channel: &'static str, outcome: Option<&str>, sent: Domain, decoy: Option<Domain>) -> Option<Bump> {
    let counter = match outcome? {
        "delivered" => sent,
        "not_sent" => decoy?,
        failure => {
            let labels = vec![("channel", channel), ("outcome", bounded(Some(failure), SEND_FAILURES))];
            return Some(Bump { counter: Domain::OtpSendFailures, labels, by: 1 });
        }
    };
    Some(Bump { counter, labels: vec![("channel", channel)], by: 1 })
}

/// `otp.verified` and `otp.failed`. With `verified_channels` and
/// `failed_channels` (arrays of channel names) each code counts on its
/// channel; without them (what `auth` publishes today: only the number of
/// wrong codes) they count on channel `unknown`.
fn verification(kind: &str, event: &Value) -> Vec<Bump> {
    let channels = |field: &str| {
        event.get(field).and_then(Value::as_array).map(|names| {
            names
                .iter()
                .take(CHANNELS.len())
                .map(|n| bounded(Some(n.as_str().unwrap_or("")), CHANNELS))
                .collect::<Vec<_>>()
        })
    };
    let (verified, failed) = (channels("verified_channels"), channels("failed_channels"));
    if verified.is_none() && failed.is_none() {
        let wrong = event.get("wrong").and_then(Value::as_u64).unwrap_or(0).clamp(1, CHANNELS.len() as u64);
        let (counter, by) =
            if kind == "otp.failed" { (Domain::OtpCodesFailed, wrong) } else { (Domain::OtpCodesVerified, 1) };
        return vec![Bump { counter, labels: vec![("channel", "unknown")], by }];
    }
    let bump =
        |counter: Domain| move |channel: &'static str| Bump { counter, labels: vec![("channel", channel)], by: 1 };
    let verified = verified.unwrap_or_default().into_iter().map(bump(Domain::OtpCodesVerified));
    verified.chain(failed.unwrap_or_default().into_iter().map(bump(Domain::OtpCodesFailed))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bumps_of(event: Value) -> Option<Vec<Bump>> {
        parse(event.to_string().as_bytes()).map(|e| e.bumps)
    }

    fn bump(counter: Domain, labels: &[(&'static str, &'static str)], by: u64) -> Bump {
        Bump { counter, labels: labels.to_vec(), by }
    }

    #[test]
    fn a_message_that_is_not_a_json_object_with_a_string_type_is_malformed() {
        for payload in [&b"not json"[..], b"[]", b"{}", b"{\"type\": 7}", b"\"otp.sent\""] {
            assert_eq!(parse(payload), None, "{}", String::from_utf8_lossy(payload));
        }
    }

    #[test]
    fn an_unknown_type_is_counted_by_name_and_bumps_no_domain_counter() {
        let event = parse(br#"{"type":"ballot.cast","service":"votes","at":1}"#);

        assert_eq!(event, Some(Event { kind: "ballot.cast".into(), service: "votes".into(), bumps: vec![] }));
    }

    #[test]
    fn a_type_or_service_of_the_wrong_shape_becomes_other_and_a_missing_service_unknown() {
        let long = "a".repeat(65);

        let odd = parse(json!({ "type": "Otp Sent\n", "service": long }).to_string().as_bytes());
        let bare = parse(br#"{"type":"otp.sent"}"#);

        assert_eq!(odd.map(|e| (e.kind, e.service)), Some(("other".into(), "other".into())));
        assert_eq!(bare.map(|e| e.service), Some("unknown".into()));
    }

    #[test]
    fn a_sent_flow_counts_a_code_per_channel_and_a_failed_channel_as_a_send_failure() {
        let sent = bumps_of(json!({ "type": "otp.sent", "email": "delivered", "sms": "delivered" }));
        let failed = bumps_of(json!({ "type": "otp.send_failed", "email": "delivered", "sms": "unavailable" }));

        let code = |channel| bump(Domain::OtpCodesSent, &[("channel", channel)], 1);
        assert_eq!(sent, Some(vec![code("email"), code("sms")]));
        let failure = bump(Domain::OtpSendFailures, &[("channel", "sms"), ("outcome", "unavailable")], 1);
        assert_eq!(failed, Some(vec![code("email"), failure]));
    }

    #[test]
    fn an_unmatched_contact_is_a_decoy_flow() {
        let not_matched = bumps_of(json!({ "type": "contact.not_matched", "reason": "phone_mismatch" }));
        let matched = bumps_of(json!({ "type": "contact.matched", "reason": "matched" }));

        let matches = |outcome, reason| bump(Domain::ContactMatches, &[("outcome", outcome), ("reason", reason)], 1);
        assert_eq!(
            not_matched,
            Some(vec![matches("not_matched", "phone_mismatch"), bump(Domain::OtpDecoyFlows, &[], 1)])
        );
        assert_eq!(matched, Some(vec![matches("matched", "matched")]));
    }

    #[test]
    fn a_resend_counts_by_its_delivery_and_a_decoy_resend_apart() {
        let resent = bumps_of(json!({ "type": "otp.resent", "channel": "sms", "delivery": "delivered" }));
        let decoy = bumps_of(json!({ "type": "otp.resent", "channel": "email", "delivery": "not_sent" }));
        let rejected = bumps_of(json!({ "type": "otp.resent", "channel": "email", "delivery": "rejected" }));

        assert_eq!(resent, Some(vec![bump(Domain::OtpCodesResent, &[("channel", "sms")], 1)]));
        assert_eq!(decoy, Some(vec![bump(Domain::OtpDecoyResends, &[("channel", "email")], 1)]));
        let failure = bump(Domain::OtpSendFailures, &[("channel", "email"), ("outcome", "rejected")], 1);
        assert_eq!(rejected, Some(vec![failure]));
    }

    #[test]
    fn verifications_without_channel_lists_count_on_channel_unknown() {
        let verified = bumps_of(json!({ "type": "otp.verified", "email": true, "sms": false, "wrong": 0 }));
        let failed = bumps_of(json!({ "type": "otp.failed", "email": false, "sms": false, "wrong": 2 }));
        let absurd = bumps_of(json!({ "type": "otp.failed", "wrong": 1_000_000 }));

        assert_eq!(verified, Some(vec![bump(Domain::OtpCodesVerified, &[("channel", "unknown")], 1)]));
        assert_eq!(failed, Some(vec![bump(Domain::OtpCodesFailed, &[("channel", "unknown")], 2)]));
        assert_eq!(absurd, Some(vec![bump(Domain::OtpCodesFailed, &[("channel", "unknown")], 2)]));
    }

    #[test]
    fn verifications_with_channel_lists_count_each_code_on_its_channel() {
        let event =
            json!({ "type": "otp.failed", "verified_channels": ["email"], "failed_channels": ["sms", "fax", "sms"] });

        let bumps = bumps_of(event);

        let expected = vec![
            bump(Domain::OtpCodesVerified, &[("channel", "email")], 1),
            bump(Domain::OtpCodesFailed, &[("channel", "sms")], 1),
            bump(Domain::OtpCodesFailed, &[("channel", "other")], 1),
        ];
        assert_eq!(bumps, Some(expected));
    }

    #[test]
    fn label_values_outside_their_sets_become_other_and_missing_ones_unknown() {
        let revoked = bumps_of(json!({ "type": "session.revoked", "reason": "<script>" }));
        let refused = bumps_of(json!({ "type": "passkey.refused" }));
        let device = bumps_of(json!({ "type": "device.registered", "kind": "ios" }));

        assert_eq!(revoked, Some(vec![bump(Domain::SessionsRevoked, &[("reason", "other")], 1)]));
        assert_eq!(refused, Some(vec![bump(Domain::PasskeysRefused, &[("reason", "unknown")], 1)]));
        assert_eq!(device, Some(vec![bump(Domain::DevicesRegistered, &[("kind", "ios")], 1)]));
    }

    #[test]
    fn removed_passkeys_count_by_the_events_count_with_their_reason() {
        let device = bumps_of(json!({ "type": "passkey.removed", "device_id": "d1", "count": 2 }));
        let erased = bumps_of(json!({ "type": "passkey.removed", "count": 3, "reason": "member_erased" }));

        assert_eq!(device, Some(vec![bump(Domain::PasskeysRemoved, &[("reason", "device_removed")], 2)]));
        assert_eq!(erased, Some(vec![bump(Domain::PasskeysRemoved, &[("reason", "member_erased")], 3)]));
    }

    #[test]
    fn session_and_device_events_bump_their_counters() {
        let cases = [
            ("session.opened", Domain::SessionsOpened),
            ("refresh.reused", Domain::RefreshReuse),
            ("device.removed", Domain::DevicesRemoved),
            ("otp.locked_out", Domain::OtpLockouts),
            ("passkey.enrolled", Domain::PasskeysEnrolled),
            ("passkey.asserted", Domain::PasskeysAsserted),
            ("passkey.clone_suspected", Domain::PasskeysCloneSuspected),
        ];
        for (kind, counter) in cases {
            assert_eq!(bumps_of(json!({ "type": kind })), Some(vec![bump(counter, &[], 1)]), "{kind}");
        }
        let refreshed = bumps_of(json!({ "type": "session.refreshed", "rotation": "sibling" }));
        assert_eq!(refreshed, Some(vec![bump(Domain::SessionsRefreshed, &[("rotation", "sibling")], 1)]));
    }
}
