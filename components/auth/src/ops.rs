//! The routes of steps 1-2: parse, call the flow logic of
//! `vottery-auth-core`, do the I/O (users, providers, Redis, audit), answer.

use futures::future::join;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use spin_sdk::http::Request;
use spin_sdk::pg::Connection as Pg;
use spin_sdk::wasip3::clocks::monotonic_clock;
use vottery_auth_core::{
    AuthError, Channel, Flow, FlowId, Language, OtpCode, SendCounts, SendScope, Step, approved, check_lockout,
    phone_prefix,
};
use vottery_component_kit::contracts::security::{ENROLMENT_AUDIENCE, EnrolmentClaims, SignToken, TokenType};
use vottery_component_kit::contracts::users;
use vottery_component_kit::crypto::{aead, random};
use vottery_component_kit::{self as kit, Actor};
use vottery_validate::{Email, PhoneE164, ValidationError, decode_base64url, encode_base64url};

use crate::delivery::{Outcome, deliver, exchange, sleep_us};
use crate::settings::{Core, Sending};
use crate::store::{Loaded, Store, Timing, audit, audit_log};

type Reply = Result<kit::Response, AuthError>;

/// How many times a flow update is retried when another request changed
/// the flow between read and write.
const CAS_RETRIES: usize = 3;

fn crypto(e: impl std::fmt::Debug) -> AuthError {
    AuthError::Internal(format!("crypto: {e:?}"))
}

fn random_array<const N: usize>() -> Result<[u8; N], AuthError> {
    let bytes = random::bytes(u32::try_from(N).unwrap_or(0)).map_err(crypto)?;
    bytes.try_into().map_err(|_| AuthError::Internal("short random".into()))
}

fn new_code(digits: u8) -> Result<OtpCode, AuthError> {
    let raw = random::numeric_code(digits).map_err(crypto)?;
    Ok(OtpCode::parse(&raw, digits)?)
}

/// The visitor's address: the connection's peer, or behind the proxies in
/// the `trusted_proxies` variable, the address they forwarded.
pub async fn visitor_ip(request: &Request) -> Result<String, AuthError> {
    let proxies = kit::variable("trusted_proxies").await.unwrap_or_default();
    let forwarded = kit::forwarded_for(request);
    vottery_devices_core::visitor_ip(&kit::client_ip(request), forwarded.as_deref(), &proxies)
        .map_err(AuthError::Misconfigured)
}

fn header(request: &Request, name: &str) -> String {
    request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn seal_contacts(core: &Core, flow: &FlowId, email: &Email, phone: &PhoneE164) -> Result<String, AuthError> {
    let plain = json!({ "email": email.as_str(), "phone": phone.as_str() }).to_string();
    let sealed = aead::seal(&core.keyed.derive("flow-contacts"), flow.as_str().as_bytes(), plain.as_bytes());
    Ok(encode_base64url(&sealed.map_err(crypto)?))
}

fn open_contacts(core: &Core, flow: &Flow) -> Result<(Email, PhoneE164), AuthError> {
    let sealed = decode_base64url("contacts", &flow.contacts, 1024).map_err(|e| AuthError::Internal(e.to_string()))?;
    let plain =
        aead::open(&core.keyed.derive("flow-contacts"), &sealed, flow.id.as_str().as_bytes()).map_err(crypto)?;
    let v: Value = serde_json::from_slice(&plain).map_err(|e| AuthError::Internal(e.to_string()))?;
    let email = Email::parse(v["email"].as_str().unwrap_or_default())?;
    Ok((email, PhoneE164::parse(v["phone"].as_str().unwrap_or_default(), None)?))
}

/// The keyed tag of an email and phone pair, which the lockout counts by.
fn pair_tag(core: &Core, email: &Email, phone: &PhoneE164) -> String {
    core.keyed.tag("pair", &format!("{}\n{}", email.as_str(), phone.as_str()))
}

fn counters(core: &Core, ip: &str, email: &Email, phone: &PhoneE164, scopes: &[SendScope]) -> Vec<String> {
    scopes
        .iter()
        .map(|scope| {
            let tag = match scope {
                SendScope::Ip => core.keyed.tag("ip", ip),
                SendScope::Email => core.keyed.tag("email", email.as_str()),
                SendScope::Phone => core.keyed.tag("phone", phone.as_str()),
                SendScope::Prefix => phone_prefix(phone),
            };
            format!("{}:{tag}", scope.as_str())
        })
        .collect()
}

/// Counts the send and refuses it when a limit or a lockout says so.
async fn admit(
    store: &Store,
    core: &Core,
    contact: &str,
    keys: &[String],
    scopes: &[SendScope],
    now: i64,
) -> Result<(u64, i64), AuthError> {
    let (window, _) = SendCounts::window(now, &core.policy);
    let admission = store
        .admit(contact, &keys.iter().map(|k| format!("{k}:{window}")).collect::<Vec<_>>(), core.policy.send_window)
        .await?;
    check_lockout(&admission.lock, &core.policy)?;
    let counts = SendCounts { counts: scopes.iter().copied().zip(admission.counts).collect() };
    counts.check(now, &core.policy)?;
    Ok((admission.send_time_us, admission.overshoot_us))
}

fn provider_error(channel: Channel, outcome: Outcome, flow: &FlowId) -> Option<AuthError> {
    match outcome {
        Outcome::Delivered => None,
        Outcome::Rejected(status) => {
            Some(AuthError::ProviderRejected { channel, status, flow_id: flow.as_str().into() })
        }
        Outcome::Unavailable => Some(AuthError::ProviderUnavailable { channel, flow_id: flow.as_str().into() }),
    }
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Delivered => "delivered",
        Outcome::Rejected(_) => "rejected",
        Outcome::Unavailable => "unavailable",
    }
}

/// Sends `code` on `channel` through its provider.
async fn send_code(
    sending: &Sending,
    core: &Core,
    flow: &Flow,
    channel: Channel,
    code: &OtpCode,
    email: &Email,
    phone: &PhoneE164,
) -> Outcome {
    let language = Language::choose(&flow.language, &sending.messages);
    let message = sending.messages.render(&language, channel, code, core.policy.code_ttl);
    let request = match channel {
        Channel::Email => sending.mail.message(&sending.mail_from, email, &message),
        Channel::Sms => sending.sms.message(phone, &message.text, language.as_str()),
    };
    deliver(&request, &core.policy).await
}

/// Issues the SMS code: ours, or the provider's when it makes and checks
/// codes (Twilio Verify). A decoy always gets one of ours (never sent).
fn issue_sms(flow: &mut Flow, sending: &Sending, code: &OtpCode, core: &Core, now: i64) -> Result<(), AuthError> {
    if flow.subject.is_some() && sending.sms.checks_codes() {
        flow.issue_external(Channel::Sms, now, &core.policy)
    } else {
        flow.issue(Channel::Sms, code, &core.keyed, now, &core.policy)
    }
}

/// Checks a code the provider made (Twilio Verify): whether it approved it.
async fn provider_check(core: &Core, flow: &Flow, channel: Channel, code: &OtpCode) -> Result<bool, AuthError> {
    let sending = Sending::load().await?;
    let (_, phone) = open_contacts(core, flow)?;
    let Some(request) = sending.sms.check(&phone, code.as_str()) else {
        return Err(AuthError::Misconfigured("the SMS provider no longer checks codes".into()));
    };
    match exchange(&request, &core.policy).await {
        Ok(body) => Ok(approved(&body)),
        // Twilio answers 404 once a verification expired, was used or spent.
        Err(Outcome::Rejected(404)) => Ok(false),
        Err(outcome) => {
            Err(provider_error(channel, outcome, &flow.id)
                .unwrap_or_else(|| AuthError::Internal("provider check".into())))
        }
    }
}

/// What a decoy waits: the mean real send time less what this request
/// already spent, ±10%, so matched and unmatched answers take as long. The
/// platform's timer overshoots short waits (about a millisecond), so the
/// mean overshoot is asked for less; returns this wait's overshoot.
async fn wait_like_a_send(mean_us: u64, spent_us: u64, overshoot_us: i64) -> Result<i64, AuthError> {
    let jitter = u64::from(u16::from_le_bytes(random_array::<2>()?));
    let target = mean_us.saturating_mul(90 + jitter % 21) / 100;
    let ask = i64::try_from(target.saturating_sub(spent_us)).unwrap_or(0).saturating_sub(overshoot_us.max(0)).max(0);
    let asked = u64::try_from(ask).unwrap_or(0);
    let before = monotonic_clock::now();
    if asked > 0 {
        sleep_us(asked).await;
    }
    Ok(i64::try_from(elapsed_us(before)).unwrap_or(0) - ask)
}

fn elapsed_us(since: u64) -> u64 {
    monotonic_clock::now().saturating_sub(since) / 1000
}

fn event(kind: &str, flow: &FlowId, now: i64, extra: Value) -> Value {
    let mut e = json!({ "type": kind, "service": "auth", "flow_id": flow.as_str(), "at": now });
    if let (Some(map), Value::Object(more)) = (e.as_object_mut(), extra) {
        map.extend(more);
    }
    e
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    email: String,
    phone: String,
    #[serde(default)]
    language: Option<String>,
    /// What the frontend reports of the device; accepted and not used yet
    /// (step 3 takes its own report).
    #[serde(default)]
    #[allow(dead_code)]
    device: Option<Map<String, Value>>,
}

/// `POST /api/auth/send-otp`.
pub async fn send_otp(request: Request) -> Reply {
    let (ip, accept_language) = (visitor_ip(&request).await?, header(&request, "accept-language"));
    let body: SendBody = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let core = Core::load().await?;
    let now = kit::now();
    let (email, phone) = allowed_contacts(&core, &body)?;
    let sending = Sending::load().await?;
    let (store, db) = (Store::open().await?, audit_log().await?);
    let contact = pair_tag(&core, &email, &phone);
    let keys = counters(&core, &ip, &email, &phone, &SendScope::ALL);
    let (mean_send_us, overshoot_us) = admit(&store, &core, &contact, &keys, &SendScope::ALL, now).await?;
    let started = monotonic_clock::now();
    let matched = match_contacts(&email, &phone).await?;
    let id = FlowId::from_random(random_array()?);
    if matched.subject.is_none() && sending.reveal_unmatched {
        let detail = json!({ "reason": matched.reason, "ip": ip });
        audit(&db, &Actor::Visitor, "otp.send", id.as_str(), "not_matched", &detail).await?;
        return Err(AuthError::NotMatched);
    }
    let language = Language::choose(body.language.as_deref().unwrap_or(&accept_language), &sending.messages);
    let mut flow = Flow::open(id, matched.subject.clone(), contact, language.as_str().to_owned(), now, &core.policy);
    flow.contacts = seal_contacts(&core, &flow.id, &email, &phone)?;
    let codes = issue_codes(&mut flow, &sending, &core, now)?;
    let (outcomes, timing) = if matched.subject.is_some() {
        send_both(&sending, &core, &flow, &codes, (&email, &phone), started).await
    } else {
        pretend_to_send(mean_send_us, overshoot_us, started).await?
    };
    let sent = Sent::of(&mut flow, &matched, outcomes, &ip, now);
    audit(&db, &Actor::Visitor, "otp.send", flow.id.as_str(), sent.outcome, &sent.detail).await?;
    store.create(&flow, timing, &sent.events(&flow.id, &matched, now)).await?;
    if let Some(error) = outcomes.iter().find_map(|(c, o)| provider_error(*c, *o, &flow.id)) {
        return Err(error);
    }
    Ok(kit::json(202, &flow.progress(now, &core.policy)))
}

/// The visitor's email and phone, refused when SMS to the phone's country
/// is not allowed (checked on the calling code first, before parsing the
/// number against its plan).
fn allowed_contacts(core: &Core, body: &SendBody) -> Result<(Email, PhoneE164), AuthError> {
    let email = Email::parse(&body.email)?;
    if let Some(code) = vottery_validate::calling_code_of_international(body.phone.trim())
        && !core.policy.sms_allowed(code)
    {
        return Err(AuthError::CountryNotAllowed);
    }
    let phone = PhoneE164::parse(&body.phone, None)?;
    if !core.policy.sms_allowed(phone.country_code()) {
        return Err(AuthError::CountryNotAllowed);
    }
    Ok((email, phone))
}

/// What `users` answered of the pair: the Sngine account when it matched.
struct Matched {
    subject: Option<String>,
    reason: String,
}

async fn match_contacts(email: &Email, phone: &PhoneE164) -> Result<Matched, AuthError> {
    let pair = users::Match { email: email.as_str().to_owned(), phone: phone.as_str().to_owned() };
    let matched = kit::call("auth", &pair).await.map_err(|e| AuthError::Dependency(format!("users {e}")))?;
    let subject = matched.sngine_user_id.filter(|_| matched.matched).map(|id| id.to_string());
    Ok(Matched { subject, reason: matched.reason })
}

/// A code per channel, issued into the flow (stored only as keyed hashes).
fn issue_codes(flow: &mut Flow, sending: &Sending, core: &Core, now: i64) -> Result<[OtpCode; 2], AuthError> {
    let (email_code, sms_code) = (new_code(core.policy.code_digits)?, new_code(core.policy.code_digits)?);
    flow.issue(Channel::Email, &email_code, &core.keyed, now, &core.policy)?;
    issue_sms(flow, sending, &sms_code, core, now)?;
    Ok([email_code, sms_code])
}

type Outcomes = [(Channel, Outcome); 2];

/// Both codes sent at once; the time taken is learnt when both arrived.
async fn send_both(
    sending: &Sending,
    core: &Core,
    flow: &Flow,
    [email_code, sms_code]: &[OtpCode; 2],
    (email, phone): (&Email, &PhoneE164),
    started: u64,
) -> (Outcomes, Timing) {
    let (e, s) = join(
        send_code(sending, core, flow, Channel::Email, email_code, email, phone),
        send_code(sending, core, flow, Channel::Sms, sms_code, email, phone),
    )
    .await;
    let timing = if e == Outcome::Delivered && s == Outcome::Delivered {
        Timing::Sent(elapsed_us(started))
    } else {
        Timing::None
    };
    ([(Channel::Email, e), (Channel::Sms, s)], timing)
}

/// A decoy: nothing is sent, but the answer takes as long as a send.
async fn pretend_to_send(mean_send_us: u64, overshoot_us: i64, started: u64) -> Result<(Outcomes, Timing), AuthError> {
    let overshoot = wait_like_a_send(mean_send_us, elapsed_us(started), overshoot_us).await?;
    Ok(([(Channel::Email, Outcome::Delivered), (Channel::Sms, Outcome::Delivered)], Timing::Decoy(overshoot)))
}

/// How a send went, as audited and published.
struct Sent {
    outcome: &'static str,
    detail: Value,
}

impl Sent {
    /// Marks the delivered channels in the flow and sums the send up.
    fn of(flow: &mut Flow, matched: &Matched, outcomes: Outcomes, ip: &str, now: i64) -> Self {
        for (channel, outcome) in outcomes {
            if outcome == Outcome::Delivered {
                flow.delivered(channel, now);
            }
        }
        let real = matched.subject.is_some();
        let all_delivered = outcomes.iter().all(|(_, o)| *o == Outcome::Delivered);
        let sent = |o: Outcome| if real { outcome_name(o) } else { "not_sent" };
        let detail = json!({
            "matched": real, "reason": matched.reason, "ip": ip, "language": flow.language,
            "email": sent(outcomes[0].1), "sms": sent(outcomes[1].1),
        });
        let outcome = match (real, all_delivered) {
            (false, _) => "not_matched",
            (true, true) => "sent",
            (true, false) => "send_failed",
        };
        Self { outcome, detail }
    }

    fn events(&self, flow: &FlowId, matched: &Matched, now: i64) -> Vec<Value> {
        let kind = if matched.subject.is_some() { "contact.matched" } else { "contact.not_matched" };
        let mut events = vec![event(kind, flow, now, json!({ "reason": matched.reason }))];
        if matched.subject.is_some() {
            events.push(event(&format!("otp.{}", self.outcome), flow, now, self.detail.clone()));
        }
        events
    }
}

/// The counters a resend on `channel` counts against.
fn resend_scopes(channel: Channel) -> &'static [SendScope] {
    match channel {
        Channel::Email => &[SendScope::Ip, SendScope::Email],
        Channel::Sms => &[SendScope::Ip, SendScope::Phone, SendScope::Prefix],
    }
}

fn reissue(
    flow: &mut Flow,
    channel: Channel,
    code: &OtpCode,
    sending: &Sending,
    core: &Core,
    now: i64,
) -> Result<(), AuthError> {
    match channel {
        Channel::Email => flow.issue(channel, code, &core.keyed, now, &core.policy),
        Channel::Sms => issue_sms(flow, sending, code, core, now),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendBody {
    flow_id: String,
    channel: String,
}

/// `POST /api/auth/resend-otp`: a new code on one channel.
pub async fn resend_otp(request: Request) -> Reply {
    let ip = visitor_ip(&request).await?;
    let body: ResendBody = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let (id, channel) = (FlowId::parse(&body.flow_id)?, Channel::parse(&body.channel)?);
    let core = Core::load().await?;
    let now = kit::now();
    let (store, db) = (Store::open().await?, audit_log().await?);
    let loaded = store.load(&id).await?.ok_or(AuthError::FlowNotFound)?;
    let mut flow = loaded.flow.clone();
    let code = new_code(core.policy.code_digits)?;
    let sending = Sending::load().await?;
    reissue(&mut flow, channel, &code, &sending, &core, now)?;
    let (email, phone) = open_contacts(&core, &flow)?;
    let scopes = resend_scopes(channel);
    let keys = counters(&core, &ip, &email, &phone, scopes);
    let (mean_send_us, overshoot_us) = admit(&store, &core, &flow.contact, &keys, scopes, now).await?;
    let outcome = if flow.subject.is_some() {
        send_code(&sending, &core, &flow, channel, &code, &email, &phone).await
    } else {
        wait_like_a_send(mean_send_us / 2, 0, overshoot_us).await?;
        Outcome::Delivered
    };
    if outcome == Outcome::Delivered {
        flow.delivered(channel, now);
    }
    let delivery = if flow.subject.is_some() { outcome_name(outcome) } else { "not_sent" };
    let detail = json!({ "channel": channel.as_str(), "ip": ip, "delivery": delivery });
    audit(&db, &Actor::Visitor, "otp.resend", id.as_str(), delivery, &detail).await?;
    if !store.replace(&loaded, &flow).await? {
        return Err(AuthError::ResendTooSoon { channel, retry_after: core.policy.resend_cooldown });
    }
    store.publish(&event("otp.resent", &id, now, detail)).await;
    if let Some(error) = provider_error(channel, outcome, &id) {
        return Err(error);
    }
    Ok(kit::json(202, &flow.progress(now, &core.policy)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    flow_id: String,
    #[serde(default)]
    email_code: Option<String>,
    #[serde(default)]
    sms_code: Option<String>,
}

/// Vottery's user for the flow's Sngine account, created or refreshed now
/// that both contacts are proved.
async fn link_user(core: &Core, flow: &Flow) -> Result<String, AuthError> {
    let (email, phone) = open_contacts(core, flow)?;
    let pair = users::Link { email: email.as_str().to_owned(), phone: phone.as_str().to_owned() };
    match kit::call("auth", &pair).await {
        Ok(linked) => Ok(linked.user_id),
        Err(e) if matches!(e.refusal(), Some((409, _))) => Err(AuthError::NotMatched),
        Err(e) => Err(AuthError::Dependency(format!("users {e}"))),
    }
}

/// The enrolment token step 3 accepts: a short-lived JWT for the user, the
/// flow as its single-use id.
async fn enrolment_token(core: &Core, flow: &Flow, now: i64) -> Result<String, AuthError> {
    let user = link_user(core, flow).await?;
    let claims = EnrolmentClaims {
        sub: user,
        aud: ENROLMENT_AUDIENCE.to_owned(),
        iat: now,
        nbf: now,
        exp: now + core.policy.enrolment_ttl,
        jti: flow.id.as_str().to_owned(),
        amr: vec!["email-otp".to_owned(), "sms-otp".to_owned()],
        iss: None,
    };
    let request = SignToken { typ: TokenType::Enrolment, claims };
    let signed = kit::call("auth", &request).await.map_err(|e| AuthError::Dependency(format!("security {e}")))?;
    Ok(signed.token)
}

/// `POST /api/auth/verify-otp`: one or both codes. Each code spends one
/// try of the flow's pair of contacts, reserved before any code is compared
/// and given back unless it was a wrong guess.
pub async fn verify_otp(request: Request) -> Reply {
    let ip = visitor_ip(&request).await?;
    let body: VerifyBody = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let id = FlowId::parse(&body.flow_id)?;
    let core = Core::load().await?;
    let codes = presented_codes(&body, core.policy.code_digits)?;
    let now = kit::now();
    let (store, db) = (Store::open().await?, audit_log().await?);
    let loaded = store.load(&id).await?.ok_or(AuthError::FlowNotFound)?;
    let pair = loaded.flow.contact.clone();
    if let Err(locked) = store.reserve(&pair, codes.len(), &core.policy).await {
        audit(&db, &Actor::Visitor, "otp.verify", id.as_str(), locked.code(), &json!({ "ip": ip })).await?;
        return Err(locked);
    }
    let mut tally = Tally { wrong: codes.len(), completed: false };
    let answer = check_codes(&core, &store, &db, &ip, &codes, loaded, now, &mut tally).await;
    let returned = codes.len().saturating_sub(tally.wrong);
    if store.settle(&pair, returned, tally.completed, &core.policy).await?.is_some() {
        audit(&db, &Actor::System, "otp.lockout", id.as_str(), "locked_out", &json!({ "ip": ip })).await?;
        store.publish(&event("otp.locked_out", &id, now, json!({}))).await;
    }
    answer
}

fn presented_codes(body: &VerifyBody, digits: u8) -> Result<Vec<(Channel, OtpCode)>, AuthError> {
    let mut codes = Vec::new();
    if let Some(raw) = &body.email_code {
        codes.push((Channel::Email, OtpCode::parse(raw, digits)?));
    }
    if let Some(raw) = &body.sms_code {
        codes.push((Channel::Sms, OtpCode::parse(raw, digits)?));
    }
    if codes.is_empty() {
        return Err(ValidationError::MissingField("email_code or sms_code".into()).into());
    }
    Ok(codes)
}

/// What a verify request's codes turned out to be: wrong guesses (every
/// code counts as one until it is known not to be) and whether the flow is
/// now complete.
struct Tally {
    wrong: usize,
    completed: bool,
}

/// Checks the codes against the flow and stores the outcome, retrying when
/// a concurrent request changed the flow in between.
#[allow(clippy::too_many_arguments)]
async fn check_codes(
    core: &Core,
    store: &Store,
    db: &Pg,
    ip: &str,
    codes: &[(Channel, OtpCode)],
    first: Loaded,
    now: i64,
    tally: &mut Tally,
) -> Reply {
    let id = first.flow.id.clone();
    let mut loaded = first;
    for attempt in 0..CAS_RETRIES {
        if attempt > 0 {
            loaded = store.load(&id).await?.ok_or(AuthError::FlowNotFound)?;
        }
        let mut flow = loaded.flow.clone();
        let mut first_error = None;
        let mut wrong = 0_usize;
        let (mut verified, mut failed) = (Vec::new(), Vec::new());
        for (channel, code) in codes {
            let checked = if flow.channel(*channel).external {
                match flow.checkable(*channel, now, &core.policy) {
                    Ok(()) => {
                        let same = provider_check(core, &flow, *channel, code).await?;
                        flow.settle(*channel, same, now, &core.policy)
                    }
                    Err(e) => Err(e),
                }
            } else {
                flow.verify(*channel, code, &core.keyed, now, &core.policy)
            };
            match checked {
                Ok(_) => verified.push(channel.as_str()),
                Err(e) => {
                    if matches!(e, AuthError::CodeInvalid { .. }) {
                        wrong += 1;
                        failed.push(channel.as_str());
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
        tally.wrong = wrong;
        if flow == loaded.flow {
            return Err(first_error.unwrap_or(AuthError::FlowComplete));
        }
        let completed = flow.step(now) == Step::Biometric;
        let token = if completed { Some(enrolment_token(core, &flow, now).await?) } else { None };
        let outcome = match (&first_error, completed) {
            (_, true) => "completed",
            (None, false) => "verified",
            (Some(e), false) => e.code(),
        };
        let detail = json!({
            "ip": ip, "email": flow.email.verified_at.is_some(), "sms": flow.sms.verified_at.is_some(), "wrong": wrong,
        });
        audit(db, &Actor::Visitor, "otp.verify", id.as_str(), outcome, &detail).await?;
        if !store.replace(&loaded, &flow).await? {
            continue;
        }
        tally.completed = completed;
        let kind = if wrong > 0 { "otp.failed" } else { "otp.verified" };
        let mut published = detail;
        published["verified_channels"] = json!(verified);
        published["failed_channels"] = json!(failed);
        store.publish(&event(kind, &id, now, published)).await;
        if let Some(error) = first_error {
            return Err(error);
        }
        let mut progress = flow.progress(now, &core.policy);
        if let Some(token) = token {
            progress["enrolment_token"] = Value::from(token);
            progress["enrolment_expires_at"] = Value::from(now + core.policy.enrolment_ttl);
        }
        return Ok(kit::json(200, &progress));
    }
    Err(AuthError::Storage("the flow kept changing under concurrent requests".into()))
}

/// `GET /api/auth/status?flow_id=...`.
pub async fn status(request: Request) -> Reply {
    let raw = request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix("flow_id="))
        .ok_or_else(|| AuthError::from(ValidationError::MissingField("flow_id".into())))?;
    let id = FlowId::parse(raw)?;
    let core = Core::load().await?;
    let store = Store::open().await?;
    let loaded = store.load(&id).await?.ok_or(AuthError::FlowNotFound)?;
    Ok(kit::json(200, &loaded.flow.progress(kit::now(), &core.policy)))
}
